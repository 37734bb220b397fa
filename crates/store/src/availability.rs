//! Dated availability records of a practitioner, and the model of the weekly grid
//! editor.
//!
//! A record holds its dates, an optional clinic (for schedule types usable at any
//! clinic), an optional slot step, the blocks of each schedule type, and the portal
//! overlay. `portal_customised` says whether the overlay is set at all: not customised
//! means every available cell is bookable online, customised but empty means nothing
//! is.
//!
//! [`Painting`] is the editor's view of a record: one [`WeekGrid`] per schedule type and
//! the overlay. The editor posts cells; the painting turns them back into compact
//! blocks (maximal runs per weekday, with identical runs of several weekdays merged
//! into one block), so a week painted cell by cell is stored as the few blocks a
//! person would have typed.
//!
//! Every write first takes the practitioner's lock, as bookings do, so two admins
//! saving records of one practitioner at the same time cannot both pass the overlap
//! check. The caller then runs [`check_setup`](crate::transfer::check_setup) in the
//! same transaction, which holds the whole setup to the scenario rules; the checks here
//! come first so that the usual mistakes get a message naming the form field.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use slot_engine::scenario::{Block as ScenarioBlock, PortalBlock as ScenarioPortalBlock};
use slot_engine::{Date, RecordDates, Resolution, WallTime, WeekGrid, Weekday};

use crate::db::{Backend, Exec, Tx, execute, rows, scalar, scalar_optional};
use crate::error::{Error, Result};
use crate::organisation;
use crate::transfer::{days_of, mask_of};

/// The practitioner whose records are edited, with what the editor shows of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PractitionerSummary {
    /// Row id.
    pub id: i64,
    /// Scenario id.
    pub key: String,
    /// Name.
    pub name: String,
    /// The home clinic's row id (the clinic of blocks when neither the schedule type
    /// nor the record names one).
    pub home_clinic_id: i64,
    /// The home clinic's name.
    pub home_clinic: String,
}

/// A schedule type, as the grid editor needs it: to paint with, and its colours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ScheduleTypeSummary {
    /// Row id.
    pub id: i64,
    /// Scenario id.
    pub key: String,
    /// Name.
    pub name: String,
    /// Optional short code.
    pub code: Option<String>,
    /// Its clinic, or `None` when usable at any clinic.
    pub clinic_id: Option<i64>,
    /// Background colour, `#rrggbb`.
    pub background_color: String,
    /// Font colour, `#rrggbb`.
    pub font_color: String,
}

/// Days and a wall-clock range: a portal block, or the shape of a block.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// Weekdays, Monday first.
    pub days: Vec<Weekday>,
    /// Start, on the resolution grid.
    pub start: WallTime,
    /// End (up to 24:00), on the resolution grid.
    pub end: WallTime,
}

/// A stored block of one schedule type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Weekdays, Monday first.
    pub days: Vec<Weekday>,
    /// Start.
    pub start: WallTime,
    /// End (up to 24:00).
    pub end: WallTime,
    /// The schedule type's row id.
    pub schedule_type_id: i64,
    /// The schedule type's scenario id.
    pub schedule_type: String,
}

/// A stored availability record with its blocks and portal overlay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Row id.
    pub id: i64,
    /// The practitioner's row id.
    pub practitioner_id: i64,
    /// The dates it is in force.
    pub dates: RecordDates,
    /// The clinic of blocks whose schedule type has none (`None`: the home clinic).
    pub clinic_id: Option<i64>,
    /// The record's own slot step (`None`: the organisation's default).
    pub slot_step_minutes: Option<i64>,
    /// The blocks, in stored order.
    pub blocks: Vec<Block>,
    /// The portal overlay: `None` when not customised, `Some(vec![])` when nothing is
    /// online.
    pub portal_blocks: Option<Vec<Span>>,
}

impl Record {
    /// The slot step in force: the record's own, else the organisation's default.
    pub fn slot_step(&self, org: &organisation::Organisation) -> i64 {
        self.slot_step_minutes.unwrap_or(org.slot_step_minutes)
    }
}

/// What an admin enters for a record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordInput {
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `YYYY-MM-DD`, or `None` (or blank) for an open-ended record.
    pub end_date: Option<String>,
    /// The clinic of blocks whose schedule type is usable at any clinic.
    pub clinic_id: Option<i64>,
    /// The scheduling interval in minutes (`None`: the organisation's default).
    pub slot_step_minutes: Option<i64>,
}

/// The English name of a weekday, as pages and messages show it.
pub fn day_name(day: Weekday) -> &'static str {
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ][day.index()]
}

/// One layer of the grid editor: the cells of one schedule type, or the portal
/// overlay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Availability of the schedule type with this row id.
    ScheduleType(i64),
    /// Customize Portal Availability.
    Portal,
}

/// A week as the grid editor paints it: the cells of each schedule type and the portal
/// overlay, at the organisation's resolution.
///
/// Painting never fails on a cell that two schedule types claim: the editor re-renders
/// what was posted, so the first claim is kept and the clash is remembered for
/// [`save_painting`] to refuse with both names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Painting {
    resolution: Resolution,
    types: BTreeMap<i64, WeekGrid>,
    portal: Option<WeekGrid>,
    clash: Option<Clash>,
}

/// A cell claimed by two schedule types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Clash {
    day: Weekday,
    minute: u32,
    first: i64,
    second: i64,
}

