//! `openslot gen-orgs --organisations N --database-url postgres://… [--days D
//! --days-back B --fill F --seed S --patients-per-practitioner K --sessions FILE]`:
//! N generated organisations written straight into a migrated PostgreSQL database by
//! COPY (`store::bulk`).
//!
//! Each organisation is a `gen-clinic --mixed` clinic of 2 to 20 practitioners (drawn
//! from the seed) with `D` days of appointments at fill `F`, moved by whole weeks so
//! that its first day is the Monday on or before `B` days ago: the diary runs from a
//! few weeks back into the months ahead, where the portal books. Every organisation
//! gets `K` patients per practitioner, each with a confirmed portal account (one
//! password for all, `--patient-password`), and the appointments are theirs. With
//! `--sessions FILE`, one patient of each organisation also gets an open portal session,
//! written to FILE as `slug<TAB>cookie<TAB>csrf<TAB>services<TAB>practitioners` (ids
//! comma-separated), so a load generator can query every organisation's slots and
//! book without ten thousand password checks.
//!
//! Run it on a database no server writes to: it takes ids past each table's largest
//! and its sequence, and moves the sequences past them before each batch is written,
//! so a batch that fails leaves no id behind for a later row to take again.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Datelike, Utc};
use clap::Args;
use sha2::{Digest, Sha256};
use slot_engine::scenario::{Patient, Scenario, Text};
use slot_engine::synthetic::{ClinicSpec, mixed_clinic};
use store::bulk::{BulkLoad, Loaded};
use tempfile::NamedTempFile;

use crate::commands::{DatabaseArgs, Failure, block_on, connect};

/// The password every generated patient's portal account has unless told otherwise.
pub(crate) const DEFAULT_PATIENT_PASSWORD: &str = "load-test: lemon harbour violet tundra 42";

