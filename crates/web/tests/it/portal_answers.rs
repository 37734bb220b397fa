//! The portal's slots API gives, for every worked scenario, exactly the slots of its
//! expected answer: the same practitioners, clinics and times, each told with its
//! names, its clinic's zone, and a date and time read in that zone. The calendar's
//! days API counts the same slots per clinic-local date.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use slot_engine::{Date, Scenario};
use store::Organisation;
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, TestApp};

fn scenarios() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../slot-engine/tests/data/scenarios")
}

/// Every worked scenario with an expected answer: its name, the scenario and the answer.
fn worked() -> Vec<(String, Value, Value)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(scenarios()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        let Ok(expected) = std::fs::read(scenarios().join(format!("{stem}.expected.json"))) else {
            continue;
        };
        let scenario: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let expected: Value = serde_json::from_slice(&expected).unwrap();
        all.push((stem.to_owned(), scenario, expected));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// A slot as compared: practitioner and clinic row ids, start and end.
type Key = (i64, i64, String, String);

/// The API's slots over `[from, to]`, asked for in spans of at most 31 days.
async fn api_slots(client: &Client, slug: &str, query: &str, from: Date, to: Date) -> Vec<Value> {
    let mut all = Vec::new();
    let mut start = from;
    while start <= to {
        let end = start.add_days(30).unwrap_or(to).min(to);
        let r = client
            .api(
                Method::GET,
                &format!("/api/v1/orgs/{slug}/portal/slots?{query}&from={start}&to={end}"),
                None,
            )
            .await;
        assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.body);
        all.extend(r.json().as_array().unwrap().iter().cloned());
        match end.add_days(1) {
            Some(next) => start = next,
            None => break,
        }
    }
    all
}

