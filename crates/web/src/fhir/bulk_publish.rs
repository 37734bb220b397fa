//! SMART Scheduling Links (`$bulk-publish`): the manifest and NDJSON files of
//! Location, Schedule and Slot that slot finders read, for the services patients may
//! book online and their free slots over the next [`HORIZON_DAYS`] days; each Slot's
//! `booking-deep-link` opens the portal's confirm page for that time. Public, as the
//! portal's open times are — and only for an organisation that shows them before
//! signing in (`portal_public_times`); for the others it is not found.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use slot_engine::Instant;
use store::Organisation;

use crate::auth::staff::Org;
use crate::state::AppState;

use super::outcome::Outcome;
use super::resource::{Fhir, base, instant_utc};
use super::schedule::{self, Place};
use super::{location, slot};

/// How far ahead the published slots reach.
pub(super) const HORIZON_DAYS: i64 = 28;

/// The extension a Slot carries its booking link in.
const DEEP_LINK: &str =
    "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link";

/// The three files, by the resource type each holds.
const FILES: [&str; 3] = ["Location", "Schedule", "Slot"];

fn published(org: &Organisation) -> Result<(), Outcome> {
    if org.portal_public_times {
        Ok(())
    } else {
        Err(Outcome::not_found(
            "$bulk-publish (this organisation shows its open times only to its signed-in patients)",
        ))
    }
}

/// `GET $bulk-publish`: the manifest.
pub(super) async fn manifest(
    State(state): State<AppState>,
    Org(org): Org,
) -> Result<Response, Outcome> {
    published(&org)?;
    let base = base(&state, &org);
    let manifest = json!({
        "transactionTime": instant_utc(state.clock.now_ns()),
        "request": format!("{base}/$bulk-publish"),
        "output": FILES.iter().map(|kind| json!({
            "type": kind,
            "url": format!("{base}/$bulk-publish/{kind}.ndjson"),
        })).collect::<Vec<Value>>(),
        "error": [],
    });
    let mut response = Fhir::ok(manifest).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// `GET $bulk-publish/{Location|Schedule|Slot}.ndjson`: one resource a line.
pub(super) async fn file(
    State(state): State<AppState>,
    Org(org): Org,
    address: crate::limits::ClientAddress,
    Path((_, file)): Path<(String, String)>,
) -> Result<Response, Outcome> {
    published(&org)?;
    // Each file asks the engine for weeks of every practitioner's times: counted per
    // client address like the portal's open times shown before signing in.
    state.limits.browse(address.0)?;
    let kind = file
        .strip_suffix(".ndjson")
        .filter(|k| FILES.contains(k))
        .ok_or_else(|| Outcome::not_found(format!("$bulk-publish/{file}")))?;
    let lines = resources(&state, &org, kind).await?;
    let mut body = String::new();
    for line in lines {
        body.push_str(&line.to_string());
        body.push('\n');
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/fhir+ndjson"),
        )],
        body,
    )
        .into_response())
}

/// The places with a service patients may book online.
async fn portal_places(state: &AppState, org: &Organisation) -> Result<Vec<Place>, Outcome> {
    Ok(schedule::places(state, org)
        .await?
        .into_iter()
        .filter(|p| p.portal_services().next().is_some())
        .collect())
}

/// One file's resources.
pub(super) async fn resources(
    state: &AppState,
    org: &Organisation,
    kind: &str,
) -> Result<Vec<Value>, Outcome> {
    let base = base(state, org);
    let places = portal_places(state, org).await?;
    Ok(match kind {
        "Location" => {
            let mut clinics: Vec<&store::clinic::Clinic> =
                places.iter().map(|p| &p.clinic).collect();
            clinics.sort_by_key(|c| c.id);
            clinics.dedup_by_key(|c| c.id);
            clinics
                .iter()
                .map(|c| location::resource(&base, c))
                .collect()
        }
        "Schedule" => places
            .iter()
            .map(|p| schedule::resource(&base, p, p.portal_services()))
            .collect(),
        _ => {
            let now = state.clock.now();
            let until =
                Instant::from_unix_nanos(now.unix_nanos() + HORIZON_DAYS * 86_400 * 1_000_000_000)
                    .unwrap_or(now);
            let mut all = Vec::new();
            for place in &places {
                for service in place.portal_services() {
                    for found in slot::free(state, org, place, service, (now, until)).await? {
                        let mut resource = found.resource(&base);
                        resource["extension"] = json!([{
                            "url": DEEP_LINK,
                            "valueUrl": deep_link(state, org, &found),
                        }]);
                        all.push(resource);
                    }
                }
            }
            all
        }
    })
}

/// The portal's confirm page for a slot: the same address the portal's own slot list
/// links to (`/o/{slug}/portal/book/{service}/confirm?practitioner=…&start=…`).
fn deep_link(state: &AppState, org: &Organisation, found: &slot::Found) -> String {
    format!(
        "{}/o/{}/portal/book/{}/confirm?practitioner={}&start={}",
        state.config.public_url,
        org.slug,
        found.id.service,
        found.id.practitioner,
        crate::query::encode(&found.slot.start.to_rfc3339()),
    )
}
