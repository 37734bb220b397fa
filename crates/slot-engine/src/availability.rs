//! Dated availability records: a weekly grid per schedule type, in force between two
//! dates, with its own slot step and an optional portal overlay.
//!
//! A record is built once from its scenario form. Besides the grids it keeps, per
//! weekday, the *runs*: maximal stretches covered by one schedule type (and, for the
//! portal, also by the overlay). The search walks runs, not cells; a slot fits in a
//! run exactly when every cell it touches is covered by that one schedule type
//! (rules 5 and 7).
//!
//! ```
//! use slot_engine::{Date, RecordDates};
//! let winter = RecordDates::new(Date::new(2026, 1, 1)?, Some(Date::new(2026, 4, 30)?))?;
//! let from_april = RecordDates::new(Date::new(2026, 4, 15)?, None)?;
//! // Two records of one practitioner may not share a date.
//! assert!(winter.overlaps(from_april));
//! assert!(!winter.contains(Date::new(2026, 5, 1)?));
//! # Ok::<(), slot_engine::ValueError>(())
//! ```

use std::fmt;

use crate::calendar::{Date, Weekday};
use crate::grid::WeekGrid;
use crate::index::{ClinicIx, ScheduleTypeIx};

/// The dates a record is in force: `start ..= end`, or from `start` on when `end` is
/// `None`.
///
/// ```
/// use slot_engine::{Date, RecordDates};
/// let d = RecordDates::new(Date::new(2026, 1, 1)?, None)?;
/// assert!(d.contains(Date::new(2099, 1, 1)?));
/// assert_eq!(d.to_string(), "2026-01-01..");
/// assert!(RecordDates::new(Date::new(2026, 2, 1)?, Some(Date::new(2026, 1, 1)?)).is_err());
/// # Ok::<(), slot_engine::ValueError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordDates {
    start: Date,
    end: Option<Date>,
}

impl RecordDates {
    /// The dates from `start` to `end` (inclusive; `None` = open-ended).
    pub fn new(start: Date, end: Option<Date>) -> Result<Self, crate::ValueError> {
        match end {
            Some(end) if end < start => Err(crate::ValueError::new(format!(
                "end_date {end} is before start_date {start}"
            ))),
            _ => Ok(Self { start, end }),
        }
    }

    /// The first date.
    pub fn start(self) -> Date {
        self.start
    }

    /// The last date, or `None` when open-ended.
    pub fn end(self) -> Option<Date> {
        self.end
    }

    /// Whether `date` falls in the record.
    ///
    /// ```
    /// use slot_engine::{Date, RecordDates};
    /// let spring = RecordDates::new(Date::new(2026, 3, 1)?, Some(Date::new(2026, 5, 31)?))?;
    /// assert!(spring.contains(Date::new(2026, 5, 31)?)); // the end date is included
    /// assert!(!spring.contains(Date::new(2026, 6, 1)?));
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn contains(self, date: Date) -> bool {
        self.start <= date && self.end.is_none_or(|end| date <= end)
    }

    /// Whether two records share a date.
    pub fn overlaps(self, other: RecordDates) -> bool {
        self.start.max(other.start) <= min_end(self.end, other.end).unwrap_or(Date::MAX)
    }
}

fn min_end(a: Option<Date>, b: Option<Date>) -> Option<Date> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

impl fmt::Display for RecordDates {
    /// `2026-01-01..2026-04-30`, or `2026-04-15..` when open-ended.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.end {
            Some(end) => write!(f, "{}..{}", self.start, end),
            None => write!(f, "{}..", self.start),
        }
    }
}

/// The availability of one schedule type within a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeGrid {
    /// The schedule type of these blocks.
    pub schedule_type: ScheduleTypeIx,
    /// The clinic slots of these blocks are at (rule 6).
    pub clinic: ClinicIx,
    /// The cells its blocks cover.
    pub grid: WeekGrid,
}

/// A maximal stretch of one weekday covered by one schedule type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// The schedule type covering it.
    pub schedule_type: ScheduleTypeIx,
    /// The slot clinic of that schedule type in this record.
    pub clinic: ClinicIx,
    /// First minute after midnight.
    pub start: u16,
    /// Minute after midnight just past the end (up to 1440).
    pub end: u16,
}

