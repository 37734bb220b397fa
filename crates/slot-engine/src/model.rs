//! The validated model: a scenario that passed every rule of the format, indexed for
//! the search.
//!
//! [`Model::new`] is the one place a [`Scenario`] is checked. Entities are stored sorted
//! by id (bytewise), so an index order *is* the answer's tie-break order, and they are
//! referred to by small copyable indices ([`ClinicIx`], [`PractitionerIx`], …).
//!
//! This module holds the entities and their accessors. Validation, the rules that
//! relate several values, is in its `build` submodule; the query types, which like
//! the entities are checked against one model and name things by its indices, are in
//! its `query` submodule and shown at [`slot_engine::search`](crate::search).
//!
//! ```
//! use slot_engine::Model;
//! let model = Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
//! // Entities are sorted by id, and an index is a position in that order.
//! let ids: Vec<&str> = model.clinics().iter().map(|c| c.id.as_str()).collect();
//! let mut sorted = ids.clone();
//! sorted.sort();
//! assert_eq!(ids, sorted);
//! let ix = model.clinic_ix(ids[0]).unwrap();
//! assert_eq!(ix.index(), 0);
//! # Ok::<(), slot_engine::Error>(())
//! ```

use rustc_hash::FxHashMap as HashMap;

use crate::availability::AvailabilityRecord;
use crate::calendar::{Date, Instant};
use crate::error::Error;
use crate::grid::Resolution;
use crate::occupancy::Occupancy;
use crate::scenario::{Color, Scenario, Status, Text};
use crate::zone::Zone;

mod build;
pub(crate) mod query;
pub(crate) mod resources;

pub use crate::index::{
    ClinicIx, PatientIx, PractitionerIx, ResourceIx, ScheduleTypeIx, ServiceIx,
};
use query::SlotQuery;
pub use resources::{Resource, ResourceRecord};

/// The organisation's scheduling settings, with the format's defaults filled in and
/// each value checked against its range: the grid the whole model is cut into, the
/// default slot step, and the portal's booking window (rule 12).
///
/// ```
/// let model = slot_engine::Model::from_json(br#"{"version": 1, "settings": {"resolution_minutes": 15}}"#)?;
/// let s = model.settings();
/// assert_eq!((s.resolution.minutes(), s.slot_step_minutes, s.max_days_ahead), (15, 15, 365));
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The cell size `r` (1, 5 or 15 minutes) of every grid and occupancy count in the
    /// model; block times and slot steps are multiples of it.
    pub resolution: Resolution,
    /// The slot step of records that set none, in minutes: candidates start at its
    /// multiples after local midnight (rule 2). A multiple of `resolution`, at most
    /// 1440.
    pub slot_step_minutes: u32,
    /// How long before its start a portal booking must be made, 0 ..= 525 600 minutes
    /// (a year).
    pub min_notice_minutes: u32,
    /// How many days after today (in the slot's clinic) a portal booking may be,
    /// 0 ..= 3660; 0 allows only today.
    pub max_days_ahead: u32,
}

/// A clinic (location), with its holidays sorted for lookup.
///
/// ```
/// let model = slot_engine::Model::from_json(br#"{"version": 1, "clinics": [{"id": "whitby",
///   "timezone": "America/Toronto", "holidays": ["2026-12-25", "2026-05-18", "2026-12-25"]}]}"#)?;
/// let whitby = &model.clinics()[0];
/// assert_eq!(whitby.name.as_str(), "whitby"); // the id when no name is given
/// assert_eq!(whitby.holidays.len(), 2);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clinic {
    /// The scenario key, unique among clinics; clinics are sorted by it, bytewise.
    pub id: Text,
    /// The name people read ("Whitby is closed on 2026-05-18"); the id when the
    /// scenario gives none.
    pub name: Text,
    /// The timezone every wall-clock time at this clinic is read in: its blocks, its
    /// holidays and the booking window's "today".
    pub zone: Zone,
    /// Dates on which the clinic takes no portal bookings (rule 6) and staff bookings
    /// need an override; sorted, without repeats, for [`Clinic::is_holiday`].
    pub holidays: Vec<Date>,
}

impl Clinic {
    /// Whether `date` is one of the clinic's holidays.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(br#"{"version": 1,
    ///   "clinics": [{"id": "whitby", "timezone": "America/Toronto", "holidays": ["2026-05-18"]}]}"#)?;
    /// let whitby = &model.clinics()[0];
    /// assert!(whitby.is_holiday("2026-05-18".parse().unwrap()));
    /// assert!(!whitby.is_holiday("2026-05-19".parse().unwrap()));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.binary_search(&date).is_ok()
    }
}

