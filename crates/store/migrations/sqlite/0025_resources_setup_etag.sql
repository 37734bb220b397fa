-- Rooms and equipment are setup (issue 16): every change to a resource, its
-- availability records and blocks, its time off or a service's requirements gives the
-- organisation a new random `setup_etag`, as migration 0013 does for the other setup
-- tables, so every server instance's setup cache sees the change in its next request.
-- Appointment resources are not setup: they go with their appointments.
CREATE TRIGGER resources_setup_etag_insert AFTER INSERT ON resources
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER resources_setup_etag_update AFTER UPDATE ON resources
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER resources_setup_etag_delete AFTER DELETE ON resources
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER resource_availability_records_setup_etag_insert AFTER INSERT ON resource_availability_records
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER resource_availability_records_setup_etag_update AFTER UPDATE ON resource_availability_records
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER resource_availability_records_setup_etag_delete AFTER DELETE ON resource_availability_records
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER resource_availability_blocks_setup_etag_insert AFTER INSERT ON resource_availability_blocks
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER resource_availability_blocks_setup_etag_update AFTER UPDATE ON resource_availability_blocks
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER resource_availability_blocks_setup_etag_delete AFTER DELETE ON resource_availability_blocks
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER resource_time_off_setup_etag_insert AFTER INSERT ON resource_time_off
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER resource_time_off_setup_etag_update AFTER UPDATE ON resource_time_off
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER resource_time_off_setup_etag_delete AFTER DELETE ON resource_time_off
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;

CREATE TRIGGER service_requirements_setup_etag_insert AFTER INSERT ON service_requirements
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = NEW.org_id; END;
CREATE TRIGGER service_requirements_setup_etag_update AFTER UPDATE ON service_requirements
BEGIN UPDATE organisations SET setup_etag = random() WHERE id IN (OLD.org_id, NEW.org_id); END;
CREATE TRIGGER service_requirements_setup_etag_delete AFTER DELETE ON service_requirements
BEGIN UPDATE organisations SET setup_etag = random() WHERE id = OLD.org_id; END;
