-- The setup etag (migration 0013) moves from `organisations` to a table of its own,
-- keyed by organisation, as on PostgreSQL (where `organisations` is global and a
-- distributed table's trigger must not write it; docs/scaling.md). One row per
-- organisation, made with the organisation (and here for those that exist), so a
-- change only ever updates it. The triggers of migrations 0013 and 0025 are made again
-- to write the new table.
CREATE TABLE setup_etags (
    org_id INTEGER PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    etag INTEGER NOT NULL
);

INSERT INTO setup_etags (org_id, etag) SELECT id, setup_etag FROM organisations;

DROP TRIGGER clinics_setup_etag_insert;
DROP TRIGGER clinics_setup_etag_update;
DROP TRIGGER clinics_setup_etag_delete;
CREATE TRIGGER clinics_setup_etag_insert AFTER INSERT ON clinics
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER clinics_setup_etag_update AFTER UPDATE ON clinics
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER clinics_setup_etag_delete AFTER DELETE ON clinics
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER clinic_holidays_setup_etag_insert;
DROP TRIGGER clinic_holidays_setup_etag_update;
DROP TRIGGER clinic_holidays_setup_etag_delete;
CREATE TRIGGER clinic_holidays_setup_etag_insert AFTER INSERT ON clinic_holidays
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER clinic_holidays_setup_etag_update AFTER UPDATE ON clinic_holidays
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER clinic_holidays_setup_etag_delete AFTER DELETE ON clinic_holidays
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER practitioner_types_setup_etag_insert;
DROP TRIGGER practitioner_types_setup_etag_update;
DROP TRIGGER practitioner_types_setup_etag_delete;
CREATE TRIGGER practitioner_types_setup_etag_insert AFTER INSERT ON practitioner_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER practitioner_types_setup_etag_update AFTER UPDATE ON practitioner_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER practitioner_types_setup_etag_delete AFTER DELETE ON practitioner_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER practitioners_setup_etag_insert;
DROP TRIGGER practitioners_setup_etag_update;
DROP TRIGGER practitioners_setup_etag_delete;
CREATE TRIGGER practitioners_setup_etag_insert AFTER INSERT ON practitioners
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER practitioners_setup_etag_update AFTER UPDATE ON practitioners
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER practitioners_setup_etag_delete AFTER DELETE ON practitioners
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER schedule_types_setup_etag_insert;
DROP TRIGGER schedule_types_setup_etag_update;
DROP TRIGGER schedule_types_setup_etag_delete;
CREATE TRIGGER schedule_types_setup_etag_insert AFTER INSERT ON schedule_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER schedule_types_setup_etag_update AFTER UPDATE ON schedule_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER schedule_types_setup_etag_delete AFTER DELETE ON schedule_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER practitioner_schedule_types_setup_etag_insert;
DROP TRIGGER practitioner_schedule_types_setup_etag_update;
DROP TRIGGER practitioner_schedule_types_setup_etag_delete;
CREATE TRIGGER practitioner_schedule_types_setup_etag_insert AFTER INSERT ON practitioner_schedule_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER practitioner_schedule_types_setup_etag_update AFTER UPDATE ON practitioner_schedule_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER practitioner_schedule_types_setup_etag_delete AFTER DELETE ON practitioner_schedule_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER availability_records_setup_etag_insert;
DROP TRIGGER availability_records_setup_etag_update;
DROP TRIGGER availability_records_setup_etag_delete;
CREATE TRIGGER availability_records_setup_etag_insert AFTER INSERT ON availability_records
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER availability_records_setup_etag_update AFTER UPDATE ON availability_records
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER availability_records_setup_etag_delete AFTER DELETE ON availability_records
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER availability_blocks_setup_etag_insert;
DROP TRIGGER availability_blocks_setup_etag_update;
DROP TRIGGER availability_blocks_setup_etag_delete;
CREATE TRIGGER availability_blocks_setup_etag_insert AFTER INSERT ON availability_blocks
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER availability_blocks_setup_etag_update AFTER UPDATE ON availability_blocks
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER availability_blocks_setup_etag_delete AFTER DELETE ON availability_blocks
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER portal_blocks_setup_etag_insert;
DROP TRIGGER portal_blocks_setup_etag_update;
DROP TRIGGER portal_blocks_setup_etag_delete;
CREATE TRIGGER portal_blocks_setup_etag_insert AFTER INSERT ON portal_blocks
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER portal_blocks_setup_etag_update AFTER UPDATE ON portal_blocks
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER portal_blocks_setup_etag_delete AFTER DELETE ON portal_blocks
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER time_off_setup_etag_insert;
DROP TRIGGER time_off_setup_etag_update;
DROP TRIGGER time_off_setup_etag_delete;
CREATE TRIGGER time_off_setup_etag_insert AFTER INSERT ON time_off
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER time_off_setup_etag_update AFTER UPDATE ON time_off
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER time_off_setup_etag_delete AFTER DELETE ON time_off
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER services_setup_etag_insert;
DROP TRIGGER services_setup_etag_update;
DROP TRIGGER services_setup_etag_delete;
CREATE TRIGGER services_setup_etag_insert AFTER INSERT ON services
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER services_setup_etag_update AFTER UPDATE ON services
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER services_setup_etag_delete AFTER DELETE ON services
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER service_schedule_types_setup_etag_insert;
DROP TRIGGER service_schedule_types_setup_etag_update;
DROP TRIGGER service_schedule_types_setup_etag_delete;
CREATE TRIGGER service_schedule_types_setup_etag_insert AFTER INSERT ON service_schedule_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER service_schedule_types_setup_etag_update AFTER UPDATE ON service_schedule_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER service_schedule_types_setup_etag_delete AFTER DELETE ON service_schedule_types
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER resources_setup_etag_insert;
DROP TRIGGER resources_setup_etag_update;
DROP TRIGGER resources_setup_etag_delete;
CREATE TRIGGER resources_setup_etag_insert AFTER INSERT ON resources
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER resources_setup_etag_update AFTER UPDATE ON resources
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER resources_setup_etag_delete AFTER DELETE ON resources
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER resource_availability_records_setup_etag_insert;
DROP TRIGGER resource_availability_records_setup_etag_update;
DROP TRIGGER resource_availability_records_setup_etag_delete;
CREATE TRIGGER resource_availability_records_setup_etag_insert AFTER INSERT ON resource_availability_records
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER resource_availability_records_setup_etag_update AFTER UPDATE ON resource_availability_records
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER resource_availability_records_setup_etag_delete AFTER DELETE ON resource_availability_records
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER resource_availability_blocks_setup_etag_insert;
DROP TRIGGER resource_availability_blocks_setup_etag_update;
DROP TRIGGER resource_availability_blocks_setup_etag_delete;
CREATE TRIGGER resource_availability_blocks_setup_etag_insert AFTER INSERT ON resource_availability_blocks
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER resource_availability_blocks_setup_etag_update AFTER UPDATE ON resource_availability_blocks
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER resource_availability_blocks_setup_etag_delete AFTER DELETE ON resource_availability_blocks
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER resource_time_off_setup_etag_insert;
DROP TRIGGER resource_time_off_setup_etag_update;
DROP TRIGGER resource_time_off_setup_etag_delete;
CREATE TRIGGER resource_time_off_setup_etag_insert AFTER INSERT ON resource_time_off
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER resource_time_off_setup_etag_update AFTER UPDATE ON resource_time_off
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER resource_time_off_setup_etag_delete AFTER DELETE ON resource_time_off
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

DROP TRIGGER service_requirements_setup_etag_insert;
DROP TRIGGER service_requirements_setup_etag_update;
DROP TRIGGER service_requirements_setup_etag_delete;
CREATE TRIGGER service_requirements_setup_etag_insert AFTER INSERT ON service_requirements
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = NEW.org_id; END;
CREATE TRIGGER service_requirements_setup_etag_update AFTER UPDATE ON service_requirements
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER service_requirements_setup_etag_delete AFTER DELETE ON service_requirements
BEGIN UPDATE setup_etags SET etag = random() WHERE org_id = OLD.org_id; END;

ALTER TABLE organisations DROP COLUMN setup_etag;
