use super::*;

use serde_json::{Value, json};

/// A valid scenario touching every kind of item: two clinics, a schedule type tied to
/// Toronto and one usable anywhere, a practitioner with two records, services, a
/// patient, appointments and a query.
fn base() -> Value {
    json!({
        "version": 1,
        "settings": {"resolution_minutes": 5, "slot_step_minutes": 15},
        "clinics": [
            {"id": "toronto", "timezone": "America/Toronto", "holidays": ["2026-12-25"]},
            {"id": "whitby", "name": "Whitby", "timezone": "America/Toronto"}
        ],
        "schedule_types": [
            {"id": "physio", "name": "Physiotherapy", "clinic": "toronto"},
            {"id": "massage", "allow_conflicts": true},
            {"id": "other"}
        ],
        "practitioners": [{
            "id": "christine", "type": "physiotherapist", "home_clinic": "toronto",
            "schedule_types": ["physio", "massage"],
            "availability": [
                {"start_date": "2026-01-01", "end_date": "2026-04-30",
                 "blocks": [{"days": ["mon", "wed"], "start": "09:00", "end": "12:00",
                             "schedule_type": "physio"},
                            {"days": ["mon"], "start": "12:00", "end": "14:00",
                             "schedule_type": "massage"}],
                 "portal_blocks": [{"days": ["mon"], "start": "09:00", "end": "12:00"}]},
                {"start_date": "2026-05-01", "clinic": "whitby", "slot_step_minutes": 30,
                 "blocks": [{"days": ["tue"], "start": "09:00", "end": "24:00",
                             "schedule_type": "massage"}]}
            ],
            "time_off": [{"start": "2026-03-03T12:00:00-05:00", "end": "2026-03-03T17:00:00-05:00"}]
        }],
        "services": [
            {"id": "initial", "duration_minutes": 45, "book_from_portal": true,
             "schedule_types": ["physio"]},
            {"id": "phone", "duration_minutes": 15, "schedule_types": ["physio"]}
        ],
        "patients": [{"id": "pat-1", "first_name": "Ada", "last_name": "Lane",
                      "email": "ada@example.com", "available_practitioners": ["christine"]}],
        "appointments": [
            {"id": "a-1", "practitioner": "christine", "patient": "pat-1", "service": "initial",
             "schedule_type": "physio",
             "start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T09:45:00-05:00"},
            {"practitioner": "christine",
             "start": "2026-03-02T10:00:00-05:00", "end": "2026-03-02T10:30:00-05:00",
             "status": "cancelled"}
        ],
        "query": {"service": "initial", "from": "2026-03-02", "to": "2026-03-08",
                  "now": "2026-03-01T00:00:00Z"}
    })
}

/// The item label of the first record of `base()`.
const RECORD_1: &str = r#"practitioner "christine": availability record 2026-01-01..2026-04-30"#;

/// `base()` with the value at `pointer` set (an object member is added if missing, and
/// `/-` appends to an array).
fn with(pointer: &str, value: Value) -> Value {
    let mut doc = base();
    set(&mut doc, pointer, value);
    doc
}

fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, last) = pointer.rsplit_once('/').expect("a JSON pointer");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last.to_owned(), value);
        }
        Some(Value::Array(list)) if last == "-" => list.push(value),
        Some(Value::Array(list)) => list[last.parse::<usize>().unwrap()] = value,
        _ => panic!("nothing at {parent:?}"),
    }
}

fn model(doc: &Value) -> Model {
    let scenario = Scenario::from_json(&serde_json::to_vec(doc).unwrap()).unwrap();
    Model::new(&scenario).unwrap_or_else(|e| panic!("model refused: {e}"))
}

/// Checks `doc` parses as a scenario but the model refuses it, naming `item`, with a
/// message equal to `message`.
#[track_caller]
fn check_invalid(doc: &Value, item: &str, message: &str) {
    let scenario = Scenario::from_json(&serde_json::to_vec(doc).unwrap())
        .unwrap_or_else(|e| panic!("the scenario itself should parse: {e}"));
    match Model::new(&scenario) {
        Err(Error::Invalid {
            item: got_item,
            message: got_message,
        }) => {
            assert_eq!(got_item, item);
            assert_eq!(got_message, message);
        }
        Err(other) => panic!("expected Error::Invalid, got {other:?}"),
        Ok(_) => panic!("expected {item}: {message}, but the model was built"),
    }
}

#[test]
fn the_base_scenario_is_valid() {
    let m = model(&base());
    assert_eq!(m.clinics().len(), 2);
    assert_eq!(m.practitioners()[0].records().len(), 2);
}

// Settings.

