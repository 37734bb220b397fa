-- The audit page (issue 13) reads an organisation's log newest first, a page at a time
-- (keyset on id: `id < $before ORDER BY id DESC`), optionally by who did it, by kind of
-- change (entity or action) and by a range of dates. Each filter has an index that
-- leads with the organisation and ends in the order of the page, so a page reads only
-- its own rows however long the log grows; the dates' index gives the range.
CREATE INDEX audit_log_org_id ON audit_log (org_id, id);
CREATE INDEX audit_log_actor ON audit_log (org_id, actor, id);
CREATE INDEX audit_log_entity_id_order ON audit_log (org_id, entity, id);
CREATE INDEX audit_log_action ON audit_log (org_id, action, id);
CREATE INDEX audit_log_at ON audit_log (org_id, at_ns);

-- An organisation's own host name (e.g. `book.kitsilano-physio.ca`): requests for it
-- reach that organisation's portal at `/` and its staff pages at `/admin`. Lower-case,
-- checked by the store; at most one organisation per host (NULL: none).
ALTER TABLE organisations ADD COLUMN host TEXT;
CREATE UNIQUE INDEX organisations_host ON organisations (host);
