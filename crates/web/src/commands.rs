//! One module per `openslot` command, each with its arguments (what `clap` parses) and
//! what it does; here what they share: [`Failure`], the database argument, input reading.

pub(crate) mod admin;
pub(crate) mod check;
pub(crate) mod gen_clinic;
pub(crate) mod gen_orgs;
pub(crate) mod serve;
pub(crate) mod slots;
pub(crate) mod transfer;

use std::io::Read;
use std::path::Path;

use clap::Args;

/// Where the database is: every command that uses it takes this.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// `sqlite://FILE` (created and migrated on first use) or `postgres://…`.
    #[arg(long, env = "OPENSLOT_DATABASE_URL", default_value = store::DEFAULT_DATABASE_URL, value_name = "URL")]
    pub database_url: String,
}

/// A command's failure: bad input (exit 2) or anything else (exit 1).
#[derive(Debug)]
pub(crate) enum Failure {
    /// Input that cannot be used: an invalid scenario, an unreadable file, an unknown
    /// id on the command line.
    BadInput(String),
    /// Anything else (e.g. standard output closed).
    Other(anyhow::Error),
}

impl From<store::Error> for Failure {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::Database(_) | store::Error::Migrate(_) => Failure::Other(e.into()),
            other => Failure::BadInput(other.to_string()),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Other(e.into())
    }
}

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
