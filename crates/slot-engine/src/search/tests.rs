use super::*;

use serde_json::{Value, json};

use crate::scenario::Scenario;

/// One clinic in Toronto, one schedule type there, one practitioner "ana" working
/// Mondays 09:00–11:00 from 2026-01-01, and a 30-minute portal service on a 30-minute
/// step. The query asks about Monday 2026-03-02 from the day before.
fn base() -> Value {
    json!({
        "version": 1,
        "settings": {"resolution_minutes": 5, "slot_step_minutes": 30},
        "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto"}],
        "schedule_types": [{"id": "physio", "name": "Physiotherapy", "clinic": "toronto"}],
        "practitioners": [{
            "id": "ana", "type": "physiotherapist", "home_clinic": "toronto",
            "schedule_types": ["physio"],
            "availability": [{"start_date": "2026-01-01",
                "blocks": [{"days": ["mon"], "start": "09:00", "end": "11:00",
                            "schedule_type": "physio"}]}]
        }],
        "services": [{"id": "visit", "name": "Visit", "duration_minutes": 30,
                      "book_from_portal": true, "schedule_types": ["physio"]}],
        "query": {"service": "visit", "from": "2026-03-02", "to": "2026-03-02",
                  "now": "2026-03-01T00:00:00Z"}
    })
}

/// `doc` with the value at `pointer` set (an object member is added if missing, `/-`
/// appends to an array).
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

/// `base()` with each `(pointer, value)` set in turn.
fn with(changes: &[(&str, Value)]) -> Value {
    let mut doc = base();
    for (pointer, value) in changes {
        set(&mut doc, pointer, value.clone());
    }
    doc
}

fn model(doc: &Value) -> Model {
    let scenario = Scenario::from_json(&serde_json::to_vec(doc).unwrap()).unwrap();
    Model::new(&scenario).unwrap_or_else(|e| panic!("model refused: {e}"))
}

/// The answer to the scenario's own query, one line per slot:
/// `start end practitioner schedule-type clinic`.
fn answer(doc: &Value) -> Vec<String> {
    let m = model(doc);
    describe(&m, &m.open_slots(m.query().unwrap()))
}

fn describe(m: &Model, slots: &[Slot]) -> Vec<String> {
    slots
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {} {}",
                s.start_text(),
                s.end_text(),
                m.practitioner(s.practitioner).id,
                m.schedule_type(s.schedule_type).id,
                m.clinic(s.clinic).id
            )
        })
        .collect()
}

/// The start texts of the answer to the scenario's own query.
fn starts(doc: &Value) -> Vec<String> {
    let m = model(doc);
    m.open_slots(m.query().unwrap())
        .iter()
        .map(Slot::start_text)
        .collect()
}

/// The local `HH:MM` of each start of the answer.
fn times(doc: &Value) -> Vec<String> {
    starts(doc)
        .into_iter()
        .map(|s| s[11..16].to_owned())
        .collect()
}

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

// Date ranges.

#[test]
fn date_range_bounds() {
    let r = DateRange::new(date("2026-03-02"), date("2026-03-08")).unwrap();
    assert_eq!(
        (r.from(), r.to(), r.len()),
        (date("2026-03-02"), date("2026-03-08"), 7)
    );
    assert!(r.contains(date("2026-03-02")) && r.contains(date("2026-03-08")));
    assert!(!r.contains(date("2026-03-01")) && !r.contains(date("2026-03-09")));
    let listed: Vec<String> = r.dates().map(|d| d.to_string()).collect();
    assert_eq!(listed.first().map(String::as_str), Some("2026-03-02"));
    assert_eq!(listed.len(), 7);
    assert_eq!(
        DateRange::new(date("2026-03-02"), date("2026-03-02"))
            .unwrap()
            .len(),
        1
    );
    // 2028 is a leap year: 366 days from 2028-01-01 end on 2028-12-31.
    assert_eq!(
        DateRange::new(date("2028-01-01"), date("2028-12-31"))
            .unwrap()
            .len(),
        366
    );
    assert_eq!(
        DateRange::new(date("2026-01-01"), date("2027-01-02"))
            .unwrap_err()
            .to_string(),
        "range 2026-01-01..=2027-01-02 is 367 days, more than 366"
    );
    assert_eq!(
        DateRange::new(date("2026-03-03"), date("2026-03-02"))
            .unwrap_err()
            .to_string(),
        "from 2026-03-03 is after to 2026-03-02"
    );
    let last = DateRange::new(date("2199-12-30"), Date::MAX).unwrap();
    assert_eq!(last.dates().count(), 2);
}

// The base and rule 2.

#[test]
fn the_base_offers_each_step_of_the_block() {
    assert_eq!(
        answer(&base()),
        [
            "2026-03-02T09:00:00-05:00 2026-03-02T09:30:00-05:00 ana physio toronto",
            "2026-03-02T09:30:00-05:00 2026-03-02T10:00:00-05:00 ana physio toronto",
            "2026-03-02T10:00:00-05:00 2026-03-02T10:30:00-05:00 ana physio toronto",
            "2026-03-02T10:30:00-05:00 2026-03-02T11:00:00-05:00 ana physio toronto",
        ]
    );
}

#[test]
fn rule_2_candidates_start_at_multiples_of_the_step_after_midnight() {
    let block = "/practitioners/0/availability/0/blocks/0";
    let doc = with(&[
        ("/settings/slot_step_minutes", json!(15)),
        (&format!("{block}/start"), json!("09:10")),
        (&format!("{block}/end"), json!("10:30")),
    ]);
    assert_eq!(times(&doc), ["09:15", "09:30", "09:45", "10:00"]);
    // A 45-minute step counts from midnight, not from the block's start.
    let doc = with(&[
        ("/settings/slot_step_minutes", json!(45)),
        (&format!("{block}/start"), json!("10:00")),
        (&format!("{block}/end"), json!("12:00")),
    ]);
    assert_eq!(times(&doc), ["10:30", "11:15"]);
}

