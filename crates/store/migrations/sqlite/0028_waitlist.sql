-- The waitlist (issue 17, docs/waitlist.md).
--
-- A patient waiting for a time of a portal-bookable service has an entry, with the
-- practitioners, clinic, dates, time of day and weekdays that would suit, until it
-- expires. When a time frees, the matcher holds it with blocked time (an appointment
-- without a patient, labelled) and offers it to the first entries that match; each
-- offer is a single-use link whose token is stored only as its SHA-256. The first to
-- accept turns the hold into their appointment; the others' offers are then gone.
--
-- Settings per organisation; a missing row means the defaults.
--
-- As for every table since 0015, every reference stays inside one organisation
-- whatever code writes it: SQLite checks it with triggers.

CREATE TABLE waitlist_settings (
    org_id INTEGER PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    offer_count INTEGER NOT NULL DEFAULT 3 CHECK (offer_count BETWEEN 1 AND 20),
    hold_minutes INTEGER NOT NULL DEFAULT 15 CHECK (hold_minutes BETWEEN 5 AND 1440),
    max_holds_per_service INTEGER NOT NULL DEFAULT 3 CHECK (max_holds_per_service BETWEEN 1 AND 50),
    max_entries_per_patient INTEGER NOT NULL DEFAULT 5 CHECK (max_entries_per_patient BETWEEN 1 AND 50)
);

-- weekdays: a bit per weekday, Monday = 1 … Sunday = 64 (as availability_blocks).
-- from_minute/to_minute: the time of day the start may fall in, clinic-local minutes.
-- status: active (waiting), booked (an offer was accepted), left (the patient left),
-- removed (staff removed it); an active entry past expires_on no longer matches.
CREATE TABLE waitlist_entries (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    clinic_id INTEGER REFERENCES clinics(id) ON DELETE CASCADE,
    from_date TEXT,
    to_date TEXT,
    from_minute INTEGER CHECK (from_minute BETWEEN 0 AND 1440),
    to_minute INTEGER CHECK (to_minute BETWEEN 0 AND 1440),
    weekdays INTEGER NOT NULL DEFAULT 127 CHECK (weekdays BETWEEN 1 AND 127),
    expires_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'booked', 'left', 'removed')),
    appointment_id INTEGER REFERENCES appointments(id),
    created_by TEXT NOT NULL,
    created_at_ns INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at_ns INTEGER NOT NULL
);
CREATE INDEX waitlist_entries_service ON waitlist_entries (org_id, service_id, status, id);
CREATE INDEX waitlist_entries_patient ON waitlist_entries (org_id, patient_id, status);

CREATE TABLE waitlist_entry_practitioners (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    entry_id INTEGER NOT NULL REFERENCES waitlist_entries(id) ON DELETE CASCADE,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id) ON DELETE CASCADE,
    PRIMARY KEY (entry_id, practitioner_id)
);
CREATE INDEX waitlist_entry_practitioners_practitioner ON waitlist_entry_practitioners (org_id, practitioner_id);

-- A held time: appointment_id is the blocked time that holds it while offers are open
-- (set to NULL before that appointment is deleted when the hold expires unaccepted).
-- state: open, accepted, expired (nobody accepted in time), withdrawn (staff removed
-- the blocked time, or every offer was answered no).
CREATE TABLE waitlist_holds (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id) ON DELETE CASCADE,
    clinic_id INTEGER NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
    appointment_id INTEGER REFERENCES appointments(id),
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    expires_at_ns INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted', 'expired', 'withdrawn')),
    created_by TEXT NOT NULL,
    created_at_ns INTEGER NOT NULL,
    closed_at_ns INTEGER
);
CREATE INDEX waitlist_holds_open ON waitlist_holds (org_id, state, service_id);
CREATE INDEX waitlist_holds_appointment ON waitlist_holds (org_id, appointment_id);

