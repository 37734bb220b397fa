//! The validated model: a scenario that passed every rule of the format, indexed for
//! the search.
//!
//! [`Model::new`] is the one place a [`Scenario`] is checked. Entities are stored sorted
//! by id (bytewise), so an index order *is* the answer's tie-break order, and they are
//! referred to by small copyable indices ([`ClinicIx`], [`PractitionerIx`], …).
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

use std::fmt;

use rustc_hash::{FxHashMap as HashMap, FxHashSet};

use crate::availability::{AvailabilityRecord, RecordDates, TypeGrid};
use crate::calendar::{Date, Instant, MINUTES_PER_DAY, Weekday};
use crate::error::Error;
use crate::grid::{Resolution, WeekGrid};
use crate::occupancy::Occupancy;
use crate::scenario::{self, Color, Scenario, Status, Text};
use crate::search::{DateRange, PortalQuery, SlotQuery};
use crate::zone::Zone;

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub(crate) u32);

        impl $name {
            /// The position in the model's id-sorted list.
            ///
            /// ```
            /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
            /// let omar = model.practitioner_ix("omar").unwrap();
            /// assert_eq!(model.practitioners()[omar.index()].id.as_str(), "omar");
            /// # Ok::<(), slot_engine::Error>(())
            /// ```
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

index_type!(
    /// A clinic of a [`Model`]: a small copyable handle, valid only for that model.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let whitby = model.clinic_ix("whitby").unwrap();
    /// assert!(model.clinic(whitby).is_holiday("2026-05-18".parse().unwrap()));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    ClinicIx
);
index_type!(
    /// A schedule type of a [`Model`]: a small copyable handle, valid only for that
    /// model.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let whitby = model.schedule_type(model.schedule_type_ix("christine-whitby").unwrap());
    /// assert_eq!(whitby.name.as_str(), "Christine Whitby");
    /// assert!(whitby.telehealth);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    ScheduleTypeIx
);
index_type!(
    /// A practitioner of a [`Model`]: a small copyable handle, valid only for that
    /// model. Indices compare like ids, which is how slots are ordered.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let (christine, omar) = (model.practitioner_ix("christine").unwrap(), model.practitioner_ix("omar").unwrap());
    /// assert!(christine < omar);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    PractitionerIx
);
index_type!(
    /// A service of a [`Model`]: a small copyable handle, valid only for that model.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let initial = model.service(model.service_ix("initial").unwrap());
    /// assert_eq!((initial.duration_minutes, initial.portal_conflicts), (45, 1));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    ServiceIx
);
index_type!(
    /// A patient of a [`Model`]: a small copyable handle, valid only for that model.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(br#"{"version": 1,
    ///   "clinics": [{"id": "c", "timezone": "Europe/London"}],
    ///   "practitioners": [{"id": "p", "type": "physio", "home_clinic": "c"}],
    ///   "patients": [{"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com",
    ///                 "available_practitioners": ["p", "p"]}]}"#)?;
    /// let ada = model.patient(model.patient_ix("ada").unwrap());
    /// assert_eq!(ada.available_practitioners.as_deref().map(<[_]>::len), Some(1)); // duplicates count once
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    PatientIx
);

/// Validated organisation settings.
///
/// ```
/// let model = slot_engine::Model::from_json(br#"{"version": 1, "settings": {"resolution_minutes": 15}}"#)?;
/// let s = model.settings();
/// assert_eq!((s.resolution.minutes(), s.slot_step_minutes, s.max_days_ahead), (15, 15, 365));
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Cell size.
    pub resolution: Resolution,
    /// Default slot step, minutes.
    pub slot_step_minutes: u32,
    /// Minimum notice for portal bookings, minutes.
    pub min_notice_minutes: u32,
    /// How many days ahead of today patients may book.
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
    /// Its id.
    pub id: Text,
    /// Its name (the id when not given).
    pub name: Text,
    /// Its timezone.
    pub zone: Zone,
    /// Dates it takes no bookings, sorted.
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

/// A schedule type.
///
/// ```
/// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
/// let massage = model.schedule_type(model.schedule_type_ix("massage").unwrap());
/// assert_eq!(massage.clinic, None); // usable at any clinic: the record's, or the home clinic
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct ScheduleType {
    pub id: Text,
    pub code: Option<Text>,
    pub name: Text,
    /// `None` = usable at any clinic.
    pub clinic: Option<ClinicIx>,
    pub default_duration_minutes: u32,
    pub allow_conflicts: bool,
    pub telehealth: bool,
    pub background_color: Color,
    pub font_color: Color,
}

/// A practitioner.
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
#[allow(missing_docs)]
pub struct Practitioner {
    pub id: Text,
    pub name: Text,
    /// The practitioner type, e.g. `physiotherapist`.
    pub kind: Text,
    pub home_clinic: ClinicIx,
    pub email: Option<Text>,
    pub active: bool,
    pub bookable_in_portal: bool,
    /// Assigned schedule types, sorted, without duplicates.
    pub schedule_types: Vec<ScheduleTypeIx>,
    records: Vec<AvailabilityRecord>,
    time_off: Vec<(Instant, Instant)>,
    occupancy: Occupancy,
}

impl Practitioner {
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

    /// Time off, as given.
    pub fn time_off(&self) -> &[(Instant, Instant)] {
        &self.time_off
    }

    /// Appointment counts per UTC cell and time off.
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

/// A product or service.
///
/// ```
/// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
/// let initial = &model.services()[0];
/// assert_eq!(initial.practitioner_type.as_ref().map(|t| t.as_str()), Some("physiotherapist"));
/// assert_eq!(initial.schedule_types, [model.schedule_type_ix("physio").unwrap()]);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Service {
    pub id: Text,
    pub code: Option<Text>,
    pub name: Text,
    pub description: Option<Text>,
    pub duration_minutes: u32,
    pub book_from_portal: bool,
    pub portal_conflicts: u32,
    pub practitioner_type: Option<Text>,
    /// Sorted, without duplicates.
    pub schedule_types: Vec<ScheduleTypeIx>,
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

/// A patient.
///
/// ```
/// let model = slot_engine::Model::from_json(br#"{"version": 1,
///   "patients": [{"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"}]}"#)?;
/// // No list: every practitioner bookable in the portal.
/// assert_eq!(model.patients()[0].available_practitioners, None);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Patient {
    pub id: Text,
    pub first_name: Text,
    pub last_name: Text,
    pub email: Text,
    /// `None` = every practitioner bookable in the portal. Sorted, no duplicates.
    pub available_practitioners: Option<Vec<PractitionerIx>>,
}

/// An appointment. [`Model::appointments`] keeps the document's order, so the `i`-th
/// is the scenario's `appointments[i]` (whose id, if any, is there).
///
/// ```
/// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/conflicts.json"))?;
/// // Cancelled appointments are kept, in document order, but take up no time.
/// assert_eq!(model.appointments().len(), model.appointments().iter().filter(|a| a.end > a.start).count());
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Appointment {
    pub practitioner: PractitionerIx,
    pub patient: Option<PatientIx>,
    pub service: Option<ServiceIx>,
    pub schedule_type: Option<ScheduleTypeIx>,
    pub start: Instant,
    pub end: Instant,
    pub status: Status,
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
    appointments: Vec<Appointment>,
    query: Option<SlotQuery>,
    clinic_ids: HashMap<String, ClinicIx>,
    schedule_type_ids: HashMap<String, ScheduleTypeIx>,
    practitioner_ids: HashMap<String, PractitionerIx>,
    service_ids: HashMap<String, ServiceIx>,
    patient_ids: HashMap<String, PatientIx>,
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
        Builder::new(scenario)?.build()
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

    /// The settings.
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

    /// Schedule types, sorted by id.
    pub fn schedule_types(&self) -> &[ScheduleType] {
        &self.schedule_types
    }

    /// Practitioners, sorted by id.
    pub fn practitioners(&self) -> &[Practitioner] {
        &self.practitioners
    }

    /// Services, sorted by id.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// Patients, sorted by id.
    pub fn patients(&self) -> &[Patient] {
        &self.patients
    }

    /// Appointments, in document order.
    ///
    /// ```
    /// let model = slot_engine::Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let a = &model.appointments()[0];
    /// assert_eq!(model.practitioner(a.practitioner).id.as_str(), "christine");
    /// assert_eq!(a.start.to_string(), "2026-03-02T14:30:00Z");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn appointments(&self) -> &[Appointment] {
        &self.appointments
    }

    /// A clinic.
    pub fn clinic(&self, ix: ClinicIx) -> &Clinic {
        &self.clinics[ix.index()]
    }

    /// A schedule type.
    pub fn schedule_type(&self, ix: ScheduleTypeIx) -> &ScheduleType {
        &self.schedule_types[ix.index()]
    }

    /// A practitioner.
    pub fn practitioner(&self, ix: PractitionerIx) -> &Practitioner {
        &self.practitioners[ix.index()]
    }

    /// A service.
    pub fn service(&self, ix: ServiceIx) -> &Service {
        &self.services[ix.index()]
    }

    /// A patient.
    pub fn patient(&self, ix: PatientIx) -> &Patient {
        &self.patients[ix.index()]
    }

    /// The clinic with this id.
    pub fn clinic_ix(&self, id: &str) -> Option<ClinicIx> {
        self.clinic_ids.get(id).copied()
    }

    /// The schedule type with this id.
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

    /// The service with this id.
    pub fn service_ix(&self, id: &str) -> Option<ServiceIx> {
        self.service_ids.get(id).copied()
    }

    /// The patient with this id.
    pub fn patient_ix(&self, id: &str) -> Option<PatientIx> {
        self.patient_ids.get(id).copied()
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
    pub fn schedule_type_indices(&self) -> impl Iterator<Item = ScheduleTypeIx> + '_ {
        (0..self.schedule_types.len() as u32).map(ScheduleTypeIx)
    }
}

