//! Booking in the portal: the patient's practitioners, the service's being online and
//! the slot rules decide under the practitioner's lock; a refused time is answered with
//! the next open ones.

use slot_engine::{Date, Instant, Rejection, Slot};

use crate::db::Db;
use crate::error::{Error, Result};
use crate::organisation::Organisation;
use crate::time::Clock;
use crate::window::{self, OpenSlot, SlotRequest, Window};

use super::insert::{
    Booked, NewRow, by_idempotency_key, check_idempotency_key, finish_insert, replay, request_hash,
};
use super::locking::lock_practitioner;
use super::queries::patient_practitioners;
use super::resources::{check_locked, lock_resources};
use super::{Actor, AppointmentStatus, Channel, Notify, dates_around};

/// A booking made by a patient in the portal.
#[derive(Clone, Debug)]
pub struct PortalBooking {
    /// The patient booking.
    pub patient: i64,
    /// The service.
    pub service: i64,
    /// The practitioner.
    pub practitioner: i64,
    /// The start the patient chose.
    pub start: Instant,
    /// A video appointment: only schedule types that allow telehealth offer it (rule 8).
    pub telehealth: bool,
    /// A client-chosen key that makes a retried request return the first result.
    pub idempotency_key: Option<String>,
}

/// What a portal booking request comes to. A time the slot rules refuse is an answer,
/// not an error: the patient is told why and offered the next open times.
// One value per booking request, returned once: boxing the larger variant would only
// add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortalOutcome {
    /// Booked (or pending, when the organisation does not auto-accept), or the first
    /// booking of a retried request.
    Booked(Booked),
    /// The time cannot be booked: someone took it, or the slot rules do not offer it.
    Taken {
        /// The number of the slot rule that refuses it, in `docs/scenario.md`
        /// (*Checking one portal booking*).
        rule: u8,
        /// Why, in words a patient can read.
        reason: String,
        /// The next open times from the one asked for on, with any practitioner
        /// the patient may book (at most [`NEXT_SLOTS`]).
        next: Vec<OpenSlot>,
    },
}

/// How many next open times a refused portal booking offers.
pub const NEXT_SLOTS: usize = 5;

