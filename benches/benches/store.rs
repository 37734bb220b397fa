//! Store benchmarks: reading engine input for a window and answering from it.
//!
//! - `store/window-20x30`: a database of 50 practitioners with a year of appointments
//!   at 12 per working day each (≈ 156,000 rows); the window is 20 practitioners × 30
//!   days (≈ 5,000 appointments in range); load + compute, on SQLite (target < 10 ms).
//! - `store/book`: one portal booking and its cancellation, each in its own
//!   transaction with the practitioner's lock, on SQLite.
//! - `store/reminder-due`: the reminder scheduler's scan (issue 17,
//!   `store::reminder::due`) with reminders 48 and 2 hours before, at a time when the
//!   next 48 hours' appointments (≈ 1,100, every appointment having a patient) are
//!   due: what every server does once a minute.
//! - `store/calendar-feed`: one practitioner's calendar feed (issue 18,
//!   `store::calendar_feed::events`): 30 days back to 180 ahead of a year of 12
//!   appointments a working day (≈ 1,800 events), with names, clinic and zone.
//!
//! Set `OPENSLOT_BENCH_POSTGRES_URL` to a fresh database to measure PostgreSQL too.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use slot_engine::scenario::Text;
use slot_engine::synthetic::{ClinicSpec, clinic};
use slot_engine::{Date, Instant};
use store::appointment::{self, Actor, PortalBooking, PortalOutcome};
use store::keys::Kind;
use store::transfer::{self, ImportMode};
use store::window::{self, SlotRequest};
use store::{Db, FixedClock, Organisation};

struct Fixture {
    db: Db,
    org: Organisation,
    request: SlotRequest,
    _dir: Option<tempfile::TempDir>,
}

async fn fixture(url: Option<String>) -> Fixture {
    let (url, dir) = match url {
        Some(url) => (url, None),
        None => {
            let dir = tempfile::tempdir().unwrap();
            (
                format!("sqlite://{}", dir.path().join("bench.db").display()),
                Some(dir),
            )
        }
    };
    let db = Db::connect(&url).await.unwrap();
    let mut scenario = clinic(ClinicSpec {
        practitioners: 50,
        days: 365,
        fill: 0.6,
        seed: 1,
    })
    .unwrap();
    scenario.query = None;
    // Every appointment has a patient, as the reminders' scan needs.
    scenario.patients.push(slot_engine::scenario::Patient {
        id: Text::new("bench-patient").unwrap(),
        first_name: Text::new("Bench").unwrap(),
        last_name: Text::new("Patient").unwrap(),
        email: Text::new("bench-patient@example.com").unwrap(),
        available_practitioners: None,
    });
    for a in &mut scenario.appointments {
        a.patient = Some(Text::new("bench-patient").unwrap());
    }
    let clock = FixedClock::new("2030-01-01T00:00:00Z".parse().unwrap());
    let mut tx = db.begin().await.unwrap();
    let org = transfer::import(&mut tx, "bench", &scenario, ImportMode::Replace, &clock)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(scenario.appointments.len(), 50 * 261 * 12);
    let service = id(&db, Kind::Service, &org, "consult").await;
    let mut practitioners = Vec::new();
    for n in 0..20 {
        practitioners.push(id(&db, Kind::Practitioner, &org, &format!("p{n:05}")).await);
    }
    let request = SlotRequest {
        service,
        practitioners: Some(practitioners),
        from: "2030-06-03".parse::<Date>().unwrap(),
        to: "2030-07-02".parse::<Date>().unwrap(),
        now: "2030-01-01T00:00:00Z".parse::<Instant>().unwrap(),
        telehealth: false,
    };
    Fixture {
        db,
        org,
        request,
        _dir: dir,
    }
}

async fn id(db: &Db, kind: Kind, org: &Organisation, key: &str) -> i64 {
    let mut conn = db.conn().await.unwrap();
    store::keys::id_of(conn.exec(), kind, org.id, key)
        .await
        .unwrap()
}

async fn window_slots(f: &Fixture) -> usize {
    let mut conn = f.db.conn().await.unwrap();
    let (input, slots) = window::open_slots(&mut conn.exec(), &f.org, &f.request)
        .await
        .unwrap();
    assert!(
        input.model.appointments().len() >= 5_000,
        "{}",
        input.model.appointments().len()
    );
    slots.len()
}

