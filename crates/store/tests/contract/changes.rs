//! Changing an appointment (issue 14): a patient's own move under the portal's rules,
//! cancelling with a reason and its undo, and the desk's statuses with theirs.

use store::AppointmentStatus;
use store::appointment::{
    self, Actor, PortalBooking, PortalMove, PortalMoveOutcome, PortalOutcome,
};
use store::keys::Kind;
use store::{Conflict, Error};

use crate::{TestDb, at, booked, booking_clinic, both, clock, id, save_settings};

const MONDAY_9: &str = "2026-03-02T09:00:00-05:00";

async fn book(t: &TestDb, org: &store::Organisation, patient: &str, start: &str) -> i64 {
    let outcome = appointment::book_portal(
        &t.db,
        org,
        &PortalBooking {
            patient: id(&t.db, Kind::Patient, org, patient).await,
            service: id(&t.db, Kind::Service, org, "visit").await,
            practitioner: id(&t.db, Kind::Practitioner, org, "lee").await,
            start: at(start),
            telehealth: false,
            idempotency_key: None,
        },
        &clock("2026-03-01T00:00:00Z"),
        None,
    )
    .await;
    booked(outcome).appointment.id
}

async fn move_to(
    t: &TestDb,
    org: &store::Organisation,
    patient: &str,
    appointment: i64,
    start: &str,
    now: &str,
) -> Result<PortalMoveOutcome, Error> {
    appointment::reschedule_portal(
        &t.db,
        org,
        &PortalMove {
            patient: id(&t.db, Kind::Patient, org, patient).await,
            appointment,
            practitioner: id(&t.db, Kind::Practitioner, org, "lee").await,
            start: at(start),
        },
        &clock(now),
        None,
    )
    .await
}

async fn get(t: &TestDb, org: &store::Organisation, id: i64) -> appointment::Appointment {
    let mut conn = t.db.conn().await.unwrap();
    appointment::get(conn.exec(), org.id, id).await.unwrap()
}

async fn a_patient_moves_their_own_appointment_in_one_change_within_the_notice(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 3).await;
    let org = save_settings(&t.db, &org, |s| s.cancellation_notice_minutes = 24 * 60).await;
    let mine = book(t, &org, "p01", MONDAY_9).await;
    let theirs = book(t, &org, "p02", "2026-03-02T11:00:00-05:00").await;
    let early = "2026-02-28T12:00:00Z";
    // Another patient's appointment is not found for them, and nothing changes.
    assert!(matches!(
        move_to(t, &org, "p02", mine, "2026-03-02T10:00:00-05:00", early).await,
        Err(Error::NotFound(_))
    ));
    // A move overlapping its own old time is checked as if it were not there.
    let moved = match move_to(t, &org, "p01", mine, "2026-03-02T09:30:00-05:00", early).await {
        Ok(PortalMoveOutcome::Moved(a)) => a,
        other => panic!("expected a move, got {other:?}"),
    };
    assert_eq!(moved.id, mine, "the same appointment keeps its history");
    assert_eq!(moved.start_ns, at("2026-03-02T09:30:00-05:00").unix_nanos());
    assert_eq!(moved.end_ns - moved.start_ns, 60 * 60_000_000_000);
    assert_eq!(moved.sequence, 1);
    assert_eq!(moved.status, AppointmentStatus::Booked);
    // A time someone holds is refused with the next open times; nothing changes.
    match move_to(t, &org, "p01", mine, "2026-03-02T11:00:00-05:00", early).await {
        Ok(PortalMoveOutcome::Taken { next, .. }) => assert!(!next.is_empty()),
        other => panic!("expected the time taken, got {other:?}"),
    }
    assert_eq!(get(t, &org, mine).await, moved);
    assert_eq!(
        get(t, &org, theirs).await.start_ns,
        at("2026-03-02T11:00:00-05:00").unix_nanos()
    );
    // Moved again, the old time is free: another patient books 09:00.
    match move_to(t, &org, "p01", mine, "2026-03-02T10:00:00-05:00", early).await {
        Ok(PortalMoveOutcome::Moved(a)) => assert_eq!(a.sequence, 2),
        other => panic!("expected a move, got {other:?}"),
    }
    book(t, &org, "p03", MONDAY_9).await;
    // Inside the notice: too late, saying until when, as a cancel would.
    match move_to(
        t,
        &org,
        "p01",
        mine,
        "2026-03-03T09:00:00-05:00",
        "2026-03-01T16:00:00Z",
    )
    .await
    {
        Err(Error::TooLate { until_ns }) => {
            assert_eq!(until_ns, at("2026-03-01T10:00:00-05:00").unix_nanos())
        }
        other => panic!("expected too late, got {other:?}"),
    }
    // The move is audited as the patient's, with the times before and after.
    let mut conn = t.db.conn().await.unwrap();
    let audit = store::audit::recent(conn.exec(), org.id, Some(("appointment", mine)), 10)
        .await
        .unwrap();
    let p01 = id(&t.db, Kind::Patient, &org, "p01").await;
    assert_eq!(audit[0].action, "appointment.reschedule");
    assert_eq!(audit[0].actor, format!("patient:{p01}"));
    let details: serde_json::Value = serde_json::from_str(&audit[0].details).unwrap();
    assert_eq!(
        details["from"]["start_ns"],
        at("2026-03-02T09:30:00-05:00").unix_nanos()
    );
    assert_eq!(
        details["to"]["start_ns"],
        at("2026-03-02T10:00:00-05:00").unix_nanos()
    );
}

