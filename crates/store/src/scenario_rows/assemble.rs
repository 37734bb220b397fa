//! Turning the loader's rows into a scenario: each stored value checked as the format
//! requires, children grouped under their owners, and the row id of every scenario id
//! recorded.

use std::collections::HashMap;
use std::str::FromStr;

use slot_engine::scenario::{
    Appointment, AvailabilityRecord, Block, Clinic, Patient, PortalBlock, Practitioner, Resource,
    ResourceKind, ResourceRecord, Scenario, ScheduleType, Service, Settings, Text, TimeOff,
};
use slot_engine::{Date, WallTime};

use crate::error::{Error, Result};
use crate::organisation::Organisation;
use crate::time::instant;

use super::fetch::Rows;
use super::{Ids, days_of};

fn stored<T: FromStr>(what: &str, value: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e| Error::invalid(format!("stored {what}"), format!("{value:?}: {e}")))
}

fn text(what: &str, value: impl Into<String>) -> Result<Text> {
    Text::new(value).map_err(|e| Error::invalid(format!("stored {what}"), e.to_string()))
}

fn opt_text(what: &str, value: Option<String>) -> Result<Option<Text>> {
    value.map(|v| text(what, v)).transpose()
}

fn minute(value: i64) -> Result<WallTime> {
    u32::try_from(value)
        .ok()
        .and_then(|m| WallTime::from_minutes(m).ok())
        .ok_or_else(|| Error::invalid("stored block time", value.to_string()))
}

