//! The background sender: claims the messages that are due, sends each, and records
//! the outcome; a failed attempt is retried after the store's backoff
//! ([`store::outbox::mark_failed`]) until [`store::outbox::MAX_ATTEMPTS`].
//!
//! It wakes every [`POLL`] — which also picks up retries as they fall due and messages
//! queued by other server instances — or at once when [`super::MailHandle::notify`]
//! is called.

use std::sync::Arc;
use std::time::Duration;

use store::outbox::{self, MAX_ATTEMPTS};
use store::{Clock, Db};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{MailHandle, Mailer};

/// How often the sender looks for due messages when nobody wakes it.
pub const POLL: Duration = Duration::from_secs(2);

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Messages handed over (to the SMTP server or the mailbox) and marked sent.
    pub sent: usize,
    /// Attempts that failed (to be retried, or given up after the last attempt).
    pub failed: usize,
}

/// Delivers every message due now: claims one, sends it, records the outcome, and
/// claims again until nothing is due. Claiming one at a time means that a server
/// killed mid-send leaves only that message waiting for the store's reclaim
/// ([`outbox::CLAIM_NS`]); the others go out at once from another server, or this
/// one restarted. Fails only if the database does.
pub async fn deliver_due(
    db: &Db,
    clock: &dyn Clock,
    mailer: &Mailer,
) -> Result<Pass, store::Error> {
    let mut pass = Pass::default();
    while let Some(message) = outbox::claim_next(db, clock.now_ns()).await? {
        let attempt = message.attempts + 1;
        match mailer.send(&message, clock.now_ns()).await {
            Ok(()) => {
                outbox::mark_sent(db, message.id, clock.now_ns()).await?;
                pass.sent += 1;
                tracing::info!(outbox_id = message.id, attempt, "email sent");
            }
            Err(e) => {
                let error = e.to_string();
                outbox::mark_failed(db, message.id, &error, clock.now_ns()).await?;
                pass.failed += 1;
                if attempt >= MAX_ATTEMPTS {
                    tracing::error!(outbox_id = message.id, attempt, %error, "email failed for good");
                } else {
                    tracing::warn!(outbox_id = message.id, attempt, %error, "email failed; will retry");
                }
            }
        }
    }
    Ok(pass)
}

/// The running sender; dropping it stops the sender too, after its current pass.
#[derive(Debug)]
pub struct Sender {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Starts the sender on a database and clock, woken by `wake` (the server's is
/// [`crate::state::Inner::mail`]) and otherwise every [`POLL`].
pub fn spawn(db: Db, clock: Arc<dyn Clock>, wake: MailHandle, mailer: Mailer) -> Sender {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(db, clock, wake, mailer, stopped));
    Sender { stop, task }
}

impl Sender {
    /// Stops the sender, letting the message it is sending finish for up to `grace`.
    /// A message cut off after that stays claimed and is sent again after the store's
    /// [`outbox::CLAIM_NS`] (so it may arrive twice, with the same `Message-ID`).
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            tracing::warn!("the email sender did not finish in time; stopping it");
            self.task.abort();
        }
    }
}

async fn run(
    db: Db,
    clock: Arc<dyn Clock>,
    wake: MailHandle,
    mailer: Mailer,
    mut stopped: watch::Receiver<bool>,
) {
    tracing::info!(transport = %mailer.describe(), "email sender started");
    loop {
        if let Err(e) = deliver_due(&db, clock.as_ref(), &mailer).await {
            tracing::warn!(error = %e, "email sender: database error; trying again soon");
        }
        tokio::select! {
            // Asked to stop, or the [`Sender`] was dropped: either way, stop.
            changed = stopped.changed() => {
                if changed.is_err() || *stopped.borrow() {
                    break;
                }
            }
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
    mailer.shutdown().await;
    tracing::info!("email sender stopped");
}
