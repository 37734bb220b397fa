use super::*;
use crate::{Buffers, Purpose};

fn model(name: &str) -> Model {
    let path = format!("{}/tests/data/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    #[allow(clippy::disallowed_methods)] // test data
    let bytes = std::fs::read(path).unwrap();
    Model::from_json(&bytes).unwrap()
}

fn at(s: &str) -> Instant {
    s.parse().unwrap()
}

fn weekly(n: u32) -> SeriesRule {
    SeriesRule::new(1, SeriesEnd::Count(n)).unwrap()
}

#[test]
fn rule_ranges_are_checked() {
    assert!(SeriesRule::new(0, SeriesEnd::Count(2)).is_err());
    assert!(SeriesRule::new(4, SeriesEnd::Count(52)).is_ok());
    assert!(SeriesRule::new(1, SeriesEnd::Count(1)).is_err());
    assert!(SeriesRule::new(1, SeriesEnd::Count(53)).is_err());
    let d = |s: &str| s.parse::<Date>().unwrap();
    // 2026-03-10 plus 51 weeks is 2027-03-02: 52 occurrences, the most.
    let until = SeriesRule::new(1, SeriesEnd::Until(d("2027-03-08"))).unwrap();
    assert_eq!(until.dates(d("2026-03-10")).unwrap().len(), 52);
    let long = SeriesRule::new(1, SeriesEnd::Until(d("2027-03-09"))).unwrap();
    assert_eq!(
        long.dates(d("2026-03-10")).unwrap_err().to_string(),
        "until 2027-03-09 leaves 53 occurrences; a series has 2 to 52"
    );
    assert_eq!(
        until.dates(d("2027-03-09")).unwrap_err().to_string(),
        "until 2027-03-08 is before the first occurrence on 2027-03-09"
    );
    let at_the_end = SeriesRule::new(4, SeriesEnd::Count(3)).unwrap();
    assert!(at_the_end.dates(Date::MAX).is_err());
}

#[test]
fn a_london_series_keeps_its_wall_clock_time_across_both_changes() {
    let model = model("series-london.json");
    let portal = &model.query().unwrap().portal;
    let ana = model.practitioner_ix("ana").unwrap();
    // Tuesdays at 17:00 from 20 October 2026: the clocks go back on the 25th.
    let series = model
        .check_series(portal, ana, at("2026-10-20T17:00:00+01:00"), &weekly(2))
        .unwrap();
    let starts: Vec<String> = series
        .iter()
        .map(|o| o.answer.as_ref().unwrap().start_text())
        .collect();
    assert_eq!(
        starts,
        ["2026-10-20T17:00:00+01:00", "2026-10-27T17:00:00+00:00"]
    );
    // Sundays at 01:00 from 18 October: 01:00 happens twice on the 25th, and the
    // earlier reading (BST) is the occurrence; 01:45 is still in the overlap.
    let series = model
        .check_series(portal, ana, at("2026-10-18T01:00:00+01:00"), &weekly(2))
        .unwrap();
    assert_eq!(series[1].start, Some(at("2026-10-25T01:00:00+01:00")));
    assert_eq!(
        series[1].answer.as_ref().unwrap().end_text(),
        "2026-10-25T01:45:00+01:00"
    );
    // At 01:30 the session would end at 02:15 GMT, 105 minutes later: rule 9.
    let series = model
        .check_series(portal, ana, at("2026-10-18T01:30:00+01:00"), &weekly(2))
        .unwrap();
    assert_eq!(series[1].start, Some(at("2026-10-25T01:30:00+01:00")));
    let refusal = series[1].answer.as_ref().unwrap_err();
    assert_eq!(refusal.rule, Rule::DaylightSaving);
    assert_eq!(
        refusal.reason,
        "01:30–02:15 on 2026-10-25 lasts 105 minutes across the clock change, not 45"
    );
}

#[test]
fn refused_occurrences_are_reported_not_moved() {
    let model = model("series-london.json");
    let portal = &model.query().unwrap().portal;
    let ana = model.practitioner_ix("ana").unwrap();
    let series = model
        .check_series(portal, ana, at("2027-03-16T17:00:00Z"), &weekly(5))
        .unwrap();
    let rules: Vec<Option<u8>> = series
        .iter()
        .map(|o| o.answer.as_ref().err().map(|r| r.rule.number()))
        .collect();
    // 23 March is taken from 17:15; 13 April is a holiday.
    assert_eq!(rules, [None, Some(11), None, None, Some(6)]);
    let dates: Vec<String> = series.iter().map(|o| o.date.to_string()).collect();
    assert_eq!(
        dates,
        [
            "2027-03-16",
            "2027-03-23",
            "2027-03-30",
            "2027-04-06",
            "2027-04-13"
        ]
    );
}

#[test]
fn lord_howe_gap_and_half_hour_overlap() {
    let model = model("series-lord-howe.json");
    let portal = &model.query().unwrap().portal;
    let kai = model.practitioner_ix("kai").unwrap();
    // 02:15 on Sundays from 27 September 2026: on 4 October the clocks go from 02:00
    // to 02:30, so 02:15 does not exist.
    let series = model
        .check_series(portal, kai, at("2026-09-27T02:15:00+10:30"), &weekly(3))
        .unwrap();
    assert_eq!(series[1].start, None);
    let refusal = series[1].answer.as_ref().unwrap_err();
    assert_eq!(refusal.rule, Rule::DaylightSaving);
    assert_eq!(
        refusal.reason,
        "02:15 does not exist on 2026-10-04 in Australia/Lord_Howe (clocks go forward)"
    );
    assert!(series[0].answer.is_ok() && series[2].answer.is_ok());
    assert_eq!(
        series[2].answer.as_ref().unwrap().start_text(),
        "2026-10-11T02:15:00+11:00"
    );
}

#[test]
fn staff_series_use_the_first_bookings_purpose_and_buffers() {
    let model = model("buffers.json");
    let mo = model.practitioner_ix("mo").unwrap();
    let deep = model.service_ix("deep").unwrap();
    let first = StaffBooking {
        practitioner: mo,
        start: at("2026-02-23T09:30:00-05:00"),
        duration_minutes: 30,
        purpose: Purpose::Service(deep),
        buffers: model.service(deep).buffers,
        resources: crate::ResourceChoice::Auto,
    };
    let series = model.check_staff_series(&first, &weekly(3)).unwrap();
    // 23 February is before the record; 2 March 09:30 meets the 10:00 appointment
    // through the 15-minute buffer; 9 March fits.
    assert!(series[0].answer.is_err());
    let reasons = series[1].answer.as_ref().unwrap_err();
    assert_eq!(reasons.len(), 1);
    assert!(
        reasons[0].message.ends_with(
            "(in the buffer kept free around it) (Massage therapy does not allow conflicts)"
        ),
        "{}",
        reasons[0].message
    );
    assert!(series[2].answer.is_ok());
    let without = StaffBooking {
        buffers: Buffers::NONE,
        resources: crate::ResourceChoice::Auto,
        ..first
    };
    assert!(
        model.check_staff_series(&without, &weekly(3)).unwrap()[1]
            .answer
            .is_ok()
    );
}
