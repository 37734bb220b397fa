//! `openslot gen-clinic --practitioners P --days D --fill F --seed S [--mixed]`.

use std::io::Write;

use slot_engine::synthetic::{ClinicSpec, clinic, mixed_clinic};

use crate::cli::{Failure, GenClinicArgs};

/// Writes the synthetic scenario.
pub fn run(args: &GenClinicArgs) -> Result<(), Failure> {
    let spec = ClinicSpec {
        practitioners: args.practitioners,
        days: args.days,
        fill: args.fill,
        seed: args.seed,
    };
    let scenario = if args.mixed {
        mixed_clinic(spec)
    } else {
        clinic(spec)
    }
    .map_err(|e| Failure::BadInput(e.to_string()))?;
    let mut text = serde_json::to_vec(&scenario).map_err(|e| Failure::Other(e.into()))?;
    text.push(b'\n');
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Failure::BadInput(format!("cannot write {}: {e}", path.display())))?,
        None => std::io::stdout().lock().write_all(&text)?,
    }
    Ok(())
}
