-- Issue 19, ready to shard: every table of an organisation's rows is keyed by the
-- organisation, so a distributed PostgreSQL (Citus, distributing by org_id) can keep
-- each organisation's rows together on one node (docs/scaling.md).
--
-- * Every primary key starts with org_id: (org_id, id), or (org_id, ...) for the tables
--   that link two rows. The UNIQUE (org_id, id) keys of migration 0015 are the new
--   primary keys, so they go.
-- * Every unique key names org_id: a token's hash is unique within its organisation
--   (the organisation is known from the address; every lookup by token names it).
-- * Every foreign key to another organisation's table names org_id: the
--   same-organisation keys of migration 0015 (and later) are the only ones left, and
--   carry what the plain keys on id did on delete (CASCADE, or SET NULL of the
--   referencing column only, so org_id is never cleared). Their names stay, so
--   store::error::SAME_ORG_REFERENCES still names the guard that refused a write.
-- * organisations, server_secrets, sessions and captcha_uses stay global (no org_id);
--   the foreign keys to organisations(id) stay (a reference table in Citus terms).
--
-- Nothing here can fail on existing rows: every new key is implied by an old one
-- (id was unique; the same-organisation keys held already). Re-adding the foreign
-- keys reads each referencing table once.

-- 1. The foreign keys between an organisation's tables go, the plain ones and the
-- same-organisation ones (those are added again in 4, on the new primary keys).

ALTER TABLE appointment_reminders
    DROP CONSTRAINT appointment_reminders_appointment_id_fkey,
    DROP CONSTRAINT appointment_reminders_appointment_id_same_org;
ALTER TABLE appointment_resources
    DROP CONSTRAINT appointment_resources_appointment_id_fkey,
    DROP CONSTRAINT appointment_resources_appointment_id_same_org,
    DROP CONSTRAINT appointment_resources_resource_id_fkey,
    DROP CONSTRAINT appointment_resources_resource_id_same_org;
ALTER TABLE appointment_series
    DROP CONSTRAINT appointment_series_patient_id_fkey,
    DROP CONSTRAINT appointment_series_patient_id_same_org,
    DROP CONSTRAINT appointment_series_practitioner_id_fkey,
    DROP CONSTRAINT appointment_series_practitioner_id_same_org,
    DROP CONSTRAINT appointment_series_service_id_fkey,
    DROP CONSTRAINT appointment_series_service_id_same_org;
ALTER TABLE appointments
    DROP CONSTRAINT appointments_clinic_id_fkey,
    DROP CONSTRAINT appointments_clinic_id_same_org,
    DROP CONSTRAINT appointments_override_by_fkey,
    DROP CONSTRAINT appointments_override_by_same_org,
    DROP CONSTRAINT appointments_patient_id_fkey,
    DROP CONSTRAINT appointments_patient_id_same_org,
    DROP CONSTRAINT appointments_practitioner_id_fkey,
    DROP CONSTRAINT appointments_practitioner_id_same_org,
    DROP CONSTRAINT appointments_schedule_type_id_fkey,
    DROP CONSTRAINT appointments_schedule_type_id_same_org,
    DROP CONSTRAINT appointments_series_id_fkey,
    DROP CONSTRAINT appointments_series_id_same_org,
    DROP CONSTRAINT appointments_service_id_fkey,
    DROP CONSTRAINT appointments_service_id_same_org;
ALTER TABLE availability_blocks
    DROP CONSTRAINT availability_blocks_record_id_fkey,
    DROP CONSTRAINT availability_blocks_record_id_same_org,
    DROP CONSTRAINT availability_blocks_schedule_type_id_fkey,
    DROP CONSTRAINT availability_blocks_schedule_type_id_same_org;
ALTER TABLE availability_records
    DROP CONSTRAINT availability_records_clinic_id_fkey,
    DROP CONSTRAINT availability_records_clinic_id_same_org,
    DROP CONSTRAINT availability_records_practitioner_id_fkey,
    DROP CONSTRAINT availability_records_practitioner_id_same_org;
