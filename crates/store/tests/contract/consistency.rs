//! Each change decides on one consistent state: the organisation's settings as they
//! are under the lock, not as the caller read them; a move locks the practitioner the
//! appointment has under the lock; a setup is loaded in one snapshot; an idempotency key is its sender's own and answers
//! only the request it first came with.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use store::appointment::{self, Actor, Move, PortalBooking, PortalOutcome};
use store::keys::Kind;
use store::window::Window;
use store::{Error, Organisation, Tx};

use crate::{TestDb, at, booked, booking_clinic, both, clock, id, save_settings};

const MONDAY_9: &str = "2026-03-02T09:00:00-05:00";

async fn book(
    t: &TestDb,
    org: &Organisation,
    patient: &str,
    start: &str,
) -> Result<PortalOutcome, Error> {
    book_with(t, org, patient, start, None).await
}

/// Books Lee's visit in the portal on Sunday 1 March, with an idempotency key or not.
async fn book_with(
    t: &TestDb,
    org: &Organisation,
    patient: &str,
    start: &str,
    key: Option<&str>,
) -> Result<PortalOutcome, Error> {
    appointment::book_portal(
        &t.db,
        org,
        &PortalBooking {
            patient: id(&t.db, Kind::Patient, org, patient).await,
            service: id(&t.db, Kind::Service, org, "visit").await,
            practitioner: id(&t.db, Kind::Practitioner, org, "lee").await,
            start: at(start),
            telehealth: false,
            idempotency_key: key.map(str::to_owned),
        },
        &clock("2026-03-01T00:00:00Z"),
        None,
    )
    .await
}

async fn a_booking_follows_settings_saved_after_the_callers_read(t: &TestDb) {
    let (read_before, _) = booking_clinic(&t.db, 1, 3).await;
    assert!(read_before.auto_accept_portal_bookings);
    // Auto-accept switched off after the request read the organisation: pending.
    save_settings(&t.db, &read_before, |s| {
        s.auto_accept_portal_bookings = false
    })
    .await;
    let booked = booked(book(t, &read_before, "p01", MONDAY_9).await);
    assert_eq!(booked.appointment.status, store::AppointmentStatus::Pending);
    // Two days' minimum notice saved meanwhile: Monday is too soon from Sunday.
    save_settings(&t.db, &read_before, |s| {
        s.auto_accept_portal_bookings = false;
        s.min_notice_minutes = 2 * 24 * 60;
    })
    .await;
    match book(t, &read_before, "p02", "2026-03-02T10:00:00-05:00").await {
        Ok(PortalOutcome::Taken { reason, .. }) => {
            assert!(reason.contains("notice"), "{reason}")
        }
        other => panic!("expected the minimum notice to refuse, got {other:?}"),
    }
}

async fn a_cancellation_follows_a_notice_raised_after_the_callers_read(t: &TestDb) {
    let (read_before, staff) = booking_clinic(&t.db, 1, 3).await;
    assert_eq!(read_before.cancellation_notice_minutes, 0);
    let booked = booked(book(t, &read_before, "p01", MONDAY_9).await).appointment;
    save_settings(&t.db, &read_before, |s| {
        s.cancellation_notice_minutes = 7 * 24 * 60
    })
    .await;
    let p01 = id(&t.db, Kind::Patient, &read_before, "p01").await;
    let now = clock("2026-03-01T00:00:00Z");
    match appointment::cancel(
        &t.db,
        &read_before,
        booked.id,
        Actor::Patient(p01),
        "",
        &now,
        None,
    )
    .await
    {
        Err(Error::TooLate { until_ns }) => assert_eq!(
            until_ns,
            at(MONDAY_9).unix_nanos() - 7 * 24 * 3_600_000_000_000
        ),
        other => panic!("expected too late, got {other:?}"),
    }
    // Staff are not bound by the notice.
    let cancelled = appointment::cancel(
        &t.db,
        &read_before,
        booked.id,
        Actor::Staff(staff),
        "",
        &now,
        None,
    )
    .await
    .unwrap();
    assert_eq!(cancelled.status, store::AppointmentStatus::Cancelled);
}

