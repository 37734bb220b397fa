-- Changing and cancelling an appointment (issue 14).
--
-- A cancellation keeps why (`cancel_reason`, optional, at most 500 characters), who
-- (`cancelled_by`: `staff:3`, `patient:12`), when (`cancelled_at_ns`) and the status it
-- was cancelled from (`cancelled_from`), so that staff can see the reason and undo the
-- cancellation back to that status. A new status `arrived` (the patient is at the desk)
-- holds its time like booked.
ALTER TABLE appointments DROP CONSTRAINT appointments_status_check;
ALTER TABLE appointments ADD CONSTRAINT appointments_status_check
    CHECK (status IN ('booked', 'pending', 'arrived', 'cancelled', 'completed', 'no_show'));
ALTER TABLE appointments ADD COLUMN cancel_reason TEXT CHECK (length(cancel_reason) <= 500);
ALTER TABLE appointments ADD COLUMN cancelled_by TEXT;
ALTER TABLE appointments ADD COLUMN cancelled_at_ns BIGINT;
ALTER TABLE appointments ADD COLUMN cancelled_from TEXT CHECK (cancelled_from IN ('booked', 'pending'));
