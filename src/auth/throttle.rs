//! Throttling of the actions worth abusing (login, registration, password reset, uploads), per account and
//! per client address, in memory (each instance counts its own).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Settings;
use crate::error::Error;

/// Keys remembered before idle ones are forgotten, so that memory stays bounded under a spray of addresses.
const MAX_KEYS: usize = 10_000;

/// Two token buckets for one action: one keyed by account (an email, a user id), one by client address.
pub struct Throttle {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl Throttle {
    /// Allows `per_account` and `per_address` actions each `period` (at least one each), in bursts.
    pub fn new(period: Duration, per_account: u32, per_address: u32) -> Throttle {
        let quota = |n: u32| {
            let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
            let replenish = (period / n.get()).max(Duration::from_nanos(1));
            Quota::with_period(replenish)
                .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
                .allow_burst(n)
        };
        Throttle {
            per_account: RateLimiter::keyed(quota(per_account)),
            per_address: RateLimiter::keyed(quota(per_address)),
        }
    }

    /// `per_account` and `per_address` actions a minute.
    pub fn per_minute(per_account: u32, per_address: u32) -> Throttle {
        Throttle::new(Duration::from_secs(60), per_account, per_address)
    }

    /// `per_account` and `per_address` actions an hour.
    pub fn per_hour(per_account: u32, per_address: u32) -> Throttle {
        Throttle::new(Duration::from_secs(3600), per_account, per_address)
    }

    /// Counts one action; 429 with the seconds to wait when either bucket is empty. `account` is compared
    /// without regard to case.
    pub fn check(&self, account: &str, address: Option<IpAddr>) -> Result<(), Error> {
        let clock = DefaultClock::default();
        let too_many = |wait: Duration| Error::TooManyRequests {
            retry_after_seconds: wait.as_secs_f64().ceil().max(1.0) as u64,
        };
        if let Some(ip) = address {
            self.per_address
                .check_key(&ip)
                .map_err(|n| too_many(n.wait_time_from(clock.now())))?;
        }
        self.per_account
            .check_key(&account.to_lowercase())
            .map_err(|n| too_many(n.wait_time_from(clock.now())))?;
        if self.per_account.len() + self.per_address.len() > MAX_KEYS {
            self.per_account.retain_recent();
            self.per_address.retain_recent();
        }
        Ok(())
    }
}

/// Every throttle of an instance, built from the settings.
pub struct Throttles {
    /// Login attempts, per account email.
    pub login: Throttle,
    /// Registrations, per email asked for.
    pub registration: Throttle,
    /// Password-reset requests, per email asked for.
    pub password_reset: Throttle,
    /// Attachment uploads, per authenticated user.
    pub upload: Throttle,
}

impl Throttles {
    /// The throttles the settings describe.
    pub fn from_settings(settings: &Settings) -> Throttles {
        let auth = &settings.auth;
        let storage = &settings.storage;
        Throttles {
            login: Throttle::per_minute(
                auth.login_attempts_per_minute_per_account,
                auth.login_attempts_per_minute_per_address,
            ),
            registration: Throttle::per_hour(
                auth.registrations_per_hour_per_account,
                auth.registrations_per_hour_per_address,
            ),
            password_reset: Throttle::per_hour(
                auth.password_resets_per_hour_per_account,
                auth.password_resets_per_hour_per_address,
            ),
            upload: Throttle::per_minute(
                storage.uploads_per_minute_per_user,
                storage.uploads_per_minute_per_address,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_gets_its_quota_then_a_retry_after() {
        let throttle = Throttle::per_hour(2, 100);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        throttle.check("Lea@example.org", Some(ip)).unwrap();
        throttle.check("lea@example.org", Some(ip)).unwrap();
        match throttle.check("LEA@example.org", Some(ip)) {
            Err(Error::TooManyRequests {
                retry_after_seconds,
            }) => assert!((1..=1800).contains(&retry_after_seconds)),
            other => panic!("expected 429, got {other:?}"),
        }
        throttle.check("marc@example.org", Some(ip)).unwrap();
    }

    #[test]
    fn an_address_gets_its_quota_whatever_the_accounts() {
        let throttle = Throttle::per_minute(100, 3);
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        for i in 0..3 {
            throttle
                .check(&format!("a{i}@example.org"), Some(ip))
                .unwrap();
        }
        assert!(throttle.check("a9@example.org", Some(ip)).is_err());
        throttle
            .check("a9@example.org", Some("2001:db8::2".parse().unwrap()))
            .unwrap();
    }

    #[test]
    fn zero_still_allows_one() {
        let throttle = Throttle::per_minute(0, 0);
        throttle.check("a", None).unwrap();
        assert!(throttle.check("a", None).is_err());
    }
}
