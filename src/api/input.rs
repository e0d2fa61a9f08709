//! Request bodies: JSON is read with a size cap and a nesting cap, malformed JSON is a 400, and then every
//! unknown field, wrongly typed value and failing domain rule is gathered into one 422.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::Digest;

use crate::error::{Error, FieldError};
use crate::state::AppState;

/// A JSON body decoded into `T`, with the field errors met while decoding kept in `check` so that the
/// handler's own checks add to them and one 422 lists everything.
pub struct Input<T> {
    pub body: T,
    pub check: Check,
    /// SHA-256 of the raw body, for idempotency keys.
    pub body_hash: String,
}

impl<T> Input<T> {
    /// The body and the checks so far.
    pub fn into_parts(self) -> (T, Check) {
        (self.body, self.check)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Input<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (limit, max_depth) =
            req.app_data::<web::Data<AppState>>()
                .map_or((256 * 1024, 32), |state| {
                    let server = &state.settings.server;
                    (server.json_limit_bytes, server.json_max_depth)
                });
        let idle = crate::api::extract::body_timeout(req);
        let (media_type, declared_length) = crate::api::extract::body_headers(req);
        let content_type_ok =
            media_type.is_some_and(|ct| ct == "application/json" || ct.ends_with("+json"));
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(Error::UnsupportedMediaType(
                    "send the body as application/json".into(),
                ));
            }
            let bytes =
                crate::api::extract::read_body(&mut payload, declared_length, limit, idle).await?;
            if nested_deeper_than(&bytes, max_depth) {
                return Err(Error::BadRequest(format!(
                    "the JSON nests arrays and objects more than {max_depth} levels deep"
                )));
            }
            let value: Value = serde_json::from_slice(&bytes)
                .map_err(|e| Error::BadRequest(format!("malformed JSON: {e}")))?;
            // PostgreSQL text cannot hold a NUL character: refuse it here, naming where it is, for every body.
            if let Some(field) = path_of_nul(&value, "") {
                return Err(Error::Validation(vec![FieldError::new(
                    field,
                    "invalid_characters",
                    "NUL characters are not allowed",
                )]));
            }
            let body_hash = hex::encode(sha2::Sha256::digest(&bytes));
            let (body, errors) = decode::<T>(value)?;
            Ok(Input {
                body,
                check: Check::with(errors),
                body_hash,
            })
        })
    }
}

/// The path of the first string or key holding a NUL character (the depth check before it bounds the
/// recursion).
fn path_of_nul(value: &Value, at: &str) -> Option<String> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        Value::String(s) => s.contains('\0').then(|| at.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| path_of_nul(v, &join(&i.to_string()))),
        Value::Object(map) => map.iter().find_map(|(key, v)| {
            if key.contains('\0') {
                Some(join(key))
            } else {
                path_of_nul(v, &join(key))
            }
        }),
        _ => None,
    }
}

/// Whether `json` nests arrays and objects more than `limit` levels deep. A single pass over the bytes,
/// without recursion, so that any input, even malformed, is safe to measure before it is parsed.
pub fn nested_deeper_than(json: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Decodes `value` into `T`, collecting every unknown field and wrongly typed value: each failing field is
/// noted and removed, and decoding is tried again, until it succeeds. A body that still cannot be decoded
/// (a required field is missing, or the body is not an object) is a 422 listing what was found.
pub fn decode<T: DeserializeOwned>(mut value: Value) -> Result<(T, Vec<FieldError>), Error> {
    let mut errors: Vec<FieldError> = Vec::new();
    for _ in 0..64 {
        let error = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(body) => return Ok((body, errors)),
            Err(error) => error,
        };
        let segments: Vec<String> = error
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                _ => None,
            })
            .collect();
        let message = error.into_inner().to_string();
        let (field_path, code, text) = classify(&segments, &message);
        let field = field_path.join(".");
        if errors.iter().any(|e| e.field == field) || !remove_path(&mut value, &field_path) {
            errors.push(FieldError::new(field, code, text));
            break;
        }
        errors.push(FieldError::new(field, code, text));
    }
    if errors.is_empty() {
        errors.push(FieldError::new("", "invalid", "the body could not be read"));
    }
    Err(Error::Validation(errors))
}

fn classify(segments: &[String], message: &str) -> (Vec<String>, &'static str, String) {
    let quoted = message.split('`').nth(1).map(str::to_owned);
    if let (true, Some(name)) = (message.starts_with("unknown field"), quoted.clone()) {
        let mut path = segments.to_vec();
        if path.last() != Some(&name) {
            path.push(name);
        }
        return (
            path,
            "unknown_field",
            "this field is not accepted here".into(),
        );
    }
    if let (true, Some(name)) = (message.starts_with("missing field"), quoted) {
        let mut path = segments.to_vec();
        path.push(name);
        return (path, "required", "this field is required".into());
    }
    let text = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    (segments.to_vec(), "invalid_type", text)
}

