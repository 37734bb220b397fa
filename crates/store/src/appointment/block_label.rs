//! What a block of time is for: time blocked for a practitioner is a staff booking
//! without a patient, and its label (`Lunch`, `Training`) says why, so the book shows
//! it rather than an empty booking.

use crate::db::{Db, execute};
use crate::error::{Error, Result};
use crate::time::Clock;

use super::Actor;

/// The longest label.
pub const BLOCK_LABEL_MAX_CHARS: usize = 100;

/// Labels the block `id` (an appointment without a patient) with `label`, kept in its
/// note, and audits it in the same transaction. An appointment with a patient is not a
/// block: [`Error::NotFound`].
pub async fn label_block(
    db: &Db,
    org: i64,
    id: i64,
    label: &str,
    actor: Actor,
    clock: &dyn Clock,
) -> Result<()> {
    let label = label.trim();
    if label.chars().count() > BLOCK_LABEL_MAX_CHARS {
        return Err(Error::invalid(
            "block_label",
            format!("must be at most {BLOCK_LABEL_MAX_CHARS} characters"),
        ));
    }
    let now = clock.now_ns();
    let mut tx = db.begin().await?;
    let changed = execute!(
        tx.exec(),
        "UPDATE appointments SET status_note = $3, updated_by = $4, updated_at_ns = $5 \
         WHERE org_id = $1 AND id = $2 AND patient_id IS NULL",
        org,
        id,
        label,
        actor.label(),
        now
    )?;
    if changed == 0 {
        return Err(Error::NotFound("appointment"));
    }
    crate::audit::record(
        &mut tx,
        org,
        &actor.label(),
        "appointment.block_labelled",
        "appointment",
        Some(id),
        serde_json::json!({ "label": label }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
