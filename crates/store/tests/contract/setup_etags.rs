//! The setup etag (migrations 0013 and 0034): one row of `setup_etags` per
//! organisation, made with it, and moved by a trigger on every setup table for every
//! insert, update and delete. The setup cache trusts a setup for as long as the etag
//! stands, so a setup table without its triggers would serve a stale setup: the
//! catalogue is read here, on both backends, rather than trusting each migration.

use store::{Exec, organisation};

use crate::{TestDb, booking_clinic, both, clock};

/// The tables the engine's setup is read from (`scenario_rows`), appointments and
/// patients aside: a change to any of them must move the etag.
const SETUP_TABLES: &[&str] = &[
    "availability_blocks",
    "availability_records",
    "clinic_holidays",
    "clinics",
    "portal_blocks",
    "practitioner_schedule_types",
    "practitioner_types",
    "practitioners",
    "resource_availability_blocks",
    "resource_availability_records",
    "resource_time_off",
    "resources",
    "schedule_types",
    "service_requirements",
    "service_schedule_types",
    "services",
    "time_off",
];

/// Each setup table's triggers: (table, event) for every trigger that moves the etag.
async fn etag_triggers(t: &TestDb) -> Vec<(String, String)> {
    let mut conn = t.db.conn().await.unwrap();
    let mut found: Vec<(String, String)> = match conn.exec() {
        // A trigger's SQL as written; it moves the etag when it updates `setup_etags`.
        Exec::Sqlite(c) => {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' \
                 AND sql LIKE '%UPDATE setup_etags SET etag = random()%'",
            )
            .fetch_all(&mut *c)
            .await
            .unwrap();
            rows.into_iter()
                .map(|(table, sql)| {
                    let event = ["INSERT", "UPDATE", "DELETE"]
                        .into_iter()
                        .find(|e| sql.contains(&format!("AFTER {e} ON")))
                        .expect("an AFTER trigger");
                    (table, event.to_owned())
                })
                .collect()
        }
        // Row triggers calling `openslot_setup_changed`, one (table, event) per event.
        Exec::Postgres(c) => sqlx::query_as(
            "SELECT c.relname::text, e.event FROM pg_trigger g \
             JOIN pg_class c ON c.oid = g.tgrelid \
             JOIN pg_proc p ON p.oid = g.tgfoid \
             CROSS JOIN LATERAL (VALUES (4, 'INSERT'), (16, 'UPDATE'), (8, 'DELETE')) e(bit, event) \
             WHERE p.proname = 'openslot_setup_changed' AND NOT g.tgisinternal \
               AND g.tgtype & 1 = 1 AND g.tgtype & e.bit <> 0",
        )
        .fetch_all(&mut *c)
        .await
        .unwrap(),
    };
    found.sort();
    found
}

async fn every_setup_table_moves_the_etag_on_every_change(t: &TestDb) {
    let mut expected: Vec<(String, String)> = SETUP_TABLES
        .iter()
        .flat_map(|table| {
            ["DELETE", "INSERT", "UPDATE"].map(|e| ((*table).to_owned(), e.to_owned()))
        })
        .collect();
    expected.sort();
    assert_eq!(etag_triggers(t).await, expected);

    // And the triggers write the organisation's own row: a holiday added, moved and
    // removed in one organisation moves its etag each time and leaves the other's.
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    // A new organisation has its row from the start.
    let mut tx = t.db.begin().await.unwrap();
    let other = organisation::create(&mut tx, "other", "Other", &clock("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let etag = async |org: i64| {
        let mut conn = t.db.conn().await.unwrap();
        let sql = "SELECT etag FROM setup_etags WHERE org_id = $1";
        match conn.exec() {
            Exec::Sqlite(c) => sqlx::query_scalar::<_, i64>(sql)
                .bind(org)
                .fetch_one(c)
                .await
                .unwrap(),
            Exec::Postgres(c) => sqlx::query_scalar::<_, i64>(sql)
                .bind(org)
                .fetch_one(c)
                .await
                .unwrap(),
        }
    };
    let run = async |sql: &str| {
        let mut conn = t.db.conn().await.unwrap();
        let changed = match conn.exec() {
            Exec::Sqlite(c) => sqlx::query(sql)
                .bind(org.id)
                .execute(c)
                .await
                .unwrap()
                .rows_affected(),
            Exec::Postgres(c) => sqlx::query(sql)
                .bind(org.id)
                .execute(c)
                .await
                .unwrap()
                .rows_affected(),
        };
        assert_eq!(changed, 1, "{sql}");
    };
    let others = etag(other.id).await;
    let mut last = etag(org.id).await;
    for sql in [
        "INSERT INTO clinic_holidays (org_id, clinic_id, day) \
         SELECT org_id, id, '2026-12-25' FROM clinics WHERE org_id = $1",
        "UPDATE clinic_holidays SET day = '2026-12-26' WHERE org_id = $1 AND day = '2026-12-25'",
        "DELETE FROM clinic_holidays WHERE org_id = $1 AND day = '2026-12-26'",
    ] {
        run(sql).await;
        let now = etag(org.id).await;
        assert_ne!(now, last, "{sql}");
        last = now;
    }
    assert_eq!(etag(other.id).await, others);
}

both!(every_setup_table_moves_the_etag_on_every_change);
