//! A short-lived cache of authenticated tokens, so that most reads skip the token lookup. An entry lives a
//! few seconds (`auth.token_cache_seconds`); revoking a token, resetting a password, changing a role or deleting
//! an account forgets the user's entries on this instance at once, and on the other instances within that time
//! for reads. Writes never trust it: the extractor checks their token in the database every time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::permissions::Principal;

/// Beyond this many entries the cache starts again empty (a flood of distinct tokens cannot grow it).
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    principal: Principal,
    expires_at: Option<DateTime<Utc>>,
    fresh_until: Instant,
}

/// Authenticated tokens by hash.
pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl TokenCache {
    /// A cache keeping entries for `ttl`; a zero `ttl` turns it off.
    pub fn new(ttl: Duration) -> TokenCache {
        TokenCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The principal of a token hash seen recently and not expired at `now`.
    pub fn get(&self, hash: &str, now: DateTime<Utc>) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(hash)?;
        let live = entry.fresh_until > Instant::now() && entry.expires_at.is_none_or(|at| at > now);
        live.then(|| entry.principal.clone())
    }

    /// Remembers an authenticated token.
    pub fn put(&self, hash: String, principal: Principal, expires_at: Option<DateTime<Utc>>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            hash,
            Entry {
                principal,
                expires_at,
                fresh_until: Instant::now() + self.ttl,
            },
        );
    }

    /// Forgets one token (found revoked in the database).
    pub fn forget(&self, hash: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(hash);
    }

    /// Forgets every token of a user (after a revocation, a password reset, a role change, a deletion).
    pub fn forget_user(&self, user_id: Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, e| e.principal.user_id != user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::permissions::{Role, TokenKind};

    fn principal(user_id: Uuid) -> Principal {
        Principal {
            user_id,
            role: Role::User,
            token_id: Uuid::now_v7(),
            token_kind: TokenKind::Session,
            scopes: Vec::new(),
            email_verified: true,
        }
    }

    #[test]
    fn entries_are_served_until_forgotten_or_expired() {
        let cache = TokenCache::new(Duration::from_secs(60));
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let now = Utc::now();
        cache.put("a".into(), principal(alice), None);
        cache.put(
            "b".into(),
            principal(bob),
            Some(now + chrono::Duration::hours(1)),
        );
        assert_eq!(cache.get("a", now).map(|p| p.user_id), Some(alice));
        assert!(
            cache.get("b", now + chrono::Duration::hours(2)).is_none(),
            "expired token"
        );
        cache.forget_user(alice);
        assert!(cache.get("a", now).is_none());
        assert!(cache.get("b", now).is_some());
        assert!(cache.get("c", now).is_none());
    }

    #[test]
    fn a_zero_lifetime_turns_the_cache_off() {
        let cache = TokenCache::new(Duration::ZERO);
        cache.put("a".into(), principal(Uuid::now_v7()), None);
        assert!(cache.get("a", Utc::now()).is_none());
    }
}
