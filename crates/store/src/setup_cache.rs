//! Organisations' setups kept in memory between requests. A slot query or a booking
//! needs the whole setup of the practitioners involved (clinics, schedule types,
//! records and their blocks, time off, services) but it changes only when an admin
//! changes it, while appointments change all the time. So the setup is read once per
//! change and kept, and each request reads only its appointments.
//!
//! Validity does not depend on the code that changes a setup remembering to say so:
//! database triggers give the organisation a new random `setup_etag` whenever a setup
//! row is inserted, changed or deleted (migration 0013), in the same transaction. A
//! request reads the etag first, in its own connection or transaction, and uses the
//! setup kept under that etag, or loads and keeps it. An etag is random, so it names
//! one content even across databases in one process (tests) or a restored backup.
//!
//! The setup takes a dozen SELECTs to load, and a setup change committed between two of
//! them would give a torn setup, kept under the etag read first. So the etag and the
//! rows are read in one snapshot: a connection outside any transaction loads in a
//! read-only transaction of its own (PostgreSQL: REPEATABLE READ, one snapshot for
//! every statement; SQLite: one read transaction). A caller's transaction is used as
//! it is (it may have written the setup it is checking); at READ COMMITTED it has no
//! single snapshot, so the etag is read again after the rows, and the rows are loaded
//! again until it did not change: every setup change changes the etag in its own
//! transaction, so an unchanged etag means no change committed in between. After a
//! few tries it locks the etag against setup changes and loads once more.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use slot_engine::Date;
use slot_engine::scenario::{Scenario, Text};

use crate::db::{Backend, Exec, scalar};
use crate::error::Result;
use crate::organisation::Organisation;
use crate::scenario_rows::{self, Ids, Selection};
use crate::time::{DAY_NS, day_start_ns};

/// Which services a selection takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Services {
    /// Every one (the setup check).
    All,
    /// This row's (a slot query).
    One(i64),
    /// None (a staff booking by schedule type).
    None,
}

/// How many setups are kept (the most recently used).
const KEPT: usize = 64;

/// One organisation's whole setup at one etag: every clinic, schedule type,
/// practitioner (with every record, block and time off) and service; no appointments.
#[derive(Debug)]
pub(crate) struct Setup {
    scenario: Scenario,
    ids: Arc<Ids>,
    /// Every practitioner's row id, by scenario position.
    practitioner_rows: Vec<i64>,
    /// Scenario ids of practitioner rows.
    practitioner_keys: HashMap<i64, Text>,
}

/// The kept setups: (organisation, etag) and the setup, most recently used last.
static KEPT_SETUPS: Mutex<VecDeque<(i64, i64, Arc<Setup>)>> = Mutex::new(VecDeque::new());

fn kept(org: i64, etag: i64) -> Option<Arc<Setup>> {
    let mut setups = KEPT_SETUPS.lock().unwrap_or_else(|e| e.into_inner());
    let at = setups
        .iter()
        .position(|(o, e, _)| *o == org && *e == etag)?;
    let entry = setups.remove(at)?;
    let setup = entry.2.clone();
    setups.push_back(entry);
    Some(setup)
}

fn keep(org: i64, etag: i64, setup: Arc<Setup>) {
    let mut setups = KEPT_SETUPS.lock().unwrap_or_else(|e| e.into_inner());
    // An older etag of the same organisation will not be asked for again.
    setups.retain(|(o, _, _)| *o != org);
    if setups.len() >= KEPT {
        setups.pop_front();
    }
    setups.push_back((org, etag, setup));
}

async fn etag(exec: &mut Exec<'_>, org: i64) -> Result<i64> {
    Ok(scalar!(
        exec.reborrow(),
        i64,
        "SELECT setup_etag FROM organisations WHERE id = $1",
        org
    )?)
}

/// How many times a setup is loaded again inside a caller's READ COMMITTED
/// transaction while setup changes keep committing between its statements.
const LOAD_ATTEMPTS: usize = 5;

/// The organisation's current setup, as `exec` sees the database.
pub(crate) async fn current(exec: &mut Exec<'_>, org: &Organisation) -> Result<Arc<Setup>> {
    if let Some(setup) = kept(org.id, etag(exec, org.id).await?) {
        return Ok(setup);
    }
    let (etag, setup) = if exec.in_transaction() {
        load(exec, org).await?
    } else {
        match exec {
            Exec::Sqlite(c) => {
                let mut tx = sqlx::Connection::begin_with(&mut **c, "BEGIN DEFERRED").await?;
                let loaded = load(&mut Exec::Sqlite(&mut tx), org).await?;
                tx.commit().await?;
                loaded
            }
            Exec::Postgres(c) => {
                let mut tx = sqlx::Connection::begin_with(
                    &mut **c,
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                )
                .await?;
                let loaded = load(&mut Exec::Postgres(&mut tx), org).await?;
                tx.commit().await?;
                loaded
            }
        }
    };
    keep(org.id, etag, setup.clone());
    Ok(setup)
}

/// Loads the setup and the etag it is at: read before and after the rows, and equal
/// (always so in one snapshot; see the module's documentation).
async fn load(exec: &mut Exec<'_>, org: &Organisation) -> Result<(i64, Arc<Setup>)> {
    for _ in 0..LOAD_ATTEMPTS {
        let before = etag(exec, org.id).await?;
        let setup = load_rows(exec, org).await?;
        if etag(exec, org.id).await? == before {
            return Ok((before, setup));
        }
    }
    // Setup changes kept committing between the statements (only possible at READ
    // COMMITTED, so on PostgreSQL): hold them off until the transaction ends, as each
    // one changes the etag, and load once more. Not the first resort, as a lock on the
    // organisation shared by many bookings would make them wait for each other when
    // one raises the organisation's longest appointment.
    let sql = match exec.backend() {
        Backend::Sqlite => "SELECT setup_etag FROM organisations WHERE id = $1",
        Backend::Postgres => "SELECT setup_etag FROM organisations WHERE id = $1 FOR SHARE",
    };
    let held = scalar!(exec.reborrow(), i64, sql, org.id)?;
    Ok((held, load_rows(exec, org).await?))
}

