//! Who is visiting a page and in which language, the session cookie, and the CSRF check of every form.
//!
//! The session cookie holds a session token issued exactly as `POST /api/v1/auth/login` issues one (same
//! table, same lifetime, revoked by logout and by a password reset); only the pages read it, the API
//! knows bearer tokens only. Every form carries a CSRF token equal to a cookie of its own (double submit;
//! `__Host-` names over https, so that no other host can set them), and a POST whose `Origin` (or else
//! `Referer`) names another site is refused.

use std::collections::HashMap;

use actix_web::body::BoxBody;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use minijinja::context;
use sha2::{Digest, Sha256};

use super::render::{html, render, with_page_headers, FALLBACK};
use crate::api::extract::principal_of;
use crate::auth::permissions::Principal;
use crate::auth::token;
use crate::error::{Error, FieldError};
use crate::state::AppState;
use crate::store::users;

/// The hidden field every form carries its CSRF token in.
pub const CSRF_FIELD: &str = "csrf";

/// The signed-in person of a page.
pub struct Visitor {
    pub principal: Principal,
    pub display_name: String,
    pub email: String,
}

/// One visit to a page: the application, the language, the signed-in person if any, and the CSRF token.
pub struct Visit {
    pub state: web::Data<AppState>,
    /// `fr` or `en`: `?lang=`, else the signed-in person's locale, else `Accept-Language`, else French.
    pub lang: &'static str,
    pub visitor: Option<Visitor>,
    /// Whether the request carried a session cookie that no longer works (it is then removed).
    stale_session: bool,
    csrf: String,
    csrf_is_new: bool,
    /// Whether the request's `Origin` (or `Referer`) is this site, or absent.
    same_origin: bool,
    secure: bool,
    /// This page in the other language.
    other_language_href: String,
}

/// A cookie's name, with the `__Host-` prefix over https (set by this host only, for the whole site).
fn cookie_name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// The session cookie's name.
pub fn session_cookie_name(secure: bool) -> String {
    cookie_name("cordee_session", secure)
}

/// The CSRF cookie's name.
pub fn csrf_cookie_name(secure: bool) -> String {
    cookie_name("cordee_csrf", secure)
}

/// The first of `fr`/`en` in an `Accept-Language` header.
fn accepted_language(header: Option<&str>) -> Option<&'static str> {
    header?
        .split(',')
        .map(|part| {
            part.trim()
                .get(..2)
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .find(|code| code == "fr" || code == "en")
        .map(|code| if code == "en" { "en" } else { "fr" })
}

/// The language a query string asks for (`lang=fr|en`).
fn asked_language(query: &str) -> Option<&'static str> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "lang")
        .and_then(|(_, value)| match value.as_ref() {
            "en" => Some("en"),
            "fr" => Some("fr"),
            _ => None,
        })
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin_of(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

/// Whether the request comes from this site: its `Origin`, else its `Referer`, names this server (as the
/// request reached it, or as `app.public_url` says); true when the browser sent neither.
fn from_this_site(req: &HttpRequest, public_url: &str) -> bool {
    let info = req.connection_info();
    let own = [
        format!("{}://{}", info.scheme(), info.host()).to_ascii_lowercase(),
        origin_of(public_url).unwrap_or_default(),
    ];
    let named = |value: &header::HeaderValue| {
        value
            .to_str()
            .ok()
            .and_then(origin_of)
            .is_some_and(|origin| own.contains(&origin))
    };
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        return named(origin);
    }
    req.headers().get(header::REFERER).is_none_or(named)
}

impl FromRequest for Visit {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let Some(state) = state else {
            return Box::pin(async {
                Err(Error::Internal(anyhow::anyhow!(
                    "application state missing"
                )))
            });
        };
        let secure = state.settings.app.public_url.starts_with("https://");
        let session = req
            .cookie(&session_cookie_name(secure))
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty());
        let csrf_cookie = req
            .cookie(&csrf_cookie_name(secure))
            .map(|c| c.value().to_owned())
            .filter(|v| v.len() >= 32);
        let asked = asked_language(req.query_string());
        let accepted = accepted_language(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let same_origin = from_this_site(req, &state.settings.app.public_url);
        let may_use_cache = matches!(*req.method(), Method::GET | Method::HEAD);
        let path = req.path().to_owned();
        let kept: Vec<(String, String)> =
            url::form_urlencoded::parse(req.query_string().as_bytes())
                .filter(|(key, _)| key != "lang")
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect();
        Box::pin(async move {
            let mut stale_session = false;
            let mut visitor = None;
            let mut locale = None;
            if let Some(secret) = session {
                match principal_of(&state, &secret, may_use_cache).await {
                    Ok(principal) => {
                        let user_id = principal.user_id;
                        let user = state
                            .db
                            .read(move |conn| Ok(users::find(conn, user_id)?))
                            .await?;
                        if let Some(user) = user {
                            locale = Some(if user.locale == "en" { "en" } else { "fr" });
                            visitor = Some(Visitor {
                                principal,
                                display_name: user.display_name,
                                email: user.email,
                            });
                        } else {
                            stale_session = true;
                        }
                    }
                    Err(Error::Unauthorized(_)) => stale_session = true,
                    Err(other) => return Err(other),
                }
            }
            let (csrf, csrf_is_new) = match csrf_cookie {
                Some(value) => (value, false),
                None => (token::generate(), true),
            };
            let lang = asked.or(locale).or(accepted).unwrap_or("fr");
            let other_language_href = format!(
                "{path}?{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(kept)
                    .append_pair("lang", if lang == "en" { "fr" } else { "en" })
                    .finish()
            );
            Ok(Visit {
                lang,
                other_language_href,
                state,
                visitor,
                stale_session,
                csrf,
                csrf_is_new,
                same_origin,
                secure,
            })
        })
    }
}

