//! Email: the transactional outbox's other half. Code that has something to say
//! queues a message with [`store::outbox::enqueue`] in the same transaction as the change
//! it announces, so a booking and its confirmation commit (or roll back) together; the
//! background [`sender`] then delivers what is due through a [`Mailer`], retrying
//! failures with the store's backoff.
//!
//! To send an email, with a calendar invitation if it is about an appointment:
//!
//! ```no_run
//! # async fn example(state: openslot_web::state::AppState, org: i64,
//! #     details: openslot_web::ics::IcsAppointment) -> Result<(), store::Error> {
//! use openslot_web::ics::{self, IcsMethod};
//! use store::Clock;
//! use store::outbox::{self, NewMessage};
//!
//! let mut tx = state.db.begin().await?;
//! // … the booking itself, in `tx` …
//! let message = NewMessage {
//!     to: details.patient_email.clone(),
//!     subject: "Your appointment is booked".into(),
//!     body: "See you on Monday.\n".into(),
//!     ics: Some(ics::appointment(&details, IcsMethod::Request)),
//! };
//! outbox::enqueue(&mut tx, org, &message, state.clock.now_ns()).await?;
//! tx.commit().await?;
//! // Wake the sender so the email goes now rather than at its next poll.
//! state.mail.notify();
//! # Ok(()) }
//! ```
//!
//! - [`compose`]: an outbox row as a MIME message (plain text, and the invitation as
//!   a `text/calendar` alternative plus an `invite.ics` attachment).
//! - [`transport`]: [`Mailer`], over SMTP or into a mailbox folder.
//! - [`sender`]: the background task, and [`sender::deliver_due`], one pass of it.

pub(crate) mod compose;
pub mod sender;
pub(crate) mod transport;

use std::fmt;
use std::sync::Arc;

use tokio::sync::Notify;

pub use transport::Mailer;

/// How handlers reach the background sender: [`MailHandle::notify`] after committing a
/// transaction that queued email (cheap to clone; in [`crate::state::AppState`]).
#[derive(Clone, Debug, Default)]
pub struct MailHandle {
    wake: Arc<Notify>,
    /// The waitlist's matcher ([`crate::waitlist`]): every committed change that
    /// queues email (a booking, a cancellation, a move, a decline) may free or take a
    /// time, so it wakes the matcher too.
    changes: Arc<Notify>,
}

impl MailHandle {
    /// Wakes the sender now, and the waitlist's matcher. A wake-up while it is busy is
    /// kept, so the message queued meanwhile goes out right after the current pass.
    pub fn notify(&self) {
        self.wake.notify_one();
        self.changes.notify_one();
    }

    /// Wakes the sender only (the matcher's own offers change nothing it must look at).
    pub fn notify_mail_only(&self) {
        self.wake.notify_one();
    }

    /// Wakes the waitlist's matcher only: a committed change that sends no email but
    /// may open times (a setup change, such as a new availability record).
    pub fn wake_waitlist(&self) {
        self.changes.notify_one();
    }

    /// Completes at the next [`MailHandle::notify`] (the waitlist's matcher waits here).
    pub(crate) async fn changed(&self) {
        self.changes.notified().await;
    }

    /// Completes at the next [`MailHandle::notify`] (or at once if one is pending).
    pub(crate) async fn notified(&self) {
        self.wake.notified().await;
    }
}

/// Why a message could not be sent.
#[derive(Debug)]
pub enum MailError {
    /// The mail configuration cannot be used (an SMTP host TLS cannot name, a mailbox
    /// folder that cannot be created).
    Config(String),
    /// The message cannot be built (a recipient that is not an address).
    Message(String),
    /// The server refused the message or could not be reached, or the file could not
    /// be written.
    Delivery(String),
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailError::Config(m) => write!(f, "mail configuration: {m}"),
            MailError::Message(m) => write!(f, "message: {m}"),
            MailError::Delivery(m) => write!(f, "delivery: {m}"),
        }
    }
}

impl std::error::Error for MailError {}
