//! The `openslot` command line.
//!
//! Exit status: 0 on success, 2 for any bad input (a command line that cannot be used,
//! a file that cannot be read, an invalid scenario) with one line on stderr, 1 for
//! anything else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lettre::message::Mailbox;

use crate::commands;
use crate::config::{self, SmtpSecurity};

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
    /// Manage staff accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check one proposed booking against a scenario: a portal booking by default,
    /// a front-desk booking with --staff.
    Check(CheckArgs),
    /// Write a synthetic clinic scenario (deterministic from its arguments).
    GenClinic(GenClinicArgs),
}

/// Where the database is: every command that uses it takes this.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// `sqlite://FILE` (created and migrated on first use) or `postgres://…`.
    #[arg(long, env = "OPENSLOT_DATABASE_URL", default_value = store::DEFAULT_DATABASE_URL, value_name = "URL")]
    pub database_url: String,
}

/// Arguments of `openslot slots`.
#[derive(Debug, Args)]
pub struct SlotsArgs {
    /// The scenario file, or `-` for standard input.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "org",
        required_unless_present = "org"
    )]
    pub scenario: Option<PathBuf>,
    /// Also print one JSON line of timings on stderr.
    #[arg(long)]
    pub stats: bool,
    /// The organisation's slug (answers from the database).
    #[arg(long, value_name = "SLUG", requires_all = ["service", "from", "to"])]
    pub org: Option<String>,
    /// The service's id (with --org).
    #[arg(long, value_name = "ID", requires = "org")]
    pub service: Option<String>,
    /// The first date, YYYY-MM-DD (with --org).
    #[arg(long, value_name = "DATE", requires = "org")]
    pub from: Option<String>,
    /// The last date, YYYY-MM-DD (with --org).
    #[arg(long, value_name = "DATE", requires = "org")]
    pub to: Option<String>,
    /// Only these practitioners' ids, comma-separated (with --org).
    #[arg(long, value_name = "A,B", requires = "org", value_delimiter = ',')]
    pub practitioners: Option<Vec<String>>,
    /// "Now", RFC 3339 (with --org; default: the current time).
    #[arg(long, value_name = "RFC3339", requires = "org")]
    pub now: Option<String>,
    /// Only telehealth slots (with --org).
    #[arg(long, requires = "org")]
    pub telehealth: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Arguments of `openslot import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The scenario file, or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// The organisation's slug (created if missing).
    #[arg(long, value_name = "SLUG")]
    pub org: String,
    /// Replace the organisation's existing setup, patients and appointments.
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Arguments of `openslot export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The organisation's slug.
    #[arg(long, value_name = "SLUG")]
    pub org: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Arguments of `openslot serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(
        long,
        env = "OPENSLOT_BIND",
        default_value = "127.0.0.1:3000",
        value_name = "ADDR"
    )]
    pub bind: String,
    /// The address people reach the server at (links in emails); default http://BIND.
    #[arg(long, env = "OPENSLOT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Import the demo organisation (slug `demo`) if it is not there yet, and print how
    /// to sign in.
    #[arg(long)]
    pub demo: bool,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "OPENSLOT_LOG_JSON")]
    pub log_json: bool,
    /// The sender of every email, e.g. `Lakeshore Physio <bookings@example.com>`.
    #[arg(
        long,
        env = "OPENSLOT_MAIL_FROM",
        default_value = config::DEFAULT_MAIL_FROM,
        value_name = "MAILBOX"
    )]
    pub mail_from: Mailbox,
    /// Send email through this SMTP server; without it, email is written to --mailbox.
    #[arg(long, env = "OPENSLOT_SMTP_HOST", value_name = "HOST")]
    pub smtp_host: Option<String>,
    /// The SMTP port (default: 587 for starttls, 465 for tls, 25 for none).
    #[arg(
        long,
        env = "OPENSLOT_SMTP_PORT",
        value_name = "PORT",
        requires = "smtp_host"
    )]
    pub smtp_port: Option<u16>,
    /// How the SMTP connection is protected.
    #[arg(
        long,
        env = "OPENSLOT_SMTP_SECURITY",
        value_enum,
        default_value_t = SmtpSecurity::Starttls,
        value_name = "MODE"
    )]
    pub smtp_security: SmtpSecurity,
    /// The SMTP user name, if the server wants one.
    #[arg(
        long,
        env = "OPENSLOT_SMTP_USERNAME",
        value_name = "USER",
        requires_all = ["smtp_host", "smtp_password"]
    )]
    pub smtp_username: Option<String>,
    /// The SMTP password (better given in the environment than on the command line).
    #[arg(
        long,
        env = "OPENSLOT_SMTP_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD",
        requires = "smtp_username"
    )]
    pub smtp_password: Option<String>,
    /// Without --smtp-host, write each email as an `.eml` file into this folder and log
    /// its links.
    #[arg(
        long,
        env = "OPENSLOT_MAILBOX",
        default_value = config::DEFAULT_MAILBOX,
        value_name = "DIR"
    )]
    pub mailbox: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `openslot admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff account (the first admin of an organisation, for instance); the
    /// organisation is created if it does not exist.
    Create(AdminCreateArgs),
}

/// Arguments of `openslot admin create`.
#[derive(Debug, Args)]
pub struct AdminCreateArgs {
    /// The organisation's slug.
    #[arg(long, value_name = "SLUG")]
    pub org: String,
    /// The sign-in email.
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
    /// The person's name (default: the email's local part).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The role: admin, front_desk or practitioner.
    #[arg(long, default_value = "admin", value_name = "ROLE")]
    pub role: String,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
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
    /// Check a front-desk booking (docs/scenario.md, *Checking one staff booking*)
    /// instead.
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

impl From<store::Error> for Failure {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::Database(_) | store::Error::Migrate(_) => Failure::Other(e.into()),
            other => Failure::BadInput(other.to_string()),
        }
    }
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
        Command::Import(args) => commands::transfer::import(&args),
        Command::Export(args) => commands::transfer::export(&args),
        Command::Serve(args) => commands::serve::run(&args),
        Command::Admin(AdminCommand::Create(args)) => commands::admin::create(&args),
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
