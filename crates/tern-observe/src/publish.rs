//! `tern publish`: the registry objects the model implies, in the forms operators send, and the
//! diff against what the registries hold today.
//!
//! From the model: one route/route6 object (RPSL: prefix, origin, descr, mnt-by, source) and one
//! ROA (prefix, origin, maxLength = the prefix length, RFC 9319 §4) per announced prefix.
//! Renderings: RPSL text, a Krill `roas update` delta (`A: PREFIX-MAXLEN => ASN`), the RIPE NCC
//! RPKI management API's publish JSON, a plain table. The diff ([`diff`]) reads today's VRPs
//! (tern-rpki's loaders: validator JSON or RTR) and IRR objects (RPSL dump or whois output) and
//! says what to add, what to remove, what would become invalid, and which existing objects in
//! our space conflict or overlap.
//!
//! Lives here beside `observe` because both compare the model with the outside world, and it
//! needs tern-model, which tern-rpki (the loader layer) does not depend on. No I/O: the binary
//! submits.

use serde::Serialize;
use tern_model::Network;
use tern_rpki::{IrrDb, Validity, Vrp, VrpSet};
use tern_types::{Afi, Asn, Prefix};

/// A route or route6 object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RouteObject {
    /// The prefix (primary key with `origin`).
    pub prefix: Prefix,
    /// The origin AS.
    pub origin: Asn,
    /// `descr:`.
    pub descr: String,
    /// `mnt-by:`.
    pub mnt_by: String,
    /// `source:` (RIPE).
    pub source: String,
}

impl RouteObject {
    /// `route` or `route6`.
    pub fn class(&self) -> &'static str {
        match self.prefix.afi() {
            Afi::Ipv4 => "route",
            Afi::Ipv6 => "route6",
        }
    }

    /// The RIPE Database primary key (`2001:db8::/48AS64500`).
    pub fn key(&self) -> String {
        format!("{}AS{}", self.prefix, self.origin.0)
    }

    /// RPSL text, one attribute per line.
    pub fn rpsl(&self) -> String {
        format!(
            "{:<8}{}\n{:<8}{}\n{:<8}{}\n{:<8}{}\n{:<8}{}\n",
            format!("{}:", self.class()),
            self.prefix,
            "descr:",
            self.descr,
            "origin:",
            self.origin,
            "mnt-by:",
            self.mnt_by,
            "source:",
            self.source
        )
    }

    /// The RIPE Database REST API body (`objects.object[].attributes.attribute[{name,value}]`).
    pub fn ripe_json(&self) -> serde_json::Value {
        let attr = |n: &str, v: String| serde_json::json!({"name": n, "value": v});
        serde_json::json!({"objects": {"object": [{
            "type": self.class(),
            "source": {"id": self.source},
            "attributes": {"attribute": [
                attr(self.class(), self.prefix.to_string()),
                attr("descr", self.descr.clone()),
                attr("origin", self.origin.to_string()),
                attr("mnt-by", self.mnt_by.clone()),
                attr("source", self.source.clone()),
            ]}
        }]}})
    }
}

/// A ROA payload: prefix, origin, maxLength.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Roa {
    /// The prefix.
    pub prefix: Prefix,
    /// The origin AS.
    pub asn: Asn,
    /// maxLength.
    pub max_length: u8,
}

impl Roa {
    /// The Krill notation: `2001:db8::/48-48 => 64500`.
    pub fn krill(&self) -> String {
        format!("{}-{} => {}", self.prefix, self.max_length, self.asn.0)
    }

    /// An entry of the RIPE NCC RPKI management API (`asn`, `prefix`, `maximalLength`).
    pub fn ripe_json(&self) -> serde_json::Value {
        serde_json::json!({"asn": self.asn.to_string(), "prefix": self.prefix.to_string(), "maximalLength": self.max_length})
    }

    fn from_vrp(v: &Vrp) -> Roa {
        Roa {
            prefix: v.prefix,
            asn: v.asn,
            max_length: v.max_len,
        }
    }

    fn as_vrp(&self) -> Option<Vrp> {
        Vrp::new(self.prefix, u16::from(self.max_length), self.asn).ok()
    }
}

/// What the registries should hold.
#[derive(Clone, Debug, Serialize)]
pub struct Objects {
    /// Our AS.
    pub asn: Asn,
    /// One per announced prefix.
    pub routes: Vec<RouteObject>,
    /// One per announced prefix.
    pub roas: Vec<Roa>,
}

