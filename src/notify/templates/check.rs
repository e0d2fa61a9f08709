//! Checks of the templates staff write, before they are saved or previewed: each part must parse, use
//! only the variables its event provides, keep HTML escaping on in the HTML part, and render the
//! event's example data (with and without its optional variables). Every problem names its line.

use std::collections::BTreeSet;

use minijinja::ErrorKind;

use super::{
    example_context, optional_variables, render_bounded, staff_name, Event, Part, TemplateSources,
    Templates, ESCAPING_OFF, TOO_LONG,
};
use crate::error::FieldError;

/// The longest source accepted for one part, in bytes.
pub const MAX_PART_BYTES: usize = 100_000;

impl Templates {
    /// Every problem of `sources` for `event`, as the fields of a 422 (`subject`, `text`,
    /// `html`); empty when the sources can be used. Codes: `required`, `too_long`, `syntax`,
    /// `unknown_variable`, `escaping_disabled` and `render` (the example data does not render).
    pub fn check(&self, event: Event, sources: &TemplateSources) -> Vec<FieldError> {
        let mut problems = Vec::new();
        for part in Part::ALL {
            problems.extend(self.check_part(event, sources, part));
        }
        // A part that fails statically is not also reported for failing on the example data.
        let rendering: Vec<FieldError> = self
            .check_examples(event, sources)
            .into_iter()
            .filter(|r| !problems.iter().any(|p: &FieldError| p.field == r.field))
            .collect();
        problems.extend(rendering);
        problems.sort_by_key(|p| Part::ALL.iter().position(|part| part.field() == p.field));
        problems
    }

    /// The static problems of one part: presence, size, syntax, escaping and variables.
    fn check_part(&self, event: Event, sources: &TemplateSources, part: Part) -> Vec<FieldError> {
        let source = sources.part(part);
        let problem = |code: &str, message: String| FieldError::new(part.field(), code, message);
        if source.trim().is_empty() {
            return vec![problem("required", "this part cannot be empty".into())];
        }
        if source.len() > MAX_PART_BYTES {
            return vec![problem(
                "too_long",
                format!("at most {MAX_PART_BYTES} bytes"),
            )];
        }
        let template = match self.staff_template(sources, part) {
            Ok(template) => template,
            Err(err) => return vec![problem("syntax", located(&err, None))],
        };
        let tokens = tokens(source);
        let mut problems = Vec::new();
        if part == Part::Html {
            for (offset, what) in escaping_switches(&tokens) {
                problems.push(problem(
                    "escaping_disabled",
                    format!(
                        "line {}: {what} turns HTML escaping off; values are always escaped in the HTML part",
                        line_of(source, offset)
                    ),
                ));
            }
        }
        let env = if part == Part::Html {
            &self.staff_html
        } else {
            &self.env
        };
        let mut known: BTreeSet<String> = event.variables().into_iter().collect();
        known.extend(env.globals().map(|(name, _)| name.to_owned()));
        if part == Part::Html {
            known.insert("subject".into());
        }
        let mut unknown: Vec<(usize, String)> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|name| !known.contains(name))
            .map(|name| {
                (
                    first_use(&tokens, &name).map_or(1, |o| line_of(source, o)),
                    name,
                )
            })
            .collect();
        unknown.sort();
        for (line, name) in unknown {
            problems.push(problem(
                "unknown_variable",
                format!("line {line}: unknown variable `{name}`"),
            ));
        }
        problems
    }

    /// Renders the sources with the event's example data, then without its optional variables and with
    /// them null, as real emails may come; the first failure of each part is a problem.
    fn check_examples(&self, event: Event, sources: &TemplateSources) -> Vec<FieldError> {
        let full = example_context(event);
        let mut without = full.clone();
        let mut nulls = full.clone();
        for name in optional_variables(event) {
            if let Some(vars) = without.as_object_mut() {
                vars.remove(*name);
            }
            nulls[*name] = serde_json::Value::Null;
        }
        let cases = [
            (full, ""),
            (without, " (when the optional variables are absent)"),
            (nulls, " (when the optional variables are null)"),
        ];
        let mut problems: Vec<FieldError> = Vec::new();
        let max = self.max_rendered_bytes;
        for (ctx, when) in cases {
            let mut subject = String::new();
            let mut room = max;
            for part in Part::ALL {
                let rendered = self.staff_template(sources, part).and_then(|t| match part {
                    Part::Html => render_bounded(
                        &t,
                        minijinja::context! {
                            subject => &subject,
                            ..minijinja::Value::from_serialize(&ctx)
                        },
                        &mut room,
                        max,
                    ),
                    Part::Subject | Part::Text => render_bounded(&t, &ctx, &mut room, max),
                });
                let error = match rendered {
                    Ok(output) => {
                        if part == Part::Subject {
                            subject = output;
                        }
                        continue;
                    }
                    Err(error) => error,
                };
                let detail = error.detail().unwrap_or_default();
                let code = match error.kind() {
                    _ if detail == ESCAPING_OFF => "escaping_disabled",
                    _ if detail.starts_with(TOO_LONG) => "too_long",
                    ErrorKind::UnknownFilter
                    | ErrorKind::UnknownTest
                    | ErrorKind::UnknownFunction
                    | ErrorKind::UnknownMethod => "syntax",
                    _ => "render",
                };
                if !problems.iter().any(|p| p.field == part.field()) {
                    let own = staff_name(part);
                    let elsewhere = error.name().filter(|n| *n != own).map(str::to_owned);
                    problems.push(FieldError::new(
                        part.field(),
                        code,
                        format!("{}{when}", located(&error, elsewhere)),
                    ));
                }
                if code == "too_long" {
                    // The parts after it have no room left: the one that used it up is the problem.
                    break;
                }
            }
        }
        problems
    }
}

