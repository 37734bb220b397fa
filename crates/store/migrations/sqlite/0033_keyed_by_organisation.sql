-- Issue 19, ready to shard: PostgreSQL's migration 0033 keys every table of an
-- organisation's rows by org_id (docs/scaling.md). SQLite is one instance and keeps its
-- keys and guards; it only gains the unique key that the store's ON CONFLICT target for
-- reminders now names on both backends (implied by the key beside it).
CREATE UNIQUE INDEX appointment_reminders_once ON appointment_reminders (org_id, appointment_id, offset_minutes, start_ns, sequence);
