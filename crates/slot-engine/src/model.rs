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

pub use crate::index::{ClinicIx, PatientIx, PractitionerIx, ScheduleTypeIx, ServiceIx};
use query::SlotQuery;

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
        build::Builder::new(scenario)?.build()
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

#[cfg(test)]
mod tests;
