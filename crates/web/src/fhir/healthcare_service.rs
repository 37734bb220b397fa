//! `HealthcareService`: the organisation's services, coded by their keys (the code
//! system [`super::resource::service_system`]); those patients may book online say so
//! with the `online-booking` characteristic, and only they have free slots here.

use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};
use store::service::Service;

use crate::state::AppState;

use super::outcome::Outcome;
use super::resource::{
    Fhir, FhirResult, base, params, row_id, search_answer, service_type, single,
};
use crate::auth::api_key::{ApiKeyCaller, Scope};

/// A service as a FHIR `HealthcareService`.
pub(super) fn resource(base: &str, s: &Service) -> Value {
    let mut service = json!({
        "resourceType": "HealthcareService",
        "id": s.id.to_string(),
        "identifier": [{"system": super::resource::service_system(base), "value": s.key}],
        "active": true,
        "type": [service_type(base, &s.key, &s.name)],
        "name": s.name,
        "appointmentRequired": true,
        "characteristic": [{
            "coding": [{"system": format!("{base}/CodeSystem/booking"),
                        "code": if s.book_from_portal { "online-booking" } else { "staff-booking" }}],
            "text": if s.book_from_portal { "patients may book it online" } else { "booked by the clinic's staff" },
        }],
        "extension": [{
            "url": format!("{base}/StructureDefinition/duration-minutes"),
            "valueInteger": s.duration_minutes,
        }],
    });
    if let Some(description) = s
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        service["comment"] = json!(description);
    }
    service
}

/// `GET HealthcareService/{id}`.
pub(super) async fn read(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    Path((_, id)): Path<(String, String)>,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let missing = || Outcome::not_found(format!("HealthcareService/{id}"));
    let row = row_id(&id).ok_or_else(missing)?;
    let mut conn = state.db.conn().await.map_err(Outcome::from)?;
    let s = store::service::get(conn.exec(), caller.org.id, row)
        .await
        .map_err(|_| missing())?;
    Ok(Fhir::ok(resource(&base(&state, &caller.org), &s)))
}

/// `GET HealthcareService`: every service (`_id` narrows to one).
pub(super) async fn search(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    RawQuery(query): RawQuery,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let pairs = params(query.as_deref(), &["_id"])?;
    let only = single(&pairs, "_id")?;
    let mut conn = state.db.conn().await.map_err(Outcome::from)?;
    let all = store::service::all(conn.exec(), caller.org.id).await?;
    let base = base(&state, &caller.org);
    let found = all
        .iter()
        .filter(|s| only.is_none_or(|id| id == s.id.to_string()))
        .map(|s| resource(&base, s))
        .collect();
    Ok(search_answer(
        &base,
        "HealthcareService",
        query.as_deref(),
        found,
    ))
}
