-- An invitation can be declined by the person it was sent to.
ALTER TABLE invitations ADD COLUMN declined_at TEXT;

-- Joining an organization is an invitation the person accepts (or declines), never a fact decided for them.
CREATE TABLE organization_invitations (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    accepted_at TEXT,
    accepted_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    declined_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX organization_invitations_organization ON organization_invitations (organization_id, id);

-- One organization per SIRET, and per SIREN for those (territories) that have no SIRET. An existing database
-- holding two organizations with one identifier stops here: merge them first (see README).
CREATE UNIQUE INDEX organizations_one_per_siret ON organizations (siret) WHERE siret IS NOT NULL;
CREATE UNIQUE INDEX organizations_one_per_siren ON organizations (siren) WHERE siret IS NULL AND siren IS NOT NULL;
