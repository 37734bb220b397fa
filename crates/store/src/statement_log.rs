//! A record of the distinct SQL texts the store runs on PostgreSQL, for the test that
//! checks each one routes to one organisation's shard (`tests/statements`).
//!
//! It is off unless the process starts with `OPENSLOT_STATEMENT_LOG` naming a
//! directory: then each process appends every SQL text it has not run before to its
//! own file there, one JSON string per line. Off, a statement costs one load of an
//! initialised [`OnceLock`].
//! Only PostgreSQL's statements are recorded: they are the ones a distributed
//! PostgreSQL routes, and SQLite's few differing texts use functions of its own.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The variable that names the directory the statements go to.
pub const ENV: &str = "OPENSLOT_STATEMENT_LOG";

/// The texts seen so far and the file they were appended to.
struct Log {
    seen: HashSet<String>,
    file: File,
}

static LOG: OnceLock<Option<Mutex<Log>>> = OnceLock::new();

fn open() -> Option<Mutex<Log>> {
    let dir = PathBuf::from(std::env::var_os(ENV)?);
    // A test run that asked for the record and cannot have it must not pass as if the
    // record were complete, and this runs only in tests, so failing loudly is right.
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("{ENV}: cannot create {}: {e}", dir.display()));
    let path = dir.join(format!("statements-{}.jsonl", std::process::id()));
    let file = File::options()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{ENV}: cannot open {}: {e}", path.display()));
    Some(Mutex::new(Log {
        seen: HashSet::new(),
        file,
    }))
}

/// Statements run on PostgreSQL by this process, log on or off.
static RUN: AtomicU64 = AtomicU64::new(0);

/// How many statements this process has run on PostgreSQL through the store (BEGIN and
/// COMMIT aside): the store bench counts a booking's with it.
pub fn statements_run() -> u64 {
    RUN.load(Ordering::Relaxed)
}

/// Counts `sql`, and records it when the log is on and the text is new to this process.
pub(crate) fn record(sql: &str) {
    RUN.fetch_add(1, Ordering::Relaxed);
    let Some(log) = LOG.get_or_init(open) else {
        return;
    };
    let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if log.seen.contains(sql) {
        return;
    }
    let line = serde_json::to_string(sql).expect("a string serialises");
    writeln!(log.file, "{line}")
        .unwrap_or_else(|e| panic!("{ENV}: cannot append a statement: {e}"));
    log.seen.insert(sql.to_owned());
}
