//! The scenario document as an organisation's import/export format: [`import`] writes
//! a scenario's rows, [`export`] reads them back through the loader (the crate-private
//! `scenario_rows`, which also feeds every slot query), and [`check_setup`] holds a
//! changed setup to the scenario rules.

use std::collections::HashMap;

use slot_engine::scenario::{Scenario, Text};
use slot_engine::{Date, Model};

use crate::db::{Exec, Tx, execute, scalar};
use crate::error::{Error, Result};
use crate::organisation::{self, Organisation};
use crate::scenario_rows::{Selection, load, mask_of};
use crate::time::Clock;

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
    // Validate first: the engine's rules are the format's rules. The model also places
    // each appointment in its clinic.
    let model = Model::new(&Scenario {
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
    let resource_ids = import_resources(tx, o, scenario, &clinic_ids).await?;
    let mut service_ids: HashMap<&str, i64> = HashMap::new();
    for s in &scenario.services {
        let id = scalar!(
            tx.exec(),
            i64,
            "INSERT INTO services (org_id, key, code, name, description, duration_minutes, \
             book_from_portal, portal_conflicts, practitioner_type_id, buffer_before_minutes, \
             buffer_after_minutes, allow_series) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            o,
            s.id.as_str(),
            s.code.as_ref().map(Text::as_str),
            s.name.as_ref().unwrap_or(&s.id).as_str(),
            s.description.as_ref().map(Text::as_str),
            i64::from(s.duration_minutes),
            s.book_from_portal,
            i64::from(s.portal_conflicts),
            s.practitioner_type.as_ref().map(|k| kind_ids[k.as_str()]),
            i64::from(s.buffer_before_minutes),
            i64::from(s.buffer_after_minutes),
            s.allow_series
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
        // The model refused a resource named twice in one service, so each goes in once.
        for (n, requirement) in s.requires.iter().enumerate() {
            for r in requirement {
                execute!(
                    tx.exec(),
                    "INSERT INTO service_requirements (org_id, service_id, requirement, resource_id) \
                     VALUES ($1, $2, $3, $4)",
                    o,
                    id,
                    n as i64,
                    resource_ids[r.as_str()]
                )?;
            }
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
                clinic_id: Some(appointment_clinic(&model, &clinic_ids, a)),
                telehealth: false,
                start_ns: a.start.unix_nanos(),
                end_ns: a.end.unix_nanos(),
                status: a.status.into(),
                channel: crate::appointment_status::Channel::Import,
                override_reason: None,
                override_by: None,
                idempotency_key: None,
                actor: "import".to_owned(),
                buffers: slot_engine::Buffers {
                    before_minutes: a.buffer_before_minutes,
                    after_minutes: a.buffer_after_minutes,
                },
                resources: a
                    .resources
                    .iter()
                    .map(|r| resource_ids[r.as_str()])
                    .collect(),
            }
        })
        .collect();
    let in_series: Vec<Option<&str>> = scenario
        .appointments
        .iter()
        .map(|a| a.series.as_ref().map(Text::as_str))
        .collect();
    crate::appointment::series::import_rows(tx, o, rows, &in_series, now).await?;
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

/// Writes a scenario's rooms and equipment with their availability records, blocks
/// and time off, and returns their row ids by scenario id.
async fn import_resources<'s>(
    tx: &mut Tx,
    o: i64,
    scenario: &'s Scenario,
    clinic_ids: &HashMap<&str, i64>,
) -> Result<HashMap<&'s str, i64>> {
    let mut resource_ids = HashMap::new();
    for r in &scenario.resources {
        let id = scalar!(
            tx.exec(),
            i64,
            "INSERT INTO resources (org_id, key, name, kind, clinic_id, capacity, always_available) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            o,
            r.id.as_str(),
            r.name.as_ref().unwrap_or(&r.id).as_str(),
            r.kind.as_str(),
            clinic_ids[r.clinic.as_str()],
            i64::from(r.capacity),
            r.availability.is_none()
        )?;
        resource_ids.insert(r.id.as_str(), id);
        for record in r.availability.iter().flatten() {
            let record_id = scalar!(
                tx.exec(),
                i64,
                "INSERT INTO resource_availability_records (org_id, resource_id, start_date, end_date) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
                o,
                id,
                record.start_date.to_string(),
                record.end_date.map(|d| d.to_string())
            )?;
            for (n, b) in record.blocks.iter().enumerate() {
                execute!(
                    tx.exec(),
                    "INSERT INTO resource_availability_blocks (org_id, record_id, position, days, \
                     start_minute, end_minute) VALUES ($1, $2, $3, $4, $5, $6)",
                    o,
                    record_id,
                    n as i64,
                    mask_of(&b.days),
                    i64::from(b.start.minutes()),
                    i64::from(b.end.minutes())
                )?;
            }
        }
        for t in &r.time_off {
            execute!(
                tx.exec(),
                "INSERT INTO resource_time_off (org_id, resource_id, start_ns, end_ns) \
                 VALUES ($1, $2, $3, $4)",
                o,
                id,
                t.start.unix_nanos(),
                t.end.unix_nanos()
            )?;
        }
    }
    Ok(resource_ids)
}

/// The row id of an imported appointment's clinic, by the rule every appointment is
/// placed by ([`Model::appointment_clinic`]); the scenario was validated, so its names
/// resolve.
fn appointment_clinic(
    model: &Model,
    clinic_ids: &HashMap<&str, i64>,
    a: &slot_engine::scenario::Appointment,
) -> i64 {
    let practitioner = model
        .practitioner_ix(a.practitioner.as_str())
        .expect("a validated scenario's appointment names a practitioner of it");
    let schedule_type = a
        .schedule_type
        .as_ref()
        .and_then(|t| model.schedule_type_ix(t.as_str()));
    let clinic = model.appointment_clinic(practitioner, schedule_type, a.start);
    clinic_ids[model.clinic(clinic).id.as_str()]
}

/// Deletes an organisation's setup, patients and appointments (for a replacing import).
async fn clear(tx: &mut Tx, org: i64) -> Result<()> {
    for table in [
        "appointment_resources",
        "appointments",
        "appointment_series",
        "portal_accounts",
        "patient_practitioners",
        "patients",
        "service_schedule_types",
        "service_requirements",
        "services",
        "resource_time_off",
        "resource_availability_blocks",
        "resource_availability_records",
        "resources",
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