/// Books a portal appointment: the patient's practitioners (refused with
/// [`Error::Forbidden`]), the service's being online ([`Error::NotFound`]) and the slot
/// rules (overlay, capacity by `portal_conflicts`, booking window) decide, under the
/// practitioner's lock. Pending (when the organisation does not auto-accept) holds the
/// slot like booked. A time the rules refuse comes back as [`PortalOutcome::Taken`]
/// with the next open times, looked up after the lock is let go.
pub async fn book_portal(
    db: &Db,
    org: &Organisation,
    b: &PortalBooking,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<PortalOutcome> {
    book_portal_as(db, org, b, Actor::Patient(b.patient), clock, notify).await
}

/// [`book_portal`] for the patient by someone acting for them (an API key, through
/// FHIR): the same rules, lock and transaction, with `actor` as who made the booking —
/// in the audit log, in `created_by`, and as the owner of the idempotency key, so a
/// key is the sender's own.
pub async fn book_portal_as(
    db: &Db,
    org: &Organisation,
    b: &PortalBooking,
    actor: Actor,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<PortalOutcome> {
    book_portal_at(db, org, b, None, actor, clock, notify).await
}

/// [`book_portal_as`] for a slot that names its clinic (a FHIR slot id): the engine
/// decides where the practitioner is at that time, and a time at another clinic than
/// `clinic` is refused as [`Error::NotFound`] (no such slot), under the same lock.
pub async fn book_portal_at(
    db: &Db,
    org: &Organisation,
    b: &PortalBooking,
    clinic: Option<i64>,
    actor: Actor,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<PortalOutcome> {
    let mut tx = db.begin().await?;
    let allowed = patient_practitioners(&mut tx.exec(), org.id, b.patient).await?;
    if allowed
        .as_ref()
        .is_some_and(|list| !list.contains(&b.practitioner))
    {
        return Err(Error::Forbidden(
            "this practitioner is not available to you",
        ));
    }
    crate::portal::service(tx.exec(), org.id, b.service).await?;
    lock_practitioner(&mut tx, org.id, b.practitioner).await?;
    let locked = lock_resources(&mut tx, org.id, Some(b.service), &[]).await?;
    check_idempotency_key(&b.idempotency_key)?;
    let (org, pending_by_no_shows) =
        crate::organisation::with_no_show_policy(tx.exec(), org.id, b.patient).await?;
    let org = &org;
    let request = request_hash(&[
        ("portal.patient", Some(b.patient)),
        ("service", Some(b.service)),
        ("practitioner", Some(b.practitioner)),
        ("start", Some(b.start.unix_nanos())),
        ("telehealth", Some(i64::from(b.telehealth))),
    ]);
    if let Some(key) = &b.idempotency_key
        && let Some(existing) = by_idempotency_key(&mut tx, org.id, actor, key).await?
    {
        return replay(existing, &request).map(PortalOutcome::Booked);
    }
    let (input, decision) =
        decide_portal(&mut tx.exec(), org, b, allowed.as_deref(), clock.now()).await?;
    check_locked(&input, Some(b.service), &locked)?;
    let slot = match decision {
        Ok(slot) => slot,
        Err(rejection) => {
            drop(tx);
            let next = next_open(db, org, b, allowed, clock).await?;
            return Ok(PortalOutcome::Taken {
                rule: rejection.rule.number(),
                reason: rejection.reason,
                next,
            });
        }
    };
    if clinic.is_some_and(|c| c != input.clinic_id(slot.clinic)) {
        return Err(Error::NotFound("slot at this clinic"));
    }
    let row = NewRow {
        key: None,
        practitioner_id: b.practitioner,
        patient_id: Some(b.patient),
        service_id: Some(b.service),
        schedule_type_id: Some(input.schedule_type_id(slot.schedule_type)),
        clinic_id: Some(input.clinic_id(slot.clinic)),
        telehealth: b.telehealth,
        start_ns: slot.start_instant().unix_nanos(),
        end_ns: slot.end_instant().unix_nanos(),
        // The no-show policy (migration 0027) was read with the settings, under the
        // lock, so a no-show marked meanwhile counts.
        status: if org.auto_accept_portal_bookings && !pending_by_no_shows {
            AppointmentStatus::Booked
        } else {
            AppointmentStatus::Pending
        },
        channel: Channel::Portal,
        override_reason: None,
        override_by: None,
        idempotency_key: b.idempotency_key.clone(),
        actor: actor.label(),
        // The buffers the engine just checked the slot with: the service's.
        buffers: input.service_buffers(b.service),
        // And the rooms and equipment it checked free: per requirement the first by id.
        resources: input.resource_ids(&input.model.slot_resources(&slot)),
    };
    finish_insert(
        db,
        tx,
        org.id,
        row,
        &request,
        actor,
        clock,
        serde_json::json!({}),
        notify,
    )
    .await
    .map(PortalOutcome::Booked)
}

/// What the slot rules say of a portal booking, in the window around its start.
async fn decide_portal(
    exec: &mut crate::db::Exec<'_>,
    org: &Organisation,
    b: &PortalBooking,
    allowed: Option<&[i64]>,
    now: Instant,
) -> Result<(window::EngineInput, std::result::Result<Slot, Rejection>)> {
    let (from, to) = dates_around(b.start);
    let input = window::load(
        exec,
        org,
        &Window {
            service: Some(b.service),
            practitioners: Some(vec![b.practitioner]),
            from,
            to,
            skip_appointment: None,
            resources: Vec::new(),
        },
    )
    .await?;
    let query = window::portal_query(&input, b.service, allowed, now, b.telehealth)?;
    let practitioner = input
        .practitioner_ix(b.practitioner)
        .ok_or(Error::NotFound("practitioner"))?;
    let decision = input.model.check(&query, practitioner, b.start);
    Ok((input, decision))
}

/// What a portal booking would come to now, without booking: the slot it would take,
/// or why not with the next open times. The confirm page asks this before it offers
/// "Book it"; the booking itself asks again under the practitioner's lock.
pub async fn check_portal(
    db: &Db,
    org: &Organisation,
    b: &PortalBooking,
    clock: &dyn Clock,
) -> Result<PortalCheck> {
    // A read, outside any transaction: on SQLite a transaction here would take the
    // write lock bookings wait on, for a page anyone signed in may load.
    let mut conn = db.conn().await?;
    let allowed = patient_practitioners(&mut conn.exec(), org.id, b.patient).await?;
    if allowed
        .as_ref()
        .is_some_and(|list| !list.contains(&b.practitioner))
    {
        return Err(Error::Forbidden(
            "this practitioner is not available to you",
        ));
    }
    crate::portal::service(conn.exec(), org.id, b.service).await?;
    let (input, decision) =
        decide_portal(&mut conn.exec(), org, b, allowed.as_deref(), clock.now()).await?;
    drop(conn);
    Ok(match decision {
        Ok(slot) => PortalCheck::Open(input.open_slot(&slot)),
        Err(rejection) => PortalCheck::Refused {
            rule: rejection.rule.number(),
            reason: rejection.reason,
            next: next_open(db, org, b, allowed, clock).await?,
        },
    })
}

/// What [`check_portal`] finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortalCheck {
    /// The time is open: booking it now would take this slot.
    Open(OpenSlot),
    /// The slot rules refuse it, as [`PortalOutcome::Taken`] says.
    Refused {
        /// The number of the slot rule that refuses it.
        rule: u8,
        /// Why, in words a patient can read.
        reason: String,
        /// The next open times (at most [`NEXT_SLOTS`]).
        next: Vec<OpenSlot>,
    },
}

/// The next open times of the booking's service, in person or by video as it asked,
/// from its start on, over two weeks, with any of `practitioners` (`None`: all). The search reads dates in each clinic's zone, and
/// `at` may still be the day before in one of them (a Vancouver evening is the next
/// day in UTC), so it starts from the earliest of the clinics' dates.
pub(super) async fn next_open(
    db: &Db,
    org: &Organisation,
    b: &PortalBooking,
    practitioners: Option<Vec<i64>>,
    clock: &dyn Clock,
) -> Result<Vec<OpenSlot>> {
    let at = b.start;
    let mut conn = db.conn().await?;
    let clinics = crate::clinic::all(conn.exec(), org.id).await?;
    let from = Date::try_from(crate::clinic::earliest_local_date(&clinics, at))
        .map_err(|e| Error::invalid("from", e.to_string()))?;
    let to = from.add_days(14).unwrap_or(from);
    let (input, found) = window::open_slots(
        &mut conn.exec(),
        org,
        &SlotRequest {
            service: b.service,
            practitioners,
            from,
            to,
            now: clock.now(),
            telehealth: b.telehealth,
        },
    )
    .await?;
    Ok(found
        .iter()
        .filter(|s| s.start_instant() >= at)
        .take(NEXT_SLOTS)
        .map(|s| input.open_slot(s))
        .collect())
}
