//! The booking lock: every change takes its practitioners' locks first, then reads the
//! organisation's settings again under them.

use crate::db::{Backend, Tx, scalar_optional};
use crate::error::{Error, Result};
use crate::organisation::{self, Organisation};

/// Takes the practitioner's booking lock for the rest of the transaction, and checks
/// the practitioner belongs to the organisation.
pub(super) async fn lock_practitioner(tx: &mut Tx, org: i64, practitioner: i64) -> Result<()> {
    let sql = match tx.backend() {
        // The transaction began with BEGIN IMMEDIATE and so already excludes every
        // other writer.
        Backend::Sqlite => "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2",
        Backend::Postgres => {
            "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2 FOR UPDATE"
        }
    };
    scalar_optional!(tx.exec(), i64, sql, org, practitioner)?
        .ok_or(Error::NotFound("practitioner"))?;
    Ok(())
}

/// Locks several practitioners in id order (no deadlocks between two movers).
pub(super) async fn lock_practitioners(
    tx: &mut Tx,
    org: i64,
    mut practitioners: Vec<i64>,
) -> Result<()> {
    practitioners.sort_unstable();
    practitioners.dedup();
    for p in practitioners {
        lock_practitioner(tx, org, p).await?;
    }
    Ok(())
}

/// The organisation as it is now, read under the lock: the caller's copy was read
/// before the transaction began, and a setting changed since (auto-accept, minimum
/// notice, days ahead, cancellation notice) must decide this change.
pub(super) async fn settings_now(tx: &mut Tx, org: i64) -> Result<Organisation> {
    organisation::by_id(tx.exec(), org).await
}