#[test]
fn rule_2_an_off_grid_duration_needs_every_cell_it_touches() {
    // A 7-minute service on a 5-minute step in 09:00–09:15: 09:10–09:17 would touch the
    // 09:15 cell, outside the block.
    let doc = with(&[
        ("/settings/slot_step_minutes", json!(5)),
        ("/services/0/duration_minutes", json!(7)),
        (
            "/practitioners/0/availability/0/blocks/0/end",
            json!("09:15"),
        ),
    ]);
    assert_eq!(
        answer(&doc),
        [
            "2026-03-02T09:00:00-05:00 2026-03-02T09:07:00-05:00 ana physio toronto",
            "2026-03-02T09:05:00-05:00 2026-03-02T09:12:00-05:00 ana physio toronto",
        ]
    );
}

#[test]
fn rule_2_uses_the_record_step() {
    let doc = with(&[
        (
            "/practitioners/0/availability/0/slot_step_minutes",
            json!(20),
        ),
        ("/services/0/duration_minutes", json!(20)),
        (
            "/practitioners/0/availability/0/blocks/0/end",
            json!("10:00"),
        ),
    ]);
    assert_eq!(times(&doc), ["09:00", "09:20", "09:40"]);
}

#[test]
fn rule_2_a_block_ending_at_24_00_gives_a_slot_ending_at_next_day_midnight() {
    let block = "/practitioners/0/availability/0/blocks/0";
    let doc = with(&[
        (&format!("{block}/start"), json!("23:00")),
        (&format!("{block}/end"), json!("24:00")),
    ]);
    assert_eq!(
        answer(&doc),
        [
            "2026-03-02T23:00:00-05:00 2026-03-02T23:30:00-05:00 ana physio toronto",
            "2026-03-02T23:30:00-05:00 2026-03-03T00:00:00-05:00 ana physio toronto",
        ]
    );
    // Slots never end after 24:00, even when the next day is covered too.
    let doc = with(&[
        ("/settings/slot_step_minutes", json!(45)),
        (&format!("{block}/start"), json!("23:00")),
        (&format!("{block}/end"), json!("24:00")),
        (&format!("{block}/days"), json!(["mon", "tue"])),
        ("/query/to", json!("2026-03-03")),
    ]);
    assert_eq!(
        starts(&doc),
        ["2026-03-02T23:15:00-05:00", "2026-03-03T23:15:00-05:00"]
    );
}

// Rule 3.

#[test]
fn rule_3_only_active_portal_practitioners_of_the_right_type() {
    assert!(starts(&with(&[("/practitioners/0/active", json!(false))])).is_empty());
    assert!(
        starts(&with(&[(
            "/practitioners/0/bookable_in_portal",
            json!(false)
        )]))
        .is_empty()
    );
    assert!(starts(&with(&[("/services/0/practitioner_type", json!("rmt"))])).is_empty());
    assert_eq!(
        starts(&with(&[(
            "/services/0/practitioner_type",
            json!("physiotherapist")
        )]))
        .len(),
        4
    );
}

#[test]
fn rule_3_the_practitioner_must_hold_a_schedule_type_of_the_service() {
    let mut doc = with(&[
        (
            "/schedule_types/-",
            json!({"id": "massage", "clinic": "toronto"}),
        ),
        ("/services/0/schedule_types", json!(["massage"])),
    ]);
    assert!(starts(&doc).is_empty());
    set(
        &mut doc,
        "/practitioners/0/schedule_types/-",
        json!("massage"),
    );
    // Assigned now, but with no massage blocks: still nothing.
    assert!(starts(&doc).is_empty());
}

#[test]
fn rule_3_the_query_list_limits_the_search() {
    let mut doc = base();
    let mut bob = doc["practitioners"][0].clone();
    bob["id"] = json!("bob");
    set(&mut doc, "/practitioners/-", bob);
    assert_eq!(starts(&doc).len(), 8);
    let mut only = doc.clone();
    set(&mut only, "/query/practitioners", json!(["bob"]));
    let m = model(&only);
    let slots = m.open_slots(m.query().unwrap());
    assert_eq!(slots.len(), 4);
    assert!(
        slots
            .iter()
            .all(|s| m.practitioner(s.practitioner).id.as_str() == "bob")
    );
    // An empty list gives no slots; duplicates count once.
    set(&mut only, "/query/practitioners", json!([]));
    assert!(starts(&only).is_empty());
    set(&mut only, "/query/practitioners", json!(["bob", "bob"]));
    assert_eq!(starts(&only).len(), 4);
}

// Rule 4.

#[test]
fn rule_4_the_date_must_fall_in_a_record() {
    let doc = with(&[
        (
            "/practitioners/0/availability/0/start_date",
            json!("2026-03-03"),
        ),
        ("/query/to", json!("2026-03-09")),
    ]);
    assert_eq!(
        starts(&doc).iter().map(|s| &s[..10]).collect::<Vec<_>>(),
        ["2026-03-09"; 4]
    );
    let doc = with(&[
        (
            "/practitioners/0/availability/0/end_date",
            json!("2026-03-02"),
        ),
        ("/query/to", json!("2026-03-09")),
    ]);
    assert_eq!(
        starts(&doc).iter().map(|s| &s[..10]).collect::<Vec<_>>(),
        ["2026-03-02"; 4]
    );
}

