-- Rooms and equipment are part of the setup the engine reads (issue 16): every change to a
-- resource, its availability, its time off or a service's requirements gives the
-- organisation a new setup_etag (as 0013 does for the rest of the setup), so a server
-- never answers from a kept setup that misses a room.

CREATE TRIGGER resources_setup_etag AFTER INSERT OR UPDATE OR DELETE ON resources
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER resource_availability_records_setup_etag AFTER INSERT OR UPDATE OR DELETE ON resource_availability_records
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER resource_availability_blocks_setup_etag AFTER INSERT OR UPDATE OR DELETE ON resource_availability_blocks
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER resource_time_off_setup_etag AFTER INSERT OR UPDATE OR DELETE ON resource_time_off
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER service_requirements_setup_etag AFTER INSERT OR UPDATE OR DELETE ON service_requirements
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

-- A booking's window finds, by time, every appointment that holds a room it could use,
-- whoever's it is (store::scenario_rows::window_appointments): without this index the
-- only way in is through each room's whole history.
CREATE INDEX appointments_start ON appointments (org_id, start_ns);