/// "line N: what went wrong"; `elsewhere` names the template the error comes from when it is not the
/// part itself (a layout it extends, for example).
fn located(err: &minijinja::Error, elsewhere: Option<String>) -> String {
    let what = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    match (err.line(), elsewhere) {
        (Some(line), Some(name)) => format!("in `{name}`, line {line}: {what}"),
        (Some(line), None) => format!("line {line}: {what}"),
        (None, _) => what,
    }
}

/// The 1-based line of byte `offset` of `source`.
fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

/// What a token of a template tag is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    /// A string literal; its text is without the quotes.
    Str,
    /// A number or a punctuation character.
    Other,
}

/// One token inside `{{ … }}` or `{% … %}`, with its byte offset in the source.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    offset: usize,
    /// Whether it opens a `{% … %}` tag (the statement's keyword).
    opens_statement: bool,
    /// Whether it is the first token of a tag (`{{ … }}` or `{% … %}`).
    opens_tag: bool,
}

/// The tokens of every tag of `source`, skipping text, comments and `{% raw %}` blocks. A small lexer
/// for locating things: the template engine has already parsed the source.
fn tokens(source: &str) -> Vec<Token<'_>> {
    let bytes = source.as_bytes();
    let mut out: Vec<Token<'_>> = Vec::new();
    let mut i = 0;
    while let Some(found) = source[i..].find('{') {
        i += found;
        let rest = &source[i..];
        let close = if rest.starts_with("{#") {
            i = source[i..].find("#}").map_or(source.len(), |e| i + e + 2);
            continue;
        } else if rest.starts_with("{{") {
            "}}"
        } else if rest.starts_with("{%") {
            "%}"
        } else {
            i += 1;
            continue;
        };
        let is_statement = close == "%}";
        i += 2;
        if matches!(bytes.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let first = out.len();
        loop {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            let rest = &source[i..];
            if rest.starts_with(close) {
                i += 2;
                break;
            }
            if (rest.starts_with('-') || rest.starts_with('+')) && rest[1..].starts_with(close) {
                i += 3;
                break;
            }
            let c = bytes[i];
            let start = i;
            let (kind, text) = if c == b'"' || c == b'\'' {
                i += 1;
                while i < bytes.len() && bytes[i] != c {
                    if bytes[i] == b'\\' {
                        i += 1;
                        if i >= bytes.len() {
                            break;
                        }
                    }
                    i += source[i..].chars().next().map_or(1, char::len_utf8);
                }
                let end = i.min(bytes.len());
                i = (i + 1).min(bytes.len());
                (Kind::Str, &source[start + 1..end])
            } else if c.is_ascii_alphabetic() || c == b'_' {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                (Kind::Ident, &source[start..i])
            } else if c.is_ascii_digit() {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
                (Kind::Other, &source[start..i])
            } else {
                i += rest.chars().next().map_or(1, char::len_utf8);
                (Kind::Other, &source[start..i])
            };
            out.push(Token {
                kind,
                text,
                offset: start,
                opens_statement: is_statement && out.len() == first,
                opens_tag: out.len() == first,
            });
        }
        let opened_raw = out
            .get(first)
            .is_some_and(|t| t.opens_statement && t.kind == Kind::Ident && t.text == "raw");
        if opened_raw {
            i = source[i..].find("endraw").map_or(source.len(), |e| {
                let after = i + e;
                source[after..]
                    .find("%}")
                    .map_or(source.len(), |c| after + c + 2)
            });
        }
    }
    out
}

