-- Issue 18: calendar feeds. A practitioner or a clinic may have one private ICS feed,
-- whose address carries a token of 32 random bytes; only its SHA-256 is kept (as for
-- API keys and portal links). Making a new address replaces the row's hash, so the
-- old address stops at once; turning the feed off deletes the row. The audit log keeps
-- who did which (calendar_feed.create, .rotate, .revoke).
CREATE TABLE calendar_feeds (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    practitioner_id INTEGER REFERENCES practitioners(id) ON DELETE CASCADE,
    clinic_id INTEGER REFERENCES clinics(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at_ns INTEGER NOT NULL,
    rotated_at_ns INTEGER,
    -- A feed is a practitioner's or a clinic's (the store writes exactly one of the two;
    -- the check asks for at least one, so the same-organisation guards speak first).
    CHECK (practitioner_id IS NOT NULL OR clinic_id IS NOT NULL)
);
CREATE UNIQUE INDEX calendar_feeds_practitioner ON calendar_feeds (org_id, practitioner_id) WHERE practitioner_id IS NOT NULL;
CREATE UNIQUE INDEX calendar_feeds_clinic ON calendar_feeds (org_id, clinic_id) WHERE clinic_id IS NOT NULL;
CREATE TRIGGER calendar_feeds_practitioner_id_same_org_insert BEFORE INSERT ON calendar_feeds WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: calendar_feeds.practitioner_id'); END;
CREATE TRIGGER calendar_feeds_clinic_id_same_org_insert BEFORE INSERT ON calendar_feeds WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: calendar_feeds.clinic_id'); END;
CREATE TRIGGER calendar_feeds_practitioner_id_same_org_update BEFORE UPDATE OF org_id, practitioner_id ON calendar_feeds WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: calendar_feeds.practitioner_id'); END;
CREATE TRIGGER calendar_feeds_clinic_id_same_org_update BEFORE UPDATE OF org_id, clinic_id ON calendar_feeds WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: calendar_feeds.clinic_id'); END;

-- What the organisation's feeds may say of an appointment. Both off by default: a feed
-- lands in calendars on phones and shared accounts, so it says "Booked appointment"
-- and nothing about who or what for unless an admin chooses otherwise.
CREATE TABLE calendar_feed_settings (
    org_id INTEGER PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    patient_names BOOLEAN NOT NULL DEFAULT FALSE,
    service_names BOOLEAN NOT NULL DEFAULT FALSE
);
