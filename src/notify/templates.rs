//! Rendering of notification emails from the built-in minijinja templates.
//!
//! Each event has, per locale, a `{event}.{locale}.txt` template defining the
//! `subject` and `body` blocks, and a `{event}.{locale}.html` template giving
//! the HTML body (which extends `layout.html`). The sources live under
//! `templates/email/` and are embedded in the binary.
//!
//! Staff may override an event's template for one call and locale: the three
//! parts (subject, text body, HTML body) are then separate sources, checked by
//! `check` before they are saved. `builtin_sources` gives the built-in template
//! in that same form, so that saving it back changes nothing.

mod check;
mod examples;

use minijinja::{context, AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};

pub use examples::{example_context, optional_variables};

/// Declares the built-in template files, embedded at compile time.
macro_rules! builtin_sources {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/email/", $name)))),*]
    };
}

/// Every built-in template, as (name, source).
const BUILTIN: &[(&str, &str)] = builtin_sources![
    "layout.html",
    "verify_email.fr.txt",
    "verify_email.fr.html",
    "verify_email.en.txt",
    "verify_email.en.html",
    "password_reset.fr.txt",
    "password_reset.fr.html",
    "password_reset.en.txt",
    "password_reset.en.html",
    "invitation.fr.txt",
    "invitation.fr.html",
    "invitation.en.txt",
    "invitation.en.html",
    "registration_attempt.fr.txt",
    "registration_attempt.fr.html",
    "registration_attempt.en.txt",
    "registration_attempt.en.html",
    "submission_receipt.fr.txt",
    "submission_receipt.fr.html",
    "submission_receipt.en.txt",
    "submission_receipt.en.html",
    "changes_requested.fr.txt",
    "changes_requested.fr.html",
    "changes_requested.en.txt",
    "changes_requested.en.html",
    "screening_outcome.fr.txt",
    "screening_outcome.fr.html",
    "screening_outcome.en.txt",
    "screening_outcome.en.html",
    "new_message.fr.txt",
    "new_message.fr.html",
    "new_message.en.txt",
    "new_message.en.html",
    "withdrawal_ack.fr.txt",
    "withdrawal_ack.fr.html",
    "withdrawal_ack.en.txt",
    "withdrawal_ack.en.html",
    "draft_reminder.fr.txt",
    "draft_reminder.fr.html",
    "draft_reminder.en.txt",
    "draft_reminder.en.html",
    "assignment_digest.fr.txt",
    "assignment_digest.fr.html",
    "assignment_digest.en.txt",
    "assignment_digest.en.html",
    "review_reminder.fr.txt",
    "review_reminder.fr.html",
    "review_reminder.en.txt",
    "review_reminder.en.html",
    "decision_published.fr.txt",
    "decision_published.fr.html",
    "decision_published.en.txt",
    "decision_published.en.html",
    "pairing_update.fr.txt",
    "pairing_update.fr.html",
    "pairing_update.en.txt",
    "pairing_update.en.html",
    "webhook_disabled.fr.txt",
    "webhook_disabled.fr.html",
    "webhook_disabled.en.txt",
    "webhook_disabled.en.html",
    "conflict_flagged.fr.txt",
    "conflict_flagged.fr.html",
    "conflict_flagged.en.txt",
    "conflict_flagged.en.html",
    "decision_revised.fr.txt",
    "decision_revised.fr.html",
    "decision_revised.en.txt",
    "decision_revised.en.html",
    "appeal_filed.fr.txt",
    "appeal_filed.fr.html",
    "appeal_filed.en.txt",
    "appeal_filed.en.html",
    "appeal_resolved.fr.txt",
    "appeal_resolved.fr.html",
    "appeal_resolved.en.txt",
    "appeal_resolved.en.html",
    "shortlisted.fr.txt",
    "shortlisted.fr.html",
    "shortlisted.en.txt",
    "shortlisted.en.html",
    "pitch_slot.fr.txt",
    "pitch_slot.fr.html",
    "pitch_slot.en.txt",
    "pitch_slot.en.html",
];

/// The variable every template may use for the name of the association running the instance.
pub const ASSOCIATION_NAME: &str = "association_name";

/// The association's name when `organization.name` is not set.
const DEFAULT_ASSOCIATION_NAME: &str = "Cordée";

/// The languages emails are written in; French is the default.
pub const LOCALES: [&str; 2] = ["fr", "en"];

/// A kind of email the application sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// Asks a new user to confirm their email address.
    VerifyEmail,
    /// Carries a password reset link.
    PasswordReset,
    /// Invites someone to join as administrator or jury member.
    Invitation,
    /// Warns the owner of an address that someone tried to register with it.
    RegistrationAttempt,
    /// Acknowledges a submitted application, with its reference and a summary of the answers.
    SubmissionReceipt,
    /// Tells the applicant that the call's team asks for changes before a due date.
    ChangesRequested,
    /// Tells the applicant whether the application is eligible (and goes to the jury) or not.
    ScreeningOutcome,
    /// Carries a message posted on an application by the applicant or by the call's team.
    NewMessage,
    /// Confirms that an application (or a draft) has been withdrawn.
    WithdrawalAck,
    /// Reminds the applicant that a draft is not submitted yet and the call closes soon.
    DraftReminder,
    /// Tells a juror which applications have just been assigned to them at a stage, with the due date if any.
    AssignmentDigest,
    /// Reminds a juror how many reviews of a stage are still pending before the due date.
    ReviewReminder,
    /// Tells the applicant the published decision (selected, waitlisted or rejected) and its motivation.
    DecisionPublished,
    /// Tells a territory's or a company's member how their pairing stands (proposed, accepted, declined or confirmed).
    PairingUpdate,
    /// Tells an administrator that a webhook was disabled after too many failed deliveries.
    WebhookDisabled,
    /// Tells an administrator that conflicts of interest were found for jurors already assigned (after an
    /// applicant's change, say) and wait for a decision.
    ConflictFlagged,
    /// Tells the applicant that staff revised its published decision: the new outcome, its motivation and
    /// the reason for the change (and, when the call takes appeals, until when it may be appealed).
    DecisionRevised,
    /// Tells the call's staff (administrators and its managers) that an applicant appealed a decision.
    AppealFiled,
    /// Tells the applicant how staff answered its appeal (upheld or dismissed) and why.
    AppealResolved,
    /// Tells a finalist's members the application is shortlisted to the next stage: its dates, the pitch
    /// slot to come, the documents asked.
    Shortlisted,
    /// Convenes a finalist to a pitch (date and time, place or link, how to confirm), or tells them it moved.
    PitchSlot,
}