/// A schedule type: what a stretch of availability is for, and where.
///
/// Blocks of availability each carry one; a slot lies in blocks of a single schedule
/// type of its service (rule 5), which decides its clinic (rule 6), whether a
/// telehealth query may use it (rule 8) and how many bookings may share a cell
/// (rule 11).
///
/// ```
/// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
/// let massage = model.schedule_type(model.schedule_type_ix("massage").unwrap());
/// assert_eq!(massage.clinic, None); // usable at any clinic: the record's, or the home clinic
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleType {
    /// The scenario key, unique among schedule types; they are sorted by it.
    pub id: Text,
    /// A short code shown to staff; the engine does not read it.
    pub code: Option<Text>,
    /// The name reasons and pages show ("Physiotherapy"); the id when the scenario
    /// gives none.
    pub name: Text,
    /// The clinic its blocks are at; `None` when usable at any clinic, and then the
    /// record's clinic or the practitioner's home clinic decides
    /// ([`Model::slot_clinic`]).
    pub clinic: Option<ClinicIx>,
    /// The length of a staff booking made under it without a service, 1 ..= 1440
    /// minutes.
    pub default_duration_minutes: u32,
    /// Whether appointments may share its cells: up to the service's
    /// `portal_conflicts` per cell for portal bookings, any number for staff.
    pub allow_conflicts: bool,
    /// Whether it offers telehealth appointments, which a telehealth query requires.
    pub telehealth: bool,
    /// The colour staff pages paint its blocks and appointments in (white unless set).
    pub background_color: Color,
    /// The colour of text drawn on `background_color` (black unless set).
    pub font_color: Color,
}

/// A practitioner, with everything the search reads about them: the schedule types
/// assigned to them, their dated availability records, their time off and the
/// occupancy of their appointments.
///
/// ```
/// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
/// let omar = model.practitioner(model.practitioner_ix("omar").unwrap());
/// assert_eq!(omar.kind.as_str(), "massage-therapist");
/// assert_eq!(model.clinic(omar.home_clinic).id.as_str(), "whitby");
/// assert_eq!(omar.schedule_types, [model.schedule_type_ix("massage").unwrap()]);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Practitioner {
    /// The scenario key, unique among practitioners; they are sorted by it, so slots
    /// at one instant list practitioners in id order.
    pub id: Text,
    /// The name reasons show ("Christine Roy is not active"); the id when the scenario
    /// gives none.
    pub name: Text,
    /// The practitioner type (`type` in the scenario), e.g. `physiotherapist`: a free
    /// label that a service's `practitioner_type` must equal exactly (rule 3).
    pub kind: Text,
    /// The clinic of last resort: blocks whose schedule type and record name no clinic
    /// are there (rule 6), and a staff booking that no record covers is read in its
    /// zone.
    pub home_clinic: ClinicIx,
    /// The practitioner's address, if the clinic keeps one; the engine does not read
    /// it.
    pub email: Option<Text>,
    /// An inactive practitioner is never offered in the portal (rule 3), and a staff
    /// booking with them needs an override.
    pub active: bool,
    /// `false` keeps the practitioner out of the portal (rule 3); staff may still book
    /// them.
    pub bookable_in_portal: bool,
    /// The schedule types assigned to the practitioner, sorted and without
    /// duplicates: their blocks may use only these, and they are offered for a service
    /// only when one of its schedule types is among them (rule 3).
    pub schedule_types: Vec<ScheduleTypeIx>,
    records: Vec<AvailabilityRecord>,
    /// The home clinic, then each other clinic the records place blocks at, in the
    /// order `check` reads a start in their zones.
    clinics: Vec<ClinicIx>,
    time_off: Vec<(Instant, Instant)>,
    occupancy: Occupancy,
}

