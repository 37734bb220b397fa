//! The setup check ("why can't my patients book X?"): for every service and every
//! practitioner, what keeps it from the portal over the coming weeks, each with the
//! page that fixes it; and, for one service, practitioner, date and time, the rule that
//! rejects that slot.
//!
//! Everything is read from the engine's own model of the organisation, so the check
//! never disagrees with what the portal offers: "fully booked" is the search finding no
//! slot where it would find some if the appointments were not there, and an unexplained
//! gap is explained by [`slot_engine::Model::check`] on a concrete time.

//!
//! Video appointments get their own notes (`video` on the report, each service and each
//! practitioner): why video is not offered where it is not (no schedule type that
//! allows telehealth, for the organisation, a service or a practitioner), and a warning
//! where video is offered without a join link to send patients.
//!
//! The whole-organisation check is in `report`, the one-slot question in `explain`;
//! here what both answer with.

use serde::Serialize;
use slot_engine::Date;

mod explain;
mod report;
mod resources;

pub use explain::{Explanation, Question, explain};
pub use report::report;

/// How many days ahead the check looks, today included: "the coming weeks".
pub const HORIZON_DAYS: i64 = 28;

/// What kind of problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The service's "Book from portal" is off.
    NotBookableOnline,
    /// A service that applies to no schedule type, or a practitioner assigned none.
    NoScheduleTypes,
    /// No practitioner is assigned any of the service's schedule types.
    NoPractitioner,
    /// A practitioner has the service's schedule types but not its practitioner type.
    TypeMismatch,
    /// The practitioner is not active.
    Inactive,
    /// The practitioner is not bookable in the portal.
    NotBookableInPortal,
    /// No availability record covers (part of) the coming weeks.
    NoRecord,
    /// Availability records cover the dates but have no blocks the service can use.
    NoBlocks,
    /// Customize Portal Availability leaves nothing (of the service's blocks) online.
    OverlayEmpty,
    /// A clinic holiday on a day the practitioner works there.
    Holiday,
    /// The search finds no open slot, but would without the appointments.
    FullyBooked,
    /// Some patients' available practitioners leave the practitioner out.
    HiddenFromPatients,
    /// No service bookable online uses the practitioner's schedule types.
    NoOnlineService,
    /// No open slot, for the reason the engine gives on the first candidate time.
    NoOpenSlots,
    /// Video is not offered: no schedule type (of the organisation, of the service, or
    /// of the practitioner) allows telehealth.
    NoVideo,
    /// Video is offered, but neither the practitioner nor the organisation has a video
    /// link to send patients.
    NoVideoLink,
    /// None of the resources of one of the service's needs is at a clinic where the
    /// service's schedule types have hours in the coming weeks.
    NeedNotWhereHours,
    /// The service lets more patients share a slot online than one of its needs holds
    /// at once.
    NeedSmallerThanConflicts,
    /// A resource available only by its records has no record for (part of) the coming
    /// weeks.
    ResourceNoRecord,
}

/// The page that fixes a problem, with the row id of what the page is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "page", content = "id", rename_all = "snake_case")]
pub enum Fix {
    /// The service's page: its portal switch, schedule types and practitioner type.
    Service(i64),
    /// The practitioner's page: active, bookable in the portal, schedule types.
    Practitioner(i64),
    /// The practitioner's availability records.
    Availability(i64),
    /// The clinic's page (holidays).
    Clinic(i64),
    /// The patient's page (portal access).
    Patient(i64),
    /// The list of patients.
    Patients,
    /// The organisation's settings (notice, how far ahead, the video link).
    Settings,
    /// The list of schedule types (which allow telehealth).
    ScheduleTypes,
    /// A room's or machine's page (its availability records).
    Resource(i64),
}

/// One thing that keeps a service or practitioner from the portal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What kind, for code; `message` says it for people.
    pub kind: Kind,
    /// In words a clinic admin understands, naming what is involved.
    pub message: String,
    /// Where to fix it.
    pub fix: Fix,
}

/// What the check found for one service: its open slots, and what holds it back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceCheck {
    pub id: i64,
    pub key: String,
    pub name: String,
    /// Whether "Book from portal" is on.
    pub book_from_portal: bool,
    /// Open slots in the coming weeks, all practitioners together.
    pub open_slots: usize,
    /// Of those, the open video slots (a patient asking for video finds these).
    pub video_slots: usize,
    /// What keeps it (or some of its practitioners) from the portal.
    pub problems: Vec<Problem>,
    /// Why it is not offered by video (or not with some practitioners); empty when the
    /// organisation offers no video at all ([`Report::video`] says so once).
    pub video: Vec<Problem>,
}

/// What the check found for one practitioner: their open slots, and what holds them
/// back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PractitionerCheck {
    pub id: i64,
    pub key: String,
    pub name: String,
    /// Open slots in the coming weeks, all their online services together.
    pub open_slots: usize,
    /// Of those, the open video slots.
    pub video_slots: usize,
    /// What keeps them from the portal.
    pub problems: Vec<Problem>,
    /// Why they are not offered by video, or why their video appointments have no join
    /// link; empty when the organisation offers no video at all.
    pub video: Vec<Problem>,
}

/// The whole check: every service and every practitioner, over the [`HORIZON_DAYS`] days
/// from today.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The first date looked at (today, in the first clinic's timezone).
    pub from: Date,
    /// The last date looked at.
    pub to: Date,
    /// Every service, by name.
    pub services: Vec<ServiceCheck>,
    /// Every practitioner, by name.
    pub practitioners: Vec<PractitionerCheck>,
    /// Why the organisation offers no video appointments at all (no schedule type
    /// allows telehealth, or none is assigned to a practitioner); empty when it does.
    pub video: Vec<Problem>,
    /// What keeps rooms and equipment from being used (no availability record for the
    /// coming weeks); the services' notes about what they need are with each service.
    pub resources: Vec<Problem>,
}
