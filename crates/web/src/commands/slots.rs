//! `openslot slots --scenario FILE [--stats]`.

use std::io::{BufWriter, Write};
use std::time::Instant;

use slot_engine::{Model, Scenario, write_answer_json};

use crate::cli::{Failure, SlotsArgs};
use crate::commands::read_input;

/// Prints the answer of the scenario's query.
pub fn run(args: &SlotsArgs) -> Result<(), Failure> {
    let bytes = read_input(&args.scenario)?;
    let scenario = Scenario::from_json(&bytes).map_err(|e| Failure::BadInput(e.to_string()))?;
    drop(bytes);
    // Compute time: everything after the text is deserialized.
    let started = Instant::now();
    let model = Model::new(&scenario).map_err(|e| Failure::BadInput(e.to_string()))?;
    let query = model
        .query()
        .ok_or_else(|| Failure::BadInput("scenario: a query is required".to_owned()))?;
    let slots = model.open_slots(query);
    let compute_seconds = started.elapsed().as_secs_f64();
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    write_answer_json(&model, &slots, &mut out)?;
    out.write_all(b"\n")?;
    out.flush()?;
    if args.stats {
        let stats = serde_json::json!({
            "compute_seconds": compute_seconds,
            "practitioner_days": model.practitioners().len() * query.dates.len(),
            "slots": slots.len(),
        });
        eprintln!("{stats}");
    }
    Ok(())
}
