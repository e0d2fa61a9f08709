//! Seeds a benchmark database through the library (not over HTTP): one published Alpes Tourisme Lab call,
//! N submitted or eligible applications with complete answers and a pitch deck, M jurors with three submitted
//! reviews per application, drafts to submit and to upload to, and draft reviews to save again.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use cordee::auth::password::hash_now;
use cordee::auth::permissions::Role;
use cordee::config::DatabaseSettings;
use cordee::db::schema::{
    applications, assignments, attachments, organization_members, organizations, reviews,
};
use cordee::db::types::{Json, Ts, Uid};
use cordee::db::{write_tx, Backend, Db, DbConn};
use cordee::domain::application::ApplicationStatus;
use cordee::domain::call::reference;
use cordee::domain::call::CallStatus;
use cordee::domain::form::builtin_template;
use cordee::domain::review::ReviewStatus;
use cordee::store::applications::{Application, Attachment};
use cordee::store::assignments::Assignment;
use cordee::store::calls::{self, Call};
use cordee::store::organizations::Organization;
use cordee::store::reviews::Review;
use cordee::store::users::{self, User};

/// The password of every seeded account.
pub const PASSWORD: &str = "banc-d-essai-2026";
/// The stage jurors score.
pub const STAGE: &str = "written";
/// The call's file field.
pub const FILE_FIELD: &str = "pitch_deck";

/// How much to seed.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Submitted or eligible applications, each with three submitted reviews.
    pub applications: usize,
    pub jurors: usize,
    pub applicants: usize,
    /// Complete drafts, each submitted once by the `submit` workload.
    pub submit_drafts: usize,
    /// Draft reviews per juror, saved again and again by the `review` and `soak` workloads.
    pub draft_reviews_per_juror: usize,
    /// Applications assigned to one more juror, whose review pack the `pack` workload downloads; their
    /// pitch decks are written to `storage_dir` (0: none).
    pub pack_applications: usize,
    /// Size of each of those pitch decks, bytes.
    pub pack_file_bytes: usize,
    /// The server's attachment folder.
    pub storage_dir: std::path::PathBuf,
}

/// An account the load generator logs in as.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
}

/// What was seeded, for the workloads.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub call_id: Uuid,
    pub admin: Account,
    pub applicants: Vec<Account>,
    pub jurors: Vec<Account>,
    /// Submitted or eligible applications with the index of the applicant who owns them.
    pub submitted: Vec<(Uuid, usize)>,
    /// Complete drafts with their owner.
    pub submit_drafts: Vec<(Uuid, usize)>,
    /// One draft per applicant to upload attachments to.
    pub upload_drafts: Vec<(Uuid, usize)>,
    /// Draft reviews: (application, juror index).
    pub draft_reviews: Vec<(Uuid, usize)>,
    /// The juror assigned `pack_applications` applications, when there are any.
    pub pack_juror: Option<Account>,
    pub criteria: Vec<String>,
    pub seconds: f64,
}

const CHUNK: usize = 500;

/// Inserts `rows` into `table` in multi-row statements (per backend: the multi-connection cannot).
macro_rules! insert_batches {
    ($conn:expr, $table:expr, $rows:expr) => {{
        for chunk in $rows.chunks(CHUNK) {
            let insert = diesel::insert_into($table).values(chunk);
            match &mut *$conn {
                DbConn::Sqlite(c) => insert.execute(c)?,
                DbConn::Pg(c) => insert.execute(c)?,
            };
        }
    }};
}

