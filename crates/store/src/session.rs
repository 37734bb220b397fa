//! Server-side sessions: opaque data keyed by the SHA-256 of the session id, so a
//! copy of the database holds no usable session id.

use crate::db::{Db, execute, rows};
use crate::error::Result;

/// A session as the database keeps it; what `data` holds is the web's session layer's
/// business (a tower-sessions record).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredSession {
    /// The session's data (JSON text).
    pub data: String,
    /// When it expires (ns since the Unix epoch).
    pub expires_at_ns: i64,
}

/// The session with this id hash, unless expired at `now_ns`.
pub async fn load(db: &Db, id_hash: &[u8], now_ns: i64) -> Result<Option<StoredSession>> {
    let mut conn = db.conn().await?;
    Ok(rows!(
        conn.exec(),
        fetch_optional,
        StoredSession,
        "SELECT data, expires_at_ns FROM sessions WHERE id_hash = $1 AND expires_at_ns > $2",
        id_hash,
        now_ns
    )?)
}

/// Creates a session; `false` when the id hash is already taken.
pub async fn create(db: &Db, id_hash: &[u8], data: &str, expires_at_ns: i64) -> Result<bool> {
    let mut tx = db.begin().await?;
    let n = execute!(
        tx.exec(),
        "INSERT INTO sessions (id_hash, data, expires_at_ns) VALUES ($1, $2, $3) ON CONFLICT (id_hash) DO NOTHING",
        id_hash,
        data,
        expires_at_ns
    )?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Saves a changed session, only if it still exists: a request that read the session
/// before it was deleted (signed out, or ended) must not bring it back when it saves.
/// New sessions go through [`create`].
pub async fn save(db: &Db, id_hash: &[u8], data: &str, expires_at_ns: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    execute!(
        tx.exec(),
        "UPDATE sessions SET data = $2, expires_at_ns = $3 WHERE id_hash = $1",
        id_hash,
        data,
        expires_at_ns
    )?;
    tx.commit().await?;
    Ok(())
}

/// Moves an unchanged session's expiry to `expires_at_ns` (a session in use lives on).
pub async fn extend(db: &Db, id_hash: &[u8], expires_at_ns: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    execute!(
        tx.exec(),
        "UPDATE sessions SET expires_at_ns = $2 WHERE id_hash = $1 AND expires_at_ns < $2",
        id_hash,
        expires_at_ns
    )?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a session; one already gone is no error. A request still holding it cannot
/// bring it back ([`save`] only updates).
pub async fn delete(db: &Db, id_hash: &[u8]) -> Result<()> {
    let mut tx = db.begin().await?;
    execute!(
        tx.exec(),
        "DELETE FROM sessions WHERE id_hash = $1",
        id_hash
    )?;
    tx.commit().await?;
    Ok(())
}

/// Deletes sessions expired at `now_ns`; returns how many.
pub async fn purge_expired(db: &Db, now_ns: i64) -> Result<u64> {
    let mut tx = db.begin().await?;
    let n = execute!(
        tx.exec(),
        "DELETE FROM sessions WHERE expires_at_ns <= $1",
        now_ns
    )?;
    tx.commit().await?;
    Ok(n)
}
