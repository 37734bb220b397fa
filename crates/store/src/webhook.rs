//! Webhook endpoints and their deliveries (issue 18).
//!
//! An admin registers endpoints (a name, a URL, the events subscribed, enabled or not,
//! whether bodies carry health details); each has a signing secret in the Standard
//! Webhooks form, `whsec_` and 32 random bytes in base64, shown once when made and
//! when rotated. A rotation keeps the previous secret for [`ROTATION_OVERLAP_NS`]
//! (24 hours), and the sender signs with both meanwhile, so a receiver can change its
//! secret without losing a message. Every change of an endpoint is audited
//! (`webhook.*`, entity `webhook_endpoint`), without the secret.
//!
//! The deliveries are an outbox, filled by [`crate::webhook_event::queue`] in the
//! transactions of the changes, and by [`replay`] and [`send_test`]. [`claim_next`]
//! hands the sender one delivery at a time, never one of an appointment while an
//! earlier one of the same endpoint and appointment is still pending or being sent,
//! so an appointment's events arrive in order however often an attempt fails; on
//! PostgreSQL several servers claim with `FOR UPDATE SKIP LOCKED`.

use base64::Engine;
use serde::Serialize;
use serde_json::json;

use crate::audit;
use crate::db::{Backend, Db, Exec, Tx, execute, rows, scalar, text_enum};
use crate::error::{Error, Result};
use crate::webhook_event::{self, Event};

/// How long the previous secret still signs after a rotation: 24 hours.
pub const ROTATION_OVERLAP_NS: i64 = 24 * 3600 * 1_000_000_000;

/// The most delivery attempts before a delivery is given up (marked failed).
pub const MAX_ATTEMPTS: i64 = 8;

/// How long a claimed delivery stays the claimer's before it is taken to be lost with
/// its server and claimed again (longer than the sender's 10 s timeout, by far).
pub const CLAIM_NS: i64 = 300 * 1_000_000_000;

/// The longest `name`, in characters.
pub const MAX_NAME: usize = 100;

/// The longest `url`, in bytes.
pub const MAX_URL: usize = 2000;

/// The wait before attempt `attempts + 1` after `attempts` failed ones, in seconds:
/// 30 s, 1 min, 2 min, … doubling, at most an hour.
pub fn backoff_s(attempts: i64) -> i64 {
    (30_i64 << (attempts - 1).clamp(0, 7)).min(3_600)
}

/// A registered endpoint, without its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Row id.
    pub id: i64,
    /// What the admin calls it.
    pub name: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The events it is sent, in [`Event::ALL`]'s order.
    pub events: Vec<Event>,
    /// Whether it is sent anything; a disabled endpoint's queued deliveries wait.
    pub enabled: bool,
    /// Whether bodies carry health details (service names, patient names, notes,
    /// cancellation reasons). Off unless the admin turns it on.
    pub include_health_details: bool,
    /// Until when the secret before the last rotation still signs, if it does.
    pub previous_secret_until_ns: Option<i64>,
    /// When it was registered.
    pub created_at_ns: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    name: String,
    url: String,
    events: String,
    enabled: bool,
    include_health_details: bool,
    previous_until_ns: Option<i64>,
    created_at_ns: i64,
}

impl From<EndpointRow> for Endpoint {
    fn from(r: EndpointRow) -> Self {
        Endpoint {
            id: r.id,
            name: r.name,
            url: r.url,
            events: Event::parse_list(&r.events),
            enabled: r.enabled,
            include_health_details: r.include_health_details,
            previous_secret_until_ns: r.previous_until_ns,
            created_at_ns: r.created_at_ns,
        }
    }
}

const ENDPOINT_COLUMNS: &str =
    "id, name, url, events, enabled, include_health_details, previous_until_ns, created_at_ns";

/// An endpoint as an admin saves it; [`EndpointInput::new`] checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointInput {
    name: String,
    url: url::Url,
    events: Vec<Event>,
    enabled: bool,
    include_health_details: bool,
}

impl EndpointInput {
    /// Checks an endpoint: a name (1 to [`MAX_NAME`] characters), an absolute `http`
    /// or `https` URL with a host and no user name or password (at most [`MAX_URL`]
    /// bytes), and at least one event. Which schemes and hosts the server accepts is
    /// the caller's policy (the web crate refuses plain http and private addresses
    /// unless the server allows them). Refused naming the field.
    pub fn new(
        name: &str,
        url: &str,
        events: Vec<Event>,
        enabled: bool,
        include_health_details: bool,
    ) -> Result<EndpointInput> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(Error::invalid(
                "name",
                format!("must be 1 to {MAX_NAME} characters"),
            ));
        }
        let url = parse_url(url)?;
        let events = Event::parse_list(&Event::list_text(&events));
        if events.is_empty() {
            return Err(Error::invalid("events", "choose at least one event"));
        }
        Ok(EndpointInput {
            name: name.to_owned(),
            url,
            events,
            enabled,
            include_health_details,
        })
    }

    /// The URL, parsed.
    pub fn url(&self) -> &url::Url {
        &self.url
    }
}