impl Painting {
    /// An empty week, with the overlay not customised.
    pub fn new(resolution: Resolution) -> Painting {
        Painting {
            resolution,
            types: BTreeMap::new(),
            portal: None,
            clash: None,
        }
    }

    /// The week of a stored record.
    pub fn of_record(record: &Record, resolution: Resolution) -> Painting {
        let mut painting = Painting::new(resolution);
        for b in &record.blocks {
            let grid = painting
                .types
                .entry(b.schedule_type_id)
                .or_insert_with(|| WeekGrid::new(resolution));
            for &day in &b.days {
                grid.fill(day, b.start, b.end);
            }
        }
        if let Some(spans) = &record.portal_blocks {
            let mut overlay = WeekGrid::new(resolution);
            for s in spans {
                for &day in &s.days {
                    overlay.fill(day, s.start, s.end);
                }
            }
            painting.portal = Some(overlay);
        }
        painting
    }

    /// The cell size.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Marks the cells of `[start, end)` on `day` in `layer`. Painting the overlay makes
    /// it customised. Refused when the range is not on the resolution grid.
    pub fn paint(
        &mut self,
        layer: Layer,
        day: Weekday,
        start: WallTime,
        end: WallTime,
    ) -> Result<()> {
        let r = self.resolution;
        if start >= end || !r.is_on_grid(start) || !r.is_on_grid(end) {
            return Err(Error::invalid(
                "cells",
                format!(
                    "{} {start}-{end} is not a range of whole {}-minute cells",
                    day_name(day),
                    r.minutes()
                ),
            ));
        }
        match layer {
            Layer::Portal => {
                self.portal
                    .get_or_insert_with(|| WeekGrid::new(r))
                    .fill(day, start, end);
            }
            Layer::ScheduleType(id) => {
                let step = r.minutes();
                let mut grid = self.types.remove(&id).unwrap_or_else(|| WeekGrid::new(r));
                for m in (start.minutes()..end.minutes()).step_by(step as usize) {
                    // The first claim on a cell wins, so that what was painted before
                    // stays as it was shown when the page is rendered again.
                    match self.types.iter().find(|(_, g)| g.is_set(day, m)) {
                        Some((&other, _)) => {
                            self.clash.get_or_insert(Clash {
                                day,
                                minute: m,
                                first: other,
                                second: id,
                            });
                        }
                        None => grid.fill(day, minute(m), minute(m + step)),
                    }
                }
                if !grid.is_empty() {
                    self.types.insert(id, grid);
                }
            }
        }
        Ok(())
    }

    /// Sets whether the overlay is customised. Turning it off forgets the overlay;
    /// turning it on keeps what was painted, or starts from nothing online.
    pub fn set_customised(&mut self, customised: bool) {
        if !customised {
            self.portal = None;
        } else if self.portal.is_none() {
            self.portal = Some(WeekGrid::new(self.resolution));
        }
    }

    /// Whether the overlay is customised.
    pub fn is_customised(&self) -> bool {
        self.portal.is_some()
    }

    /// The row ids of the schedule types painted, in id order.
    pub fn schedule_types(&self) -> impl Iterator<Item = i64> + '_ {
        self.types
            .iter()
            .filter(|(_, g)| !g.is_empty())
            .map(|(&id, _)| id)
    }

    /// The schedule type of the cell holding `minute` on `day`, if any.
    pub fn type_at(&self, day: Weekday, minute: u32) -> Option<i64> {
        self.types
            .iter()
            .find(|(_, g)| g.is_set(day, minute))
            .map(|(&id, _)| id)
    }

    /// Whether the cell holding `minute` on `day` is bookable online: available, and in
    /// the overlay when it is customised.
    pub fn is_online(&self, day: Weekday, minute: u32) -> bool {
        self.type_at(day, minute).is_some()
            && self.portal.as_ref().is_none_or(|g| g.is_set(day, minute))
    }

    /// The cells of a layer: a schedule type's, or the overlay cells that count (those
    /// inside availability; `None` when the overlay is not customised).
    pub fn layer(&self, layer: Layer) -> Option<WeekGrid> {
        match layer {
            Layer::ScheduleType(id) => self.types.get(&id).cloned(),
            Layer::Portal => self
                .portal
                .as_ref()
                .map(|overlay| overlay.intersection(&self.availability())),
        }
    }

    /// Every available cell, whatever its schedule type.
    pub fn availability(&self) -> WeekGrid {
        self.types
            .values()
            .fold(WeekGrid::new(self.resolution), |all, g| all.union(g))
    }

    /// The compact blocks of the week: per schedule type, each maximal run of a weekday,
    /// with identical runs on several weekdays merged into one block; ordered by first
    /// weekday, start and schedule type.
    pub fn blocks(&self) -> Vec<(i64, Span)> {
        let mut out: Vec<(i64, Span)> = self
            .types
            .iter()
            .flat_map(|(&id, grid)| compact(grid).into_iter().map(move |s| (id, s)))
            .collect();
        out.sort_by(|(ta, a), (tb, b)| (a.days[0], a.start, ta).cmp(&(b.days[0], b.start, tb)));
        out
    }

    /// The compact overlay, `None` when not customised. Overlay cells outside
    /// availability never count (rule 7), so they are left out: what is stored is
    /// what the editor shows.
    pub fn portal_blocks(&self) -> Option<Vec<Span>> {
        self.layer(Layer::Portal).map(|g| compact(&g))
    }
}

