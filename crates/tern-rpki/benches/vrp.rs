//! Load and lookup figures for a VRP set of real-world size (~500k VRPs, like a full
//! rpki-client export): JSON parse + index build, then RFC 6811 lookups. Prints timings; asserts
//! nothing about them. Run: `cargo bench -p tern-rpki --bench vrp`.

use std::fmt::Write;
use std::hint::black_box;
use std::time::Instant;

use tern_rpki::{Validity, VrpSet};
use tern_types::{Asn, Prefix};

/// CPU time of this thread (Linux schedstat), so figures mean something on a busy machine.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Deterministic xorshift so the bench needs no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn main() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut json =
        String::from("{\"metadata\": {\"buildtime\": \"2024-01-01T00:00:00Z\"}, \"roas\": [\n");
    let n = 500_000;
    let mut routes = Vec::new();
    for i in 0..n {
        let r = rng.next();
        let asn = (r >> 40) as u32 % 400_000 + 1;
        let (prefix, max) = if i % 4 == 0 {
            let len = 32 + (r % 17) as u8; // /32../48
            let addr = std::net::Ipv6Addr::from(
                ((0x2000u128 << 112) | (u128::from(r) << 64)) & !(u128::MAX >> len),
            );
            (
                Prefix::truncating(addr.into(), len).unwrap(),
                len + (r >> 20) as u8 % 3,
            )
        } else {
            let len = 12 + (r % 13) as u8; // /12../24
            let addr = std::net::Ipv4Addr::from(((r >> 8) as u32) & !(u32::MAX >> len));
            (Prefix::truncating(addr.into(), len).unwrap(), 24)
        };
        if i % 50 == 0 {
            routes.push((prefix, Asn(asn)));
        }
        let sep = if i + 1 == n { "" } else { "," };
        writeln!(json, "{{\"asn\": {asn}, \"prefix\": \"{prefix}\", \"maxLength\": {max}, \"ta\": \"bench\", \"expires\": 1700000000}}{sep}").unwrap();
    }
    json.push_str("]}\n");

    let t = Instant::now();
    let c0 = cpu_ns();
    let set = VrpSet::from_json_str(&json, "bench.json").unwrap();
    let load = t.elapsed();
    let cpu = c0.zip(cpu_ns()).map(|(a, b)| (b - a) as f64 / 1e9);
    println!(
        "load: {} VRPs ({} distinct) from {:.1} MB of JSON in {:.2?} wall, {:.2?} s CPU",
        n,
        set.len(),
        json.len() as f64 / 1e6,
        load,
        cpu
    );

    // Lookups: known routes (hits), their random more-specifics, and random misses.
    let mut queries: Vec<(Prefix, Asn)> = Vec::new();
    for (p, a) in &routes {
        queries.push((*p, *a));
        queries.push((*p, Asn(a.0 + 1)));
    }
    for _ in 0..routes.len() {
        let r = rng.next();
        queries.push((
            Prefix::truncating(std::net::Ipv4Addr::from(r as u32).into(), 24).unwrap(),
            Asn(64512),
        ));
        queries.push((
            Prefix::truncating(
                std::net::Ipv6Addr::from((0x2000u128 << 112) | u128::from(r)).into(),
                48,
            )
            .unwrap(),
            Asn(64512),
        ));
    }
    let rounds = 10;
    let t = Instant::now();
    let c0 = cpu_ns();
    let mut counts = [0usize; 3];
    for _ in 0..rounds {
        for (p, a) in &queries {
            match black_box(set.validate(p, *a)) {
                Validity::Valid => counts[0] += 1,
                Validity::Invalid(_) => counts[1] += 1,
                Validity::NotFound => counts[2] += 1,
            }
        }
    }
    let el = t.elapsed();
    let cpu = c0.zip(cpu_ns()).map(|(a, b)| b - a);
    let total = queries.len() * rounds;
    println!(
        "validate: {total} lookups in {el:.2?} wall = {:.0} ns/lookup wall, {:.0?} ns/lookup CPU \
         (valid {}, invalid {}, not found {})",
        el.as_nanos() as f64 / total as f64,
        cpu.map(|c| c as f64 / total as f64),
        counts[0] / rounds,
        counts[1] / rounds,
        counts[2] / rounds
    );
}