/// A form's fields (`application/x-www-form-urlencoded`); a field sent twice keeps its first value.
pub struct Form(HashMap<String, String>);

impl Form {
    /// Reads a form body.
    pub fn parse(body: &[u8]) -> Form {
        let mut fields = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            fields
                .entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        Form(fields)
    }

    /// A field, trimmed of nothing; `None` when absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A field as an owned string, `None` when absent or blank.
    pub fn filled(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
    }
}

/// `fr` or `en` wording.
pub fn t(lang: &str, fr: &'static str, en: &'static str) -> &'static str {
    if lang == "en" {
        en
    } else {
        fr
    }
}

/// A local path to go back to after logging in: one of this site's paths, never another site's.
pub fn local_path(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    let local = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && !raw.chars().any(|c| c.is_control() || c == '\\');
    local.then(|| raw.to_owned())
}

/// A field error's message in the page's language (the API's English message when no wording is known).
fn field_message(error: &FieldError, lang: &str) -> String {
    if lang != "en" {
        let french = match error.code.as_str() {
            "required" => Some("Ce champ est obligatoire."),
            "too_short" => Some("Le mot de passe doit compter au moins 12 caractères."),
            "too_long" => Some("Le mot de passe compte au plus 128 caractères."),
            "same_as_email" => Some("Le mot de passe ne peut pas être votre adresse e-mail."),
            "mismatch" => Some("Les deux mots de passe ne sont pas identiques."),
            "invalid_email" => Some("Cette adresse e-mail n'est pas valide."),
            _ => None,
        };
        if let Some(french) = french {
            return french.to_owned();
        }
    }
    match error.code.as_str() {
        "mismatch" => "The two passwords differ.".to_owned(),
        _ => {
            let mut message = error.message.clone();
            if let Some(first) = message.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            format!("{message}.")
        }
    }
}

impl Visit {
    /// The signed-in person's principal, if any.
    pub fn principal(&self) -> Option<&Principal> {
        self.visitor.as_ref().map(|v| &v.principal)
    }