impl Practitioner {
    /// The clinics the practitioner may have slots at: the home clinic first, then
    /// each clinic their records place blocks at, each once.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/zones.json"))?;
    /// let raj = model.practitioner(model.practitioner_ix("raj").unwrap());
    /// assert_eq!(raj.clinics().len(), 2);
    /// assert_eq!(raj.clinics()[0], raj.home_clinic);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn clinics(&self) -> &[ClinicIx] {
        &self.clinics
    }

    /// Availability records, earliest first (they never overlap).
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/records-and-steps.json"))?;
    /// for p in model.practitioners() {
    ///     // Earliest first, and never sharing a date.
    ///     for pair in p.records().windows(2) {
    ///         assert!(pair[0].dates().start() < pair[1].dates().start());
    ///         assert!(!pair[0].dates().overlaps(pair[1].dates()));
    ///     }
    /// }
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn records(&self) -> &[AvailabilityRecord] {
        &self.records
    }

    /// The record in force on `date`, if any (records never share a date).
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let christine = model.practitioner(model.practitioner_ix("christine").unwrap());
    /// assert!(christine.record_on("2026-02-28".parse().unwrap()).is_none());
    /// let record = christine.record_on("2026-03-02".parse().unwrap()).unwrap();
    /// assert_eq!(record.dates().to_string(), "2026-03-01..");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn record_on(&self, date: Date) -> Option<&AvailabilityRecord> {
        let i = self.records.partition_point(|r| r.dates().start() <= date);
        i.checked_sub(1)
            .map(|i| &self.records[i])
            .filter(|r| r.dates().contains(date))
    }

    /// Their time off as `[start, end)` instants, in document order and exactly as
    /// given. [`Practitioner::occupancy`] holds the same stretches rounded out to whole
    /// UTC cells, which is what rule 10 and the staff checks consult.
    ///
    /// ```
    /// use slot_engine::{CellSpan, Model};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/portal-overlay.json"))?;
    /// let ana = &model.practitioners()[0];
    /// let (start, end) = ana.time_off()[0];
    /// assert_eq!((start.to_string().as_str(), end.to_string().as_str()),
    ///            ("2026-06-09T08:30:00Z", "2026-06-09T09:00:00Z"));
    /// let cells = CellSpan::touched_by(model.settings().resolution, start, end);
    /// assert!(ana.occupancy().time_off_touches(cells));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn time_off(&self) -> &[(Instant, Instant)] {
        &self.time_off
    }

    /// How many of their appointments (all but cancelled ones) occupy each UTC cell,
    /// and which cells their time off touches: what rules 10 and 11 and the staff
    /// checks ask. Appointments count here whatever their schedule type or clinic: a
    /// practitioner is in one place at a time.
    ///
    /// ```
    /// use slot_engine::{CellSpan, Instant, Model};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/conflicts.json"))?;
    /// let lee = &model.practitioners()[0];
    /// let at = |s: &str| s.parse::<Instant>().unwrap();
    /// let hour = |from, to| CellSpan::touched_by(model.settings().resolution, at(from), at(to));
    /// // Three booked appointments from 09:00; at 10:00 one booked and one cancelled.
    /// assert_eq!(lee.occupancy().max_count(hour("2026-09-03T09:00:00-07:00", "2026-09-03T10:00:00-07:00")), 3);
    /// assert_eq!(lee.occupancy().max_count(hour("2026-09-03T10:00:00-07:00", "2026-09-03T11:00:00-07:00")), 1);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn occupancy(&self) -> &Occupancy {
        &self.occupancy
    }

    /// Whether the schedule type is assigned to this practitioner.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let omar = model.practitioner(model.practitioner_ix("omar").unwrap());
    /// assert!(omar.has_schedule_type(model.schedule_type_ix("massage").unwrap()));
    /// assert!(!omar.has_schedule_type(model.schedule_type_ix("christine-toronto").unwrap()));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn has_schedule_type(&self, schedule_type: ScheduleTypeIx) -> bool {
        self.schedule_types.binary_search(&schedule_type).is_ok()
    }
}

/// A product or service, as the search reads it: how long its slots are, whether and
/// how it is booked online, by whom, and under which schedule types.
///
/// ```
/// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
/// let initial = &model.services()[0];
/// assert_eq!(initial.practitioner_type.as_ref().map(|t| t.as_str()), Some("physiotherapist"));
/// assert_eq!(initial.schedule_types, [model.schedule_type_ix("physio").unwrap()]);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// The scenario key, unique among services, that a query names.
    pub id: Text,
    /// A short code shown to staff; the engine does not read it.
    pub code: Option<Text>,
    /// The name reasons show ("Initial assessment"); the id when the scenario gives
    /// none.
    pub name: Text,
    /// What the portal shows under the name; the engine does not read it.
    pub description: Option<Text>,
    /// The length `d` of every slot of the service, 1 ..= 1440 minutes; rule 9 holds a
    /// slot to exactly this much real time.
    pub duration_minutes: u32,
    /// Whether patients may book it online; [`PortalQuery::new`](crate::PortalQuery::new)
    /// refuses a service without it.
    pub book_from_portal: bool,
    /// Places per cell for portal bookings under a schedule type that allows conflicts,
    /// 1 ..= 10 000 (rule 11); under any other schedule type a cell has one place.
    pub portal_conflicts: u32,
    /// Only practitioners whose `kind` is exactly this are offered (rule 3); `None`
    /// for any. A type nobody has gives no slots.
    pub practitioner_type: Option<Text>,
    /// The schedule types the service may be booked under, sorted and without
    /// duplicates: a slot lies in blocks of one of them (rule 5).
    pub schedule_types: Vec<ScheduleTypeIx>,
    /// The time kept free around each of its appointments (v2; none by default).
    pub buffers: Buffers,
    /// Whether patients may book it online as a weekly series (v2).
    pub allow_series: bool,
    /// What each appointment needs (v3): per requirement, one place in any one of its
    /// resources, which are sorted by id and distinct across requirements; the
    /// requirements keep the document's order.
    pub requires: Vec<Vec<ResourceIx>>,
}

/// The largest buffer, before or after, in minutes: a day.
pub const MAX_BUFFER_MINUTES: u32 = 1440;

