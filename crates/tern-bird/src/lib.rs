//! tern-bird: renders one site of a [`Network`] as a complete BIRD 2 configuration.
//!
//! Place in the architecture (see ARCHITECTURE.md): a pure text generator used by
//! `tern render`; it depends on tern-model and nothing below the daemon depends on it. The
//! output is golden-tested and every example is checked by the real `bird -p -c` (BIRD 2.0.12).
//!
//! What a rendered config contains, per site:
//! - a header naming the site and saying that health checks are `tern run`'s, not BIRD's
//!   ([`HEALTH_NOTE`]): a BIRD stand-in announces unconditionally;
//! - `router id`, `protocol device`;
//! - `tern_announce4` / `tern_announce6`: static `unreachable` routes for the prefixes the site
//!   originates (they exist only to be announced; the kernel protocol never exports them);
//! - `tern_hostroutes4/6` + `tern_kernel4/6`: host routes to multihop neighbors via the
//!   gateway given in tern.toml, exported to the kernel so the TCP session never follows BGP;
//! - per upstream, `filter tern_export_<name>`: only this site's prefixes of the session's family,
//!   with the communities and prepends its intents compile to; and `protocol bgp <name>` with
//!   `import none`.
//!
//! MD5 keys: BIRD reads the key from its config. When the secret is resolvable at render time
//! (its environment variable is set or its file readable) the key is written inline as
//! `password "…"`. Otherwise the protocol has `include "secrets/<site>_<upstream>.conf";`, a
//! path relative to the rendered file, and the operator puts `password "…";` there. This keeps
//! rendering possible (and golden files stable) on machines that hold no secrets.

use std::fmt::Write as _;
use tern_model::{Network, Secret, Site, Upstream};
use tern_types::{Afi, Prefix, SiteId};

/// The header line that says who does health checks: this config announces unconditionally.
pub const HEALTH_NOTE: &str = "# Health checks ([[service]] in tern.toml) are done by `tern run`, not by this BIRD config:\n# BIRD announces these prefixes whatever the health of the services behind them.";

/// Why a site cannot be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// No such site.
    #[error("there is no site {site:?}; sites are: {known}")]
    UnknownSite {
        /// Asked for.
        site: String,
        /// The sites there are.
        known: String,
    },
    /// BIRD strings cannot hold `"` or a newline.
    #[error(
        "the MD5 key of upstream {upstream} contains '\"' or a newline, which a BIRD config cannot hold"
    )]
    UnquotablePassword {
        /// The upstream.
        upstream: String,
    },
}

/// The include file an upstream's key is expected in, relative to the rendered config.
pub fn secret_include(site: &SiteId, upstream: &Upstream) -> String {
    format!("secrets/{}_{}.conf", site, upstream.name)
}

/// Renders `site`, resolving secrets from the environment and files now.
pub fn render(net: &Network, site: &SiteId) -> Result<String, RenderError> {
    render_with(net, site, &|s: &Secret| s.resolve().ok())
}

/// Renders `site`; `secret` returns the key when it is available at render time.
pub fn render_with(
    net: &Network,
    site: &SiteId,
    secret: &dyn Fn(&Secret) -> Option<String>,
) -> Result<String, RenderError> {
    let s = net.site(site).ok_or_else(|| RenderError::UnknownSite {
        site: site.to_string(),
        known: net
            .sites
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    let mut o = String::new();
    header(&mut o, net, s);
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        statics(&mut o, s, afi);
    }
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        host_routes(&mut o, s, afi);
    }
    for u in &s.upstreams {
        upstream(&mut o, s, u, secret)?;
    }
    Ok(o)
}

fn v(afi: Afi) -> u8 {
    match afi {
        Afi::Ipv4 => 4,
        Afi::Ipv6 => 6,
    }
}

fn header(o: &mut String, net: &Network, s: &Site) {
    let _ = writeln!(
        o,
        "# BIRD 2 configuration of site {}{} in network {}, {}.",
        s.id,
        s.code
            .as_ref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        net.name.as_deref().unwrap_or("(unnamed)"),
        net.asn
    );
    let _ = writeln!(
        o,
        "# Rendered by `tern render` from tern.toml: edit tern.toml and render again."
    );
    let _ = writeln!(o, "{HEALTH_NOTE}\n");
    let _ = writeln!(o, "router id {};\n", s.router_id);
    let _ = writeln!(o, "define TERN_OWN_AS = {};\n", net.asn.0);
    let _ = writeln!(o, "protocol device {{\n  scan time 10;\n}}\n");
}

