-- A patient changes their own email address (issue 13): the change waits here until a
-- single-use link emailed to the NEW address is followed; only then do the patient's
-- email and the account's username change. Only the SHA-256 of the link token is kept.
-- A newer change, a new password or staff changing the address cancels a waiting one.
CREATE TABLE portal_email_changes (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES portal_accounts(id) ON DELETE CASCADE,
    new_email TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at_ns INTEGER NOT NULL,
    expires_at_ns INTEGER NOT NULL,
    used_at_ns INTEGER,
    cancelled_at_ns INTEGER
);
CREATE INDEX portal_email_changes_account ON portal_email_changes (org_id, account_id);

-- The same-organisation guard of migration 0015 for the new reference.
CREATE TRIGGER portal_email_changes_account_id_same_org_insert BEFORE INSERT ON portal_email_changes WHEN NEW.account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM portal_accounts WHERE id = NEW.account_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: portal_email_changes.account_id'); END;
CREATE TRIGGER portal_email_changes_account_id_same_org_update BEFORE UPDATE OF org_id, account_id ON portal_email_changes WHEN NEW.account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM portal_accounts WHERE id = NEW.account_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: portal_email_changes.account_id'); END;
