//! Reminders (issue 17, `store::reminder`): exactly one reminder per appointment per
//! offset for its final time, with two schedulers on one database, a restart, and
//! appointments booked, moved and cancelled during a simulated week; the links; the
//! settings; and the no-show policy.

use std::collections::{BTreeMap, BTreeSet};

use slot_engine::Instant;
use store::appointment::{self, Actor, Move, PortalBooking, PortalOutcome, StaffBooking};
use store::keys::Kind;
use store::outbox::NewMessage;
use store::reminder::{self, LinkState, Links, Offsets, ServiceOffsets, Settings};
use store::{AppointmentStatus, Clock, Db, FixedClock, Organisation};

use crate::{TestDb, booking_clinic, both, clock, id};

const HOUR_NS: i64 = 3_600_000_000_000;
const MINUTE_NS: i64 = 60_000_000_000;

fn t0() -> Instant {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

fn instant(ns: i64) -> Instant {
    Instant::from_unix_nanos(ns).unwrap()
}

/// The test's composer: one message per reminder, to an address naming the
/// appointment, whose subject names the start it is for.
fn compose(a: &appointment::Appointment, links: &Links) -> Option<NewMessage> {
    Some(NewMessage {
        to: format!("a{}@example.com", a.id),
        subject: format!("reminder {} {}", a.id, a.start_ns),
        body: format!("confirm {} cancel {}", links.confirm, links.cancel),
        ics: None,
    })
}

async fn set(db: &Db, org: &Organisation, settings: &Settings) {
    let mut tx = db.begin().await.unwrap();
    reminder::set_settings(&mut tx, org.id, settings, "staff:1", 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[allow(clippy::too_many_arguments)]
async fn book(
    db: &Db,
    org: &Organisation,
    staff: i64,
    practitioner: &str,
    service: &str,
    patient: &str,
    start_ns: i64,
    now: &FixedClock,
) -> i64 {
    let b = StaffBooking {
        staff: store::audit::Actor::Staff(staff),
        practitioner: id(db, Kind::Practitioner, org, practitioner).await,
        patient: Some(id(db, Kind::Patient, org, patient).await),
        service: Some(id(db, Kind::Service, org, service).await),
        schedule_type: None,
        start: instant(start_ns),
        duration_minutes: None,
        override_reason: Some("reminder test".to_owned()),
        telehealth: false,
        idempotency_key: None,
        resources: Default::default(),
    };
    appointment::book_staff(db, org, &b, now, None)
        .await
        .unwrap_or_else(|e| panic!("booking at {start_ns}: {e}"))
        .appointment
        .id
}

async fn move_to(
    db: &Db,
    org: &Organisation,
    staff: i64,
    id: i64,
    start_ns: i64,
    now: &FixedClock,
) {
    let m = Move {
        staff: store::audit::Actor::Staff(staff),
        appointment: id,
        start: instant(start_ns),
        practitioner: None,
        duration_minutes: None,
        override_reason: Some("reminder test".to_owned()),
        resources: None,
    };
    appointment::reschedule(db, org, &m, now, None)
        .await
        .unwrap_or_else(|e| panic!("moving {id}: {e}"));
}

async fn cancel(db: &Db, org: &Organisation, staff: i64, id: i64, now: &FixedClock) {
    appointment::cancel(db, org, id, Actor::Staff(staff), "", now, None)
        .await
        .unwrap();
}

/// The model the scheduler is held to: at each step, for each booked appointment
/// that has not started, the nearest offset that has come due is sent unless recorded
/// for that start, and the other due ones not yet recorded are skipped.
#[derive(Default)]
struct Model {
    /// (appointment, offset, start) → sent (true) or skipped.
    recorded: BTreeMap<(i64, i64, i64), bool>,
}

impl Model {
    fn step(&mut self, now: i64, live: &BTreeMap<i64, (i64, bool, Vec<i64>)>) {
        for (&id, (start, booked, offsets)) in live {
            if !booked || *start <= now {
                continue;
            }
            let mut came: Vec<i64> = offsets
                .iter()
                .copied()
                .filter(|o| start - o * MINUTE_NS <= now)
                .collect();
            came.sort_unstable_by(|a, b| b.cmp(a));
            let Some(nearest) = came.pop() else { continue };
            if self.recorded.contains_key(&(id, nearest, *start)) {
                continue;
            }
            self.recorded.insert((id, nearest, *start), true);
            for o in came {
                self.recorded.entry((id, o, *start)).or_insert(false);
            }
        }
    }
}

/// THE test of issue 17: two schedulers (two pools on one database, as two server
/// instances would have, one of them restarted mid-week) run together every 5 minutes
/// of application time over a week while appointments are booked, moved and
/// cancelled; each appointment gets exactly one reminder per offset for its final
/// time, a cancelled one none after its cancellation, and a moved one none for its
/// old time after the move.
async fn two_schedulers_over_a_week_send_each_reminder_once(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 12).await;
    let class = id(&t.db, Kind::Service, &org, "class").await;
    set(
        &t.db,
        &org,
        &Settings {
            offsets: Offsets::new("offsets", &[120, 2880]).unwrap(),
            no_show_pending_after: None,
            services: vec![ServiceOffsets {
                service_id: class,
                offsets: Offsets::new("services", &[1440]).unwrap(),
            }],
        },
    )
    .await;
    let visit_offsets = vec![2880, 120];
    let class_offsets = vec![1440];
    let start = t0().unix_nanos();
    let h = |n: i64| start + n * HOUR_NS;
    let now = FixedClock::new(t0());
    let mut first = t.second_instance().await;
    let second = t.second_instance().await;

    // id → (start, booked, offsets): what the model sees.
    let mut live: BTreeMap<i64, (i64, bool, Vec<i64>)> = BTreeMap::new();
    let mut names: BTreeMap<&str, i64> = BTreeMap::new();
    let mut model = Model::default();
    // (appointment, old start, when it moved): nothing may be recorded for the old
    // start at or after the move.
    let mut moves: Vec<(i64, i64, i64)> = Vec::new();
    let mut cancels: Vec<(i64, i64)> = Vec::new();

    let steps = 7 * 24 * 12;
    for step in 0..=steps {
        let t_ns = start + step * 5 * MINUTE_NS;
        now.set(instant(t_ns));
        let hour = (step % 12 == 0).then_some(step / 12);
        // The week's changes, at the start of their hour, before the schedulers run.
        let bookings: &[(i64, &str, &str, &str, &str, i64)] = &[
            (0, "a1", "lee", "visit", "p01", 60),
            // Booked an hour before: both offsets due at once, only the 2 h one goes.
            (0, "a2", "lee", "visit", "p02", 1),
            (0, "a3", "lee", "visit", "p03", 100),
            (0, "a4", "lee", "visit", "p04", 90),
            (0, "a5", "lee", "visit", "p05", 80),
            (0, "a7", "kim", "class", "p07", 120),
            (0, "a8", "lee", "visit", "p08", 150),
            (0, "a9", "lee", "visit", "p09", 200),
            // Booked late: 48 h is due at once, 2 h later.
            (70, "a6", "lee", "visit", "p06", 75),
        ];
        if let Some(hour) = hour {
            for &(at, name, practitioner, service, patient, start_h) in bookings {
                if at == hour {
                    let id = book(
                        &t.db,
                        &org,
                        staff,
                        practitioner,
                        service,
                        patient,
                        h(start_h),
                        &now,
                    )
                    .await;
                    let offsets = if service == "class" {
                        class_offsets.clone()
                    } else {
                        visit_offsets.clone()
                    };
                    live.insert(id, (h(start_h), true, offsets));
                    names.insert(name, id);
                }
            }
            // Moves: a3 later after its 48 h reminder; a8 earlier, into its 2 h window.
            for &(at, name, to_h) in &[(60, "a3", 130), (140, "a8", 141)] {
                if at == hour {
                    let id = names[name];
                    move_to(&t.db, &org, staff, id, h(to_h), &now).await;
                    let entry = live.get_mut(&id).unwrap();
                    moves.push((id, entry.0, t_ns));
                    entry.0 = h(to_h);
                }
            }
            // Cancels: a4 before any reminder, a5 after its 48 h one.
            for &(at, name) in &[(30, "a4"), (50, "a5")] {
                if at == hour {
                    let id = names[name];
                    cancel(&t.db, &org, staff, id, &now).await;
                    live.get_mut(&id).unwrap().1 = false;
                    cancels.push((id, t_ns));
                }
            }
            // A restart: the first instance's pool is replaced by a new one.
            if hour == 84 {
                first.close().await;
                first = t.second_instance().await;
            }
        }
        let (a, b) = tokio::join!(
            reminder::run_due(&first, t_ns, &compose),
            reminder::run_due(&second, t_ns, &compose)
        );
        a.unwrap();
        b.unwrap();
        model.step(t_ns, &live);
    }

    // What the database recorded equals the model, row for row.
    let mut conn = t.db.conn().await.unwrap();
    let recorded: BTreeMap<(i64, i64, i64), bool> = reminder::all(conn.exec(), org.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                (r.appointment_id, r.offset_minutes, r.start_ns),
                r.outcome == "sent",
            )
        })
        .collect();
    assert_eq!(recorded, model.recorded);
    let all = reminder::all(conn.exec(), org.id).await.unwrap();
    assert_eq!(all.len(), recorded.len(), "a reminder recorded twice");

    // One email per reminder sent, each for the start it was recorded for.
    for (&id, (final_start, booked, offsets)) in &live {
        let mail = store::outbox::to_address(conn.exec(), &format!("a{id}@example.com"), 100)
            .await
            .unwrap();
        let sent: Vec<&(i64, i64, i64)> = recorded
            .iter()
            .filter(|(k, s)| k.0 == id && **s)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(mail.len(), sent.len(), "appointment {id}: {mail:?}");
        let mut subjects: Vec<String> = mail.iter().map(|m| m.subject.clone()).collect();
        subjects.sort();
        let mut expected: Vec<String> = sent
            .iter()
            .map(|(_, _, s)| format!("reminder {id} {s}"))
            .collect();
        expected.sort();
        assert_eq!(subjects, expected);
        // Every offset of a booked appointment within the week, exactly once for its
        // final time (sent or, when it came due with a nearer one, skipped).
        if *booked {
            for o in offsets {
                if final_start - o * MINUTE_NS <= start + steps * 5 * MINUTE_NS {
                    assert!(
                        recorded.contains_key(&(id, *o, *final_start)),
                        "appointment {id} offset {o} missing"
                    );
                }
            }
        }
    }
    // Nothing after a cancellation, nothing for an old start after the move.
    for (id, at) in &cancels {
        assert!(
            all.iter()
                .all(|r| r.appointment_id != *id || r.created_at_ns < *at),
            "appointment {id} reminded after its cancellation"
        );
    }
    for (id, old, at) in &moves {
        assert!(
            all.iter()
                .all(|r| r.appointment_id != *id || r.start_ns != *old || r.created_at_ns < *at),
            "appointment {id} reminded for its old time after the move"
        );
    }

    // The hand-worked cases, named.
    let sent_of = |name: &str| -> BTreeSet<(i64, i64, bool)> {
        let id = names[name];
        recorded
            .iter()
            .filter(|(k, _)| k.0 == id)
            .map(|(k, s)| (k.1, (k.2 - start) / HOUR_NS, *s))
            .collect()
    };
    assert_eq!(
        sent_of("a1"),
        BTreeSet::from([(2880, 60, true), (120, 60, true)])
    );
    assert_eq!(
        sent_of("a2"),
        BTreeSet::from([(2880, 1, false), (120, 1, true)])
    );
    assert_eq!(
        sent_of("a3"),
        BTreeSet::from([(2880, 100, true), (2880, 130, true), (120, 130, true)])
    );
    assert_eq!(sent_of("a4"), BTreeSet::new());
    assert_eq!(sent_of("a5"), BTreeSet::from([(2880, 80, true)]));
    assert_eq!(
        sent_of("a6"),
        BTreeSet::from([(2880, 75, true), (120, 75, true)])
    );
    assert_eq!(sent_of("a7"), BTreeSet::from([(1440, 120, true)]));
    assert_eq!(
        sent_of("a8"),
        BTreeSet::from([(2880, 150, true), (2880, 141, false), (120, 141, true)])
    );
    assert_eq!(sent_of("a9"), BTreeSet::from([(2880, 200, true)]));
    drop(conn);
    first.close().await;
    second.close().await;
}

