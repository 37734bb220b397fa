//! The append-only audit log: who created, changed, cancelled or overrode what, when.
//! The schema refuses updates and deletes of its rows.

use serde::Serialize;

use crate::db::{Exec, Tx, execute, rows};
use crate::error::Result;

/// One action by one actor, as [`record`] stored it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Entry {
    /// Row id; it increases with every entry, so it orders the log (see [`recent`]).
    pub id: i64,
    /// When (ns since the Unix epoch).
    pub at_ns: i64,
    /// Who: `staff:3`, `patient:12`, `import`, `system`.
    pub actor: String,
    /// What: `appointment.book`, `appointment.override`, `schedule_type.update`, …
    pub action: String,
    /// The kind of thing changed: `appointment`, `service`, `staff`, `organisation`, …
    pub entity: String,
    /// The changed row's id in `entity`'s table; `None` when the action names no one row.
    pub entity_id: Option<i64>,
    /// Details, as JSON text.
    pub details: String,
}

/// Appends an entry in the caller's transaction, so it commits with the change.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &mut Tx,
    org: i64,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    details: serde_json::Value,
    at_ns: i64,
) -> Result<()> {
    execute!(
        tx.exec(),
        "INSERT INTO audit_log (org_id, at_ns, actor, action, entity, entity_id, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        org,
        at_ns,
        actor,
        action,
        entity,
        entity_id,
        details.to_string()
    )?;
    Ok(())
}

/// The latest `limit` entries, newest first, optionally about one entity.
pub async fn recent(
    exec: Exec<'_>,
    org: i64,
    entity: Option<(&str, i64)>,
    limit: i64,
) -> Result<Vec<Entry>> {
    let (kind, id) = entity.map_or(("", -1), |(k, i)| (k, i));
    Ok(rows!(
        exec,
        fetch_all,
        Entry,
        "SELECT id, at_ns, actor, action, entity, entity_id, details FROM audit_log \
         WHERE org_id = $1 AND ($2 = '' OR (entity = $2 AND entity_id = $3)) \
         ORDER BY id DESC LIMIT $4",
        org,
        kind,
        id,
        limit
    )?)
}
