-- Weekly series of appointments (issue 15, docs/scenario.md "Series (v2)").
--
-- A series keeps the rule it was booked by — every `every_weeks` weeks, `planned_count`
-- occurrences or until `until_date` — and who booked it; each occurrence is an
-- ordinary appointment row naming its series in `appointments.series_id`, so that
-- cancelling or moving one occurrence is cancelling or moving an appointment, and
-- "this and following" finds the later ones. A series imported from a scenario knows
-- only its key (the scenario's `series` field): its rule columns are NULL.
--
-- As for every table since 0015, a series and its appointments stay inside one
-- organisation whatever code writes them: SQLite checks it with triggers.
CREATE TABLE appointment_series (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    key TEXT,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    patient_id INTEGER REFERENCES patients(id),
    service_id INTEGER REFERENCES services(id),
    every_weeks INTEGER CHECK (every_weeks BETWEEN 1 AND 4),
    planned_count INTEGER CHECK (planned_count BETWEEN 2 AND 52),
    until_date TEXT,
    channel TEXT NOT NULL CHECK (channel IN ('portal', 'staff', 'import')),
    idempotency_key TEXT,
    idempotency_request TEXT,
    created_by TEXT NOT NULL,
    created_at_ns INTEGER NOT NULL,
    CHECK (planned_count IS NULL OR until_date IS NULL),
    UNIQUE (org_id, key)
);
CREATE UNIQUE INDEX appointment_series_idempotency ON appointment_series (org_id, created_by, idempotency_key);
CREATE TRIGGER appointment_series_practitioner_id_same_org_insert BEFORE INSERT ON appointment_series WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_series.practitioner_id'); END;
CREATE TRIGGER appointment_series_practitioner_id_same_org_update BEFORE UPDATE OF org_id, practitioner_id ON appointment_series WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_series.practitioner_id'); END;
CREATE TRIGGER appointment_series_patient_id_same_org_insert BEFORE INSERT ON appointment_series WHEN NEW.patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_series.patient_id'); END;
CREATE TRIGGER appointment_series_patient_id_same_org_update BEFORE UPDATE OF org_id, patient_id ON appointment_series WHEN NEW.patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_series.patient_id'); END;
CREATE TRIGGER appointment_series_service_id_same_org_insert BEFORE INSERT ON appointment_series WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_series.service_id'); END;
CREATE TRIGGER appointment_series_service_id_same_org_update BEFORE UPDATE OF org_id, service_id ON appointment_series WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointment_series.service_id'); END;

ALTER TABLE appointments ADD COLUMN series_id INTEGER REFERENCES appointment_series(id);
CREATE INDEX appointments_series ON appointments (org_id, series_id, start_ns);
CREATE TRIGGER appointments_series_id_same_org_insert BEFORE INSERT ON appointments WHEN NEW.series_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointment_series WHERE id = NEW.series_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.series_id'); END;
CREATE TRIGGER appointments_series_id_same_org_update BEFORE UPDATE OF org_id, series_id ON appointments WHEN NEW.series_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appointment_series WHERE id = NEW.series_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.series_id'); END;