/// Minutes kept free around an appointment (format v2): before its start and after
/// its end. An appointment occupies its *buffered interval*, `[start − before, end +
/// after)`, and a candidate needs its own buffered interval free (rules 10 and 11);
/// availability, the portal overlay and the booking window look at the appointment
/// alone.
///
/// ```
/// use slot_engine::{Buffers, Instant};
/// let at = |s: &str| s.parse::<Instant>().unwrap();
/// let cleaning = Buffers { before_minutes: 5, after_minutes: 10 };
/// let (a, b) = cleaning.around(at("2026-03-02T09:00:00Z"), at("2026-03-02T09:30:00Z"));
/// assert_eq!((a.to_string(), b.to_string()), ("2026-03-02T08:55:00Z".to_owned(), "2026-03-02T09:40:00Z".to_owned()));
/// assert!(Buffers::NONE.is_none() && !cleaning.is_none());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Buffers {
    /// Minutes before the start, 0 ..= 1440.
    pub before_minutes: u32,
    /// Minutes after the end, 0 ..= 1440.
    pub after_minutes: u32,
}

impl Buffers {
    /// No buffer on either side: every v1 appointment and service.
    pub const NONE: Buffers = Buffers {
        before_minutes: 0,
        after_minutes: 0,
    };

    /// Whether both sides are zero.
    pub fn is_none(self) -> bool {
        self == Buffers::NONE
    }

    /// The buffered interval of `[start, end)`: `start` moved back by `before` minutes
    /// and `end` on by `after`, in real (UTC) time.
    pub fn around(self, start: Instant, end: Instant) -> (Instant, Instant) {
        const MINUTE: i64 = 60_000_000_000;
        (
            Instant::computed(start.unix_nanos() - i64::from(self.before_minutes) * MINUTE),
            Instant::computed(end.unix_nanos() + i64::from(self.after_minutes) * MINUTE),
        )
    }
}

impl Service {
    /// Whether the service applies to `schedule_type`: may be booked in its blocks.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let initial = model.service(model.service_ix("initial").unwrap());
    /// assert!(initial.applies_to(model.schedule_type_ix("physio").unwrap()));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn applies_to(&self, schedule_type: ScheduleTypeIx) -> bool {
        self.schedule_types.binary_search(&schedule_type).is_ok()
    }
}

/// A patient, as the import/export format carries them. The engine never reads a
/// patient by itself: the server copies their practitioner list into the
/// [`PortalQuery`](crate::PortalQuery) it asks for them.
///
/// ```
/// let model = slot_engine::Model::from_json(br#"{"version": 1,
///   "patients": [{"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"}]}"#)?;
/// // No list: every practitioner bookable in the portal.
/// assert_eq!(model.patients()[0].available_practitioners, None);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patient {
    /// The scenario key, unique among patients, that appointments name.
    pub id: Text,
    /// The given name the clinic has on file; carried for import and export only.
    pub first_name: Text,
    /// The family name the clinic has on file; carried for import and export only.
    pub last_name: Text,
    /// The address the clinic writes to; carried for import and export only.
    pub email: Text,
    /// The practitioners this patient may see and book online, sorted and without
    /// duplicates; `None` for every practitioner bookable in the portal.
    pub available_practitioners: Option<Vec<PractitionerIx>>,
}

/// An appointment. [`Model::appointments`] keeps the document's order, so the `i`-th
/// is the scenario's `appointments[i]` (whose id, if any, is there).
///
/// ```
/// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/conflicts.json"))?;
/// // Cancelled appointments are kept, in document order, but take up no time.
/// assert_eq!(model.appointments().len(), model.appointments().filter(|a| a.end > a.start).count());
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appointment {
    /// Whose time it takes: at every clinic of theirs, whatever the schedule type.
    pub practitioner: PractitionerIx,
    /// Whom it is for, when the scenario says; the engine does not read it.
    pub patient: Option<PatientIx>,
    /// What was booked, when the scenario says; the engine does not read it.
    pub service: Option<ServiceIx>,
    /// The schedule type it was booked under, when the scenario says (it need not be
    /// assigned to the practitioner); the engine does not read it.
    pub schedule_type: Option<ScheduleTypeIx>,
    /// When it begins. Neither end need be on the grid: an appointment occupies every
    /// UTC cell that `[start, end)` touches.
    pub start: Instant,
    /// When it ends, always after `start`.
    pub end: Instant,
    /// Every status but [`Status::Cancelled`]
    /// takes up the practitioner's time.
    pub status: Status,
    /// The time kept free around it, as it was booked (v2): it occupies its buffered
    /// interval.
    pub buffers: Buffers,
    /// The series it is an occurrence of (v2), if any; the engine does not read it.
    pub series: Option<Text>,
    /// The resources it holds a place in over its buffered interval (v3), sorted,
    /// without repeats.
    pub resources: Vec<ResourceIx>,
}

/// Appointments as the model keeps them: 48 bytes each, the rare series and resources
/// aside.
#[derive(Clone, Debug, Default)]
pub(crate) struct StoredAppointments {
    pub(crate) list: Vec<StoredAppointment>,
    /// The series and resources of the appointments that have either.
    pub(crate) extras: Vec<(Option<Text>, Vec<ResourceIx>)>,
}

/// No index: the field is absent.
const NONE: u32 = u32::MAX;

