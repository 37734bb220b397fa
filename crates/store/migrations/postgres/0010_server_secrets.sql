-- Secrets every server instance must share (e.g. the key that signs CAPTCHA
-- challenges): created once, at random, by the first instance that needs them.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
