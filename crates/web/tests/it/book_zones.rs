//! The appointment book over clinics in two zones: one time axis, in a zone staff
//! choose among the organisation's; every appointment and availability block in the row
//! of its instant on that clock, and those of the other zone labelled with their own
//! local time, in the day and week views, across the spring-forward night; the
//! appointments API reading dates in the zone asked for.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use slot_engine::Scenario;
use store::keys::Kind;
use store::staff::Role;

use crate::book::{id, scenario};
use crate::both;
use crate::support::{Backend, Page, TestApp};

/// Downtown in Toronto and Kitsilano in Vancouver. Christine works at Downtown (and by
/// video), Marco at Kitsilano; each has an appointment on Monday 2 March 2026, Marco a
/// late one that evening (Tuesday already in Toronto) and one on the night the clocks
/// go forward (Sunday 8 March). The test clock's today is Sunday 1 March.
pub(crate) fn two_zones() -> Scenario {
    scenario(
        br#"{
      "version": 1,
      "settings": {"slot_step_minutes": 15},
      "clinics": [
        {"id": "downtown", "name": "Downtown", "timezone": "America/Toronto"},
        {"id": "kits", "name": "Kitsilano", "timezone": "America/Vancouver"}],
      "schedule_types": [
        {"id": "physio", "name": "Physiotherapy", "clinic": "downtown", "default_duration_minutes": 30},
        {"id": "physio-van", "name": "Physio Vancouver", "clinic": "kits", "default_duration_minutes": 30},
        {"id": "video", "name": "Video visit", "default_duration_minutes": 30, "telehealth": true}],
      "practitioners": [
        {"id": "christine", "name": "Christine Roy", "type": "physiotherapist", "home_clinic": "downtown",
         "schedule_types": ["physio", "video"],
         "availability": [{"start_date": "2026-01-05",
           "blocks": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "12:00", "schedule_type": "physio"},
                      {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "13:00", "end": "17:00", "schedule_type": "video"}]}]},
        {"id": "marco", "name": "Marco Silva", "type": "physiotherapist", "home_clinic": "kits",
         "schedule_types": ["physio-van"],
         "availability": [{"start_date": "2026-01-05",
           "blocks": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "15:00", "schedule_type": "physio-van"}]}]}],
      "services": [
        {"id": "visit", "name": "Physio visit", "duration_minutes": 30, "book_from_portal": true,
         "schedule_types": ["physio", "physio-van"]},
        {"id": "video-visit", "name": "Video check-in", "duration_minutes": 30, "book_from_portal": true,
         "schedule_types": ["video"]}],
      "patients": [
        {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
        {"id": "bo", "first_name": "Bo", "last_name": "Reyes", "email": "bo@example.com"},
        {"id": "cy", "first_name": "Cy", "last_name": "Moss", "email": "cy@example.com"},
        {"id": "di", "first_name": "Di", "last_name": "Park", "email": "di@example.com"}],
      "appointments": [
        {"practitioner": "christine", "patient": "ada", "schedule_type": "physio",
         "start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T09:30:00-05:00"},
        {"practitioner": "marco", "patient": "bo", "schedule_type": "physio-van",
         "start": "2026-03-02T13:00:00-08:00", "end": "2026-03-02T13:30:00-08:00"},
        {"practitioner": "marco", "patient": "cy", "schedule_type": "physio-van",
         "start": "2026-03-02T22:00:00-08:00", "end": "2026-03-02T22:30:00-08:00"},
        {"practitioner": "marco", "patient": "di", "schedule_type": "physio-van",
         "start": "2026-03-08T01:00:00-08:00", "end": "2026-03-08T01:30:00-08:00"}]
    }"#,
        |_| {},
    )
}

/// The HTML of the book's row labelled `label` (to its end), which must exist.
fn row<'p>(page: &'p Page, label: &str) -> &'p str {
    let head = format!("<th scope=\"row\">{label}</th>");
    let at = page
        .body
        .find(&head)
        .unwrap_or_else(|| panic!("no row {label} in {}", page.body));
    let rest = &page.body[at..];
    &rest[..rest.find("</tr>").unwrap()]
}

/// The appointment item of `patient`: its time on the axis and, in brackets, its own.
fn item(axis_time: &str, own: Option<&str>, patient: &str) -> String {
    match own {
        Some(own) => format!(
            "<span class=\"time\">{axis_time}</span> <span class=\"local-time\">({own})</span> <strong>{patient}</strong>"
        ),
        None => format!("<span class=\"time\">{axis_time}</span> <strong>{patient}</strong>"),
    }
}

