//! The scenario document (format v1): the serde shape of `docs/scenario.md`.
//!
//! These types accept exactly the JSON the format allows: an unknown field, a key given
//! twice, a missing required field, a `null` where the default is not null, or a value
//! of the wrong form is refused by [`Scenario::from_json`] with the path of the
//! offending value. Rules that relate several values (ranges, references, overlaps)
//! are checked when the scenario becomes a [`Model`](crate::Model).
//!
//! The same types serialize back, so a scenario is also the import/export format of an
//! organisation's whole setup.
//!
//! ```
//! use slot_engine::Scenario;
//! let text = br#"{"version": 1, "clinics": [{"id": "toronto", "timezone": "America/Toronto"}]}"#;
//! let scenario = Scenario::from_json(text)?;
//! // Defaults are filled in, and the document prints back as the same scenario.
//! assert_eq!(scenario.settings.slot_step_minutes, 15);
//! assert_eq!(Scenario::from_json(scenario.to_json_pretty().as_bytes())?, scenario);
//! // A typo is an error, not a silent default.
//! let err = Scenario::from_json(br#"{"version": 1, "setings": {}}"#).unwrap_err();
//! assert!(err.to_string().contains("unknown field `setings`"), "{err}");
//! # Ok::<(), slot_engine::Error>(())
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::calendar::{Date, Instant, WallTime, Weekday};
use crate::error::{Error, ValueError};
use crate::zone::Zone;

/// The largest document accepted, in bytes (64 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// A whole scenario document: one organisation's scheduling setup and, optionally,
/// one question about it. Every list defaults to empty, and ids are unique within
/// each list (checked by [`Model::new`](crate::Model::new)).
///
/// ```
/// use slot_engine::Scenario;
/// let s = Scenario::from_json(br#"{"version": 1, "clinics": [{"id": "c", "timezone": "Europe/London"}]}"#)?;
/// assert_eq!(s.clinics[0].timezone.name(), "Europe/London");
/// assert!(Scenario::from_json(br#"{"version": 1, "clincs": []}"#).is_err());
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The format version, `1`, `2` or `3`. Version 2 adds buffers and series, version
    /// 3 rooms and equipment (the fields marked v2 and v3); a document keeps the answer
    /// of the version it was written in, and is answered the same read as a later one.
    pub version: u32,
    /// Organisation-wide settings; each missing one takes its default.
    #[serde(default)]
    pub settings: Settings,
    /// The organisation's locations, whose zones and holidays slots follow.
    #[serde(default)]
    pub clinics: Vec<Clinic>,
    /// What blocks of availability are for, and where.
    #[serde(default)]
    pub schedule_types: Vec<ScheduleType>,
    /// The people booked, each with their availability records and time off.
    #[serde(default)]
    pub practitioners: Vec<Practitioner>,
    /// The products and services patients and staff book.
    #[serde(default)]
    pub services: Vec<Service>,
    /// The organisation's patients; the engine reads none of their fields by itself.
    #[serde(default)]
    pub patients: Vec<Patient>,
    /// v3: rooms and equipment, each at one clinic, that services may require.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// Appointments already made, in any order; all but cancelled ones take time.
    #[serde(default)]
    pub appointments: Vec<Appointment>,
    /// The question asked of the scenario; required by `slots` and `check`, omitted by
    /// `export`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Query>,
}

