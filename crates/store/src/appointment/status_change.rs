//! Changing an appointment's status: cancelling (a patient only until the
//! cancellation notice), accepting or declining a pending portal booking, and marking
//! a past one completed or a no-show.

use crate::db::{Db, Tx, execute};
use crate::error::{Error, Result};
use crate::organisation::Organisation;
use crate::time::Clock;

use super::locking::{lock_practitioner, settings_now};
use super::queries::get;
use super::{Actor, Appointment, AppointmentStatus, Notify, queue_notices};

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
fn cancel_deadline(org: &Organisation, start_ns: i64) -> i64 {
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

/// Cancels an appointment. A patient may cancel only their own, and only until the
/// organisation's cancellation notice before the start ([`Error::TooLate`]; see
/// [`cancellable_until`]). The emails `notify` composes are queued with the change.
pub async fn cancel(
    db: &Db,
    org: &Organisation,
    id: i64,
    actor: Actor,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<Appointment> {
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
    crate::audit::record(
        &mut tx,
        org.id,
        &actor.label(),
        "appointment.cancel",
        "appointment",
        Some(id),
        serde_json::json!({ "previous_status": appointment.status }),
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
    staff: i64,
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
    set_status(
        &mut tx,
        org.id,
        id,
        status,
        note.trim(),
        Actor::Staff(staff),
        now,
    )
    .await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &Actor::Staff(staff).label(),
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

/// Marks a past appointment completed or a no-show (staff).
pub async fn mark(
    db: &Db,
    org: &Organisation,
    id: i64,
    status: AppointmentStatus,
    staff: i64,
    clock: &dyn Clock,
) -> Result<Appointment> {
    if !matches!(
        status,
        AppointmentStatus::Completed | AppointmentStatus::NoShow | AppointmentStatus::Booked
    ) {
        return Err(Error::invalid(
            "status",
            "must be completed, no_show or booked",
        ));
    }
    let mut tx = db.begin().await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    if matches!(
        appointment.status,
        AppointmentStatus::Cancelled | AppointmentStatus::Pending
    ) {
        return Err(Error::invalid(
            "status",
            format!(
                "a {} appointment cannot be marked {status}",
                appointment.status
            ),
        ));
    }
    let now = clock.now_ns();
    set_status(&mut tx, org.id, id, status, "", Actor::Staff(staff), now).await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &Actor::Staff(staff).label(),
        "appointment.mark",
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
