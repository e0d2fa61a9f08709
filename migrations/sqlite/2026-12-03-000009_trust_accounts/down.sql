DROP INDEX organizations_one_per_siren;
DROP INDEX organizations_one_per_siret;
DROP TABLE organization_invitations;
ALTER TABLE invitations DROP COLUMN declined_at;