/// An endpoint's URL, parsed and checked (see [`EndpointInput::new`]).
pub fn parse_url(text: &str) -> Result<url::Url> {
    let text = text.trim();
    if text.len() > MAX_URL {
        return Err(Error::invalid(
            "url",
            format!("must be at most {MAX_URL} characters"),
        ));
    }
    let url = url::Url::parse(text)
        .map_err(|e| Error::invalid("url", format!("is not an address ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid("url", "must start with https://"));
    }
    if url.host().is_none() {
        return Err(Error::invalid("url", "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "url",
            "must not carry a user name or password",
        ));
    }
    if url.fragment().is_some() {
        return Err(Error::invalid("url", "must not have a #fragment"));
    }
    Ok(url)
}

/// A fresh signing secret: `whsec_` and 32 random bytes in standard base64.
fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::invalid("secret", format!("no random source: {e}")))?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

fn audit_details(input: &EndpointInput) -> serde_json::Value {
    json!({
        "name": input.name,
        "url": input.url.as_str(),
        "events": Event::list_text(&input.events),
        "enabled": input.enabled,
        "include_health_details": input.include_health_details,
    })
}

fn endpoint_details(e: &Endpoint) -> serde_json::Value {
    json!({
        "name": e.name,
        "url": e.url,
        "events": Event::list_text(&e.events),
        "enabled": e.enabled,
        "include_health_details": e.include_health_details,
    })
}

/// The organisation's endpoints, oldest first.
pub async fn list(exec: Exec<'_>, org: i64) -> Result<Vec<Endpoint>> {
    let sql =
        format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 ORDER BY id");
    Ok(rows!(exec, fetch_all, EndpointRow, &sql, org)?
        .into_iter()
        .map(Endpoint::from)
        .collect())
}

/// One endpoint of the organisation; another organisation's is not found.
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<Endpoint> {
    let sql =
        format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2");
    rows!(exec, fetch_optional, EndpointRow, &sql, org, id)?
        .map(Endpoint::from)
        .ok_or(Error::NotFound("webhook endpoint"))
}

/// Registers an endpoint; answers it with its secret, which is shown this once.
pub async fn create(
    tx: &mut Tx,
    org: i64,
    input: &EndpointInput,
    actor: &str,
    now_ns: i64,
) -> Result<(Endpoint, String)> {
    let endpoints = scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM webhook_endpoints WHERE org_id = $1",
        org
    )?;
    if endpoints >= MAX_ENDPOINTS {
        return Err(Error::invalid(
            "url",
            format!("an organisation has at most {MAX_ENDPOINTS} endpoints; delete one first"),
        ));
    }
    let secret = new_secret()?;
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO webhook_endpoints (org_id, name, url, events, enabled, include_health_details, \
         secret, created_at_ns, updated_at_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        org,
        &input.name,
        input.url.as_str(),
        Event::list_text(&input.events),
        input.enabled,
        input.include_health_details,
        &secret,
        now_ns
    )?;
    audit::record(
        tx,
        org,
        actor,
        "webhook.create",
        "webhook_endpoint",
        Some(id),
        audit_details(input),
        now_ns,
    )
    .await?;
    Ok((get(tx.exec(), org, id).await?, secret))
}

/// Changes an endpoint (not its secret: see [`rotate_secret`]).
pub async fn update(
    tx: &mut Tx,
    org: i64,
    id: i64,
    input: &EndpointInput,
    actor: &str,
    now_ns: i64,
) -> Result<Endpoint> {
    let before = get(tx.exec(), org, id).await?;
    execute!(
        tx.exec(),
        "UPDATE webhook_endpoints SET name = $3, url = $4, events = $5, enabled = $6, \
         include_health_details = $7, updated_at_ns = $8 WHERE org_id = $1 AND id = $2",
        org,
        id,
        &input.name,
        input.url.as_str(),
        Event::list_text(&input.events),
        input.enabled,
        input.include_health_details,
        now_ns
    )?;
    let mut details = audit_details(input);
    details["before"] = endpoint_details(&before);
    audit::record(
        tx,
        org,
        actor,
        "webhook.update",
        "webhook_endpoint",
        Some(id),
        details,
        now_ns,
    )
    .await?;
    get(tx.exec(), org, id).await
}

