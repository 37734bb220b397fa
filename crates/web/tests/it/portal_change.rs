//! Changing and cancelling an appointment (issue 14): a patient reschedules in the
//! portal (a list of times by day, a confirm step, one move, an email), cancels with a
//! confirmation step and a reason staff see; the desk cancels with a reason and undoes
//! it while the time is free, and marks arrived, completed and no-show with an undo,
//! seeing the patient's no-show count.

use reqwest::{Method, StatusCode};
use serde_json::json;
use slot_engine::Scenario;
use store::Organisation;
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, PASSWORD, PATIENT_PASSWORD, TestApp};

/// Toronto; Christine and Marco each work Monday and Tuesday 09:00–11:00; a 30-minute
/// portal visit; Ada and Ben; cancelling and moving online until 24 hours before.
fn clinic(name: &str) -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30, "min_notice_minutes": 60},
            "clinics": [{"id": "main", "name": format!("{name} Clinic"), "timezone": "America/Toronto"}],
            "schedule_types": [{"id": "physio", "name": "Physio", "clinic": "main"}],
            "practitioners": [
                {"id": "christine", "name": "Christine Roy", "type": "physio", "home_clinic": "main", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]},
                {"id": "marco", "name": "Marco Silva", "type": "physio", "home_clinic": "main", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]}],
            "services": [{"id": "visit", "name": "Physio visit", "duration_minutes": 30, "book_from_portal": true,
                          "schedule_types": ["physio"]}],
            "patients": [
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "ben", "first_name": "Ben", "last_name": "Okafor", "email": "ben@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

struct World {
    app: TestApp,
    org: Organisation,
    desk: Client,
    admin: Client,
    ada: Client,
    ben: Client,
    christine: i64,
    marco: i64,
    service: i64,
}

async fn world(backend: Backend) -> World {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &clinic("Acme")).await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let mut settings = admin
        .api(Method::GET, "/api/v1/orgs/acme/settings", None)
        .await
        .json();
    settings["cancellation_notice_minutes"] = json!(24 * 60);
    let saved = admin
        .api(Method::PUT, "/api/v1/orgs/acme/settings", Some(settings))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let ada = app.portal_patient(&org, &admin, "ada").await;
    let ben = app.portal_patient(&org, &admin, "ben").await;
    World {
        christine: app.id(&org, Kind::Practitioner, "christine").await,
        marco: app.id(&org, Kind::Practitioner, "marco").await,
        service: app.id(&org, Kind::Service, "visit").await,
        app,
        org,
        desk,
        admin,
        ada,
        ben,
    }
}

/// Books through the portal API and returns the appointment's id.
async fn book(w: &World, who: &Client, practitioner: i64, start: &str) -> i64 {
    let booked = who
        .api(
            Method::POST,
            "/api/v1/orgs/acme/portal/appointments",
            Some(json!({"service": w.service, "practitioner": practitioner, "start": start})),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    booked.json()["id"].as_i64().unwrap()
}

async fn portal_appointment(who: &Client, id: i64) -> serde_json::Value {
    who.api(
        Method::GET,
        &format!("/api/v1/orgs/acme/portal/appointments/{id}"),
        None,
    )
    .await
    .json()
}

async fn staff_appointment(w: &World, id: i64) -> serde_json::Value {
    w.desk
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments/{id}"),
            None,
        )
        .await
        .json()
}

/// Sets the clock and signs the desk and Ada in again (a session ends after 12 idle
/// hours, by the server's clock).
async fn clock_at(w: &World, at: &str) {
    w.app.clock.set(at.parse().unwrap());
    let desk = w
        .desk
        .sign_in("acme", "front_desk-acme@example.com", PASSWORD)
        .await;
    assert_eq!(desk.status(), StatusCode::SEE_OTHER);
    let ada = w
        .ada
        .portal_sign_in("acme", "ada@example.com", PATIENT_PASSWORD)
        .await;
    assert_eq!(ada.status, StatusCode::SEE_OTHER);
}

const MONDAY_9: &str = "2026-03-02T09:00:00-05:00";
const MONDAY_10: &str = "2026-03-02T10:00:00-05:00";

