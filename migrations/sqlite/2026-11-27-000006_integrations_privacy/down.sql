ALTER TABLE applications DROP COLUMN anonymised_at;
ALTER TABLE applications DROP COLUMN retention_consent;
ALTER TABLE users DROP COLUMN deleted_at;
DROP TABLE email_templates;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE events;