ALTER TABLE calendar_feeds
    DROP CONSTRAINT calendar_feeds_clinic_id_fkey,
    DROP CONSTRAINT calendar_feeds_clinic_id_same_org,
    DROP CONSTRAINT calendar_feeds_practitioner_id_fkey,
    DROP CONSTRAINT calendar_feeds_practitioner_id_same_org;
ALTER TABLE clinic_holidays
    DROP CONSTRAINT clinic_holidays_clinic_id_fkey,
    DROP CONSTRAINT clinic_holidays_clinic_id_same_org;
ALTER TABLE patient_practitioners
    DROP CONSTRAINT patient_practitioners_patient_id_fkey,
    DROP CONSTRAINT patient_practitioners_patient_id_same_org,
    DROP CONSTRAINT patient_practitioners_practitioner_id_fkey,
    DROP CONSTRAINT patient_practitioners_practitioner_id_same_org;
ALTER TABLE portal_accounts
    DROP CONSTRAINT portal_accounts_patient_id_fkey,
    DROP CONSTRAINT portal_accounts_patient_id_same_org;
ALTER TABLE portal_blocks
    DROP CONSTRAINT portal_blocks_record_id_fkey,
    DROP CONSTRAINT portal_blocks_record_id_same_org;
ALTER TABLE portal_email_changes
    DROP CONSTRAINT portal_email_changes_account_id_fkey,
    DROP CONSTRAINT portal_email_changes_account_id_same_org;
ALTER TABLE practitioner_schedule_types
    DROP CONSTRAINT practitioner_schedule_types_practitioner_id_fkey,
    DROP CONSTRAINT practitioner_schedule_types_practitioner_id_same_org,
    DROP CONSTRAINT practitioner_schedule_types_schedule_type_id_fkey,
    DROP CONSTRAINT practitioner_schedule_types_schedule_type_id_same_org;
ALTER TABLE practitioners
    DROP CONSTRAINT practitioners_home_clinic_id_fkey,
    DROP CONSTRAINT practitioners_home_clinic_id_same_org,
    DROP CONSTRAINT practitioners_type_id_fkey,
    DROP CONSTRAINT practitioners_type_id_same_org;
ALTER TABLE reminder_links
    DROP CONSTRAINT reminder_links_appointment_id_fkey,
    DROP CONSTRAINT reminder_links_appointment_id_same_org;
ALTER TABLE resource_availability_blocks
    DROP CONSTRAINT resource_availability_blocks_record_id_fkey,
    DROP CONSTRAINT resource_availability_blocks_record_id_same_org;
ALTER TABLE resource_availability_records
    DROP CONSTRAINT resource_availability_records_resource_id_fkey,
    DROP CONSTRAINT resource_availability_records_resource_id_same_org;
ALTER TABLE resource_time_off
    DROP CONSTRAINT resource_time_off_resource_id_fkey,
    DROP CONSTRAINT resource_time_off_resource_id_same_org;
ALTER TABLE resources
    DROP CONSTRAINT resources_clinic_id_fkey,
    DROP CONSTRAINT resources_clinic_id_same_org;
ALTER TABLE schedule_types
    DROP CONSTRAINT schedule_types_clinic_id_fkey,
    DROP CONSTRAINT schedule_types_clinic_id_same_org;
ALTER TABLE service_reminder_offsets
    DROP CONSTRAINT service_reminder_offsets_service_id_fkey,
    DROP CONSTRAINT service_reminder_offsets_service_id_same_org;
ALTER TABLE service_requirements
    DROP CONSTRAINT service_requirements_resource_id_fkey,
    DROP CONSTRAINT service_requirements_resource_id_same_org,
    DROP CONSTRAINT service_requirements_service_id_fkey,
    DROP CONSTRAINT service_requirements_service_id_same_org;