/// Settings that are not in tern.toml.
#[derive(Clone, Debug)]
pub struct Options {
    /// The maintainer (`mnt-by:`).
    pub mnt_by: String,
    /// The IRR source (`RIPE`).
    pub source: String,
}

/// The objects for every announced prefix of the model.
pub fn objects(net: &Network, opts: &Options) -> Objects {
    let mut routes = Vec::new();
    let mut roas = Vec::new();
    for p in net.announced() {
        let descr = p.description.clone().unwrap_or_else(|| {
            format!(
                "{} {}",
                net.name.as_deref().unwrap_or("tern"),
                match &p.role {
                    tern_model::Role::Anycast => "anycast".to_owned(),
                    tern_model::Role::Regional(s) => format!(
                        "anycast from {}",
                        s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    tern_model::Role::Unicast(s) => format!("unicast, site {s}"),
                }
            )
        });
        routes.push(RouteObject {
            prefix: p.prefix,
            origin: net.asn,
            descr,
            mnt_by: opts.mnt_by.clone(),
            source: opts.source.clone(),
        });
        roas.push(Roa {
            prefix: p.prefix,
            asn: net.asn,
            max_length: p.prefix.len(),
        });
    }
    Objects {
        asn: net.asn,
        routes,
        roas,
    }
}

impl Objects {
    /// RPSL text of every route object, blank-line separated.
    pub fn rpsl(&self) -> String {
        self.routes
            .iter()
            .map(RouteObject::rpsl)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A plain table for an LIR that takes ROA requests by e-mail.
    pub fn table(&self) -> String {
        let mut s = format!("{:<24} {:<14} {}\n", "prefix", "origin", "maxLength");
        for r in &self.roas {
            s.push_str(&format!(
                "{:<24} {:<14} {}\n",
                r.prefix.to_string(),
                r.asn.to_string(),
                r.max_length
            ));
        }
        s
    }
}

/// An existing object in our address space that the plan does not produce.
#[derive(Clone, Debug, Serialize)]
pub struct Conflict {
    /// What it is (`ROA 2001:db8:a0::/44-48 => AS64511`).
    pub object: String,
    /// Why it matters.
    pub why: String,
}

/// An announcement's RPKI state today and after the change.
#[derive(Clone, Debug, Serialize)]
pub struct Transition {
    /// The prefix.
    pub prefix: Prefix,
    /// The origin.
    pub origin: Asn,
    /// Today.
    pub today: String,
    /// After the ROA changes.
    pub after: String,
}

/// The diff against today's registries.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Diff {
    /// ROAs to create.
    pub roas_add: Vec<Roa>,
    /// ROAs of our AS in our space to delete (the plan has none like them).
    pub roas_remove: Vec<Roa>,
    /// ROAs already as planned.
    pub roas_kept: Vec<Roa>,
    /// Route objects to create.
    pub routes_add: Vec<RouteObject>,
    /// Route objects that exist with other descr, mnt-by or source: to modify.
    pub routes_modify: Vec<RouteObject>,
    /// Route objects of our AS in our space the plan does not have: to delete.
    pub routes_remove: Vec<String>,
    /// Route objects already as planned.
    pub routes_kept: usize,
    /// Announcements whose RPKI state changes, or that are not valid today.
    pub transitions: Vec<Transition>,
    /// Announcements that would not be valid after the change: invalid, or not found (no
    /// covering ROA). Must stay empty; `tern publish` exits 1 otherwise.
    pub not_valid_after: Vec<Transition>,
    /// Objects of other origins in our space, overlapping ROAs, and the like.
    pub conflicts: Vec<Conflict>,
    /// Were VRPs / IRR objects given?
    pub compared_vrps: bool,
    /// Were IRR objects given?
    pub compared_irr: bool,
}

/// Compares the planned objects with today's VRPs and IRR objects (either may be absent).
pub fn diff(net: &Network, objs: &Objects, vrps: Option<&VrpSet>, irr: Option<&IrrDb>) -> Diff {
    let mut d = Diff {
        compared_vrps: vrps.is_some(),
        compared_irr: irr.is_some(),
        ..Diff::default()
    };
    let ours = |p: &Prefix| net.allocations.iter().any(|a| a.value.overlaps(p));
    if let Some(vrps) = vrps {
        let today: Vec<Roa> = vrps
            .iter()
            .filter(|v| ours(&v.prefix))
            .map(Roa::from_vrp)
            .collect();
        for r in &objs.roas {
            if today.contains(r) {
                d.roas_kept.push(*r);
            } else {
                d.roas_add.push(*r);
            }
        }
        for t in &today {
            if objs.roas.contains(t) {
                continue;
            }
            if t.asn == net.asn {
                d.roas_remove.push(*t);
                if t.max_length > t.prefix.len() {
                    d.conflicts.push(Conflict {
                        object: format!("ROA {}", t.krill()),
                        why: format!(
                            "maxLength {} > prefix length: any more-specific up to /{} with our origin is valid, so a forged-origin sub-prefix hijack is too (RFC 9319); removed in favour of one ROA per announced prefix",
                            t.max_length, t.max_length
                        ),
                    });
                }
            } else {
                d.conflicts.push(Conflict {
                    object: format!("ROA {}", t.krill()),
                    why: format!(
                        "another origin ({}) is authorised in our space; kept (a DDoS scrubber or a customer?), delete it by hand if it is stale",
                        t.asn
                    ),
                });
            }
        }
        // The VRP set after the change: today's minus removals plus additions.
        let after = VrpSet::from_vrps(
            vrps.iter()
                .filter(|v| !d.roas_remove.contains(&Roa::from_vrp(v)))
                .copied()
                .chain(d.roas_add.iter().filter_map(Roa::as_vrp)),
        );
        // Every announcement of the model, whether or not the plan has its ROA.
        for p in net.announced() {
            let (t, a) = (
                vrps.validate(&p.prefix, net.asn),
                after.validate(&p.prefix, net.asn),
            );
            let tr = Transition {
                prefix: p.prefix,
                origin: net.asn,
                today: t.to_string(),
                after: a.to_string(),
            };
            if !matches!(a, Validity::Valid) {
                d.not_valid_after.push(tr.clone());
            }
            if t != a || !matches!(t, Validity::Valid) {
                d.transitions.push(tr);
            }
        }
        // Other origins' authorised announcements in our space must stay valid.
        for t in today.iter().filter(|t| t.asn != net.asn) {
            if !matches!(after.validate(&t.prefix, t.asn), Validity::Valid) {
                d.not_valid_after.push(Transition {
                    prefix: t.prefix,
                    origin: t.asn,
                    today: vrps.validate(&t.prefix, t.asn).to_string(),
                    after: after.validate(&t.prefix, t.asn).to_string(),
                });
            }
        }
    }
    if let Some(irr) = irr {
        for r in &objs.routes {
            let same = irr
                .routes_for(&r.prefix)
                .into_iter()
                .find(|o| o.origin == r.origin);
            match same {
                None => d.routes_add.push(r.clone()),
                Some(o) if o.mnt_by.iter().any(|m| m == &r.mnt_by) => d.routes_kept += 1,
                Some(_) => d.routes_modify.push(r.clone()),
            }
        }
        for o in irr.objects().iter().filter(|o| ours(&o.prefix)) {
            let planned = objs
                .routes
                .iter()
                .any(|r| r.prefix == o.prefix && r.origin == o.origin);
            if planned {
                continue;
            }
            let name = o.to_string();
            if o.origin == net.asn {
                d.routes_remove.push(name);
            } else {
                d.conflicts.push(Conflict {
                    object: name,
                    why: format!(
                        "another origin ({}) registered for our space; filters built from the IRR accept it",
                        o.origin
                    ),
                });
            }
        }
    }
    d
}

/// The Krill `roas update --delta` file: `A:` lines to add, `R:` lines to remove.
pub fn krill_delta(d: &Diff, objs: &Objects) -> String {
    let mut s = String::from("# krillc roas update --ca <CA> --delta <this file> [--dryrun]\n");
    let (add, remove): (Vec<&Roa>, Vec<&Roa>) = if d.compared_vrps {
        (d.roas_add.iter().collect(), d.roas_remove.iter().collect())
    } else {
        (objs.roas.iter().collect(), Vec::new())
    };
    for r in add {
        s.push_str(&format!("A: {}\n", r.krill()));
    }
    for r in remove {
        s.push_str(&format!("R: {}\n", r.krill()));
    }
    s
}

/// The RIPE NCC RPKI management API publish body: `{"added": [...], "deleted": [...]}`.
pub fn ripe_rpki_json(d: &Diff, objs: &Objects) -> serde_json::Value {
    let (add, remove): (Vec<&Roa>, Vec<&Roa>) = if d.compared_vrps {
        (d.roas_add.iter().collect(), d.roas_remove.iter().collect())
    } else {
        (objs.roas.iter().collect(), Vec::new())
    };
    serde_json::json!({
        "added": add.iter().map(|r| r.ripe_json()).collect::<Vec<_>>(),
        "deleted": remove.iter().map(|r| r.ripe_json()).collect::<Vec<_>>(),
    })
}
