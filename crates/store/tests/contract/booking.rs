//! Booking rules through the store: portal and staff, idempotency, pending, cancel,
//! move, accept/decline, tenant isolation, the audit trail.

use store::appointment::{self, Actor, Decision, Move, PortalBooking, PortalOutcome, StaffBooking};
use store::keys::Kind;
use store::{Conflict, Error};

use crate::{TestDb, at, booked, booking_clinic, both, clock, id, save_settings};

const MONDAY_9: &str = "2026-03-02T09:00:00-05:00";

async fn portal(
    t: &TestDb,
    org: &store::Organisation,
    patient: &str,
    practitioner: &str,
    service: &str,
    start: &str,
    key: Option<&str>,
) -> Result<PortalOutcome, Error> {
    let now = clock("2026-03-01T00:00:00Z");
    appointment::book_portal(
        &t.db,
        org,
        &PortalBooking {
            patient: id(&t.db, Kind::Patient, org, patient).await,
            service: id(&t.db, Kind::Service, org, service).await,
            practitioner: id(&t.db, Kind::Practitioner, org, practitioner).await,
            start: at(start),
            telehealth: false,
            idempotency_key: key.map(str::to_owned),
        },
        &now,
        None,
    )
    .await
}

async fn a_portal_booking_takes_the_slot_and_a_second_is_refused_with_the_engines_reason(
    t: &TestDb,
) {
    let (org, _) = booking_clinic(&t.db, 1, 3).await;
    let first = booked(portal(t, &org, "p01", "lee", "visit", MONDAY_9, None).await);
    assert!(!first.replayed);
    assert_eq!(first.appointment.status, store::AppointmentStatus::Booked);
    assert_eq!(first.appointment.channel, store::Channel::Portal);
    assert_eq!(
        first.appointment.end_ns - first.appointment.start_ns,
        3_600_000_000_000
    );
    match portal(t, &org, "p02", "lee", "visit", MONDAY_9, None).await {
        Ok(PortalOutcome::Taken { rule, reason, .. }) => {
            assert_eq!(rule, 11);
            assert!(
                reason.contains("1 of 1 places taken at 09:00 on 2026-03-02"),
                "{reason}"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Off the step, on a holiday, and outside availability: refused by their rules.
    let rule = |r: Result<PortalOutcome, Error>| match r {
        Ok(PortalOutcome::Taken { rule, .. }) => rule,
        other => panic!("expected a conflict, got {other:?}"),
    };
    assert_eq!(
        rule(
            portal(
                t,
                &org,
                "p02",
                "lee",
                "visit",
                "2026-03-02T09:15:00-05:00",
                None
            )
            .await
        ),
        2
    );
    assert_eq!(
        rule(
            portal(
                t,
                &org,
                "p02",
                "lee",
                "visit",
                "2026-03-09T09:00:00-04:00",
                None
            )
            .await
        ),
        6
    );
    assert_eq!(
        rule(
            portal(
                t,
                &org,
                "p02",
                "lee",
                "visit",
                "2026-03-04T09:00:00-05:00",
                None
            )
            .await
        ),
        5
    );
}

async fn a_retried_request_with_the_same_idempotency_key_returns_the_first_booking(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 3).await;
    let first = booked(portal(t, &org, "p01", "lee", "visit", MONDAY_9, Some("k-1")).await);
    let again = booked(portal(t, &org, "p01", "lee", "visit", MONDAY_9, Some("k-1")).await);
    assert!(again.replayed);
    assert_eq!(again.appointment.id, first.appointment.id);
    // Another patient's key is theirs: the same key books anew, telling nothing.
    let other = booked(
        portal(
            t,
            &org,
            "p02",
            "lee",
            "visit",
            "2026-03-02T10:00:00-05:00",
            Some("k-1"),
        )
        .await,
    );
    assert!(!other.replayed);
    assert_ne!(other.appointment.id, first.appointment.id);
    let mut conn = t.db.conn().await.unwrap();
    assert_eq!(appointment::count(conn.exec(), org.id).await.unwrap(), 2);
}

async fn concurrent_retries_with_one_key_book_once(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 3, 2).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (db, org) = (t.db.clone(), org.clone());
        let patient = id(&t.db, Kind::Patient, &org, "p01").await;
        let service = id(&t.db, Kind::Service, &org, "class").await;
        let practitioner = id(&t.db, Kind::Practitioner, &org, "kim").await;
        tasks.push(tokio::spawn(async move {
            let now = clock("2026-03-01T00:00:00Z");
            appointment::book_portal(
                &db,
                &org,
                &PortalBooking {
                    patient,
                    service,
                    practitioner,
                    start: at(MONDAY_9),
                    telehealth: false,
                    idempotency_key: Some("same".into()),
                },
                &now,
                None,
            )
            .await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        ids.insert(booked(task.await.unwrap()).appointment.id);
    }
    assert_eq!(ids.len(), 1);
    let mut conn = t.db.conn().await.unwrap();
    assert_eq!(appointment::count(conn.exec(), org.id).await.unwrap(), 1);
}

async fn a_practitioner_outside_the_patients_list_is_forbidden(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 3, 2).await;
    let patient = id(&t.db, Kind::Patient, &org, "p01").await;
    let kim = id(&t.db, Kind::Practitioner, &org, "kim").await;
    let mut tx = t.db.begin().await.unwrap();
    sqlx_restrict(&mut tx, org.id, patient, kim).await;
    tx.commit().await.unwrap();
    assert!(matches!(
        portal(t, &org, "p01", "lee", "visit", MONDAY_9, None).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        portal(t, &org, "p01", "kim", "class", MONDAY_9, None).await,
        Ok(PortalOutcome::Booked(_))
    ));
}

/// Limits a patient to one practitioner (what the portal-access page does).
async fn sqlx_restrict(tx: &mut store::Tx, org: i64, patient: i64, practitioner: i64) {
    store::patient::set_available_practitioners(tx, org, patient, Some(&[practitioner]))
        .await
        .unwrap();
}

async fn pending_bookings_hold_their_slot_until_declined(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 3).await;
    let org = save_settings(&t.db, &org, |s| s.auto_accept_portal_bookings = false).await;
    let first = booked(portal(t, &org, "p01", "lee", "visit", MONDAY_9, None).await);
    assert_eq!(first.appointment.status, store::AppointmentStatus::Pending);
    assert!(matches!(
        portal(t, &org, "p02", "lee", "visit", MONDAY_9, None).await,
        Ok(PortalOutcome::Taken { .. })
    ));
    let now = clock("2026-03-01T01:00:00Z");
    let declined = appointment::decide(
        &t.db,
        &org,
        first.appointment.id,
        Decision::Decline,
        "The clinic is closed that morning",
        store::audit::Actor::Staff(staff),
        &now,
        None,
    )
    .await
    .unwrap();
    assert_eq!(declined.status, store::AppointmentStatus::Cancelled);
    assert_eq!(declined.status_note, "The clinic is closed that morning");
    let second = booked(portal(t, &org, "p02", "lee", "visit", MONDAY_9, None).await);
    let accepted = appointment::decide(
        &t.db,
        &org,
        second.appointment.id,
        Decision::Accept,
        "",
        store::audit::Actor::Staff(staff),
        &now,
        None,
    )
    .await
    .unwrap();
    assert_eq!(accepted.status, store::AppointmentStatus::Booked);
    // Deciding twice is refused.
    assert!(matches!(
        appointment::decide(
            &t.db,
            &org,
            second.appointment.id,
            Decision::Accept,
            "",
            store::audit::Actor::Staff(staff),
            &now,
            None
        )
        .await,
        Err(Error::Invalid { .. })
    ));
}

async fn staff_double_booking_needs_an_override_recorded_with_who_and_why(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 3).await;
    booked(portal(t, &org, "p01", "lee", "visit", MONDAY_9, None).await);
    let now = clock("2026-03-01T00:00:00Z");
    let lee = id(&t.db, Kind::Practitioner, &org, "lee").await;
    let private = id(&t.db, Kind::ScheduleType, &org, "private").await;
    let booking = |reason: Option<&str>| StaffBooking {
        staff: store::audit::Actor::Staff(staff),
        practitioner: lee,
        patient: None,
        service: None,
        schedule_type: Some(private),
        start: at("2026-03-02T09:30:00-05:00"),
        duration_minutes: None,
        override_reason: reason.map(str::to_owned),
        telehealth: false,
        idempotency_key: None,
        resources: Default::default(),
    };
    match appointment::book_staff(&t.db, &org, &booking(None), &now, None).await {
        Err(Error::Conflict(Conflict::NeedsOverride { reasons })) => {
            assert_eq!(reasons.len(), 1, "{reasons:?}");
            assert!(
                reasons[0].contains("already at 09:30 on 2026-03-02"),
                "{reasons:?}"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(matches!(
        appointment::book_staff(&t.db, &org, &booking(Some("  ")), &now, None).await,
        Err(Error::Invalid { .. })
    ));
    let booked = appointment::book_staff(
        &t.db,
        &org,
        &booking(Some("Patient in pain, squeezed in")),
        &now,
        None,
    )
    .await
    .unwrap()
    .appointment;
    assert_eq!(
        booked.override_reason.as_deref(),
        Some("Patient in pain, squeezed in")
    );
    assert_eq!(booked.override_by, Some(staff));
    // The schedule type's default duration applies.
    assert_eq!(booked.end_ns - booked.start_ns, 30 * 60_000_000_000);
    let mut conn = t.db.conn().await.unwrap();
    let audit = store::audit::recent(conn.exec(), org.id, Some(("appointment", booked.id)), 10)
        .await
        .unwrap();
    assert_eq!(audit[0].action, "appointment.book_override");
    assert_eq!(audit[0].actor, format!("staff:{staff}"));
    assert!(
        audit[0].details.contains("Patient in pain"),
        "{}",
        audit[0].details
    );
    // A schedule type that allows conflicts takes any number without an override.
    let kim = id(&t.db, Kind::Practitioner, &org, "kim").await;
    let group = id(&t.db, Kind::ScheduleType, &org, "group").await;
    for _ in 0..5 {
        let b = StaffBooking {
            practitioner: kim,
            schedule_type: Some(group),
            start: at(MONDAY_9),
            ..booking(None)
        };
        assert!(
            appointment::book_staff(&t.db, &org, &b, &now, None)
                .await
                .is_ok()
        );
    }
}

async fn patients_cancel_their_own_appointments_until_the_notice(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 3).await;
    let org = save_settings(&t.db, &org, |s| s.cancellation_notice_minutes = 24 * 60).await;
    let booked = booked(portal(t, &org, "p01", "lee", "visit", MONDAY_9, None).await).appointment;
    let p01 = id(&t.db, Kind::Patient, &org, "p01").await;
    let p02 = id(&t.db, Kind::Patient, &org, "p02").await;
    let early = clock("2026-02-28T12:00:00Z");
    // Another patient's appointment does not exist for them.
    assert!(matches!(
        appointment::cancel(
            &t.db,
            &org,
            booked.id,
            Actor::Patient(p02),
            "",
            &early,
            None
        )
        .await,
        Err(Error::NotFound(_))
    ));
    // Inside the notice: too late, saying until when.
    let late = clock("2026-03-01T15:00:00Z");
    match appointment::cancel(&t.db, &org, booked.id, Actor::Patient(p01), "", &late, None).await {
        Err(Error::TooLate { until_ns }) => {
            assert_eq!(until_ns, at("2026-03-01T09:00:00-05:00").unix_nanos())
        }
        other => panic!("expected too late, got {other:?}"),
    }
    // Staff may still cancel; then the slot is free again.
    let cancelled =
        appointment::cancel(&t.db, &org, booked.id, Actor::Staff(staff), "", &late, None)
            .await
            .unwrap();
    assert_eq!(cancelled.status, store::AppointmentStatus::Cancelled);
    assert!(matches!(
        portal(t, &org, "p02", "lee", "visit", MONDAY_9, None).await,
        Ok(PortalOutcome::Booked(_))
    ));
}

async fn moving_is_checked_at_the_new_place_and_atomic(t: &TestDb) {
    let (org, staff) = booking_clinic(&t.db, 1, 3).await;
    let a = booked(portal(t, &org, "p01", "lee", "visit", MONDAY_9, None).await).appointment;
    let b = booked(
        portal(
            t,
            &org,
            "p02",
            "lee",
            "visit",
            "2026-03-02T11:00:00-05:00",
            None,
        )
        .await,
    )
    .appointment;
    let now = clock("2026-03-01T00:00:00Z");
    let m = |start: &str, reason: Option<&str>| Move {
        staff: store::audit::Actor::Staff(staff),
        appointment: a.id,
        start: at(start),
        practitioner: None,
        duration_minutes: None,
        override_reason: reason.map(str::to_owned),
        resources: Default::default(),
    };
    // Onto b: refused, and nothing changes.
    assert!(matches!(
        appointment::reschedule(
            &t.db,
            &org,
            &m("2026-03-02T10:30:00-05:00", None),
            &now,
            None
        )
        .await,
        Err(Error::Conflict(Conflict::NeedsOverride { .. }))
    ));
    let mut conn = t.db.conn().await.unwrap();
    assert_eq!(
        appointment::get(conn.exec(), org.id, a.id)
            .await
            .unwrap()
            .start_ns,
        a.start_ns
    );
    drop(conn);
    // Half an hour later overlaps only itself: fine.
    let moved = appointment::reschedule(
        &t.db,
        &org,
        &m("2026-03-02T09:30:00-05:00", None),
        &now,
        None,
    )
    .await
    .unwrap();
    assert_eq!(moved.start_ns, at("2026-03-02T09:30:00-05:00").unix_nanos());
    assert_eq!(moved.end_ns - moved.start_ns, 3_600_000_000_000);
    // To another practitioner on another day.
    let kim = id(&t.db, Kind::Practitioner, &org, "kim").await;
    let to_kim = Move {
        practitioner: Some(kim),
        ..m("2026-03-03T10:00:00-05:00", Some("Lee is away"))
    };
    let moved = appointment::reschedule(&t.db, &org, &to_kim, &now, None)
        .await
        .unwrap();
    assert_eq!(moved.practitioner_id, kim);
    let mut conn = t.db.conn().await.unwrap();
    let audit = store::audit::recent(conn.exec(), org.id, Some(("appointment", a.id)), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions[..2],
        ["appointment.reschedule_override", "appointment.reschedule"]
    );
    let _ = b;
}

async fn another_organisations_ids_are_not_found(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 3).await;
    let a = booked(portal(t, &org, "p01", "lee", "visit", MONDAY_9, None).await).appointment;
    let other = crate::import(&t.db, "other", &crate::worked("basic.json")).await;
    let mut conn = t.db.conn().await.unwrap();
    assert!(matches!(
        appointment::get(conn.exec(), other.id, a.id).await,
        Err(Error::NotFound(_))
    ));
    drop(conn);
    // Booking another organisation's practitioner, service or patient fails too.
    let now = clock("2026-03-01T00:00:00Z");
    let christine = id(&t.db, Kind::Practitioner, &other, "christine").await;
    let r = appointment::book_portal(
        &t.db,
        &org,
        &PortalBooking {
            patient: id(&t.db, Kind::Patient, &org, "p01").await,
            service: id(&t.db, Kind::Service, &org, "visit").await,
            practitioner: christine,
            start: at(MONDAY_9),
            telehealth: false,
            idempotency_key: None,
        },
        &now,
        None,
    )
    .await;
    assert!(matches!(r, Err(Error::NotFound(_))), "{r:?}");
    let now = clock("2026-03-01T00:00:00Z");
    assert!(matches!(
        appointment::cancel(&t.db, &other, a.id, Actor::Staff(1), "", &now, None).await,
        Err(Error::NotFound(_))
    ));
}

async fn the_audit_log_is_append_only(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 3).await;
    booked(portal(t, &org, "p01", "lee", "visit", MONDAY_9, None).await);
    let mut tx = t.db.begin().await.unwrap();
    let update = match tx.exec() {
        store::Exec::Sqlite(c) => sqlx::query("UPDATE audit_log SET actor = 'someone else'")
            .execute(c)
            .await
            .map(|_| ()),
        store::Exec::Postgres(c) => sqlx::query("UPDATE audit_log SET actor = 'someone else'")
            .execute(c)
            .await
            .map(|_| ()),
    };
    assert!(update.is_err(), "audit rows cannot be changed");
    drop(tx);
    let mut tx = t.db.begin().await.unwrap();
    let delete = match tx.exec() {
        store::Exec::Sqlite(c) => sqlx::query("DELETE FROM audit_log")
            .execute(c)
            .await
            .map(|_| ()),
        store::Exec::Postgres(c) => sqlx::query("DELETE FROM audit_log")
            .execute(c)
            .await
            .map(|_| ()),
    };
    assert!(delete.is_err(), "audit rows cannot be deleted");
}