ALTER TABLE service_schedule_types
    DROP CONSTRAINT service_schedule_types_schedule_type_id_fkey,
    DROP CONSTRAINT service_schedule_types_schedule_type_id_same_org,
    DROP CONSTRAINT service_schedule_types_service_id_fkey,
    DROP CONSTRAINT service_schedule_types_service_id_same_org;
ALTER TABLE services
    DROP CONSTRAINT services_practitioner_type_id_fkey,
    DROP CONSTRAINT services_practitioner_type_id_same_org;
ALTER TABLE staff_users
    DROP CONSTRAINT staff_users_practitioner_id_fkey,
    DROP CONSTRAINT staff_users_practitioner_id_same_org;
ALTER TABLE time_off
    DROP CONSTRAINT time_off_practitioner_id_fkey,
    DROP CONSTRAINT time_off_practitioner_id_same_org;
ALTER TABLE waitlist_entries
    DROP CONSTRAINT waitlist_entries_appointment_id_fkey,
    DROP CONSTRAINT waitlist_entries_appointment_id_same_org,
    DROP CONSTRAINT waitlist_entries_clinic_id_fkey,
    DROP CONSTRAINT waitlist_entries_clinic_id_same_org,
    DROP CONSTRAINT waitlist_entries_patient_id_fkey,
    DROP CONSTRAINT waitlist_entries_patient_id_same_org,
    DROP CONSTRAINT waitlist_entries_service_id_fkey,
    DROP CONSTRAINT waitlist_entries_service_id_same_org;
ALTER TABLE waitlist_entry_practitioners
    DROP CONSTRAINT waitlist_entry_practitioners_entry_id_fkey,
    DROP CONSTRAINT waitlist_entry_practitioners_entry_id_same_org,
    DROP CONSTRAINT waitlist_entry_practitioners_practitioner_id_fkey,
    DROP CONSTRAINT waitlist_entry_practitioners_practitioner_id_same_org;
ALTER TABLE waitlist_holds
    DROP CONSTRAINT waitlist_holds_appointment_id_fkey,
    DROP CONSTRAINT waitlist_holds_appointment_id_same_org,
    DROP CONSTRAINT waitlist_holds_clinic_id_fkey,
    DROP CONSTRAINT waitlist_holds_clinic_id_same_org,
    DROP CONSTRAINT waitlist_holds_practitioner_id_fkey,
    DROP CONSTRAINT waitlist_holds_practitioner_id_same_org,
    DROP CONSTRAINT waitlist_holds_service_id_fkey,
    DROP CONSTRAINT waitlist_holds_service_id_same_org;
ALTER TABLE waitlist_offers
    DROP CONSTRAINT waitlist_offers_entry_id_fkey,
    DROP CONSTRAINT waitlist_offers_entry_id_same_org,
    DROP CONSTRAINT waitlist_offers_hold_id_fkey,
    DROP CONSTRAINT waitlist_offers_hold_id_same_org;
ALTER TABLE webhook_deliveries
    DROP CONSTRAINT webhook_deliveries_endpoint_id_fkey,
    DROP CONSTRAINT webhook_deliveries_endpoint_id_same_org;

-- 2. Primary keys start with org_id.
ALTER TABLE api_keys
    DROP CONSTRAINT api_keys_pkey,
    DROP CONSTRAINT api_keys_org_id_id,
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (org_id, id);
ALTER TABLE appointment_reminders
    DROP CONSTRAINT appointment_reminders_pkey,
    ADD CONSTRAINT appointment_reminders_pkey PRIMARY KEY (org_id, id);
ALTER TABLE appointment_resources
    DROP CONSTRAINT appointment_resources_pkey,
    ADD CONSTRAINT appointment_resources_pkey PRIMARY KEY (org_id, appointment_id, resource_id);
ALTER TABLE appointment_series
    DROP CONSTRAINT appointment_series_pkey,
    DROP CONSTRAINT appointment_series_org_id_id,
    ADD CONSTRAINT appointment_series_pkey PRIMARY KEY (org_id, id);
