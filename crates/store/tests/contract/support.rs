//! Fresh databases for each test, on either backend.

use std::path::PathBuf;

use slot_engine::{Instant, Scenario};
use store::transfer::{self, ImportMode};
use store::{Db, FixedClock, Organisation};

/// A fresh, migrated database for one test.
pub(crate) struct TestDb {
    pub(crate) db: Db,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

pub(crate) const POSTGRES_ENV: &str = "OPENSLOT_TEST_POSTGRES_URL";

impl TestDb {
    pub(crate) async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path: PathBuf = dir.path().join("test.db");
        let db = Db::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("SQLite opens");
        TestDb {
            db,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    pub(crate) async fn postgres() -> TestDb {
        let admin_url = std::env::var(POSTGRES_ENV)
            .unwrap_or_else(|_| panic!("needs PostgreSQL: set {POSTGRES_ENV}, e.g. postgres://postgres@127.0.0.1:5432/postgres"));
        let name = format!("openslot_test_{}", unique_suffix());
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .expect("PostgreSQL answers at OPENSLOT_TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("CREATE DATABASE");
        let url = with_database(&admin_url, &name);
        let db = Db::connect(&url).await.expect("the new database opens");
        TestDb {
            db,
            cleanup: Cleanup::Postgres {
                admin_url,
                name,
                url,
            },
        }
    }

    /// The database again, as a server whose `default_transaction_isolation` is
    /// `repeatable read` would serve it: on PostgreSQL the database's default is
    /// changed and a new pool connects (checking that its sessions start at that
    /// level); SQLite has no such setting and gives the same pool.
    pub(crate) async fn with_repeatable_read_default(&self) -> Db {
        let Cleanup::Postgres { name, url, .. } = &self.cleanup else {
            return self.db.clone();
        };
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .expect("PostgreSQL answers");
        sqlx::query(&format!(
            "ALTER DATABASE {name} SET default_transaction_isolation = 'repeatable read'"
        ))
        .execute(&mut conn)
        .await
        .expect("ALTER DATABASE");
        let db = Db::connect(url).await.expect("the database opens again");
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .expect("PostgreSQL answers");
        let level: String = sqlx::query_scalar("SHOW default_transaction_isolation")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(level, "repeatable read");
        db
    }

    /// A second server instance on the same database: its own pool, as another
    /// `openslot` process would open (on SQLite, a second pool on the same file).
    pub(crate) async fn second_instance(&self) -> Db {
        let url = match &self.cleanup {
            Cleanup::Sqlite(dir) => format!("sqlite://{}", dir.path().join("test.db").display()),
            Cleanup::Postgres { url, .. } => url.clone(),
        };
        Db::connect(&url).await.expect("the database opens again")
    }

    pub(crate) async fn cleanup(self) {
        self.db.close().await;
        if let Cleanup::Postgres {
            admin_url, name, ..
        } = self.cleanup
            && let Ok(mut admin) =
                <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
    }
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

/// `postgres://u@h:p/db?x` with the database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Generates `sqlite::$name` and `postgres::$name` tests from `async fn $name(&TestDb)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let t = $crate::TestDb::sqlite().await;
                    super::$name(&t).await;
                    t.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                #[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
                async fn $name() {
                    let t = $crate::TestDb::postgres().await;
                    super::$name(&t).await;
                    t.cleanup().await;
                }
            )*
        }
    };
}

pub(crate) fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../slot-engine/tests/data/scenarios")
}

pub(crate) fn worked(name: &str) -> Scenario {
    Scenario::from_json(&std::fs::read(scenarios_dir().join(name)).unwrap()).unwrap()
}

/// The worked scenarios that have an expected answer, versions 1 and 2.
pub(crate) fn worked_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(scenarios_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".json")?.to_owned();
            scenarios_dir()
                .join(format!("{stem}.expected.json"))
                .exists()
                .then_some(name)
        })
        .collect();
    names.sort();
    names
}

pub(crate) fn clock(at: &str) -> FixedClock {
    FixedClock::new(at.parse::<Instant>().unwrap())
}

pub(crate) async fn import(db: &Db, slug: &str, scenario: &Scenario) -> Organisation {
    let clock = clock("2026-01-01T00:00:00Z");
    let mut tx = db.begin().await.unwrap();
    let org = transfer::import(&mut tx, slug, scenario, ImportMode::IntoEmpty, &clock)
        .await
        .unwrap_or_else(|e| panic!("import of {slug}: {e}"));
    tx.commit().await.unwrap();
    org
}

pub(crate) async fn export(db: &Db, org: &Organisation) -> Scenario {
    let mut conn = db.conn().await.unwrap();
    transfer::export(&mut conn.exec(), org).await.unwrap()
}

