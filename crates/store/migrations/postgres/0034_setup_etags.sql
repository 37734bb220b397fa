-- The setup etag (migration 0013) moves from `organisations` to a table of its own,
-- keyed by organisation. `organisations` is global (a reference table on a distributed
-- PostgreSQL, docs/scaling.md), and a trigger on a distributed table's shard must not
-- write a reference table: the etag now lives beside the setup rows whose changes move
-- it, co-located with them. One row per organisation, made with the organisation (and
-- here for those that exist), so a change only ever updates it.
CREATE TABLE setup_etags (
    org_id BIGINT PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    etag BIGINT NOT NULL
);

INSERT INTO setup_etags (org_id, etag) SELECT id, setup_etag FROM organisations;

-- The same triggers (migrations 0013 and 0025) call this function, now writing the
-- new table.
CREATE OR REPLACE FUNCTION openslot_setup_changed() RETURNS TRIGGER AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE setup_etags SET etag = openslot_new_setup_etag() WHERE org_id = OLD.org_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE setup_etags SET etag = openslot_new_setup_etag() WHERE org_id = NEW.org_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

ALTER TABLE organisations DROP COLUMN setup_etag;
