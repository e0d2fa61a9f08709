//! Builders and generators shared by the unit tests of the form modules.

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{Map, Value};

use super::*;
use crate::error::FieldError;

pub(super) fn field(key: &str, kind: FieldType) -> Field {
    let mut f = Field::new(key, kind, Text::bilingual("Question", "Question"));
    match kind {
        FieldType::Choice | FieldType::MultiChoice => {
            f.options = Some(
                ["a", "b", "c"]
                    .iter()
                    .map(|v| ChoiceOption {
                        value: (*v).to_owned(),
                        label: Text::french(v.to_uppercase()),
                    })
                    .collect(),
            );
        }
        FieldType::File => {
            f.max_size = Some(1024);
            f.content_types = Some(vec!["application/pdf".to_owned()]);
        }
        _ => {}
    }
    f
}

pub(super) fn form(fields: Vec<Field>) -> Form {
    Form {
        fields,
        rules: Vec::new(),
    }
}

pub(super) fn answers(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("answers must be an object"),
    }
}

pub(super) fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
    errors
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect()
}

/// A (path, code) pair as the checks report it.
pub(super) fn pair(field: &str, code: &str) -> (String, String) {
    (field.to_owned(), code.to_owned())
}

pub(super) const ALL_TYPES: [FieldType; 15] = [
    FieldType::Text,
    FieldType::LongText,
    FieldType::Integer,
    FieldType::Number,
    FieldType::Boolean,
    FieldType::Date,
    FieldType::Email,
    FieldType::Url,
    FieldType::Phone,
    FieldType::Siret,
    FieldType::Postcode,
    FieldType::InseeCode,
    FieldType::Choice,
    FieldType::MultiChoice,
    FieldType::File,
];
pub(super) fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(|f| Value::from(f.round())),
        any::<String>().prop_map(Value::String),
        "[abcz ]{0,3}".prop_map(Value::String),
        "[0-9 +.()-]{0,16}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
        "(https?|ftp)://[a-z.\\-/?#% ]{0,20}".prop_map(Value::String),
        "[a-z.]{0,8}@[a-z.\\-]{0,10}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{0,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

pub(super) fn arb_text() -> impl Strategy<Value = Text> {
    (any::<String>(), proptest::option::of(any::<String>())).prop_map(|(fr, en)| Text { fr, en })
}

pub(super) fn arb_date() -> impl Strategy<Value = Option<NaiveDate>> {
    proptest::option::of(
        (-400_000i32..400_000).prop_filter_map("a date", NaiveDate::from_num_days_from_ce_opt),
    )
}

pub(super) fn arb_f64() -> impl Strategy<Value = Option<f64>> {
    proptest::option::of(prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        -1e3f64..1e3,
    ])
}

pub(super) fn arb_field() -> impl Strategy<Value = Field> {
    (
        (
            "[a-z_]{0,6}|\\PC{0,70}",
            0..ALL_TYPES.len(),
            arb_text(),
            proptest::option::of(arb_text()),
            any::<bool>(),
        ),
        (
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            arb_f64(),
            arb_f64(),
        ),
        (
            arb_date(),
            arb_date(),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
        ),
        (
            proptest::option::of(prop::collection::vec(
                ("[a-z]{0,2}|\\PC{0,8}", arb_text())
                    .prop_map(|(value, label)| ChoiceOption { value, label }),
                0..5,
            )),
            proptest::option::of(any::<u64>()),
            proptest::option::of(prop::collection::vec("[a-z/.+-]{0,12}|\\PC{0,8}", 0..4)),
        ),
    )
        .prop_map(
            |(
                (key, kind, label, help, required),
                (min_length, max_length, min, max),
                (min_date, max_date, min_items, max_items),
                (options, max_size, content_types),
            )| Field {
                key,
                kind: ALL_TYPES[kind],
                label,
                help,
                required,
                min_length,
                max_length,
                min,
                max,
                min_date,
                max_date,
                min_items,
                max_items,
                options,
                max_size,
                content_types,
            },
        )
}

/// Checks `{key: value}` against a one-field form: (normalised value, error codes).
pub(super) fn check_one(f: Field, value: Value) -> (Option<Value>, Vec<String>) {
    let key = f.key.clone();
    let form = form(vec![f]);
    let mut map = Map::new();
    map.insert(key.clone(), value);
    let (out, errors) = form.check_answers(&map);
    (
        out.get(&key).cloned(),
        errors.into_iter().map(|e| e.code).collect(),
    )
}

pub(super) fn ok(f: Field, value: Value) -> Value {
    let (out, errors) = check_one(f, value.clone());
    assert!(errors.is_empty(), "{value} gave {errors:?}");
    out.expect("a normalised value")
}

pub(super) fn err(f: Field, value: Value) -> String {
    let (out, errors) = check_one(f, value.clone());
    assert_eq!(errors.len(), 1, "{value} gave {errors:?}");
    assert_eq!(out, None, "an invalid value is left out");
    errors.into_iter().next().unwrap()
}

/// A rule of any type over keys drawn from `a`…`e`, `i`, `j`, `start`, `end` and `zz`, with any percentage.
pub(super) fn arb_rule() -> impl Strategy<Value = Rule> {
    let key = || "[a-e]|i|j|start|end|zz".prop_map(String::from);
    let message = || proptest::option::of(arb_text());
    prop_oneof![
        (key(), key(), any::<bool>(), message()).prop_map(|(field, other, strict, message)| {
            Rule::AtMost {
                field,
                other,
                strict,
                message,
            }
        }),
        (prop::collection::vec(key(), 0..4), key(), message()).prop_map(
            |(fields, other, message)| Rule::SumAtMost {
                fields,
                other,
                message
            }
        ),
        (key(), key(), arb_f64(), message()).prop_map(|(field, of, max_percent, message)| {
            Rule::ShareAtMost {
                field,
                of,
                max_percent: max_percent.unwrap_or(50.0),
                message,
            }
        }),
        (key(), key(), arb_f64(), message()).prop_map(|(field, of, min_percent, message)| {
            Rule::ShareAtLeast {
                field,
                of,
                min_percent: min_percent.unwrap_or(50.0),
                message,
            }
        }),
    ]
}
