//! Where, when and how (issue 13) in the portal: an organisation with clinics in two
//! zones and a counselling service that may be held by video. Times are grouped by
//! clinic under each clinic-local day, labelled with their zone; the confirm page checks
//! the time before it offers "Book it" and says where (or that it is by video); a video
//! appointment is listed, shown, emailed and put in the calendar as one, with its join
//! link; every appointment names one clinic, the same for staff and patient.

use reqwest::{Method, StatusCode};
use serde_json::json;
use slot_engine::Scenario;
use store::Organisation;
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, TestApp};

fn two_zones() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30},
            "clinics": [{"id": "toronto", "name": "Toronto Midtown", "timezone": "America/Toronto"},
                        {"id": "vancouver", "name": "Vancouver Kitsilano", "timezone": "America/Vancouver"}],
            "schedule_types": [
                {"id": "physio-to", "name": "Physio Toronto", "clinic": "toronto"},
                {"id": "physio-va", "name": "Physio Vancouver", "clinic": "vancouver"},
                {"id": "counsel", "name": "Counselling", "clinic": "vancouver", "telehealth": true}],
            "practitioners": [
                {"id": "christine", "name": "Christine Roy", "type": "physio", "home_clinic": "toronto", "schedule_types": ["physio-to"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon"], "start": "11:00", "end": "12:00", "schedule_type": "physio-to"}]}]},
                {"id": "marco", "name": "Marco Silva", "type": "physio", "home_clinic": "vancouver", "schedule_types": ["physio-va", "counsel"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon"], "start": "08:00", "end": "09:00", "schedule_type": "physio-va"},
                              {"days": ["tue"], "start": "10:00", "end": "11:00", "schedule_type": "counsel"}]}]}],
            "services": [
                {"id": "visit", "name": "Physio visit", "duration_minutes": 30, "book_from_portal": true,
                 "schedule_types": ["physio-to", "physio-va"]},
                {"id": "talk", "name": "Counselling", "duration_minutes": 30, "book_from_portal": true,
                 "schedule_types": ["counsel"]}],
            "patients": [{"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

/// The two-zone organisation, its clinics given addresses and the organisation a video
/// link; a front-desk client and Ada signed in to the portal.
async fn setup(app: &TestApp) -> (Organisation, Client, Client) {
    let org = app.import("two", &two_zones()).await;
    let mut tx = app.db.begin().await.unwrap();
    for (key, address, phone) in [
        ("toronto", "100 Yonge St\nToronto ON", "416 555 0100"),
        (
            "vancouver",
            "2400 W 4th Ave\nVancouver BC",
            "+1 604 555 0199",
        ),
    ] {
        let id = store::keys::id_of(tx.exec(), Kind::Clinic, org.id, key)
            .await
            .unwrap();
        let clinic = store::clinic::get(tx.exec(), org.id, id).await.unwrap();
        store::clinic::update(
            &mut tx,
            org.id,
            id,
            &store::clinic::ClinicInput {
                name: clinic.name,
                timezone: clinic.timezone,
                address: address.into(),
                phone: phone.into(),
            },
        )
        .await
        .unwrap();
    }
    let mut settings = org.settings();
    settings.video_link = "https://meet.example.com/two".into();
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let staff = app.signed_in(&org, Role::FrontDesk).await;
    let ada = app.portal_patient(&org, &staff, "ada").await;
    (org, staff, ada)
}

async fn mixed_zones_are_grouped_by_clinic_and_labelled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.clock.set("2026-03-01T12:00:00Z".parse().unwrap());
    let (org, _staff, ada) = setup(&app).await;
    let visit = app.id(&org, Kind::Service, "visit").await;
    let page = ada
        .get(&format!("/o/two/portal/book/{visit}?from=2026-03-02"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    // Monday: 11:00 in Toronto and 08:00 in Vancouver are the same instant; each is
    // under its own clinic, with its zone said, never interleaved unlabelled.
    let toronto = body.find("Toronto Midtown").expect("the Toronto group");
    let vancouver = body
        .find("Vancouver Kitsilano")
        .expect("the Vancouver group");
    assert!(body.contains("Times in Toronto time (EST)"), "{body}");
    assert!(body.contains("Times in Vancouver time (PST)"), "{body}");
    assert!(
        body.contains("100 Yonge St, Toronto ON"),
        "the address is said"
    );
    let monday = body.find("Monday 2 March").unwrap();
    let eleven = body[monday..].find(">11:00").unwrap() + monday;
    let eight = body[monday..].find(">08:00").unwrap() + monday;
    assert!(toronto < eleven && vancouver < eight);
    assert!(!body.contains(">2026-03-02 "), "no ISO dates");
    // The clinic filter keeps one clinic's times.
    let vancouver_id = app.id(&org, Kind::Clinic, "vancouver").await;
    let only = ada
        .get(&format!(
            "/o/two/portal/book/{visit}?from=2026-03-02&clinic={vancouver_id}"
        ))
        .await;
    assert!(
        only.contains(">08:00") && !only.contains(">11:00"),
        "{}",
        only.body
    );
    // The practitioner picker says where each practitioner works for the service.
    assert!(
        body.contains("Marco Silva (Physio, Vancouver Kitsilano)"),
        "{body}"
    );
    // A bad choice names its field.
    for bad in ["clinic=x", "mode=phone", "practitioner=1e3"] {
        let refused = ada
            .get(&format!("/o/two/portal/book/{visit}?from=2026-03-02&{bad}"))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // Another organisation's clinic is not found.
    let other = app.org("other").await;
    let mut tx = app.db.begin().await.unwrap();
    let foreign = store::clinic::create(
        &mut tx,
        other.id,
        &store::clinic::ClinicInput {
            name: "Elsewhere".into(),
            timezone: "Europe/London".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let hidden = ada
        .get(&format!("/o/two/portal/book/{visit}?clinic={}", foreign.id))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn the_confirm_page_checks_the_time_and_says_where(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.clock.set("2026-03-01T12:00:00Z".parse().unwrap());
    let (org, _staff, ada) = setup(&app).await;
    let visit = app.id(&org, Kind::Service, "visit").await;
    let marco = app.id(&org, Kind::Practitioner, "marco").await;
    let confirm = |start: &str| {
        format!(
            "/o/two/portal/book/{visit}/confirm?practitioner={marco}&start={}",
            start.replace('+', "%2B")
        )
    };
    let open = ada.get(&confirm("2026-03-02T08:00:00-08:00")).await;
    assert_eq!(open.status, StatusCode::OK);
    assert!(
        open.contains("Monday 2 March 2026, 08:00")
            && open.contains("Vancouver time (PST, UTC-08:00)")
            && open.contains("Vancouver Kitsilano")
            && open.contains("2400 W 4th Ave")
            && open.contains("+1 604 555 0199")
            && open.contains("Book it"),
        "{}",
        open.body
    );
    // A time Marco does not work: no "Book it", the reason in plain words.
    let closed = ada.get(&confirm("2026-03-02T03:00:00-08:00")).await;
    assert!(!closed.contains("Book it"), "{}", closed.body);
    assert!(
        closed.contains("That time is not offered online"),
        "{}",
        closed.body
    );
    assert!(!closed.contains("someone else"));
    // Booked by Ada, the same time is hers: she is told so, not "someone else".
    let booked = ada
        .post_form(
            &format!("/o/two/portal/book/{visit}"),
            &[
                ("practitioner", &marco.to_string()),
                ("start", "2026-03-02T08:00:00-08:00"),
            ],
        )
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    let again = ada.get(&confirm("2026-03-02T08:00:00-08:00")).await;
    assert!(
        again.contains("You already have this time booked") && !again.contains("Book it"),
        "{}",
        again.body
    );
    // The appointment and the email say where, with the address; the calendar's
    // LOCATION is the clinic and its address.
    let page = ada.get(&booked.location()).await;
    assert!(
        page.contains("Vancouver Kitsilano")
            && page.contains("2400 W 4th Ave")
            && page.contains("08:00")
            && page.contains("Vancouver time (PST, UTC"),
        "{}",
        page.body
    );
    let email = &app.mail("ada@example.com").await[0];
    assert!(
        email.body_text.contains(
            "When:  Mon 2 Mar 2026, 08:00 PST (UTC-08:00)\n       Vancouver time (PST)\n\
             Where: Vancouver Kitsilano\n       2400 W 4th Ave\n       Vancouver BC\n       \
             Phone +1 604 555 0199"
        ),
        "{}",
        email.body_text
    );
    let ics = email.ics.as_deref().unwrap();
    assert!(
        ics.contains("LOCATION:Vancouver Kitsilano\\, 2400 W 4th Ave\\, Vancouver BC"),
        "{ics}"
    );
    app.stop().await;
}

async fn video_appointments_are_offered_booked_and_told_as_video(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.clock.set("2026-03-01T12:00:00Z".parse().unwrap());
    let (org, staff, ada) = setup(&app).await;
    let talk = app.id(&org, Kind::Service, "talk").await;
    let visit = app.id(&org, Kind::Service, "visit").await;
    let marco = app.id(&org, Kind::Practitioner, "marco").await;
    // The choice is offered only for a service that may be held by video.
    let talk_page = ada
        .get(&format!("/o/two/portal/book/{talk}?from=2026-03-02"))
        .await;
    assert!(
        talk_page.contains("name=\"mode\" value=\"video\""),
        "{}",
        talk_page.body
    );
    let visit_page = ada
        .get(&format!("/o/two/portal/book/{visit}?from=2026-03-02"))
        .await;
    assert!(!visit_page.contains("name=\"mode\" value=\"video\""));
    let services = ada
        .api(Method::GET, "/api/v1/orgs/two/portal/services", None)
        .await
        .json();
    let offers = |id: i64| {
        services
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()["offers_video"]
            .clone()
    };
    assert_eq!(offers(talk), json!(true));
    assert_eq!(offers(visit), json!(false));
    // By video, the physio service has no slots (its schedule types allow none)…
    let none = ada
        .api(
            Method::GET,
            &format!("/api/v1/orgs/two/portal/slots?service={visit}&from=2026-03-02&to=2026-03-08&mode=video"),
            None,
        )
        .await
        .json();
    assert_eq!(none, json!([]));
    // …and counselling has its Tuesday ones.
    let video = ada
        .api(
            Method::GET,
            &format!("/api/v1/orgs/two/portal/slots?service={talk}&from=2026-03-02&to=2026-03-08&mode=video"),
            None,
        )
        .await
        .json();
    assert_eq!(video[0]["start"], "2026-03-03T10:00:00-08:00", "{video}");
    let page = ada
        .get(&format!(
            "/o/two/portal/book/{talk}?from=2026-03-02&mode=video"
        ))
        .await;
    assert!(
        page.contains("mode=video"),
        "the confirm links keep the mode"
    );
    let confirm = ada
        .get(&format!(
            "/o/two/portal/book/{talk}/confirm?practitioner={marco}&start=2026-03-03T10:00:00-08:00&mode=video"
        ))
        .await;
    assert!(
        confirm.contains("Video appointment") && !confirm.contains("2400 W 4th Ave"),
        "{}",
        confirm.body
    );
    let booked = ada
        .api(
            Method::POST,
            "/api/v1/orgs/two/portal/appointments",
            Some(json!({"service": talk, "practitioner": marco,
                        "start": "2026-03-03T10:00:00-08:00", "telehealth": true})),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let a = booked.json();
    assert_eq!(a["telehealth"], true);
    assert_eq!(a["video_link"], "https://meet.example.com/two");
    let shown = ada
        .get(&format!("/o/two/portal/appointments/{}", a["id"]))
        .await;
    assert!(
        shown.contains("Video appointment") && shown.contains("https://meet.example.com/two"),
        "{}",
        shown.body
    );
    let email = &app.mail("ada@example.com").await[0];
    assert!(
        email.body_text.contains(
            "Video appointment, from your own device: join at https://meet.example.com/two"
        ) && !email.body_text.contains("Vancouver Kitsilano,"),
        "{}",
        email.body_text
    );
    let ics = email.ics.as_deref().unwrap();
    assert!(
        ics.contains("URL:https://meet.example.com/two")
            && ics.contains("LOCATION:https://meet.example.com/two"),
        "{ics}"
    );
    // Staff see the same appointment as video, at the same clinic.
    let staff_view = staff
        .api(
            Method::GET,
            &format!("/api/v1/orgs/two/appointments/{}", a["id"]),
            None,
        )
        .await
        .json();
    assert_eq!(staff_view["clinic_name"], a["clinic_name"], "{staff_view}");
    // In person at a video-only time is refused with the reason, nothing booked.
    let in_person = ada
        .api(
            Method::POST,
            "/api/v1/orgs/two/portal/appointments",
            Some(json!({"service": visit, "practitioner": marco,
                        "start": "2026-03-03T10:30:00-08:00", "telehealth": true})),
        )
        .await;
    assert_eq!(in_person.status, StatusCode::CONFLICT, "{}", in_person.body);
    app.stop().await;
}

async fn every_appointment_names_one_clinic_for_staff_and_patient(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.clock.set("2026-03-01T12:00:00Z".parse().unwrap());
    let (org, staff, ada) = setup(&app).await;
    let marco = app.id(&org, Kind::Practitioner, "marco").await;
    let patient = app.id(&org, Kind::Patient, "ada").await;
    // Overridden, outside every block, with no schedule type: Marco's availability
    // record names no clinic, so his home clinic (Vancouver) — stored, not guessed later.
    let booked = staff
        .api(
            Method::POST,
            "/api/v1/orgs/two/appointments",
            Some(json!({"practitioner": marco, "patient": patient,
                        "start": "2026-03-04T15:00:00-08:00", "duration_minutes": 30,
                        "override_reason": "squeezed in"})),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let id = booked.json()["id"].as_i64().unwrap();
    let stored = {
        let mut conn = app.db.conn().await.unwrap();
        store::appointment::get(conn.exec(), org.id, id)
            .await
            .unwrap()
    };
    let vancouver = app.id(&org, Kind::Clinic, "vancouver").await;
    assert_eq!(stored.clinic_id, Some(vancouver));
    let mine = ada
        .api(
            Method::GET,
            &format!("/api/v1/orgs/two/portal/appointments/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(mine["clinic_name"], "Vancouver Kitsilano");
    assert_eq!(mine["timezone"], "America/Vancouver");
    assert_eq!(mine["start"], "2026-03-04T15:00:00-08:00");
    app.stop().await;
}

/// What an outside review found (issue 13): a video link is saved as checked, and
/// leaving it out of a save keeps it; video times are not hidden by a clinic choice the
/// page does not show; another organisation's practitioner is not found; an
/// organisation cannot claim the host name it was reached on.
async fn what_the_review_found_stays_fixed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.clock.set("2026-03-01T12:00:00Z".parse().unwrap());
    let (org, _staff, ada) = setup(&app).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let marco = app.id(&org, Kind::Practitioner, "marco").await;
    let talk = app.id(&org, Kind::Service, "talk").await;
    let toronto = app.id(&org, Kind::Clinic, "toronto").await;
    // A link with a line break in it is refused, naming the field; nothing changes.
    let path = format!("/api/v1/orgs/two/practitioners/{marco}");
    let mut body = admin.api(Method::GET, &path, None).await.json();
    assert_eq!(body["video_link"], "", "the API shows the link");
    let fields = |b: &serde_json::Value| {
        json!({"name": b["name"], "type_id": b["type_id"], "home_clinic_id": b["home_clinic_id"],
               "email": b["email"], "active": b["active"], "bookable_in_portal": b["bookable_in_portal"]})
    };
    let mut put = fields(&body);
    put["video_link"] = json!("https://meet.example.com/x\r\nBcc: victim@example.com");
    let refused = admin.api(Method::PUT, &path, Some(put)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["field"], "video_link");
    let mut put = fields(&body);
    put["video_link"] = json!("https://MEET.example.com/marco");
    body = admin.api(Method::PUT, &path, Some(put)).await.json();
    assert_eq!(
        body["video_link"], "https://meet.example.com/marco",
        "saved as parsed"
    );
    // A save that leaves the link out keeps it.
    let mut rename = fields(&body);
    rename["name"] = json!("Marco A. Silva");
    let renamed = admin.api(Method::PUT, &path, Some(rename)).await.json();
    assert_eq!(renamed["video_link"], "https://meet.example.com/marco");
    let mut settings = admin
        .api(Method::GET, "/api/v1/orgs/two/settings", None)
        .await
        .json();
    settings.as_object_mut().unwrap().remove("video_link");
    let saved = admin
        .api(Method::PUT, "/api/v1/orgs/two/settings", Some(settings))
        .await
        .json();
    assert_eq!(saved["video_link"], "https://meet.example.com/two");
    // Video mode with a clinic chosen before: the video times are there all the same.
    let video = ada
        .get(&format!(
            "/o/two/portal/book/{talk}?from=2026-03-03&mode=video&clinic={toronto}"
        ))
        .await;
    assert!(video.contains(">10:00"), "{}", video.body);
    // Another organisation's practitioner: not found, not an empty week.
    let other = app.import("other", &two_zones()).await;
    let theirs = app.id(&other, Kind::Practitioner, "marco").await;
    let page = ada
        .get(&format!("/o/two/portal/book/{talk}?practitioner={theirs}"))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let api = ada
        .api(
            Method::GET,
            &format!("/api/v1/orgs/two/portal/slots?service={talk}&from=2026-03-02&to=2026-03-08&practitioner={theirs}"),
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    // The book's list too: another organisation's clinic or practitioner is not found.
    let their_clinic = app.id(&other, Kind::Clinic, "vancouver").await;
    for query in [
        format!("clinic={their_clinic}"),
        format!("practitioner={theirs}"),
    ] {
        let listed = admin
            .api(
                Method::GET,
                &format!("/api/v1/orgs/two/appointments?from=2026-03-02&{query}"),
                None,
            )
            .await;
        assert_eq!(
            listed.status,
            StatusCode::NOT_FOUND,
            "{query}: {}",
            listed.body
        );
    }
    // The slots' query parameters are documented as query parameters.
    let openapi = app.client().get("/api/openapi.json").await.json();
    let params = &openapi["paths"]["/api/v1/orgs/{slug}/portal/slots"]["get"]["parameters"];
    for p in params.as_array().unwrap() {
        if p["name"] != "slug" {
            assert_eq!(p["in"], "query", "{p}");
        }
    }
    // The name a request came in on serves every organisation: it cannot be claimed.
    app.staff(&org, "owner@two.example", Role::Admin).await;
    let shared = app.client_at("portal.shared.example");
    let signed = shared
        .sign_in("two", "owner@two.example", crate::support::PASSWORD)
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let mut claim = shared
        .api(Method::GET, "/api/v1/orgs/two/settings", None)
        .await
        .json();
    claim["host"] = json!("portal.shared.example");
    let taken = shared
        .api(
            Method::PUT,
            "/api/v1/orgs/two/settings",
            Some(claim.clone()),
        )
        .await;
    assert_eq!(
        taken.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        taken.body
    );
    assert_eq!(taken.json()["error"]["field"], "host");
    // From another address the same name is the organisation's own to give.
    let given = admin
        .api(Method::PUT, "/api/v1/orgs/two/settings", Some(claim))
        .await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    app.stop().await;
}

both!(
    what_the_review_found_stays_fixed,
    mixed_zones_are_grouped_by_clinic_and_labelled,
    the_confirm_page_checks_the_time_and_says_where,
    video_appointments_are_offered_booked_and_told_as_video,
    every_appointment_names_one_clinic_for_staff_and_patient,
);
