-- Reminders and confirmations (issue 17, docs/reminders.md).
--
-- `reminder_settings` holds an organisation's reminder offsets (minutes before the
-- start, comma-separated, largest first; empty: no reminders) and its no-show policy
-- (after this many no-shows a patient's portal bookings wait for the clinic; NULL:
-- never). `service_reminder_offsets` holds a service's own offsets, used instead of
-- the organisation's.
--
-- `appointment_reminders` records every reminder decided, sent or skipped, once per
-- appointment, offset, start and `sequence` (the appointment's count of moves, 0012):
-- its UNIQUE key is what makes two schedulers on one database, a restart or a re-run
-- never send one twice, and a moved appointment (a new start_ns, practitioner or
-- clinic: every move bumps sequence) get reminders for its new time, even when moved
-- back to an earlier one. `reminder_links` are the single-use links a reminder
-- carries (confirm, cancel), stored as SHA-256 hashes, bound to the appointment, the
-- start and the sequence they were sent for: any move since the reminder, even a move
-- back, or to another practitioner or clinic at the same time, stops them.
--
-- `appointments.confirmed_at_ns` is when the patient confirmed; a trigger clears it
-- whenever the appointment's start, practitioner, clinic or telehealth changes,
-- whoever changes it.
--
-- As for every table since 0015, every reference stays inside one organisation
-- whatever code writes it: SQLite checks it with triggers.
CREATE TABLE reminder_settings (
    org_id INTEGER PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    offsets_minutes TEXT NOT NULL DEFAULT '',
    no_show_pending_after INTEGER CHECK (no_show_pending_after BETWEEN 1 AND 100),
    updated_at_ns INTEGER NOT NULL
);

CREATE TABLE service_reminder_offsets (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    offsets_minutes TEXT NOT NULL,
    PRIMARY KEY (service_id)
);
CREATE INDEX service_reminder_offsets_org ON service_reminder_offsets (org_id);

CREATE TABLE appointment_reminders (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    appointment_id INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    offset_minutes INTEGER NOT NULL,
    start_ns INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'skipped', 'no_email')),
    created_at_ns INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    UNIQUE (appointment_id, offset_minutes, start_ns, sequence)
);
CREATE INDEX appointment_reminders_start ON appointment_reminders (start_ns);

CREATE TABLE reminder_links (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    appointment_id INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('confirm', 'cancel')),
    start_ns INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at_ns INTEGER NOT NULL,
    expires_at_ns INTEGER NOT NULL,
    used_at_ns INTEGER
);
CREATE INDEX reminder_links_appointment ON reminder_links (org_id, appointment_id);

ALTER TABLE appointments ADD COLUMN confirmed_at_ns INTEGER;
-- The scheduler's scan across organisations: appointments starting soon.
CREATE INDEX appointments_start_all ON appointments (start_ns);

CREATE TRIGGER appointments_moved_unconfirmed AFTER UPDATE OF start_ns, practitioner_id, clinic_id, telehealth ON appointments
WHEN NEW.confirmed_at_ns IS NOT NULL AND (NEW.start_ns IS NOT OLD.start_ns
    OR NEW.practitioner_id IS NOT OLD.practitioner_id OR NEW.clinic_id IS NOT OLD.clinic_id
    OR NEW.telehealth IS NOT OLD.telehealth)
BEGIN UPDATE appointments SET confirmed_at_ns = NULL WHERE id = NEW.id; END;

CREATE TRIGGER service_reminder_offsets_service_id_same_org_insert BEFORE INSERT ON service_reminder_offsets WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: service_reminder_offsets.service_id'); END;
CREATE TRIGGER service_reminder_offsets_service_id_same_org_update BEFORE UPDATE OF org_id, service_id ON service_reminder_offsets WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: service_reminder_offsets.service_id'); END;
CREATE TRIGGER appointment_reminders_appointment_id_same_org_insert BEFORE INSERT ON appointment_reminders WHEN NEW.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = NEW.appointment_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_reminders.appointment_id'); END;
CREATE TRIGGER appointment_reminders_appointment_id_same_org_update BEFORE UPDATE OF org_id, appointment_id ON appointment_reminders WHEN NEW.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = NEW.appointment_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_reminders.appointment_id'); END;
CREATE TRIGGER reminder_links_appointment_id_same_org_insert BEFORE INSERT ON reminder_links WHEN NEW.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = NEW.appointment_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: reminder_links.appointment_id'); END;
CREATE TRIGGER reminder_links_appointment_id_same_org_update BEFORE UPDATE OF org_id, appointment_id ON reminder_links WHEN NEW.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = NEW.appointment_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: reminder_links.appointment_id'); END;