    /// Whether the session cookie should be set over https only.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// 403 page unless a POST comes from this site with the form's CSRF token.
    pub fn check_form(&self, form: &Form) -> Result<(), Box<HttpResponse<BoxBody>>> {
        let sent = form.get(CSRF_FIELD).unwrap_or_default();
        let matches = !self.csrf_is_new
            && Sha256::digest(sent.as_bytes()) == Sha256::digest(self.csrf.as_bytes());
        if self.same_origin && matches {
            return Ok(());
        }
        Err(Box::new(self.message(
            StatusCode::FORBIDDEN,
            t(self.lang, "Formulaire refusé", "Form refused"),
            &[t(
                self.lang,
                "Ce formulaire a expiré ou n'a pas été envoyé depuis ce site. Revenez en arrière, rechargez la page et recommencez.",
                "This form expired or was not sent from this site. Go back, reload the page and try again.",
            )],
            None,
        )))
    }

    /// The page `template` with `status`, given `page` (its own variables) and what every page shows.
    pub fn page(
        &self,
        status: StatusCode,
        template: &str,
        page: minijinja::Value,
    ) -> HttpResponse<BoxBody> {
        let organization = &self.state.settings.organization;
        let name = organization.name.trim();
        let context = context! {
            lang => self.lang,
            en => self.lang == "en",
            association => context! {
                name => if name.is_empty() { "Cordée" } else { name },
                contact_email => organization.contact_email.trim(),
                website => organization.website.trim(),
            },
            csrf => self.csrf.as_str(),
            csrf_field => CSRF_FIELD,
            visitor => self.visitor.as_ref().map(|v| v.display_name.as_str()),
            other_language_href => self.other_language_href.as_str(),
            ..page
        };
        let response = match render(template, &context) {
            Some(body) => html(status, body),
            None => html(StatusCode::INTERNAL_SERVER_ERROR, FALLBACK.to_owned()),
        };
        self.with_cookies(response)
    }

    /// A page of a title, paragraphs and an optional link `(href, label)`.
    pub fn message(
        &self,
        status: StatusCode,
        title: &str,
        paragraphs: &[&str],
        link: Option<(&str, &str)>,
    ) -> HttpResponse<BoxBody> {
        self.page(
            status,
            "message.html",
            context! {
                title => title,
                paragraphs => paragraphs,
                link => link.map(|(href, label)| context! { href => href, label => label }),
            },
        )
    }

    /// The form errors of a 422, as `{field: message}` in the page's language.
    pub fn field_errors(&self, errors: &[FieldError]) -> HashMap<String, String> {
        let mut by_field = HashMap::new();
        for error in errors {
            by_field
                .entry(error.field.clone())
                .or_insert_with(|| field_message(error, self.lang));
        }
        by_field
    }