#[test]
fn rule_4_each_record_has_its_own_blocks_and_step() {
    let doc = with(&[
        ("/query/to", json!("2026-03-09")),
        (
            "/practitioners/0/availability/0/end_date",
            json!("2026-03-05"),
        ),
        (
            "/practitioners/0/availability/-",
            json!({"start_date": "2026-03-06", "slot_step_minutes": 15,
                   "blocks": [{"days": ["mon"], "start": "14:00", "end": "15:00",
                               "schedule_type": "physio"}]}),
        ),
    ]);
    assert_eq!(
        starts(&doc),
        [
            "2026-03-02T09:00:00-05:00",
            "2026-03-02T09:30:00-05:00",
            "2026-03-02T10:00:00-05:00",
            "2026-03-02T10:30:00-05:00",
            "2026-03-09T14:00:00-04:00",
            "2026-03-09T14:15:00-04:00",
            "2026-03-09T14:30:00-04:00",
        ]
    );
}

// Rule 5.

#[test]
fn rule_5_a_slot_never_spans_two_schedule_types() {
    let doc = with(&[
        ("/schedule_types/-", json!({"id": "massage"})),
        (
            "/practitioners/0/schedule_types",
            json!(["physio", "massage"]),
        ),
        (
            "/practitioners/0/availability/0/blocks/0/end",
            json!("10:00"),
        ),
        (
            "/practitioners/0/availability/0/blocks/-",
            json!({"days": ["mon"], "start": "10:00", "end": "11:00", "schedule_type": "massage"}),
        ),
        ("/services/0/duration_minutes", json!(60)),
        ("/services/0/schedule_types", json!(["physio", "massage"])),
    ]);
    // 09:30–10:30 would cross from physio into massage.
    assert_eq!(
        answer(&doc),
        [
            "2026-03-02T09:00:00-05:00 2026-03-02T10:00:00-05:00 ana physio toronto",
            "2026-03-02T10:00:00-05:00 2026-03-02T11:00:00-05:00 ana massage toronto",
        ]
    );
}

#[test]
fn rule_5_blocks_of_other_schedule_types_give_nothing() {
    let doc = with(&[
        ("/schedule_types/-", json!({"id": "massage"})),
        (
            "/practitioners/0/schedule_types",
            json!(["physio", "massage"]),
        ),
        (
            "/practitioners/0/availability/0/blocks/-",
            json!({"days": ["mon"], "start": "13:00", "end": "14:00", "schedule_type": "massage"}),
        ),
    ]);
    assert_eq!(times(&doc), ["09:00", "09:30", "10:00", "10:30"]);
}

#[test]
fn rule_5_adjacent_blocks_of_one_type_join() {
    let doc = with(&[
        (
            "/practitioners/0/availability/0/blocks/0/end",
            json!("10:00"),
        ),
        (
            "/practitioners/0/availability/0/blocks/-",
            json!({"days": ["mon"], "start": "10:00", "end": "11:00", "schedule_type": "physio"}),
        ),
        ("/services/0/duration_minutes", json!(60)),
    ]);
    assert_eq!(times(&doc), ["09:00", "09:30", "10:00"]);
}

// Rule 6.

#[test]
fn rule_6_the_record_clinic_places_an_any_clinic_schedule_type() {
    let doc = with(&[
        (
            "/clinics/-",
            json!({"id": "tokyo", "timezone": "Asia/Tokyo", "holidays": ["2026-03-09"]}),
        ),
        ("/schedule_types/0/clinic", Value::Null),
        ("/practitioners/0/availability/0/clinic", json!("tokyo")),
        ("/query/to", json!("2026-03-09")),
    ]);
    // Read in Tokyo; Tokyo's holiday on the 9th closes that Monday.
    assert_eq!(
        answer(&doc),
        [
            "2026-03-02T09:00:00+09:00 2026-03-02T09:30:00+09:00 ana physio tokyo",
            "2026-03-02T09:30:00+09:00 2026-03-02T10:00:00+09:00 ana physio tokyo",
            "2026-03-02T10:00:00+09:00 2026-03-02T10:30:00+09:00 ana physio tokyo",
            "2026-03-02T10:30:00+09:00 2026-03-02T11:00:00+09:00 ana physio tokyo",
        ]
    );
    // Without a record clinic, the home clinic.
    let doc = with(&[("/schedule_types/0/clinic", Value::Null)]);
    assert_eq!(starts(&doc)[0], "2026-03-02T09:00:00-05:00");
}

#[test]
fn rule_6_no_slots_on_a_holiday_of_the_slot_clinic() {
    let doc = with(&[("/clinics/0/holidays", json!(["2026-03-02"]))]);
    assert!(starts(&doc).is_empty());
    let doc = with(&[("/clinics/0/holidays", json!(["2026-03-03"]))]);
    assert_eq!(starts(&doc).len(), 4);
}

// Rule 7.

#[test]
fn rule_7_the_portal_overlay() {
    let portal = "/practitioners/0/availability/0/portal_blocks";
    assert_eq!(starts(&with(&[(portal, Value::Null)])).len(), 4);
    assert!(starts(&with(&[(portal, json!([]))])).is_empty());
    assert_eq!(
        times(&with(&[(
            portal,
            json!([{"days": ["mon"], "start": "09:30", "end": "10:30"}])
        )])),
        ["09:30", "10:00"]
    );
    // Overlay cells outside availability never count.
    assert_eq!(
        times(&with(&[(
            portal,
            json!([{"days": ["mon"], "start": "08:00", "end": "10:00"},
                   {"days": ["tue"], "start": "09:00", "end": "10:00"}])
        )])),
        ["09:00", "09:30"]
    );
    // A slot needs the overlay in every cell it touches.
    assert_eq!(
        times(&with(&[(
            portal,
            json!([{"days": ["mon"], "start": "09:00", "end": "09:55"}])
        )])),
        ["09:00"]
    );
}

