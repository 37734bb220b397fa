//! `Schedule`: one per practitioner and clinic where an availability record places
//! them (id `{practitioner}-{clinic}`), its actors the `PractitionerRole` and the
//! `Location`, its `serviceType` the services the practitioner gives (their type
//! matches and they share a schedule type).

use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};
use store::Organisation;
use store::clinic::Clinic;
use store::practitioner::Practitioner;
use store::service::Service;

use crate::state::AppState;

use super::outcome::Outcome;
use super::resource::{
    Fhir, FhirResult, base, params, reference, referenced_id, row_id, search_answer, service_type,
    single,
};
use crate::auth::api_key::{ApiKeyCaller, Scope};

/// A practitioner at a clinic, with the services they give.
#[derive(Clone, Debug)]
pub(super) struct Place {
    pub(super) practitioner: Practitioner,
    pub(super) clinic: Clinic,
    pub(super) services: Vec<Service>,
}

impl Place {
    /// The Schedule's id.
    pub(super) fn id(&self) -> String {
        format!("{}-{}", self.practitioner.id, self.clinic.id)
    }

    /// The services patients may book online.
    pub(super) fn portal_services(&self) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(|s| s.book_from_portal)
    }
}

/// The (practitioner, clinic) a Schedule id names, `None` when it is not one.
pub(super) fn parse_id(id: &str) -> Option<(i64, i64)> {
    let (p, c) = id.split_once('-')?;
    Some((row_id(p)?, row_id(c)?))
}

/// Every active practitioner's places, from records not ended before yesterday (so
/// every clinic's today is covered), in a fixed number of queries.
pub(super) async fn places(state: &AppState, org: &Organisation) -> Result<Vec<Place>, Outcome> {
    let yesterday = state.clock.now().to_utc().date_naive() - chrono::Duration::days(1);
    let mut conn = state.db.conn().await?;
    let pairs = store::availability::places(conn.exec(), org.id, &yesterday.to_string()).await?;
    let practitioners = store::practitioner::all(conn.exec(), org.id).await?;
    let clinics = store::clinic::all(conn.exec(), org.id).await?;
    let services = store::service::all(conn.exec(), org.id).await?;
    let practitioner_types = store::practitioner::schedule_type_links(conn.exec(), org.id).await?;
    let service_types = store::service::schedule_type_links(conn.exec(), org.id).await?;
    drop(conn);
    let gives = |p: &Practitioner, s: &Service| {
        s.practitioner_type_id.is_none_or(|t| t == p.type_id)
            && service_types
                .iter()
                .any(|&(service, st)| service == s.id && practitioner_types.contains(&(p.id, st)))
    };
    Ok(pairs
        .into_iter()
        .filter_map(|(p, c)| {
            let practitioner = practitioners.iter().find(|x| x.id == p && x.active)?;
            let clinic = clinics.iter().find(|x| x.id == c)?;
            Some(Place {
                services: services
                    .iter()
                    .filter(|s| gives(practitioner, s))
                    .cloned()
                    .collect(),
                practitioner: practitioner.clone(),
                clinic: clinic.clone(),
            })
        })
        .collect())
}

/// The place a Schedule id names in the organisation, or `None`.
pub(super) async fn place(
    state: &AppState,
    org: &Organisation,
    id: &str,
) -> Result<Option<Place>, Outcome> {
    let Some((p, c)) = parse_id(id) else {
        return Ok(None);
    };
    Ok(places(state, org)
        .await?
        .into_iter()
        .find(|place| place.practitioner.id == p && place.clinic.id == c))
}

/// A place as a FHIR `Schedule`; `services` are the ones it lists (all, or the
/// portal's in `$bulk-publish`).
pub(super) fn resource<'a>(
    base: &str,
    place: &Place,
    services: impl Iterator<Item = &'a Service>,
) -> Value {
    let mut schedule = json!({
        "resourceType": "Schedule",
        "id": place.id(),
        "active": true,
        "actor": [
            reference("PractitionerRole", place.practitioner.id, &place.practitioner.name),
            reference("Location", place.clinic.id, &place.clinic.name),
        ],
        "comment": format!("{} at {}", place.practitioner.name, place.clinic.name),
    });
    let types: Vec<Value> = services
        .map(|s| service_type(base, &s.key, &s.name))
        .collect();
    if !types.is_empty() {
        schedule["serviceType"] = Value::Array(types);
    }
    schedule
}

/// `GET Schedule/{id}`.
pub(super) async fn read(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    Path((_, id)): Path<(String, String)>,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let place = place(&state, &caller.org, &id)
        .await?
        .ok_or_else(|| Outcome::not_found(format!("Schedule/{id}")))?;
    let base = base(&state, &caller.org);
    Ok(Fhir::ok(resource(&base, &place, place.services.iter())))
}

/// `GET Schedule`: every schedule; `actor` narrows to a `PractitionerRole/{id}` or a
/// `Location/{id}`, `service-type` to those giving a service (`[system|]key`).
pub(super) async fn search(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    RawQuery(query): RawQuery,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let pairs = params(query.as_deref(), &["_id", "actor", "service-type"])?;
    let only = single(&pairs, "_id")?;
    let actor = single(&pairs, "actor")?
        .map(|a| {
            referenced_id("PractitionerRole", a)
                .filter(|_| a.starts_with("PractitionerRole/"))
                .map(|id| ("PractitionerRole", id))
                .or_else(|| {
                    referenced_id("Location", a)
                        .filter(|_| a.starts_with("Location/"))
                        .map(|id| ("Location", id))
                })
                .ok_or_else(|| {
                    Outcome::invalid(
                        "actor",
                        "actor must be PractitionerRole/{id} or Location/{id}",
                    )
                })
        })
        .transpose()?;
    let base = base(&state, &caller.org);
    let wanted = single(&pairs, "service-type")?
        .map(|t| service_code(&base, t))
        .transpose()?;
    let found = places(&state, &caller.org)
        .await?
        .iter()
        .filter(|p| only.is_none_or(|id| id == p.id()))
        .filter(|p| match actor {
            Some(("PractitionerRole", id)) => p.practitioner.id == id,
            Some((_, id)) => p.clinic.id == id,
            None => true,
        })
        .filter(|p| wanted.is_none_or(|code| p.services.iter().any(|s| s.key == code)))
        .map(|p| resource(&base, p, p.services.iter()))
        .collect();
    Ok(search_answer(&base, "Schedule", query.as_deref(), found))
}

/// The service key a `service-type` token names: `key`, or `system|key` with this
/// organisation's service code system.
pub(super) fn service_code<'a>(base: &str, token: &'a str) -> Result<&'a str, Outcome> {
    let code = match token.split_once('|') {
        Some((system, code))
            if system.is_empty() || system == super::resource::service_system(base) =>
        {
            code
        }
        Some(_) => {
            return Err(Outcome::invalid(
                "service-type",
                format!(
                    "service-type codes with {} (the services' keys)",
                    super::resource::service_system(base)
                ),
            ));
        }
        None => token,
    };
    if code.is_empty() {
        return Err(Outcome::invalid(
            "service-type",
            "service-type names no code",
        ));
    }
    Ok(code)
}
