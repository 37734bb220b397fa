//! The background webhook sender: claims the deliveries that are due, posts each,
//! signed, and records the outcome; a failed attempt is retried after the store's
//! backoff ([`store::webhook::backoff_s`]) until [`store::webhook::MAX_ATTEMPTS`].
//! At least once: a server that dies mid-post leaves its delivery claimed, and it is
//! posted again after [`store::webhook::CLAIM_NS`], with the same `webhook-id`.
//!
//! Every `openslot serve` runs one. It wakes every [`POLL`] (which picks up retries,
//! and events queued by other servers) or at once when [`WebhookHandle::notify`] is
//! called (the server does after every request that may change something).

use std::sync::Arc;
use std::time::Duration;

use store::webhook::{self, Attempt, Claimed, DeliveryStatus};
use store::{Clock, Db};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::WebhookClient;

/// How many deliveries the sender posts at once.
const WORKERS: usize = 8;

/// How often the sender looks for due deliveries when nobody wakes it.
pub const POLL: Duration = Duration::from_secs(2);

/// Wakes the sender (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct WebhookHandle(Arc<Notify>);

impl WebhookHandle {
    /// Asks the sender to look for due deliveries now.
    pub fn notify(&self) {
        self.0.notify_one();
    }

    async fn notified(&self) {
        self.0.notified().await;
    }
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Deliveries the endpoints took (2xx).
    pub delivered: usize,
    /// Attempts that failed and will be retried.
    pub retrying: usize,
    /// Deliveries given up after their last attempt.
    pub failed: usize,
}

/// Posts one claimed delivery: the body as stored, with the Standard Webhooks headers
/// signed now (the timestamp is the attempt's, as receivers check it against their
/// clock). Any 2xx is delivered; anything else, or no answer, is an error.
pub async fn post(client: &WebhookClient, claimed: &Claimed, now_s: i64) -> Attempt {
    let d = &claimed.delivery;
    let headers = [
        ("webhook-id", d.message_id.clone()),
        ("webhook-timestamp", now_s.to_string()),
        (
            "webhook-signature",
            super::sign(&claimed.secrets, &d.message_id, now_s, &d.payload),
        ),
    ];
    match client.post(&claimed.url, &headers, &d.payload).await {
        Ok(answer) => Attempt {
            status: Some(i64::from(answer.status)),
            error: (!(200..300).contains(&answer.status))
                .then(|| format!("the endpoint answered {}", answer.status)),
            excerpt: (!answer.excerpt.is_empty()).then_some(answer.excerpt),
        },
        Err(error) => Attempt {
            status: None,
            excerpt: None,
            error: Some(error),
        },
    }
}

/// Delivers every delivery due now, one claim at a time (so a server killed mid-post
/// leaves only that one for the reclaim). Fails only if the database does.
pub async fn deliver_due(
    db: &Db,
    clock: &dyn Clock,
    client: &WebhookClient,
) -> Result<Pass, store::Error> {
    let mut pass = Pass::default();
    while let Some(claimed) = webhook::claim_next(db, clock.now_ns()).await? {
        let now_s = clock.now_ns().div_euclid(1_000_000_000);
        let attempt = post(client, &claimed, now_s).await;
        let id = claimed.delivery.id;
        match webhook::record_attempt(db, claimed.org_id, id, &attempt, clock.now_ns()).await? {
            DeliveryStatus::Delivered => {
                pass.delivered += 1;
                tracing::info!(delivery_id = id, "webhook delivered");
            }
            DeliveryStatus::Failed => {
                pass.failed += 1;
                tracing::error!(delivery_id = id, error = ?attempt.error, "webhook failed for good");
            }
            _ => {
                pass.retrying += 1;
                tracing::warn!(delivery_id = id, error = ?attempt.error, "webhook failed; will retry");
            }
        }
    }
    Ok(pass)
}

/// The running sender; dropping it stops it too, after its current pass.
#[derive(Debug)]
pub struct Sender {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts the sender, woken by `wake` and otherwise every [`POLL`].
///
/// [`WORKERS`] workers post at once, each claiming, posting and recording in turn; the
/// claims keep one endpoint to one post at a time and an organisation to a few
/// (`store::webhook::claim_next`), so a slow receiver holds up only itself.
pub fn spawn(db: Db, clock: Arc<dyn Clock>, wake: WebhookHandle, client: WebhookClient) -> Sender {
    let (stop, stopped) = watch::channel(false);
    tracing::info!(workers = WORKERS, "webhook sender started");
    let tasks = (0..WORKERS)
        .map(|_| {
            tokio::spawn(run(
                db.clone(),
                clock.clone(),
                wake.clone(),
                client.clone(),
                stopped.clone(),
            ))
        })
        .collect();
    Sender { stop, tasks }
}

impl Sender {
    /// Stops the sender, letting the delivery it is posting finish for up to `grace`.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        for task in &mut self.tasks {
            if tokio::time::timeout_at(deadline, &mut *task).await.is_err() {
                tracing::warn!("the webhook sender did not finish in time; stopping it");
                task.abort();
            }
        }
    }
}

async fn run(
    db: Db,
    clock: Arc<dyn Clock>,
    wake: WebhookHandle,
    client: WebhookClient,
    mut stopped: watch::Receiver<bool>,
) {
    tracing::debug!("webhook sender worker started");
    loop {
        if let Err(e) = deliver_due(&db, clock.as_ref(), &client).await {
            tracing::warn!(error = %e, "webhook sender: database error; trying again soon");
        }
        tokio::select! {
            changed = stopped.changed() => {
                if changed.is_err() || *stopped.borrow() {
                    break;
                }
            }
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
    tracing::debug!("webhook sender worker stopped");
}
