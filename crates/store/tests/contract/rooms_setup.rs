//! Rooms and equipment as an admin sets them up: resources, their availability records
//! and time out of service, and what services need of them. Every id is resolved inside
//! the organisation, every refusal names its field and changes nothing, and every write
//! gives the organisation a new setup etag.

use slot_engine::Scenario;
use slot_engine::scenario::PortalBlock;
use store::appointment::{self, PortalBooking};
use store::keys::Kind;
use store::resource::{self, RecordInput, Resource, ResourceInput, ResourceKind};
use store::{Db, Error, Organisation, Tx};

use crate::{TestDb, at, booked, booking_clinic, both, clock, id, import};

fn room(name: &str, clinic: i64) -> ResourceInput {
    ResourceInput {
        name: name.into(),
        kind: ResourceKind::Room,
        clinic_id: clinic,
        capacity: 1,
        always_available: true,
    }
}

fn block(days: &[&str], start: &str, end: &str) -> PortalBlock {
    PortalBlock {
        days: days
            .iter()
            .map(|d| serde_json::from_str(&format!("\"{d}\"")).unwrap())
            .collect(),
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
    }
}

fn record(start: &str, end: Option<&str>, blocks: Vec<PortalBlock>) -> RecordInput {
    RecordInput {
        start_date: start.into(),
        end_date: end.map(str::to_owned),
        blocks,
    }
}

/// The field an error names.
fn field<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::Invalid { field, .. }) => field,
        Err(Error::InvalidFields(list)) => list[0].0.clone(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn message<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_))) => e.to_string(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

/// The organisation's setup etag, which the setup cache keys a setup by.
async fn etag(db: &Db, org: &Organisation) -> i64 {
    let sql = "SELECT etag FROM setup_etags WHERE org_id = $1";
    let mut conn = db.conn().await.unwrap();
    match conn.exec() {
        store::Exec::Sqlite(c) => sqlx::query_scalar(sql).bind(org.id).fetch_one(c).await,
        store::Exec::Postgres(c) => sqlx::query_scalar(sql).bind(org.id).fetch_one(c).await,
    }
    .unwrap()
}

/// Runs `change` in a transaction and commits it when it succeeds; rolls back otherwise.
async fn write<T>(
    db: &Db,
    change: impl AsyncFnOnce(&mut Tx) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut tx = db.begin().await.unwrap();
    let out = change(&mut tx).await;
    if out.is_ok() {
        tx.commit().await.unwrap();
    }
    out
}

async fn all(db: &Db, org: &Organisation) -> Vec<Resource> {
    let mut conn = db.conn().await.unwrap();
    resource::all(conn.exec(), org.id).await.unwrap()
}

/// A second organisation with a clinic of its own.
async fn other_org(db: &Db) -> (Organisation, i64) {
    let doc = br#"{"version": 1, "clinics": [{"id": "elsewhere", "timezone": "Europe/Paris"}]}"#;
    let org = import(db, "other", &Scenario::from_json(doc).unwrap()).await;
    let clinic = id(db, Kind::Clinic, &org, "elsewhere").await;
    (org, clinic)
}

async fn resources_are_created_changed_and_listed_within_the_organisation(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    let toronto = id(&t.db, Kind::Clinic, &org, "toronto").await;
    let before = etag(&t.db, &org).await;
    let r = write(&t.db, async |tx| {
        resource::create(tx, org.id, &room(" Treatment room 1 ", toronto)).await
    })
    .await
    .unwrap();
    assert_eq!(
        (r.key.as_str(), r.name.as_str(), r.clinic_name.as_str()),
        ("treatment-room-1", "Treatment room 1", "Toronto")
    );
    let after_create = etag(&t.db, &org).await;
    assert_ne!(
        before, after_create,
        "a new resource changes the setup etag"
    );
    // A second one of the same name gets its own key.
    let twin = write(&t.db, async |tx| {
        resource::create(tx, org.id, &room("Treatment room 1", toronto)).await
    })
    .await
    .unwrap();
    assert_eq!(twin.key, "treatment-room-1-2");
    let changed = write(&t.db, async |tx| {
        resource::update(
            tx,
            org.id,
            r.id,
            &ResourceInput {
                name: "Shockwave machine".into(),
                kind: ResourceKind::Equipment,
                capacity: 2,
                always_available: false,
                ..room("", toronto)
            },
            0,
        )
        .await
    })
    .await
    .unwrap();
    assert_eq!(changed.key, "treatment-room-1", "a rename keeps the key");
    assert_eq!(
        (changed.kind, changed.capacity, changed.always_available),
        (ResourceKind::Equipment, 2, false)
    );
    assert_ne!(etag(&t.db, &org).await, after_create);
    let names: Vec<String> = all(&t.db, &org).await.into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["Shockwave machine", "Treatment room 1"]);
}

