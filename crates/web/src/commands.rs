//! One module per `openslot` command.

pub mod admin;
pub mod check;
pub mod gen_clinic;
pub mod serve;
pub mod slots;
pub mod transfer;

use std::io::Read;
use std::path::Path;

use crate::cli::Failure;

/// Reads a scenario file, or standard input for `-`.
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::BadInput(format!("cannot read standard input: {e}")))?;
        Ok(bytes)
    } else {
        std::fs::read(path)
            .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", path.display())))
    }
}

/// Runs an async command body on a runtime of its own.
pub(crate) fn block_on<T>(future: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(e.into()))?
        .block_on(future)
}

/// Connects to the database, or explains why not (exit 2: the URL is input).
pub(crate) async fn connect(url: &str) -> Result<store::Db, Failure> {
    store::Db::connect(url)
        .await
        .map_err(|e| Failure::BadInput(format!("--database-url: cannot open {url}: {e}")))
}

/// The organisation with this slug, or a bad-input failure naming it.
pub(crate) async fn organisation(
    db: &store::Db,
    slug: &str,
) -> Result<store::Organisation, Failure> {
    let mut conn = db.conn().await?;
    store::organisation::by_slug(conn.exec(), slug)
        .await?
        .ok_or_else(|| Failure::BadInput(format!("--org: no organisation {slug:?}")))
}