ALTER TABLE appointments
    DROP CONSTRAINT appointments_pkey,
    DROP CONSTRAINT appointments_org_id_id,
    ADD CONSTRAINT appointments_pkey PRIMARY KEY (org_id, id);
ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_pkey,
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (org_id, id);
ALTER TABLE auth_tokens
    DROP CONSTRAINT auth_tokens_pkey,
    ADD CONSTRAINT auth_tokens_pkey PRIMARY KEY (org_id, id);
ALTER TABLE availability_blocks
    DROP CONSTRAINT availability_blocks_pkey,
    ADD CONSTRAINT availability_blocks_pkey PRIMARY KEY (org_id, id);
ALTER TABLE availability_records
    DROP CONSTRAINT availability_records_pkey,
    DROP CONSTRAINT availability_records_org_id_id,
    ADD CONSTRAINT availability_records_pkey PRIMARY KEY (org_id, id);
ALTER TABLE calendar_feeds
    DROP CONSTRAINT calendar_feeds_pkey,
    ADD CONSTRAINT calendar_feeds_pkey PRIMARY KEY (org_id, id);
ALTER TABLE clinic_holidays
    DROP CONSTRAINT clinic_holidays_pkey,
    ADD CONSTRAINT clinic_holidays_pkey PRIMARY KEY (org_id, clinic_id, day);
ALTER TABLE clinics
    DROP CONSTRAINT clinics_pkey,
    DROP CONSTRAINT clinics_org_id_id,
    ADD CONSTRAINT clinics_pkey PRIMARY KEY (org_id, id);
-- Every message names its organisation (store::outbox::enqueue takes one); a row
-- without one could only have been queued by a test, and cannot be keyed.
DELETE FROM email_outbox WHERE org_id IS NULL;
ALTER TABLE email_outbox
    DROP CONSTRAINT email_outbox_pkey,
    ADD CONSTRAINT email_outbox_pkey PRIMARY KEY (org_id, id);
ALTER TABLE patient_practitioners
    DROP CONSTRAINT patient_practitioners_pkey,
    ADD CONSTRAINT patient_practitioners_pkey PRIMARY KEY (org_id, patient_id, practitioner_id);
ALTER TABLE patients
    DROP CONSTRAINT patients_pkey,
    DROP CONSTRAINT patients_org_id_id,
    ADD CONSTRAINT patients_pkey PRIMARY KEY (org_id, id);
ALTER TABLE portal_accounts
    DROP CONSTRAINT portal_accounts_pkey,
    DROP CONSTRAINT portal_accounts_org_id_id,
    ADD CONSTRAINT portal_accounts_pkey PRIMARY KEY (org_id, id);
ALTER TABLE portal_blocks
    DROP CONSTRAINT portal_blocks_pkey,
    ADD CONSTRAINT portal_blocks_pkey PRIMARY KEY (org_id, id);
ALTER TABLE portal_email_changes
    DROP CONSTRAINT portal_email_changes_pkey,
    ADD CONSTRAINT portal_email_changes_pkey PRIMARY KEY (org_id, id);
ALTER TABLE portal_signups
    DROP CONSTRAINT portal_signups_pkey,
    ADD CONSTRAINT portal_signups_pkey PRIMARY KEY (org_id, id);
ALTER TABLE practitioner_schedule_types
    DROP CONSTRAINT practitioner_schedule_types_pkey,
    ADD CONSTRAINT practitioner_schedule_types_pkey PRIMARY KEY (org_id, practitioner_id, schedule_type_id);
ALTER TABLE practitioner_types
    DROP CONSTRAINT practitioner_types_pkey,
    DROP CONSTRAINT practitioner_types_org_id_id,
    ADD CONSTRAINT practitioner_types_pkey PRIMARY KEY (org_id, id);
ALTER TABLE practitioners
    DROP CONSTRAINT practitioners_pkey,
    DROP CONSTRAINT practitioners_org_id_id,
    ADD CONSTRAINT practitioners_pkey PRIMARY KEY (org_id, id);