/// Staff book video under a schedule type that allows telehealth; elsewhere it needs an
/// override that says why; a move keeps it; the book's choices say which services and
/// schedule types may be booked by video; the entry's link is the practitioner's, else
/// the organisation's.
async fn staff_video_bookings_need_a_telehealth_schedule_type_and_a_move_keeps_them(t: &TestDb) {
    let doc = serde_json::json!({
        "version": 1,
        "settings": {"slot_step_minutes": 30},
        "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto"}],
        "schedule_types": [
            {"id": "physio", "name": "Physiotherapy", "clinic": "toronto"},
            {"id": "video", "name": "Video visit", "telehealth": true}
        ],
        "practitioners": [
            {"id": "lee", "name": "Lee", "type": "physio", "home_clinic": "toronto",
             "schedule_types": ["physio", "video"],
             "availability": [{"start_date": "2026-01-01",
               "blocks": [{"days": ["mon"], "start": "09:00", "end": "12:00", "schedule_type": "physio"},
                          {"days": ["mon"], "start": "13:00", "end": "17:00", "schedule_type": "video"}]}]}
        ],
        "services": [
            {"id": "visit", "name": "Visit", "duration_minutes": 30, "book_from_portal": true,
             "schedule_types": ["physio", "video"]},
            {"id": "massage", "name": "Massage", "duration_minutes": 30, "book_from_portal": true,
             "schedule_types": ["physio"]}
        ]
    });
    let org = crate::import(
        &t.db,
        "video",
        &slot_engine::Scenario::from_json(doc.to_string().as_bytes()).unwrap(),
    )
    .await;
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
    let lee = id(&t.db, Kind::Practitioner, &org, "lee").await;
    let physio = id(&t.db, Kind::ScheduleType, &org, "physio").await;
    let video = id(&t.db, Kind::ScheduleType, &org, "video").await;
    let visit = id(&t.db, Kind::Service, &org, "visit").await;
    let massage = id(&t.db, Kind::Service, &org, "massage").await;

    let mut conn = t.db.conn().await.unwrap();
    let choices = store::book::choices(conn.exec(), org.id).await.unwrap();
    drop(conn);
    let service = |id| choices.service(id).unwrap().telehealth;
    let schedule_type = |id| choices.schedule_type(id).unwrap().telehealth;
    assert_eq!(
        (
            service(visit),
            service(massage),
            schedule_type(physio),
            schedule_type(video)
        ),
        (true, false, false, true)
    );

    let now = clock("2026-03-01T00:00:00Z");
    let booking = |service: Option<i64>, schedule_type: Option<i64>, start: &str| StaffBooking {
        staff: store::audit::Actor::Staff(staff.id),
        practitioner: lee,
        patient: None,
        service,
        schedule_type,
        start: at(start),
        duration_minutes: None,
        override_reason: None,
        telehealth: true,
        idempotency_key: None,
        resources: Default::default(),
    };
    match appointment::book_staff(
        &t.db,
        &org,
        &booking(None, Some(physio), MONDAY_9),
        &now,
        None,
    )
    .await
    {
        Err(Error::Conflict(Conflict::NeedsOverride { reasons })) => {
            assert_eq!(reasons, ["Physiotherapy does not allow video appointments"]);
        }
        other => panic!("expected an override, got {other:?}"),
    }
    // With a service, the video block holds it.
    let booked = appointment::book_staff(
        &t.db,
        &org,
        &booking(Some(visit), None, "2026-03-02T14:00:00-05:00"),
        &now,
        None,
    )
    .await
    .unwrap()
    .appointment;
    assert!(booked.telehealth);
    assert_eq!(booked.schedule_type_id, Some(video));
    let entry = |id| {
        let db = t.db.clone();
        async move {
            let mut conn = db.conn().await.unwrap();
            store::book::entry(conn.exec(), org.id, id).await.unwrap()
        }
    };
    let read = entry(booked.id).await;
    assert!(read.place.telehealth);
    assert_eq!(read.place.video_link, "");
    assert_eq!(read.place.clinic_name, "Toronto");
    let org = save_settings(&t.db, &org, |s| {
        s.video_link = "https://meet.example.com/clinic".into();
    })
    .await;
    assert_eq!(
        entry(booked.id).await.place.video_link,
        "https://meet.example.com/clinic"
    );

    let moved = appointment::reschedule(
        &t.db,
        &org,
        &Move {
            staff: store::audit::Actor::Staff(staff.id),
            appointment: booked.id,
            start: at("2026-03-02T15:30:00-05:00"),
            practitioner: None,
            duration_minutes: None,
            override_reason: None,
            resources: Default::default(),
        },
        &now,
        None,
    )
    .await
    .unwrap();
    assert!(moved.telehealth);
    assert_eq!(moved.start_ns, at("2026-03-02T15:30:00-05:00").unix_nanos());
}

both!(
    staff_video_bookings_need_a_telehealth_schedule_type_and_a_move_keeps_them,
    a_portal_booking_takes_the_slot_and_a_second_is_refused_with_the_engines_reason,
    a_retried_request_with_the_same_idempotency_key_returns_the_first_booking,
    concurrent_retries_with_one_key_book_once,
    a_practitioner_outside_the_patients_list_is_forbidden,
    pending_bookings_hold_their_slot_until_declined,
    staff_double_booking_needs_an_override_recorded_with_who_and_why,
    patients_cancel_their_own_appointments_until_the_notice,
    moving_is_checked_at_the_new_place_and_atomic,
    another_organisations_ids_are_not_found,
    the_audit_log_is_append_only,
);