async fn the_day_view_reads_one_zone_and_labels_the_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;

    // The default axis: the first clinic's zone (Downtown, Toronto).
    let day = client.get("/o/acme/admin/book?date=2026-03-02").await;
    assert_eq!(day.status, StatusCode::OK, "{}", day.body);
    assert!(day.contains("Times in America/Toronto."));
    assert!(day.contains(
        "Appointments and availability at clinics in America/Vancouver sit at their America/Toronto time and also say their own local time."
    ));
    assert!(day.contains("<label for=\"zone\">Times in</label>"));
    assert!(day.contains(
        "<option value=\"America/Toronto\" selected>America/Toronto (Downtown)</option>"
    ));
    assert!(
        day.contains("<option value=\"America/Vancouver\">America/Vancouver (Kitsilano)</option>")
    );
    // Christine's 09:00 in Toronto is in the 09:00 row as it is.
    assert!(row(&day, "09:00").contains(&item("09:00–09:30", None, "Ada Lane")));
    // Marco's 13:00 in Vancouver is 16:00 in Toronto: in that row, saying its own time.
    assert!(!row(&day, "13:00").contains("Bo Reyes"));
    let four = row(&day, "16:00");
    assert!(
        four.contains(&item(
            "16:00–16:30",
            Some("13:00–13:30 Vancouver time"),
            "Bo Reyes"
        )),
        "{four}"
    );
    assert!(four.contains("<span class=\"muted-in\">Kitsilano</span>"));
    // Marco's availability, 09:00–15:00 in Vancouver, begins at 12:00 in Toronto and
    // says so in its first free row.
    let marco_block = "09:00–15:00 Vancouver time";
    assert!(
        row(&day, "12:00").contains(&format!("<span class=\"av-note\">{marco_block}</span>")),
        "{}",
        row(&day, "12:00")
    );
    assert!(day.contains(&format!(
        "title=\"Physio Vancouver (online), {marco_block} at Kitsilano\""
    )));
    assert!(!row(&day, "11:45").contains("Physio Vancouver"));
    // His evening appointment is Tuesday in Toronto: not on Monday's page.
    assert!(!day.contains("Cy Moss"));
    let tuesday = client.get("/o/acme/admin/book?date=2026-03-03").await;
    assert!(row(&tuesday, "01:00").contains(&item(
        "01:00–01:30",
        Some("Mon 22:00–22:30 Vancouver time"),
        "Cy Moss"
    )));

    // The Vancouver axis, chosen: now Christine's appointment carries its own time.
    let van = client
        .get("/o/acme/admin/book?date=2026-03-02&zone=America/Vancouver")
        .await;
    assert_eq!(van.status, StatusCode::OK, "{}", van.body);
    assert!(van.contains("Times in America/Vancouver."));
    assert!(van.contains(
        "<option value=\"America/Vancouver\" selected>America/Vancouver (Kitsilano)</option>"
    ));
    assert!(row(&van, "06:00").contains(&item(
        "06:00–06:30",
        Some("09:00–09:30 Toronto time"),
        "Ada Lane"
    )));
    assert!(row(&van, "13:00").contains(&item("13:00–13:30", None, "Bo Reyes")));
    assert!(row(&van, "22:00").contains(&item("22:00–22:30", None, "Cy Moss")));
    // Christine's availability, 09:00–12:00 in Toronto, is 06:00–09:00 here: its first
    // row free of appointments says so.
    assert!(
        row(&van, "06:30").contains("<span class=\"av-note\">09:00–12:00 Toronto time</span>"),
        "{}",
        row(&van, "06:30")
    );
    assert!(van.contains("title=\"Physiotherapy (online), 09:00–12:00 Toronto time at Downtown\""));
    // Links keep the zone chosen.
    assert!(
        van.contains(
            "href=\"/o/acme/admin/book?view=day&#38;date=2026-03-03&#38;zone=America/Vancouver\""
        ),
        "{}",
        van.body
    );

    // One clinic shown: its zone, no choice, nothing else to label.
    let kits = id(&app, &org, Kind::Clinic, "kits").await;
    let only = client
        .get(&format!(
            "/o/acme/admin/book?date=2026-03-02&clinic={kits}&zone=America/Toronto"
        ))
        .await;
    assert_eq!(only.status, StatusCode::OK);
    assert!(only.contains("Times in America/Vancouver."));
    assert!(!only.contains("id=\"zone\""));
    assert!(!only.contains("local-time"));
    assert!(row(&only, "13:00").contains(&item("13:00–13:30", None, "Bo Reyes")));

    // A zone that is none of the organisation's clinics' is refused, naming the field.
    for bad in ["Europe/London", "Mars/Olympus"] {
        let page = client
            .get(&format!("/o/acme/admin/book?date=2026-03-02&zone={bad}"))
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(page.contains("zone"), "{}", page.body);
    }
    // Another organisation's clinic is not found.
    let other = app.import("other", &two_zones()).await;
    let theirs = id(&app, &other, Kind::Clinic, "kits").await;
    let page = client
        .get(&format!(
            "/o/acme/admin/book?date=2026-03-02&clinic={theirs}"
        ))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn the_week_view_reads_one_zone_across_the_spring_forward_night(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    // Monday 2 to Sunday 8 March: the clocks go forward on Sunday, in Toronto at 07:00
    // UTC and in Vancouver at 10:00 UTC. Every practitioner's week (a week is one
    // practitioner's unless all are asked for).
    let week = client
        .get("/o/acme/admin/book?view=week&date=2026-03-04&practitioner=all")
        .await;
    assert_eq!(week.status, StatusCode::OK, "{}", week.body);
    assert!(week.contains("<h2>Week of Monday 2 March 2026</h2>"));
    assert!(week.contains("Times in America/Toronto."));
    assert!(row(&week, "09:00").contains(&item("09:00–09:30", None, "Ada Lane")));
    assert!(row(&week, "16:00").contains(&item(
        "16:00–16:30",
        Some("13:00–13:30 Vancouver time"),
        "Bo Reyes"
    )));
    assert!(row(&week, "01:00").contains(&item(
        "01:00–01:30",
        Some("Mon 22:00–22:30 Vancouver time"),
        "Cy Moss"
    )));
    // 01:00 PST in Vancouver is 09:00 UTC: 05:00 EDT in Toronto, four hours apart
    // that night, where a fixed difference would put it at 04:00.
    assert!(row(&week, "05:00").contains(&item(
        "05:00–05:30",
        Some("01:00–01:30 Vancouver time"),
        "Di Park"
    )));
    assert!(!row(&week, "04:00").contains("Di Park"));
    // The list under the grid says the same.
    assert!(week.contains("Sun 8 Mar · Marco Silva: "));

    // The same week on the Vancouver axis.
    let van = client
        .get("/o/acme/admin/book?view=week&date=2026-03-04&practitioner=all&zone=America/Vancouver")
        .await;
    assert!(van.contains("Times in America/Vancouver."));
    assert!(row(&van, "01:00").contains(&item("01:00–01:30", None, "Di Park")));
    assert!(row(&van, "06:00").contains(&item(
        "06:00–06:30",
        Some("09:00–09:30 Toronto time"),
        "Ada Lane"
    )));
    assert!(van.contains(
        "href=\"/o/acme/admin/book?view=week&#38;date=2026-03-11&#38;practitioner=all&#38;zone=America/Vancouver\""
    ));
    // The day view of the spring-forward day itself.
    let sunday = client.get("/o/acme/admin/book?date=2026-03-08").await;
    assert!(row(&sunday, "05:00").contains("Di Park"));
    app.stop().await;
}