/// Deletes an endpoint with its deliveries.
pub async fn delete(tx: &mut Tx, org: i64, id: i64, actor: &str, now_ns: i64) -> Result<()> {
    let before = get(tx.exec(), org, id).await?;
    execute!(
        tx.exec(),
        "DELETE FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2",
        org,
        id
    )?;
    execute!(
        tx.exec(),
        "DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2",
        org,
        id
    )?;
    audit::record(
        tx,
        org,
        actor,
        "webhook.delete",
        "webhook_endpoint",
        Some(id),
        endpoint_details(&before),
        now_ns,
    )
    .await
}

/// Gives an endpoint a new secret, answered to be shown this once. The previous one
/// keeps signing beside it for [`ROTATION_OVERLAP_NS`]; a rotation within that time
/// drops the one before.
pub async fn rotate_secret(
    tx: &mut Tx,
    org: i64,
    id: i64,
    actor: &str,
    now_ns: i64,
) -> Result<String> {
    let endpoint = get(tx.exec(), org, id).await?;
    let secret = new_secret()?;
    execute!(
        tx.exec(),
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_until_ns = $3, secret = $4, \
         updated_at_ns = $5 WHERE org_id = $1 AND id = $2",
        org,
        id,
        now_ns + ROTATION_OVERLAP_NS,
        &secret,
        now_ns
    )?;
    audit::record(
        tx,
        org,
        actor,
        "webhook.rotate_secret",
        "webhook_endpoint",
        Some(id),
        json!({ "name": endpoint.name, "previous_until_ns": now_ns + ROTATION_OVERLAP_NS }),
        now_ns,
    )
    .await?;
    Ok(secret)
}

text_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus for "status" {
        /// Waiting for its next attempt (the first, or a retry after a failure).
        Pending = "pending",
        /// Claimed by a sender, which is posting it.
        Sending = "sending",
        /// The endpoint answered 2xx.
        Delivered = "delivered",
        /// Given up after [`MAX_ATTEMPTS`] attempts.
        Failed = "failed",
    }
}

/// One delivery of one message to one endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Delivery {
    /// Row id; a replay is a new row with the same `message_id`.
    pub id: i64,
    /// The endpoint.
    pub endpoint_id: i64,
    /// The `webhook-id` header: the same on every attempt and on a replay.
    pub message_id: String,
    /// The event's type: `appointment.booked`, …, or `webhook.test`.
    pub event_type: String,
    /// The appointment an appointment event is about (the ordering key).
    pub appointment_id: Option<i64>,
    /// The body as built when the event happened.
    pub payload: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// When it is next due; while `sending`, when it was claimed.
    pub next_attempt_at_ns: i64,
    /// When it was last attempted.
    pub last_attempt_at_ns: Option<i64>,
    /// The HTTP status of the last answer, if there was one.
    pub response_status: Option<i64>,
    /// The first bytes of the last answer's body.
    pub response_excerpt: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at_ns: i64,
    /// When the endpoint took it.
    pub delivered_at_ns: Option<i64>,
}

const DELIVERY_COLUMNS: &str = "d.id, d.endpoint_id, d.message_id, d.event_type, d.appointment_id, \
    d.payload, d.status, d.attempts, d.next_attempt_at_ns, d.last_attempt_at_ns, d.response_status, \
    d.response_excerpt, d.last_error, d.created_at_ns, d.delivered_at_ns";

/// A claimed delivery and its organisation, as the claim reads them.
#[derive(sqlx::FromRow)]
struct ClaimRow {
    #[sqlx(flatten)]
    delivery: Delivery,
    org_id: i64,
}

/// A delivery a sender claimed, with what it needs to post it.
#[derive(Clone, Debug)]
pub struct Claimed {
    /// The organisation whose delivery it is, which [`record_attempt`] takes.
    pub org_id: i64,
    /// The delivery (its `attempts` not yet counting this one).
    pub delivery: Delivery,
    /// The endpoint's URL.
    pub url: String,
    /// The secrets to sign with: the current one, and the previous one while it
    /// still signs after a rotation.
    pub secrets: Vec<String>,
}

/// How many endpoints an organisation may have.
pub const MAX_ENDPOINTS: i64 = 20;

/// How many deliveries of one organisation are posted at once, at most.
pub const PER_ORGANISATION: i64 = 4;