fn bench_backend(c: &mut Criterion, name: &str, url: Option<String>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let f = runtime.block_on(fixture(url));
    // 20 practitioners × 22 weekdays × 8 free slots (of 20, 12 booked).
    assert_eq!(runtime.block_on(window_slots(&f)), 20 * 22 * 8);
    let mut group = c.benchmark_group(format!("store-{name}"));
    group.bench_function("window-20x30", |b| {
        b.iter(|| black_box(runtime.block_on(window_slots(&f))))
    });

    let patient = runtime.block_on(async {
        let mut tx = f.db.begin().await.unwrap();
        let p = store::patient::create(
            &mut tx,
            f.org.id,
            &store::patient::PatientInput {
                first_name: "Bench".into(),
                last_name: "Mark".into(),
                email: "bench@example.com".into(),
                phone: String::new(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        p.id
    });
    let clock = FixedClock::new("2030-01-01T00:00:00Z".parse().unwrap());
    // The web queues the patient's confirmation email with each booking.
    let notice = |a: &store::appointment::Appointment| {
        vec![store::outbox::NewMessage {
            to: "bench@example.com".into(),
            subject: format!("Booked: appointment {}", a.id),
            body: "See you then.".into(),
            ics: None,
        }]
    };
    let practitioner = f.request.practitioners.as_ref().unwrap()[0];
    // Saturday is free of appointments but has no availability: use a Monday slot the
    // generator left free.
    let start: Instant = runtime.block_on(async {
        let mut conn = f.db.conn().await.unwrap();
        let (input, slots) = window::open_slots(&mut conn.exec(), &f.org, &f.request)
            .await
            .unwrap();
        let slot = slots
            .iter()
            .find(|s| input.practitioner_id(s.practitioner) == practitioner)
            .unwrap();
        slot.start_instant()
    });
    let book = || async {
        let booked = appointment::book_portal(
            &f.db,
            &f.org,
            &PortalBooking {
                patient,
                service: f.request.service,
                practitioner,
                start,
                telehealth: false,
                idempotency_key: None,
            },
            &clock,
            Some(&notice),
        )
        .await;
        let Ok(PortalOutcome::Booked(booked)) = booked else {
            panic!("the bench's slot was free: {booked:?}");
        };
        booked.appointment.id
    };
    let (db, org, at) = (&f.db, &f.org, &clock);
    let cancel = move |id: i64| async move {
        appointment::cancel(db, org, id, Actor::Staff(0), "", at, None)
            .await
            .unwrap();
    };
    // Statements (each one round trip; BEGIN and COMMIT are two more each) of one
    // booking and one cancellation, as the store counts them, after a first pair has
    // warmed the caches.
    let warm = runtime.block_on(book());
    runtime.block_on(cancel(warm));
    let (booked, booking) = statements(|| runtime.block_on(book()));
    let ((), cancelling) = statements(|| runtime.block_on(cancel(booked)));
    // Statements are counted on PostgreSQL only (the ones a shard would route).
    if db.backend() == store::Backend::Postgres {
        assert!(booking > 0 && cancelling > 0, "no statement was counted");
        println!(
            "store-{name}/book+cancel: {booking} statements per portal booking (with its email), {cancelling} per cancellation"
        );
    }
    group.bench_function("book+cancel", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let booked = book().await;
                cancel(booked).await;
            })
        })
    });

    // The reminders' scan: 48 and 2 hours before, on a Monday at noon UTC.
    let now: Instant = "2030-06-03T12:00:00Z".parse().unwrap();
    let due = runtime.block_on(async {
        let mut tx = f.db.begin().await.unwrap();
        let settings = store::reminder::Settings {
            offsets: store::reminder::Offsets::new("offsets", &[2880, 120]).unwrap(),
            no_show_pending_after: None,
            services: Vec::new(),
        };
        store::reminder::set_settings(&mut tx, f.org.id, &settings, "staff:0", 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        store::reminder::due(&f.db, now.unix_nanos()).await.unwrap()
    });
    // Monday noon to Wednesday noon: 50 practitioners' appointments, 12 a day each,
    // less what the generator left free; each due at its 48-hour time, or at its
    // 2-hour time (the 48-hour one skipped) when it starts within 2 hours.
    assert!((900..=1_300).contains(&due.len()), "{}", due.len());
    assert!(due.iter().all(|d| match d.offset_minutes {
        2880 => d.skipped.is_empty(),
        120 => d.skipped == [2880],
        _ => false,
    }));
    group.bench_function("reminder-due", |b| {
        b.iter(|| {
            black_box(
                runtime
                    .block_on(store::reminder::due(&f.db, now.unix_nanos()))
                    .unwrap()
                    .len(),
            )
        })
    });
    // A practitioner's feed at the middle of the year: the window the web crate reads.
    let p0 = runtime.block_on(id(&f.db, Kind::Practitioner, &f.org, "p00000"));
    let day = 86_400_000_000_000_i64;
    let mid = "2030-06-03T00:00:00Z"
        .parse::<Instant>()
        .unwrap()
        .unix_nanos();
    let feed = || async {
        let mut conn = f.db.conn().await.unwrap();
        store::calendar_feed::events(
            conn.exec(),
            f.org.id,
            store::calendar_feed::Owner::Practitioner(p0),
            mid - 30 * day,
            mid + 180 * day,
        )
        .await
        .unwrap()
        .len()
    };
    let n = runtime.block_on(feed());
    // 150 working days of 12 appointments, less what the generator left free.
    assert!((1_000..=1_900).contains(&n), "{n}");
    group.bench_function("calendar-feed", |b| {
        b.iter(|| black_box(runtime.block_on(feed())))
    });
    group.finish();
}

/// What `f` returns and how many SQL statements the store ran meanwhile on
/// PostgreSQL (`store::statement_log::statements_run`; BEGIN and COMMIT aside).
fn statements<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = store::statement_log::statements_run();
    let value = f();
    (value, store::statement_log::statements_run() - before)
}

fn store(c: &mut Criterion) {
    bench_backend(c, "sqlite", None);
    if let Ok(url) = std::env::var("OPENSLOT_BENCH_POSTGRES_URL") {
        bench_backend(c, "postgres", Some(url));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = store
}
criterion_main!(benches);
