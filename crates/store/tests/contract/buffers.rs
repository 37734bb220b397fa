//! Buffers around appointments (docs/scenario.md, *Buffers (v2)*) through the store:
//! a service's buffers are checked and saved, every booking path writes the buffers an
//! appointment was booked with and judges by them exactly as the engine does, a move
//! keeps them, and import and export carry them.

use slot_engine::{Buffers, Instant, Model, Scenario};
use store::appointment::{
    self, Move, PortalBooking, PortalCheck, PortalMove, PortalMoveOutcome, StaffBooking,
};
use store::keys::Kind;
use store::service::{self, ServiceInput};
use store::{Conflict, Error, Organisation};

use crate::{TestDb, at, booked, both, clock, export, id, import, worked};

/// When every test asks: the query's `now` of buffers.json.
const NOW: &str = "2026-03-01T12:00:00Z";

/// buffers.json with a patient, "pat", to book with: Mo Chen works 09:00–12:00 on
/// Monday 2 March 2026 in Toronto, with time off from 12:00; the 30-minute deep tissue
/// massage keeps 5 minutes before and 15 after; an earlier booking from 10:00 to 10:30
/// keeps 10 minutes after.
fn scenario() -> Scenario {
    let mut doc = serde_json::to_value(worked("buffers.json")).unwrap();
    doc["patients"] = serde_json::json!([
        {"id": "pat", "first_name": "Pat", "last_name": "Lee", "email": "pat@example.com"}
    ]);
    Scenario::from_json(doc.to_string().as_bytes()).unwrap()
}

/// The Monday's candidates of the massage, every quarter hour of Mo's morning.
fn mornings() -> Vec<Instant> {
    [
        "09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00", "11:15",
        "11:30",
    ]
    .iter()
    .map(|t| at(&format!("2026-03-02T{t}:00-05:00")))
    .collect()
}

/// The engine's verdict on a portal booking of the massage with Mo at `start`:
/// `None` when bookable, else the rule and reason.
fn engine_verdict(scenario: &Scenario, start: Instant) -> Option<(u8, String)> {
    let model = Model::new(scenario).unwrap();
    let query = &model.query().unwrap().portal;
    let mo = model.practitioner_ix("mo").unwrap();
    model
        .check(query, mo, start)
        .err()
        .map(|r| (r.rule.number(), r.reason))
}

fn portal_booking(ids: &Ids, start: Instant) -> PortalBooking {
    PortalBooking {
        patient: ids.pat,
        service: ids.deep,
        practitioner: ids.mo,
        start,
        telehealth: false,
        idempotency_key: None,
    }
}

/// The row ids of buffers.json's names.
struct Ids {
    mo: i64,
    deep: i64,
    massage: i64,
    pat: i64,
}

async fn ids(t: &TestDb, org: &Organisation) -> Ids {
    Ids {
        mo: id(&t.db, Kind::Practitioner, org, "mo").await,
        deep: id(&t.db, Kind::Service, org, "deep").await,
        massage: id(&t.db, Kind::ScheduleType, org, "massage").await,
        pat: id(&t.db, Kind::Patient, org, "pat").await,
    }
}

/// The store's verdict on every candidate, as `check_portal` answers it.
async fn store_verdicts(t: &TestDb, org: &Organisation, ids: &Ids) -> Vec<Option<(u8, String)>> {
    let mut verdicts = Vec::new();
    for start in mornings() {
        let answer =
            appointment::check_portal(&t.db, org, &portal_booking(ids, start), &clock(NOW))
                .await
                .unwrap();
        verdicts.push(match answer {
            PortalCheck::Open(_) => None,
            PortalCheck::Refused { rule, reason, .. } => Some((rule, reason)),
        });
    }
    verdicts
}

fn engine_verdicts(scenario: &Scenario) -> Vec<Option<(u8, String)>> {
    mornings()
        .into_iter()
        .map(|start| engine_verdict(scenario, start))
        .collect()
}