impl Event {
    /// Every event, for iteration (e.g. in tests or template checks).
    pub const ALL: [Event; 21] = [
        Event::VerifyEmail,
        Event::PasswordReset,
        Event::Invitation,
        Event::RegistrationAttempt,
        Event::SubmissionReceipt,
        Event::ChangesRequested,
        Event::ScreeningOutcome,
        Event::NewMessage,
        Event::WithdrawalAck,
        Event::DraftReminder,
        Event::AssignmentDigest,
        Event::ReviewReminder,
        Event::DecisionPublished,
        Event::PairingUpdate,
        Event::WebhookDisabled,
        Event::ConflictFlagged,
        Event::DecisionRevised,
        Event::AppealFiled,
        Event::AppealResolved,
        Event::Shortlisted,
        Event::PitchSlot,
    ];

    /// The event's stable name, also the prefix of its template files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Event::VerifyEmail => "verify_email",
            Event::PasswordReset => "password_reset",
            Event::Invitation => "invitation",
            Event::RegistrationAttempt => "registration_attempt",
            Event::SubmissionReceipt => "submission_receipt",
            Event::ChangesRequested => "changes_requested",
            Event::ScreeningOutcome => "screening_outcome",
            Event::NewMessage => "new_message",
            Event::WithdrawalAck => "withdrawal_ack",
            Event::DraftReminder => "draft_reminder",
            Event::AssignmentDigest => "assignment_digest",
            Event::ReviewReminder => "review_reminder",
            Event::DecisionPublished => "decision_published",
            Event::PairingUpdate => "pairing_update",
            Event::WebhookDisabled => "webhook_disabled",
            Event::ConflictFlagged => "conflict_flagged",
            Event::DecisionRevised => "decision_revised",
            Event::AppealFiled => "appeal_filed",
            Event::AppealResolved => "appeal_resolved",
            Event::Shortlisted => "shortlisted",
            Event::PitchSlot => "pitch_slot",
        }
    }

    /// The event of a stable name.
    pub fn parse(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// Whether the email is about a call, and so may use the call's own template. Account emails
    /// (verification, password reset, registration attempts) and service emails are not.
    pub fn is_about_a_call(self) -> bool {
        !matches!(
            self,
            Event::VerifyEmail
                | Event::PasswordReset
                | Event::RegistrationAttempt
                | Event::WebhookDisabled
        )
    }

    /// The variables the event gives its templates, sorted (optional ones included). The HTML part
    /// also has `subject`, the rendered subject.
    pub fn variables(self) -> Vec<String> {
        let mut names: Vec<String> = example_context(self)
            .as_object()
            .map(|vars| vars.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// One of the three parts of an email template, named as in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Subject,
    Text,
    Html,
}

impl Part {
    /// Every part, in the order of an email.
    pub const ALL: [Part; 3] = [Part::Subject, Part::Text, Part::Html];

    /// The part's field name in the API.
    pub fn field(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Text => "text",
            Part::Html => "html",
        }
    }
}

/// The sources of an email template as staff edit them: the subject line, the plain-text body and the
/// HTML body (which may extend `layout.html`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSources {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl TemplateSources {
    /// The source of `part`.
    pub fn part(&self, part: Part) -> &str {
        match part {
            Part::Subject => &self.subject,
            Part::Text => &self.text,
            Part::Html => &self.html,
        }
    }
}

/// A template part that failed to render, with the template engine's error.
#[derive(Debug)]
pub struct PartError {
    pub part: Part,
    pub error: minijinja::Error,
}

impl std::fmt::Display for PartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:#}", self.part.field(), self.error)
    }
}

impl std::error::Error for PartError {}

/// The supported locale of `locale`: "en", else French.
pub fn locale_or_french(locale: &str) -> &'static str {
    if locale == "en" {
        "en"
    } else {
        "fr"
    }
}

/// The three parts of a rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// One-line subject.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (values auto-escaped).
    pub html: String,
}

/// The email template environment.
#[derive(Debug, Clone)]
pub struct Templates {
    env: Environment<'static>,
    /// For the HTML part of staff templates: every template it renders (included or extended ones too)
    /// escapes HTML, the `safe` filter does not exist, and a value written while escaping is off fails the
    /// rendering (see [`escaping_formatter`]).
    staff_html: Environment<'static>,
    /// The most bytes an email rendered from a staff template may have, its three parts together.
    max_rendered_bytes: usize,
}

/// The default of [`Templates::max_rendered_bytes`] (`email.max_rendered_bytes`): 1 MiB.
pub const DEFAULT_MAX_RENDERED_BYTES: usize = 1 << 20;

/// Why a value written by the HTML part of a staff template fails: escaping was off at that point.
pub const ESCAPING_OFF: &str =
    "HTML escaping is always on in the HTML part; a value cannot be written with it off";

/// The formatter of the staff HTML environment: values are written HTML-escaped, and writing one while
/// escaping is off (whatever expression turned it off: `{% autoescape false %}`, `{% autoescape true and
/// false %}`, `{% autoescape "html"|replace("html", "none") %}`…) is an error. Strings marked safe only come
/// from escaping or from the template's own output (the `safe` filter is removed), so they hold no
/// unescaped value.
fn escaping_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if state.auto_escape() != AutoEscape::Html {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            ESCAPING_OFF,
        ));
    }
    minijinja::escape_formatter(out, state, value)
}

/// Why a staff template's rendering stops: the email would be longer than the limit.
fn too_long(max: usize) -> minijinja::Error {
    minijinja::Error::new(
        ErrorKind::InvalidOperation,
        format!("{TOO_LONG} ({max} bytes)"),
    )
}

/// The start of the message of [`too_long`].
pub const TOO_LONG: &str = "the rendered email is longer than the limit";

/// An output that refuses to grow past its room, so that a template cannot fill the memory before its
/// size is checked.
struct Bounded<'a> {
    out: Vec<u8>,
    room: &'a mut usize,
    overflowed: bool,
}

impl std::io::Write for Bounded<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if bytes.len() > *self.room {
            self.overflowed = true;
            return Err(std::io::Error::other(TOO_LONG));
        }
        *self.room -= bytes.len();
        self.out.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders `template` into at most `*room` bytes, taking what it wrote from `room`; `max` is the whole
