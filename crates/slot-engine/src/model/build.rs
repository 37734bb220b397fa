//! Validation: [`Model::new`] checks every rule of the format that relates several
//! values (references, ranges, overlapping records and blocks) and builds the sorted,
//! indexed model, or names the first offending item.

use std::fmt;

use rustc_hash::{FxHashMap as HashMap, FxHashSet};

use crate::availability::{AvailabilityRecord, RecordDates, TypeGrid};
use crate::calendar::{Instant, MINUTES_PER_DAY, WallTime, Weekday};
use crate::error::Error;
use crate::grid::{Resolution, WeekGrid};
use crate::occupancy::{CellSpan, Occupancy};
use crate::scenario::{self, Scenario, Text};

use super::query::{DateRange, PortalQuery, SlotQuery};
use super::resources::{MAX_REQUIREMENTS, MAX_RESOURCE_CAPACITY, Resource, ResourceRecord};
use super::{
    Buffers, BuildStage, Clinic, ClinicIx, MAX_BUFFER_MINUTES, Model, Patient, PatientIx,
    Practitioner, PractitionerIx, ResourceIx, ScheduleType, ScheduleTypeIx, Service, ServiceIx,
    Settings, StoredAppointment, StoredAppointments,
};

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

pub(super) struct Builder<'s> {
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
    resource_order: Vec<usize>,
    resource_ids: HashMap<String, u32>,
}