/// A wall-clock time from a minute the grid produced (never past 24:00).
fn minute(m: u32) -> WallTime {
    WallTime::from_minutes(m).expect("grid minutes are within the day")
}

/// The maximal runs of a grid, with identical runs of several weekdays merged into one
/// span; ordered by first weekday, then start.
fn compact(grid: &WeekGrid) -> Vec<Span> {
    let mut by_run: BTreeMap<(u32, u32), Vec<Weekday>> = BTreeMap::new();
    for day in Weekday::ALL {
        for run in grid.runs(day) {
            by_run.entry(run).or_default().push(day);
        }
    }
    let mut spans: Vec<Span> = by_run
        .into_iter()
        .map(|((a, b), days)| Span {
            days,
            start: minute(a),
            end: minute(b),
        })
        .collect();
    spans.sort_by_key(|s| (s.days[0], s.start));
    spans
}

// Reads.

const TYPE_COLUMNS: &str =
    "st.id, st.key, st.name, st.code, st.clinic_id, st.background_color, st.font_color";

/// One practitioner of the organisation.
pub async fn practitioner(exec: Exec<'_>, org: i64, id: i64) -> Result<PractitionerSummary> {
    rows!(
        exec,
        fetch_optional,
        PractitionerSummary,
        "SELECT p.id, p.key, p.name, p.home_clinic_id, c.name AS home_clinic \
         FROM practitioners p JOIN clinics c ON c.id = p.home_clinic_id \
         WHERE p.org_id = $1 AND p.id = $2",
        org,
        id
    )?
    .ok_or(Error::NotFound("practitioner"))
}

/// The schedule types assigned to a practitioner, by name.
pub async fn assigned_schedule_types(
    exec: Exec<'_>,
    org: i64,
    practitioner: i64,
) -> Result<Vec<ScheduleTypeSummary>> {
    let sql = format!(
        "SELECT {TYPE_COLUMNS} FROM practitioner_schedule_types pst \
         JOIN schedule_types st ON st.id = pst.schedule_type_id \
         WHERE pst.org_id = $1 AND pst.practitioner_id = $2 ORDER BY st.name, st.id"
    );
    Ok(rows!(
        exec,
        fetch_all,
        ScheduleTypeSummary,
        &sql,
        org,
        practitioner
    )?)
}

/// The organisation's schedule types not assigned to a practitioner, by name.
pub async fn unassigned_schedule_types(
    exec: Exec<'_>,
    org: i64,
    practitioner: i64,
) -> Result<Vec<ScheduleTypeSummary>> {
    let sql = format!(
        "SELECT {TYPE_COLUMNS} FROM schedule_types st \
         WHERE st.org_id = $1 AND NOT EXISTS (SELECT 1 FROM practitioner_schedule_types pst \
               WHERE pst.org_id = $1 AND pst.practitioner_id = $2 AND pst.schedule_type_id = st.id) \
         ORDER BY st.name, st.id"
    );
    Ok(rows!(
        exec,
        fetch_all,
        ScheduleTypeSummary,
        &sql,
        org,
        practitioner
    )?)
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    practitioner_id: i64,
    start_date: String,
    end_date: Option<String>,
    clinic_id: Option<i64>,
    slot_step_minutes: Option<i64>,
    portal_customised: bool,
}

#[derive(sqlx::FromRow)]
struct BlockRow {
    record_id: i64,
    days: i64,
    start_minute: i64,
    end_minute: i64,
    schedule_type_id: i64,
    schedule_type_key: String,
}

#[derive(sqlx::FromRow)]
struct PortalRow {
    record_id: i64,
    days: i64,
    start_minute: i64,
    end_minute: i64,
}

fn stored_date(value: &str) -> Result<Date> {
    value
        .parse()
        .map_err(|e: slot_engine::ValueError| Error::invalid("stored record date", e.to_string()))
}

fn stored_time(value: i64) -> Result<WallTime> {
    u32::try_from(value)
        .ok()
        .and_then(|m| WallTime::from_minutes(m).ok())
        .ok_or_else(|| Error::invalid("stored block time", value.to_string()))
}