impl Scenario {
    /// Parses a scenario document, refusing anything the format does not allow.
    ///
    /// Only the document's shape is checked here; what relates several values is
    /// checked by [`Model::new`](crate::Model::new).
    ///
    /// ```
    /// use slot_engine::Scenario;
    /// // Well-formed, so it parses, though the clinic it names does not exist.
    /// let s = Scenario::from_json(br#"{"version": 1, "schedule_types": [{"id": "physio", "clinic": "nowhere"}]}"#)?;
    /// assert!(slot_engine::Model::new(&s).is_err());
    /// // `null` only where the default is null: a record's slot step may be left out, not null.
    /// let err = Scenario::from_json(br#"{"version": 1, "practitioners": [{"id": "p", "type": "t",
    ///   "home_clinic": "c", "availability": [{"start_date": "2026-01-01", "blocks": [], "slot_step_minutes": null}]}]}"#)
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("practitioners[0].availability[0].slot_step_minutes: invalid type: null"), "{err}");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn from_json(bytes: &[u8]) -> Result<Scenario, Error> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(Error::TooLarge {
                bytes: bytes.len(),
                limit: MAX_DOCUMENT_BYTES,
            });
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let scenario: Scenario = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            Error::Json {
                path,
                message: e.into_inner().to_string(),
            }
        })?;
        de.end().map_err(|e| Error::Json {
            path: ".".to_owned(),
            message: e.to_string(),
        })?;
        Ok(scenario)
    }

    /// The document as pretty-printed JSON: what `openslot export` prints.
    ///
    /// ```
    /// let s = slot_engine::Scenario::default();
    /// assert!(s.to_json_pretty().starts_with("{\n  \"version\": 1,"));
    /// ```
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scenario always serializes")
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            version: 1,
            settings: Settings::default(),
            clinics: Vec::new(),
            schedule_types: Vec::new(),
            practitioners: Vec::new(),
            services: Vec::new(),
            patients: Vec::new(),
            resources: Vec::new(),
            appointments: Vec::new(),
            query: None,
        }
    }
}

/// Organisation-wide scheduling settings, as written: the cell size, the default slot
/// step and the portal's booking window. [`Model::new`](crate::Model::new) checks the
/// ranges.
///
/// ```
/// let s = slot_engine::scenario::Settings::default();
/// assert_eq!((s.resolution_minutes, s.slot_step_minutes, s.max_days_ahead), (5, 15, 365));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Cell size `r` in minutes: 1, 5 or 15 (5 by default).
    #[serde(default = "default_resolution")]
    pub resolution_minutes: u32,
    /// The slot step of records that set none: a positive multiple of `r`, at most
    /// 1440 minutes (15 by default).
    #[serde(default = "default_slot_step")]
    pub slot_step_minutes: u32,
    /// How long before its start a portal booking must be made, 0 ..= 525600 minutes
    /// (0 by default).
    #[serde(default)]
    pub min_notice_minutes: u32,
    /// How many days after today a portal booking may be, 0 ..= 3660 (365 by
    /// default).
    #[serde(default = "default_max_days_ahead")]
    pub max_days_ahead: u32,
}

fn default_resolution() -> u32 {
    5
}
fn default_slot_step() -> u32 {
    15
}
fn default_max_days_ahead() -> u32 {
    365
}
fn default_duration() -> u32 {
    30
}
fn default_true() -> bool {
    true
}
fn default_portal_conflicts() -> u32 {
    1
}
fn default_background() -> Color {
    Color([0xff, 0xff, 0xff])
}
fn default_font() -> Color {
    Color([0, 0, 0])
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            resolution_minutes: default_resolution(),
            slot_step_minutes: default_slot_step(),
            min_notice_minutes: 0,
            max_days_ahead: default_max_days_ahead(),
        }
    }
}

/// A clinic: a location with a timezone and holidays.
///
/// Only `id` and `timezone` are required; the name defaults to the id.
///
/// ```
/// use slot_engine::scenario::Clinic;
/// let c: Clinic = serde_json::from_str(r#"{"id": "whitby", "timezone": "America/Toronto", "holidays": ["2026-05-18"]}"#).unwrap();
/// assert_eq!((c.name, c.holidays.len()), (None, 1));
/// assert!(serde_json::from_str::<Clinic>(r#"{"id": "whitby", "timezone": "America/Toronto", "name": null}"#).is_ok());
/// assert!(serde_json::from_str::<Clinic>(r#"{"id": "whitby", "timezone": "America/Toronto", "holidays": null}"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clinic {
    /// The key schedule types, records and practitioners name the clinic by.
    pub id: Text,
    /// The name people read; `None` (or `null`) means the id.
    #[serde(default)]
    pub name: Option<Text>,
    /// The IANA zone every wall-clock time at this clinic is read in.
    pub timezone: Zone,
    /// Dates on which the clinic takes no bookings; repeats are harmless.
    #[serde(default)]
    pub holidays: Vec<Date>,
}

