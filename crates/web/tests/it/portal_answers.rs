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

both!(slots_match_every_worked_answer);