/// Migrates the database and seeds it; the database must be empty.
pub fn seed(database: &DatabaseSettings, plan: &Plan) -> anyhow::Result<Seeded> {
    anyhow::ensure!(
        plan.jurors >= 6,
        "at least 6 jurors (3 reviews per application plus draft reviews on other applications)"
    );
    anyhow::ensure!(plan.applicants >= 1, "at least one applicant");
    anyhow::ensure!(
        plan.applications >= plan.jurors * (plan.draft_reviews_per_juror + 1),
        "too few applications for the draft reviews of each juror"
    );
    anyhow::ensure!(
        plan.pack_applications <= plan.applications,
        "the review pack holds at most the submitted applications"
    );
    let started = Instant::now();
    let db = Db::connect(database)?;
    cordee::service::upgrade::migrate(&db)?;
    eprintln!("  migrated in {:.1} s", started.elapsed().as_secs_f64());
    let hash = hash_now(PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
    let template = builtin_template("alpes-tourisme-lab")
        .ok_or_else(|| anyhow::anyhow!("the alpes-tourisme-lab template is missing"))?;
    let criteria: Vec<String> = template
        .stages
        .iter()
        .find(|s| s.key == STAGE)
        .map(|s| s.criteria.iter().map(|c| c.key.clone()).collect())
        .unwrap_or_default();
    let mut conn = db.write_connection()?;
    let seeded = write_tx(&mut conn, |conn| -> anyhow::Result<Seeded> {
        let now = Utc::now();
        let user = |email: String, role: Role| User {
            id: Uid(Uuid::now_v7()),
            email,
            password_hash: hash.clone(),
            display_name: "Banc d'essai".into(),
            locale: "fr".into(),
            role,
            email_verified_at: Some(Ts(now)),
            created_at: Ts(now),
            updated_at: Ts(now),
        };
        let admin = user("admin@cordee-staff.example".into(), Role::Admin);
        users::insert(conn, &admin)?;
        let applicants: Vec<User> = (0..plan.applicants)
            .map(|i| user(format!("candidat{i}@candidats.example"), Role::User))
            .collect();
        // Jurors share no email domain with the applicants: that would be a detected conflict.
        let jurors: Vec<User> = (0..plan.jurors)
            .map(|i| user(format!("jure{i}@jury-montagne.example"), Role::User))
            .collect();
        let pack_juror = (plan.pack_applications > 0)
            .then(|| user("jure-paquet@jury-montagne.example".into(), Role::User));
        for u in applicants.iter().chain(&jurors).chain(&pack_juror) {
            users::insert(conn, u)?;
        }

        let n = plan.applications;
        let mut call = Call::from_template(
            &template,
            "banc-atl",
            now - Duration::days(1),
            now + Duration::days(60),
            Some(*admin.id),
            now,
        )?;
        call.status = CallStatus::Published;
        call.next_reference = i32::try_from(n + 1)?;
        call.form_frozen_at = Some(Ts(now));
        calls::insert(conn, &call)?;
        let year = chrono::Datelike::year(&call.opens_at.0);
        for juror in jurors.iter().chain(&pack_juror) {
            cordee::store::jurors::add_juror(
                conn,
                *call.id,
                *juror.id,
                json!([]),
                Some(*admin.id),
                now,
            )?;
        }

        // Organizations and applications: the N submitted ones, then the drafts.
        let total = n + plan.submit_drafts + plan.applicants;
        let mut orgs = Vec::with_capacity(total);
        let mut members = Vec::with_capacity(total);
        let mut apps = Vec::with_capacity(total);
        let mut files = Vec::with_capacity(total);
        for i in 0..total {
            let owner = i % plan.applicants;
            let org = organization(i, now);
            members.push((
                organization_members::organization_id.eq(org.id),
                organization_members::user_id.eq(applicants[owner].id),
                organization_members::role.eq("owner"),
                organization_members::created_at.eq(Ts(now)),
            ));
            let submitted = i < n;
            let app = Application {
                id: Uid(Uuid::now_v7()),
                call_id: call.id,
                organization_id: org.id,
                status: match (submitted, i % 4) {
                    (false, _) => ApplicationStatus::Draft,
                    (true, 0) => ApplicationStatus::Submitted,
                    (true, _) => ApplicationStatus::Eligible,
                },
                reference: if submitted {
                    Some(reference(
                        &call.reference_prefix,
                        year,
                        i32::try_from(i + 1)?,
                    ))
                } else {
                    None
                },
                answers: Json(answers(i)),
                version: if submitted { 2 } else { 1 },
                submitted_at: submitted.then_some(Ts(now)),
                screening_reason: None,
                changes_due_at: None,
                withdrawn_reason: None,
                created_by: Some(applicants[owner].id),
                created_at: Ts(now),
                updated_at: Ts(now),
            };
            // The upload drafts (the last `applicants` ones) start without a pitch deck.
            if i < n + plan.submit_drafts {
                files.push(pitch_deck(app.id, applicants[owner].id, now));
            }
            orgs.push(org);
            apps.push(app);
        }
        let deck = pack_deck(plan.pack_file_bytes);
        let deck_sha256 = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&deck))
        };
        for file in files.iter_mut().take(plan.pack_applications) {
            std::fs::create_dir_all(&plan.storage_dir)?;
            std::fs::write(plan.storage_dir.join(&file.storage_name), &deck)?;
            file.size = i64::try_from(deck.len())?;
            file.sha256 = deck_sha256.clone();
        }
        insert_batches!(conn, organizations::table, &orgs);
        insert_batches!(conn, organization_members::table, &members);
        insert_batches!(conn, applications::table, &apps);
        insert_batches!(conn, attachments::table, &files);

        // Three submitted reviews per application; then draft reviews on other applications.
        let m = plan.jurors;
        let mut assigned = Vec::with_capacity(n * 3);
        let mut written = Vec::with_capacity(n * 3);
        let mut review = |app: &Application, juror: usize, submitted: bool, salt: usize| {
            assigned.push(Assignment {
                id: Uid(Uuid::now_v7()),
                call_id: call.id,
                application_id: app.id,
                juror_id: jurors[juror].id,
                stage: STAGE.into(),
                created_by: Some(admin.id),
                created_at: Ts(now),
            });
            let r = Review {
                id: Uid(Uuid::now_v7()),
                call_id: call.id,
                application_id: app.id,
                juror_id: jurors[juror].id,
                stage: STAGE.into(),
                comment: Some("Dossier solide, équipe crédible.".into()),
                status: if submitted {
                    ReviewStatus::Submitted
                } else {
                    ReviewStatus::Draft
                },
                submitted_at: submitted.then_some(Ts(now)),
                version: 1,
                created_at: Ts(now),
                updated_at: Ts(now),
                reopened_at: None,
            };
            let given: serde_json::Map<String, serde_json::Value> = criteria
                .iter()
                .enumerate()
                .map(|(k, criterion)| (criterion.clone(), serde_json::json!(score(salt, k))))
                .collect();
            written.push((r, reviews::scores.eq(Json(given.into()))));
        };
        for (i, app) in apps.iter().take(n).enumerate() {
            for k in 0..3 {
                review(app, (i + k) % m, true, i * 3 + k);
            }
        }
        // Juror j's draft reviews are on applications j + 3 + m·t, which jurors j+3, j+4 and j+5 review.
        let mut draft_reviews = Vec::new();
        for j in 0..m {
            for t in 0..plan.draft_reviews_per_juror {
                let i = j + 3 + m * t;
                review(&apps[i], j, false, i + 7);
                draft_reviews.push((*apps[i].id, j));
            }
        }
        if let Some(juror) = &pack_juror {
            for app in apps.iter().take(plan.pack_applications) {
                assigned.push(Assignment {
                    id: Uid(Uuid::now_v7()),
                    call_id: call.id,
                    application_id: app.id,
                    juror_id: juror.id,
                    stage: STAGE.into(),
                    created_by: Some(admin.id),
                    created_at: Ts(now),
                });
            }
        }
        insert_batches!(conn, assignments::table, &assigned);
        insert_batches!(conn, reviews::table, &written);
        // The reviews went in directly, not through the use case that keeps the ranking current.
        cordee::store::ranking_tallies::rebuild_call(conn, *call.id)
            .map_err(|e| anyhow::anyhow!("building the ranking tallies: {e}"))?;

        let owned = |range: std::ops::Range<usize>| -> Vec<(Uuid, usize)> {
            range.map(|i| (*apps[i].id, i % plan.applicants)).collect()
        };
        let account = |u: &User| Account {
            email: u.email.clone(),
        };
        Ok(Seeded {
            call_id: *call.id,
            admin: account(&admin),
            applicants: applicants.iter().map(account).collect(),
            jurors: jurors.iter().map(account).collect(),
            submitted: owned(0..n),
            submit_drafts: owned(n..n + plan.submit_drafts),
            upload_drafts: owned(n + plan.submit_drafts..total),
            draft_reviews,
            pack_juror: pack_juror.as_ref().map(account),
            criteria: criteria.clone(),
            seconds: 0.0,
        })
    })?;
    eprintln!("  inserted in {:.1} s", started.elapsed().as_secs_f64());
    if db.backend() == Backend::Postgres {
        // Autovacuum would gather the statistics shortly after a bulk load; do it now.
        use diesel::connection::SimpleConnection;
        conn.batch_execute("ANALYZE")?;
    }
    Ok(Seeded {
        seconds: started.elapsed().as_secs_f64(),
        ..seeded
    })
}

