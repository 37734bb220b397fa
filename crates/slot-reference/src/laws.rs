//! The laws the fuzz targets check, as plain functions: `fuzz/` calls them on
//! libFuzzer's inputs, and the engine's property tests call them on random bytes so
//! that CI exercises them on the stable toolchain too. Each panics when a law breaks.

use slot_engine::{
    Answer, AnswerSlot, Buffers, Instant, Model, Purpose, Scenario, SeriesEnd, SeriesRule,
    StaffBooking,
};

use crate::random::{self, Bytes};

/// Arbitrary bytes as a scenario document. Parsing and validation accept or refuse
/// without panicking; an accepted document prints back to itself; a valid query's
/// answer is strictly ordered, every slot in it passes `check` holding the same
/// resources, `first_available` agrees with it, and it writes as JSON.
pub fn scenario_bytes(data: &[u8]) {
    let Ok(scenario) = Scenario::from_json(data) else {
        return;
    };
    let text = serde_json::to_vec(&scenario).expect("a parsed scenario serializes");
    let again = Scenario::from_json(&text).expect("a printed scenario parses");
    assert_eq!(again, scenario, "print then parse is the identity");
    let Ok(model) = Model::new(&scenario) else {
        return;
    };
    let Some(query) = model.query() else {
        return;
    };
    let slots = model.open_slots(query);
    assert!(
        slots.windows(2).all(|w| w[0] < w[1]),
        "answer strictly ordered"
    );
    for slot in slots.iter().take(16) {
        let checked = model
            .check(&query.portal, slot.practitioner, slot.start_instant())
            .expect("an offered slot is bookable");
        assert_eq!(
            model.slot_resources(&checked),
            model.slot_resources(slot),
            "a checked slot holds the resources the answer names"
        );
    }
    let first = model.first_available(&query.portal, query.dates.from(), 3);
    let n = first.len().min(slots.len());
    assert_eq!(
        first[..n],
        slots[..n],
        "first_available is the answer's start"
    );
    let mut out = Vec::new();
    slot_engine::write_answer_json(&model, &slots, &mut out).expect("writing to memory");
    let parsed: Answer = serde_json::from_slice(&out).expect("the answer is JSON");
    assert_eq!(parsed, Answer::new(&model, &slots));
}

/// Bytes as a small random scenario (see [`random`]): the engine's answer, portal
/// checks and staff checks equal the naive model's.
pub fn engine_vs_model(data: &[u8]) {
    let mut bytes = Bytes::new(data);
    let scenario = random::scenario(&mut bytes);
    let model = Model::new(&scenario).expect("random scenarios are valid");
    let query = model.query().expect("random scenarios have a query");
    let got: Vec<AnswerSlot> = Answer::new(&model, &model.open_slots(query)).slots;
    let want: Vec<AnswerSlot> = crate::open_slots(&scenario)
        .into_iter()
        .map(|s| AnswerSlot {
            practitioner: s.practitioner,
            clinic: s.clinic,
            schedule_type: s.schedule_type,
            start: s.start,
            end: s.end,
            resources: s.resources,
        })
        .collect();
    assert_eq!(got, want, "engine answer equals the naive model's");
    let base = query
        .dates
        .from()
        .naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp()
        - 86_400;
    for _ in 0..4 {
        let p = model
            .practitioner_indices()
            .nth(bytes.below(model.practitioners().len() as u32) as usize)
            .expect("a practitioner");
        let id = model.practitioner(p).id.as_str();
        let start = Instant::from_unix_seconds(base + 60 * i64::from(bytes.below(5 * 1440)))
            .expect("in range");
        let portal = model.check(&query.portal, p, start).is_ok();
        assert_eq!(
            portal,
            crate::portal_bookable(&scenario, id, start.unix_nanos()),
            "portal check of {id} at {start}"
        );
        let duration = 1 + bytes.below(120);
        let t = &model.schedule_types()[bytes.below(model.schedule_types().len() as u32) as usize];
        let sizes = [0, 0, 5, 10, 25, 3];
        let buffers = Buffers {
            before_minutes: bytes.pick(&sizes),
            after_minutes: bytes.pick(&sizes),
        };
        let booking = StaffBooking {
            practitioner: p,
            start,
            duration_minutes: duration,
            purpose: Purpose::ScheduleType(model.schedule_type_ix(t.id.as_str()).expect("known")),
            buffers,
            resources: slot_engine::ResourceChoice::Auto,
        };
        let staff = model.check_staff(&booking).is_ok();
        let want = crate::staff_ok(
            &scenario,
            id,
            start.unix_seconds(),
            duration,
            (None, Some(t.id.as_str())),
            (buffers.before_minutes, buffers.after_minutes),
        );
        assert_eq!(
            staff, want,
            "staff check of {id} at {start} for {duration} min"
        );
    }
    // A weekly series from one more random start: every occurrence's date, start and
    // verdict equal the naive model's (series need version 2 and a service allowing
    // them).
    let mut series_scenario = scenario.clone();
    series_scenario.version = series_scenario.version.max(2);
    series_scenario.services[0].allow_series = true;
    let model = Model::new(&series_scenario).expect("still valid");
    let query = model.query().expect("a query");
    let p = model
        .practitioner_indices()
        .nth(bytes.below(model.practitioners().len() as u32) as usize)
        .expect("a practitioner");
    let id = model.practitioner(p).id.as_str();
    let first =
        Instant::from_unix_seconds(base + 60 * i64::from(bytes.below(5 * 1440))).expect("in range");
    let (every, count) = (1 + bytes.below(4), 2 + bytes.below(3));
    let rule = SeriesRule::new(every, SeriesEnd::Count(count)).expect("a valid rule");
    let got: Vec<(String, Option<i64>, bool)> = model
        .check_series(&query.portal, p, first, &rule)
        .expect("the service allows series")
        .iter()
        .map(|o| {
            (
                o.date.to_string(),
                o.start.map(Instant::unix_seconds),
                o.answer.is_ok(),
            )
        })
        .collect();
    let want: Vec<(String, Option<i64>, bool)> =
        crate::portal_series(&series_scenario, id, first.unix_seconds(), every, count)
            .into_iter()
            .map(|o| (o.date.to_string(), o.start_seconds, o.bookable))
            .collect();
    assert_eq!(got, want, "series of {id} from {first}, {rule}");
}
