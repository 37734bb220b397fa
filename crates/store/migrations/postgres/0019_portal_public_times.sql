-- Whether the portal shows its services and their open times to visitors who have not
-- signed in (issue 14): they browse, pick a time, and sign in or sign up at "Book it".
-- New organisations show them (the default). An organisation that already existed
-- shows them only if it lets strangers sign up: anyone could already see its times by
-- signing up, so nothing new is shown; an invitation-only clinic keeps its times for
-- the patients it invited until an admin turns this on.
ALTER TABLE organisations ADD COLUMN portal_public_times BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE organisations SET portal_public_times = allow_public_signup;
