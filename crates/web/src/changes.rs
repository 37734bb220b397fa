//! Setup changes made by staff: one transaction that applies the change, checks the
//! organisation's whole setup against the scenario rules (so an invalid setup is never
//! saved, and the error names the item), records who did it, and commits.

use serde_json::Value;
use store::Tx;

use crate::auth::staff::Acting;
use crate::error::AppError;
use crate::state::AppState;

/// What was changed, for the audit log.
#[derive(Debug)]
pub(crate) struct Change<'a> {
    /// E.g. `clinic.update`.
    pub action: &'a str,
    /// E.g. `clinic`.
    pub entity: &'a str,
}

/// Applies a setup change made by `staff`; returns what `apply` returned.
pub(crate) async fn setup<T>(
    state: &AppState,
    staff: &impl Acting,
    change: Change<'_>,
    apply: impl AsyncFnOnce(&mut Tx) -> store::Result<(T, Option<i64>, Value)>,
) -> Result<T, store::Error> {
    let mut tx = state.db.begin().await?;
    let (value, id, details) = apply(&mut tx).await?;
    store::transfer::check_setup(&mut tx, staff.org().id).await?;
    store::audit::record(
        &mut tx,
        staff.org().id,
        &staff.actor(),
        change.action,
        change.entity,
        id,
        details,
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await?;
    // A new availability record, time off ended, a service put online: any setup
    // change may open times the waitlist is waiting for.
    state.mail.wake_waitlist();
    Ok(value)
}

/// Like [`setup`], for handlers that answer [`AppError`].
pub(crate) async fn setup_api<T>(
    state: &AppState,
    staff: &impl Acting,
    change: Change<'_>,
    apply: impl AsyncFnOnce(&mut Tx) -> store::Result<(T, Option<i64>, Value)>,
) -> Result<T, AppError> {
    setup(state, staff, change, apply)
        .await
        .map_err(AppError::from)
}

/// The audit details of an update: the fields as saved (`after`), and under `"before"`
/// the same fields as they were, so that the audit page can say what changed from what.
pub(crate) fn update_details(before: Value, after: Value) -> Value {
    match after {
        Value::Object(mut fields) => {
            fields.insert("before".to_owned(), before);
            Value::Object(fields)
        }
        other => serde_json::json!({"after": other, "before": before}),
    }
}
