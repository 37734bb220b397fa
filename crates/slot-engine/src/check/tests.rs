use super::*;

use serde_json::{Value, json};

use crate::calendar::Date;
use crate::scenario::Scenario;
use crate::search::{DateRange, SlotQuery};

/// Whitby (Toronto time) with "Ana Roy", who works Mondays: Physiotherapy 09:00–11:00
/// and Massage 11:00–12:00, in a record for 2026. "Visit" is a 30-minute portal service
/// of Physiotherapy on a 30-minute step. Monday 2026-05-18 is in daylight time (−04:00).
fn base() -> Value {
    json!({
        "version": 1,
        "settings": {"resolution_minutes": 5, "slot_step_minutes": 30},
        "clinics": [{"id": "whitby", "name": "Whitby", "timezone": "America/Toronto"}],
        "schedule_types": [
            {"id": "physio", "name": "Physiotherapy", "clinic": "whitby"},
            {"id": "massage", "name": "Massage", "clinic": "whitby"},
            {"id": "yoga", "name": "Yoga", "clinic": "whitby"}
        ],
        "practitioners": [{
            "id": "ana", "name": "Ana Roy", "type": "physiotherapist", "home_clinic": "whitby",
            "schedule_types": ["physio", "massage"],
            "availability": [{"start_date": "2026-01-01", "end_date": "2026-12-31",
                "blocks": [
                    {"days": ["mon"], "start": "09:00", "end": "11:00", "schedule_type": "physio"},
                    {"days": ["mon"], "start": "11:00", "end": "12:00", "schedule_type": "massage"}
                ]}]
        }],
        "services": [{"id": "visit", "name": "Visit", "duration_minutes": 30,
                      "book_from_portal": true, "schedule_types": ["physio"]}],
        "query": {"service": "visit", "from": "2026-05-18", "to": "2026-05-18",
                  "now": "2026-05-01T00:00:00Z"}
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

fn instant(text: &str) -> Instant {
    text.parse().unwrap()
}

/// Appends a Monday block to Ana's record.
fn block(start: &str, end: &str, schedule_type: &str) -> (&'static str, Value) {
    (
        "/practitioners/0/availability/0/blocks/-",
        json!({"days": ["mon"], "start": start, "end": end, "schedule_type": schedule_type}),
    )
}

/// An appointment of Ana's.
fn appointment(start: &str, end: &str) -> Value {
    json!({"practitioner": "ana", "start": start, "end": end})
}

/// Checks a portal booking of Ana's at `start` with the scenario's own query.
fn check_ana(doc: &Value, start: &str) -> Result<Slot, Rejection> {
    let m = model(doc);
    let ana = m.practitioner_ix("ana").unwrap();
    m.check(&m.query().unwrap().portal, ana, instant(start))
}

/// Asserts the booking is refused by `rule` with exactly `reason`.
#[track_caller]
fn rejected(doc: &Value, start: &str, rule: u8, reason: &str) {
    match check_ana(doc, start) {
        Ok(slot) => panic!("{start} was bookable: {}", slot.start_text()),
        Err(r) => {
            assert_eq!(
                (r.rule.number(), r.reason.as_str()),
                (rule, reason),
                "{start}"
            );
        }
    }
}

/// Asserts the booking is accepted, returning `start end schedule-type clinic`.
#[track_caller]
fn accepted(doc: &Value, start: &str) -> String {
    let m = model(doc);
    let ana = m.practitioner_ix("ana").unwrap();
    match m.check(&m.query().unwrap().portal, ana, instant(start)) {
        Ok(s) => format!(
            "{} {} {} {}",
            s.start_text(),
            s.end_text(),
            m.schedule_type(s.schedule_type).id,
            m.clinic(s.clinic).id
        ),
        Err(r) => panic!("{start} refused: {r}"),
    }
}

const NINE: &str = "2026-05-18T09:00:00-04:00";

#[test]
fn rules_are_numbered_as_in_the_spec() {
    let all = [
        (Rule::Candidates, 2),
        (Rule::Who, 3),
        (Rule::Record, 4),
        (Rule::OneScheduleType, 5),
        (Rule::Clinic, 6),
        (Rule::PortalOverlay, 7),
        (Rule::Telehealth, 8),
        (Rule::DaylightSaving, 9),
        (Rule::TimeOff, 10),
        (Rule::Conflicts, 11),
        (Rule::BookingWindow, 12),
    ];
    for (rule, number) in all {
        assert_eq!(rule.number(), number);
        assert_eq!(rule.to_string(), format!("rule {number}"));
    }
    // Reporting order: 3, 4, 2, 5, 6, …, 12.
    let mut ranked: Vec<Rule> = all.iter().map(|(r, _)| *r).collect();
    ranked.sort_by_key(|r| r.rank());
    let order: Vec<u8> = ranked.iter().map(|r| r.number()).collect();
    assert_eq!(order, [3, 4, 2, 5, 6, 7, 8, 9, 10, 11, 12]);
    let r = Rejection {
        rule: Rule::Clinic,
        reason: "Whitby is closed on 2026-05-18".to_owned(),
    };
    assert_eq!(r.to_string(), "Whitby is closed on 2026-05-18 (rule 6)");
}

#[test]
fn a_bookable_start_returns_its_slot() {
    assert_eq!(
        accepted(&base(), NINE),
        "2026-05-18T09:00:00-04:00 2026-05-18T09:30:00-04:00 physio whitby"
    );
    // The query's dates do not limit a check.
    assert_eq!(
        accepted(&base(), "2026-06-01T10:30:00-04:00"),
        "2026-06-01T10:30:00-04:00 2026-06-01T11:00:00-04:00 physio whitby"
    );
    // The same instant written in UTC is the same booking.
    assert_eq!(
        accepted(&base(), "2026-05-18T13:00:00Z"),
        "2026-05-18T09:00:00-04:00 2026-05-18T09:30:00-04:00 physio whitby"
    );
}

#[test]
fn a_slot_ending_at_24_00_ends_at_next_day_midnight() {
    let doc = with(&[block("23:00", "24:00", "physio")]);
    assert_eq!(
        accepted(&doc, "2026-05-18T23:30:00-04:00"),
        "2026-05-18T23:30:00-04:00 2026-05-19T00:00:00-04:00 physio whitby"
    );
}

#[test]
fn rule_3_who() {
    rejected(
        &with(&[("/practitioners/0/active", json!(false))]),
        NINE,
        3,
        "Ana Roy is not active",
    );
    rejected(
        &with(&[("/practitioners/0/bookable_in_portal", json!(false))]),
        NINE,
        3,
        "Ana Roy is not bookable in the portal",
    );
    let mut doc = base();
    set(
        &mut doc,
        "/practitioners/-",
        json!({"id": "bo", "type": "physiotherapist", "home_clinic": "whitby"}),
    );
    set(&mut doc, "/query/practitioners", json!(["bo"]));
    rejected(
        &doc,
        NINE,
        3,
        "Ana Roy is not among the practitioners this patient may book",
    );
    rejected(
        &with(&[("/services/0/practitioner_type", json!("rmt"))]),
        NINE,
        3,
        "Visit is for rmt practitioners; Ana Roy is a physiotherapist",
    );
    rejected(
        &with(&[("/services/0/schedule_types", json!(["yoga"]))]),
        NINE,
        3,
        "Ana Roy is not assigned any schedule type of Visit (Yoga)",
    );
}

#[test]
fn rule_4_a_record_must_cover_the_date() {
    rejected(
        &base(),
        "2027-01-04T09:00:00-05:00",
        4,
        "Ana Roy has no availability record covering 2027-01-04",
    );
    // The date is read in the clinic's zone: 02:00 UTC on 2026-01-01 is still 2025.
    rejected(
        &base(),
        "2026-01-01T02:00:00Z",
        4,
        "Ana Roy has no availability record covering 2025-12-31",
    );
}

#[test]
fn rule_2_the_start_must_be_on_the_step_and_end_by_midnight() {
    rejected(
        &base(),
        "2026-05-18T09:15:00-04:00",
        2,
        "09:15 is not on the 30-minute scheduling interval of the availability record 2026-01-01..2026-12-31",
    );
    let doc = with(&[
        block("23:00", "24:00", "physio"),
        ("/services/0/duration_minutes", json!(45)),
    ]);
    rejected(
        &doc,
        "2026-05-18T23:30:00-04:00",
        2,
        "a 45-minute Visit starting at 23:30 on 2026-05-18 would end after midnight",
    );
}

#[test]
fn rule_2_a_start_between_whole_minutes_is_off_the_step() {
    for start in [
        "2026-05-18T09:00:30-04:00",
        "2026-05-18T09:00:00.000000001-04:00",
    ] {
        let r = check_ana(&base(), start).unwrap_err();
        assert_eq!(r.rule, Rule::Candidates, "{start}");
    }
}

#[test]
fn rule_2_the_reason_names_an_off_minute_start_to_the_second() {
    rejected(
        &base(),
        "2026-05-18T09:00:30-04:00",
        2,
        "09:00:30 is not on the 30-minute scheduling interval of the availability record 2026-01-01..2026-12-31",
    );
    rejected(
        &base(),
        "2026-05-18T09:00:00.000000001-04:00",
        2,
        "09:00:00.000000001 is not on the 30-minute scheduling interval of the availability record 2026-01-01..2026-12-31",
    );
}

#[test]
fn rule_5_every_cell_in_one_schedule_type_of_the_service() {
    rejected(
        &base(),
        "2026-05-18T08:00:00-04:00",
        5,
        "Ana Roy is not available at 08:00 on Mondays (availability record 2026-01-01..2026-12-31)",
    );
    // Tuesdays have no blocks at all.
    rejected(
        &base(),
        "2026-05-19T09:00:00-04:00",
        5,
        "Ana Roy is not available at 09:00 on Tuesdays (availability record 2026-01-01..2026-12-31)",
    );
    // A slot never spans two schedule types.
    rejected(
        &with(&[("/services/0/duration_minutes", json!(60))]),
        "2026-05-18T10:30:00-04:00",
        5,
        "Physiotherapy on Mondays ends at 11:00, before the 60-minute Visit would end at 11:30 (Massage from then)",
    );
    rejected(
        &with(&[
            ("/services/0/duration_minutes", json!(60)),
            ("/services/0/schedule_types", json!(["massage"])),
        ]),
        "2026-05-18T11:30:00-04:00",
        5,
        "Massage on Mondays ends at 12:00, before the 60-minute Visit would end at 12:30 (no availability from then)",
    );
    rejected(
        &base(),
        "2026-05-18T11:00:00-04:00",
        5,
        "Ana Roy at 11:00 on Mondays is Massage, not a schedule type of Visit",
    );
}

#[test]
fn rule_6_no_slots_on_a_clinic_holiday() {
    let doc = with(&[("/clinics/0/holidays", json!(["2026-05-18"]))]);
    rejected(&doc, NINE, 6, "Whitby is closed on 2026-05-18");
    // The next Monday is open.
    assert_eq!(
        accepted(&doc, "2026-05-25T09:00:00-04:00"),
        "2026-05-25T09:00:00-04:00 2026-05-25T09:30:00-04:00 physio whitby"
    );
}

#[test]
fn rule_7_the_portal_overlay_covers_every_cell() {
    let portal = "/practitioners/0/availability/0/portal_blocks";
    let doc = with(&[(
        portal,
        json!([{"days": ["mon"], "start": "09:30", "end": "10:15"}]),
    )]);
    rejected(
        &doc,
        NINE,
        7,
        "09:00–09:30 is outside Customize Portal Availability on Mondays",
    );
    rejected(
        &doc,
        "2026-05-18T10:00:00-04:00",
        7,
        "10:00–10:30 is outside Customize Portal Availability on Mondays",
    );
    assert_eq!(
        accepted(&doc, "2026-05-18T09:30:00-04:00"),
        "2026-05-18T09:30:00-04:00 2026-05-18T10:00:00-04:00 physio whitby"
    );
    // An empty overlay: nothing online.
    rejected(
        &with(&[(portal, json!([]))]),
        NINE,
        7,
        "09:00–09:30 is outside Customize Portal Availability on Mondays",
    );
}

#[test]
fn rule_8_telehealth_needs_a_telehealth_schedule_type() {
    let doc = with(&[("/query/telehealth", json!(true))]);
    rejected(
        &doc,
        NINE,
        8,
        "Physiotherapy does not offer telehealth appointments",
    );
    let doc = with(&[
        ("/query/telehealth", json!(true)),
        ("/schedule_types/0/telehealth", json!(true)),
    ]);
    assert_eq!(
        accepted(&doc, NINE),
        "2026-05-18T09:00:00-04:00 2026-05-18T09:30:00-04:00 physio whitby"
    );
}

/// `base()` with Ana's blocks replaced by Sunday 00:00–06:00 Physiotherapy and `changes`
/// applied: Toronto springs forward on Sunday 2026-03-08 and falls back on Sunday
/// 2026-11-01, both at 02:00.
fn sunday_nights(changes: &[(&str, Value)]) -> Value {
    let mut doc = with(&[
        (
            "/practitioners/0/availability/0/blocks",
            json!([{"days": ["sun"], "start": "00:00", "end": "06:00", "schedule_type": "physio"}]),
        ),
        ("/query/now", json!("2026-01-01T00:00:00Z")),
    ]);
    for (pointer, value) in changes {
        set(&mut doc, pointer, value.clone());
    }
    doc
}

#[test]
fn rule_9_the_later_reading_of_an_ambiguous_time_is_not_offered() {
    let doc = sunday_nights(&[]);
    rejected(
        &doc,
        "2026-11-01T01:30:00-05:00",
        9,
        "01:30 happens twice on 2026-11-01 (clocks go back); the portal offers only the first, at 2026-11-01T01:30:00-04:00",
    );
    rejected(
        &doc,
        "2026-11-01T01:00:00-05:00",
        9,
        "01:00 happens twice on 2026-11-01 (clocks go back); the portal offers only the first, at 2026-11-01T01:00:00-04:00",
    );
    // The earlier reading of 01:00 is offered.
    assert_eq!(
        accepted(&doc, "2026-11-01T01:00:00-04:00"),
        "2026-11-01T01:00:00-04:00 2026-11-01T01:30:00-04:00 physio whitby"
    );
    // After the repeated hour, times read once again.
    assert_eq!(
        accepted(&doc, "2026-11-01T02:00:00-05:00"),
        "2026-11-01T02:00:00-05:00 2026-11-01T02:30:00-05:00 physio whitby"
    );
}

#[test]
fn rule_9_a_slot_ending_in_a_spring_forward_gap_is_not_offered() {
    let doc = sunday_nights(&[]);
    rejected(
        &doc,
        "2026-03-08T01:30:00-05:00",
        9,
        "it would end at 02:00 on 2026-03-08, a time that does not exist there (clocks go forward)",
    );
    // The slot before it, and the first one after the gap, are offered.
    assert_eq!(
        accepted(&doc, "2026-03-08T01:00:00-05:00"),
        "2026-03-08T01:00:00-05:00 2026-03-08T01:30:00-05:00 physio whitby"
    );
    assert_eq!(
        accepted(&doc, "2026-03-08T03:00:00-04:00"),
        "2026-03-08T03:00:00-04:00 2026-03-08T03:30:00-04:00 physio whitby"
    );
}

#[test]
fn rule_9_the_slot_must_last_the_service_duration() {
    // Across the spring-forward: 01:00–03:00 wall-clock time is one hour.
    let doc = sunday_nights(&[("/services/0/duration_minutes", json!(120))]);
    rejected(
        &doc,
        "2026-03-08T01:00:00-05:00",
        9,
        "01:00–03:00 on 2026-03-08 lasts 60 minutes across the clock change, not 120",
    );
    // Across the fall-back: 01:30 (first reading) to 02:00 is an hour and a half.
    let doc = sunday_nights(&[]);
    rejected(
        &doc,
        "2026-11-01T01:30:00-04:00",
        9,
        "01:30–02:00 on 2026-11-01 lasts 90 minutes across the clock change, not 30",
    );
    // Away from the transitions the same service fits.
    assert_eq!(
        accepted(&doc, "2026-11-08T01:30:00-05:00"),
        "2026-11-08T01:30:00-05:00 2026-11-08T02:00:00-05:00 physio whitby"
    );
}

#[test]
fn rule_10_time_off_touching_a_cell() {
    let time_off = "/practitioners/0/time_off";
    let doc = with(&[(
        time_off,
        json!([{"start": "2026-05-18T09:10:00-04:00", "end": "2026-05-18T09:20:00-04:00"}]),
    )]);
    rejected(
        &doc,
        NINE,
        10,
        "Ana Roy has time off from 2026-05-18 09:10 to 2026-05-18 09:20",
    );
    assert_eq!(
        accepted(&doc, "2026-05-18T09:30:00-04:00"),
        "2026-05-18T09:30:00-04:00 2026-05-18T10:00:00-04:00 physio whitby"
    );
    // Time off that ends as the slot starts shares no stretch with it; one second more
    // touches the slot's first cell.
    let doc = with(&[(
        time_off,
        json!([{"start": "2026-05-18T08:00:00-04:00", "end": "2026-05-18T09:00:00-04:00"}]),
    )]);
    assert!(check_ana(&doc, NINE).is_ok());
    let doc = with(&[(
        time_off,
        json!([{"start": "2026-05-18T08:00:00-04:00", "end": "2026-05-18T09:00:01-04:00"}]),
    )]);
    assert_eq!(check_ana(&doc, NINE).unwrap_err().rule, Rule::TimeOff);
}

#[test]
fn rule_11_one_place_unless_the_schedule_type_allows_conflicts() {
    let doc = with(&[(
        "/appointments",
        json!([appointment(
            "2026-05-18T09:00:00-04:00",
            "2026-05-18T09:30:00-04:00"
        )]),
    )]);
    rejected(&doc, NINE, 11, "1 of 1 places taken at 09:00 on 2026-05-18");
    // The slot after it is free.
    assert!(check_ana(&doc, "2026-05-18T09:30:00-04:00").is_ok());
    // portal_conflicts does not matter when the schedule type does not allow conflicts.
    let mut doc = doc;
    set(&mut doc, "/services/0/portal_conflicts", json!(3));
    rejected(&doc, NINE, 11, "1 of 1 places taken at 09:00 on 2026-05-18");
    // An appointment of another schedule type counts too: Ana is in one place.
    let doc = with(&[(
        "/appointments",
        json!([{"practitioner": "ana", "schedule_type": "massage",
                "start": "2026-05-18T09:25:00-04:00", "end": "2026-05-18T09:40:00-04:00"}]),
    )]);
    rejected(&doc, NINE, 11, "1 of 1 places taken at 09:25 on 2026-05-18");
}

#[test]
fn rule_11_capacity_above_one() {
    let two = [
        appointment("2026-05-18T09:00:00-04:00", "2026-05-18T09:30:00-04:00"),
        appointment("2026-05-18T09:10:00-04:00", "2026-05-18T09:20:00-04:00"),
    ];
    let shared = |conflicts: u32, appointments: &[Value]| {
        with(&[
            ("/schedule_types/0/allow_conflicts", json!(true)),
            ("/services/0/portal_conflicts", json!(conflicts)),
            ("/appointments", json!(appointments)),
        ])
    };
    // Two places: one appointment leaves one free, two fill the busiest cell.
    assert!(check_ana(&shared(2, &two[..1]), NINE).is_ok());
    rejected(
        &shared(2, &two),
        NINE,
        11,
        "2 of 2 places taken at 09:10 on 2026-05-18",
    );
    // Three places: two appointments leave one.
    assert!(check_ana(&shared(3, &two), NINE).is_ok());
    let three = [
        two[0].clone(),
        two[1].clone(),
        appointment("2026-05-18T09:15:00-04:00", "2026-05-18T09:45:00-04:00"),
    ];
    rejected(
        &shared(3, &three),
        NINE,
        11,
        "3 of 3 places taken at 09:15 on 2026-05-18",
    );
    // 09:30 has only the third appointment, in its first cells.
    assert!(check_ana(&shared(2, &three), "2026-05-18T09:30:00-04:00").is_ok());
}

#[test]
fn rule_11_a_cancelled_appointment_takes_no_place() {
    let mut cancelled = appointment("2026-05-18T09:00:00-04:00", "2026-05-18T09:30:00-04:00");
    set(&mut cancelled, "/status", json!("cancelled"));
    let doc = with(&[("/appointments", json!([cancelled]))]);
    assert_eq!(
        accepted(&doc, NINE),
        "2026-05-18T09:00:00-04:00 2026-05-18T09:30:00-04:00 physio whitby"
    );
    // Every other status occupies time.
    for status in ["booked", "pending", "completed", "no_show"] {
        let mut a = appointment("2026-05-18T09:00:00-04:00", "2026-05-18T09:30:00-04:00");
        set(&mut a, "/status", json!(status));
        let doc = with(&[("/appointments", json!([a]))]);
        rejected(&doc, NINE, 11, "1 of 1 places taken at 09:00 on 2026-05-18");
    }
}

#[test]
fn rule_12_minimum_notice() {
    // 08:30 local, an hour's notice: 09:30 is the earliest start.
    let doc = with(&[
        ("/settings/min_notice_minutes", json!(60)),
        ("/query/now", json!("2026-05-18T12:30:00Z")),
    ]);
    rejected(
        &doc,
        NINE,
        12,
        "too soon: with 60 minutes' notice the earliest bookable start is 2026-05-18 09:30",
    );
    assert!(check_ana(&doc, "2026-05-18T09:30:00-04:00").is_ok());
}

#[test]
fn rule_12_a_fractional_now_names_the_next_whole_minute() {
    // Half a second past 09:00 with no notice: 09:00 has gone, and the earliest start
    // a slot could have is 09:01, not 09:00.
    let doc = with(&[("/query/now", json!("2026-05-18T09:00:00.5-04:00"))]);
    rejected(
        &doc,
        NINE,
        12,
        "too soon: with 0 minutes' notice the earliest bookable start is 2026-05-18 09:01",
    );
    assert!(check_ana(&doc, "2026-05-18T09:30:00-04:00").is_ok());
    // Exactly 09:00 is not too soon.
    let doc = with(&[("/query/now", json!("2026-05-18T09:00:00-04:00"))]);
    assert!(check_ana(&doc, NINE).is_ok());
}

#[test]
fn rule_12_max_days_ahead_counts_from_today_in_the_clinic_zone() {
    // 02:00 UTC on the 18th is still the 17th in Whitby.
    let doc = with(&[
        ("/settings/max_days_ahead", json!(0)),
        ("/query/now", json!("2026-05-18T02:00:00Z")),
    ]);
    rejected(
        &doc,
        NINE,
        12,
        "2026-05-18 is more than 0 days ahead of 2026-05-17, the furthest patients may book",
    );
    let doc = with(&[
        ("/settings/max_days_ahead", json!(1)),
        ("/query/now", json!("2026-05-18T02:00:00Z")),
    ]);
    assert!(check_ana(&doc, NINE).is_ok());
    rejected(
        &doc,
        "2026-05-25T09:00:00-04:00",
        12,
        "2026-05-25 is more than 1 days ahead of 2026-05-17, the furthest patients may book",
    );
}

#[test]
fn rule_12_today_may_read_1999_12_31() {
    // 03:00 UTC on 2000-01-01 is 22:00 on 1999-12-31 in Whitby, before the first date of
    // the format; Monday 2000-01-03 is three days after it.
    let far = "2000-01-03T09:00:00-05:00";
    let doc = |max_days: u32| {
        with(&[
            ("/settings/max_days_ahead", json!(max_days)),
            (
                "/practitioners/0/availability/0/start_date",
                json!("2000-01-01"),
            ),
            ("/query/now", json!("2000-01-01T03:00:00Z")),
        ])
    };
    rejected(
        &doc(0),
        far,
        12,
        "2000-01-03 is more than 0 days ahead of 1999-12-31, the furthest patients may book",
    );
    rejected(
        &doc(2),
        far,
        12,
        "2000-01-03 is more than 2 days ahead of 1999-12-31, the furthest patients may book",
    );
    assert_eq!(
        accepted(&doc(3), far),
        "2000-01-03T09:00:00-05:00 2000-01-03T09:30:00-05:00 physio whitby"
    );
}

#[test]
fn several_failing_rules_report_in_the_order_3_4_2_5_6_and_on() {
    // Everything that can go wrong at once; each step puts one thing right.
    let mut doc = with(&[
        ("/practitioners/0/active", json!(false)),
        ("/clinics/0/holidays", json!(["2026-05-18"])),
        ("/practitioners/0/availability/0/portal_blocks", json!([])),
        ("/query/telehealth", json!(true)),
        (
            "/practitioners/0/time_off",
            json!([{"start": "2026-05-18T09:00:00-04:00", "end": "2026-05-18T09:30:00-04:00"}]),
        ),
        (
            "/appointments",
            json!([appointment(
                "2026-05-18T09:00:00-04:00",
                "2026-05-18T09:30:00-04:00"
            )]),
        ),
        ("/query/now", json!("2026-05-18T14:00:00Z")),
    ]);
    let rule = |doc: &Value, start: &str| check_ana(doc, start).unwrap_err().rule.number();
    // Inactive, no record that day, and off the step.
    assert_eq!(rule(&doc, "2027-01-04T09:15:00-05:00"), 3);
    set(&mut doc, "/practitioners/0/active", json!(true));
    assert_eq!(rule(&doc, "2027-01-04T09:15:00-05:00"), 4);
    // Off the step and outside availability.
    assert_eq!(rule(&doc, "2026-05-18T08:15:00-04:00"), 2);
    // Outside availability, and everything from 6 on.
    assert_eq!(rule(&doc, "2026-05-18T08:30:00-04:00"), 5);
    let fixes = [
        (6, "/clinics/0/holidays", json!([])),
        (
            7,
            "/practitioners/0/availability/0/portal_blocks",
            Value::Null,
        ),
        (8, "/query/telehealth", json!(false)),
        (10, "/practitioners/0/time_off", json!([])),
        (11, "/appointments", json!([])),
        (12, "/query/now", json!("2026-05-01T00:00:00Z")),
    ];
    for (number, pointer, fix) in fixes {
        assert_eq!(rule(&doc, NINE), number, "before fixing {pointer}");
        set(&mut doc, pointer, fix);
    }
    assert!(check_ana(&doc, NINE).is_ok());
}

/// `base()` with a second clinic, London, where Ana works Mondays 13:00–14:00 London
/// time as "Physiotherapy London", a schedule type of the service too. On 2026-05-18
/// London is at +01:00, five hours ahead of Whitby.
fn two_zones(changes: &[(&str, Value)]) -> Value {
    let mut doc = with(&[
        (
            "/clinics/-",
            json!({"id": "london", "name": "London", "timezone": "Europe/London"}),
        ),
        (
            "/schedule_types/-",
            json!({"id": "physio-london", "name": "Physiotherapy London", "clinic": "london"}),
        ),
        ("/practitioners/0/schedule_types/-", json!("physio-london")),
        block("13:00", "14:00", "physio-london"),
        ("/services/0/schedule_types/-", json!("physio-london")),
    ]);
    for (pointer, value) in changes {
        set(&mut doc, pointer, value.clone());
    }
    doc
}

#[test]
fn two_clinics_in_different_zones_report_the_reading_that_got_furthest() {
    // 13:00 in London is 08:00 in Whitby: the London reading is the slot.
    let london_one = "2026-05-18T13:00:00+01:00";
    assert_eq!(
        accepted(&two_zones(&[]), london_one),
        "2026-05-18T13:00:00+01:00 2026-05-18T13:30:00+01:00 physio-london london"
    );
    // With London closed, the London reading fails rule 6, further than the Whitby
    // reading (08:00, rule 5).
    rejected(
        &two_zones(&[("/clinics/1/holidays", json!(["2026-05-18"]))]),
        london_one,
        6,
        "London is closed on 2026-05-18",
    );
    // 09:00 in Whitby is 14:00 in London, where Ana has no block: the Whitby reading
    // gets to rule 11.
    rejected(
        &two_zones(&[(
            "/appointments",
            json!([appointment(
                "2026-05-18T09:00:00-04:00",
                "2026-05-18T09:30:00-04:00"
            )]),
        )]),
        NINE,
        11,
        "1 of 1 places taken at 09:00 on 2026-05-18",
    );
    // 13:00 in Whitby is a London block read at the wrong clinic; in London it is
    // 18:00. Both readings stop at rule 5, and the home clinic's is reported.
    rejected(
        &two_zones(&[]),
        "2026-05-18T13:00:00-04:00",
        5,
        "at 13:00 on 2026-05-18 (America/Toronto) Ana Roy works at London, not Whitby",
    );
}

#[test]
fn check_agrees_with_the_search() {
    // A Monday with a bit of everything; every five minutes of the day, check accepts
    // exactly the starts the search offers.
    let doc = with(&[
        block("13:00", "15:00", "physio"),
        (
            "/practitioners/0/availability/0/portal_blocks",
            json!([{"days": ["mon"], "start": "09:00", "end": "14:30"}]),
        ),
        (
            "/practitioners/0/time_off",
            json!([{"start": "2026-05-18T13:40:00-04:00", "end": "2026-05-18T13:45:00-04:00"}]),
        ),
        (
            "/appointments",
            json!([appointment(
                "2026-05-18T10:00:00-04:00",
                "2026-05-18T10:05:00-04:00"
            )]),
        ),
        ("/query/now", json!("2026-05-18T13:10:00Z")),
    ]);
    let m = model(&doc);
    let portal = &m.query().unwrap().portal;
    let ana = m.practitioner_ix("ana").unwrap();
    let day: Date = "2026-05-18".parse().unwrap();
    let query = SlotQuery {
        portal: portal.clone(),
        dates: DateRange::new(day, day).unwrap(),
    };
    let offered: Vec<String> = m.open_slots(&query).iter().map(Slot::start_text).collect();
    assert_eq!(
        offered,
        [
            "2026-05-18T09:30:00-04:00",
            "2026-05-18T10:30:00-04:00",
            "2026-05-18T13:00:00-04:00",
            "2026-05-18T14:00:00-04:00",
        ]
    );
    let midnight = instant("2026-05-18T00:00:00-04:00").unix_seconds();
    let mut checked = Vec::new();
    for k in 0..24 * 12 {
        let start = Instant::from_unix_seconds(midnight + k * 300).unwrap();
        if let Ok(slot) = m.check(portal, ana, start) {
            checked.push(slot.start_text());
        }
    }
    assert_eq!(checked, offered);
}

// Staff bookings.

/// Checks a staff booking of Ana's for `minutes` from `start`, for a schedule type
/// (`Some(id)`) or any of hers (`None`): `schedule-type clinic` when it fits, else the
/// reasons.
fn staff(
    doc: &Value,
    start: &str,
    minutes: u32,
    schedule_type: Option<&str>,
) -> Result<String, Vec<(OverrideKind, String)>> {
    let m = model(doc);
    let booking = StaffBooking {
        practitioner: m.practitioner_ix("ana").unwrap(),
        start: instant(start),
        duration_minutes: minutes,
        purpose: schedule_type.map_or(Purpose::Unspecified, |t| {
            Purpose::ScheduleType(m.schedule_type_ix(t).unwrap())
        }),
        buffers: Buffers::NONE,
        resources: crate::ResourceChoice::Auto,
    };
    match m.check_staff(&booking) {
        Ok(fit) => Ok(format!(
            "{} {}",
            m.schedule_type(fit.schedule_type).id,
            m.clinic(fit.clinic).id
        )),
        Err(reasons) => Err(reasons.into_iter().map(|r| (r.kind, r.message)).collect()),
    }
}

/// The reasons a staff booking needs an override; panics when it fits.
#[track_caller]
fn overrides(
    doc: &Value,
    start: &str,
    minutes: u32,
    schedule_type: Option<&str>,
) -> Vec<(OverrideKind, String)> {
    match staff(doc, start, minutes, schedule_type) {
        Ok(fit) => panic!("{start} fits without an override: {fit}"),
        Err(reasons) => reasons,
    }
}

fn reason(kind: OverrideKind, message: &str) -> (OverrideKind, String) {
    (kind, message.to_owned())
}

#[test]
fn staff_a_booking_that_fits_names_its_schedule_type_and_clinic() {
    let m = model(&base());
    let booking = StaffBooking {
        practitioner: m.practitioner_ix("ana").unwrap(),
        start: instant(NINE),
        duration_minutes: 30,
        purpose: Purpose::Service(m.service_ix("visit").unwrap()),
        buffers: Buffers::NONE,
        resources: crate::ResourceChoice::Auto,
    };
    assert_eq!(
        m.check_staff(&booking),
        Ok(StaffFit {
            schedule_type: m.schedule_type_ix("physio").unwrap(),
            clinic: m.clinic_ix("whitby").unwrap(),
            resources: Vec::new(),
        })
    );
    // Staff choose the duration and need no slot step: 09:05 for 80 minutes fits
    // Physiotherapy, 11:15 for 45 minutes fits Massage.
    assert_eq!(
        staff(&base(), "2026-05-18T09:05:00-04:00", 80, None),
        Ok("physio whitby".to_owned())
    );
    assert_eq!(
        staff(&base(), "2026-05-18T11:15:00-04:00", 45, None),
        Ok("massage whitby".to_owned())
    );
    // The portal's rules do not apply: not bookable online, no overlay, too soon.
    let doc = with(&[
        ("/practitioners/0/bookable_in_portal", json!(false)),
        ("/practitioners/0/availability/0/portal_blocks", json!([])),
        ("/query/now", json!("2026-06-01T00:00:00Z")),
    ]);
    assert_eq!(
        staff(&doc, NINE, 30, Some("physio")),
        Ok("physio whitby".to_owned())
    );
}

#[test]
fn staff_an_inactive_practitioner_needs_an_override() {
    let doc = with(&[("/practitioners/0/active", json!(false))]);
    assert_eq!(
        overrides(&doc, NINE, 30, Some("physio")),
        [reason(OverrideKind::Inactive, "Ana Roy is not active")]
    );
}

#[test]
fn staff_outside_availability_needs_an_override() {
    assert_eq!(
        overrides(&base(), "2026-05-18T08:30:00-04:00", 60, Some("physio")),
        [reason(
            OverrideKind::OutsideAvailability,
            "60 minutes from 08:30 on 2026-05-18 is outside Ana Roy's Physiotherapy availability"
        )]
    );
    // A booking across two schedule types fits neither.
    assert_eq!(
        overrides(&base(), "2026-05-18T10:30:00-04:00", 60, Some("massage")),
        [reason(
            OverrideKind::OutsideAvailability,
            "60 minutes from 10:30 on 2026-05-18 is outside Ana Roy's Massage availability"
        )]
    );
    // No record that day.
    assert_eq!(
        overrides(&base(), "2027-01-04T09:00:00-05:00", 30, Some("physio")),
        [reason(
            OverrideKind::NoRecord,
            "Ana Roy has no availability record covering 2027-01-04"
        )]
    );
}

#[test]
fn staff_a_conflict_counts_only_when_the_schedule_type_disallows_them() {
    let two = json!([
        appointment("2026-05-18T09:00:00-04:00", "2026-05-18T09:30:00-04:00"),
        appointment("2026-05-18T09:15:00-04:00", "2026-05-18T09:45:00-04:00"),
    ]);
    let doc = with(&[("/appointments", two.clone())]);
    assert_eq!(
        overrides(&doc, NINE, 30, Some("physio")),
        [reason(
            OverrideKind::Conflict,
            "2 appointments already at 09:15 on 2026-05-18 (Physiotherapy does not allow conflicts)"
        )]
    );
    assert_eq!(
        overrides(&doc, "2026-05-18T08:45:00-04:00", 20, Some("physio"))[1..],
        [reason(
            OverrideKind::Conflict,
            "1 appointment already at 09:00 on 2026-05-18 (Physiotherapy does not allow conflicts)"
        )]
    );
    // When the schedule type allows conflicts, any number may share a cell:
    // portal_conflicts does not apply to staff.
    let doc = with(&[
        ("/appointments", two),
        ("/schedule_types/0/allow_conflicts", json!(true)),
        ("/services/0/portal_conflicts", json!(1)),
    ]);
    assert_eq!(
        staff(&doc, NINE, 30, Some("physio")),
        Ok("physio whitby".to_owned())
    );
}

#[test]
fn staff_a_holiday_needs_an_override() {
    let doc = with(&[("/clinics/0/holidays", json!(["2026-05-18"]))]);
    assert_eq!(
        overrides(&doc, NINE, 30, Some("physio")),
        [reason(
            OverrideKind::Holiday,
            "Whitby is closed on 2026-05-18"
        )]
    );
}

#[test]
fn staff_time_off_needs_an_override() {
    let doc = with(&[(
        "/practitioners/0/time_off",
        json!([{"start": "2026-05-18T09:20:00-04:00", "end": "2026-05-18T12:00:00-04:00"}]),
    )]);
    assert_eq!(
        overrides(&doc, NINE, 30, Some("physio")),
        [reason(
            OverrideKind::TimeOff,
            "Ana Roy has time off from 2026-05-18 09:20 to 2026-05-18 12:00"
        )]
    );
    // Time off that starts as the booking ends, or ends as it starts, does not touch it.
    assert_eq!(staff(&doc, NINE, 20, None), Ok("physio whitby".to_owned()));
    let doc = with(&[(
        "/practitioners/0/time_off",
        json!([{"start": "2026-05-18T09:00:00-04:00", "end": "2026-05-18T09:20:00-04:00"}]),
    )]);
    assert_eq!(
        staff(&doc, "2026-05-18T09:20:00-04:00", 30, Some("physio")),
        Ok("physio whitby".to_owned())
    );
}

#[test]
fn staff_a_booking_past_midnight_needs_an_override() {
    let doc = with(&[block("23:00", "24:00", "physio")]);
    assert_eq!(
        overrides(&doc, "2026-05-18T23:30:00-04:00", 60, Some("physio")),
        [
            reason(
                OverrideKind::SpansDays,
                "it runs past midnight at the end of 2026-05-18 (Whitby)"
            ),
            reason(
                OverrideKind::OutsideAvailability,
                "60 minutes from 23:30 on 2026-05-18 is outside Ana Roy's Physiotherapy availability"
            ),
        ]
    );
}

#[test]
fn staff_a_booking_ending_at_24_00_fits() {
    let doc = with(&[block("23:00", "24:00", "physio")]);
    assert_eq!(
        staff(&doc, "2026-05-18T23:30:00-04:00", 30, Some("physio")),
        Ok("physio whitby".to_owned())
    );
    assert_eq!(
        staff(&doc, "2026-05-18T23:00:00-04:00", 60, None),
        Ok("physio whitby".to_owned())
    );
}

#[test]
fn staff_lists_every_reason_together() {
    let doc = with(&[
        ("/practitioners/0/active", json!(false)),
        ("/clinics/0/holidays", json!(["2026-05-18"])),
        (
            "/practitioners/0/time_off",
            json!([{"start": "2026-05-18T10:45:00-04:00", "end": "2026-05-18T11:00:00-04:00"}]),
        ),
        (
            "/appointments",
            json!([appointment(
                "2026-05-18T10:30:00-04:00",
                "2026-05-18T10:35:00-04:00"
            )]),
        ),
    ]);
    assert_eq!(
        overrides(&doc, "2026-05-18T10:30:00-04:00", 60, Some("physio")),
        [
            reason(OverrideKind::Inactive, "Ana Roy is not active"),
            reason(
                OverrideKind::OutsideAvailability,
                "60 minutes from 10:30 on 2026-05-18 is outside Ana Roy's Physiotherapy availability"
            ),
            reason(OverrideKind::Holiday, "Whitby is closed on 2026-05-18"),
            reason(
                OverrideKind::TimeOff,
                "Ana Roy has time off from 2026-05-18 10:45 to 2026-05-18 11:00"
            ),
            reason(
                OverrideKind::Conflict,
                "1 appointment already at 10:30 on 2026-05-18 (Physiotherapy does not allow conflicts)"
            ),
        ]
    );
}

#[test]
fn staff_a_booking_ending_after_2199_is_not_empty() {
    // In a UTC clinic, 60 minutes from 23:30 on Tuesday 2199-12-31 end on 2200-01-01:
    // outside the 09:00–10:00 block, and past midnight.
    let doc = with(&[
        ("/clinics/0/timezone", json!("UTC")),
        (
            "/practitioners/0/availability/0",
            json!({"start_date": "2199-01-01", "end_date": "2199-12-31",
                   "blocks": [{"days": ["tue"], "start": "09:00", "end": "10:00",
                               "schedule_type": "physio"}]}),
        ),
    ]);
    assert_eq!(
        staff(&doc, "2199-12-31T09:00:00Z", 60, Some("physio")),
        Ok("physio whitby".to_owned())
    );
    assert_eq!(
        overrides(&doc, "2199-12-31T23:30:00Z", 60, Some("physio")),
        [
            reason(
                OverrideKind::SpansDays,
                "it runs past midnight at the end of 2199-12-31 (Whitby)"
            ),
            reason(
                OverrideKind::OutsideAvailability,
                "60 minutes from 23:30 on 2199-12-31 is outside Ana Roy's Physiotherapy availability"
            ),
        ]
    );
}