/// Loads a practitioner's records (or the one `only`), with their blocks and overlays,
/// in three queries whatever their number.
async fn load(
    mut exec: Exec<'_>,
    org: i64,
    practitioner: i64,
    only: Option<i64>,
) -> Result<Vec<Record>> {
    // `$3` = -1 selects every record of the practitioner.
    let only = only.unwrap_or(-1);
    let record_rows = rows!(
        exec.reborrow(),
        fetch_all,
        RecordRow,
        "SELECT id, practitioner_id, start_date, end_date, clinic_id, slot_step_minutes, \
                portal_customised \
         FROM availability_records \
         WHERE org_id = $1 AND practitioner_id = $2 AND ($3 = -1 OR id = $3) \
         ORDER BY start_date, id",
        org,
        practitioner,
        only
    )?;
    let block_rows = rows!(
        exec.reborrow(),
        fetch_all,
        BlockRow,
        "SELECT b.record_id, b.days, b.start_minute, b.end_minute, b.schedule_type_id, \
                st.key AS schedule_type_key \
         FROM availability_blocks b JOIN availability_records r ON r.id = b.record_id \
              JOIN schedule_types st ON st.id = b.schedule_type_id \
         WHERE r.org_id = $1 AND r.practitioner_id = $2 AND ($3 = -1 OR r.id = $3) \
         ORDER BY b.record_id, b.position",
        org,
        practitioner,
        only
    )?;
    let portal_rows = rows!(
        exec.reborrow(),
        fetch_all,
        PortalRow,
        "SELECT b.record_id, b.days, b.start_minute, b.end_minute \
         FROM portal_blocks b JOIN availability_records r ON r.id = b.record_id \
         WHERE r.org_id = $1 AND r.practitioner_id = $2 AND ($3 = -1 OR r.id = $3) \
         ORDER BY b.record_id, b.position",
        org,
        practitioner,
        only
    )?;
    let mut blocks: HashMap<i64, Vec<Block>> = HashMap::new();
    for b in block_rows {
        blocks.entry(b.record_id).or_default().push(Block {
            days: days_of(b.days),
            start: stored_time(b.start_minute)?,
            end: stored_time(b.end_minute)?,
            schedule_type_id: b.schedule_type_id,
            schedule_type: b.schedule_type_key,
        });
    }
    let mut portal: HashMap<i64, Vec<Span>> = HashMap::new();
    for b in portal_rows {
        portal.entry(b.record_id).or_default().push(Span {
            days: days_of(b.days),
            start: stored_time(b.start_minute)?,
            end: stored_time(b.end_minute)?,
        });
    }
    record_rows
        .into_iter()
        .map(|r| {
            let start = stored_date(&r.start_date)?;
            let end = r.end_date.as_deref().map(stored_date).transpose()?;
            Ok(Record {
                id: r.id,
                practitioner_id: r.practitioner_id,
                dates: RecordDates::new(start, end)
                    .map_err(|e| Error::invalid("stored record dates", e.to_string()))?,
                clinic_id: r.clinic_id,
                slot_step_minutes: r.slot_step_minutes,
                blocks: blocks.remove(&r.id).unwrap_or_default(),
                portal_blocks: if r.portal_customised {
                    Some(portal.remove(&r.id).unwrap_or_default())
                } else {
                    None
                },
            })
        })
        .collect()
}

/// A practitioner's records, earliest first, with blocks and overlays.
pub async fn list(mut exec: Exec<'_>, org: i64, practitioner_id: i64) -> Result<Vec<Record>> {
    practitioner(exec.reborrow(), org, practitioner_id).await?;
    load(exec, org, practitioner_id, None).await
}

/// One record of a practitioner.
pub async fn get(exec: Exec<'_>, org: i64, practitioner: i64, id: i64) -> Result<Record> {
    load(exec, org, practitioner, Some(id))
        .await?
        .pop()
        .ok_or(Error::NotFound("availability record"))
}

// Writes.

/// Takes the practitioner's lock for the rest of the transaction (PostgreSQL: a row
/// lock; SQLite: the transaction's `BEGIN IMMEDIATE` already excludes other writers),
/// and checks the practitioner belongs to the organisation.
async fn lock_practitioner(tx: &mut Tx, org: i64, practitioner: i64) -> Result<()> {
    let sql = match tx.backend() {
        Backend::Sqlite => "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2",
        Backend::Postgres => {
            "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2 FOR UPDATE"
        }
    };
    scalar_optional!(tx.exec(), i64, sql, org, practitioner)?
        .ok_or(Error::NotFound("practitioner"))?;
    Ok(())
}

/// The organisation's grid resolution.
async fn resolution(tx: &mut Tx, org: i64) -> Result<Resolution> {
    let org = organisation::by_id(tx.exec(), org).await?;
    u32::try_from(org.resolution_minutes)
        .ok()
        .and_then(|m| Resolution::new(m).ok())
        .ok_or_else(|| Error::invalid("stored resolution", org.resolution_minutes.to_string()))
}

/// Checks a record's fields, naming the field at fault.
async fn check(
    tx: &mut Tx,
    org: i64,
    input: &RecordInput,
) -> Result<(RecordDates, Option<i64>, Option<i64>)> {
    let parse = |field: &str, value: &str| -> Result<Date> {
        value
            .parse()
            .map_err(|e: slot_engine::ValueError| Error::invalid(field, e.to_string()))
    };
    let start_text = input.start_date.trim();
    if start_text.is_empty() {
        return Err(Error::invalid("start_date", "is required"));
    }
    let start = parse("start_date", start_text)?;
    let end = match input.end_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(parse("end_date", text)?),
    };
    let dates = RecordDates::new(start, end).map_err(|_| {
        Error::invalid(
            "end_date",
            format!("is before the start date {start}; leave it empty for an open-ended record"),
        )
    })?;
    if let Some(clinic) = input.clinic_id {
        let known = scalar!(
            tx.exec(),
            i64,
            "SELECT COUNT(*) FROM clinics WHERE org_id = $1 AND id = $2",
            org,
            clinic
        )?;
        if known == 0 {
            return Err(Error::invalid("clinic_id", "no such clinic"));
        }
    }
    if let Some(step) = input.slot_step_minutes {
        let r = i64::from(resolution(tx, org).await?.minutes());
        if step <= 0 || step > 1440 || step % r != 0 {
            return Err(Error::invalid(
                "slot_step_minutes",
                format!("must be a positive multiple of the {r}-minute grid, at most 1440"),
            ));
        }
    }
    Ok((dates, input.clinic_id, input.slot_step_minutes))
}