/// Builds the scenario (without query) from what [`fetch`](super::fetch) read.
pub(super) fn assemble(rows: Rows, org: &Organisation) -> Result<(Scenario, Ids)> {
    let mut ids = Ids::default();
    let mut clinics = Vec::with_capacity(rows.clinic_rows.len());
    let mut holidays_by_clinic: HashMap<i64, Vec<Date>> = HashMap::new();
    for h in rows.holiday_rows {
        holidays_by_clinic
            .entry(h.clinic_id)
            .or_default()
            .push(stored("holiday", &h.day)?);
    }
    for c in &rows.clinic_rows {
        ids.clinics.insert(c.key.clone(), c.id);
        clinics.push(Clinic {
            id: text("clinic id", c.key.clone())?,
            name: Some(text("clinic name", c.name.clone())?),
            timezone: stored("timezone", &c.timezone)?,
            holidays: holidays_by_clinic.remove(&c.id).unwrap_or_default(),
        });
    }
    let mut schedule_types = Vec::with_capacity(rows.type_rows.len());
    for t in rows.type_rows {
        ids.schedule_types.insert(t.key.clone(), t.id);
        schedule_types.push(ScheduleType {
            id: text("schedule type id", t.key)?,
            code: opt_text("schedule type code", t.code)?,
            name: Some(text("schedule type name", t.name)?),
            clinic: opt_text("schedule type clinic", t.clinic_key)?,
            default_duration_minutes: u32::try_from(t.default_duration_minutes).unwrap_or(0),
            allow_conflicts: t.allow_conflicts,
            telehealth: t.telehealth,
            background_color: stored("colour", &t.background_color)?,
            font_color: stored("colour", &t.font_color)?,
        });
    }

    let mut assignments: HashMap<i64, Vec<Text>> = HashMap::new();
    for a in rows.assignment_rows {
        assignments
            .entry(a.owner_id)
            .or_default()
            .push(text("schedule type", a.key)?);
    }
    let mut blocks: HashMap<i64, Vec<Block>> = HashMap::new();
    for b in rows.block_rows {
        blocks.entry(b.record_id).or_default().push(Block {
            days: days_of(b.days),
            start: minute(b.start_minute)?,
            end: minute(b.end_minute)?,
            schedule_type: text(
                "block schedule type",
                b.schedule_type_key.unwrap_or_default(),
            )?,
        });
    }
    let mut portal_blocks: HashMap<i64, Vec<PortalBlock>> = HashMap::new();
    for b in rows.portal_rows {
        portal_blocks
            .entry(b.record_id)
            .or_default()
            .push(PortalBlock {
                days: days_of(b.days),
                start: minute(b.start_minute)?,
                end: minute(b.end_minute)?,
            });
    }
    let mut records: HashMap<i64, Vec<AvailabilityRecord>> = HashMap::new();
    for r in rows.record_rows {
        records
            .entry(r.practitioner_id)
            .or_default()
            .push(AvailabilityRecord {
                start_date: stored("start date", &r.start_date)?,
                end_date: r
                    .end_date
                    .as_deref()
                    .map(|d| stored("end date", d))
                    .transpose()?,
                clinic: opt_text("record clinic", r.clinic_key)?,
                slot_step_minutes: r.slot_step_minutes.map(|s| u32::try_from(s).unwrap_or(0)),
                blocks: blocks.remove(&r.id).unwrap_or_default(),
                portal_blocks: if r.portal_customised {
                    Some(portal_blocks.remove(&r.id).unwrap_or_default())
                } else {
                    None
                },
            });
    }
    let mut time_off: HashMap<i64, Vec<TimeOff>> = HashMap::new();
    for t in rows.time_off_rows {
        time_off
            .entry(t.practitioner_id)
            .or_default()
            .push(TimeOff {
                start: instant(t.start_ns)?,
                end: instant(t.end_ns)?,
            });
    }
    let mut practitioner_key: HashMap<i64, Text> = HashMap::new();
    let mut practitioners = Vec::with_capacity(rows.practitioner_rows.len());
    for p in rows.practitioner_rows {
        ids.practitioners.insert(p.key.clone(), p.id);
        let key = text("practitioner id", p.key)?;
        practitioner_key.insert(p.id, key.clone());
        practitioners.push(Practitioner {
            id: key,
            name: Some(text("practitioner name", p.name)?),
            kind: text("practitioner type", p.type_key)?,
            home_clinic: text("home clinic", p.home_clinic_key)?,
            email: opt_text("practitioner email", p.email)?,
            active: p.active,
            bookable_in_portal: p.bookable_in_portal,
            schedule_types: assignments.remove(&p.id).unwrap_or_default(),
            availability: records.remove(&p.id).unwrap_or_default(),
            time_off: time_off.remove(&p.id).unwrap_or_default(),
        });
    }
    let mut service_types: HashMap<i64, Vec<Text>> = HashMap::new();
    for s in rows.service_type_rows {
        service_types
            .entry(s.owner_id)
            .or_default()
            .push(text("schedule type", s.key)?);
    }
    let mut requirements: HashMap<i64, Vec<(i64, Vec<Text>)>> = HashMap::new();
    for r in rows.requirement_rows {
        let list = requirements.entry(r.service_id).or_default();
        let key = text("required resource", r.resource_key)?;
        match list.last_mut() {
            Some((n, keys)) if *n == r.requirement => keys.push(key),
            _ => list.push((r.requirement, vec![key])),
        }
    }
    let mut services = Vec::with_capacity(rows.service_rows.len());
    for s in rows.service_rows {
        ids.services.insert(s.key.clone(), s.id);
        services.push(Service {
            id: text("service id", s.key)?,
            code: opt_text("service code", s.code)?,
            name: Some(text("service name", s.name)?),
            description: opt_text("service description", s.description)?,
            duration_minutes: u32::try_from(s.duration_minutes).unwrap_or(0),
            book_from_portal: s.book_from_portal,
            portal_conflicts: u32::try_from(s.portal_conflicts).unwrap_or(0),
            practitioner_type: opt_text("practitioner type", s.practitioner_type_key)?,
            schedule_types: service_types.remove(&s.id).unwrap_or_default(),
            buffer_before_minutes: minutes("service buffer", s.buffer_before_minutes)?,
            buffer_after_minutes: minutes("service buffer", s.buffer_after_minutes)?,
            allow_series: s.allow_series,
            requires: requirements
                .remove(&s.id)
                .unwrap_or_default()
                .into_iter()
                .map(|(_, keys)| keys)
                .collect(),
        });
    }
    let mut patient_practitioners: HashMap<i64, Vec<Text>> = HashMap::new();
    for p in rows.patient_practitioner_rows {
        patient_practitioners
            .entry(p.owner_id)
            .or_default()
            .push(text("practitioner", p.key)?);
    }
    let mut patients = Vec::with_capacity(rows.patient_rows.len());
    for p in rows.patient_rows {
        let list = patient_practitioners.remove(&p.id).unwrap_or_default();
        patients.push(Patient {
            id: text("patient id", p.key)?,
            first_name: text("first name", p.first_name)?,
            last_name: text("last name", p.last_name)?,
            email: text("email", p.email)?,
            available_practitioners: p.practitioners_restricted.then_some(list),
        });
    }
    let resources = resources(
        &mut ids,
        rows.resource_rows,
        rows.resource_record_rows,
        rows.resource_block_rows,
        rows.resource_time_off_rows,
    )?;
    let mut held: HashMap<i64, Vec<Text>> = HashMap::new();
    for h in rows.appointment_resource_rows {
        held.entry(h.owner_id)
            .or_default()
            .push(text("appointment resource", h.key)?);
    }
    let mut appointments = Vec::with_capacity(rows.appointment_rows.len());
    for a in rows.appointment_rows {
        let Some(practitioner) = practitioner_key.get(&a.practitioner_id) else {
            continue;
        };
        appointments.push(Appointment {
            id: opt_text("appointment id", a.key)?,
            practitioner: practitioner.clone(),
            patient: opt_text("patient", a.patient_key)?,
            service: opt_text("service", a.service_key)?,
            schedule_type: opt_text("schedule type", a.schedule_type_key)?,
            start: instant(a.start_ns)?,
            end: instant(a.end_ns)?,
            status: a.status.into(),
            buffer_before_minutes: minutes("appointment buffer", a.buffer_before_minutes)?,
            buffer_after_minutes: minutes("appointment buffer", a.buffer_after_minutes)?,
            series: opt_text("series", a.series_key)?,
            resources: held.remove(&a.id).unwrap_or_default(),
        });
    }
    let mut scenario = Scenario {
        version: 1,
        settings: settings_of(org),
        clinics,
        schedule_types,
        practitioners,
        services,
        patients,
        resources,
        appointments,
        query: None,
    };
    scenario.version = version_of(&scenario);
    Ok((scenario, ids))
}