-- state: open, accepted, gone (another recipient accepted, or the time went),
-- expired (the hold's time ran out). An entry has at most one open offer.
CREATE TABLE waitlist_offers (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    hold_id INTEGER NOT NULL REFERENCES waitlist_holds(id) ON DELETE CASCADE,
    entry_id INTEGER NOT NULL REFERENCES waitlist_entries(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted', 'gone', 'expired')),
    created_at_ns INTEGER NOT NULL,
    answered_at_ns INTEGER
);
CREATE INDEX waitlist_offers_hold ON waitlist_offers (org_id, hold_id);
CREATE UNIQUE INDEX waitlist_offers_one_open ON waitlist_offers (entry_id) WHERE state = 'open';

CREATE TRIGGER waitlist_entries_patient_id_same_org_insert BEFORE INSERT ON waitlist_entries WHEN NEW.patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entries.patient_id'); END;
CREATE TRIGGER waitlist_entries_patient_id_same_org_update BEFORE UPDATE OF org_id, patient_id ON waitlist_entries WHEN NEW.patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entries.patient_id'); END;
CREATE TRIGGER waitlist_entries_service_id_same_org_insert BEFORE INSERT ON waitlist_entries WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entries.service_id'); END;
CREATE TRIGGER waitlist_entries_service_id_same_org_update BEFORE UPDATE OF org_id, service_id ON waitlist_entries WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entries.service_id'); END;
CREATE TRIGGER waitlist_entries_clinic_id_same_org_insert BEFORE INSERT ON waitlist_entries WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entries.clinic_id'); END;
CREATE TRIGGER waitlist_entries_clinic_id_same_org_update BEFORE UPDATE OF org_id, clinic_id ON waitlist_entries WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entries.clinic_id'); END;
CREATE TRIGGER waitlist_entries_appointment_id_same_org_insert BEFORE INSERT ON waitlist_entries WHEN NEW.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = NEW.appointment_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entries.appointment_id'); END;
CREATE TRIGGER waitlist_entries_appointment_id_same_org_update BEFORE UPDATE OF org_id, appointment_id ON waitlist_entries WHEN NEW.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = NEW.appointment_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entries.appointment_id'); END;
CREATE TRIGGER waitlist_entry_practitioners_entry_id_same_org_insert BEFORE INSERT ON waitlist_entry_practitioners WHEN NEW.entry_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM waitlist_entries WHERE id = NEW.entry_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entry_practitioners.entry_id'); END;
CREATE TRIGGER waitlist_entry_practitioners_entry_id_same_org_update BEFORE UPDATE OF org_id, entry_id ON waitlist_entry_practitioners WHEN NEW.entry_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM waitlist_entries WHERE id = NEW.entry_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entry_practitioners.entry_id'); END;
CREATE TRIGGER waitlist_entry_practitioners_practitioner_id_same_org_insert BEFORE INSERT ON waitlist_entry_practitioners WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entry_practitioners.practitioner_id'); END;
CREATE TRIGGER waitlist_entry_practitioners_practitioner_id_same_org_update BEFORE UPDATE OF org_id, practitioner_id ON waitlist_entry_practitioners WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_entry_practitioners.practitioner_id'); END;
CREATE TRIGGER waitlist_holds_service_id_same_org_insert BEFORE INSERT ON waitlist_holds WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_holds.service_id'); END;
CREATE TRIGGER waitlist_holds_service_id_same_org_update BEFORE UPDATE OF org_id, service_id ON waitlist_holds WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_holds.service_id'); END;
CREATE TRIGGER waitlist_holds_practitioner_id_same_org_insert BEFORE INSERT ON waitlist_holds WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_holds.practitioner_id'); END;
CREATE TRIGGER waitlist_holds_practitioner_id_same_org_update BEFORE UPDATE OF org_id, practitioner_id ON waitlist_holds WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_holds.practitioner_id'); END;
CREATE TRIGGER waitlist_holds_clinic_id_same_org_insert BEFORE INSERT ON waitlist_holds WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_holds.clinic_id'); END;
CREATE TRIGGER waitlist_holds_clinic_id_same_org_update BEFORE UPDATE OF org_id, clinic_id ON waitlist_holds WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_holds.clinic_id'); END;
CREATE TRIGGER waitlist_holds_appointment_id_same_org_insert BEFORE INSERT ON waitlist_holds WHEN NEW.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = NEW.appointment_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_holds.appointment_id'); END;
CREATE TRIGGER waitlist_holds_appointment_id_same_org_update BEFORE UPDATE OF org_id, appointment_id ON waitlist_holds WHEN NEW.appointment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointments WHERE id = NEW.appointment_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_holds.appointment_id'); END;
CREATE TRIGGER waitlist_offers_hold_id_same_org_insert BEFORE INSERT ON waitlist_offers WHEN NEW.hold_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM waitlist_holds WHERE id = NEW.hold_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_offers.hold_id'); END;
CREATE TRIGGER waitlist_offers_hold_id_same_org_update BEFORE UPDATE OF org_id, hold_id ON waitlist_offers WHEN NEW.hold_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM waitlist_holds WHERE id = NEW.hold_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_offers.hold_id'); END;
CREATE TRIGGER waitlist_offers_entry_id_same_org_insert BEFORE INSERT ON waitlist_offers WHEN NEW.entry_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM waitlist_entries WHERE id = NEW.entry_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_offers.entry_id'); END;
CREATE TRIGGER waitlist_offers_entry_id_same_org_update BEFORE UPDATE OF org_id, entry_id ON waitlist_offers WHEN NEW.entry_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM waitlist_entries WHERE id = NEW.entry_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: waitlist_offers.entry_id'); END;