/// A schedule type: what a block of availability is for.
///
/// ```
/// use slot_engine::scenario::ScheduleType;
/// let t: ScheduleType = serde_json::from_str(r#"{"id": "physio"}"#).unwrap();
/// // Usable at any clinic, 30 minutes by default, no conflicts, black on white.
/// assert_eq!((t.clinic, t.default_duration_minutes, t.allow_conflicts), (None, 30, false));
/// assert_eq!(t.background_color.to_string(), "#ffffff");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleType {
    /// The key blocks, services and practitioners name the schedule type by.
    pub id: Text,
    /// A short code shown to staff only.
    #[serde(default)]
    pub code: Option<Text>,
    /// The name people read; `None` (or `null`) means the id.
    #[serde(default)]
    pub name: Option<Text>,
    /// The id of the clinic its blocks are at; `None` = usable at any clinic, placed by
    /// the record's clinic or the home clinic (rule 6).
    #[serde(default)]
    pub clinic: Option<Text>,
    /// The length of a staff booking made under it without a service, 1 ..= 1440
    /// minutes (30 by default).
    #[serde(default = "default_duration")]
    pub default_duration_minutes: u32,
    /// Whether appointments may share its time, up to a service's `portal_conflicts`
    /// per cell online (`false` by default: one booking per cell).
    #[serde(default)]
    pub allow_conflicts: bool,
    /// Whether it offers telehealth appointments (`false` by default).
    #[serde(default)]
    pub telehealth: bool,
    /// The colour its blocks and appointments are painted in (`#ffffff` by default).
    #[serde(default = "default_background")]
    pub background_color: Color,
    /// The colour of text on `background_color` (`#000000` by default).
    #[serde(default = "default_font")]
    pub font_color: Color,
}

/// A practitioner with their availability records and time off.
///
/// ```
/// use slot_engine::scenario::Practitioner;
/// let p: Practitioner = serde_json::from_str(r#"{"id": "christine", "type": "physiotherapist", "home_clinic": "toronto"}"#).unwrap();
/// assert!(p.active && p.bookable_in_portal);
/// assert_eq!(p.kind.as_str(), "physiotherapist"); // `type` in JSON
/// assert!(p.availability.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Practitioner {
    /// The key appointments, queries and patients name the practitioner by.
    pub id: Text,
    /// The name people read; `None` (or `null`) means the id.
    #[serde(default)]
    pub name: Option<Text>,
    /// `type` in JSON: a free label such as `physiotherapist`, which a service's
    /// `practitioner_type` must equal exactly.
    #[serde(rename = "type")]
    pub kind: Text,
    /// The id of the clinic of last resort, where blocks whose schedule type and record
    /// name no clinic are.
    pub home_clinic: Text,
    /// The practitioner's address, if the clinic keeps one.
    #[serde(default)]
    pub email: Option<Text>,
    /// `false` means never offered online and an override for staff (`true` by
    /// default).
    #[serde(default = "default_true")]
    pub active: bool,
    /// `false` keeps the practitioner out of the portal; staff may still book them
    /// (`true` by default).
    #[serde(default = "default_true")]
    pub bookable_in_portal: bool,
    /// The ids of the schedule types assigned to the practitioner, the only ones their
    /// blocks may use; repeats count once.
    #[serde(default)]
    pub schedule_types: Vec<Text>,
    /// Their dated availability records, in any order; no two may share a date.
    #[serde(default)]
    pub availability: Vec<AvailabilityRecord>,
    /// Stretches they are away, which no portal slot may touch.
    #[serde(default)]
    pub time_off: Vec<TimeOff>,
}

