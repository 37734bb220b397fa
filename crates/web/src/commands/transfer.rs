//! `openslot import` and `openslot export`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use slot_engine::Scenario;
use store::SystemClock;
use store::transfer::{self, ImportMode};

use crate::commands::{DatabaseArgs, Failure, block_on, connect, organisation, read_input};

/// Arguments of `openslot import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
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
pub(crate) struct ExportArgs {
    /// The organisation's slug; it must exist.
    #[arg(long, value_name = "SLUG")]
    pub org: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Imports a scenario into an organisation, in one transaction.
pub(crate) fn import(args: &ImportArgs) -> Result<(), Failure> {
    let bytes = read_input(&args.scenario)?;
    let scenario = Scenario::from_json(&bytes).map_err(|e| Failure::BadInput(e.to_string()))?;
    block_on(async {
        let db = connect(&args.database.database_url).await?;
        let mode = if args.replace {
            ImportMode::Replace
        } else {
            ImportMode::IntoEmpty
        };
        let mut tx = db.begin().await?;
        let org = transfer::import(&mut tx, &args.org, &scenario, mode, &SystemClock).await?;
        tx.commit().await?;
        eprintln!(
            "imported {} clinics, {} practitioners, {} patients, {} appointments into {:?}",
            scenario.clinics.len(),
            scenario.practitioners.len(),
            scenario.patients.len(),
            scenario.appointments.len(),
            org.slug
        );
        db.close().await;
        Ok(())
    })
}

/// Prints an organisation as a scenario.
pub(crate) fn export(args: &ExportArgs) -> Result<(), Failure> {
    let scenario = block_on(async {
        let db = connect(&args.database.database_url).await?;
        let org = organisation(&db, &args.org).await?;
        let mut conn = db.conn().await?;
        let scenario = transfer::export(&mut conn.exec(), &org).await?;
        drop(conn);
        db.close().await;
        Ok(scenario)
    })?;
    let mut out = std::io::stdout().lock();
    out.write_all(scenario.to_json_pretty().as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}
