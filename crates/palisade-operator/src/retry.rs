//! How report writes retry after a failure: exponential backoff with jitter, so an API server
//! that refuses writes (down, or throttling with 429 and 503) is asked less and less often,
//! and several replicas or restarts do not retry in step.

use std::time::Duration;

/// The delay before the next attempt after consecutive failures.
#[derive(Debug)]
pub struct WriteBackoff {
    first: Duration,
    most: Duration,
    failures: u32,
    /// State of the jitter's generator (xorshift), seeded from the clock.
    seed: u64,
}

impl WriteBackoff {
    pub fn new(first: Duration, most: Duration) -> WriteBackoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
            | 1;
        WriteBackoff {
            first,
            most,
            failures: 0,
            seed,
        }
    }

    /// A write failed: how long to wait before the next. The base doubles from `first` to
    /// `most`; the delay is drawn between half the base and the base ("equal jitter").
    pub fn failed(&mut self) -> Duration {
        let base = self
            .first
            .saturating_mul(1u32 << self.failures.min(16))
            .min(self.most);
        self.failures = self.failures.saturating_add(1);
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let fraction = (self.seed % 1024) as f64 / 1024.0;
        base / 2 + (base / 2).mul_f64(fraction)
    }

    /// A write succeeded: the next failure waits `first` again.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_most_and_start_over_after_a_success() {
        let second = Duration::from_secs(1);
        let mut backoff = WriteBackoff::new(second, 8 * second);
        let delays: Vec<Duration> = (0..8).map(|_| backoff.failed()).collect();
        let bases = [1, 2, 4, 8, 8, 8, 8, 8];
        for (delay, base) in delays.iter().zip(bases) {
            let base = base * second;
            assert!(
                *delay >= base / 2 && *delay <= base,
                "{delay:?} outside {:?}..={base:?}",
                base / 2
            );
        }
        backoff.succeeded();
        assert!(backoff.failed() <= second);
    }

    #[test]
    fn two_replicas_failing_together_do_not_retry_in_step() {
        let second = Duration::from_secs(1);
        let mut one = WriteBackoff::new(second, 30 * second);
        let mut other = WriteBackoff::new(second, 30 * second);
        other.seed = one.seed.wrapping_mul(31).wrapping_add(7) | 1;
        let apart = (0..10).filter(|_| one.failed() != other.failed()).count();
        assert!(apart >= 8, "{apart} of 10 delays differ");
    }
}
