//! The loader behind every slot query: it turns an organisation's rows back into a
//! scenario — the whole organisation for `export`, its setup for the engine (kept in
//! memory by `setup_cache`), and the time appointments take in a window of dates.
//!
//! The loader runs a fixed number of queries (about a dozen) whatever the number of
//! practitioners, days or appointments: no N+1. [`fetch`] runs them; [`assemble`]
//! builds the scenario from what they return, and records which row each scenario id
//! came from ([`Ids`]).

use std::collections::HashMap;

use slot_engine::Weekday;
use slot_engine::scenario::Scenario;

use crate::db::Exec;
use crate::error::Result;
use crate::organisation::Organisation;

mod assemble;
mod fetch;

pub(crate) use assemble::{settings_of, version_of};
pub(crate) use fetch::window_appointments;

/// What to load besides the setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Selection {
    /// Every patient with their available practitioners (export and import need them;
    /// slot queries do not).
    pub(crate) patients: bool,
    /// Every appointment, cancelled included, with all their references.
    pub(crate) appointments: bool,
}

/// Row ids by scenario id, for what a loaded scenario names.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ids {
    pub(crate) clinics: HashMap<String, i64>,
    pub(crate) schedule_types: HashMap<String, i64>,
    pub(crate) practitioners: HashMap<String, i64>,
    pub(crate) services: HashMap<String, i64>,
    pub(crate) resources: HashMap<String, i64>,
}

/// Weekdays of a stored bit set (Monday = 1 … Sunday = 64).
pub(crate) fn days_of(mask: i64) -> Vec<Weekday> {
    Weekday::ALL
        .into_iter()
        .filter(|d| mask & (1 << d.index()) != 0)
        .collect()
}

/// The stored bit set of weekdays.
pub(crate) fn mask_of(days: &[Weekday]) -> i64 {
    days.iter().fold(0, |m, d| m | (1 << d.index()))
}

/// Loads the selected part of an organisation as a scenario (without query).
pub(crate) async fn load(
    exec: &mut Exec<'_>,
    org: &Organisation,
    sel: Selection,
) -> Result<(Scenario, Ids)> {
    let rows = fetch::fetch(exec, org, sel).await?;
    assemble::assemble(rows, org)
}
