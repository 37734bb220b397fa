-- Buffers around appointments (issue 15, scenario format v2).
--
-- A service keeps time free before and after each of its appointments
-- (`buffer_before_minutes`, `buffer_after_minutes`, 0 to 1440 minutes, as the scenario
-- format allows), and may be offered online as a weekly series (`allow_series`).
-- An appointment carries the buffers it was booked with, so that changing its
-- service's buffers later moves no appointment already made. Every existing row keeps
-- no buffer, which is the v1 behaviour.
ALTER TABLE services ADD COLUMN buffer_before_minutes INTEGER NOT NULL DEFAULT 0
    CHECK (buffer_before_minutes BETWEEN 0 AND 1440);
ALTER TABLE services ADD COLUMN buffer_after_minutes INTEGER NOT NULL DEFAULT 0
    CHECK (buffer_after_minutes BETWEEN 0 AND 1440);
ALTER TABLE services ADD COLUMN allow_series BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE appointments ADD COLUMN buffer_before_minutes INTEGER NOT NULL DEFAULT 0
    CHECK (buffer_before_minutes BETWEEN 0 AND 1440);
ALTER TABLE appointments ADD COLUMN buffer_after_minutes INTEGER NOT NULL DEFAULT 0
    CHECK (buffer_after_minutes BETWEEN 0 AND 1440);
