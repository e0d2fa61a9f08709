//! The operator's commands besides `serve`: migrate, create an administrator, load a demo, back up, restore.

use chrono::Utc;
use uuid::Uuid;

use crate::auth::password::hash_now;
use crate::auth::permissions::MemberRole;
use crate::auth::permissions::{Principal, Role, TokenKind};
use crate::config::Settings;
use crate::db::types::{Ts, Uid};
use crate::db::{write_tx, Db};
use crate::domain::account::{DisplayName, EmailAddress, Password};
use crate::domain::action::Action;
use crate::domain::edition::EditionPart;
use crate::domain::form::builtin_template;
use crate::error::Error;
use crate::service::calls as service_calls;
use crate::service::editions::{self, NewEdition};
use crate::store::calls::{self, Call};
use crate::store::journal::{Entity, Happened};
use crate::store::organizations::{self, Organization};
use crate::store::users::{self, User};

/// Applies the pending migrations and says which.
pub fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database)?;
    let applied = crate::service::upgrade::migrate(&db)?;
    if applied.is_empty() {
        println!("the database is up to date");
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}

/// Creates an administrator, or makes the existing account of that address one (its password unchanged).
pub fn create_admin(
    settings: &Settings,
    email: &str,
    password: &str,
    display_name: &str,
) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("email: {e}"))?;
    let password =
        Password::parse(password, Some(&email)).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let name =
        DisplayName::parse(display_name).map_err(|e| anyhow::anyhow!("display name: {e}"))?;
    let db = Db::connect(&settings.database)?;
    crate::service::upgrade::migrate(&db)?;
    let hash = hash_now(password.expose()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn = db.write_connection()?;
    let created = write_tx(&mut conn, |conn| -> Result<Outcome, Error> {
        let now = Utc::now();
        let created = match users::find_by_email(conn, email.as_str())? {
            // Whoever registered the address never proved they read it: the operator's password replaces
            // theirs and their sessions end before the account becomes an administrator.
            Some(user) if user.email_verified_at.is_none() => {
                users::set_password(conn, *user.id, &hash, now)?;
                crate::store::tokens::revoke_all_for_user(conn, *user.id, now)?;
                users::mark_verified(conn, *user.id, now)?;
                users::set_role(conn, *user.id, Role::Admin, now)?;
                record(conn, *user.id, Action::UserPromotedAdmin)?;
                Outcome::TakenOver
            }
            Some(user) => {
                users::set_role(conn, *user.id, Role::Admin, now)?;
                record(conn, *user.id, Action::UserPromotedAdmin)?;
                Outcome::Promoted
            }
            None => {
                let user = new_user(email.as_str(), &hash, name.as_str(), Role::Admin);
                users::insert(conn, &user)?;
                record(conn, *user.id, Action::UserCreatedAdmin)?;
                Outcome::Created
            }
        };
        Ok(created)
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    match created {
        Outcome::Created => println!("administrator {} created", email.as_str()),
        Outcome::Promoted => println!(
            "{} already had an account: it is now an administrator (password unchanged)",
            email.as_str()
        ),
        Outcome::TakenOver => println!(
            "{} had an unverified account: it is now an administrator with the given password, and its \
             earlier sessions have ended",
            email.as_str()
        ),
    }
    Ok(())
}

/// What `admin create` did to the address's account.
enum Outcome {
    Created,
    Promoted,
    TakenOver,
}

fn new_user(email: &str, hash: &str, name: &str, role: Role) -> User {
    let now = Utc::now();
    User {
        id: Uid(Uuid::now_v7()),
        email: email.to_owned(),
        password_hash: hash.to_owned(),
        display_name: name.to_owned(),
        locale: "fr".into(),
        role,
        email_verified_at: Some(Ts(now)),
        created_at: Ts(now),
        updated_at: Ts(now),
    }
}

/// Journals what the command line did to account `user_id` (no actor: the operator at the console).
fn record(conn: &mut crate::db::DbConn, user_id: Uuid, action: Action) -> Result<(), Error> {
    Happened::new(action, None, Entity::User(user_id)).record(conn, Utc::now())?;
    Ok(())
}

/// The two calls with the association's 2026 dates (published), and example accounts: an administrator, a
/// start-up founder, a territory officer and a juror, with their organizations. Running it twice changes
/// nothing.
pub fn demo(settings: &Settings) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database)?;
    crate::service::upgrade::migrate(&db)?;
    let accounts = [
        ("admin@demo.cordee.localhost", "Claire Admin", "admin", None),
        (
            "fondatrice@neige-mobilite.example",
            "Léa Fondatrice",
            "user",
            Some((
                "startup",
                "Neige Mobilité SAS",
                Some("73282932000074"),
                None,
                "74400",
                "Chamonix-Mont-Blanc",
            )),
        ),
        (
            "mairie@les-saisies.example",
            "Paul Chargé de mission",
            "user",
            Some((
                "territory",
                "Commune de Hauteluce",
                None,
                Some("73132"),
                "73620",
                "Hauteluce",
            )),
        ),
        ("jure@demo.cordee.localhost", "Marc Juré", "user", None),
    ];
    let password = "montagne-2026-demo";
    let hash = hash_now(password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let paris = |y, m, d, h| {
        chrono::TimeZone::with_ymd_and_hms(&chrono_tz::Europe::Paris, y, m, d, h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| anyhow::anyhow!("invalid demo date"))
    };
    let calls_to_load = [
        (
            "alpes-tourisme-lab",
            "alpes-tourisme-lab-2026",
            paris(2026, 1, 6, 9)?,
            paris(2026, 2, 27, 12)?,
        ),
        (
            "experimentation-montagne",
            "experimentation-montagne-2026",
            paris(2026, 9, 7, 9)?,
            paris(2026, 10, 30, 12)?,
        ),
        // The joint call for the 2030 Winter Games; the plan gives no dates yet: these are placeholders.
        (
            "ami-jeux-2030",
            "ami-jeux-2030",
            paris(2026, 12, 15, 9)?,
            paris(2027, 3, 31, 12)?,
        ),
    ];
    // The 2027 season: each call's next edition, made from its 2026 edition as staff would (everything
    // copied, dates one year later on the Paris clock: January and September again), then published.
    let editions_to_load = [
        ("alpes-tourisme-lab-2026", "alpes-tourisme-lab-2027"),
        (
            "experimentation-montagne-2026",
            "experimentation-montagne-2027",
        ),
    ];
    let mut conn = db.write_connection()?;
    write_tx(&mut conn, |conn| -> Result<(), Error> {
        let now = Utc::now();
        for (template, slug, opens_at, closes_at) in &calls_to_load {
            if calls::find_by_id_or_slug(conn, slug)?.is_some() {
                continue;
            }
            let template = builtin_template(template).ok_or_else(|| {
                Error::Internal(anyhow::anyhow!("the template {template} is missing"))
            })?;
            let mut call = Call::from_template(&template, slug, *opens_at, *closes_at, None, now)?;
            call.status = crate::domain::call::CallStatus::Published;
            calls::insert(conn, &call)?;
        }
        for (email, name, role, org) in accounts {
            if users::find_by_email(conn, email)?.is_some() {
                continue;
            }
            let role: Role = role
                .parse()
                .map_err(|e: String| Error::Internal(anyhow::anyhow!(e)))?;
            let user = new_user(email, &hash, name, role);
            users::insert(conn, &user)?;
            if let Some((kind, legal_name, siret, insee, postcode, city)) = org {
                let org = Organization {
                    id: Uid(Uuid::now_v7()),
                    kind: kind.into(),
                    legal_name: legal_name.into(),
                    siret: siret.map(str::to_owned),
                    siren: siret.map(|s| s[..9].to_owned()),
                    insee_code: insee.map(str::to_owned),
                    postcode: postcode.into(),
                    city: city.into(),
                    website: None,
                    phone: None,
                    version: 1,
                    created_at: Ts(now),
                    updated_at: Ts(now),
                };
                organizations::insert(conn, &org)?;
                organizations::add_member(conn, *org.id, *user.id, MemberRole::Owner, now)?;
            }
        }
        load_next_editions(conn, &editions_to_load, now)
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("calls:");
    for (_, slug, opens_at, closes_at) in &calls_to_load {
        println!(
            "  {slug:<32} open {} → {}",
            opens_at.to_rfc3339(),
            closes_at.to_rfc3339()
        );
    }
    for (_, slug) in &editions_to_load {
        println!("  {slug:<32} the next edition, one year later");
    }
    println!("demo accounts (password for all: {password}):");
    for (email, name, role, _) in accounts {
        println!("  {email:<40} {name} ({role})");
    }
    Ok(())
}

/// Makes and publishes each `(previous, next)` edition of the demo whose next slug is not taken yet, as the demo
/// administrator, through the same use cases as `POST /calls/{id}/editions` and `POST /calls/{id}/publish`.
fn load_next_editions(
    conn: &mut crate::db::DbConn,
    editions: &[(&str, &str)],
    now: chrono::DateTime<Utc>,
) -> Result<(), Error> {
    let admin = users::find_by_email(conn, "admin@demo.cordee.localhost")?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("the demo administrator is missing")))?;
    let actor = Principal {
        user_id: *admin.id,
        role: Role::Admin,
        token_id: Uuid::nil(),
        token_kind: TokenKind::Session,
        scopes: Vec::new(),
        email_verified: true,
    };
    for (previous, next) in editions {
        if calls::find_by_id_or_slug(conn, next)?.is_some() {
            continue;
        }
        let previous = calls::find_by_id_or_slug(conn, previous)?.ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("the demo call {previous} is missing"))
        })?;
        let new = NewEdition {
            slug: (*next).to_owned(),
            opens_at: None,
            closes_at: None,
            edition: None,
            copy: EditionPart::ALL.into_iter().collect(),
        };
        let call = editions::create(conn, &actor, *previous.id, new, now)?;
        service_calls::publish(conn, &actor, *call.id, now)?;
    }
    Ok(())
}