/// Names an item in error messages: `practitioner "christine"`.
struct Item<'a>(&'a str, &'a str);

impl fmt::Display for Item<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.0, self.1)
    }
}

/// Sorts entities by id and checks ids are unique, returning the id → index map and
/// the permutation (document position of each sorted entity).
fn sort_ids<'a>(
    kind: &str,
    ids: impl Iterator<Item = &'a Text>,
) -> Result<(Vec<usize>, HashMap<String, u32>), Error> {
    let ids: Vec<&Text> = ids.collect();
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| ids[a].as_str().cmp(ids[b].as_str()));
    let mut map = HashMap::with_capacity_and_hasher(ids.len(), Default::default());
    for (rank, &i) in order.iter().enumerate() {
        if map
            .insert(ids[i].as_str().to_owned(), rank as u32)
            .is_some()
        {
            return Err(Error::invalid(Item(kind, ids[i].as_str()), "duplicate id"));
        }
    }
    Ok((order, map))
}

struct Builder<'s> {
    s: &'s Scenario,
    settings: Settings,
    clinic_order: Vec<usize>,
    clinic_ids: HashMap<String, u32>,
    type_order: Vec<usize>,
    type_ids: HashMap<String, u32>,
    prac_order: Vec<usize>,
    prac_ids: HashMap<String, u32>,
    service_order: Vec<usize>,
    service_ids: HashMap<String, u32>,
    patient_order: Vec<usize>,
    patient_ids: HashMap<String, u32>,
}

