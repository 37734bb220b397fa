//! `openslot gen-clinic --practitioners P --days D --fill F --seed S [--mixed [--buffers | --rooms N]]`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use slot_engine::synthetic::{
    ClinicSpec, MIXED_BUFFERS, clinic, mixed_clinic, mixed_clinic_with_buffers,
    mixed_clinic_with_rooms,
};

use crate::commands::Failure;

/// Arguments of `openslot gen-clinic`.
#[derive(Debug, Args)]
pub(crate) struct GenClinicArgs {
    /// How many practitioners the clinic has, 1 to 100000.
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub practitioners: u32,
    /// Number of days queried, from Monday 2030-01-07.
    #[arg(long, value_name = "D", value_parser = clap::value_parser!(u32).range(1..=366))]
    pub days: u32,
    /// Fraction of each working day's slots already booked, 0..=1.
    #[arg(long, value_name = "F")]
    pub fill: f64,
    /// Seed of the deterministic generator.
    #[arg(long, value_name = "S")]
    pub seed: u64,
    /// A clinic with what real clinics have: several zones and records, overlays,
    /// capacities, off-grid appointments, time off, holidays.
    #[arg(long)]
    pub mixed: bool,
    /// With `--mixed`: visits keep 5 minutes free before and 10 after (format v2).
    #[arg(long, requires = "mixed")]
    pub buffers: bool,
    /// With `--mixed`: N treatment rooms shared by the three clinics, each visit
    /// needing one (format v3).
    #[arg(long, value_name = "N", requires = "mixed", conflicts_with = "buffers", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub rooms: Option<u32>,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Writes the synthetic scenario.
pub(crate) fn run(args: &GenClinicArgs) -> Result<(), Failure> {
    let spec = ClinicSpec {
        practitioners: args.practitioners,
        days: args.days,
        fill: args.fill,
        seed: args.seed,
    };
    let scenario = if let Some(rooms) = args.rooms {
        mixed_clinic_with_rooms(spec, rooms)
    } else if args.buffers {
        mixed_clinic_with_buffers(spec, MIXED_BUFFERS)
    } else if args.mixed {
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
