//! The lab's design for the bundled examples, without creating anything: shape, documentation
//! addresses only, provider dictionaries turned into BIRD filters, and every config (routers and
//! sites) accepted by the real BIRD 2 (`bird -p`), and the per-site tern.toml `tern run` runs in
//! the lab accepted by tern-model and pointing into the lab.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tern_lab::birdconf;
use tern_lab::orchestrate::{Loaded, load};
use tern_lab::topology::{LinkKind, NodeKind, Topology, design};
use tern_testkit::TempDir;
use tern_types::Prefix;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn lab(name: &str) -> (Loaded, Topology) {
    let l = load(&example(name)).unwrap();
    let t = design(&l.net, &l.lab, &l.providers).unwrap();
    (l, t)
}

#[test]
fn lab_example_shape() {
    let (_, t) = lab("lab/tern.toml");
    let count = |k| t.of_kind(k).count();
    // 3 sites, one Vultr router each, 2 carriers x 3 regions, 2 eyeballs + probes per region.
    assert_eq!(count(NodeKind::Site), 3);
    assert_eq!(count(NodeKind::Provider), 3);
    assert_eq!(count(NodeKind::Transit), 6);
    assert_eq!(count(NodeKind::Eyeball), 6);
    assert_eq!(count(NodeKind::Probe), 6);
    assert_eq!(
        t.target,
        "2001:db8:c0::1".parse::<std::net::Ipv6Addr>().unwrap()
    );
    // Vultr's routers use its documented private session AS and stand for AS20473.
    let v = &t.nodes[t.node("vultr-ams").unwrap()];
    assert_eq!((v.asn, v.represents), (Some(64515), Some(20473)));
    // Every carrier's routers form an iBGP full mesh: 3 links per carrier.
    let internal = t
        .links
        .iter()
        .filter(|l| l.kind == LinkKind::Internal)
        .count();
    assert_eq!(internal, 6);
    // Link names fit Linux's 15 bytes and are unique per namespace.
    for i in 0..t.nodes.len() {
        let names: Vec<&str> = t.links_of(i).iter().map(|x| x.1).collect();
        let mut d = names.clone();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), names.len(), "{}", t.nodes[i].name);
        assert!(names.iter().all(|n| n.len() <= 15));
    }
}

#[test]
fn only_documentation_addresses_and_private_asns() {
    let doc: Prefix = "3fff::/20".parse().unwrap();
    let doc4: Vec<Prefix> = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    let is_doc4 = |a: std::net::Ipv4Addr| doc4.iter().any(|p| p.contains_addr(&a.into()));
    for name in ["lab/tern.toml", "anycast/tern.toml"] {
        let (_, t) = lab(name);
        for l in &t.links {
            for a in [l.a_addr, l.b_addr] {
                assert!(doc.contains_addr(&a.into()), "{name}: {a}");
            }
            for a in [l.a_addr4, l.b_addr4] {
                let a = a.unwrap();
                assert!(is_doc4(a), "{name}: {a}");
            }
        }
        for n in &t.nodes {
            if let Some(a) = n.asn {
                assert!(tern_types::Asn(a).is_private(), "{name}: {} AS{a}", n.name);
            }
            if let Some(p) = n.prefix {
                assert!(doc.contains(&p), "{name}: {p}");
            }
            if let Some(p) = n.prefix4 {
                assert!(doc4.iter().any(|d| d.contains(&p)), "{name}: {p}");
            }
            assert!(
                n.addrs4.iter().all(|a| is_doc4(*a)),
                "{name}: {:?}",
                n.addrs4
            );
            for a in &n.addrs {
                let ok = doc.contains_addr(&(*a).into())
                    || "2001:db8::/32"
                        .parse::<Prefix>()
                        .unwrap()
                        .contains_addr(&(*a).into());
                assert!(ok, "{name}: {a}");
            }
        }
    }
}