// Rule 8.

#[test]
fn rule_8_telehealth_queries_need_telehealth_schedule_types() {
    assert!(starts(&with(&[("/query/telehealth", json!(true))])).is_empty());
    assert_eq!(
        starts(&with(&[
            ("/query/telehealth", json!(true)),
            ("/schedule_types/0/telehealth", json!(true)),
        ]))
        .len(),
        4
    );
    // A telehealth schedule type still serves a query that did not ask for it.
    assert_eq!(
        starts(&with(&[("/schedule_types/0/telehealth", json!(true))])).len(),
        4
    );
}

// Rule 9.

/// A night shift 00:00–04:00 on Sundays, a 60-minute service on a 30-minute step.
fn night_shift(timezone: &str, day: &str) -> Value {
    let block = "/practitioners/0/availability/0/blocks/0";
    with(&[
        ("/clinics/0/timezone", json!(timezone)),
        (&format!("{block}/days"), json!(["sun"])),
        (&format!("{block}/start"), json!("00:00")),
        (&format!("{block}/end"), json!("04:00")),
        ("/services/0/duration_minutes", json!(60)),
        ("/query/from", json!(day)),
        ("/query/to", json!(day)),
        ("/settings/max_days_ahead", json!(400)),
    ])
}

#[test]
fn rule_9_spring_forward_drops_missing_times_and_short_slots() {
    // On 2026-03-08 Toronto skips 02:00–03:00: 01:00–02:00 lasts no hour, 01:30 and
    // 02:00/02:30 starts or ends do not exist.
    assert_eq!(
        answer(&night_shift("America/Toronto", "2026-03-08")),
        [
            "2026-03-08T00:00:00-05:00 2026-03-08T01:00:00-05:00 ana physio toronto",
            "2026-03-08T00:30:00-05:00 2026-03-08T01:30:00-05:00 ana physio toronto",
            "2026-03-08T03:00:00-04:00 2026-03-08T04:00:00-04:00 ana physio toronto",
        ]
    );
}

#[test]
fn rule_9_fall_back_takes_the_earlier_reading_and_drops_long_slots() {
    // On 2026-11-01 Toronto repeats 01:00–02:00: 01:00 and 01:30 starts read as EDT,
    // and their hour would last two.
    assert_eq!(
        answer(&night_shift("America/Toronto", "2026-11-01")),
        [
            "2026-11-01T00:00:00-04:00 2026-11-01T01:00:00-04:00 ana physio toronto",
            "2026-11-01T00:30:00-04:00 2026-11-01T01:30:00-04:00 ana physio toronto",
            "2026-11-01T02:00:00-05:00 2026-11-01T03:00:00-05:00 ana physio toronto",
            "2026-11-01T02:30:00-05:00 2026-11-01T03:30:00-05:00 ana physio toronto",
            "2026-11-01T03:00:00-05:00 2026-11-01T04:00:00-05:00 ana physio toronto",
        ]
    );
}

#[test]
fn rule_9_thirty_minute_shifts_on_lord_howe() {
    // 2026-10-04: 02:00 jumps to 02:30.
    let mut doc = night_shift("Australia/Lord_Howe", "2026-10-04");
    set(&mut doc, "/services/0/duration_minutes", json!(30));
    assert_eq!(
        starts(&doc),
        [
            "2026-10-04T00:00:00+10:30",
            "2026-10-04T00:30:00+10:30",
            "2026-10-04T01:00:00+10:30",
            "2026-10-04T02:30:00+11:00",
            "2026-10-04T03:00:00+11:00",
            "2026-10-04T03:30:00+11:00",
        ]
    );
    // 2026-04-05: 02:00 goes back to 01:30, so 01:30–02:00 lasts an hour.
    let mut doc = night_shift("Australia/Lord_Howe", "2026-04-05");
    set(&mut doc, "/services/0/duration_minutes", json!(30));
    assert_eq!(
        answer(&doc)[2..4],
        [
            "2026-04-05T01:00:00+11:00 2026-04-05T01:30:00+11:00 ana physio toronto",
            "2026-04-05T02:00:00+10:30 2026-04-05T02:30:00+10:30 ana physio toronto",
        ]
    );
    assert_eq!(starts(&doc).len(), 7);
}

#[test]
fn rule_9_a_24_00_end_in_a_gap_drops_the_slot() {
    // Havana moves from 00:00 to 01:00 on Sunday 2026-03-08, so Saturday has no 24:00.
    let block = "/practitioners/0/availability/0/blocks/0";
    let doc = with(&[
        ("/clinics/0/timezone", json!("America/Havana")),
        (&format!("{block}/days"), json!(["sat"])),
        (&format!("{block}/start"), json!("23:00")),
        (&format!("{block}/end"), json!("24:00")),
        ("/query/from", json!("2026-03-07")),
        ("/query/to", json!("2026-03-14")),
    ]);
    assert_eq!(
        answer(&doc),
        [
            "2026-03-07T23:00:00-05:00 2026-03-07T23:30:00-05:00 ana physio toronto",
            "2026-03-14T23:00:00-04:00 2026-03-14T23:30:00-04:00 ana physio toronto",
            "2026-03-14T23:30:00-04:00 2026-03-15T00:00:00-04:00 ana physio toronto",
        ]
    );
}

