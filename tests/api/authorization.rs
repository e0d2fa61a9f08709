//! The authorization matrix: every route of the route table (`helpers::routes::ROUTES`), called as every kind of
//! caller, against the expected outcome written in [`EXPECTED`] below. A route without a row, or a row
//! without a route, fails the test. Every answer is also searched for what its caller must never see
//! (password hashes, token secrets, other people's answers, other jurors' reviews), and the write bodies
//! are checked against mass assignment.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use reqwest::header::{ETAG, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::routes::ROUTES;
use crate::helpers::*;

/// The callers, one column each in [`EXPECTED`].
///
/// - `anon`: no token;
/// - `A`: applicant A (session), owner of the territory whose application (submitted, screened eligible, so
///   no longer editable: 409) is the target of most rows;
/// - `B`: applicant B (session), owner of another territory with its own application to the same call;
///   the call is an Expérimentation Montagne (territories, with companies proposed as partners);
/// - `jur`: a juror assigned A's application (with a draft review of it);
/// - `unas`: a juror of the call with no assignment;
/// - `conf`: a juror of the call who was assigned A's application, then declared a conflict with it;
/// - `adm`: an administrator (session);
/// - `t:ar`, `t:aw`: applicant A's personal tokens with the single scope `applications:read`, `…:write`;
/// - `t:rr`, `t:rw`: the assigned juror's personal tokens with the single scope `reviews:read`, `…:write`;
/// - `t:ad`: the administrator's personal token with the single scope `admin`;
/// - `mgr`: a manager of the call (session), granted by invitation: acts on the call as staff;
/// - `obs`: an observer of the call (session), granted by invitation: reads it, changes nothing, exports no
///   personal data;
/// - `oth`: a manager of another call (a partner of another call, session), who is told nothing of this one.
///
/// Staff routes of a call answer 404 to a signed-in caller without a role on it (`A`, `B`, the jurors,
/// `oth`), 403 to a personal token without the `admin` scope, 403 `managers_only` to an observer where only
/// managers act; the platform's routes (creating, editing and publishing calls, invitations, removing staff,
/// webhooks, the outbox, the audit log, the event feed) stay with administrators (403 for everyone else).
const CALLERS: [&str; 15] = [
    "anon", "A", "B", "jur", "unas", "conf", "adm", "t:ar", "t:aw", "t:rr", "t:rw", "t:ad", "mgr",
    "obs", "oth",
];

