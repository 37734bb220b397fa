//! The audit log read a page at a time (issue 13): newest first, filtered by person,
//! kind, action and instants, with a keyset on the entry's id that later entries do not
//! disturb; the names of the people entries name; and organisations' own host names.

use serde_json::json;
use store::audit::{self, Actor, Filter};
use store::staff::{NewStaff, Role};
use store::{Error, Exec, Organisation};

use crate::{TestDb, booking_clinic, both, clock, save_settings};

const HOUR: i64 = 3_600_000_000_000;

/// Appends an entry as `actor` at hour `hour`.
async fn entry(t: &TestDb, org: i64, actor: &str, action: &str, entity_id: i64, hour: i64) {
    let entity = action.split('.').next().unwrap();
    let mut tx = t.db.begin().await.unwrap();
    audit::record(
        &mut tx,
        org,
        actor,
        action,
        entity,
        Some(entity_id),
        json!({"hour": hour}),
        hour * HOUR,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn page(
    t: &TestDb,
    org: i64,
    filter: &Filter,
    before: Option<i64>,
    limit: i64,
) -> audit::Page {
    let mut conn = t.db.conn().await.unwrap();
    audit::page(conn.exec(), org, filter, before, limit)
        .await
        .unwrap()
}

/// The hours (from the details) of a page's entries, in its order.
fn hours(page: &audit::Page) -> Vec<i64> {
    page.entries
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.details).unwrap()["hour"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

async fn organisation(t: &TestDb, slug: &str) -> Organisation {
    let mut tx = t.db.begin().await.unwrap();
    let org = store::organisation::create(&mut tx, slug, slug, &clock("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    org
}

async fn the_log_reads_newest_first_a_page_at_a_time_by_filter(t: &TestDb) {
    let a = organisation(t, "alpha").await.id;
    let b = organisation(t, "beta").await.id;
    // Ten entries of A, interleaved with B's (which never show in A's log).
    for hour in 1..=10 {
        let actor = if hour % 2 == 0 { "staff:1" } else { "staff:2" };
        let action = if hour % 3 == 0 {
            "clinic.update"
        } else {
            "service.create"
        };
        entry(t, a, actor, action, hour, hour).await;
        entry(t, b, actor, action, hour, hour).await;
    }
    let all = Filter::default();
    let first = page(t, a, &all, None, 4).await;
    assert_eq!(hours(&first), [10, 9, 8, 7]);
    assert_eq!(first.next_before, Some(first.entries[3].id));
    let second = page(t, a, &all, first.next_before, 4).await;
    assert_eq!(hours(&second), [6, 5, 4, 3]);
    // Entries added meanwhile come on the first page, never on the later ones.
    entry(t, a, "staff:1", "clinic.update", 11, 11).await;
    assert_eq!(page(t, a, &all, first.next_before, 4).await, second);
    let last = page(t, a, &all, second.next_before, 4).await;
    assert_eq!(hours(&last), [2, 1]);
    assert_eq!(last.next_before, None);
    assert_eq!(hours(&page(t, a, &all, None, 4).await), [11, 10, 9, 8]);

    let by = |actor: Option<&str>, entity: Option<&str>, action: Option<&str>| Filter {
        actor: actor.map(str::to_owned),
        entity: entity.map(str::to_owned),
        action: action.map(str::to_owned),
        ..Filter::default()
    };
    let staff_two = page(t, a, &by(Some("staff:2"), None, None), None, 50).await;
    assert_eq!(hours(&staff_two), [9, 7, 5, 3, 1]);
    let clinics = page(t, a, &by(None, Some("clinic"), None), None, 50).await;
    assert_eq!(hours(&clinics), [11, 9, 6, 3]);
    let updates = page(
        t,
        a,
        &by(Some("staff:1"), None, Some("clinic.update")),
        None,
        50,
    )
    .await;
    assert_eq!(hours(&updates), [11, 6]);
    // A filtered page's keyset pages within the filter.
    let first_two = page(t, a, &by(Some("staff:2"), None, None), None, 2).await;
    assert_eq!(hours(&first_two), [9, 7]);
    let next = page(
        t,
        a,
        &by(Some("staff:2"), None, None),
        first_two.next_before,
        2,
    )
    .await;
    assert_eq!(hours(&next), [5, 3]);
    // Instants: from inclusive, until exclusive.
    let window = Filter {
        from_ns: Some(4 * HOUR),
        until_ns: Some(8 * HOUR),
        ..Filter::default()
    };
    assert_eq!(hours(&page(t, a, &window, None, 50).await), [7, 6, 5, 4]);
    let nothing = by(Some("staff:3"), None, None);
    assert_eq!(page(t, a, &nothing, None, 50).await.entries, []);
    // The page size is held to 1 ..= MAX_PAGE whatever is asked.
    assert_eq!(page(t, a, &all, None, 0).await.entries.len(), 1);
    assert_eq!(page(t, a, &all, None, 10_000).await.entries.len(), 11);
    // B's own log is B's.
    assert_eq!(page(t, b, &all, None, 50).await.entries.len(), 10);
}

async fn person_names_are_the_organisations_staff_and_patients(t: &TestDb) {
    let (org, desk) = booking_clinic(&t.db, 1, 2).await;
    let (other, other_desk) = {
        let o = organisation(t, "other").await;
        let mut tx = t.db.begin().await.unwrap();
        let user = store::staff::create(
            &mut tx,
            o.id,
            &NewStaff {
                email: "someone@example.com",
                name: "Someone Else",
                role: Role::Admin,
                practitioner_id: None,
                password_hash: "$argon2id$not-a-real-hash",
            },
            0,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        (o, user.id)
    };
    let patient = crate::id(&t.db, store::keys::Kind::Patient, &org, "p01").await;
    let mut conn = t.db.conn().await.unwrap();
    let names = audit::person_names(
        &mut conn.exec(),
        org.id,
        [
            Actor::Staff(desk),
            Actor::Patient(patient),
            Actor::Staff(other_desk),
            Actor::Patient(999_999),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        names.get(&Actor::Staff(desk)).map(String::as_str),
        Some("Front Desk")
    );
    assert_eq!(
        names.get(&Actor::Patient(patient)).map(String::as_str),
        Some("Pat Number 1")
    );
    // Another organisation's staff user and a patient that does not exist: nobody.
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        audit::person_names(&mut conn.exec(), other.id, [Actor::Patient(patient)])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_filters_have_their_indexes(t: &TestDb) {
    let mut conn = t.db.conn().await.unwrap();
    let names: Vec<(String,)> = match conn.exec() {
        Exec::Sqlite(c) => sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_log'",
        )
        .fetch_all(c)
        .await
        .unwrap(),
        Exec::Postgres(c) => {
            sqlx::query_as("SELECT indexname::text FROM pg_indexes WHERE tablename = 'audit_log'")
                .fetch_all(c)
                .await
                .unwrap()
        }
    };
    let names: Vec<&str> = names.iter().map(|(n,)| n.as_str()).collect();
    for index in [
        "audit_log_org_id",
        "audit_log_actor",
        "audit_log_entity_id_order",
        "audit_log_action",
        "audit_log_at",
    ] {
        assert!(names.contains(&index), "{index} in {names:?}");
    }
    // SQLite says how it reads: a person's page walks their index in id order, with no
    // sort of the whole log.
    if let Exec::Sqlite(c) = conn.exec() {
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
            "EXPLAIN QUERY PLAN SELECT id FROM audit_log WHERE org_id = 1 AND actor = 'staff:1' \
             AND id < 100 ORDER BY id DESC LIMIT 51",
        )
        .fetch_all(c)
        .await
        .unwrap();
        let plan: Vec<&str> = plan.iter().map(|(_, _, _, d)| d.as_str()).collect();
        assert!(
            plan.iter().any(|d| d.contains("audit_log_actor")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|d| d.contains("TEMP B-TREE")), "{plan:?}");
    }
}

async fn an_organisations_host_name_is_checked_unique_and_found(t: &TestDb) {
    let a = organisation(t, "alpha").await;
    let b = organisation(t, "beta").await;
    let host = "book.alpha-physio.ca";
    let saved = save_settings(&t.db, &a, |s| s.host = Some(host.to_owned())).await;
    assert_eq!(saved.host.as_deref(), Some(host));
    let mut conn = t.db.conn().await.unwrap();
    let found = store::organisation::by_host(conn.exec(), host)
        .await
        .unwrap();
    assert_eq!(found.map(|o| o.slug), Some("alpha".to_owned()));
    assert_eq!(
        store::organisation::by_host(conn.exec(), "book.beta.ca")
            .await
            .unwrap(),
        None
    );
    drop(conn);
    // Another organisation may not take it, nor anyone a name that is no host's;
    // nothing is saved then.
    for (taken, why) in [
        (host, "already"),
        ("Book.Beta.ca", "lower case"),
        ("https://book.beta.ca", "host name only"),
        ("localhost", "two or more labels"),
    ] {
        let mut settings = b.settings();
        settings.host = Some(taken.to_owned());
        let mut tx = t.db.begin().await.unwrap();
        match store::organisation::update_settings(&mut tx, b.id, &settings).await {
            Err(Error::Invalid { field, message }) => {
                assert_eq!(field, "host", "{taken}");
                assert!(message.contains(why), "{taken}: {message}");
            }
            other => panic!("{taken}: {other:?}"),
        }
    }
    let mut conn = t.db.conn().await.unwrap();
    let b_now = store::organisation::by_id(conn.exec(), b.id).await.unwrap();
    assert_eq!(b_now.host, None);
    drop(conn);
    // Given up, it is free for another.
    save_settings(&t.db, &saved, |s| s.host = None).await;
    let b_now = save_settings(&t.db, &b, |s| s.host = Some(host.to_owned())).await;
    assert_eq!(b_now.host.as_deref(), Some(host));
}

both!(
    the_log_reads_newest_first_a_page_at_a_time_by_filter,
    person_names_are_the_organisations_staff_and_patients,
    the_filters_have_their_indexes,
    an_organisations_host_name_is_checked_unique_and_found,
);
