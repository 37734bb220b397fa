//! Changing an appointment's status: cancelling (a patient only until the
//! cancellation notice) with an optional reason, and undoing a cancellation (staff,
//! only while its time is still free); accepting or declining a pending portal
//! booking; and the desk's statuses (arrived, completed, no-show) with their undo.

use crate::db::{Db, Tx, execute};
use crate::error::{Error, Result};
use crate::organisation::Organisation;
use crate::time::Clock;

use super::locking::{lock_practitioner, settings_now};
use super::queries::get;
use super::staff_booking::{KeptFree, staff_fit};
use super::{Actor, Appointment, AppointmentStatus, CANCEL_REASON_MAX, Notify, queue_notices};
use crate::error::Conflict;
use slot_engine::Instant;

async fn set_status(
    tx: &mut Tx,
    org: i64,
    id: i64,
    status: AppointmentStatus,
    note: &str,
    actor: Actor,
    now: i64,
) -> Result<()> {
    execute!(
        tx.exec(),
        "UPDATE appointments SET status = $3, status_note = $4, updated_by = $5, updated_at_ns = $6 \
         WHERE org_id = $1 AND id = $2",
        org,
        id,
        status.as_str(),
        note,
        actor.label(),
        now
    )?;
    Ok(())
}

/// The last instant a patient may cancel an appointment starting at `start_ns`
/// online: the organisation's cancellation notice before the start.
pub(super) fn cancel_deadline(org: &Organisation, start_ns: i64) -> i64 {
    start_ns - org.cancellation_notice_minutes * 60_000_000_000
}

/// Until when a patient may still cancel an appointment online, seen at `now_ns`: the
/// deadline, for a booked or pending appointment whose deadline has not passed; `None`
/// otherwise. [`cancel`] refuses a patient by this rule, and the portal shows it.
pub fn cancellable_until(
    org: &Organisation,
    status: AppointmentStatus,
    start_ns: i64,
    now_ns: i64,
) -> Option<i64> {
    let until = cancel_deadline(org, start_ns);
    (status.is_changeable() && now_ns <= until).then_some(until)
}

/// A cancellation reason as kept: trimmed, `None` when empty, refused naming the field
/// `reason` when longer than [`CANCEL_REASON_MAX`] characters.
pub fn cancel_reason(reason: &str) -> Result<Option<String>> {
    let reason = reason.trim();
    if reason.chars().count() > CANCEL_REASON_MAX {
        return Err(Error::invalid(
            "reason",
            format!("must be at most {CANCEL_REASON_MAX} characters"),
        ));
    }
    Ok((!reason.is_empty()).then(|| reason.to_owned()))
}

/// Cancels an appointment, keeping the optional `reason` (see [`cancel_reason`]), who
/// cancelled and the status it had, which [`restore`] brings back. A patient may cancel
/// only their own, and only until the organisation's cancellation notice before the
/// start ([`Error::TooLate`]; see [`cancellable_until`]). The emails `notify` composes
/// are queued with the change.
pub async fn cancel(
    db: &Db,
    org: &Organisation,
    id: i64,
    actor: Actor,
    reason: &str,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<Appointment> {
    let reason = cancel_reason(reason)?;
    let mut tx = db.begin().await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    if let Actor::Patient(p) = actor
        && appointment.patient_id != Some(p)
    {
        return Err(Error::NotFound("appointment"));
    }
    lock_practitioner(&mut tx, org.id, appointment.practitioner_id).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    if !appointment.status.is_changeable() {
        return Err(Error::invalid(
            "status",
            format!("a {} appointment cannot be cancelled", appointment.status),
        ));
    }
    let now = clock.now_ns();
    if let Actor::Patient(_) = actor
        && cancellable_until(org, appointment.status, appointment.start_ns, now).is_none()
    {
        return Err(Error::TooLate {
            until_ns: cancel_deadline(org, appointment.start_ns),
        });
    }
    set_status(
        &mut tx,
        org.id,
        id,
        AppointmentStatus::Cancelled,
        "",
        actor,
        now,
    )
    .await?;
    note_cancellation(
        &mut tx,
        org.id,
        id,
        appointment.status,
        reason.as_deref(),
        actor,
        now,
    )
    .await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &actor.label(),
        "appointment.cancel",
        "appointment",
        Some(id),
        serde_json::json!({ "previous_status": appointment.status, "reason": reason }),
        now,
    )
    .await?;
    let updated = get(tx.exec(), org.id, id).await?;
    queue_notices(&mut tx, org.id, notify, &updated, now).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Staff's answer to a pending portal booking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Book it.
    Accept,
    /// Decline it (cancels it), with a note for the patient.
    Decline,
}