/// One appointment, its optional indices as `NONE` when absent.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StoredAppointment {
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    pub(crate) practitioner: PractitionerIx,
    pub(crate) patient: u32,
    pub(crate) service: u32,
    pub(crate) schedule_type: u32,
    /// Buffers are at most 1440 minutes.
    pub(crate) buffers: [u16; 2],
    pub(crate) status: Status,
    /// Its position in `extras`, or `NONE`.
    pub(crate) extra: u32,
}

impl StoredAppointment {
    pub(crate) fn optional(ix: Option<u32>) -> u32 {
        ix.unwrap_or(NONE)
    }

    fn expand(&self, extras: &[(Option<Text>, Vec<ResourceIx>)]) -> Appointment {
        let some = |ix: u32| (ix != NONE).then_some(ix);
        let (series, resources) = match extras.get(self.extra as usize) {
            Some((series, resources)) => (series.clone(), resources.clone()),
            None => (None, Vec::new()),
        };
        Appointment {
            practitioner: self.practitioner,
            patient: some(self.patient).map(PatientIx),
            service: some(self.service).map(ServiceIx),
            schedule_type: some(self.schedule_type).map(ScheduleTypeIx),
            start: self.start,
            end: self.end,
            status: self.status,
            buffers: Buffers {
                before_minutes: u32::from(self.buffers[0]),
                after_minutes: u32::from(self.buffers[1]),
            },
            series,
            resources,
        }
    }
}

/// A stage of building a [`Model`], as [`Model::new_observed`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuildStage {
    /// Checking the rules that relate values (ids, references, ranges) and reading
    /// each appointment: its practitioner, its times, the cells it takes.
    Validation,
    /// Building each availability record's weekly grids and runs, checking its blocks
    /// as it goes, and each practitioner's and resource's time off.
    Grids,
    /// Counting appointments per cell: each practitioner's and resource's occupancy.
    Occupancy,
}

/// A validated scenario, ready to answer slot searches and booking checks.
///
/// ```
/// use slot_engine::{Model, Scenario};
/// let scenario = Scenario::from_json(br#"{
///   "version": 1,
///   "clinics": [{"id": "toronto", "timezone": "America/Toronto"}],
///   "schedule_types": [{"id": "physio", "clinic": "toronto"}],
///   "practitioners": [{"id": "christine", "type": "physiotherapist", "home_clinic": "toronto",
///     "schedule_types": ["physio"],
///     "availability": [{"start_date": "2026-03-01",
///       "blocks": [{"days": ["mon"], "start": "09:00", "end": "10:00", "schedule_type": "physio"}]}]}],
///   "services": [{"id": "initial", "duration_minutes": 45, "book_from_portal": true,
///                 "schedule_types": ["physio"]}],
///   "query": {"service": "initial", "from": "2026-03-02", "to": "2026-03-02", "now": "2026-03-01T00:00:00Z"}
/// }"#)?;
/// let model = Model::new(&scenario)?;
/// let slots = model.open_slots(model.query().unwrap());
/// let starts: Vec<String> = slots.iter().map(|s| s.start().to_rfc3339()).collect();
/// assert_eq!(starts, ["2026-03-02T09:00:00-05:00", "2026-03-02T09:15:00-05:00"]);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Model {
    settings: Settings,
    clinics: Vec<Clinic>,
    schedule_types: Vec<ScheduleType>,
    practitioners: Vec<Practitioner>,
    services: Vec<Service>,
    patients: Vec<Patient>,
    resources: Vec<Resource>,
    appointments: StoredAppointments,
    query: Option<SlotQuery>,
    clinic_ids: HashMap<String, ClinicIx>,
    schedule_type_ids: HashMap<String, ScheduleTypeIx>,
    practitioner_ids: HashMap<String, PractitionerIx>,
    service_ids: HashMap<String, ServiceIx>,
    patient_ids: HashMap<String, PatientIx>,
    resource_ids: HashMap<String, ResourceIx>,
}

impl Model {
    /// Checks every rule of the format and builds the model, or names the first
    /// offending item.
    ///
    /// This is the one place a scenario is validated: what relates several values
    /// (references, ranges, overlapping records or blocks) is refused here, after
    /// [`Scenario::from_json`] has refused what is not of the format's shape.
    ///
    /// ```
    /// use slot_engine::{Model, Scenario};
    /// let mut scenario = Scenario::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let model = Model::new(&scenario)?;
    /// assert_eq!(model.practitioners()[0].records().len(), 1);
    ///
    /// // A second record from 2026-06-01 overlaps the open-ended one.
    /// let mut second = scenario.practitioners[0].availability[0].clone();
    /// second.start_date = "2026-06-01".parse().unwrap();
    /// scenario.practitioners[0].availability.push(second);
    /// let err = Model::new(&scenario).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     r#"practitioner "christine": availability records 2026-03-01.. and 2026-06-01.. overlap"#
    /// );
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn new(scenario: &Scenario) -> Result<Model, Error> {
        Model::new_observed(scenario, |_| {})
    }

