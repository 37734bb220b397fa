//! The email outbox: messages are written in the same transaction as the change they
//! announce (so a booking and its confirmation commit together), and a background
//! sender delivers them, retrying with backoff.

use serde::Serialize;

use crate::db::{Backend, Db, Exec, Tx, execute, rows};
use crate::error::Result;

/// A message waiting or sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Message {
    /// Row id; with `created_at_ns` it makes the email's `Message-ID`, so a copy
    /// delivered twice can be recognised.
    pub id: i64,
    /// The organisation whose mail it is (every message has one: migration 0033 keys
    /// the outbox by organisation).
    pub org_id: i64,
    /// The one recipient, trimmed and lower-cased when queued.
    pub to_address: String,
    pub subject: String,
    /// The body, plain text; the sender adds an HTML part showing the same text
    /// (`openslot_web::mail::compose`).
    pub body_text: String,
    /// An iCalendar attachment (`METHOD:REQUEST` or `CANCEL`), if any.
    pub ics: Option<String>,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When it is next due, ns since the Unix epoch: at first when queued, then after
    /// each failure's backoff; while `sending`, when it was claimed.
    pub next_attempt_at_ns: i64,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// When it was queued, ns since the Unix epoch.
    pub created_at_ns: i64,
    /// When it was handed over (to the SMTP server or the mailbox folder), ns since the
    /// Unix epoch; `None` until then.
    pub sent_at_ns: Option<i64>,
}

const COLUMNS: &str = "id, org_id, to_address, subject, body_text, ics, status, attempts, next_attempt_at_ns, \
    last_error, created_at_ns, sent_at_ns";

/// A message to queue.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// One address; stored trimmed and lower-cased.
    pub to: String,
    pub subject: String,
    /// Plain text; the sender adds its HTML alternative.
    pub body: String,
    /// An iCalendar document (`METHOD:REQUEST` or `CANCEL`), sent both as the
    /// invitation part calendar clients act on and as an `invite.ics` attachment.
    pub ics: Option<String>,
}

/// The most delivery attempts before a message is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;

/// Queues a message in the caller's transaction.
pub async fn enqueue(tx: &mut Tx, org: i64, message: &NewMessage, now_ns: i64) -> Result<i64> {
    let id = crate::db::scalar!(
        tx.exec(),
        i64,
        "INSERT INTO email_outbox (org_id, to_address, subject, body_text, ics, next_attempt_at_ns, created_at_ns) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        org,
        message.to.trim().to_lowercase(),
        &message.subject,
        &message.body,
        &message.ics,
        now_ns
    )?;
    Ok(id)
}

/// How long a claimed message stays the claimer's: after that it is taken to be lost
/// with its sender (a crash) and may be claimed again.
pub const CLAIM_NS: i64 = 600 * 1_000_000_000;

/// Claims the next message due at `now_ns` for sending (marks it `sending`), if any.
/// On PostgreSQL several servers may run senders: `SKIP LOCKED` gives each its own.
/// A message left `sending` for [`CLAIM_NS`] by a sender that crashed is claimed
/// again.
///
/// One message at a time: whatever a sender has claimed and not yet recorded waits
/// the whole [`CLAIM_NS`] if it dies, so it claims only the one it is sending.
pub async fn claim_next(db: &Db, now_ns: i64) -> Result<Option<Message>> {
    let stale = now_ns - CLAIM_NS;
    let mut tx = db.begin().await?;
    let lock = match tx.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    // A message a crashed sender left first (it has waited longest), then the next
    // pending one. Each is one ordered scan of `email_outbox_due` that stops at its
    // first row. One query over both (`… OR …`) is planned as a bitmap scan, which
    // visits every index entry of the status, live or not: every sent message leaves
    // dead `pending` and `sending` entries until vacuum, so after a busy minute each
    // claim read thousands of rows. An ordered scan marks the dead entries it passes,
    // and the next one skips them.
    let mut message = None;
    for (status, due) in [("sending", stale), ("pending", now_ns)] {
        let sql = format!(
            "/* fleet: the mail sender claims from every organisation's outbox */ \
             SELECT {COLUMNS} FROM email_outbox WHERE status = '{status}' AND next_attempt_at_ns <= $1 \
             ORDER BY next_attempt_at_ns, id LIMIT 1 {lock}"
        );
        message = rows!(tx.exec(), fetch_optional, Message, &sql, due)?;
        if message.is_some() {
            break;
        }
    }
    if let Some(m) = &message {
        execute!(
            tx.exec(),
            "/* fleet: the mail sender's claim, by the id it claimed (mail of no organisation too) */ \
             UPDATE email_outbox SET status = 'sending', next_attempt_at_ns = $2 WHERE id = $1",
            m.id,
            now_ns
        )?;
    }
    tx.commit().await?;
    Ok(message)
}

