DROP TABLE call_staff;
DELETE FROM invitations WHERE role IN ('manager', 'observer');
ALTER TABLE invitations DROP CONSTRAINT invitations_role_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_role_check CHECK (role IN ('admin', 'juror'));
