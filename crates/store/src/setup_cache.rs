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
//! setup kept under that etag, or loads and keeps it. Reading the etag before the rows
//! means a setup is never kept under an etag older than its content; an etag is random,
//! so it names one content even across databases in one process (tests) or a restored
//! backup.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use slot_engine::Date;
use slot_engine::scenario::{Scenario, Text};

use crate::db::{Exec, scalar};
use crate::error::Result;
use crate::organisation::Organisation;
use crate::transfer::{self, DAY_NS, Ids, Selection, day_start_ns};

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

/// The organisation's current setup, as `exec` sees the database.
pub(crate) async fn current(exec: &mut Exec<'_>, org: &Organisation) -> Result<Arc<Setup>> {
    let etag = scalar!(
        exec.reborrow(),
        i64,
        "SELECT setup_etag FROM organisations WHERE id = $1",
        org.id
    )?;
    if let Some(setup) = kept(org.id, etag) {
        return Ok(setup);
    }
    let (scenario, ids) = transfer::load(
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
    let setup = Arc::new(Setup {
        scenario,
        ids: Arc::new(ids),
        practitioner_rows,
        practitioner_keys,
    });
    keep(org.id, etag, setup.clone());
    Ok(setup)
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

    /// The part of the setup that bears on slots from `from` to `to`: the practitioners
    /// `practitioners` (rows; `None`: all), their records in force a day either side
    /// (a slot's date depends on its clinic's zone), holidays on those dates, time off
    /// overlapping them in any zone, and `services`; the organisation's settings; no
    /// appointments. The same as `transfer::load` selects in SQL.
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
            settings: transfer::settings_of(org),
            clinics,
            schedule_types: self.scenario.schedule_types.clone(),
            practitioners,
            services,
            patients: Vec::new(),
            appointments: Vec::new(),
            query: None,
            version: self.scenario.version,
        }
    }
}
