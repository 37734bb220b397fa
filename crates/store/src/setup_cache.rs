//! Organisations' setups kept in memory between requests. A slot query or a booking
//! needs the whole setup of the practitioners involved (clinics, schedule types,
//! records and their blocks, time off, services) but it changes only when an admin
//! changes it, while appointments change all the time. So the setup is read once per
//! change and kept, and each request reads only its appointments.
//!
//! Validity does not depend on the code that changes a setup remembering to say so:
//! database triggers give the organisation a new random etag (its row of `setup_etags`)
//! whenever a setup row is inserted, changed or deleted (migrations 0013 and 0034), in
//! the same transaction. A request reads the etag first, in its own connection or
//! transaction, and uses the setup kept under that etag, or loads and keeps it. An
//! etag is random, so it names one content even across databases in one process
//! (tests) or a restored backup.
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
//!
//! The kept setups are bounded by size, not by number, as organisations' setups differ
//! a thousandfold: each is kept with an estimate of its bytes
//! (`Setup::estimated_bytes`), and the least recently used are dropped while the
//! total is over the budget ([`set_budget`], `openslot serve --setup-cache-mib`,
//! default [`DEFAULT_BUDGET_BYTES`]). Hits, misses, evictions and the size are counted
//! for `/metrics` ([`stats`]).

use std::collections::HashMap;
use std::mem::size_of;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use lru::LruCache;

use slot_engine::Date;
use slot_engine::scenario::{AvailabilityRecord, PortalBlock, Scenario, Text};

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

/// The default budget of the kept setups' estimated bytes: 256 MiB.
pub const DEFAULT_BUDGET_BYTES: u64 = 256 * 1024 * 1024;

/// The budget of the kept setups, in estimated bytes ([`set_budget`]).
static BUDGET: AtomicU64 = AtomicU64::new(DEFAULT_BUDGET_BYTES);
static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);
static EVICTIONS: AtomicU64 = AtomicU64::new(0);
/// The kept setups' estimated bytes and their number, as of the last change (read
/// by [`stats`] without taking the lock).
static BYTES: AtomicU64 = AtomicU64::new(0);
static ENTRIES: AtomicU64 = AtomicU64::new(0);

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

/// What the setup cache did since the process started, and what it holds now (for
/// `/metrics`). The cache is one per process, shared by every database it serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Requests that found their organisation's setup kept at its current etag.
    pub hits: u64,
    /// Requests that loaded it from the database (not kept, or kept at an older etag).
    pub misses: u64,
    /// Setups dropped to stay within the budget.
    pub evictions: u64,
    /// The kept setups' estimated bytes (`Setup::estimated_bytes`).
    pub bytes: u64,
    /// How many setups are kept.
    pub entries: u64,
    /// The budget of estimated bytes.
    pub budget: u64,
}

/// The cache's counters and size now.
pub fn stats() -> CacheStats {
    CacheStats {
        hits: HITS.load(Ordering::Relaxed),
        misses: MISSES.load(Ordering::Relaxed),
        evictions: EVICTIONS.load(Ordering::Relaxed),
        bytes: BYTES.load(Ordering::Relaxed),
        entries: ENTRIES.load(Ordering::Relaxed),
        budget: BUDGET.load(Ordering::Relaxed),
    }
}

/// Sets the budget of the kept setups' estimated bytes (`openslot serve
/// --setup-cache-mib`), dropping the least recently used until they fit. 0 keeps none.
pub fn set_budget(bytes: u64) {
    BUDGET.store(bytes, Ordering::Relaxed);
    let mut kept = KEPT_SETUPS.lock().unwrap_or_else(|e| e.into_inner());
    let evicted = kept.shrink_to(bytes);
    kept.publish(evicted);
}

/// The setups kept: one per organisation, at the etag it was loaded at, with its
/// estimated bytes, in least-recently-used order. A lookup or a use is O(1) (a hash
/// map with its entries linked in use order), so the lock is held for a few hundred
/// nanoseconds whatever the number of organisations.
#[derive(Debug)]
struct Kept<V> {
    entries: LruCache<i64, KeptSetup<V>>,
    bytes: u64,
}

