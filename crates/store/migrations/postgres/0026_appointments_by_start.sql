-- Rooms and equipment (issue 16): a booking's window finds, by time, every appointment
-- that holds a room it could use, whoever's it is
-- (store::scenario_rows::window_appointments): without this index the only way in is
-- through each room's whole history. (The resource tables' setup-etag triggers are
-- migration 0025.)
CREATE INDEX appointments_start ON appointments (org_id, start_ns);
