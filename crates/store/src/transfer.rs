//! The scenario document as an organisation's import/export format, and the loader
//! that turns rows back into a scenario — the whole organisation for `export`, its
//! setup for the engine (kept in memory by `setup_cache`), and the time appointments
//! take in a window of dates.
//!
//! The loader runs a fixed number of queries (about a dozen) whatever the number of
//! practitioners, days or appointments: no N+1.

use std::collections::HashMap;
use std::str::FromStr;

use slot_engine::scenario::{
    Appointment, AvailabilityRecord, Block, Clinic, Patient, PortalBlock, Practitioner, Scenario,
    ScheduleType, Service, Settings, Status, Text, TimeOff,
};
use slot_engine::{Date, Model, WallTime, Weekday};

use crate::db::{Exec, Tx, execute, rows, scalar};
use crate::error::{Error, Result};
use crate::organisation::{self, Organisation};
use crate::time::{Clock, instant};

/// What to load besides the setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Selection {
    /// The patients.
    pub(crate) patients: bool,
    /// Every appointment, cancelled included, with all their references.
    pub(crate) appointments: bool,
}

/// Row ids by scenario id, for what a loaded scenario names.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ids {
    pub(crate) clinics: HashMap<String, i64>,
    pub(crate) schedule_types: HashMap<String, i64>,
    pub(crate) practitioners: HashMap<String, i64>,
    pub(crate) services: HashMap<String, i64>,
}

#[derive(sqlx::FromRow)]
struct ClinicRow {
    id: i64,
    key: String,
    name: String,
    timezone: String,
}

#[derive(sqlx::FromRow)]
struct HolidayRow {
    clinic_id: i64,
    day: String,
}

#[derive(sqlx::FromRow)]
struct ScheduleTypeRow {
    id: i64,
    key: String,
    code: Option<String>,
    name: String,
    clinic_key: Option<String>,
    default_duration_minutes: i64,
    allow_conflicts: bool,
    telehealth: bool,
    background_color: String,
    font_color: String,
}

#[derive(sqlx::FromRow)]
struct PractitionerRow {
    id: i64,
    key: String,
    name: String,
    type_key: String,
    home_clinic_key: String,
    email: Option<String>,
    active: bool,
    bookable_in_portal: bool,
}

#[derive(sqlx::FromRow)]
struct OwnerKeyRow {
    owner_id: i64,
    key: String,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    practitioner_id: i64,
    start_date: String,
    end_date: Option<String>,
    clinic_key: Option<String>,
    slot_step_minutes: Option<i64>,
    portal_customised: bool,
}

