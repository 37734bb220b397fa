//! Booking and cancelling through FHIR: `POST Appointment` naming a free `Slot` and a
//! `Patient`, `POST Appointment/$book` (a `Parameters` holding that Appointment, as IHE
//! ITI Scheduling and Medplum take it), and cancelling by `PUT` or `PATCH` of status
//! `cancelled`. Every booking goes through [`store::appointment::book_portal_as`]
//! (see the module documentation of [`super`] for why the portal's rules), every
//! cancel through [`store::appointment::cancel`], audited with the API key.
//!
//! `If-None-Exist: identifier=[system|]value` makes a create conditional: the value is
//! the booking's idempotency key, the key's own, so the same request sent again
//! answers the appointment it made (200) instead of booking twice.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use store::appointment::{self, Appointment, PortalBooking, PortalOutcome};

use crate::notices::AppointmentContext;
use crate::notices::staff::PortalChange;
use crate::state::AppState;

use super::appointment::{Names, find, resource};
use super::outcome::Outcome;
use super::resource::{Fhir, base, referenced_id};
use super::slot;
use crate::auth::api_key::{ApiKeyCaller, Scope};

/// `POST Appointment`: books the Slot the Appointment names for its Patient.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Outcome> {
    caller.require(Scope::Book)?;
    let asked = json_body(&body)?;
    let (appointment, replayed) = book_appointment(&state, &caller, &headers, &asked, "").await?;
    let base = base(&state, &caller.org);
    let shown = shown(&state, &caller, &appointment).await?;
    let location = format!("{base}/Appointment/{}", appointment.id);
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = Fhir(status, shown).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// `POST Appointment/$book`: a `Parameters` whose `appointment` parameter is the
/// Appointment to book; answers a `Parameters` with the booked one as `return`.
pub(super) async fn book(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Outcome> {
    caller.require(Scope::Book)?;
    let parameters = json_body(&body)?;
    if parameters["resourceType"] != "Parameters" {
        return Err(Outcome::invalid(
            "Parameters",
            "$book takes a Parameters resource with an appointment parameter",
        ));
    }
    let asked = parameters["parameter"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "appointment")
        .map(|p| &p["resource"])
        .filter(|r| r.is_object())
        .ok_or_else(|| {
            Outcome::invalid(
                "Parameters.parameter",
                "$book needs a parameter named appointment holding the Appointment",
            )
        })?;
    let (appointment, replayed) = book_appointment(
        &state,
        &caller,
        &headers,
        asked,
        "Parameters.parameter.resource.",
    )
    .await?;
    let answer = json!({
        "resourceType": "Parameters",
        "parameter": [{"name": "return", "resource": shown(&state, &caller, &appointment).await?}],
    });
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(Fhir(status, answer).into_response())
}

/// A JSON object body, whatever its content type says (`application/fhir+json` or
/// `application/json`).
fn json_body(body: &Bytes) -> Result<Value, Outcome> {
    let value: Value = serde_json::from_slice(body).map_err(|e| Outcome {
        status: StatusCode::BAD_REQUEST,
        code: "structure",
        diagnostics: format!("the body is not JSON: {e}"),
        expression: None,
    })?;
    if !value.is_object() && !value.is_array() {
        return Err(Outcome::invalid(
            "resourceType",
            "the body is not a FHIR resource",
        ));
    }
    Ok(value)
}

/// The idempotency key an `If-None-Exist: identifier=[system|]value` header gives.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Outcome> {
    let Some(value) = headers.get("if-none-exist") else {
        return Ok(None);
    };
    let refuse = || {
        Outcome::invalid(
            "If-None-Exist",
            "If-None-Exist takes identifier=[system|]value (1-200 characters), \
             the booking's idempotency key",
        )
    };
    let text = value.to_str().map_err(|_| refuse())?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect();
    match pairs.as_slice() {
        [(name, value)] if name == "identifier" => {
            let key = value.rsplit_once('|').map_or(value.as_str(), |(_, v)| v);
            if key.is_empty() || key.len() > 200 {
                return Err(refuse());
            }
            Ok(Some(value.clone()))
        }
        _ => Err(refuse()),
    }
}

