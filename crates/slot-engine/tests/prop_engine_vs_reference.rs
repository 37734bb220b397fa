//! Laws: on random scenarios (DST zones, off-grid appointments, overlays, several
//! records, capacities above one), the engine answers exactly as the naive model of
//! `slot-reference`, written minute by minute from `docs/scenario.md`.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use slot_engine::{
    Answer, AnswerSlot, Buffers, Instant, Model, Purpose, Scenario, SeriesEnd, SeriesRule,
    StaffBooking,
};
use slot_reference::random::{self, Bytes};

fn generated(bytes: &[u8]) -> (Scenario, Model) {
    let scenario = random::scenario(&mut Bytes::new(bytes));
    let model = Model::new(&scenario).unwrap_or_else(|e| panic!("generated scenario refused: {e}"));
    (scenario, model)
}

fn reference_answer(scenario: &Scenario) -> Vec<AnswerSlot> {
    slot_reference::open_slots(scenario)
        .into_iter()
        .map(|s| AnswerSlot {
            practitioner: s.practitioner,
            clinic: s.clinic,
            schedule_type: s.schedule_type,
            start: s.start,
            end: s.end,
            resources: s.resources,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/prop_engine_vs_reference.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn prop_search_equals_reference(bytes in vec(any::<u8>(), 32..700)) {
        let (scenario, model) = generated(&bytes);
        let got = Answer::new(&model, &model.open_slots(model.query().unwrap())).slots;
        prop_assert_eq!(got, reference_answer(&scenario));
    }

    #[test]
    fn prop_check_equals_reference(bytes in vec(any::<u8>(), 32..700), picks in vec((any::<u16>(), 0i64..5 * 1440, 0i64..4), 1..24)) {
        let (scenario, model) = generated(&bytes);
        let query = model.query().unwrap();
        let from = query.dates.from().naive().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() - 86_400;
        // Every slot the search offers is bookable…
        for slot in model.open_slots(query) {
            prop_assert!(model.check(&query.portal, slot.practitioner, slot.start_instant()).is_ok());
        }
        // …and random instants (mostly on whole minutes) agree with the model.
        for (p, minute, odd) in picks {
            let ix = model.practitioner_indices().nth(usize::from(p) % model.practitioners().len()).unwrap();
            let seconds = from + minute * 60 + if odd == 0 { 30 } else { 0 };
            let start = Instant::from_unix_seconds(seconds).unwrap();
            let id = model.practitioner(ix).id.as_str();
            let got = model.check(&query.portal, ix, start);
            let want = slot_reference::portal_bookable(&scenario, id, start.unix_nanos());
            prop_assert_eq!(got.is_ok(), want, "{} at {}: {:?}", id, start, got);
        }
    }

    #[test]
    fn prop_staff_check_equals_reference(bytes in vec(any::<u8>(), 32..700), picks in vec((any::<u16>(), 0i64..5 * 1440, 1u32..180, 0u8..3, any::<u8>()), 1..16)) {
        let (scenario, model) = generated(&bytes);
        let from = model.query().unwrap().dates.from().naive().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() - 86_400;
        for (p, minute, duration, what, which) in picks {
            let ix = model.practitioner_indices().nth(usize::from(p) % model.practitioners().len()).unwrap();
            let start = Instant::from_unix_seconds(from + minute * 60).unwrap();
            let (purpose, service, schedule_type) = match what {
                0 => (Purpose::Unspecified, None, None),
                1 => {
                    let s = model.services()[0].id.as_str();
                    (Purpose::Service(model.service_ix(s).unwrap()), Some(s), None)
                }
                _ => {
                    let t = &model.schedule_types()[usize::from(which) % model.schedule_types().len()];
                    (Purpose::ScheduleType(model.schedule_type_ix(t.id.as_str()).unwrap()), None, Some(t.id.as_str()))
                }
            };
            // Buffers of 0 to 15 minutes on either side, on and off the grid.
            let buffers = Buffers { before_minutes: [0, 5, 10, 3][usize::from(which % 4)], after_minutes: [0, 15, 7, 0][usize::from(which / 4 % 4)] };
            // Resources chosen by the engine, or (one time in four) named by staff: a
            // subset of the scenario's chosen by the bits of `which`.
            let named: Option<Vec<String>> = (which % 4 == 3).then(|| {
                model.resources().iter().enumerate()
                    .filter(|(i, _)| which >> (2 + i % 6) & 1 == 1)
                    .map(|(_, r)| r.id.to_string())
                    .collect()
            });
            let resources = match &named {
                None => slot_engine::ResourceChoice::Auto,
                Some(ids) => slot_engine::ResourceChoice::Chosen(ids.iter().map(|id| model.resource_ix(id).unwrap()).collect()),
            };
            let booking = StaffBooking { practitioner: ix, start, duration_minutes: duration, purpose, buffers, resources };
            let got = model.check_staff(&booking);
            let id = model.practitioner(ix).id.as_str();
            let want = slot_reference::staff_ok_holding(&scenario, id, start.unix_seconds(), duration, (service, schedule_type), (buffers.before_minutes, buffers.after_minutes), named.as_deref());
            prop_assert_eq!(got.is_ok(), want, "{} at {} for {} min: {:?}", id, start, duration, got);
            if let Err(reasons) = got {
                prop_assert!(!reasons.is_empty());
            }
        }
    }

    #[test]
    fn prop_first_available_is_the_start_of_the_answer(bytes in vec(any::<u8>(), 32..700), limit in 1usize..6) {
        let (_, model) = generated(&bytes);
        let query = model.query().unwrap();
        let all = model.open_slots(query);
        let first = model.first_available(&query.portal, query.dates.from(), limit);
        // first_available looks beyond `to`, so it agrees with the answer on the slots
        // the answer has before its last day.
        let n = first.len().min(all.len());
        prop_assert_eq!(&first[..n], &all[..n]);
        prop_assert!(first.len() <= limit);
        if all.len() >= limit { prop_assert_eq!(first.len(), limit); }
    }

    #[test]
    fn prop_scenario_print_then_parse_is_identity(bytes in vec(any::<u8>(), 32..700)) {
        let (scenario, _) = generated(&bytes);
        let text = serde_json::to_string(&scenario).unwrap();
        prop_assert_eq!(Scenario::from_json(text.as_bytes()).unwrap(), scenario);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/prop_engine_vs_reference.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    /// The `scenario_bytes` fuzz target's laws, on valid scenarios printed as JSON and
    /// then cut or bit-flipped, so that parsing meets both good and broken documents.
    #[test]
    fn prop_fuzz_scenario_bytes(bytes in vec(any::<u8>(), 32..700), cut in any::<u16>(), flip in any::<(u16, u8)>()) {
        let (scenario, _) = generated(&bytes);
        let mut text = serde_json::to_vec(&scenario).unwrap();
        slot_reference::laws::scenario_bytes(&text);
        let i = usize::from(flip.0) % text.len();
        text[i] ^= flip.1;
        slot_reference::laws::scenario_bytes(&text);
        text.truncate(usize::from(cut) % text.len());
        slot_reference::laws::scenario_bytes(&text);
    }

    /// The `engine_vs_model` fuzz target's laws on random bytes.
    #[test]
    fn prop_fuzz_engine_vs_model(bytes in vec(any::<u8>(), 0..900)) {
        slot_reference::laws::engine_vs_model(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/prop_engine_vs_reference.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    /// A portal series: each occurrence's date, start and verdict equal the naive
    /// model's, across the random zones' clock changes.
    #[test]
    fn prop_series_equals_reference(bytes in vec(any::<u8>(), 32..700), p in any::<u16>(), minute in 0i64..5 * 1440, every in 1u32..=4, count in 2u32..=5) {
        let (mut scenario, _) = generated(&bytes);
        // Series need a version 2 (or later) service that allows them.
        scenario.version = scenario.version.max(2);
        scenario.services[0].allow_series = true;
        let model = Model::new(&scenario).unwrap();
        let query = model.query().unwrap();
        let from = query.dates.from().naive().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() - 86_400;
        let ix = model.practitioner_indices().nth(usize::from(p) % model.practitioners().len()).unwrap();
        let id = model.practitioner(ix).id.as_str();
        let first = Instant::from_unix_seconds(from + minute * 60).unwrap();
        let rule = SeriesRule::new(every, SeriesEnd::Count(count)).unwrap();
        let got: Vec<(String, Option<i64>, bool)> = model
            .check_series(&query.portal, ix, first, &rule)
            .unwrap()
            .iter()
            .map(|o| (o.date.to_string(), o.start.map(|s| s.unix_seconds()), o.answer.is_ok()))
            .collect();
        let want: Vec<(String, Option<i64>, bool)> = slot_reference::portal_series(&scenario, id, first.unix_seconds(), every, count)
            .into_iter()
            .map(|o| (o.date.to_string(), o.start_seconds, o.bookable))
            .collect();
        prop_assert_eq!(got, want, "{} from {}", id, first);
    }
}