async fn the_api_reads_dates_in_the_zone_asked_for(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let patients = |page: &Page| -> Vec<String> {
        let list: Value = page.json();
        list.as_array()
            .unwrap()
            .iter()
            .map(|a| a["patient_name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Monday in Toronto ends at 21:00 in Vancouver: Cy's 22:00 is Tuesday there.
    let toronto = client
        .api(
            Method::GET,
            "/api/v1/orgs/acme/appointments?from=2026-03-02",
            None,
        )
        .await;
    assert_eq!(toronto.status, StatusCode::OK, "{}", toronto.body);
    assert_eq!(patients(&toronto), ["Ada Lane", "Bo Reyes"]);
    let vancouver = client
        .api(
            Method::GET,
            "/api/v1/orgs/acme/appointments?from=2026-03-02&zone=America/Vancouver",
            None,
        )
        .await;
    assert_eq!(patients(&vancouver), ["Ada Lane", "Bo Reyes", "Cy Moss"]);
    // Each answer is in its clinic's own offset.
    let cy = &vancouver.json()[2];
    assert_eq!(cy["start"], "2026-03-02T22:00:00-08:00");
    assert_eq!(cy["timezone"], "America/Vancouver");
    assert_eq!(cy["clinic_name"], "Kitsilano");
    let bad = client
        .api(
            Method::GET,
            "/api/v1/orgs/acme/appointments?from=2026-03-02&zone=Europe/London",
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["field"], "zone");
    app.stop().await;
}

both!(
    the_day_view_reads_one_zone_and_labels_the_other,
    the_week_view_reads_one_zone_across_the_spring_forward_night,
    the_api_reads_dates_in_the_zone_asked_for,
);