// Rule 10.

#[test]
fn rule_10_time_off_drops_slots_touching_its_cells() {
    // One off-grid minute of time off takes the whole 10:00 cell (r = 5).
    let doc = with(&[
        ("/settings/slot_step_minutes", json!(15)),
        (
            "/practitioners/0/time_off",
            json!([{"start": "2026-03-02T10:02:00-05:00", "end": "2026-03-02T10:03:00-05:00"}]),
        ),
    ]);
    assert_eq!(times(&doc), ["09:00", "09:15", "09:30", "10:15", "10:30"]);
}

// Rule 11.

#[test]
fn rule_11_one_place_unless_the_schedule_type_allows_conflicts() {
    let one = json!([{"practitioner": "ana",
                      "start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T09:30:00-05:00"}]);
    assert_eq!(
        times(&with(&[("/appointments", one.clone())])),
        ["09:30", "10:00", "10:30"]
    );
    // Two places: one appointment leaves room, two do not.
    let shared = |appointments: Value| {
        times(&with(&[
            ("/appointments", appointments),
            ("/schedule_types/0/allow_conflicts", json!(true)),
            ("/services/0/portal_conflicts", json!(2)),
        ]))
    };
    assert_eq!(shared(one.clone()), ["09:00", "09:30", "10:00", "10:30"]);
    let two = json!([
        {"practitioner": "ana", "start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T09:30:00-05:00"},
        {"practitioner": "ana", "start": "2026-03-02T09:25:00-05:00", "end": "2026-03-02T09:35:00-05:00"}
    ]);
    // Only the 09:25 cell holds two, so only the 09:00 slot is full.
    assert_eq!(shared(two), ["09:30", "10:00", "10:30"]);
    // Allowing conflicts with a service taking one place is one place.
    assert_eq!(
        times(&with(&[
            ("/appointments", one),
            ("/schedule_types/0/allow_conflicts", json!(true)),
        ])),
        ["09:30", "10:00", "10:30"]
    );
}

#[test]
fn rule_11_cancelled_appointments_do_not_count() {
    let doc = with(&[(
        "/appointments",
        json!([{"practitioner": "ana", "status": "cancelled",
                "start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T11:00:00-05:00"}]),
    )]);
    assert_eq!(starts(&doc).len(), 4);
}

#[test]
fn rule_11_appointments_count_whatever_their_clinic_or_zone() {
    // An appointment written in London time at another clinic still occupies the same
    // UTC cells: 14:40–14:50 GMT is 09:40–09:50 in Toronto.
    let doc = with(&[
        (
            "/clinics/-",
            json!({"id": "london", "timezone": "Europe/London"}),
        ),
        (
            "/schedule_types/-",
            json!({"id": "remote", "clinic": "london"}),
        ),
        ("/practitioners/0/schedule_types/-", json!("remote")),
        (
            "/appointments",
            json!([{"practitioner": "ana", "schedule_type": "remote",
                    "start": "2026-03-02T14:40:00Z", "end": "2026-03-02T14:50:00Z"}]),
        ),
    ]);
    assert_eq!(times(&doc), ["09:00", "10:00", "10:30"]);
}

// Rule 12.

#[test]
fn rule_12_minimum_notice_counts_from_now_to_the_nanosecond() {
    let at = |now: &str, notice: u32| {
        times(&with(&[
            ("/query/now", json!(now)),
            ("/settings/min_notice_minutes", json!(notice)),
        ]))
    };
    assert_eq!(
        at("2026-03-02T08:59:59.5-05:00", 0),
        ["09:00", "09:30", "10:00", "10:30"]
    );
    assert_eq!(
        at("2026-03-02T09:00:00-05:00", 0),
        ["09:00", "09:30", "10:00", "10:30"]
    );
    assert_eq!(
        at("2026-03-02T09:00:00.000000001-05:00", 0),
        ["09:30", "10:00", "10:30"]
    );
    // With an hour's notice: exactly an hour is enough, half a second less is not.
    assert_eq!(
        at("2026-03-02T08:00:00-05:00", 60),
        ["09:00", "09:30", "10:00", "10:30"]
    );
    assert_eq!(
        at("2026-03-02T08:00:00.5-05:00", 60),
        ["09:30", "10:00", "10:30"]
    );
    assert_eq!(at("2026-03-02T09:29:59.999999999-05:00", 60), ["10:30"]);
}

#[test]
fn rule_12_max_days_ahead_counts_from_today_in_the_clinic_zone() {
    let block = "/practitioners/0/availability/0/blocks/0/days";
    // 03:00 UTC on the 2nd is still the 1st in Toronto: one day ahead is the 2nd.
    let doc = with(&[
        (block, json!(["mon", "tue"])),
        ("/query/to", json!("2026-03-03")),
        ("/query/now", json!("2026-03-02T03:00:00Z")),
        ("/settings/max_days_ahead", json!(1)),
    ]);
    let days: Vec<String> = starts(&doc).iter().map(|s| s[..10].to_owned()).collect();
    assert_eq!(days, ["2026-03-02"; 4]);
    // 20:00 UTC on the 1st is already the 2nd in Tokyo: one day ahead is the 3rd.
    let mut doc = doc;
    set(&mut doc, "/clinics/0/timezone", json!("Asia/Tokyo"));
    set(&mut doc, "/query/now", json!("2026-03-01T20:00:00Z"));
    let days: Vec<String> = starts(&doc).iter().map(|s| s[..10].to_owned()).collect();
    assert_eq!(days, [["2026-03-02"; 4], ["2026-03-03"; 4]].concat());
    // Zero days ahead: today only.
    set(&mut doc, "/settings/max_days_ahead", json!(0));
    set(&mut doc, "/query/now", json!("2026-03-02T00:00:00+09:00"));
    let days: Vec<String> = starts(&doc).iter().map(|s| s[..10].to_owned()).collect();
    assert_eq!(days, ["2026-03-02"; 4]);
}

