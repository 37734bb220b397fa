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
use crate::error::ValueError;
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
    /// The dates from `start` to `end` (inclusive; `None` = open-ended). A record of
    /// one day has `end` equal to `start`; an `end` before `start` is refused, with the
    /// scenario's field names.
    ///
    /// ```
    /// use slot_engine::{Date, RecordDates};
    /// let day = Date::new(2026, 3, 2)?;
    /// assert!(RecordDates::new(day, Some(day))?.contains(day));
    /// let err = RecordDates::new(day, Some(Date::new(2026, 3, 1)?)).unwrap_err();
    /// assert_eq!(err.to_string(), "end_date 2026-03-01 is before start_date 2026-03-02");
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn new(start: Date, end: Option<Date>) -> Result<Self, ValueError> {
        match end {
            Some(end) if end < start => Err(ValueError::new(format!(
                "end_date {end} is before start_date {start}"
            ))),
            _ => Ok(Self { start, end }),
        }
    }

    /// The first date the record is in force; a practitioner's records are kept in
    /// this order.
    pub fn start(self) -> Date {
        self.start
    }

    /// The last date the record is in force, included, or `None` when it runs on with
    /// no end.
    ///
    /// ```
    /// use slot_engine::{Date, RecordDates};
    /// let from_march = RecordDates::new(Date::new(2026, 3, 1)?, None)?;
    /// assert_eq!(from_march.end(), None);
    /// assert!(from_march.contains(Date::MAX));
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
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

    /// Whether two records share a date, which two records of one practitioner may not
    /// ([`Model::new`](crate::Model::new) refuses them). A new schedule starts the day
    /// after the old one ends.
    ///
    /// ```
    /// use slot_engine::{Date, RecordDates};
    /// let winter = RecordDates::new(Date::new(2026, 1, 1)?, Some(Date::new(2026, 3, 31)?))?;
    /// let spring = RecordDates::new(Date::new(2026, 4, 1)?, None)?;
    /// assert!(!winter.overlaps(spring)); // they meet but share no date
    /// let from_march = RecordDates::new(Date::new(2026, 3, 31)?, None)?;
    /// assert!(winter.overlaps(from_march) && from_march.overlaps(spring));
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
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

/// The availability of one schedule type within a record: every block of that type,
/// painted on one weekly grid, and the clinic those blocks are at.
///
/// ```
/// use slot_engine::Model;
/// let model = Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
/// let christine = model.practitioner(model.practitioner_ix("christine").unwrap());
/// let grids: Vec<(&str, &str, String)> = christine.records()[0]
///     .grids()
///     .iter()
///     .map(|g| (model.schedule_type(g.schedule_type).id.as_str(), model.clinic(g.clinic).id.as_str(), g.grid.to_string()))
///     .collect();
/// assert_eq!(grids, [
///     ("christine-toronto", "toronto", "mon 09:00-12:00".to_owned()),
///     ("christine-whitby", "whitby", "mon 12:00-14:00".to_owned()),
/// ]);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeGrid {
    /// The schedule type of these blocks; a record has one grid per schedule type.
    pub schedule_type: ScheduleTypeIx,
    /// The clinic slots in these blocks are at (rule 6): the schedule type's own, else
    /// the record's, else the practitioner's home clinic.
    pub clinic: ClinicIx,
    /// The wall-clock cells the blocks cover; no cell is also covered by another
    /// schedule type's grid of the same record.
    pub grid: WeekGrid,
}

/// A maximal stretch of one weekday covered by one schedule type: what the search
/// steps candidates through. Adjacent blocks of one schedule type make one run;
/// adjacent blocks of two schedule types make two, and no slot spans both.
///
/// ```
/// use slot_engine::{Model, Weekday};
/// let model = Model::from_json(br#"{"version": 1,
///   "clinics": [{"id": "c", "timezone": "Europe/London"}],
///   "schedule_types": [{"id": "physio"}, {"id": "massage"}],
///   "practitioners": [{"id": "p", "type": "t", "home_clinic": "c", "schedule_types": ["physio", "massage"],
///     "availability": [{"start_date": "2026-01-01", "blocks": [
///       {"days": ["mon"], "start": "09:00", "end": "10:00", "schedule_type": "physio"},
///       {"days": ["mon"], "start": "10:00", "end": "11:00", "schedule_type": "physio"},
///       {"days": ["mon"], "start": "11:00", "end": "12:00", "schedule_type": "massage"}]}]}]}"#)?;
/// let runs = model.practitioners()[0].records()[0].runs(Weekday::Mon, false);
/// let runs: Vec<(&str, u16, u16)> =
///     runs.iter().map(|r| (model.schedule_type(r.schedule_type).id.as_str(), r.start, r.end)).collect();
/// assert_eq!(runs, [("physio", 540, 660), ("massage", 660, 720)]);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// The schedule type covering every cell of the run.
    pub schedule_type: ScheduleTypeIx,
    /// The clinic of that schedule type's blocks in this record (rule 6).
    pub clinic: ClinicIx,
    /// The run's first minute after local midnight, on the resolution's grid.
    pub start: u16,
    /// The minute after local midnight just past its end, up to 1440 (24:00).
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

    /// The dates the record is in force; no other record of the practitioner shares
    /// one.
    pub fn dates(&self) -> RecordDates {
        self.dates
    }

    /// The record's own clinic, if it names one: where its blocks of schedule types
    /// usable at any clinic are. A schedule type with a clinic of its own ignores it.
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/records-and-steps.json"))?;
    /// let jo = model.practitioner_ix("jo").unwrap();
    /// let [june, july] = model.practitioner(jo).records() else { unreachable!() };
    /// assert_eq!(june.clinic(), None); // massage at the home clinic, downtown
    /// assert_eq!(july.clinic(), model.clinic_ix("harbour"));
    /// let rmt = model.schedule_type_ix("rmt").unwrap();
    /// assert_eq!(model.slot_clinic(rmt, july, jo), model.clinic_ix("harbour").unwrap());
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn clinic(&self) -> Option<ClinicIx> {
        self.clinic
    }

    /// The slot step in minutes: candidates on the record's dates start at its
    /// multiples after local midnight, not counted from the start of a block (rule 2).
    /// The record's own `slot_step_minutes`, else the organisation's setting.
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/records-and-steps.json"))?;
    /// let steps: Vec<u32> = model.practitioners()[0].records().iter().map(|r| r.slot_step()).collect();
    /// assert_eq!(steps, [15, 30]); // the setting, then the July record's own
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn slot_step(&self) -> u32 {
        self.slot_step
    }

    /// One grid per schedule type the record's blocks use, in schedule type order (see
    /// [`TypeGrid`] for an example); [`AvailabilityRecord::grid_of`] finds one.
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

    /// The covered stretches of `day`, earliest first, precomputed when the record was
    /// built: as staff see them (`portal` false), or cut to the portal overlay
    /// (`portal` true), which is what the search walks. Without an overlay both are the
    /// same.
    ///
    /// ```
    /// use slot_engine::{Model, Weekday};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/portal-overlay.json"))?;
    /// let record = &model.practitioners()[0].records()[0];
    /// let hours = |portal| -> Vec<(u16, u16)> {
    ///     record.runs(Weekday::Tue, portal).iter().map(|r| (r.start / 60, r.end / 60)).collect()
    /// };
    /// assert_eq!(hours(false), [(8, 16)]);
    /// // The overlay is 09:00-11:00 and 15:00-18:00; only what lies on availability counts.
    /// assert_eq!(hours(true), [(9, 11), (15, 16)]);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
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