/// A clinic for booking tests: Toronto, Monday 2026-03-02, "lee" works 09:00–12:00 on
/// schedule type "private" (no conflicts), "kim" 09:00–12:00 on "group" (conflicts
/// allowed); service "visit" (60 min) and "class" (60 min, `portal_conflicts` places);
/// patients p01…p{patients}. Returns the organisation and a staff user id.
pub(crate) async fn booking_clinic(db: &Db, capacity: u32, patients: usize) -> (Organisation, i64) {
    let patient_list: Vec<serde_json::Value> = (1..=patients)
        .map(|n| {
            serde_json::json!({"id": format!("p{n:02}"), "first_name": "Pat", "last_name": format!("Number {n}"),
                               "email": format!("p{n}@example.com")})
        })
        .collect();
    let doc = serde_json::json!({
        "version": 1,
        "settings": {"slot_step_minutes": 30},
        "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto", "holidays": ["2026-03-09"]}],
        "schedule_types": [
            {"id": "private", "name": "Private", "clinic": "toronto"},
            {"id": "group", "name": "Group", "clinic": "toronto", "allow_conflicts": true}
        ],
        "practitioners": [
            {"id": "lee", "type": "physio", "home_clinic": "toronto", "schedule_types": ["private"],
             "availability": [{"start_date": "2026-01-01",
               "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "12:00", "schedule_type": "private"}]}]},
            {"id": "kim", "type": "physio", "home_clinic": "toronto", "schedule_types": ["group"],
             "availability": [{"start_date": "2026-01-01",
               "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "12:00", "schedule_type": "group"}]}]}
        ],
        "services": [
            {"id": "visit", "name": "Visit", "duration_minutes": 60, "book_from_portal": true, "schedule_types": ["private"]},
            {"id": "class", "name": "Class", "duration_minutes": 60, "book_from_portal": true,
             "portal_conflicts": capacity, "schedule_types": ["group"]}
        ],
        "patients": patient_list
    });
    let scenario = Scenario::from_json(doc.to_string().as_bytes()).unwrap();
    let org = import(db, "clinic", &scenario).await;
    let mut tx = db.begin().await.unwrap();
    let staff = store::staff::create(
        &mut tx,
        org.id,
        &store::staff::NewStaff {
            email: "desk@example.com",
            name: "Front Desk",
            role: store::staff::Role::FrontDesk,
            practitioner_id: None,
            password_hash: "$argon2id$not-a-real-hash",
        },
        0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (org, staff.id)
}

/// Saves the organisation's settings changed by `change`, as an admin would, and
/// returns the organisation as stored. A copy read earlier keeps the old settings,
/// as a request's copy does while the admin saves.
pub(crate) async fn save_settings(
    db: &Db,
    org: &Organisation,
    change: impl FnOnce(&mut store::organisation::Settings),
) -> Organisation {
    let mut settings = org.settings();
    change(&mut settings);
    let mut tx = db.begin().await.unwrap();
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    let saved = store::organisation::by_id(tx.exec(), org.id).await.unwrap();
    tx.commit().await.unwrap();
    saved
}

/// The row id of `kind` `key`.
pub(crate) async fn id(db: &Db, kind: store::keys::Kind, org: &Organisation, key: &str) -> i64 {
    let mut conn = db.conn().await.unwrap();
    store::keys::id_of(conn.exec(), kind, org.id, key)
        .await
        .unwrap()
}

pub(crate) fn at(text: &str) -> Instant {
    text.parse().unwrap()
}

/// Appointments occupying time, per practitioner and UTC cell of `minutes`.
pub(crate) async fn cell_counts(
    db: &Db,
    org: &Organisation,
    minutes: i64,
) -> std::collections::HashMap<(i64, i64), usize> {
    let mut conn = db.conn().await.unwrap();
    let all = store::appointment::in_range(conn.exec(), org, 0, i64::MAX, None)
        .await
        .unwrap();
    let cell = minutes * 60_000_000_000;
    let mut counts = std::collections::HashMap::new();
    for a in all
        .iter()
        .filter(|a| a.status != store::AppointmentStatus::Cancelled)
    {
        let mut k = a.start_ns.div_euclid(cell);
        while k * cell < a.end_ns {
            *counts.entry((a.practitioner_id, k)).or_insert(0) += 1;
            k += 1;
        }
    }
    counts
}

/// The booking a portal request made, which the test expects to have gone in.
pub(crate) fn booked(
    outcome: Result<store::appointment::PortalOutcome, store::Error>,
) -> store::appointment::Booked {
    match outcome {
        Ok(store::appointment::PortalOutcome::Booked(booked)) => booked,
        other => panic!("expected a booking, got {other:?}"),
    }
}
