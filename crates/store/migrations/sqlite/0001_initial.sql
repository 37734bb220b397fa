-- Openslot schema (SQLite). Instants are BIGINT nanoseconds since the Unix epoch (UTC),
-- exact to the nanosecond as the scenario format requires; dates are 'YYYY-MM-DD'.
-- Every organisation-scoped row carries org_id, and every query filters by it.

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    resolution_minutes INTEGER NOT NULL DEFAULT 5,
    slot_step_minutes INTEGER NOT NULL DEFAULT 15,
    min_notice_minutes INTEGER NOT NULL DEFAULT 0,
    max_days_ahead INTEGER NOT NULL DEFAULT 365,
    allow_public_signup BOOLEAN NOT NULL DEFAULT FALSE,
    auto_accept_portal_bookings BOOLEAN NOT NULL DEFAULT TRUE,
    cancellation_notice_minutes INTEGER NOT NULL DEFAULT 0,
    portal_welcome TEXT NOT NULL DEFAULT '',
    -- The longest appointment ever stored: lets window queries bound their index scan.
    max_appointment_ns INTEGER NOT NULL DEFAULT 0,
    created_at_ns INTEGER NOT NULL
);

CREATE TABLE clinics (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    UNIQUE (org_id, key)
);

CREATE TABLE clinic_holidays (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    clinic_id INTEGER NOT NULL REFERENCES clinics(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    PRIMARY KEY (clinic_id, day)
);

CREATE TABLE practitioner_types (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (org_id, key)
);

CREATE TABLE practitioners (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    type_id INTEGER NOT NULL REFERENCES practitioner_types(id),
    home_clinic_id INTEGER NOT NULL REFERENCES clinics(id),
    email TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    bookable_in_portal BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (org_id, key)
);

CREATE TABLE schedule_types (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    code TEXT,
    name TEXT NOT NULL,
    clinic_id INTEGER REFERENCES clinics(id),
    default_duration_minutes INTEGER NOT NULL DEFAULT 30,
    allow_conflicts BOOLEAN NOT NULL DEFAULT FALSE,
    telehealth BOOLEAN NOT NULL DEFAULT FALSE,
    background_color TEXT NOT NULL DEFAULT '#ffffff',
    font_color TEXT NOT NULL DEFAULT '#000000',
    UNIQUE (org_id, key)
);
CREATE UNIQUE INDEX schedule_types_code ON schedule_types (org_id, code) WHERE code IS NOT NULL;

CREATE TABLE practitioner_schedule_types (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id) ON DELETE CASCADE,
    schedule_type_id INTEGER NOT NULL REFERENCES schedule_types(id) ON DELETE CASCADE,
    PRIMARY KEY (practitioner_id, schedule_type_id)
);

CREATE TABLE availability_records (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id) ON DELETE CASCADE,
    start_date TEXT NOT NULL,
    end_date TEXT,
    clinic_id INTEGER REFERENCES clinics(id),
    slot_step_minutes INTEGER,
    portal_customised BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX availability_records_practitioner ON availability_records (org_id, practitioner_id, start_date);

-- days: a bit per weekday, Monday = 1, Tuesday = 2, … Sunday = 64.
CREATE TABLE availability_blocks (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    record_id INTEGER NOT NULL REFERENCES availability_records(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    days INTEGER NOT NULL,
    start_minute INTEGER NOT NULL,
    end_minute INTEGER NOT NULL,
    schedule_type_id INTEGER NOT NULL REFERENCES schedule_types(id)
);
CREATE INDEX availability_blocks_record ON availability_blocks (record_id, position);

CREATE TABLE portal_blocks (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    record_id INTEGER NOT NULL REFERENCES availability_records(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    days INTEGER NOT NULL,
    start_minute INTEGER NOT NULL,
    end_minute INTEGER NOT NULL
);
CREATE INDEX portal_blocks_record ON portal_blocks (record_id, position);

CREATE TABLE time_off (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id) ON DELETE CASCADE,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    CHECK (end_ns > start_ns)
);
CREATE INDEX time_off_practitioner ON time_off (org_id, practitioner_id, start_ns);

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    code TEXT,
    name TEXT NOT NULL,
    description TEXT,
    duration_minutes INTEGER NOT NULL,
    book_from_portal BOOLEAN NOT NULL DEFAULT FALSE,
    portal_conflicts INTEGER NOT NULL DEFAULT 1,
    practitioner_type_id INTEGER REFERENCES practitioner_types(id),
    UNIQUE (org_id, key)
);
CREATE UNIQUE INDEX services_code ON services (org_id, code) WHERE code IS NOT NULL;

CREATE TABLE service_schedule_types (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    schedule_type_id INTEGER NOT NULL REFERENCES schedule_types(id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, schedule_type_id)
);

CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    -- FALSE: every practitioner bookable in the portal; TRUE: only patient_practitioners.
    practitioners_restricted BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (org_id, key)
);
CREATE INDEX patients_email ON patients (org_id, email);

CREATE TABLE patient_practitioners (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    patient_id INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    practitioner_id INTEGER NOT NULL REFERENCES practitioners(id) ON DELETE CASCADE,
    PRIMARY KEY (patient_id, practitioner_id)
);

CREATE TABLE staff_users (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'front_desk', 'practitioner')),
    practitioner_id INTEGER REFERENCES practitioners(id) ON DELETE SET NULL,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at_ns INTEGER NOT NULL,
    UNIQUE (org_id, email)
);

CREATE TABLE portal_accounts (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    patient_id INTEGER NOT NULL UNIQUE REFERENCES patients(id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    password_hash TEXT,
    created_at_ns INTEGER NOT NULL,
    UNIQUE (org_id, username)
);

-- Invitation and password-reset links: only the SHA-256 of the token is kept.
CREATE TABLE auth_tokens (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('invitation', 'password_reset')),
    account_kind TEXT NOT NULL CHECK (account_kind IN ('portal', 'staff')),
    account_id INTEGER NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at_ns INTEGER NOT NULL,
    expires_at_ns INTEGER NOT NULL,
    used_at_ns INTEGER
);
CREATE INDEX auth_tokens_account ON auth_tokens (org_id, account_kind, account_id, purpose);

-- Server-side sessions, keyed by the SHA-256 of the session id.
CREATE TABLE sessions (
    id_hash BLOB PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at_ns INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at_ns);

CREATE TABLE appointments (
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
    CHECK (end_ns > start_ns),
    UNIQUE (org_id, key),
    UNIQUE (org_id, idempotency_key)
);
CREATE INDEX appointments_practitioner_start ON appointments (org_id, practitioner_id, start_ns);
CREATE INDEX appointments_patient ON appointments (org_id, patient_id, start_ns);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    at_ns INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity ON audit_log (org_id, entity, entity_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN (SELECT COUNT(*) FROM organisations WHERE id = OLD.org_id) > 0
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE email_outbox (
    id INTEGER PRIMARY KEY,
    org_id INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    ics TEXT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ns INTEGER NOT NULL,
    last_error TEXT,
    created_at_ns INTEGER NOT NULL,
    sent_at_ns INTEGER
);
CREATE INDEX email_outbox_due ON email_outbox (status, next_attempt_at_ns);

-- Proof-of-work CAPTCHA challenges already used (each verifies once).
CREATE TABLE captcha_uses (
    signature_hash BLOB PRIMARY KEY,
    expires_at_ns INTEGER NOT NULL
);