/// Arguments of `openslot gen-orgs`.
#[derive(Debug, Args)]
pub(crate) struct GenOrgsArgs {
    /// How many organisations, 1 to 1000000.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub organisations: u32,
    /// Days of appointments per organisation, 1 to 366.
    #[arg(long, value_name = "D", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub days: u32,
    /// How many days before today the appointments begin (rounded back to a Monday).
    #[arg(long, value_name = "B", default_value_t = 28, value_parser = clap::value_parser!(u32).range(0..=366))]
    pub days_back: u32,
    /// Fraction of each working day's slots already booked, 0..=1.
    #[arg(long, value_name = "F", default_value_t = 0.5)]
    pub fill: f64,
    /// Seed of the deterministic generator.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Patients per practitioner, 1 to 1000.
    #[arg(long, value_name = "K", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub patients_per_practitioner: u32,
    /// Organisation slugs are this followed by a five-digit number.
    #[arg(long, value_name = "PREFIX", default_value = "org-")]
    pub slug_prefix: String,
    /// Organisations per transaction.
    #[arg(long, value_name = "B", default_value_t = 250, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch: u32,
    /// The password of every patient's portal account.
    #[arg(long, value_name = "PASSWORD", default_value = DEFAULT_PATIENT_PASSWORD)]
    pub patient_password: String,
    /// Open a portal session for one patient of each organisation and list them here
    /// (the file is made readable by its owner only: it holds live session cookies).
    #[arg(long, value_name = "FILE")]
    pub sessions: Option<PathBuf>,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// SplitMix64, as the synthetic clinics use: one seed, one result on every machine.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Organisation `n`'s clinic: 2 to 20 practitioners, its patients, its appointments
/// theirs, moved by `shift_days` (a multiple of 7, so weekdays stay).
fn organisation(args: &GenOrgsArgs, n: u32, shift_days: i64) -> Result<Scenario, Failure> {
    let seed = mix(args.seed ^ (u64::from(n) << 20));
    let practitioners = 2 + u32::try_from(seed % 19).expect("below 19");
    let mut scenario = mixed_clinic(ClinicSpec {
        practitioners,
        days: args.days,
        fill: args.fill,
        seed,
    })
    .map_err(|e| Failure::BadInput(e.to_string()))?;
    scenario.query = None;
    shift(&mut scenario, shift_days)?;
    let slug = slug(args, n);
    let count = practitioners * args.patients_per_practitioner;
    let text = |s: String| Text::new(s).map_err(|e| Failure::BadInput(e.to_string()));
    for p in 0..count {
        scenario.patients.push(Patient {
            id: text(format!("patient-{p}"))?,
            first_name: text(format!("Patient{p}"))?,
            last_name: text(format!("Of {slug}"))?,
            email: text(format!("patient{p}@{slug}.example"))?,
            available_practitioners: None,
        });
    }
    let mut state = seed;
    for a in &mut scenario.appointments {
        state = mix(state);
        let p = state % u64::from(count);
        a.patient = Some(text(format!("patient-{p}"))?);
    }
    Ok(scenario)
}

/// Moves every date and instant of the scenario by `days`.
fn shift(scenario: &mut Scenario, days: i64) -> Result<(), Failure> {
    let out_of_range = || Failure::BadInput("--days-back: the dates move out of range".into());
    let date = |d: slot_engine::Date| d.add_days(days).ok_or_else(out_of_range);
    let instant = |i: slot_engine::Instant| {
        slot_engine::Instant::from_unix_nanos(i.unix_nanos() + days * 86_400 * 1_000_000_000)
            .map_err(|_| out_of_range())
    };
    for c in &mut scenario.clinics {
        for h in &mut c.holidays {
            *h = date(*h)?;
        }
    }
    for p in &mut scenario.practitioners {
        for r in &mut p.availability {
            r.start_date = date(r.start_date)?;
            r.end_date = r.end_date.map(date).transpose()?;
        }
        for t in &mut p.time_off {
            t.start = instant(t.start)?;
            t.end = instant(t.end)?;
        }
    }
    for a in &mut scenario.appointments {
        a.start = instant(a.start)?;
        a.end = instant(a.end)?;
    }
    Ok(())
}

fn slug(args: &GenOrgsArgs, n: u32) -> String {
    format!("{}{n:05}", args.slug_prefix)
}

/// Days from the synthetic clinics' first day (Monday 2030-01-07) back to the Monday on
/// or before `days_back` days ago.
fn shift_days(days_back: u32) -> i64 {
    let first = Utc::now().date_naive() - chrono::Days::new(u64::from(days_back));
    let monday = first - chrono::Days::new(u64::from(first.weekday().num_days_from_monday()));
    let synthetic = chrono::NaiveDate::from_ymd_opt(2030, 1, 7).expect("a valid date");
    (monday - synthetic).num_days()
}

/// An open portal session for `patient` (row id, account id) of organisation `org`:
/// the cookie value, the CSRF token, and the session row in COPY's text format.
fn session(org: i64, patient: (i64, i64), expires_at_ns: i64) -> (String, String, String) {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let id = tower_sessions::session::Id(i128::from_le_bytes(bytes));
    let csrf = crate::auth::csrf::random_token();
    let data = serde_json::json!({
        crate::auth::patient::PATIENT_KEY: {
            "org_id": org,
            "patient_id": patient.0,
            "account_id": patient.1,
            "epoch": 0,
        },
        "csrf": csrf,
    });
    let hash = Sha256::digest(id.0.to_le_bytes());
    let mut row = String::from("\\\\x");
    for b in hash {
        let _ = write!(row, "{b:02x}");
    }
    let _ = writeln!(row, "\t{data}\t{expires_at_ns}");
    (id.to_string(), csrf, row)
}

/// The `--sessions` file, made before anything is loaded: a temporary file beside
/// `target`, readable by its owner only (tempfile's mode; the sessions are
/// credentials), renamed over `target` once written in full ([`write_sessions`]). The
/// rename replaces whatever the path named (a symlink included) rather than writing
/// through it, and a run that fails leaves no file (dropped, it is deleted).
fn sessions_file(target: &Path) -> Result<NamedTempFile, Failure> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".sessions-")
        .tempfile_in(dir)
        .map_err(|e| cannot_write(target, e))
}

/// Writes the listing into the file [`sessions_file`] made and puts it at `target`.
fn write_sessions(mut file: NamedTempFile, target: &Path, listing: &str) -> Result<(), Failure> {
    file.write_all(listing.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| cannot_write(target, e))?;
    file.persist(target)
        .map_err(|e| cannot_write(target, e.error))?;
    Ok(())
}

fn cannot_write(target: &Path, e: std::io::Error) -> Failure {
    Failure::BadInput(format!(
        "--sessions: cannot write {}: {e}",
        target.display()
    ))
}

