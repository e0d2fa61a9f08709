//! Cells of the files staff open in a spreadsheet (the CSV exports). Text that people typed (organization
//! names, answers, file names) must never be taken for a formula: a cell such as `=HYPERLINK(…)` or
//! `@SUM(…)` would run in the staff member's spreadsheet. OWASP's rule: a text cell that starts with `=`,
//! `+`, `-`, `@`, a tab or a carriage return is written with a single quote before it, which spreadsheets
//! show as text. Numbers that Cordée computed itself (scores, counts) are written as numbers.

use std::borrow::Cow;
use std::fmt::Display;

/// The characters that make a spreadsheet read a cell as a formula when it starts with one of them.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text` as a spreadsheet shows it as text: with a single quote before it when it starts like a formula.
pub fn neutralise_formula(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text someone typed, from a cell as [`neutralise_formula`] wrote it: the single quote put before a
/// formula-like start is taken off again (a spreadsheet shows it, and saves it back, as part of the text).
pub fn typed_text(written: &str) -> &str {
    match written.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => written,
    }
}

/// One cell of an export, by where its value comes from: text (anything a person wrote, and every
/// string), or a number Cordée wrote itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Written through [`neutralise_formula`].
    Text(String),
    /// Written as is: only ever built from a Rust number.
    Number(String),
}

impl Cell {
    /// A number cell (`-1.5` stays a negative number).
    pub fn number(value: impl Into<Number>) -> Cell {
        Cell::Number(value.into().0)
    }

    /// A number with two decimals, or an empty cell.
    pub fn decimal(value: Option<f64>) -> Cell {
        match value {
            Some(v) if v.is_finite() => Cell::Number(format!("{v:.2}")),
            _ => Cell::Text(String::new()),
        }
    }

    /// The cell as written in the file.
    pub fn written(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(text) => neutralise_formula(text),
            Cell::Number(number) => Cow::Borrowed(number),
        }
    }
}

/// The text of a number Cordée wrote itself (so that [`Cell::Number`] cannot be built from a string).
pub struct Number(String);

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(value: $t) -> Number {
                Number(value.to_string())
            }
        }
    )*};
}
numbers!(i32, i64, u32, u64, usize, f64);

impl From<&serde_json::Number> for Number {
    fn from(value: &serde_json::Number) -> Number {
        Number(value.to_string())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_owned())
    }
}

impl<T: Display> From<Option<T>> for Cell {
    /// Text of an optional value; empty when absent.
    fn from(value: Option<T>) -> Cell {
        Cell::Text(value.map(|v| v.to_string()).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_that_starts_like_a_formula_is_quoted() {
        for (typed, written) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"Voir\")",
                "'=HYPERLINK(\"http://evil.example\",\"Voir\")",
            ),
            ("+33 4 50 00 00 00", "'+33 4 50 00 00 00"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Acme SAS", "Acme SAS"),
            ("", ""),
            (" =1", " =1"),
            ("'=1", "'=1"),
            ("12", "12"),
        ] {
            assert_eq!(Cell::from(typed).written(), written, "{typed:?}");
        }
    }

    #[test]
    fn numbers_cordee_writes_stay_numbers() {
        assert_eq!(Cell::number(-3_i64).written(), "-3");
        assert_eq!(Cell::decimal(Some(-1.5)).written(), "-1.50");
        assert_eq!(Cell::decimal(None).written(), "");
        assert_eq!(Cell::decimal(Some(f64::NAN)).written(), "");
        assert_eq!(Cell::number(&serde_json::Number::from(-7)).written(), "-7");
        // The same characters typed by someone are text.
        assert_eq!(Cell::from("-3").written(), "'-3");
    }

    proptest! {
        #[test]
        fn no_text_cell_starts_like_a_formula(typed in "[=+\\-@\\t\\r]?\\PC{0,40}|.{0,20}") {
            let cell = Cell::from(typed.as_str());
            let written = cell.written();
            prop_assert!(!written.starts_with(FORMULA_STARTS), "{:?}", written);
            // Nothing is lost: the quote is only ever added in front.
            prop_assert!(written.ends_with(typed.as_str()));
            prop_assert!(written.len() - typed.len() <= 1);
            // Read back, it is what was typed (unless that already started with a quote before a formula).
            if !typed.starts_with('\'') {
                prop_assert_eq!(typed_text(&written), typed.as_str());
            }
        }
    }
}