/// Runs one statement in a test's own transaction, on either backend.
async fn run<A>(tx: &mut Tx, sql: &str, a: A, b: i64)
where
    A: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Send,
{
    macro_rules! on {
        ($c:expr) => {
            sqlx::query(sql)
                .bind(a)
                .bind(b)
                .execute(&mut **$c)
                .await
                .map(|_| ())
        };
    }
    match tx {
        Tx::Sqlite(c) => on!(c),
        Tx::Postgres(c) => on!(c),
    }
    .unwrap();
}

/// Waits until a statement of another connection waits for a lock (PostgreSQL), or a
/// while (SQLite, where the mover waits for the one write connection and so reads
/// nothing before the test's transaction ends).
async fn until_someone_waits_for_a_lock(t: &TestDb) {
    let store::Backend::Postgres = t.db.backend() else {
        tokio::time::sleep(Duration::from_millis(200)).await;
        return;
    };
    let mut conn = t.db.conn().await.unwrap();
    let store::Conn::Postgres(c) = &mut conn else {
        unreachable!()
    };
    for _ in 0..500 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut **c)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the move never waited for the practitioner's lock");
}

async fn a_move_locks_the_practitioner_the_appointment_has_under_the_lock(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 3).await;
    let booked = booked(book(t, &org, "p01", MONDAY_9).await).appointment;
    let lee = id(&t.db, Kind::Practitioner, &org, "lee").await;
    let kim = id(&t.db, Kind::Practitioner, &org, "kim").await;
    // Hold Lee's lock, as another move of this appointment would.
    let mut other = t.db.begin().await.unwrap();
    if let Tx::Postgres(_) = other {
        run(
            &mut other,
            "SELECT id FROM practitioners WHERE id = $1 AND id <> $2 FOR UPDATE",
            lee,
            0,
        )
        .await;
    }
    // Move it half an hour later, same practitioner: the mover reads Lee, then waits.
    let mover = tokio::spawn({
        let (db, org) = (t.db.clone(), org.clone());
        async move {
            let m = Move {
                staff: store::audit::Actor::Staff(staff),
                appointment: booked.id,
                start: at("2026-03-02T09:30:00-05:00"),
                practitioner: None,
                duration_minutes: None,
                override_reason: Some("Kim covers".into()),
                resources: Default::default(),
            };
            appointment::reschedule(&db, &org, &m, &clock("2026-03-01T00:00:00Z"), None).await
        }
    });
    until_someone_waits_for_a_lock(t).await;
    // Meanwhile the other transaction gives the appointment to Kim.
    run(
        &mut other,
        "UPDATE appointments SET practitioner_id = $1 WHERE id = $2",
        kim,
        booked.id,
    )
    .await;
    other.commit().await.unwrap();
    // The move stays with the appointment's practitioner as it is now, Kim, checked
    // and written under Kim's lock; not back to Lee, whose lock it first took.
    let moved = mover.await.unwrap().unwrap();
    assert_eq!(moved.practitioner_id, kim);
    assert_eq!(moved.start_ns, at("2026-03-02T09:30:00-05:00").unix_nanos());
    let mut conn = t.db.conn().await.unwrap();
    let audit = store::audit::recent(conn.exec(), org.id, Some(("appointment", booked.id)), 10)
        .await
        .unwrap();
    let details: serde_json::Value = serde_json::from_str(&audit[0].details).unwrap();
    assert_eq!(details["from"]["practitioner_id"], kim);
    assert_eq!(details["to"]["practitioner_id"], kim);
}

async fn portal_with_key(
    t: &TestDb,
    org: &Organisation,
    patient: &str,
    start: &str,
    key: &str,
) -> Result<PortalOutcome, Error> {
    book_with(t, org, patient, start, Some(key)).await
}

async fn count(t: &TestDb, org: &Organisation) -> i64 {
    let mut conn = t.db.conn().await.unwrap();
    appointment::count(conn.exec(), org.id).await.unwrap()
}

