//! A patient moving their own appointment in the portal: allowed exactly when a cancel
//! would be ([`cancellable_until`]), checked at the new time by the portal's slot rules
//! as a portal booking as if the appointment were not at its old time, and written as
//! one change of the same row under the locks of both practitioners it touches.

use slot_engine::{Instant, Slot};

use crate::db::{Db, execute};
use crate::error::{Error, Result};
use crate::organisation::{self, Organisation};
use crate::time::Clock;
use crate::window::{self, OpenSlot, Window};

use super::portal_booking::{PortalBooking, next_open};
use super::queries::{get, patient_practitioners};
use super::reschedule::lock_for_move;
use super::status_change::{cancel_deadline, cancellable_until};
use super::{Actor, Appointment, Notify, dates_around, queue_notices};

/// A patient's move of their own appointment to another time.
#[derive(Clone, Debug)]
pub struct PortalMove {
    /// The patient moving it, who must be the appointment's.
    pub patient: i64,
    /// The appointment.
    pub appointment: i64,
    /// The practitioner of the new time: the same, or any other the patient may book.
    pub practitioner: i64,
    /// The new start.
    pub start: Instant,
}

/// What a portal move comes to. A time the slot rules refuse is an answer, as for a
/// booking: the appointment is unchanged and the patient is offered the next times.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortalMoveOutcome {
    /// Moved: the same row at its new time.
    Moved(Appointment),
    /// The new time cannot be booked (someone just took it, or the rules do not offer
    /// it); nothing changed.
    Taken {
        /// The slot rule that refuses it, as [`super::PortalOutcome::Taken`] says.
        rule: u8,
        /// Why, in words a patient can read.
        reason: String,
        /// The next open times from the one asked for on.
        next: Vec<OpenSlot>,
    },
}

/// Moves a patient's own appointment, atomically: the new time is taken and the old
/// one freed, or nothing changes. Refuses another patient's appointment
/// ([`Error::NotFound`]), a practitioner the patient may not book
/// ([`Error::Forbidden`]), an appointment without a service or that is not booked or
/// pending ([`Error::Invalid`]), and a move after the cancellation notice
/// ([`Error::TooLate`]: a move is allowed exactly when a cancel would be).
///
/// The moved appointment keeps its status: booked stays booked — the clinic accepted
/// it, and the new time is held to every portal rule — and a pending request stays
/// pending until staff accept or decline it (a booked appointment turned into a request
/// would leave the patient with neither time if it were declined). Audited as
/// `appointment.reschedule` by the patient, with the time before and after; the emails
/// `notify` composes are queued with the move.
pub async fn reschedule_portal(
    db: &Db,
    org: &Organisation,
    m: &PortalMove,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<PortalMoveOutcome> {
    let (mut tx, old) = lock_for_move(db, org.id, m.appointment, Some(m.practitioner)).await?;
    if old.patient_id != Some(m.patient) {
        return Err(Error::NotFound("appointment"));
    }
    let org = &super::locking::settings_now(&mut tx, org.id).await?;
    let allowed = patient_practitioners(&mut tx.exec(), org.id, m.patient).await?;
    if allowed
        .as_ref()
        .is_some_and(|list| !list.contains(&m.practitioner))
    {
        return Err(Error::Forbidden(
            "this practitioner is not available to you",
        ));
    }
    let Some(service) = old.service_id else {
        return Err(Error::invalid(
            "appointment",
            "this appointment cannot be moved online; please call the clinic",
        ));
    };
    if !old.status.is_changeable() {
        return Err(Error::invalid(
            "status",
            format!(
                "a {} appointment cannot be moved",
                old.status.as_str().replace('_', "-")
            ),
        ));
    }
    let now = clock.now_ns();
    if cancellable_until(org, old.status, old.start_ns, now).is_none() {
        return Err(Error::TooLate {
            until_ns: cancel_deadline(org, old.start_ns),
        });
    }
    crate::portal::service(tx.exec(), org.id, service).await?;
    let locked = super::resources::lock_resources(&mut tx, org.id, Some(service), &[]).await?;
    let (from, to) = dates_around(m.start);
    let input = window::load(
        &mut tx.exec(),
        org,
        &Window {
            service: Some(service),
            practitioners: Some(vec![m.practitioner]),
            from,
            to,
            skip_appointment: Some(old.id),
            resources: Vec::new(),
        },
    )
    .await?;
    super::resources::check_locked(&input, Some(service), &locked)?;
    let query = window::portal_query(
        &input,
        service,
        allowed.as_deref(),
        clock.now(),
        old.telehealth,
    )?;
    let practitioner = input
        .practitioner_ix(m.practitioner)
        .ok_or(Error::NotFound("practitioner"))?;
    let slot: Slot = match input.model.check(&query, practitioner, m.start) {
        Ok(slot) => slot,
        Err(rejection) => {
            drop(tx);
            let asked = PortalBooking {
                patient: m.patient,
                service,
                practitioner: m.practitioner,
                start: m.start,
                telehealth: old.telehealth,
                idempotency_key: None,
            };
            return Ok(PortalMoveOutcome::Taken {
                rule: rejection.rule.number(),
                reason: rejection.reason,
                next: next_open(db, org, &asked, allowed, clock).await?,
            });
        }
    };
    let start_ns = slot.start_instant().unix_nanos();
    let end_ns = slot.end_instant().unix_nanos();
    // The portal's rules checked the new time with the service's buffers as they are
    // now, so the moved appointment keeps those: a patient's move is a new portal
    // booking of the same service.
    let buffers = input.service_buffers(service);
    // It holds what the engine checked free at the new time, not what it held before.
    let held = input.resource_ids(&input.model.slot_resources(&slot));
    // A move keeps the status: a booked appointment stays booked (had it become a
    // pending request, a decline would leave the patient with neither time), and a
    // request still waiting for staff stays waiting.
    let status = old.status;
    let actor = Actor::Patient(m.patient);
    execute!(
        tx.exec(),
        "UPDATE appointments SET practitioner_id = $3, start_ns = $4, end_ns = $5, \
         schedule_type_id = $6, clinic_id = $7, status = $8, override_reason = NULL, \
         override_by = NULL, updated_by = $9, updated_at_ns = $10, sequence = sequence + 1, \
         buffer_before_minutes = $11, buffer_after_minutes = $12 \
         WHERE org_id = $1 AND id = $2",
        org.id,
        old.id,
        m.practitioner,
        start_ns,
        end_ns,
        input.schedule_type_id(slot.schedule_type),
        input.clinic_id(slot.clinic),
        status.as_str(),
        actor.label(),
        now,
        i64::from(buffers.before_minutes),
        i64::from(buffers.after_minutes)
    )?;
    organisation::note_appointment_length(&mut tx, org.id, end_ns - start_ns).await?;
    super::resources::hold(&mut tx, org.id, old.id, &held).await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &actor.label(),
        "appointment.reschedule",
        "appointment",
        Some(old.id),
        serde_json::json!({
            "from": { "practitioner_id": old.practitioner_id, "start_ns": old.start_ns, "end_ns": old.end_ns },
            "to": { "practitioner_id": m.practitioner, "start_ns": start_ns, "end_ns": end_ns },
            "previous_status": old.status,
            "status": status,
        }),
        now,
    )
    .await?;
    let updated = get(tx.exec(), org.id, old.id).await?;
    queue_notices(&mut tx, org.id, notify, &updated, now).await?;
    tx.commit().await?;
    Ok(PortalMoveOutcome::Moved(updated))
}