/// The service's fields as an admin enters them, with these buffers.
async fn input_of(
    t: &TestDb,
    org: &Organisation,
    id: i64,
    before: i64,
    after: i64,
) -> ServiceInput {
    let mut conn = t.db.conn().await.unwrap();
    let s = service::get(conn.exec(), org.id, id).await.unwrap();
    let types = service::schedule_types(conn.exec(), org.id, id)
        .await
        .unwrap();
    ServiceInput {
        code: s.code,
        name: s.name,
        description: s.description,
        duration_minutes: s.duration_minutes,
        book_from_portal: s.book_from_portal,
        portal_conflicts: s.portal_conflicts,
        practitioner_type_id: s.practitioner_type_id,
        schedule_type_ids: types.iter().map(|t| t.id).collect(),
        buffer_before_minutes: before,
        buffer_after_minutes: after,
        allow_series: s.allow_series,
    }
}

async fn set_buffers(t: &TestDb, org: &Organisation, id: i64, before: i64, after: i64) {
    let input = input_of(t, org, id, before, after).await;
    let mut tx = t.db.begin().await.unwrap();
    service::update(&mut tx, org.id, id, &input).await.unwrap();
    store::transfer::check_setup(&mut tx, org.id).await.unwrap();
    tx.commit().await.unwrap();
}

async fn staff_user(t: &TestDb, org: &Organisation) -> i64 {
    let mut tx = t.db.begin().await.unwrap();
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
    staff.id
}

fn buffers_of(a: &appointment::Appointment) -> (i64, i64) {
    (a.buffer_before_minutes, a.buffer_after_minutes)
}

async fn service_buffers_are_checked_by_field_and_kept(t: &TestDb) {
    let org = import(&t.db, "clinic", &scenario()).await;
    let massage = id(&t.db, Kind::ScheduleType, &org, "massage").await;
    let input = ServiceInput {
        name: "Hot stone massage".into(),
        duration_minutes: 60,
        book_from_portal: true,
        schedule_type_ids: vec![massage],
        buffer_before_minutes: 10,
        buffer_after_minutes: 1440,
        allow_series: true,
        ..ServiceInput::default()
    };
    for (field, bad) in [
        (
            "buffer_before_minutes",
            ServiceInput {
                buffer_before_minutes: -1,
                ..input.clone()
            },
        ),
        (
            "buffer_after_minutes",
            ServiceInput {
                buffer_after_minutes: 1441,
                ..input.clone()
            },
        ),
    ] {
        let mut tx = t.db.begin().await.unwrap();
        match service::create(&mut tx, org.id, &bad).await {
            Err(Error::Invalid { field: f, message }) => {
                assert_eq!(f, field);
                assert!(message.contains("from 0 to 1440"), "{message}");
            }
            other => panic!("expected {field} refused, got {other:?}"),
        }
    }
    let mut conn = t.db.conn().await.unwrap();
    assert_eq!(
        service::all(conn.exec(), org.id).await.unwrap().len(),
        1,
        "nothing saved"
    );
    drop(conn);

    let mut tx = t.db.begin().await.unwrap();
    let made = service::create(&mut tx, org.id, &input).await.unwrap();
    store::transfer::check_setup(&mut tx, org.id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (
            made.buffer_before_minutes,
            made.buffer_after_minutes,
            made.allow_series
        ),
        (10, 1440, true)
    );
    assert_eq!(
        made.buffers(),
        Buffers {
            before_minutes: 10,
            after_minutes: 1440
        }
    );
    set_buffers(t, &org, made.id, 0, 5).await;
    let mut conn = t.db.conn().await.unwrap();
    let saved = service::get(conn.exec(), org.id, made.id).await.unwrap();
    assert_eq!(
        (saved.buffer_before_minutes, saved.buffer_after_minutes),
        (0, 5)
    );
    // The imported service kept the scenario's.
    let deep = id(&t.db, Kind::Service, &org, "deep").await;
    let deep = service::get(conn.exec(), org.id, deep).await.unwrap();
    assert_eq!(
        (deep.buffer_before_minutes, deep.buffer_after_minutes),
        (5, 15)
    );
    assert!(!deep.allow_series);
    // The database refuses what the store would, whoever writes.
    drop(conn);
    let mut tx = t.db.begin().await.unwrap();
    let refused = sqlx_update_buffer(&mut tx, made.id).await;
    assert!(refused, "the CHECK constraint holds buffers to 0..=1440");
}

