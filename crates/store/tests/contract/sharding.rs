//! Ready to shard (issue 19, migration 0033): on PostgreSQL every table of an
//! organisation's rows is keyed by `org_id`, so a distributed PostgreSQL (Citus,
//! distributing by `org_id`) can keep each organisation's rows on one node. Read from
//! the database's own catalogue, so a new table, key or foreign key is covered or fails
//! here. SQLite is one instance and is not sharded: these tests are PostgreSQL's only.

use std::collections::BTreeMap;

use store::Exec;
use store::placement::{GLOBAL_TABLES, Placement};

use crate::TestDb;

/// A foreign key: its table, name, referenced table, and the columns on each side in
/// order.
type ForeignKey = (String, String, String, Vec<String>, Vec<String>);

/// Every break of the rule in the schema, one sentence each (empty when it holds).
async fn violations(t: &TestDb) -> Vec<String> {
    let mut conn = t.db.conn().await.unwrap();
    let Exec::Postgres(c) = conn.exec() else {
        panic!("the catalogue check reads PostgreSQL's catalogue");
    };
    let tables: Vec<(String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
           AND a.attname = 'org_id' AND NOT a.attisdropped) \
         FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    // Unique indexes: primary keys, unique constraints and unique indexes alike.
    let keys: Vec<(String, String, bool, bool)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, x.indisprimary, \
           COALESCE((SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'org_id') \
             = ANY (x.indkey::int2[]), false) \
         FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
         WHERE t.relnamespace = 'public'::regnamespace AND x.indisunique",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    // Foreign keys with their columns in order, on both sides.
    let references: Vec<ForeignKey> = sqlx::query_as(
        "SELECT t.relname::text, k.conname::text, r.relname::text, \
           ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i) \
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i), \
           ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i) \
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) \
         FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid \
         WHERE k.contype = 'f' AND t.relnamespace = 'public'::regnamespace",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let global: BTreeMap<&str, Placement> = GLOBAL_TABLES.iter().copied().collect();
    let tenant = |table: &str| {
        tables.iter().any(|(t, org)| t == table && *org) && !global.contains_key(table)
    };
    let mut found = Vec::new();
    for (name, _) in GLOBAL_TABLES {
        if !tables.iter().any(|(t, _)| t == name) {
            found.push(format!(
                "{name} is declared global but is not in the schema"
            ));
        }
    }
    for (table, has_org) in &tables {
        match (global.contains_key(table.as_str()), has_org) {
            (true, true) => found.push(format!(
                "{table} is declared global but has org_id: distribute it (or drop the column)"
            )),
            (false, false) => found.push(format!(
                "{table} has no org_id and is not declared global: give it org_id or declare it in GLOBAL_TABLES and docs/scaling.md"
            )),
            _ => {}
        }
        if tenant(table) && !keys.iter().any(|(t, _, primary, _)| t == table && *primary) {
            found.push(format!("{table} has no primary key"));
        }
    }
    for (table, index, primary, names_org) in &keys {
        if tenant(table) && !names_org {
            let what = if *primary {
                "primary key"
            } else {
                "unique key"
            };
            found.push(format!("{table}: {what} {index} does not name org_id"));
        }
    }
    for (table, name, referenced, columns, referenced_columns) in &references {
        let (from_tenant, to_tenant) = (tenant(table), tenant(referenced));
        if !from_tenant && to_tenant {
            found.push(format!(
                "{table}: foreign key {name} points from a global table at the tenant table {referenced}"
            ));
        }
        if from_tenant
            && !to_tenant
            && global.get(referenced.as_str()) != Some(&Placement::Reference)
        {
            found.push(format!(
                "{table}: foreign key {name} points at {referenced}, which is not a reference table"
            ));
        }
        if from_tenant && to_tenant {
            let org_maps_to_org = columns
                .iter()
                .zip(referenced_columns)
                .any(|(c, r)| c == "org_id" && r == "org_id");
            if !org_maps_to_org {
                found.push(format!(
                    "{table}: foreign key {name} ({}) -> {referenced} ({}) does not carry org_id to org_id",
                    columns.join(", "),
                    referenced_columns.join(", ")
                ));
            }
        }
    }
    found.sort();
    found
}

async fn every_tenant_table_is_keyed_by_organisation(t: &TestDb) {
    assert_eq!(violations(t).await, Vec::<String>::new());
    // The rule is about something: most of the schema is an organisation's.
    let mut conn = t.db.conn().await.unwrap();
    let Exec::Postgres(c) = conn.exec() else {
        unreachable!("PostgreSQL only")
    };
    let tenant_tables: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT table_name) FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_name = 'org_id'",
    )
    .fetch_one(&mut *c)
    .await
    .unwrap();
    assert!(tenant_tables >= 45, "{tenant_tables} tenant tables");
}