#[derive(Debug)]
struct KeptSetup<V> {
    etag: i64,
    value: V,
    bytes: u64,
}

impl<V: Clone> Kept<V> {
    fn new() -> Self {
        Kept {
            entries: LruCache::unbounded(),
            bytes: 0,
        }
    }

    /// The organisation's value at `etag`, now the most recently used.
    fn get(&mut self, org: i64, etag: i64) -> Option<V> {
        let entry = self.entries.get(&org)?;
        (entry.etag == etag).then(|| entry.value.clone())
    }

    /// Keeps `value` as the organisation's (replacing an older etag's, which will not
    /// be asked for again), then drops the least recently used until the kept bytes fit
    /// `budget`; returns how many were dropped. A value larger than the whole budget is
    /// not kept.
    fn insert(&mut self, org: i64, etag: i64, value: V, bytes: u64, budget: u64) -> u64 {
        if let Some(old) = self.entries.pop(&org) {
            self.bytes -= old.bytes;
        }
        if bytes > budget {
            return 0;
        }
        self.entries.push(org, KeptSetup { etag, value, bytes });
        self.bytes += bytes;
        self.shrink_to(budget)
    }

    /// Drops the least recently used until the kept bytes fit `budget`; returns how
    /// many were dropped.
    fn shrink_to(&mut self, budget: u64) -> u64 {
        let mut evicted = 0;
        while self.bytes > budget {
            let Some((_, old)) = self.entries.pop_lru() else {
                break;
            };
            self.bytes -= old.bytes;
            evicted += 1;
        }
        evicted
    }

    /// Publishes the size for [`stats`] and counts `evicted`.
    fn publish(&self, evicted: u64) {
        BYTES.store(self.bytes, Ordering::Relaxed);
        ENTRIES.store(self.entries.len() as u64, Ordering::Relaxed);
        EVICTIONS.fetch_add(evicted, Ordering::Relaxed);
    }
}

static KEPT_SETUPS: LazyLock<Mutex<Kept<Arc<Setup>>>> = LazyLock::new(|| Mutex::new(Kept::new()));

fn kept(org: i64, etag: i64) -> Option<Arc<Setup>> {
    let found = KEPT_SETUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(org, etag);
    match &found {
        Some(_) => HITS.fetch_add(1, Ordering::Relaxed),
        None => MISSES.fetch_add(1, Ordering::Relaxed),
    };
    found
}

fn keep(org: i64, etag: i64, setup: Arc<Setup>) {
    // Estimated outside the lock: it walks the whole setup.
    let bytes = setup.estimated_bytes();
    let budget = BUDGET.load(Ordering::Relaxed);
    let mut kept = KEPT_SETUPS.lock().unwrap_or_else(|e| e.into_inner());
    let evicted = kept.insert(org, etag, setup, bytes, budget);
    kept.publish(evicted);
}

