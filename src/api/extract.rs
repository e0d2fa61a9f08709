//! Extractors: the authenticated caller, the client address, pagination; reading a whole request body.

use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::permissions::Principal;
use crate::auth::token;
use crate::error::{Error, FieldError};
use crate::state::AppState;
use crate::store;

/// The caller of a request that requires authentication (401 without a valid bearer token) and, unless
/// `auth.require_verified_email` is off, a verified email address (403 `email_not_verified`).
pub struct Caller(pub Principal);

/// The caller of a request that an account may make before verifying its address: reading or
/// deleting itself, logging out, asking for the verification email again (401 without a valid token).
pub struct SignedIn(pub Principal);

impl FromRequest for Caller {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let signed_in = authenticate(req);
        let required = req
            .app_data::<web::Data<AppState>>()
            .is_none_or(|state| state.settings.auth.require_verified_email);
        Box::pin(async move {
            let principal = signed_in.await?;
            principal.require_verified_email(required)?;
            Ok(Caller(principal))
        })
    }
}

/// The caller of an administrators' route: a verified account with the admin role and, for a personal
/// token, the `admin` scope (401 without a valid token, 403 otherwise).
pub struct Admin(pub Principal);

impl FromRequest for Admin {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let Caller(principal) = caller.await?;
            principal.require_admin()?;
            Ok(Admin(principal))
        })
    }
}

impl FromRequest for SignedIn {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let signed_in = authenticate(req);
        Box::pin(async move { Ok(SignedIn(signed_in.await?)) })
    }
}

/// The principal of the request's bearer token. Reads may be served from the token cache; a write
/// (any method but GET and HEAD) always checks the token in the database, so that a token revoked or
/// an account deleted through another instance cannot write while its cache entry lives.
fn authenticate(req: &HttpRequest) -> LocalBoxFuture<'static, Result<Principal, Error>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let presented = bearer_token(req);
    let may_use_cache = matches!(*req.method(), Method::GET | Method::HEAD);
    Box::pin(async move {
        let state =
            state.ok_or_else(|| Error::Internal(anyhow::anyhow!("application state missing")))?;
        principal_of(&state, &presented?, may_use_cache).await
    })
}

/// The principal of a presented session or personal token (401 when it is unknown, expired or revoked),
/// from the token cache when `may_use_cache` (reads) and the cache remembers it, else from the database.
/// The bearer header and the pages' session cookie both end here.
pub async fn principal_of(
    state: &AppState,
    presented: &str,
    may_use_cache: bool,
) -> Result<Principal, Error> {
    let now = state.clock.now();
    let hash = token::hash(presented);
    if may_use_cache {
        if let Some(principal) = state.token_cache.get(&hash, now) {
            return Ok(principal);
        }
    }
    let key = hash.clone();
    let found = state
        .db
        .read(move |conn| store::tokens::authenticate(conn, &key, now))
        .await?;
    let Some((principal, expires_at)) = found else {
        // Revoked or deleted: whatever this instance remembered of the token goes too.
        state.token_cache.forget(&hash);
        return Err(Error::Unauthorized(
            "the token is invalid, expired or revoked".into(),
        ));
    };
    state.token_cache.put(hash, principal.clone(), expires_at);
    Ok(principal)
}

fn bearer_token(req: &HttpRequest) -> Result<String, Error> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Error::Unauthorized("send Authorization: Bearer <token>".into()))?;
    let value = value
        .to_str()
        .map_err(|_| Error::Unauthorized("the Authorization header is not valid text".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| Error::Unauthorized("send Authorization: Bearer <token>".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Error::Unauthorized(
            "send Authorization: Bearer <token>".into(),
        ));
    }
    Ok(token.trim().to_owned())
}

