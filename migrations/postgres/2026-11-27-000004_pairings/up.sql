CREATE TABLE pairings (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    partner_organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    territory_response text NOT NULL CHECK (territory_response IN ('pending', 'accepted', 'declined')),
    partner_response text NOT NULL CHECK (partner_response IN ('pending', 'accepted', 'declined')),
    status text NOT NULL CHECK (status IN ('proposed', 'confirmed', 'declined')),
    proposed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (application_id, partner_organization_id)
);
CREATE INDEX pairings_partner ON pairings (partner_organization_id);
