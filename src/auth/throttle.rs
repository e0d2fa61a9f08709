//! Login throttling, per account and per client address, in memory (each instance counts its own).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::Error;

/// Two token buckets: one keyed by account email, one by client address.
pub struct LoginThrottle {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginThrottle {
    /// Allows `per_account` and `per_address` attempts a minute (at least one each).
    pub fn new(per_account: u32, per_address: u32) -> LoginThrottle {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        LoginThrottle {
            per_account: RateLimiter::keyed(quota(per_account)),
            per_address: RateLimiter::keyed(quota(per_address)),
        }
    }

    /// Counts one attempt; 429 with the seconds to wait when either bucket is empty.
    pub fn check(&self, email: &str, address: Option<IpAddr>) -> Result<(), Error> {
        let clock = DefaultClock::default();
        let too_many = |wait: std::time::Duration| Error::TooManyRequests {
            retry_after_seconds: wait.as_secs().max(1),
        };
        if let Some(ip) = address {
            self.per_address
                .check_key(&ip)
                .map_err(|n| too_many(n.wait_time_from(clock.now())))?;
        }
        self.per_account
            .check_key(&email.to_lowercase())
            .map_err(|n| too_many(n.wait_time_from(clock.now())))?;
        // Forget idle keys now and then, so that memory stays bounded under a spray of addresses.
        if self.per_account.len() + self.per_address.len() > 10_000 {
            self.per_account.retain_recent();
            self.per_address.retain_recent();
        }
        Ok(())
    }
}
