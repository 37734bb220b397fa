-- Rooms and equipment are setup (issue 16): every change to a resource, its
-- availability records and blocks, its time off or a service's requirements gives the
-- organisation a new random `setup_etag`, as migration 0013 does for the other setup
-- tables, so every server instance's setup cache sees the change in its next request.
-- Appointment resources are not setup: they go with their appointments.
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