async fn load_rows(exec: &mut Exec<'_>, org: &Organisation) -> Result<Arc<Setup>> {
    let (scenario, ids) = scenario_rows::load(
        exec,
        org,
        Selection {
            patients: false,
            appointments: false,
        },
    )
    .await?;
    let practitioner_rows: Vec<i64> = scenario
        .practitioners
        .iter()
        .map(|p| ids.practitioners[p.id.as_str()])
        .collect();
    let practitioner_keys = scenario
        .practitioners
        .iter()
        .zip(&practitioner_rows)
        .map(|(p, row)| (*row, p.id.clone()))
        .collect();
    Ok(Arc::new(Setup {
        scenario,
        ids: Arc::new(ids),
        practitioner_rows,
        practitioner_keys,
    }))
}

impl Setup {
    /// Row ids by scenario id, for everything in the setup.
    pub(crate) fn ids(&self) -> Arc<Ids> {
        self.ids.clone()
    }

    /// The practitioner rows of `wanted` that exist (`None`: all), in scenario order.
    pub(crate) fn practitioner_rows(&self, wanted: Option<&[i64]>) -> Vec<i64> {
        match wanted {
            None => self.practitioner_rows.clone(),
            Some(list) => self
                .practitioner_rows
                .iter()
                .filter(|row| list.contains(row))
                .copied()
                .collect(),
        }
    }

    /// The scenario id of a practitioner row.
    pub(crate) fn practitioner_key(&self, row: i64) -> Option<&Text> {
        self.practitioner_keys.get(&row)
    }

    /// A practitioner row as a window that is not about them holds them: who they are,
    /// without availability or time off, so that their appointments that hold rooms
    /// and equipment count for those and for nothing else.
    pub(crate) fn bystander(&self, row: i64) -> Option<slot_engine::scenario::Practitioner> {
        let at = self.practitioner_rows.iter().position(|r| *r == row)?;
        let mut p = self.scenario.practitioners.get(at)?.clone();
        p.availability.clear();
        p.time_off.clear();
        Some(p)
    }

    /// The resource rows the services of a selection require, in any requirement.
    pub(crate) fn required_resource_rows(&self, scenario: &Scenario) -> Vec<i64> {
        let mut rows: Vec<i64> = scenario
            .services
            .iter()
            .flat_map(|s| s.requires.iter().flatten())
            .filter_map(|key| self.ids.resources.get(key.as_str()).copied())
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// The part of the setup that bears on slots from `from` to `to`: the practitioners
    /// `practitioners` (rows; `None`: all), their records in force a day either side
    /// (a slot's date depends on its clinic's zone), holidays on those dates, time off
    /// overlapping them in any zone, and `services`; the organisation's settings; no
    /// appointments. The same as `scenario_rows::load` selects in SQL.
    pub(crate) fn select(
        &self,
        org: &Organisation,
        practitioners: &[i64],
        (from, to): (Date, Date),
        services: Services,
    ) -> Scenario {
        let (from_day, to_day) = (
            from.add_days(-1).unwrap_or(from),
            to.add_days(1).unwrap_or(to),
        );
        let (from_ns, to_ns) = (
            day_start_ns(from) - 2 * DAY_NS,
            day_start_ns(to) + 3 * DAY_NS,
        );
        let clinics = self
            .scenario
            .clinics
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.holidays.retain(|d| (from_day..=to_day).contains(d));
                c
            })
            .collect();
        let practitioners = self
            .scenario
            .practitioners
            .iter()
            .zip(&self.practitioner_rows)
            .filter(|(_, row)| practitioners.contains(row))
            .map(|(p, _)| {
                let mut p = p.clone();
                p.availability.retain(|r| {
                    r.start_date <= to_day && r.end_date.is_none_or(|end| end >= from_day)
                });
                p.time_off
                    .retain(|t| t.start.unix_nanos() < to_ns && t.end.unix_nanos() > from_ns);
                p
            })
            .collect();
        // Every room and piece of equipment, with the records in force and the time
        // off over the dates: a staff booking may name any, and the services' only
        // those they require.
        let resources = self
            .scenario
            .resources
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if let Some(records) = &mut r.availability {
                    records.retain(|rec| {
                        rec.start_date <= to_day && rec.end_date.is_none_or(|end| end >= from_day)
                    });
                }
                r.time_off
                    .retain(|t| t.start.unix_nanos() < to_ns && t.end.unix_nanos() > from_ns);
                r
            })
            .collect();
        let services = match services {
            Services::All => self.scenario.services.clone(),
            Services::None => Vec::new(),
            Services::One(row) => self
                .scenario
                .services
                .iter()
                .filter(|s| self.ids.services.get(s.id.as_str()) == Some(&row))
                .cloned()
                .collect(),
        };
        Scenario {
            settings: scenario_rows::settings_of(org),
            clinics,
            schedule_types: self.scenario.schedule_types.clone(),
            practitioners,
            services,
            patients: Vec::new(),
            resources,
            appointments: Vec::new(),
            query: None,
            version: self.scenario.version,
        }
    }
}
