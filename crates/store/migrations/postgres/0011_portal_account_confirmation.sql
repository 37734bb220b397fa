-- A portal account can sign in once confirmed: at once when staff set its password, by
-- following the emailed link after a public sign-up or an invitation.
ALTER TABLE portal_accounts ADD COLUMN confirmed_at_ns BIGINT;