/// A reminder's confirm link confirms once; moving the appointment clears the
/// confirmation and refuses the old links as moved; a link of one organisation is
/// unknown in another; a cancel link is not a confirm link.
async fn confirm_links_are_single_use_and_bound_to_the_start(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 3).await;
    set(
        &t.db,
        &org,
        &Settings {
            offsets: Offsets::parse("offsets", "48h").unwrap(),
            ..Settings::default()
        },
    )
    .await;
    let now = clock("2026-03-01T00:00:00Z");
    let start = now.now_ns() + 24 * HOUR_NS;
    let a = book(&t.db, &org, staff, "lee", "visit", "p01", start, &now).await;
    let captured = std::sync::Mutex::new(None);
    let pass = reminder::run_due(&t.db, now.now_ns(), &|a, links| {
        *captured.lock().unwrap() = Some(links.clone());
        compose(a, links)
    })
    .await
    .unwrap();
    assert_eq!(pass.queued, 1);
    let links = captured.lock().unwrap().clone().unwrap();

    // Another organisation does not know the token.
    let (other, _) = {
        let scenario = crate::worked("basic.json");
        (crate::import(&t.db, "other", &scenario).await, ())
    };
    assert!(matches!(
        reminder::confirm(&t.db, other.id, &links.confirm, now.now_ns()).await,
        Err(store::Error::NotFound(_))
    ));
    // The cancel token does not confirm.
    assert!(matches!(
        reminder::confirm(&t.db, org.id, &links.cancel, now.now_ns()).await,
        Err(store::Error::NotFound(_))
    ));
    let confirmed = reminder::confirm(&t.db, org.id, &links.confirm, now.now_ns())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(confirmed.id, a);
    assert_eq!(confirmed.confirmed_at_ns, Some(now.now_ns()));
    assert_eq!(
        reminder::confirm(&t.db, org.id, &links.confirm, now.now_ns())
            .await
            .unwrap(),
        Err(LinkState::Used)
    );
    // Moving clears the confirmation; the old links now speak of the old time.
    move_to(&t.db, &org, staff, a, start + HOUR_NS, &now).await;
    let mut conn = t.db.conn().await.unwrap();
    let moved = appointment::get(conn.exec(), org.id, a).await.unwrap();
    assert_eq!(moved.confirmed_at_ns, None);
    let (l, appt) = reminder::open(conn.exec(), org.id, &links.cancel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reminder::state(&l, &appt, now.now_ns()), LinkState::Moved);
    drop(conn);
    // The new time's reminder brings new links, which expire at the start.
    reminder::run_due(&t.db, now.now_ns(), &|a, links| {
        *captured.lock().unwrap() = Some(links.clone());
        compose(a, links)
    })
    .await
    .unwrap();
    let fresh = captured.lock().unwrap().clone().unwrap();
    assert_ne!(fresh.confirm, links.confirm);
    assert_eq!(
        reminder::confirm(&t.db, org.id, &fresh.confirm, start + HOUR_NS)
            .await
            .unwrap(),
        Err(LinkState::Expired)
    );
    // Cancelled: refused as cancelled.
    cancel(&t.db, &org, staff, a, &now).await;
    assert_eq!(
        reminder::confirm(&t.db, org.id, &fresh.confirm, now.now_ns())
            .await
            .unwrap(),
        Err(LinkState::Cancelled)
    );
}

