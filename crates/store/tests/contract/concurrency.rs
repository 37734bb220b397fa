//! No booking ever exceeds capacity, however many requests race.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use store::appointment::{self, Actor, Move, PortalBooking, PortalOutcome};
use store::keys::Kind;
use store::{Db, Error, Organisation};

use crate::{TestDb, at, booking_clinic, both, cell_counts, clock, id};

async fn race_one_slot(db: &Db, practitioner: &str, service: &str, capacity: u32) {
    let (org, _) = booking_clinic(db, capacity, 64).await;
    let practitioner = id(db, Kind::Practitioner, &org, practitioner).await;
    let service = id(db, Kind::Service, &org, service).await;
    let mut patients = Vec::new();
    for n in 1..=64 {
        patients.push(id(db, Kind::Patient, &org, &format!("p{n:02}")).await);
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = patients
        .into_iter()
        .map(|patient| {
            let (db, org, barrier) = (db.clone(), org.clone(), barrier.clone());
            tokio::spawn(async move {
                let now = clock("2026-03-01T00:00:00Z");
                barrier.wait().await;
                appointment::book_portal(
                    &db,
                    &org,
                    &PortalBooking {
                        patient,
                        service,
                        practitioner,
                        start: at("2026-03-02T10:00:00-05:00"),
                        telehealth: false,
                        idempotency_key: None,
                    },
                    &now,
                    None,
                )
                .await
            })
        })
        .collect();
    let (mut booked, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(PortalOutcome::Booked(_)) => booked += 1,
            Ok(PortalOutcome::Taken { rule: 11, .. }) => refused += 1,
            other => panic!("neither booked nor a conflict: {other:?}"),
        }
    }
    assert_eq!(
        (booked, refused),
        (capacity as usize, 64 - capacity as usize)
    );
    let counts = cell_counts(db, &org, 5).await;
    assert_eq!(counts.values().max().copied(), Some(capacity as usize));
}

async fn sixty_four_bookers_on_one_slot_of_capacity_1_give_one_booking(t: &TestDb) {
    race_one_slot(&t.db, "lee", "visit", 1).await;
}

async fn sixty_four_bookers_on_one_slot_of_capacity_3_give_three_bookings(t: &TestDb) {
    race_one_slot(&t.db, "kim", "class", 3).await;
}

/// A server whose default isolation is REPEATABLE READ: a booking waiting for the
/// practitioner's lock would keep the snapshot its lock statement took, miss the
/// booking it waited for and overbook, unless the store sets READ COMMITTED itself.
async fn sixty_four_bookers_under_a_repeatable_read_default_give_one_booking(t: &TestDb) {
    let db = t.with_repeatable_read_default().await;
    race_one_slot(&db, "lee", "visit", 1).await;
    db.close().await;
}

async fn sixty_four_bookers_under_a_repeatable_read_default_give_three_class_bookings(t: &TestDb) {
    let db = t.with_repeatable_read_default().await;
    race_one_slot(&db, "kim", "class", 3).await;
    db.close().await;
}

/// What the storm's tasks did that succeeded.
#[derive(Default)]
struct Tally {
    booked: AtomicUsize,
    cancelled: AtomicUsize,
    moved: AtomicUsize,
    /// Moves decided either way (moved, or refused for needing an override): whether
    /// one goes depends on how the storm interleaves, but it is decided under the locks.
    moves_decided: AtomicUsize,
}