/// Claims the next delivery due at `now_ns` (marks it `sending`), if any: the
/// earliest due of an enabled endpoint that no earlier delivery of the same endpoint
/// and appointment is waiting before (pending, or being sent), of an endpoint with no
/// other delivery being sent, of an organisation with fewer than [`PER_ORGANISATION`]
/// being sent: several senders (and servers) post at once, and a slow endpoint holds
/// up only itself, an organisation with many slow endpoints only itself. A delivery
/// left `sending` for [`CLAIM_NS`] by a server that died is claimed again.
pub async fn claim_next(db: &Db, now_ns: i64) -> Result<Option<Claimed>> {
    let stale = now_ns - CLAIM_NS;
    let mut tx = db.begin().await?;
    let lock = match tx.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => "FOR UPDATE OF d SKIP LOCKED",
    };
    let sql = format!(
        "/* fleet: the webhook sender claims from every organisation's deliveries */ \
         SELECT {DELIVERY_COLUMNS}, d.org_id FROM webhook_deliveries d \
         JOIN webhook_endpoints w ON w.org_id = d.org_id AND w.id = d.endpoint_id AND w.enabled \
         WHERE ((d.status = 'pending' AND d.next_attempt_at_ns <= $1) \
                OR (d.status = 'sending' AND d.next_attempt_at_ns <= $2)) \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                WHERE e.org_id = d.org_id AND e.endpoint_id = d.endpoint_id AND e.appointment_id = d.appointment_id \
                  AND e.id < d.id AND e.status IN ('pending', 'sending')) \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries f \
                WHERE f.org_id = d.org_id AND f.endpoint_id = d.endpoint_id AND f.id <> d.id \
                  AND f.status = 'sending' AND f.next_attempt_at_ns > $2) \
           AND (SELECT COUNT(*) FROM webhook_deliveries g \
                WHERE g.org_id = d.org_id AND g.status = 'sending' \
                  AND g.next_attempt_at_ns > $2) < {PER_ORGANISATION} \
         ORDER BY d.next_attempt_at_ns, d.id LIMIT 1 {lock}"
    );
    let Some(ClaimRow {
        delivery,
        org_id: org,
    }) = rows!(tx.exec(), fetch_optional, ClaimRow, &sql, now_ns, stale)?
    else {
        tx.commit().await?;
        return Ok(None);
    };
    execute!(
        tx.exec(),
        "UPDATE webhook_deliveries SET status = 'sending', next_attempt_at_ns = $3 WHERE org_id = $1 AND id = $2",
        org,
        delivery.id,
        now_ns
    )?;
    let (url, secret, previous, until) = rows!(
        tx.exec(),
        fetch_one,
        (String, String, Option<String>, Option<i64>),
        "SELECT url, secret, previous_secret, previous_until_ns FROM webhook_endpoints WHERE org_id = $1 AND id = $2",
        org,
        delivery.endpoint_id
    )?;
    tx.commit().await?;
    let mut secrets = vec![secret];
    if let (Some(previous), Some(until)) = (previous, until)
        && until > now_ns
    {
        secrets.push(previous);
    }
    Ok(Some(Claimed {
        org_id: org,
        delivery,
        url,
        secrets,
    }))
}

/// What one attempt got back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attempt {
    /// The HTTP status, if the endpoint answered.
    pub status: Option<i64>,
    /// The first bytes of the answer's body.
    pub excerpt: Option<String>,
    /// Why it failed; `None` when it was delivered.
    pub error: Option<String>,
}

/// Records an attempt on a claimed delivery: delivered, or retried after
/// [`backoff_s`], or given up after [`MAX_ATTEMPTS`]. Answers the delivery's new status.
pub async fn record_attempt(
    db: &Db,
    org: i64,
    id: i64,
    attempt: &Attempt,
    now_ns: i64,
) -> Result<DeliveryStatus> {
    let mut tx = db.begin().await?;
    let attempts = scalar!(
        tx.exec(),
        i64,
        "SELECT attempts FROM webhook_deliveries WHERE org_id = $1 AND id = $2",
        org,
        id
    )? + 1;
    let (status, next, delivered) = match &attempt.error {
        None => (DeliveryStatus::Delivered, now_ns, Some(now_ns)),
        Some(_) if attempts >= MAX_ATTEMPTS => (DeliveryStatus::Failed, now_ns, None),
        Some(_) => (
            DeliveryStatus::Pending,
            now_ns + backoff_s(attempts) * 1_000_000_000,
            None,
        ),
    };
    let clip =
        |s: &Option<String>, n: usize| s.as_ref().map(|s| s.chars().take(n).collect::<String>());
    execute!(
        tx.exec(),
        "UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at_ns = $4, \
         last_attempt_at_ns = $5, response_status = $6, response_excerpt = $7, last_error = $8, \
         delivered_at_ns = $9 WHERE org_id = $10 AND id = $1",
        id,
        status.as_str(),
        attempts,
        next,
        now_ns,
        attempt.status,
        clip(&attempt.excerpt, 200),
        clip(&attempt.error, 500),
        delivered,
        org
    )?;
    tx.commit().await?;
    Ok(status)
}