/// limit, for the message.
fn render_bounded<S: serde::Serialize>(
    template: &minijinja::Template<'_, '_>,
    ctx: S,
    room: &mut usize,
    max: usize,
) -> Result<String, minijinja::Error> {
    let mut output = Bounded {
        out: Vec::new(),
        room,
        overflowed: false,
    };
    match template.render_captured_to(ctx, &mut output) {
        Ok(_) => String::from_utf8(output.out).map_err(|_| {
            minijinja::Error::new(ErrorKind::BadSerialization, "the output is not UTF-8")
        }),
        Err(_) if output.overflowed => Err(too_long(max)),
        Err(err) => Err(err),
    }
}

/// How many instructions one rendering may run. The longest built-in email (a juror's digest of a few hundred
/// assignments) needs a few tens of thousands; a staff template looping for ever fails within milliseconds
/// instead of holding the worker (and is refused when saved, since every template is tried on example data).
const FUEL: u64 = 1_000_000;

/// An environment over the built-in templates, with strict undefined behaviour so that a missing
/// variable is an error, `fail(message)` to refuse a value no wording fits, and a budget of [`FUEL`].
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_loader(|name| Ok(builtin_source(name).map(str::to_owned)));
    env.add_function(
        "fail",
        |message: String| -> Result<Value, minijinja::Error> {
            Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
        },
    );
    env
}

/// The source of the built-in template `name`.
fn builtin_source(name: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, source)| *source)
}

impl Templates {
    /// Loads the built-in templates. Templates are compiled on first use.
    pub fn builtin() -> Templates {
        let mut staff_html = environment();
        staff_html.set_auto_escape_callback(|_| AutoEscape::Html);
        staff_html.remove_filter("safe");
        staff_html.set_formatter(escaping_formatter);
        Templates {
            env: environment(),
            staff_html,
            max_rendered_bytes: DEFAULT_MAX_RENDERED_BYTES,
        }
        .with_association_name(DEFAULT_ASSOCIATION_NAME)
    }

    /// The same templates signed by `name` (`organization.name`): every template, the staff's included,
    /// knows it as `association_name` (the header of the HTML layout, the signatures).
    pub fn with_association_name(mut self, name: &str) -> Templates {
        let name = if name.trim().is_empty() {
            DEFAULT_ASSOCIATION_NAME
        } else {
            name.trim()
        };
        self.env
            .add_global(ASSOCIATION_NAME, Value::from(name.to_owned()));
        self.staff_html
            .add_global(ASSOCIATION_NAME, Value::from(name.to_owned()));
        self
    }

    /// The same templates with another limit on the size of an email rendered from a staff template.
    pub fn with_max_rendered_bytes(mut self, max: usize) -> Templates {
        self.max_rendered_bytes = max;
        self
    }

    /// The built-in template of `event` in `locale` as staff edit it: the sources of the `subject` and
    /// `body` blocks of its text template, and its HTML template. `None` only if a built-in template
    /// lacks one of them (a unit test makes sure none does).
    pub fn builtin_sources(&self, event: Event, locale: &str) -> Option<TemplateSources> {
        let name = format!("{}.{}", event.as_str(), locale_or_french(locale));
        let text = builtin_source(&format!("{name}.txt"))?;
        let html = builtin_source(&format!("{name}.html"))?;
        Some(TemplateSources {
            subject: block_source(text, "subject")?.to_owned(),
            text: block_source(text, "body")?.to_owned(),
            html: html.to_owned(),
        })
    }

    /// Renders staff sources with the variables in `ctx`, exactly as the built-in templates are
    /// rendered; the error says which part failed.
    pub fn render_sources(
        &self,
        sources: &TemplateSources,
        ctx: &serde_json::Value,
    ) -> Result<RenderedEmail, PartError> {
        let failed = |part| move |error| PartError { part, error };
        let max = self.max_rendered_bytes;
        let mut room = max;
        let subject = self
            .staff_template(sources, Part::Subject)
            .and_then(|t| render_bounded(&t, ctx, &mut room, max))
            .map_err(failed(Part::Subject))?;
        let subject = one_line(&subject);
        let text = self
            .staff_template(sources, Part::Text)
            .and_then(|t| render_bounded(&t, ctx, &mut room, max))
            .map_err(failed(Part::Text))?;
        let html_ctx = context! { subject => &subject, ..Value::from_serialize(ctx) };
        let html = self
            .staff_template(sources, Part::Html)
            .and_then(|t| render_bounded(&t, html_ctx, &mut room, max))
            .map_err(failed(Part::Html))?;
        Ok(RenderedEmail {
            subject,
            text: format!("{}\n", text.trim()),
            html: format!("{}\n", html.trim()),
        })
    }

    /// The compiled staff source of `part`: the HTML part in the escaping environment, under a name
    /// ending in `.html`; the others under names ending in `.txt`.
    fn staff_template<'a>(
        &'a self,
        sources: &'a TemplateSources,
        part: Part,
    ) -> Result<minijinja::Template<'a, 'a>, minijinja::Error> {
        let env = match part {
            Part::Html => &self.staff_html,
            Part::Subject | Part::Text => &self.env,
        };
        env.template_from_named_str(staff_name(part), sources.part(part))
    }

    /// Renders `event` in `locale` ("fr" or "en"; anything else gives French)
    /// with the variables in `ctx`.
    pub fn render(
        &self,
        event: Event,
        locale: &str,
        ctx: &serde_json::Value,
    ) -> Result<RenderedEmail, minijinja::Error> {
        let name = format!("{}.{}", event.as_str(), locale_or_french(locale));

        let text_template = self.env.get_template(&format!("{name}.txt"))?;
        // `eval_to_state` is deprecated in minijinja 2.18+; this is its successor.
        let mut captured = text_template.render_captured_to(ctx, std::io::sink())?;
        let (subject, body) = captured.with_state_mut(|state| {
            Ok::<_, minijinja::Error>((state.render_block("subject")?, state.render_block("body")?))
        })?;
        let subject = one_line(&subject);
        let text = format!("{}\n", body.trim());

        let html_template = self.env.get_template(&format!("{name}.html"))?;
        let html_ctx = context! { subject => &subject, ..Value::from_serialize(ctx) };
        let html = format!("{}\n", html_template.render(html_ctx)?.trim());

        Ok(RenderedEmail {
            subject,
            text,
            html,
        })
    }
}

/// The name a staff template part compiles under: the HTML part's ends in `.html` (the name decides
/// escaping in the built-in environment), the others' in `.txt`.
fn staff_name(part: Part) -> &'static str {
    match part {
        Part::Subject => "staff/subject.txt",
        Part::Text => "staff/text.txt",
        Part::Html => "staff/body.html",
    }
}

