//! `PractitionerRole`: the organisation's practitioners, each in their role (their
//! practitioner type) at their home clinic. There is no `Practitioner` resource: the
//! role names the person by display.

use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};
use store::practitioner::Practitioner;

use crate::state::AppState;

use super::outcome::Outcome;
use super::resource::{Fhir, FhirResult, base, params, reference, row_id, search_answer, single};
use crate::auth::api_key::{ApiKeyCaller, Scope};

/// A practitioner as a FHIR `PractitionerRole`.
pub(super) fn resource(base: &str, p: &Practitioner) -> Value {
    json!({
        "resourceType": "PractitionerRole",
        "id": p.id.to_string(),
        "identifier": [{"system": format!("{base}/practitioner-key"), "value": p.key}],
        "active": p.active,
        "practitioner": {"display": p.name},
        "code": [{"text": p.type_name}],
        "location": [reference("Location", p.home_clinic_id, &p.home_clinic_name)],
    })
}

/// `GET PractitionerRole/{id}`.
pub(super) async fn read(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    Path((_, id)): Path<(String, String)>,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let missing = || Outcome::not_found(format!("PractitionerRole/{id}"));
    let row = row_id(&id).ok_or_else(missing)?;
    let mut conn = state.db.conn().await.map_err(Outcome::from)?;
    let p = store::practitioner::get(conn.exec(), caller.org.id, row)
        .await
        .map_err(|_| missing())?;
    Ok(Fhir::ok(resource(&base(&state, &caller.org), &p)))
}

/// `GET PractitionerRole`: every practitioner (`_id` narrows to one, `active` to the
/// active or the inactive).
pub(super) async fn search(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    RawQuery(query): RawQuery,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let pairs = params(query.as_deref(), &["_id", "active"])?;
    let only = single(&pairs, "_id")?;
    let active = match single(&pairs, "active")? {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(Outcome::invalid("active", "active must be true or false")),
    };
    let mut conn = state.db.conn().await.map_err(Outcome::from)?;
    let all = store::practitioner::all(conn.exec(), caller.org.id).await?;
    let base = base(&state, &caller.org);
    let found = all
        .iter()
        .filter(|p| only.is_none_or(|id| id == p.id.to_string()))
        .filter(|p| active.is_none_or(|a| a == p.active))
        .map(|p| resource(&base, p))
        .collect();
    Ok(search_answer(
        &base,
        "PractitionerRole",
        query.as_deref(),
        found,
    ))
}
