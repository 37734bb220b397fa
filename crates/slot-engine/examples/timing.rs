//! Times model building and the search on a scenario file, reporting the minimum and
//! median of many runs (robust on a noisy machine): `cargo run --release --example
//! timing -- FILE [RUNS]`.
#![allow(clippy::disallowed_methods)] // a timing harness around the engine reads its file and the clock; the engine itself does neither.
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: timing FILE [RUNS]");
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(100);
    let bytes = std::fs::read(path).expect("readable file");
    let scenario = slot_engine::Scenario::from_json(&bytes).expect("valid scenario");
    let model = slot_engine::Model::new(&scenario).expect("valid scenario");
    let query = model.query().expect("a query");
    let pd = (model.practitioners().len() * query.dates.len()) as f64;
    let mut search = Vec::new();
    let mut first = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let slots = model.open_slots(query);
        search.push(t.elapsed().as_nanos() as f64);
        std::hint::black_box(slots);
        let t = Instant::now();
        std::hint::black_box(model.first_available(&query.portal, query.dates.from(), 1));
        first.push(t.elapsed().as_nanos() as f64);
    }
    let mut build = Vec::new();
    for _ in 0..runs.div_ceil(10) {
        let t = Instant::now();
        std::hint::black_box(slot_engine::Model::new(&scenario).expect("valid"));
        build.push(t.elapsed().as_nanos() as f64);
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[0], v[v.len() / 2])
    };
    let (smin, smed) = stats(&mut search);
    let (fmin, fmed) = stats(&mut first);
    let (bmin, bmed) = stats(&mut build);
    println!(
        "search: min {:.0} ns/pd, median {:.0} ns/pd | first_available: min {:.1} µs, median {:.1} µs | build: min {:.1} ms, median {:.1} ms",
        smin / pd,
        smed / pd,
        fmin / 1e3,
        fmed / 1e3,
        bmin / 1e6,
        bmed / 1e6
    );
}