#[test]
fn version_must_be_one_two_or_three() {
    check_invalid(
        &with("/version", json!(4)),
        "version",
        "unsupported version 4, expected 1, 2 or 3",
    );
    check_invalid(
        &with("/version", json!(0)),
        "version",
        "unsupported version 0, expected 1, 2 or 3",
    );
    // The base scenario is v1 and reads the same as v2 and v3.
    let v1 = model(&base());
    for version in [2, 3] {
        let later = model(&with("/version", json!(version)));
        assert_eq!(v1.practitioners().len(), later.practitioners().len());
    }
}

#[test]
fn v2_fields_need_version_two() {
    let buffered = with("/services/0/buffer_after_minutes", json!(10));
    let err = Model::from_json(buffered.to_string().as_bytes()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("buffer_after_minutes needs \"version\": 2"),
        "{err}"
    );
    // Written at its default, a v2 field changes nothing and is allowed in v1.
    assert!(
        Model::from_json(
            with("/services/0/buffer_before_minutes", json!(0))
                .to_string()
                .as_bytes()
        )
        .is_ok()
    );
    let series = with("/services/0/allow_series", json!(true));
    assert!(Model::from_json(series.to_string().as_bytes()).is_err());
    let mut v2 = with("/services/0/buffer_after_minutes", json!(1441));
    v2["version"] = json!(2);
    check_invalid(
        &v2,
        "service \"initial\"",
        "buffer_after_minutes 1441 is out of range 0..=1440",
    );
    v2["services"][0]["buffer_after_minutes"] = json!(15);
    let m = model(&v2);
    assert_eq!(m.services()[0].buffers.after_minutes, 15);
}

#[test]
fn resolution_must_be_one_five_or_fifteen() {
    check_invalid(
        &with("/settings/resolution_minutes", json!(10)),
        "settings",
        "resolution_minutes: resolution 10 is not one of 1, 5, 15",
    );
    // With r = 1 every block time of the base is still on the grid.
    let m = model(&with("/settings/resolution_minutes", json!(1)));
    assert_eq!(m.settings().resolution.minutes(), 1);
}

#[test]
fn slot_step_must_be_a_positive_multiple_of_r_up_to_a_day() {
    for (r, step) in [(5, 7), (5, 0), (15, 20), (1, 1441), (5, 1445)] {
        let mut doc = with("/settings/slot_step_minutes", json!(step));
        set(&mut doc, "/settings/resolution_minutes", json!(r));
        check_invalid(
            &doc,
            "settings",
            &format!(
                "slot_step_minutes {step} is not a positive multiple of the {r}-minute resolution up to 1440"
            ),
        );
    }
    for (r, step) in [(1, 1440), (5, 1440), (15, 1440), (1, 7), (5, 10)] {
        let mut doc = with("/settings/slot_step_minutes", json!(step));
        set(&mut doc, "/settings/resolution_minutes", json!(r));
        assert_eq!(model(&doc).settings().slot_step_minutes, step);
    }
}

#[test]
fn a_record_slot_step_follows_the_same_rule() {
    for step in [7, 0, 1441] {
        check_invalid(
            &with(
                "/practitioners/0/availability/0/slot_step_minutes",
                json!(step),
            ),
            RECORD_1,
            &format!(
                "slot_step_minutes {step} is not a positive multiple of the 5-minute resolution up to 1440"
            ),
        );
    }
}

#[test]
fn min_notice_is_at_most_a_year() {
    check_invalid(
        &with("/settings/min_notice_minutes", json!(525_601)),
        "settings",
        "min_notice_minutes 525601 is out of range 0..=525600",
    );
    let m = model(&with("/settings/min_notice_minutes", json!(525_600)));
    assert_eq!(m.settings().min_notice_minutes, 525_600);
}

#[test]
fn max_days_ahead_is_at_most_3660() {
    check_invalid(
        &with("/settings/max_days_ahead", json!(3661)),
        "settings",
        "max_days_ahead 3661 is out of range 0..=3660",
    );
    assert_eq!(
        model(&with("/settings/max_days_ahead", json!(3660)))
            .settings()
            .max_days_ahead,
        3660
    );
    assert_eq!(
        model(&with("/settings/max_days_ahead", json!(0)))
            .settings()
            .max_days_ahead,
        0
    );
}

// Ranges of items.

#[test]
fn default_duration_is_one_minute_to_a_day() {
    for minutes in [0, 1441] {
        check_invalid(
            &with("/schedule_types/0/default_duration_minutes", json!(minutes)),
            r#"schedule type "physio""#,
            &format!("default_duration_minutes {minutes} is out of range 1..=1440"),
        );
    }
    for minutes in [1, 1440] {
        let m = model(&with(
            "/schedule_types/0/default_duration_minutes",
            json!(minutes),
        ));
        let physio = m.schedule_type_ix("physio").unwrap();
        assert_eq!(m.schedule_type(physio).default_duration_minutes, minutes);
    }
}

