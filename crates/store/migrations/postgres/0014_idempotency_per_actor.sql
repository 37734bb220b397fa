-- An idempotency key belongs to whoever sent it (`created_by`: `patient:12`,
-- `staff:3`), not to the whole organisation: another person's key books anew instead
-- of telling them that the key was used. `idempotency_request` is a hash of the
-- request the key first came with, so the same key with a different request is
-- refused instead of answered with the first booking.
ALTER TABLE appointments DROP CONSTRAINT appointments_org_id_idempotency_key_key;
ALTER TABLE appointments ADD COLUMN idempotency_request TEXT;
CREATE UNIQUE INDEX appointments_idempotency ON appointments (org_id, created_by, idempotency_key);