ALTER TABLE reminder_links
    DROP CONSTRAINT reminder_links_pkey,
    ADD CONSTRAINT reminder_links_pkey PRIMARY KEY (org_id, id);
ALTER TABLE resource_availability_blocks
    DROP CONSTRAINT resource_availability_blocks_pkey,
    ADD CONSTRAINT resource_availability_blocks_pkey PRIMARY KEY (org_id, id);
ALTER TABLE resource_availability_records
    DROP CONSTRAINT resource_availability_records_pkey,
    DROP CONSTRAINT resource_availability_records_org_id_id,
    ADD CONSTRAINT resource_availability_records_pkey PRIMARY KEY (org_id, id);
ALTER TABLE resource_time_off
    DROP CONSTRAINT resource_time_off_pkey,
    ADD CONSTRAINT resource_time_off_pkey PRIMARY KEY (org_id, id);
ALTER TABLE resources
    DROP CONSTRAINT resources_pkey,
    DROP CONSTRAINT resources_org_id_id,
    ADD CONSTRAINT resources_pkey PRIMARY KEY (org_id, id);
ALTER TABLE schedule_types
    DROP CONSTRAINT schedule_types_pkey,
    DROP CONSTRAINT schedule_types_org_id_id,
    ADD CONSTRAINT schedule_types_pkey PRIMARY KEY (org_id, id);
ALTER TABLE service_reminder_offsets
    DROP CONSTRAINT service_reminder_offsets_pkey,
    ADD CONSTRAINT service_reminder_offsets_pkey PRIMARY KEY (org_id, service_id);
ALTER TABLE service_requirements
    DROP CONSTRAINT service_requirements_pkey,
    ADD CONSTRAINT service_requirements_pkey PRIMARY KEY (org_id, service_id, resource_id);
ALTER TABLE service_schedule_types
    DROP CONSTRAINT service_schedule_types_pkey,
    ADD CONSTRAINT service_schedule_types_pkey PRIMARY KEY (org_id, service_id, schedule_type_id);
ALTER TABLE services
    DROP CONSTRAINT services_pkey,
    DROP CONSTRAINT services_org_id_id,
    ADD CONSTRAINT services_pkey PRIMARY KEY (org_id, id);
ALTER TABLE staff_users
    DROP CONSTRAINT staff_users_pkey,
    DROP CONSTRAINT staff_users_org_id_id,
    ADD CONSTRAINT staff_users_pkey PRIMARY KEY (org_id, id);
ALTER TABLE time_off
    DROP CONSTRAINT time_off_pkey,
    ADD CONSTRAINT time_off_pkey PRIMARY KEY (org_id, id);
ALTER TABLE waitlist_entries
    DROP CONSTRAINT waitlist_entries_pkey,
    DROP CONSTRAINT waitlist_entries_org_id_id,
    ADD CONSTRAINT waitlist_entries_pkey PRIMARY KEY (org_id, id);
ALTER TABLE waitlist_entry_practitioners
    DROP CONSTRAINT waitlist_entry_practitioners_pkey,
    ADD CONSTRAINT waitlist_entry_practitioners_pkey PRIMARY KEY (org_id, entry_id, practitioner_id);
ALTER TABLE waitlist_holds
    DROP CONSTRAINT waitlist_holds_pkey,
    DROP CONSTRAINT waitlist_holds_org_id_id,
    ADD CONSTRAINT waitlist_holds_pkey PRIMARY KEY (org_id, id);
ALTER TABLE waitlist_offers
    DROP CONSTRAINT waitlist_offers_pkey,
    ADD CONSTRAINT waitlist_offers_pkey PRIMARY KEY (org_id, id);
ALTER TABLE webhook_deliveries
    DROP CONSTRAINT webhook_deliveries_pkey,
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (org_id, id);
ALTER TABLE webhook_endpoints
    DROP CONSTRAINT webhook_endpoints_pkey,
    DROP CONSTRAINT webhook_endpoints_org_id_id_key,
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (org_id, id);