impl<'s> Builder<'s> {
    fn new(s: &'s Scenario) -> Result<Self, Error> {
        if s.version != 1 {
            return Err(Error::invalid(
                "version",
                format!("unsupported version {}, expected 1", s.version),
            ));
        }
        let settings = settings(&s.settings)?;
        let (clinic_order, clinic_ids) = sort_ids("clinic", s.clinics.iter().map(|c| &c.id))?;
        let (type_order, type_ids) =
            sort_ids("schedule type", s.schedule_types.iter().map(|t| &t.id))?;
        let (prac_order, prac_ids) =
            sort_ids("practitioner", s.practitioners.iter().map(|p| &p.id))?;
        let (service_order, service_ids) = sort_ids("service", s.services.iter().map(|v| &v.id))?;
        let (patient_order, patient_ids) = sort_ids("patient", s.patients.iter().map(|p| &p.id))?;
        let mut appointment_ids =
            FxHashSet::with_capacity_and_hasher(s.appointments.len(), Default::default());
        for a in &s.appointments {
            if let Some(id) = &a.id
                && !appointment_ids.insert(id.as_str())
            {
                return Err(Error::invalid(
                    Item("appointment", id.as_str()),
                    "duplicate id",
                ));
            }
        }
        Ok(Builder {
            s,
            settings,
            clinic_order,
            clinic_ids,
            type_order,
            type_ids,
            prac_order,
            prac_ids,
            service_order,
            service_ids,
            patient_order,
            patient_ids,
        })
    }