/// Writes a buffer of 1441 minutes around the store's checks; whether the database
/// refused it.
async fn sqlx_update_buffer(tx: &mut store::Tx, service: i64) -> bool {
    let sql = format!("UPDATE services SET buffer_after_minutes = 1441 WHERE id = {service}");
    match tx.exec() {
        store::db::Exec::Sqlite(c) => sqlx::query(&sql).execute(&mut *c).await.is_err(),
        store::db::Exec::Postgres(c) => sqlx::query(&sql).execute(&mut *c).await.is_err(),
    }
}

async fn portal_bookings_beside_buffers_are_refused_and_accepted_as_the_engine_says(t: &TestDb) {
    let mut scenario = scenario();
    let org = import(&t.db, "clinic", &scenario).await;
    let ids = ids(t, &org).await;
    // Every candidate of the morning: the same verdict, rule and words as the engine.
    let engine = engine_verdicts(&scenario);
    assert_eq!(store_verdicts(t, &org, &ids).await, engine);
    // The buffers decide some of them: the earlier booking's 10 minutes after it, the
    // massage's own 15 after reaching it, and its 15 after meeting the time off.
    assert_eq!(
        engine[7], None,
        "10:45 meets the 10:40 end of the earlier buffer"
    );
    let (rule, reason) = engine[2].clone().expect("09:30 is refused");
    assert_eq!(rule, 11);
    assert!(reason.contains("buffer after"), "{reason}");
    let (rule, reason) = engine[10].clone().expect("11:30 is refused");
    assert_eq!(rule, 10);
    assert_eq!(
        reason,
        "the 15-minute buffer after 11:30–12:00 meets time off: Mo Chen has time off from \
         2026-03-02 12:00 to 2026-03-02 13:00"
    );

    // Booking 10:45 writes the service's buffers, and the engine then counts them.
    let made = booked(
        appointment::book_portal(
            &t.db,
            &org,
            &portal_booking(&ids, mornings()[7]),
            &clock(NOW),
            None,
        )
        .await,
    );
    assert_eq!(buffers_of(&made.appointment), (5, 15));
    let mut with_it = serde_json::to_value(&scenario).unwrap();
    with_it["appointments"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "practitioner": "mo", "service": "deep",
            "start": "2026-03-02T10:45:00-05:00", "end": "2026-03-02T11:15:00-05:00",
            "buffer_before_minutes": 5, "buffer_after_minutes": 15
        }));
    scenario = Scenario::from_json(with_it.to_string().as_bytes()).unwrap();
    let engine = engine_verdicts(&scenario);
    assert!(engine[9].is_some(), "11:15 is in the new booking's buffer");
    assert_eq!(store_verdicts(t, &org, &ids).await, engine);
    match appointment::book_portal(
        &t.db,
        &org,
        &portal_booking(&ids, mornings()[9]),
        &clock(NOW),
        None,
    )
    .await
    .unwrap()
    {
        appointment::PortalOutcome::Taken { rule, reason, .. } => {
            assert_eq!(Some((rule, reason)), engine[9]);
        }
        other => panic!("11:15 should be refused, got {other:?}"),
    }
}

