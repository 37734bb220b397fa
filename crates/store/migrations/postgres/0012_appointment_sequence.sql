-- How many times an appointment has moved since it was booked: the SEQUENCE of the
-- calendar invitations about it, so a patient's calendar takes the newest one.
ALTER TABLE appointments ADD COLUMN sequence BIGINT NOT NULL DEFAULT 0;