    fn clinic(&self, item: &dyn fmt::Display, id: &Text) -> Result<ClinicIx, Error> {
        self.clinic_ids
            .get(id.as_str())
            .map(|&i| ClinicIx(i))
            .ok_or_else(|| Error::invalid(item, format!("unknown clinic {:?}", id.as_str())))
    }

    fn schedule_type(&self, item: &dyn fmt::Display, id: &Text) -> Result<ScheduleTypeIx, Error> {
        self.type_ids
            .get(id.as_str())
            .map(|&i| ScheduleTypeIx(i))
            .ok_or_else(|| Error::invalid(item, format!("unknown schedule type {:?}", id.as_str())))
    }

    fn practitioner(&self, item: &dyn fmt::Display, id: &Text) -> Result<PractitionerIx, Error> {
        self.prac_ids
            .get(id.as_str())
            .map(|&i| PractitionerIx(i))
            .ok_or_else(|| Error::invalid(item, format!("unknown practitioner {:?}", id.as_str())))
    }

    fn service(&self, item: &dyn fmt::Display, id: &Text) -> Result<ServiceIx, Error> {
        self.service_ids
            .get(id.as_str())
            .map(|&i| ServiceIx(i))
            .ok_or_else(|| Error::invalid(item, format!("unknown service {:?}", id.as_str())))
    }