-- 3. Unique keys name org_id.
ALTER TABLE api_keys
    DROP CONSTRAINT api_keys_token_hash_key,
    ADD CONSTRAINT api_keys_org_id_token_hash_key UNIQUE (org_id, token_hash);
ALTER TABLE appointment_reminders
    DROP CONSTRAINT appointment_reminders_appointment_id_offset_minutes_start_n_key,
    ADD CONSTRAINT appointment_reminders_once UNIQUE (org_id, appointment_id, offset_minutes, start_ns, sequence);
ALTER TABLE auth_tokens
    DROP CONSTRAINT auth_tokens_token_hash_key,
    ADD CONSTRAINT auth_tokens_org_id_token_hash_key UNIQUE (org_id, token_hash);
ALTER TABLE calendar_feeds
    DROP CONSTRAINT calendar_feeds_token_hash_key,
    ADD CONSTRAINT calendar_feeds_org_id_token_hash_key UNIQUE (org_id, token_hash);
ALTER TABLE portal_accounts
    DROP CONSTRAINT portal_accounts_patient_id_key,
    ADD CONSTRAINT portal_accounts_org_id_patient_id_key UNIQUE (org_id, patient_id);
ALTER TABLE portal_email_changes
    DROP CONSTRAINT portal_email_changes_token_hash_key,
    ADD CONSTRAINT portal_email_changes_org_id_token_hash_key UNIQUE (org_id, token_hash);
ALTER TABLE portal_signups
    DROP CONSTRAINT portal_signups_token_hash_key,
    ADD CONSTRAINT portal_signups_org_id_token_hash_key UNIQUE (org_id, token_hash);
ALTER TABLE reminder_links
    DROP CONSTRAINT reminder_links_token_hash_key,
    ADD CONSTRAINT reminder_links_org_id_token_hash_key UNIQUE (org_id, token_hash);
ALTER TABLE waitlist_offers
    DROP CONSTRAINT waitlist_offers_token_hash_key,
    ADD CONSTRAINT waitlist_offers_org_id_token_hash_key UNIQUE (org_id, token_hash);
DROP INDEX waitlist_offers_one_open;
CREATE UNIQUE INDEX waitlist_offers_one_open ON waitlist_offers (org_id, entry_id) WHERE state = 'open';

-- 4. The foreign keys between an organisation's tables, each naming org_id, with what
-- the plain key did on delete.
ALTER TABLE appointment_reminders
    ADD CONSTRAINT appointment_reminders_appointment_id_same_org FOREIGN KEY (org_id, appointment_id) REFERENCES appointments (org_id, id) ON DELETE CASCADE;
ALTER TABLE appointment_resources
    ADD CONSTRAINT appointment_resources_appointment_id_same_org FOREIGN KEY (org_id, appointment_id) REFERENCES appointments (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT appointment_resources_resource_id_same_org FOREIGN KEY (org_id, resource_id) REFERENCES resources (org_id, id);
ALTER TABLE appointment_series
    ADD CONSTRAINT appointment_series_patient_id_same_org FOREIGN KEY (org_id, patient_id) REFERENCES patients (org_id, id),
    ADD CONSTRAINT appointment_series_practitioner_id_same_org FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id),
    ADD CONSTRAINT appointment_series_service_id_same_org FOREIGN KEY (org_id, service_id) REFERENCES services (org_id, id);
ALTER TABLE appointments
    ADD CONSTRAINT appointments_clinic_id_same_org FOREIGN KEY (org_id, clinic_id) REFERENCES clinics (org_id, id),
    ADD CONSTRAINT appointments_override_by_same_org FOREIGN KEY (org_id, override_by) REFERENCES staff_users (org_id, id),
    ADD CONSTRAINT appointments_patient_id_same_org FOREIGN KEY (org_id, patient_id) REFERENCES patients (org_id, id),
    ADD CONSTRAINT appointments_practitioner_id_same_org FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id),
    ADD CONSTRAINT appointments_schedule_type_id_same_org FOREIGN KEY (org_id, schedule_type_id) REFERENCES schedule_types (org_id, id),
    ADD CONSTRAINT appointments_series_id_same_org FOREIGN KEY (org_id, series_id) REFERENCES appointment_series (org_id, id),
    ADD CONSTRAINT appointments_service_id_same_org FOREIGN KEY (org_id, service_id) REFERENCES services (org_id, id);