/// Refuses dates that share a day with another record of the practitioner, naming both
/// records (earliest first, as the scenario rules do) and the field to change: the
/// start date when it falls inside the other record, else the end date.
async fn check_no_overlap(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: Option<i64>,
    dates: RecordDates,
) -> Result<()> {
    let others = rows!(
        tx.exec(),
        fetch_all,
        (String, Option<String>),
        "SELECT start_date, end_date FROM availability_records \
         WHERE org_id = $1 AND practitioner_id = $2 AND id <> $3 ORDER BY start_date",
        org,
        practitioner,
        id.unwrap_or(-1)
    )?;
    for (start, end) in others {
        let start = stored_date(&start)?;
        let end = end.as_deref().map(stored_date).transpose()?;
        let other = RecordDates::new(start, end)
            .map_err(|e| Error::invalid("stored record dates", e.to_string()))?;
        if other.overlaps(dates) {
            let (first, second) = if other.start() <= dates.start() {
                (other, dates)
            } else {
                (dates, other)
            };
            let field = if other.contains(dates.start()) {
                "start_date"
            } else {
                "end_date"
            };
            return Err(Error::invalid(
                field,
                format!(
                    "availability records {first} and {second} overlap: \
                     one practitioner's records must not share a date"
                ),
            ));
        }
    }
    Ok(())
}

/// Creates a record without blocks, its overlay not customised.
pub async fn create(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    input: &RecordInput,
) -> Result<Record> {
    lock_practitioner(tx, org, practitioner).await?;
    let (dates, clinic, step) = check(tx, org, input).await?;
    check_no_overlap(tx, org, practitioner, None, dates).await?;
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO availability_records (org_id, practitioner_id, start_date, end_date, \
         clinic_id, slot_step_minutes, portal_customised) \
         VALUES ($1, $2, $3, $4, $5, $6, FALSE) RETURNING id",
        org,
        practitioner,
        dates.start().to_string(),
        dates.end().map(|d| d.to_string()),
        clinic,
        step
    )?;
    get(tx.exec(), org, practitioner, id).await
}

/// Changes a record's dates, clinic and slot step; its blocks stay.
pub async fn update(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    input: &RecordInput,
) -> Result<Record> {
    lock_practitioner(tx, org, practitioner).await?;
    get(tx.exec(), org, practitioner, id).await?;
    let (dates, clinic, step) = check(tx, org, input).await?;
    check_no_overlap(tx, org, practitioner, Some(id), dates).await?;
    execute!(
        tx.exec(),
        "UPDATE availability_records SET start_date = $4, end_date = $5, clinic_id = $6, \
         slot_step_minutes = $7 WHERE org_id = $1 AND practitioner_id = $2 AND id = $3",
        org,
        practitioner,
        id,
        dates.start().to_string(),
        dates.end().map(|d| d.to_string()),
        clinic,
        step
    )?;
    get(tx.exec(), org, practitioner, id).await
}

/// Deletes a record with its blocks and overlay.
pub async fn delete(tx: &mut Tx, org: i64, practitioner: i64, id: i64) -> Result<()> {
    lock_practitioner(tx, org, practitioner).await?;
    get(tx.exec(), org, practitioner, id).await?;
    clear_blocks(tx, org, id).await?;
    clear_portal(tx, org, id).await?;
    execute!(
        tx.exec(),
        "DELETE FROM availability_records WHERE org_id = $1 AND practitioner_id = $2 AND id = $3",
        org,
        practitioner,
        id
    )?;
    Ok(())
}

async fn clear_blocks(tx: &mut Tx, org: i64, record: i64) -> Result<()> {
    execute!(
        tx.exec(),
        "DELETE FROM availability_blocks WHERE org_id = $1 AND record_id = $2",
        org,
        record
    )?;
    Ok(())
}

async fn clear_portal(tx: &mut Tx, org: i64, record: i64) -> Result<()> {
    execute!(
        tx.exec(),
        "DELETE FROM portal_blocks WHERE org_id = $1 AND record_id = $2",
        org,
        record
    )?;
    Ok(())
}

/// Replaces a record's blocks, in the given order.
async fn write_blocks(tx: &mut Tx, org: i64, record: i64, blocks: &[(i64, Span)]) -> Result<()> {
    clear_blocks(tx, org, record).await?;
    for (n, (schedule_type, s)) in blocks.iter().enumerate() {
        execute!(
            tx.exec(),
            "INSERT INTO availability_blocks (org_id, record_id, position, days, start_minute, \
             end_minute, schedule_type_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            org,
            record,
            n as i64,
            mask_of(&s.days),
            i64::from(s.start.minutes()),
            i64::from(s.end.minutes()),
            schedule_type
        )?;
    }
    Ok(())
}

/// Replaces a record's overlay: `None` makes it not customised.
async fn write_portal(tx: &mut Tx, org: i64, record: i64, portal: Option<&[Span]>) -> Result<()> {
    clear_portal(tx, org, record).await?;
    execute!(
        tx.exec(),
        "UPDATE availability_records SET portal_customised = $3 WHERE org_id = $1 AND id = $2",
        org,
        record,
        portal.is_some()
    )?;
    for (n, s) in portal.into_iter().flatten().enumerate() {
        execute!(
            tx.exec(),
            "INSERT INTO portal_blocks (org_id, record_id, position, days, start_minute, end_minute) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            org,
            record,
            n as i64,
            mask_of(&s.days),
            i64::from(s.start.minutes()),
            i64::from(s.end.minutes())
        )?;
    }
    Ok(())
}