/// Accepts or declines a pending booking, queueing the emails `notify` composes with
/// the change.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    db: &Db,
    org: &Organisation,
    id: i64,
    decision: Decision,
    note: &str,
    staff: Actor,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<Appointment> {
    if note.len() > 1000 {
        return Err(Error::invalid("note", "must be at most 1000 characters"));
    }
    let mut tx = db.begin().await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    lock_practitioner(&mut tx, org.id, appointment.practitioner_id).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    if appointment.status != AppointmentStatus::Pending {
        return Err(Error::invalid(
            "status",
            format!("this appointment is {}, not pending", appointment.status),
        ));
    }
    let (status, action) = match decision {
        Decision::Accept => (AppointmentStatus::Booked, "appointment.accept"),
        Decision::Decline => (AppointmentStatus::Cancelled, "appointment.decline"),
    };
    let now = clock.now_ns();
    set_status(&mut tx, org.id, id, status, note.trim(), staff, now).await?;
    if status == AppointmentStatus::Cancelled {
        note_cancellation(
            &mut tx,
            org.id,
            id,
            AppointmentStatus::Pending,
            None,
            staff,
            now,
        )
        .await?;
    }
    crate::audit::record(
        &mut tx,
        org.id,
        &staff.label(),
        action,
        "appointment",
        Some(id),
        serde_json::json!({ "note": note.trim() }),
        now,
    )
    .await?;
    let updated = get(tx.exec(), org.id, id).await?;
    queue_notices(&mut tx, org.id, notify, &updated, now).await?;
    tx.commit().await?;
    Ok(updated)
}

/// How long before its start the desk may mark a patient arrived: people come early,
/// but an arrival marked days ahead is a slip of the mouse.
pub const ARRIVE_EARLY_NS: i64 = 2 * 3_600_000_000_000;

/// Whether the desk may set `to` on an appointment in status `from` starting at
/// `start_ns`, seen at `now_ns`; `Err` says why not, in words for the desk.
///
/// - `arrived`: from booked, from [`ARRIVE_EARLY_NS`] before the start on (no upper
///   bound: a late arrival may be recorded late);
/// - `completed`: from booked or arrived, once the start has come;
/// - `no_show`: from booked, once the start has come;
/// - `booked` (the undo): from arrived, completed or no-show.
pub fn desk_transition(
    from: AppointmentStatus,
    to: AppointmentStatus,
    start_ns: i64,
    now_ns: i64,
) -> std::result::Result<(), String> {
    use AppointmentStatus::{Arrived, Booked, Cancelled, Completed, NoShow, Pending};
    let words = |s: AppointmentStatus| s.as_str().replace('_', "-");
    match (from, to) {
        (Booked, Arrived) if now_ns >= start_ns - ARRIVE_EARLY_NS => Ok(()),
        (Booked, Arrived) => Err(
            "a patient can be marked arrived only from 2 hours before the appointment's start"
                .to_owned(),
        ),
        (Booked | Arrived, Completed) | (Booked, NoShow) if now_ns >= start_ns => Ok(()),
        (Booked | Arrived, Completed) | (Booked, NoShow) => Err(format!(
            "an appointment can be marked {} only once it has started",
            words(to)
        )),
        (Arrived | Completed | NoShow, Booked) => Ok(()),
        (Pending, _) => {
            Err("this appointment is a pending request: accept or decline it first".to_owned())
        }
        (Cancelled, _) => Err(format!(
            "a cancelled appointment cannot be marked {}",
            words(to)
        )),
        (_, Pending | Cancelled) => Err("must be arrived, completed, no_show or booked".to_owned()),
        (from, to) if from == to => Err(format!("it is already {}", words(to))),
        (from, to) => Err(format!(
            "an appointment marked {} cannot be marked {}: undo the mark first",
            words(from),
            words(to)
        )),
    }
}