/// A dated availability record: a weekly grid of blocks in force between two dates.
///
/// ```
/// use slot_engine::scenario::AvailabilityRecord;
/// let r: AvailabilityRecord = serde_json::from_str(r#"{"start_date": "2026-03-01", "blocks": [
///     {"days": ["mon", "wed"], "start": "09:00", "end": "12:00", "schedule_type": "physio"}],
///   "portal_blocks": []}"#).unwrap();
/// assert_eq!(r.end_date, None); // open-ended
/// assert_eq!(r.slot_step_minutes, None); // the organisation's setting
/// assert_eq!(r.portal_blocks.as_deref().map(<[_]>::len), Some(0)); // customised: nothing online
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityRecord {
    /// The first date the record is in force.
    pub start_date: Date,
    /// The last date the record is in force, included; `None` = open-ended. Not
    /// before `start_date`.
    #[serde(default)]
    pub end_date: Option<Date>,
    /// Clinic of blocks whose schedule type has none; `None` = the home clinic.
    #[serde(default)]
    pub clinic: Option<Text>,
    /// This record's slot step; `None` = the setting. `null` is not accepted.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub slot_step_minutes: Option<u32>,
    /// The weekly grid: blocks of availability, each of one schedule type; no two may
    /// cover the same cell.
    pub blocks: Vec<Block>,
    /// Customize Portal Availability: `None` = not customised, `Some([])` = nothing
    /// online.
    #[serde(default)]
    pub portal_blocks: Option<Vec<PortalBlock>>,
}

/// Deserializes a field that may be omitted but not given as `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(de: D) -> Result<Option<T>, D::Error> {
    T::deserialize(de).map(Some)
}

/// Blocks of availability of one schedule type on some weekdays: the same wall-clock
/// stretch on each of `days`.
///
/// ```
/// use slot_engine::scenario::Block;
/// let b: Block = serde_json::from_str(r#"{"days": ["fri"], "start": "13:00", "end": "24:00", "schedule_type": "physio"}"#).unwrap();
/// assert_eq!(b.end.to_string(), "24:00");
/// assert!(serde_json::from_str::<Block>(r#"{"days": ["fri"], "start": "13:00", "end": "24:30", "schedule_type": "physio"}"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// The weekdays it covers, each at most once; an empty list covers nothing.
    pub days: Vec<Weekday>,
    /// Where it starts, on the `r` grid and before `end`; never `24:00`.
    pub start: WallTime,
    /// Where it ends, on the `r` grid; `24:00` is the end of the day.
    pub end: WallTime,
    /// The id of its schedule type, which must be assigned to the practitioner.
    pub schedule_type: Text,
}

/// Part of the portal overlay of a record ("Customize Portal Availability"): where its
/// availability may be booked online. Portal blocks may overlap; their union counts,
/// and only where the record has availability.
///
/// ```
/// use slot_engine::scenario::PortalBlock;
/// let b: PortalBlock = serde_json::from_str(r#"{"days": ["mon"], "start": "09:00", "end": "12:00"}"#).unwrap();
/// assert_eq!(b.start.minutes(), 540);
/// // A portal block has no schedule type.
/// assert!(serde_json::from_str::<PortalBlock>(r#"{"days": ["mon"], "start": "09:00", "end": "12:00", "schedule_type": "physio"}"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalBlock {
    /// The weekdays it opens to the portal, each at most once.
    pub days: Vec<Weekday>,
    /// Where it starts, on the `r` grid and before `end`; never `24:00`.
    pub start: WallTime,
    /// Where it ends, on the `r` grid; `24:00` is the end of the day.
    pub end: WallTime,
}

/// A stretch of time a practitioner is away: no portal slot may touch a cell it
/// touches, whatever the capacity (rule 10).
///
/// ```
/// use slot_engine::scenario::TimeOff;
/// let t: TimeOff = serde_json::from_str(r#"{"start": "2026-03-03T12:00:00-05:00", "end": "2026-03-03T17:00:00-05:00"}"#).unwrap();
/// assert_eq!(t.end.unix_seconds() - t.start.unix_seconds(), 5 * 3600);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeOff {
    /// When the practitioner leaves; need not be on the grid.
    pub start: Instant,
    /// When they are back, after `start`.
    pub end: Instant,
}

