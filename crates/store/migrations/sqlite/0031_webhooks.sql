-- Issue 18: webhooks. An admin registers endpoints; every audited change that is one of
-- the webhook events queues one delivery per enabled endpoint subscribed to it, in the
-- change's own transaction (store::webhook_event), and a background sender in every
-- server delivers them (openslot_web::webhooks).
--
-- The signing secret is kept as given (`whsec_…`): signing needs it, so it cannot be
-- hashed. After a rotation the previous secret signs too until `previous_until_ns`.
-- `events` is the subscribed event types, comma-separated.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    url TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    events TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    include_health_details BOOLEAN NOT NULL DEFAULT FALSE,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until_ns INTEGER,
    created_at_ns INTEGER NOT NULL,
    updated_at_ns INTEGER NOT NULL,
    UNIQUE (org_id, id)
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, enabled);

-- The outbox. `message_id` is the `webhook-id` header, the same on every attempt and
-- on a replay; `payload` is the body as built when the event happened, so a later
-- change never rewrites what an event said. `appointment_id` is the ordering key (no
-- reference: a waitlist hold's appointment may be deleted, its events stay).
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    appointment_id INTEGER,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ns INTEGER NOT NULL,
    last_attempt_at_ns INTEGER,
    response_status INTEGER,
    response_excerpt TEXT,
    last_error TEXT,
    created_at_ns INTEGER NOT NULL,
    delivered_at_ns INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at_ns);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, appointment_id, id);
CREATE TRIGGER webhook_deliveries_endpoint_id_same_org_insert BEFORE INSERT ON webhook_deliveries WHEN NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = NEW.endpoint_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: webhook_deliveries.endpoint_id'); END;
CREATE TRIGGER webhook_deliveries_endpoint_id_same_org_update BEFORE UPDATE OF org_id, endpoint_id ON webhook_deliveries WHEN NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = NEW.endpoint_id AND org_id = NEW.org_id)
BEGIN SELECT RAISE(ABORT, 'cross-organisation reference: webhook_deliveries.endpoint_id'); END;