/// What each caller gets from each route, in the world built by [`World::build`]. Entries: `ok` any 2xx;
/// `401`, `403`, `404`: refused (unauthenticated, not allowed, not even told it exists); another code
/// (`409`, `412`, `422`…): the caller is allowed, but the body or the state is refused.
///
/// `{id}` is the published call (a draft one for `/publish`), A's application (B's, still submitted, for
/// `/screening`: A's is already eligible), A's organization, A's spare personal token, a webhook or an
/// outbox email (already sent: retrying it is 409); `{attachment_id}` A's letter of support;
/// `{review_id}` the submitted review of A's application by another juror; `{conflict_id}` the conflict
/// flagged when A's territory took the website of that juror's firm after the review; `{pairing_id}` a company
/// proposed for A's application; `{application_id}` A's application (this call has no catalogue: consent
/// and publication are 409, its catalogue 404 to everyone); `{user_id}` a juror of the call who is no column
/// here (a member of A's organization, who joined by invitation, in `/organizations/{id}/members/{user_id}`;
/// the observer in `/calls/{id}/staff/{user_id}`).
///
/// The last column says how the row runs: empty, every caller in turn on one shared world (the call
/// succeeds without spoiling what the next rows need); `fresh`, each caller expected `ok` gets a world of
/// its own (the call changes what the others would see); `alone`, the row gets its own people and world,
/// callers run right to left (it ends sessions or accounts).
const EXPECTED: &str = "
method path                                                           | anon A    B    jur  unas conf adm  t:ar t:aw t:rr t:rw t:ad mgr  obs  oth  | how
GET    /health                                                        | ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
GET    /ready                                                         | ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
GET    /metrics                                                       | ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
POST   /api/v1/auth/register                                          | ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
POST   /api/v1/auth/verify-email                                      | 422  422  422  422  422  422  422  422  422  422  422  422  422  422  422  |
POST   /api/v1/auth/verify-email/resend                               | 401  ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
POST   /api/v1/auth/login                                             | ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
POST   /api/v1/auth/logout                                            | 401  ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   | alone
POST   /api/v1/auth/password-reset                                    | ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
POST   /api/v1/auth/password-reset/confirm                            | 422  422  422  422  422  422  422  422  422  422  422  422  422  422  422  |
GET    /api/v1/me                                                     | 401  ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
GET    /api/v1/me/tokens                                              | 401  ok   ok   ok   ok   ok   ok   403  403  403  403  403  ok   ok   ok   |
POST   /api/v1/me/tokens                                              | 401  ok   ok   ok   ok   ok   ok   403  403  403  403  403  ok   ok   ok   |
DELETE /api/v1/me/tokens/{id}                                         | 401  ok   404  404  404  404  404  403  403  403  403  403  404  404  404  |
POST   /api/v1/invitations                                            | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
POST   /api/v1/invitations/accept                                     | 422  422  422  422  422  422  422  422  422  422  422  422  422  422  422  |
POST   /api/v1/invitations/decline                                    | 422  422  422  422  422  422  422  422  422  422  422  422  422  422  422  |
POST   /api/v1/organizations                                          | 401  ok   ok   ok   ok   ok   ok   403  ok   403  403  403  ok   ok   ok   |
GET    /api/v1/organizations/{id}                                     | 401  ok   404  404  404  404  ok   ok   403  403  403  403  404  404  404  |
PATCH  /api/v1/organizations/{id}                                     | 401  ok   404  404  404  404  ok   403  ok   403  403  403  404  404  404  |
GET    /api/v1/me/organizations                                       | 401  ok   ok   ok   ok   ok   ok   ok   403  403  403  403  ok   ok   ok   |
GET    /api/v1/organizations/{id}/members                             | 401  ok   404  404  404  404  ok   ok   403  403  403  403  404  404  404  |
POST   /api/v1/organizations/{id}/members                             | 401  ok   404  404  404  404  ok   403  ok   403  403  403  404  404  404  | fresh
DELETE /api/v1/organizations/{id}/members/{user_id}                   | 401  ok   404  404  404  404  ok   403  ok   403  403  403  404  404  404  | fresh
GET    /api/v1/admin/outbox                                           | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
POST   /api/v1/admin/outbox/{id}/retry                                | 401  403  403  403  403  403  409  403  403  403  403  409  403  403  403  |
GET    /api/v1/events                                                 | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
GET    /api/v1/admin/webhooks                                         | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
POST   /api/v1/admin/webhooks                                         | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
GET    /api/v1/admin/webhooks/{id}                                    | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
DELETE /api/v1/admin/webhooks/{id}                                    | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  | fresh
POST   /api/v1/admin/webhooks/{id}/enable                             | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
POST   /api/v1/admin/webhooks/{id}/test                               | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
GET    /api/v1/admin/webhooks/{id}/deliveries                         | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
GET    /api/v1/audit                                                  | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
GET    /api/v1/me/export                                              | 401  ok   ok   ok   ok   ok   ok   403  403  403  403  403  ok   ok   ok   |
DELETE /api/v1/me                                                     | 401  ok   ok   ok   ok   ok   ok   403  403  403  403  403  ok   ok   ok   | alone
GET    /api/v1/applications/{id}/retention-consent                    | 401  ok   404  404  404  404  ok   ok   403  403  403  403  404  404  404  |
PUT    /api/v1/applications/{id}/retention-consent                    | 401  ok   404  404  404  404  403  403  ok   403  403  403  404  404  404  |
POST   /api/v1/admin/retention/run                                    | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  | fresh
GET    /api/v1/calls/{id}/email-templates/{event}/{locale}            | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
PUT    /api/v1/calls/{id}/email-templates/{event}/{locale}            | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
DELETE /api/v1/calls/{id}/email-templates/{event}/{locale}            | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
POST   /api/v1/calls/{id}/email-templates/{event}/{locale}/preview    | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
GET    /api/v1/call-templates                                         | ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
GET    /api/v1/calls                                                  | ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
POST   /api/v1/calls                                                  | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
GET    /api/v1/calls/{id}                                             | ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   |
PATCH  /api/v1/calls/{id}                                             | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
POST   /api/v1/calls/{id}/publish                                     | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  | fresh
POST   /api/v1/calls/{id}/editions                                    | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  |
POST   /api/v1/calls/{id}/applications                                | 401  409  422  422  422  422  422  403  409  403  403  403  422  422  422  |
GET    /api/v1/applications                                           | 401  ok   ok   ok   ok   ok   ok   ok   403  403  403  403  ok   ok   ok   |
GET    /api/v1/applications/{id}                                      | 401  ok   404  ok   404  404  ok   ok   403  ok   403  403  ok   ok   404  |
PATCH  /api/v1/applications/{id}                                      | 401  409  404  404  404  404  403  403  409  403  403  403  404  404  404  |
POST   /api/v1/applications/{id}/attachments                          | 401  409  404  404  404  404  403  403  409  403  403  403  404  404  404  |
GET    /api/v1/applications/{id}/attachments/{attachment_id}          | 401  ok   404  ok   404  404  ok   ok   403  ok   403  403  ok   ok   404  |
DELETE /api/v1/applications/{id}/attachments/{attachment_id}          | 401  409  404  404  404  404  403  403  409  403  403  403  404  404  404  |
POST   /api/v1/applications/{id}/submit                               | 401  409  404  404  404  404  403  403  409  403  403  403  404  404  404  |
POST   /api/v1/applications/{id}/withdraw                             | 401  ok   404  404  404  404  403  403  ok   403  403  403  404  404  404  | fresh
GET    /api/v1/applications/{id}/messages                             | 401  ok   404  404  404  404  ok   ok   403  403  403  403  ok   ok   404  |
POST   /api/v1/applications/{id}/messages                             | 401  ok   404  404  404  404  ok   403  403  403  403  403  ok   403  404  |
POST   /api/v1/applications/{id}/screening                            | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  | fresh
GET    /api/v1/calls/{id}/jurors                                      | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
POST   /api/v1/calls/{id}/jurors                                      | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  | fresh
GET    /api/v1/calls/{id}/staff                                       | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
DELETE /api/v1/calls/{id}/staff/{user_id}                             | 401  403  403  403  403  403  ok   403  403  403  403  ok   403  403  403  | fresh
DELETE /api/v1/calls/{id}/jurors/{user_id}                            | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  | fresh
GET    /api/v1/calls/{id}/conflicts                                   | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
POST   /api/v1/calls/{id}/conflicts                                   | 401  404  404  ok   ok   ok   422  403  403  403  ok   422  422  404  404  |
POST   /api/v1/calls/{id}/conflicts/detect                            | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
POST   /api/v1/calls/{id}/conflicts/{conflict_id}/confirm             | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  | fresh
POST   /api/v1/calls/{id}/conflicts/{conflict_id}/dismiss             | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  | fresh
POST   /api/v1/calls/{id}/assignments/auto                            | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  | fresh
GET    /api/v1/calls/{id}/assignments                                 | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
POST   /api/v1/calls/{id}/assignments                                 | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  | fresh
GET    /api/v1/me/assignments                                         | 401  ok   ok   ok   ok   ok   ok   403  403  ok   403  403  ok   ok   ok   |
PUT    /api/v1/calls/{id}/stages/{stage}/deadline                     | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
PUT    /api/v1/applications/{id}/reviews/mine                         | 401  404  404  ok   404  404  404  403  403  403  ok   403  404  404  404  |
POST   /api/v1/applications/{id}/reviews/mine/submit                  | 401  404  404  ok   404  404  404  403  403  403  ok   403  404  404  404  | fresh
GET    /api/v1/applications/{id}/reviews                              | 401  404  404  ok   404  404  ok   403  403  ok   403  403  ok   ok   404  |
GET    /api/v1/calls/{id}/ranking                                     | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   ok   404  |
GET    /api/v1/calls/{id}/deliberation                                | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   ok   404  |
GET    /api/v1/calls/{id}/stats                                       | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   ok   404  |
GET    /api/v1/calls/{id}/stats/editions                              | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   ok   404  |
POST   /api/v1/applications/{id}/reviews/{review_id}/reopen           | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  | fresh
POST   /api/v1/calls/{id}/shortlist                                   | 401  404  404  404  404  404  422  403  403  403  403  422  422  403  404  |
PUT    /api/v1/calls/{id}/decisions                                   | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
GET    /api/v1/calls/{id}/decisions                                   | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   ok   404  |
POST   /api/v1/calls/{id}/decisions/publish                           | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  | fresh
POST   /api/v1/calls/{id}/meetings                                    | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
GET    /api/v1/calls/{id}/meetings                                    | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   ok   404  |
GET    /api/v1/calls/{id}/meetings/{meeting_id}                       | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   ok   404  |
PATCH  /api/v1/calls/{id}/meetings/{meeting_id}                       | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
PUT    /api/v1/calls/{id}/meetings/{meeting_id}/attendance            | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
POST   /api/v1/calls/{id}/meetings/{meeting_id}/items                 | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  | fresh
PUT    /api/v1/calls/{id}/meetings/{meeting_id}/items/{application_id} | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
POST   /api/v1/calls/{id}/meetings/{meeting_id}/close                 | 401  404  404  404  404  404  409  403  403  403  403  409  409  403  404  |
GET    /api/v1/calls/{id}/meetings/{meeting_id}/record                | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   ok   404  |
POST   /api/v1/applications/{id}/decision/revisions                   | 401  404  404  404  404  404  409  403  403  403  403  409  409  403  404  |
GET    /api/v1/applications/{id}/decision/history                     | 401  ok   404  404  404  404  ok   ok   403  403  403  403  ok   ok   404  |
GET    /api/v1/applications/{id}/timeline                             | 401  ok   404  404  404  404  ok   ok   403  403  403  403  ok   ok   404  |
POST   /api/v1/applications/{id}/appeals                              | 401  409  404  404  404  404  403  403  409  403  403  403  404  404  404  |
GET    /api/v1/applications/{id}/appeals                              | 401  ok   404  404  404  404  ok   ok   403  403  403  403  ok   ok   404  |
POST   /api/v1/applications/{id}/appeals/{appeal_id}/resolve          | 401  404  404  404  404  404  404  403  403  403  403  404  404  403  404  |
PUT    /api/v1/applications/{id}/pitch-slot                           | 401  404  404  404  404  404  409  403  403  403  403  409  409  403  404  |
GET    /api/v1/applications/{id}/pitch-slot                           | 401  404  404  404  404  404  404  404  403  403  403  403  404  404  404  |
DELETE /api/v1/applications/{id}/pitch-slot                           | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
POST   /api/v1/applications/{id}/pitch-slot/confirm                   | 401  409  404  404  404  404  403  403  409  403  403  403  404  404  404  |
GET    /api/v1/calls/{id}/pitch-slots                                 | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   ok   404  |
PUT    /api/v1/applications/{id}/catalogue-consent                    | 401  409  404  404  404  404  403  403  409  403  403  403  404  404  404  |
DELETE /api/v1/applications/{id}/catalogue-consent                    | 401  409  404  404  404  404  403  403  409  403  403  403  404  404  404  |
PUT    /api/v1/calls/{id}/catalogue/{application_id}                  | 401  404  404  404  404  404  409  403  403  403  403  409  409  403  404  |
DELETE /api/v1/calls/{id}/catalogue/{application_id}                  | 401  404  404  404  404  404  409  403  403  403  403  409  409  403  404  |
GET    /api/v1/calls/{id}/catalogue                                   | 404  404  404  404  404  404  404  404  404  404  404  404  404  404  404  |
GET    /api/v1/calls/{id}/export/applications.csv                     | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   403  404  |
GET    /api/v1/calls/{id}/export/ranking.csv                          | 401  404  404  404  404  404  ok   403  403  403  403  ok   ok   ok   404  |
GET    /api/v1/me/assignments.csv                                     | 401  ok   ok   ok   ok   ok   ok   403  403  ok   403  403  ok   ok   ok   |
GET    /api/v1/me/assignments/pack.zip                                | 401  403  403  ok   403  403  ok   403  403  ok   403  ok   ok   403  403  |
PUT    /api/v1/me/reviews.csv                                         | 401  404  404  ok   404  404  404  403  403  403  ok   403  404  404  404  |
POST   /api/v1/applications/{id}/pairings                             | 401  403  404  403  404  404  ok   403  404  403  403  403  ok   403  404  | fresh
POST   /api/v1/applications/{id}/pairings/{pairing_id}/respond        | 401  ok   404  404  404  404  404  403  ok   403  403  403  404  404  404  |
GET    /api/v1/applications/{id}/pairings                             | 401  ok   404  ok   404  404  ok   ok   403  ok   403  403  ok   ok   404  |
";

