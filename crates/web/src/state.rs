//! What every handler shares: the database, the clock, the configuration, metrics.

use std::ops::Deref;
use std::sync::Arc;

use store::{Clock, Db};

use crate::config::Config;
use crate::limits::Limits;
use crate::metrics::Metrics;

/// The application's shared state (cheap to clone).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// The database.
    pub db: Db,
    /// Where "now" comes from (a fixed clock in tests).
    pub clock: Arc<dyn Clock>,
    /// How the server was configured.
    pub config: Config,
    /// Request and booking counters for `/metrics`.
    pub metrics: Metrics,
    /// Rate limits on sign-in, sign-up and forgot-password.
    pub limits: Limits,
    /// Wakes the email sender when a message was queued.
    pub mail_wakeup: tokio::sync::Notify,
}

impl AppState {
    /// State over a database, a clock and a configuration.
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: Config) -> Self {
        AppState(Arc::new(Inner {
            db,
            clock,
            config,
            metrics: Metrics::default(),
            limits: Limits::default(),
            mail_wakeup: tokio::sync::Notify::new(),
        }))
    }

    /// Tells the email sender that messages were queued (after the commit).
    pub fn mail_notify(&self) {
        self.mail_wakeup.notify_one();
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
