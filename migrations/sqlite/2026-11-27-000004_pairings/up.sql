CREATE TABLE pairings (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    partner_organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    territory_response TEXT NOT NULL CHECK (territory_response IN ('pending', 'accepted', 'declined')),
    partner_response TEXT NOT NULL CHECK (partner_response IN ('pending', 'accepted', 'declined')),
    status TEXT NOT NULL CHECK (status IN ('proposed', 'confirmed', 'declined')),
    proposed_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (application_id, partner_organization_id)
);
CREATE INDEX pairings_partner ON pairings (partner_organization_id);