async fn a_staff_booking_keeps_its_services_buffers_and_one_without_a_service_none(t: &TestDb) {
    let org = import(&t.db, "clinic", &scenario()).await;
    let ids = ids(t, &org).await;
    let staff = staff_user(t, &org).await;
    let book = |service: Option<i64>, start: &str, reason: Option<&str>| StaffBooking {
        staff: store::audit::Actor::Staff(staff),
        practitioner: ids.mo,
        patient: Some(ids.pat),
        service,
        schedule_type: service.is_none().then_some(ids.massage),
        start: at(start),
        duration_minutes: Some(30),
        telehealth: false,
        override_reason: reason.map(str::to_owned),
        idempotency_key: None,
        resources: Default::default(),
    };
    // 09:30–10:00 with the massage's 15 minutes after reaches the 10:00 booking, as
    // staff-checks.json says; without a service it keeps nothing free, and fits.
    match appointment::book_staff(
        &t.db,
        &org,
        &book(Some(ids.deep), "2026-03-02T09:30:00-05:00", None),
        &clock(NOW),
        None,
    )
    .await
    {
        Err(Error::Conflict(Conflict::NeedsOverride { reasons })) => {
            assert!(reasons.iter().any(|r| r.contains("buffer")), "{reasons:?}");
        }
        other => panic!("expected an override to be needed, got {other:?}"),
    }
    let plain = appointment::book_staff(
        &t.db,
        &org,
        &book(None, "2026-03-02T09:30:00-05:00", None),
        &clock(NOW),
        None,
    )
    .await
    .unwrap();
    assert_eq!(buffers_of(&plain.appointment), (0, 0));
    // 11:30 with the massage: its buffer meets the time off; overridden, it is booked
    // with the service's buffers all the same.
    let over = appointment::book_staff(
        &t.db,
        &org,
        &book(
            Some(ids.deep),
            "2026-03-02T11:30:00-05:00",
            Some("Mo stays late"),
        ),
        &clock(NOW),
        None,
    )
    .await
    .unwrap();
    assert_eq!(buffers_of(&over.appointment), (5, 15));
    assert_eq!(
        over.appointment.override_reason.as_deref(),
        Some("Mo stays late")
    );
    // The book lists it with them.
    let mut conn = t.db.conn().await.unwrap();
    let listed = store::book::entry(conn.exec(), org.id, over.appointment.id)
        .await
        .unwrap();
    assert_eq!(
        (listed.buffer_before_minutes, listed.buffer_after_minutes),
        (5, 15)
    );
}

async fn a_move_keeps_the_buffers_it_was_booked_with(t: &TestDb) {
    let org = import(&t.db, "clinic", &scenario()).await;
    let ids = ids(t, &org).await;
    let staff = staff_user(t, &org).await;
    let first = appointment::book_staff(
        &t.db,
        &org,
        &StaffBooking {
            staff: store::audit::Actor::Staff(staff),
            practitioner: ids.mo,
            patient: Some(ids.pat),
            service: Some(ids.deep),
            schedule_type: None,
            start: at("2026-03-02T09:00:00-05:00"),
            duration_minutes: None,
            telehealth: false,
            override_reason: None,
            idempotency_key: None,
            resources: Default::default(),
        },
        &clock(NOW),
        None,
    )
    .await
    .unwrap()
    .appointment;
    assert_eq!(buffers_of(&first), (5, 15));
    // The service now keeps nothing free; the appointment still keeps its own.
    set_buffers(t, &org, ids.deep, 0, 0).await;
    let move_to = |start: &str| Move {
        staff: store::audit::Actor::Staff(staff),
        appointment: first.id,
        start: at(start),
        practitioner: None,
        duration_minutes: None,
        override_reason: None,
        resources: Default::default(),
    };
    // 09:30–10:00 and its own 15 minutes after reach the 10:00 booking: with the
    // service's buffers as they are now it would fit, with its own it does not.
    match appointment::reschedule(
        &t.db,
        &org,
        &move_to("2026-03-02T09:30:00-05:00"),
        &clock(NOW),
        None,
    )
    .await
    {
        Err(Error::Conflict(Conflict::NeedsOverride { reasons })) => {
            assert!(reasons.iter().any(|r| r.contains("buffer")), "{reasons:?}");
        }
        other => panic!("expected an override to be needed, got {other:?}"),
    }
    // 09:15–09:45 with 15 after ends at 10:00, where the other begins: it fits.
    let moved = appointment::reschedule(
        &t.db,
        &org,
        &move_to("2026-03-02T09:15:00-05:00"),
        &clock(NOW),
        None,
    )
    .await
    .unwrap();
    assert_eq!(buffers_of(&moved), (5, 15));
    assert_eq!(moved.start_ns, at("2026-03-02T09:15:00-05:00").unix_nanos());
}

