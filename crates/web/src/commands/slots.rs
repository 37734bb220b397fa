//! `openslot slots --scenario FILE [--stats]`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use slot_engine::{BuildStage, Model, Scenario, write_answer_json};

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
    /// Also print one JSON line of timings on stderr: the whole request (validation,
    /// grids, occupancy, search) and each stage per practitioner-day, and reading,
    /// parsing and writing beside it.
    #[arg(long)]
    pub stats: bool,
    /// The organisation's slug (answers from the database).
    #[arg(long, value_name = "SLUG", requires_all = ["service", "from", "to"])]
    pub org: Option<String>,
    /// The service's key: its id in the organisation's scenario, as `openslot export`
    /// writes it, not its row id (with --org).
    #[arg(long, value_name = "KEY", requires = "org")]
    pub service: Option<String>,
    /// The first date, YYYY-MM-DD (with --org).
    #[arg(long, value_name = "DATE", requires = "org")]
    pub from: Option<String>,
    /// The last date, YYYY-MM-DD (with --org).
    #[arg(long, value_name = "DATE", requires = "org")]
    pub to: Option<String>,
    /// Only these practitioners, by key as `openslot export` writes them,
    /// comma-separated (with --org).
    #[arg(long, value_name = "KEY,KEY", requires = "org", value_delimiter = ',')]
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
    let read_started = Instant::now();
    let bytes = read_input(path)?;
    let parse_started = Instant::now();
    let scenario = Scenario::from_json(&bytes).map_err(|e| Failure::BadInput(e.to_string()))?;
    let parse_seconds = parse_started.elapsed().as_secs_f64();
    drop(bytes);
    let read_seconds = (parse_started - read_started).as_secs_f64();
    // The whole request ("compute"): everything after the text is deserialized up to
    // the answer's slots, i.e. validation, grids, occupancy and the search. Reading,
    // parsing and writing the answer are reported beside it.
    let mut stages = Stages::default();
    let started = Instant::now();
    let model = Model::new_observed(&scenario, |stage| stages.enter(stage))
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let query = model
        .query()
        .ok_or_else(|| Failure::BadInput("scenario: a query is required".to_owned()))?;
    stages.enter_search();
    let slots = model.open_slots(query);
    stages.stop();
    let compute_seconds = started.elapsed().as_secs_f64();
    let format_started = Instant::now();
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    write_answer_json(&model, &slots, &mut out)?;
    out.write_all(b"\n")?;
    out.flush()?;
    let format_seconds = format_started.elapsed().as_secs_f64();
    if args.stats {
        let practitioner_days = model.practitioners().len() * query.dates.len();
        let per_day = |seconds: f64| (seconds * 1e9 / practitioner_days.max(1) as f64).round();
        let stats = serde_json::json!({
            "compute_seconds": compute_seconds,
            "practitioner_days": practitioner_days,
            "slots": slots.len(),
            "compute_ns_per_practitioner_day": per_day(compute_seconds),
            "stages_ns_per_practitioner_day": {
                "validation": per_day(stages.seconds[0]),
                "grids": per_day(stages.seconds[1]),
                "occupancy": per_day(stages.seconds[2]),
                "search": per_day(stages.seconds[3]),
            },
            "outside_compute_seconds": {
                "read": read_seconds,
                "parse": parse_seconds,
                "format": format_seconds,
            },
        });
        eprintln!("{stats}");
    }
    Ok(())
}

/// Where the whole request's time goes: validation, grids, occupancy (the stages
/// [`Model::new_observed`] reports) and the search, in seconds.
#[derive(Debug, Default)]
struct Stages {
    seconds: [f64; 4],
    current: Option<(usize, Instant)>,
}

impl Stages {
    fn enter(&mut self, stage: BuildStage) {
        self.switch(match stage {
            BuildStage::Validation => 0,
            BuildStage::Grids => 1,
            BuildStage::Occupancy => 2,
        });
    }

    fn enter_search(&mut self) {
        self.switch(3);
    }

    fn stop(&mut self) {
        if let Some((i, since)) = self.current.take() {
            self.seconds[i] += since.elapsed().as_secs_f64();
        }
    }

    fn switch(&mut self, next: usize) {
        let now = Instant::now();
        if let Some((i, since)) = self.current.replace((next, now)) {
            self.seconds[i] += (now - since).as_secs_f64();
        }
    }
}
