//! Times a scenario's whole request and its parts, reporting the minimum and median of
//! many runs in one process (robust on a noisy machine): `cargo run --release
//! --example timing -- FILE [RUNS]`. FILE may also be `gen:plain` or `gen:mixed`, the
//! `gen-clinic` clinics of 200 practitioners × 90 days, fill 0.5, seed 1, built
//! without a file.
//!
//! The whole request is what `openslot slots --stats` calls compute: from the parsed
//! document to the answer's slots (validation, grids, occupancy, search). Parsing the
//! JSON and writing the answer are not in it.
#![allow(clippy::disallowed_methods)] // a timing harness around the engine reads its file and the clock; the engine itself does neither.
use std::time::Instant;

use slot_engine::synthetic::{ClinicSpec, clinic, mixed_clinic};
use slot_engine::{BuildStage, Model, Scenario};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: timing FILE [RUNS]");
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(100);
    let spec = ClinicSpec {
        practitioners: 200,
        days: 90,
        fill: 0.5,
        seed: 1,
    };
    let scenario = match path.as_str() {
        "gen:plain" => clinic(spec).expect("valid spec"),
        "gen:mixed" => mixed_clinic(spec).expect("valid spec"),
        _ => Scenario::from_json(&std::fs::read(&path).expect("readable file"))
            .expect("valid scenario"),
    };
    let model = Model::new(&scenario).expect("valid scenario");
    let query = model.query().expect("a query");
    let pd = (model.practitioners().len() * query.dates.len()) as f64;
    let expected = model.open_slots(query);

    let mut whole = Vec::new();
    let mut stages: [Vec<f64>; 4] = Default::default();
    for _ in 0..runs {
        let mut marks: Vec<(usize, Instant)> = Vec::with_capacity(8);
        let started = Instant::now();
        let model = Model::new_observed(&scenario, |stage| {
            let i = match stage {
                BuildStage::Validation => 0,
                BuildStage::Grids => 1,
                BuildStage::Occupancy => 2,
            };
            marks.push((i, Instant::now()));
        })
        .expect("valid");
        marks.push((3, Instant::now()));
        let slots = model.open_slots(model.query().expect("a query"));
        let done = Instant::now();
        whole.push((done - started).as_nanos() as f64);
        assert_eq!(slots.len(), expected.len());
        let mut spent = [0.0; 4];
        for pair in marks.windows(2) {
            spent[pair[0].0] += (pair[1].1 - pair[0].1).as_nanos() as f64;
        }
        spent[3] = (done - marks[marks.len() - 1].1).as_nanos() as f64;
        for (v, s) in stages.iter_mut().zip(spent) {
            v.push(s);
        }
        // Dropping is not part of the request's answer; keep it out of the next run.
        drop(slots);
        drop(model);
    }
    let mut search = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let slots = model.open_slots(query);
        search.push(t.elapsed().as_nanos() as f64);
        std::hint::black_box(slots);
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[0] / pd, v[v.len() / 2] / pd)
    };
    let (wmin, wmed) = stats(&mut whole);
    let (smin, smed) = stats(&mut search);
    println!(
        "{} practitioner-days, {} slots, {} appointments, {runs} runs",
        pd,
        expected.len(),
        scenario.appointments.len()
    );
    println!("whole request: min {wmin:.0} ns/pd, median {wmed:.0} ns/pd");
    for (name, v) in ["validation", "grids", "occupancy", "search"]
        .iter()
        .zip(stages.iter_mut())
    {
        let (min, med) = stats(v);
        println!("  {name:<10}: min {min:.0} ns/pd, median {med:.0} ns/pd");
    }
    println!("search on a built model: min {smin:.0} ns/pd, median {smed:.0} ns/pd");
}
