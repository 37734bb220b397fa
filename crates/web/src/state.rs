//! What every handler shares: the database, the clock, the configuration, metrics, and
//! the email sender's wake-up.

use std::ops::Deref;
use std::sync::Arc;

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
    /// Wakes the background email sender: call [`MailHandle::notify`] after committing
    /// a transaction that queued email with [`store::outbox::enqueue`].
    pub mail: MailHandle,
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
            mail: MailHandle::default(),
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
