//! `Location`: the organisation's clinics, with their time zone (the standard
//! `timezone` extension), address and phone.

use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};
use store::clinic::Clinic;

use crate::state::AppState;

use super::outcome::Outcome;
use super::resource::{Fhir, FhirResult, base, params, row_id, search_answer};
use crate::auth::api_key::{ApiKeyCaller, Scope};

/// The extension that names a clinic's IANA time zone.
pub(super) const TIMEZONE_EXTENSION: &str = "http://hl7.org/fhir/StructureDefinition/timezone";

/// A clinic as a FHIR `Location`.
pub(super) fn resource(base: &str, clinic: &Clinic) -> Value {
    let mut location = json!({
        "resourceType": "Location",
        "id": clinic.id.to_string(),
        "extension": [{"url": TIMEZONE_EXTENSION, "valueCode": clinic.timezone}],
        "identifier": [{"system": format!("{base}/clinic-key"), "value": clinic.key}],
        "status": "active",
        "name": clinic.name,
        "mode": "instance",
    });
    if !clinic.phone.trim().is_empty() {
        location["telecom"] = json!([{"system": "phone", "value": clinic.phone.trim()}]);
    }
    if !clinic.address.trim().is_empty() {
        let lines: Vec<&str> = clinic
            .address
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        location["address"] = json!({"text": lines.join(", "), "line": lines});
    }
    location
}

/// `GET Location/{id}`.
pub(super) async fn read(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    Path((_, id)): Path<(String, String)>,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let id = row_id(&id).ok_or_else(|| Outcome::not_found(format!("Location/{id}")))?;
    let mut conn = state.db.conn().await.map_err(Outcome::from)?;
    let clinic = store::clinic::get(conn.exec(), caller.org.id, id)
        .await
        .map_err(|_| Outcome::not_found(format!("Location/{id}")))?;
    Ok(Fhir::ok(resource(&base(&state, &caller.org), &clinic)))
}

/// `GET Location`: every clinic (`_id` narrows to one).
pub(super) async fn search(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    RawQuery(query): RawQuery,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let pairs = params(query.as_deref(), &["_id"])?;
    let only = super::resource::single(&pairs, "_id")?;
    let mut conn = state.db.conn().await.map_err(Outcome::from)?;
    let clinics = store::clinic::all(conn.exec(), caller.org.id).await?;
    let base = base(&state, &caller.org);
    let found = clinics
        .iter()
        .filter(|c| only.is_none_or(|id| id == c.id.to_string()))
        .map(|c| resource(&base, c))
        .collect();
    Ok(search_answer(&base, "Location", query.as_deref(), found))
}
