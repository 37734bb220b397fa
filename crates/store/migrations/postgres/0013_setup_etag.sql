-- Every change to an organisation's setup (the tables the engine's input is built from,
-- appointments and patients aside) gives the organisation a new random `setup_etag`,
-- in the same transaction. A server may keep a setup in memory for as long as its etag
-- is the organisation's: whatever code path or tool changes a setup row, the trigger
-- makes the change visible. Random rather than counted, so that an etag names one
-- content even across restored backups and separate databases.
ALTER TABLE organisations ADD COLUMN setup_etag BIGINT NOT NULL DEFAULT 0;

-- 53 random bits (a double's), kept well inside BIGINT.
CREATE FUNCTION openslot_new_setup_etag() RETURNS BIGINT AS $$
    SELECT (random() * 4.0e18)::BIGINT
$$ LANGUAGE SQL VOLATILE;

UPDATE organisations SET setup_etag = openslot_new_setup_etag();

CREATE FUNCTION openslot_setup_changed() RETURNS TRIGGER AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE organisations SET setup_etag = openslot_new_setup_etag() WHERE id = OLD.org_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE organisations SET setup_etag = openslot_new_setup_etag() WHERE id = NEW.org_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinics_setup_etag AFTER INSERT OR UPDATE OR DELETE ON clinics
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER clinic_holidays_setup_etag AFTER INSERT OR UPDATE OR DELETE ON clinic_holidays
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER practitioner_types_setup_etag AFTER INSERT OR UPDATE OR DELETE ON practitioner_types
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER practitioners_setup_etag AFTER INSERT OR UPDATE OR DELETE ON practitioners
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER schedule_types_setup_etag AFTER INSERT OR UPDATE OR DELETE ON schedule_types
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER practitioner_schedule_types_setup_etag AFTER INSERT OR UPDATE OR DELETE ON practitioner_schedule_types
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER availability_records_setup_etag AFTER INSERT OR UPDATE OR DELETE ON availability_records
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER availability_blocks_setup_etag AFTER INSERT OR UPDATE OR DELETE ON availability_blocks
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER portal_blocks_setup_etag AFTER INSERT OR UPDATE OR DELETE ON portal_blocks
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER time_off_setup_etag AFTER INSERT OR UPDATE OR DELETE ON time_off
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER services_setup_etag AFTER INSERT OR UPDATE OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();

CREATE TRIGGER service_schedule_types_setup_etag AFTER INSERT OR UPDATE OR DELETE ON service_schedule_types
    FOR EACH ROW EXECUTE FUNCTION openslot_setup_changed();
