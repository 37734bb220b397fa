//! Availability records and the grid editor: painting through the form the way the
//! editor posts it (with and without JavaScript), Customize Portal Availability checked
//! against the engine's slots, overlapping records, unassigned schedule types, cells
//! claimed twice, assigning from the editor, the API, tenant isolation and CSRF.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::{Date, Scenario};
use store::Organisation;
use store::keys::{self, Kind};
use store::staff::Role;
use store::window::{SlotRequest, open_slots};

use crate::both;
use crate::support::{Backend, Client, Page, TestApp};

/// One clinic, two schedule types (only `physio` assigned to Christine), a 15-minute
/// service on both, and no availability yet.
fn scenario(practitioner_name: &str) -> Scenario {
    let text = json!({
        "version": 1,
        "settings": {"resolution_minutes": 5, "slot_step_minutes": 15},
        "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto"}],
        "schedule_types": [
            {"id": "physio", "name": "Physiotherapy", "clinic": "toronto",
             "background_color": "#cfe8ff", "font_color": "#0b2a4a"},
            {"id": "massage", "name": "Massage", "clinic": null}
        ],
        "practitioners": [{"id": "christine", "name": practitioner_name, "type": "physiotherapist",
                           "home_clinic": "toronto", "schedule_types": ["physio"]}],
        "services": [{"id": "check", "name": "Quick check", "duration_minutes": 15,
                      "book_from_portal": true, "schedule_types": ["physio", "massage"]}]
    });
    Scenario::from_json(text.to_string().as_bytes()).unwrap()
}

/// The organisation's setup, with the row ids the tests need.
struct Setup {
    org: Organisation,
    christine: i64,
    physio: i64,
    massage: i64,
    service: i64,
}

async fn setup(app: &TestApp, slug: &str, practitioner_name: &str) -> Setup {
    let org = app.import(slug, &scenario(practitioner_name)).await;
    let mut conn = app.db.conn().await.unwrap();
    let id = async |conn: &mut store::Conn, kind: Kind, key: &str| {
        keys::id_of(conn.exec(), kind, org.id, key).await.unwrap()
    };
    Setup {
        christine: id(&mut conn, Kind::Practitioner, "christine").await,
        physio: id(&mut conn, Kind::ScheduleType, "physio").await,
        massage: id(&mut conn, Kind::ScheduleType, "massage").await,
        service: id(&mut conn, Kind::Service, "check").await,
        org,
    }
}

fn pages(s: &Setup) -> String {
    format!(
        "/o/{}/admin/practitioners/{}/availability",
        s.org.slug, s.christine
    )
}

fn api(s: &Setup) -> String {
    format!(
        "/api/v1/orgs/{}/practitioners/{}/availability",
        s.org.slug, s.christine
    )
}

