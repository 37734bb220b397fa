//! `Appointment` read and search: the organisation's appointments with a patient
//! (blocked time, which has none, is not an appointment here). The patient's name is
//! given only to keys with `patients:read`; the reference alone otherwise.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};
use store::Organisation;
use store::appointment::{Appointment, AppointmentStatus};

use crate::state::AppState;

use super::outcome::Outcome;
use super::resource::{
    Bounds, Fhir, FhirResult, base, instant_in, instant_utc, params, reference, referenced_id,
    row_id, search_answer, service_type, single,
};
use crate::auth::api_key::{ApiKeyCaller, Scope};

/// The longest date range one Appointment search may cover.
const MAX_SEARCH_DAYS: i64 = 366;

/// An appointment status as FHIR says it.
pub(super) fn status_code(status: AppointmentStatus) -> &'static str {
    match status {
        AppointmentStatus::Booked => "booked",
        AppointmentStatus::Pending => "pending",
        AppointmentStatus::Arrived => "arrived",
        AppointmentStatus::Cancelled => "cancelled",
        AppointmentStatus::Completed => "fulfilled",
        AppointmentStatus::NoShow => "noshow",
    }
}

/// The names an appointment's references display, read once for a whole answer.
#[derive(Debug, Default)]
pub(super) struct Names {
    practitioners: HashMap<i64, String>,
    clinics: HashMap<i64, (String, String)>,
    services: HashMap<i64, (String, String)>,
    /// The patients' names, only for a key with `patients:read`.
    patients: Option<HashMap<i64, String>>,
}

impl Names {
    /// The organisation's practitioners, clinics and services, and the patients of
    /// `appointments` when `with_patients`.
    pub(super) async fn load(
        state: &AppState,
        org: &Organisation,
        appointments: &[Appointment],
        with_patients: bool,
    ) -> Result<Names, Outcome> {
        let mut conn = state.db.conn().await?;
        let practitioners = store::practitioner::all(conn.exec(), org.id)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let clinics = store::clinic::all(conn.exec(), org.id)
            .await?
            .into_iter()
            .map(|c| (c.id, (c.name, c.timezone)))
            .collect();
        let services = store::service::all(conn.exec(), org.id)
            .await?
            .into_iter()
            .map(|s| (s.id, (s.key, s.name)))
            .collect();
        let patients = if with_patients {
            let mut names = HashMap::new();
            for id in appointments.iter().filter_map(|a| a.patient_id) {
                if let std::collections::hash_map::Entry::Vacant(e) = names.entry(id) {
                    let p = store::patient::get(conn.exec(), org.id, id).await?;
                    e.insert(p.full_name());
                }
            }
            Some(names)
        } else {
            None
        };
        Ok(Names {
            practitioners,
            clinics,
            services,
            patients,
        })
    }
}

/// An appointment as a FHIR `Appointment`.
pub(super) fn resource(base: &str, a: &Appointment, names: &Names) -> Value {
    let (clinic_name, zone) = a
        .clinic_id
        .and_then(|c| names.clinics.get(&c))
        .map(|(n, z)| (n.as_str(), z.as_str()))
        .unwrap_or(("", "UTC"));
    let pending = a.status == AppointmentStatus::Pending;
    let mut participants = vec![json!({
        "actor": reference(
            "PractitionerRole",
            a.practitioner_id,
            names.practitioners.get(&a.practitioner_id).map_or("", String::as_str),
        ),
        "required": "required",
        "status": if pending { "needs-action" } else { "accepted" },
    })];
    if let Some(clinic) = a.clinic_id {
        participants.push(json!({
            "actor": reference("Location", clinic, clinic_name),
            "required": "required",
            "status": "accepted",
        }));
    }
    if let Some(patient) = a.patient_id {
        let name = names
            .patients
            .as_ref()
            .and_then(|p| p.get(&patient))
            .map_or("", String::as_str);
        participants.push(json!({
            "actor": reference("Patient", patient, name),
            "required": "required",
            "status": "accepted",
        }));
    }
    let mut appointment = json!({
        "resourceType": "Appointment",
        "id": a.id.to_string(),
        "meta": {"versionId": (a.sequence + 1).to_string(), "lastUpdated": instant_utc(a.updated_at_ns)},
        "status": status_code(a.status),
        "start": instant_in(a.start_ns, zone),
        "end": instant_in(a.end_ns, zone),
        "minutesDuration": ((a.end_ns - a.start_ns) / 60_000_000_000).max(1),
        "created": instant_utc(a.created_at_ns),
        "participant": participants,
    });
    if let Some((key, name)) = a.service_id.and_then(|s| names.services.get(&s)) {
        appointment["serviceType"] = json!([service_type(base, key, name)]);
    }
    if a.telehealth {
        appointment["appointmentType"] = json!({
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0276", "code": "ROUTINE"}],
            "text": "video appointment",
        });
    }
    if a.status == AppointmentStatus::Cancelled
        && let Some(reason) = a.cancel_reason.as_deref().filter(|r| !r.trim().is_empty())
    {
        appointment["cancelationReason"] = json!({"text": reason});
    }
    appointment
}