/// One schedule type of the organisation, or a field error naming `field`.
async fn schedule_type(
    exec: Exec<'_>,
    org: i64,
    id: i64,
    field: &str,
) -> Result<ScheduleTypeSummary> {
    let sql =
        format!("SELECT {TYPE_COLUMNS} FROM schedule_types st WHERE st.org_id = $1 AND st.id = $2");
    rows!(exec, fetch_optional, ScheduleTypeSummary, &sql, org, id)?
        .ok_or_else(|| Error::invalid(field, "no such schedule type"))
}

/// Checks one block's or portal block's times (the scenario's rules), naming `item`.
fn check_span(
    item: &str,
    days: &[Weekday],
    start: WallTime,
    end: WallTime,
    r: Resolution,
) -> Result<()> {
    if start >= end {
        return Err(Error::invalid(
            item,
            format!("start {start} is not before end {end}"),
        ));
    }
    for t in [start, end] {
        if !r.is_on_grid(t) {
            return Err(Error::invalid(
                item,
                format!("{t} is not on the {}-minute grid", r.minutes()),
            ));
        }
    }
    let mut seen = HashSet::new();
    for d in days {
        if !seen.insert(*d) {
            return Err(Error::invalid(item, format!("day {d} is named twice")));
        }
    }
    Ok(())
}

/// Replaces a record's blocks with scenario-format blocks, stored as given. Refused,
/// naming the block, when a time is off the grid, a schedule type is unknown or not
/// assigned to the practitioner, or two blocks cover one cell on the same day.
pub async fn replace_blocks(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    blocks: &[ScenarioBlock],
) -> Result<Record> {
    lock_practitioner(tx, org, practitioner).await?;
    get(tx.exec(), org, practitioner, id).await?;
    let r = resolution(tx, org).await?;
    let assigned = assigned_schedule_types(tx.exec(), org, practitioner).await?;
    let mut covered = WeekGrid::new(r);
    let mut owners: Vec<(usize, Span)> = Vec::new();
    let mut rows: Vec<(i64, Span)> = Vec::with_capacity(blocks.len());
    for (n, b) in blocks.iter().enumerate() {
        let item = format!("blocks[{n}]");
        check_span(&item, &b.days, b.start, b.end, r)?;
        let key = b.schedule_type.as_str();
        let t = match assigned.iter().find(|t| t.key == key) {
            Some(t) => t.id,
            None => {
                let known = scalar!(
                    tx.exec(),
                    i64,
                    "SELECT COUNT(*) FROM schedule_types WHERE org_id = $1 AND key = $2",
                    org,
                    key
                )?;
                let message = if known == 0 {
                    format!("unknown schedule type {key:?}")
                } else {
                    format!(
                        "schedule type {key:?} is not assigned to the practitioner; assign it first"
                    )
                };
                return Err(Error::invalid(format!("{item}.schedule_type"), message));
            }
        };
        for &day in &b.days {
            if covered.any_in(day, b.start, b.end) {
                let other = owners
                    .iter()
                    .find(|(_, s)| s.days.contains(&day) && s.start < b.end && b.start < s.end)
                    .map_or(0, |(m, _)| *m);
                return Err(Error::invalid(
                    item,
                    format!(
                        "covers {} {}-{}, which blocks[{other}] already covers",
                        day_name(day),
                        b.start,
                        b.end
                    ),
                ));
            }
            covered.fill(day, b.start, b.end);
        }
        let span = Span {
            days: b.days.clone(),
            start: b.start,
            end: b.end,
        };
        owners.push((n, span.clone()));
        rows.push((t, span));
    }
    write_blocks(tx, org, id, &rows).await?;
    get(tx.exec(), org, practitioner, id).await
}

/// Replaces a record's portal overlay with scenario-format portal blocks, stored as
/// given (they may overlap: their union counts); `None` makes it not customised and
/// `Some(&[])` puts nothing online.
pub async fn replace_portal(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    portal: Option<&[ScenarioPortalBlock]>,
) -> Result<Record> {
    lock_practitioner(tx, org, practitioner).await?;
    get(tx.exec(), org, practitioner, id).await?;
    let r = resolution(tx, org).await?;
    let spans = match portal {
        None => None,
        Some(blocks) => {
            let mut spans = Vec::with_capacity(blocks.len());
            for (n, b) in blocks.iter().enumerate() {
                check_span(&format!("portal_blocks[{n}]"), &b.days, b.start, b.end, r)?;
                spans.push(Span {
                    days: b.days.clone(),
                    start: b.start,
                    end: b.end,
                });
            }
            Some(spans)
        }
    };
    write_portal(tx, org, id, spans.as_deref()).await?;
    get(tx.exec(), org, practitioner, id).await
}