/// Creates a record through the page's form and returns its id.
async fn create_record(client: &Client, s: &Setup, start: &str, end: &str) -> i64 {
    let created = client
        .post_form(
            &pages(s),
            &[
                ("start_date", start),
                ("end_date", end),
                ("clinic_id", ""),
                ("slot_step_minutes", "15"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    created
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Posts the grid form with these cells, as `grid.js` keeps them in sync.
async fn post_grid(
    client: &Client,
    s: &Setup,
    record: i64,
    cells: &[String],
    extra: &[(&str, &str)],
) -> Page {
    let mut fields: Vec<(&str, &str)> = cells.iter().map(|c| ("cell", c.as_str())).collect();
    fields.extend_from_slice(extra);
    client
        .post_form(&format!("{}/{record}/grid", pages(s)), &fields)
        .await
}

/// The value of every `attribute="…"` of the tags on `page` that contain `marker`.
fn attribute_values(body: &str, marker: &str, attribute: &str) -> Vec<String> {
    body.split('<')
        .filter(|tag| tag.contains(marker))
        .filter_map(|tag| {
            let at = tag.find(&format!("{attribute}=\""))? + attribute.len() + 2;
            let rest = &tag[at..];
            Some(rest[..rest.find('"')?].to_owned())
        })
        .collect()
}

/// What the no-JavaScript form posts as it stands: every hidden cell, and every ticked
/// box except those in `untick`, plus the boxes in `tick`.
fn form_cells(page: &Page, untick: &[&str], tick: &[&str]) -> Vec<String> {
    let mut cells = attribute_values(&page.body, "type=\"hidden\" name=\"cell\"", "value");
    cells.extend(
        attribute_values(&page.body, "type=\"checkbox\" name=\"cell\"", "value")
            .into_iter()
            .zip(page.body.split("type=\"checkbox\" name=\"cell\"").skip(1))
            .filter(|(value, rest)| {
                let ticked = rest[..rest.find('>').unwrap()].contains("checked");
                (ticked && !untick.contains(&value.as_str())) || tick.contains(&value.as_str())
            })
            .map(|(value, _)| value),
    );
    cells
}

/// The portal slots of the service in the week of 2026-03-02, as the engine answers.
async fn slot_starts(app: &TestApp, s: &Setup) -> Vec<String> {
    let mut conn = app.db.conn().await.unwrap();
    let mut exec = conn.exec();
    let (_, slots) = open_slots(
        &mut exec,
        &s.org,
        &SlotRequest {
            service: s.service,
            practitioners: None,
            from: Date::new(2026, 3, 2).unwrap(),
            to: Date::new(2026, 3, 8).unwrap(),
            now: "2026-03-01T12:00:00Z".parse().unwrap(),
            telehealth: false,
        },
    )
    .await
    .unwrap();
    slots.iter().map(|slot| slot.start_text()).collect()
}

/// Slot starts for the quarter hours from `from` up to `to` on a March 2026 date.
fn quarters(day: u32, from: u32, to: u32) -> Vec<String> {
    (from..to)
        .step_by(15)
        .map(|m| format!("2026-03-{day:02}T{:02}:{:02}:00-05:00", m / 60, m % 60))
        .collect()
}

async fn painted_portal_cells_are_exactly_the_engines_slots(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = setup(&app, "acme", "Christine Roy").await;
    let client = app.signed_in(&s.org, Role::Admin).await;
    let list = client.get(&pages(&s)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.contains("No availability record yet"));
    let record = create_record(&client, &s, "2026-03-01", "2026-03-31").await;

    // The editor: an ARIA grid of blocks at the slot step, one checkbox per block.
    let editor = client.get(&format!("{}/{record}", pages(&s))).await;
    assert_eq!(editor.status, StatusCode::OK);
    assert!(editor.contains("role=\"grid\""), "{}", editor.body);
    assert!(editor.contains("aria-label=\"Monday 09:30, empty\""));
    assert!(editor.contains(&format!("value=\"{}/mon/09:30-09:45\"", s.physio)));
    assert!(editor.contains("<script src=\"/static/grid.js\" defer></script>"));
    assert!(
        !editor.contains("<script>"),
        "no inline script under the CSP"
    );

    // Paint Monday and Wednesday mornings, and put part of them online, the way the
    // script posts the whole week: one hidden input per run of cells.
    let p = s.physio;
    let cells = vec![
        format!("{p}/mon/09:00-12:00"),
        format!("{p}/wed/09:00-10:30"),
        format!("{p}/wed/10:30-12:00"),
        "p/mon/09:00-10:00".to_owned(),
        "p/wed/11:00-12:30".to_owned(),
    ];
    let saved = post_grid(
        &client,
        &s,
        record,
        &cells,
        &[("portal_customised", "1"), ("layer", "portal")],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(saved.location().contains("layer=portal"));

    // Stored as compact blocks: the two mornings merge into one block, and the overlay
    // keeps only the cells inside availability.
    let one = client
        .api(Method::GET, &format!("{}/{record}", api(&s)), None)
        .await
        .json();
    assert_eq!(
        one["blocks"],
        json!([{"days": ["mon", "wed"], "start": "09:00", "end": "12:00", "schedule_type": "physio"}])
    );
    assert_eq!(
        one["portal_blocks"],
        json!([{"days": ["mon"], "start": "09:00", "end": "10:00"},
               {"days": ["wed"], "start": "11:00", "end": "12:00"}])
    );
    let mut expected = quarters(2, 9 * 60, 10 * 60);
    expected.extend(quarters(4, 11 * 60, 12 * 60));
    assert_eq!(slot_starts(&app, &s).await, expected);

    // The editor shows it in the schedule type's colours: darker when online.
    let editor = client
        .get(&format!("{}/{record}?layer=portal", pages(&s)))
        .await;
    assert!(editor.contains("aria-label=\"Monday 09:30, Physiotherapy, online\""));
    assert!(
        editor.contains("aria-label=\"Monday 10:30, Physiotherapy, in clinic only, not online\"")
    );
    assert!(editor.contains(&format!("class=\"cell painted t-{p} online\"")));
    let css = client.get(&format!("{}/colours.css", pages(&s))).await;
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert!(css.contains(&format!(".t-{p}{{--st-bg:#")));

    // Without JavaScript: the same page is a plain form. Take Monday 09:45 off the
    // portal and put Wednesday 10:45 on it by ticking boxes.
    let cells = form_cells(&editor, &["p/mon/09:45-10:00"], &["p/wed/10:45-11:00"]);
    let mut fields: Vec<(&str, &str)> = cells.iter().map(|c| ("cell", c.as_str())).collect();
    fields.extend([("portal_customised", "1"), ("layer", "portal")]);
    let saved = client
        .post_form(&format!("{}/{record}/grid", pages(&s)), &fields)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let mut expected = quarters(2, 9 * 60, 9 * 60 + 45);
    expected.extend(quarters(4, 10 * 60 + 45, 12 * 60));
    assert_eq!(slot_starts(&app, &s).await, expected);

    // Saving the Physiotherapy layer keeps the overlay it does not show.
    let editor = client
        .get(&format!("{}/{record}?layer={p}", pages(&s)))
        .await;
    let cells = form_cells(&editor, &[], &[&format!("{p}/fri/14:00-14:15")]);
    let mut fields: Vec<(&str, &str)> = cells.iter().map(|c| ("cell", c.as_str())).collect();
    fields.extend([("portal_customised", "1"), ("layer", "")]);
    let saved = client
        .post_form(&format!("{}/{record}/grid", pages(&s)), &fields)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        slot_starts(&app, &s).await,
        expected,
        "Friday is not online"
    );

    // Customised but empty: nothing online. Then back to not customised: everything.
    let saved = post_grid(
        &client,
        &s,
        record,
        &[format!("{p}/mon/09:00-12:00")],
        &[("portal_customised", "1")],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(slot_starts(&app, &s).await, Vec::<String>::new());
    let saved = post_grid(
        &client,
        &s,
        record,
        &[format!("{p}/mon/09:00-12:00"), "p/mon/09:00-09:15".into()],
        &[("portal_customised", "1"), ("reset_portal", "1")],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(slot_starts(&app, &s).await, quarters(2, 9 * 60, 12 * 60));
    let one = client
        .api(Method::GET, &format!("{}/{record}", api(&s)), None)
        .await
        .json();
    assert_eq!(one["portal_blocks"], Value::Null);

    // Who changed what is in the audit log.
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(
        conn.exec(),
        s.org.id,
        Some(("availability_record", record)),
        10,
    )
    .await
    .unwrap();
    assert_eq!(entries.last().unwrap().action, "availability.create");
    assert!(entries.iter().any(|e| e.action == "availability.grid"));
    app.stop().await;
}

async fn overlapping_records_are_refused_naming_both_and_nothing_is_saved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = setup(&app, "acme", "Christine Roy").await;
    let client = app.signed_in(&s.org, Role::Admin).await;
    let first = create_record(&client, &s, "2026-01-01", "2026-04-30").await;

    // Through the page: the message names both records, next to the start date.
    let refused = client
        .post_form(
            &pages(&s),
            &[
                ("start_date", "2026-04-15"),
                ("end_date", ""),
                ("slot_step_minutes", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains(
            "<p class=\"field-error\" id=\"start_date-error\">these dates, from Wed 15 Apr \
             2026 (open-ended), overlap Christine Roy&#39;s record from Thu 1 Jan 2026 to Thu \
             30 Apr 2026; to change hours from a date, use “New record from…” on that record, \
             or “Temporary change…” for a date range</p>"
        ),
        "{}",
        refused.body
    );
    assert!(
        refused.contains("value=\"2026-04-15\""),
        "keeps what was typed"
    );

    // A record that starts earlier but runs into the other: the end date is at fault.
    let refused = client
        .api(
            Method::POST,
            &api(&s),
            Some(json!({"start_date": "2025-12-01", "end_date": "2026-01-01"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["field"], "end_date");
    assert_eq!(
        refused.json()["error"]["message"],
        "these dates, from Mon 1 Dec 2025 to Thu 1 Jan 2026, overlap Christine Roy's record \
         from Thu 1 Jan 2026 to Thu 30 Apr 2026; to change hours from a date, use “New record \
         from…” on that record, or “Temporary change…” for a date range"
    );

    // Moving an existing record onto the other is refused too, and changes nothing.
    let second = create_record(&client, &s, "2026-05-01", "").await;
    let refused = client
        .post_form(
            &format!("{}/{second}", pages(&s)),
            &[("start_date", "2026-04-30"), ("end_date", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("id=\"start_date-error\""));
    assert!(
        refused.contains("these dates, from Thu 30 Apr 2026 (open-ended), overlap Christine Roy")
    );
    let list = client.api(Method::GET, &api(&s), None).await.json();
    let dates: Vec<(Value, Value)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["start_date"].clone(), r["end_date"].clone()))
        .collect();
    assert_eq!(
        dates,
        [
            (json!("2026-01-01"), json!("2026-04-30")),
            (json!("2026-05-01"), Value::Null)
        ]
    );
    assert_eq!(list[0]["id"], first);

    // Bad fields are named.
    let refused = client
        .api(
            Method::POST,
            &api(&s),
            Some(json!({"start_date": "2027-02-30"})),
        )
        .await;
    assert_eq!(refused.json()["error"]["field"], "start_date");
    let refused = client
        .api(
            Method::POST,
            &api(&s),
            Some(json!({"start_date": "2027-03-01", "end_date": "2027-02-01"})),
        )
        .await;
    assert_eq!(refused.json()["error"]["field"], "end_date");
    let refused = client
        .api(
            Method::POST,
            &api(&s),
            Some(json!({"start_date": "2027-03-01", "slot_step_minutes": 7})),
        )
        .await;
    assert_eq!(refused.json()["error"]["field"], "slot_step_minutes");
    assert_eq!(
        client
            .api(Method::GET, &api(&s), None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.stop().await;
}

async fn blocks_that_break_the_rules_are_refused_and_nothing_is_saved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = setup(&app, "acme", "Christine Roy").await;
    let client = app.signed_in(&s.org, Role::Admin).await;
    let record = create_record(&client, &s, "2026-03-01", "").await;
    let (p, m) = (s.physio, s.massage);
    let saved = post_grid(&client, &s, record, &[format!("{p}/tue/08:00-10:00")], &[]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);

    // A schedule type not assigned to Christine.
    let refused = post_grid(
        &client,
        &s,
        record,
        &[
            format!("{p}/tue/08:00-10:00"),
            format!("{m}/mon/09:00-10:00"),
        ],
        &[],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("Massage is not assigned to Christine Roy"),
        "{}",
        refused.body
    );
    assert!(refused.contains("id=\"cells-error\""));
    // The page shows what was posted, so nothing painted is lost.
    assert!(refused.contains("aria-label=\"Tuesday 09:45, Physiotherapy, online\""));
    let refused = client
        .api(
            Method::PUT,
            &format!("{}/{record}/blocks", api(&s)),
            Some(json!([{"days": ["mon"], "start": "09:00", "end": "10:00", "schedule_type": "massage"}])),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["field"], "blocks[0].schedule_type");

    // Blocks off the grid.
    let refused = post_grid(&client, &s, record, &[format!("{p}/mon/09:02-09:17")], &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("Monday 09:02-09:17 is not a range of whole 5-minute cells"));
    let refused = client
        .api(
            Method::PUT,
            &format!("{}/{record}/blocks", api(&s)),
            Some(json!([{"days": ["mon"], "start": "09:02", "end": "10:00", "schedule_type": "physio"}])),
        )
        .await;
    assert_eq!(refused.json()["error"]["field"], "blocks[0]");
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not on the 5-minute grid")
    );
    let refused = post_grid(&client, &s, record, &["garbage".to_owned()], &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let flood = vec!["p/mon/09:00-09:05".to_owned(); 7 * 288 * 3 + 1];
    let refused = post_grid(&client, &s, record, &flood, &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("the form holds more cells than a week has"));

    // Two blocks on one cell, through the API, and a cell of two schedule types through
    // the form.
    let refused = client
        .api(
            Method::PUT,
            &format!("{}/{record}/blocks", api(&s)),
            Some(json!([
                {"days": ["mon", "tue"], "start": "09:00", "end": "10:00", "schedule_type": "physio"},
                {"days": ["tue"], "start": "09:30", "end": "11:00", "schedule_type": "physio"}
            ])),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["field"], "blocks[1]");
    assert_eq!(
        refused.json()["error"]["message"],
        "covers Tuesday 09:30-11:00, which blocks[0] already covers"
    );
    let assigned = client
        .post_form(
            &format!("{}/{record}/schedule-types", pages(&s)),
            &[("schedule_type", &m.to_string())],
        )
        .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER);
    let refused = post_grid(
        &client,
        &s,
        record,
        &[
            format!("{p}/tue/08:00-10:00"),
            format!("{m}/tue/09:30-10:30"),
        ],
        &[],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("Tuesday 09:30 is marked for both Physiotherapy and Massage"),
        "{}",
        refused.body
    );

    // Nothing of it was saved.
    let one = client
        .api(Method::GET, &format!("{}/{record}", api(&s)), None)
        .await
        .json();
    assert_eq!(
        one["blocks"],
        json!([{"days": ["tue"], "start": "08:00", "end": "10:00", "schedule_type": "physio"}])
    );
    app.stop().await;
}

async fn schedule_types_are_assigned_from_inside_the_editor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = setup(&app, "acme", "Christine Roy").await;
    let client = app.signed_in(&s.org, Role::Admin).await;
    let record = create_record(&client, &s, "2026-03-01", "").await;
    let (p, m) = (s.physio, s.massage);
    let editor = client.get(&format!("{}/{record}", pages(&s))).await;
    assert!(editor.contains(&format!("<option value=\"{m}\">Massage</option>")));
    assert!(
        !editor.contains(&format!("data-layer=\"{m}\"")),
        "not paintable yet"
    );

    let assigned = client
        .post_form(
            &format!("{}/{record}/schedule-types", pages(&s)),
            &[("schedule_type", &m.to_string())],
        )
        .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER);
    assert!(
        assigned.location().ends_with(&format!("layer={m}")),
        "{}",
        assigned.location()
    );
    let editor = client.get(&assigned.location()).await;
    assert!(editor.contains(&format!(
        "data-layer=\"{m}\" data-name=\"Massage\" aria-current=\"true\""
    )));
    assert!(editor.contains(&format!("value=\"{m}/mon/09:00-09:15\"")));

    // Now Massage paints, at Christine's home clinic (it has none of its own).
    let saved = post_grid(
        &client,
        &s,
        record,
        &[
            format!("{p}/mon/09:00-10:00"),
            format!("{m}/mon/10:00-11:00"),
        ],
        &[],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(slot_starts(&app, &s).await, quarters(2, 9 * 60, 11 * 60));

    // A schedule type still used by blocks cannot be taken away.
    let unassign = format!("{}/{record}/schedule-types/{m}/delete", pages(&s));
    let refused = client.post_form(&unassign, &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains(
            "Massage is still used by blocks of the availability record from Sun 1 Mar 2026 \
             (open-ended); clear those blocks first"
        ),
        "{}",
        refused.body
    );
    let saved = post_grid(&client, &s, record, &[format!("{p}/mon/09:00-10:00")], &[]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        client.post_form(&unassign, &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let editor = client.get(&format!("{}/{record}", pages(&s))).await;
    assert!(!editor.contains(&format!("data-layer=\"{m}\"")));
    // Unknown schedule types are named.
    let refused = client
        .post_form(
            &format!("{}/{record}/schedule-types", pages(&s)),
            &[("schedule_type", "999999")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("id=\"schedule_type-error\""));
    app.stop().await;
}

async fn the_api_manages_records_blocks_and_the_portal_overlay(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = setup(&app, "acme", "Christine Roy").await;
    let client = app.signed_in(&s.org, Role::Admin).await;
    let created = client
        .api(
            Method::POST,
            &api(&s),
            Some(json!({"start_date": "2026-03-01", "end_date": null})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let record = created.json();
    assert_eq!(record["effective_slot_step_minutes"], 15);
    assert_eq!(record["slot_step_minutes"], Value::Null);
    assert_eq!(record["portal_blocks"], Value::Null);
    let path = format!("{}/{}", api(&s), record["id"]);
    let blocks = json!([
        {"days": ["thu"], "start": "13:00", "end": "14:00", "schedule_type": "physio"},
        {"days": ["mon"], "start": "09:00", "end": "09:30", "schedule_type": "physio"}
    ]);
    let put = client
        .api(Method::PUT, &format!("{path}/blocks"), Some(blocks.clone()))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.json()["blocks"], blocks, "stored as given");
    let put = client
        .api(
            Method::PUT,
            &format!("{path}/portal"),
            Some(json!([{"days": ["mon"], "start": "09:15", "end": "09:30"},
                        {"days": ["mon"], "start": "09:00", "end": "09:30"}])),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(
        slot_starts(&app, &s).await,
        quarters(2, 9 * 60, 9 * 60 + 30)
    );
    let put = client
        .api(Method::PUT, &format!("{path}/portal"), Some(json!([])))
        .await;
    assert_eq!(put.json()["portal_blocks"], json!([]));
    assert!(slot_starts(&app, &s).await.is_empty());
    let put = client
        .api(Method::PUT, &format!("{path}/portal"), Some(Value::Null))
        .await;
    assert_eq!(put.json()["portal_blocks"], Value::Null);
    let mut all = quarters(2, 9 * 60, 9 * 60 + 30);
    all.extend(quarters(5, 13 * 60, 14 * 60));
    assert_eq!(slot_starts(&app, &s).await, all);
    let refused = client
        .api(
            Method::PUT,
            &format!("{path}/portal"),
            Some(json!([{"days": ["mom"], "start": "09:00", "end": "10:00"}])),
        )
        .await;
    assert_eq!(refused.json()["error"]["field"], "portal_blocks[0].days");

    // Dates, clinic and interval.
    let clinic = {
        let mut conn = app.db.conn().await.unwrap();
        keys::id_of(conn.exec(), Kind::Clinic, s.org.id, "toronto")
            .await
            .unwrap()
    };
    let saved = client
        .api(
            Method::PUT,
            &path,
            Some(json!({"start_date": "2026-03-02", "end_date": "2026-12-31",
                        "clinic_id": clinic, "slot_step_minutes": 30})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["effective_slot_step_minutes"], 30);
    assert_eq!(saved.json()["clinic_id"], clinic);
    assert_eq!(saved.json()["blocks"], blocks, "blocks stay");
    assert_eq!(slot_starts(&app, &s).await[0], "2026-03-02T09:00:00-05:00");
    let refused = client
        .api(
            Method::PUT,
            &path,
            Some(json!({"start_date": "2026-03-02", "clinic_id": 999999})),
        )
        .await;
    assert_eq!(refused.json()["error"]["field"], "clinic_id");

    // Front-desk staff read, admins write.
    let desk = app.signed_in(&s.org, Role::FrontDesk).await;
    assert_eq!(
        desk.api(Method::GET, &path, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        desk.api(Method::DELETE, &path, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        client.api(Method::DELETE, &path, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        client.api(Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(slot_starts(&app, &s).await.is_empty());
    // The API is described.
    let openapi = client.get("/api/openapi.json").await.json();
    for route in ["", "/{record}", "/{record}/blocks", "/{record}/portal"] {
        let key = format!("/api/v1/orgs/{{slug}}/practitioners/{{id}}/availability{route}");
        assert!(openapi["paths"][&key].is_object(), "{key}");
    }
    app.stop().await;
}

async fn another_organisations_practitioners_and_records_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = setup(&app, "acme", "Christine Roy").await;
    let other = setup(&app, "other", "Secret Practitioner").await;
    let acme_admin = app.signed_in(&acme.org, Role::Admin).await;
    let other_admin = app.signed_in(&other.org, Role::Admin).await;
    let secret = create_record(&other_admin, &other, "2026-03-01", "").await;
    let saved = post_grid(
        &other_admin,
        &other,
        secret,
        &[format!("{}/mon/09:00-10:00", other.physio)],
        &[],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let mine = create_record(&acme_admin, &acme, "2026-03-01", "").await;

    // Acme's admin with the other organisation's ids, in acme's addresses: the other
    // practitioner, and the other record under acme's own practitioner.
    let theirs = Setup {
        org: acme.org.clone(),
        christine: other.christine,
        physio: other.physio,
        massage: other.massage,
        service: other.service,
    };
    for (s, record) in [(&theirs, secret), (&acme, secret)] {
        let base = pages(s);
        let mut gets = vec![format!("{base}/{record}")];
        if s.christine == other.christine {
            gets.extend([base.clone(), format!("{base}/colours.css")]);
        }
        for path in gets {
            let page = acme_admin.get(&path).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
            assert!(!page.contains("Secret"), "{path}");
        }
        for (path, fields) in [
            (
                format!("{base}/{record}"),
                vec![("start_date", "2026-01-01")],
            ),
            (
                format!("{base}/{record}/grid"),
                vec![("cell", "1/mon/09:00-10:00")],
            ),
            (format!("{base}/{record}/delete"), vec![]),
            (
                format!("{base}/{record}/schedule-types"),
                vec![("schedule_type", "1")],
            ),
            (
                format!("{base}/{record}/schedule-types/{}/delete", other.physio),
                vec![],
            ),
        ] {
            let page = acme_admin.post_form(&path, &fields).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
            assert!(!page.contains("Secret"), "{path}");
        }
        let base = api(s);
        for (method, path, body) in [
            (Method::GET, format!("{base}/{record}"), None),
            (
                Method::PUT,
                format!("{base}/{record}"),
                Some(json!({"start_date": "2026-01-01"})),
            ),
            (
                Method::PUT,
                format!("{base}/{record}/blocks"),
                Some(json!([])),
            ),
            (
                Method::PUT,
                format!("{base}/{record}/portal"),
                Some(json!([])),
            ),
            (Method::DELETE, format!("{base}/{record}"), None),
        ] {
            let page = acme_admin.api(method, &path, body).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
            assert!(
                !page.contains("Secret") && !page.contains("09:00"),
                "{path}"
            );
        }
    }
    for (method, body) in [
        (Method::GET, None),
        (Method::POST, Some(json!({"start_date": "2027-01-01"}))),
    ] {
        let page = acme_admin.api(method, &api(&theirs), body).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(!page.contains("Secret"));
    }
    // The other organisation's record is untouched, and acme's own is still acme's.
    let one = other_admin
        .api(Method::GET, &format!("{}/{secret}", api(&other)), None)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["start_date"], "2026-03-01");
    assert_eq!(one.json()["blocks"].as_array().unwrap().len(), 1);
    assert_eq!(
        other_admin
            .api(Method::GET, &api(&other), None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        acme_admin
            .get(&format!("{}/{mine}", pages(&acme)))
            .await
            .status,
        StatusCode::OK
    );
    app.stop().await;
}

async fn the_grid_form_needs_its_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = setup(&app, "acme", "Christine Roy").await;
    let client = app.signed_in(&s.org, Role::Admin).await;
    let record = create_record(&client, &s, "2026-03-01", "").await;
    let path = format!("{}/{record}/grid", pages(&s));
    let cell = format!("{}/mon/09:00-12:00", s.physio);
    let refused = client
        .post_raw(&path, &[("cell", cell.as_str())], &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = client
        .post_raw(&path, &[("_csrf", "forged"), ("cell", cell.as_str())], &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let token = client.csrf_token(&path).await;
    let refused = client
        .post_raw(
            &path,
            &[("_csrf", token.as_str()), ("cell", cell.as_str())],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let one = client
        .api(Method::GET, &format!("{}/{record}", api(&s)), None)
        .await
        .json();
    assert_eq!(one["blocks"], json!([]), "nothing was saved");
    // The editor's script is served, from this server only.
    let script = client.get("/static/grid.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(
        script.headers["content-type"],
        "text/javascript; charset=utf-8"
    );
    let editor = client.get(&format!("{}/{record}", pages(&s))).await;
    assert!(
        editor.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    app.stop().await;
}

both!(
    painted_portal_cells_are_exactly_the_engines_slots,
    overlapping_records_are_refused_naming_both_and_nothing_is_saved,
    blocks_that_break_the_rules_are_refused_and_nothing_is_saved,
    schedule_types_are_assigned_from_inside_the_editor,
    the_api_manages_records_blocks_and_the_portal_overlay,
    another_organisations_practitioners_and_records_are_not_found,
    the_grid_form_needs_its_csrf_token,
);