async fn a_patients_move_takes_the_services_buffers_as_they_are_then(t: &TestDb) {
    let org = import(&t.db, "clinic", &scenario()).await;
    let ids = ids(t, &org).await;
    let made = booked(
        appointment::book_portal(
            &t.db,
            &org,
            &portal_booking(&ids, at("2026-03-02T09:00:00-05:00")),
            &clock(NOW),
            None,
        )
        .await,
    );
    assert_eq!(buffers_of(&made.appointment), (5, 15));
    let to_1130 = PortalMove {
        patient: ids.pat,
        appointment: made.appointment.id,
        practitioner: ids.mo,
        start: at("2026-03-02T11:30:00-05:00"),
    };
    // With the service's 15 minutes after, 11:30 meets the time off at noon.
    match appointment::reschedule_portal(&t.db, &org, &to_1130, &clock(NOW), None)
        .await
        .unwrap()
    {
        PortalMoveOutcome::Taken { rule, reason, .. } => {
            assert_eq!(rule, 10);
            assert!(
                reason.starts_with("the 15-minute buffer after 11:30–12:00"),
                "{reason}"
            );
        }
        other => panic!("expected the move refused, got {other:?}"),
    }
    // Once the service keeps nothing after, the same move goes in and keeps that.
    set_buffers(t, &org, ids.deep, 5, 0).await;
    match appointment::reschedule_portal(&t.db, &org, &to_1130, &clock(NOW), None)
        .await
        .unwrap()
    {
        PortalMoveOutcome::Moved(moved) => assert_eq!(buffers_of(&moved), (5, 0)),
        other => panic!("expected the move, got {other:?}"),
    }
}

