//! UPDATE encode and decode throughput of `tern_bgp::wire` (a plain bench binary, no harness).
//!
//! Workloads:
//! - a full IPv4 table: the 694k prefixes of the CAIDA RouteViews pfx2as file, grouped by
//!   origin AS into UPDATEs with ORIGIN, a 3-4 AS path, NEXT_HOP and two communities;
//! - the 17,216 real UPDATEs of a RIPE RIS MRT dump (mixed IPv4/IPv6, real attributes);
//! - packing: `updates_for_announce` over the whole table with one attribute set.
//!
//! Run: `cargo bench -p tern-bgp --bench codec` (data from `../shared/data` or
//! `TERN_SHARED_DATA`).
#![allow(clippy::unwrap_used)]

#[path = "../tests/wire_common/mod.rs"]
mod wire_common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use tern_bgp::wire::*;
use tern_types::{Asn, Community, Prefix};
use wire_common::{full_data, read_mrt_messages};

/// The full public data a bench needs (no excerpt would measure anything).
fn shared_data(rel: &str) -> std::path::PathBuf {
    full_data(rel).unwrap_or_else(|| panic!("this bench needs {rel} from ../shared/data"))
}

const CTX: Codec = Codec {
    four_octet_as: true,
    extended_messages: false,
};

/// (origin AS, prefixes) from the pfx2as file; multi-origin entries take the first origin.
fn table() -> BTreeMap<u32, Vec<Prefix>> {
    let file =
        std::fs::File::open(shared_data("mrt/routeviews-rv2-20170329-0200.pfx2as.gz")).unwrap();
    let mut by_origin: BTreeMap<u32, Vec<Prefix>> = BTreeMap::new();
    for line in BufReader::new(flate2::read::GzDecoder::new(file)).lines() {
        let line = line.unwrap();
        let mut f = line.split('\t');
        let (Some(addr), Some(len), Some(origin)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let Ok(p) = format!("{addr}/{len}").parse::<Prefix>() else {
            continue;
        };
        let origin: u32 = origin
            .split(['_', ','])
            .next()
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        by_origin.entry(origin).or_default().push(p);
    }
    by_origin
}

fn table_updates(table: &BTreeMap<u32, Vec<Prefix>>) -> Vec<Message> {
    let mut out = Vec::new();
    for (i, (origin, prefixes)) in table.iter().enumerate() {
        let mut path =
            AsPath::from_sequence([Asn(64512), Asn(3356 + (i as u32 % 7)), Asn(*origin)]);
        if i % 3 == 0 {
            path.prepend(Asn(64512), 1);
        }
        let attrs = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(path),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            communities: vec![
                Community::new(64512, 100),
                Community::new(64512, (i % 500) as u16),
            ],
            ..Default::default()
        };
        for u in updates_for_announce(&attrs, prefixes, &CTX).unwrap() {
            out.push(Message::Update(u));
        }
    }
    out
}

fn prefix_count(msgs: &[Message]) -> usize {
    msgs.iter()
        .map(|m| match m {
            Message::Update(u) => u.announced().count() + u.withdrawals().count(),
            _ => 0,
        })
        .sum()
}

/// Runs `f` (one pass over the workload) repeatedly for at least `min` and returns the mean.
fn time(min: Duration, mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < min {
        f();
        n += 1;
    }
    start.elapsed() / n
}

fn report(what: &str, per_pass: Duration, msgs: usize, prefixes: usize, bytes: usize) {
    let s = per_pass.as_secs_f64();
    println!(
        "{what:<34} {:>9.1} ms/pass  {:>6.2} M msg/s  {:>6.2} M prefixes/s  {:>7.1} MB/s",
        s * 1e3,
        msgs as f64 / s / 1e6,
        prefixes as f64 / s / 1e6,
        bytes as f64 / s / 1e6
    );
}

fn bench(name: &str, msgs: &[Message], min: Duration) {
    let prefixes = prefix_count(msgs);
    let mut wire = Vec::new();
    for m in msgs {
        encode(m, &CTX, &mut wire).unwrap();
    }
    println!(
        "{name}: {} messages, {prefixes} prefixes, {} bytes on the wire",
        msgs.len(),
        wire.len()
    );
    let mut buf = Vec::with_capacity(wire.len());
    let t = time(min, || {
        buf.clear();
        for m in msgs {
            encode(black_box(m), &CTX, &mut buf).unwrap();
        }
        black_box(&buf);
    });
    report("  encode", t, msgs.len(), prefixes, wire.len());
    let t = time(min, || {
        let mut rest = &wire[..];
        let mut n = 0;
        while let Some((m, used)) = decode(black_box(rest), &CTX).unwrap() {
            black_box(m);
            rest = &rest[used..];
            n += 1;
        }
        assert_eq!(n, msgs.len());
    });
    report("  decode", t, msgs.len(), prefixes, wire.len());
}

fn main() {
    let min = Duration::from_secs(
        std::env::var("BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    );
    let table = table();
    let all: Vec<Prefix> = table.values().flatten().copied().collect();
    let msgs = table_updates(&table);
    bench("full IPv4 table (pfx2as, grouped by origin)", &msgs, min);

    let (records, _) = read_mrt_messages(&shared_data("mrt/updates.20160811.1600.gz"));
    let real: Vec<Message> = records
        .iter()
        .filter_map(|r| match decode(&r.message, &CTX) {
            Ok(Some((m @ Message::Update(_), _))) => Some(m),
            _ => None,
        })
        .collect();
    bench("RIS updates 2016-08-11 (real)", &real, min);

    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence([Asn(64512)])),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        ..Default::default()
    };
    let mut count = 0;
    let t = time(min, || {
        let ups = updates_for_announce(black_box(&attrs), &all, &CTX).unwrap();
        count = ups.len();
        black_box(ups);
    });
    println!(
        "packing {} prefixes with one attribute set: {count} UPDATEs",
        all.len()
    );
    report("  updates_for_announce", t, count, all.len(), 0);
}
