//! Dated availability records of a practitioner, and the model of the weekly grid
//! editor.
//!
//! A record holds its dates, an optional clinic (for schedule types usable at any
//! clinic), an optional slot step, the blocks of each schedule type, and the portal
//! overlay. `portal_customised` says whether the overlay is set at all: not customised
//! means every available cell is bookable online, customised but empty means nothing
//! is.
//!
//! [`Painting`] is the editor's view of a record: one [`WeekGrid`](slot_engine::WeekGrid) per schedule type and
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
//!
//! The module is split by job:
//! - `records`: reading a practitioner's records, and creating, changing and deleting
//!   them (dates, clinic, slot step), each under the practitioner's lock;
//! - `blocks`: replacing a record's blocks and portal overlay, from scenario-format
//!   blocks (the API) or from what the grid editor painted;
//! - `painting`: [`Painting`], the grid editor's model of one week, with its unit tests;
//! - `split`: changing hours over time without repainting: [`new_record_from`] a date,
//!   and a [`temporary_change`] for a range of dates, each copying the record (blocks,
//!   overlay, slot step, clinic) so the practitioner's records stay apart;
//! - `assignment`: which schedule types a practitioner may paint with.

use serde::Serialize;
use slot_engine::{RecordDates, WallTime, Weekday};

use crate::organisation;

mod assignment;
mod blocks;
mod painting;
mod records;
mod split;

pub use assignment::{assign, assigned_schedule_types, unassign, unassigned_schedule_types};
pub use blocks::{replace_blocks, replace_portal, save_painting};
pub use painting::{Layer, Painting};
pub use records::{create, delete, get, list, places, practitioner, update};
pub use split::{NewRecordFrom, TemporaryChange, new_record_from, temporary_change};

/// The practitioner whose records are edited, with what the editor shows of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PractitionerSummary {
    pub id: i64,
    pub key: String,
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
    pub id: i64,
    pub key: String,
    pub name: String,
    /// Its short code, if it has one, shown beside the name in the editor's legend.
    pub code: Option<String>,
    /// Its clinic, or `None` when usable at any clinic.
    pub clinic_id: Option<i64>,
    /// The colour the editor paints its cells in, `#rrggbb`.
    pub background_color: String,
    /// The colour of text on those cells, `#rrggbb`.
    pub font_color: String,
}

/// Days and a wall-clock range: a portal block, or the shape of a block.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// The weekdays it covers, Monday first, none twice.
    pub days: Vec<Weekday>,
    /// Start, on the resolution grid.
    pub start: WallTime,
    /// End (up to 24:00), on the resolution grid.
    pub end: WallTime,
}

/// A stored block of one schedule type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The weekdays it covers, Monday first, none twice.
    pub days: Vec<Weekday>,
    /// Start, on the resolution grid.
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
    /// The first date in force, `YYYY-MM-DD`.
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