/// Removes the value at `path`; false when there is nothing to remove (so decoding cannot progress).
fn remove_path(value: &mut Value, path: &[String]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut current = value;
    for key in parents {
        current = match current {
            Value::Object(map) => match map.get_mut(key) {
                Some(v) => v,
                None => return false,
            },
            Value::Array(items) => match key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match current {
        Value::Object(map) => map.remove(last).is_some(),
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Decodes a nested JSON document (a form, a list of stages) into `T`, noting its errors under `prefix`.
/// `None` when anything failed.
pub fn nested<T: DeserializeOwned>(check: &mut Check, prefix: &str, value: Value) -> Option<T> {
    let prefixed = |e: FieldError| {
        let field = if e.field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", e.field)
        };
        FieldError { field, ..e }
    };
    match decode::<T>(value) {
        Ok((decoded, errors)) if errors.is_empty() => Some(decoded),
        Ok((_, errors)) => {
            errors.into_iter().for_each(|e| check.push(prefixed(e)));
            None
        }
        Err(Error::Validation(errors)) => {
            errors.into_iter().for_each(|e| check.push(prefixed(e)));
            None
        }
        Err(other) => {
            check.push(FieldError::new(prefix, "invalid", other.to_string()));
            None
        }
    }
}

/// For PATCH bodies: tells a field sent as `null` (`Some(None)`) from a field left out (`None`); use with
/// `#[serde(default, deserialize_with = "crate::api::input::present")]`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

pub use super::patch::Patch;
pub use crate::domain::check::Check;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: Option<String>,
        count: Option<u32>,
        nested: Option<Nested>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        flag: Option<bool>,
    }

    #[test]
    fn every_unknown_and_mistyped_field_is_listed() {
        let body = json!({"name": 3, "count": "x", "status": "admin", "owner": 1, "nested": {"flag": 2, "x": 1}});
        let (_, errors) = decode::<Sample>(body).unwrap();
        let mut fields: Vec<(String, String)> =
            errors.into_iter().map(|e| (e.field, e.code)).collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                ("count".to_string(), "invalid_type".to_string()),
                ("name".to_string(), "invalid_type".to_string()),
                ("nested.flag".to_string(), "invalid_type".to_string()),
                ("nested.x".to_string(), "unknown_field".to_string()),
                ("owner".to_string(), "unknown_field".to_string()),
                ("status".to_string(), "unknown_field".to_string()),
            ]
        );
    }

    #[test]
    fn a_valid_body_has_no_errors() {
        let (sample, errors) = decode::<Sample>(json!({"name": "a", "count": 2})).unwrap();
        assert!(errors.is_empty());
        assert_eq!(sample.count, Some(2));
    }

    #[test]
    fn nesting_is_measured_outside_strings() {
        assert!(!nested_deeper_than(br#"{"a": [1, {"b": []}]}"#, 4));
        assert!(nested_deeper_than(br#"{"a": [1, {"b": []}]}"#, 3));
        assert!(!nested_deeper_than(
            br#"{"a": "[[[[{{{{", "b": "\\\"[["}"#,
            1
        ));
        assert!(nested_deeper_than(&vec![b'['; 10_000], 32));
        assert!(!nested_deeper_than(b"", 0));
    }

    /// Any JSON document, nested up to 8 levels.
    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[\\[\\]{}\"\\\\]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(8, 64, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z\\[{\"\\\\]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// The nesting depth of a parsed document, by recursion (the reference for the byte scan).
    fn depth(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    proptest! {
        #[test]
        fn the_byte_scan_agrees_with_the_parsed_depth(value in arb_json(), limit in 0usize..10) {
            let compact = serde_json::to_vec(&value).unwrap();
            let pretty = serde_json::to_vec_pretty(&value).unwrap();
            let deeper = depth(&value) > limit;
            prop_assert_eq!(nested_deeper_than(&compact, limit), deeper);
            prop_assert_eq!(nested_deeper_than(&pretty, limit), deeper);
        }

        #[test]
        fn the_byte_scan_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512), limit in 0usize..64) {
            let _ = nested_deeper_than(&bytes, limit);
        }

        #[test]
        fn decoding_any_document_lists_errors_or_succeeds(value in arb_json()) {
            match decode::<Sample>(value) {
                Ok((_, errors)) => {
                    for e in errors {
                        prop_assert!(!e.code.is_empty());
                    }
                }
                Err(Error::Validation(errors)) => prop_assert!(!errors.is_empty()),
                Err(other) => prop_assert!(false, "unexpected error {:?}", other),
            }
        }
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        assert!(matches!(
            decode::<Sample>(json!([1, 2])),
            Err(Error::Validation(_))
        ));
    }
}
