-- An idempotency key belongs to whoever sent it (`created_by`: `patient:12`,
-- `staff:3`), not to the whole organisation: another person's key books anew instead
-- of telling them that the key was used. `idempotency_request` is a hash of the
-- request the key first came with, so the same key with a different request is
-- refused instead of answered with the first booking.
--
-- SQLite cannot drop the table's UNIQUE (org_id, idempotency_key) constraint, so the
-- table is rebuilt without it (no table refers to appointments, and no trigger or
-- view reads it).
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
    status TEXT NOT NULL CHECK (status IN ('booked', 'pending', 'cancelled', 'completed', 'no_show')),
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
    CHECK (end_ns > start_ns),
    UNIQUE (org_id, key)
);
INSERT INTO appointments_new (id, org_id, key, practitioner_id, patient_id, service_id,
    schedule_type_id, clinic_id, start_ns, end_ns, status, channel, override_reason,
    override_by, status_note, idempotency_key, created_by, created_at_ns, updated_by,
    updated_at_ns, sequence)
SELECT id, org_id, key, practitioner_id, patient_id, service_id,
    schedule_type_id, clinic_id, start_ns, end_ns, status, channel, override_reason,
    override_by, status_note, idempotency_key, created_by, created_at_ns, updated_by,
    updated_at_ns, sequence
FROM appointments;
DROP TABLE appointments;
ALTER TABLE appointments_new RENAME TO appointments;
CREATE INDEX appointments_practitioner_start ON appointments (org_id, practitioner_id, start_ns);
CREATE INDEX appointments_patient ON appointments (org_id, patient_id, start_ns);
CREATE UNIQUE INDEX appointments_idempotency ON appointments (org_id, created_by, idempotency_key);