/// Where the variable `name` is first used: an identifier that is not an attribute (`x.name`), a
/// filter or test (`|name`, `is name`), or a keyword argument (`name=`).
fn first_use(tokens: &[Token<'_>], name: &str) -> Option<usize> {
    tokens.iter().enumerate().find_map(|(i, t)| {
        if t.kind != Kind::Ident || t.text != name {
            return None;
        }
        let before = i.checked_sub(1).map(|p| tokens[p].text);
        let after = tokens.get(i + 1).map(|t| t.text);
        let after2 = tokens.get(i + 2).map(|t| t.text);
        let not_a_variable = matches!(before, Some("." | "|" | "is" | "not" | "filter"))
            || (after == Some("=") && after2 != Some("="));
        (!not_a_variable).then_some(t.offset)
    })
}

/// The constructs that would turn HTML escaping off, each with its offset: the `safe` filter (also by
/// name, as in `map("safe")`) and `{% autoescape %}` with anything but exactly `true` or `"html"` (an
/// expression such as `true and false` is refused even though it starts with `true`). Rendering enforces
/// the same rule whatever this lexer sees: a value written with escaping off fails the rendering.
fn escaping_switches(tokens: &[Token<'_>]) -> Vec<(usize, &'static str)> {
    let mut found = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let before = i.checked_sub(1).map(|p| tokens[p].text);
        match t.kind {
            Kind::Ident if t.text == "safe" && matches!(before, Some("|" | "filter")) => {
                found.push((t.offset, "the `safe` filter"));
            }
            Kind::Str if t.text == "safe" => found.push((t.offset, "the `safe` filter")),
            Kind::Ident if t.opens_statement && t.text == "autoescape" => {
                let on = tokens.get(i + 1).is_some_and(|n| {
                    (n.kind == Kind::Ident && n.text == "true")
                        || (n.kind == Kind::Str && n.text == "html")
                }) && tokens.get(i + 2).is_none_or(|n| n.opens_tag);
                if !on {
                    found.push((t.offset, "`autoescape` other than `true`"));
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn receipt() -> TemplateSources {
        Templates::builtin()
            .builtin_sources(Event::SubmissionReceipt, "fr")
            .unwrap()
    }

    fn codes(problems: &[FieldError]) -> Vec<(&str, &str)> {
        problems
            .iter()
            .map(|p| (p.field.as_str(), p.code.as_str()))
            .collect()
    }

    #[test]
    fn every_builtin_template_passes_its_own_checks() {
        let templates = Templates::builtin();
        for event in Event::ALL {
            for locale in ["fr", "en"] {
                let sources = templates.builtin_sources(event, locale).unwrap();
                let problems = templates.check(event, &sources);
                assert!(
                    problems.is_empty(),
                    "{} {locale}: {problems:?}",
                    event.as_str()
                );
            }
        }
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let mut sources = receipt();
        sources.text =
            "Bonjour {{ display_name }},\n\n{% if reference %}\nRéférence {{ reference }}\n".into();
        let problems = Templates::builtin().check(Event::SubmissionReceipt, &sources);
        assert_eq!(codes(&problems), vec![("text", "syntax")]);
        assert!(
            problems[0].message.starts_with("line 4: syntax error"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn an_unknown_variable_is_named_with_the_line_of_its_first_use() {
        let mut sources = receipt();
        sources.text =
            "Bonjour {{ display_name }},\n\n{{ reference }} – {{ budget|upper }}\n{{ budget }}\n"
                .into();
        sources.subject = "{{ answer.label }} {{ display_name|title }}".into();
        let problems = Templates::builtin().check(Event::SubmissionReceipt, &sources);
        assert_eq!(
            codes(&problems),
            vec![
                ("subject", "unknown_variable"),
                ("text", "unknown_variable")
            ]
        );
        assert_eq!(problems[0].message, "line 1: unknown variable `answer`");
        assert_eq!(problems[1].message, "line 3: unknown variable `budget`");
    }

    #[test]
    fn every_failing_part_is_reported() {
        let sources = TemplateSources {
            subject: " ".into(),
            text: "{% for x in answers %}".into(),
            html: "<p>{{ nope }}</p>\n<p>{{ also_nope }}</p>".into(),
        };
        let problems = Templates::builtin().check(Event::SubmissionReceipt, &sources);
        assert_eq!(
            codes(&problems),
            vec![
                ("subject", "required"),
                ("text", "syntax"),
                ("html", "unknown_variable"),
                ("html", "unknown_variable"),
            ]
        );
        assert_eq!(problems[2].message, "line 1: unknown variable `nope`");
        assert_eq!(problems[3].message, "line 2: unknown variable `also_nope`");
    }

    #[test]
    fn variables_set_in_the_template_loops_and_globals_are_known() {
        let mut sources = receipt();
        sources.text = "{% set greeting = 'Bonjour' %}{{ greeting }} {{ display_name }}\n{% for answer in answers %}{{ loop.index }}. {{ answer.label }}{% endfor %}\n{% for i in range(2) %}{{ i }}{% endfor %}\n{% macro line(x) %}- {{ x }}{% endmacro %}{{ line(reference) }}".into();
        sources.html = "{% extends \"layout.html\" %}{% block content %}<h1>{{ subject }}</h1>{{ super() }}{% endblock %}".into();
        let problems = Templates::builtin().check(Event::SubmissionReceipt, &sources);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn the_html_part_cannot_turn_escaping_off() {
        let mut sources = receipt();
        sources.html = "<p>{{ display_name|safe }}</p>\n{% autoescape false %}{{ reference }}{% endautoescape %}\n{% filter safe %}{{ link }}{% endfilter %}\n{{ answers|map(attribute='value')|map('safe')|join }}".into();
        let problems = Templates::builtin().check(Event::SubmissionReceipt, &sources);
        let lines: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            problems
                .iter()
                .all(|p| p.field == "html" && p.code == "escaping_disabled"),
            "{problems:?}"
        );
        assert_eq!(problems.len(), 4, "{lines:?}");
        for (problem, line) in problems.iter().zip(1..) {
            assert!(
                problem.message.starts_with(&format!("line {line}: ")),
                "{lines:?}"
            );
        }

        // Turning escaping on, and `safe` in the text parts, are fine.
        sources.html = "{% autoescape true %}<p>{{ display_name }}</p>{% endautoescape %}".into();
        sources.text = "{{ display_name|safe }}".into();
        let problems = Templates::builtin().check(Event::SubmissionReceipt, &sources);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn escaping_cannot_be_turned_off_by_an_expression() {
        let templates = Templates::builtin();
        for switch in [
            "{% autoescape true and false %}",
            "{% autoescape \"html\"|replace(\"html\", \"none\") %}",
            "{% autoescape \"html\" if false else \"none\" %}",
            "{% autoescape true == false %}",
            "{% autoescape (false) %}",
            "{% autoescape not true %}",
        ] {
            let mut sources = receipt();
            sources.html = format!(
                "<p>Bonjour</p>\n{switch}<p>{{{{ display_name }}}}</p>{{% endautoescape %}}"
            );
            let problems = templates.check(Event::SubmissionReceipt, &sources);
            assert!(
                !problems.is_empty()
                    && problems
                        .iter()
                        .all(|p| p.field == "html" && p.code == "escaping_disabled"),
                "{switch}: {problems:?}"
            );
            assert!(problems[0].message.starts_with("line 2: "), "{problems:?}");

            // Whatever the check says, the rendering never writes the value unescaped.
            let mut ctx = example_context(Event::SubmissionReceipt);
            ctx["display_name"] = json!("<script>alert(1)</script>");
            match templates.render_sources(&sources, &ctx) {
                Ok(email) => panic!("{switch} rendered: {}", email.html),
                Err(err) => assert_eq!(err.part, Part::Html, "{switch}"),
            }
        }
    }

    #[test]
    fn a_value_kept_while_escaping_is_off_is_still_escaped_when_written() {
        let templates = Templates::builtin();
        let mut ctx = example_context(Event::SubmissionReceipt);
        ctx["display_name"] = json!("<script>alert(1)</script>");
        for html in [
            "{% autoescape false %}{% set kept = display_name|e %}{% endautoescape %}{{ kept }}",
            "{% autoescape false %}{% set kept = display_name|replace('x', 'y') %}{% endautoescape %}{{ kept }}",
            "{% set kept = display_name|e|upper|reverse %}{{ kept|lower }}{{ display_name|e|join }}",
            "{% macro m(x) %}{{ x }}{% endmacro %}{{ m(display_name) }}{% filter upper %}{{ display_name }}{% endfilter %}",
        ] {
            let mut sources = receipt();
            sources.html = html.into();
            let email = templates.render_sources(&sources, &ctx).unwrap();
            assert!(!email.html.to_lowercase().contains("<script"), "{html}: {}", email.html);
            assert!(!email.html.contains('<'), "{html}: {}", email.html);
        }
    }

    #[test]
    fn an_email_longer_than_the_limit_is_refused_while_it_is_rendered() {
        let templates = Templates::builtin().with_max_rendered_bytes(10_000);
        let mut sources = receipt();
        sources.text =
            "{% for i in range(1000) %}{{ display_name }} {{ reference }}\n{% endfor %}".into();
        let problems = templates.check(Event::SubmissionReceipt, &sources);
        assert_eq!(codes(&problems), vec![("text", "too_long")]);
        let err = templates
            .render_sources(&sources, &example_context(Event::SubmissionReceipt))
            .unwrap_err();
        assert_eq!(err.part, Part::Text);
        // A loop that would write gigabytes stops at the limit, well within the instruction budget.
        sources.text =
            "{% set s = 'x' * 100000 %}{% for i in range(100000) %}{{ s }}{% endfor %}".into();
        let err = Templates::builtin()
            .render_sources(&sources, &example_context(Event::SubmissionReceipt))
            .unwrap_err();
        assert!(err.to_string().contains(super::super::TOO_LONG), "{err}");
        // The built-in template fits.
        assert!(templates
            .render_sources(&receipt(), &example_context(Event::SubmissionReceipt))
            .is_ok());
    }

    #[test]
    fn the_html_part_escapes_even_what_it_includes_from_a_text_template() {
        let templates = Templates::builtin();
        let mut sources = receipt();
        sources.html = "{% include \"submission_receipt.fr.txt\" %}".into();
        let mut ctx = example_context(Event::SubmissionReceipt);
        ctx["display_name"] = json!("<script>alert(1)</script>");
        let email = templates.render_sources(&sources, &ctx).unwrap();
        assert!(!email.html.contains("<script>"), "{}", email.html);
        assert!(email.html.contains("&lt;script&gt;"), "{}", email.html);
        assert!(email.text.contains("<script>alert(1)</script>"));
    }

    #[test]
    fn a_part_that_fails_on_the_example_data_is_refused() {
        let mut sources = receipt();
        sources.text = "Bonjour,\n{{ display_name|nosuchfilter }}".into();
        sources.html = "<p>{{ answers.nope }}</p>".into();
        let problems = Templates::builtin().check(Event::SubmissionReceipt, &sources);
        assert_eq!(
            codes(&problems),
            vec![("text", "syntax"), ("html", "render")]
        );
        assert!(
            problems[0].message.starts_with("line 2: unknown filter"),
            "{}",
            problems[0].message
        );
        assert!(
            problems[1].message.starts_with("line 1: "),
            "{}",
            problems[1].message
        );

        // Reported even when another part fails without rendering.
        sources.subject = "{{ nope }}".into();
        let problems = Templates::builtin().check(Event::SubmissionReceipt, &sources);
        assert_eq!(
            codes(&problems),
            vec![
                ("subject", "unknown_variable"),
                ("text", "syntax"),
                ("html", "render")
            ]
        );
    }

    #[test]
    fn an_optional_variable_must_be_tested_before_use() {
        let templates = Templates::builtin();
        let mut sources = templates
            .builtin_sources(Event::WithdrawalAck, "en")
            .unwrap();
        sources.text = "Hello {{ display_name }},\n\nReason: {{ reason|upper }}".into();
        let problems = templates.check(Event::WithdrawalAck, &sources);
        assert_eq!(codes(&problems), vec![("text", "render")]);
        assert!(
            problems[0].message.starts_with("line 3: ")
                && problems[0]
                    .message
                    .ends_with("(when the optional variables are absent)"),
            "{}",
            problems[0].message
        );

        sources.text = "Hello {{ display_name }},\n{% if reason is defined and reason is not none %}\nReason: {{ reason|upper }}\n{% endif %}".into();
        assert!(templates.check(Event::WithdrawalAck, &sources).is_empty());
    }

    #[test]
    fn the_lexer_survives_escapes_before_multibyte_characters_and_unclosed_tags() {
        for source in [
            "{{ \"\\é\" ~ budget }}",
            "{{ 'é\\",
            "{{ budget",
            "{% raw %}{{ x }}",
            "{# é",
        ] {
            let tokens = tokens(source);
            let _ = first_use(&tokens, "budget");
            let _ = escaping_switches(&tokens);
        }
        let source = "{{ \"\\é\" ~ budget }}";
        assert_eq!(first_use(&tokens(source), "budget"), source.find("budget"));
    }

    #[test]
    fn the_lexer_skips_text_comments_strings_and_raw_blocks() {
        let source = "budget {# {{ budget }} #} {% raw %}{{ budget }}{% endraw %}\n{{ 'budget' }} {{- x.budget -}}\n{{ budget }}";
        let tokens = tokens(source);
        assert_eq!(
            first_use(&tokens, "budget").map(|o| line_of(source, o)),
            Some(3)
        );
        assert!(escaping_switches(&tokens).is_empty());
    }
}