/// How a row runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Shared,
    Fresh,
    Alone,
}

/// One expected outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Any 2xx.
    Ok,
    /// Exactly this status.
    Status(u16),
    /// Not yet decided (discovery: `AUTHZ_DISCOVER=1` prints what happens).
    Unknown,
}

impl Outcome {
    fn parse(cell: &str) -> Outcome {
        match cell {
            "ok" => Outcome::Ok,
            "?" => Outcome::Unknown,
            code => Outcome::Status(
                code.parse()
                    .unwrap_or_else(|_| panic!("unknown entry {code:?} in the matrix")),
            ),
        }
    }

    fn matches(self, status: StatusCode) -> bool {
        match self {
            Outcome::Ok => status.is_success(),
            Outcome::Status(code) => status.as_u16() == code,
            Outcome::Unknown => false,
        }
    }

    /// How an observed status is written in the table.
    fn written(status: StatusCode) -> String {
        if status.is_success() {
            "ok".into()
        } else {
            status.as_u16().to_string()
        }
    }
}

/// A row of the table.
#[derive(Debug, Clone)]
struct Row {
    method: String,
    path: String,
    outcomes: Vec<Outcome>,
    how: How,
}

/// Reads [`EXPECTED`]; panics on a malformed line.
fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for line in EXPECTED.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("method ") {
            continue;
        }
        let parts: Vec<&str> = line.split('|').collect();
        assert_eq!(parts.len(), 3, "a matrix line has three parts: {line}");
        let mut route = parts[0].split_whitespace();
        let (Some(method), Some(path), None) = (route.next(), route.next(), route.next()) else {
            panic!("a matrix line starts with a method and a path: {line}");
        };
        let outcomes: Vec<Outcome> = parts[1].split_whitespace().map(Outcome::parse).collect();
        assert_eq!(
            outcomes.len(),
            CALLERS.len(),
            "a matrix line has one entry per caller: {line}"
        );
        let how = match parts[2].trim() {
            "" => How::Shared,
            "fresh" => How::Fresh,
            "alone" => How::Alone,
            other => panic!("unknown way to run {other:?}: {line}"),
        };
        rows.push(Row {
            method: method.to_owned(),
            path: path.to_owned(),
            outcomes,
            how,
        });
    }
    rows
}

const MARKER_ANSWERS_A: &str = "MARKER-ANSWERS-A";
const MARKER_ANSWERS_B: &str = "MARKER-ANSWERS-B";
const MARKER_REVIEW_JUROR: &str = "MARKER-REVIEW-JUROR";
const MARKER_REVIEW_PEER: &str = "MARKER-REVIEW-PEER";
const MARKER_MESSAGE_A: &str = "MARKER-MESSAGE-A";
const MARKER_ORG_A: &str = "MARKER-ORG-A";
const WEBHOOK_SECRET: &str = "0123456789abcdef0123";

/// The criteria of the Expérimentation Montagne `written` stage (each scored 0–5).
const CRITERIA: [&str; 6] = [
    "need_relevance",
    "innovation",
    "feasibility",
    "territory_commitment",
    "replicability",
    "sustainability",
];

/// Every criterion scored `value`.
fn full_scores(value: f64) -> Value {
    Value::Object(
        CRITERIA
            .iter()
            .map(|c| ((*c).to_owned(), json!(value)))
            .collect(),
    )
}

/// A registered person with a session.
#[derive(Debug, Clone)]
struct Person {
    email: String,
    id: String,
    token: String,
}

