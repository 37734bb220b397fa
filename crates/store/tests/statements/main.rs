//! Every statement the store runs on tenant data filters by one `org_id` equality, so
//! that a PostgreSQL distributed by organisation (Citus) routes it to one shard.
//!
//! The statements are those the store recorded while other suites ran
//! ([`store::statement_log`]): `scripts/test` runs the store's contract suite and the
//! web suite on PostgreSQL with `OPENSLOT_STATEMENT_LOG` set, then
//! `collected_statements_route_to_one_organisation` here. Recording at run time sees
//! the SQL that `format!` and the query builders assemble, which reading the source
//! would not.
//!
//! The rule, for each statement parsed by `sqlparser`:
//!
//! - every reference to a tenant table (one with an `org_id` column, read from the
//!   catalog of a freshly migrated database, except [`GLOBAL_TABLES`]), in any
//!   subquery, CTE, join, `UPDATE … FROM` or `DELETE … USING`, has its `org_id` equal
//!   to a bound parameter, directly or through other tenant tables' `org_id`s, by
//!   equalities in the `WHERE` and `ON` conjunctions of its query or of an enclosing
//!   one (joins between tenant tables on `org_id` keep their rows on one shard);
//! - all those equalities reach one and the same parameter: one organisation;
//! - every `INSERT` into a tenant table names `org_id`.
//!
//! A statement that must span organisations (the background workers' claims and
//! sweeps) says so in its text with a `/* fleet: reason */` comment, which reviewers
//! see at the statement; the test lists them and fails if one of them would route to
//! one organisation after all (a stale mark).

mod rule;

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use rule::{Catalog, Verdict};
use store::placement::GLOBAL_TABLES;

/// Fewer distinct statements than this means the suites did not run with the log on
/// (or ran on SQLite only), so the check would pass on too little.
const MINIMUM_STATEMENTS: usize = 350;

const POSTGRES_ENV: &str = "OPENSLOT_TEST_POSTGRES_URL";

/// The distinct statements recorded in `dir`, one JSON string per line in each file.
fn collected(dir: &Path) -> BTreeSet<String> {
    let mut statements = BTreeSet::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| {
        panic!(
            "{}: cannot read {}: {e}",
            store::statement_log::ENV,
            dir.display()
        )
    });
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a statement file reads");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let sql: String = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!(
                    "{}: line {line:?} is not a JSON string: {e}",
                    path.display()
                )
            });
            statements.insert(sql);
        }
    }
    statements
}

/// The tables of a freshly migrated PostgreSQL database and whether each has `org_id`.
async fn catalog() -> Catalog {
    let admin_url = std::env::var(POSTGRES_ENV)
        .unwrap_or_else(|_| panic!("needs PostgreSQL: set {POSTGRES_ENV}"));
    let name = format!("openslot_statements_{}", std::process::id());
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("PostgreSQL answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("CREATE DATABASE");
    let url = format!(
        "{}/{name}",
        admin_url.rsplit_once('/').expect("a URL with a database").0
    );
    let db = store::Db::connect(&url)
        .await
        .expect("the database migrates");
    db.close().await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("the new database answers");
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, EXISTS (SELECT 1 FROM pg_attribute a \
           WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')",
    )
    .fetch_all(&mut conn)
    .await
    .expect("the catalog reads");
    sqlx::Connection::close(conn)
        .await
        .expect("the connection closes");
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("DROP DATABASE");
    let global: Vec<&str> = GLOBAL_TABLES.iter().map(|(name, _)| *name).collect();
    Catalog::new(rows, &global)
}

#[tokio::test]
#[ignore = "reads the statements scripts/test collects: set OPENSLOT_STATEMENT_LOG and OPENSLOT_TEST_POSTGRES_URL"]
async fn collected_statements_route_to_one_organisation() {
    let env = store::statement_log::ENV;
    let dir = std::env::var_os(env)
        .unwrap_or_else(|| panic!("set {env} to the directory the suites recorded into"));
    let statements = collected(Path::new(&dir));
    assert!(
        statements.len() >= MINIMUM_STATEMENTS,
        "{env}: only {} distinct statements in {}; run the contract and web suites on PostgreSQL with it set first",
        statements.len(),
        Path::new(&dir).display()
    );
    let catalog = catalog().await;
    assert!(
        catalog.tenant_tables().count() >= 30,
        "the catalog names too few tenant tables: {:?}",
        catalog.tenant_tables().collect::<Vec<_>>()
    );
    let mut failures = Vec::new();
    let mut fleet = Vec::new();
    let mut reference_only = 0;
    for sql in &statements {
        match rule::check(sql, &catalog) {
            Verdict::OneOrganisation => {}
            Verdict::NoTenantTable => reference_only += 1,
            Verdict::Fleet(reason) => fleet.push(reason),
            Verdict::Refused(problems) => {
                failures.push(format!("{sql}\n  -> {}", problems.join("\n  -> ")))
            }
        }
    }
    let reasons: HashSet<&String> = fleet.iter().collect();
    println!(
        "statements: {} distinct checked, {} on one organisation, {} fleet-wide ({} reasons), {} on global tables only",
        statements.len(),
        statements.len() - fleet.len() - reference_only - failures.len(),
        fleet.len(),
        reasons.len(),
        reference_only
    );
    let mut reasons: Vec<&String> = reasons.into_iter().collect();
    reasons.sort();
    for reason in reasons {
        println!("  fleet: {reason}");
    }
    assert!(
        failures.is_empty(),
        "{} statements do not route to one organisation:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
