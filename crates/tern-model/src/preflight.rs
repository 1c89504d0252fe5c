//! Pre-flight checks that need data from outside tern.toml: bogon tables, RPKI VRPs, IRR route
//! objects and the secrets in the environment or on disk. `tern check` runs them after
//! [`crate::validate`]; each finding points back at the line of tern.toml that caused it.
//!
//! RPKI (RFC 6811): each announced prefix with our AS as origin must be Valid; Invalid is an
//! error, NotFound a warning, and a ROA whose maxLength authorises unannounced more-specifics is
//! a warning (RFC 9319, BCP 185). IRR: each announced prefix needs a route/route6 object with our
//! origin, since upstreams build their prefix filters from them.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use tern_rpki::{IrrDb, Validity, VrpSet, bogons};
use tern_types::Prefix;

use crate::defaults::{MAX_MD5_KEY_LEN, MAX_VRP_AGE};
use crate::diag::{Diagnostic, Location, Severity};
use crate::network::{Network, SecretError};

/// The outside data `tern check` was given.
#[derive(Debug, Default, Clone, Copy)]
pub struct Inputs<'a> {
    /// VRPs and the file they came from.
    pub vrps: Option<(&'a VrpSet, &'a Path)>,
    /// IRR route objects and the file they came from.
    pub irr: Option<(&'a IrrDb, &'a Path)>,
    /// The time to judge the VRPs' age against (`None`: the clock).
    pub now: Option<SystemTime>,
}

/// Runs every pre-flight check; the findings are in tern.toml order.
pub fn preflight(net: &Network, inputs: Inputs<'_>) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    bogon_prefixes(net, &mut d);
    if let Some((vrps, path)) = inputs.vrps {
        stale(
            vrps,
            path,
            inputs.now.unwrap_or_else(SystemTime::now),
            &mut d,
        );
        rpki(net, vrps, path, &mut d);
    }
    if let Some((irr, path)) = inputs.irr {
        irr_objects(net, irr, path, &mut d);
    }
    secrets(net, &mut d);
    crate::validate::dedup(&mut d);
    d.sort_by(|a, b| a.location.cmp(&b.location));
    d
}

fn diag(
    severity: Severity,
    code: &'static str,
    location: &Location,
    message: String,
    fix: String,
) -> Diagnostic {
    Diagnostic::new(severity, code, Some(location.clone()), message).with_fix(fix)
}

/// Bogon prefixes other than documentation space (which [`crate::validate`] already judges,
/// allowing it in a lab).
fn bogon_prefixes(net: &Network, d: &mut Vec<Diagnostic>) {
    let planned = net.prefixes.iter().map(|p| (&p.prefix, &p.location));
    let allocs = net.allocations.iter().map(|a| (&a.value, &a.location));
    for (p, loc) in planned.chain(allocs) {
        if p.is_documentation() {
            continue;
        }
        if let Some(why) = bogons::prefix_bogon(p) {
            d.push(diag(
                Severity::Error,
                "prefix-bogon",
                loc,
                format!("{p} is a bogon ({why}); networks drop it"),
                "use address space assigned to you by a RIR or your provider".into(),
            ));
        }
    }
}

/// VRPs older than [`MAX_VRP_AGE`] give yesterday's answers.
fn stale(vrps: &VrpSet, path: &Path, now: SystemTime, d: &mut Vec<Diagnostic>) {
    let Some(generated) = vrps.generated() else {
        return;
    };
    let age = now.duration_since(generated).unwrap_or(Duration::ZERO);
    if age > MAX_VRP_AGE {
        d.push(
            Diagnostic::new(
                Severity::Warning,
                "rpki-stale",
                None,
                format!(
                    "the VRPs in {} were generated {} hours ago; ROAs may have changed since",
                    path.display(),
                    age.as_secs() / 3600
                ),
            )
            .with_fix("export a fresh VRP file from your validator (rpki-client -j, routinator vrps -f json)"),
        );
    }
}

