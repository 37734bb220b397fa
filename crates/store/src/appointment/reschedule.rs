//! Moving an appointment: one atomic change, checked at its new place as if it were
//! not at its old one, under the locks of both practitioners it touches.

use slot_engine::Instant;

use crate::db::{Db, Tx, execute};
use crate::error::{Conflict, Error, Result};
use crate::organisation::{self, Organisation};
use crate::time::Clock;

use super::locking::{lock_practitioners, settings_now};
use super::queries::get;
use super::resources::ResourceRequest;
use super::staff_booking::{KeptFree, override_reason, staff_fit};
use super::{Actor, Appointment, Notify, queue_notices};

/// Moving an appointment (staff).
#[derive(Clone, Debug)]
pub struct Move {
    /// Who moves it: a staff user, or an API key (which may not override).
    pub staff: Actor,
    /// The appointment.
    pub appointment: i64,
    /// Its new start.
    pub start: Instant,
    /// Its new practitioner (default: the same).
    pub practitioner: Option<i64>,
    /// Its new length (default: the same).
    pub duration_minutes: Option<u32>,
    /// Set to move despite the engine's reasons.
    pub override_reason: Option<String>,
    /// The rooms and equipment it holds at its new time: `None` lets the engine pick
    /// again for its service at the new time; a list names them.
    pub resources: Option<Vec<i64>>,
}

/// Moves an appointment as one atomic change: checked at its new place as if it were
/// not at its old one, under both practitioners' locks. The emails `notify` composes
/// are queued with the move.
pub async fn reschedule(
    db: &Db,
    org: &Organisation,
    m: &Move,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<Appointment> {
    let reason = override_reason(m.staff, &m.override_reason)?;
    let (mut tx, old) = lock_for_move(db, org.id, m.appointment, m.practitioner).await?;
    let practitioner = m.practitioner.unwrap_or(old.practitioner_id);
    let org = &settings_now(&mut tx, org.id).await?;
    if !old.status.is_changeable() {
        return Err(Error::invalid(
            "status",
            format!("a {} appointment cannot be moved", old.status),
        ));
    }
    let duration = match m.duration_minutes {
        Some(d) => d,
        None => u32::try_from((old.end_ns - old.start_ns).div_euclid(60_000_000_000)).unwrap_or(0),
    };
    if !(1..=1440).contains(&duration) {
        return Err(Error::invalid(
            "duration_minutes",
            "must be between 1 and 1440",
        ));
    }
    let (fit, reasons) = staff_fit(
        &mut tx,
        org,
        practitioner,
        old.service_id,
        if old.service_id.is_none() {
            old.schedule_type_id
        } else {
            None
        },
        m.start,
        duration,
        old.telehealth,
        Some(old.id),
        // A move keeps the buffers it was booked with, whatever its service's are now.
        KeptFree::Own(old.buffers()),
        &match &m.resources {
            None => ResourceRequest::Auto,
            Some(list) => ResourceRequest::Chosen(list.clone()),
        },
    )
    .await?;
    if !reasons.is_empty() && reason.is_none() {
        return Err(Error::Conflict(Conflict::NeedsOverride { reasons }));
    }
    let now = clock.now_ns();
    let start_ns = m.start.unix_nanos();
    let end_ns = start_ns + i64::from(duration) * 60_000_000_000;
    let overridden = !reasons.is_empty();
    execute!(
        tx.exec(),
        "UPDATE appointments SET practitioner_id = $3, start_ns = $4, end_ns = $5, \
         schedule_type_id = COALESCE($6, schedule_type_id), clinic_id = $7, \
         override_reason = $8, override_by = $9, updated_by = $10, updated_at_ns = $11, \
         sequence = sequence + 1 \
         WHERE org_id = $1 AND id = $2",
        org.id,
        old.id,
        practitioner,
        start_ns,
        end_ns,
        fit.schedule_type,
        fit.clinic,
        if overridden { reason.clone() } else { None },
        if overridden { m.staff.staff_id() } else { None },
        m.staff.label(),
        now
    )?;
    organisation::note_appointment_length(&mut tx, org.id, end_ns - start_ns).await?;
    super::resources::hold(&mut tx, org.id, old.id, &fit.resources).await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &m.staff.label(),
        if overridden { "appointment.reschedule_override" } else { "appointment.reschedule" },
        "appointment",
        Some(old.id),
        serde_json::json!({
            "from": { "practitioner_id": old.practitioner_id, "start_ns": old.start_ns, "end_ns": old.end_ns },
            "to": { "practitioner_id": practitioner, "start_ns": start_ns, "end_ns": end_ns },
            "override_reason": if overridden { reason } else { None },
            "overridden": reasons,
        }),
        now,
    )
    .await?;
    let updated = get(tx.exec(), org.id, old.id).await?;
    queue_notices(&mut tx, org.id, notify, &updated, now).await?;
    tx.commit().await?;
    Ok(updated)
}

/// How many times a move starts again when the appointment changed practitioner
/// between its first read and the locks.
const MOVE_ATTEMPTS: usize = 3;

/// Begins a move's transaction holding the locks of both practitioners it touches,
/// the appointment's and the target, and returns the appointment as read under them.
/// Which practitioner is the appointment's is known only from a read before the
/// locks; if another move changed it meanwhile, the locks held may not cover it, so
/// the transaction rolls back and starts again, always locking in id order.
pub(super) async fn lock_for_move(
    db: &Db,
    org: i64,
    appointment: i64,
    target: Option<i64>,
) -> Result<(Tx, Appointment)> {
    for _ in 0..MOVE_ATTEMPTS {
        let mut tx = db.begin().await?;
        let seen = get(tx.exec(), org, appointment).await?;
        let locked = vec![seen.practitioner_id, target.unwrap_or(seen.practitioner_id)];
        lock_practitioners(&mut tx, org, locked.clone()).await?;
        let old = get(tx.exec(), org, appointment).await?;
        if locked.contains(&old.practitioner_id) {
            return Ok((tx, old));
        }
    }
    Err(Error::invalid(
        "appointment",
        "it was being moved by someone else at the same time; please try again",
    ))
}
