-- Every change to an organisation's setup (the tables the engine's input is built from,
-- appointments and patients aside) gives the organisation a new random `setup_etag`,
-- in the same transaction. A server may keep a setup in memory for as long as its etag
-- is the organisation's: whatever code path or tool changes a setup row, the trigger
-- makes the change visible. Random rather than counted, so that an etag names one
-- content even across restored backups and separate databases.
ALTER TABLE organisations ADD COLUMN setup_etag INTEGER NOT NULL DEFAULT 0;
UPDATE organisations SET setup_etag = random();

CREATE TRIGGER clinics_setup_etag_insert AFTER INSERT ON clinics
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER clinics_setup_etag_update AFTER UPDATE ON clinics
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER clinics_setup_etag_delete AFTER DELETE ON clinics
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER clinic_holidays_setup_etag_insert AFTER INSERT ON clinic_holidays
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER clinic_holidays_setup_etag_update AFTER UPDATE ON clinic_holidays
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER clinic_holidays_setup_etag_delete AFTER DELETE ON clinic_holidays
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER practitioner_types_setup_etag_insert AFTER INSERT ON practitioner_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER practitioner_types_setup_etag_update AFTER UPDATE ON practitioner_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER practitioner_types_setup_etag_delete AFTER DELETE ON practitioner_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER practitioners_setup_etag_insert AFTER INSERT ON practitioners
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER practitioners_setup_etag_update AFTER UPDATE ON practitioners
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER practitioners_setup_etag_delete AFTER DELETE ON practitioners
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER schedule_types_setup_etag_insert AFTER INSERT ON schedule_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER schedule_types_setup_etag_update AFTER UPDATE ON schedule_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER schedule_types_setup_etag_delete AFTER DELETE ON schedule_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER practitioner_schedule_types_setup_etag_insert AFTER INSERT ON practitioner_schedule_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER practitioner_schedule_types_setup_etag_update AFTER UPDATE ON practitioner_schedule_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER practitioner_schedule_types_setup_etag_delete AFTER DELETE ON practitioner_schedule_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER availability_records_setup_etag_insert AFTER INSERT ON availability_records
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER availability_records_setup_etag_update AFTER UPDATE ON availability_records
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER availability_records_setup_etag_delete AFTER DELETE ON availability_records
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER availability_blocks_setup_etag_insert AFTER INSERT ON availability_blocks
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER availability_blocks_setup_etag_update AFTER UPDATE ON availability_blocks
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER availability_blocks_setup_etag_delete AFTER DELETE ON availability_blocks
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER portal_blocks_setup_etag_insert AFTER INSERT ON portal_blocks
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER portal_blocks_setup_etag_update AFTER UPDATE ON portal_blocks
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER portal_blocks_setup_etag_delete AFTER DELETE ON portal_blocks
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER time_off_setup_etag_insert AFTER INSERT ON time_off
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER time_off_setup_etag_update AFTER UPDATE ON time_off
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER time_off_setup_etag_delete AFTER DELETE ON time_off
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER services_setup_etag_insert AFTER INSERT ON services
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER services_setup_etag_update AFTER UPDATE ON services
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER services_setup_etag_delete AFTER DELETE ON services
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER service_schedule_types_setup_etag_insert AFTER INSERT ON service_schedule_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER service_schedule_types_setup_etag_update AFTER UPDATE ON service_schedule_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER service_schedule_types_setup_etag_delete AFTER DELETE ON service_schedule_types
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;