#[derive(sqlx::FromRow)]
struct BlockRow {
    record_id: i64,
    days: i64,
    start_minute: i64,
    end_minute: i64,
    schedule_type_key: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TimeOffRow {
    practitioner_id: i64,
    start_ns: i64,
    end_ns: i64,
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    id: i64,
    key: String,
    code: Option<String>,
    name: String,
    description: Option<String>,
    duration_minutes: i64,
    book_from_portal: bool,
    portal_conflicts: i64,
    practitioner_type_key: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PatientRow {
    id: i64,
    key: String,
    first_name: String,
    last_name: String,
    email: String,
    practitioners_restricted: bool,
}

#[derive(sqlx::FromRow)]
struct AppointmentRow {
    key: Option<String>,
    practitioner_id: i64,
    patient_key: Option<String>,
    service_key: Option<String>,
    schedule_type_key: Option<String>,
    start_ns: i64,
    end_ns: i64,
    status: String,
}

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

/// Weekdays of a stored bit set (Monday = 1 … Sunday = 64).
pub(crate) fn days_of(mask: i64) -> Vec<Weekday> {
    Weekday::ALL
        .into_iter()
        .filter(|d| mask & (1 << d.index()) != 0)
        .collect()
}

/// The stored bit set of weekdays.
pub(crate) fn mask_of(days: &[Weekday]) -> i64 {
    days.iter().fold(0, |m, d| m | (1 << d.index()))
}

/// Loads the selected part of an organisation as a scenario (without query).
pub(crate) async fn load(
    exec: &mut Exec<'_>,
    org: &Organisation,
    sel: Selection,
) -> Result<(Scenario, Ids)> {
    let o = org.id;
    let clinic_rows = rows!(
        exec.reborrow(),
        fetch_all,
        ClinicRow,
        "SELECT id, key, name, timezone FROM clinics WHERE org_id = $1 ORDER BY key",
        o
    )?;
    let holiday_rows = rows!(
        exec.reborrow(),
        fetch_all,
        HolidayRow,
        "SELECT clinic_id, day FROM clinic_holidays WHERE org_id = $1 ORDER BY clinic_id, day",
        o
    )?;
    let type_rows = rows!(
        exec.reborrow(),
        fetch_all,
        ScheduleTypeRow,
        "SELECT st.id, st.key, st.code, st.name, c.key AS clinic_key, st.default_duration_minutes, \
                st.allow_conflicts, st.telehealth, st.background_color, st.font_color \
         FROM schedule_types st LEFT JOIN clinics c ON c.id = st.clinic_id \
         WHERE st.org_id = $1 ORDER BY st.key",
        o
    )?;
    let practitioner_rows = rows!(
        exec.reborrow(),
        fetch_all,
        PractitionerRow,
        "SELECT p.id, p.key, p.name, t.key AS type_key, c.key AS home_clinic_key, p.email, p.active, \
                p.bookable_in_portal \
         FROM practitioners p JOIN practitioner_types t ON t.id = p.type_id \
              JOIN clinics c ON c.id = p.home_clinic_id \
         WHERE p.org_id = $1 ORDER BY p.key",
        o
    )?;
    let assignment_rows = rows!(
        exec.reborrow(),
        fetch_all,
        OwnerKeyRow,
        "SELECT pst.practitioner_id AS owner_id, st.key FROM practitioner_schedule_types pst \
         JOIN schedule_types st ON st.id = pst.schedule_type_id \
         WHERE pst.org_id = $1 ORDER BY pst.practitioner_id, st.key",
        o
    )?;
    let record_rows = rows!(
        exec.reborrow(),
        fetch_all,
        RecordRow,
        "SELECT r.id, r.practitioner_id, r.start_date, r.end_date, c.key AS clinic_key, \
                r.slot_step_minutes, r.portal_customised \
         FROM availability_records r LEFT JOIN clinics c ON c.id = r.clinic_id \
         WHERE r.org_id = $1 ORDER BY r.practitioner_id, r.start_date",
        o
    )?;
    let block_rows = rows!(
        exec.reborrow(),
        fetch_all,
        BlockRow,
        "SELECT b.record_id, b.days, b.start_minute, b.end_minute, st.key AS schedule_type_key \
         FROM availability_blocks b JOIN schedule_types st ON st.id = b.schedule_type_id \
         WHERE b.org_id = $1 ORDER BY b.record_id, b.position",
        o
    )?;
    let portal_rows = rows!(
        exec.reborrow(),
        fetch_all,
        BlockRow,
        "SELECT record_id, days, start_minute, end_minute, NULL AS schedule_type_key \
         FROM portal_blocks WHERE org_id = $1 ORDER BY record_id, position",
        o
    )?;
    let time_off_rows = rows!(
        exec.reborrow(),
        fetch_all,
        TimeOffRow,
        "SELECT practitioner_id, start_ns, end_ns FROM time_off WHERE org_id = $1 \
         ORDER BY practitioner_id, start_ns, end_ns",
        o
    )?;
    let service_rows = rows!(
        exec.reborrow(),
        fetch_all,
        ServiceRow,
        "SELECT s.id, s.key, s.code, s.name, s.description, s.duration_minutes, s.book_from_portal, \
                s.portal_conflicts, t.key AS practitioner_type_key \
         FROM services s LEFT JOIN practitioner_types t ON t.id = s.practitioner_type_id \
         WHERE s.org_id = $1 ORDER BY s.key",
        o
    )?;
    let service_type_rows = rows!(
        exec.reborrow(),
        fetch_all,
        OwnerKeyRow,
        "SELECT sst.service_id AS owner_id, st.key FROM service_schedule_types sst \
         JOIN schedule_types st ON st.id = sst.schedule_type_id \
         WHERE sst.org_id = $1 ORDER BY sst.service_id, st.key",
        o
    )?;
    let (patient_rows, patient_practitioner_rows) = if sel.patients {
        (
            rows!(
                exec.reborrow(),
                fetch_all,
                PatientRow,
                "SELECT id, key, first_name, last_name, email, practitioners_restricted \
                 FROM patients WHERE org_id = $1 ORDER BY key",
                o
            )?,
            rows!(
                exec.reborrow(),
                fetch_all,
                OwnerKeyRow,
                "SELECT pp.patient_id AS owner_id, p.key FROM patient_practitioners pp \
                 JOIN practitioners p ON p.id = pp.practitioner_id \
                 WHERE pp.org_id = $1 ORDER BY pp.patient_id, p.key",
                o
            )?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let appointment_rows = if sel.appointments {
        rows!(
            exec.reborrow(),
            fetch_all,
            AppointmentRow,
            "SELECT a.key, a.practitioner_id, pa.key AS patient_key, s.key AS service_key, \
                    st.key AS schedule_type_key, a.start_ns, a.end_ns, a.status \
             FROM appointments a LEFT JOIN patients pa ON pa.id = a.patient_id \
                  LEFT JOIN services s ON s.id = a.service_id \
                  LEFT JOIN schedule_types st ON st.id = a.schedule_type_id \
             WHERE a.org_id = $1 ORDER BY a.practitioner_id, a.start_ns, a.id",
            o
        )?
    } else {
        Vec::new()
    };

    // Assemble.
    let mut ids = Ids::default();
    let mut clinics = Vec::with_capacity(clinic_rows.len());
    let mut holidays_by_clinic: HashMap<i64, Vec<Date>> = HashMap::new();
    for h in holiday_rows {
        holidays_by_clinic
            .entry(h.clinic_id)
            .or_default()
            .push(stored("holiday", &h.day)?);
    }
    for c in &clinic_rows {
        ids.clinics.insert(c.key.clone(), c.id);
        clinics.push(Clinic {
            id: text("clinic id", c.key.clone())?,
            name: Some(text("clinic name", c.name.clone())?),
            timezone: stored("timezone", &c.timezone)?,
            holidays: holidays_by_clinic.remove(&c.id).unwrap_or_default(),
        });
    }
    let mut schedule_types = Vec::with_capacity(type_rows.len());
    for t in type_rows {
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
    for a in assignment_rows {
        assignments
            .entry(a.owner_id)
            .or_default()
            .push(text("schedule type", a.key)?);
    }
    let mut blocks: HashMap<i64, Vec<Block>> = HashMap::new();
    for b in block_rows {
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
    for b in portal_rows {
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
    for r in record_rows {
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
    for t in time_off_rows {
        time_off
            .entry(t.practitioner_id)
            .or_default()
            .push(TimeOff {
                start: instant(t.start_ns)?,
                end: instant(t.end_ns)?,
            });
    }
    let mut practitioner_key: HashMap<i64, Text> = HashMap::new();
    let mut practitioners = Vec::with_capacity(practitioner_rows.len());
    for p in practitioner_rows {
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
    for s in service_type_rows {
        service_types
            .entry(s.owner_id)
            .or_default()
            .push(text("schedule type", s.key)?);
    }
    let mut services = Vec::with_capacity(service_rows.len());
    for s in service_rows {
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
        });
    }
    let mut patient_practitioners: HashMap<i64, Vec<Text>> = HashMap::new();
    for p in patient_practitioner_rows {
        patient_practitioners
            .entry(p.owner_id)
            .or_default()
            .push(text("practitioner", p.key)?);
    }
    let mut patients = Vec::with_capacity(patient_rows.len());
    for p in patient_rows {
        let list = patient_practitioners.remove(&p.id).unwrap_or_default();
        patients.push(Patient {
            id: text("patient id", p.key)?,
            first_name: text("first name", p.first_name)?,
            last_name: text("last name", p.last_name)?,
            email: text("email", p.email)?,
            available_practitioners: p.practitioners_restricted.then_some(list),
        });
    }
    let mut appointments = Vec::with_capacity(appointment_rows.len());
    for a in appointment_rows {
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
            status: status_of(&a.status)?,
        });
    }
    let scenario = Scenario {
        version: 1,
        settings: settings_of(org),
        clinics,
        schedule_types,
        practitioners,
        services,
        patients,
        appointments,
        query: None,
    };
    Ok((scenario, ids))
}

/// The time taken by `practitioners`' appointments that overlap `[from_ns, to_ns)`,
/// but `skip` and cancelled ones, as (practitioner row, start, end): what the engine
/// counts against capacity.
pub(crate) async fn window_appointments(
    exec: &mut Exec<'_>,
    org: &Organisation,
    practitioners: &[i64],
    from_ns: i64,
    to_ns: i64,
    skip: Option<i64>,
) -> Result<Vec<(i64, i64, i64)>> {
    let practitioner_list = serde_json::to_string(practitioners).expect("ids serialize");
    // Bounded below by the longest appointment, so the index on (org, practitioner,
    // start) is scanned only over the window. Each practitioner's intervals come packed
    // in one row ("start:end,…"): thousands of single rows would cost more to ferry from
    // the database than to use.
    let earliest_start = from_ns.saturating_sub(org.max_appointment_ns);
    let packed = match exec {
        Exec::Sqlite(_) => "group_concat(start_ns || ':' || end_ns, ',')",
        Exec::Postgres(_) => "string_agg(start_ns::text || ':' || end_ns::text, ',')",
    };
    let sql = format!(
        "SELECT practitioner_id AS owner_id, {packed} AS key \
         FROM appointments \
         WHERE org_id = $1 AND {} AND start_ns >= $3 AND start_ns < $4 AND end_ns > $5 \
               AND status <> 'cancelled' AND id <> $6 \
         GROUP BY practitioner_id",
        exec.in_json_list("practitioner_id", 2)
    );
    let groups = rows!(
        exec.reborrow(),
        fetch_all,
        OwnerKeyRow,
        &sql,
        org.id,
        &practitioner_list,
        earliest_start,
        to_ns,
        from_ns,
        skip.unwrap_or(-1)
    )?;
    let mut intervals = Vec::new();
    for group in groups {
        for pair in group.key.split(',') {
            let parsed = pair
                .split_once(':')
                .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)));
            let (start_ns, end_ns) =
                parsed.ok_or_else(|| Error::invalid("stored appointment", pair.to_owned()))?;
            intervals.push((group.owner_id, start_ns, end_ns));
        }
    }
    Ok(intervals)
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

/// Nanoseconds in a day.
pub(crate) const DAY_NS: i64 = 86_400_000_000_000;

/// Nanoseconds from the Unix epoch to `date`'s midnight, read as UTC.
pub(crate) fn day_start_ns(date: Date) -> i64 {
    date.naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
        * 1_000_000_000
}

/// The scenario spelling of a stored status.
pub(crate) fn status_of(s: &str) -> Result<Status> {
    Ok(match s {
        "booked" => Status::Booked,
        "pending" => Status::Pending,
        "cancelled" => Status::Cancelled,
        "completed" => Status::Completed,
        "no_show" => Status::NoShow,
        other => return Err(Error::invalid("stored status", other.to_owned())),
    })
}

/// The whole organisation — setup, patients and appointments — as a scenario without a
/// query, losing nothing the format lists.
pub async fn export(exec: &mut Exec<'_>, org: &Organisation) -> Result<Scenario> {
    let (scenario, _) = load(
        exec,
        org,
        Selection {
            patients: true,
            appointments: true,
        },
    )
    .await?;
    Ok(scenario)
}

/// Checks the organisation's whole setup (without appointments) against the scenario
/// rules, inside the transaction that changed it: the caller rolls back on error, so an
/// invalid setup is never committed. The error names the offending item.
pub async fn check_setup(tx: &mut Tx, org: i64) -> Result<()> {
    let org = organisation::by_id(tx.exec(), org).await?;
    let (scenario, _) = load(
        &mut tx.exec(),
        &org,
        Selection {
            patients: true,
            appointments: false,
        },
    )
    .await?;
    Model::new(&scenario)?;
    Ok(())
}

/// How an import treats an organisation that already has data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportMode {
    /// Refuse unless the organisation is new or empty.
    IntoEmpty,
    /// Delete the organisation's setup, patients and appointments first (staff
    /// accounts, settings outside the scenario and the audit log stay).
    Replace,
}

/// Imports a scenario's whole setup and appointments into the organisation `slug`
/// (created if missing), in one transaction. An invalid scenario is refused naming the
/// item and changes nothing.
pub async fn import(
    tx: &mut Tx,
    slug: &str,
    scenario: &Scenario,
    mode: ImportMode,
    clock: &dyn Clock,
) -> Result<Organisation> {
    // Validate first: the engine's rules are the format's rules.
    Model::new(&Scenario {
        query: None,
        ..scenario.clone()
    })?;
    let org = match organisation::by_slug(tx.exec(), slug).await? {
        Some(org) => {
            if !organisation::is_empty(tx.exec(), org.id).await? {
                match mode {
                    ImportMode::IntoEmpty => {
                        return Err(Error::invalid(
                            "org",
                            format!(
                                "organisation {slug:?} already has data; import with replace to overwrite it"
                            ),
                        ));
                    }
                    ImportMode::Replace => clear(tx, org.id).await?,
                }
            }
            org
        }
        None => organisation::create(tx, slug, slug, clock).await?,
    };
    let o = org.id;
    let now = clock.now_ns();
    let s = &scenario.settings;
    execute!(
        tx.exec(),
        "UPDATE organisations SET resolution_minutes = $2, slot_step_minutes = $3, \
         min_notice_minutes = $4, max_days_ahead = $5 WHERE id = $1",
        o,
        i64::from(s.resolution_minutes),
        i64::from(s.slot_step_minutes),
        i64::from(s.min_notice_minutes),
        i64::from(s.max_days_ahead)
    )?;

    let mut clinic_ids: HashMap<&str, i64> = HashMap::new();
    for c in &scenario.clinics {
        let id = scalar!(
            tx.exec(),
            i64,
            "INSERT INTO clinics (org_id, key, name, timezone) VALUES ($1, $2, $3, $4) RETURNING id",
            o,
            c.id.as_str(),
            c.name.as_ref().unwrap_or(&c.id).as_str(),
            c.timezone.name()
        )?;
        clinic_ids.insert(c.id.as_str(), id);
        let mut days: Vec<Date> = c.holidays.clone();
        days.sort();
        days.dedup();
        for day in days {
            execute!(
                tx.exec(),
                "INSERT INTO clinic_holidays (org_id, clinic_id, day) VALUES ($1, $2, $3)",
                o,
                id,
                day.to_string()
            )?;
        }
    }
    let mut type_labels: Vec<&str> = scenario
        .practitioners
        .iter()
        .map(|p| p.kind.as_str())
        .chain(
            scenario
                .services
                .iter()
                .filter_map(|s| s.practitioner_type.as_ref().map(Text::as_str)),
        )
        .collect();
    type_labels.sort_unstable();
    type_labels.dedup();
    let mut kind_ids: HashMap<&str, i64> = HashMap::new();
    for label in type_labels {
        let id = scalar!(
            tx.exec(),
            i64,
            "INSERT INTO practitioner_types (org_id, key, name) VALUES ($1, $2, $3) RETURNING id",
            o,
            label,
            crate::keys::title_from_key(label)
        )?;
        kind_ids.insert(label, id);
    }
    let mut type_ids: HashMap<&str, i64> = HashMap::new();
    for t in &scenario.schedule_types {
        let id = scalar!(
            tx.exec(),
            i64,
            "INSERT INTO schedule_types (org_id, key, code, name, clinic_id, default_duration_minutes, \
             allow_conflicts, telehealth, background_color, font_color) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            o,
            t.id.as_str(),
            t.code.as_ref().map(Text::as_str),
            t.name.as_ref().unwrap_or(&t.id).as_str(),
            t.clinic.as_ref().map(|c| clinic_ids[c.as_str()]),
            i64::from(t.default_duration_minutes),
            t.allow_conflicts,
            t.telehealth,
            t.background_color.to_string(),
            t.font_color.to_string()
        )
        .map_err(crate::error::unique_as("code", "another schedule type has this code"))?;
        type_ids.insert(t.id.as_str(), id);
    }
    let mut practitioner_ids: HashMap<&str, i64> = HashMap::new();
    for p in &scenario.practitioners {
        let id = scalar!(
            tx.exec(),
            i64,
            "INSERT INTO practitioners (org_id, key, name, type_id, home_clinic_id, email, active, \
             bookable_in_portal) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            o,
            p.id.as_str(),
            p.name.as_ref().unwrap_or(&p.id).as_str(),
            kind_ids[p.kind.as_str()],
            clinic_ids[p.home_clinic.as_str()],
            p.email.as_ref().map(Text::as_str),
            p.active,
            p.bookable_in_portal
        )?;
        practitioner_ids.insert(p.id.as_str(), id);
        let mut assigned: Vec<&str> = p.schedule_types.iter().map(Text::as_str).collect();
        assigned.sort_unstable();
        assigned.dedup();
        for t in assigned {
            execute!(
                tx.exec(),
                "INSERT INTO practitioner_schedule_types (org_id, practitioner_id, schedule_type_id) \
                 VALUES ($1, $2, $3)",
                o,
                id,
                type_ids[t]
            )?;
        }
        for r in &p.availability {
            let record = scalar!(
                tx.exec(),
                i64,
                "INSERT INTO availability_records (org_id, practitioner_id, start_date, end_date, \
                 clinic_id, slot_step_minutes, portal_customised) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                o,
                id,
                r.start_date.to_string(),
                r.end_date.map(|d| d.to_string()),
                r.clinic.as_ref().map(|c| clinic_ids[c.as_str()]),
                r.slot_step_minutes.map(i64::from),
                r.portal_blocks.is_some()
            )?;
            for (n, b) in r.blocks.iter().enumerate() {
                execute!(
                    tx.exec(),
                    "INSERT INTO availability_blocks (org_id, record_id, position, days, start_minute, \
                     end_minute, schedule_type_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    o,
                    record,
                    n as i64,
                    mask_of(&b.days),
                    i64::from(b.start.minutes()),
                    i64::from(b.end.minutes()),
                    type_ids[b.schedule_type.as_str()]
                )?;
            }
            for (n, b) in r.portal_blocks.iter().flatten().enumerate() {
                execute!(
                    tx.exec(),
                    "INSERT INTO portal_blocks (org_id, record_id, position, days, start_minute, end_minute) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    o,
                    record,
                    n as i64,
                    mask_of(&b.days),
                    i64::from(b.start.minutes()),
                    i64::from(b.end.minutes())
                )?;
            }
        }
        for t in &p.time_off {
            execute!(
                tx.exec(),
                "INSERT INTO time_off (org_id, practitioner_id, start_ns, end_ns) VALUES ($1, $2, $3, $4)",
                o,
                id,
                t.start.unix_nanos(),
                t.end.unix_nanos()
            )?;
        }
    }
    let mut service_ids: HashMap<&str, i64> = HashMap::new();
    for s in &scenario.services {
        let id = scalar!(
            tx.exec(),
            i64,
            "INSERT INTO services (org_id, key, code, name, description, duration_minutes, \
             book_from_portal, portal_conflicts, practitioner_type_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            o,
            s.id.as_str(),
            s.code.as_ref().map(Text::as_str),
            s.name.as_ref().unwrap_or(&s.id).as_str(),
            s.description.as_ref().map(Text::as_str),
            i64::from(s.duration_minutes),
            s.book_from_portal,
            i64::from(s.portal_conflicts),
            s.practitioner_type.as_ref().map(|k| kind_ids[k.as_str()])
        )
        .map_err(crate::error::unique_as(
            "code",
            "another service has this code",
        ))?;
        service_ids.insert(s.id.as_str(), id);
        let mut types: Vec<&str> = s.schedule_types.iter().map(Text::as_str).collect();
        types.sort_unstable();
        types.dedup();
        for t in types {
            execute!(
                tx.exec(),
                "INSERT INTO service_schedule_types (org_id, service_id, schedule_type_id) VALUES ($1, $2, $3)",
                o,
                id,
                type_ids[t]
            )?;
        }
    }
    let mut patient_ids: HashMap<&str, i64> = HashMap::new();
    for p in &scenario.patients {
        let id = scalar!(
            tx.exec(),
            i64,
            "INSERT INTO patients (org_id, key, first_name, last_name, email, practitioners_restricted) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            o,
            p.id.as_str(),
            p.first_name.as_str(),
            p.last_name.as_str(),
            p.email.as_str(),
            p.available_practitioners.is_some()
        )?;
        patient_ids.insert(p.id.as_str(), id);
        let mut list: Vec<&str> = p
            .available_practitioners
            .iter()
            .flatten()
            .map(Text::as_str)
            .collect();
        list.sort_unstable();
        list.dedup();
        for practitioner in list {
            execute!(
                tx.exec(),
                "INSERT INTO patient_practitioners (org_id, patient_id, practitioner_id) VALUES ($1, $2, $3)",
                o,
                id,
                practitioner_ids[practitioner]
            )?;
        }
    }
    let mut longest = 0_i64;
    let rows: Vec<crate::appointment::NewRow> = scenario
        .appointments
        .iter()
        .map(|a| {
            longest = longest.max(a.end.unix_nanos() - a.start.unix_nanos());
            crate::appointment::NewRow {
                key: a.id.as_ref().map(|k| k.to_string()),
                practitioner_id: practitioner_ids[a.practitioner.as_str()],
                patient_id: a.patient.as_ref().map(|p| patient_ids[p.as_str()]),
                service_id: a.service.as_ref().map(|s| service_ids[s.as_str()]),
                schedule_type_id: a.schedule_type.as_ref().map(|t| type_ids[t.as_str()]),
                clinic_id: None,
                start_ns: a.start.unix_nanos(),
                end_ns: a.end.unix_nanos(),
                status: a.status.as_str().to_owned(),
                channel: "import".to_owned(),
                override_reason: None,
                override_by: None,
                idempotency_key: None,
                actor: "import".to_owned(),
            }
        })
        .collect();
    crate::appointment::insert_many(tx, o, &rows, now).await?;
    organisation::note_appointment_length(tx, o, longest).await?;
    crate::audit::record(
        tx,
        o,
        "import",
        "organisation.import",
        "organisation",
        Some(o),
        serde_json::json!({
            "clinics": scenario.clinics.len(),
            "practitioners": scenario.practitioners.len(),
            "patients": scenario.patients.len(),
            "appointments": scenario.appointments.len(),
        }),
        now,
    )
    .await?;
    organisation::by_id(tx.exec(), o).await
}

/// Deletes an organisation's setup, patients and appointments (for a replacing import).
async fn clear(tx: &mut Tx, org: i64) -> Result<()> {
    for table in [
        "appointments",
        "portal_accounts",
        "patient_practitioners",
        "patients",
        "service_schedule_types",
        "services",
        "time_off",
        "portal_blocks",
        "availability_blocks",
        "availability_records",
        "practitioner_schedule_types",
    ] {
        execute!(
            tx.exec(),
            &format!("DELETE FROM {table} WHERE org_id = $1"),
            org
        )?;
    }
    execute!(
        tx.exec(),
        "UPDATE staff_users SET practitioner_id = NULL WHERE org_id = $1",
        org
    )?;
    for table in [
        "practitioners",
        "schedule_types",
        "practitioner_types",
        "clinic_holidays",
        "clinics",
    ] {
        execute!(
            tx.exec(),
            &format!("DELETE FROM {table} WHERE org_id = $1"),
            org
        )?;
    }
    execute!(
        tx.exec(),
        "UPDATE organisations SET max_appointment_ns = 0 WHERE id = $1",
        org
    )?;
    Ok(())
}
