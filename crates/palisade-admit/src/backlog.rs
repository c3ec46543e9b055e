//! Load shedding. Offered more reviews than it can judge, a webhook that queues them all answers
//! every one late: each waits its turn, most reach the deadline still waiting, and the few
//! judged near it are answered "out of time" anyway, so the work is lost too. The backlog
//! counts the reviews taken and keeps a running mean of what judging one costs; a review that
//! would not be judged before its deadline is refused at once, and the API server hears an
//! answer in milliseconds instead of at its timeout.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Reviews taken and not yet judged, and the mean time one takes to judge.
#[derive(Debug)]
pub struct Backlog {
    /// Reviews judged at once (the judging semaphore's permits).
    slots: usize,
    /// Reviews taken: judged now or waiting for a slot.
    taken: AtomicUsize,
    /// Exponentially weighted mean judging time, in microseconds; 0 before the first review.
    mean_micros: AtomicU64,
}

/// A review the backlog took; dropped when its judging ends (or it stops waiting).
#[derive(Debug)]
pub struct Ticket {
    backlog: Arc<Backlog>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.backlog.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why a review was refused: how many were ahead of it and when it would have been judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy {
    pub ahead: usize,
    pub expected: Duration,
}

impl Backlog {
    pub fn new(slots: usize) -> Arc<Backlog> {
        Arc::new(Backlog {
            slots: slots.max(1),
            taken: AtomicUsize::new(0),
            mean_micros: AtomicU64::new(0),
        })
    }

    /// Takes a review that must be judged within `budget`, or refuses it when the reviews
    /// ahead of it, at the mean cost, would take longer. Before any review was judged there is
    /// no cost to go by, and every review is taken.
    pub fn take(self: &Arc<Self>, budget: Duration) -> Result<Ticket, Busy> {
        let ahead = self.taken.fetch_add(1, Ordering::AcqRel);
        // Taken first, so the ticket's drop undoes it whatever happens next.
        let ticket = Ticket {
            backlog: Arc::clone(self),
        };
        let mean = Duration::from_micros(self.mean_micros.load(Ordering::Acquire));
        // Judged in rounds of `slots`: this review's round, then its own judging.
        let rounds = u32::try_from(ahead / self.slots + 1).unwrap_or(u32::MAX);
        let expected = mean.saturating_mul(rounds);
        if expected > budget {
            return Err(Busy { ahead, expected });
        }
        Ok(ticket)
    }

    /// Records what judging one review took: an eighth of the new time into the mean, so a
    /// burst of costly objects shows within a few reviews and one outlier does not rule.
    pub fn judged(&self, took: Duration) {
        let took = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        let _ = self
            .mean_micros
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |mean| {
                Some(if mean == 0 {
                    took
                } else {
                    mean - mean / 8 + took / 8
                })
            });
    }

    /// Reviews taken and not yet judged.
    pub fn taken(&self) -> usize {
        self.taken.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn before_any_review_is_judged_every_review_is_taken() {
        let backlog = Backlog::new(2);
        let tickets: Vec<_> = (0..100).map(|_| backlog.take(MS)).collect();
        assert!(tickets.iter().all(Result::is_ok));
        assert_eq!(backlog.taken(), 100);
        drop(tickets);
        assert_eq!(backlog.taken(), 0);
    }

    #[test]
    fn a_review_that_would_wait_past_its_budget_is_refused() {
        let backlog = Backlog::new(2);
        backlog.judged(100 * MS);
        // Two slots at 100 ms: the first two are judged by 100 ms, the next two by 200 ms.
        let first = backlog.take(250 * MS).expect("slot 1");
        let second = backlog.take(250 * MS).expect("slot 2");
        let third = backlog.take(250 * MS).expect("second round, 200 ms");
        let fourth = backlog.take(250 * MS).expect("second round, 200 ms");
        let refused = backlog.take(250 * MS).expect_err("third round, 300 ms");
        assert_eq!(
            refused,
            Busy {
                ahead: 4,
                expected: 300 * MS
            }
        );
        // A refusal holds no place.
        assert_eq!(backlog.taken(), 4);
        drop((first, second));
        let taken = backlog.take(250 * MS).expect("a round ended: room again");
        drop((third, fourth, taken));
        assert_eq!(backlog.taken(), 0);
    }

    #[test]
    fn the_mean_follows_the_cost_without_jumping_on_one_outlier() {
        let backlog = Backlog::new(1);
        backlog.judged(10 * MS);
        backlog.judged(1000 * MS);
        let mean = Duration::from_micros(backlog.mean_micros.load(Ordering::Acquire));
        assert!(mean < 200 * MS, "{mean:?}");
        for _ in 0..40 {
            backlog.judged(1000 * MS);
        }
        let mean = Duration::from_micros(backlog.mean_micros.load(Ordering::Acquire));
        assert!(mean > 900 * MS, "{mean:?}");
    }
}