fn is_refused_naming_the_key<T>(result: Result<T, Error>) -> bool {
    matches!(result, Err(Error::Invalid { field, .. }) if field == "idempotency_key")
}

async fn a_used_idempotency_key_with_another_request_is_refused_naming_it(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 3).await;
    let first = booked(portal_with_key(t, &org, "p01", MONDAY_9, "k-1").await);
    // The same key, another time: refused, nothing booked, not the first booking.
    let other_time = portal_with_key(t, &org, "p01", "2026-03-02T10:00:00-05:00", "k-1").await;
    assert!(is_refused_naming_the_key(other_time));
    assert_eq!(count(t, &org).await, 1);
    // The same request again is still the first booking.
    let again = booked(portal_with_key(t, &org, "p01", MONDAY_9, "k-1").await);
    assert!(again.replayed);
    assert_eq!(again.appointment.id, first.appointment.id);

    // Staff: the same key with another patient or length is refused; the same body
    // is the first booking.
    let p02 = id(&t.db, Kind::Patient, &org, "p02").await;
    let p03 = id(&t.db, Kind::Patient, &org, "p03").await;
    let kim = id(&t.db, Kind::Practitioner, &org, "kim").await;
    let booking = appointment::StaffBooking {
        staff: store::audit::Actor::Staff(staff),
        practitioner: kim,
        patient: Some(p02),
        service: None,
        schedule_type: None,
        start: at(MONDAY_9),
        duration_minutes: Some(30),
        override_reason: Some("Squeezed in".into()),
        telehealth: false,
        idempotency_key: Some("desk-1".into()),
        resources: Default::default(),
    };
    let now = clock("2026-03-01T00:00:00Z");
    let staff_first = appointment::book_staff(&t.db, &org, &booking, &now, None)
        .await
        .unwrap();
    for changed in [
        appointment::StaffBooking {
            patient: Some(p03),
            ..booking.clone()
        },
        appointment::StaffBooking {
            duration_minutes: Some(45),
            ..booking.clone()
        },
    ] {
        assert!(is_refused_naming_the_key(
            appointment::book_staff(&t.db, &org, &changed, &now, None).await
        ));
    }
    let staff_again = appointment::book_staff(&t.db, &org, &booking, &now, None)
        .await
        .unwrap();
    assert!(staff_again.replayed);
    assert_eq!(staff_again.appointment.id, staff_first.appointment.id);
    assert_eq!(count(t, &org).await, 2);
}

async fn an_idempotency_key_is_its_senders_own(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 3, 3).await;
    let first = booked(portal_with_key(t, &org, "p01", MONDAY_9, "shared").await);
    // Another patient's "shared", with another request: a booking of their own, not a
    // refusal telling them the key was used.
    let second =
        booked(portal_with_key(t, &org, "p02", "2026-03-02T10:00:00-05:00", "shared").await);
    assert!(!second.replayed);
    assert_ne!(second.appointment.id, first.appointment.id);
    // A staff user's "shared" is theirs too.
    let lee = id(&t.db, Kind::Practitioner, &org, "lee").await;
    let by_staff = appointment::book_staff(
        &t.db,
        &org,
        &appointment::StaffBooking {
            staff: store::audit::Actor::Staff(staff),
            practitioner: lee,
            patient: None,
            service: None,
            schedule_type: None,
            start: at("2026-03-02T11:00:00-05:00"),
            duration_minutes: Some(30),
            override_reason: None,
            telehealth: false,
            idempotency_key: Some("shared".into()),
            resources: Default::default(),
        },
        &clock("2026-03-01T00:00:00Z"),
        None,
    )
    .await
    .unwrap();
    assert!(!by_staff.replayed);
    assert_eq!(count(t, &org).await, 3);
    // Each sender's retry is still their own first booking.
    let again =
        booked(portal_with_key(t, &org, "p02", "2026-03-02T10:00:00-05:00", "shared").await);
    assert!(again.replayed);
    assert_eq!(again.appointment.id, second.appointment.id);
}