/// A product or service patients (or staff) book.
///
/// ```
/// use slot_engine::scenario::Service;
/// let s: Service = serde_json::from_str(r#"{"id": "initial", "duration_minutes": 45}"#).unwrap();
/// // Not online unless asked for; one booking per slot; any practitioner type.
/// assert_eq!((s.book_from_portal, s.portal_conflicts, s.practitioner_type), (false, 1, None));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The key a query names the service by.
    pub id: Text,
    /// A short code shown to staff only.
    #[serde(default)]
    pub code: Option<Text>,
    /// The name people read; `None` (or `null`) means the id.
    #[serde(default)]
    pub name: Option<Text>,
    /// What the portal shows under the name.
    #[serde(default)]
    pub description: Option<Text>,
    /// The length of every slot of the service, 1 ..= 1440 minutes; required.
    pub duration_minutes: u32,
    /// Whether patients may book it online (`false` by default); a query must name
    /// such a service.
    #[serde(default)]
    pub book_from_portal: bool,
    /// How many online bookings may share a cell under a schedule type that allows
    /// conflicts, 1 ..= 10000 (1 by default).
    #[serde(default = "default_portal_conflicts")]
    pub portal_conflicts: u32,
    /// Only practitioners of exactly this `type` are offered; `None` = any.
    #[serde(default)]
    pub practitioner_type: Option<Text>,
    /// The ids of the schedule types it may be booked under; repeats count once.
    #[serde(default)]
    pub schedule_types: Vec<Text>,
    /// v2: minutes kept free before every appointment of the service, 0 ..= 1440
    /// (0 by default): preparing the room, reading notes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub buffer_before_minutes: u32,
    /// v2: minutes kept free after every appointment of the service, 0 ..= 1440 (0 by
    /// default): cleaning the room, writing notes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub buffer_after_minutes: u32,
    /// v2: whether patients may book it online as a weekly series (`false` by
    /// default); staff may book any service as a series.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_series: bool,
    /// v3: the resources each appointment of the service needs: every requirement is
    /// a list of resource ids, of which the appointment takes one place in any one
    /// (`[["room-1", "room-2"], ["shockwave"]]`: a room, and the shockwave machine).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Vec<Text>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A patient, with the practitioners they may book online. The engine does not read a
/// patient by itself: the server copies `available_practitioners` into the query it
/// asks for that patient.
///
/// ```
/// use slot_engine::scenario::Patient;
/// let p: Patient = serde_json::from_str(r#"{"id": "pat-1", "first_name": "Ada", "last_name": "Lane",
///   "email": "ada@example.com", "available_practitioners": ["christine"]}"#).unwrap();
/// assert_eq!(p.available_practitioners.unwrap()[0].as_str(), "christine");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// The key appointments name the patient by.
    pub id: Text,
    /// The given name the clinic has on file; required.
    pub first_name: Text,
    /// The family name the clinic has on file; required.
    pub last_name: Text,
    /// The address the clinic writes to; required.
    pub email: Text,
    /// The practitioners this patient may book online; `None` = all bookable ones.
    #[serde(default)]
    pub available_practitioners: Option<Vec<Text>>,
}

/// An appointment that occupies (or, cancelled, no longer occupies) time.
///
/// ```
/// use slot_engine::scenario::{Appointment, Status};
/// let a: Appointment = serde_json::from_str(r#"{"practitioner": "christine",
///   "start": "2026-03-02T14:07:00Z", "end": "2026-03-02T14:09:00Z"}"#).unwrap();
/// assert_eq!(a.status, Status::Booked);
/// assert!(a.status.occupies_time());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appointment {
    /// An optional key, unique among appointments that have one; errors name an
    /// appointment without one by its position (`appointment #3`).
    #[serde(default)]
    pub id: Option<Text>,
    /// The id of the practitioner whose time it takes.
    pub practitioner: Text,
    /// The id of the patient it is for, if recorded.
    #[serde(default)]
    pub patient: Option<Text>,
    /// The id of the service booked, if recorded.
    #[serde(default)]
    pub service: Option<Text>,
    /// The id of the schedule type it was booked under, if recorded; it need not be
    /// assigned to the practitioner.
    #[serde(default)]
    pub schedule_type: Option<Text>,
    /// When it begins; need not be on the grid.
    pub start: Instant,
    /// When it ends, after `start`.
    pub end: Instant,
    /// Its status, `booked` by default; every status but `cancelled` takes time.
    #[serde(default)]
    pub status: Status,
    /// v2: the minutes kept free before it, as booked (0 by default); a later change
    /// to its service's buffers does not change them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub buffer_before_minutes: u32,
    /// v2: the minutes kept free after it, as booked (0 by default).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub buffer_after_minutes: u32,
    /// v2: the id of the series it is an occurrence of, if any; the engine does not
    /// read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Text>,
    /// v3: the ids of the resources it holds a place in, over its buffered interval;
    /// repeats count once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Text>,
}

