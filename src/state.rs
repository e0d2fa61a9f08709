//! What every request handler shares.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::auth::password::PasswordHasherPool;
use crate::auth::throttle::Throttles;
use crate::auth::token_cache::TokenCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::notify::templates::Templates;
use crate::storage::Storage;

/// The application's shared state, built once at start-up.
pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    /// Where attachment files are kept (a folder or a bucket).
    pub storage: Storage,
    pub clock: Clock,
    pub hasher: PasswordHasherPool,
    /// Rate limits of login, registration, password reset and uploads.
    pub throttles: Throttles,
    /// Recently authenticated tokens; forget a user's entries whenever their tokens or role change.
    pub token_cache: TokenCache,
    pub templates: Arc<Templates>,
    /// Woken after a transaction queues email, so that the delivery worker sends it at once.
    pub outbox_wakeup: Arc<Notify>,
}

impl AppState {
    /// An absolute link to `path`, as emails write it: under `app.front_end_url` when one is set (the
    /// operator's own front end serves the same paths), else under the public URL. API routes
    /// (`/api/…`) always stay under the public URL.
    pub fn link(&self, path: &str) -> String {
        let base = if path.starts_with("/api/") {
            self.settings.app.public_url.trim_end_matches('/')
        } else {
            self.settings.app.links_base()
        };
        format!("{base}{path}")
    }

    /// A link carrying a one-time token as `?token=`.
    pub fn link_with_token(&self, path: &str, token: &str) -> String {
        format!("{}?token={}", self.link(path), token)
    }
}