ALTER TABLE availability_blocks
    ADD CONSTRAINT availability_blocks_record_id_same_org FOREIGN KEY (org_id, record_id) REFERENCES availability_records (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT availability_blocks_schedule_type_id_same_org FOREIGN KEY (org_id, schedule_type_id) REFERENCES schedule_types (org_id, id);
ALTER TABLE availability_records
    ADD CONSTRAINT availability_records_clinic_id_same_org FOREIGN KEY (org_id, clinic_id) REFERENCES clinics (org_id, id),
    ADD CONSTRAINT availability_records_practitioner_id_same_org FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id) ON DELETE CASCADE;
ALTER TABLE calendar_feeds
    ADD CONSTRAINT calendar_feeds_clinic_id_same_org FOREIGN KEY (org_id, clinic_id) REFERENCES clinics (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT calendar_feeds_practitioner_id_same_org FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id) ON DELETE CASCADE;
ALTER TABLE clinic_holidays
    ADD CONSTRAINT clinic_holidays_clinic_id_same_org FOREIGN KEY (org_id, clinic_id) REFERENCES clinics (org_id, id) ON DELETE CASCADE;
ALTER TABLE patient_practitioners
    ADD CONSTRAINT patient_practitioners_patient_id_same_org FOREIGN KEY (org_id, patient_id) REFERENCES patients (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT patient_practitioners_practitioner_id_same_org FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id) ON DELETE CASCADE;
ALTER TABLE portal_accounts
    ADD CONSTRAINT portal_accounts_patient_id_same_org FOREIGN KEY (org_id, patient_id) REFERENCES patients (org_id, id) ON DELETE CASCADE;
ALTER TABLE portal_blocks
    ADD CONSTRAINT portal_blocks_record_id_same_org FOREIGN KEY (org_id, record_id) REFERENCES availability_records (org_id, id) ON DELETE CASCADE;
ALTER TABLE portal_email_changes
    ADD CONSTRAINT portal_email_changes_account_id_same_org FOREIGN KEY (org_id, account_id) REFERENCES portal_accounts (org_id, id) ON DELETE CASCADE;
ALTER TABLE practitioner_schedule_types
    ADD CONSTRAINT practitioner_schedule_types_practitioner_id_same_org FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT practitioner_schedule_types_schedule_type_id_same_org FOREIGN KEY (org_id, schedule_type_id) REFERENCES schedule_types (org_id, id) ON DELETE CASCADE;
ALTER TABLE practitioners
    ADD CONSTRAINT practitioners_home_clinic_id_same_org FOREIGN KEY (org_id, home_clinic_id) REFERENCES clinics (org_id, id),
    ADD CONSTRAINT practitioners_type_id_same_org FOREIGN KEY (org_id, type_id) REFERENCES practitioner_types (org_id, id);
ALTER TABLE reminder_links
    ADD CONSTRAINT reminder_links_appointment_id_same_org FOREIGN KEY (org_id, appointment_id) REFERENCES appointments (org_id, id) ON DELETE CASCADE;
ALTER TABLE resource_availability_blocks
    ADD CONSTRAINT resource_availability_blocks_record_id_same_org FOREIGN KEY (org_id, record_id) REFERENCES resource_availability_records (org_id, id) ON DELETE CASCADE;
ALTER TABLE resource_availability_records
    ADD CONSTRAINT resource_availability_records_resource_id_same_org FOREIGN KEY (org_id, resource_id) REFERENCES resources (org_id, id) ON DELETE CASCADE;
ALTER TABLE resource_time_off
    ADD CONSTRAINT resource_time_off_resource_id_same_org FOREIGN KEY (org_id, resource_id) REFERENCES resources (org_id, id) ON DELETE CASCADE;
