//! The one schema of both databases (see `migrations/postgres` and `migrations/sqlite`).

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    users (id) {
        id -> DbUuid,
        email -> Text,
        password_hash -> Text,
        display_name -> Text,
        locale -> Text,
        role -> Text,
        email_verified_at -> Nullable<DbTime>,
        created_at -> DbTime,
        updated_at -> DbTime,
        deleted_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    api_tokens (id) {
        id -> DbUuid,
        user_id -> DbUuid,
        kind -> Text,
        name -> Nullable<Text>,
        scopes -> DbJson,
        token_hash -> Text,
        expires_at -> Nullable<DbTime>,
        revoked_at -> Nullable<DbTime>,
        last_used_at -> Nullable<DbTime>,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    email_tokens (id) {
        id -> DbUuid,
        user_id -> DbUuid,
        purpose -> Text,
        token_hash -> Text,
        expires_at -> DbTime,
        used_at -> Nullable<DbTime>,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    invitations (id) {
        id -> DbUuid,
        email -> Text,
        role -> Text,
        call_id -> Nullable<DbUuid>,
        invited_by -> Nullable<DbUuid>,
        token_hash -> Text,
        expires_at -> DbTime,
        accepted_at -> Nullable<DbTime>,
        accepted_by -> Nullable<DbUuid>,
        created_at -> DbTime,
        declined_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    organization_invitations (id) {
        id -> DbUuid,
        organization_id -> DbUuid,
        email -> Text,
        role -> Text,
        invited_by -> Nullable<DbUuid>,
        token_hash -> Text,
        expires_at -> DbTime,
        accepted_at -> Nullable<DbTime>,
        accepted_by -> Nullable<DbUuid>,
        declined_at -> Nullable<DbTime>,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    organizations (id) {
        id -> DbUuid,
        kind -> Text,
        legal_name -> Text,
        siret -> Nullable<Text>,
        siren -> Nullable<Text>,
        insee_code -> Nullable<Text>,
        postcode -> Text,
        city -> Text,
        website -> Nullable<Text>,
        phone -> Nullable<Text>,
        version -> Integer,
        created_at -> DbTime,
        updated_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    organization_members (organization_id, user_id) {
        organization_id -> DbUuid,
        user_id -> DbUuid,
        role -> Text,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    outbox (id) {
        id -> DbUuid,
        kind -> Text,
        event -> Text,
        recipient -> Text,
        user_id -> Nullable<DbUuid>,
        locale -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        next_attempt_at -> DbTime,
        locked_until -> Nullable<DbTime>,
        last_error -> Nullable<Text>,
        created_at -> DbTime,
        sent_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    audit_log (id) {
        id -> DbUuid,
        actor_id -> Nullable<DbUuid>,
        action -> Text,
        entity_type -> Text,
        entity_id -> DbUuid,
        before -> Nullable<DbJson>,
        after -> Nullable<DbJson>,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    calls (id) {
        id -> DbUuid,
        slug -> Text,
        template -> Nullable<Text>,
        kind -> Text,
        reference_prefix -> Text,
        title -> DbJson,
        summary -> Nullable<DbJson>,
        opens_at -> DbTime,
        closes_at -> DbTime,
        timezone -> Text,
        eligible_kinds -> DbJson,
        form -> DbJson,
        stages -> DbJson,
        status -> Text,
        form_frozen_at -> Nullable<DbTime>,
        next_reference -> Integer,
        version -> Integer,
        created_by -> Nullable<DbUuid>,
        created_at -> DbTime,
        updated_at -> DbTime,
        edition -> Integer,
        previous_edition_id -> Nullable<DbUuid>,
        catalogue -> Nullable<DbJson>,
        quorum -> Nullable<Integer>,
        appeal_window_days -> Nullable<Integer>,
        changes_due_days -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    applications (id) {
        id -> DbUuid,
        call_id -> DbUuid,
        organization_id -> DbUuid,
        status -> Text,
        reference -> Nullable<Text>,
        answers -> DbJson,
        version -> Integer,
        submitted_at -> Nullable<DbTime>,
        screening_reason -> Nullable<Text>,
        changes_due_at -> Nullable<DbTime>,
        withdrawn_reason -> Nullable<Text>,
        created_by -> Nullable<DbUuid>,
        created_at -> DbTime,
        updated_at -> DbTime,
        retention_consent -> Bool,
        anonymised_at -> Nullable<DbTime>,
        shortlisted_for -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    attachments (id) {
        id -> DbUuid,
        application_id -> DbUuid,
        field -> Text,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        storage_name -> Text,
        uploaded_by -> Nullable<DbUuid>,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    application_messages (id) {
        id -> DbUuid,
        application_id -> DbUuid,
        author_id -> Nullable<DbUuid>,
        author_side -> Text,
        body -> Text,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    reminders_sent (application_id, kind) {
        application_id -> DbUuid,
        kind -> Text,
        sent_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    idempotency_keys (user_id, key) {
        user_id -> DbUuid,
        key -> Text,
        route -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> DbTime,
    }
}

diesel::joinable!(applications -> calls (call_id));
diesel::joinable!(applications -> organizations (organization_id));
diesel::joinable!(attachments -> applications (application_id));
diesel::joinable!(application_messages -> applications (application_id));
diesel::joinable!(application_messages -> users (author_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    call_jurors (call_id, user_id) {
        call_id -> DbUuid,
        user_id -> DbUuid,
        affiliations -> DbJson,
        added_by -> Nullable<DbUuid>,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    call_staff (call_id, user_id) {
        call_id -> DbUuid,
        user_id -> DbUuid,
        role -> Text,
        added_by -> Nullable<DbUuid>,
        created_at -> DbTime,
    }
}

diesel::joinable!(call_staff -> users (user_id));
diesel::joinable!(call_staff -> calls (call_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    conflicts (id) {
        id -> DbUuid,
        call_id -> DbUuid,
        juror_id -> DbUuid,
        application_id -> DbUuid,
        reason -> Text,
        declared_by -> Nullable<DbUuid>,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    assignments (id) {
        id -> DbUuid,
        call_id -> DbUuid,
        application_id -> DbUuid,
        juror_id -> DbUuid,
        stage -> Text,
        created_by -> Nullable<DbUuid>,
        created_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    reviews (id) {
        id -> DbUuid,
        call_id -> DbUuid,
        application_id -> DbUuid,
        juror_id -> DbUuid,
        stage -> Text,
        comment -> Nullable<Text>,
        status -> Text,
        submitted_at -> Nullable<DbTime>,
        version -> Integer,
        created_at -> DbTime,
        updated_at -> DbTime,
        scores -> DbJson,
        reopened_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    decisions (application_id) {
        application_id -> DbUuid,
        call_id -> DbUuid,
        outcome -> Text,
        motivation -> Text,
        decided_by -> Nullable<DbUuid>,
        decided_at -> DbTime,
        published_at -> Nullable<DbTime>,
    }
}

diesel::joinable!(call_jurors -> users (user_id));
diesel::joinable!(assignments -> applications (application_id));
diesel::joinable!(reviews -> applications (application_id));
diesel::joinable!(decisions -> applications (application_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    pairings (id) {
        id -> DbUuid,
        application_id -> DbUuid,
        partner_organization_id -> DbUuid,
        territory_response -> Text,
        partner_response -> Text,
        status -> Text,
        proposed_by -> Nullable<DbUuid>,
        created_at -> DbTime,
        updated_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    review_deadlines (call_id, stage) {
        call_id -> DbUuid,
        stage -> Text,
        due_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    review_reminders_sent (call_id, stage, juror_id) {
        call_id -> DbUuid,
        stage -> Text,
        juror_id -> DbUuid,
        sent_at -> DbTime,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(organization_members -> organizations (organization_id));
diesel::joinable!(organization_invitations -> organizations (organization_id));
diesel::joinable!(organization_members -> users (user_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    events (seq) {
        seq -> BigInt,
        id -> DbUuid,
        event_type -> Text,
        call_id -> Nullable<DbUuid>,
        application_id -> Nullable<DbUuid>,
        actor_id -> Nullable<DbUuid>,
        data -> DbJson,
        occurred_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    webhooks (id) {
        id -> DbUuid,
        url -> Text,
        event_types -> DbJson,
        secret -> Text,
        description -> Nullable<Text>,
        consecutive_failures -> Integer,
        disabled_at -> Nullable<DbTime>,
        disabled_reason -> Nullable<Text>,
        created_by -> Nullable<DbUuid>,
        created_at -> DbTime,
        updated_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    webhook_deliveries (id) {
        id -> DbUuid,
        webhook_id -> DbUuid,
        event_id -> DbUuid,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> DbTime,
        locked_until -> Nullable<DbTime>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> DbTime,
        delivered_at -> Nullable<DbTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    email_templates (call_id, event, locale) {
        call_id -> DbUuid,
        event -> Text,
        locale -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        updated_by -> Nullable<DbUuid>,
        updated_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    detected_conflicts (id) {
        id -> DbUuid,
        call_id -> DbUuid,
        juror_id -> DbUuid,
        application_id -> DbUuid,
        reason -> Text,
        source_fact -> Text,
        status -> Text,
        detected_at -> DbTime,
        decided_by -> Nullable<DbUuid>,
        decided_at -> Nullable<DbTime>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(email_templates -> calls (call_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    catalogue_consents (application_id) {
        application_id -> DbUuid,
        fields -> DbJson,
        given_by -> Nullable<DbUuid>,
        given_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    catalogue_publications (application_id) {
        application_id -> DbUuid,
        call_id -> DbUuid,
        published_by -> Nullable<DbUuid>,
        published_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    decision_versions (application_id, version) {
        application_id -> DbUuid,
        version -> Integer,
        call_id -> DbUuid,
        kind -> Text,
        outcome -> Nullable<Text>,
        motivation -> Nullable<Text>,
        reason -> Nullable<Text>,
        appeal_id -> Nullable<DbUuid>,
        decided_by -> Nullable<DbUuid>,
        decided_at -> DbTime,
    }
}
diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    appeals (id) {
        id -> DbUuid,
        application_id -> DbUuid,
        call_id -> DbUuid,
        decision_version -> Integer,
        grounds -> Text,
        status -> Text,
        filed_by -> Nullable<DbUuid>,
        filed_at -> DbTime,
        resolution -> Nullable<Text>,
        resolved_by -> Nullable<DbUuid>,
        resolved_at -> Nullable<DbTime>,
    }
}

diesel::joinable!(decision_versions -> applications (application_id));
diesel::joinable!(appeals -> applications (application_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    pitch_slots (id) {
        id -> DbUuid,
        call_id -> DbUuid,
        application_id -> DbUuid,
        stage -> Text,
        starts_at -> DbTime,
        ends_at -> DbTime,
        place -> Nullable<Text>,
        video_url -> Nullable<Text>,
        confirmed_at -> Nullable<DbTime>,
        confirmed_by -> Nullable<DbUuid>,
        created_by -> Nullable<DbUuid>,
        created_at -> DbTime,
        updated_at -> DbTime,
        version -> Integer,
    }
}

diesel::joinable!(pitch_slots -> applications (application_id));
diesel::joinable!(catalogue_consents -> applications (application_id));
diesel::joinable!(catalogue_publications -> applications (application_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    meetings (id) {
        id -> DbUuid,
        call_id -> DbUuid,
        stage -> Text,
        held_at -> DbTime,
        place -> Text,
        agenda -> Text,
        minutes -> Nullable<Text>,
        ranking -> DbJson,
        status -> Text,
        version -> Integer,
        opened_by -> Nullable<DbUuid>,
        created_at -> DbTime,
        updated_at -> DbTime,
        closed_by -> Nullable<DbUuid>,
        closed_at -> Nullable<DbTime>,
        record -> Nullable<Text>,
        digest -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    meeting_attendance (meeting_id, user_id) {
        meeting_id -> DbUuid,
        user_id -> DbUuid,
        presence -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    meeting_items (meeting_id, application_id) {
        meeting_id -> DbUuid,
        application_id -> DbUuid,
        kind -> Text,
        outcome -> Text,
        votes -> DbJson,
        dissent -> Nullable<Text>,
        note -> Nullable<Text>,
        recorded_by -> Nullable<DbUuid>,
        recorded_at -> DbTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    meeting_decisions (meeting_id, application_id) {
        meeting_id -> DbUuid,
        application_id -> DbUuid,
        outcome -> Text,
        published -> Bool,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    ranking_tallies (call_id, stage, application_id) {
        call_id -> DbUuid,
        stage -> Text,
        application_id -> DbUuid,
        reference -> Nullable<Text>,
        reviews -> Integer,
        weighted_sum -> Double,
        weighted_sumsq -> Double,
        criteria -> Binary,
        jurors -> Binary,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    ranking_tallies_pending (call_id) {
        call_id -> DbUuid,
    }
}

diesel::joinable!(meetings -> calls (call_id));
diesel::joinable!(meeting_attendance -> meetings (meeting_id));
diesel::joinable!(meeting_attendance -> users (user_id));
diesel::joinable!(meeting_items -> meetings (meeting_id));
diesel::joinable!(meeting_items -> applications (application_id));
diesel::joinable!(meeting_decisions -> meetings (meeting_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    api_tokens,
    email_tokens,
    invitations,
    organizations,
    organization_members,
    organization_invitations,
    outbox,
    audit_log,
    calls,
    applications,
    attachments,
    application_messages,
    reminders_sent,
    idempotency_keys,
    call_jurors,
    call_staff,
    conflicts,
    assignments,
    reviews,
    decisions,
    pairings,
    review_deadlines,
    review_reminders_sent,
    events,
    webhooks,
    webhook_deliveries,
    email_templates,
    detected_conflicts,
    catalogue_consents,
    catalogue_publications,
    meetings,
    meeting_attendance,
    meeting_items,
    meeting_decisions,
    decision_versions,
    appeals,
    pitch_slots,
    ranking_tallies,
    ranking_tallies_pending,
);