    fn schedule_type_list(
        &self,
        item: &dyn fmt::Display,
        ids: &[Text],
    ) -> Result<Vec<ScheduleTypeIx>, Error> {
        let mut out = ids
            .iter()
            .map(|id| self.schedule_type(item, id))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    fn practitioner_list(
        &self,
        item: &dyn fmt::Display,
        ids: &[Text],
    ) -> Result<Vec<PractitionerIx>, Error> {
        let mut out = ids
            .iter()
            .map(|id| self.practitioner(item, id))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    fn build(self) -> Result<Model, Error> {
        let s = self.s;
        let clinics = self
            .clinic_order
            .iter()
            .map(|&i| {
                let c = &s.clinics[i];
                let mut holidays = c.holidays.clone();
                holidays.sort_unstable();
                holidays.dedup();
                Clinic {
                    id: c.id.clone(),
                    name: c.name.clone().unwrap_or_else(|| c.id.clone()),
                    zone: c.timezone,
                    holidays,
                }
            })
            .collect();

        let schedule_types = self
            .type_order
            .iter()
            .map(|&i| {
                let t = &s.schedule_types[i];
                let item = Item("schedule type", t.id.as_str());
                let clinic = t
                    .clinic
                    .as_ref()
                    .map(|c| self.clinic(&item, c))
                    .transpose()?;
                check_range(
                    &item,
                    "default_duration_minutes",
                    t.default_duration_minutes,
                    1,
                    1440,
                )?;
                Ok(ScheduleType {
                    id: t.id.clone(),
                    code: t.code.clone(),
                    name: t.name.clone().unwrap_or_else(|| t.id.clone()),
                    clinic,
                    default_duration_minutes: t.default_duration_minutes,
                    allow_conflicts: t.allow_conflicts,
                    telehealth: t.telehealth,
                    background_color: t.background_color,
                    font_color: t.font_color,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;

        // Appointments are validated before practitioners so their occupancy can be
        // built along with each practitioner.
        let mut appointments = Vec::with_capacity(s.appointments.len());
        // Appointments usually come grouped by practitioner: remember the last lookup.
        let mut last: Option<(&Text, PractitionerIx)> = None;
        for (n, a) in s.appointments.iter().enumerate() {
            let practitioner = match last {
                Some((id, ix)) if *id == a.practitioner => ix,
                _ => {
                    let ix = self
                        .practitioner(&format_args!("appointment #{}", n + 1), &a.practitioner)
                        .map_err(|_| {
                            Error::invalid(
                                appointment_label(n, a),
                                format!("unknown practitioner {:?}", a.practitioner.as_str()),
                            )
                        })?;
                    last = Some((&a.practitioner, ix));
                    ix
                }
            };
            appointments.push(self.appointment(n, a, practitioner)?);
        }
        let mut counts = vec![0usize; s.practitioners.len()];
        for a in &appointments {
            counts[a.practitioner.index()] += usize::from(a.status.occupies_time());
        }
        let mut by_practitioner: Vec<Vec<(Instant, Instant)>> =
            counts.into_iter().map(Vec::with_capacity).collect();
        for a in &appointments {
            if a.status.occupies_time() {
                by_practitioner[a.practitioner.index()].push((a.start, a.end));
            }
        }

        let practitioners = self
            .prac_order
            .iter()
            .enumerate()
            .map(|(rank, &i)| {
                let busy = std::mem::take(&mut by_practitioner[rank]);
                self.practitioner_model(&s.practitioners[i], &schedule_types, busy)
            })
            .collect::<Result<Vec<_>, Error>>()?;

        let services = self
            .service_order
            .iter()
            .map(|&i| {
                let v = &s.services[i];
                let item = Item("service", v.id.as_str());
                check_range(&item, "duration_minutes", v.duration_minutes, 1, 1440)?;
                check_range(&item, "portal_conflicts", v.portal_conflicts, 1, 10_000)?;
                Ok(Service {
                    id: v.id.clone(),
                    code: v.code.clone(),
                    name: v.name.clone().unwrap_or_else(|| v.id.clone()),
                    description: v.description.clone(),
                    duration_minutes: v.duration_minutes,
                    book_from_portal: v.book_from_portal,
                    portal_conflicts: v.portal_conflicts,
                    practitioner_type: v.practitioner_type.clone(),
                    schedule_types: self.schedule_type_list(&item, &v.schedule_types)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;

        let patients = self
            .patient_order
            .iter()
            .map(|&i| {
                let p = &s.patients[i];
                let item = Item("patient", p.id.as_str());
                Ok(Patient {
                    id: p.id.clone(),
                    first_name: p.first_name.clone(),
                    last_name: p.last_name.clone(),
                    email: p.email.clone(),
                    available_practitioners: p
                        .available_practitioners
                        .as_ref()
                        .map(|list| self.practitioner_list(&item, list))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;

        let query = s
            .query
            .as_ref()
            .map(|q| self.query(q, &services))
            .transpose()?;

        let ids = |m: HashMap<String, u32>| -> Vec<(String, u32)> { m.into_iter().collect() };
        Ok(Model {
            settings: self.settings,
            clinics,
            schedule_types,
            practitioners,
            services,
            patients,
            appointments,
            query,
            clinic_ids: ids(self.clinic_ids)
                .into_iter()
                .map(|(k, v)| (k, ClinicIx(v)))
                .collect(),
            schedule_type_ids: ids(self.type_ids)
                .into_iter()
                .map(|(k, v)| (k, ScheduleTypeIx(v)))
                .collect(),
            practitioner_ids: ids(self.prac_ids)
                .into_iter()
                .map(|(k, v)| (k, PractitionerIx(v)))
                .collect(),
            service_ids: ids(self.service_ids)
                .into_iter()
                .map(|(k, v)| (k, ServiceIx(v)))
                .collect(),
            patient_ids: ids(self.patient_ids)
                .into_iter()
                .map(|(k, v)| (k, PatientIx(v)))
                .collect(),
        })
    }

    fn appointment(
        &self,
        n: usize,
        a: &scenario::Appointment,
        practitioner: PractitionerIx,
    ) -> Result<Appointment, Error> {
        // The label is only built when something is wrong: there can be millions.
        let lookup = |kind: &str, map: &HashMap<String, u32>, id: &Text| {
            map.get(id.as_str()).copied().ok_or_else(|| {
                Error::invalid(
                    appointment_label(n, a),
                    format!("unknown {kind} {:?}", id.as_str()),
                )
            })
        };
        if a.end <= a.start {
            return Err(Error::invalid(
                appointment_label(n, a),
                format!("end {} is not after start {}", a.end, a.start),
            ));
        }
        Ok(Appointment {
            practitioner,
            patient: a
                .patient
                .as_ref()
                .map(|p| lookup("patient", &self.patient_ids, p).map(PatientIx))
                .transpose()?,
            service: a
                .service
                .as_ref()
                .map(|v| lookup("service", &self.service_ids, v).map(ServiceIx))
                .transpose()?,
            schedule_type: a
                .schedule_type
                .as_ref()
                .map(|t| lookup("schedule type", &self.type_ids, t).map(ScheduleTypeIx))
                .transpose()?,
            start: a.start,
            end: a.end,
            status: a.status,
        })
    }

    fn practitioner_model(
        &self,
        p: &scenario::Practitioner,
        schedule_types: &[ScheduleType],
        appointments: Vec<(Instant, Instant)>,
    ) -> Result<Practitioner, Error> {
        let item = Item("practitioner", p.id.as_str());
        let home_clinic = self.clinic(&item, &p.home_clinic)?;
        let assigned = self.schedule_type_list(&item, &p.schedule_types)?;
        let mut records = Vec::with_capacity(p.availability.len());
        for r in &p.availability {
            records.push(self.record(&item, home_clinic, &assigned, schedule_types, r)?);
        }
        records.sort_by_key(|r: &AvailabilityRecord| r.dates().start());
        for pair in records.windows(2) {
            if pair[0].dates().overlaps(pair[1].dates()) {
                return Err(Error::invalid(
                    &item,
                    format!(
                        "availability records {} and {} overlap",
                        pair[0].dates(),
                        pair[1].dates()
                    ),
                ));
            }
        }
        let mut time_off = Vec::with_capacity(p.time_off.len());
        for t in &p.time_off {
            if t.end <= t.start {
                return Err(Error::invalid(
                    &item,
                    format!("time off {}..{}: end is not after start", t.start, t.end),
                ));
            }
            time_off.push((t.start, t.end));
        }
        let occupancy = Occupancy::new(
            self.settings.resolution,
            appointments,
            time_off.iter().copied(),
        );
        Ok(Practitioner {
            id: p.id.clone(),
            name: p.name.clone().unwrap_or_else(|| p.id.clone()),
            kind: p.kind.clone(),
            home_clinic,
            email: p.email.clone(),
            active: p.active,
            bookable_in_portal: p.bookable_in_portal,
            schedule_types: assigned,
            records,
            time_off,
            occupancy,
        })
    }

    fn record(
        &self,
        practitioner: &Item<'_>,
        home_clinic: ClinicIx,
        assigned: &[ScheduleTypeIx],
        schedule_types: &[ScheduleType],
        r: &scenario::AvailabilityRecord,
    ) -> Result<AvailabilityRecord, Error> {
        let dates = RecordDates::new(r.start_date, r.end_date).map_err(|e| {
            Error::invalid(
                practitioner,
                format!("availability record {}: {e}", r.start_date),
            )
        })?;
        let label = format!("{practitioner}: availability record {dates}");
        let item: &dyn fmt::Display = &label;
        let clinic = r
            .clinic
            .as_ref()
            .map(|c| self.clinic(item, c))
            .transpose()?;
        let resolution = self.settings.resolution;
        let slot_step = match r.slot_step_minutes {
            Some(step) => {
                check_step(item, step, resolution)?;
                step
            }
            None => self.settings.slot_step_minutes,
        };
        let mut grids: Vec<TypeGrid> = Vec::new();
        // Which schedule type covers each cell so far, to name both in an overlap.
        let mut owner = WeekGrid::new(resolution);
        for (n, b) in r.blocks.iter().enumerate() {
            let block_label = format!("{label}: block {}", n + 1);
            let block_item: &dyn fmt::Display = &block_label;
            check_block_times(block_item, b.start, b.end, &b.days, resolution)?;
            let t = self.schedule_type(block_item, &b.schedule_type)?;
            if assigned.binary_search(&t).is_err() {
                return Err(Error::invalid(
                    block_item,
                    format!(
                        "schedule type {:?} is not assigned to the practitioner",
                        b.schedule_type.as_str()
                    ),
                ));
            }
            for &day in &b.days {
                if owner.any_in(day, b.start, b.end) {
                    let other = grids
                        .iter()
                        .find(|g| {
                            (b.start.minutes()..b.end.minutes()).any(|m| g.grid.is_set(day, m))
                        })
                        .map(|g| schedule_types[g.schedule_type.index()].id.as_str())
                        .unwrap_or_default();
                    return Err(Error::invalid(
                        block_item,
                        format!(
                            "covers {} {}-{} already covered by another block of {other:?}",
                            day, b.start, b.end
                        ),
                    ));
                }
                owner.fill(day, b.start, b.end);
            }
            let slot_clinic = schedule_types[t.index()]
                .clinic
                .or(clinic)
                .unwrap_or(home_clinic);
            let g = match grids.iter_mut().position(|g| g.schedule_type == t) {
                Some(i) => &mut grids[i],
                None => {
                    grids.push(TypeGrid {
                        schedule_type: t,
                        clinic: slot_clinic,
                        grid: WeekGrid::new(resolution),
                    });
                    grids.last_mut().expect("just pushed")
                }
            };
            for &day in &b.days {
                g.grid.fill(day, b.start, b.end);
            }
        }
        let portal = match &r.portal_blocks {
            None => None,
            Some(blocks) => {
                let mut overlay = WeekGrid::new(resolution);
                for (n, b) in blocks.iter().enumerate() {
                    let block_label = format!("{label}: portal block {}", n + 1);
                    check_block_times(&block_label, b.start, b.end, &b.days, resolution)?;
                    for &day in &b.days {
                        overlay.fill(day, b.start, b.end);
                    }
                }
                Some(overlay)
            }
        };
        Ok(AvailabilityRecord::new(
            dates, clinic, slot_step, grids, portal,
        ))
    }

    fn query(&self, q: &scenario::Query, services: &[Service]) -> Result<SlotQuery, Error> {
        let item = "query";
        let service = self.service(&item, &q.service)?;
        if !services[service.index()].book_from_portal {
            return Err(Error::invalid(
                item,
                format!(
                    "service {:?} is not bookable from the portal",
                    q.service.as_str()
                ),
            ));
        }
        let dates =
            DateRange::new(q.from, q.to).map_err(|e| Error::invalid(item, e.to_string()))?;
        let practitioners = q
            .practitioners
            .as_ref()
            .map(|list| self.practitioner_list(&item, list))
            .transpose()?;
        Ok(SlotQuery {
            portal: PortalQuery {
                service,
                practitioners,
                now: q.now,
                telehealth: q.telehealth,
            },
            dates,
        })
    }
}

/// `appointment "a-1"`, or `appointment #3` (its position) when it has no id.
fn appointment_label(n: usize, a: &scenario::Appointment) -> String {
    match &a.id {
        Some(id) => Item("appointment", id.as_str()).to_string(),
        None => format!("appointment #{}", n + 1),
    }
}

fn settings(s: &scenario::Settings) -> Result<Settings, Error> {
    let item = "settings";
    let resolution = Resolution::new(s.resolution_minutes)
        .map_err(|e| Error::invalid(item, format!("resolution_minutes: {e}")))?;
    check_step(&item, s.slot_step_minutes, resolution)?;
    check_range(
        &item,
        "min_notice_minutes",
        s.min_notice_minutes,
        0,
        525_600,
    )?;
    check_range(&item, "max_days_ahead", s.max_days_ahead, 0, 3_660)?;
    Ok(Settings {
        resolution,
        slot_step_minutes: s.slot_step_minutes,
        min_notice_minutes: s.min_notice_minutes,
        max_days_ahead: s.max_days_ahead,
    })
}

fn check_range(
    item: &dyn fmt::Display,
    field: &str,
    value: u32,
    min: u32,
    max: u32,
) -> Result<(), Error> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            item,
            format!("{field} {value} is out of range {min}..={max}"),
        ))
    }
}

fn check_step(item: &dyn fmt::Display, step: u32, resolution: Resolution) -> Result<(), Error> {
    if step == 0 || step > MINUTES_PER_DAY || !step.is_multiple_of(resolution.minutes()) {
        return Err(Error::invalid(
            item,
            format!(
                "slot_step_minutes {step} is not a positive multiple of the {}-minute resolution up to 1440",
                resolution.minutes()
            ),
        ));
    }
    Ok(())
}

fn check_block_times(
    item: &dyn fmt::Display,
    start: crate::WallTime,
    end: crate::WallTime,
    days: &[Weekday],
    resolution: Resolution,
) -> Result<(), Error> {
    if start == crate::WallTime::END_OF_DAY {
        return Err(Error::invalid(item, "start 24:00 is only valid as an end"));
    }
    if start >= end {
        return Err(Error::invalid(
            item,
            format!("start {start} is not before end {end}"),
        ));
    }
    for t in [start, end] {
        if !resolution.is_on_grid(t) {
            return Err(Error::invalid(
                item,
                format!("{t} is not on the {}-minute grid", resolution.minutes()),
            ));
        }
    }
    let mut seen = [false; 7];
    for d in days {
        if std::mem::replace(&mut seen[d.index()], true) {
            return Err(Error::invalid(item, format!("day {d} is named twice")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