fn statics(o: &mut String, s: &Site, afi: Afi) {
    let ps: Vec<&Prefix> = s.announces_of(afi).collect();
    if ps.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "# Prefixes site {} originates ({afi}). They are announced, never installed.",
        s.id
    );
    let _ = writeln!(
        o,
        "protocol static tern_announce{} {{\n  ipv{};",
        v(afi),
        v(afi)
    );
    for p in ps {
        let _ = writeln!(o, "  route {p} unreachable;");
    }
    let _ = writeln!(o, "}}\n");
}

fn host_routes(o: &mut String, s: &Site, afi: Afi) {
    let routes: Vec<(&Upstream, String)> = s
        .upstreams
        .iter()
        .filter(|u| u.afi() == afi)
        .filter_map(|u| {
            let hr = u.host_route.as_ref()?;
            let via = match &hr.interface {
                Some(i) => format!("{}%'{}'", hr.gateway, i),
                None => hr.gateway.to_string(),
            };
            Some((u, via))
        })
        .collect();
    if routes.is_empty() {
        return;
    }
    let n = v(afi);
    let _ = writeln!(
        o,
        "# Host routes to multihop neighbors, so their sessions never depend on BGP."
    );
    let _ = writeln!(o, "protocol static tern_hostroutes{n} {{\n  ipv{n};");
    let mut seen = Vec::new();
    for (u, via) in routes {
        if seen.contains(&u.neighbor) {
            continue;
        }
        seen.push(u.neighbor);
        let len = if u.neighbor.is_ipv4() { 32 } else { 128 };
        let _ = writeln!(o, "  route {}/{len} via {via};", u.neighbor);
    }
    let _ = writeln!(o, "}}\n");
    let _ = writeln!(
        o,
        "protocol kernel tern_kernel{n} {{\n  ipv{n} {{\n    import none;\n    export where proto = \"tern_hostroutes{n}\";\n  }};\n}}\n"
    );
}

