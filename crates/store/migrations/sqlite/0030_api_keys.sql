-- Issue 18: API keys, for other systems (an EHR, a website, automations) to use the
-- JSON API and FHIR without a browser session.
--
-- A key is 32 random bytes shown once to the admin who makes it; only its SHA-256 is
-- kept, with a short prefix of the token to tell keys apart in lists. Scopes are
-- space-separated names (store::api_key::Scope). A revoked key keeps its row, so the
-- audit log can still name it; it never authenticates again.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_prefix TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ns INTEGER NOT NULL,
    last_used_at_ns INTEGER,
    revoked_at_ns INTEGER,
    revoked_by TEXT,
    CONSTRAINT api_keys_org_id_id UNIQUE (org_id, id)
);
CREATE INDEX api_keys_org ON api_keys (org_id, id);
-- One live key per name in an organisation; a revoked key's name may be used again.
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (org_id, lower(name)) WHERE revoked_at_ns IS NULL;
