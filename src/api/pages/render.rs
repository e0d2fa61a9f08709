//! The pages' templates (`templates/pages/`, embedded), their content security policy, and the answer every
//! page leaves with: HTML, never cached, never framed, no script, only the layout's own style block.

use std::sync::LazyLock;

use actix_web::body::BoxBody;
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use minijinja::Environment;

/// Declares the page templates, embedded at compile time.
macro_rules! page_templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../templates/pages/", $name)))),*]
    };
}

/// Every page template, as (name, source).
const TEMPLATES: &[(&str, &str)] = page_templates![
    "base.html",
    "message.html",
    "login.html",
    "verify_email.html",
    "password_reset.html",
    "password_reset_confirm.html",
    "invitation.html",
    "application.html",
    "assignments.html",
];

/// The templates, compiled once; `.html` names escape every value.
static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "a page template does not compile");
        }
    }
    env
});

/// The content security policy of every page: nothing loads and nothing runs; only the layout's style block
/// (allowed by its hash) applies; forms post to this server only; no page may be framed.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    let base = TEMPLATES
        .iter()
        .find(|(name, _)| *name == "base.html")
        .map_or("", |(_, source)| source);
    format!(
        "default-src 'none'; style-src {}; img-src 'none'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
        crate::service::page_policy::style_source(base)
    )
});

/// Renders the page `name` with `context`; `None` (logged) when a template fails, which the caller answers
/// with the plain error page.
pub fn render(name: &str, context: &minijinja::Value) -> Option<String> {
    match ENVIRONMENT
        .get_template(name)
        .and_then(|t| t.render(context))
    {
        Ok(html) => Some(html),
        Err(e) => {
            tracing::error!(template = name, error = %format!("{e:#}"), "a page failed to render");
            None
        }
    }
}

/// The last resort when a page cannot render: a fixed page, in both languages.
pub const FALLBACK: &str = "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Erreur / Error</title>\
</head><body><h1>Une erreur est survenue / Something went wrong</h1><p>Réessayez dans un instant. / Please try again \
in a moment.</p></body></html>";

/// Gives `response` the pages' headers: HTML, the pages' policy, a referrer only towards this site (so that
/// forms carry their `Origin`), never stored by caches (pages carry one-time links and personal data).
pub fn with_page_headers(mut response: HttpResponse<BoxBody>) -> HttpResponse<BoxBody> {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(value) = header::HeaderValue::from_str(&CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// An HTML answer with `status` and `body`.
pub fn html(status: StatusCode, body: String) -> HttpResponse<BoxBody> {
    with_page_headers(HttpResponse::build(status).body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_the_policy_has_the_style_s_hash() {
        for (name, _) in TEMPLATES {
            assert!(ENVIRONMENT.get_template(name).is_ok(), "{name}");
        }
        assert!(CONTENT_SECURITY_POLICY.contains("style-src 'sha256-"));
        assert!(!CONTENT_SECURITY_POLICY.contains("script-src"));
    }
}