/// Marks a message delivered.
pub async fn mark_sent(db: &Db, id: i64, now_ns: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    execute!(
        tx.exec(),
        "/* fleet: the mail sender records a delivery by id (mail of no organisation too) */ \
         UPDATE email_outbox SET status = 'sent', attempts = attempts + 1, sent_at_ns = $2, last_error = NULL WHERE id = $1",
        id,
        now_ns
    )?;
    tx.commit().await?;
    Ok(())
}

/// Records a failed attempt: retried after an exponential backoff (30 s, 1 min, 2 min,
/// … capped at an hour), or marked failed after [`MAX_ATTEMPTS`].
pub async fn mark_failed(db: &Db, id: i64, error: &str, now_ns: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let attempts = crate::db::scalar!(
        tx.exec(),
        i64,
        "/* fleet: the mail sender records a failure by id (mail of no organisation too) */ \
         SELECT attempts FROM email_outbox WHERE id = $1",
        id
    )? + 1;
    let backoff_s = (30_i64 << (attempts - 1).min(7)).min(3_600);
    let status = if attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    };
    execute!(
        tx.exec(),
        "/* fleet: the mail sender records a failure by id (mail of no organisation too) */ \
         UPDATE email_outbox SET status = $2, attempts = $3, last_error = $4, next_attempt_at_ns = $5 WHERE id = $1",
        id,
        status,
        attempts,
        error.chars().take(1000).collect::<String>(),
        now_ns + backoff_s * 1_000_000_000
    )?;
    tx.commit().await?;
    Ok(())
}

/// The latest messages to an address, newest first (staff pages, tests).
pub async fn to_address(exec: Exec<'_>, address: &str, limit: i64) -> Result<Vec<Message>> {
    let sql = format!(
        "/* fleet: tests read the mail an address received, from any organisation */ \
         SELECT {COLUMNS} FROM email_outbox WHERE to_address = $1 ORDER BY id DESC LIMIT $2"
    );
    Ok(rows!(
        exec,
        fetch_all,
        Message,
        &sql,
        address.trim().to_lowercase(),
        limit
    )?)
}

/// What waits to be sent, across every organisation (for `/metrics`): email in the
/// outbox and webhook deliveries, pending or being sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Depth {
    /// Email messages not yet sent nor given up.
    pub emails: i64,
    /// When the oldest of them was queued, ns since the Unix epoch.
    pub oldest_email_ns: Option<i64>,
    /// Webhook deliveries not yet delivered nor given up.
    pub webhooks: i64,
    /// When the oldest of them was queued, ns since the Unix epoch.
    pub oldest_webhook_ns: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct DepthRow {
    outbox: String,
    waiting: i64,
    oldest_ns: Option<i64>,
}

/// Counts what waits in the email outbox and the webhook deliveries, in one
/// statement. It reads every organisation's rows on purpose (a server's queue is
/// everyone's), so it carries the marker that exempts it from the one-organisation
/// rule; both tables are indexed by `(status, next_attempt_at_ns)`.
pub async fn depth(db: &Db) -> Result<Depth> {
    let mut conn = db.conn().await?;
    let rows = rows!(
        conn.exec(),
        fetch_all,
        DepthRow,
        "/* fleet: metrics */ \
         SELECT 'email' AS outbox, COUNT(*) AS waiting, MIN(created_at_ns) AS oldest_ns \
         FROM email_outbox WHERE status IN ('pending', 'sending') \
         UNION ALL \
         SELECT 'webhook' AS outbox, COUNT(*) AS waiting, MIN(created_at_ns) AS oldest_ns \
         FROM webhook_deliveries WHERE status IN ('pending', 'sending')"
    )?;
    let mut depth = Depth::default();
    for row in rows {
        if row.outbox == "email" {
            (depth.emails, depth.oldest_email_ns) = (row.waiting, row.oldest_ns);
        } else {
            (depth.webhooks, depth.oldest_webhook_ns) = (row.waiting, row.oldest_ns);
        }
    }
    Ok(depth)
}
