//! Rooms and equipment in bookings (issue 16): the window counts every appointment
//! that holds a room the booking could use, whoever's it is; every booking path holds
//! what the engine checked; and no storm of bookings, on one server or two, ever puts
//! a room over its capacity.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use slot_engine::{Answer, Model, Scenario, SeriesEnd, SeriesRule};
use store::appointment::{
    self, Actor, Move, PortalBooking, PortalMove, PortalMoveOutcome, PortalOutcome,
    ResourceRequest, StaffBooking,
};
use store::keys::Kind;
use store::window::{self, KeyedSlotRequest};
use store::{Conflict, Db, Error, Organisation};

use crate::{TestDb, at, booked, both, clock, export, id, import, worked};

/// A London clinic on Monday 2026-03-02 (GMT): `practitioners` physiotherapists p01…
/// working 09:00–17:00 on weekdays (no conflicts); rooms `gym` (2 places), `room-a`
/// and `room-b`; service `treat` (30 minutes, online, weekly series allowed) needing
/// any one of the three, so four treatments at once at most; patients pa01…pa60; and
/// a front-desk staff user.
async fn room_clinic(db: &Db, slug: &str, practitioners: usize) -> (Organisation, i64) {
    let people: Vec<serde_json::Value> = (1..=practitioners)
        .map(|n| {
            serde_json::json!({"id": format!("p{n:02}"), "name": format!("Physio {n}"), "type": "physio",
                "home_clinic": "london", "schedule_types": ["physio"],
                "availability": [{"start_date": "2026-01-01",
                  "blocks": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00", "schedule_type": "physio"}]}]})
        })
        .collect();
    let patients: Vec<serde_json::Value> = (1..=60)
        .map(|n| {
            serde_json::json!({"id": format!("pa{n:02}"), "first_name": "Pat", "last_name": format!("Number {n}"),
                               "email": format!("pa{n}@example.com")})
        })
        .collect();
    let doc = serde_json::json!({
        "version": 3,
        "settings": {"slot_step_minutes": 30, "min_notice_minutes": 0},
        "clinics": [{"id": "london", "name": "London", "timezone": "Europe/London"}],
        "schedule_types": [{"id": "physio", "name": "Physio", "clinic": "london"}],
        "practitioners": people,
        "resources": [
            {"id": "gym", "name": "Gym", "clinic": "london", "capacity": 2},
            {"id": "room-a", "name": "Room A", "clinic": "london"},
            {"id": "room-b", "name": "Room B", "clinic": "london"}
        ],
        "services": [{"id": "treat", "name": "Treatment", "duration_minutes": 30, "book_from_portal": true,
                      "allow_series": true, "schedule_types": ["physio"],
                      "requires": [["gym", "room-a", "room-b"]]}],
        "patients": patients
    });
    let org = import(
        db,
        slug,
        &Scenario::from_json(doc.to_string().as_bytes()).unwrap(),
    )
    .await;
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

/// Row ids of one room clinic.
struct Ids {
    practitioners: Vec<i64>,
    patients: Vec<i64>,
    treat: i64,
    rooms: HashMap<&'static str, i64>,
}

async fn ids(db: &Db, org: &Organisation, practitioners: usize) -> Ids {
    let mut out = Ids {
        practitioners: Vec::new(),
        patients: Vec::new(),
        treat: id(db, Kind::Service, org, "treat").await,
        rooms: HashMap::new(),
    };
    for n in 1..=practitioners {
        out.practitioners
            .push(id(db, Kind::Practitioner, org, &format!("p{n:02}")).await);
    }
    for n in 1..=60 {
        out.patients
            .push(id(db, Kind::Patient, org, &format!("pa{n:02}")).await);
    }
    let mut conn = db.conn().await.unwrap();
    let choices = store::book::choices(conn.exec(), org.id).await.unwrap();
    for (key, name) in [("gym", "Gym"), ("room-a", "Room A"), ("room-b", "Room B")] {
        let r = choices.resources.iter().find(|r| r.name == name).unwrap();
        out.rooms.insert(key, r.id);
    }
    out
}

fn portal(ids: &Ids, practitioner: usize, patient: usize, start: &str) -> PortalBooking {
    PortalBooking {
        patient: ids.patients[patient],
        service: ids.treat,
        practitioner: ids.practitioners[practitioner],
        start: at(start),
        telehealth: false,
        idempotency_key: None,
    }
}

fn staff(
    ids: &Ids,
    staff: i64,
    practitioner: usize,
    patient: usize,
    start: &str,
    resources: ResourceRequest,
) -> StaffBooking {
    StaffBooking {
        staff: store::audit::Actor::Staff(staff),
        practitioner: ids.practitioners[practitioner],
        patient: Some(ids.patients[patient]),
        service: Some(ids.treat),
        schedule_type: None,
        start: at(start),
        duration_minutes: None,
        telehealth: false,
        override_reason: None,
        idempotency_key: None,
        resources,
    }
}

/// The resource rows an appointment holds.
async fn held(db: &Db, org: &Organisation, appointment: i64) -> Vec<i64> {
    let mut conn = db.conn().await.unwrap();
    let mut found: Vec<i64> = appointment::held(conn.exec(), org.id, &[appointment])
        .await
        .unwrap()
        .remove(&appointment)
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.id)
        .collect();
    found.sort_unstable();
    found
}

fn now() -> store::FixedClock {
    clock("2026-03-01T00:00:00Z")
}

/// The engine's answer for the scenario's query limited to `practitioners`, and the
/// store's answer for the same request on the imported organisation.
async fn answers(
    t: &TestDb,
    org: &Organisation,
    scenario: &Scenario,
    practitioners: &[&str],
) -> (Answer, Answer) {
    let mut scenario = scenario.clone();
    let q = scenario.query.as_mut().unwrap();
    q.practitioners = Some(
        practitioners
            .iter()
            .map(|p| slot_engine::scenario::Text::new(*p).unwrap())
            .collect(),
    );
    let model = Model::new(&scenario).unwrap();
    let engine = Answer::new(&model, &model.open_slots(model.query().unwrap()));
    let q = scenario.query.as_ref().unwrap();
    let mut conn = t.db.conn().await.unwrap();
    let stored = window::answer(
        &mut conn.exec(),
        org,
        &KeyedSlotRequest {
            service: q.service.to_string(),
            practitioners: Some(practitioners.iter().map(|p| p.to_string()).collect()),
            from: q.from,
            to: q.to,
            now: q.now,
            telehealth: q.telehealth,
        },
    )
    .await
    .unwrap();
    (engine, stored)
}

/// The worked scenario `rooms.json` asked for one practitioner at a time: the window
/// loads only theirs, yet every other practitioner's appointment that holds a room
/// counts for the room, so the answer is the engine's on the whole scenario.
async fn a_window_for_one_practitioner_counts_everyones_rooms(t: &TestDb) {
    let scenario = worked("rooms.json");
    let org = import(&t.db, "rooms", &scenario).await;
    for who in [&["ana"][..], &["cy"], &["ben", "cy"]] {
        let (engine, stored) = answers(t, &org, &scenario, who).await;
        assert_eq!(stored, engine, "{who:?}");
    }
    // Without the other practitioners' room use the answer would differ: Ana alone
    // has nothing booked on Monday at 09:00, but Room 1 and Room 2 are both taken
    // then (Ana's and Ben's), so Monday 09:00 is not offered to Cy.
    let (engine, _) = answers(t, &org, &scenario, &["cy"]).await;
    let monday_nine = engine
        .slots
        .iter()
        .any(|s| s.practitioner == "cy" && s.start.starts_with("2026-03-02T09:00"));
    assert!(!monday_nine, "{engine:?}");
}

/// Portal and staff bookings, moves, undone cancellations and series each hold what
/// the engine checked, and a room another practitioner holds refuses a staff booking
/// naming it unless overridden.
async fn every_booking_path_holds_what_the_engine_checked(t: &TestDb) {
    let db = &t.db;
    let (org, desk) = room_clinic(db, "rooms", 8).await;
    let ids = ids(db, &org, 8).await;
    let (gym, room_a, room_b) = (ids.rooms["gym"], ids.rooms["room-a"], ids.rooms["room-b"]);
    let nine = "2026-03-02T09:00:00Z";
    // Per requirement, the first free by id: the gym twice, then Room A.
    let first =
        booked(appointment::book_portal(db, &org, &portal(&ids, 0, 0, nine), &now(), None).await);
    assert_eq!(held(db, &org, first.appointment.id).await, [gym]);
    let second = appointment::book_staff(
        db,
        &org,
        &staff(&ids, desk, 1, 1, nine, ResourceRequest::Auto),
        &now(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(held(db, &org, second.appointment.id).await, [gym]);
    let third =
        booked(appointment::book_portal(db, &org, &portal(&ids, 2, 2, nine), &now(), None).await);
    assert_eq!(held(db, &org, third.appointment.id).await, [room_a]);
    // Naming Room A, which p03 holds: a reason like a conflict, and nothing booked.
    let named = staff(
        &ids,
        desk,
        3,
        3,
        nine,
        ResourceRequest::Chosen(vec![room_a]),
    );
    match appointment::book_staff(db, &org, &named, &now(), None).await {
        Err(Error::Conflict(Conflict::NeedsOverride { reasons })) => {
            assert!(reasons.iter().any(|r| r.contains("Room A")), "{reasons:?}");
        }
        other => panic!("expected an override to be needed: {other:?}"),
    }
    // Room B is free: named, it goes in holding it.
    let fourth = appointment::book_staff(
        db,
        &org,
        &staff(
            &ids,
            desk,
            3,
            3,
            nine,
            ResourceRequest::Chosen(vec![room_b]),
        ),
        &now(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(held(db, &org, fourth.appointment.id).await, [room_b]);
    // Every room is full at 09:00: the portal refuses by rule 13.
    match appointment::book_portal(db, &org, &portal(&ids, 4, 4, nine), &now(), None).await {
        Ok(PortalOutcome::Taken { rule: 13, .. }) => {}
        other => panic!("expected rule 13: {other:?}"),
    }
    // An unknown or another organisation's resource is refused naming the field.
    let (other_org, _) = room_clinic(db, "other", 1).await;
    let other_ids = ids_rooms(db, &other_org).await;
    let foreign = staff(
        &ids,
        desk,
        4,
        4,
        "2026-03-02T10:00:00Z",
        ResourceRequest::Chosen(vec![other_ids]),
    );
    match appointment::book_staff(db, &org, &foreign, &now(), None).await {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "resources"),
        other => panic!("expected resources to be refused: {other:?}"),
    }
    // Overridden, a full room is taken as named, and the reason is kept.
    let overridden = appointment::book_staff(
        db,
        &org,
        &StaffBooking {
            override_reason: Some("the patient needs this room".into()),
            ..staff(
                &ids,
                desk,
                4,
                4,
                nine,
                ResourceRequest::Chosen(vec![room_a]),
            )
        },
        &now(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(held(db, &org, overridden.appointment.id).await, [room_a]);
    appointment::cancel(
        db,
        &org,
        overridden.appointment.id,
        Actor::Staff(desk),
        "",
        &now(),
        None,
    )
    .await
    .unwrap();
    // A staff move picks again at the new time.
    let moved = appointment::reschedule(
        db,
        &org,
        &Move {
            staff: store::audit::Actor::Staff(desk),
            appointment: fourth.appointment.id,
            start: at("2026-03-02T10:00:00Z"),
            practitioner: None,
            duration_minutes: None,
            override_reason: None,
            resources: None,
        },
        &now(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(held(db, &org, moved.id).await, [gym]);
    // A patient's move too.
    match appointment::reschedule_portal(
        db,
        &org,
        &PortalMove {
            patient: ids.patients[0],
            appointment: first.appointment.id,
            practitioner: ids.practitioners[0],
            start: at("2026-03-02T10:00:00Z"),
        },
        &now(),
        None,
    )
    .await
    .unwrap()
    {
        PortalMoveOutcome::Moved(a) => assert_eq!(held(db, &org, a.id).await, [gym]),
        other => panic!("expected a move: {other:?}"),
    }
    // Undoing a cancellation takes back the same room, only while it is free.
    appointment::cancel(
        db,
        &org,
        third.appointment.id,
        Actor::Staff(desk),
        "",
        &now(),
        None,
    )
    .await
    .unwrap();
    let taker =
        booked(appointment::book_portal(db, &org, &portal(&ids, 5, 5, nine), &now(), None).await);
    assert_eq!(held(db, &org, taker.appointment.id).await, [gym]);
    let taker_two =
        booked(appointment::book_portal(db, &org, &portal(&ids, 6, 6, nine), &now(), None).await);
    assert_eq!(held(db, &org, taker_two.appointment.id).await, [room_a]);
    match appointment::restore(
        db,
        &org,
        third.appointment.id,
        store::audit::Actor::Staff(desk),
        &now(),
        None,
    )
    .await
    {
        Err(Error::Conflict(Conflict::NeedsOverride { reasons })) => {
            assert!(reasons.iter().any(|r| r.contains("Room A")), "{reasons:?}");
        }
        other => panic!("expected the restore to be refused: {other:?}"),
    }
    appointment::cancel(
        db,
        &org,
        taker_two.appointment.id,
        Actor::Staff(desk),
        "",
        &now(),
        None,
    )
    .await
    .unwrap();
    let restored = appointment::restore(
        db,
        &org,
        third.appointment.id,
        store::audit::Actor::Staff(desk),
        &now(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(held(db, &org, restored.id).await, [room_a]);
    // The book's entry names them, and the export holds them (version 3).
    let mut conn = db.conn().await.unwrap();
    let entry = store::book::entry(conn.exec(), org.id, restored.id)
        .await
        .unwrap();
    assert_eq!(
        entry
            .resources
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["Room A"]
    );
    drop(conn);
    let exported = export(db, &org).await;
    assert_eq!(exported.version, 3);
    assert!(
        exported
            .appointments
            .iter()
            .any(|a| a.resources.iter().any(|r| r.as_str() == "room-a"))
    );
}

/// The row id of some resource of another organisation.
async fn ids_rooms(db: &Db, org: &Organisation) -> i64 {
    let mut conn = db.conn().await.unwrap();
    store::book::choices(conn.exec(), org.id)
        .await
        .unwrap()
        .resources[0]
        .id
}

fn weekly(count: u32) -> SeriesRule {
    SeriesRule::new(1, SeriesEnd::Count(count)).unwrap()
}

/// A staff series holds a room per occurrence; a portal series is refused whole when
/// one occurrence finds every room taken, and books nothing.
async fn series_hold_rooms_per_occurrence_and_all_or_none(t: &TestDb) {
    let db = &t.db;
    let (org, desk) = room_clinic(db, "rooms", 8).await;
    let ids = ids(db, &org, 8).await;
    let series = appointment::series::book_staff(
        db,
        &org,
        &appointment::series::StaffSeries {
            staff: store::audit::Actor::Staff(desk),
            practitioner: ids.practitioners[0],
            patient: Some(ids.patients[0]),
            service: Some(ids.treat),
            schedule_type: None,
            start: at("2026-03-02T14:00:00Z"),
            duration_minutes: None,
            telehealth: false,
            rule: weekly(3),
            unfit: appointment::series::Unfit::Refuse,
            overrides: BTreeMap::new(),
            idempotency_key: None,
        },
        &now(),
        None,
    )
    .await
    .unwrap();
    let appointment::series::SeriesOutcome::Booked(series) = series else {
        panic!("expected the staff series to be booked");
    };
    assert_eq!(series.appointments.len(), 3);
    for a in &series.appointments {
        assert_eq!(held(db, &org, a.id).await, [ids.rooms["gym"]]);
    }
    // Fill the second Monday at 15:00: the gym's two places and both rooms.
    for n in 1..=4 {
        appointment::book_staff(
            db,
            &org,
            &staff(
                &ids,
                desk,
                n,
                n,
                "2026-03-09T15:00:00Z",
                ResourceRequest::Auto,
            ),
            &now(),
            None,
        )
        .await
        .unwrap();
    }
    let before = appointment::count(db.conn().await.unwrap().exec(), org.id)
        .await
        .unwrap();
    let refused = appointment::series::book_portal(
        db,
        &org,
        &appointment::series::PortalSeries {
            patient: ids.patients[9],
            service: ids.treat,
            practitioner: ids.practitioners[5],
            start: at("2026-03-02T15:00:00Z"),
            telehealth: false,
            rule: weekly(3),
            idempotency_key: None,
        },
        &now(),
        None,
    )
    .await
    .unwrap();
    match refused {
        appointment::series::SeriesOutcome::Refused(check) => {
            let refused: Vec<_> = check
                .occurrences
                .iter()
                .filter(|o| !matches!(o.verdict, appointment::series::Verdict::Open))
                .map(|o| o.date.to_string())
                .collect();
            assert_eq!(refused, ["2026-03-09"]);
        }
        other => panic!("expected the portal series to be refused: {other:?}"),
    }
    let after = appointment::count(db.conn().await.unwrap().exec(), org.id)
        .await
        .unwrap();
    assert_eq!(before, after, "an all-or-none series refused books nothing");
    // At 16:00 every week is free: booked whole, each occurrence holding the gym.
    let whole = appointment::series::book_portal(
        db,
        &org,
        &appointment::series::PortalSeries {
            patient: ids.patients[9],
            service: ids.treat,
            practitioner: ids.practitioners[5],
            start: at("2026-03-02T16:00:00Z"),
            telehealth: false,
            rule: weekly(3),
            idempotency_key: None,
        },
        &now(),
        None,
    )
    .await
    .unwrap();
    let appointment::series::SeriesOutcome::Booked(whole) = whole else {
        panic!("expected the portal series to be booked");
    };
    for a in &whole.appointments {
        assert_eq!(held(db, &org, a.id).await, [ids.rooms["gym"]]);
    }
}

/// For each room, the most appointments holding it in any one instant, counted from
/// the database afterwards (buffered intervals; cancelled ones free their place).
pub(crate) async fn room_peaks(db: &Db, org: &Organisation) -> HashMap<i64, (usize, i64)> {
    #[derive(sqlx::FromRow)]
    struct Row {
        resource_id: i64,
        capacity: i64,
        start_ns: i64,
        end_ns: i64,
        buffer_before_minutes: i64,
        buffer_after_minutes: i64,
    }
    let sql = "SELECT ar.resource_id, r.capacity, a.start_ns, a.end_ns, a.buffer_before_minutes, \
               a.buffer_after_minutes FROM appointment_resources ar \
               JOIN appointments a ON a.id = ar.appointment_id \
               JOIN resources r ON r.id = ar.resource_id \
               WHERE ar.org_id = $1 AND a.status <> 'cancelled'";
    let mut conn = db.conn().await.unwrap();
    let rows: Vec<Row> = match conn.exec() {
        store::Exec::Sqlite(c) => sqlx::query_as(sql)
            .bind(org.id)
            .fetch_all(&mut *c)
            .await
            .unwrap(),
        store::Exec::Postgres(c) => sqlx::query_as(sql)
            .bind(org.id)
            .fetch_all(&mut *c)
            .await
            .unwrap(),
    };
    let mut edges: HashMap<i64, (i64, Vec<(i64, i32)>)> = HashMap::new();
    for r in rows {
        let from = r.start_ns - r.buffer_before_minutes * 60_000_000_000;
        let to = r.end_ns + r.buffer_after_minutes * 60_000_000_000;
        let e = edges
            .entry(r.resource_id)
            .or_insert((r.capacity, Vec::new()));
        e.1.push((from, 1));
        e.1.push((to, -1));
    }
    edges
        .into_iter()
        .map(|(room, (capacity, mut e))| {
            // An end before a start at the same instant: touching is not overlapping.
            e.sort_unstable();
            let (mut now, mut peak) = (0i32, 0i32);
            for (_, d) in e {
                now += d;
                peak = peak.max(now);
            }
            (room, (peak as usize, capacity))
        })
        .collect()
}

/// Twenty practitioners and three rooms (the gym holding two) at the same four times:
/// each time only four treatments fit, whichever practitioners race for them through
/// the portal and the front desk, on two server instances (two pools on one database).
/// No room is ever over capacity, every acknowledged booking is there holding one
/// room, and every refusal is a clean "taken".
async fn a_room_storm_never_overbooks_a_room(t: &TestDb) {
    const PRACTITIONERS: usize = 20;
    let db = &t.db;
    let (org, desk) = room_clinic(db, "storm", PRACTITIONERS).await;
    let ids = Arc::new(ids(db, &org, PRACTITIONERS).await);
    let second = t.second_instance().await;
    let times = [
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:30:00Z",
        "2026-03-02T10:00:00Z",
        "2026-03-02T11:00:00Z",
    ];
    let attempts = PRACTITIONERS * times.len();
    let barrier = Arc::new(tokio::sync::Barrier::new(attempts));
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for (k, start) in times.iter().enumerate() {
        for p in 0..PRACTITIONERS {
            let db = if (p + k) % 2 == 0 {
                db.clone()
            } else {
                second.clone()
            };
            let (org, ids, barrier) = (org.clone(), ids.clone(), barrier.clone());
            let start = *start;
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let patient = (p + k * 7) % 60;
                if p % 2 == 0 {
                    match appointment::book_portal(
                        &db,
                        &org,
                        &portal(&ids, p, patient, start),
                        &now(),
                        None,
                    )
                    .await
                    {
                        Ok(PortalOutcome::Booked(b)) => Ok(b.appointment.id),
                        Ok(PortalOutcome::Taken { rule, reason, .. }) => {
                            Err(format!("rule {rule}: {reason}"))
                        }
                        Err(e) => panic!("portal booking failed: {e}"),
                    }
                } else {
                    let b = staff(&ids, desk, p, patient, start, ResourceRequest::Auto);
                    match appointment::book_staff(&db, &org, &b, &now(), None).await {
                        Ok(b) => Ok(b.appointment.id),
                        Err(Error::Conflict(Conflict::NeedsOverride { reasons })) => {
                            Err(reasons.join("; "))
                        }
                        Err(e) => panic!("staff booking failed: {e}"),
                    }
                }
            }));
        }
    }
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(id) => acknowledged.push(id),
            Err(why) => {
                // Taken: by the portal's rule 13, or the desk's room reason.
                assert!(
                    why.starts_with("rule 13") || why.contains("taken"),
                    "a refusal that is not a room taken: {why}"
                );
                refused += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "room storm ({:?}): {attempts} attempted, {} acknowledged, {refused} refused, {:.2?}",
        db.backend(),
        acknowledged.len(),
        elapsed
    );
    // Each time fits four (one after another: 09:30 meets 09:00's end, no overlap).
    assert_eq!(acknowledged.len(), 4 * times.len(), "{acknowledged:?}");
    assert_eq!(refused, attempts - 4 * times.len());
    for (room, (peak, capacity)) in room_peaks(db, &org).await {
        assert!(
            peak as i64 <= capacity,
            "room {room}: {peak} at once, capacity {capacity}"
        );
    }
    let mut conn = db.conn().await.unwrap();
    let mut held_by = appointment::held(conn.exec(), org.id, &acknowledged)
        .await
        .unwrap();
    for id in &acknowledged {
        let a = appointment::get(conn.exec(), org.id, *id).await.unwrap();
        assert!(a.status.occupies_time(), "{id} is {}", a.status);
        assert_eq!(
            held_by.remove(id).map(|h| h.len()),
            Some(1),
            "{id} holds one room"
        );
    }
    assert_eq!(
        appointment::count(conn.exec(), org.id).await.unwrap(),
        acknowledged.len() as i64
    );
    drop(conn);
    second.close().await;
}

/// An admin cannot make booked rooms overbooked: lowering a capacity below what
/// upcoming appointments hold at once, moving a held room to another clinic, or putting
/// it out of service under them is refused, naming the field, and changes nothing.
async fn setup_changes_never_overbook_the_rooms_appointments_hold(t: &TestDb) {
    let db = &t.db;
    let (org, _) = room_clinic(db, "held", 3).await;
    let ids = ids(db, &org, 3).await;
    let nine = "2026-03-02T09:00:00Z";
    for n in 0..2 {
        booked(appointment::book_portal(db, &org, &portal(&ids, n, n, nine), &now(), None).await);
    }
    let gym = ids.rooms["gym"];
    let before_ns = at("2026-03-01T00:00:00Z").unix_nanos();
    let after_ns = at("2026-03-03T00:00:00Z").unix_nanos();
    let attempt = async |input: store::resource::ResourceInput, now_ns: i64| {
        let mut tx = db.begin().await.unwrap();
        let out = store::resource::update(&mut tx, org.id, gym, &input, now_ns).await;
        drop(tx);
        out
    };
    let mut conn = db.conn().await.unwrap();
    let current = store::resource::get(conn.exec(), org.id, gym)
        .await
        .unwrap();
    drop(conn);
    let input = store::resource::ResourceInput {
        name: current.name.clone(),
        kind: current.kind,
        clinic_id: current.clinic_id,
        capacity: 2,
        always_available: true,
    };
    // Two treatments hold the gym at 09:00: a capacity of one is refused.
    match attempt(
        store::resource::ResourceInput {
            capacity: 1,
            ..input.clone()
        },
        before_ns,
    )
    .await
    {
        Err(Error::Invalid { field, message }) => {
            assert_eq!(field, "capacity");
            assert!(
                message.starts_with("Up to 2 upcoming appointments hold Gym at once"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Once they are past, it may shrink; renaming never needs them moved.
    attempt(
        store::resource::ResourceInput {
            capacity: 1,
            ..input.clone()
        },
        after_ns,
    )
    .await
    .unwrap();
    attempt(
        store::resource::ResourceInput {
            name: "Gym hall".into(),
            ..input.clone()
        },
        before_ns,
    )
    .await
    .unwrap();
    // Another clinic: refused while they hold it there.
    let mut tx = db.begin().await.unwrap();
    let leeds = store::clinic::create(
        &mut tx,
        org.id,
        &store::clinic::ClinicInput {
            name: "Leeds".into(),
            timezone: "Europe/London".into(),
            address: String::new(),
            phone: String::new(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    match attempt(
        store::resource::ResourceInput {
            clinic_id: leeds.id,
            ..input.clone()
        },
        before_ns,
    )
    .await
    {
        Err(Error::Invalid { field, message }) => {
            assert_eq!(field, "clinic_id");
            assert!(
                message.starts_with("2 upcoming appointments at London hold Gym"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Out of service over them, buffers or not: refused; after them: recorded.
    let out_of_service = async |from: &str, to: &str| {
        let mut tx = db.begin().await.unwrap();
        let out = store::resource::add_time_off(
            &mut tx,
            org.id,
            gym,
            (at(from).unix_nanos(), at(to).unix_nanos()),
            Some("leak"),
            before_ns,
        )
        .await;
        if out.is_ok() {
            tx.commit().await.unwrap();
        }
        out
    };
    match out_of_service("2026-03-02T09:15:00Z", "2026-03-02T12:00:00Z").await {
        Err(Error::Invalid { field, message }) => {
            assert_eq!(field, "start");
            assert!(
                message.starts_with("2 upcoming appointments hold Gym during this time"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    out_of_service("2026-03-02T09:30:00Z", "2026-03-02T12:00:00Z")
        .await
        .unwrap();
}

both!(
    setup_changes_never_overbook_the_rooms_appointments_hold,
    a_window_for_one_practitioner_counts_everyones_rooms,
    every_booking_path_holds_what_the_engine_checked,
    series_hold_rooms_per_occurrence_and_all_or_none,
    a_room_storm_never_overbooks_a_room,
);
