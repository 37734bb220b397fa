//! The audit log's page and API (issue 13): who by name, when in the organisation's
//! zone, what changed from what to what; filters by person, kind, action and dates,
//! each refused naming its field when it makes no sense; paging that later entries do
//! not disturb; admins only. And the proof that every change a staff route makes is
//! in the log: every state-changing route of the security matrix (which names every
//! route the server has) is made by an admin, and whatever it changed is audited;
//! bookings and cancels through FHIR are audited with the API key.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::security::{Who, World, all_routes, world};
use crate::support::{Backend, Client, Page, TestApp, basic_scenario};

/// A page of the log through the API (`query` without its `?`), which must answer.
async fn log(client: &Client, slug: &str, query: &str) -> Value {
    let page = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/{slug}/audit?{query}"),
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
    page.json()
}

/// The ids of a page's entries.
fn ids(page: &Value) -> Vec<i64> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

/// The staff id of the user `client` is signed in as.
async fn me(client: &Client, slug: &str) -> i64 {
    let session = client
        .api(Method::GET, &format!("/api/v1/orgs/{slug}/session"), None)
        .await
        .json();
    session["staff"]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no staff id in {session}"))
}

async fn the_log_says_who_when_and_what_changed_from_what(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic_scenario()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let physio = app.id(&org, Kind::ScheduleType, "physio").await;
    let renamed = admin
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/schedule-types/{physio}"),
            Some(json!({"name": "Physio and rehab", "default_duration_minutes": 45})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);

    let page = log(&admin, "acme", "").await;
    let entry = &page["entries"][0];
    assert_eq!(entry["action"], "schedule_type.update");
    assert_eq!(entry["action_label"], "Schedule type changed");
    // Who by name, never `staff:3`.
    assert_eq!(entry["who"], "admin-acme");
    assert_eq!(entry["actor_name"], "admin-acme");
    assert!(entry["actor"].as_str().unwrap().starts_with("staff:"));
    // When: the test clock, 2026-03-01 12:00 UTC, in Toronto, unlabelled (one zone).
    assert_eq!(entry["at"], "2026-03-01T07:00:00-05:00");
    assert_eq!(entry["at_text"], "Sun 1 Mar 2026, 07:00");
    assert_eq!(page["zone"], "America/Toronto");
    assert_eq!(page["zone_labelled"], false);
    // What: the schedule type by name, linked; what changed, from what to what.
    assert_eq!(entry["subject"], "Physio and rehab");
    assert_eq!(
        entry["link"],
        format!("/o/acme/admin/schedule-types/{physio}")
    );
    let changes = entry["changes"].as_array().unwrap();
    let change = |field: &str| {
        changes
            .iter()
            .find(|c| c["field"] == field)
            .unwrap_or_else(|| panic!("{field} in {changes:?}"))
    };
    assert_eq!(change("name")["before"], "Physiotherapy");
    assert_eq!(change("name")["after"], "Physio and rehab");
    assert_eq!(change("default_duration_minutes")["before"], "30");
    assert_eq!(change("default_duration_minutes")["after"], "45");
    assert!(
        changes.iter().all(|c| c["field"] != "telehealth"),
        "unchanged fields are not told: {changes:?}"
    );
    assert!(
        entry["summary"]
            .as_str()
            .unwrap()
            .contains("Name: Physiotherapy → Physio and rehab"),
        "{entry}"
    );

    // The page says the same, with the admin navigation's link to it.
    let html = admin.get("/o/acme/admin/audit").await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.contains(r#"href="/o/acme/admin/audit" aria-current="page""#));
    for text in [
        "Schedule type changed",
        "admin-acme",
        "Sun 1 Mar 2026, 07:00",
        "<del>Physiotherapy</del> → <ins>Physio and rehab</ins>",
        "Times are in America/Toronto.",
    ] {
        assert!(html.contains(text), "{text} in {}", html.body);
    }
    // The person by name: `staff:N` only in the link that filters by them.
    assert!(!html.contains(">staff:"), "{}", html.body);

    // A patient's booking: the patient by name, and a link to the appointment's own
    // history.
    let setup = admin.get("/o/acme/admin/setup").await;
    assert!(setup.contains(r#"href="/o/acme/admin/audit""#));
    app.clock.advance(3600);
    let mut tx = app.db.begin().await.unwrap();
    let patient = store::patient::create(
        &mut tx,
        org.id,
        &store::patient::PatientInput {
            first_name: "Ada".into(),
            last_name: "Lane".into(),
            email: "ada@example.com".into(),
            phone: String::new(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let ada = app.portal_patient(&org, &admin, &patient.key).await;
    let service = app.id(&org, Kind::Service, "initial").await;
    let practitioner = app.id(&org, Kind::Practitioner, "christine").await;
    let booked = ada
        .api(
            Method::POST,
            "/api/v1/orgs/acme/portal/appointments",
            Some(json!({"service": service, "practitioner": practitioner,
                        "start": "2026-03-04T09:00:00-05:00"})),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let appointment = booked.json()["id"].as_i64().unwrap();
    let page = log(&admin, "acme", "entity=appointment").await;
    let entry = &page["entries"][0];
    assert_eq!(entry["action_label"], "Booked");
    assert_eq!(entry["who"], "Ada Lane");
    assert_eq!(entry["actor"], format!("patient:{}", patient.id));
    assert_eq!(
        entry["history"],
        format!("/o/acme/admin/book/appointments/{appointment}")
    );
    assert_eq!(entry["at_text"], "Sun 1 Mar 2026, 08:00");
    let html = admin.get("/o/acme/admin/audit?entity=appointment").await;
    assert!(html.contains(&format!(
        r#"href="/o/acme/admin/book/appointments/{appointment}""#
    )));
    assert!(html.contains("Ada Lane"));

    // A second zone: every time says its zone.
    let vancouver = admin
        .created(
            "/api/v1/orgs/acme/clinics",
            json!({"name": "Kitsilano", "timezone": "America/Vancouver"}),
        )
        .await;
    let page = log(&admin, "acme", "").await;
    assert_eq!(page["zone"], "America/Toronto");
    assert_eq!(page["zone_labelled"], true);
    let entry = &page["entries"][0];
    assert_eq!(entry["action_label"], "Clinic added");
    assert_eq!(entry["subject"], "Kitsilano");
    assert_eq!(entry["at_text"], "Sun 1 Mar 2026, 08:00 EST");
    let html = admin.get("/o/acme/admin/audit").await;
    assert!(html.contains("Sun 1 Mar 2026, 08:00 EST"), "{}", html.body);
    assert!(html.contains("each with its abbreviation"));
    // A deleted clinic is still told by the name it had.
    let id = vancouver["id"].as_i64().unwrap();
    let deleted = admin
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/clinics/{id}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let entry = &log(&admin, "acme", "").await["entries"][0];
    assert_eq!(entry["action_label"], "Clinic deleted");
    assert_eq!(entry["subject"], "Kitsilano (deleted)");
    assert_eq!(entry["link"], Value::Null);
    app.stop().await;
}

async fn filters_narrow_the_log_and_pages_hold_still(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic_scenario()).await;
    let other = app.import("other", &basic_scenario()).await;
    let first = app.signed_in(&org, Role::Admin).await;
    app.staff(&org, "second@example.com", Role::Admin).await;
    let second = app.client();
    let signed = second
        .sign_in("acme", "second@example.com", crate::support::PASSWORD)
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let theirs = app.signed_in(&other, Role::Admin).await;
    let clinic = app.id(&org, Kind::Clinic, "toronto").await;
    // Three holidays a day apart by the first admin, two by the second, one rename; the
    // other organisation's changes never show.
    let holiday = |client: &Client, date: &str| {
        let client = client.clone();
        let date = date.to_owned();
        async move {
            let added = client
                .api(
                    Method::POST,
                    &format!("/api/v1/orgs/acme/clinics/{clinic}/holidays"),
                    Some(json!({"date": date})),
                )
                .await;
            assert_eq!(added.status, StatusCode::OK, "{}", added.body);
        }
    };
    // A day on, in three steps: each client's session is used within its 12 idle
    // hours.
    let next_day = async || {
        for _ in 0..3 {
            app.clock.advance(8 * 3600);
            me(&first, "acme").await;
            me(&second, "acme").await;
            me(&theirs, "other").await;
        }
    };
    holiday(&first, "2026-07-01").await;
    next_day().await;
    holiday(&second, "2026-07-02").await;
    next_day().await;
    holiday(&first, "2026-07-03").await;
    let their_clinic = app.id(&other, Kind::Clinic, "toronto").await;
    let added = theirs
        .api(
            Method::POST,
            &format!("/api/v1/orgs/other/clinics/{their_clinic}/holidays"),
            Some(json!({"date": "2026-07-04"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK);
    next_day().await;
    holiday(&second, "2026-07-05").await;
    holiday(&first, "2026-07-06").await;
    let physio = app.id(&org, Kind::ScheduleType, "physio").await;
    let renamed = first
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/schedule-types/{physio}"),
            Some(json!({"name": "Physio"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);

    let everything = log(&first, "acme", "").await;
    let all = ids(&everything);
    // The import's entry, five holidays and the rename, newest first.
    assert_eq!(all.len(), 7, "{everything}");
    assert!(all.windows(2).all(|w| w[0] > w[1]));
    let entries = everything["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .all(|e| !e.to_string().contains("2026-07-04"))
    );

    let first_id = me(&first, "acme").await;
    let by_first = log(&first, "acme", &format!("actor=staff:{first_id}")).await;
    assert_eq!(ids(&by_first).len(), 4);
    assert!(
        by_first["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == format!("staff:{first_id}"))
    );
    assert_eq!(ids(&log(&first, "acme", "actor=import").await).len(), 1);
    assert_eq!(ids(&log(&first, "acme", "entity=clinic").await).len(), 5);
    assert_eq!(
        ids(&log(
            &first,
            "acme",
            "entity=schedule_type&action=schedule_type.update"
        )
        .await)
        .len(),
        1
    );
    assert_eq!(
        ids(&log(
            &first,
            "acme",
            &format!("actor=staff:{first_id}&action=clinic.add_holiday")
        )
        .await)
        .len(),
        3
    );
    // Dates in the organisation's zone, both ends included: the clock began at
    // 2026-03-01 07:00 in Toronto and moved a day at a time.
    assert_eq!(
        ids(&log(&first, "acme", "from=2026-03-02&to=2026-03-03").await).len(),
        2
    );
    assert_eq!(ids(&log(&first, "acme", "from=2026-03-04").await).len(), 3);
    assert_eq!(ids(&log(&first, "acme", "to=2026-03-01").await).len(), 2);
    assert_eq!(
        ids(&log(&first, "acme", "from=2026-04-01").await),
        Vec::<i64>::new()
    );

    // Paging: three at a time, stable while entries are added.
    let page1 = log(&first, "acme", "limit=3").await;
    assert_eq!(ids(&page1), all[..3]);
    let before = page1["next_before"].as_i64().unwrap();
    holiday(&second, "2026-07-07").await;
    let page2 = log(&first, "acme", &format!("limit=3&before={before}")).await;
    assert_eq!(ids(&page2), all[3..6]);
    let page3 = log(
        &first,
        "acme",
        &format!("limit=3&before={}", page2["next_before"]),
    )
    .await;
    assert_eq!(ids(&page3), all[6..]);
    assert_eq!(page3["next_before"], Value::Null);
    // The page links the next page with the filters kept.
    let html = first
        .get(&format!(
            "/o/acme/admin/audit?entity=clinic&limit=2&actor=staff:{first_id}"
        ))
        .await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            "?actor=staff%3A{first_id}&#38;entity=clinic&#38;limit=2&#38;before="
        )),
        "{}",
        html.body
    );
    assert!(html.contains("Older entries"));
    assert!(html.contains("Clear the filters"));
    app.stop().await;
}

async fn bad_filters_are_refused_naming_their_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic_scenario()).await;
    let other = app.import("other", &basic_scenario()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let their_admin = app.staff(&other, "them@example.com", Role::Admin).await;
    for (query, field) in [
        ("actor=nobody", "actor"),
        ("actor=staff:abc", "actor"),
        (&format!("actor=staff:{their_admin}") as &str, "actor"),
        ("actor=patient:999999", "actor"),
        ("entity=widget", "entity"),
        ("action=clinic.explode", "action"),
        ("entity=service&action=clinic.update", "action"),
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-03-05&to=2026-03-01", "to"),
        ("before=-1", "before"),
        ("before=x", "before"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=many", "limit"),
    ] {
        let refused = admin
            .api(
                Method::GET,
                &format!("/api/v1/orgs/acme/audit?{query}"),
                None,
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            refused.body
        );
        assert_eq!(refused.json()["error"]["field"], field, "{query}");
        let page = admin.get(&format!("/o/acme/admin/audit?{query}")).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(
            page.contains(&format!(r#"id="{field}-error""#))
                || page.contains(&format!("{field}: ")),
            "{query}: {}",
            page.body
        );
        assert!(!page.contains("<table>"), "{query}: entries shown");
    }
    app.stop().await;
}

async fn only_admins_read_the_log(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic_scenario()).await;
    let other = app.import("other", &basic_scenario()).await;
    for role in [Role::FrontDesk, Role::Practitioner] {
        let client = app.signed_in(&org, role).await;
        let api = client
            .api(Method::GET, "/api/v1/orgs/acme/audit", None)
            .await;
        assert_eq!(api.status, StatusCode::FORBIDDEN, "{role:?}");
        assert_eq!(api.json()["error"]["code"], "forbidden");
        let page = client.get("/o/acme/admin/audit").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{role:?}");
        assert!(page.contains("Admin"), "{}", page.body);
        // Nor is it in their navigation.
        let home = client.get("/o/acme/admin/setup-check").await;
        if home.status == StatusCode::OK {
            assert!(!home.contains("/admin/audit"), "{role:?}");
        }
    }
    let stranger = app.client();
    assert_eq!(
        stranger
            .api(Method::GET, "/api/v1/orgs/acme/audit", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let page = stranger.get("/o/acme/admin/audit").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/o/acme/admin/signin"));
    // Another organisation's admin is nobody here.
    let theirs = app.signed_in(&other, Role::Admin).await;
    assert_eq!(
        theirs
            .api(Method::GET, "/api/v1/orgs/acme/audit", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

/// The actions no staff route makes, and why: the catalogue's other actions must each
/// be seen below.
/// Actions staff routes make whose matrix request changes nothing in this test's world
/// (a split needs dates inside one of the world's records), with where their audit
/// entries are checked instead.
const AUDITED_IN_THEIR_OWN_TESTS: &[(&str, &str)] = &[
    (
        "calendar_feed.rotate",
        "calendar_feeds.rs: a new address needs a feed that is on, and the matrix turns each off after turning it on",
    ),
    (
        "waitlist.offered",
        "waitlist.rs: an offer by hand needs a waitlist entry that suits an open time",
    ),
    (
        "appointment.block_labelled",
        "book_calendar.rs checks the entry under a block given a label",
    ),
    (
        "appointment.mark",
        "portal_change.rs: the matrix's day is before the appointment, when no mark is allowed",
    ),
    (
        "appointment.unmark",
        "portal_change.rs: an undo needs a mark first",
    ),
    (
        "appointment.restore",
        "portal_change.rs: by the matrix's undo, its earlier calls have left no availability record covering the appointment's day",
    ),
    (
        "availability.new_record_from",
        "record_splits.rs checks the entry under the record split",
    ),
    (
        "availability.temporary_change",
        "record_splits.rs checks the entry under the record split",
    ),
    (
        "organisation.set_logo",
        "logo.rs uploads a real image (the matrix posts forms, not files)",
    ),
    (
        "organisation.remove_logo",
        "logo.rs removes the logo it uploaded",
    ),
];

const NOT_BY_STAFF_ROUTES: &[(&str, &str)] = &[
    (
        "waitlist.left",
        "the patient, leaving the waitlist in the portal",
    ),
    (
        "waitlist.released",
        "the waitlist's matcher, when a hold runs out",
    ),
    (
        "organisation.import",
        "`openslot import` on the command line",
    ),
    (
        "portal.accept_invitation",
        "the patient, following an invitation",
    ),
    (
        "portal.reset_password",
        "the patient, following a reset link",
    ),
    ("portal.signup", "the patient, confirming a sign-up"),
    (
        "portal.update_details",
        "the patient, on their own account page",
    ),
    (
        "portal.start_email_change",
        "the patient, asking for a new address",
    ),
    (
        "portal.change_email",
        "the patient, following the link to the new address",
    ),
    (
        "portal.change_password",
        "the patient, on their own account page",
    ),
    (
        "appointment.book_override",
        "only when a booking needs an override",
    ),
    (
        "appointment.reschedule_override",
        "only when a move needs an override",
    ),
];

/// Every action the log's catalogue knows, read from the page's action filter.
async fn catalogue(client: &Client) -> BTreeSet<String> {
    let html = client.get("/o/alpha/admin/audit").await.body;
    let select = &html[html.find(r#"<select id="action""#).unwrap()..];
    let select = &select[..select.find("</select>").unwrap()];
    select
        .match_indices(r#"<option value=""#)
        .map(|(at, _)| {
            let rest = &select[at + 15..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// How many entries the organisation's log holds.
async fn log_length(w: &World) -> usize {
    let mut conn = w.app.db.conn().await.unwrap();
    store::audit::recent(conn.exec(), w.alpha.id, None, 1_000_000)
        .await
        .unwrap()
        .len()
}

/// What one call of `what` wrote to the log since it held `before` entries: asserts
/// every new entry is by `actor` and an action the catalogue knows, and returns their
/// actions.
async fn written(
    w: &World,
    actor: &str,
    known: &BTreeSet<String>,
    before: usize,
    what: &str,
) -> Vec<String> {
    let added = log_length(w).await - before;
    if added == 0 {
        return Vec::new();
    }
    let newest = log(&w.alpha_staff, "alpha", &format!("limit={added}")).await;
    let mut actions = Vec::new();
    for entry in newest["entries"].as_array().unwrap() {
        assert_eq!(entry["actor"], actor, "{what}: {entry}");
        let action = entry["action"].as_str().unwrap().to_owned();
        assert!(
            known.contains(&action),
            "{what}: {action} is not in the catalogue"
        );
        assert_ne!(entry["action_label"], "Changed", "{what}: {action}");
        actions.push(action);
    }
    actions
}

/// The grid editor's own form on a record's page, as the page would post it unchanged.
fn grid_form(html: &str) -> Vec<(String, String)> {
    let at = html.find(r#"id="grid-cells""#).expect("the grid form");
    let form_start = html[..at].rfind("<form").unwrap();
    let form = &html[form_start..];
    let form = &form[..form.find("</form>").unwrap()];
    let mut fields = Vec::new();
    for input in form.split("<input").skip(1) {
        let input = &input[..input.find('>').unwrap_or(input.len())];
        let attribute = |name: &str| {
            let key = format!(r#"{name}=""#);
            input.find(&key).map(|i| {
                let rest = &input[i + key.len()..];
                rest[..rest.find('"').unwrap()].to_owned()
            })
        };
        let (Some(name), Some(value)) = (attribute("name"), attribute("value")) else {
            continue;
        };
        let checkbox = input.contains(r#"type="checkbox""#);
        if name != "_csrf" && (!checkbox || input.contains(" checked")) {
            fields.push((name, value));
        }
    }
    fields
}

async fn every_change_a_staff_route_makes_is_audited(backend: Backend) {
    let w = world(backend).await;
    let admin = &w.alpha_staff;
    let actor = format!("staff:{}", me(admin, "alpha").await);
    let known = catalogue(admin).await;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let ids = &w.ids;
    let (pa, record) = (&ids.practitioner, &ids.record);
    let number = |id: &String| id.parse::<i64>().unwrap();

    // First what the matrix's own calls cannot do in its order (its bookings and moves
    // meet the times it took; its record pages come after the API deleted the record),
    // each of which must be audited.
    let before = log_length(&w).await;
    let booked = admin
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/appointments",
            Some(
                json!({"practitioner": number(pa), "patient": number(&ids.patient),
                        "service": number(&ids.service), "start": "2026-03-02T10:00:00-05:00"}),
            ),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let booked = booked.json()["id"].as_i64().unwrap();
    let moved = admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/alpha/appointments/{booked}/move"),
            Some(json!({"start": "2026-03-03T09:00:00-05:00"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let mut settings = admin
        .api(Method::GET, "/api/v1/orgs/alpha/settings", None)
        .await
        .json();
    settings["auto_accept_portal_bookings"] = json!(false);
    let saved = admin
        .api(Method::PUT, "/api/v1/orgs/alpha/settings", Some(settings))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    seen.extend(written(&w, &actor, &known, before, "booking, moving, settings").await);
    let before = log_length(&w).await;
    let pending = w
        .owner
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/portal/appointments",
            Some(
                json!({"service": number(&ids.service), "practitioner": number(pa),
                        "start": "2026-03-03T09:30:00-05:00"}),
            ),
        )
        .await;
    assert_eq!(pending.status, StatusCode::CREATED, "{}", pending.body);
    let pending = pending.json()["id"].as_i64().unwrap();
    // The patient's own booking is the patient's.
    let owner_entries = log(
        admin,
        "alpha",
        &format!("limit={}", log_length(&w).await - before),
    )
    .await;
    assert!(
        owner_entries["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"].as_str().unwrap().starts_with("patient:")),
        "{owner_entries}"
    );
    let before = log_length(&w).await;
    let declined = admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/alpha/appointments/{pending}/decline"),
            Some(json!({})),
        )
        .await;
    assert_eq!(declined.status, StatusCode::OK, "{}", declined.body);
    let editor = format!("/o/alpha/admin/practitioners/{pa}/availability/{record}");
    let page = admin.get(&editor).await;
    assert_eq!(page.status, StatusCode::OK);
    let grid = grid_form(&page.body);
    assert!(grid.iter().any(|(k, _)| k == "cell"), "{grid:?}");
    let grid: Vec<(&str, &str)> = grid.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let painted = admin.post_form(&format!("{editor}/grid"), &grid).await;
    assert_eq!(painted.status, StatusCode::SEE_OTHER, "{}", painted.body);
    let extra = admin
        .created(
            "/api/v1/orgs/alpha/schedule-types",
            json!({"name": "Extra hours"}),
        )
        .await["id"]
        .to_string();
    let assigned = admin
        .post_form(
            &format!("{editor}/schedule-types"),
            &[("schedule_type", extra.as_str())],
        )
        .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{}", assigned.body);
    let unassigned = admin
        .post_form(&format!("{editor}/schedule-types/{extra}/delete"), &[])
        .await;
    assert_eq!(
        unassigned.status,
        StatusCode::SEE_OTHER,
        "{}",
        unassigned.body
    );
    seen.extend(written(&w, &actor, &known, before, "decline, grid, schedule types").await);

    // Then every state-changing staff route of the matrix, in its order: whatever a
    // call changed is in the log; a call that wrote no entry changed nothing.
    let mut made = 0;
    for route in all_routes(ids).iter().filter(|r| {
        r.who == Who::Staff
            && r.method != Method::GET
            && !r.template.ends_with("/signout")
            && !r.template.ends_with("/session")
    }) {
        let what = format!("{} {}", route.method, route.template);
        let snapshot = w.app.snapshot(&w.alpha).await;
        let before = log_length(&w).await;
        let page = route.call(admin, "alpha").await;
        assert!(page.status.as_u16() < 500, "{what}: {}", page.body);
        let actions = written(&w, &actor, &known, before, &what).await;
        if actions.is_empty() {
            assert_eq!(
                w.app.snapshot(&w.alpha).await,
                snapshot,
                "{what} changed something and wrote no audit entry"
            );
        } else {
            made += 1;
            seen.extend(actions);
        }
    }
    assert!(made > 30, "only {made} routes changed anything");

    // Last, what the matrix cannot do to A's own rows (an admin cannot stop their own
    // account; what is still in use cannot be deleted), done to what the walk made.
    let list = |path: &'static str| async move { admin.api(Method::GET, path, None).await.json() };
    let staff = list("/api/v1/orgs/alpha/staff").await;
    let intruder = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == "intruder@example.com")
        .unwrap()["id"]
        .clone();
    let mut calls: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::PUT,
            format!("/api/v1/orgs/alpha/staff/{intruder}/active"),
            Some(json!({"active": false})),
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/alpha/staff/{intruder}/active"),
            Some(json!({"active": true})),
        ),
    ];
    for path in [
        "/api/v1/orgs/alpha/practitioners",
        "/api/v1/orgs/alpha/services",
        "/api/v1/orgs/alpha/schedule-types",
        "/api/v1/orgs/alpha/practitioner-types",
        "/api/v1/orgs/alpha/clinics",
    ] {
        for item in list(path).await.as_array().unwrap() {
            if item["name"] != "Intruder" {
                continue;
            }
            let id = &item["id"];
            if path.ends_with("/practitioners") {
                // Practitioners are not deleted: stopped and restored (on their page).
                for active in ["false", "true"] {
                    calls.push((
                        Method::POST,
                        format!("/o/alpha/admin/practitioners/{id}/active"),
                        Some(json!(active)),
                    ));
                }
            } else {
                calls.push((Method::DELETE, format!("{path}/{id}"), None));
            }
        }
    }
    for (method, path, body) in calls {
        let what = format!("{method} {path}");
        let before = log_length(&w).await;
        let page = if path.starts_with("/api/") {
            admin.api(method, &path, body).await
        } else {
            let active = body.unwrap().as_str().unwrap().to_owned();
            admin.post_form(&path, &[("active", active.as_str())]).await
        };
        assert!(
            page.status.is_success() || page.status == StatusCode::SEE_OTHER,
            "{what}: {} {}",
            page.status,
            page.body
        );
        let actions = written(&w, &actor, &known, before, &what).await;
        assert!(!actions.is_empty(), "{what} wrote no audit entry");
        seen.extend(actions);
    }

    // Every action the catalogue knows was made by a staff route and audited, but the
    // few no staff route makes.
    let exempt: BTreeSet<String> = NOT_BY_STAFF_ROUTES
        .iter()
        .chain(AUDITED_IN_THEIR_OWN_TESTS)
        .map(|(a, _)| (*a).to_owned())
        .collect();
    assert!(exempt.is_subset(&known), "{exempt:?}");
    let missing: Vec<&String> = known
        .iter()
        .filter(|a| !seen.contains(*a) && !exempt.contains(*a))
        .collect();
    assert!(
        missing.is_empty(),
        "no staff route was seen auditing {missing:?} (seen: {seen:?})"
    );
    w.app.stop().await;
}

/// A FHIR request with a bearer token and a JSON body.
async fn fhir(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> Page {
    let client = app.client();
    let request = client
        .http
        .request(method, client.url(path))
        .bearer_auth(token)
        .header("content-type", "application/fhir+json")
        .body(body.to_string());
    Client::read(request.send().await.unwrap()).await
}

async fn fhir_bookings_and_cancels_are_audited_with_the_key(backend: Backend) {
    let w = world(backend).await;
    let known = catalogue(&w.alpha_staff).await;
    let token = w
        .app
        .api_key(&w.alpha, &["schedule:read", "appointments:write"])
        .await;
    let schedule = format!("{}-{}", w.ids.practitioner, w.ids.clinic);
    let client = w.app.client();
    let slots = Client::read(
        client
            .http
            .get(client.url(&format!(
                "/o/alpha/fhir/Slot?schedule=Schedule/{schedule}&start=ge2026-03-03&start=lt2026-03-04"
            )))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await
    .json();
    let slot = slots["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = log_length(&w).await;
    let booked = fhir(
        &w.app,
        Method::POST,
        "/o/alpha/fhir/Appointment",
        &token,
        json!({"resourceType": "Appointment", "status": "booked",
               "slot": [{"reference": format!("Slot/{slot}")}],
               "participant": [{"actor": {"reference": format!("Patient/{}", w.ids.patient)}, "status": "accepted"}]}),
    )
    .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let id = booked.json()["id"].as_str().unwrap().to_owned();
    let cancelled = fhir(
        &w.app,
        Method::PATCH,
        &format!("/o/alpha/fhir/Appointment/{id}"),
        &token,
        json!({"status": "cancelled"}),
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let added = log_length(&w).await - before;
    let newest = log(&w.alpha_staff, "alpha", &format!("limit={added}")).await;
    let mut actions = Vec::new();
    for entry in newest["entries"].as_array().unwrap() {
        assert!(
            entry["actor"].as_str().unwrap().starts_with("key:"),
            "{entry}"
        );
        let action = entry["action"].as_str().unwrap().to_owned();
        assert!(known.contains(&action), "{action} is not in the catalogue");
        actions.push(action);
    }
    actions.sort();
    assert_eq!(actions, ["appointment.book", "appointment.cancel"]);
    w.app.stop().await;
}

both!(
    the_log_says_who_when_and_what_changed_from_what,
    filters_narrow_the_log_and_pages_hold_still,
    bad_filters_are_refused_naming_their_field,
    only_admins_read_the_log,
    every_change_a_staff_route_makes_is_audited,
    fhir_bookings_and_cancels_are_audited_with_the_key,
);
