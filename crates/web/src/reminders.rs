//! The reminder scheduler (issue 17): every [`POLL`] it asks the store which reminders
//! have come due ([`store::reminder::due`]), writes each one's email with the
//! appointment's context, and queues it with [`store::reminder::send`], which records
//! it once per appointment, offset, start and sequence whichever server instance gets there
//! first. Then it wakes the email sender.
//!
//! Started by `openslot serve` beside the email sender, and stopped before it on
//! shutdown, so that what it queued last is sent.

use std::collections::HashMap;
use std::time::Duration;

use store::appointment::{Appointment, cancellable_until};
use store::reminder::{Links, Pass, Sent};
use store::{AppointmentStatus, Organisation};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::notices::AppointmentContext;
use crate::state::AppState;

/// How often the scheduler looks for reminders that have come due. Reminders are
/// minutes-grained; a minute late is on time.
pub const POLL: Duration = Duration::from_secs(60);

/// One pass: queues every reminder due at the server's clock now, and wakes the
/// email sender if any was queued. A reminder whose email cannot be written (its
/// appointment's rows vanished meanwhile) is logged and left for the next pass; fails
/// only if the database does.
pub async fn run_once(state: &AppState) -> Result<Pass, store::Error> {
    let now = state.clock.now_ns();
    let mut pass = Pass::default();
    let mut orgs: HashMap<i64, Organisation> = HashMap::new();
    for due in store::reminder::due(&state.db, now).await? {
        let org = match orgs.get(&due.org_id) {
            Some(org) => org.clone(),
            None => {
                let mut conn = state.db.conn().await?;
                let org = store::organisation::by_id(conn.exec(), due.org_id).await?;
                orgs.insert(org.id, org.clone());
                org
            }
        };
        let context = match AppointmentContext::load(
            state,
            &org,
            due.patient_id,
            due.practitioner_id,
            due.service_id,
        )
        .await
        {
            Ok(context) => context,
            Err(e) => {
                tracing::warn!(appointment = due.appointment_id, error = %e, "reminder: no context; trying again next pass");
                continue;
            }
        };
        let cancellable =
            cancellable_until(&org, AppointmentStatus::Booked, due.start_ns, now).is_some();
        let compose = |a: &Appointment, links: &Links| {
            (!context.patient_email.trim().is_empty())
                .then(|| context.reminder(a, links, cancellable))
        };
        match store::reminder::send(&state.db, &due, now, &compose).await? {
            Sent::Queued => {
                pass.queued += 1;
                tracing::info!(
                    appointment = due.appointment_id,
                    offset_minutes = due.offset_minutes,
                    "reminder queued"
                );
            }
            Sent::NoAddress | Sent::AlreadyDone | Sent::NotDue => pass.passed += 1,
        }
    }
    if pass.queued > 0 {
        state.mail.notify();
    }
    Ok(pass)
}

/// The running scheduler; dropping it stops it too, after its current pass.
#[derive(Debug)]
pub struct Scheduler {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Starts the scheduler on the server's state.
pub fn spawn(state: AppState) -> Scheduler {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(state, stopped));
    Scheduler { stop, task }
}

impl Scheduler {
    /// Stops the scheduler, letting its current pass finish for up to `grace`. A pass
    /// cut off loses nothing: each reminder is queued in its own transaction, and the
    /// ones not reached are due again on the next start.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            tracing::warn!("the reminder scheduler did not finish in time; stopping it");
            self.task.abort();
        }
    }
}

async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    tracing::info!("reminder scheduler started");
    loop {
        if let Err(e) = run_once(&state).await {
            tracing::warn!(error = %e, "reminder scheduler: database error; trying again soon");
        }
        tokio::select! {
            changed = stopped.changed() => {
                if changed.is_err() || *stopped.borrow() {
                    break;
                }
            }
            () = tokio::time::sleep(POLL) => {}
        }
    }
    tracing::info!("reminder scheduler stopped");
}