async fn etag(exec: &mut Exec<'_>, org: i64) -> Result<i64> {
    Ok(scalar!(
        exec.reborrow(),
        i64,
        "SELECT etag FROM setup_etags WHERE org_id = $1",
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
    // one changes the etag, and load once more. Not the first resort: a shared row lock
    // is written into the row (a multixact when several hold it), a write on every
    // read of a setup that was meant to cost one indexed read.
    let sql = match exec.backend() {
        Backend::Sqlite => "SELECT etag FROM setup_etags WHERE org_id = $1",
        Backend::Postgres => "SELECT etag FROM setup_etags WHERE org_id = $1 FOR SHARE",
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

/// Bytes of a slice's elements (not what they own).
fn slice<T>(v: &[T]) -> u64 {
    std::mem::size_of_val(v) as u64
}

/// Bytes a text owns on the heap.
fn text(t: &Text) -> u64 {
    t.as_str().len() as u64
}

fn opt_text(t: &Option<Text>) -> u64 {
    t.as_ref().map_or(0, text)
}

/// Bytes of a list of texts and what they own.
fn texts(v: &[Text]) -> u64 {
    slice(v) + v.iter().map(text).sum::<u64>()
}

/// Bytes of a hash map's table of `len` entries of `(K, V)`: one control byte per
/// slot, and slots an eighth more than the entries (its load factor).
fn table<K, V>(len: usize) -> u64 {
    (len * (size_of::<(K, V)>() + 1) * 8 / 7) as u64
}

fn blocks(v: &[PortalBlock]) -> u64 {
    slice(v) + v.iter().map(|b| slice(&b.days)).sum::<u64>()
}

fn records(v: &[AvailabilityRecord]) -> u64 {
    slice(v)
        + v.iter()
            .map(|r| {
                opt_text(&r.clinic)
                    + slice(&r.blocks)
                    + r.blocks
                        .iter()
                        .map(|b| slice(&b.days) + text(&b.schedule_type))
                        .sum::<u64>()
                    + r.portal_blocks.as_deref().map_or(0, blocks)
            })
            .sum::<u64>()
}

impl Setup {
    /// An estimate of the bytes the setup holds: the structs of every clinic,
    /// schedule type, practitioner, availability record, block, time off, service and
    /// resource, the lists they own, the bytes of every text, and the hash tables of row
    /// ids (entries and control bytes at their load factor). It leaves out the
    /// allocator's own overhead and the spare capacity of vectors (loaded rows are
    /// collected to their length), so it is a little under what the allocator hands
    /// out, and it grows in proportion to the setup, which is what the budget needs.
    pub(crate) fn estimated_bytes(&self) -> u64 {
        let s = &self.scenario;
        let clinics = slice(&s.clinics)
            + s.clinics
                .iter()
                .map(|c| text(&c.id) + opt_text(&c.name) + slice(&c.holidays))
                .sum::<u64>();
        let schedule_types = slice(&s.schedule_types)
            + s.schedule_types
                .iter()
                .map(|t| text(&t.id) + opt_text(&t.code) + opt_text(&t.name) + opt_text(&t.clinic))
                .sum::<u64>();
        let practitioners = slice(&s.practitioners)
            + s.practitioners
                .iter()
                .map(|p| {
                    text(&p.id)
                        + opt_text(&p.name)
                        + text(&p.kind)
                        + text(&p.home_clinic)
                        + opt_text(&p.email)
                        + texts(&p.schedule_types)
                        + records(&p.availability)
                        + slice(&p.time_off)
                })
                .sum::<u64>();
        let services = slice(&s.services)
            + s.services
                .iter()
                .map(|v| {
                    text(&v.id)
                        + opt_text(&v.code)
                        + opt_text(&v.name)
                        + opt_text(&v.description)
                        + opt_text(&v.practitioner_type)
                        + texts(&v.schedule_types)
                        + slice(&v.requires)
                        + v.requires.iter().map(|r| texts(r)).sum::<u64>()
                })
                .sum::<u64>();
        let resources = slice(&s.resources)
            + s.resources
                .iter()
                .map(|r| {
                    text(&r.id)
                        + opt_text(&r.name)
                        + text(&r.clinic)
                        + slice(&r.time_off)
                        + r.availability.as_deref().map_or(0, |records| {
                            slice(records)
                                + records.iter().map(|rec| blocks(&rec.blocks)).sum::<u64>()
                        })
                })
                .sum::<u64>();
        let ids = [
            &self.ids.clinics,
            &self.ids.schedule_types,
            &self.ids.practitioners,
            &self.ids.services,
            &self.ids.resources,
        ]
        .iter()
        .map(|m| table::<String, i64>(m.len()) + m.keys().map(|k| k.len() as u64).sum::<u64>())
        .sum::<u64>();
        let practitioner_index = slice(&self.practitioner_rows)
            + table::<i64, Text>(self.practitioner_keys.len())
            + self.practitioner_keys.values().map(text).sum::<u64>();
        size_of::<Setup>() as u64
            + size_of::<Ids>() as u64
            + clinics
            + schedule_types
            + practitioners
            + services
            + resources
            + ids
            + practitioner_index
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use slot_engine::synthetic::{ClinicSpec, mixed_clinic};

    #[test]
    fn the_least_recently_used_go_first_until_the_bytes_fit() {
        let mut kept = Kept::new();
        assert_eq!(kept.insert(1, 10, "one", 40, 100), 0);
        assert_eq!(kept.insert(2, 20, "two", 40, 100), 0);
        // Using 1 makes 2 the least recently used.
        assert_eq!(kept.get(1, 10), Some("one"));
        assert_eq!(kept.insert(3, 30, "three", 40, 100), 1, "120 bytes > 100");
        assert_eq!(kept.get(2, 20), None, "2 went first");
        assert_eq!(kept.get(1, 10), Some("one"));
        assert_eq!(kept.get(3, 30), Some("three"));
        assert_eq!(kept.bytes, 80);
        // One large setup drops as many as it needs, oldest first.
        assert_eq!(kept.insert(4, 40, "four", 90, 100), 2);
        assert_eq!(kept.bytes, 90);
        assert_eq!(kept.entries.len(), 1);
        assert_eq!(kept.get(4, 40), Some("four"));
    }

    #[test]
    fn a_new_etag_replaces_the_old_and_the_old_is_a_miss() {
        let mut kept = Kept::new();
        kept.insert(1, 10, "old", 30, 100);
        assert_eq!(kept.get(1, 11), None, "another etag is not the kept one");
        assert_eq!(kept.insert(1, 11, "new", 50, 100), 0);
        assert_eq!(kept.bytes, 50, "the old etag's bytes are given back");
        assert_eq!(kept.entries.len(), 1);
        assert_eq!(kept.get(1, 10), None);
        assert_eq!(kept.get(1, 11), Some("new"));
    }

    #[test]
    fn a_setup_over_the_whole_budget_is_not_kept_and_a_smaller_budget_evicts() {
        let mut kept = Kept::new();
        kept.insert(1, 10, "a", 30, 100);
        kept.insert(2, 20, "b", 30, 100);
        assert_eq!(kept.insert(3, 30, "huge", 101, 100), 0);
        assert_eq!(kept.get(3, 30), None);
        assert_eq!(kept.bytes, 60, "what was kept stays");
        assert_eq!(kept.shrink_to(40), 1);
        assert_eq!(kept.get(1, 10), None, "the least recently used went");
        assert_eq!(kept.get(2, 20), Some("b"));
        assert_eq!(kept.shrink_to(0), 1);
        assert_eq!((kept.bytes, kept.entries.len()), (0, 0));
    }

    fn setup(practitioners: u32) -> Setup {
        let mut scenario = mixed_clinic(ClinicSpec {
            practitioners,
            days: 7,
            fill: 0.0,
            seed: 1,
        })
        .unwrap();
        scenario.appointments.clear();
        scenario.patients.clear();
        let mut ids = Ids::default();
        for (row, p) in scenario.practitioners.iter().enumerate() {
            ids.practitioners
                .insert(p.id.as_str().to_owned(), row as i64);
        }
        let practitioner_rows: Vec<i64> = (0..scenario.practitioners.len() as i64).collect();
        let practitioner_keys = scenario
            .practitioners
            .iter()
            .zip(&practitioner_rows)
            .map(|(p, row)| (*row, p.id.clone()))
            .collect();
        Setup {
            scenario,
            ids: Arc::new(ids),
            practitioner_rows,
            practitioner_keys,
        }
    }

    #[test]
    fn the_estimate_counts_what_the_setup_holds_and_grows_with_it() {
        let small = setup(2);
        let large = setup(20);
        let (s, l) = (small.estimated_bytes(), large.estimated_bytes());
        // At least the practitioners' own structs and their availability records.
        let floor = |x: &Setup| {
            x.scenario
                .practitioners
                .iter()
                .map(|p| {
                    (size_of::<slot_engine::scenario::Practitioner>()
                        + p.availability.len() * size_of::<AvailabilityRecord>())
                        as u64
                })
                .sum::<u64>()
        };
        assert!(s > floor(&small), "{s} ≤ {}", floor(&small));
        assert!(l > floor(&large), "{l} ≤ {}", floor(&large));
        // Ten times the practitioners: several times the bytes (the clinic, schedule
        // types and services are shared).
        assert!(l > 5 * s / 2, "20 practitioners {l} B against 2: {s} B");
        assert!(l < 12 * s, "20 practitioners {l} B against 2: {s} B");
    }
}