async fn export_and_import_carry_buffers_and_say_version_2_only_when_used(t: &TestDb) {
    let org = import(&t.db, "clinic", &scenario()).await;
    let ids = ids(t, &org).await;
    booked(
        appointment::book_portal(
            &t.db,
            &org,
            &portal_booking(&ids, at("2026-03-02T09:00:00-05:00")),
            &clock(NOW),
            None,
        )
        .await,
    );
    let exported = export(&t.db, &org).await;
    assert_eq!(exported.version, 2);
    let deep = exported
        .services
        .iter()
        .find(|s| s.id.as_str() == "deep")
        .unwrap();
    assert_eq!(
        (deep.buffer_before_minutes, deep.buffer_after_minutes),
        (5, 15)
    );
    let kept: Vec<(u32, u32)> = exported
        .appointments
        .iter()
        .map(|a| (a.buffer_before_minutes, a.buffer_after_minutes))
        .collect();
    assert_eq!(
        kept,
        [(5, 15), (0, 10)],
        "the new booking's and the earlier one's"
    );
    // Imported again, it exports the same document.
    let again = import(&t.db, "again", &exported).await;
    assert_eq!(export(&t.db, &again).await, exported);

    // An appointment keeps its buffers after its service loses them, and so the
    // export still needs version 2.
    set_buffers(t, &org, ids.deep, 0, 0).await;
    let exported = export(&t.db, &org).await;
    assert_eq!(exported.version, 2);
    assert_eq!(exported.services[0].buffer_after_minutes, 0);
    assert_eq!(exported.appointments[0].buffer_after_minutes, 15);

    // Without any field of version 2 the export stays version 1; a service offered as
    // a series online needs version 2, and comes back the same.
    let basic = import(&t.db, "basic", &worked("basic.json")).await;
    assert_eq!(export(&t.db, &basic).await.version, 1);
    let initial = id(&t.db, Kind::Service, &basic, "initial").await;
    let input = input_of(t, &basic, initial, 0, 0).await;
    let mut tx = t.db.begin().await.unwrap();
    service::update(
        &mut tx,
        basic.id,
        initial,
        &ServiceInput {
            allow_series: true,
            ..input
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let exported = export(&t.db, &basic).await;
    assert_eq!(exported.version, 2);
    assert!(exported.services[0].allow_series);
    let again = import(&t.db, "basic-again", &exported).await;
    assert_eq!(export(&t.db, &again).await, exported);
}

/// Far east (UTC+14), a slot at midnight starts 14 hours before its date begins in
/// UTC, and a day's buffer before it reaches back further still: into the buffer of an
/// appointment that ended more than two days before the date searched, which the
/// window must load although the appointment itself lies outside it.
async fn an_appointment_whose_buffer_reaches_into_the_window_counts(t: &TestDb) {
    let doc = |appointments: serde_json::Value| {
        let doc = serde_json::json!({
            "version": 2,
            "settings": {"slot_step_minutes": 60},
            "clinics": [{"id": "kiritimati", "timezone": "Pacific/Kiritimati"}],
            "schedule_types": [{"id": "retreat", "clinic": "kiritimati"}],
            "practitioners": [{"id": "ika", "type": "guide", "home_clinic": "kiritimati",
                "schedule_types": ["retreat"],
                "availability": [{"start_date": "2026-02-01",
                    "blocks": [{"days": ["mon"], "start": "00:00", "end": "02:00", "schedule_type": "retreat"}]}]}],
            "services": [{"id": "day", "duration_minutes": 60, "book_from_portal": true,
                "schedule_types": ["retreat"], "buffer_before_minutes": 1440}],
            "appointments": appointments,
            "query": {"service": "day", "from": "2026-03-02", "to": "2026-03-02", "now": "2026-02-01T00:00:00Z"}
        });
        Scenario::from_json(doc.to_string().as_bytes()).unwrap()
    };
    let answer = |scenario: &Scenario| {
        let model = Model::new(scenario).unwrap();
        slot_engine::Answer::new(&model, &model.open_slots(model.query().unwrap()))
    };
    assert_eq!(
        answer(&doc(serde_json::json!([]))).slots.len(),
        2,
        "free, both hours are offered"
    );
    // 22:00–23:00 UTC on Friday 27 February, a day kept free after it: until 23:00 UTC
    // on Saturday, after the Monday's 00:00 (10:00 UTC on Sunday) less its day before.
    let scenario = doc(serde_json::json!([{"practitioner": "ika",
        "start": "2026-02-27T22:00:00Z", "end": "2026-02-27T23:00:00Z", "buffer_after_minutes": 1440}]));
    let expected = answer(&scenario);
    assert!(expected.slots.is_empty(), "{expected:?}");
    let org = import(&t.db, "far-east", &scenario).await;
    let q = scenario.query.as_ref().unwrap();
    let mut conn = t.db.conn().await.unwrap();
    let found = store::window::answer(
        &mut conn.exec(),
        &org,
        &store::window::KeyedSlotRequest {
            service: "day".to_owned(),
            practitioners: None,
            from: q.from,
            to: q.to,
            now: q.now,
            telehealth: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(found, expected);
}

both!(
    an_appointment_whose_buffer_reaches_into_the_window_counts,
    service_buffers_are_checked_by_field_and_kept,
    portal_bookings_beside_buffers_are_refused_and_accepted_as_the_engine_says,
    a_staff_booking_keeps_its_services_buffers_and_one_without_a_service_none,
    a_move_keeps_the_buffers_it_was_booked_with,
    a_patients_move_takes_the_services_buffers_as_they_are_then,
    export_and_import_carry_buffers_and_say_version_2_only_when_used,
);