// Order.

#[test]
fn slots_are_sorted_by_start_then_practitioner_id_bytewise() {
    let mut doc = base();
    for id in ["alice", "Bob"] {
        let mut p = doc["practitioners"][0].clone();
        p["id"] = json!(id);
        set(&mut doc, "/practitioners/-", p);
    }
    set(
        &mut doc,
        "/practitioners/0/availability/0/blocks/0/start",
        json!("10:00"),
    );
    let lines: Vec<String> = answer(&doc)
        .iter()
        .map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            format!("{} {}", &parts[0][11..16], parts[2])
        })
        .collect();
    assert_eq!(
        lines,
        [
            "09:00 Bob",
            "09:00 alice",
            "09:30 Bob",
            "09:30 alice",
            "10:00 Bob",
            "10:00 alice",
            "10:00 ana",
            "10:30 Bob",
            "10:30 alice",
            "10:30 ana",
        ]
    );
}

#[test]
fn one_practitioner_at_two_clinics_at_the_same_instant_gets_both() {
    // 15:00 in London and 10:00 in Toronto are the same instant on 2026-03-02. Ties
    // sort by schedule type id ("a-ldn" first) before clinic id ("a-toronto" first).
    let doc = json!({
        "version": 1,
        "settings": {"slot_step_minutes": 60},
        "clinics": [{"id": "a-toronto", "timezone": "America/Toronto"},
                    {"id": "z-london", "timezone": "Europe/London"}],
        "schedule_types": [{"id": "a-ldn", "clinic": "z-london"},
                           {"id": "b-tor", "clinic": "a-toronto"}],
        "practitioners": [{"id": "ana", "type": "physio", "home_clinic": "a-toronto",
            "schedule_types": ["a-ldn", "b-tor"],
            "availability": [{"start_date": "2026-01-01", "blocks": [
                {"days": ["mon"], "start": "15:00", "end": "16:00", "schedule_type": "a-ldn"},
                {"days": ["mon"], "start": "10:00", "end": "11:00", "schedule_type": "b-tor"}]}]}],
        "services": [{"id": "visit", "duration_minutes": 60, "book_from_portal": true,
                      "schedule_types": ["a-ldn", "b-tor"]}],
        "query": {"service": "visit", "from": "2026-03-02", "to": "2026-03-02",
                  "now": "2026-03-01T00:00:00Z"}
    });
    assert_eq!(
        answer(&doc),
        [
            "2026-03-02T15:00:00+00:00 2026-03-02T16:00:00+00:00 ana a-ldn z-london",
            "2026-03-02T10:00:00-05:00 2026-03-02T11:00:00-05:00 ana b-tor a-toronto",
        ]
    );
}

#[test]
fn equal_starts_of_one_schedule_type_sort_by_clinic_id() {
    // An any-clinic schedule type placed by two records: Toronto on Monday the 2nd at
    // 10:00 and Tokyo on Tuesday the 3rd at 00:00 are the same instant.
    let doc = json!({
        "version": 1,
        "settings": {"slot_step_minutes": 60},
        "clinics": [{"id": "a-tokyo", "timezone": "Asia/Tokyo"},
                    {"id": "b-toronto", "timezone": "America/Toronto"}],
        "schedule_types": [{"id": "any"}],
        "practitioners": [{"id": "ana", "type": "physio", "home_clinic": "b-toronto",
            "schedule_types": ["any"],
            "availability": [
                {"start_date": "2026-03-01", "end_date": "2026-03-02", "clinic": "b-toronto",
                 "blocks": [{"days": ["mon"], "start": "10:00", "end": "11:00", "schedule_type": "any"}]},
                {"start_date": "2026-03-03", "clinic": "a-tokyo",
                 "blocks": [{"days": ["tue"], "start": "00:00", "end": "01:00", "schedule_type": "any"}]}]}],
        "services": [{"id": "visit", "duration_minutes": 60, "book_from_portal": true,
                      "schedule_types": ["any"]}],
        "query": {"service": "visit", "from": "2026-03-02", "to": "2026-03-03",
                  "now": "2026-03-01T00:00:00Z"}
    });
    assert_eq!(
        answer(&doc),
        [
            "2026-03-03T00:00:00+09:00 2026-03-03T01:00:00+09:00 ana any a-tokyo",
            "2026-03-02T10:00:00-05:00 2026-03-02T11:00:00-05:00 ana any b-toronto",
        ]
    );
}

#[test]
fn slots_are_in_order_across_zones_and_dates() {
    let doc = zones_doc();
    let m = model(&doc);
    let slots = m.open_slots(m.query().unwrap());
    assert!(!slots.is_empty());
    assert!(
        slots.windows(2).all(|w| w[0] < w[1]),
        "{:?}",
        describe(&m, &slots)
    );
}

// First available.

