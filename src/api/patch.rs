//! The fields of a PATCH body, which tell "left out" from "sent as null" from "sent with a value".

/// One field of a PATCH body: left out (keep the value), sent as `null` (clear it), or sent with a value.
/// Use with `#[serde(default)]` and `#[schema(value_type = Option<T>)]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Left out: the stored value stays.
    #[default]
    Keep,
    /// Sent as `null`.
    Clear,
    /// Sent with a value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the field was sent at all.
    pub fn is_sent(&self) -> bool {
        !matches!(self, Patch::Keep)
    }

    /// The sent value as an option (`Clear` → `Some(None)`), `None` when left out.
    pub fn sent(self) -> Option<Option<T>> {
        match self {
            Patch::Keep => None,
            Patch::Clear => Some(None),
            Patch::Set(value) => Some(Some(value)),
        }
    }

    /// The new value given the stored one: the stored value when left out.
    pub fn apply(self, stored: Option<T>) -> Option<T> {
        match self {
            Patch::Keep => stored,
            Patch::Clear => None,
            Patch::Set(value) => Some(value),
        }
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Patch<T> {
    /// Called only for a field that is present (left-out fields take the default, `Keep`).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Patch::Clear,
            Some(value) => Patch::Set(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn a_patch_tells_left_out_from_null_from_a_value() {
        #[derive(Debug, Deserialize)]
        struct Body {
            #[serde(default)]
            city: Patch<String>,
        }
        let parse = |raw: &str| serde_json::from_str::<Body>(raw).unwrap().city;
        assert_eq!(parse("{}"), Patch::Keep);
        assert_eq!(parse(r#"{"city": null}"#), Patch::Clear);
        assert_eq!(
            parse(r#"{"city": "Annecy"}"#),
            Patch::Set("Annecy".to_owned())
        );
        assert_eq!(Patch::Keep.apply(Some(1)), Some(1));
        assert_eq!(Patch::<i32>::Clear.apply(Some(1)), None);
        assert_eq!(Patch::Set(2).apply(Some(1)), Some(2));
    }
}