#[test]
fn dictionaries_become_filters_where_they_apply() {
    let (l, t) = lab("lab/tern.toml");
    let dir = TempDir::new("dict");
    let conf = |node: &str| {
        birdconf::router(
            &t,
            t.node(node).unwrap(),
            &l.net,
            &l.providers,
            &dir.0.join("x.log"),
        )
    };
    // nrt asks, through Vultr, for Cogent's "do not announce in North America" (174:970).
    let na = conf("cogent-na");
    let eye = na.split("filter n_eye_na_1_out").nth(1).unwrap();
    let eye = eye.split("}\n").next().unwrap();
    assert!(
        eye.contains("if (174, 970) ~ bgp_community then reject;"),
        "{eye}"
    );
    let eu = conf("cogent-eu");
    assert!(
        !eu.contains("(174, 970)"),
        "Cogent honours 174:970 only in North America"
    );
    // Vultr's no-announce-to-AS<n> towards the router standing for Cogent (AS174).
    let v = conf("vultr-ams");
    assert!(
        v.contains("if (64600, 174) ~ bgp_community then reject;"),
        "{v}"
    );
    assert!(v.contains("if (64602, 3257) ~ bgp_community then { bgp_path.prepend(64515); bgp_path.prepend(64515); }"));
    // Gao-Rexford: peers and providers get customer routes only; customers get everything.
    let peer = eu.split("filter n_gtt_eu_out").nth(1).unwrap();
    assert!(
        peer.split("}\n")
            .next()
            .unwrap()
            .contains("(65001, 1, 1) !~ bgp_large_community")
    );
    let cust = eu.split("filter n_eye_eu_1_out").nth(1).unwrap();
    assert!(
        !cust
            .split("}\n")
            .next()
            .unwrap()
            .contains("!~ bgp_large_community")
    );
}

fn bird_parses(file: &Path) {
    let out = Command::new("bird")
        .arg("-p")
        .arg("-c")
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `bird` ({e}): install BIRD 2 (apt-get install bird2)")
        });
    assert!(
        out.status.success(),
        "bird -p -c {} failed: {}{}\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(file).unwrap_or_default()
    );
}

#[test]
fn every_config_parses_with_real_bird() {
    for name in [
        "lab/tern.toml",
        "lab/tern-prepend.toml",
        "anycast/tern.toml",
    ] {
        let (l, t) = lab(name);
        let dir = TempDir::new(&name.replace(['/', '.'], "-"));
        let log = dir.0.join("bird.log");
        let lab_net = birdconf::site_network(&l.net, &t).unwrap();
        for (i, n) in t.nodes.iter().enumerate() {
            let text = match n.kind {
                NodeKind::Site => birdconf::site(&lab_net, &n.name, &log).unwrap(),
                NodeKind::Probe => continue,
                // With the lab's TCP-MD5 key on the site sessions, as tern run labs have.
                _ => birdconf::router_with(&t, i, &l.net, &l.providers, &log, Some("k3y")),
            };
            let f = dir.0.join(format!("{}.conf", n.name));
            std::fs::write(&f, text).unwrap();
            bird_parses(&f);
        }
    }
}