/// "kei" works Tuesdays 01:00–02:00 in Tokyo, "rob" Mondays 12:00–13:00 in Toronto.
/// Tokyo's Tuesday 01:00 is Monday 16:00 UTC, before Toronto's Monday noon (17:00 UTC).
fn zones_doc() -> Value {
    json!({
        "version": 1,
        "settings": {"slot_step_minutes": 30, "max_days_ahead": 7},
        "clinics": [{"id": "tokyo", "timezone": "Asia/Tokyo"},
                    {"id": "toronto", "timezone": "America/Toronto"}],
        "schedule_types": [{"id": "tk", "clinic": "tokyo"}, {"id": "tr", "clinic": "toronto"}],
        "practitioners": [
            {"id": "kei", "type": "physio", "home_clinic": "tokyo", "schedule_types": ["tk"],
             "availability": [{"start_date": "2026-01-01", "blocks": [
                 {"days": ["tue"], "start": "01:00", "end": "02:00", "schedule_type": "tk"}]}]},
            {"id": "rob", "type": "physio", "home_clinic": "toronto", "schedule_types": ["tr"],
             "availability": [{"start_date": "2026-01-01", "blocks": [
                 {"days": ["mon"], "start": "12:00", "end": "13:00", "schedule_type": "tr"}]}]}],
        "services": [{"id": "visit", "duration_minutes": 30, "book_from_portal": true,
                      "schedule_types": ["tk", "tr"]}],
        "query": {"service": "visit", "from": "2026-03-01", "to": "2026-03-10",
                  "now": "2026-03-01T00:00:00Z"}
    })
}

#[test]
fn first_available_looks_past_the_first_date_when_another_zone_is_earlier() {
    let m = model(&zones_doc());
    let q = &m.query().unwrap().portal;
    let first = m.first_available(q, date("2026-03-02"), 1);
    assert_eq!(
        describe(&m, &first),
        ["2026-03-03T01:00:00+09:00 2026-03-03T01:30:00+09:00 kei tk tokyo"]
    );
    let first = m.first_available(q, date("2026-03-02"), 3);
    assert_eq!(
        describe(&m, &first),
        [
            "2026-03-03T01:00:00+09:00 2026-03-03T01:30:00+09:00 kei tk tokyo",
            "2026-03-03T01:30:00+09:00 2026-03-03T02:00:00+09:00 kei tk tokyo",
            "2026-03-02T12:00:00-05:00 2026-03-02T12:30:00-05:00 rob tr toronto",
        ]
    );
}

#[test]
fn first_available_agrees_with_open_slots_and_stops_at_the_window() {
    let m = model(&zones_doc());
    let q = &m.query().unwrap().portal;
    // Today is 2026-03-01 in both zones, so the window ends on the 8th: Monday the 2nd
    // in Toronto and Tuesday the 3rd in Tokyo, two slots each.
    let all = m.first_available(q, date("2026-03-01"), 100);
    assert_eq!(all.len(), 4);
    let range = SlotQuery {
        portal: q.clone(),
        dates: DateRange::new(date("2026-03-01"), date("2026-03-31")).unwrap(),
    };
    assert_eq!(all, m.open_slots(&range));
    for limit in 1..=4 {
        assert_eq!(
            m.first_available(q, date("2026-03-01"), limit),
            all[..limit]
        );
    }
    assert!(m.first_available(q, date("2026-03-01"), 0).is_empty());
    assert!(m.first_available(q, date("2026-03-09"), 5).is_empty());
    // Nobody eligible: nothing, and no search to the end of the window.
    let nobody = q.clone().with_practitioner_indices(Some(Vec::new()));
    assert!(m.first_available(&nobody, date("2026-03-01"), 5).is_empty());
}

// Slots and queries.

#[test]
fn slot_accessors_agree() {
    let m = model(&night_shift("America/Toronto", "2026-11-01"));
    let slots = m.open_slots(m.query().unwrap());
    let s = slots[2];
    assert_eq!(s.start().to_rfc3339(), "2026-11-01T02:00:00-05:00");
    assert_eq!(s.end().to_rfc3339(), "2026-11-01T03:00:00-05:00");
    assert_eq!(s.start_instant().to_string(), "2026-11-01T07:00:00Z");
    assert_eq!(s.end_instant().to_string(), "2026-11-01T08:00:00Z");
    assert_eq!(s.end_seconds() - s.start_seconds(), 3600);
    assert_eq!(s.start_instant().unix_seconds(), s.start_seconds());
    // Each instant is written at the offset in force then.
    let m = model(&night_shift("America/Toronto", "2026-03-08"));
    let slots = m.open_slots(m.query().unwrap());
    assert_eq!(slots[2].start_text(), "2026-03-08T03:00:00-04:00");
    assert_eq!(slots[1].end_text(), "2026-03-08T01:30:00-05:00");
}

#[test]
fn portal_queries_check_their_service_and_practitioners() {
    let mut doc = base();
    set(
        &mut doc,
        "/services/-",
        json!({"id": "phone", "duration_minutes": 15, "schedule_types": ["physio"]}),
    );
    let m = model(&doc);
    let now: Instant = "2026-03-01T00:00:00Z".parse().unwrap();
    assert_eq!(
        PortalQuery::new(&m, "nope", now).unwrap_err().to_string(),
        r#"query: unknown service "nope""#
    );
    assert_eq!(
        PortalQuery::new(&m, "phone", now).unwrap_err().to_string(),
        r#"query: service "phone" is not bookable from the portal"#
    );
    let q = PortalQuery::new(&m, "visit", now).unwrap();
    assert_eq!(q.service(), m.service_ix("visit").unwrap());
    assert_eq!(q.practitioners(), None);
    assert_eq!(q.now(), now);
    assert!(!q.telehealth() && q.clone().with_telehealth(true).telehealth());
    assert_eq!(
        q.clone()
            .with_practitioners(&m, &["ana", "nobody"])
            .unwrap_err()
            .to_string(),
        r#"query: unknown practitioner "nobody""#
    );
    let ana = m.practitioner_ix("ana").unwrap();
    let limited = q.clone().with_practitioners(&m, &["ana", "ana"]).unwrap();
    assert_eq!(limited.practitioners(), Some(&[ana][..]));
    assert!(limited.allows(ana));
    let none = q.clone().with_practitioners(&m, &[]).unwrap();
    assert!(!none.allows(ana));
    let again = q.with_practitioner_indices(Some(vec![ana, ana]));
    assert_eq!(again.practitioners(), Some(&[ana][..]));
    assert_eq!(again.with_practitioner_indices(None).practitioners(), None);
}