async fn slots_match_every_worked_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut checked = 0;
    for (stem, mut scenario, expected) in worked() {
        let query = scenario["query"].clone();
        // One patient to ask as, who may book what the query names.
        let patients = scenario["patients"].as_array().cloned().unwrap_or_default();
        let mut patients = patients;
        patients.push(
            json!({"id": "probe", "first_name": "Pat", "last_name": "Probe",
                             "email": "probe@example.com"}),
        );
        scenario["patients"] = Value::Array(patients);
        scenario.as_object_mut().unwrap().remove("query");
        let slug = format!("answer-{stem}");
        let org: Organisation = app
            .import(
                &slug,
                &Scenario::from_json(scenario.to_string().as_bytes()).unwrap(),
            )
            .await;
        app.clock
            .set(query["now"].as_str().unwrap().parse().unwrap());
        let staff = app.signed_in(&org, Role::Admin).await;
        let patient = app.portal_patient(&org, &staff, "probe").await;
        let probe = app.id(&org, Kind::Patient, "probe").await;
        if let Some(list) = query["practitioners"].as_array() {
            let mut ids = Vec::new();
            for key in list {
                ids.push(
                    app.id(&org, Kind::Practitioner, key.as_str().unwrap())
                        .await,
                );
            }
            let mut tx = app.db.begin().await.unwrap();
            store::patient::set_available_practitioners(&mut tx, org.id, probe, Some(&ids))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let service = app
            .id(&org, Kind::Service, query["service"].as_str().unwrap())
            .await;
        let mode = if query["telehealth"] == true {
            "video"
        } else {
            "in_person"
        };
        let from: Date = query["from"].as_str().unwrap().parse().unwrap();
        let to: Date = query["to"].as_str().unwrap().parse().unwrap();
        let asked = format!("service={service}&mode={mode}");
        let got = api_slots(&patient, &slug, &asked, from, to).await;

        // What each slot must say of its practitioner and clinic.
        let mut practitioners = BTreeMap::new();
        for p in scenario["practitioners"].as_array().unwrap() {
            let key = p["id"].as_str().unwrap();
            let id = app.id(&org, Kind::Practitioner, key).await;
            practitioners.insert(
                key.to_owned(),
                (id, p["name"].as_str().unwrap_or(key).to_owned()),
            );
        }
        let mut clinics = BTreeMap::new();
        for c in scenario["clinics"].as_array().unwrap() {
            let key = c["id"].as_str().unwrap();
            let id = app.id(&org, Kind::Clinic, key).await;
            let name = c["name"].as_str().unwrap_or(key).to_owned();
            clinics.insert(
                key.to_owned(),
                (id, name, c["timezone"].as_str().unwrap().to_owned()),
            );
        }
        let mut want: Vec<Key> = expected["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    practitioners[s["practitioner"].as_str().unwrap()].0,
                    clinics[s["clinic"].as_str().unwrap()].0,
                    s["start"].as_str().unwrap().to_owned(),
                    s["end"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        // The API lists a practitioner once per time and clinic, whatever schedule
        // types the time is open under.
        want.dedup();
        let mut have = Vec::new();
        for s in &got {
            let practitioner = practitioners
                .values()
                .find(|p| p.0 == s["practitioner_id"])
                .unwrap_or_else(|| panic!("{stem}: unknown practitioner in {s}"));
            let clinic = clinics
                .values()
                .find(|c| c.0 == s["clinic_id"])
                .unwrap_or_else(|| panic!("{stem}: unknown clinic in {s}"));
            let start = s["start"].as_str().unwrap();
            assert_eq!(
                s["practitioner_name"],
                practitioner.1.as_str(),
                "{stem}: {s}"
            );
            assert_eq!(s["clinic_name"], clinic.1.as_str(), "{stem}: {s}");
            assert_eq!(s["timezone"], clinic.2.as_str(), "{stem}: {s}");
            assert_eq!(s["date"], &start[..10], "{stem}: {s}");
            assert_eq!(s["time"], &start[11..16], "{stem}: {s}");
            assert_eq!(s.as_object().unwrap().len(), 9, "{stem}: {s}");
            have.push((
                practitioner.0,
                clinic.0,
                start.to_owned(),
                s["end"].as_str().unwrap().to_owned(),
            ));
        }
        assert_eq!(have, want, "{stem}");

        // One clinic's slots are those of that clinic, in the same order.
        for (id, _, _) in clinics.values() {
            let only = api_slots(&patient, &slug, &format!("{asked}&clinic={id}"), from, to).await;
            let kept: Vec<&Value> = got.iter().filter(|s| s["clinic_id"] == *id).collect();
            assert_eq!(only.iter().collect::<Vec<_>>(), kept, "{stem}: clinic {id}");
        }

        // The days of the first month with slots count them by clinic-local date.
        if let Some(first) = got.first() {
            let month = &first["date"].as_str().unwrap()[..7];
            let r = patient
                .api(
                    Method::GET,
                    &format!("/api/v1/orgs/{slug}/portal/days?service={service}&mode={mode}&month={month}"),
                    None,
                )
                .await;
            assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.body);
            let days: Vec<(String, u64)> = r
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["date"].as_str().unwrap().to_owned(),
                        d["slots"].as_u64().unwrap(),
                    )
                })
                .collect();
            // From the month's first asked date (or today) to its end.
            let mut counted: BTreeMap<String, u64> = BTreeMap::new();
            for s in &got {
                let date = s["date"].as_str().unwrap();
                if date.starts_with(month) {
                    *counted.entry(date.to_owned()).or_default() += 1;
                }
            }
            // The days API reads the whole month: the worked query may start later or
            // end earlier, so compare the dates both cover.
            let covered = |d: &str| {
                d >= query["from"].as_str().unwrap() && d <= query["to"].as_str().unwrap()
            };
            let days: Vec<_> = days.into_iter().filter(|(d, _)| covered(d)).collect();
            assert_eq!(
                days,
                counted.into_iter().collect::<Vec<_>>(),
                "{stem}: days of {month}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "{checked} scenarios");
    app.stop().await;
}

/// Clinics a day apart: Vancouver and Kiritimati (UTC+14), where it is already
/// tomorrow. The booking window (7 days) counts from each clinic's own today, so
/// Kiritimati's last bookable day is a day after Vancouver's; the calendar, the days
/// API and the slots API all offer it, and it can be booked.
fn a_day_apart() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 60, "max_days_ahead": 7},
            "clinics": [
                {"id": "van", "name": "Vancouver", "timezone": "America/Vancouver"},
                {"id": "kiri", "name": "Kiritimati", "timezone": "Pacific/Kiritimati"}],
            "schedule_types": [
                {"id": "visit-van", "name": "Visit", "clinic": "van"},
                {"id": "visit-kiri", "name": "Visit", "clinic": "kiri"},
                {"id": "desk", "name": "Desk", "clinic": "van"}],
            "practitioners": [
                {"id": "kai", "name": "Kai", "type": "physio", "home_clinic": "kiri",
                 "schedule_types": ["visit-kiri"],
                 "availability": [{"start_date": "2026-01-05", "blocks": [
                     {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "09:00", "end": "11:00", "schedule_type": "visit-kiri"}]}]},
                {"id": "val", "name": "Val", "type": "physio", "home_clinic": "van",
                 "schedule_types": ["visit-van", "desk"],
                 "availability": [{"start_date": "2026-01-05", "blocks": [
                     {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "09:00", "end": "11:00", "schedule_type": "visit-van"}]}]}],
            "services": [
                {"id": "visit", "name": "Visit", "duration_minutes": 60, "book_from_portal": true,
                 "schedule_types": ["visit-van", "visit-kiri"]},
                {"id": "desk-only", "name": "Desk only", "duration_minutes": 60, "book_from_portal": false,
                 "schedule_types": ["desk"]}],
            "patients": [{"id": "probe", "first_name": "Pat", "last_name": "Probe", "email": "probe@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

async fn the_calendar_ends_on_the_last_day_any_clinic_can_book(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("apart", &a_day_apart()).await;
    // 12:00 UTC on Thursday 5 March: 04:00 on the 5th in Vancouver, 02:00 on the 6th
    // in Kiritimati. Vancouver's window ends on the 12th, Kiritimati's on the 13th.
    app.clock.set("2026-03-05T12:00:00Z".parse().unwrap());
    let staff = app.signed_in(&org, Role::Admin).await;
    let patient = app.portal_patient(&org, &staff, "probe").await;
    let visit = app.id(&org, Kind::Service, "visit").await;
    let kiri = app.id(&org, Kind::Clinic, "kiri").await;

    let slots = api_slots(
        &patient,
        "apart",
        &format!("service={visit}"),
        "2026-03-12".parse().unwrap(),
        "2026-03-14".parse().unwrap(),
    )
    .await;
    let last: Vec<&Value> = slots.iter().filter(|s| s["date"] == "2026-03-13").collect();
    assert_eq!(
        last.len(),
        2,
        "Kiritimati's two times on the 13th: {slots:?}"
    );
    assert!(last.iter().all(|s| s["clinic_id"] == kiri));

    let r = patient
        .api(
            Method::GET,
            &format!("/api/v1/orgs/apart/portal/days?service={visit}&month=2026-03"),
            None,
        )
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.body);
    let days = r.json();
    let days = days.as_array().unwrap();
    assert_eq!(
        days.last().unwrap(),
        &json!({"date": "2026-03-13", "slots": 2}),
        "{days:?}"
    );

    let page = patient
        .get(&format!(
            "/o/apart/portal/book/{visit}?month=2026-03&day=2026-03-13"
        ))
        .await;
    assert_eq!(page.status, reqwest::StatusCode::OK);
    assert!(
        page.body
            .contains("start=2026-03-13T09%3A00%3A00%2B14%3A00"),
        "the 13th's times are offered: {}",
        page.body
    );
    let booked = patient
        .api(
            Method::POST,
            "/api/v1/orgs/apart/portal/appointments",
            Some(
                json!({"service": visit, "practitioner": last[0]["practitioner_id"],
                        "start": last[0]["start"]}),
            ),
        )
        .await;
    assert_eq!(
        booked.status,
        reqwest::StatusCode::CREATED,
        "{}",
        booked.body
    );
    app.stop().await;
}

/// A month with no bookable day still refuses a service the patient may not see, as
/// every other month does: a staff-only one, another organisation's, one that is not
/// there.
async fn days_refuse_a_hidden_service_in_every_month(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("apart", &a_day_apart()).await;
    let other = app.import("other", &a_day_apart()).await;
    app.clock.set("2026-03-05T12:00:00Z".parse().unwrap());
    let staff = app.signed_in(&org, Role::Admin).await;
    let patient = app.portal_patient(&org, &staff, "probe").await;
    let visit = app.id(&org, Kind::Service, "visit").await;
    let desk_only = app.id(&org, Kind::Service, "desk-only").await;
    let theirs = app.id(&other, Kind::Service, "visit").await;
    for month in ["2020-01", "2026-03", "2199-12"] {
        for service in [desk_only, theirs, i64::MAX] {
            let r = patient
                .api(
                    Method::GET,
                    &format!("/api/v1/orgs/apart/portal/days?service={service}&month={month}"),
                    None,
                )
                .await;
            assert_eq!(
                r.status,
                reqwest::StatusCode::NOT_FOUND,
                "{service} in {month}: {}",
                r.body
            );
        }
    }
    let r = patient
        .api(
            Method::GET,
            &format!("/api/v1/orgs/apart/portal/days?service={visit}&month=2020-01"),
            None,
        )
        .await;
    assert_eq!((r.status, r.json()), (reqwest::StatusCode::OK, json!([])));
    app.stop().await;
}

both!(
    slots_match_every_worked_answer,
    the_calendar_ends_on_the_last_day_any_clinic_can_book,
    days_refuse_a_hidden_service_in_every_month
);