/// Sets a desk status (staff): arrived, completed or no-show, or `booked` to undo one;
/// [`desk_transition`] says which changes are allowed when. Audited as
/// `appointment.mark`, or `appointment.unmark` for the undo, with the status before.
pub async fn mark(
    db: &Db,
    org: &Organisation,
    id: i64,
    status: AppointmentStatus,
    staff: Actor,
    clock: &dyn Clock,
) -> Result<Appointment> {
    let mut tx = db.begin().await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    lock_practitioner(&mut tx, org.id, appointment.practitioner_id).await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    let now = clock.now_ns();
    if appointment.patient_id.is_none() {
        return Err(Error::invalid(
            "status",
            "Blocked time has no patient to mark arrived, completed or no-show.",
        ));
    }
    desk_transition(appointment.status, status, appointment.start_ns, now)
        .map_err(|message| Error::invalid("status", message))?;
    set_status(
        &mut tx,
        org.id,
        id,
        status,
        &appointment.status_note,
        staff,
        now,
    )
    .await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &staff.label(),
        if status == AppointmentStatus::Booked {
            "appointment.unmark"
        } else {
            "appointment.mark"
        },
        "appointment",
        Some(id),
        serde_json::json!({ "status": status, "previous_status": appointment.status }),
        now,
    )
    .await?;
    let updated = get(tx.exec(), org.id, id).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Keeps who cancelled, when, why and from which status.
async fn note_cancellation(
    tx: &mut Tx,
    org: i64,
    id: i64,
    from: AppointmentStatus,
    reason: Option<&str>,
    actor: Actor,
    now: i64,
) -> Result<()> {
    execute!(
        tx.exec(),
        "UPDATE appointments SET cancel_reason = $3, cancelled_by = $4, cancelled_at_ns = $5, \
         cancelled_from = $6 WHERE org_id = $1 AND id = $2",
        org,
        id,
        reason,
        actor.label(),
        now,
        from.as_str()
    )?;
    Ok(())
}

/// Undoes a cancellation (staff): the appointment gets back the status it was
/// cancelled from, at the same time with the same practitioner, only if the engine
/// would book it there now as a staff booking without an override. Otherwise nothing
/// changes and [`Conflict::NeedsOverride`] names why (someone took the time meanwhile,
/// the schedule changed). Audited as `appointment.restore`; the emails `notify`
/// composes are queued with it.
pub async fn restore(
    db: &Db,
    org: &Organisation,
    id: i64,
    staff: Actor,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<Appointment> {
    let mut tx = db.begin().await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    lock_practitioner(&mut tx, org.id, appointment.practitioner_id).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    if appointment.status != AppointmentStatus::Cancelled {
        return Err(Error::invalid(
            "status",
            format!(
                "only a cancelled appointment can be restored; this one is {}",
                appointment.status.as_str().replace('_', "-")
            ),
        ));
    }
    let duration =
        u32::try_from((appointment.end_ns - appointment.start_ns).div_euclid(60_000_000_000))
            .unwrap_or(0);
    let start = Instant::from_unix_nanos(appointment.start_ns)
        .map_err(|e| Error::invalid("start", e.to_string()))?;
    // It takes back the places it held, checked as staff naming them; one that held
    // none (booked before rooms existed) is given the engine's pick.
    let held = super::resources::held_ids(tx.exec(), org.id, id).await?;
    let request = if held.is_empty() {
        super::resources::ResourceRequest::Auto
    } else {
        super::resources::ResourceRequest::Chosen(held)
    };
    let (fit, reasons) = staff_fit(
        &mut tx,
        org,
        appointment.practitioner_id,
        appointment.service_id,
        if appointment.service_id.is_none() {
            appointment.schedule_type_id
        } else {
            None
        },
        start,
        duration.max(1),
        appointment.telehealth,
        Some(id),
        KeptFree::Own(appointment.buffers()),
        &request,
    )
    .await?;
    // An appointment booked with an override comes back only with a new booking and a
    // new override: an undo never overrides anything on its own.
    if !reasons.is_empty() {
        return Err(Error::Conflict(Conflict::NeedsOverride { reasons }));
    }
    let status = appointment
        .cancelled_from
        .unwrap_or(AppointmentStatus::Booked);
    let now = clock.now_ns();
    execute!(
        tx.exec(),
        "UPDATE appointments SET status = $3, cancel_reason = NULL, cancelled_by = NULL, \
         cancelled_at_ns = NULL, cancelled_from = NULL, updated_by = $4, updated_at_ns = $5 \
         WHERE org_id = $1 AND id = $2",
        org.id,
        id,
        status.as_str(),
        staff.label(),
        now
    )?;
    super::resources::hold(&mut tx, org.id, id, &fit.resources).await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &staff.label(),
        "appointment.restore",
        "appointment",
        Some(id),
        serde_json::json!({
            "status": status,
            "cancel_reason": appointment.cancel_reason,
            "cancelled_by": appointment.cancelled_by,
        }),
        now,
    )
    .await?;
    let updated = get(tx.exec(), org.id, id).await?;
    queue_notices(&mut tx, org.id, notify, &updated, now).await?;
    tx.commit().await?;
    Ok(updated)
}