#[test]
fn open_slots_over_a_long_range_matches_day_by_day_searches() {
    // Searching a range at once gives the same slots as searching each day alone:
    // nothing carries over from one date to the next.
    let doc = with(&[
        (
            "/practitioners/0/availability/0/blocks/0/days",
            json!(["mon", "wed", "sun"]),
        ),
        (
            "/appointments",
            json!([{"practitioner": "ana",
                    "start": "2026-03-04T09:30:00-05:00", "end": "2026-03-04T10:00:00-05:00"}]),
        ),
        (
            "/practitioners/0/time_off",
            json!([{"start": "2026-03-09T10:00:00-04:00", "end": "2026-03-09T10:05:00-04:00"}]),
        ),
    ]);
    let m = model(&doc);
    let q = &m.query().unwrap().portal;
    let range = |from: &str, to: &str| SlotQuery {
        portal: q.clone(),
        dates: DateRange::new(date(from), date(to)).unwrap(),
    };
    let whole = m.open_slots(&range("2026-03-01", "2026-03-15"));
    let by_day: Vec<Slot> = range("2026-03-01", "2026-03-15")
        .dates
        .dates()
        .flat_map(|d| {
            let d = d.to_string();
            m.open_slots(&range(&d, &d))
        })
        .collect();
    assert_eq!(whole, by_day);
    assert_eq!(whole.len(), 4 * 7 - 1 - 1);
}

// The end of the format's range.

/// Ana works Tuesday evenings 20:00–24:00 in Toronto; the query asks about the format's
/// last date, Tuesday 2199-12-31, whose evening is already 2200 in UTC.
fn last_evening() -> Value {
    let block = "/practitioners/0/availability/0/blocks/0";
    with(&[
        (&format!("{block}/days"), json!(["tue"])),
        (&format!("{block}/start"), json!("20:00")),
        (&format!("{block}/end"), json!("24:00")),
        ("/query/from", json!("2199-12-31")),
        ("/query/to", json!("2199-12-31")),
        ("/query/now", json!("2199-12-30T00:00:00Z")),
    ])
}

#[test]
fn slots_on_the_last_date_are_offered() {
    let found = starts(&last_evening());
    assert_eq!(
        found.first().map(String::as_str),
        Some("2199-12-31T20:00:00-05:00")
    );
    assert!(found.len() >= 7, "{found:?}");
}

#[test]
fn a_slot_ending_at_24_00_on_the_last_date_is_offered() {
    let found = answer(&last_evening());
    assert_eq!(
        found.last().map(String::as_str),
        Some("2199-12-31T23:30:00-05:00 2200-01-01T00:00:00-05:00 ana physio toronto")
    );
}

#[test]
fn slot_instants_on_the_last_date_may_fall_on_2200_in_utc() {
    let m = model(&last_evening());
    let slots = m.open_slots(m.query().unwrap());
    let last = slots.last().expect("slots on 2199-12-31");
    assert_eq!(last.start_text(), "2199-12-31T23:30:00-05:00");
    // Both instants are on 2200-01-01 in UTC, past the format's last date.
    assert_eq!(last.start_instant().to_string(), "2200-01-01T04:30:00Z");
    assert_eq!(last.end_instant().to_string(), "2200-01-01T05:00:00Z");
    for s in &slots {
        assert_eq!(s.start_instant().to_utc(), s.start());
        assert_eq!(s.end_instant().to_utc(), s.end());
        assert_eq!(s.start_instant().unix_seconds(), s.start_seconds());
        assert_eq!(s.end_instant().unix_seconds(), s.end_seconds());
    }
}

#[test]
fn slots_are_offered_when_today_reads_1999_12_31() {
    // 03:00 UTC on 2000-01-01 is 22:00 on 1999-12-31 in Toronto, a day before the first
    // date of the format; Monday 2000-01-03 is three days after it.
    let doc = |max_days: u32| {
        with(&[
            ("/settings/max_days_ahead", json!(max_days)),
            (
                "/practitioners/0/availability/0/start_date",
                json!("2000-01-01"),
            ),
            ("/query/from", json!("2000-01-01")),
            ("/query/to", json!("2000-01-03")),
            ("/query/now", json!("2000-01-01T03:00:00Z")),
        ])
    };
    assert_eq!(
        answer(&doc(365)).first().map(String::as_str),
        Some("2000-01-03T09:00:00-05:00 2000-01-03T09:30:00-05:00 ana physio toronto")
    );
    assert_eq!(starts(&doc(365)).len(), 4);
    assert_eq!(starts(&doc(3)).len(), 4);
    assert_eq!(starts(&doc(2)), Vec::<String>::new());
    // Check agrees: 09:00 on 2000-01-03 is bookable, as the same slot.
    let m = model(&doc(365));
    let ana = m.practitioner_ix("ana").unwrap();
    let start: Instant = "2000-01-03T09:00:00-05:00".parse().unwrap();
    let slot = m.check(&m.query().unwrap().portal, ana, start).unwrap();
    assert_eq!(slot, m.open_slots(m.query().unwrap())[0]);
    assert_eq!(slot.start_instant(), start);
}