/// Offsets are read in words, checked, and refused naming the field.
async fn offsets_are_checked(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    assert_eq!(
        Offsets::parse("offsets", "2h, 48h 30m 1d")
            .unwrap()
            .minutes(),
        &[2880, 1440, 120, 30]
    );
    for bad in ["10m", "15d", "2h 2h", "1h 2h 3h 4h 5h 6h", "soon", "-2h"] {
        match Offsets::parse("offsets", bad) {
            Err(store::Error::Invalid { field, .. }) => assert_eq!(field, "offsets", "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    // A service of another organisation, or none, is refused naming `services`.
    let mut tx = t.db.begin().await.unwrap();
    let err = reminder::set_settings(
        &mut tx,
        org.id,
        &Settings {
            services: vec![ServiceOffsets {
                service_id: 999_999,
                offsets: Offsets::parse("services", "1h").unwrap(),
            }],
            ..Settings::default()
        },
        "staff:1",
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(err.field(), Some("services"));
    let err = reminder::set_settings(
        &mut tx,
        org.id,
        &Settings {
            no_show_pending_after: Some(0),
            ..Settings::default()
        },
        "staff:1",
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(err.field(), Some("no_show_pending_after"));
}

/// After N no-shows the portal books only pending, even where bookings are accepted
/// at once; fewer no-shows book as usual.
async fn no_show_policy_makes_portal_bookings_pending(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 2).await;
    let org = crate::save_settings(&t.db, &org, |s| s.auto_accept_portal_bookings = true).await;
    set(
        &t.db,
        &org,
        &Settings {
            no_show_pending_after: Some(1),
            ..Settings::default()
        },
    )
    .await;
    let now = clock("2026-02-20T00:00:00Z");
    // p01 missed an appointment.
    let missed = book(
        &t.db,
        &org,
        staff,
        "lee",
        "visit",
        "p01",
        "2026-02-23T14:00:00Z"
            .parse::<Instant>()
            .unwrap()
            .unix_nanos(),
        &now,
    )
    .await;
    let later = clock("2026-02-24T00:00:00Z");
    appointment::mark(
        &t.db,
        &org,
        missed,
        AppointmentStatus::NoShow,
        store::audit::Actor::Staff(staff),
        &later,
    )
    .await
    .unwrap();
    let portal = |patient: &'static str, start: &'static str| {
        let db = t.db.clone();
        let org = org.clone();
        let later = &later;
        async move {
            let b = PortalBooking {
                patient: id(&db, Kind::Patient, &org, patient).await,
                practitioner: id(&db, Kind::Practitioner, &org, "lee").await,
                service: id(&db, Kind::Service, &org, "visit").await,
                start: start.parse().unwrap(),
                telehealth: false,
                idempotency_key: None,
            };
            match appointment::book_portal(&db, &org, &b, later, None)
                .await
                .unwrap()
            {
                PortalOutcome::Booked(b) => b.appointment.status,
                other => panic!("{other:?}"),
            }
        }
    };
    assert_eq!(
        portal("p01", "2026-03-02T09:00:00-05:00").await,
        AppointmentStatus::Pending
    );
    assert_eq!(
        portal("p02", "2026-03-02T10:00:00-05:00").await,
        AppointmentStatus::Booked
    );
}

/// A link of an appointment the desk checked in, completed or marked missed stands as
/// arrived or settled, never cancelled, and confirms nothing.
async fn links_of_settled_appointments_are_not_cancelled(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 3).await;
    set(
        &t.db,
        &org,
        &Settings {
            offsets: Offsets::parse("offsets", "48h").unwrap(),
            ..Settings::default()
        },
    )
    .await;
    let now = clock("2026-03-01T00:00:00Z");
    let start = now.now_ns() + 24 * HOUR_NS;
    let a = book(&t.db, &org, staff, "lee", "visit", "p01", start, &now).await;
    let captured = std::sync::Mutex::new(None);
    reminder::run_due(&t.db, now.now_ns(), &|a, links| {
        *captured.lock().unwrap() = Some(links.clone());
        compose(a, links)
    })
    .await
    .unwrap();
    let links = captured.lock().unwrap().clone().unwrap();
    let standing = |now: i64| {
        let db = t.db.clone();
        let token = links.cancel.clone();
        let org = org.id;
        async move {
            let mut conn = db.conn().await.unwrap();
            let (l, a) = reminder::open(conn.exec(), org, &token)
                .await
                .unwrap()
                .unwrap();
            reminder::state(&l, &a, now)
        }
    };
    let before = clock("2026-03-01T23:00:00Z");
    appointment::mark(
        &t.db,
        &org,
        a,
        AppointmentStatus::Arrived,
        store::audit::Actor::Staff(staff),
        &before,
    )
    .await
    .unwrap();
    assert_eq!(standing(before.now_ns()).await, LinkState::Arrived);
    assert_eq!(
        reminder::confirm(&t.db, org.id, &links.confirm, before.now_ns())
            .await
            .unwrap(),
        Err(LinkState::Arrived)
    );
    let after = clock("2026-03-02T00:30:00Z");
    appointment::mark(
        &t.db,
        &org,
        a,
        AppointmentStatus::Completed,
        store::audit::Actor::Staff(staff),
        &after,
    )
    .await
    .unwrap();
    assert_eq!(standing(after.now_ns()).await, LinkState::Settled);
    appointment::mark(
        &t.db,
        &org,
        a,
        AppointmentStatus::Booked,
        store::audit::Actor::Staff(staff),
        &after,
    )
    .await
    .unwrap();
    appointment::mark(
        &t.db,
        &org,
        a,
        AppointmentStatus::NoShow,
        store::audit::Actor::Staff(staff),
        &after,
    )
    .await
    .unwrap();
    assert_eq!(standing(after.now_ns()).await, LinkState::Settled);
    // Even read before the start (a clock behind), a settled one is not cancelled.
    assert_eq!(standing(before.now_ns()).await, LinkState::Settled);
}

/// A reminder's links and the confirmation speak of what the patient was told: a
/// move away and back to the same start, or a move to another practitioner at the
/// same start, stops the links (moved) and clears the confirmation, and the new
/// arrangement gets its own reminder with working links.
async fn links_are_bound_to_what_the_patient_was_told(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 3).await;
    set(
        &t.db,
        &org,
        &Settings {
            offsets: Offsets::parse("offsets", "48h").unwrap(),
            ..Settings::default()
        },
    )
    .await;
    let now = clock("2026-03-01T00:00:00Z");
    let start = now.now_ns() + 24 * HOUR_NS;
    let a = book(&t.db, &org, staff, "lee", "visit", "p01", start, &now).await;
    let captured = std::sync::Mutex::new(None);
    let send = || async {
        *captured.lock().unwrap() = None;
        let pass = reminder::run_due(&t.db, now.now_ns(), &|a, links| {
            *captured.lock().unwrap() = Some(links.clone());
            compose(a, links)
        })
        .await
        .unwrap();
        (pass.queued, captured.lock().unwrap().clone())
    };
    let (db, org_id, at) = (&t.db, org.id, now.now_ns());
    let standing = |token: String| async move {
        let mut conn = db.conn().await.unwrap();
        let (l, a) = reminder::open(conn.exec(), org_id, &token)
            .await
            .unwrap()
            .unwrap();
        reminder::state(&l, &a, at)
    };
    let confirmed = || async {
        let mut conn = t.db.conn().await.unwrap();
        appointment::get(conn.exec(), org.id, a)
            .await
            .unwrap()
            .confirmed_at_ns
    };
    let (queued, links) = send().await;
    assert_eq!(queued, 1);
    let first = links.unwrap();
    reminder::confirm(&t.db, org.id, &first.confirm, now.now_ns())
        .await
        .unwrap()
        .unwrap();

    // Away and back to the same start: the first links stay stopped.
    move_to(&t.db, &org, staff, a, start + HOUR_NS, &now).await;
    move_to(&t.db, &org, staff, a, start, &now).await;
    assert_eq!(confirmed().await, None);
    assert_eq!(standing(first.cancel.clone()).await, LinkState::Moved);
    // The time the patient now has gets its own reminder, whose links work.
    let (queued, links) = send().await;
    assert_eq!(queued, 1);
    let second = links.unwrap();
    assert_eq!(standing(second.cancel.clone()).await, LinkState::Valid);
    reminder::confirm(&t.db, org.id, &second.confirm, now.now_ns())
        .await
        .unwrap()
        .unwrap();
    assert!(confirmed().await.is_some());

    // Another practitioner at the same start: stopped and unconfirmed too.
    let kim = id(&t.db, Kind::Practitioner, &org, "kim").await;
    appointment::reschedule(
        &t.db,
        &org,
        &Move {
            staff: store::audit::Actor::Staff(staff),
            appointment: a,
            start: instant(start),
            practitioner: Some(kim),
            duration_minutes: None,
            override_reason: Some("reminder test".to_owned()),
            resources: None,
        },
        &now,
        None,
    )
    .await
    .unwrap();
    assert_eq!(confirmed().await, None);
    assert_eq!(standing(second.cancel.clone()).await, LinkState::Moved);
    let (queued, links) = send().await;
    assert_eq!(queued, 1);
    assert_eq!(standing(links.unwrap().confirm).await, LinkState::Valid);
}

both!(
    links_are_bound_to_what_the_patient_was_told,
    links_of_settled_appointments_are_not_cancelled,
    two_schedulers_over_a_week_send_each_reminder_once,
    confirm_links_are_single_use_and_bound_to_the_start,
    offsets_are_checked,
    no_show_policy_makes_portal_bookings_pending,
);