async fn bad_or_foreign_input_is_refused_naming_the_field_and_changes_nothing(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    let (other, elsewhere) = other_org(&t.db).await;
    let toronto = id(&t.db, Kind::Clinic, &org, "toronto").await;
    let theirs = write(&t.db, async |tx| {
        resource::create(tx, other.id, &room("Their room", elsewhere)).await
    })
    .await
    .unwrap();
    let before = etag(&t.db, &org).await;
    // Another organisation's clinic.
    let foreign_clinic = write(&t.db, async |tx| {
        resource::create(tx, org.id, &room("Room", elsewhere)).await
    })
    .await;
    assert_eq!(field(foreign_clinic), "clinic_id");
    for (input, expected) in [
        (room("", toronto), "name"),
        (
            ResourceInput {
                capacity: 0,
                ..room("Room", toronto)
            },
            "capacity",
        ),
        (
            ResourceInput {
                capacity: 10_001,
                ..room("Room", toronto)
            },
            "capacity",
        ),
    ] {
        let r = write(&t.db, async |tx| resource::create(tx, org.id, &input).await).await;
        assert_eq!(field(r), expected);
    }
    // Another organisation's resource, by path: not found, not changed.
    let r = write(&t.db, async |tx| {
        resource::update(tx, org.id, theirs.id, &room("Mine now", toronto), 0).await
    })
    .await;
    assert!(matches!(r, Err(Error::NotFound("resource"))), "{r:?}");
    let r = write(&t.db, async |tx| {
        resource::delete(tx, org.id, theirs.id).await
    })
    .await;
    assert!(matches!(r, Err(Error::NotFound("resource"))), "{r:?}");
    let r = write(&t.db, async |tx| {
        resource::create_record(tx, org.id, theirs.id, &record("2026-01-01", None, vec![])).await
    })
    .await;
    assert!(matches!(r, Err(Error::NotFound("resource"))), "{r:?}");
    let r = write(&t.db, async |tx| {
        resource::add_time_off(tx, org.id, theirs.id, (1, 2), None, 0).await
    })
    .await;
    assert!(matches!(r, Err(Error::NotFound("resource"))), "{r:?}");
    // Another organisation's resource in a service's needs.
    let visit = id(&t.db, Kind::Service, &org, "visit").await;
    let r = write(&t.db, async |tx| {
        resource::set_requirements(tx, org.id, visit, &[vec![theirs.id]]).await
    })
    .await;
    assert_eq!(field(r), "requires");
    assert!(all(&t.db, &org).await.is_empty());
    assert_eq!(etag(&t.db, &org).await, before, "nothing changed");
    let mut conn = t.db.conn().await.unwrap();
    assert_eq!(
        resource::get(conn.exec(), other.id, theirs.id)
            .await
            .unwrap(),
        theirs
    );
    assert!(
        resource::requirements(conn.exec(), org.id, visit)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn records_of_one_resource_may_not_share_a_date(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    let toronto = id(&t.db, Kind::Clinic, &org, "toronto").await;
    let r = write(&t.db, async |tx| {
        resource::create(tx, org.id, &room("Room 1", toronto)).await
    })
    .await
    .unwrap();
    let mornings = vec![block(
        &["mon", "tue", "wed", "thu", "fri"],
        "08:00",
        "12:00",
    )];
    let before = etag(&t.db, &org).await;
    let first = write(&t.db, async |tx| {
        resource::create_record(
            tx,
            org.id,
            r.id,
            &record("2026-01-01", Some("2026-06-30"), mornings.clone()),
        )
        .await
    })
    .await
    .unwrap();
    assert_eq!(first.blocks, mornings);
    assert_ne!(etag(&t.db, &org).await, before);
    // Starting inside the first record: the start date is at fault.
    let overlap = write(&t.db, async |tx| {
        resource::create_record(tx, org.id, r.id, &record("2026-06-30", None, vec![])).await
    })
    .await;
    assert_eq!(field(overlap), "start_date");
    // Reaching into it: the end date.
    let reaching = write(&t.db, async |tx| {
        resource::create_record(
            tx,
            org.id,
            r.id,
            &record("2025-12-01", Some("2026-01-01"), vec![]),
        )
        .await
    })
    .await;
    let text = message(reaching);
    assert!(text.starts_with("end_date: "), "{text}");
    assert!(text.contains("Room 1"), "{text}");
    // The day after: fine. Then that one cannot be stretched back over the first.
    let second = write(&t.db, async |tx| {
        resource::create_record(
            tx,
            org.id,
            r.id,
            &record("2026-07-01", None, vec![block(&["sat"], "09:00", "13:00")]),
        )
        .await
    })
    .await
    .unwrap();
    let stretched = write(&t.db, async |tx| {
        resource::update_record(
            tx,
            org.id,
            r.id,
            second.id,
            &record("2026-06-01", None, vec![]),
        )
        .await
    })
    .await;
    assert_eq!(field(stretched), "start_date");
    // Blocks off the organisation's grid, or backwards: refused, naming the blocks.
    let off_grid = write(&t.db, async |tx| {
        resource::update_record(
            tx,
            org.id,
            r.id,
            second.id,
            &record("2026-07-01", None, vec![block(&["sat"], "09:07", "13:00")]),
        )
        .await
    })
    .await;
    assert_eq!(field(off_grid), "blocks");
    let mut conn = t.db.conn().await.unwrap();
    let kept = resource::records(conn.exec(), org.id, r.id).await.unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[1].blocks, [block(&["sat"], "09:00", "13:00")]);
    drop(conn);
    // A replaced record keeps its id and takes the new blocks; a deleted one is gone.
    let replaced = write(&t.db, async |tx| {
        resource::update_record(
            tx,
            org.id,
            r.id,
            second.id,
            &record("2026-07-01", Some("2026-12-31"), vec![]),
        )
        .await
    })
    .await
    .unwrap();
    assert!(replaced.blocks.is_empty());
    let before_delete = etag(&t.db, &org).await;
    write(&t.db, async |tx| {
        resource::delete_record(tx, org.id, r.id, first.id).await
    })
    .await
    .unwrap();
    assert_ne!(etag(&t.db, &org).await, before_delete);
    let mut conn = t.db.conn().await.unwrap();
    let left = resource::records(conn.exec(), org.id, r.id).await.unwrap();
    assert_eq!(left.iter().map(|r| r.id).collect::<Vec<_>>(), [second.id]);
}

async fn time_off_needs_an_end_after_its_start(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    let toronto = id(&t.db, Kind::Clinic, &org, "toronto").await;
    let r = write(&t.db, async |tx| {
        resource::create(tx, org.id, &room("Shockwave", toronto)).await
    })
    .await
    .unwrap();
    let start = at("2026-03-02T08:00:00-05:00").unix_nanos();
    let end = at("2026-03-02T17:00:00-05:00").unix_nanos();
    let backwards = write(&t.db, async |tx| {
        resource::add_time_off(tx, org.id, r.id, (end, start), Some("service"), 0).await
    })
    .await;
    assert_eq!(field(backwards), "end");
    let long = "x".repeat(201);
    let wordy = write(&t.db, async |tx| {
        resource::add_time_off(tx, org.id, r.id, (start, end), Some(&long), 0).await
    })
    .await;
    assert_eq!(field(wordy), "reason");
    let before = etag(&t.db, &org).await;
    let off = write(&t.db, async |tx| {
        resource::add_time_off(tx, org.id, r.id, (start, end), Some(" Annual service "), 0).await
    })
    .await
    .unwrap();
    assert_eq!(off.reason.as_deref(), Some("Annual service"));
    assert_ne!(etag(&t.db, &org).await, before);
    let mut conn = t.db.conn().await.unwrap();
    assert_eq!(
        resource::time_off(conn.exec(), org.id, r.id).await.unwrap(),
        std::slice::from_ref(&off)
    );
    drop(conn);
    write(&t.db, async |tx| {
        resource::remove_time_off(tx, org.id, r.id, off.id).await
    })
    .await
    .unwrap();
    let mut conn = t.db.conn().await.unwrap();
    assert!(
        resource::time_off(conn.exec(), org.id, r.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_service_needs_up_to_sixteen_requirements_each_resource_in_one(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    let toronto = id(&t.db, Kind::Clinic, &org, "toronto").await;
    let visit = id(&t.db, Kind::Service, &org, "visit").await;
    let mut ids = Vec::new();
    for n in 1..=17 {
        let r = write(&t.db, async |tx| {
            resource::create(tx, org.id, &room(&format!("Room {n}"), toronto)).await
        })
        .await
        .unwrap();
        ids.push(r.id);
    }
    let before = etag(&t.db, &org).await;
    let saved = write(&t.db, async |tx| {
        resource::set_requirements(tx, org.id, visit, &[vec![ids[1], ids[0]], vec![ids[2]]]).await
    })
    .await
    .unwrap();
    assert_eq!(saved, [vec![ids[0], ids[1]], vec![ids[2]]]);
    assert_ne!(etag(&t.db, &org).await, before);
    let after = etag(&t.db, &org).await;
    let refused = [
        vec![vec![ids[0]], vec![ids[0], ids[3]]],
        vec![vec![]],
        ids.iter().map(|id| vec![*id]).collect(),
        vec![vec![i64::MAX]],
    ];
    for requires in refused {
        let r = write(&t.db, async |tx| {
            resource::set_requirements(tx, org.id, visit, &requires).await
        })
        .await;
        assert_eq!(field(r), "requires", "{requires:?}");
    }
    assert_eq!(etag(&t.db, &org).await, after, "refusals change nothing");
    let sixteen: Vec<Vec<i64>> = ids[..16].iter().map(|id| vec![*id]).collect();
    write(&t.db, async |tx| {
        resource::set_requirements(tx, org.id, visit, &sixteen).await
    })
    .await
    .unwrap();
    let mut conn = t.db.conn().await.unwrap();
    assert_eq!(
        resource::requirements(conn.exec(), org.id, visit)
            .await
            .unwrap(),
        sixteen
    );
    let links = resource::requirement_links(conn.exec(), org.id)
        .await
        .unwrap();
    assert_eq!(
        resource::requirements_by_service(&links).get(&visit),
        Some(&sixteen)
    );
}

async fn deleting_a_resource_keeps_appointments_and_services_whole(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    let toronto = id(&t.db, Kind::Clinic, &org, "toronto").await;
    let visit = id(&t.db, Kind::Service, &org, "visit").await;
    let class = id(&t.db, Kind::Service, &org, "class").await;
    let mut made = Vec::new();
    for name in ["Room 1", "Room 2", "Shockwave", "Spare"] {
        made.push(
            write(&t.db, async |tx| {
                resource::create(tx, org.id, &room(name, toronto)).await
            })
            .await
            .unwrap(),
        );
    }
    let (room1, room2, shockwave, spare) = (&made[0], &made[1], &made[2], &made[3]);
    write(&t.db, async |tx| {
        resource::create_record(tx, org.id, room1.id, &record("2026-01-01", None, vec![])).await?;
        let day = at("2026-03-03T00:00:00-05:00").unix_nanos();
        resource::add_time_off(
            tx,
            org.id,
            room1.id,
            (day, day + 3_600_000_000_000),
            None,
            0,
        )
        .await?;
        resource::set_requirements(
            tx,
            org.id,
            visit,
            &[vec![room1.id, room2.id], vec![shockwave.id]],
        )
        .await
    })
    .await
    .unwrap();
    // The shockwave machine is the only choice of a need of Visit: refused, naming it.
    let text = message(
        write(&t.db, async |tx| {
            resource::delete(tx, org.id, shockwave.id).await
        })
        .await,
    );
    assert!(text.starts_with("resource: "), "{text}");
    assert!(text.contains("Visit"), "{text}");
    // Room 1 is one of two choices: taken out of the need, which keeps room 2.
    let deleted = write(&t.db, async |tx| {
        resource::delete(tx, org.id, room1.id).await
    })
    .await
    .unwrap();
    assert_eq!(deleted.removed_from_services, ["Visit"]);
    let mut conn = t.db.conn().await.unwrap();
    assert_eq!(
        resource::requirements(conn.exec(), org.id, visit)
            .await
            .unwrap(),
        [vec![room2.id], vec![shockwave.id]]
    );
    assert!(matches!(
        resource::get(conn.exec(), org.id, room1.id).await,
        Err(Error::NotFound("resource"))
    ));
    drop(conn);
    // An appointment holding the spare room keeps it: refused, suggesting the services.
    let booking = booked(
        appointment::book_portal(
            &t.db,
            &org,
            &PortalBooking {
                patient: id(&t.db, Kind::Patient, &org, "p01").await,
                service: class,
                practitioner: id(&t.db, Kind::Practitioner, &org, "kim").await,
                start: at("2026-03-02T09:00:00-05:00"),
                telehealth: false,
                idempotency_key: None,
            },
            &clock("2026-03-01T00:00:00Z"),
            None,
        )
        .await,
    );
    hold(&t.db, &org, booking.appointment.id, spare.id).await;
    let text = message(
        write(&t.db, async |tx| {
            resource::delete(tx, org.id, spare.id).await
        })
        .await,
    );
    assert!(text.contains("1 appointment"), "{text}");
    assert!(text.contains("services"), "{text}");
    assert_eq!(all(&t.db, &org).await.len(), 3);
}

/// Records that an appointment holds a resource, as a booking will.
async fn hold(db: &Db, org: &Organisation, appointment: i64, resource: i64) {
    let sql = "INSERT INTO appointment_resources (org_id, appointment_id, resource_id) VALUES ($1, $2, $3)";
    let mut conn = db.conn().await.unwrap();
    match conn.exec() {
        store::Exec::Sqlite(c) => {
            sqlx::query(sql)
                .bind(org.id)
                .bind(appointment)
                .bind(resource)
                .execute(c)
                .await
                .unwrap();
        }
        store::Exec::Postgres(c) => {
            sqlx::query(sql)
                .bind(org.id)
                .bind(appointment)
                .bind(resource)
                .execute(c)
                .await
                .unwrap();
        }
    }
}

both!(
    resources_are_created_changed_and_listed_within_the_organisation,
    bad_or_foreign_input_is_refused_naming_the_field_and_changes_nothing,
    records_of_one_resource_may_not_share_a_date,
    time_off_needs_an_end_after_its_start,
    a_service_needs_up_to_sixteen_requirements_each_resource_in_one,
    deleting_a_resource_keeps_appointments_and_services_whole,
);
