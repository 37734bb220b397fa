-- Issue 17: what an admin adjusts of the emails patients receive, and which staff are
-- told of the portal's bookings and cancellations.
--
-- An email template is an organisation's own subject and intro paragraph for one kind
-- of email (the catalogue of kinds and their defaults is the web crate's
-- notices::templates); a kind without a row uses the default. Only the organisation's
-- own rows: no reference to another of its tables, so nothing for 0015's guards.
CREATE TABLE email_templates (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    intro TEXT NOT NULL,
    updated_at_ns INTEGER NOT NULL,
    PRIMARY KEY (org_id, kind)
);

-- Per staff account: an email for each booking, change and cancellation a patient
-- makes in the portal (practitioner accounts: of their own practitioner only).
ALTER TABLE staff_users ADD COLUMN notify_portal_changes BOOLEAN NOT NULL DEFAULT FALSE;