#[test]
fn service_duration_is_one_minute_to_a_day() {
    for minutes in [0, 1441] {
        check_invalid(
            &with("/services/0/duration_minutes", json!(minutes)),
            r#"service "initial""#,
            &format!("duration_minutes {minutes} is out of range 1..=1440"),
        );
    }
    model(&with("/services/0/duration_minutes", json!(1440)));
}

#[test]
fn portal_conflicts_is_one_to_ten_thousand() {
    for places in [0, 10_001] {
        check_invalid(
            &with("/services/0/portal_conflicts", json!(places)),
            r#"service "initial""#,
            &format!("portal_conflicts {places} is out of range 1..=10000"),
        );
    }
    let m = model(&with("/services/0/portal_conflicts", json!(10_000)));
    assert_eq!(m.services()[0].portal_conflicts, 10_000);
}

// Duplicate ids.

#[test]
fn ids_are_unique_within_each_kind() {
    let mut doc = base();
    let clinic = doc["clinics"][0].clone();
    set(&mut doc, "/clinics/-", clinic);
    check_invalid(&doc, r#"clinic "toronto""#, "duplicate id");

    let mut doc = base();
    set(&mut doc, "/schedule_types/-", json!({"id": "massage"}));
    check_invalid(&doc, r#"schedule type "massage""#, "duplicate id");

    let mut doc = base();
    set(
        &mut doc,
        "/practitioners/-",
        json!({"id": "christine", "type": "rmt", "home_clinic": "whitby"}),
    );
    check_invalid(&doc, r#"practitioner "christine""#, "duplicate id");

    let mut doc = base();
    set(
        &mut doc,
        "/services/-",
        json!({"id": "phone", "duration_minutes": 5}),
    );
    check_invalid(&doc, r#"service "phone""#, "duplicate id");

    let mut doc = base();
    set(
        &mut doc,
        "/patients/-",
        json!({"id": "pat-1", "first_name": "B", "last_name": "C", "email": "d"}),
    );
    check_invalid(&doc, r#"patient "pat-1""#, "duplicate id");

    let mut doc = base();
    set(&mut doc, "/appointments/1/id", json!("a-1"));
    check_invalid(&doc, r#"appointment "a-1""#, "duplicate id");
}

#[test]
fn appointment_ids_are_unique_whatever_their_order() {
    // Ids in increasing order, as an export lists them, are accepted ...
    let mut doc = base();
    set(&mut doc, "/appointments/1/id", json!("a-2"));
    assert_eq!(model(&doc).appointments().len(), 2);
    // ... a repeat after them is still found ...
    let first = doc["appointments"][0].clone();
    set(&mut doc, "/appointments/-", first);
    check_invalid(&doc, r#"appointment "a-1""#, "duplicate id");
    // ... and so is one among ids out of order.
    let mut doc = base();
    set(&mut doc, "/appointments/0/id", json!("b"));
    set(&mut doc, "/appointments/1/id", json!("a"));
    let again = doc["appointments"][0].clone();
    set(&mut doc, "/appointments/-", again);
    check_invalid(&doc, r#"appointment "b""#, "duplicate id");
}

#[test]
fn the_same_id_in_different_kinds_is_fine() {
    let mut doc = base();
    set(
        &mut doc,
        "/services/-",
        json!({"id": "physio", "duration_minutes": 30}),
    );
    set(&mut doc, "/appointments/1/id", json!("christine"));
    model(&doc);
}

// References.

#[test]
fn references_to_unknown_clinics_are_refused() {
    check_invalid(
        &with("/schedule_types/0/clinic", json!("nowhere")),
        r#"schedule type "physio""#,
        r#"unknown clinic "nowhere""#,
    );
    check_invalid(
        &with("/practitioners/0/home_clinic", json!("nowhere")),
        r#"practitioner "christine""#,
        r#"unknown clinic "nowhere""#,
    );
    check_invalid(
        &with("/practitioners/0/availability/0/clinic", json!("nowhere")),
        RECORD_1,
        r#"unknown clinic "nowhere""#,
    );
}

#[test]
fn references_to_unknown_schedule_types_are_refused() {
    check_invalid(
        &with("/practitioners/0/schedule_types", json!(["physio", "nope"])),
        r#"practitioner "christine""#,
        r#"unknown schedule type "nope""#,
    );
    check_invalid(
        &with(
            "/practitioners/0/availability/0/blocks/1/schedule_type",
            json!("nope"),
        ),
        &format!("{RECORD_1}: block 2"),
        r#"unknown schedule type "nope""#,
    );
    check_invalid(
        &with("/services/0/schedule_types", json!(["nope"])),
        r#"service "initial""#,
        r#"unknown schedule type "nope""#,
    );
    check_invalid(
        &with("/appointments/0/schedule_type", json!("nope")),
        r#"appointment "a-1""#,
        r#"unknown schedule type "nope""#,
    );
}

#[test]
fn references_to_unknown_practitioners_are_refused() {
    check_invalid(
        &with(
            "/patients/0/available_practitioners",
            json!(["christine", "nobody"]),
        ),
        r#"patient "pat-1""#,
        r#"unknown practitioner "nobody""#,
    );
    check_invalid(
        &with("/appointments/0/practitioner", json!("nobody")),
        r#"appointment "a-1""#,
        r#"unknown practitioner "nobody""#,
    );
    // An appointment without an id is named by its position.
    check_invalid(
        &with("/appointments/1/practitioner", json!("nobody")),
        "appointment #2",
        r#"unknown practitioner "nobody""#,
    );
    check_invalid(
        &with("/query/practitioners", json!(["christine", "nobody"])),
        "query",
        r#"unknown practitioner "nobody""#,
    );
}

#[test]
fn references_to_unknown_services_and_patients_are_refused() {
    check_invalid(
        &with("/appointments/0/service", json!("nope")),
        r#"appointment "a-1""#,
        r#"unknown service "nope""#,
    );
    check_invalid(
        &with("/appointments/1/patient", json!("nobody")),
        "appointment #2",
        r#"unknown patient "nobody""#,
    );
    check_invalid(
        &with("/query/service", json!("nope")),
        "query",
        r#"unknown service "nope""#,
    );
}

// Blocks.

#[test]
fn block_times_must_be_on_the_grid() {
    check_invalid(
        &with(
            "/practitioners/0/availability/0/blocks/0/start",
            json!("09:07"),
        ),
        &format!("{RECORD_1}: block 1"),
        "09:07 is not on the 5-minute grid",
    );
    check_invalid(
        &with(
            "/practitioners/0/availability/0/blocks/1/end",
            json!("13:58"),
        ),
        &format!("{RECORD_1}: block 2"),
        "13:58 is not on the 5-minute grid",
    );
    let mut doc = with("/settings/resolution_minutes", json!(15));
    set(
        &mut doc,
        "/practitioners/0/availability/0/blocks/0/end",
        json!("11:50"),
    );
    check_invalid(
        &doc,
        &format!("{RECORD_1}: block 1"),
        "11:50 is not on the 15-minute grid",
    );
    check_invalid(
        &with(
            "/practitioners/0/availability/0/portal_blocks/0/start",
            json!("09:01"),
        ),
        &format!("{RECORD_1}: portal block 1"),
        "09:01 is not on the 5-minute grid",
    );
}

#[test]
fn block_start_must_come_before_its_end() {
    check_invalid(
        &with(
            "/practitioners/0/availability/0/blocks/0/start",
            json!("12:00"),
        ),
        &format!("{RECORD_1}: block 1"),
        "start 12:00 is not before end 12:00",
    );
    check_invalid(
        &with(
            "/practitioners/0/availability/0/blocks/0/start",
            json!("24:00"),
        ),
        &format!("{RECORD_1}: block 1"),
        "start 24:00 is only valid as an end",
    );
    check_invalid(
        &with(
            "/practitioners/0/availability/0/portal_blocks/0/end",
            json!("08:00"),
        ),
        &format!("{RECORD_1}: portal block 1"),
        "start 09:00 is not before end 08:00",
    );
}

#[test]
fn a_day_is_named_at_most_once_per_block() {
    check_invalid(
        &with(
            "/practitioners/0/availability/0/blocks/0/days",
            json!(["mon", "wed", "mon"]),
        ),
        &format!("{RECORD_1}: block 1"),
        "day mon is named twice",
    );
    check_invalid(
        &with(
            "/practitioners/0/availability/0/portal_blocks/0/days",
            json!(["fri", "fri"]),
        ),
        &format!("{RECORD_1}: portal block 1"),
        "day fri is named twice",
    );
}

#[test]
fn two_blocks_of_a_record_may_not_cover_the_same_cell() {
    // Massage from 11:55 overlaps physio's last cell on Mondays.
    check_invalid(
        &with(
            "/practitioners/0/availability/0/blocks/1/start",
            json!("11:55"),
        ),
        &format!("{RECORD_1}: block 2"),
        r#"covers mon 11:55-14:00 already covered by another block of "physio""#,
    );
    // Two blocks of the same schedule type overlapping are refused too.
    let mut doc = base();
    set(
        &mut doc,
        "/practitioners/0/availability/0/blocks/-",
        json!({"days": ["wed"], "start": "11:00", "end": "13:00", "schedule_type": "physio"}),
    );
    check_invalid(
        &doc,
        &format!("{RECORD_1}: block 3"),
        r#"covers wed 11:00-13:00 already covered by another block of "physio""#,
    );
    // Touching blocks, and overlaps on different days, are fine.
    let mut doc = base();
    set(
        &mut doc,
        "/practitioners/0/availability/0/blocks/-",
        json!({"days": ["tue"], "start": "11:00", "end": "13:00", "schedule_type": "physio"}),
    );
    set(
        &mut doc,
        "/practitioners/0/availability/0/blocks/-",
        json!({"days": ["wed"], "start": "12:00", "end": "13:00", "schedule_type": "massage"}),
    );
    model(&doc);
}

#[test]
fn portal_blocks_may_overlap_each_other() {
    let doc = with(
        "/practitioners/0/availability/0/portal_blocks",
        json!([{"days": ["mon"], "start": "09:00", "end": "11:00"},
               {"days": ["mon"], "start": "10:00", "end": "12:00"}]),
    );
    let m = model(&doc);
    let record = &m.practitioners()[0].records()[0];
    assert_eq!(record.portal().unwrap().to_string(), "mon 09:00-12:00");
}

#[test]
fn a_block_schedule_type_must_be_assigned_to_the_practitioner() {
    check_invalid(
        &with(
            "/practitioners/0/availability/0/blocks/1/schedule_type",
            json!("other"),
        ),
        &format!("{RECORD_1}: block 2"),
        r#"schedule type "other" is not assigned to the practitioner"#,
    );
}

// Records.

#[test]
fn overlapping_records_are_refused_naming_both() {
    let doc = with(
        "/practitioners/0/availability/1/start_date",
        json!("2026-04-15"),
    );
    check_invalid(
        &doc,
        r#"practitioner "christine""#,
        "availability records 2026-01-01..2026-04-30 and 2026-04-15.. overlap",
    );
    // The one line the CLI prints is the spec's example.
    let scenario = Scenario::from_json(&serde_json::to_vec(&doc).unwrap()).unwrap();
    assert_eq!(
        Model::new(&scenario).unwrap_err().to_string(),
        r#"practitioner "christine": availability records 2026-01-01..2026-04-30 and 2026-04-15.. overlap"#
    );
    // Sharing only the last date is an overlap; the next day is not.
    check_invalid(
        &with(
            "/practitioners/0/availability/1/start_date",
            json!("2026-04-30"),
        ),
        r#"practitioner "christine""#,
        "availability records 2026-01-01..2026-04-30 and 2026-04-30.. overlap",
    );
}

#[test]
fn overlaps_are_found_whatever_the_document_order() {
    // A long record listed last that overlaps a short one listed first.
    let mut doc = base();
    set(
        &mut doc,
        "/practitioners/0/availability",
        json!([
            {"start_date": "2026-06-01", "end_date": "2026-06-30", "blocks": []},
            {"start_date": "2026-08-01", "end_date": "2026-08-31", "blocks": []},
            {"start_date": "2026-01-01", "end_date": "2026-12-31", "blocks": []}
        ]),
    );
    check_invalid(
        &doc,
        r#"practitioner "christine""#,
        "availability records 2026-01-01..2026-12-31 and 2026-06-01..2026-06-30 overlap",
    );
}

#[test]
fn a_record_may_not_end_before_it_starts() {
    check_invalid(
        &with(
            "/practitioners/0/availability/1/end_date",
            json!("2026-04-30"),
        ),
        r#"practitioner "christine""#,
        "availability record 2026-05-01: end_date 2026-04-30 is before start_date 2026-05-01",
    );
    // A one-day record is fine.
    model(&with(
        "/practitioners/0/availability/1/end_date",
        json!("2026-05-01"),
    ));
}

// Query.

#[test]
fn the_query_service_must_be_bookable_from_the_portal() {
    check_invalid(
        &with("/query/service", json!("phone")),
        "query",
        r#"service "phone" is not bookable from the portal"#,
    );
}

#[test]
fn the_query_dates_run_forward_for_at_most_366_days() {
    check_invalid(
        &with("/query/from", json!("2026-03-09")),
        "query",
        "from 2026-03-09 is after to 2026-03-08",
    );
    let mut doc = with("/query/from", json!("2026-01-01"));
    set(&mut doc, "/query/to", json!("2027-01-02"));
    check_invalid(
        &doc,
        "query",
        "range 2026-01-01..=2027-01-02 is 367 days, more than 366",
    );
    set(&mut doc, "/query/to", json!("2027-01-01"));
    assert_eq!(model(&doc).query().unwrap().dates.len(), 366);
    // A single day is a range.
    let mut doc = with("/query/from", json!("2026-03-08"));
    set(&mut doc, "/query/to", json!("2026-03-08"));
    assert_eq!(model(&doc).query().unwrap().dates.len(), 1);
}

// Time.

#[test]
fn an_appointment_must_end_after_it_starts() {
    check_invalid(
        &with("/appointments/0/end", json!("2026-03-02T09:00:00-05:00")),
        r#"appointment "a-1""#,
        "end 2026-03-02T14:00:00Z is not after start 2026-03-02T14:00:00Z",
    );
    check_invalid(
        &with(
            "/appointments/1/end",
            json!("2026-03-02T09:59:59.999999999-05:00"),
        ),
        "appointment #2",
        "end 2026-03-02T14:59:59.999999999Z is not after start 2026-03-02T15:00:00Z",
    );
}

#[test]
fn time_off_must_end_after_it_starts() {
    check_invalid(
        &with(
            "/practitioners/0/time_off/0/end",
            json!("2026-03-03T12:00:00-05:00"),
        ),
        r#"practitioner "christine""#,
        "time off 2026-03-03T17:00:00Z..2026-03-03T17:00:00Z: end is not after start",
    );
    check_invalid(
        &with(
            "/practitioners/0/time_off/0/end",
            json!("2026-03-03T11:00:00-05:00"),
        ),
        r#"practitioner "christine""#,
        "time off 2026-03-03T17:00:00Z..2026-03-03T16:00:00Z: end is not after start",
    );
}

// What a valid model holds.

#[test]
fn entities_are_sorted_by_id_bytewise() {
    let mut doc = base();
    set(
        &mut doc,
        "/clinics/-",
        json!({"id": "Ajax", "timezone": "America/Toronto"}),
    );
    set(
        &mut doc,
        "/practitioners/-",
        json!({"id": "Bob", "type": "rmt", "home_clinic": "Ajax"}),
    );
    set(
        &mut doc,
        "/practitioners/-",
        json!({"id": "alice", "type": "rmt", "home_clinic": "whitby"}),
    );
    let m = model(&doc);
    let ids = |list: Vec<&str>| list.join(" ");
    // Upper case sorts before lower case: bytes, not a locale.
    assert_eq!(
        ids(m.clinics().iter().map(|c| c.id.as_str()).collect()),
        "Ajax toronto whitby"
    );
    assert_eq!(
        ids(m.practitioners().iter().map(|p| p.id.as_str()).collect()),
        "Bob alice christine"
    );
    assert_eq!(
        ids(m.schedule_types().iter().map(|t| t.id.as_str()).collect()),
        "massage other physio"
    );
    assert_eq!(
        ids(m.services().iter().map(|s| s.id.as_str()).collect()),
        "initial phone"
    );
    // Indices follow the sorted order, and references were resolved through them.
    let bob = m.practitioner_ix("Bob").unwrap();
    assert_eq!(bob.index(), 0);
    assert_eq!(
        m.practitioner(bob).home_clinic,
        m.clinic_ix("Ajax").unwrap()
    );
    let indices: Vec<usize> = m
        .practitioner_indices()
        .map(PractitionerIx::index)
        .collect();
    assert_eq!(indices, [0, 1, 2]);
    assert_eq!(m.schedule_type_indices().count(), 3);
}

#[test]
fn names_default_to_ids() {
    let m = model(&base());
    let toronto = m.clinic(m.clinic_ix("toronto").unwrap());
    assert_eq!(toronto.name.as_str(), "toronto");
    assert_eq!(
        m.clinic(m.clinic_ix("whitby").unwrap()).name.as_str(),
        "Whitby"
    );
    let physio = m.schedule_type(m.schedule_type_ix("physio").unwrap());
    assert_eq!(physio.name.as_str(), "Physiotherapy");
    let massage = m.schedule_type(m.schedule_type_ix("massage").unwrap());
    assert_eq!(massage.name.as_str(), "massage");
    assert_eq!(massage.clinic, None);
    assert!(massage.allow_conflicts);
    assert_eq!(massage.default_duration_minutes, 30);
    assert_eq!(m.practitioners()[0].name.as_str(), "christine");
    assert_eq!(m.services()[0].name.as_str(), "initial");
}

#[test]
fn lookups_by_id() {
    let m = model(&base());
    for id in ["toronto", "whitby"] {
        assert_eq!(m.clinic(m.clinic_ix(id).unwrap()).id.as_str(), id);
    }
    for id in ["physio", "massage", "other"] {
        assert_eq!(
            m.schedule_type(m.schedule_type_ix(id).unwrap()).id.as_str(),
            id
        );
    }
    assert_eq!(
        m.practitioner(m.practitioner_ix("christine").unwrap())
            .id
            .as_str(),
        "christine"
    );
    assert_eq!(
        m.service(m.service_ix("phone").unwrap()).id.as_str(),
        "phone"
    );
    assert_eq!(
        m.patient(m.patient_ix("pat-1").unwrap()).id.as_str(),
        "pat-1"
    );
    assert_eq!(m.clinic_ix("Toronto"), None);
    assert_eq!(m.schedule_type_ix("nope"), None);
    assert_eq!(m.practitioner_ix(""), None);
    assert_eq!(m.service_ix("initial "), None);
    assert_eq!(m.patient_ix("pat-2"), None);
}

#[test]
fn holidays_are_sorted_without_repeats() {
    let m = model(&with(
        "/clinics/0/holidays",
        json!(["2026-12-25", "2026-01-01", "2026-12-25"]),
    ));
    let toronto = m.clinic(m.clinic_ix("toronto").unwrap());
    let holidays: Vec<String> = toronto.holidays.iter().map(ToString::to_string).collect();
    assert_eq!(holidays, ["2026-01-01", "2026-12-25"]);
    assert!(toronto.is_holiday("2026-01-01".parse().unwrap()));
    assert!(!toronto.is_holiday("2026-01-02".parse().unwrap()));
}

#[test]
fn assigned_schedule_types_are_sorted_without_repeats() {
    let m = model(&with(
        "/practitioners/0/schedule_types",
        json!(["physio", "massage", "physio"]),
    ));
    let p = &m.practitioners()[0];
    let massage = m.schedule_type_ix("massage").unwrap();
    let physio = m.schedule_type_ix("physio").unwrap();
    assert_eq!(p.schedule_types, [massage, physio]);
    assert!(p.has_schedule_type(physio));
    assert!(!p.has_schedule_type(m.schedule_type_ix("other").unwrap()));
    let initial = m.service(m.service_ix("initial").unwrap());
    assert!(initial.applies_to(physio));
    assert!(!initial.applies_to(massage));
}

#[test]
fn records_are_sorted_and_found_by_date() {
    let mut doc = base();
    let records = doc["practitioners"][0]["availability"]
        .as_array_mut()
        .unwrap();
    records.reverse();
    let m = model(&doc);
    let p = &m.practitioners()[0];
    let starts: Vec<String> = p
        .records()
        .iter()
        .map(|r| r.dates().start().to_string())
        .collect();
    assert_eq!(starts, ["2026-01-01", "2026-05-01"]);
    let on = |d: &str| {
        p.record_on(d.parse().unwrap())
            .map(|r| r.dates().to_string())
    };
    assert_eq!(on("2025-12-31"), None);
    assert_eq!(on("2026-01-01").as_deref(), Some("2026-01-01..2026-04-30"));
    assert_eq!(on("2026-04-30").as_deref(), Some("2026-01-01..2026-04-30"));
    assert_eq!(on("2026-05-01").as_deref(), Some("2026-05-01.."));
    assert_eq!(on("2199-12-31").as_deref(), Some("2026-05-01.."));
    // A gap between records has none.
    let m = model(&with(
        "/practitioners/0/availability/1/start_date",
        json!("2026-06-01"),
    ));
    let p = &m.practitioners()[0];
    assert!(p.record_on("2026-05-15".parse().unwrap()).is_none());
}

#[test]
fn record_steps_default_to_the_setting() {
    let m = model(&base());
    let steps: Vec<u32> = m.practitioners()[0]
        .records()
        .iter()
        .map(|r| r.slot_step())
        .collect();
    assert_eq!(steps, [15, 30]);
}

#[test]
fn rule_6_picks_the_slot_clinic() {
    let m = model(&base());
    let christine = m.practitioner_ix("christine").unwrap();
    let p = m.practitioner(christine);
    let (physio, massage) = (
        m.schedule_type_ix("physio").unwrap(),
        m.schedule_type_ix("massage").unwrap(),
    );
    let (toronto, whitby) = (
        m.clinic_ix("toronto").unwrap(),
        m.clinic_ix("whitby").unwrap(),
    );
    // The schedule type's clinic wins; else the record's; else the home clinic.
    assert_eq!(m.slot_clinic(physio, &p.records()[1], christine), toronto);
    assert_eq!(m.slot_clinic(massage, &p.records()[1], christine), whitby);
    assert_eq!(m.slot_clinic(massage, &p.records()[0], christine), toronto);
    // The grids carry the same answer.
    assert_eq!(p.records()[0].grid_of(massage).unwrap().clinic, toronto);
    assert_eq!(p.records()[1].grid_of(massage).unwrap().clinic, whitby);
}

#[test]
fn appointments_keep_document_order_and_cancelled_ones_free_their_time() {
    let m = model(&base());
    let a: Vec<_> = m.appointments().collect();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].patient, m.patient_ix("pat-1"));
    assert_eq!(a[0].service, m.service_ix("initial"));
    assert_eq!(a[0].schedule_type, m.schedule_type_ix("physio"));
    assert_eq!(a[0].status, Status::Booked);
    assert_eq!(a[1].status, Status::Cancelled);
    assert_eq!(a[1].patient, None);
    let occupancy = m.practitioners()[0].occupancy();
    let r = m.settings().resolution;
    let span = |s: &str, e: &str| {
        crate::occupancy::CellSpan::touched_by(r, s.parse().unwrap(), e.parse().unwrap())
    };
    assert_eq!(
        occupancy.max_count(span(
            "2026-03-02T09:00:00-05:00",
            "2026-03-02T09:45:00-05:00"
        )),
        1
    );
    assert_eq!(
        occupancy.max_count(span(
            "2026-03-02T10:00:00-05:00",
            "2026-03-02T10:30:00-05:00"
        )),
        0
    );
    assert!(occupancy.time_off_touches(span(
        "2026-03-03T16:55:00-05:00",
        "2026-03-03T17:00:00-05:00"
    )));
    assert_eq!(m.practitioners()[0].time_off().len(), 1);
}

#[test]
fn every_status_but_cancelled_occupies_time() {
    for (status, busy) in [
        ("booked", 1),
        ("pending", 1),
        ("completed", 1),
        ("no_show", 1),
        ("cancelled", 0),
    ] {
        let m = model(&with("/appointments/0/status", json!(status)));
        let r = m.settings().resolution;
        let span = crate::occupancy::CellSpan::touched_by(
            r,
            "2026-03-02T09:00:00-05:00".parse().unwrap(),
            "2026-03-02T09:05:00-05:00".parse().unwrap(),
        );
        assert_eq!(
            m.practitioners()[0].occupancy().max_count(span),
            busy,
            "{status}"
        );
    }
}

#[test]
fn the_query_becomes_a_slot_query() {
    let m = model(&with(
        "/query/practitioners",
        json!(["christine", "christine"]),
    ));
    let q = m.query().unwrap();
    assert_eq!(q.portal.service(), m.service_ix("initial").unwrap());
    // Duplicates count once.
    assert_eq!(
        q.portal.practitioners(),
        Some(&[m.practitioner_ix("christine").unwrap()][..])
    );
    assert_eq!(q.portal.now().to_string(), "2026-03-01T00:00:00Z");
    assert!(!q.portal.telehealth());
    assert_eq!(q.dates.from().to_string(), "2026-03-02");
    assert_eq!(q.dates.to().to_string(), "2026-03-08");
    // An empty list stays empty (no slots), unlike null (everyone).
    let m = model(&with("/query/practitioners", json!([])));
    assert_eq!(m.query().unwrap().portal.practitioners(), Some(&[][..]));
    let m = model(&base());
    assert_eq!(m.query().unwrap().portal.practitioners(), None);
    // Without a query, none.
    let mut doc = base();
    doc.as_object_mut().unwrap().remove("query");
    assert!(model(&doc).query().is_none());
}

#[test]
fn patients_list_their_practitioners_sorted() {
    let mut doc = base();
    set(
        &mut doc,
        "/practitioners/-",
        json!({"id": "aaron", "type": "rmt", "home_clinic": "whitby"}),
    );
    set(
        &mut doc,
        "/patients/0/available_practitioners",
        json!(["christine", "aaron", "christine"]),
    );
    let m = model(&doc);
    let patient = m.patient(m.patient_ix("pat-1").unwrap());
    assert_eq!(
        patient.available_practitioners.as_deref(),
        Some(
            &[
                m.practitioner_ix("aaron").unwrap(),
                m.practitioner_ix("christine").unwrap()
            ][..]
        )
    );
    assert_eq!(patient.first_name.as_str(), "Ada");
}

#[test]
fn from_json_parses_and_validates() {
    let text = serde_json::to_vec(&base()).unwrap();
    let m = Model::from_json(&text).unwrap();
    assert_eq!(m.practitioners().len(), 1);
    assert!(matches!(
        Model::from_json(br#"{"version": 1, "bogus": 1}"#),
        Err(Error::Json { .. })
    ));
    assert!(matches!(
        Model::from_json(br#"{"version": 4}"#),
        Err(Error::Invalid { .. })
    ));
}