/// A move keeps the status: a booked appointment at a clinic that reviews portal
/// requests stays booked (as a request, a decline would leave the patient with neither
/// time), and a request still waiting stays waiting once the clinic auto-accepts.
async fn a_move_keeps_the_appointments_status(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 2).await;
    let booked = book(t, &org, "p01", MONDAY_9).await;
    let org = save_settings(&t.db, &org, |s| s.auto_accept_portal_bookings = false).await;
    let waiting = book(t, &org, "p02", "2026-03-02T11:00:00-05:00").await;
    match move_to(
        t,
        &org,
        "p01",
        booked,
        "2026-03-02T10:00:00-05:00",
        "2026-03-01T00:00:00Z",
    )
    .await
    {
        Ok(PortalMoveOutcome::Moved(a)) => assert_eq!(a.status, AppointmentStatus::Booked),
        other => panic!("expected a move, got {other:?}"),
    }
    let org = save_settings(&t.db, &org, |s| s.auto_accept_portal_bookings = true).await;
    match move_to(
        t,
        &org,
        "p02",
        waiting,
        "2026-03-03T09:00:00-05:00",
        "2026-03-01T00:00:00Z",
    )
    .await
    {
        Ok(PortalMoveOutcome::Moved(a)) => assert_eq!(a.status, AppointmentStatus::Pending),
        other => panic!("expected a move, got {other:?}"),
    }
}

async fn two_patients_moving_into_the_last_free_time_at_once_one_wins(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 2).await;
    let first = book(t, &org, "p01", MONDAY_9).await;
    let second = book(t, &org, "p02", "2026-03-02T10:00:00-05:00").await;
    // Monday 11:00 is the last time both could move into on that day.
    let last = "2026-03-02T11:00:00-05:00";
    let now = "2026-03-01T00:00:00Z";
    let (a, b) = tokio::join!(
        move_to(t, &org, "p01", first, last, now),
        move_to(t, &org, "p02", second, last, now)
    );
    let moved = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Ok(PortalMoveOutcome::Moved(_))))
        .count();
    let taken = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Ok(PortalMoveOutcome::Taken { .. })))
        .count();
    assert_eq!((moved, taken), (1, 1), "{a:?} {b:?}");
    let (loser, loser_start) = if matches!(a, Ok(PortalMoveOutcome::Moved(_))) {
        (second, "2026-03-02T10:00:00-05:00")
    } else {
        (first, MONDAY_9)
    };
    let unchanged = get(t, &org, loser).await;
    assert_eq!(unchanged.start_ns, at(loser_start).unix_nanos());
    assert_eq!(unchanged.sequence, 0);
}

async fn a_cancellation_keeps_its_reason_and_staff_undo_it_while_the_time_is_free(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 2).await;
    let mine = book(t, &org, "p01", MONDAY_9).await;
    let p01 = id(&t.db, Kind::Patient, &org, "p01").await;
    let now = clock("2026-03-01T00:00:00Z");
    // A reason too long is refused naming the field; nothing changes.
    match appointment::cancel(
        &t.db,
        &org,
        mine,
        Actor::Patient(p01),
        &"x".repeat(501),
        &now,
        None,
    )
    .await
    {
        Err(e) => assert_eq!(e.field(), Some("reason")),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(get(t, &org, mine).await.status, AppointmentStatus::Booked);
    let cancelled = appointment::cancel(
        &t.db,
        &org,
        mine,
        Actor::Patient(p01),
        "  Feeling better  ",
        &now,
        None,
    )
    .await
    .unwrap();
    assert_eq!(cancelled.status, AppointmentStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason.as_deref(), Some("Feeling better"));
    assert_eq!(cancelled.cancelled_by, Some(format!("patient:{p01}")));
    assert_eq!(cancelled.cancelled_from, Some(AppointmentStatus::Booked));
    // Undo: back to booked, the reason gone with the cancellation, audited.
    let restored = appointment::restore(
        &t.db,
        &org,
        mine,
        store::audit::Actor::Staff(staff),
        &now,
        None,
    )
    .await
    .unwrap();
    assert_eq!(restored.status, AppointmentStatus::Booked);
    assert_eq!(restored.cancel_reason, None);
    assert!(matches!(
        appointment::restore(
            &t.db,
            &org,
            mine,
            store::audit::Actor::Staff(staff),
            &now,
            None
        )
        .await,
        Err(Error::Invalid { .. })
    ));
    let mut conn = t.db.conn().await.unwrap();
    let audit = store::audit::recent(conn.exec(), org.id, Some(("appointment", mine)), 10)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(audit[0].action, "appointment.restore");
    assert!(
        audit[0].details.contains("Feeling better"),
        "{}",
        audit[0].details
    );
    // Cancelled again and the time taken meanwhile: the undo is refused, saying why.
    appointment::cancel(&t.db, &org, mine, Actor::Staff(staff), "", &now, None)
        .await
        .unwrap();
    book(t, &org, "p02", MONDAY_9).await;
    match appointment::restore(
        &t.db,
        &org,
        mine,
        store::audit::Actor::Staff(staff),
        &now,
        None,
    )
    .await
    {
        Err(Error::Conflict(Conflict::NeedsOverride { reasons })) => assert!(!reasons.is_empty()),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        get(t, &org, mine).await.status,
        AppointmentStatus::Cancelled
    );
}

