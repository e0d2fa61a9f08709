//! Gathering field errors, so that one 422 lists every wrong field of a request: the handlers' parsing and
//! the use cases' own checks (scores out of range, say) add to the same list.

use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, FieldError};

/// Gathers field errors so that one 422 lists them all.
#[derive(Debug, Default)]
#[must_use = "call finish() so that the gathered errors are reported"]
pub struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    /// A check that starts with `errors` (those met while decoding the body, say).
    pub fn with(errors: Vec<FieldError>) -> Check {
        Check { errors }
    }

    /// Whether `field` already failed (while decoding, for example).
    pub fn failed(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    /// Notes a failing field, unless it already failed.
    pub fn push(&mut self, error: FieldError) {
        if !self.failed(&error.field) {
            self.errors.push(error);
        }
    }

    /// Parses a required value: absent is `required`, a parse failure is noted.
    pub fn required<R, T>(
        &mut self,
        field: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        match raw {
            None => {
                self.push(FieldError::new(field, "required", "this field is required"));
                None
            }
            Some(raw) => self.parse(field, raw, parse),
        }
    }

    /// Parses an optional value: absent stays `None`.
    pub fn optional<R, T>(
        &mut self,
        field: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        raw.and_then(|raw| self.parse(field, raw, parse))
    }

    fn parse<R, T>(
        &mut self,
        field: &str,
        raw: R,
        parse: impl FnOnce(R) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        match parse(raw) {
            Ok(value) => Some(value),
            Err(err) => {
                self.push(FieldError::invalid(field, err));
                None
            }
        }
    }

    /// `Ok` when nothing failed, else the 422 listing every failing field.
    pub fn finish(self) -> Result<(), Error> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }

    /// The 422 to return when a required value is missing; never empty.
    pub fn into_error(mut self) -> Error {
        if self.errors.is_empty() {
            self.errors
                .push(FieldError::new("", "invalid", "the request is incomplete"));
        }
        Error::Validation(self.errors)
    }
}
