//! Tenant isolation in the schema itself (migration 0015): no row of one organisation
//! can point at another organisation's row, whatever code writes it. Every foreign key
//! of the schema is guarded (checked against the database's own catalogue, so a new
//! table or column is covered or fails here), and every guard is tried. On PostgreSQL
//! the guard is the foreign key itself, `(org_id, column)` to `(org_id, id)`, and since
//! migration 0033 the only one (`sharding.rs` checks the whole rule); SQLite keeps its
//! plain foreign keys and its triggers.

use std::collections::BTreeSet;

use serde_json::json;
use slot_engine::Scenario;
use store::{Error, Exec};

use crate::{TestDb, both, import};

/// Every kind of row an organisation has, at least once (`holiday`: the clinic's one
/// holiday, told apart between organisations so that moving one cannot collide).
fn everything(holiday: &str) -> Scenario {
    Scenario::from_json(
        json!({
            "version": 3,
            "settings": {"slot_step_minutes": 30, "min_notice_minutes": 0},
            "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto", "holidays": [holiday]}],
            "schedule_types": [{"id": "physio", "name": "Physio", "clinic": "toronto"}],
            "practitioners": [
                {"id": "christine", "name": "Christine Roy", "type": "physio", "home_clinic": "toronto", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01", "clinic": "toronto",
                   "blocks": [{"days": ["mon"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}],
                   "portal_blocks": [{"days": ["mon"], "start": "09:00", "end": "10:00"}]}],
                 "time_off": [{"start": "2026-03-09T09:00:00-04:00", "end": "2026-03-09T10:00:00-04:00"}]}],
            "resources": [{"id": "room-1", "name": "Room 1", "clinic": "toronto",
                           "availability": [{"start_date": "2026-01-01",
                             "blocks": [{"days": ["mon"], "start": "08:00", "end": "12:00"}]}],
                           "time_off": [{"start": "2026-03-16T09:00:00-04:00", "end": "2026-03-16T10:00:00-04:00"}]}],
            "services": [{"id": "visit", "name": "Visit", "duration_minutes": 30, "book_from_portal": true,
                          "practitioner_type": "physio", "schedule_types": ["physio"], "requires": [["room-1"]]}],
            "patients": [{"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com",
                          "available_practitioners": ["christine"]}],
            "appointments": [{"practitioner": "christine", "patient": "ada", "service": "visit",
                              "start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T09:30:00-05:00",
                              "series": "weekly", "resources": ["room-1"]}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

async fn run(exec: Exec<'_>, sql: &str) -> Result<u64, sqlx::Error> {
    match exec {
        Exec::Sqlite(c) => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()),
        Exec::Postgres(c) => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()),
    }
}

async fn strings(exec: Exec<'_>, sql: &str) -> Vec<(String, String, String)> {
    match exec {
        Exec::Sqlite(c) => sqlx::query_as(sql).fetch_all(c).await.unwrap(),
        Exec::Postgres(c) => sqlx::query_as(sql).fetch_all(c).await.unwrap(),
    }
}

/// Every foreign key between two tables that both belong to an organisation, from the
/// database's catalogue: `(table, column, referenced table)`. On SQLite each is a plain
/// key on the column (its guard is a trigger); on PostgreSQL each must be the key on
/// `(org_id, column)`: any other shows up as `column` with its columns listed, and
/// fails the comparison with the guarded list.
async fn references_in_schema(t: &TestDb) -> BTreeSet<(String, String, String)> {
    let mut conn = t.db.conn().await.unwrap();
    let all = match conn.exec() {
        exec @ Exec::Sqlite(_) => {
            strings(
                exec,
                "SELECT m.name, f.\"from\", f.\"table\" FROM sqlite_master m \
                 JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
            )
            .await
        }
        exec @ Exec::Postgres(_) => {
            strings(
                exec,
                "SELECT c.conrelid::regclass::text, \
                   array_to_string(ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY u(n, i) \
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = u.n ORDER BY u.i), ','), \
                   c.confrelid::regclass::text \
                 FROM pg_constraint c WHERE c.contype = 'f'",
            )
            .await
            .into_iter()
            .map(|(table, columns, referenced)| {
                let column = match columns.strip_prefix("org_id,") {
                    _ if columns == "org_id" => columns.clone(),
                    Some(column) if !column.contains(',') => column.to_owned(),
                    _ => format!("{columns} (a key without org_id first)"),
                };
                (table, column, referenced)
            })
            .collect()
        }
    };
    let org_tables: BTreeSet<String> = {
        let mut conn = t.db.conn().await.unwrap();
        let sql = match conn.exec() {
            Exec::Sqlite(_) => {
                "SELECT m.name, m.name, m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND c.name = 'org_id'"
            }
            Exec::Postgres(_) => {
                "SELECT table_name::text, table_name::text, table_name::text FROM information_schema.columns \
                 WHERE column_name = 'org_id' AND table_schema = 'public'"
            }
        };
        strings(conn.exec(), sql)
            .await
            .into_iter()
            .map(|(name, _, _)| name)
            .collect()
    };
    all.into_iter()
        .filter(|(table, column, referenced)| {
            column != "org_id" && org_tables.contains(table) && org_tables.contains(referenced)
        })
        .collect()
}