/// A page of an endpoint's deliveries, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryPage {
    /// The deliveries, newest first.
    pub deliveries: Vec<Delivery>,
    /// The `before` of the next, older page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// The most deliveries one [`deliveries`] page holds.
pub const MAX_PAGE: i64 = 100;

/// An endpoint's deliveries, newest first, `limit` (1 ..= [`MAX_PAGE`]) at a time;
/// `before` reads the page after the one whose [`DeliveryPage::next_before`] it is.
pub async fn deliveries(
    exec: Exec<'_>,
    org: i64,
    endpoint: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<DeliveryPage> {
    let limit = limit.clamp(1, MAX_PAGE);
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
         WHERE d.org_id = $1 AND d.endpoint_id = $2 AND d.id < $3 ORDER BY d.id DESC LIMIT $4"
    );
    let mut deliveries = rows!(
        exec,
        fetch_all,
        Delivery,
        &sql,
        org,
        endpoint,
        before.unwrap_or(i64::MAX),
        limit + 1
    )?;
    let next_before = if deliveries.len() as i64 > limit {
        deliveries.truncate(limit as usize);
        deliveries.last().map(|d| d.id)
    } else {
        None
    };
    Ok(DeliveryPage {
        deliveries,
        next_before,
    })
}

/// One delivery of the organisation's endpoint; any other is not found.
pub async fn delivery(exec: Exec<'_>, org: i64, endpoint: i64, id: i64) -> Result<Delivery> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
         WHERE d.org_id = $1 AND d.endpoint_id = $2 AND d.id = $3"
    );
    rows!(exec, fetch_optional, Delivery, &sql, org, endpoint, id)?
        .ok_or(Error::NotFound("webhook delivery"))
}

/// Queues a delivery's message again, as a new delivery with the same body and the
/// same `webhook-id` (Standard Webhooks: a replay is the same message, which a
/// receiver that de-duplicates by id takes once). Answers the new delivery's id.
pub async fn replay(
    tx: &mut Tx,
    org: i64,
    endpoint: i64,
    id: i64,
    actor: &str,
    now_ns: i64,
) -> Result<i64> {
    let original = delivery(tx.exec(), org, endpoint, id).await?;
    let new = webhook_event::insert(
        tx,
        org,
        endpoint,
        &original.message_id,
        &original.event_type,
        original.appointment_id,
        &original.payload,
        now_ns,
    )
    .await?;
    audit::record(
        tx,
        org,
        actor,
        "webhook.replay",
        "webhook_endpoint",
        Some(endpoint),
        json!({ "delivery_id": id, "message_id": original.message_id, "event": original.event_type }),
        now_ns,
    )
    .await?;
    Ok(new)
}

/// Queues a `webhook.test` message to an endpoint (enabled or not: it waits for the
/// endpoint to be enabled). Answers the delivery's id.
pub async fn send_test(
    tx: &mut Tx,
    org: i64,
    endpoint: i64,
    actor: &str,
    now_ns: i64,
) -> Result<i64> {
    let e = get(tx.exec(), org, endpoint).await?;
    let slug = scalar!(
        tx.exec(),
        String,
        "SELECT slug FROM organisations WHERE id = $1",
        org
    )?;
    let body = json!({
        "type": webhook_event::TEST_EVENT,
        "timestamp": webhook_event::rfc3339(now_ns),
        "data": { "organisation": slug, "endpoint_id": e.id },
    })
    .to_string();
    let message_id = webhook_event::message_id()?;
    let id = webhook_event::insert(
        tx,
        org,
        endpoint,
        &message_id,
        webhook_event::TEST_EVENT,
        None,
        &body,
        now_ns,
    )
    .await?;
    audit::record(
        tx,
        org,
        actor,
        "webhook.test",
        "webhook_endpoint",
        Some(endpoint),
        json!({ "name": e.name, "message_id": message_id }),
        now_ns,
    )
    .await?;
    Ok(id)
}