/// `cordee backup`: writes the archive and says what it holds.
pub fn backup(
    settings: &Settings,
    output: &std::path::Path,
    attachments_only: bool,
    force: bool,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let summary = crate::backup::backup(settings, output, attachments_only, force)?;
    let manifest = &summary.manifest;
    let database = manifest
        .database
        .as_ref()
        .map_or("no database (attachments only)".to_owned(), |db| {
            format!("the database ({} bytes)", db.size)
        });
    println!(
        "backup written to {} in {:.2} s: {database}, {} attachment files ({} bytes), migration {}; \
         archive {} bytes",
        output.display(),
        started.elapsed().as_secs_f64(),
        manifest.attachment_count,
        manifest.attachment_bytes,
        manifest.migration_version.as_deref().unwrap_or("none"),
        summary.archive_bytes,
    );
    Ok(())
}

/// `cordee restore`: puts an archive's database and files where the settings say, after checking them.
pub fn restore(settings: &Settings, input: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let summary = crate::backup::restore(settings, input, force)?;
    let manifest = &summary.manifest;
    if let Some(path) = &summary.database_path {
        println!(
            "restored the database to {} (migration {})",
            path.display(),
            manifest.migration_version.as_deref().unwrap_or("none")
        );
    }
    println!(
        "restored {} attachment files ({} bytes) to {}; every checksum matches the backup of {} (Cordée {})",
        manifest.attachment_count,
        manifest.attachment_bytes,
        summary.storage,
        manifest.created_at.to_rfc3339(),
        manifest.cordee_version,
    );
    Ok(())
}