#[test]
fn site_configs_point_into_the_lab() {
    let (l, t) = lab("anycast/tern.toml");
    let lab_net = birdconf::site_network(&l.net, &t).unwrap();
    let lux = lab_net
        .sites
        .iter()
        .find(|s| s.id.as_str() == "lux")
        .unwrap();
    // Both sessions go to buyvm-lux over the direct link, each in its own family.
    assert_eq!(lux.upstreams.len(), 2);
    let p = t.node("buyvm-lux").unwrap();
    let link = t
        .links
        .iter()
        .find(|l| l.b == p && t.nodes[l.a].name == "lux")
        .unwrap();
    for u in &lux.upstreams {
        assert_eq!(Some(u.remote_as.0), t.nodes[p].asn);
        assert!(u.multihop.is_none() && u.password.is_none() && u.host_route.is_none());
        let want: std::net::IpAddr = match u.afi() {
            tern_types::Afi::Ipv6 => link.b_addr.into(),
            tern_types::Afi::Ipv4 => link.b_addr4.unwrap().into(),
        };
        assert_eq!(u.neighbor, want, "{}", u.name);
    }
    let u = lux.upstreams.iter().find(|u| u.name == "buyvm6").unwrap();
    // The compiled traffic engineering is kept: BuyVM's prepend-2x-to-AS174 large community.
    assert!(
        u.export
            .large_communities
            .iter()
            .any(|c| c.to_string() == "53667:102:174"),
        "{:?}",
        u.export
    );
    assert!(t.site("lux").unwrap().dropped.is_empty());
    assert_eq!(t.target4, Some("192.0.2.1".parse().unwrap()));
}

#[test]
fn tern_run_site_configs_point_into_the_lab() {
    use tern_lab::siterun::{self, SiteFiles};
    for name in ["lab/tern.toml", "anycast/tern.toml"] {
        let (l, t) = lab(name);
        let lab_net = birdconf::site_network(&l.net, &t).unwrap();
        let dir = Path::new("/run/tern-lab/x");
        for s in &t.sites {
            let files = SiteFiles::new(dir, &s.id);
            let text =
                siterun::site_toml(&l.text, &l.net, &lab_net, &t, &s.id, &files, true).unwrap();
            let m = tern_model::parse(Path::new("site.toml"), &text).unwrap();
            let errors: Vec<String> = m
                .diagnostics
                .iter()
                .filter(|d| d.severity == tern_model::Severity::Error)
                .map(|d| d.to_string())
                .collect();
            assert!(errors.is_empty(), "{name} {}: {errors:?}\n{text}", s.id);
            let site = m
                .network
                .sites
                .iter()
                .find(|x| x.id.as_str() == s.id)
                .unwrap();
            let want = lab_net
                .sites
                .iter()
                .find(|x| x.id.as_str() == s.id)
                .unwrap();
            assert_eq!(site.upstreams.len(), want.upstreams.len(), "{}", s.id);
            for (u, w) in site.upstreams.iter().zip(&want.upstreams) {
                assert_eq!(
                    (u.name.as_str(), u.neighbor, u.source, u.remote_as),
                    (w.name.as_str(), w.neighbor, w.source, w.remote_as)
                );
                // The compiled traffic engineering is the operator's.
                assert_eq!(u.export, w.export, "{} {}", s.id, u.name);
                assert!(u.password.is_some() && u.host_route.is_none());
            }
            // The which-site responders on the service addresses, files in the lab's dir.
            assert!(
                site.edge
                    .dns_listen
                    .iter()
                    .any(|a| a.ip() == std::net::IpAddr::from(t.target) && a.port() == 53),
                "{:?}",
                site.edge
            );
            assert!(site.edge.http_listen.iter().all(|a| a.port() == 80));
            assert_eq!(site.edge.ctl_socket, files.ctl_socket);
            // One service, the lab's, gating the shared prefixes only.
            assert_eq!(m.network.services.len(), 1);
            let svc = &m.network.services[0];
            assert_eq!(svc.name, siterun::SERVICE_NAME);
            assert!(!svc.prefixes.is_empty());
            for p in &svc.prefixes {
                let planned = m.network.prefixes.iter().find(|x| x.prefix == *p).unwrap();
                assert!(!matches!(planned.role, tern_model::Role::Unicast(_)), "{p}");
            }
            assert_eq!((svc.checks[0].rise, svc.checks[0].fall), (2, 2));
            // The hold-down the demo explains heal by is the one in the file.
            assert_eq!(svc.hold_down, Some(tern_lab::siterun::HOLD_DOWN));
        }
    }
}

