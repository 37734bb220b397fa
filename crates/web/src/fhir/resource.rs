//! What every FHIR answer shares: the `application/fhir+json` response, `searchset`
//! `Bundle`s, the server's base address, references, codings, search parameters and
//! the FHIR `dateTime`s searches are bounded by.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use serde_json::{Value, json};
use slot_engine::Instant;
use store::Organisation;

use crate::state::AppState;

use super::outcome::Outcome;

/// The media type of every FHIR answer.
pub(crate) const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// The FHIR version served.
pub(super) const FHIR_VERSION: &str = "4.0.1";

/// A FHIR resource (or `Bundle`) answered with a status.
#[derive(Debug)]
pub(super) struct Fhir(pub(super) StatusCode, pub(super) Value);

impl Fhir {
    pub(super) fn ok(resource: Value) -> Fhir {
        Fhir(StatusCode::OK, resource)
    }
}

impl IntoResponse for Fhir {
    fn into_response(self) -> Response {
        (
            self.0,
            [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
            self.1.to_string(),
        )
            .into_response()
    }
}

/// What a handler answers: a resource, or an `OperationOutcome`.
pub(super) type FhirResult = Result<Fhir, Outcome>;

/// The organisation's FHIR base address, `{public_url}/o/{slug}/fhir`.
pub(super) fn base(state: &AppState, org: &Organisation) -> String {
    format!("{}/o/{}/fhir", state.config.public_url, org.slug)
}

/// A `searchset` Bundle of `resources` (each with an `id` and `resourceType`), every
/// one a match, with the search's own address as its `self` link.
fn searchset(base: &str, search: &str, resources: Vec<Value>) -> Value {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|resource| {
            let full_url = format!(
                "{base}/{}/{}",
                resource["resourceType"].as_str().unwrap_or_default(),
                resource["id"].as_str().unwrap_or_default()
            );
            json!({"fullUrl": full_url, "resource": resource, "search": {"mode": "match"}})
        })
        .collect();
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "link": [{"relation": "self", "url": format!("{base}/{search}")}],
    });
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}

/// The answer of a search of `kind` asked with `query`: a `searchset` of `resources`.
pub(super) fn search_answer(
    base: &str,
    kind: &str,
    query: Option<&str>,
    resources: Vec<Value>,
) -> Fhir {
    let search = match query {
        Some(q) if !q.is_empty() => format!("{kind}?{q}"),
        _ => kind.to_owned(),
    };
    Fhir::ok(searchset(base, &search, resources))
}

/// The code system of the organisation's services (their keys), which
/// `HealthcareService.type`, `Schedule.serviceType` and `Slot.serviceType` code with.
pub(super) fn service_system(base: &str) -> String {
    format!("{base}/CodeSystem/service")
}

/// A service as a `CodeableConcept`.
pub(super) fn service_type(base: &str, key: &str, name: &str) -> Value {
    json!({"coding": [{"system": service_system(base), "code": key, "display": name}], "text": name})
}

/// A reference with its display.
pub(super) fn reference(kind: &str, id: impl std::fmt::Display, display: &str) -> Value {
    let mut r = json!({"reference": format!("{kind}/{id}")});
    if !display.is_empty() {
        r["display"] = json!(display);
    }
    r
}

/// The row id in a reference to `kind` (`Patient/12`, or `12` alone), `None` when it
/// names another type or is not an id.
pub(super) fn referenced_id(kind: &str, text: &str) -> Option<i64> {
    let id = text
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(text);
    row_id(id)
}

/// A row id as FHIR writes it: plain decimal, no sign, no leading zero.
pub(super) fn row_id(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.starts_with('0') {
        return None;
    }
    text.parse().ok().filter(|id| *id > 0)
}

/// An instant as a FHIR `instant`, in `offset` (a clinic's at that instant).
pub(super) fn fhir_instant(at: DateTime<FixedOffset>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Nanoseconds since the epoch as a FHIR `instant` in UTC.
pub(super) fn instant_utc(ns: i64) -> String {
    fhir_instant(DateTime::from_timestamp_nanos(ns).fixed_offset())
}

/// Nanoseconds since the epoch as a FHIR `instant` in a clinic's zone.
pub(super) fn instant_in(ns: i64, zone: &str) -> String {
    let utc = DateTime::from_timestamp_nanos(ns);
    match zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => fhir_instant(utc.with_timezone(&tz).fixed_offset()),
        Err(_) => fhir_instant(utc.fixed_offset()),
    }
}

