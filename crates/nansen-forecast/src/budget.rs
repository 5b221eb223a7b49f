//! How long a computation may run, and whether whoever asked for it still waits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A deadline and a cancel switch shared with whoever started the work: long loops ask
/// [`Budget::check`] between steps and stop when it says so.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    deadline: Option<(Instant, Duration)>,
    cancelled: Arc<AtomicBool>,
}

/// Why work stopped before it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Stopped {
    #[error("it was stopped: whoever asked for it went away")]
    Cancelled,
    #[error("it ran past its limit of {} s", .0.as_secs())]
    OutOfTime(Duration),
}

impl Budget {
    /// No deadline; stopped only by [`Budget::cancel`].
    pub fn unlimited() -> Budget {
        Budget::default()
    }

    /// At most `limit` from now.
    pub fn lasting(limit: Duration) -> Budget {
        Budget {
            deadline: Some((Instant::now() + limit, limit)),
            cancelled: Default::default(),
        }
    }

    /// Asks the work to stop at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn check(&self) -> Result<(), Stopped> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(Stopped::Cancelled);
        }
        match self.deadline {
            Some((at, limit)) if Instant::now() >= at => Err(Stopped::OutOfTime(limit)),
            _ => Ok(()),
        }
    }

    /// A guard that cancels the work when dropped: held by the request that waits for it, so
    /// a client that goes away stops what it started.
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

pub struct CancelOnDrop(Budget);

impl CancelOnDrop {
    /// The work finished (or failed) on its own: nothing to cancel.
    pub fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_stops_on_cancel_and_at_its_deadline() {
        let b = Budget::lasting(Duration::from_secs(3600));
        assert_eq!(b.check(), Ok(()));
        drop(b.cancel_on_drop());
        assert_eq!(b.check(), Err(Stopped::Cancelled));
        let spent = Budget::lasting(Duration::ZERO);
        assert_eq!(spent.check(), Err(Stopped::OutOfTime(Duration::ZERO)));
        let kept = Budget::unlimited();
        kept.cancel_on_drop().disarm();
        assert_eq!(kept.check(), Ok(()));
    }
}
