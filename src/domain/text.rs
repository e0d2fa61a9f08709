//! Text that people read: names of organizations and people, file names, email subjects. Invisible
//! characters that change how the rest is shown (a right-to-left override turns `invoice\u{202E}fdp.exe` into what
//! reads as `invoiceexe.pdf`) are taken out before such text is kept or shown.

/// The Unicode format characters (general category Cf, Unicode 16.0), as inclusive ranges: bidirectional
/// controls, zero-width spaces and joiners, invisible operators, the byte-order mark, interlinear
/// annotation marks, tags and the other formatting characters that are not drawn.
const FORMAT_CHARACTERS: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

/// Whether `c` is a Unicode format character (category Cf): it is not drawn but changes how the text
/// around it is shown.
pub fn is_format(c: char) -> bool {
    FORMAT_CHARACTERS
        .binary_search_by(|&(first, last)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Whether `c` is invisible: a control (Cc) or a format (Cf) character.
pub fn is_invisible(c: char) -> bool {
    c.is_control() || is_format(c)
}

/// `raw` without its control and format characters (Cc and Cf): what is left is what a reader sees.
/// Cleaning clean text changes nothing.
pub fn visible(raw: &str) -> String {
    raw.chars().filter(|&c| !is_invisible(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_table_is_sorted_and_disjoint() {
        for pair in FORMAT_CHARACTERS.windows(2) {
            assert!(pair[0].0 <= pair[0].1 && pair[0].1 < pair[1].0, "{pair:?}");
        }
    }

    #[test]
    fn bidirectional_overrides_zero_width_characters_and_marks_go() {
        assert_eq!(visible("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(
            visible("\u{FEFF}A\u{200B}c\u{200C}m\u{200D}e\u{200E}\u{200F}"),
            "Acme"
        );
        assert_eq!(visible("\u{2066}Mairie\u{2067}\u{2068}\u{2069}"), "Mairie");
        assert_eq!(visible("tag\u{E0041}\u{E007F}s\u{00AD}"), "tags");
        assert_eq!(visible("a\u{7}b\u{85}c\u{9F}"), "abc");
        // What is drawn stays, accents, other scripts and spaces included.
        assert_eq!(
            visible("Mairie de Bourg-Saint-Maurice – Les Arcs ⛷ مرحبا"),
            "Mairie de Bourg-Saint-Maurice – Les Arcs ⛷ مرحبا"
        );
    }

    proptest! {
        #[test]
        fn cleaned_text_has_no_control_or_format_character_and_cleaning_again_changes_nothing(
            raw in "(\\PC|\\p{Cc}|\\p{Cf}){0,60}",
        ) {
            let clean = visible(&raw);
            prop_assert!(!clean.chars().any(is_invisible), "{:?}", clean);
            prop_assert_eq!(visible(&clean), clean.clone());
        }

        #[test]
        fn every_format_character_is_known(c in "\\p{Cf}") {
            let c = c.chars().next().unwrap();
            prop_assert!(is_format(c), "U+{:04X}", c as u32);
        }

        #[test]
        fn no_visible_character_is_taken_for_a_format_one(c in "\\PC") {
            let c = c.chars().next().unwrap();
            prop_assert!(!is_invisible(c), "U+{:04X}", c as u32);
        }
    }
}