/// One appointment of the organisation that has a patient, by its FHIR id.
pub(super) async fn find(
    state: &AppState,
    org: &Organisation,
    id: &str,
) -> Result<Appointment, Outcome> {
    let missing = || Outcome::not_found(format!("Appointment/{id}"));
    let row = row_id(id).ok_or_else(missing)?;
    let mut conn = state.db.conn().await?;
    match store::appointment::get(conn.exec(), org.id, row).await {
        Ok(a) if a.patient_id.is_some() => Ok(a),
        Ok(_) | Err(store::Error::NotFound(_)) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

/// `GET Appointment/{id}`.
pub(super) async fn read(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    Path((_, id)): Path<(String, String)>,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let a = find(&state, &caller.org, &id).await?;
    let names = Names::load(
        &state,
        &caller.org,
        std::slice::from_ref(&a),
        caller.require(Scope::PatientsRead).is_ok(),
    )
    .await?;
    Ok(Fhir::ok(resource(&base(&state, &caller.org), &a, &names)))
}

/// `GET Appointment?date=ge…&date=lt…[&practitioner=…][&status=…]`, or
/// `?patient=Patient/{id}` (which needs `patients:read`) with or without dates.
/// Dates without an offset are UTC days; a range is at most [`MAX_SEARCH_DAYS`].
pub(super) async fn search(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    RawQuery(query): RawQuery,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let org = &caller.org;
    let pairs = params(
        query.as_deref(),
        &["date", "patient", "practitioner", "status"],
    )?;
    let bounds = Bounds::parse(&pairs, "date", chrono_tz::UTC)?;
    let practitioner = single(&pairs, "practitioner")?
        .map(|p| {
            referenced_id("PractitionerRole", p).ok_or_else(|| {
                Outcome::invalid("practitioner", "practitioner must be PractitionerRole/{id}")
            })
        })
        .transpose()?;
    let statuses: Option<Vec<&str>> = single(&pairs, "status")?.map(|s| s.split(',').collect());
    const STATUSES: [&str; 6] = [
        "booked",
        "pending",
        "arrived",
        "cancelled",
        "fulfilled",
        "noshow",
    ];
    const OTHERS: [&str; 4] = ["proposed", "entered-in-error", "checked-in", "waitlist"];
    if let Some(bad) = statuses
        .iter()
        .flatten()
        .find(|s| !STATUSES.contains(s) && !OTHERS.contains(s))
    {
        return Err(Outcome::invalid(
            "status",
            format!("{bad:?} is not an Appointment status"),
        ));
    }
    let patient = match single(&pairs, "patient")? {
        None => None,
        Some(p) => {
            caller.require(Scope::PatientsRead)?;
            let id = referenced_id("Patient", p)
                .ok_or_else(|| Outcome::invalid("patient", "patient must be Patient/{id}"))?;
            let mut conn = state.db.conn().await?;
            match store::patient::get(conn.exec(), org.id, id).await {
                Ok(_) => Some(id),
                Err(store::Error::NotFound(_)) => {
                    return Err(Outcome::invalid(
                        "patient",
                        format!("Patient/{id} not found"),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let from_ns = bounds.from.map(|b| b.unix_nanos());
    let to_ns = bounds.to.map(|b| b.unix_nanos());
    let mut conn = state.db.conn().await?;
    let found = match (patient, from_ns, to_ns) {
        (Some(patient), _, _) => {
            let mut all = store::appointment::of_patient(conn.exec(), org.id, patient).await?;
            all.reverse();
            all
        }
        (None, Some(from), Some(to)) => {
            if to - from > MAX_SEARCH_DAYS * 86_400 * 1_000_000_000 {
                return Err(Outcome::too_costly(
                    "date",
                    format!("search at most {MAX_SEARCH_DAYS} days of appointments at a time"),
                ));
            }
            store::appointment::in_range(conn.exec(), org, from, to, practitioner).await?
        }
        _ => {
            return Err(Outcome::invalid(
                "date",
                "date needs a lower bound (ge or gt) and an upper bound (lt or le), unless patient is given",
            ));
        }
    };
    drop(conn);
    let found: Vec<Appointment> = found
        .into_iter()
        .filter(|a| a.patient_id.is_some())
        .filter(|a| from_ns.is_none_or(|f| a.start_ns >= f))
        .filter(|a| to_ns.is_none_or(|t| a.start_ns < t))
        .filter(|a| practitioner.is_none_or(|p| a.practitioner_id == p))
        .filter(|a| {
            statuses
                .as_ref()
                .is_none_or(|s| s.contains(&status_code(a.status)))
        })
        .collect();
    let names = Names::load(
        &state,
        org,
        &found,
        caller.require(Scope::PatientsRead).is_ok(),
    )
    .await?;
    let base = base(&state, org);
    Ok(search_answer(
        &base,
        "Appointment",
        query.as_deref(),
        found.iter().map(|a| resource(&base, a, &names)).collect(),
    ))
}