/// A validated availability record.
///
/// Built by [`Model`](crate::Model) from the scenario; read it through
/// [`Practitioner::records`](crate::model::Practitioner::records) or
/// [`Practitioner::record_on`](crate::model::Practitioner::record_on).
///
/// ```
/// use slot_engine::{Model, Weekday};
/// let model = Model::from_json(br#"{"version": 1,
///   "clinics": [{"id": "toronto", "timezone": "America/Toronto"}],
///   "schedule_types": [{"id": "physio"}, {"id": "massage"}],
///   "practitioners": [{"id": "christine", "type": "physiotherapist", "home_clinic": "toronto",
///     "schedule_types": ["physio", "massage"],
///     "availability": [{"start_date": "2026-03-01", "end_date": "2026-06-30", "slot_step_minutes": 20,
///       "blocks": [{"days": ["mon"], "start": "09:00", "end": "12:00", "schedule_type": "physio"},
///                  {"days": ["mon"], "start": "13:00", "end": "15:00", "schedule_type": "massage"}],
///       "portal_blocks": [{"days": ["mon"], "start": "10:00", "end": "14:00"}]}]}]
/// }"#)?;
/// let record = &model.practitioners()[0].records()[0];
/// assert_eq!(record.dates().to_string(), "2026-03-01..2026-06-30");
/// assert_eq!(record.slot_step(), 20);
/// assert_eq!(record.grids().len(), 2); // one per schedule type
///
/// // In the clinic: both blocks. Online: only what the overlay leaves of them.
/// let stretch = |portal| -> Vec<(u16, u16)> {
///     record.runs(Weekday::Mon, portal).iter().map(|r| (r.start / 60, r.end / 60)).collect()
/// };
/// assert_eq!(stretch(false), [(9, 12), (13, 15)]);
/// assert_eq!(stretch(true), [(10, 12), (13, 14)]);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvailabilityRecord {
    dates: RecordDates,
    clinic: Option<ClinicIx>,
    slot_step: u32,
    grids: Vec<TypeGrid>,
    portal: Option<WeekGrid>,
    clinic_runs: [Vec<Run>; 7],
    portal_runs: [Vec<Run>; 7],
}

impl AvailabilityRecord {
    /// Assembles a record from grids already checked not to overlap each other.
    pub(crate) fn new(
        dates: RecordDates,
        clinic: Option<ClinicIx>,
        slot_step: u32,
        mut grids: Vec<TypeGrid>,
        portal: Option<WeekGrid>,
    ) -> Self {
        grids.sort_by_key(|g| g.schedule_type);
        let runs_of = |with_overlay: bool| {
            let bookable: Vec<WeekGrid> = grids
                .iter()
                .map(|g| match (&portal, with_overlay) {
                    (Some(overlay), true) => g.grid.intersection(overlay),
                    _ => g.grid.clone(),
                })
                .collect();
            Weekday::ALL.map(|day| {
                let mut runs: Vec<Run> = Vec::new();
                for (g, cells) in grids.iter().zip(&bookable) {
                    runs.extend(cells.runs(day).map(|(start, end)| Run {
                        schedule_type: g.schedule_type,
                        clinic: g.clinic,
                        start: start as u16,
                        end: end as u16,
                    }));
                }
                runs.sort_by_key(|r| r.start);
                runs
            })
        };
        let clinic_runs = runs_of(false);
        let portal_runs = runs_of(true);
        Self {
            dates,
            clinic,
            slot_step,
            grids,
            portal,
            clinic_runs,
            portal_runs,
        }
    }

    /// The dates the record is in force.
    pub fn dates(&self) -> RecordDates {
        self.dates
    }

    /// The record's own clinic (for schedule types usable at any clinic).
    pub fn clinic(&self) -> Option<ClinicIx> {
        self.clinic
    }

    /// The slot step in minutes (candidates start at multiples of it).
    pub fn slot_step(&self) -> u32 {
        self.slot_step
    }

    /// One grid per schedule type used by the record's blocks, by schedule type.
    pub fn grids(&self) -> &[TypeGrid] {
        &self.grids
    }

    /// The grid of one schedule type, if the record has blocks of it.
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let record = &model.practitioner(model.practitioner_ix("christine").unwrap()).records()[0];
    /// let whitby = record.grid_of(model.schedule_type_ix("christine-whitby").unwrap()).unwrap();
    /// assert_eq!(whitby.grid.to_string(), "mon 12:00-14:00");
    /// assert_eq!(model.clinic(whitby.clinic).id.as_str(), "whitby");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn grid_of(&self, schedule_type: ScheduleTypeIx) -> Option<&TypeGrid> {
        self.grids
            .binary_search_by_key(&schedule_type, |g| g.schedule_type)
            .ok()
            .map(|i| &self.grids[i])
    }

    /// The portal overlay, or `None` when not customised (all available cells are
    /// bookable online).
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// // basic.json does not customise the portal: all its availability is online.
    /// assert!(model.practitioners()[0].records()[0].portal().is_none());
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn portal(&self) -> Option<&WeekGrid> {
        self.portal.as_ref()
    }

    /// The schedule type covering the cell holding `minute` of `day`, if any.
    ///
    /// ```
    /// use slot_engine::{Model, Weekday};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let record = &model.practitioner(model.practitioner_ix("christine").unwrap()).records()[0];
    /// let at_noon = record.type_at(Weekday::Mon, 12 * 60).unwrap();
    /// assert_eq!(model.schedule_type(at_noon.schedule_type).id.as_str(), "christine-whitby");
    /// assert!(record.type_at(Weekday::Tue, 12 * 60).is_none());
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn type_at(&self, day: Weekday, minute: u32) -> Option<&TypeGrid> {
        self.grids.iter().find(|g| g.grid.is_set(day, minute))
    }

    /// Covered stretches of `day`, earliest first: in the clinic (`portal` false), or
    /// also inside the portal overlay (`portal` true).
    pub fn runs(&self, day: Weekday, portal: bool) -> &[Run] {
        if portal {
            &self.portal_runs[day.index()]
        } else {
            &self.clinic_runs[day.index()]
        }
    }
}

#[cfg(test)]
mod tests;