async fn storm_task(
    db: store::Db,
    org: Organisation,
    seed: u64,
    ids: Arc<StormIds>,
    tally: Arc<Tally>,
) {
    let mut rng = seed;
    let mut next = move |n: usize| {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((rng >> 33) as usize) % n
    };
    let now = clock("2026-03-01T00:00:00Z");
    let starts = [
        "2026-03-02T09:00:00-05:00",
        "2026-03-02T09:30:00-05:00",
        "2026-03-02T10:00:00-05:00",
        "2026-03-02T10:30:00-05:00",
        "2026-03-02T11:00:00-05:00",
        "2026-03-03T09:00:00-05:00",
        "2026-03-03T10:00:00-05:00",
    ];
    // (appointment, whether it is Lee's): moves are staff moves, which a schedule type
    // allowing conflicts takes without limit, so only Lee's (one place) are moved.
    let mut mine: Vec<(i64, bool)> = Vec::new();
    for _ in 0..24 {
        let patient = ids.patients[next(ids.patients.len())];
        let (practitioner, service) = if next(2) == 0 {
            (ids.lee, ids.visit)
        } else {
            (ids.kim, ids.class)
        };
        match next(4) {
            0 | 1 => {
                let booking = PortalBooking {
                    patient,
                    service,
                    practitioner,
                    start: at(starts[next(starts.len())]),
                    telehealth: false,
                    idempotency_key: None,
                };
                match appointment::book_portal(&db, &org, &booking, &now, None).await {
                    Ok(PortalOutcome::Booked(b)) => {
                        tally.booked.fetch_add(1, Ordering::SeqCst);
                        mine.push((b.appointment.id, practitioner == ids.lee));
                    }
                    Ok(PortalOutcome::Taken { .. }) => {}
                    Err(e) => panic!("book: {e}"),
                }
            }
            2 if !mine.is_empty() => {
                let (id, _) = mine.swap_remove(next(mine.len()));
                match appointment::cancel(&db, &org, id, Actor::Staff(ids.staff), "", &now, None)
                    .await
                {
                    Ok(_) => {
                        tally.cancelled.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => panic!("cancel: {e}"),
                }
            }
            _ if mine.iter().any(|(_, lee)| *lee) => {
                let lees: Vec<i64> = mine
                    .iter()
                    .filter(|(_, lee)| *lee)
                    .map(|(id, _)| *id)
                    .collect();
                let id = lees[next(lees.len())];
                let m = Move {
                    staff: store::audit::Actor::Staff(ids.staff),
                    appointment: id,
                    start: at(starts[next(starts.len())]),
                    practitioner: None,
                    duration_minutes: None,
                    override_reason: None,
                    resources: Default::default(),
                };
                tally.moves_decided.fetch_add(1, Ordering::SeqCst);
                match appointment::reschedule(&db, &org, &m, &now, None).await {
                    Ok(_) => {
                        tally.moved.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(Error::Conflict(_)) => {}
                    Err(e) => panic!("move: {e}"),
                }
            }
            _ => {}
        }
    }
}

struct StormIds {
    lee: i64,
    kim: i64,
    visit: i64,
    class: i64,
    staff: i64,
    patients: Vec<i64>,
}

async fn a_storm_of_bookings_cancellations_and_moves_keeps_every_cell_within_capacity(t: &TestDb) {
    storm(&t.db).await;
}

/// The same storm on a server whose default isolation is REPEATABLE READ: no cell over
/// capacity, and no serialization failure or other unexpected error (each task
/// panics on one).
async fn a_storm_under_a_repeatable_read_default_keeps_every_cell_within_capacity(t: &TestDb) {
    let db = t.with_repeatable_read_default().await;
    storm(&db).await;
    db.close().await;
}

async fn storm(db: &Db) {
    let (org, staff) = booking_clinic(db, 3, 20).await;
    let mut patients = Vec::new();
    for n in 1..=20 {
        patients.push(id(db, Kind::Patient, &org, &format!("p{n:02}")).await);
    }
    let ids = Arc::new(StormIds {
        lee: id(db, Kind::Practitioner, &org, "lee").await,
        kim: id(db, Kind::Practitioner, &org, "kim").await,
        visit: id(db, Kind::Service, &org, "visit").await,
        class: id(db, Kind::Service, &org, "class").await,
        staff,
        patients,
    });
    let tally = Arc::new(Tally::default());
    let tasks: Vec<_> = (0..32)
        .map(|seed| {
            tokio::spawn(storm_task(
                db.clone(),
                org.clone(),
                seed + 1,
                ids.clone(),
                tally.clone(),
            ))
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let (booked, cancelled, moved, decided) = (
        tally.booked.load(Ordering::SeqCst),
        tally.cancelled.load(Ordering::SeqCst),
        tally.moved.load(Ordering::SeqCst),
        tally.moves_decided.load(Ordering::SeqCst),
    );
    assert!(
        booked > 10 && cancelled > 0 && decided > 0,
        "the storm did little: {booked} booked, {cancelled} cancelled, {decided} moves decided"
    );

    // Every cell within capacity: Lee (no conflicts) takes one, Kim's group three.
    for ((practitioner, _), n) in cell_counts(db, &org, 5).await {
        let capacity = if practitioner == ids.lee { 1 } else { 3 };
        assert!(
            n <= capacity,
            "practitioner {practitioner} has {n} in one cell"
        );
    }

    // The audit log accounts for every change: one entry per success, and replaying
    // the entries gives every appointment's final state.
    let mut conn = db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, None, 100_000)
        .await
        .unwrap();
    let count = |action: &str| entries.iter().filter(|e| e.action == action).count();
    assert_eq!(count("appointment.book"), booked);
    assert_eq!(count("appointment.cancel"), cancelled);
    assert_eq!(count("appointment.reschedule"), moved);
    let mut state: HashMap<i64, (i64, i64, i64, bool)> = HashMap::new();
    for e in entries.iter().rev() {
        let d: serde_json::Value = serde_json::from_str(&e.details).unwrap();
        let Some(id) = e.entity_id else { continue };
        match e.action.as_str() {
            "appointment.book" => {
                state.insert(
                    id,
                    (
                        d["practitioner_id"].as_i64().unwrap(),
                        d["start_ns"].as_i64().unwrap(),
                        d["end_ns"].as_i64().unwrap(),
                        false,
                    ),
                );
            }
            "appointment.reschedule" => {
                let s = state.get_mut(&id).unwrap();
                s.0 = d["to"]["practitioner_id"].as_i64().unwrap();
                s.1 = d["to"]["start_ns"].as_i64().unwrap();
                s.2 = d["to"]["end_ns"].as_i64().unwrap();
            }
            "appointment.cancel" => state.get_mut(&id).unwrap().3 = true,
            _ => {}
        }
    }
    let all = appointment::in_range(conn.exec(), &org, 0, i64::MAX, None)
        .await
        .unwrap();
    assert_eq!(all.len(), state.len());
    for a in all {
        let s = state[&a.id];
        assert_eq!(
            (
                a.practitioner_id,
                a.start_ns,
                a.end_ns,
                a.status == store::AppointmentStatus::Cancelled
            ),
            s,
            "appointment {}",
            a.id
        );
    }
}

/// Sixteen clinics of one name created at once each get their own key (`name`,
/// `name-2`, …), none refused by the database's unique key.
async fn clinics_of_one_name_created_at_once_each_get_a_key(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (db, org, barrier) = (t.db.clone(), org.id, barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let mut tx = db.begin().await?;
                let clinic = store::clinic::create(
                    &mut tx,
                    org,
                    &store::clinic::ClinicInput {
                        name: "Race clinic".into(),
                        timezone: "UTC".into(),
                        address: String::new(),
                        phone: String::new(),
                    },
                )
                .await?;
                tx.commit().await?;
                Ok::<_, Error>(clinic.key)
            })
        })
        .collect();
    let mut keys = Vec::new();
    for task in tasks {
        keys.push(task.await.unwrap().expect("every creation succeeds"));
    }
    keys.sort();
    let mut expected: Vec<String> = std::iter::once("race-clinic".to_owned())
        .chain((2..=16).map(|n| format!("race-clinic-{n}")))
        .collect();
    expected.sort();
    assert_eq!(keys, expected);
}

both!(
    clinics_of_one_name_created_at_once_each_get_a_key,
    sixty_four_bookers_on_one_slot_of_capacity_1_give_one_booking,
    sixty_four_bookers_on_one_slot_of_capacity_3_give_three_bookings,
    a_storm_of_bookings_cancellations_and_moves_keeps_every_cell_within_capacity,
    sixty_four_bookers_under_a_repeatable_read_default_give_one_booking,
    sixty_four_bookers_under_a_repeatable_read_default_give_three_class_bookings,
    a_storm_under_a_repeatable_read_default_keeps_every_cell_within_capacity,
);
