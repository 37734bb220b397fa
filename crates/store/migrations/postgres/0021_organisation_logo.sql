-- The clinic's logo in every page's header (issue 14). The image sits in its own table so
-- that reading an organisation (every request does) never reads it; the organisation
-- keeps only its version, which the pages put in the logo's address so that a browser
-- may cache it for good and still sees a new one at once.
ALTER TABLE organisations ADD COLUMN logo_version TEXT;
CREATE TABLE organisation_logos (
    org_id BIGINT PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    updated_at_ns BIGINT NOT NULL
);
