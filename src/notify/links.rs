//! One-time links in stored emails. An email that carries a secret (address verification, password reset,
//! invitation) holds it in clear only until it is sent or fails for good; then each secret is replaced by
//! a marker naming its SHA-256 (what the database stores of it anyway), so that anyone reading the database
//! or a backup cannot use the link. When staff retry a failed email, the marker lets the link be renewed:
//! the same token row gets a fresh secret and expiry, written into the email at the marker's place.

use crate::auth::token;

/// Start of a marker; the SHA-256 (hex) of the secret it replaced follows, then [`MARKER_END`].
const MARKER_START: &str = "[one-time-link-removed:";
const MARKER_END: &str = "]";
/// Length of a secret after its prefix (32 bytes in URL-safe base64, unpadded).
const SECRET_LEN: usize = 43;

fn is_secret_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// `text` with every secret replaced by its marker; `None` when it holds none.
pub fn redact(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find(token::PREFIX) {
        let after = &rest[at + token::PREFIX.len()..];
        let len = after.find(|c| !is_secret_char(c)).unwrap_or(after.len());
        let end = at + token::PREFIX.len() + len;
        out.push_str(&rest[..at]);
        if len >= SECRET_LEN {
            out.push_str(MARKER_START);
            out.push_str(&token::hash(&rest[at..end]));
            out.push_str(MARKER_END);
            changed = true;
        } else {
            out.push_str(&rest[at..end]);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// The SHA-256 of each secret `text` had before [`redact`], in order, without repeats.
pub fn removed(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(MARKER_START) {
        rest = &rest[at + MARKER_START.len()..];
        let Some(end) = rest.find(MARKER_END) else {
            break;
        };
        let hash = &rest[..end];
        if hash.len() == 64
            && hash.chars().all(|c| c.is_ascii_hexdigit())
            && !found.iter().any(|h| h == hash)
        {
            found.push(hash.to_owned());
        }
        rest = &rest[end..];
    }
    found
}

/// `text` with the marker of the secret whose SHA-256 is `hash` replaced by `secret`.
pub fn restore(text: &str, hash: &str, secret: &str) -> String {
    text.replace(&format!("{MARKER_START}{hash}{MARKER_END}"), secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_by_their_hash_and_can_be_put_back() {
        let secret = token::generate();
        let text =
            format!("Cliquez : https://x.example/verify-email?token={secret}\nCode : {secret}.");
        let redacted = redact(&text).unwrap();
        assert!(!redacted.contains(&secret), "{redacted}");
        assert!(!redacted.contains(token::PREFIX));
        let hashes = removed(&redacted);
        assert_eq!(hashes, vec![token::hash(&secret)]);
        let fresh = token::generate();
        assert_eq!(
            restore(&redacted, &hashes[0], &fresh),
            text.replace(&secret, &fresh)
        );
    }

    #[test]
    fn text_without_a_secret_is_left_alone() {
        assert_eq!(redact("Bonjour, rien ici (cordee_court)."), None);
        assert_eq!(redact(""), None);
        assert!(removed("[one-time-link-removed:nope]").is_empty());
    }
}