/// The query's parameters, in order, refusing any the search does not know (FHIR's
/// strict handling: a misspelt parameter must not widen the search). `_format` is
/// accepted and ignored: every answer is JSON.
pub(super) fn params(
    query: Option<&str>,
    known: &[&str],
) -> Result<Vec<(String, String)>, Outcome> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .filter(|(name, _)| name != "_format")
        .collect();
    for (name, _) in &pairs {
        if !known.contains(&name.as_str()) {
            return Err(Outcome::invalid(
                name,
                format!(
                    "unknown search parameter {name:?}; this search takes {}",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(pairs)
}

/// The one value of a parameter given at most once.
pub(super) fn single<'a>(
    pairs: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, Outcome> {
    let mut values = pairs
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(Outcome::invalid(name, format!("{name} may be given once")));
    }
    Ok(first)
}

/// The bounds of a `date` or `start` search over instants: `[from, to)`, each open
/// when no parameter bounds it. Takes the prefixes `ge`, `gt`, `lt`, `le` and `eq`
/// (or none), on a FHIR `dateTime` with its offset or a date (the whole day, read in
/// `zone`).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Bounds {
    pub(super) from: Option<Instant>,
    pub(super) to: Option<Instant>,
}

impl Bounds {
    pub(super) fn parse(
        pairs: &[(String, String)],
        name: &str,
        zone: chrono_tz::Tz,
    ) -> Result<Bounds, Outcome> {
        let mut bounds = Bounds::default();
        for (_, value) in pairs.iter().filter(|(n, _)| n == name) {
            let (prefix, text) = match value.get(..2) {
                Some(p @ ("ge" | "gt" | "lt" | "le" | "eq")) => (p, &value[2..]),
                _ => ("eq", value.as_str()),
            };
            let (start, end) = period(text, zone).ok_or_else(|| {
                Outcome::invalid(
                    name,
                    format!(
                        "{name}: {value:?} is not a FHIR date or dateTime with its offset \
                         (e.g. ge2026-03-02 or lt2026-03-09T00:00:00+01:00)"
                    ),
                )
            })?;
            let (from, to) = match prefix {
                "ge" => (Some(start), None),
                "gt" => (Some(end), None),
                "lt" => (None, Some(start)),
                "le" => (None, Some(end)),
                _ => (Some(start), Some(end)),
            };
            if let Some(from) = from {
                bounds.from = Some(bounds.from.map_or(from, |f| f.max(from)));
            }
            if let Some(to) = to {
                bounds.to = Some(bounds.to.map_or(to, |t| t.min(to)));
            }
        }
        Ok(bounds)
    }
}

/// The instants a FHIR date or dateTime covers, `[start, end)`: a whole day (in
/// `zone`) for a date, one second for a dateTime.
fn period(text: &str, zone: chrono_tz::Tz) -> Option<(Instant, Instant)> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let start = midnight(day, zone)?;
        let end = midnight(day.succ_opt()?, zone)?;
        return Some((start, end));
    }
    let at = DateTime::parse_from_rfc3339(text).ok()?;
    let start = instant_of(at)?;
    let end = instant_of(at + chrono::Duration::seconds(1))?;
    Some((start, end))
}

/// The first instant of a day in a zone (the earliest, should midnight fall in a gap).
fn midnight(day: NaiveDate, zone: chrono_tz::Tz) -> Option<Instant> {
    let local = day.and_hms_opt(0, 0, 0)?;
    let at = zone.from_local_datetime(&local).earliest().or_else(|| {
        zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
    })?;
    instant_of(at.fixed_offset())
}

fn instant_of(at: DateTime<FixedOffset>) -> Option<Instant> {
    Instant::from_unix_nanos(at.timestamp_nanos_opt()?).ok()
}

#[cfg(test)]
mod tests {
    use super::{Bounds, referenced_id, row_id};

    #[test]
    fn references_name_their_type_and_a_plain_id() {
        assert_eq!(referenced_id("Patient", "Patient/12"), Some(12));
        assert_eq!(referenced_id("Patient", "12"), Some(12));
        assert_eq!(referenced_id("Patient", "Practitioner/12"), None);
        assert_eq!(referenced_id("Patient", "Patient/012"), None);
        assert_eq!(row_id("-1"), None);
        assert_eq!(row_id("99999999999999999999"), None);
    }

    #[test]
    fn bounds_take_prefixes_dates_and_date_times() {
        let pairs = vec![
            ("start".to_owned(), "ge2026-03-02".to_owned()),
            ("start".to_owned(), "lt2026-03-09T00:00:00+01:00".to_owned()),
        ];
        let b = Bounds::parse(&pairs, "start", chrono_tz::Europe::Berlin).unwrap();
        assert_eq!(b.from.unwrap().to_string(), "2026-03-01T23:00:00Z");
        assert_eq!(b.to.unwrap().to_string(), "2026-03-08T23:00:00Z");
        let bad = vec![("start".to_owned(), "ge2026-13-01".to_owned())];
        let e = Bounds::parse(&bad, "start", chrono_tz::UTC).unwrap_err();
        assert_eq!(e.expression.as_deref(), Some("start"));
    }
}