/// Collapses all whitespace (including newlines) to single spaces, without control or format characters
/// (a right-to-left override in a name would turn the rest of the subject around).
fn one_line(s: &str) -> String {
    crate::domain::text::visible(&s.split_whitespace().collect::<Vec<_>>().join(" "))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The source inside `{% block name %}…{% endblock %}` of a built-in text template, without the line
/// break that follows the opening tag (the environment trims it when rendering too).
fn block_source<'a>(template: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("{{% block {name} %}}");
    let start = template.find(&open)? + open.len();
    let rest = &template[start..];
    // Blocks do not nest in the text templates: the first end tag closes this block.
    let end = rest.find("{% endblock %}")?;
    let inner = &rest[..end];
    Some(inner.strip_prefix('\n').unwrap_or(inner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example(event: Event) -> serde_json::Value {
        example_context(event)
    }

    fn optional(event: Event) -> &'static [&'static str] {
        optional_variables(event)
    }

    /// The example of `event` with every optional variable removed.
    fn without_optional(event: Event) -> serde_json::Value {
        let mut ctx = example(event);
        for name in optional(event) {
            ctx.as_object_mut().unwrap().remove(*name);
        }
        ctx
    }

    /// The example of `event` with every optional variable set to null.
    fn with_null_optional(event: Event) -> serde_json::Value {
        let mut ctx = example(event);
        for name in optional(event) {
            ctx[*name] = serde_json::Value::Null;
        }
        ctx
    }

    fn render(event: Event, locale: &str, ctx: &serde_json::Value) -> RenderedEmail {
        Templates::builtin()
            .render(event, locale, ctx)
            .unwrap_or_else(|e| panic!("{} {locale}: {e:#}", event.as_str()))
    }

    #[test]
    fn every_event_renders_in_both_locales() {
        let templates = Templates::builtin();
        for event in Event::ALL {
            let contexts = [
                example(event),
                without_optional(event),
                with_null_optional(event),
            ];
            for ctx in &contexts {
                for locale in ["fr", "en"] {
                    let email = templates
                        .render(event, locale, ctx)
                        .unwrap_or_else(|e| panic!("{} {locale}: {e:#}", event.as_str()));
                    assert!(!email.subject.is_empty());
                    assert!(!email.subject.contains('\n'));
                    assert!(email.text.len() > 50, "{}", email.text);
                    assert!(!email.text.contains("\n\n\n"), "{}", email.text);
                    assert!(
                        email.text.lines().all(|l| l == l.trim_end()),
                        "{}",
                        email.text
                    );
                    assert!(email.html.starts_with("<!DOCTYPE html>"));
                    assert!(email.html.contains(&format!("lang=\"{locale}\"")));
                    assert!(email.html.contains("Cordée"));
                    let signature = if locale == "fr" {
                        "L'équipe Cordée"
                    } else {
                        "The Cordée team"
                    };
                    assert!(email.text.contains(signature), "{}", email.text);
                    assert!(email.html.contains(signature), "{}", email.html);
                }
            }
        }
    }

    #[test]
    fn the_builtin_sources_render_exactly_like_the_builtin_templates() {
        let templates = Templates::builtin();
        for event in Event::ALL {
            for locale in ["fr", "en"] {
                let sources = templates.builtin_sources(event, locale).unwrap();
                assert!(!sources.subject.contains("{% block"), "{}", sources.subject);
                assert!(!sources.text.starts_with('\n'), "{}", sources.text);
                assert!(sources.html.starts_with("{% extends \"layout.html\" %}"));
                for ctx in [
                    example(event),
                    without_optional(event),
                    with_null_optional(event),
                ] {
                    let staff = templates
                        .render_sources(&sources, &ctx)
                        .unwrap_or_else(|e| panic!("{} {locale}: {e}", event.as_str()));
                    assert_eq!(staff, render(event, locale, &ctx), "{}", event.as_str());
                }
            }
        }
    }

    #[test]
    fn a_failing_part_is_named() {
        let templates = Templates::builtin();
        let mut sources = templates
            .builtin_sources(Event::DecisionPublished, "fr")
            .unwrap();
        sources.html = "<p>{{ fail(\"no\") }}</p>".into();
        let err = templates
            .render_sources(&sources, &example(Event::DecisionPublished))
            .unwrap_err();
        assert_eq!(err.part, Part::Html);
        let mut ctx = example(Event::DecisionPublished);
        ctx["outcome"] = json!("pending");
        let err = templates.render_sources(&sources, &ctx).unwrap_err();
        assert_eq!(err.part, Part::Text);
        assert!(
            err.to_string().contains("outcome must be selected"),
            "{err}"
        );
    }

    #[test]
    fn events_parse_from_their_names() {
        for event in Event::ALL {
            assert_eq!(Event::parse(event.as_str()), Some(event));
        }
        assert_eq!(Event::parse("Submission_Receipt"), None);
        assert!(Event::SubmissionReceipt.is_about_a_call());
        assert!(!Event::PasswordReset.is_about_a_call());
        assert!(!Event::WebhookDisabled.is_about_a_call());
        assert_eq!(
            Event::WebhookDisabled.variables(),
            vec!["display_name", "failures", "link", "reason", "url"]
        );
    }

    #[test]
    fn webhook_disabled_names_the_webhook_and_the_last_error() {
        let mut ctx = example(Event::WebhookDisabled);
        let fr = render(Event::WebhookDisabled, "fr", &ctx);
        assert_eq!(
            fr.subject,
            "Webhook désactivé après 10 échecs : https://partenaire.example/hooks/cordee"
        );
        assert!(fr.text.contains("après 10 échecs de livraison consécutifs"));
        assert!(fr
            .text
            .contains("Dernière erreur :\n\nHTTP 503 Service Unavailable"));
        assert!(fr.text.contains(ctx["link"].as_str().unwrap()));
        assert!(fr.html.contains("Voir le webhook"));
        let en = render(Event::WebhookDisabled, "en", &ctx);
        assert_eq!(
            en.subject,
            "Webhook disabled after 10 failures: https://partenaire.example/hooks/cordee"
        );
        assert!(en.text.contains("after 10 consecutive failed deliveries"));

        ctx["failures"] = json!(1);
        ctx["reason"] = json!("<b>refused</b>");
        let fr = render(Event::WebhookDisabled, "fr", &ctx);
        assert!(fr.subject.starts_with("Webhook désactivé après 1 échec :"));
        assert!(fr.text.contains("<b>refused</b>"));
        assert!(
            fr.html.contains("&lt;b&gt;refused&lt;&#x2f;b&gt;"),
            "{}",
            fr.html
        );
        let en = render(Event::WebhookDisabled, "en", &ctx);
        assert!(en.text.contains("after 1 consecutive failed delivery."));
    }

    #[test]
    fn text_contains_link_and_token() {
        let email = Templates::builtin()
            .render(Event::VerifyEmail, "fr", &example(Event::VerifyEmail))
            .unwrap();
        assert!(email
            .text
            .contains("https://cordee.example/verify?token=abc123"));
        assert!(email.text.contains("abc123"));
        assert!(email.text.contains("24 heures"));
        assert!(email.html.contains("abc123"));
    }

    #[test]
    fn html_escapes_but_text_keeps_verbatim() {
        let cases = [
            (Event::VerifyEmail, "/display_name"),
            (Event::NewMessage, "/message"),
            (Event::ChangesRequested, "/reason"),
            (Event::ScreeningOutcome, "/reason"),
            (Event::WithdrawalAck, "/reason"),
            (Event::SubmissionReceipt, "/answers/1/value"),
            (Event::AssignmentDigest, "/display_name"),
            (Event::AssignmentDigest, "/applications/1/organization_name"),
            (Event::ReviewReminder, "/display_name"),
            (Event::DecisionPublished, "/motivation"),
            (Event::DecisionPublished, "/organization_name"),
            (Event::PairingUpdate, "/display_name"),
            (Event::PairingUpdate, "/organization_name"),
            (Event::PairingUpdate, "/territory_name"),
            (Event::PairingUpdate, "/partner_name"),
            (Event::Shortlisted, "/extra_documents/0/label"),
            (Event::PitchSlot, "/place"),
        ];
        for (event, pointer) in cases {
            let mut ctx = example(event);
            *ctx.pointer_mut(pointer).unwrap() = json!("<script>alert(1)</script>");
            for locale in ["fr", "en"] {
                let email = render(event, locale, &ctx);
                assert!(
                    email.text.contains("<script>alert(1)</script>"),
                    "{} {pointer}",
                    event.as_str()
                );
                assert!(!email.html.contains("<script>"), "{}", event.as_str());
                assert!(
                    email
                        .html
                        .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
                    "{} {pointer}: {}",
                    event.as_str(),
                    email.html
                );
            }
        }
    }

    /// Every variable an event's templates need is an error when missing. The header of application emails
    /// (`notify::emails::ApplicationHeader`) is given to all of them, used or not (the withdrawal
    /// acknowledgement does not link to the application, say), so a template that does not use `link` is
    /// not a mistake.
    #[test]
    fn missing_variable_is_an_error() {
        let templates = Templates::builtin();
        for event in Event::ALL {
            let full = example(event);
            let header_only = |k: &str| k == "link" && matches!(event, Event::WithdrawalAck);
            let names = full
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| !optional(event).contains(&k.as_str()) && !header_only(k));
            for name in names {
                let mut ctx = full.clone();
                ctx.as_object_mut().unwrap().remove(name);
                for locale in ["fr", "en"] {
                    assert!(
                        templates.render(event, locale, &ctx).is_err(),
                        "{} {locale} without {name}",
                        event.as_str()
                    );
                }
            }
        }
    }

    #[test]
    fn french_and_english_subjects_differ() {
        let templates = Templates::builtin();
        for event in Event::ALL {
            let fr = templates.render(event, "fr", &example(event)).unwrap();
            let en = templates.render(event, "en", &example(event)).unwrap();
            assert_ne!(fr.subject, en.subject);
        }
    }

    #[test]
    fn unknown_locale_falls_back_to_french() {
        let templates = Templates::builtin();
        let ctx = example(Event::PasswordReset);
        let fr = templates.render(Event::PasswordReset, "fr", &ctx).unwrap();
        let other = templates.render(Event::PasswordReset, "de", &ctx).unwrap();
        assert_eq!(fr, other);
    }

    #[test]
    fn invitation_call_title_is_optional() {
        let templates = Templates::builtin();
        let mut ctx = example(Event::Invitation);
        let with = templates.render(Event::Invitation, "fr", &ctx).unwrap();
        assert!(with.text.contains("membre du jury"));
        assert!(with.text.contains("« Alpes Tourisme Lab »"));
        assert!(with.html.contains("Alpes Tourisme Lab"));

        ctx["call_title"] = serde_json::Value::Null;
        let null = templates.render(Event::Invitation, "fr", &ctx).unwrap();
        assert!(!null.text.contains("appel à candidatures"));

        ctx.as_object_mut().unwrap().remove("call_title");
        ctx["role"] = json!("admin");
        for locale in ["fr", "en"] {
            let absent = templates.render(Event::Invitation, locale, &ctx).unwrap();
            assert!(!absent.text.contains("Alpes Tourisme Lab"));
            let admin = if locale == "fr" {
                "en tant qu'administrateur·rice."
            } else {
                "as an administrator."
            };
            assert!(absent.text.contains(admin), "{}", absent.text);
        }
    }

    #[test]
    fn singular_durations() {
        let mut ctx = example(Event::Invitation);
        ctx["expires_in_days"] = json!(1);
        let templates = Templates::builtin();
        let fr = templates.render(Event::Invitation, "fr", &ctx).unwrap();
        assert!(fr.text.contains("dans 1 jour."));
        let en = templates.render(Event::Invitation, "en", &ctx).unwrap();
        assert!(en.text.contains("in 1 day."));
    }

    #[test]
    fn submission_receipt_lists_the_answers() {
        let ctx = example(Event::SubmissionReceipt);
        let fr = render(Event::SubmissionReceipt, "fr", &ctx);
        assert!(fr.subject.contains("ATL-2026-0007"), "{}", fr.subject);
        assert!(fr.text.contains("6 janvier 2026 à 14:05 (Europe/Paris)"));
        assert!(fr.text.contains("- Nom du projet : Sentiers connectés\n"));
        assert!(fr.text.contains(
            "- Description : Des capteurs de fréquentation\n  sur les sentiers du massif.\n"
        ));
        assert!(fr.text.contains("- Site web : (sans réponse)\n"));
        assert!(fr.html.contains("Nom du projet"));
        assert!(fr.html.contains("Sentiers connectés"));
        assert!(fr
            .html
            .contains("Des capteurs de fréquentation\nsur les sentiers du massif."));
        assert!(fr.html.contains("white-space:pre-wrap"));

        let en = render(Event::SubmissionReceipt, "en", &ctx);
        assert!(en.subject.contains("ATL-2026-0007"), "{}", en.subject);
        assert!(en.text.contains("- Nom du projet: Sentiers connectés\n"));
        assert!(en.text.contains("- Site web: (no answer)\n"));

        let mut empty = ctx.clone();
        empty["answers"] = json!([]);
        assert!(render(Event::SubmissionReceipt, "fr", &empty)
            .text
            .contains("(aucune réponse)"));
        assert!(render(Event::SubmissionReceipt, "en", &empty)
            .text
            .contains("(no answers)"));

        let mut incomplete = ctx;
        incomplete["answers"] = json!([{"label": "Nom du projet"}]);
        assert!(Templates::builtin()
            .render(Event::SubmissionReceipt, "fr", &incomplete)
            .is_err());
    }

    #[test]
    fn changes_requested_gives_reason_and_due_date() {
        let ctx = example(Event::ChangesRequested);
        let fr = render(Event::ChangesRequested, "fr", &ctx);
        assert!(fr.subject.contains("ATL-2026-0007"));
        assert!(fr
            .text
            .contains("Merci de joindre le budget prévisionnel.\nLe plan de financement manque."));
        assert!(fr
            .text
            .contains("avant le 20 janvier 2026 à 18:00 (Europe/Paris)."));
        assert!(fr.text.contains(ctx["link"].as_str().unwrap()));
        let en = render(Event::ChangesRequested, "en", &ctx);
        assert!(en
            .text
            .contains("resubmit it before 20 janvier 2026 à 18:00 (Europe/Paris)."));
    }

    #[test]
    fn screening_outcome_wording() {
        let templates = Templates::builtin();
        let mut ctx = example(Event::ScreeningOutcome);

        let fr = render(Event::ScreeningOutcome, "fr", &ctx);
        assert!(fr.text.contains("n'est pas éligible"), "{}", fr.text);
        assert!(fr.text.contains("règlement de l'appel"));
        assert!(fr.text.contains("Motif :\n\nLe siège"));
        assert!(!fr.text.contains("transmise au jury, qui"));
        let en = render(Event::ScreeningOutcome, "en", &ctx);
        assert!(en
            .text
            .contains("does not meet the conditions set by the rules"));
        assert!(en.text.contains("Reason:\n\nLe siège"));

        ctx["outcome"] = json!("eligible");
        ctx["reason"] = serde_json::Value::Null;
        let fr = render(Event::ScreeningOutcome, "fr", &ctx);
        assert!(fr
            .text
            .contains("est éligible : elle est transmise au jury"));
        assert!(!fr.text.contains("Motif"));
        assert!(!fr.text.contains("Commentaire"));
        assert!(!fr.html.contains("Commentaire"));
        let en = render(Event::ScreeningOutcome, "en", &ctx);
        assert!(en
            .text
            .contains("is eligible: it has been passed on to the jury"));

        ctx["reason"] = json!("Dossier complet.");
        let fr = render(Event::ScreeningOutcome, "fr", &ctx);
        assert!(fr
            .text
            .contains("Commentaire de l'équipe :\n\nDossier complet."));

        ctx["outcome"] = json!("pending");
        for locale in ["fr", "en"] {
            assert!(templates
                .render(Event::ScreeningOutcome, locale, &ctx)
                .is_err());
        }
    }

    #[test]
    fn new_message_names_the_author_and_keeps_line_breaks() {
        let templates = Templates::builtin();
        let mut ctx = example(Event::NewMessage);
        let message = "Bonjour,\n\nPourriez-vous préciser le calendrier ?\nMerci.";

        let fr = render(Event::NewMessage, "fr", &ctx);
        assert_eq!(
            fr.subject,
            "Nouveau message sur la candidature EXM-2026-0012"
        );
        assert!(fr.text.contains(
            "L'équipe de l'appel à candidatures « Expérimentation Montagne » vous a envoyé un message"
        ));
        assert!(fr.text.contains(message));
        assert!(fr.html.contains("white-space:pre-wrap"));
        assert!(fr
            .html
            .contains("Bonjour,\n\nPourriez-vous préciser le calendrier ?\nMerci."));
        let en = render(Event::NewMessage, "en", &ctx);
        assert!(en
            .text
            .contains("The team running the call for applications"));
        assert!(en.text.contains(message));

        ctx["author_side"] = json!("applicant");
        let fr = render(Event::NewMessage, "fr", &ctx);
        assert!(fr.text.contains(
            "Le candidat (Refuges du Vercors) vous a envoyé un message au sujet de sa candidature EXM-2026-0012"
        ));
        let en = render(Event::NewMessage, "en", &ctx);
        assert!(en
            .text
            .contains("The applicant (Refuges du Vercors) has sent you a message"));

        ctx.as_object_mut().unwrap().remove("reference");
        let fr = render(Event::NewMessage, "fr", &ctx);
        assert!(fr.subject.contains("brouillon"), "{}", fr.subject);
        assert!(fr.text.contains("sa candidature en cours de rédaction"));
        let en = render(Event::NewMessage, "en", &ctx);
        assert!(en.subject.contains("draft"), "{}", en.subject);
        assert!(en.text.contains("their draft application"));

        ctx["author_side"] = json!("jury");
        for locale in ["fr", "en"] {
            assert!(templates.render(Event::NewMessage, locale, &ctx).is_err());
        }
    }

    #[test]
    fn withdrawal_ack_reference_and_reason_are_optional() {
        let ctx = example(Event::WithdrawalAck);
        let fr = render(Event::WithdrawalAck, "fr", &ctx);
        assert!(fr.subject.contains("EXM-2026-0012"));
        assert!(fr
            .text
            .contains("Motif indiqué :\n\nProjet reporté à l'an prochain."));
        let en = render(Event::WithdrawalAck, "en", &ctx);
        assert!(en.subject.contains("EXM-2026-0012"));
        assert!(en.text.contains("Reason given:"));

        for ctx in [
            without_optional(Event::WithdrawalAck),
            with_null_optional(Event::WithdrawalAck),
        ] {
            let fr = render(Event::WithdrawalAck, "fr", &ctx);
            assert!(fr.subject.contains("« Expérimentation Montagne »"));
            assert!(fr.text.contains("la candidature en cours de rédaction"));
            assert!(!fr.text.contains("Motif"));
            assert!(!fr.html.contains("Motif"));
            let en = render(Event::WithdrawalAck, "en", &ctx);
            assert!(en
                .text
                .contains("the draft application for Refuges du Vercors"));
            assert!(!en.text.contains("Reason"));
        }
    }

    #[test]
    fn draft_reminder_days_left() {
        let mut ctx = example(Event::DraftReminder);
        let fr = render(Event::DraftReminder, "fr", &ctx);
        assert!(fr.subject.ends_with("dans 7 jours"), "{}", fr.subject);
        assert!(fr.text.contains("soit dans 7 jours."));
        assert!(fr.text.contains("pas encore été soumise"));
        let en = render(Event::DraftReminder, "en", &ctx);
        assert!(en.subject.ends_with("in 7 days"), "{}", en.subject);
        assert!(en.text.contains("that is in 7 days."));

        ctx["days_left"] = json!(1);
        let fr = render(Event::DraftReminder, "fr", &ctx);
        assert!(fr.subject.ends_with("dans 1 jour"), "{}", fr.subject);
        assert!(fr.text.contains("soit dans 1 jour."));
        assert!(fr.html.contains("1&nbsp;jour."));
        let en = render(Event::DraftReminder, "en", &ctx);
        assert!(en.subject.ends_with("in 1 day"), "{}", en.subject);
        assert!(en.text.contains("that is in 1 day."));
    }

    #[test]
    fn assignment_digest_lists_the_applications() {
        let mut ctx = example(Event::AssignmentDigest);
        let fr = render(Event::AssignmentDigest, "fr", &ctx);
        assert_eq!(
            fr.subject,
            "Appel « Alpes Tourisme Lab » : 2 nouvelles candidatures à évaluer"
        );
        assert!(fr.text.contains(
            "Vous avez 2 nouvelles candidatures à évaluer pour l'étape « Évaluation écrite » de l'appel à candidatures « Alpes Tourisme Lab » :"
        ));
        assert!(fr
            .text
            .contains("- ATL-2026-0007 – Refuges du Vercors\n- ATL-2026-0011 – Glisse & Co\n"));
        assert!(fr
            .text
            .contains("avant le 3 février 2026 à 18:00 (Europe/Paris)."));
        assert!(fr.text.contains(ctx["link"].as_str().unwrap()));
        assert!(fr
            .html
            .contains("<strong>ATL-2026-0011</strong> – Glisse &amp; Co"));
        let en = render(Event::AssignmentDigest, "en", &ctx);
        assert_eq!(
            en.subject,
            "2 new applications to review for \"Alpes Tourisme Lab\""
        );
        assert!(en
            .text
            .contains("You have 2 new applications to review for the \"Évaluation écrite\" stage"));
        assert!(en
            .text
            .contains("before 3 février 2026 à 18:00 (Europe/Paris)."));

        ctx["count"] = json!(1);
        ctx["applications"] = json!([
            {"reference": "ATL-2026-0007", "organization_name": "Refuges du Vercors"}
        ]);
        ctx["due_at"] = serde_json::Value::Null;
        let fr = render(Event::AssignmentDigest, "fr", &ctx);
        assert!(fr.subject.ends_with(": 1 nouvelle candidature à évaluer"));
        assert!(fr
            .text
            .contains("Vous avez 1 nouvelle candidature à évaluer"));
        assert!(!fr.text.contains("avant le"));
        assert!(!fr.html.contains("avant le"));
        let en = render(Event::AssignmentDigest, "en", &ctx);
        assert!(en.subject.starts_with("1 new application to review"));
        assert!(!en.text.contains("before"));

        let mut incomplete = ctx;
        incomplete["applications"] = json!([{"reference": "ATL-2026-0007"}]);
        for locale in ["fr", "en"] {
            assert!(Templates::builtin()
                .render(Event::AssignmentDigest, locale, &incomplete)
                .is_err());
        }
    }

    #[test]
    fn review_reminder_counts_pending_reviews() {
        let mut ctx = example(Event::ReviewReminder);
        let fr = render(Event::ReviewReminder, "fr", &ctx);
        assert_eq!(
            fr.subject,
            "Rappel : 3 évaluations en attente pour l'appel « Alpes Tourisme Lab »"
        );
        assert!(fr.text.contains(
            "Il vous reste 3 évaluations à rendre pour l'étape « Évaluation écrite » de l'appel à candidatures « Alpes Tourisme Lab », avant le 3 février 2026 à 18:00 (Europe/Paris)."
        ));
        assert!(fr.text.contains("Pour les compléter"));
        assert!(fr.html.contains("3&nbsp;évaluations"));
        let en = render(Event::ReviewReminder, "en", &ctx);
        assert_eq!(
            en.subject,
            "Reminder: 3 reviews pending for \"Alpes Tourisme Lab\""
        );
        assert!(en.text.contains(
            "You still have 3 reviews to complete for the \"Évaluation écrite\" stage of the call for applications \"Alpes Tourisme Lab\", before 3 février 2026 à 18:00 (Europe/Paris)."
        ));

        ctx["pending"] = json!(1);
        let fr = render(Event::ReviewReminder, "fr", &ctx);
        assert!(fr.subject.starts_with("Rappel : 1 évaluation en attente"));
        assert!(fr.text.contains("Il vous reste 1 évaluation à rendre"));
        assert!(fr.text.contains("Pour la compléter"));
        let en = render(Event::ReviewReminder, "en", &ctx);
        assert!(en.subject.starts_with("Reminder: 1 review pending"));
        assert!(en.text.contains("You still have 1 review to complete"));
        assert!(en.text.contains("To complete it,"));
    }

    #[test]
    fn decision_published_wording_per_outcome() {
        let templates = Templates::builtin();
        let mut ctx = example(Event::DecisionPublished);
        let motivation = "Projet solide et bien chiffré.\nLe jury salue l'ancrage local.";

        let fr = render(Event::DecisionPublished, "fr", &ctx);
        assert_eq!(
            fr.subject,
            "Décision concernant votre candidature ATL-2026-0007"
        );
        assert!(fr.text.contains(
            "Refuges du Vercors fait partie des lauréats de l'appel et rejoint le programme."
        ));
        assert!(fr
            .text
            .contains(&format!("Motivation de la décision :\n\n{motivation}\n")));
        assert!(fr.html.contains("white-space:pre-wrap"));
        assert!(fr
            .html
            .contains("Projet solide et bien chiffré.\nLe jury salue l&#x27;ancrage local."));
        assert!(fr.text.contains(ctx["link"].as_str().unwrap()));
        let en = render(Event::DecisionPublished, "en", &ctx);
        assert_eq!(en.subject, "Decision on your application ATL-2026-0007");
        assert!(en.text.contains(
            "Refuges du Vercors is one of the laureates of the call and joins the programme."
        ));
        assert!(en
            .text
            .contains(&format!("Reasons for the decision:\n\n{motivation}\n")));

        ctx["outcome"] = json!("waitlisted");
        let fr = render(Event::DecisionPublished, "fr", &ctx);
        assert!(fr.text.contains("placée sur liste d'attente"));
        assert!(!fr.text.contains("lauréats"));
        let en = render(Event::DecisionPublished, "en", &ctx);
        assert!(en.text.contains("placed on the waiting list"));

        ctx["outcome"] = json!("rejected");
        let fr = render(Event::DecisionPublished, "fr", &ctx);
        assert!(fr
            .text
            .contains("votre candidature n'a pas été retenue cette fois-ci."));
        assert!(!fr.text.contains("liste d'attente"));
        assert!(fr
            .html
            .contains("n'a pas été retenue</strong> cette fois-ci."));
        let en = render(Event::DecisionPublished, "en", &ctx);
        assert!(en
            .text
            .contains("your application has not been selected this time."));

        // An expression of interest is triaged: the email speaks of it, and of the catalogue when retained.
        ctx["outcome"] = json!("retained");
        let fr = render(Event::DecisionPublished, "fr", &ctx);
        assert!(fr.text.contains("à l'appel à manifestation d'intérêt"));
        assert!(fr
            .text
            .contains("votre manifestation d'intérêt a été retenue"));
        assert!(fr.text.contains("catalogue public de l'appel"));
        assert!(fr.html.contains("a été <strong>retenue</strong>"));
        assert!(!fr.text.contains("appel à candidatures"));
        let en = render(Event::DecisionPublished, "en", &ctx);
        assert!(en.text.contains("to the call for expressions of interest"));
        assert!(en
            .text
            .contains("your expression of interest has been retained"));
        assert!(en.html.contains("public catalogue"));
        ctx["outcome"] = json!("not_retained");
        let fr = render(Event::DecisionPublished, "fr", &ctx);
        assert!(fr
            .text
            .contains("votre manifestation d'intérêt n'a pas été retenue."));
        assert!(!fr.text.contains("catalogue"));
        let en = render(Event::DecisionPublished, "en", &ctx);
        assert!(en
            .html
            .contains("your expression of interest <strong>has not been retained</strong>."));

        for outcome in [json!("pending"), json!("Selected"), json!(null)] {
            ctx["outcome"] = outcome;
            for locale in ["fr", "en"] {
                assert!(templates
                    .render(Event::DecisionPublished, locale, &ctx)
                    .is_err());
            }
        }
    }

    #[test]
    fn pairing_update_wording_per_step() {
        let templates = Templates::builtin();
        let mut ctx = example(Event::PairingUpdate);

        let fr = render(Event::PairingUpdate, "fr", &ctx);
        assert_eq!(
            fr.subject,
            "Proposition de binôme : Commune de Chamonix-Mont-Blanc et Capteurs Alpins"
        );
        assert!(fr.text.contains(
            "en tant que membre de Commune de Chamonix-Mont-Blanc, au sujet de la mise en relation entre Commune de Chamonix-Mont-Blanc et Capteurs Alpins dans le cadre de l'appel à candidatures « Expérimentation Montagne » (candidature EXM-2026-0012)."
        ));
        assert!(fr.text.contains("propose de former ce binôme"));
        let en = render(Event::PairingUpdate, "en", &ctx);
        assert_eq!(
            en.subject,
            "Pairing proposal: Commune de Chamonix-Mont-Blanc and Capteurs Alpins"
        );
        assert!(en.text.contains(
            "about the pairing of Commune de Chamonix-Mont-Blanc with Capteurs Alpins for the call for applications \"Expérimentation Montagne\" (application EXM-2026-0012)."
        ));
        assert!(en.text.contains(
            "This pairing is proposed by the organization \"Capteurs Alpins\", not by the call's team."
        ));
        assert!(fr.text.contains(
            "C'est l'organisation « Capteurs Alpins » qui propose de former ce binôme, et non l'équipe de l'appel."
        ));

        // Proposed by staff: the call's team speaks.
        let mut by_staff = ctx.clone();
        by_staff["proposer_name"] = serde_json::Value::Null;
        let en = render(Event::PairingUpdate, "en", &by_staff);
        assert!(en.text.contains("The call's team proposes this pairing."));
        assert!(!en.text.contains("proposed by the organization"));
        let fr = render(Event::PairingUpdate, "fr", &by_staff);
        assert!(fr
            .text
            .contains("L'équipe de l'appel propose de former ce binôme."));

        let steps = [
            (
                "accepted",
                "Proposition de binôme acceptée",
                "a été acceptée",
                "Pairing proposal accepted",
                "has been accepted",
            ),
            (
                "declined",
                "Proposition de binôme déclinée",
                "a été déclinée",
                "Pairing proposal declined",
                "has been declined",
            ),
            (
                "confirmed",
                "Binôme confirmé",
                "Le binôme est confirmé !",
                "Pairing confirmed",
                "The pairing is confirmed!",
            ),
        ];
        for (step, fr_subject, fr_text, en_subject, en_text) in steps {
            ctx["step"] = json!(step);
            let fr = render(Event::PairingUpdate, "fr", &ctx);
            assert!(
                fr.subject.starts_with(&format!("{fr_subject} : ")),
                "{}",
                fr.subject
            );
            assert!(fr.text.contains(fr_text), "{}", fr.text);
            assert!(!fr.text.contains("propose de former"));
            let en = render(Event::PairingUpdate, "en", &ctx);
            assert!(
                en.subject.starts_with(&format!("{en_subject}: ")),
                "{}",
                en.subject
            );
            assert!(en.text.contains(en_text), "{}", en.text);
        }

        for ctx in [
            without_optional(Event::PairingUpdate),
            with_null_optional(Event::PairingUpdate),
        ] {
            let fr = render(Event::PairingUpdate, "fr", &ctx);
            assert!(fr
                .text
                .contains("l'appel à candidatures « Expérimentation Montagne »."));
            assert!(!fr.text.contains("EXM-2026-0012"));
            assert!(!fr.html.contains("EXM-2026-0012"));
            let en = render(Event::PairingUpdate, "en", &ctx);
            assert!(en.text.contains("\"Expérimentation Montagne\"."));
            assert!(!en.text.contains("EXM-2026-0012"));
        }

        for step in [json!("rejected"), json!("Confirmed"), json!(null)] {
            ctx["step"] = step;
            for locale in ["fr", "en"] {
                assert!(templates
                    .render(Event::PairingUpdate, locale, &ctx)
                    .is_err());
            }
        }
    }
}