/// Saves what the grid editor painted: the blocks and the overlay of the record, as
/// compact blocks. Refused, naming both, when two schedule types claim one cell, and
/// when a schedule type is not assigned to the practitioner.
pub async fn save_painting(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    painting: &Painting,
) -> Result<Record> {
    lock_practitioner(tx, org, practitioner).await?;
    get(tx.exec(), org, practitioner, id).await?;
    let r = resolution(tx, org).await?;
    if painting.resolution() != r {
        return Err(Error::invalid(
            "cells",
            "the organisation's grid resolution changed while the page was open; reload it",
        ));
    }
    let assigned = assigned_schedule_types(tx.exec(), org, practitioner).await?;
    if let Some(c) = painting.clash {
        let first = type_name(tx, org, &assigned, c.first).await?;
        let second = type_name(tx, org, &assigned, c.second).await?;
        return Err(Error::invalid(
            "cells",
            format!(
                "{} {} is marked for both {first} and {second}: a block takes one schedule type",
                day_name(c.day),
                minute(c.minute)
            ),
        ));
    }
    for t in painting.schedule_types() {
        if !assigned.iter().any(|a| a.id == t) {
            let name = type_name(tx, org, &assigned, t).await?;
            let who = practitioner_name(tx, org, practitioner).await?;
            return Err(Error::invalid(
                "cells",
                format!("{name} is not assigned to {who}: assign it before painting with it"),
            ));
        }
    }
    write_blocks(tx, org, id, &painting.blocks()).await?;
    write_portal(tx, org, id, painting.portal_blocks().as_deref()).await?;
    get(tx.exec(), org, practitioner, id).await
}

/// The name of a schedule type of the organisation, for a message about the grid.
async fn type_name(
    tx: &mut Tx,
    org: i64,
    assigned: &[ScheduleTypeSummary],
    id: i64,
) -> Result<String> {
    Ok(match assigned.iter().find(|t| t.id == id) {
        Some(t) => t.name.clone(),
        None => schedule_type(tx.exec(), org, id, "cells").await?.name,
    })
}

async fn practitioner_name(tx: &mut Tx, org: i64, id: i64) -> Result<String> {
    Ok(practitioner(tx.exec(), org, id).await?.name)
}

/// Assigns a schedule type to a practitioner (nothing changes when it already is).
pub async fn assign(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    schedule_type_id: i64,
) -> Result<ScheduleTypeSummary> {
    lock_practitioner(tx, org, practitioner).await?;
    let t = schedule_type(tx.exec(), org, schedule_type_id, "schedule_type").await?;
    execute!(
        tx.exec(),
        "INSERT INTO practitioner_schedule_types (org_id, practitioner_id, schedule_type_id) \
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        org,
        practitioner,
        schedule_type_id
    )?;
    Ok(t)
}