/// Books what an Appointment asks for: its one `slot` (a free Slot of this server)
/// for its `Patient` participant, under the portal's rules. Answers the appointment
/// and whether it was booked before with the same `If-None-Exist`.
async fn book_appointment(
    state: &AppState,
    caller: &ApiKeyCaller,
    headers: &HeaderMap,
    asked: &Value,
    at: &str,
) -> Result<(Appointment, bool), Outcome> {
    let org = &caller.org;
    if asked["resourceType"] != "Appointment" {
        return Err(Outcome::invalid(
            &format!("{at}resourceType"),
            "the body must be an Appointment",
        ));
    }
    match asked["status"].as_str() {
        Some("booked" | "proposed" | "pending") => {}
        _ => {
            return Err(Outcome::invalid(
                &format!("{at}status"),
                "a new appointment's status is booked (or proposed or pending)",
            ));
        }
    }
    let key = idempotency_key(headers)?;
    let slots = asked["slot"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [slot_ref] = slots else {
        return Err(Outcome::invalid(
            &format!("{at}slot"),
            "name exactly one free Slot: slot: [{reference: \"Slot/{id}\"}]",
        ));
    };
    let slot_id = slot_ref["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Slot/"))
        .ok_or_else(|| Outcome::invalid(&format!("{at}slot"), "slot must reference Slot/{id}"))?;
    let decoded = slot::SlotId::decode(slot_id).ok_or_else(|| {
        Outcome::invalid(&format!("{at}slot"), format!("Slot/{slot_id} not found"))
    })?;
    let start = decoded.start().ok_or_else(|| {
        Outcome::invalid(&format!("{at}slot"), format!("Slot/{slot_id} not found"))
    })?;
    let patients: Vec<&str> = asked["participant"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["actor"]["reference"].as_str())
        .filter(|r| r.starts_with("Patient/"))
        .collect();
    let [patient_ref] = patients.as_slice() else {
        return Err(Outcome::invalid(
            &format!("{at}participant"),
            "name exactly one participant with actor Patient/{id}",
        ));
    };
    let patient_id = referenced_id("Patient", patient_ref).ok_or_else(|| {
        Outcome::invalid(
            &format!("{at}participant"),
            format!("{patient_ref} not found"),
        )
    })?;
    let mut conn = state.db.conn().await?;
    let patient = match store::patient::get(conn.exec(), org.id, patient_id).await {
        Ok(p) => p,
        Err(store::Error::NotFound(_)) => {
            return Err(Outcome::invalid(
                &format!("{at}participant"),
                format!("{patient_ref} not found"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    drop(conn);
    // The slot is checked again by the store under the practitioner's lock; this
    // refuses, before any lock, ids that name another organisation's rows or a place
    // or service that gives no slots here.
    let schedule = format!("{}-{}", decoded.practitioner, decoded.clinic);
    let place = super::schedule::place(state, org, &schedule).await?;
    if !place
        .as_ref()
        .is_some_and(|p| p.portal_services().any(|s| s.id == decoded.service))
    {
        return Err(Outcome::invalid(
            &format!("{at}slot"),
            format!("Slot/{slot_id} not found"),
        ));
    }
    let context = match AppointmentContext::of_patient(
        state,
        org,
        &patient,
        decoded.practitioner,
        Some(decoded.service),
    )
    .await
    {
        Ok(context) => Some(context),
        Err(store::Error::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let notify = move |a: &Appointment| {
        context
            .iter()
            .flat_map(|c| c.portal_notices(PortalChange::Booked, a))
            .collect()
    };
    let outcome = appointment::book_portal_at(
        &state.db,
        org,
        &PortalBooking {
            patient: patient.id,
            service: decoded.service,
            practitioner: decoded.practitioner,
            start,
            telehealth: false,
            idempotency_key: key,
        },
        Some(decoded.clinic),
        caller.actor(),
        state.clock.as_ref(),
        Some(&notify),
    )
    .await;
    match outcome {
        Ok(PortalOutcome::Booked(booked)) => {
            if !booked.replayed {
                state.metrics.booked(
                    crate::metrics::Channel::Fhir,
                    crate::metrics::Kind::Single,
                    1,
                );
                state.mail.notify();
            }
            Ok((booked.appointment, booked.replayed))
        }
        Ok(PortalOutcome::Taken { reason, .. }) => {
            state
                .metrics
                .conflict(crate::metrics::Channel::Fhir, crate::metrics::Kind::Single);
            Err(Outcome::conflict(format!(
                "Slot/{slot_id} is no longer free: {reason}"
            )))
        }
        // The patient may not book this practitioner: a rule of the request, not of the key.
        Err(store::Error::Forbidden(why)) => Err(Outcome {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "business-rule",
            diagnostics: why.to_owned(),
            expression: Some(format!("{at}participant")),
        }),
        Err(store::Error::NotFound(what)) => Err(Outcome::invalid(
            &format!("{at}slot"),
            format!("Slot/{slot_id} not found ({what})"),
        )),
        Err(store::Error::Invalid { field, message }) if field == "idempotency_key" => {
            Err(Outcome {
                status: StatusCode::PRECONDITION_FAILED,
                code: "duplicate",
                diagnostics: format!("If-None-Exist: {message}"),
                expression: Some("If-None-Exist".to_owned()),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// `PUT Appointment/{id}`: only a change of `status` to `cancelled` (with an optional
/// `cancelationReason.text`); the same status again changes nothing.
pub(super) async fn update(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Outcome> {
    caller.require(Scope::Book)?;
    let asked = json_body(&body)?;
    if asked["resourceType"] != "Appointment" {
        return Err(Outcome::invalid(
            "resourceType",
            "the body must be an Appointment",
        ));
    }
    if asked["id"].as_str() != Some(id.as_str()) {
        return Err(Outcome::invalid(
            "id",
            "the Appointment's id must be the one in the address",
        ));
    }
    let status = asked["status"]
        .as_str()
        .ok_or_else(|| Outcome::invalid("status", "status is required"))?;
    let reason = asked["cancelationReason"]["text"]
        .as_str()
        .unwrap_or_default();
    change_status(&state, &caller, &id, status, reason).await
}

/// `PATCH Appointment/{id}`: a JSON Patch (`[{"op": "replace", "path": "/status",
/// "value": "cancelled"}]`) or a JSON merge patch (`{"status": "cancelled"}`) that
/// cancels.
pub(super) async fn patch(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Outcome> {
    caller.require(Scope::Book)?;
    let asked = json_body(&body)?;
    let status = match &asked {
        Value::Array(ops) => match ops.as_slice() {
            [op] if op["op"] == "replace" && op["path"] == "/status" => op["value"].as_str(),
            _ => None,
        },
        Value::Object(fields) if fields.keys().all(|k| k == "status" || k == "resourceType") => {
            fields.get("status").and_then(Value::as_str)
        }
        _ => None,
    }
    .ok_or_else(|| {
        Outcome::invalid(
            "status",
            "a patch may only replace /status (with \"cancelled\")",
        )
    })?;
    change_status(&state, &caller, &id, status, "").await
}

/// Cancels an appointment of the organisation, by the portal's cancellation notice.
async fn change_status(
    state: &AppState,
    caller: &ApiKeyCaller,
    id: &str,
    status: &str,
    reason: &str,
) -> Result<Response, Outcome> {
    let org = &caller.org;
    let before = find(state, org, id).await?;
    let now = state.clock.now_ns();
    if status == super::appointment::status_code(before.status) {
        return answer(state, caller, &before).await;
    }
    if status != "cancelled" {
        return Err(Outcome::invalid(
            "status",
            "the only change of an appointment through FHIR is status cancelled",
        ));
    }
    if !before.status.is_changeable() {
        return Err(Outcome::conflict(format!(
            "a {} appointment cannot be cancelled",
            super::appointment::status_code(before.status)
        )));
    }
    // The portal's rule: online, an appointment may be cancelled until the
    // organisation's cancellation notice before it.
    if appointment::cancellable_until(org, before.status, before.start_ns, now).is_none() {
        return Err(Outcome::conflict(
            "it is too late to cancel this appointment online; the clinic can still cancel it",
        ));
    }
    let context = match before.patient_id {
        Some(patient) => AppointmentContext::load(
            state,
            org,
            patient,
            before.practitioner_id,
            before.service_id,
        )
        .await
        .ok(),
        None => None,
    };
    let notify = |a: &Appointment| {
        context
            .iter()
            .flat_map(|c| c.portal_notices(PortalChange::Cancelled, a))
            .collect()
    };
    let cancelled = appointment::cancel(
        &state.db,
        org,
        before.id,
        caller.actor(),
        reason,
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    state.mail.notify();
    answer(state, caller, &cancelled).await
}

async fn answer(
    state: &AppState,
    caller: &ApiKeyCaller,
    a: &Appointment,
) -> Result<Response, Outcome> {
    Ok(Fhir::ok(shown(state, caller, a).await?).into_response())
}

/// An appointment as the caller may see it (the patient's name with `patients:read`).
async fn shown(state: &AppState, caller: &ApiKeyCaller, a: &Appointment) -> Result<Value, Outcome> {
    let names = Names::load(
        state,
        &caller.org,
        std::slice::from_ref(a),
        caller.require(Scope::PatientsRead).is_ok(),
    )
    .await?;
    Ok(resource(&base(state, &caller.org), a, &names))
}