/// The client's address, as seen by this server (the peer of the TCP connection).
pub fn client_address(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let trusted: &[IpAddr] = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map_or(&[], |state| &state.settings.server.trusted_proxies);
    let forwarded = req
        .headers()
        .get_all(actix_web::http::header::X_FORWARDED_FOR)
        .filter_map(|value| value.to_str().ok());
    Some(forwarded_client(peer, trusted, forwarded))
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy; then, walking X-Forwarded-For from
/// its end (the hop nearest to us), the first address that is not a trusted proxy. A malformed entry stops the
/// walk at the last address known good, so that a client cannot pick its own address by writing the header.
fn forwarded_client<'a>(
    peer: IpAddr,
    trusted: &[IpAddr],
    forwarded: impl Iterator<Item = &'a str>,
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(address) => {
                client = address;
                if !trusted.contains(&address) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// What a request says of its body: its media type (lower case, without parameters) and its declared length.
pub fn body_headers(req: &HttpRequest) -> (Option<String>, Option<usize>) {
    let media_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    (media_type, declared_length)
}

/// How long a request body may pause between two pieces (`server.client_body_timeout_ms`).
pub fn body_timeout(req: &HttpRequest) -> std::time::Duration {
    req.app_data::<web::Data<AppState>>()
        .map_or(std::time::Duration::from_secs(10), |state| {
            std::time::Duration::from_millis(state.settings.server.client_body_timeout_ms)
        })
}

/// Reads a whole request body: 413 when it declares or reaches more than `limit` bytes, 408 when it pauses
/// longer than `idle`.
pub async fn read_body(
    payload: &mut Payload,
    declared_length: Option<usize>,
    limit: usize,
    idle: std::time::Duration,
) -> Result<web::BytesMut, Error> {
    let too_large = || Error::PayloadTooLarge(format!("the body is over the {limit}-byte limit"));
    if declared_length.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = crate::storage::next_chunk(payload, idle).await? {
        let chunk =
            chunk.map_err(|e| Error::BadRequest(format!("could not read the body: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `?limit=&cursor=` of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request: items after the key `after` in the list's order, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct Page<K = Uuid> {
    pub limit: i64,
    pub after: Option<K>,
}

impl<K> Page<K> {
    /// How many rows to fetch: one more than the page, to know whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

/// What a list is ordered by, carried in its opaque cursors: an id, or a name where the items have no id
/// (the call templates). One cursor format for every list: the key's bytes in URL-safe base64.
pub trait CursorKey: Sized {
    /// The key as the bytes a cursor carries.
    fn to_bytes(&self) -> Vec<u8>;
    /// The key back from a cursor's bytes; None when they cannot be one.
    fn from_bytes(bytes: Vec<u8>) -> Option<Self>;
}

impl CursorKey for Uuid {
    fn to_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }

    fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        Uuid::from_slice(&bytes).ok()
    }
}

impl CursorKey for String {
    fn to_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }

    fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        String::from_utf8(bytes).ok()
    }
}

impl PageQuery {
    /// Checks the limit and decodes the cursor (422 naming the field otherwise).
    pub fn page<K: CursorKey>(&self) -> Result<Page<K>, Error> {
        let mut errors = Vec::new();
        let limit = parse_limit(self.limit.as_deref(), &mut errors);
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(cursor) => match decode_cursor(cursor) {
                Some(key) => Some(key),
                None => {
                    errors.push(FieldError::new(
                        "cursor",
                        "invalid_cursor",
                        "use a next_cursor from a previous page",
                    ));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(Page { limit, after })
        } else {
            Err(Error::Validation(errors))
        }
    }
}

/// A page size from `?limit=`: 50 when absent, 1 to 200, else a `limit` error is noted.
pub fn parse_limit(raw: Option<&str>, errors: &mut Vec<FieldError>) -> i64 {
    match raw.map(str::parse::<i64>) {
        None => 50,
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        Some(_) => {
            errors.push(FieldError::new(
                "limit",
                "out_of_range",
                "limit is a whole number from 1 to 200",
            ));
            50
        }
    }
}

fn decode_cursor<K: CursorKey>(cursor: &str) -> Option<K> {
    K::from_bytes(URL_SAFE_NO_PAD.decode(cursor).ok()?)
}

/// The opaque cursor that continues after `key`.
pub fn encode_cursor(key: &impl CursorKey) -> String {
    URL_SAFE_NO_PAD.encode(key.to_bytes())
}

/// The `?status=` filter of a list: absent is every status; a name the life cycle does not know is a 422
/// on `status` listing the `expected` names.
pub fn status_filter<S: std::str::FromStr>(
    raw: Option<&str>,
    expected: &'static str,
) -> Result<Option<S>, Error> {
    raw.map(str::parse::<S>)
        .transpose()
        .map_err(|_| Error::field("status", "invalid_status", expected))
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Paginated<T> {
    /// A page from up to `limit + 1` rows fetched in the order of `key`: the extra row only says that more
    /// follow.
    pub fn from_rows<K: CursorKey>(
        mut rows: Vec<T>,
        page: Page<K>,
        key: impl Fn(&T) -> K,
    ) -> Paginated<T> {
        let more = rows.len() as i64 > page.limit;
        rows.truncate(page.limit.max(0) as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(&key(r)))
        } else {
            None
        };
        Paginated {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_is_read_from_x_forwarded_for_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = [ip("10.0.0.2")];
        // Not a proxy: the header is whatever the client wrote, and ignored.
        assert_eq!(
            forwarded_client(ip("198.51.100.9"), &proxy, ["203.0.113.7"].into_iter()),
            ip("198.51.100.9")
        );
        // Behind the proxy: the last hop it added.
        assert_eq!(
            forwarded_client(ip("10.0.0.2"), &proxy, ["203.0.113.7"].into_iter()),
            ip("203.0.113.7")
        );
        // A client prepending a forged address gets its real one (the proxy appends the real one last).
        assert_eq!(
            forwarded_client(
                ip("10.0.0.2"),
                &proxy,
                ["192.0.2.1, 203.0.113.7"].into_iter()
            ),
            ip("203.0.113.7")
        );
        // Several headers, two proxies in a row.
        assert_eq!(
            forwarded_client(
                ip("10.0.0.2"),
                &proxy,
                ["203.0.113.7", "10.0.0.2"].into_iter()
            ),
            ip("203.0.113.7")
        );
        // Garbage after the real address: the last good one.
        assert_eq!(
            forwarded_client(
                ip("10.0.0.2"),
                &proxy,
                ["203.0.113.7, nonsense"].into_iter()
            ),
            ip("10.0.0.2")
        );
        // No header: the proxy itself.
        assert_eq!(
            forwarded_client(ip("10.0.0.2"), &proxy, std::iter::empty()),
            ip("10.0.0.2")
        );
    }
}