async fn desk_statuses_follow_the_clock_and_undo_back_to_booked(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 2).await;
    let mine = book(t, &org, "p01", MONDAY_9).await;
    let p01 = id(&t.db, Kind::Patient, &org, "p01").await;
    let mark = |status, now: &'static str| {
        let org = org.clone();
        async move {
            appointment::mark(
                &t.db,
                &org,
                mine,
                status,
                store::audit::Actor::Staff(staff),
                &clock(now),
            )
            .await
        }
    };
    let refused = |r: Result<appointment::Appointment, Error>| match r {
        Err(e) => assert_eq!(e.field(), Some("status"), "{e}"),
        Ok(a) => panic!("expected a refusal, got {a:?}"),
    };
    // The day before: not arrived, not completed.
    refused(mark(AppointmentStatus::Arrived, "2026-03-01T12:00:00Z").await);
    // An hour before the start: arrived, which still holds the time.
    let arrived = mark(AppointmentStatus::Arrived, "2026-03-02T13:00:00Z")
        .await
        .unwrap();
    assert_eq!(arrived.status, AppointmentStatus::Arrived);
    assert!(matches!(
        appointment::book_portal(
            &t.db,
            &org,
            &PortalBooking {
                patient: id(&t.db, Kind::Patient, &org, "p02").await,
                service: id(&t.db, Kind::Service, &org, "visit").await,
                practitioner: id(&t.db, Kind::Practitioner, &org, "lee").await,
                start: at(MONDAY_9),
                telehealth: false,
                idempotency_key: None,
            },
            &clock("2026-03-01T00:00:00Z"),
            None,
        )
        .await,
        Ok(PortalOutcome::Taken { .. })
    ));
    // Not completed before the start; then completed, undone, a no-show.
    refused(mark(AppointmentStatus::Completed, "2026-03-02T13:30:00Z").await);
    refused(mark(AppointmentStatus::NoShow, "2026-03-02T14:30:00Z").await);
    let completed = mark(AppointmentStatus::Completed, "2026-03-02T14:30:00Z")
        .await
        .unwrap();
    assert_eq!(completed.status, AppointmentStatus::Completed);
    refused(mark(AppointmentStatus::NoShow, "2026-03-02T14:30:00Z").await);
    let undone = mark(AppointmentStatus::Booked, "2026-03-02T14:30:00Z")
        .await
        .unwrap();
    assert_eq!(undone.status, AppointmentStatus::Booked);
    mark(AppointmentStatus::NoShow, "2026-03-02T16:00:00Z")
        .await
        .unwrap();
    let mut conn = t.db.conn().await.unwrap();
    assert_eq!(
        store::patient::no_show_count(conn.exec(), org.id, p01)
            .await
            .unwrap(),
        1
    );
    let actions: Vec<String> =
        store::audit::recent(conn.exec(), org.id, Some(("appointment", mine)), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
    assert_eq!(
        actions[..4],
        [
            "appointment.mark",
            "appointment.unmark",
            "appointment.mark",
            "appointment.mark"
        ]
    );
    // A no-show cannot be cancelled (its time is settled).
    drop(conn);
    assert!(matches!(
        appointment::cancel(
            &t.db,
            &org,
            mine,
            Actor::Staff(staff),
            "",
            &clock("2026-03-02T16:00:00Z"),
            None
        )
        .await,
        Err(Error::Invalid { .. })
    ));
}

both!(
    a_patient_moves_their_own_appointment_in_one_change_within_the_notice,
    a_move_keeps_the_appointments_status,
    two_patients_moving_into_the_last_free_time_at_once_one_wins,
    a_cancellation_keeps_its_reason_and_staff_undo_it_while_the_time_is_free,
    desk_statuses_follow_the_clock_and_undo_back_to_booked,
);
