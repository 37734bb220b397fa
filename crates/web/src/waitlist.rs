//! The waitlist's matcher (issue 17): a background task that releases holds that ran
//! out and offers freed times to waiting patients.
//!
//! It runs every [`POLL`], which also catches times freed by another server instance
//! or by a change that sends no email (a new availability record), and at once when
//! woken: every committed change that queues email wakes the mail sender and this task
//! together ([`crate::mail::MailHandle::notify`]), so a cancellation, a move or a
//! declined request is offered within moments. Several instances may run it at once:
//! each hold is made under the practitioner's lock, checked again there, and each
//! entry has at most one open offer, so two matchers never offer one time twice.

use std::collections::HashMap;
use std::time::Duration;

use store::Organisation;
use store::appointment::{OfferMail, OfferNotify};
use store::outbox::NewMessage;
use store::waitlist::Proposal;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::notices::AppointmentContext;
use crate::notices::staff::PortalChange;
use crate::state::AppState;

/// How often the matcher looks when nobody wakes it.
pub const POLL: Duration = Duration::from_secs(30);

/// How long the matcher waits after a wake-up before its pass: a busy clinic's wake-ups
/// (one per booking) then come to one pass a second, not one each.
pub const SETTLE: Duration = Duration::from_secs(1);

/// At most this many holds per organisation in one pass (the settings' cap per service
/// binds first in practice; this bounds a pass whatever happens).
const HOLDS_PER_PASS: usize = 50;

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Holds released (ran out, or their blocked time was taken back).
    pub released: usize,
    /// Holds made, each offered to one or more entries.
    pub held: usize,
    /// Offers sent.
    pub offered: usize,
}

/// The emails' contexts of a time's recipients, by patient.
pub(crate) type Contexts = HashMap<i64, AppointmentContext>;

/// Loads the email contexts of `patients` for an appointment of `service` with
/// `practitioner`; patients without an email address are left out (nobody to tell).
pub(crate) async fn contexts(
    state: &AppState,
    org: &Organisation,
    patients: impl IntoIterator<Item = i64>,
    practitioner: i64,
    service: Option<i64>,
) -> store::Result<Contexts> {
    let mut out = HashMap::new();
    for p in patients {
        if out.contains_key(&p) {
            continue;
        }
        if let Some(c) =
            AppointmentContext::for_patient(state, org, Some(p), practitioner, service).await?
        {
            out.insert(p, c);
        }
    }
    Ok(out)
}

/// The emails of offer events, from preloaded contexts.
pub(crate) fn compose(contexts: &Contexts) -> impl Fn(OfferMail<'_>) -> Vec<NewMessage> + '_ {
    move |mail| match mail {
        OfferMail::Offered {
            entry,
            token,
            appointment,
            expires_at_ns,
        } => contexts
            .get(&entry.patient_id)
            .map(|c| c.waitlist_offered(appointment, token, expires_at_ns))
            .into_iter()
            .collect(),
        OfferMail::Gone {
            patient,
            appointment,
        } => contexts
            .get(&patient)
            .map(|c| c.waitlist_gone(appointment))
            .into_iter()
            .collect(),
        // An accepted offer is a booking the patient made: they and the staff who
        // asked are told as of one in the portal.
        OfferMail::Booked { appointment } => appointment
            .patient_id
            .and_then(|p| contexts.get(&p))
            .map(|c| c.portal_notices(PortalChange::Booked, appointment))
            .unwrap_or_default(),
    }
}

/// Holds a proposed time and sends its offers (the matcher's, or staff's by hand with
/// `actor`): `None` when the time or its entries no longer qualify.
pub(crate) async fn hold(
    state: &AppState,
    org: &Organisation,
    proposal: &Proposal,
    actor: Option<store::audit::Actor>,
) -> store::Result<Option<(store::appointment::Hold, Vec<i64>)>> {
    let patients: Vec<i64> = proposal.entries.iter().map(|e| e.patient_id).collect();
    let contexts = contexts(
        state,
        org,
        patients,
        proposal.practitioner,
        Some(proposal.service),
    )
    .await?;
    let tokens: Vec<String> = proposal
        .entries
        .iter()
        .map(|_| crate::auth::csrf::random_token())
        .collect();
    let notify = compose(&contexts);
    let notify: OfferNotify<'_> = &notify;
    let held = store::appointment::hold_for_offers(
        &state.db,
        org,
        proposal,
        &tokens,
        actor,
        state.clock.as_ref(),
        notify,
    )
    .await?;
    if held.is_some() {
        state.mail.notify_mail_only();
    }
    Ok(held)
}

/// One pass over every organisation with a waitlist: release what ran out, then offer
/// freed times until none is left to offer or the caps are reached.
pub async fn pass(state: &AppState) -> store::Result<Pass> {
    let began = std::time::Instant::now();
    let mut pass = Pass::default();
    for org_id in store::appointment::organisations_waiting(&state.db).await? {
        let org = {
            let mut conn = state.db.conn().await?;
            store::organisation::by_id(conn.exec(), org_id).await?
        };
        pass.released +=
            store::appointment::release_due(&state.db, org.id, state.clock.as_ref()).await?;
        for _ in 0..HOLDS_PER_PASS {
            let Some(proposal) =
                store::waitlist::next_offer(&state.db, &org, state.clock.as_ref()).await?
            else {
                break;
            };
            match hold(state, &org, &proposal, None).await? {
                Some((_, offered)) => {
                    pass.held += 1;
                    pass.offered += offered.len();
                }
                // Taken meanwhile (another instance, a booking): look again next time.
                None => break,
            }
        }
    }
    if pass != Pass::default() {
        tracing::info!(
            released = pass.released,
            held = pass.held,
            offered = pass.offered,
            elapsed_ms = began.elapsed().as_millis(),
            "waitlist pass"
        );
    }
    Ok(pass)
}

/// The running matcher; dropping it stops it too.
#[derive(Debug)]
pub struct Matcher {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Starts the matcher on the server's state, woken by the state's mail handle and
/// otherwise every [`POLL`].
pub fn spawn(state: AppState) -> Matcher {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(state, stopped));
    Matcher { stop, task }
}

impl Matcher {
    /// Stops the matcher after its current pass, waiting at most `grace`.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}

async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    let wake = state.mail.clone();
    loop {
        if let Err(e) = pass(&state).await {
            tracing::warn!(error = %e, "waitlist matcher: database error; trying again soon");
        }
        tokio::select! {
            changed = stopped.changed() => {
                if changed.is_err() || *stopped.borrow() {
                    break;
                }
            }
            () = wake.changed() => tokio::time::sleep(SETTLE).await,
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
