//! The server clock, injectable so that tests can say what time it is.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, DurationRound, Utc};

/// Tells the time. Production uses the system clock; tests may use a [`Clock::manual`] one.
#[derive(Clone)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that stays at `at` until told otherwise.
    pub fn manual(at: DateTime<Utc>) -> Clock {
        Clock {
            manual: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// The current instant, to the microsecond (what both databases store).
    pub fn now(&self) -> DateTime<Utc> {
        let now = match &self.manual {
            Some(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
            None => Utc::now(),
        };
        now.duration_trunc(Duration::microseconds(1)).unwrap_or(now)
    }

    /// Sets a manual clock; does nothing to the system clock.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(current) = &self.manual {
            *current
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
        }
    }

    /// Moves a manual clock forward.
    pub fn advance(&self, by: Duration) {
        if let Some(current) = &self.manual {
            let mut at = current
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *at += by;
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}