/// A start-up with a valid SIRET derived from `i`.
fn organization(i: usize, now: chrono::DateTime<Utc>) -> Organization {
    let siren = with_luhn_digit(&format!("{:08}", 10_000_000 + i));
    let siret = with_luhn_digit(&format!("{siren}{:04}", 1 + i % 9000));
    Organization {
        id: Uid(Uuid::now_v7()),
        kind: "startup".into(),
        legal_name: format!("Jeune Pousse {i:06} SAS"),
        siret: Some(siret),
        siren: Some(siren),
        insee_code: None,
        postcode: "74400".into(),
        city: "Chamonix-Mont-Blanc".into(),
        website: Some(format!("https://pousse{i}.example")),
        phone: None,
        version: 1,
        created_at: Ts(now),
        updated_at: Ts(now),
    }
}

/// `digits` followed by the digit that makes the whole pass the Luhn check.
fn with_luhn_digit(digits: &str) -> String {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(pos, d)| {
            // Positions counted from the check digit to come: every other one, starting next to it, doubles.
            if pos % 2 == 0 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// Complete answers to the Alpes Tourisme Lab form (the pitch deck is an attachment).
pub fn answers(i: usize) -> Value {
    json!({
        "solution_name": format!("Navette Neige {i}"),
        "solution_description": "Une navette électrique à la demande entre les villages et les pieds de pistes, réservée par application.",
        "challenges": ["mobility_access", "energy_climate"],
        "problem": "Les stations saturent leurs parkings et les saisonniers n'ont pas de transport le soir.",
        "novelty": "Réservation dynamique et mutualisation avec le transport scolaire.",
        "maturity": "prototype",
        "business_model": "Abonnement payé par les communes, billet à l'unité pour les visiteurs.",
        "revenue_last_year": 42000 + i,
        "funds_raised": 150000,
        "team_fte": 3.5,
        "impact": "Moins de voitures en station, des emplois locaux.",
        "rules_consent": true
    })
}

/// The pitch deck's row (the bench writes no file: no workload downloads it).
fn pitch_deck(application: Uid, owner: Uid, now: chrono::DateTime<Utc>) -> Attachment {
    Attachment {
        id: Uid(Uuid::now_v7()),
        application_id: application,
        field: FILE_FIELD.into(),
        filename: "pitch-deck.pdf".into(),
        content_type: "application/pdf".into(),
        size: 102_400,
        sha256: "0".repeat(64),
        storage_name: Uuid::now_v7().simple().to_string(),
        uploaded_by: Some(owner),
        created_at: Ts(now),
    }
}

/// The pitch deck of the review pack's applications: `bytes` bytes that start like a PDF.
fn pack_deck(bytes: usize) -> Vec<u8> {
    let mut deck = b"%PDF-1.4\n".to_vec();
    let mut x: u32 = 0x9E37_79B9;
    while deck.len() < bytes {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        deck.extend_from_slice(&x.to_le_bytes());
    }
    deck.truncate(bytes.max(9));
    deck
}

/// A score from 0 to 5 in halves, spread by `salt`.
pub fn score(salt: usize, criterion: usize) -> f64 {
    let x = (salt.wrapping_mul(2_654_435_761) ^ (criterion * 40_503)) % 11;
    x as f64 / 2.0
}

/// Scores for every criterion, for a review save.
pub fn scores_body(criteria: &[String], salt: usize) -> BTreeMap<String, f64> {
    criteria
        .iter()
        .enumerate()
        .map(|(k, c)| (c.clone(), score(salt, k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_digit_completes_known_numbers() {
        // 732829320 is a valid SIREN, 73282932000074 a valid SIRET.
        assert_eq!(with_luhn_digit("73282932"), "732829320");
        assert_eq!(with_luhn_digit("7328293200007"), "73282932000074");
    }
}