    /// The page of an error: a clear sentence and a way forward, never a trace.
    pub fn error(&self, error: Error) -> HttpResponse<BoxBody> {
        let lang = self.lang;
        let (status, title, text, link): (_, _, _, Option<(&str, &str)>) = match &error {
            Error::NotFound => (
                StatusCode::NOT_FOUND,
                t(lang, "Page introuvable", "Page not found"),
                t(lang, "Cette page n'existe pas, ou vous n'y avez pas accès avec ce compte.", "This page does not exist, or this account may not see it."),
                Some(("/login", t(lang, "Se connecter avec un autre compte", "Log in with another account"))),
            ),
            Error::Validation(errors) if errors.iter().any(|e| e.code == "invalid_token") => (
                StatusCode::GONE,
                t(lang, "Ce lien ne fonctionne plus", "This link no longer works"),
                t(lang, "Ce lien est inconnu, a déjà servi ou a expiré. Demandez un nouveau lien : pour un mot de passe, depuis la page « mot de passe oublié » ; pour une invitation, auprès de la personne qui vous a invité·e ; pour confirmer votre adresse, connectez-vous et demandez un nouvel e-mail.", "This link is unknown, was used already or has expired. Ask for a new link: for a password, from the \"forgotten password\" page; for an invitation, from whoever invited you; to confirm your address, log in and ask for a new email."),
                Some(("/password-reset", t(lang, "Demander un nouveau lien de mot de passe", "Ask for a new password link"))),
            ),
            Error::Refused { code: "email_not_verified", .. } => (
                StatusCode::FORBIDDEN,
                t(lang, "Adresse e-mail à confirmer", "Email address to confirm"),
                t(lang, "Confirmez d'abord votre adresse e-mail avec le lien que nous vous avons envoyé.", "Confirm your email address first, with the link we sent you."),
                None,
            ),
            Error::Refused { status, .. } => (
                *status,
                t(lang, "Action impossible", "This cannot be done"),
                t(lang, "Cette action n'est pas possible dans l'état actuel. Rechargez la page pour voir où en sont les choses.", "This cannot be done as things stand. Reload the page to see where things are."),
                None,
            ),
            Error::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                t(lang, "Trop de tentatives", "Too many attempts"),
                t(lang, "Trop de tentatives en peu de temps : patientez quelques minutes avant de réessayer.", "Too many attempts in a short time: wait a few minutes before trying again."),
                None,
            ),
            Error::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                t(lang, "Connexion nécessaire", "Please log in"),
                t(lang, "Connectez-vous pour voir cette page.", "Log in to see this page."),
                Some(("/login", t(lang, "Se connecter", "Log in"))),
            ),
            Error::Validation(_) | Error::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                t(lang, "Demande incomplète", "Incomplete request"),
                t(lang, "Il manque quelque chose à cette demande. Ouvrez de nouveau le lien reçu par e-mail, en entier.", "Something is missing from this request. Open the link you received by email again, in full."),
                None,
            ),
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                t(lang, "Une erreur est survenue", "Something went wrong"),
                t(lang, "Réessayez dans un instant. Si cela se reproduit, écrivez-nous.", "Please try again in a moment. If it happens again, write to us."),
                None,
            ),
        };
        let retry_after = match &error {
            Error::TooManyRequests {
                retry_after_seconds,
            } => Some(*retry_after_seconds),
            _ => None,
        };
        let page = self.message(status, title, &[text], link);
        // The error stays attached to the answer, so that the request's log line names it (500s in full).
        let mut response = HttpResponse::from_error(error).set_body(page.into_body());
        *response.status_mut() = status;
        if let Some(seconds) = retry_after {
            if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        self.with_cookies(with_page_headers(response))
    }

    /// A redirection (303) to a local `path`.
    pub fn redirect(&self, path: &str) -> HttpResponse<BoxBody> {
        let response = HttpResponse::SeeOther()
            .insert_header((header::LOCATION, path))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish();
        self.with_cookies(response)
    }

    /// The response with the cookies this visit sets: the CSRF cookie when it is new; the removal of a
    /// session cookie that no longer works.
    fn with_cookies(&self, mut response: HttpResponse<BoxBody>) -> HttpResponse<BoxBody> {
        if self.csrf_is_new {
            let cookie = Cookie::build(csrf_cookie_name(self.secure), self.csrf.clone())
                .path("/")
                .http_only(true)
                .secure(self.secure)
                .same_site(SameSite::Strict)
                .finish();
            let _ = response.add_cookie(&cookie);
        }
        if self.stale_session {
            let _ = response.add_removal_cookie(&self.session_cookie(String::new(), 0));
        }
        response
    }

    /// The session cookie holding `secret` for `seconds`: HttpOnly, SameSite=Lax (an emailed link opened
    /// from a webmail must arrive signed in), Secure over https.
    pub fn session_cookie(&self, secret: String, seconds: i64) -> Cookie<'static> {
        Cookie::build(session_cookie_name(self.secure), secret)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::seconds(seconds))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(
            local_path(Some("/applications/1")),
            Some("/applications/1".into())
        );
        assert_eq!(
            local_path(Some("/invitations/accept?token=a")),
            Some("/invitations/accept?token=a".into())
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/a\nb",
        ] {
            assert_eq!(local_path(Some(bad)), None, "{bad}");
        }
    }

    #[test]
    fn the_language_is_asked_then_accepted_then_french() {
        assert_eq!(asked_language("token=x&lang=en"), Some("en"));
        assert_eq!(asked_language("lang=de"), None);
        assert_eq!(
            accepted_language(Some("de-DE, en;q=0.8, fr;q=0.5")),
            Some("en")
        );
        assert_eq!(accepted_language(Some("de")), None);
    }
}
