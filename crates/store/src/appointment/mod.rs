//! Appointments: booking that never overbooks, cancelling, moving, accepting.
//!
//! Every change runs in one transaction that first takes the practitioner's lock
//! (PostgreSQL: a row lock on the practitioner; SQLite: the write lock of `BEGIN
//! IMMEDIATE`), then reloads that practitioner's window from the database, asks the
//! engine, and writes or refuses. Two bookings of one practitioner therefore never
//! decide on the same state, however many requests race on however many servers.
//!
//! The modules, by job; everything public is re-exported here, at
//! `store::appointment::…`:
//!
//! - `queries`: reading appointments ([`get`], [`in_range`], [`of_patient`],
//!   [`pending`], [`count`]) and the practitioners a patient may book
//!   ([`patient_practitioners`]).
//! - `locking`: the practitioners' locks, and the settings read again under them.
//! - `insert`: a new booking written once: its row, its idempotency key, its audit
//!   entry and emails, the commit ([`Booked`]).
//! - `portal_booking`: [`book_portal`], answering [`PortalOutcome`].
//! - `staff_booking`: [`book_staff`], with its explicit override.
//! - `status_change`: [`cancel`] (and [`cancellable_until`]) with a reason and its
//!   undo [`restore`], [`decide`], the desk's [`mark`] (and [`desk_transition`]).
//! - `reschedule`: [`reschedule`], a move under both practitioners' locks.
//! - `portal_reschedule`: [`reschedule_portal`], a patient's own move under the
//!   portal's rules.
//! - `resources`: the rooms and equipment an appointment holds ([`held`]), and
//!   their locks, taken after the practitioners' (see its documentation for the order).
//! - `series`: weekly series ([`series::book_staff`], [`series::book_portal`]), each
//!   occurrence an appointment of its own, and "this and following" changes.
//! - `waitlist`: waitlist offers (issue 17): [`hold_for_offers`] holds a freed time
//!   as blocked time for the entries offered it, [`accept_offer`] gives it to the
//!   first to accept, [`release_due`] frees what ran out.

use serde::Serialize;
use slot_engine::{Date, Instant};

use crate::db::Tx;
use crate::error::Result;

mod block_label;
mod insert;
mod locking;
mod portal_booking;
mod portal_reschedule;
mod queries;
mod reschedule;
mod resources;
pub mod series;
mod staff_booking;
mod status_change;
mod waitlist;

pub use crate::appointment_status::{AppointmentStatus, Channel};
/// Who is acting: the audit log's actor (`staff:3`, `patient:12`), kept there.
pub use crate::audit::Actor;
pub use block_label::{BLOCK_LABEL_MAX_CHARS, label_block};
pub use insert::Booked;
pub(crate) use insert::{NewRow, insert_many};
pub use portal_booking::{
    NEXT_SLOTS, PortalBooking, PortalCheck, PortalOutcome, book_portal, book_portal_as,
    book_portal_at, check_portal,
};
pub use portal_reschedule::{PortalMove, PortalMoveOutcome, reschedule_portal};
pub use queries::{count, get, in_range, of_patient, patient_practitioners, pending};
pub use reschedule::{Move, reschedule};
pub use resources::{HeldResource, ResourceRequest, held};
pub use staff_booking::{StaffBooking, book_staff};
pub use status_change::{
    ARRIVE_EARLY_NS, Decision, cancel, cancel_reason, cancellable_until, decide, desk_transition,
    mark, restore,
};
pub use waitlist::{
    AcceptOutcome, Hold, Offer, OfferByToken, OfferMail, OfferNotify, accept_offer,
    hold_for_offers, offer_by_token, open_holds, open_offer_patients, organisations_waiting,
    release_due,
};

