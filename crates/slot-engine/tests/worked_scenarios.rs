//! The worked scenarios of `docs/scenario.md` (in `tests/data/scenarios/`):
//! every one gives its expected answer, every `invalid-*` is refused, and every staff
//! booking of `staff-checks.json` gets its listed answer.
#![allow(clippy::disallowed_methods)] // the tests read the worked scenarios from disk; the engine itself reads nothing.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use slot_engine::{
    Answer, Error, Model, Purpose, ResourceChoice, SeriesEnd, SeriesRule, StaffBooking,
};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scenarios")
}

fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(data_dir())
        .expect("test data directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".json")
                && !name.ends_with(".expected.json")
                && name != "staff-checks.json"
                && name != "series-checks.json"
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_worked_scenario_gives_its_expected_answer() {
    let mut checked = 0;
    for path in scenario_files() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name.starts_with("invalid-") {
            continue;
        }
        let model = Model::from_json(&fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: refused: {e}"));
        let slots = model.open_slots(model.query().expect("worked scenarios have a query"));
        let got = Answer::new(&model, &slots);
        let expected: Answer = serde_json::from_slice(
            &fs::read(path.with_file_name(format!("{name}.expected.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(got, expected, "{name}");
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} worked scenarios found");
}

#[test]
fn every_scenario_read_as_a_later_version_keeps_its_answer() {
    let mut checked = 0;
    for path in scenario_files() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut scenario = slot_engine::Scenario::from_json(&fs::read(&path).unwrap()).unwrap();
        if name.starts_with("invalid-") {
            continue;
        }
        let answer = |m: &Model| Answer::new(m, &m.open_slots(m.query().unwrap()));
        let written = answer(&Model::new(&scenario).unwrap());
        for later in scenario.version + 1..=3 {
            scenario.version = later;
            let read = Model::new(&scenario).unwrap();
            assert_eq!(written, answer(&read), "{name} read as version {later}");
            checked += 1;
        }
    }
    assert!(checked >= 16, "only {checked} readings");
}

#[test]
fn every_invalid_scenario_is_refused_naming_the_item() {
    let mut checked = 0;
    for path in scenario_files() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("invalid-") {
            continue;
        }
        let err = Model::from_json(&fs::read(&path).unwrap()).expect_err(&name);
        assert!(
            matches!(err, Error::Invalid { .. } | Error::Json { .. }),
            "{name}: {err}"
        );
        assert!(!err.to_string().contains('\n'), "{name}: one line: {err}");
        checked += 1;
    }
    assert!(checked >= 1);
}

#[test]
fn overlapping_records_name_both() {
    let err =
        Model::from_json(&fs::read(data_dir().join("invalid-overlapping-records.json")).unwrap())
            .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("practitioner \""), "{text}");
    assert!(
        text.contains(" and ") && text.ends_with("overlap"),
        "{text}"
    );
}

#[derive(serde::Deserialize)]
struct StaffChecks {
    checks: Vec<StaffCheck>,
}

#[derive(serde::Deserialize)]
struct StaffCheck {
    scenario: String,
    practitioner: String,
    start: String,
    duration_minutes: u32,
    service: Option<String>,
    schedule_type: Option<String>,
    ok: bool,
    #[serde(default)]
    resources: Option<Vec<String>>,
    #[serde(default)]
    holds: Option<Vec<String>>,
}

#[test]
fn staff_checks_get_their_listed_answers() {
    let checks: StaffChecks =
        serde_json::from_slice(&fs::read(data_dir().join("staff-checks.json")).unwrap()).unwrap();
    assert!(checks.checks.len() >= 10);
    for c in &checks.checks {
        let model = Model::from_json(&fs::read(data_dir().join(&c.scenario)).unwrap()).unwrap();
        let purpose = match (&c.service, &c.schedule_type) {
            (Some(s), _) => Purpose::Service(model.service_ix(s).unwrap()),
            (None, Some(t)) => Purpose::ScheduleType(model.schedule_type_ix(t).unwrap()),
            (None, None) => Purpose::Unspecified,
        };
        let booking = StaffBooking {
            practitioner: model.practitioner_ix(&c.practitioner).unwrap(),
            start: c.start.parse().unwrap(),
            duration_minutes: c.duration_minutes,
            purpose,
            buffers: model.new_booking_buffers(purpose),
            resources: match &c.resources {
                None => ResourceChoice::Auto,
                Some(ids) => ResourceChoice::Chosen(
                    ids.iter()
                        .map(|id| model.resource_ix(id).unwrap())
                        .collect(),
                ),
            },
        };
        let result = model.check_staff(&booking);
        let held: Vec<&str> = model
            .staff_resources(&booking)
            .into_iter()
            .map(|r| model.resource(r).id.as_str())
            .collect();
        if let Some(holds) = &c.holds {
            assert_eq!(
                &held, holds,
                "{} {} {}",
                c.scenario, c.practitioner, c.start
            );
        }
        if let Ok(fit) = &result {
            let fit_held: Vec<&str> = fit
                .resources
                .iter()
                .map(|&r| model.resource(r).id.as_str())
                .collect();
            assert_eq!(fit_held, held, "a fit holds what staff_resources says");
        }
        assert_eq!(
            result.is_ok(),
            c.ok,
            "{} {} {}: {:?}",
            c.scenario,
            c.practitioner,
            c.start,
            result
        );
        if let Err(reasons) = result {
            assert!(!reasons.is_empty());
        }
    }
}

#[derive(serde::Deserialize)]
struct SeriesChecks {
    checks: Vec<SeriesCheck>,
}

#[derive(serde::Deserialize)]
struct SeriesCheck {
    scenario: String,
    practitioner: String,
    start: String,
    every_weeks: u32,
    count: Option<u32>,
    until: Option<String>,
    staff: Option<StaffSeries>,
    occurrences: Vec<Value>,
}

#[derive(serde::Deserialize)]
struct StaffSeries {
    duration_minutes: u32,
    service: Option<String>,
    schedule_type: Option<String>,
}

fn when<T>(model: &Model, o: &slot_engine::Occurrence<T>) -> Value {
    json!({"date": o.date.to_string(), "start": o.start_text(model)})
}

/// The answer `openslot check --every-weeks` prints for one series, as JSON values.
fn series_answer(c: &SeriesCheck) -> Vec<Value> {
    let model = Model::from_json(&fs::read(data_dir().join(&c.scenario)).unwrap()).unwrap();
    let practitioner = model.practitioner_ix(&c.practitioner).unwrap();
    let end = match (c.count, &c.until) {
        (Some(n), None) => SeriesEnd::Count(n),
        (None, Some(d)) => SeriesEnd::Until(d.parse().unwrap()),
        _ => panic!("{}: count or until", c.scenario),
    };
    let rule = SeriesRule::new(c.every_weeks, end).unwrap();
    let start = c.start.parse().unwrap();
    match &c.staff {
        None => {
            let portal = &model.query().unwrap().portal;
            model
                .check_series(portal, practitioner, start, &rule)
                .unwrap()
                .into_iter()
                .map(|o| {
                    let mut v = when(&model, &o);
                    match o.answer {
                        Ok(slot) => {
                            assert_eq!(o.start_text(&model), Some(slot.start_text()));
                            v["bookable"] = json!(true);
                        }
                        Err(r) => {
                            v["bookable"] = json!(false);
                            v["rule"] = json!(r.rule.number());
                        }
                    }
                    v
                })
                .collect()
        }
        Some(staff) => {
            let purpose = match (&staff.service, &staff.schedule_type) {
                (Some(s), _) => Purpose::Service(model.service_ix(s).unwrap()),
                (None, Some(t)) => Purpose::ScheduleType(model.schedule_type_ix(t).unwrap()),
                (None, None) => Purpose::Unspecified,
            };
            let first = StaffBooking {
                practitioner,
                start,
                duration_minutes: staff.duration_minutes,
                purpose,
                buffers: model.new_booking_buffers(purpose),
                resources: slot_engine::ResourceChoice::Auto,
            };
            model
                .check_staff_series(&first, &rule)
                .unwrap()
                .into_iter()
                .map(|o| {
                    let mut v = when(&model, &o);
                    v["ok"] = json!(o.answer.is_ok());
                    v
                })
                .collect()
        }
    }
}

#[test]
fn series_checks_get_their_listed_answers() {
    let checks: SeriesChecks =
        serde_json::from_slice(&fs::read(data_dir().join("series-checks.json")).unwrap()).unwrap();
    assert!(checks.checks.len() >= 8);
    for c in &checks.checks {
        let got = series_answer(c);
        assert_eq!(
            got,
            c.occurrences,
            "{} {} {}: got {}",
            c.scenario,
            c.practitioner,
            c.start,
            serde_json::to_string(&got).unwrap()
        );
    }
}