async fn every_reference_of_the_schema_is_guarded(t: &TestDb) {
    let in_schema = references_in_schema(t).await;
    let guarded: BTreeSet<(String, String, String)> = store::error::SAME_ORG_REFERENCES
        .iter()
        .map(|(t, c, r)| ((*t).to_owned(), (*c).to_owned(), (*r).to_owned()))
        .collect();
    assert!(in_schema.len() >= 20, "{in_schema:?}");
    assert_eq!(
        in_schema, guarded,
        "every foreign key between an organisation's tables needs a same-organisation guard \
         (a migration like 0015, and an entry in store::error::SAME_ORG_REFERENCES)"
    );
}

async fn every_guard_refuses_another_organisations_row(t: &TestDb) {
    let a = import(&t.db, "alpha", &everything("2026-05-18")).await;
    let b = import(&t.db, "beta", &everything("2026-07-01")).await;
    // The rows the scenario format has no place for: staff, portal accounts, overrides.
    let mut tx = t.db.begin().await.unwrap();
    for org in [&a, &b] {
        let christine = crate::id(&t.db, store::keys::Kind::Practitioner, org, "christine").await;
        let ada = crate::id(&t.db, store::keys::Kind::Patient, org, "ada").await;
        let staff = store::staff::create(
            &mut tx,
            org.id,
            &store::staff::NewStaff {
                email: "chris@example.com",
                name: "Christine",
                role: store::staff::Role::Practitioner,
                practitioner_id: Some(christine),
                password_hash: "x",
            },
            0,
        )
        .await
        .unwrap();
        // Only alpha's patient has an account: an account is unique per patient, and
        // moving alpha's onto beta's patient must meet the guard, not that rule. Alpha's
        // account has a change of address waiting; beta's account is a second patient's,
        // so that the change can be pointed at an account of beta's.
        if org.id == a.id {
            let account =
                store::portal_access::set_credentials(&mut tx, org.id, ada, "ada", "x", 0)
                    .await
                    .unwrap();
            store::portal_email_change::start(
                &mut tx,
                org.id,
                &account,
                "ada.new@example.com",
                "token",
                0,
            )
            .await
            .unwrap();
        } else {
            let bo = store::patient::create(
                &mut tx,
                org.id,
                &store::patient::PatientInput {
                    first_name: "Bo".into(),
                    last_name: "Beta".into(),
                    email: "bo@example.com".into(),
                    phone: String::new(),
                },
            )
            .await
            .unwrap();
            store::portal_access::set_credentials(&mut tx, org.id, bo.id, "bo", "x", 0)
                .await
                .unwrap();
        }
        let sql = format!(
            "UPDATE appointments SET override_by = {}, schedule_type_id = \
             (SELECT id FROM schedule_types WHERE org_id = {}), clinic_id = (SELECT id FROM clinics WHERE org_id = {}) \
             WHERE org_id = {}",
            staff.id, org.id, org.id, org.id
        );
        assert_eq!(run(tx.exec(), &sql).await.unwrap(), 1);
        // Reminders (migration 0027): only alpha's rows are moved onto beta's, so only
        // alpha has them (beta's would meet the tables' unique keys first).
        if org.id == a.id {
            let hash = match tx.backend() {
                store::Backend::Sqlite => "X'00'",
                store::Backend::Postgres => "'\\x00'::bytea",
            };
            for sql in [
                format!(
                    "INSERT INTO service_reminder_offsets (org_id, service_id, offsets_minutes) \
                     SELECT {0}, MIN(id), '120' FROM services WHERE org_id = {0}",
                    org.id
                ),
                format!(
                    "INSERT INTO appointment_reminders (org_id, appointment_id, offset_minutes, start_ns, sequence, outcome, created_at_ns) \
                     SELECT {0}, MIN(id), 120, 0, 0, 'sent', 0 FROM appointments WHERE org_id = {0}",
                    org.id
                ),
                format!(
                    "INSERT INTO reminder_links (org_id, appointment_id, action, start_ns, sequence, token_hash, created_at_ns, expires_at_ns) \
                     SELECT {0}, MIN(id), 'confirm', 0, 0, {hash}, 0, 0 FROM appointments WHERE org_id = {0}",
                    org.id
                ),
            ] {
                assert_eq!(run(tx.exec(), &sql).await.unwrap(), 1, "{sql}");
            }
        }
        // A waitlist entry with a practitioner, a hold and an offer (issue 17).
        let o = org.id;
        let token = match tx.backend() {
            store::db::Backend::Sqlite => format!("X'{o:04x}'"),
            store::db::Backend::Postgres => format!("'\\x{o:04x}'::bytea"),
        };
        let clinic_token = match tx.backend() {
            store::db::Backend::Sqlite => format!("X'ff{o:04x}'"),
            store::db::Backend::Postgres => format!("'\\xff{o:04x}'::bytea"),
        };
        for sql in [
            format!(
                "INSERT INTO waitlist_entries (org_id, patient_id, service_id, clinic_id, expires_on, appointment_id, \
                 created_by, created_at_ns, updated_by, updated_at_ns) VALUES ({o}, {ada}, \
                 (SELECT MIN(id) FROM services WHERE org_id = {o}), (SELECT MIN(id) FROM clinics WHERE org_id = {o}), \
                 '2026-12-31', (SELECT MIN(id) FROM appointments WHERE org_id = {o}), 'x', 0, 'x', 0)"
            ),
            format!(
                "INSERT INTO waitlist_entry_practitioners (org_id, entry_id, practitioner_id) VALUES ({o}, \
                 (SELECT MIN(id) FROM waitlist_entries WHERE org_id = {o}), {christine})"
            ),
            format!(
                "INSERT INTO waitlist_holds (org_id, service_id, practitioner_id, appointment_id, start_ns, end_ns, \
                 expires_at_ns, created_by, created_at_ns, clinic_id) VALUES ({o}, (SELECT MIN(id) FROM services WHERE org_id = {o}), \
                 {christine}, (SELECT MIN(id) FROM appointments WHERE org_id = {o}), 0, 1, 1, 'x', 0, \
                 (SELECT MIN(id) FROM clinics WHERE org_id = {o}))"
            ),
            format!(
                "INSERT INTO waitlist_offers (org_id, hold_id, entry_id, token_hash, created_at_ns, state) VALUES ({o}, \
                 (SELECT MIN(id) FROM waitlist_holds WHERE org_id = {o}), \
                 (SELECT MIN(id) FROM waitlist_entries WHERE org_id = {o}), {token}, 0, 'gone')"
            ),
            // One feed row naming both a practitioner and a clinic (the store writes one of
            // the two), so that each guard is tried on one row of the organisation.
            format!(
                "INSERT INTO calendar_feeds (org_id, practitioner_id, clinic_id, token_hash, created_by, created_at_ns) \
                 VALUES ({o}, {christine}, (SELECT MIN(id) FROM clinics WHERE org_id = {o}), {clinic_token}, 'x', 0)"
            ),
            format!(
                "INSERT INTO webhook_endpoints (org_id, name, url, events, secret, created_at_ns, updated_at_ns) \
                 VALUES ({o}, 'x', 'https://example.com', 'setup.changed', 'whsec_x', 0, 0)"
            ),
            format!(
                "INSERT INTO webhook_deliveries (org_id, endpoint_id, message_id, event_type, payload, \
                 next_attempt_at_ns, created_at_ns) VALUES ({o}, \
                 (SELECT MIN(id) FROM webhook_endpoints WHERE org_id = {o}), 'msg_x', 'setup.changed', '{{}}', 0, 0)"
            ),
        ] {
            assert_eq!(run(tx.exec(), &sql).await.unwrap(), 1, "{sql}");
        }
    }
    tx.commit().await.unwrap();
    for (table, column, referenced) in store::error::SAME_ORG_REFERENCES {
        let mut tx = t.db.begin().await.unwrap();
        let sql = format!(
            "UPDATE {table} SET {column} = (SELECT MIN(id) FROM {referenced} WHERE org_id = {}) \
             WHERE org_id = {}",
            b.id, a.id
        );
        let refused = run(tx.exec(), &sql).await;
        match refused.map_err(Error::from) {
            Err(Error::Invalid { field, message }) => {
                assert_eq!(field, column.trim_end_matches("_id"), "{table}.{column}");
                assert!(
                    message.contains("not one of this organisation's"),
                    "{message}"
                );
            }
            other => panic!("{table}.{column} -> {referenced}: {other:?}"),
        }
        drop(tx);
        // The same write within the organisation goes through: the guard is exact.
        let mut tx = t.db.begin().await.unwrap();
        let sql = format!(
            "UPDATE {table} SET {column} = (SELECT MIN(id) FROM {referenced} WHERE org_id = {0}) \
             WHERE org_id = {0}",
            a.id
        );
        let n = run(tx.exec(), &sql).await.unwrap();
        assert!(n >= 1, "{table} has a row of the organisation to try");
        drop(tx);
    }
}

both!(
    every_reference_of_the_schema_is_guarded,
    every_guard_refuses_another_organisations_row,
);