async fn each_kind_of_break_is_found(t: &TestDb) {
    let mut conn = t.db.conn().await.unwrap();
    let Exec::Postgres(c) = conn.exec() else {
        unreachable!("PostgreSQL only")
    };
    for sql in [
        "CREATE TABLE unclassified (id BIGINT PRIMARY KEY)",
        "ALTER TABLE sessions ADD COLUMN org_id BIGINT",
        "ALTER TABLE time_off DROP CONSTRAINT time_off_pkey, ADD CONSTRAINT time_off_pkey PRIMARY KEY (id)",
        "CREATE UNIQUE INDEX clinics_name_everywhere ON clinics (name)",
        "ALTER TABLE practitioners ADD CONSTRAINT practitioners_id UNIQUE (id)",
        "ALTER TABLE appointments ADD CONSTRAINT appointments_plain FOREIGN KEY (practitioner_id) \
         REFERENCES practitioners (id)",
        "ALTER TABLE patients ADD CONSTRAINT patients_id_org UNIQUE (id, org_id)",
        "ALTER TABLE appointments ADD CONSTRAINT appointments_crossed FOREIGN KEY (org_id, patient_id) \
         REFERENCES patients (id, org_id)",
    ] {
        sqlx::query(sql).execute(&mut *c).await.unwrap();
    }
    drop(conn);
    assert_eq!(
        violations(t).await,
        [
            "appointments: foreign key appointments_crossed (org_id, patient_id) -> patients (id, org_id) does not carry org_id to org_id",
            "appointments: foreign key appointments_plain (practitioner_id) -> practitioners (id) does not carry org_id to org_id",
            "clinics: unique key clinics_name_everywhere does not name org_id",
            "practitioners: unique key practitioners_id does not name org_id",
            "sessions is declared global but has org_id: distribute it (or drop the column)",
            "time_off: primary key time_off_pkey does not name org_id",
            "unclassified has no org_id and is not declared global: give it org_id or declare it in GLOBAL_TABLES and docs/scaling.md",
        ]
    );
}

/// The Citus DDL and the placement table of docs/scaling.md, checked against the
/// schema: the page names every tenant table once, in an order that distributes the
/// tables a foreign key points at first, and places the global tables as
/// [`GLOBAL_TABLES`] does.
async fn the_scaling_page_matches_the_schema(t: &TestDb) {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/scaling.md"
    ))
    .expect("docs/scaling.md");
    let quoted = |line: &str, call: &str| {
        line.split_once(call)
            .and_then(|(_, rest)| rest.split_once('\''))
            .map(|(name, _)| name.to_owned())
    };
    let distributed: Vec<String> = page
        .lines()
        .filter_map(|l| quoted(l, "create_distributed_table('"))
        .collect();
    let reference: Vec<String> = page
        .lines()
        .filter_map(|l| quoted(l, "create_reference_table('"))
        .collect();
    let placements: Vec<(String, String)> = page
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", name, placement, _, ""] if name.starts_with('`') => {
                    Some((name.trim_matches('`').to_owned(), (*placement).to_owned()))
                }
                _ => None,
            }
        })
        .collect();
    let declared: Vec<(String, String)> = GLOBAL_TABLES
        .iter()
        .map(|(n, p)| ((*n).to_owned(), p.name().to_owned()))
        .collect();
    assert_eq!(
        placements, declared,
        "the placement table of docs/scaling.md"
    );
    let declared_reference: Vec<String> = GLOBAL_TABLES
        .iter()
        .filter(|(_, p)| *p == Placement::Reference)
        .map(|(n, _)| (*n).to_owned())
        .collect();
    assert_eq!(reference, declared_reference);

    let mut conn = t.db.conn().await.unwrap();
    let Exec::Postgres(c) = conn.exec() else {
        unreachable!("PostgreSQL only")
    };
    let mut tenant: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT table_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND column_name = 'org_id'",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let references: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.relname::text, r.relname::text FROM pg_constraint k \
         JOIN pg_class t ON t.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid \
         WHERE k.contype = 'f' AND t.relnamespace = 'public'::regnamespace",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    let mut named = distributed.clone();
    named.sort();
    tenant.sort();
    assert_eq!(
        named, tenant,
        "docs/scaling.md distributes every tenant table once"
    );
    let position = |name: &str| distributed.iter().position(|d| d == name);
    for (table, referenced) in &references {
        if let (Some(from), Some(to)) = (position(table), position(referenced)) {
            assert!(
                to <= from,
                "docs/scaling.md distributes {table} before {referenced}, which it points at"
            );
        }
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
    async fn the_scaling_page_matches_the_schema() {
        let t = crate::TestDb::postgres().await;
        super::the_scaling_page_matches_the_schema(&t).await;
        t.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
    async fn every_tenant_table_is_keyed_by_organisation() {
        let t = crate::TestDb::postgres().await;
        super::every_tenant_table_is_keyed_by_organisation(&t).await;
        t.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
    async fn each_kind_of_break_is_found() {
        let t = crate::TestDb::postgres().await;
        super::each_kind_of_break_is_found(&t).await;
        t.cleanup().await;
    }
}