impl<'s> Builder<'s> {
    pub(super) fn new(s: &'s Scenario) -> Result<Self, Error> {
        if !(1..=3).contains(&s.version) {
            return Err(Error::invalid(
                "version",
                format!("unsupported version {}, expected 1, 2 or 3", s.version),
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
        let (resource_order, resource_ids) =
            sort_ids("resource", s.resources.iter().map(|r| &r.id))?;
        unique_appointment_ids(&s.appointments)?;
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
            resource_order,
            resource_ids,
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

    /// Builds the model, telling `observe` as each stage begins (see [`BuildStage`]);
    /// validation resumes after the occupancy for services, patients and the query.
    pub(super) fn build(self, observe: &mut dyn FnMut(BuildStage)) -> Result<Model, Error> {
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
        let mut appointments = StoredAppointments {
            list: Vec::with_capacity(s.appointments.len()),
            extras: Vec::new(),
        };
        // The cells each appointment takes, per practitioner and per resource, in
        // document order.
        let resolution = self.settings.resolution;
        let mut by_practitioner: Vec<Vec<(CellSpan, u32)>> =
            vec![Vec::new(); s.practitioners.len()];
        let mut by_resource: Vec<Vec<(CellSpan, u32)>> = vec![Vec::new(); s.resources.len()];
        // A first guess at each list's length, so most grow once or not at all.
        let typical = s.appointments.len() / s.practitioners.len().max(1) + 16;
        let mut recent = [None; 3];
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
            let stored =
                self.appointment(n, a, practitioner, &mut appointments.extras, &mut recent)?;
            appointments.list.push(stored);
            if !a.status.occupies_time() {
                continue;
            }
            let (start, end) = if stored.buffers == [0, 0] {
                (a.start, a.end)
            } else {
                Buffers {
                    before_minutes: a.buffer_before_minutes,
                    after_minutes: a.buffer_after_minutes,
                }
                .around(a.start, a.end)
            };
            let cells = CellSpan::touched_by(resolution, start, end);
            let list = &mut by_practitioner[practitioner.index()];
            if list.capacity() == 0 {
                list.reserve(typical);
            }
            list.push((cells, 1));
            if let Some((_, resources)) = appointments.extras.get(stored.extra as usize) {
                for r in resources {
                    by_resource[r.index()].push((cells, 1));
                }
            }
        }

        if !s.resources.is_empty() {
            self.needs_version(&"resources", "resources", 3)?;
        }
        observe(BuildStage::Grids);
        let mut resources = self
            .resource_order
            .iter()
            .map(|&i| self.resource_model(&s.resources[i]))
            .collect::<Result<Vec<_>, Error>>()?;

        let mut practitioners = self
            .prac_order
            .iter()
            .map(|&i| self.practitioner_model(&s.practitioners[i], &schedule_types))
            .collect::<Result<Vec<_>, Error>>()?;

        observe(BuildStage::Occupancy);
        for (r, busy) in resources.iter_mut().zip(by_resource) {
            let time_off = time_off_cells(resolution, &r.time_off);
            r.occupancy = Occupancy::from_spans(busy, time_off);
            r.blocked = r.occupancy.blocked(r.capacity).into_owned();
        }
        for (p, busy) in practitioners.iter_mut().zip(by_practitioner) {
            let time_off = time_off_cells(resolution, &p.time_off);
            p.occupancy = Occupancy::from_spans(busy, time_off);
        }
        observe(BuildStage::Validation);

        let services = self
            .service_order
            .iter()
            .map(|&i| {
                let v = &s.services[i];
                let item = Item("service", v.id.as_str());
                check_range(&item, "duration_minutes", v.duration_minutes, 1, 1440)?;
                check_range(&item, "portal_conflicts", v.portal_conflicts, 1, 10_000)?;
                let buffers =
                    self.buffers(&item, v.buffer_before_minutes, v.buffer_after_minutes)?;
                if v.allow_series {
                    self.needs_v2(&item, "allow_series")?;
                }
                let requires = self.requirements(&item, &v.requires)?;
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
                    buffers,
                    allow_series: v.allow_series,
                    requires,
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
            resources,
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
            resource_ids: ids(self.resource_ids)
                .into_iter()
                .map(|(k, v)| (k, ResourceIx(v)))
                .collect(),
        })
    }

    fn appointment(
        &self,
        n: usize,
        a: &'s scenario::Appointment,
        practitioner: PractitionerIx,
        extras: &mut Vec<(Option<Text>, Vec<ResourceIx>)>,
        recent: &mut [Option<(&'s str, u32)>; 3],
    ) -> Result<StoredAppointment, Error> {
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
        let buffers = if a.buffer_before_minutes == 0 && a.buffer_after_minutes == 0 {
            Buffers::NONE
        } else {
            self.buffers(
                &appointment_label(n, a),
                a.buffer_before_minutes,
                a.buffer_after_minutes,
            )?
        };
        if a.series.is_some() {
            self.needs_v2(&appointment_label(n, a), "series")?;
        }
        let mut extra = StoredAppointment::optional(None);
        if a.series.is_some() || !a.resources.is_empty() {
            let mut resources = Vec::new();
            if !a.resources.is_empty() {
                self.needs_version(&appointment_label(n, a), "resources", 3)?;
                resources.reserve(a.resources.len());
                for r in &a.resources {
                    resources.push(ResourceIx(lookup("resource", &self.resource_ids, r)?));
                }
                resources.sort_unstable();
                resources.dedup();
            }
            extra = extras.len() as u32;
            extras.push((a.series.clone(), resources));
        }
        // Most appointments name the same service (or patient, or schedule type) as the
        // one before: compare with it before hashing.
        let mut optional =
            |kind: &str, map: &HashMap<String, u32>, id: &'s Option<Text>, k: usize| match id {
                None => Ok(StoredAppointment::optional(None)),
                Some(id) => match recent[k] {
                    Some((last, ix)) if last == id.as_str() => Ok(ix),
                    _ => {
                        let ix = lookup(kind, map, id)?;
                        recent[k] = Some((id.as_str(), ix));
                        Ok(ix)
                    }
                },
            };
        Ok(StoredAppointment {
            practitioner,
            patient: optional("patient", &self.patient_ids, &a.patient, 0)?,
            service: optional("service", &self.service_ids, &a.service, 1)?,
            schedule_type: optional("schedule type", &self.type_ids, &a.schedule_type, 2)?,
            start: a.start,
            end: a.end,
            status: a.status,
            buffers: [buffers.before_minutes as u16, buffers.after_minutes as u16],
            extra,
        })
    }

    /// A service's or appointment's buffers: each 0 ..= 1440 minutes, and only in a
    /// version 2 document.
    fn buffers(&self, item: &dyn fmt::Display, before: u32, after: u32) -> Result<Buffers, Error> {
        for (field, minutes) in [
            ("buffer_before_minutes", before),
            ("buffer_after_minutes", after),
        ] {
            check_range(item, field, minutes, 0, MAX_BUFFER_MINUTES)?;
            if minutes != 0 {
                self.needs_v2(item, field)?;
            }
        }
        Ok(Buffers {
            before_minutes: before,
            after_minutes: after,
        })
    }

    /// Refuses a v2 field set in a version 1 document.
    fn needs_v2(&self, item: &dyn fmt::Display, field: &str) -> Result<(), Error> {
        self.needs_version(item, field, 2)
    }

    /// Refuses a field of format `version` set in an earlier version's document.
    fn needs_version(
        &self,
        item: &dyn fmt::Display,
        field: &str,
        version: u32,
    ) -> Result<(), Error> {
        if self.s.version < version {
            return Err(Error::invalid(
                item,
                format!("{field} needs \"version\": {version}"),
            ));
        }
        Ok(())
    }

    fn resource(&self, item: &dyn fmt::Display, id: &Text) -> Result<ResourceIx, Error> {
        self.resource_ids
            .get(id.as_str())
            .map(|&i| ResourceIx(i))
            .ok_or_else(|| Error::invalid(item, format!("unknown resource {:?}", id.as_str())))
    }

    /// A service's requirements (v3): each a non-empty list of known resources, sorted
    /// and without repeats, and no resource in two of them.
    fn requirements(
        &self,
        item: &dyn fmt::Display,
        requires: &[Vec<Text>],
    ) -> Result<Vec<Vec<ResourceIx>>, Error> {
        if requires.is_empty() {
            return Ok(Vec::new());
        }
        self.needs_version(item, "requires", 3)?;
        if requires.len() > MAX_REQUIREMENTS {
            return Err(Error::invalid(
                item,
                format!(
                    "requires has {} requirements, over the {MAX_REQUIREMENTS} allowed",
                    requires.len()
                ),
            ));
        }
        let mut seen = FxHashSet::default();
        let mut out = Vec::with_capacity(requires.len());
        for (n, ids) in requires.iter().enumerate() {
            if ids.is_empty() {
                return Err(Error::invalid(
                    item,
                    format!("requirement {} names no resource", n + 1),
                ));
            }
            let mut list = ids
                .iter()
                .map(|id| self.resource(item, id))
                .collect::<Result<Vec<_>, _>>()?;
            list.sort_unstable();
            list.dedup();
            for &r in &list {
                if !seen.insert(r) {
                    let name = &self.s.resources[self.resource_order[r.index()]].id;
                    return Err(Error::invalid(
                        item,
                        format!("resource {:?} is in two requirements", name.as_str()),
                    ));
                }
            }
            out.push(list);
        }
        Ok(out)
    }

    /// A resource: its clinic, capacity, records and time off, and the occupancy of
    /// the appointments that hold it.
    /// A resource: its clinic, capacity, records and time off; the occupancy of the
    /// appointments that hold it is set afterwards.
    fn resource_model(&self, r: &scenario::Resource) -> Result<Resource, Error> {
        let item = Item("resource", r.id.as_str());
        let clinic = self.clinic(&item, &r.clinic)?;
        check_range(&item, "capacity", r.capacity, 1, MAX_RESOURCE_CAPACITY)?;
        let resolution = self.settings.resolution;
        let records = match &r.availability {
            None => None,
            Some(list) => {
                let mut records = Vec::with_capacity(list.len());
                for rec in list {
                    let dates = RecordDates::new(rec.start_date, rec.end_date).map_err(|e| {
                        Error::invalid(
                            &item,
                            format!("availability record {}: {e}", rec.start_date),
                        )
                    })?;
                    let mut grid = WeekGrid::new(resolution);
                    for (n, b) in rec.blocks.iter().enumerate() {
                        let label = format!("{item}: availability record {dates}: block {}", n + 1);
                        check_block_times(&label, b.start, b.end, &b.days, resolution)?;
                        for &day in &b.days {
                            grid.fill(day, b.start, b.end);
                        }
                    }
                    records.push(ResourceRecord { dates, grid });
                }
                records.sort_by_key(|rec| rec.dates.start());
                for pair in records.windows(2) {
                    if pair[0].dates.overlaps(pair[1].dates) {
                        return Err(Error::invalid(
                            &item,
                            format!(
                                "availability records {} and {} overlap",
                                pair[0].dates, pair[1].dates
                            ),
                        ));
                    }
                }
                Some(records)
            }
        };
        let mut time_off = Vec::with_capacity(r.time_off.len());
        for t in &r.time_off {
            if t.end <= t.start {
                return Err(Error::invalid(
                    &item,
                    format!("time off {}..{}: end is not after start", t.start, t.end),
                ));
            }
            time_off.push((t.start, t.end));
        }
        Ok(Resource {
            id: r.id.clone(),
            name: r.name.clone().unwrap_or_else(|| r.id.clone()),
            kind: r.kind,
            clinic,
            capacity: r.capacity,
            records,
            time_off,
            occupancy: Occupancy::default(),
            blocked: Vec::new(),
        })
    }

    /// A practitioner: their clinic, schedule types, records and time off; the
    /// occupancy of their appointments is set afterwards.
    fn practitioner_model(
        &self,
        p: &scenario::Practitioner,
        schedule_types: &[ScheduleType],
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
        let mut clinics = vec![home_clinic];
        for record in &records {
            for g in record.grids() {
                if !clinics.contains(&g.clinic) {
                    clinics.push(g.clinic);
                }
            }
        }
        Ok(Practitioner {
            clinics,
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
            occupancy: Occupancy::default(),
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

/// The cells touched by each stretch of time off.
fn time_off_cells(resolution: Resolution, time_off: &[(Instant, Instant)]) -> Vec<CellSpan> {
    time_off
        .iter()
        .map(|&(a, b)| CellSpan::touched_by(resolution, a, b))
        .collect()
}

/// Refuses two appointments with the same id. Ids a document lists in increasing
/// order (as an export does) are unique without a look-up; otherwise a set of them is
/// kept.
fn unique_appointment_ids(appointments: &[scenario::Appointment]) -> Result<(), Error> {
    let mut ids = appointments.iter().filter_map(|a| a.id.as_ref());
    let mut previous: Option<&Text> = None;
    let increasing = ids.all(|id| {
        let up = previous.is_none_or(|p| p.as_str() < id.as_str());
        previous = Some(id);
        up
    });
    if increasing {
        return Ok(());
    }
    let mut seen = FxHashSet::with_capacity_and_hasher(appointments.len(), Default::default());
    for id in appointments.iter().filter_map(|a| a.id.as_ref()) {
        if !seen.insert(id.as_str()) {
            return Err(Error::invalid(
                Item("appointment", id.as_str()),
                "duplicate id",
            ));
        }
    }
    Ok(())
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
    start: WallTime,
    end: WallTime,
    days: &[Weekday],
    resolution: Resolution,
) -> Result<(), Error> {
    if start == WallTime::END_OF_DAY {
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
