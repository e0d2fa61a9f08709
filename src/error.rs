//! One error type for the whole API, rendered as RFC 9457 problem+json. Client errors say what went wrong;
//! server errors say nothing to the client and are logged in full.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One failing field of a 422 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field, such as `email` or `answers.siret`.
    pub field: String,
    /// Stable machine code, such as `required` or `invalid_siret`.
    pub code: String,
    /// Why, in a sentence.
    pub message: String,
}

impl FieldError {
    /// A failing field with its code and message.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }

    /// A failing field from a domain parse error.
    pub fn invalid(field: impl Into<String>, err: InvalidValue) -> Self {
        FieldError::new(field, err.code, err.message)
    }
}

/// The body of every error answer (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable machine code for a refusal a client can act on, such as `email_not_verified`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// Why a raw string could not be turned into a domain value.
///
/// `code` is a stable, machine-readable snake_case identifier (for API clients
/// and translations); `message` is a short English sentence for humans.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidValue {
    /// Stable machine code, e.g. `"invalid_siret"`.
    pub code: &'static str,
    /// Short English explanation, e.g. `"a SIRET has 14 digits"`.
    pub message: String,
}

impl InvalidValue {
    /// Builds an error from its machine code and human message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("authentication required")]
    Unauthorized(String),
    #[error("not found")]
    NotFound,
    /// A refusal (403, 409…) that carries a stable `code`, so that a client can tell one from another
    /// without parsing the sentence.
    #[error("{detail}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    #[error("If-Match is required")]
    PreconditionRequired,
    #[error("the resource changed since it was read")]
    PreconditionFailed,
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// A 422 with a single failing field.
    pub fn field(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Error {
        Error::Validation(vec![FieldError::new(field, code, message)])
    }

    /// A 409 with a stable code and a sentence.
    pub fn refused(code: &'static str, detail: impl Into<String>) -> Error {
        Error::Refused {
            status: StatusCode::CONFLICT,
            code,
            detail: detail.into(),
        }
    }

    /// A 403 with a stable `code`: the caller is known but may not do this.
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Error {
        Error::Refused {
            status: StatusCode::FORBIDDEN,
            code,
            detail: detail.into(),
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Error::BadRequest(_) => ("bad-request", "Bad request"),
            Error::Validation(_) => ("validation", "Invalid request"),
            Error::Unauthorized(_) => ("unauthorized", "Authentication required"),
            Error::NotFound => ("not-found", "Not found"),
            Error::Refused { status, .. } if *status == StatusCode::FORBIDDEN => {
                ("forbidden", "Forbidden")
            }
            Error::Refused { status, .. } if *status == StatusCode::CONFLICT => {
                ("conflict", "Conflict")
            }
            Error::Refused { .. } => ("refused", "Refused"),
            Error::PreconditionRequired => ("precondition-required", "Precondition required"),
            Error::PreconditionFailed => ("precondition-failed", "Precondition failed"),
            Error::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            Error::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Error::RequestTimeout(_) => ("request-timeout", "Request timeout"),
            Error::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            Error::Unavailable(_) => ("unavailable", "Service unavailable"),
            Error::Internal(_) => ("internal", "Internal server error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Error::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("invalid fields: {}", fields.join(", "))
            }
            Error::Unauthorized(why) => why.clone(),
            Error::NotFound => "no such resource, or it is not visible to you".into(),
            Error::PreconditionRequired => "send If-Match with the ETag you last read".into(),
            Error::PreconditionFailed => {
                "the resource changed since you read it: read it again and retry".into()
            }
            Error::TooManyRequests {
                retry_after_seconds,
            } => {
                format!("too many attempts: retry in {retry_after_seconds} s")
            }
            Error::Internal(_) => "an unexpected error occurred; it has been logged".into(),
            Error::Unavailable(_) => "the service is temporarily unavailable; retry shortly".into(),
            other => other.to_string(),
        }
    }

    /// What the log says about this error, on one line: the problem's detail for a client error, the whole
    /// cause chain (`{:#}`) of a server error, which the client never sees.
    pub fn log_detail(&self) -> String {
        match self {
            Error::Internal(err) => format!("{err:#}"),
            Error::Unavailable(why) => format!("database unavailable: {why}"),
            other => other.detail(),
        }
    }

    /// The problem+json document of this error.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        Problem {
            type_: format!("https://cordee.dev/problems/{slug}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            code: match self {
                Error::Refused { code, .. } => Some((*code).to_owned()),
                _ => None,
            },
            errors: match self {
                Error::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Refused { status, .. } => *status,
            Error::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Error::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The answer; the request's root span logs it (see `telemetry::RequestSpan`).
    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Error::TooManyRequests {
            retry_after_seconds,
        } = self
        {
            response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
        }
        if let Error::Unavailable(_) = self {
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        if let Error::Unauthorized(_) = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(self.problem())
    }
}

impl From<diesel::result::Error> for Error {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match err {
            D::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => Error::Unavailable(
                format!("the database connection was lost: {}", info.message()),
            ),
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Error::refused(
                "already_exists",
                "this already exists (it was created at the same moment)",
            ),
            D::DatabaseError(_, info) if is_lost_connection(info.message()) => Error::Unavailable(
                format!("the database connection was lost: {}", info.message()),
            ),
            other => Error::Internal(anyhow::Error::new(other)),
        }
    }
}

/// PostgreSQL messages of a connection that the server ended or lost (a restart, a failover).
fn is_lost_connection(message: &str) -> bool {
    [
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "connection to server",
    ]
    .iter()
    .any(|m| message.contains(m))
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Error::Unavailable(format!("the database is unreachable: {err}"))
    }
}
