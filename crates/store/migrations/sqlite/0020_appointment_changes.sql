-- Changing and cancelling an appointment (issue 14).
--
-- A cancellation keeps why (`cancel_reason`, optional, at most 500 characters), who
-- (`cancelled_by`: `staff:3`, `patient:12`), when (`cancelled_at_ns`) and the status it
-- was cancelled from (`cancelled_from`), so that staff can see the reason and undo the
-- cancellation back to that status. A new status `arrived` (the patient is at the desk)
-- holds its time like booked.
--
-- SQLite cannot change the status column's CHECK constraint, so the table is rebuilt
-- (as 0014 did), and its indexes and the same-organisation triggers of 0015 made again.
CREATE TABLE appointments_new (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    key TEXT,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id),
    patient_id INTEGER REFERENCES patients(id),
    service_id INTEGER REFERENCES services(id),
    schedule_type_id INTEGER REFERENCES schedule_types(id),
    clinic_id INTEGER REFERENCES clinics(id),
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'pending', 'arrived', 'cancelled', 'completed', 'no_show')),
    channel TEXT NOT NULL CHECK (channel IN ('portal', 'staff', 'import')),
    override_reason TEXT,
    override_by INTEGER REFERENCES staff_users(id),
    status_note TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT,
    created_by TEXT NOT NULL,
    created_at_ns INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at_ns INTEGER NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0,
    idempotency_request TEXT,
    telehealth BOOLEAN NOT NULL DEFAULT FALSE,
    cancel_reason TEXT CHECK (length(cancel_reason) <= 500),
    cancelled_by TEXT,
    cancelled_at_ns INTEGER,
    cancelled_from TEXT CHECK (cancelled_from IN ('booked', 'pending')),
    CHECK (end_ns > start_ns),
    UNIQUE (org_id, key)
);
INSERT INTO appointments_new (id, org_id, key, practitioner_id, patient_id, service_id,
    schedule_type_id, clinic_id, start_ns, end_ns, status, channel, override_reason,
    override_by, status_note, idempotency_key, created_by, created_at_ns, updated_by,
    updated_at_ns, sequence, idempotency_request, telehealth)
SELECT id, org_id, key, practitioner_id, patient_id, service_id,
    schedule_type_id, clinic_id, start_ns, end_ns, status, channel, override_reason,
    override_by, status_note, idempotency_key, created_by, created_at_ns, updated_by,
    updated_at_ns, sequence, idempotency_request, telehealth
FROM appointments;
DROP TABLE appointments;
ALTER TABLE appointments_new RENAME TO appointments;
CREATE INDEX appointments_practitioner_start ON appointments (org_id, practitioner_id, start_ns);
CREATE INDEX appointments_patient ON appointments (org_id, patient_id, start_ns);
CREATE UNIQUE INDEX appointments_idempotency ON appointments (org_id, created_by, idempotency_key);
CREATE TRIGGER appointments_practitioner_id_same_org_insert BEFORE INSERT ON appointments WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.practitioner_id'); END;
CREATE TRIGGER appointments_practitioner_id_same_org_update BEFORE UPDATE OF org_id, practitioner_id ON appointments WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.practitioner_id'); END;
CREATE TRIGGER appointments_patient_id_same_org_insert BEFORE INSERT ON appointments WHEN NEW.patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.patient_id'); END;
CREATE TRIGGER appointments_patient_id_same_org_update BEFORE UPDATE OF org_id, patient_id ON appointments WHEN NEW.patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.patient_id'); END;
CREATE TRIGGER appointments_service_id_same_org_insert BEFORE INSERT ON appointments WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.service_id'); END;
CREATE TRIGGER appointments_service_id_same_org_update BEFORE UPDATE OF org_id, service_id ON appointments WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.service_id'); END;
CREATE TRIGGER appointments_schedule_type_id_same_org_insert BEFORE INSERT ON appointments WHEN NEW.schedule_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedule_types WHERE id = NEW.schedule_type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.schedule_type_id'); END;
CREATE TRIGGER appointments_schedule_type_id_same_org_update BEFORE UPDATE OF org_id, schedule_type_id ON appointments WHEN NEW.schedule_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedule_types WHERE id = NEW.schedule_type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.schedule_type_id'); END;
CREATE TRIGGER appointments_clinic_id_same_org_insert BEFORE INSERT ON appointments WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.clinic_id'); END;
CREATE TRIGGER appointments_clinic_id_same_org_update BEFORE UPDATE OF org_id, clinic_id ON appointments WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.clinic_id'); END;
CREATE TRIGGER appointments_override_by_same_org_insert BEFORE INSERT ON appointments WHEN NEW.override_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM staff_users WHERE id = NEW.override_by AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.override_by'); END;
CREATE TRIGGER appointments_override_by_same_org_update BEFORE UPDATE OF org_id, override_by ON appointments WHEN NEW.override_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM staff_users WHERE id = NEW.override_by AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: appointments.override_by'); END;
