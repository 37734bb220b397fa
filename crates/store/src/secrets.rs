//! Secrets every server instance shares, kept in the database: the first instance that
//! needs one creates it at random, the others read it.

use crate::db::{Db, execute, scalar};
use crate::error::Result;

/// The secret called `name`; created from `fresh` if there is none yet.
pub async fn get_or_create(db: &Db, name: &str, fresh: &str) -> Result<String> {
    let mut tx = db.begin().await?;
    execute!(
        tx.exec(),
        "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name,
        fresh
    )?;
    let value = scalar!(
        tx.exec(),
        String,
        "SELECT value FROM server_secrets WHERE name = $1",
        name
    )?;
    tx.commit().await?;
    Ok(value)
}