/// A room or a piece of equipment (v3): at one clinic, holding up to `capacity`
/// appointments at once, available always or as its own dated records say.
///
/// ```
/// use slot_engine::scenario::{Resource, ResourceKind};
/// let r: Resource = serde_json::from_str(r#"{"id": "room-1", "clinic": "whitby"}"#).unwrap();
/// // A room holding one appointment at a time, always available.
/// assert_eq!((r.kind, r.capacity, r.availability), (ResourceKind::Room, 1, None));
/// let pool: Resource = serde_json::from_str(r#"{"id": "pool", "clinic": "whitby", "capacity": 6,
///   "availability": [{"start_date": "2026-01-01", "blocks": [{"days": ["mon"], "start": "08:00", "end": "12:00"}]}]}"#).unwrap();
/// assert_eq!(pool.availability.unwrap()[0].blocks.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// The key services and appointments name the resource by.
    pub id: Text,
    /// The name people read ("Treatment room 1"); `None` (or `null`) means the id.
    #[serde(default)]
    pub name: Option<Text>,
    /// A room or equipment (`room` by default); the engine reads it only for words.
    #[serde(default)]
    pub kind: ResourceKind,
    /// The id of the clinic it is at: only slots at that clinic may use it, and its
    /// availability is read in that clinic's zone.
    pub clinic: Text,
    /// How many appointments it holds at once, 1 ..= 10000 (1 by default).
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    /// Its own dated availability: `None` (or `null`) means always available; a list
    /// means available only where the record in force covers the time.
    #[serde(default)]
    pub availability: Option<Vec<ResourceRecord>>,
    /// Stretches it is out of service (a machine being repaired), which no appointment
    /// holding it may touch, buffers included.
    #[serde(default)]
    pub time_off: Vec<TimeOff>,
}

fn default_capacity() -> u32 {
    1
}

/// Whether a [`Resource`] is a room or a piece of equipment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// `room`, the default: a treatment room, a gym, a pool.
    #[default]
    Room,
    /// `equipment`: a machine or device that moves with the appointment.
    Equipment,
}

impl ResourceKind {
    /// The scenario spelling: `room` or `equipment`.
    ///
    /// ```
    /// assert_eq!(slot_engine::scenario::ResourceKind::Equipment.as_str(), "equipment");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Room => "room",
            ResourceKind::Equipment => "equipment",
        }
    }
}

/// A dated availability record of a resource: a weekly grid of blocks, without
/// schedule types, in force between two dates. Its blocks may overlap; their union
/// counts.
///
/// ```
/// use slot_engine::scenario::ResourceRecord;
/// let r: ResourceRecord = serde_json::from_str(r#"{"start_date": "2026-03-01", "end_date": "2026-03-31",
///   "blocks": [{"days": ["mon", "tue"], "start": "08:00", "end": "12:00"}]}"#).unwrap();
/// assert_eq!(r.blocks[0].days.len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceRecord {
    /// The first date the record is in force.
    pub start_date: Date,
    /// The last date, included; `None` = open-ended. Not before `start_date`.
    #[serde(default)]
    pub end_date: Option<Date>,
    /// When the resource is available each week; an empty list: not at all.
    pub blocks: Vec<PortalBlock>,
}