/// Generates and loads the organisations, reporting the rows and their rate.
pub(crate) fn run(args: &GenOrgsArgs) -> Result<(), Failure> {
    if !(0.0..=1.0).contains(&args.fill) {
        return Err(Failure::BadInput("--fill must be within 0..=1".into()));
    }
    // The slugs made are the prefix and five digits: checked as a slug is anywhere else.
    store::organisation::check_slug(&slug(args, 0))
        .map_err(|e| Failure::BadInput(format!("--slug-prefix: {e}")))?;
    if !args.database.database_url.starts_with("postgres") {
        return Err(Failure::BadInput(
            "--database-url: gen-orgs loads PostgreSQL (postgres://…)".into(),
        ));
    }
    // The sessions file is made (empty, owner-only) before anything is loaded, so a
    // path that cannot be written stops the run before it changes the database.
    let sessions_file = args.sessions.as_deref().map(sessions_file).transpose()?;
    block_on(async {
        let db = connect(&args.database.database_url).await?;
        let slugs: Vec<String> = (0..args.organisations).map(|n| slug(args, n)).collect();
        if let Some(taken) = store::bulk::taken_slug(&db, &slugs).await? {
            return Err(Failure::BadInput(format!(
                "--slug-prefix: this database already has an organisation {taken:?}; \
                 load into another database or choose another prefix"
            )));
        }
        let password_hash = crate::auth::password::hash(&args.patient_password);
        let now_ns = Utc::now()
            .timestamp_nanos_opt()
            .ok_or_else(|| Failure::BadInput("the clock is out of range".into()))?;
        let expires_at_ns = now_ns.saturating_add(
            i64::try_from(crate::auth::sessions::IDLE_LIFETIME.whole_nanoseconds())
                .unwrap_or(i64::MAX),
        );
        let shift = shift_days(args.days_back);
        let mut load = BulkLoad::start(&db).await?;
        let mut listing = String::new();
        let mut sessions = String::new();
        let started = Instant::now();
        let (mut generating, mut copying) = (0.0, 0.0);
        let mut appointments = 0_u64;
        for n in 0..args.organisations {
            let t = Instant::now();
            let scenario = organisation(args, n, shift)?;
            appointments += scenario.appointments.len() as u64;
            let slug = slug(args, n);
            let loaded: Loaded = load.add(&slug, &scenario, &password_hash, now_ns)?;
            if args.sessions.is_some() {
                let (cookie, csrf, row) = session(loaded.org_id, loaded.patients[0], expires_at_ns);
                sessions.push_str(&row);
                let ids = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                let _ = writeln!(
                    listing,
                    "{slug}\t{cookie}\t{csrf}\t{}\t{}",
                    ids(&loaded.portal_services),
                    ids(&loaded.portal_practitioners)
                );
            }
            generating += t.elapsed().as_secs_f64();
            if (n + 1) % args.batch == 0 {
                let t = Instant::now();
                load.flush(&db).await?;
                copying += t.elapsed().as_secs_f64();
            }
        }
        let t = Instant::now();
        let rows = load.finish(&db).await?;
        let mut session_rows = 0;
        if !sessions.is_empty() {
            let mut tx = db.begin().await?;
            session_rows = store::bulk::copy(
                &mut tx,
                "sessions",
                "id_hash, data, expires_at_ns",
                sessions.as_bytes(),
            )
            .await?;
            tx.commit().await?;
        }
        copying += t.elapsed().as_secs_f64();
        if let (Some(file), Some(target)) = (sessions_file, &args.sessions) {
            write_sessions(file, target, &listing)?;
        }
        let total = started.elapsed().as_secs_f64();
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "gen-orgs: {} organisations, {appointments} appointments, {} rows (+{session_rows} sessions) in {total:.1} s: \
             generating {generating:.1} s, COPY {copying:.1} s ({:.0} rows per second of COPY, {:.0} overall)",
            args.organisations,
            rows,
            rows as f64 / copying.max(1e-9),
            rows as f64 / total.max(1e-9),
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shift_lands_on_a_monday_at_or_before_the_days_back() {
        let shift = shift_days(10);
        assert_eq!(shift % 7, 0);
        let synthetic = chrono::NaiveDate::from_ymd_opt(2030, 1, 7).unwrap();
        let first = synthetic + chrono::Duration::days(shift);
        let back = Utc::now().date_naive() - first;
        assert!((10..17).contains(&back.num_days()), "{back}");
    }

    #[test]
    fn a_session_row_hashes_the_cookie_id_and_remembers_the_patient() {
        let (cookie, csrf, row) = session(7, (11, 13), 99);
        let fields: Vec<&str> = row.trim_end().split('\t').collect();
        assert_eq!(fields.len(), 3);
        let id: tower_sessions::session::Id = cookie.parse().unwrap();
        let hash = Sha256::digest(id.0.to_le_bytes());
        assert_eq!(fields[0].len(), 3 + 64);
        assert!(fields[0].ends_with(&format!("{:02x}", hash[31])));
        let data: serde_json::Value = serde_json::from_str(fields[1]).unwrap();
        assert_eq!(data["patient"]["account_id"], 13);
        assert_eq!(data["csrf"], csrf.as_str());
        assert_eq!(fields[2], "99");
    }
}
