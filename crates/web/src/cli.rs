//! The `openslot` command line.
//!
//! Exit status: 0 on success, 2 for any bad input (a command line that cannot be used,
//! a file that cannot be read, an invalid scenario) with one line on stderr, 1 for
//! anything else.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::admin::AdminCreateArgs;
use crate::commands::check::CheckArgs;
use crate::commands::gen_clinic::GenClinicArgs;
use crate::commands::gen_orgs::GenOrgsArgs;
use crate::commands::serve::ServeArgs;
use crate::commands::slots::SlotsArgs;
use crate::commands::transfer::{ExportArgs, ImportArgs};
use crate::commands::{self, Failure};

/// Openslot: clinic scheduling engine and patient portal.
#[derive(Debug, Parser)]
#[command(name = "openslot", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print open slots as answer JSON: of a scenario's query (--scenario), or of an
    /// organisation in the database (--org).
    Slots(SlotsArgs),
    /// Import a scenario's whole setup and appointments into an organisation.
    Import(ImportArgs),
    /// Print an organisation's setup, patients and appointments as a scenario.
    Export(ExportArgs),
    /// Run the web server.
    Serve(ServeArgs),
    /// Manage the staff accounts stored in the database.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check one proposed booking against a scenario: a portal booking by default,
    /// a front-desk booking with --staff.
    Check(CheckArgs),
    /// Write a synthetic clinic scenario (deterministic from its arguments).
    GenClinic(GenClinicArgs),
    /// Generate many organisations (mixed clinics with patients and appointments) and
    /// load them into PostgreSQL by COPY.
    GenOrgs(GenOrgsArgs),
}

/// The subcommands of `openslot admin`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff account (the first admin of an organisation, for instance); the
    /// organisation is created if it does not exist.
    Create(AdminCreateArgs),
}

/// Runs the command line and turns the outcome into an exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Slots(args) => commands::slots::run(&args),
        Command::Import(args) => commands::transfer::import(&args),
        Command::Export(args) => commands::transfer::export(&args),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Admin(AdminCommand::Create(args)) => commands::admin::create(&args),
        Command::Check(args) => commands::check::run(&args),
        Command::GenClinic(args) => commands::gen_clinic::run(&args),
        Command::GenOrgs(args) => commands::gen_orgs::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(message)) => {
            eprintln!("error: {}", message.replace('\n', " "));
            ExitCode::from(2)
        }
        // The reader went away (`openslot export … | head`): what it read was right,
        // and nothing is left to say, as with ripgrep and other command-line tools.
        Err(Failure::Other(e)) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}
