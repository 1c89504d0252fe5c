//! Response rate limiting (RRL): at most `rate` responses per second to one client network,
//! the BIND/NSD scheme that blunts reflection attacks with spoofed sources.
//!
//! One token bucket per client network (/24 for IPv4, /56 for IPv6, as NSD), `rate` tokens per
//! second, a burst of `rate`. A response without a token is dropped, except every
//! `slip`-th, which goes out truncated (TC, no records): a real resolver behind that network
//! retries over TCP, which RRL never limits (a spoofed source cannot complete a handshake).
//! The table holds at most [`MAX_BUCKETS`] networks; when full, buckets idle for a second or
//! more are evicted, and if none is, new networks are not limited (fail open: never refuse
//! service because the table is full of attackers' addresses). Sans-IO: the caller passes
//! `now`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Most client networks tracked.
pub const MAX_BUCKETS: usize = 100_000;
/// Every n-th limited response is sent truncated instead of dropped.
pub const DEFAULT_SLIP: u32 = 2;

/// What to do with one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it.
    Send,
    /// Send the truncated form.
    Slip,
    /// Drop it.
    Drop,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    limited: u32,
}

/// The limiter.
#[derive(Debug)]
pub struct Rrl {
    rate: f64,
    slip: u32,
    buckets: HashMap<(bool, u128), Bucket>,
    /// Responses dropped or slipped since start.
    pub limited: u64,
}

fn network(a: IpAddr) -> (bool, u128) {
    match a {
        IpAddr::V4(a) => (false, u128::from(u32::from(a) & 0xffff_ff00)),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => network(IpAddr::V4(v4)),
            None => (true, u128::from(a) & (u128::MAX << 72)),
        },
    }
}

impl Rrl {
    /// `rate` responses per second per network (at least 1), slip every `slip`-th (0: never).
    pub fn new(rate: u32, slip: u32) -> Rrl {
        Rrl {
            rate: f64::from(rate.max(1)),
            slip,
            buckets: HashMap::new(),
            limited: 0,
        }
    }

    /// The verdict for one response to `client` at `now`.
    pub fn check(&mut self, client: IpAddr, now: Instant) -> Verdict {
        let key = network(client);
        if !self.buckets.contains_key(&key) && self.buckets.len() >= MAX_BUCKETS {
            self.buckets
                .retain(|_, b| now.saturating_duration_since(b.last) < Duration::from_secs(1));
            if self.buckets.len() >= MAX_BUCKETS {
                return Verdict::Send;
            }
        }
        let rate = self.rate;
        let b = self.buckets.entry(key).or_insert(Bucket {
            tokens: rate,
            last: now,
            limited: 0,
        });
        let dt = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + dt * rate).min(rate);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Verdict::Send;
        }
        b.limited = b.limited.wrapping_add(1);
        self.limited += 1;
        if self.slip > 0 && b.limited % self.slip == 0 {
            Verdict::Slip
        } else {
            Verdict::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_network_and_refills() {
        let t0 = Instant::now();
        let mut r = Rrl::new(5, 2);
        let a: IpAddr = "198.51.100.7".parse().unwrap();
        let same_net: IpAddr = "198.51.100.200".parse().unwrap();
        let other: IpAddr = "203.0.113.1".parse().unwrap();
        for _ in 0..5 {
            assert_eq!(r.check(a, t0), Verdict::Send);
        }
        assert_eq!(r.check(same_net, t0), Verdict::Drop);
        assert_eq!(r.check(a, t0), Verdict::Slip);
        assert_eq!(r.check(a, t0), Verdict::Drop);
        assert_eq!(r.check(other, t0), Verdict::Send);
        assert_eq!(r.limited, 3);
        // 400 ms later two tokens are back.
        let t1 = t0 + Duration::from_millis(400);
        assert_eq!(r.check(a, t1), Verdict::Send);
        assert_eq!(r.check(a, t1), Verdict::Send);
        assert_ne!(r.check(a, t1), Verdict::Send);
        // IPv6 per /56.
        let v6a: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:0:ff::1".parse().unwrap();
        let v6c: IpAddr = "2001:db8:0:100::1".parse().unwrap();
        for _ in 0..5 {
            r.check(v6a, t0);
        }
        assert_ne!(r.check(v6b, t0), Verdict::Send);
        assert_eq!(r.check(v6c, t0), Verdict::Send);
    }
}