/// The organisation's rooms and equipment, with their availability records (when
/// not always available) and time off, recording each one's row id.
fn resources(
    ids: &mut Ids,
    resource_rows: Vec<super::fetch::ResourceRow>,
    record_rows: Vec<super::fetch::ResourceRecordRow>,
    block_rows: Vec<super::fetch::BlockRow>,
    time_off_rows: Vec<super::fetch::TimeOffRow>,
) -> Result<Vec<Resource>> {
    let mut blocks: HashMap<i64, Vec<PortalBlock>> = HashMap::new();
    for b in block_rows {
        blocks.entry(b.record_id).or_default().push(PortalBlock {
            days: days_of(b.days),
            start: minute(b.start_minute)?,
            end: minute(b.end_minute)?,
        });
    }
    let mut records: HashMap<i64, Vec<ResourceRecord>> = HashMap::new();
    for r in record_rows {
        records
            .entry(r.resource_id)
            .or_default()
            .push(ResourceRecord {
                start_date: stored("start date", &r.start_date)?,
                end_date: r
                    .end_date
                    .as_deref()
                    .map(|d| stored("end date", d))
                    .transpose()?,
                blocks: blocks.remove(&r.id).unwrap_or_default(),
            });
    }
    let mut time_off: HashMap<i64, Vec<TimeOff>> = HashMap::new();
    for t in time_off_rows {
        time_off
            .entry(t.practitioner_id)
            .or_default()
            .push(TimeOff {
                start: instant(t.start_ns)?,
                end: instant(t.end_ns)?,
            });
    }
    let mut resources = Vec::with_capacity(resource_rows.len());
    for r in resource_rows {
        ids.resources.insert(r.key.clone(), r.id);
        let own_records = records.remove(&r.id).unwrap_or_default();
        resources.push(Resource {
            id: text("resource id", r.key)?,
            name: Some(text("resource name", r.name)?),
            kind: match r.kind.as_str() {
                "equipment" => ResourceKind::Equipment,
                "room" => ResourceKind::Room,
                other => return Err(Error::invalid("stored resource kind", other.to_owned())),
            },
            clinic: text("resource clinic", r.clinic_key)?,
            capacity: u32::try_from(r.capacity)
                .map_err(|_| Error::invalid("stored resource capacity", r.capacity.to_string()))?,
            availability: (!r.always_available).then_some(own_records),
            time_off: time_off.remove(&r.id).unwrap_or_default(),
        });
    }
    Ok(resources)
}

/// The version a scenario needs: 3 when it uses a field of version 3 (rooms and
/// equipment, a service's requirements, an appointment's resources), else 2 when it
/// uses a field of version 2 (buffers, a series online, an appointment's series), else
/// 1, so that an organisation that uses none of them exports exactly the document it
/// always did.
pub(crate) fn version_of(scenario: &Scenario) -> u32 {
    let rooms = !scenario.resources.is_empty()
        || scenario.services.iter().any(|s| !s.requires.is_empty())
        || scenario
            .appointments
            .iter()
            .any(|a| !a.resources.is_empty());
    if rooms {
        return 3;
    }
    let services = scenario
        .services
        .iter()
        .any(|s| s.buffer_before_minutes != 0 || s.buffer_after_minutes != 0 || s.allow_series);
    let appointments = scenario
        .appointments
        .iter()
        .any(|a| a.buffer_before_minutes != 0 || a.buffer_after_minutes != 0 || a.series.is_some());
    if services || appointments { 2 } else { 1 }
}

/// Stored buffer minutes as the scenario holds them (the database keeps them 0 to 1440).
fn minutes(item: &str, value: i64) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::invalid(item, format!("{value} minutes")))
}

/// The organisation's settings, as a scenario writes them.
pub(crate) fn settings_of(org: &Organisation) -> Settings {
    Settings {
        resolution_minutes: u32::try_from(org.resolution_minutes).unwrap_or(0),
        slot_step_minutes: u32::try_from(org.slot_step_minutes).unwrap_or(0),
        min_notice_minutes: u32::try_from(org.min_notice_minutes).unwrap_or(0),
        max_days_ahead: u32::try_from(org.max_days_ahead).unwrap_or(0),
    }
}