/// Takes a schedule type away from a practitioner; refused, naming the records, while
/// blocks of the practitioner's records still use it.
pub async fn unassign(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    schedule_type_id: i64,
) -> Result<ScheduleTypeSummary> {
    lock_practitioner(tx, org, practitioner).await?;
    let t = schedule_type(tx.exec(), org, schedule_type_id, "schedule_type").await?;
    let used = rows!(
        tx.exec(),
        fetch_all,
        (String, Option<String>),
        "SELECT DISTINCT r.start_date, r.end_date FROM availability_blocks b \
         JOIN availability_records r ON r.id = b.record_id \
         WHERE b.org_id = $1 AND r.practitioner_id = $2 AND b.schedule_type_id = $3 \
         ORDER BY r.start_date",
        org,
        practitioner,
        schedule_type_id
    )?;
    if !used.is_empty() {
        let records: Vec<String> = used
            .iter()
            .map(|(start, end)| format!("{start}..{}", end.as_deref().unwrap_or("")))
            .collect();
        return Err(Error::invalid(
            "schedule_type",
            format!(
                "{} is still used by blocks of availability record{} {}; clear those blocks first",
                t.name,
                if records.len() == 1 { "" } else { "s" },
                records.join(", ")
            ),
        ));
    }
    execute!(
        tx.exec(),
        "DELETE FROM practitioner_schedule_types \
         WHERE org_id = $1 AND practitioner_id = $2 AND schedule_type_id = $3",
        org,
        practitioner,
        schedule_type_id
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r5() -> Resolution {
        Resolution::new(5).unwrap()
    }

    fn t(s: &str) -> WallTime {
        s.parse().unwrap()
    }

    fn blocks_of(painting: &Painting) -> Vec<Block> {
        painting
            .blocks()
            .into_iter()
            .map(|(id, s)| Block {
                days: s.days,
                start: s.start,
                end: s.end,
                schedule_type_id: id,
                schedule_type: format!("type-{id}"),
            })
            .collect()
    }

    fn record(painting: &Painting) -> Record {
        Record {
            id: 1,
            practitioner_id: 1,
            dates: RecordDates::new(Date::new(2026, 1, 1).unwrap(), None).unwrap(),
            clinic_id: None,
            slot_step_minutes: None,
            blocks: blocks_of(painting),
            portal_blocks: painting.portal_blocks(),
        }
    }

    fn text(spans: &[(i64, Span)]) -> Vec<String> {
        spans
            .iter()
            .map(|(id, s)| {
                let days: Vec<&str> = s.days.iter().map(|d| d.short_name()).collect();
                format!("{id} {} {}-{}", days.join(","), s.start, s.end)
            })
            .collect()
    }

    #[test]
    fn cells_painted_one_by_one_become_maximal_runs() {
        let mut p = Painting::new(r5());
        for (a, b) in [("09:00", "09:15"), ("09:15", "09:30"), ("09:30", "09:45")] {
            p.paint(Layer::ScheduleType(7), Weekday::Mon, t(a), t(b))
                .unwrap();
        }
        p.paint(Layer::ScheduleType(7), Weekday::Mon, t("11:00"), t("12:00"))
            .unwrap();
        assert_eq!(
            text(&p.blocks()),
            ["7 mon 09:00-09:45", "7 mon 11:00-12:00"]
        );
    }

    #[test]
    fn identical_runs_on_several_days_merge_into_one_block() {
        let mut p = Painting::new(r5());
        for day in [Weekday::Mon, Weekday::Wed, Weekday::Fri] {
            p.paint(Layer::ScheduleType(1), day, t("09:00"), t("12:00"))
                .unwrap();
        }
        p.paint(Layer::ScheduleType(1), Weekday::Tue, t("09:00"), t("11:00"))
            .unwrap();
        p.paint(Layer::ScheduleType(2), Weekday::Mon, t("13:00"), t("17:00"))
            .unwrap();
        p.paint(Layer::ScheduleType(2), Weekday::Sun, t("13:00"), t("24:00"))
            .unwrap();
        assert_eq!(
            text(&p.blocks()),
            [
                "1 mon,wed,fri 09:00-12:00",
                "2 mon 13:00-17:00",
                "1 tue 09:00-11:00",
                "2 sun 13:00-24:00",
            ]
        );
    }

    #[test]
    fn blocks_and_grid_round_trip() {
        let mut p = Painting::new(r5());
        let layers = [
            Layer::ScheduleType(3),
            Layer::ScheduleType(4),
            Layer::ScheduleType(9),
        ];
        // A deterministic scatter of ranges over the week, some touching, some not.
        let mut seed = 17_u32;
        for _ in 0..200 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let day = Weekday::ALL[(seed >> 8) as usize % 7];
            let start = (seed >> 12) % 280 * 5;
            let len = ((seed >> 20) % 8 + 1) * 5;
            let layer = layers[(seed >> 4) as usize % 3];
            // Only cells nobody claimed yet, so the painting has no clash.
            let free = (start..start + len).step_by(5).all(|m| {
                p.type_at(day, m)
                    .is_none_or(|t| Layer::ScheduleType(t) == layer)
            });
            if free {
                p.paint(
                    layer,
                    day,
                    t(&format!("{:02}:{:02}", start / 60, start % 60)),
                    {
                        let end = start + len;
                        t(&format!("{:02}:{:02}", end / 60, end % 60))
                    },
                )
                .unwrap();
            }
        }
        p.set_customised(true);
        p.paint(Layer::Portal, Weekday::Tue, t("00:00"), t("12:00"))
            .unwrap();
        let stored = record(&p);
        let back = Painting::of_record(&stored, r5());
        // The overlay comes back as the cells that count (inside availability).
        let mut expected = p.clone();
        expected.portal = p.layer(Layer::Portal);
        assert_eq!(back, expected);
        assert_eq!(back.blocks(), p.blocks());
        assert_eq!(back.portal_blocks(), p.portal_blocks());
        // Stored blocks never cover a cell twice: at most one block per cell and day.
        let mut seen = WeekGrid::new(r5());
        for b in &stored.blocks {
            for &d in &b.days {
                assert!(!seen.any_in(d, b.start, b.end), "{b:?}");
                seen.fill(d, b.start, b.end);
            }
        }
    }

    #[test]
    fn the_overlay_keeps_only_cells_inside_availability() {
        let mut p = Painting::new(r5());
        p.paint(Layer::ScheduleType(1), Weekday::Tue, t("08:00"), t("16:00"))
            .unwrap();
        assert_eq!(p.portal_blocks(), None, "not customised");
        assert!(p.is_online(Weekday::Tue, 8 * 60));
        p.set_customised(true);
        assert_eq!(p.portal_blocks(), Some(vec![]), "customised but empty");
        assert!(!p.is_online(Weekday::Tue, 8 * 60));
        p.paint(Layer::Portal, Weekday::Tue, t("15:00"), t("18:00"))
            .unwrap();
        let spans = p.portal_blocks().unwrap();
        assert_eq!(spans.len(), 1);
        assert_eq!((spans[0].start, spans[0].end), (t("15:00"), t("16:00")));
        p.set_customised(false);
        assert_eq!(p.portal_blocks(), None);
    }

    #[test]
    fn a_cell_claimed_by_two_schedule_types_is_remembered_and_the_first_claim_kept() {
        let mut p = Painting::new(r5());
        p.paint(Layer::ScheduleType(1), Weekday::Mon, t("09:00"), t("10:00"))
            .unwrap();
        p.paint(Layer::ScheduleType(2), Weekday::Mon, t("09:45"), t("11:00"))
            .unwrap();
        assert_eq!(
            p.clash,
            Some(Clash {
                day: Weekday::Mon,
                minute: 9 * 60 + 45,
                first: 1,
                second: 2
            })
        );
        assert_eq!(
            text(&p.blocks()),
            ["1 mon 09:00-10:00", "2 mon 10:00-11:00"]
        );
    }

    #[test]
    fn ranges_off_the_grid_are_refused() {
        let mut p = Painting::new(Resolution::new(15).unwrap());
        let err = p
            .paint(Layer::ScheduleType(1), Weekday::Mon, t("09:05"), t("09:20"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells: Monday 09:05-09:20 is not a range of whole 15-minute cells"
        );
        assert!(
            p.paint(Layer::Portal, Weekday::Mon, t("10:00"), t("10:00"))
                .is_err()
        );
        assert_eq!(p, Painting::new(Resolution::new(15).unwrap()));
    }
}