    /// [`Model::new`], telling `observe` as each [`BuildStage`] begins, so a caller
    /// holding a clock can say where the time goes (`openslot slots --stats` does).
    /// The engine reads no clock itself. Stages come in the order validation, grids,
    /// occupancy, validation again (services, patients and the query); on an error the
    /// stages after it are not reported.
    ///
    /// ```
    /// use slot_engine::{BuildStage, Model, Scenario};
    /// let scenario = Scenario::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let mut stages = Vec::new();
    /// let model = Model::new_observed(&scenario, |stage| stages.push(stage))?;
    /// use BuildStage::*;
    /// assert_eq!(stages, [Validation, Grids, Occupancy, Validation]);
    /// assert_eq!(model.practitioners().len(), Model::new(&scenario)?.practitioners().len());
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn new_observed(
        scenario: &Scenario,
        mut observe: impl FnMut(BuildStage),
    ) -> Result<Model, Error> {
        observe(BuildStage::Validation);
        build::Builder::new(scenario)?.build(&mut observe)
    }

    /// Parses and validates a scenario document in one step.
    ///
    /// ```
    /// let err = slot_engine::Model::from_json(br#"{"version": 1, "clinics": [
    ///     {"id": "a", "timezone": "Europe/London"}, {"id": "a", "timezone": "Europe/Paris"}]}"#)
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), r#"clinic "a": duplicate id"#);
    /// ```
    pub fn from_json(bytes: &[u8]) -> Result<Model, Error> {
        Model::new(&Scenario::from_json(bytes)?)
    }

    /// The organisation's settings, with the format's defaults where the scenario
    /// gives none.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(br#"{"version": 1}"#)?;
    /// let s = model.settings();
    /// assert_eq!(s.resolution.minutes(), 5);
    /// assert_eq!((s.slot_step_minutes, s.min_notice_minutes, s.max_days_ahead), (15, 0, 365));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The scenario's own query, if it had one.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let query = model.query().unwrap();
    /// assert_eq!(model.service(query.portal.service()).id.as_str(), "initial");
    /// assert_eq!(query.dates.len(), 3);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn query(&self) -> Option<&SlotQuery> {
        self.query.as_ref()
    }

    /// Clinics, sorted by id.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let ids: Vec<&str> = model.clinics().iter().map(|c| c.id.as_str()).collect();
    /// assert_eq!(ids, ["toronto", "whitby"]);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn clinics(&self) -> &[Clinic] {
        &self.clinics
    }

    /// Every schedule type, sorted by id: `schedule_types()[ix.index()]` is
    /// `schedule_type(ix)`.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let names: Vec<&str> = model.schedule_types().iter().map(|t| t.name.as_str()).collect();
    /// assert_eq!(names, ["Christine Toronto", "Christine Whitby", "Massage"]);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn schedule_types(&self) -> &[ScheduleType] {
        &self.schedule_types
    }

    /// Every practitioner, sorted by id, including those the portal never offers
    /// (inactive, or not bookable in the portal): staff still book them.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/window-and-filters.json"))?;
    /// let online: Vec<(&str, bool)> =
    ///     model.practitioners().iter().map(|p| (p.name.as_str(), p.active && p.bookable_in_portal)).collect();
    /// assert_eq!(online, [("Ann", true), ("Bo", true), ("Cy", false), ("Di", false), ("Ed", true)]);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn practitioners(&self) -> &[Practitioner] {
        &self.practitioners
    }

    /// Every service, sorted by id, whether or not patients may book it online.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(br#"{"version": 1, "services": [
    ///   {"id": "initial", "duration_minutes": 45, "book_from_portal": true},
    ///   {"id": "follow-up", "duration_minutes": 30}]}"#)?;
    /// let online: Vec<(&str, bool)> = model.services().iter().map(|s| (s.id.as_str(), s.book_from_portal)).collect();
    /// assert_eq!(online, [("follow-up", false), ("initial", true)]);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// Every patient, sorted by id; see [`Model::patient_ix`] for how the server uses
    /// one.
    pub fn patients(&self) -> &[Patient] {
        &self.patients
    }

    /// Appointments, in document order.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let a = model.appointments().next().unwrap();
    /// assert_eq!(model.practitioner(a.practitioner).id.as_str(), "christine");
    /// assert_eq!(a.start.to_string(), "2026-03-02T14:30:00Z");
    /// assert_eq!(model.appointments().len(), 1);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    ///
    /// The model keeps them compactly (a document may hold millions, and building the
    /// model is part of every request): each [`Appointment`] is made as it is read.
    pub fn appointments(&self) -> impl ExactSizeIterator<Item = Appointment> + '_ {
        self.appointments
            .list
            .iter()
            .map(|a| a.expand(&self.appointments.extras))
    }

    /// The clinic `ix` names, for instance the one a slot is at. Indices come from
    /// this model (its lookups, records, slots): one from another model may name
    /// another clinic, or panic when out of range; the same holds for the other
    /// lookups by index.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/zones.json"))?;
    /// // The zone of each slot's clinic, read from the offsets the answer writes.
    /// for slot in model.open_slots(model.query().unwrap()) {
    ///     let zone = model.clinic(slot.clinic).zone;
    ///     assert_eq!(slot.start().offset().local_minus_utc(), zone.offset_at(slot.start_seconds()));
    /// }
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn clinic(&self, ix: ClinicIx) -> &Clinic {
        &self.clinics[ix.index()]
    }

    /// The schedule type `ix` names, for instance the one a slot lies in.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/window-and-filters.json"))?;
    /// // The scenario's query asks for telehealth: every slot is a video visit.
    /// let slot = model.open_slots(model.query().unwrap())[0];
    /// let video = model.schedule_type(slot.schedule_type);
    /// assert_eq!((video.name.as_str(), video.telehealth), ("Video visit", true));
    /// assert_eq!(video.background_color.to_string(), "#e0f7e9");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn schedule_type(&self, ix: ScheduleTypeIx) -> &ScheduleType {
        &self.schedule_types[ix.index()]
    }

    /// The practitioner `ix` names, for instance the one a slot is with.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/window-and-filters.json"))?;
    /// let slots = model.open_slots(model.query().unwrap());
    /// let names: std::collections::BTreeSet<&str> =
    ///     slots.iter().map(|s| model.practitioner(s.practitioner).name.as_str()).collect();
    /// // Cy is inactive, Di not bookable online, Ed not on the query's list.
    /// assert_eq!(names.into_iter().collect::<Vec<_>>(), ["Ann", "Bo"]);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn practitioner(&self, ix: PractitionerIx) -> &Practitioner {
        &self.practitioners[ix.index()]
    }

    /// The service `ix` names, for instance the one a query asks about.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let initial = model.service(model.query().unwrap().portal.service());
    /// assert_eq!((initial.name.as_str(), initial.duration_minutes), ("Initial assessment", 45));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn service(&self, ix: ServiceIx) -> &Service {
        &self.services[ix.index()]
    }

    /// The patient `ix` names; see [`Model::patient_ix`].
    pub fn patient(&self, ix: PatientIx) -> &Patient {
        &self.patients[ix.index()]
    }

    /// The index of the clinic whose id is `id`, if any. Ids are compared byte by
    /// byte, so case matters; the same holds for the other lookups by id.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let whitby = model.clinic_ix("whitby").unwrap();
    /// assert!(model.clinic(whitby).is_holiday("2026-05-18".parse().unwrap()));
    /// assert_eq!(model.clinic_ix("Whitby"), None);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn clinic_ix(&self, id: &str) -> Option<ClinicIx> {
        self.clinic_ids.get(id).copied()
    }

    /// The index of the schedule type whose id is `id`, if any: what a staff booking's
    /// [`Purpose::ScheduleType`](crate::Purpose::ScheduleType) takes.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/window-and-filters.json"))?;
    /// let video = model.schedule_type_ix("video").unwrap();
    /// assert!(model.schedule_type(video).telehealth);
    /// assert_eq!(model.schedule_type_ix("phone"), None);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn schedule_type_ix(&self, id: &str) -> Option<ScheduleTypeIx> {
        self.schedule_type_ids.get(id).copied()
    }

    /// The practitioner with this id: how a caller holding scenario ids (a command
    /// line, the store's rows) gets to the model's indices.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let ix = model.practitioner_ix("christine").unwrap();
    /// assert_eq!(model.practitioner(ix).id.as_str(), "christine");
    /// assert_eq!(model.practitioner_ix("nobody"), None);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn practitioner_ix(&self, id: &str) -> Option<PractitionerIx> {
        self.practitioner_ids.get(id).copied()
    }

    /// The index of the service whose id is `id`, if any, as
    /// [`PortalQuery::new`](crate::PortalQuery::new) looks it up.
    ///
    /// ```
    /// use slot_engine::{Model, PortalQuery};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let initial = model.service_ix("initial").unwrap();
    /// let query = PortalQuery::for_service(&model, initial, "2026-03-01T12:00:00Z".parse().unwrap())?;
    /// assert_eq!(query, PortalQuery::new(&model, "initial", query.now())?);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn service_ix(&self, id: &str) -> Option<ServiceIx> {
        self.service_ids.get(id).copied()
    }

    /// The index of the patient whose id is `id`, if any.
    ///
    /// The engine never reads a patient's practitioner list by itself; the server asks
    /// for a signed-in patient's slots with a query limited to it:
    ///
    /// ```
    /// use slot_engine::{Model, PortalQuery};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/window-and-filters.json"))?;
    /// let pat = model.patient(model.patient_ix("pat").unwrap());
    /// let query = PortalQuery::new(&model, "session", "2026-02-02T19:30:00Z".parse().unwrap())?
    ///     .with_practitioner_indices(pat.available_practitioners.clone());
    /// let ids: Vec<&str> = query.practitioners().unwrap().iter().map(|&p| model.practitioner(p).id.as_str()).collect();
    /// assert_eq!(ids, ["ann", "bo", "cy", "di"]);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn patient_ix(&self, id: &str) -> Option<PatientIx> {
        self.patient_ids.get(id).copied()
    }

    /// Rooms and equipment (v3), sorted by id.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/rooms.json"))?;
    /// let ids: Vec<&str> = model.resources().iter().map(|r| r.id.as_str()).collect();
    /// assert!(ids.windows(2).all(|w| w[0] < w[1]));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The resource at `ix`.
    pub fn resource(&self, ix: ResourceIx) -> &Resource {
        &self.resources[ix.index()]
    }

    /// The index of the resource whose id is `id`, if any.
    pub fn resource_ix(&self, id: &str) -> Option<ResourceIx> {
        self.resource_ids.get(id).copied()
    }

    /// Every resource index, in id order.
    pub fn resource_indices(&self) -> impl Iterator<Item = ResourceIx> + '_ {
        (0..self.resources.len() as u32).map(ResourceIx)
    }

    /// The clinic whose timezone and holidays apply to blocks of `schedule_type` in a
    /// record of a practitioner (rule 6): the schedule type's clinic, else the
    /// record's, else the practitioner's home clinic.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let christine = model.practitioner_ix("christine").unwrap();
    /// let record = &model.practitioner(christine).records()[0];
    /// let clinic = model.slot_clinic(model.schedule_type_ix("physio").unwrap(), record, christine);
    /// assert_eq!(model.clinic(clinic).zone.name(), "America/Toronto");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn slot_clinic(
        &self,
        schedule_type: ScheduleTypeIx,
        record: &AvailabilityRecord,
        practitioner: PractitionerIx,
    ) -> ClinicIx {
        self.schedule_type(schedule_type)
            .clinic
            .or(record.clinic())
            .unwrap_or(self.practitioner(practitioner).home_clinic)
    }

    /// Where an appointment that starts at `start` takes place, by rule 6 whether or not
    /// it fits a block: the schedule type's clinic; else the clinic of the practitioner's
    /// availability record whose dates hold `start` (read in that record's clinic, or
    /// the home clinic when it names none); else the practitioner's home clinic. For a
    /// slot the search found this is [`Model::slot_clinic`]; an overridden staff booking
    /// outside every block gets its clinic by the same rule, so every appointment names one.
    ///
    /// ```
    /// use slot_engine::{Instant, Model};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/records-and-steps.json"))?;
    /// let jo = model.practitioner_ix("jo").unwrap();
    /// let clinic_at = |seconds| -> Result<&str, Box<dyn std::error::Error>> {
    ///     let clinic = model.appointment_clinic(jo, None, Instant::from_unix_seconds(seconds)?);
    ///     Ok(model.clinic(clinic).id.as_str())
    /// };
    /// // 2026-07-02 10:00 in Halifax: the record of 1–3 July names the harbour clinic.
    /// assert_eq!(clinic_at(1_782_997_200)?, "harbour");
    /// // 2026-08-03 10:00: no record covers it, so Jo's home clinic.
    /// assert_eq!(clinic_at(1_785_762_000)?, "downtown");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn appointment_clinic(
        &self,
        practitioner: PractitionerIx,
        schedule_type: Option<ScheduleTypeIx>,
        start: Instant,
    ) -> ClinicIx {
        if let Some(clinic) = schedule_type.and_then(|t| self.schedule_type(t).clinic) {
            return clinic;
        }
        let p = self.practitioner(practitioner);
        let utc = start.to_utc();
        p.records()
            .iter()
            .find_map(|r| {
                let clinic = r.clinic().unwrap_or(p.home_clinic);
                let local = utc
                    .with_timezone(&self.clinic(clinic).zone.tz())
                    .date_naive();
                let date = Date::try_from(local).ok()?;
                r.dates().contains(date).then_some(clinic)
            })
            .unwrap_or(p.home_clinic)
    }

    /// Every practitioner's index, in id order.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let ids: Vec<&str> = model.practitioner_indices().map(|p| model.practitioner(p).id.as_str()).collect();
    /// assert_eq!(ids, ["christine", "omar"]);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn practitioner_indices(&self) -> impl Iterator<Item = PractitionerIx> + '_ {
        (0..self.practitioners.len() as u32).map(PractitionerIx)
    }

    /// Every schedule type's index, in id order.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/window-and-filters.json"))?;
    /// let telehealth: Vec<&str> = model
    ///     .schedule_type_indices()
    ///     .filter(|&t| model.schedule_type(t).telehealth)
    ///     .map(|t| model.schedule_type(t).id.as_str())
    ///     .collect();
    /// assert_eq!(telehealth, ["video"]);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn schedule_type_indices(&self) -> impl Iterator<Item = ScheduleTypeIx> + '_ {
        (0..self.schedule_types.len() as u32).map(ScheduleTypeIx)
    }
}

#[cfg(test)]
mod tests;
