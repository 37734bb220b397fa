//! A fresh database for one test: a SQLite file in its own temporary folder, or a new
//! PostgreSQL database on the server `OPENSLOT_TEST_POSTGRES_URL` names, dropped when
//! the value is dropped (with `psql`, so it works from sync and async tests alike).

use std::path::Path;
use std::process::Command;

use crate::support::Backend;

/// Where PostgreSQL tests create their databases.
pub(crate) const POSTGRES_ENV: &str = "OPENSLOT_TEST_POSTGRES_URL";

/// A database that lives as long as this value.
pub(crate) struct TestDatabase {
    /// Its URL, for `Db::connect` or `--database-url`.
    pub(crate) url: String,
    /// A temporary folder for the test's files (the SQLite file lives there).
    dir: tempfile::TempDir,
    /// The administrative URL and the name of the PostgreSQL database to drop.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A new, empty database; `label` goes into the PostgreSQL database's name.
    pub(crate) fn fresh(backend: Backend, label: &str) -> TestDatabase {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => TestDatabase {
                url: format!("sqlite://{}", dir.path().join("openslot.db").display()),
                dir,
                postgres: None,
            },
            Backend::Postgres => {
                let admin = std::env::var(POSTGRES_ENV)
                    .unwrap_or_else(|_| panic!("needs PostgreSQL: set {POSTGRES_ENV}"));
                let name = format!(
                    "openslot_{label}_{}_{}",
                    std::process::id(),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_nanos()
                        % 1_000_000_000_000
                );
                psql(&admin, &format!("CREATE DATABASE {name}"));
                let base = admin.rsplit_once('/').unwrap().0;
                TestDatabase {
                    url: format!("{base}/{name}"),
                    dir,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    /// The test's temporary folder.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres {
            psql(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn psql(admin: &str, command: &str) {
    let status = Command::new("psql")
        .args([admin, "-qc", command])
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql: {command}");
}