/// An appointment row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Appointment {
    /// Row id.
    pub id: i64,
    /// Scenario id, when it has one.
    pub key: Option<String>,
    /// The practitioner.
    pub practitioner_id: i64,
    /// The patient.
    pub patient_id: Option<i64>,
    /// The service.
    pub service_id: Option<i64>,
    /// The schedule type whose blocks hold it.
    pub schedule_type_id: Option<i64>,
    /// Where it takes place: every appointment names its clinic (by the rule of
    /// [`slot_engine::Model::appointment_clinic`]); `None` only in a row written before
    /// that rule and never read back that way since migration 0016.
    pub clinic_id: Option<i64>,
    /// A video appointment (else in person).
    pub telehealth: bool,
    /// Start, ns since the Unix epoch.
    pub start_ns: i64,
    /// End, ns since the Unix epoch.
    pub end_ns: i64,
    /// Where it stands.
    pub status: AppointmentStatus,
    /// How it was made.
    pub channel: Channel,
    /// Why staff overrode a conflict, if they did.
    pub override_reason: Option<String>,
    /// Which staff user overrode.
    pub override_by: Option<i64>,
    /// The note given when accepting or declining.
    pub status_note: String,
    /// Who created it (`staff:3`, `patient:12`, `import`).
    pub created_by: String,
    /// When it was created, ns since the Unix epoch.
    pub created_at_ns: i64,
    /// Who changed it last.
    pub updated_by: String,
    /// When it was changed last (the calendar invitations' `DTSTAMP`).
    pub updated_at_ns: i64,
    /// How many times it has moved since it was booked (the calendar invitations'
    /// `SEQUENCE`).
    pub sequence: i64,
    /// Why it was cancelled, when the canceller said (at most [`CANCEL_REASON_MAX`]
    /// characters).
    pub cancel_reason: Option<String>,
    /// Who cancelled it (`staff:3`, `patient:12`), while it is cancelled.
    pub cancelled_by: Option<String>,
    /// When it was cancelled, ns since the Unix epoch.
    pub cancelled_at_ns: Option<i64>,
    /// The status it was cancelled from, which undoing the cancellation restores.
    pub cancelled_from: Option<AppointmentStatus>,
    /// The series it is an occurrence of, if any ([`series`]).
    pub series_id: Option<i64>,
    /// Minutes kept free before it, as it was booked (its service's buffers then; a
    /// later change to the service does not change them).
    pub buffer_before_minutes: i64,
    /// Minutes kept free after it, as it was booked.
    pub buffer_after_minutes: i64,
    /// When the patient confirmed it (a reminder's link, [`crate::reminder`]); cleared by
    /// the database whenever it moves (migration 0027), so it always speaks of the
    /// current time.
    pub confirmed_at_ns: Option<i64>,
}

impl Appointment {
    /// The buffers it was booked with, which it keeps when moved.
    pub fn buffers(&self) -> slot_engine::Buffers {
        slot_engine::Buffers {
            before_minutes: u32::try_from(self.buffer_before_minutes).unwrap_or(0),
            after_minutes: u32::try_from(self.buffer_after_minutes).unwrap_or(0),
        }
    }
}

/// The longest cancellation reason kept, in characters.
pub const CANCEL_REASON_MAX: usize = 500;

const COLUMNS: &str = "id, key, practitioner_id, patient_id, service_id, schedule_type_id, clinic_id, \
    telehealth, start_ns, end_ns, status, channel, override_reason, override_by, status_note, created_by, \
    created_at_ns, updated_by, updated_at_ns, sequence, cancel_reason, cancelled_by, cancelled_at_ns, \
    cancelled_from, series_id, buffer_before_minutes, buffer_after_minutes, confirmed_at_ns";

/// Composes the emails announcing a change, from the changed appointment. The web
/// crate knows the words and calendars; the store queues what it returns in the same
/// transaction as the change, so the change and its emails commit together.
pub type Notify<'a> = &'a (dyn Fn(&Appointment) -> Vec<crate::outbox::NewMessage> + Send + Sync);

async fn queue_notices(
    tx: &mut Tx,
    org: i64,
    notify: Option<Notify<'_>>,
    appointment: &Appointment,
    now: i64,
) -> Result<()> {
    if let Some(notify) = notify {
        for message in notify(appointment) {
            crate::outbox::enqueue(tx, org, &message, now).await?;
        }
    }
    Ok(())
}

/// The dates around an instant that any clinic could read it as.
fn dates_around(at: Instant) -> (Date, Date) {
    let day = Date::try_from(at.to_utc().date_naive()).unwrap_or(Date::MIN);
    (
        day.add_days(-1).unwrap_or(day),
        day.add_days(1).unwrap_or(day),
    )
}
