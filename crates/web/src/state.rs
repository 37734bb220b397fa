//! What every handler shares: the database, the clock, the configuration, metrics, and
//! the email sender's wake-up.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use store::{Clock, Db};

use crate::config::Config;
use crate::limits::Limits;
use crate::mail::MailHandle;
use crate::metrics::Metrics;

/// The application's shared state (cheap to clone).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// The database: [`Db::conn`] for reads, [`Db::begin`] for a transaction that
    /// writes. It tells [`Inner::metrics`] how long each waited for its connection.
    pub db: Db,
    /// Where "now" comes from (a fixed clock in tests).
    pub clock: Arc<dyn Clock>,
    /// How the server was configured.
    pub config: Config,
    /// What `/metrics` shows: this server's recorder.
    pub metrics: Metrics,
    /// Rate limits on sign-in, sign-up and forgot-password.
    pub limits: Limits,
    /// Wakes the background email sender: call [`MailHandle::notify`] after committing
    /// a transaction that queued email with [`store::outbox::enqueue`].
    pub mail: MailHandle,
    /// Work handlers start without waiting for it.
    pub jobs: Jobs,
    /// Wakes the background webhook sender; the server calls it after every request
    /// that may have queued an event (`app`).
    pub webhooks: crate::webhooks::sender::WebhookHandle,
    /// When this server last wrote each API key's "last used" (ns), so that it writes
    /// at most once a minute per key.
    pub key_uses: std::sync::Mutex<std::collections::HashMap<i64, i64>>,
}

/// Work a handler starts and does not wait for, so that its answer takes the same time
/// whatever that work finds (forgot-password and sign-up look the address up only
/// after answering). Failures are logged. [`Jobs::idle`] waits until none is running.
#[derive(Clone, Debug, Default)]
pub struct Jobs(Arc<JobCount>);

#[derive(Debug, Default)]
struct JobCount {
    running: AtomicUsize,
    finished: tokio::sync::Notify,
}

/// Counts a job as finished when dropped (also when it panics).
struct Finished(Arc<JobCount>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
        self.0.finished.notify_waiters();
    }
}

impl Jobs {
    /// Runs `job` on the runtime; `what` names it in the log if it fails.
    pub fn spawn<E: std::fmt::Debug>(
        &self,
        what: &'static str,
        job: impl Future<Output = Result<(), E>> + Send + 'static,
    ) {
        self.0.running.fetch_add(1, Ordering::SeqCst);
        let finished = Finished(self.0.clone());
        tokio::spawn(async move {
            let _finished = finished;
            if let Err(e) = job.await {
                tracing::error!(error = ?e, job = what, "background job failed");
            }
        });
    }

    /// Waits until no job is running.
    pub async fn idle(&self) {
        loop {
            let finished = self.0.finished.notified();
            if self.0.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            finished.await;
        }
    }
}

impl AppState {
    /// State over a database, a clock and a configuration.
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: Config) -> Self {
        AppState::with_limits(db, clock, config, Limits::default())
    }

    /// The same with other rate limits (measurements that make many attempts on
    /// purpose, such as `examples/enumeration_timing.rs`).
    pub fn with_limits(db: Db, clock: Arc<dyn Clock>, config: Config, limits: Limits) -> Self {
        let metrics = Metrics::new();
        AppState(Arc::new(Inner {
            db: db.observed(metrics.acquire_observer()),
            clock,
            config,
            metrics,
            limits,
            mail: MailHandle::default(),
            jobs: Jobs::default(),
            webhooks: Default::default(),
            key_uses: Default::default(),
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