fn upstream(
    o: &mut String,
    s: &Site,
    u: &Upstream,
    secret: &dyn Fn(&Secret) -> Option<String>,
) -> Result<(), RenderError> {
    let afi = u.afi();
    let n = v(afi);
    let ps: Vec<String> = s.announces_of(afi).map(|p| p.to_string()).collect();
    let _ = writeln!(
        o,
        "# Export to {}: only site {}'s {afi} prefixes, with the traffic engineering of tern.toml.",
        u.name, s.id
    );
    let _ = writeln!(o, "filter tern_export_{} {{", u.name);
    if ps.is_empty() {
        let _ = writeln!(
            o,
            "  # site {} announces no {afi} prefix.\n  reject;\n}}\n",
            s.id
        );
    } else {
        let _ = writeln!(o, "  if proto != \"tern_announce{n}\" then reject;");
        let _ = writeln!(o, "  if net !~ [ {} ] then reject;", ps.join(", "));
        for note in &u.export.notes {
            let _ = writeln!(o, "  # {note}");
        }
        for c in &u.export.communities {
            let _ = writeln!(o, "  bgp_community.add(({}, {}));", c.high(), c.low());
        }
        for c in &u.export.large_communities {
            let _ = writeln!(
                o,
                "  bgp_large_community.add(({}, {}, {}));",
                c.global, c.local1, c.local2
            );
        }
        for _ in 0..u.export.prepend {
            let _ = writeln!(o, "  bgp_path.prepend(TERN_OWN_AS);");
        }
        let _ = writeln!(o, "  accept;\n}}\n");
    }

    let _ = writeln!(o, "protocol bgp {} {{", u.name);
    let desc = match &u.provider {
        Some(p) => format!("{p}, {}", u.remote_as),
        None => u.remote_as.to_string(),
    };
    let _ = writeln!(o, "  description \"{desc}\";");
    let _ = writeln!(o, "  local as TERN_OWN_AS;");
    // The session knobs tern.toml sets (BIRD's defaults otherwise, as tern run's).
    let port = if u.port == tern_model::edge::BGP_PORT {
        String::new()
    } else {
        format!(" port {}", u.port)
    };
    let _ = writeln!(o, "  neighbor {}{port} as {};", u.neighbor, u.remote_as.0);
    if let Some(h) = u.hold_time {
        let _ = writeln!(o, "  hold time {h};");
    }
    if let Some(r) = u.connect_retry {
        let _ = writeln!(o, "  connect retry time {};", r.as_secs());
    }
    if let Some((min, max)) = u.error_wait {
        let _ = writeln!(o, "  error wait time {}, {};", min.as_secs(), max.as_secs());
    }
    if let Some(src) = u.source {
        let _ = writeln!(o, "  source address {src};");
    }
    match u.multihop {
        Some(h) => {
            let _ = writeln!(o, "  multihop {h};");
        }
        None => {
            let _ = writeln!(o, "  direct;");
        }
    }
    if let Some(sec) = &u.password {
        match secret(sec) {
            Some(key) => {
                if key.contains('"') || key.contains('\n') {
                    return Err(RenderError::UnquotablePassword {
                        upstream: u.name.clone(),
                    });
                }
                let _ = writeln!(o, "  password \"{key}\";");
            }
            None => {
                let _ = writeln!(
                    o,
                    "  # MD5 key from {sec}: write `password \"<key>\";` into this file."
                );
                let _ = writeln!(o, "  include \"{}\";", secret_include(&s.id, u));
            }
        }
    }
    let _ = writeln!(
        o,
        "  ipv{n} {{\n    import none;\n    export filter tern_export_{};\n  }};\n}}\n",
        u.name
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const NET: &str = r#"[network]
asn = 4200000001
allocations = ["2001:db8:a0::/44"]
lab = true

[[prefix]]
prefix = "2001:db8:a0::/48"
role = "anycast"

[site.ams]
lat = 52.4
lon = 4.9
router_id = "192.0.2.1"
connected = ["2001:db8:ffff::/64"]
intents = [ { action = "no-export" } ]

[[site.ams.upstream]]
name = "up6"
neighbor = "2001:db8:ffff::1"
remote_as = 64515
password_file = "does-not-exist.key"

[[site.ams.upstream]]
name = "up4"
neighbor = "192.0.2.254"
remote_as = 64515
"#;

    fn net() -> Network {
        let m = tern_model::parse(std::path::Path::new("t.toml"), NET).unwrap();
        assert!(!m.has_errors(), "{:?}", m.diagnostics);
        m.network
    }

    #[test]
    fn sessions_and_filters() {
        let n = net();
        let id: SiteId = "ams".parse().unwrap();
        let t = render_with(&n, &id, &|_| Some("k3y".into())).unwrap();
        assert!(t.contains("router id 192.0.2.1;"), "{t}");
        // Health checks are tern run's, and the config says so.
        assert!(
            t.contains("# Health checks ([[service]] in tern.toml) are done by `tern run`, not by this BIRD config"),
            "{t}"
        );
        // Directly connected: no multihop, no host route.
        assert!(
            t.contains("  direct;") && !t.contains("tern_hostroutes"),
            "{t}"
        );
        // No provider: NO_EXPORT (RFC 1997) as a pair.
        assert!(t.contains("bgp_community.add((65535, 65281));"), "{t}");
        assert!(t.contains("password \"k3y\";"), "{t}");
        // The IPv4 session has nothing to announce: its filter rejects everything.
        let f4 = &t[t.find("filter tern_export_up4").unwrap()..];
        assert!(
            f4.starts_with(
                "filter tern_export_up4 {\n  # site ams announces no ipv4 prefix.\n  reject;\n}"
            ),
            "{f4}"
        );
        // Without the key, an include next to the config.
        let t = render(&n, &id).unwrap();
        assert!(t.contains("include \"secrets/ams_up6.conf\";"), "{t}");
    }

    #[test]
    fn errors() {
        let n = net();
        let e = render(&n, &"nrt".parse().unwrap()).unwrap_err();
        assert_eq!(e.to_string(), "there is no site \"nrt\"; sites are: ams");
        let e = render_with(&n, &"ams".parse().unwrap(), &|_| Some("a\"b".into())).unwrap_err();
        assert!(matches!(e, RenderError::UnquotablePassword { .. }));
    }
}
