//! `openslot slots --scenario FILE [--stats]`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use slot_engine::{Model, Scenario, write_answer_json};

use crate::commands::{DatabaseArgs, Failure, block_on, connect, organisation, read_input};

/// Arguments of `openslot slots`.
#[derive(Debug, Args)]
pub(crate) struct SlotsArgs {
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

/// Prints the answer of the scenario's query, or of the organisation's data.
pub(crate) fn run(args: &SlotsArgs) -> Result<(), Failure> {
    match &args.scenario {
        Some(path) => from_scenario(args, path),
        None => from_database(args),
    }
}

fn from_database(args: &SlotsArgs) -> Result<(), Failure> {
    let bad = |field: &str, e: &dyn std::fmt::Display| Failure::BadInput(format!("--{field}: {e}"));
    let date = |field: &str, value: &Option<String>| -> Result<slot_engine::Date, Failure> {
        value
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e| bad(field, &e))
    };
    let request = store::window::KeyedSlotRequest {
        service: args.service.clone().unwrap_or_default(),
        practitioners: args.practitioners.clone(),
        from: date("from", &args.from)?,
        to: date("to", &args.to)?,
        now: match &args.now {
            Some(now) => now.parse().map_err(|e| bad("now", &e))?,
            None => store::Clock::now(&store::SystemClock),
        },
        telehealth: args.telehealth,
    };
    let slug = args.org.clone().unwrap_or_default();
    let (answer, compute_seconds, practitioner_days) = block_on(async {
        let db = connect(&args.database.database_url).await?;
        let org = organisation(&db, &slug).await?;
        let started = Instant::now();
        let mut conn = db.conn().await?;
        let answer = store::window::answer(&mut conn.exec(), &org, &request).await?;
        let seconds = started.elapsed().as_secs_f64();
        let days = request.to.days_since(request.from) + 1;
        drop(conn);
        db.close().await;
        Ok((answer, seconds, days))
    })?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    serde_json::to_writer(&mut out, &answer).map_err(|e| Failure::Other(e.into()))?;
    out.write_all(b"\n")?;
    out.flush()?;
    if args.stats {
        // Compute time here includes loading the window from the database.
        eprintln!(
            "{}",
            serde_json::json!({"compute_seconds": compute_seconds, "days": practitioner_days, "slots": answer.slots.len()})
        );
    }
    Ok(())
}

fn from_scenario(args: &SlotsArgs, path: &std::path::Path) -> Result<(), Failure> {
    let bytes = read_input(path)?;
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