ALTER TABLE resources
    ADD CONSTRAINT resources_clinic_id_same_org FOREIGN KEY (org_id, clinic_id) REFERENCES clinics (org_id, id);
ALTER TABLE schedule_types
    ADD CONSTRAINT schedule_types_clinic_id_same_org FOREIGN KEY (org_id, clinic_id) REFERENCES clinics (org_id, id);
ALTER TABLE service_reminder_offsets
    ADD CONSTRAINT service_reminder_offsets_service_id_same_org FOREIGN KEY (org_id, service_id) REFERENCES services (org_id, id) ON DELETE CASCADE;
ALTER TABLE service_requirements
    ADD CONSTRAINT service_requirements_resource_id_same_org FOREIGN KEY (org_id, resource_id) REFERENCES resources (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT service_requirements_service_id_same_org FOREIGN KEY (org_id, service_id) REFERENCES services (org_id, id) ON DELETE CASCADE;
ALTER TABLE service_schedule_types
    ADD CONSTRAINT service_schedule_types_schedule_type_id_same_org FOREIGN KEY (org_id, schedule_type_id) REFERENCES schedule_types (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT service_schedule_types_service_id_same_org FOREIGN KEY (org_id, service_id) REFERENCES services (org_id, id) ON DELETE CASCADE;
ALTER TABLE services
    ADD CONSTRAINT services_practitioner_type_id_same_org FOREIGN KEY (org_id, practitioner_type_id) REFERENCES practitioner_types (org_id, id);
ALTER TABLE staff_users
    ADD CONSTRAINT staff_users_practitioner_id_same_org FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id) ON DELETE SET NULL (practitioner_id);
ALTER TABLE time_off
    ADD CONSTRAINT time_off_practitioner_id_same_org FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id) ON DELETE CASCADE;
ALTER TABLE waitlist_entries
    ADD CONSTRAINT waitlist_entries_appointment_id_same_org FOREIGN KEY (org_id, appointment_id) REFERENCES appointments (org_id, id),
    ADD CONSTRAINT waitlist_entries_clinic_id_same_org FOREIGN KEY (org_id, clinic_id) REFERENCES clinics (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT waitlist_entries_patient_id_same_org FOREIGN KEY (org_id, patient_id) REFERENCES patients (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT waitlist_entries_service_id_same_org FOREIGN KEY (org_id, service_id) REFERENCES services (org_id, id) ON DELETE CASCADE;
ALTER TABLE waitlist_entry_practitioners
    ADD CONSTRAINT waitlist_entry_practitioners_entry_id_same_org FOREIGN KEY (org_id, entry_id) REFERENCES waitlist_entries (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT waitlist_entry_practitioners_practitioner_id_same_org FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id) ON DELETE CASCADE;
ALTER TABLE waitlist_holds
    ADD CONSTRAINT waitlist_holds_appointment_id_same_org FOREIGN KEY (org_id, appointment_id) REFERENCES appointments (org_id, id),
    ADD CONSTRAINT waitlist_holds_clinic_id_same_org FOREIGN KEY (org_id, clinic_id) REFERENCES clinics (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT waitlist_holds_practitioner_id_same_org FOREIGN KEY (org_id, practitioner_id) REFERENCES practitioners (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT waitlist_holds_service_id_same_org FOREIGN KEY (org_id, service_id) REFERENCES services (org_id, id) ON DELETE CASCADE;
ALTER TABLE waitlist_offers
    ADD CONSTRAINT waitlist_offers_entry_id_same_org FOREIGN KEY (org_id, entry_id) REFERENCES waitlist_entries (org_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT waitlist_offers_hold_id_same_org FOREIGN KEY (org_id, hold_id) REFERENCES waitlist_holds (org_id, id) ON DELETE CASCADE;
ALTER TABLE webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_same_org FOREIGN KEY (org_id, endpoint_id) REFERENCES webhook_endpoints (org_id, id) ON DELETE CASCADE;