async fn a_patient_reschedules_by_day_confirms_and_is_emailed(backend: Backend) {
    let w = world(backend).await;
    let id = book(&w, &w.ada, w.christine, MONDAY_9).await;
    let page = w
        .ada
        .get(&format!("/o/acme/portal/appointments/{id}"))
        .await;
    assert!(page.contains(&format!("/o/acme/portal/appointments/{id}/reschedule\"")));
    // The times, by day, with the same practitioner: Monday's other times, not 09:00.
    let list = w
        .ada
        .get(&format!("/o/acme/portal/appointments/{id}/reschedule"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.contains("Monday 2 March") && list.contains("Tuesday 3 March"));
    assert!(list.contains(">10:00"), "{}", list.body);
    assert!(
        !list.contains("start=2026-03-02T09%3A00%3A00-05%3A00"),
        "its own time is not offered"
    );
    assert!(
        !list.contains("Marco Silva"),
        "same practitioner by default"
    );
    let any = w
        .ada
        .get(&format!(
            "/o/acme/portal/appointments/{id}/reschedule?with=any"
        ))
        .await;
    assert!(any.contains("Marco Silva"), "{}", any.body);
    // The confirm step says from what to what, and changes nothing yet.
    let confirm_path = format!(
        "/o/acme/portal/appointments/{id}/reschedule/confirm?practitioner={}&start=2026-03-02T10%3A00%3A00-05%3A00",
        w.christine
    );
    assert!(
        list.contains(&confirm_path.replace('&', "&#38;")),
        "{}",
        list.body
    );
    let confirm = w.ada.get(&confirm_path).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm.contains("move from <strong>Mon 2 Mar 2026, 09:00 EST</strong>"),
        "{}",
        confirm.body
    );
    assert!(confirm.contains("Mon 2 Mar 2026, 10:00 EST"));
    // Where it is now and where it will be, both said; the same clinic is no warning.
    let summary = &confirm.body[confirm.body.find("<dl class=\"summary\">").unwrap()..];
    assert_eq!(summary.matches(" Clinic</dd>").count(), 2, "{summary}");
    assert!(!confirm.contains("The new time is at"));
    assert_eq!(
        portal_appointment(&w.ada, id).await["start"],
        "2026-03-02T09:00:00-05:00"
    );
    // Moving it: the same appointment at the new time, the patient told by email.
    let christine = w.christine.to_string();
    let moved = w
        .ada
        .post_form(
            &format!("/o/acme/portal/appointments/{id}/reschedule"),
            &[("practitioner", christine.as_str()), ("start", MONDAY_10)],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(
        moved.location(),
        format!("/o/acme/portal/appointments/{id}?notice=moved")
    );
    let shown = w.ada.get(&moved.location()).await;
    assert!(shown.contains("Moved. An email with the new time"));
    let now = portal_appointment(&w.ada, id).await;
    assert_eq!(now["start"], "2026-03-02T10:00:00-05:00");
    assert_eq!(now["status"], "booked");
    let mail = w.app.mail("ada@example.com").await;
    let last = mail.first().unwrap();
    assert!(
        last.subject.starts_with("Appointment moved"),
        "{}",
        last.subject
    );
    assert!(
        last.body_text.contains("You moved your Physio visit") && last.body_text.contains("10:00"),
        "{}",
        last.body_text
    );
    // The old time is free: Ben books it.
    book(&w, &w.ben, w.christine, MONDAY_9).await;
    // Staff see the move in the appointment's history, as the patient's.
    let history = w
        .desk
        .get(&format!("/o/acme/admin/book/appointments/{id}"))
        .await;
    assert!(history.contains("The patient (portal)") && history.contains("Moved"));
    // The API moves it too, to another practitioner.
    let api = w
        .ada
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/portal/appointments/{id}/reschedule"),
            Some(json!({"start": "2026-03-03T09:30:00-05:00", "practitioner": w.marco})),
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    assert_eq!(api.json()["practitioner_name"], "Marco Silva");
    assert_eq!(api.json()["id"], id);
    w.app.stop().await;
}

async fn a_reschedule_is_refused_in_plain_words_and_changes_nothing(backend: Backend) {
    let w = world(backend).await;
    let id = book(&w, &w.ada, w.christine, MONDAY_9).await;
    let christine = w.christine.to_string();
    // Taken meanwhile: someone else just took it, with the next open times.
    book(&w, &w.ben, w.christine, MONDAY_10).await;
    let taken = w
        .ada
        .post_form(
            &format!("/o/acme/portal/appointments/{id}/reschedule"),
            &[("practitioner", christine.as_str()), ("start", MONDAY_10)],
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert!(taken.contains("someone else just took that time"));
    assert!(
        taken.contains("/reschedule/confirm?practitioner="),
        "next times offered"
    );
    assert_eq!(portal_appointment(&w.ada, id).await["start"], MONDAY_9);
    let api = w
        .ada
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/portal/appointments/{id}/reschedule"),
            Some(json!({"start": MONDAY_10})),
        )
        .await;
    assert_eq!(api.status, StatusCode::CONFLICT);
    assert!(
        api.json()["error"]["details"]["next_slots"]
            .as_array()
            .is_some_and(|n| !n.is_empty())
    );
    // Bad input names its field.
    let bad = w
        .ada
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/portal/appointments/{id}/reschedule"),
            Some(json!({"start": "soon"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["field"], "start");
    // Another patient's appointment is not found, on every route.
    for path in [
        format!("/o/acme/portal/appointments/{id}/reschedule"),
        format!(
            "/o/acme/portal/appointments/{id}/reschedule/confirm?practitioner={christine}&start=2026-03-02T09%3A30%3A00-05%3A00"
        ),
        format!("/o/acme/portal/appointments/{id}/cancel"),
    ] {
        assert_eq!(
            w.ben.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let theirs = w
        .ben
        .post_form(
            &format!("/o/acme/portal/appointments/{id}/reschedule"),
            &[
                ("practitioner", christine.as_str()),
                ("start", "2026-03-02T09:30:00-05:00"),
            ],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    // Another organisation's patient and practitioner are not found either.
    let beta = w.app.import("beta", &clinic("Beta")).await;
    let beta_admin = w.app.signed_in(&beta, Role::Admin).await;
    let beta_ada = w.app.portal_patient(&beta, &beta_admin, "ada").await;
    assert_eq!(
        beta_ada
            .get(&format!("/o/beta/portal/appointments/{id}/reschedule"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let foreign = w.app.id(&beta, Kind::Practitioner, "marco").await;
    let foreign_move = w
        .ada
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/portal/appointments/{id}/reschedule"),
            Some(json!({"start": "2026-03-02T09:30:00-05:00", "practitioner": foreign})),
        )
        .await;
    assert_eq!(
        foreign_move.status,
        StatusCode::NOT_FOUND,
        "{}",
        foreign_move.body
    );
    let foreign_confirm = w
        .ada
        .get(&format!(
            "/o/acme/portal/appointments/{id}/reschedule/confirm?practitioner={foreign}&start=2026-03-02T09%3A30%3A00-05%3A00"
        ))
        .await;
    assert_eq!(foreign_confirm.status, StatusCode::NOT_FOUND);
    // Without the form's CSRF token: refused, nothing changed.
    let forged = w
        .ada
        .post_raw(
            &format!("/o/acme/portal/appointments/{id}/reschedule"),
            &[
                ("practitioner", christine.as_str()),
                ("start", "2026-03-02T09:30:00-05:00"),
            ],
            &[],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(portal_appointment(&w.ada, id).await["start"], MONDAY_9);
    // Too late: inside the notice, the rule in words, and no Reschedule offered.
    clock_at(&w, "2026-03-01T15:00:00Z").await;
    let late = w
        .ada
        .post_form(
            &format!("/o/acme/portal/appointments/{id}/reschedule"),
            &[
                ("practitioner", christine.as_str()),
                ("start", "2026-03-02T09:30:00-05:00"),
            ],
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(
        late.contains(
            "can no longer be moved online: moving was possible until Sun 1 Mar 2026, 09:00"
        ),
        "{}",
        late.body
    );
    let page = w
        .ada
        .get(&format!("/o/acme/portal/appointments/{id}"))
        .await;
    assert!(!page.contains("/reschedule\""));
    assert!(page.contains("please call the clinic"));
    assert_eq!(portal_appointment(&w.ada, id).await["start"], MONDAY_9);
    let mail = w.app.mail("ada@example.com").await;
    assert!(
        mail.iter()
            .all(|m| !m.subject.starts_with("Appointment moved"))
    );
    w.app.stop().await;
}

async fn a_cancel_asks_first_keeps_its_reason_for_staff_and_the_desk_can_undo_it(backend: Backend) {
    let w = world(backend).await;
    let id = book(&w, &w.ada, w.christine, MONDAY_9).await;
    // The portal asks first: the appointment page links to a confirmation.
    let page = w
        .ada
        .get(&format!("/o/acme/portal/appointments/{id}"))
        .await;
    assert!(page.contains(&format!("href=\"/o/acme/portal/appointments/{id}/cancel\"")));
    let ask = w
        .ada
        .get(&format!("/o/acme/portal/appointments/{id}/cancel"))
        .await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.contains("Cancel this appointment?") && ask.contains("name=\"reason\""));
    assert_eq!(portal_appointment(&w.ada, id).await["status"], "booked");
    // A reason too long is named; nothing changes.
    let long = "x".repeat(501);
    let refused = w
        .ada
        .post_form(
            &format!("/o/acme/portal/appointments/{id}/cancel"),
            &[("reason", long.as_str())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("Reason: must be at most 500 characters"));
    assert_eq!(portal_appointment(&w.ada, id).await["status"], "booked");
    let cancelled = w
        .ada
        .post_form(
            &format!("/o/acme/portal/appointments/{id}/cancel"),
            &[("reason", "My car broke down")],
        )
        .await;
    assert_eq!(
        cancelled.status,
        StatusCode::SEE_OTHER,
        "{}",
        cancelled.body
    );
    let shown = portal_appointment(&w.ada, id).await;
    assert_eq!(shown["status"], "cancelled");
    assert_eq!(shown["cancel_reason"], "My car broke down");
    // Staff see the reason and who cancelled, and the undo.
    let staff_page = w
        .desk
        .get(&format!("/o/acme/admin/book/appointments/{id}"))
        .await;
    assert!(
        staff_page.contains("My car broke down"),
        "{}",
        staff_page.body
    );
    assert!(staff_page.contains("<dt>Cancelled by</dt><dd>The patient (portal)</dd>"));
    assert!(staff_page.contains("Undo cancellation"));
    // The audit text tells the reason.
    let audit = w.admin.get("/o/acme/admin/audit").await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(
        audit.contains("Cancellation reason: My car broke down"),
        "{}",
        audit.body
    );
    // Undo: booked again, the patient told.
    let undone = w
        .desk
        .post_form(
            &format!("/o/acme/admin/book/appointments/{id}/restore"),
            &[],
        )
        .await;
    assert_eq!(undone.status, StatusCode::SEE_OTHER, "{}", undone.body);
    assert!(
        w.desk
            .get(&undone.location())
            .await
            .contains("Cancellation undone")
    );
    assert_eq!(staff_appointment(&w, id).await["status"], "booked");
    let mail = w.app.mail("ada@example.com").await;
    assert!(
        mail[0].subject.starts_with("Appointment confirmed"),
        "{}",
        mail[0].subject
    );
    // The desk cancels with a reason; Ben takes the time; the undo is refused, saying why.
    let desk_cancel = w
        .desk
        .post_form(
            &format!("/o/acme/admin/book/appointments/{id}/cancel"),
            &[("reason", "Practitioner ill")],
        )
        .await;
    assert_eq!(desk_cancel.status, StatusCode::SEE_OTHER);
    let after = w.desk.get(&desk_cancel.location()).await;
    assert!(after.contains("Practitioner ill") && after.contains("Undo cancellation"));
    book(&w, &w.ben, w.christine, MONDAY_9).await;
    let refused = w
        .desk
        .post_form(
            &format!("/o/acme/admin/book/appointments/{id}/restore"),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("cannot be undone: this time is no longer free without an override"));
    assert_eq!(staff_appointment(&w, id).await["status"], "cancelled");
    let api = w
        .desk
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/appointments/{id}/restore"),
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::CONFLICT);
    assert!(
        api.json()["error"]["details"]["needs_override"]
            .as_array()
            .is_some()
    );
    // The API cancels with a reason too.
    let other = book(&w, &w.ada, w.marco, MONDAY_10).await;
    let api = w
        .desk
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/appointments/{other}?reason=Double%20booked"),
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let page = w
        .desk
        .get(&format!("/o/acme/admin/book/appointments/{other}"))
        .await;
    assert!(page.contains("Double booked"));
    w.app.stop().await;
}

async fn desk_statuses_follow_the_clock_undo_to_booked_and_count_no_shows(backend: Backend) {
    let w = world(backend).await;
    let id = book(&w, &w.ada, w.christine, MONDAY_9).await;
    let path = format!("/o/acme/admin/book/appointments/{id}");
    let status_path = format!("{path}/status");
    // The day before: no desk button, and arriving is refused in words.
    let page = w.desk.get(&path).await;
    assert!(!page.contains("name=\"status\" value=\"arrived\""));
    assert!(
        page.contains("<dt>No-shows</dt><dd>None</dd>"),
        "{}",
        page.body
    );
    let early = w
        .desk
        .post_form(&status_path, &[("status", "arrived")])
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.contains("only from 2 hours before the appointment"));
    // Half an hour before: arrived.
    clock_at(&w, "2026-03-02T13:30:00Z").await;
    let page = w.desk.get(&path).await;
    assert!(page.contains("name=\"status\" value=\"arrived\""));
    assert!(!page.contains("name=\"status\" value=\"completed\""));
    let arrived = w
        .desk
        .post_form(&status_path, &[("status", "arrived")])
        .await;
    assert_eq!(arrived.status, StatusCode::SEE_OTHER, "{}", arrived.body);
    assert_eq!(staff_appointment(&w, id).await["status"], "arrived");
    let portal = w
        .ada
        .get(&format!("/o/acme/portal/appointments/{id}"))
        .await;
    assert!(portal.contains("You are checked in"));
    // Not completed before the start; afterwards completed, undone, a no-show.
    let api = |status: &'static str| {
        let desk = &w.desk;
        async move {
            desk.api(
                Method::POST,
                &format!("/api/v1/orgs/acme/appointments/{id}/status"),
                Some(json!({"status": status})),
            )
            .await
        }
    };
    let refused = api("completed").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["field"], "status");
    clock_at(&w, "2026-03-02T14:40:00Z").await;
    assert_eq!(api("completed").await.json()["status"], "completed");
    assert_eq!(
        api("no_show").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(api("booked").await.json()["status"], "booked");
    assert_eq!(api("no_show").await.json()["status"], "no_show");
    assert_eq!(
        api("cancelled").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The count shows on the page, in the patient search and the patient's record.
    let page = w.desk.get(&path).await;
    assert!(
        page.contains("1</strong> past appointment marked no-show"),
        "{}",
        page.body
    );
    assert!(page.contains("Undo: back to booked"));
    let found = w
        .desk
        .api(Method::GET, "/api/v1/orgs/acme/patients?q=Ada", None)
        .await
        .json();
    assert_eq!(found[0]["no_show_count"], 1);
    let ada = w.app.id(&w.org, Kind::Patient, "ada").await;
    let record = w
        .desk
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/patients/{ada}"),
            None,
        )
        .await
        .json();
    assert_eq!(record["patient"]["no_show_count"], 1);
    // The patient sees it as missed.
    let portal = w
        .ada
        .get(&format!("/o/acme/portal/appointments/{id}"))
        .await;
    assert!(portal.contains("Missed appointment"));
    // Each change is in the history.
    assert!(page.contains("Mark undone (back to booked)") && page.contains("Marked"));
    // Another organisation's staff: not found.
    let beta = w.app.import("beta", &clinic("Beta")).await;
    let beta_desk = w.app.signed_in(&beta, Role::FrontDesk).await;
    for route in [
        format!("/o/beta/admin/book/appointments/{id}/status"),
        format!("/o/beta/admin/book/appointments/{id}/restore"),
    ] {
        let page = beta_desk.post_form(&route, &[("status", "booked")]).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{route}");
    }
    assert_eq!(staff_appointment(&w, id).await["status"], "no_show");
    w.app.stop().await;
}

/// Two patients moving into the same last free time at once: exactly one wins, and the
/// other's appointment is unchanged.
async fn two_patients_rescheduling_into_the_last_free_time_one_succeeds(backend: Backend) {
    let w = world(backend).await;
    // Christine's Monday: Ada at 09:00, Ben at 09:30, Tuesday full but for nothing;
    // 10:30 is the last time left on Monday once 10:00 is taken too.
    let ada = book(&w, &w.ada, w.christine, MONDAY_9).await;
    let ben = book(&w, &w.ben, w.christine, "2026-03-02T09:30:00-05:00").await;
    let last = "2026-03-02T10:30:00-05:00";
    let move_to = |who: &'static str, id: i64| {
        let client = if who == "ada" { &w.ada } else { &w.ben };
        async move {
            client
                .api(
                    Method::POST,
                    &format!("/api/v1/orgs/acme/portal/appointments/{id}/reschedule"),
                    Some(json!({"start": last})),
                )
                .await
        }
    };
    let (a, b) = tokio::join!(move_to("ada", ada), move_to("ben", ben));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} {}",
        a.body,
        b.body
    );
    let (loser, client, start) = if a.status == StatusCode::OK {
        (ben, &w.ben, "2026-03-02T09:30:00-05:00")
    } else {
        (ada, &w.ada, MONDAY_9)
    };
    assert_eq!(portal_appointment(client, loser).await["start"], start);
    w.app.stop().await;
}

both!(
    a_patient_reschedules_by_day_confirms_and_is_emailed,
    a_reschedule_is_refused_in_plain_words_and_changes_nothing,
    a_cancel_asks_first_keeps_its_reason_for_staff_and_the_desk_can_undo_it,
    desk_statuses_follow_the_clock_undo_to_booked_and_count_no_shows,
    two_patients_rescheduling_into_the_last_free_time_one_succeeds,
);