/// Gives the clinic and the service one new name, in one transaction.
async fn rename_clinic_and_service(db: &store::Db, org: i64, name: &str) {
    let mut tx = db.begin().await.unwrap();
    for sql in [
        "UPDATE clinics SET name = $1 WHERE org_id = $2",
        "UPDATE services SET name = $1 WHERE org_id = $2",
    ] {
        run(&mut tx, sql, name.to_owned(), org).await;
    }
    tx.commit().await.unwrap();
}

/// The setup is loaded with a dozen SELECTs (clinics first, services last). While
/// another connection renames the clinic and the service together as fast as it can,
/// every setup loaded, on a connection of its own or inside a transaction, shows them
/// with one name: the etag and every row come from one snapshot. Loaded one statement
/// at a time, a rename committing between the clinics and the services gives a clinic
/// and a service of different names, kept under the older etag.
async fn a_setup_loads_in_one_snapshot_while_setup_changes_commit(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    let visit = id(&t.db, Kind::Service, &org, "visit").await;
    rename_clinic_and_service(&t.db, org.id, "First").await;
    let stop = Arc::new(AtomicBool::new(false));
    let renames = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn({
        let (db, org, stop, renames) = (t.db.clone(), org.id, stop.clone(), renames.clone());
        async move {
            while !stop.load(Ordering::SeqCst) {
                let n = renames.fetch_add(1, Ordering::SeqCst);
                rename_clinic_and_service(&db, org, &format!("Name {n}")).await;
            }
        }
    });
    let window = Window {
        service: Some(visit),
        practitioners: None,
        from: "2026-03-02".parse().unwrap(),
        to: "2026-03-02".parse().unwrap(),
        skip_appointment: None,
        resources: Default::default(),
    };
    let mut seen = std::collections::BTreeSet::new();
    // At least 300 loads, and on until they have met a dozen renames (a busy machine
    // may run the writer seldom), within a bound.
    for n in 0..20_000 {
        if n >= 300 && seen.len() > 10 {
            break;
        }
        let names = |input: &store::window::EngineInput| {
            (
                input.model.clinics()[0].name.to_string(),
                input.model.services()[0].name.to_string(),
            )
        };
        let (clinic, service) = if n % 3 == 0 {
            let mut tx = t.db.begin().await.unwrap();
            let input = store::window::load(&mut tx.exec(), &org, &window)
                .await
                .unwrap();
            names(&input)
        } else {
            let mut conn = t.db.conn().await.unwrap();
            let input = store::window::load(&mut conn.exec(), &org, &window)
                .await
                .unwrap();
            names(&input)
        };
        assert_eq!(clinic, service, "a torn setup, load {n}");
        seen.insert(clinic);
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    // What is kept under the last etag is the last content, not an older one.
    let last = format!("Name {}", renames.load(Ordering::SeqCst) - 1);
    let mut tx = t.db.begin().await.unwrap();
    let input = store::window::load(&mut tx.exec(), &org, &window)
        .await
        .unwrap();
    assert_eq!(input.model.services()[0].name.to_string(), last);
    drop(tx);
    let mut conn = t.db.conn().await.unwrap();
    let input = store::window::load(&mut conn.exec(), &org, &window)
        .await
        .unwrap();
    assert_eq!(input.model.clinics()[0].name.to_string(), last);
    // The loads did race the renames.
    assert!(
        seen.len() > 10 && renames.load(Ordering::SeqCst) > 10,
        "{} names seen, {renames:?} renames",
        seen.len()
    );
}

both!(
    a_booking_follows_settings_saved_after_the_callers_read,
    a_cancellation_follows_a_notice_raised_after_the_callers_read,
    a_move_locks_the_practitioner_the_appointment_has_under_the_lock,
    a_used_idempotency_key_with_another_request_is_refused_naming_it,
    an_idempotency_key_is_its_senders_own,
    a_setup_loads_in_one_snapshot_while_setup_changes_commit,
);
