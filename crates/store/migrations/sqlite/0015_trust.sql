-- Patients prove their address before a sign-up touches anything (issue 11): a public
-- sign-up is kept here, apart from patients and accounts, until its emailed link is
-- followed with the password chosen at sign-up. Only the SHA-256 of the link token is kept.
CREATE TABLE portal_signups (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at_ns INTEGER NOT NULL,
    expires_at_ns INTEGER NOT NULL,
    used_at_ns INTEGER
);
CREATE INDEX portal_signups_email ON portal_signups (org_id, email);

-- A session names the epoch of the credentials it was opened with; changing them (a
-- reset, staff-made credentials, an invitation accepted, a staff account stopped) moves
-- the epoch, which ends every other session of that person at once.
ALTER TABLE portal_accounts ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff_users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

-- A password set before its address was proven (an unconfirmed public sign-up of the
-- old kind) is dropped: whoever follows the invitation or sign-up link chooses one.
UPDATE portal_accounts SET password_hash = NULL WHERE confirmed_at_ns IS NULL;

-- Every reference between an organisation's rows stays inside the organisation, whatever
-- code writes it (issue 11). SQLite cannot add a foreign key to an existing table, so a
-- trigger per reference refuses an insert or update that names another organisation's
-- row; its message, 'cross-organisation reference: TABLE.COLUMN', is what the store
-- turns into a field error. Appointments stored before this with another
-- organisation's optional references (the staff-booking hole) lose those references first.
UPDATE appointments SET patient_id = NULL WHERE patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients x WHERE x.id = appointments.patient_id AND x.org_id = appointments.org_id);
UPDATE appointments SET service_id = NULL WHERE service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services x WHERE x.id = appointments.service_id AND x.org_id = appointments.org_id);
UPDATE appointments SET schedule_type_id = NULL WHERE schedule_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedule_types x WHERE x.id = appointments.schedule_type_id AND x.org_id = appointments.org_id);
UPDATE appointments SET clinic_id = NULL WHERE clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics x WHERE x.id = appointments.clinic_id AND x.org_id = appointments.org_id);
UPDATE appointments SET override_by = NULL WHERE override_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM staff_users x WHERE x.id = appointments.override_by AND x.org_id = appointments.org_id);
CREATE TRIGGER clinic_holidays_clinic_id_same_org_insert BEFORE INSERT ON clinic_holidays WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: clinic_holidays.clinic_id'); END;
CREATE TRIGGER clinic_holidays_clinic_id_same_org_update BEFORE UPDATE OF org_id, clinic_id ON clinic_holidays WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: clinic_holidays.clinic_id'); END;
CREATE TRIGGER practitioners_type_id_same_org_insert BEFORE INSERT ON practitioners WHEN NEW.type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioner_types WHERE id = NEW.type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: practitioners.type_id'); END;
CREATE TRIGGER practitioners_type_id_same_org_update BEFORE UPDATE OF org_id, type_id ON practitioners WHEN NEW.type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioner_types WHERE id = NEW.type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: practitioners.type_id'); END;
CREATE TRIGGER practitioners_home_clinic_id_same_org_insert BEFORE INSERT ON practitioners WHEN NEW.home_clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.home_clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: practitioners.home_clinic_id'); END;
CREATE TRIGGER practitioners_home_clinic_id_same_org_update BEFORE UPDATE OF org_id, home_clinic_id ON practitioners WHEN NEW.home_clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.home_clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: practitioners.home_clinic_id'); END;
CREATE TRIGGER schedule_types_clinic_id_same_org_insert BEFORE INSERT ON schedule_types WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: schedule_types.clinic_id'); END;
CREATE TRIGGER schedule_types_clinic_id_same_org_update BEFORE UPDATE OF org_id, clinic_id ON schedule_types WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: schedule_types.clinic_id'); END;
CREATE TRIGGER practitioner_schedule_types_practitioner_id_same_org_insert BEFORE INSERT ON practitioner_schedule_types WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: practitioner_schedule_types.practitioner_id'); END;
CREATE TRIGGER practitioner_schedule_types_practitioner_id_same_org_update BEFORE UPDATE OF org_id, practitioner_id ON practitioner_schedule_types WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: practitioner_schedule_types.practitioner_id'); END;
CREATE TRIGGER practitioner_schedule_types_schedule_type_id_same_org_insert BEFORE INSERT ON practitioner_schedule_types WHEN NEW.schedule_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedule_types WHERE id = NEW.schedule_type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: practitioner_schedule_types.schedule_type_id'); END;
CREATE TRIGGER practitioner_schedule_types_schedule_type_id_same_org_update BEFORE UPDATE OF org_id, schedule_type_id ON practitioner_schedule_types WHEN NEW.schedule_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedule_types WHERE id = NEW.schedule_type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: practitioner_schedule_types.schedule_type_id'); END;
CREATE TRIGGER availability_records_practitioner_id_same_org_insert BEFORE INSERT ON availability_records WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: availability_records.practitioner_id'); END;
CREATE TRIGGER availability_records_practitioner_id_same_org_update BEFORE UPDATE OF org_id, practitioner_id ON availability_records WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: availability_records.practitioner_id'); END;
CREATE TRIGGER availability_records_clinic_id_same_org_insert BEFORE INSERT ON availability_records WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: availability_records.clinic_id'); END;
CREATE TRIGGER availability_records_clinic_id_same_org_update BEFORE UPDATE OF org_id, clinic_id ON availability_records WHEN NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clinics WHERE id = NEW.clinic_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: availability_records.clinic_id'); END;
CREATE TRIGGER availability_blocks_record_id_same_org_insert BEFORE INSERT ON availability_blocks WHEN NEW.record_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_records WHERE id = NEW.record_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: availability_blocks.record_id'); END;
CREATE TRIGGER availability_blocks_record_id_same_org_update BEFORE UPDATE OF org_id, record_id ON availability_blocks WHEN NEW.record_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_records WHERE id = NEW.record_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: availability_blocks.record_id'); END;
CREATE TRIGGER availability_blocks_schedule_type_id_same_org_insert BEFORE INSERT ON availability_blocks WHEN NEW.schedule_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedule_types WHERE id = NEW.schedule_type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: availability_blocks.schedule_type_id'); END;
CREATE TRIGGER availability_blocks_schedule_type_id_same_org_update BEFORE UPDATE OF org_id, schedule_type_id ON availability_blocks WHEN NEW.schedule_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedule_types WHERE id = NEW.schedule_type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: availability_blocks.schedule_type_id'); END;
CREATE TRIGGER portal_blocks_record_id_same_org_insert BEFORE INSERT ON portal_blocks WHEN NEW.record_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_records WHERE id = NEW.record_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: portal_blocks.record_id'); END;
CREATE TRIGGER portal_blocks_record_id_same_org_update BEFORE UPDATE OF org_id, record_id ON portal_blocks WHEN NEW.record_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_records WHERE id = NEW.record_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: portal_blocks.record_id'); END;
CREATE TRIGGER time_off_practitioner_id_same_org_insert BEFORE INSERT ON time_off WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: time_off.practitioner_id'); END;
CREATE TRIGGER time_off_practitioner_id_same_org_update BEFORE UPDATE OF org_id, practitioner_id ON time_off WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: time_off.practitioner_id'); END;
CREATE TRIGGER services_practitioner_type_id_same_org_insert BEFORE INSERT ON services WHEN NEW.practitioner_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioner_types WHERE id = NEW.practitioner_type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: services.practitioner_type_id'); END;
CREATE TRIGGER services_practitioner_type_id_same_org_update BEFORE UPDATE OF org_id, practitioner_type_id ON services WHEN NEW.practitioner_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioner_types WHERE id = NEW.practitioner_type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: services.practitioner_type_id'); END;
CREATE TRIGGER service_schedule_types_service_id_same_org_insert BEFORE INSERT ON service_schedule_types WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: service_schedule_types.service_id'); END;
CREATE TRIGGER service_schedule_types_service_id_same_org_update BEFORE UPDATE OF org_id, service_id ON service_schedule_types WHEN NEW.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services WHERE id = NEW.service_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: service_schedule_types.service_id'); END;
CREATE TRIGGER service_schedule_types_schedule_type_id_same_org_insert BEFORE INSERT ON service_schedule_types WHEN NEW.schedule_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedule_types WHERE id = NEW.schedule_type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: service_schedule_types.schedule_type_id'); END;
CREATE TRIGGER service_schedule_types_schedule_type_id_same_org_update BEFORE UPDATE OF org_id, schedule_type_id ON service_schedule_types WHEN NEW.schedule_type_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM schedule_types WHERE id = NEW.schedule_type_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: service_schedule_types.schedule_type_id'); END;
CREATE TRIGGER patient_practitioners_patient_id_same_org_insert BEFORE INSERT ON patient_practitioners WHEN NEW.patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: patient_practitioners.patient_id'); END;
CREATE TRIGGER patient_practitioners_patient_id_same_org_update BEFORE UPDATE OF org_id, patient_id ON patient_practitioners WHEN NEW.patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: patient_practitioners.patient_id'); END;
CREATE TRIGGER patient_practitioners_practitioner_id_same_org_insert BEFORE INSERT ON patient_practitioners WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: patient_practitioners.practitioner_id'); END;
CREATE TRIGGER patient_practitioners_practitioner_id_same_org_update BEFORE UPDATE OF org_id, practitioner_id ON patient_practitioners WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: patient_practitioners.practitioner_id'); END;
CREATE TRIGGER staff_users_practitioner_id_same_org_insert BEFORE INSERT ON staff_users WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: staff_users.practitioner_id'); END;
CREATE TRIGGER staff_users_practitioner_id_same_org_update BEFORE UPDATE OF org_id, practitioner_id ON staff_users WHEN NEW.practitioner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM practitioners WHERE id = NEW.practitioner_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: staff_users.practitioner_id'); END;
CREATE TRIGGER portal_accounts_patient_id_same_org_insert BEFORE INSERT ON portal_accounts WHEN NEW.patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: portal_accounts.patient_id'); END;
CREATE TRIGGER portal_accounts_patient_id_same_org_update BEFORE UPDATE OF org_id, patient_id ON portal_accounts WHEN NEW.patient_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: portal_accounts.patient_id'); END;
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
