DROP TABLE audit_log;
DROP TABLE outbox;
DROP TABLE organization_members;
DROP TABLE organizations;
DROP TABLE invitations;
DROP TABLE email_tokens;
DROP TABLE api_tokens;
DROP TABLE users;