/// An appointment's status; every status but `Cancelled` occupies time.
///
/// ```
/// use slot_engine::scenario::Status;
/// assert!(Status::Pending.occupies_time());
/// assert!(!Status::Cancelled.occupies_time());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// `booked`, the default: made and confirmed.
    #[default]
    Booked,
    /// `pending`: requested online and awaiting the clinic's acceptance; it holds its
    /// time meanwhile.
    Pending,
    /// `arrived`: the patient is at the clinic (marked by the front desk); it holds its
    /// time like booked.
    Arrived,
    /// `cancelled`: kept for the record, but frees its time.
    Cancelled,
    /// `completed`: the visit took place.
    Completed,
    /// `no_show`: the patient did not come; the time was still taken.
    NoShow,
}

impl Status {
    /// Whether an appointment in this status takes up the practitioner's time: every
    /// status but `Cancelled`, so a cancelled appointment frees its cells for others.
    ///
    /// ```
    /// use slot_engine::scenario::Status;
    /// let all = [Status::Booked, Status::Pending, Status::Arrived, Status::Cancelled, Status::Completed, Status::NoShow];
    /// let free: Vec<&str> = all.into_iter().filter(|s| !s.occupies_time()).map(Status::as_str).collect();
    /// assert_eq!(free, ["cancelled"]);
    /// ```
    pub fn occupies_time(self) -> bool {
        self != Status::Cancelled
    }

    /// The scenario spelling, in snake case, which is also how it serializes.
    ///
    /// ```
    /// use slot_engine::scenario::Status;
    /// assert_eq!(Status::NoShow.as_str(), "no_show");
    /// assert_eq!(Status::default(), Status::Booked);
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Booked => "booked",
            Status::Pending => "pending",
            Status::Arrived => "arrived",
            Status::Cancelled => "cancelled",
            Status::Completed => "completed",
            Status::NoShow => "no_show",
        }
    }
}

/// The question a scenario asks: which slots of `service` are open between `from` and
/// `to`, as seen at `now`.
///
/// ```
/// use slot_engine::scenario::Query;
/// let q: Query = serde_json::from_str(r#"{"service": "initial", "from": "2026-03-02", "to": "2026-03-08",
///   "now": "2026-03-01T00:00:00Z", "practitioners": ["christine"]}"#).unwrap();
/// assert_eq!(q.to.days_since(q.from), 6);
/// assert!(!q.telehealth);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// The id of the service asked about, which must be bookable from the portal.
    pub service: Text,
    /// The first date searched, read as a date of each slot's clinic.
    pub from: Date,
    /// The last date searched, included: at most 366 dates from `from`.
    pub to: Date,
    /// `None` = every practitioner; a list limits the search to those ids (repeats
    /// count once, an empty list gives no slots).
    #[serde(default)]
    pub practitioners: Option<Vec<Text>>,
    /// The moment the question is asked, since the engine has no clock.
    pub now: Instant,
    /// `true` asks only for slots under telehealth schedule types.
    #[serde(default)]
    pub telehealth: bool,
}

/// A non-empty string: ids, names, codes, emails, descriptions, types.
///
/// ```
/// use slot_engine::Text;
/// assert_eq!(Text::new("physio").unwrap().as_str(), "physio");
/// assert!(Text::new("").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    /// The text, if it is not empty; nothing else is asked of it (spaces and any
    /// Unicode are kept as given).
    ///
    /// ```
    /// use slot_engine::Text;
    /// assert_eq!(Text::new(" Dr. Roy ")?.as_str(), " Dr. Roy ");
    /// assert_eq!(Text::new(String::new()).unwrap_err().to_string(), "expected a non-empty string");
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn new(text: impl Into<String>) -> Result<Self, ValueError> {
        let text = text.into();
        if text.is_empty() {
            Err(ValueError::new("expected a non-empty string".to_owned()))
        } else {
            Ok(Text(text))
        }
    }

    /// The text as a string slice, never empty.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Text::new(text).map_err(serde::de::Error::custom)
    }
}

/// A colour written `#rrggbb`.
///
/// ```
/// use slot_engine::Color;
/// let c: Color = "#CFE8FF".parse().unwrap();
/// assert_eq!(c.to_string(), "#cfe8ff");
/// assert!("#cfe8f".parse::<Color>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color(pub [u8; 3]);