fn rpki(net: &Network, vrps: &VrpSet, path: &Path, d: &mut Vec<Diagnostic>) {
    let announced = net.announced();
    for p in &announced {
        let covering: Vec<String> = vrps
            .covering(&p.prefix)
            .iter()
            .map(|v| v.to_string())
            .collect();
        match vrps.validate(&p.prefix, net.asn) {
            Validity::Valid => {}
            Validity::Invalid(why) => d.push(diag(
                Severity::Error,
                "rpki-invalid",
                &p.location,
                format!(
                    "{} from {} is RPKI invalid: {why} (covering VRPs in {}: {})",
                    p.prefix,
                    net.asn,
                    path.display(),
                    covering.join("; ")
                ),
                format!(
                    "create a ROA for {} with origin {} and maxLength {}, or fix the existing one; RPKI-validating networks drop invalid routes",
                    p.prefix,
                    net.asn,
                    p.prefix.len()
                ),
            )),
            Validity::NotFound => d.push(diag(
                Severity::Warning,
                "rpki-not-found",
                &p.location,
                format!(
                    "no VRP in {} covers {} (RFC 6811 NotFound)",
                    path.display(),
                    p.prefix
                ),
                format!(
                    "create a ROA for {} with origin {} and maxLength {}",
                    p.prefix,
                    net.asn,
                    p.prefix.len()
                ),
            )),
        }
    }
    let prefixes: Vec<Prefix> = announced.iter().map(|p| p.prefix).collect();
    for advice in tern_rpki::max_length_advice_for_plan(vrps, &prefixes, net.asn) {
        let loc = announced
            .iter()
            .find(|p| advice.announced.contains(&p.prefix))
            .map(|p| p.location.clone())
            .unwrap_or_else(|| net.asn_location.clone());
        d.push(diag(
            Severity::Warning,
            "rpki-maxlength",
            &loc,
            advice.to_string(),
            match advice.suggested_max_len() {
                Some(l) => format!("set maxLength {l} in the ROA for {}", advice.vrp.prefix),
                None => "issue one ROA per announced prefix, maxLength = its length".into(),
            },
        ));
    }
}

fn irr_objects(net: &Network, irr: &IrrDb, path: &Path, d: &mut Vec<Diagnostic>) {
    for p in net.announced() {
        if irr
            .routes_for(&p.prefix)
            .iter()
            .any(|o| o.origin == net.asn)
        {
            continue;
        }
        let class = if p.prefix.afi() == tern_types::Afi::Ipv4 {
            "route"
        } else {
            "route6"
        };
        let fix = format!(
            "register `{class}: {}` with `origin: {}` in your RIR's database; upstreams build prefix filters from IRR",
            p.prefix, net.asn
        );
        let covering = irr.covering_routes(&p.prefix);
        let at = |o: &tern_rpki::RouteObject| format!("{}:{}", path.display(), o.line);
        if let Some(o) = covering.iter().find(|o| o.origin == net.asn) {
            d.push(diag(
                Severity::Warning,
                "irr-exact-missing",
                &p.location,
                format!(
                    "no {class} object for {} itself, only the less-specific {} with origin {} ({}); many IRR-based filters accept exact objects only",
                    p.prefix,
                    o.prefix,
                    o.origin,
                    at(o)
                ),
                fix,
            ));
            continue;
        }
        let others: Vec<String> = covering
            .iter()
            .map(|o| format!("{} origin {} at {}", o.prefix, o.origin, at(o)))
            .collect();
        d.push(diag(
            Severity::Error,
            "irr-missing",
            &p.location,
            if others.is_empty() {
                format!("no {class} object for {} in {}", p.prefix, path.display())
            } else {
                format!(
                    "no {class} object for {} with origin {} in {}; there are only: {}",
                    p.prefix,
                    net.asn,
                    path.display(),
                    others.join("; ")
                )
            },
            fix,
        ));
    }
}

/// Where a secret is first used, by which sessions, and its length (`usize::MAX`: unquotable).
type SecretUse = (Location, Vec<String>, Result<usize, SecretError>);

fn secrets(net: &Network, d: &mut Vec<Diagnostic>) {
    // One finding per secret, listing the sessions that use it.
    let mut by_secret: BTreeMap<String, SecretUse> = BTreeMap::new();
    for s in &net.sites {
        for u in &s.upstreams {
            let Some(sec) = &u.password else { continue };
            let e = by_secret.entry(sec.to_string()).or_insert_with(|| {
                let r = sec
                    .resolve()
                    .map(|k| if k.contains('"') { usize::MAX } else { k.len() });
                (u.location.clone(), Vec::new(), r)
            });
            e.1.push(format!("{}/{}", s.id, u.name));
        }
    }
    for (name, (loc, users, r)) in by_secret {
        let users = users.join(", ");
        match r {
            Ok(usize::MAX) => d.push(diag(
                Severity::Error,
                "md5-key-quote",
                &loc,
                format!("the MD5 key from {name} contains '\"', which a BIRD config cannot hold (used by {users})"),
                "choose a key without double quotes".into(),
            )),
            Ok(len) if len > MAX_MD5_KEY_LEN => d.push(diag(
                Severity::Error,
                "md5-key-too-long",
                &loc,
                format!("the MD5 key from {name} is {len} bytes; Linux accepts at most {MAX_MD5_KEY_LEN} (used by {users})"),
                format!("use the key your provider gave you; it must be at most {MAX_MD5_KEY_LEN} bytes"),
            )),
            Ok(_) => {}
            Err(e) => d.push(diag(
                Severity::Warning,
                "secret-unavailable",
                &loc,
                format!("{e} (MD5 key of {users}); rendered configs will include a secrets file instead"),
                match &e {
                    SecretError::EnvUnset(v) => format!("export {v}=<key> before `tern render`, or put `password \"<key>\";` in the secrets file the config includes"),
                    _ => "create the file with the key on its first line".to_owned(),
                },
            )),
        }
    }
}