#[test]
fn apply_reloads_only_the_sites_whose_part_changed() {
    use tern_lab::siterun::{self, SiteFiles};
    let render = |name: &str, site: &str| {
        let (l, t) = lab(name);
        let lab_net = birdconf::site_network(&l.net, &t).unwrap();
        let files = SiteFiles::new(Path::new("/run/tern-lab/x"), site);
        let text = siterun::site_toml(&l.text, &l.net, &lab_net, &t, site, &files, true).unwrap();
        siterun::own_part(&text, site).unwrap()
    };
    // tern-prepend.toml changes ewr only (a 3x prepend).
    for (site, changed) in [("ams", false), ("ewr", true), ("nrt", false)] {
        let same = render("lab/tern.toml", site) == render("lab/tern-prepend.toml", site);
        assert_eq!(!same, changed, "{site}");
    }
}

/// The sessions the BIRD config of the router `name` configures (`protocol bgp NAME`).
fn bgp_protocols(t: &Topology, l: &Loaded, name: &str) -> Vec<String> {
    let conf = birdconf::router(
        t,
        t.node(name).unwrap(),
        &l.net,
        &l.providers,
        Path::new("/dev/null"),
    );
    conf.lines()
        .filter_map(|s| s.strip_prefix("protocol bgp "))
        .map(|s| s.split_whitespace().next().unwrap().to_owned())
        .collect()
}

#[test]
fn ipv6_only_networks_get_no_ipv4_anywhere() {
    // An ASN and IPv6 prefixes only (issue 16.1: up waited for IPv4 sessions nobody configured).
    for name in ["minimal/tern.toml", "ipv6-only/tern.toml"] {
        let (l, t) = lab(name);
        assert_eq!(t.target4, None, "{name}");
        for link in &t.links {
            assert_eq!(
                (link.a_addr4, link.b_addr4),
                (None, None),
                "{name}: {link:?}"
            );
        }
        for n in &t.nodes {
            assert!(n.addrs4.is_empty() && n.prefix4.is_none(), "{name}: {n:?}");
        }
        for s in &t.sites {
            let p = t
                .nodes
                .iter()
                .find(|n| n.kind == NodeKind::Provider && n.site.as_ref() == Some(&s.id))
                .unwrap();
            let sessions = bgp_protocols(&t, &l, &p.name);
            assert!(sessions.contains(&format!("n_{}", s.id)), "{sessions:?}");
            assert!(
                !sessions.iter().any(|s| s.ends_with("_4")),
                "{name}: {} has IPv4 sessions: {sessions:?}",
                p.name
            );
        }
    }
    let (_, t) = lab("ipv6-only/tern.toml");
    let names: Vec<&str> = t.nodes.iter().map(|n| n.name.as_str()).collect();
    for n in ["ams", "nyc", "lux", "vultr-ams", "buyvm-nyc", "buyvm-lux"] {
        assert!(names.contains(&n), "{n} not in {names:?}");
    }
}

#[test]
fn a_site_without_ipv4_session_gets_none_in_a_dual_stack_network() {
    // examples/lab with ewr's IPv4 session removed: ams and nrt keep theirs, ewr has none.
    let text = std::fs::read_to_string(example("lab/tern.toml")).unwrap();
    let start = text
        .find("[[site.ewr.upstream]]\nname = \"vultr4\"")
        .unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    let cut = format!("{}{}", &text[..start], &text[end..]);
    let l = tern_lab::orchestrate::load_text(Path::new("cut.toml"), &cut).unwrap();
    let t = design(&l.net, &l.lab, &l.providers).unwrap();
    assert!(t.target4.is_some());
    for (site, v4) in [("ams", true), ("ewr", false), ("nrt", true)] {
        let sessions = bgp_protocols(&t, &l, &format!("vultr-{site}"));
        assert_eq!(
            sessions.contains(&format!("n_{site}_4")),
            v4,
            "vultr-{site}: {sessions:?}"
        );
        assert!(sessions.contains(&format!("n_{site}")), "{sessions:?}");
    }
}
