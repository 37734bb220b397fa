//! The `openslot` command line.
//!
//! Exit status: 0 on success, 2 for any bad input (a command line that cannot be used,
//! a file that cannot be read, an invalid scenario) with one line on stderr, 1 for
//! anything else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::commands;

/// Openslot: clinic scheduling engine and patient portal.
#[derive(Debug, Parser)]
#[command(name = "openslot", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the open slots of a scenario's query as answer JSON.
    Slots(SlotsArgs),
    /// Check one proposed booking against a scenario: a portal booking by default,
    /// a front-desk booking with --staff.
    Check(CheckArgs),
    /// Write a synthetic clinic scenario (deterministic from its arguments).
    GenClinic(GenClinicArgs),
}

/// Arguments of `openslot slots`.
#[derive(Debug, Args)]
pub struct SlotsArgs {
    /// The scenario file, or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// Also print one JSON line of timings on stderr.
    #[arg(long)]
    pub stats: bool,
}

/// Arguments of `openslot check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The scenario file, or `-` for standard input; its query gives the service,
    /// `now` and the patient's practitioners.
    #[arg(long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// The practitioner's id.
    #[arg(long, value_name = "ID")]
    pub practitioner: String,
    /// The proposed start, RFC 3339 with an offset.
    #[arg(long, value_name = "RFC3339")]
    pub start: String,
    /// Check a front-desk booking (the spec's *Staff bookings*) instead.
    #[arg(long, requires = "duration")]
    pub staff: bool,
    /// The staff booking's length in minutes.
    #[arg(long, value_name = "M", requires = "staff", value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub duration: Option<u32>,
    /// The service booked (staff bookings).
    #[arg(
        long,
        value_name = "ID",
        requires = "staff",
        conflicts_with = "schedule_type"
    )]
    pub service: Option<String>,
    /// The schedule type booked (staff bookings).
    #[arg(long, value_name = "ID", requires = "staff")]
    pub schedule_type: Option<String>,
}

/// Arguments of `openslot gen-clinic`.
#[derive(Debug, Args)]
pub struct GenClinicArgs {
    /// Number of practitioners.
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
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// A command's failure: bad input (exit 2) or anything else (exit 1).
#[derive(Debug)]
pub enum Failure {
    /// Input that cannot be used: an invalid scenario, an unreadable file, an unknown
    /// id on the command line.
    BadInput(String),
    /// Anything else (e.g. standard output closed).
    Other(anyhow::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Other(e.into())
    }
}

/// Runs the command line and turns the outcome into an exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Slots(args) => commands::slots::run(&args),
        Command::Check(args) => commands::check::run(&args),
        Command::GenClinic(args) => commands::gen_clinic::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(message)) => {
            eprintln!("error: {}", message.replace('\n', " "));
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
