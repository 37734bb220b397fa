//! Rooms and equipment as the model holds them (format v3): each at a clinic, with a
//! capacity, its own dated records and time out of service, and the occupancy of the
//! appointments that hold it. Rule 13, which reads them, is in
//! [`slot_engine::resource`](crate::resource).

use crate::availability::RecordDates;
use crate::calendar::{Date, Instant};
use crate::grid::WeekGrid;
use crate::index::ClinicIx;
use crate::occupancy::{CellSpan, Occupancy};
use crate::scenario::{ResourceKind, Text};

/// The largest capacity of a resource: appointments it holds at once.
pub const MAX_RESOURCE_CAPACITY: u32 = 10_000;

/// The most requirements one service may have.
pub const MAX_REQUIREMENTS: usize = 16;

/// A dated availability record of a resource: a weekly grid in force between two
/// dates (its blocks' union).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRecord {
    pub(crate) dates: RecordDates,
    pub(crate) grid: WeekGrid,
}

impl ResourceRecord {
    /// The dates the record is in force.
    pub fn dates(&self) -> RecordDates {
        self.dates
    }

    /// The weekly grid of wall-clock cells where the resource is available.
    pub fn grid(&self) -> &WeekGrid {
        &self.grid
    }
}

/// A room or piece of equipment, with everything rule 13 reads about it.
///
/// ```
/// use slot_engine::Model;
/// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/rooms.json"))?;
/// let shockwave = model.resource(model.resource_ix("shockwave").unwrap());
/// assert_eq!(shockwave.capacity, 1);
/// assert_eq!(shockwave.kind.as_str(), "equipment");
/// // It has records of its own: not every day is a working day for it.
/// assert!(shockwave.records().is_some());
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The scenario key, unique among resources; they are sorted by it, and "any one
    /// of" picks the first free one in this order.
    pub id: Text,
    /// The name reasons and pages show ("Treatment room 1"); the id when the scenario
    /// gives none.
    pub name: Text,
    /// A room or equipment.
    pub kind: ResourceKind,
    /// The clinic it is at: only slots there may use it.
    pub clinic: ClinicIx,
    /// How many appointments it holds at once, 1 ..= 10 000.
    pub capacity: u32,
    pub(crate) records: Option<Vec<ResourceRecord>>,
    pub(crate) time_off: Vec<(Instant, Instant)>,
    pub(crate) occupancy: Occupancy,
    /// Cells where it has no place left or is out of service, merged, earliest first.
    pub(crate) blocked: Vec<CellSpan>,
}

impl Resource {
    /// Its own availability records, earliest first, or `None` when it is always
    /// available.
    pub fn records(&self) -> Option<&[ResourceRecord]> {
        self.records.as_deref()
    }

    /// When it is out of service, as `[start, end)` instants in document order.
    pub fn time_off(&self) -> &[(Instant, Instant)] {
        &self.time_off
    }

    /// How many appointments hold a place in each UTC cell (their buffered
    /// intervals), and where it is out of service.
    pub fn occupancy(&self) -> &Occupancy {
        &self.occupancy
    }

    /// The record in force on `date`; `None` also when it has no records at all.
    pub(crate) fn record_on(&self, date: Date) -> Option<&ResourceRecord> {
        let records = self.records.as_deref()?;
        let i = records.partition_point(|r| r.dates.start() <= date);
        i.checked_sub(1)
            .map(|i| &records[i])
            .filter(|r| r.dates.contains(date))
    }

    /// Whether its availability holds every wall-clock stretch (minutes after the
    /// midnight of `date`, in its clinic's zone; past 1440 is the next date).
    pub(crate) fn available(&self, date: Date, segments: &[(u32, u32)]) -> Availability {
        if self.records.is_none() {
            return Availability::Yes;
        }
        for &(a, b) in segments {
            let mut from = a;
            while from < b {
                // Split at each midnight: each date has its own record.
                let day = from / 1440;
                let Some(d) = date.add_days(i64::from(day)) else {
                    return Availability::NoRecord(date);
                };
                let (lo, hi) = (from - day * 1440, b.min((day + 1) * 1440) - day * 1440);
                let Some(record) = self.record_on(d) else {
                    return Availability::NoRecord(d);
                };
                if !record.grid.covers(d.weekday(), lo, hi) {
                    return Availability::Outside(d, lo, hi);
                }
                from = (day + 1) * 1440;
            }
        }
        Availability::Yes
    }

    /// Whether every cell of `span` has a place and none is out of service.
    pub(crate) fn has_place(&self, span: CellSpan) -> bool {
        if span.is_empty() {
            return true;
        }
        let i = self.blocked.partition_point(|s| s.end <= span.start);
        self.blocked.get(i).is_none_or(|s| s.start >= span.end)
    }
}

pub(crate) enum Availability {
    Yes,
    NoRecord(Date),
    /// Not covered on the date, between the two minutes of that date.
    Outside(Date, u32, u32),
}
