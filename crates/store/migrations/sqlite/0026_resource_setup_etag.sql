-- Rooms and equipment are part of the setup the engine reads (issue 16): every change to a
-- resource, its availability, its time off or a service's requirements gives the
-- organisation a new setup_etag (as 0013 does for the rest of the setup), so a server
-- never answers from a kept setup that misses a room.

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

-- A booking's window finds, by time, every appointment that holds a room it could use,
-- whoever's it is (store::scenario_rows::window_appointments): without this index the
-- only way in is through each room's whole history.
CREATE INDEX appointments_start ON appointments (org_id, start_ns);
