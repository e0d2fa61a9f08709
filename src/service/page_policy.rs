//! The content security policy of the pages Cordée renders itself (printable pages, the pages behind the
//! emailed links): nothing loads and nothing runs; only the template's own `<style>` block applies,
//! allowed by its hash, so that even a value escaping failed to neutralise could not act.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The CSP source allowing the `<style>` block of `template` (its SHA-256, base64): `'sha256-…'`.
pub fn style_source(template: &str) -> String {
    let style = template
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map_or("", |(style, _)| style);
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(style.as_bytes()))
    )
}

/// The policy of a printable page rendered from `template`: no form, no frame, no script, no image.
pub fn printable(template: &str) -> String {
    format!(
        "default-src 'none'; style-src {}; img-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'none'",
        style_source(template)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_style_block_is_allowed_and_it_is_named_by_its_hash() {
        let page = "<html><style>p{color:red}</style><p>x</p></html>";
        let policy = printable(page);
        let expected = STANDARD.encode(Sha256::digest(b"p{color:red}"));
        assert!(
            policy.contains(&format!("style-src 'sha256-{expected}'")),
            "{policy}"
        );
        assert!(policy.starts_with("default-src 'none'"));
        assert_ne!(style_source(page), style_source("<style>p{}</style>"));
    }
}