impl Color {
    /// The WCAG 2 relative luminance, 0 (black) ..= 1 (white).
    ///
    /// ```
    /// use slot_engine::Color;
    /// let light: Color = "#cfe8ff".parse().unwrap();
    /// assert!(light.relative_luminance() > 0.7);
    /// assert_eq!("#000000".parse::<Color>().unwrap().relative_luminance(), 0.0);
    /// ```
    pub fn relative_luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    }

    /// The WCAG 2 contrast ratio of two colours, 1 ..= 21; text needs at least 4.5.
    ///
    /// ```
    /// use slot_engine::Color;
    /// let white: Color = "#ffffff".parse().unwrap();
    /// let black: Color = "#000000".parse().unwrap();
    /// assert!((white.contrast_ratio(black) - 21.0).abs() < 1e-9);
    /// ```
    pub fn contrast_ratio(self, other: Color) -> f64 {
        let (a, b) = (self.relative_luminance(), other.relative_luminance());
        let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }

    /// White, `#ffffff`.
    pub const WHITE: Color = Color([255, 255, 255]);

    /// Black, `#000000`.
    pub const BLACK: Color = Color([0, 0, 0]);

    /// The contrast ratio text needs against its background to be easy to read: 4.5:1,
    /// WCAG 2 level AA for normal text.
    pub const MIN_TEXT_CONTRAST: f64 = 4.5;

    /// This colour moved a fraction `t` of the way to `other`, channel by channel and
    /// rounded: a tint towards [`Color::WHITE`], a shade towards [`Color::BLACK`]. `t`
    /// is held to `0 ..= 1`, so the result always lies between the two colours.
    ///
    /// ```
    /// use slot_engine::Color;
    /// let pale_blue: Color = "#cfe8ff".parse()?;
    /// assert_eq!(pale_blue.mix(Color::WHITE, 0.5).to_string(), "#e7f4ff");
    /// assert_eq!(pale_blue.mix(Color::BLACK, 0.35).to_string(), "#8797a6");
    /// assert_eq!(pale_blue.mix(Color::BLACK, 0.0), pale_blue);
    /// assert_eq!(pale_blue.mix(Color::BLACK, 2.0), Color::BLACK);
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn mix(self, other: Color, t: f64) -> Color {
        let t = t.clamp(0.0, 1.0);
        let channel = |a: u8, b: u8| (f64::from(a) * (1.0 - t) + f64::from(b) * t).round() as u8;
        let ([r1, g1, b1], [r2, g2, b2]) = (self.0, other.0);
        Color([channel(r1, r2), channel(g1, g2), channel(b1, b2)])
    }

    /// This colour as text on `background`: itself when it reads well there (a contrast
    /// of at least [`Color::MIN_TEXT_CONTRAST`]), else black or white, whichever reads
    /// better.
    ///
    /// ```
    /// use slot_engine::Color;
    /// let navy: Color = "#0b2a4a".parse()?;
    /// assert_eq!(navy.readable_on("#cfe8ff".parse()?), navy);
    /// assert_eq!(navy.readable_on("#1b3a5a".parse()?), Color::WHITE);
    /// assert_eq!(navy.readable_on("#777777".parse()?), Color::BLACK);
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn readable_on(self, background: Color) -> Color {
        if self.contrast_ratio(background) >= Color::MIN_TEXT_CONTRAST {
            self
        } else if Color::BLACK.contrast_ratio(background) >= Color::WHITE.contrast_ratio(background)
        {
            Color::BLACK
        } else {
            Color::WHITE
        }
    }
}

impl std::str::FromStr for Color {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        let b = s.as_bytes();
        if b.len() != 7 || b[0] != b'#' || !b[1..].iter().all(u8::is_ascii_hexdigit) {
            return Err(ValueError::new(format!(
                "invalid colour {s:?}: expected #rrggbb"
            )));
        }
        let byte = |i: usize| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits");
        Ok(Color([byte(1), byte(3), byte(5)]))
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

impl fmt::Debug for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Color {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
