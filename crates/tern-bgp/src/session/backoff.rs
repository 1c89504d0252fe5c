//! ConnectRetry back-off with jitter (RFC 4271 §8.1.1 DampPeerOscillations, §10 jitter).
//!
//! Each consecutive failure doubles the delay from `base` up to `max`; RFC 4271 §10 asks for
//! the timer to be multiplied by a random factor in 0.75–1.0 so that peers do not synchronise.
//! The random numbers come from a small seeded generator (SplitMix64), so a test that injects the
//! same seed sees the same delays: the session never asks the operating system for randomness.

use std::time::Duration;

/// Exponential back-off state for one peer.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
    rng: SplitMix64,
}

impl Backoff {
    /// A back-off starting at `base`, doubling per failure up to `max`, with jitter from `seed`.
    pub fn new(base: Duration, max: Duration, seed: u64) -> Self {
        Backoff {
            base,
            max: max.max(base),
            failures: 0,
            rng: SplitMix64(seed),
        }
    }

    /// The delay before the next attempt, counting one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let shift = self.failures.min(16);
        self.failures = self.failures.saturating_add(1);
        let raw = self
            .base
            .checked_mul(1u32 << shift)
            .unwrap_or(self.max)
            .min(self.max);
        // RFC 4271 §10: uniformly distributed factor in [0.75, 1.0].
        let factor = 0.75 + 0.25 * self.rng.next_unit();
        raw.mul_f64(factor)
    }

    /// The plain (unjittered, undoubled) retry interval, used while a connect is outstanding.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// Consecutive failures counted so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Forget past failures (the session reached Established).
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, good enough for timer jitter.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30), 7);
        let mut prev_raw = Duration::ZERO;
        for i in 0..10u32 {
            let d = b.next_delay();
            let raw = Duration::from_secs(1u64 << i.min(16)).min(Duration::from_secs(30));
            assert!(d <= raw, "attempt {i}: {d:?} > {raw:?}");
            assert!(
                d >= raw.mul_f64(0.75),
                "attempt {i}: {d:?} < 0.75 × {raw:?}"
            );
            assert!(raw >= prev_raw);
            prev_raw = raw;
        }
        assert_eq!(b.failures(), 10);
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(1));
    }

    #[test]
    fn same_seed_same_delays_other_seed_differs() {
        let run = |seed| {
            let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(300), seed);
            (0..6).map(|_| b.next_delay()).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }
}