async fn person(app: &TestApp, email: String) -> Person {
    let token = app.applicant(&email).await;
    let (status, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    Person {
        id: me["id"].as_str().unwrap().to_owned(),
        email,
        token,
    }
}

async fn personal_token(app: &TestApp, session: &str, scope: &str) -> (String, String) {
    let (status, created) = app
        .post(
            "/api/v1/me/tokens",
            Some(session),
            json!({"name": format!("only {scope}"), "scopes": [scope]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

/// The people of the matrix and their tokens (accounts are costly: password hashing).
struct Cast {
    a: Person,
    b: Person,
    juror: Person,
    unassigned: Person,
    conflicted: Person,
    admin: Person,
    /// Another juror assigned A's application, whose review nobody but staff may read.
    peer: Person,
    /// A juror of the call that rows may remove or assign.
    spare_juror: Person,
    /// The owner of the companies proposed to A's territory.
    partner: Person,
    /// Someone with an account and no part in the call.
    outsider: Person,
    /// A manager, an observer of the call, and a manager of another call.
    manager: Person,
    observer: Person,
    other_manager: Person,
    /// Secrets of the personal tokens, in the order of the `t:…` columns.
    personal: [String; 5],
    /// A's personal token that `DELETE /me/tokens/{id}` revokes.
    spare_token_id: String,
    /// Every secret of the cast: no answer may show one.
    secrets: Vec<String>,
}

impl Cast {
    async fn build(app: &TestApp, tag: &str) -> Cast {
        let email = |who: &str| format!("{who}-{tag}@{who}.authz.example");
        let admin_email = email("admin");
        let admin_token = app.admin(&admin_email).await;
        let (status, me) = app.get("/api/v1/me", Some(&admin_token)).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        let admin = Person {
            id: me["id"].as_str().unwrap().to_owned(),
            email: admin_email,
            token: admin_token,
        };
        let a = person(app, email("a")).await;
        let b = person(app, email("b")).await;
        let juror = person(app, email("juror")).await;
        let unassigned = person(app, email("unassigned")).await;
        let conflicted = person(app, email("conflicted")).await;
        let peer = person(app, email("peer")).await;
        let spare_juror = person(app, email("spare")).await;
        let partner = person(app, email("partner")).await;
        let outsider = person(app, email("outsider")).await;
        let manager = person(app, email("manager")).await;
        let observer = person(app, email("observer")).await;
        let other_manager = person(app, email("othermanager")).await;
        let (_, ar) = personal_token(app, &a.token, "applications:read").await;
        let (_, aw) = personal_token(app, &a.token, "applications:write").await;
        let (_, rr) = personal_token(app, &juror.token, "reviews:read").await;
        let (_, rw) = personal_token(app, &juror.token, "reviews:write").await;
        let (_, ad) = personal_token(app, &admin.token, "admin").await;
        let (spare_token_id, spare) = personal_token(app, &a.token, "applications:read").await;
        let personal = [ar, aw, rr, rw, ad];
        let mut secrets: Vec<String> = personal.to_vec();
        secrets.push(spare);
        for p in [
            &a,
            &b,
            &juror,
            &unassigned,
            &conflicted,
            &admin,
            &peer,
            &spare_juror,
            &partner,
            &outsider,
            &manager,
            &observer,
            &other_manager,
        ] {
            secrets.push(p.token.clone());
        }
        Cast {
            a,
            b,
            juror,
            unassigned,
            conflicted,
            admin,
            peer,
            spare_juror,
            partner,
            outsider,
            manager,
            observer,
            other_manager,
            personal,
            spare_token_id,
            secrets,
        }
    }

    /// The bearer token of column `caller`.
    fn token(&self, caller: usize) -> Option<&str> {
        match CALLERS[caller] {
            "anon" => None,
            "A" => Some(&self.a.token),
            "B" => Some(&self.b.token),
            "jur" => Some(&self.juror.token),
            "unas" => Some(&self.unassigned.token),
            "conf" => Some(&self.conflicted.token),
            "adm" => Some(&self.admin.token),
            "mgr" => Some(&self.manager.token),
            "obs" => Some(&self.observer.token),
            "oth" => Some(&self.other_manager.token),
            _ => Some(&self.personal[caller - 7]),
        }
    }

    /// The email of the account behind column `caller` (A's for `anon`).
    fn email(&self, caller: usize) -> &str {
        match CALLERS[caller] {
            "anon" | "A" | "t:ar" | "t:aw" => &self.a.email,
            "B" => &self.b.email,
            "jur" | "t:rr" | "t:rw" => &self.juror.email,
            "unas" => &self.unassigned.email,
            "conf" => &self.conflicted.email,
            "mgr" => &self.manager.email,
            "obs" => &self.observer.email,
            "oth" => &self.other_manager.email,
            _ => &self.admin.email,
        }
    }

    /// The account behind column `caller` (the nil id for `anon`).
    fn user_id(&self, caller: usize) -> &str {
        match CALLERS[caller] {
            "anon" => "00000000-0000-0000-0000-000000000000",
            "A" | "t:ar" | "t:aw" => &self.a.id,
            "B" => &self.b.id,
            "jur" | "t:rr" | "t:rw" => &self.juror.id,
            "unas" => &self.unassigned.id,
            "conf" => &self.conflicted.id,
            "mgr" => &self.manager.id,
            "obs" => &self.observer.id,
            "oth" => &self.other_manager.id,
            _ => &self.admin.id,
        }
    }
}

/// What answers may show, and to whom: (the text searched, what it is, the columns allowed to see it).
/// Every other column must never find it in any answer.
fn confidential(
    cast: &Cast,
    world: &World,
) -> Vec<(String, &'static str, &'static [&'static str])> {
    const NOBODY: &[&str] = &[];
    const READERS_OF_A: &[&str] = &[
        "A", "jur", "adm", "t:ar", "t:aw", "t:rr", "t:ad", "mgr", "obs",
    ];
    let mut list = vec![
        ("$argon2".to_owned(), "a password hash", NOBODY),
        (WEBHOOK_SECRET.to_owned(), "a webhook secret", NOBODY),
        (MARKER_ANSWERS_A.to_owned(), "A's answers", READERS_OF_A),
        (MARKER_ORG_A.to_owned(), "A's organization", READERS_OF_A),
        (
            world.app_a.clone(),
            "A's application id",
            &[
                "A", "jur", "adm", "t:ar", "t:aw", "t:rr", "t:rw", "t:ad", "mgr", "obs",
            ],
        ),
        (
            MARKER_ANSWERS_B.to_owned(),
            "B's answers",
            &["B", "adm", "t:ad", "mgr", "obs"],
        ),
        (
            MARKER_REVIEW_JUROR.to_owned(),
            "the assigned juror's review",
            &["jur", "adm", "t:rr", "t:rw", "t:ad", "mgr", "obs"],
        ),
        (
            MARKER_REVIEW_PEER.to_owned(),
            "another juror's review",
            &["adm", "t:ad", "mgr", "obs"],
        ),
        (
            world.peer_review.clone(),
            "another juror's review id",
            &["adm", "t:ad", "mgr", "obs"],
        ),
        (
            MARKER_MESSAGE_A.to_owned(),
            "A's message to staff",
            &["A", "adm", "t:ar", "t:aw", "t:ad", "mgr", "obs"],
        ),
        (world.draft_call.clone(), "a draft call", &["adm", "t:ad"]),
    ];
    list.extend(
        cast.secrets
            .iter()
            .map(|s| (s.clone(), "a token secret", NOBODY)),
    );
    list
}

/// Numbers that make bodies unique (slugs, emails).
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One call with everything the routes act on.
struct World {
    call: String,
    draft_call: String,
    org_a: String,
    /// A member of A's organization (not a caller), who accepted A's invitation.
    member_a: String,
    org_b: String,
    org_partner2: String,
    app_a: String,
    /// The reference of A's application.
    reference_a: String,
    app_b: String,
    attachment_a: String,
    peer_review: String,
    pairing: String,
    webhook: String,
    outbox: String,
    /// The conflict flagged between the peer juror and A's application.
    conflict: String,
    /// An open jury meeting of the call on the written stage (no attendance yet: closing it is below quorum).
    meeting: String,
}

async fn expect(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> Value {
    let (status, answer) = app
        .send(method.clone(), path, Some(token), Some(body))
        .await;
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer
}

fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

/// Someone the owner invited into `org`, who accepted as a new account; returns their id.
async fn member_of(app: &TestApp, owner: &str, org: &str, n: usize) -> String {
    let email = format!("member-{n}@member.authz.example");
    let path = format!("/api/v1/organizations/{org}/members");
    expect(
        app,
        Method::POST,
        &path,
        owner,
        json!({"email": email, "role": "member"}),
    )
    .await;
    let token = app
        .mailbox
        .wait_for_match(&email, "with an invitation", |e| {
            e.text().contains("/invitations/accept?token=")
        })
        .await
        .token();
    let (status, user) = app
        .post(
            "/api/v1/invitations/accept",
            None,
            json!({"token": token, "display_name": "Membre", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    id_of(&user)
}

/// A territory application with `marker` in its answers, submitted with its letter of support.
async fn submitted(app: &TestApp, token: &str, call: &str, org: &str, marker: &str) -> String {
    let mut answers = exp_answers();
    answers["need"] = json!(format!(
        "{} {marker}",
        answers["need"].as_str().unwrap_or_default()
    ));
    let created = expect(
        app,
        Method::POST,
        &format!("/api/v1/calls/{call}/applications"),
        token,
        json!({"organization_id": org, "answers": answers}),
    )
    .await;
    let id = id_of(&created);
    let (status, file) = app
        .upload(token, &id, "support_letter", "lettre.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    expect(
        app,
        Method::POST,
        &format!("/api/v1/applications/{id}/submit"),
        token,
        json!({}),
    )
    .await;
    id
}

impl World {
    async fn build(app: &TestApp, cast: &Cast) -> World {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let admin = cast.admin.token.as_str();
        let call = app
            .open_call(admin, "experimentation-montagne", &format!("authz-{n}"))
            .await;
        let call = id_of(&call);
        let now = app.clock.now();
        let draft = expect(
            app,
            Method::POST,
            "/api/v1/calls",
            admin,
            json!({
                "template": "experimentation-montagne",
                "slug": format!("authz-draft-{n}"),
                "opens_at": (now + chrono::Duration::days(1)).to_rfc3339(),
                "closes_at": (now + chrono::Duration::days(40)).to_rfc3339(),
                "edition": next_spare_edition(),
            }),
        )
        .await;
        let draft_call = id_of(&draft);
        // The call's manager and observer, and a manager of another call (a partner of that one only).
        let other_call = app
            .open_call(admin, "alpes-tourisme-lab", &format!("authz-other-{n}"))
            .await;
        for (who, call, role) in [
            (&cast.manager, &call, "manager"),
            (&cast.observer, &call, "observer"),
            (&cast.other_manager, &id_of(&other_call), "manager"),
        ] {
            app.staff_role(admin, &who.token, &who.email, call, role)
                .await;
        }
        let org_a = app
            .organization(&cast.a.token, "territory", &format!("{MARKER_ORG_A} {n}"))
            .await;
        let member_a = member_of(app, &cast.a.token, &org_a, n).await;
        let org_b = app
            .organization(&cast.b.token, "territory", &format!("Commune B {n}"))
            .await;
        let org_partner = app
            .organization(&cast.partner.token, "startup", &format!("Partner {n}"))
            .await;
        let org_partner2 = app
            .organization(&cast.partner.token, "company", &format!("Partner two {n}"))
            .await;

        let app_a = submitted(app, &cast.a.token, &call, &org_a, MARKER_ANSWERS_A).await;
        let app_b = submitted(app, &cast.b.token, &call, &org_b, MARKER_ANSWERS_B).await;
        expect(
            app,
            Method::POST,
            &format!("/api/v1/applications/{app_a}/screening"),
            admin,
            json!({"outcome": "eligible"}),
        )
        .await;
        let (status, read) = app
            .get(&format!("/api/v1/applications/{app_a}"), Some(admin))
            .await;
        assert_eq!(status, StatusCode::OK, "{read}");
        let attachment_a = id_of(&read["attachments"][0]);
        let reference_a = read["reference"].as_str().unwrap().to_owned();

        for juror in [
            &cast.juror,
            &cast.unassigned,
            &cast.conflicted,
            &cast.peer,
            &cast.spare_juror,
        ] {
            expect(
                app,
                Method::POST,
                &format!("/api/v1/calls/{call}/jurors"),
                admin,
                json!({"user_id": juror.id}),
            )
            .await;
        }
        for juror in [&cast.juror, &cast.conflicted, &cast.peer] {
            expect(
                app,
                Method::POST,
                &format!("/api/v1/calls/{call}/assignments"),
                admin,
                json!({"application_id": app_a, "juror_id": juror.id, "stage": "written"}),
            )
            .await;
        }
        expect(
            app,
            Method::POST,
            &format!("/api/v1/calls/{call}/conflicts"),
            &cast.conflicted.token,
            json!({"juror_id": cast.conflicted.id, "application_id": app_a, "reason": "Ma sœur est maire"}),
        )
        .await;
        let review = format!("/api/v1/applications/{app_a}/reviews/mine");
        expect(
            app,
            Method::PUT,
            &review,
            &cast.juror.token,
            json!({"stage": "written", "scores": full_scores(3.0), "comment": MARKER_REVIEW_JUROR}),
        )
        .await;
        let peer = expect(
            app,
            Method::PUT,
            &review,
            &cast.peer.token,
            json!({"stage": "written", "scores": full_scores(4.0), "comment": MARKER_REVIEW_PEER}),
        )
        .await;
        let peer_review = id_of(&peer);
        expect(
            app,
            Method::POST,
            &format!("{review}/submit"),
            &cast.peer.token,
            json!({"stage": "written"}),
        )
        .await;
        expect(
            app,
            Method::POST,
            &format!("/api/v1/applications/{app_a}/messages"),
            &cast.a.token,
            json!({"body": MARKER_MESSAGE_A}),
        )
        .await;
        let pairing = expect(
            app,
            Method::POST,
            &format!("/api/v1/applications/{app_a}/pairings"),
            admin,
            json!({"partner_organization_id": org_partner}),
        )
        .await;
        let webhook = expect(
            app,
            Method::POST,
            "/api/v1/admin/webhooks",
            admin,
            json!({"url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": WEBHOOK_SECRET}),
        )
        .await;
        // A's territory takes the address of the peer juror's firm as its website after their review: a
        // conflict flagged for staff.
        let org_path = format!("/api/v1/organizations/{org_a}");
        let response = app
            .request(Method::GET, &org_path, Some(&cast.a.token))
            .send()
            .await
            .unwrap();
        let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
        let response = app
            .request(Method::PATCH, &org_path, Some(&cast.a.token))
            .header(IF_MATCH, etag)
            .json(&json!({"website": "https://peer.authz.example/"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let (status, conflicts) = app
            .get(&format!("/api/v1/calls/{call}/conflicts"), Some(admin))
            .await;
        assert_eq!(status, StatusCode::OK, "{conflicts}");
        let flagged = conflicts["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["status"] == "flagged")
            .unwrap_or_else(|| panic!("a flagged conflict: {conflicts}"));
        let meeting = expect(
            app,
            Method::POST,
            &format!("/api/v1/calls/{call}/meetings"),
            admin,
            json!({"stage": "written", "held_at": "2026-12-10T09:00:00Z", "place": "Salle du conseil", "agenda": "Classement"}),
        )
        .await;
        let (status, outbox) = app.get("/api/v1/admin/outbox?limit=1", Some(admin)).await;
        assert_eq!(status, StatusCode::OK, "{outbox}");
        World {
            call,
            draft_call,
            org_a,
            member_a,
            org_b,
            org_partner2,
            app_a,
            reference_a,
            app_b,
            attachment_a,
            peer_review,
            pairing: id_of(&pairing),
            webhook: id_of(&webhook),
            outbox: id_of(&outbox["items"][0]),
            conflict: id_of(flagged),
            meeting: id_of(&meeting),
        }
    }
}

/// What a row sends: the body (with placeholders), a query string, and which objects its path names.
struct Request {
    body: Body,
    query: &'static str,
}

enum Body {
    None,
    Json(&'static str),
    /// A score sheet, as `text/csv`.
    Csv(&'static str),
    /// A PDF letter of support, as a multipart upload.
    Letter,
}

/// The request of each row that needs a body or a query; bodies are valid for the world, so that a refusal
/// says something about the caller, not about the body.
fn request(method: &str, path: &str) -> Request {
    let json = |body| Request {
        body: Body::Json(body),
        query: "",
    };
    match (method, path) {
        ("POST", "/api/v1/auth/register") => json(
            r#"{"email": "new-{n}@authz.example", "password": "correct horse battery staple", "display_name": "Nouvelle"}"#,
        ),
        ("POST", "/api/v1/auth/verify-email") => json(r#"{"token": "cordee_notarealtoken"}"#),
        // Each caller logs in as themself (anonymous as A): one account may only try ten times a minute.
        ("POST", "/api/v1/auth/login") => {
            json(r#"{"email": "{me_email}", "password": "correct horse battery staple"}"#)
        }
        ("POST", "/api/v1/auth/password-reset") => json(r#"{"email": "{a_email}"}"#),
        ("POST", "/api/v1/auth/password-reset/confirm") => {
            json(r#"{"token": "cordee_notarealtoken", "password": "another long passphrase 42"}"#)
        }
        ("POST", "/api/v1/me/tokens") => {
            json(r#"{"name": "script {n}", "scopes": ["applications:read"]}"#)
        }
        ("POST", "/api/v1/invitations") => {
            json(r#"{"email": "invitee-{n}@authz.example", "role": "juror", "call_id": "{call}"}"#)
        }
        ("POST", "/api/v1/invitations/decline") => json(r#"{"token": "cordee_notarealtoken"}"#),
        ("POST", "/api/v1/invitations/accept") => json(
            r#"{"token": "cordee_notarealtoken", "display_name": "X", "password": "another long passphrase 42"}"#,
        ),
        ("POST", "/api/v1/organizations") => json(
            r#"{"kind": "territory", "legal_name": "Commune {n}", "insee_code": "74056", "postcode": "74400", "city": "Chamonix-Mont-Blanc"}"#,
        ),
        ("PATCH", "/api/v1/organizations/{id}") => {
            json(r#"{"website": "https://commune-{n}.example/"}"#)
        }
        ("POST", "/api/v1/organizations/{id}/members") => {
            json(r#"{"email": "{outsider_email}", "role": "member"}"#)
        }
        ("POST", "/api/v1/admin/webhooks") => json(
            r#"{"url": "http://127.0.0.1:9/hook-{n}", "events": ["*"], "secret": "0123456789abcdef0123"}"#,
        ),
        ("PUT", "/api/v1/applications/{id}/retention-consent") => json(r#"{"consent": true}"#),
        ("PUT", "/api/v1/calls/{id}/email-templates/{event}/{locale}") => json(
            r#"{"subject": "Reçu {n}", "text": "Bonjour, nous avons bien reçu votre dossier.", "html": "<p>Bonjour, nous avons bien reçu votre dossier.</p>"}"#,
        ),
        ("POST", "/api/v1/calls/{id}/email-templates/{event}/{locale}/preview") => json("{}"),
        ("POST", "/api/v1/calls") => json(
            r#"{"template": "experimentation-montagne", "slug": "authz-new-{n}", "opens_at": "{soon}", "closes_at": "{later}", "edition": {edition_n}}"#,
        ),
        ("POST", "/api/v1/calls/{id}/editions") => json(
            r#"{"slug": "authz-edition-{n}", "edition": {edition_n}, "copy": ["form", "stages", "jury"]}"#,
        ),
        ("PATCH", "/api/v1/calls/{id}") => json(r#"{"summary": {"fr": "Résumé {n}"}}"#),
        ("POST", "/api/v1/calls/{id}/applications") => {
            json(r#"{"organization_id": "{org_a}", "answers": {}}"#)
        }
        ("PATCH", "/api/v1/applications/{id}") => json(r#"{"answers": {"budget": 90000}}"#),
        ("POST", "/api/v1/applications/{id}/attachments") => Request {
            body: Body::Letter,
            query: "",
        },
        ("POST", "/api/v1/applications/{id}/submit") => json("{}"),
        ("POST", "/api/v1/applications/{id}/withdraw") => json(r#"{"reason": "On arrête"}"#),
        ("POST", "/api/v1/applications/{id}/messages") => json(r#"{"body": "Bonjour {n}"}"#),
        ("POST", "/api/v1/applications/{id}/screening") => json(r#"{"outcome": "eligible"}"#),
        ("POST", "/api/v1/calls/{id}/jurors") => json(r#"{"user_id": "{outsider_id}"}"#),
        ("POST", "/api/v1/calls/{id}/conflicts") => json(
            r#"{"juror_id": "{me}", "application_id": "{app_b}", "reason": "Voisin du maire"}"#,
        ),
        ("POST", "/api/v1/calls/{id}/assignments/auto") => {
            json(r#"{"stage": "written", "reviews_per_application": 1}"#)
        }
        ("POST", "/api/v1/calls/{id}/assignments") => json(
            r#"{"application_id": "{app_a}", "juror_id": "{spare_juror}", "stage": "written"}"#,
        ),
        ("PUT", "/api/v1/calls/{id}/stages/{stage}/deadline") => json(r#"{"due_at": "{later}"}"#),
        ("PUT", "/api/v1/applications/{id}/reviews/mine") => json(
            r#"{"stage": "written", "scores": {"need_relevance": 3, "innovation": 3, "feasibility": 3, "territory_commitment": 3, "replicability": 3, "sustainability": 3}, "comment": "MARKER-REVIEW-JUROR"}"#,
        ),
        ("POST", "/api/v1/applications/{id}/reviews/mine/submit") => {
            json(r#"{"stage": "written"}"#)
        }
        // Staff name the assigned juror; a juror may name themself.
        ("GET", "/api/v1/me/assignments/pack.zip") => Request {
            body: Body::None,
            query: "?call_id={call}&stage=written&juror_id={juror}",
        },
        // The sheet says what the assigned juror's draft says.
        ("PUT", "/api/v1/me/reviews.csv") => Request {
            body: Body::Csv(
                "reference;stage;need_relevance (0–5);innovation (0–5);feasibility (0–5);territory_commitment (0–5);replicability (0–5);sustainability (0–5);comment\r\n{ref_a};written;3;3;3;3;3;3;MARKER-REVIEW-JUROR\r\n",
            ),
            query: "?call_id={call}&stage=written",
        },
        ("GET", "/api/v1/calls/{id}/ranking")
        | ("GET", "/api/v1/calls/{id}/deliberation")
        | ("GET", "/api/v1/calls/{id}/export/ranking.csv") => Request {
            body: Body::None,
            query: "?stage=written",
        },
        ("POST", "/api/v1/calls/{id}/shortlist") => {
            json(r#"{"application_ids": ["{app_a}"], "next_stage": "pitch"}"#)
        }
        // A's application is eligible, not shortlisted: staff get 409 `not_shortlisted`.
        ("PUT", "/api/v1/applications/{id}/pitch-slot") => json(
            r#"{"stage": "written", "starts_at": "{later}", "duration_minutes": 20, "place": "Salle {n}"}"#,
        ),
        ("PUT", "/api/v1/calls/{id}/decisions") => json(
            r#"[{"application_id": "{app_a}", "outcome": "selected", "motivation": "Un besoin clair"}]"#,
        ),
        ("POST", "/api/v1/applications/{id}/decision/revisions") => json(
            r#"{"outcome": "selected", "motivation": "Un besoin clair", "reason": "Une place libre"}"#,
        ),
        ("POST", "/api/v1/applications/{id}/appeals") => {
            json(r#"{"grounds": "Le jury a mal lu"}"#)
        }
        ("POST", "/api/v1/applications/{id}/appeals/{appeal_id}/resolve") => {
            json(r#"{"outcome": "dismissed", "motivation": "Décision maintenue"}"#)
        }
        ("PUT", "/api/v1/applications/{id}/catalogue-consent") => {
            json(r#"{"fields": ["need"]}"#)
        }
        ("POST", "/api/v1/calls/{id}/meetings") => json(
            r#"{"stage": "written", "held_at": "{later}", "place": "Salle {n}", "agenda": "Classement"}"#,
        ),
        ("PATCH", "/api/v1/calls/{id}/meetings/{meeting_id}") => {
            json(r#"{"minutes": "Compte rendu {n}"}"#)
        }
        ("PUT", "/api/v1/calls/{id}/meetings/{meeting_id}/attendance") => {
            json(r#"{"present": ["{spare_juror}"]}"#)
        }
        ("POST", "/api/v1/calls/{id}/meetings/{meeting_id}/items") => json(
            r#"{"application_id": "{app_a}", "kind": "consensus", "outcome": "selected"}"#,
        ),
        ("PUT", "/api/v1/calls/{id}/meetings/{meeting_id}/items/{application_id}") => {
            json(r#"{"kind": "consensus", "outcome": "rejected", "note": "Note {n}"}"#)
        }
        ("POST", "/api/v1/calls/{id}/meetings/{meeting_id}/close") => json("{}"),
        ("POST", "/api/v1/applications/{id}/pairings") => {
            json(r#"{"partner_organization_id": "{org_partner2}"}"#)
        }
        ("POST", "/api/v1/applications/{id}/pairings/{pairing_id}/respond") => {
            json(r#"{"accept": true}"#)
        }
        (_, _) => Request {
            body: Body::None,
            query: "",
        },
    }
}

/// The path of a row with its parameters filled from the world.
fn fill_path(method: &str, path: &str, cast: &Cast, world: &World) -> String {
    let id = if path == "/api/v1/calls/{id}/publish" {
        // Publishing is for drafts.
        &world.draft_call
    } else if path == "/api/v1/applications/{id}/screening" {
        // Screening is for submitted applications (A's is already eligible).
        &world.app_b
    } else if path.starts_with("/api/v1/calls/{id}") {
        &world.call
    } else if path.starts_with("/api/v1/applications/{id}") {
        &world.app_a
    } else if path.starts_with("/api/v1/organizations/{id}") {
        &world.org_a
    } else if path.starts_with("/api/v1/me/tokens/{id}") {
        &cast.spare_token_id
    } else if path.starts_with("/api/v1/admin/webhooks/{id}") {
        &world.webhook
    } else if path.starts_with("/api/v1/admin/outbox/{id}") {
        &world.outbox
    } else {
        assert!(!path.contains("{id}"), "no object for {method} {path}");
        ""
    };
    let user_id = if path.starts_with("/api/v1/organizations/{id}/members/") {
        &world.member_a
    } else if path.starts_with("/api/v1/calls/{id}/staff/") {
        // Removing someone from the staff: the observer.
        &cast.observer.id
    } else {
        &cast.spare_juror.id
    };
    path.replace("{id}", id)
        .replace("{user_id}", user_id)
        .replace("{attachment_id}", &world.attachment_a)
        .replace("{review_id}", &world.peer_review)
        .replace("{conflict_id}", &world.conflict)
        .replace("{meeting_id}", &world.meeting)
        .replace("{pairing_id}", &world.pairing)
        .replace("{application_id}", &world.app_a)
        // No appeal exists in the world: staff get as far as looking it up (404).
        .replace("{appeal_id}", "00000000-0000-7000-8000-000000000001")
        .replace("{event}", "submission_receipt")
        .replace("{locale}", "fr")
        .replace("{stage}", "written")
}

/// A body template with its placeholders filled for `caller`.
fn fill_body(template: &str, app: &TestApp, cast: &Cast, world: &World, caller: usize) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let now = app.clock.now();
    template
        .replace("{n}", &n.to_string())
        .replace("{edition_n}", &(4000 + n).to_string())
        .replace("{me}", cast.user_id(caller))
        .replace("{me_email}", cast.email(caller))
        .replace("{a_email}", &cast.a.email)
        .replace("{outsider_email}", &cast.outsider.email)
        .replace("{outsider_id}", &cast.outsider.id)
        .replace("{spare_juror}", &cast.spare_juror.id)
        .replace("{call}", &world.call)
        .replace("{app_a}", &world.app_a)
        .replace("{ref_a}", &world.reference_a)
        .replace("{app_b}", &world.app_b)
        .replace("{org_a}", &world.org_a)
        .replace("{org_partner2}", &world.org_partner2)
        .replace(
            "{soon}",
            &(now + chrono::Duration::days(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .replace(
            "{later}",
            &(now + chrono::Duration::days(60)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

/// What one cell observed.
struct Observed {
    status: StatusCode,
    body: String,
}

/// Calls one route as one caller.
async fn call(app: &TestApp, cast: &Cast, world: &World, row: &Row, caller: usize) -> Observed {
    let path = fill_path(&row.method, &row.path, cast, world);
    let spec = request(&row.method, &row.path);
    let method = Method::from_bytes(row.method.as_bytes()).unwrap();
    let url = format!(
        "{path}{}",
        spec.query
            .replace("{call}", &world.call)
            .replace("{juror}", &cast.juror.id)
    );
    let mut builder = app.request(method.clone(), &url, cast.token(caller));
    if method == Method::PATCH {
        // The current version, as an editor would have read it.
        let response = app
            .request(Method::GET, &path, Some(&cast.admin.token))
            .send()
            .await
            .unwrap();
        if let Some(etag) = response.headers().get(ETAG) {
            builder = builder.header(IF_MATCH, etag.clone());
        }
    }
    builder = match spec.body {
        Body::None => builder,
        Body::Json(template) => builder
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(fill_body(template, app, cast, world, caller)),
        Body::Csv(template) => builder
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .body(fill_body(template, app, cast, world, caller)),
        Body::Letter => builder.multipart(
            reqwest::multipart::Form::new()
                .text("field", "support_letter")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(pdf_bytes()).file_name("lettre.pdf"),
                ),
        ),
    };
    let response = builder.send().await.expect("the server answers");
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    Observed { status, body }
}

/// The results of the whole matrix.
#[derive(Default)]
struct Report {
    cells: usize,
    observed: BTreeMap<(String, String), Vec<String>>,
    mismatches: Vec<String>,
    leaks: Vec<String>,
    /// The confidential things some caller allowed to see them was shown (so the search is not vacuous).
    shown: BTreeSet<&'static str>,
}

impl Report {
    fn record(&mut self, row: &Row, caller: usize, seen: &Observed, cast: &Cast, world: &World) {
        self.cells += 1;
        let key = (row.method.clone(), row.path.clone());
        self.observed
            .entry(key)
            .or_insert_with(|| vec!["-".into(); CALLERS.len()])[caller] =
            Outcome::written(seen.status);
        let who = CALLERS[caller];
        let expected = row.outcomes[caller];
        if expected != Outcome::Unknown && !expected.matches(seen.status) {
            let mut body = seen.body.clone();
            body.truncate(300);
            self.mismatches.push(format!(
                "{} {} as {who}: expected {expected:?}, got {}: {body}",
                row.method, row.path, seen.status
            ));
        }
        for (needle, what, allowed) in confidential(cast, world) {
            if !seen.body.contains(&needle) {
                continue;
            }
            // The conflicted juror named A's application when declaring the conflict: their export lists it.
            let their_conflict =
                who == "conf" && what == "A's application id" && row.path == "/api/v1/me/export";
            if allowed.contains(&who) || their_conflict {
                self.shown.insert(what);
            } else {
                self.leaks.push(format!(
                    "{} {} as {who} ({}) shows {what}",
                    row.method, row.path, seen.status
                ));
            }
        }
    }
}

/// The callers of a row in the order they run: refusals first, so that they meet the world unspoiled.
fn order(row: &Row) -> Vec<usize> {
    if row.how == How::Alone {
        return (0..CALLERS.len()).rev().collect();
    }
    let (ok, refused): (Vec<usize>, Vec<usize>) =
        (0..CALLERS.len()).partition(|&c| matches!(row.outcomes[c], Outcome::Ok));
    refused.into_iter().chain(ok).collect()
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_matrix_says() {
    let started = Instant::now();
    let rows = rows();
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let table: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let discover = std::env::var("AUTHZ_DISCOVER").is_ok();
    let without_row: Vec<_> = routes.difference(&table).collect();
    let without_route: Vec<_> = table.difference(&routes).collect();
    assert!(
        discover || without_row.is_empty(),
        "routes without a row in the authorization matrix (add one to EXPECTED in tests/api/authorization.rs): {without_row:?}"
    );
    assert!(
        without_route.is_empty(),
        "rows of the authorization matrix for routes that are not served: {without_route:?}"
    );
    assert_eq!(
        table.len(),
        rows.len(),
        "a route has two rows in the matrix"
    );
    let mut rows = rows;
    if discover {
        for (method, path) in without_row {
            rows.push(Row {
                method: method.clone(),
                path: path.clone(),
                outcomes: vec![Outcome::Unknown; CALLERS.len()],
                how: How::Shared,
            });
        }
    }

    let app = TestApp::spawn().await;
    let cast = Cast::build(&app, "main").await;
    let shared = World::build(&app, &cast).await;
    let mut report = Report::default();

    for row in rows.iter().filter(|r| r.how == How::Shared) {
        for caller in order(row) {
            let seen = call(&app, &cast, &shared, row, caller).await;
            report.record(row, caller, &seen, &cast, &shared);
        }
    }
    for row in rows.iter().filter(|r| r.how == How::Fresh) {
        // In discovery, one world for the row, shared by its callers.
        let mut discovery_world = None;
        for caller in order(row) {
            let fresh = match row.outcomes[caller] {
                Outcome::Ok => Some(World::build(&app, &cast).await),
                Outcome::Unknown => {
                    if discovery_world.is_none() {
                        discovery_world = Some(World::build(&app, &cast).await);
                    }
                    None
                }
                Outcome::Status(_) => None,
            };
            let world = fresh
                .as_ref()
                .or(discovery_world.as_ref())
                .unwrap_or(&shared);
            let seen = call(&app, &cast, world, row, caller).await;
            report.record(row, caller, &seen, &cast, world);
        }
    }
    for (i, row) in rows.iter().filter(|r| r.how == How::Alone).enumerate() {
        let cast = Cast::build(&app, &format!("alone{i}")).await;
        let world = World::build(&app, &cast).await;
        for caller in order(row) {
            let seen = call(&app, &cast, &world, row, caller).await;
            report.record(row, caller, &seen, &cast, &world);
        }
    }

    if discover {
        let mut table = String::new();
        for row in &rows {
            let cells = &report.observed[&(row.method.clone(), row.path.clone())];
            let how = match row.how {
                How::Shared => "",
                How::Fresh => "fresh",
                How::Alone => "alone",
            };
            table.push_str(&format!(
                "{:<6} {:<62} | {} | {how}\n",
                row.method,
                row.path,
                cells
                    .iter()
                    .map(|c| format!("{c:<4}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        println!("{table}");
    }
    println!(
        "authorization matrix: {} routes × {} callers = {} cells checked in {:.1?}",
        rows.len(),
        CALLERS.len(),
        report.cells,
        started.elapsed()
    );
    let searched: BTreeSet<&str> = confidential(&cast, &shared)
        .into_iter()
        .filter(|(_, _, allowed)| !allowed.is_empty())
        .map(|(_, what, _)| what)
        .collect();
    let never_shown: Vec<_> = searched.difference(&report.shown).collect();
    assert!(
        never_shown.is_empty(),
        "no answer showed {never_shown:?} even to those allowed: the search for leaks proves nothing"
    );
    assert!(
        report.leaks.is_empty(),
        "answers show what their caller must not see:\n{}",
        report.leaks.join("\n")
    );
    assert!(
        report.mismatches.is_empty(),
        "{} cells differ from the matrix:\n{}",
        report.mismatches.len(),
        report.mismatches.join("\n")
    );
}

/// Sends `body` to `path` with the If-Match of the current version (as the caller reads it), like an editor.
async fn send_current(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let current = app
        .request(Method::GET, path, Some(token))
        .send()
        .await
        .unwrap();
    let mut builder = app.request(method, path, Some(token)).json(&body);
    if let Some(etag) = current.headers().get(ETAG) {
        builder = builder.header(IF_MATCH, etag.clone());
    }
    let response = builder.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// One attempt at mass assignment: who sends what where, the fields they may not set, and where staff read
/// the object that must not change.
struct Attempt<'a> {
    token: &'a str,
    method: Method,
    path: String,
    body: Value,
    extra: &'static [&'static str],
    read: String,
}

#[tokio::test]
async fn write_bodies_cannot_set_fields_their_caller_does_not_own() {
    let app = TestApp::spawn().await;
    let cast = Cast::build(&app, "mass").await;
    let world = World::build(&app, &cast).await;
    let admin = cast.admin.token.as_str();
    let org = app
        .organization(&cast.a.token, "territory", "Commune brouillon")
        .await;
    let draft = expect(
        &app,
        Method::POST,
        &format!("/api/v1/calls/{}/applications", world.call),
        &cast.a.token,
        json!({"organization_id": org, "answers": {"budget": 1000}}),
    )
    .await;
    let application = format!("/api/v1/applications/{}", id_of(&draft));
    let organization = format!("/api/v1/organizations/{}", world.org_a);
    let call = format!("/api/v1/calls/{}", world.call);
    let consent = format!("/api/v1/applications/{}/retention-consent", world.app_a);

    let attempts = [
        Attempt {
            token: &cast.a.token,
            method: Method::PATCH,
            path: application.clone(),
            body: json!({"answers": {"budget": 2000}, "status": "submitted", "reference": "EXP-2026-9999",
                         "organization_id": world.org_b, "created_by": cast.b.id}),
            extra: &["created_by", "organization_id", "reference", "status"],
            read: application.clone(),
        },
        Attempt {
            token: &cast.a.token,
            method: Method::PATCH,
            path: organization.clone(),
            body: json!({"city": "Ailleurs", "kind": "company", "owner": cast.b.id, "id": world.org_b}),
            extra: &["id", "kind", "owner"],
            read: organization.clone(),
        },
        Attempt {
            token: admin,
            method: Method::PATCH,
            path: call.clone(),
            body: json!({"summary": {"fr": "Autre résumé"}, "status": "decided", "created_by": cast.b.id}),
            extra: &["created_by", "status"],
            read: call.clone(),
        },
        Attempt {
            token: &cast.juror.token,
            method: Method::PUT,
            path: format!("/api/v1/applications/{}/reviews/mine", world.app_a),
            body: json!({"stage": "written", "scores": full_scores(5.0), "juror_id": cast.peer.id,
                         "status": "submitted", "application_id": world.app_b}),
            extra: &["application_id", "juror_id", "status"],
            read: format!("/api/v1/applications/{}/reviews", world.app_a),
        },
        Attempt {
            token: &cast.a.token,
            method: Method::PUT,
            path: consent.clone(),
            body: json!({"consent": false, "organization_id": world.org_b}),
            extra: &["organization_id"],
            read: consent.clone(),
        },
        Attempt {
            token: &cast.b.token,
            method: Method::POST,
            path: format!("{call}/applications"),
            body: json!({"organization_id": world.org_b, "status": "selected", "reference": "EXP-2026-0001"}),
            extra: &["reference", "status"],
            read: format!("/api/v1/applications/{}", world.app_b),
        },
        Attempt {
            token: &cast.a.token,
            method: Method::POST,
            path: "/api/v1/me/tokens".to_owned(),
            body: json!({"name": "script", "scopes": ["applications:read"], "user_id": cast.b.id, "kind": "session"}),
            extra: &["kind", "user_id"],
            read: "/api/v1/audit?entity_type=api_token".to_owned(),
        },
        Attempt {
            token: &cast.juror.token,
            method: Method::POST,
            path: format!("{call}/conflicts"),
            body: json!({"juror_id": cast.juror.id, "application_id": world.app_b, "reason": "Voisin",
                         "declared_by": cast.peer.id, "source": "detected"}),
            extra: &["declared_by", "source"],
            read: format!("{call}/conflicts"),
        },
        Attempt {
            token: admin,
            method: Method::PATCH,
            path: format!("{call}/meetings/{}", world.meeting),
            body: json!({"minutes": "Compte rendu", "status": "closed", "digest": "00", "stage": "pitch"}),
            extra: &["digest", "stage", "status"],
            read: format!("{call}/meetings/{}/record", world.meeting),
        },
        Attempt {
            token: admin,
            method: Method::POST,
            path: "/api/v1/auth/register".to_owned(),
            body: json!({"email": "eve@authz.example", "password": PASSWORD, "display_name": "Eve", "role": "admin"}),
            extra: &["role"],
            read: "/api/v1/audit".to_owned(),
        },
    ];
    for attempt in attempts {
        let Attempt {
            token,
            method,
            path,
            body,
            extra,
            read,
        } = attempt;
        let (status, before) = app.get(&read, Some(admin)).await;
        assert_eq!(status, StatusCode::OK, "{read}: {before}");

        let (status, answer) = send_current(&app, method.clone(), &path, token, body).await;

        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path} took fields its caller may not set: {answer}"
        );
        let fields = failing_fields(&answer);
        for field in extra {
            assert!(
                fields.iter().any(|f| f == field),
                "{method} {path}: {field} not named in {answer}"
            );
        }
        let (_, after) = app.get(&read, Some(admin)).await;
        assert_eq!(before, after, "{method} {path} changed {read}");
    }
}

#[tokio::test]
async fn a_proposed_company_reads_the_pairings_only_with_a_token_that_may_read_applications() {
    let app = TestApp::spawn().await;
    let cast = Cast::build(&app, "partner").await;
    let world = World::build(&app, &cast).await;
    let pairings = format!("/api/v1/applications/{}/pairings", world.app_a);

    let (status, seen) = app.get(&pairings, Some(&cast.partner.token)).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["items"].as_array().map(Vec::len), Some(1), "{seen}");

    for scope in ["reviews:read", "reviews:write", "applications:write"] {
        let (_, token) = personal_token(&app, &cast.partner.token, scope).await;
        let (status, seen) = app.get(&pairings, Some(&token)).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "a {scope} token of the company reads the pairings: {status} {seen}"
        );
    }
    let (_, token) = personal_token(&app, &cast.partner.token, "applications:read").await;
    let (status, seen) = app.get(&pairings, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
}
