//! The security matrix: every organisation-scoped route (the whole API from the OpenAPI
//! document, every page from the router's source) tried by another organisation's staff
//! and patients, every patient route tried by another patient, the portal's practitioner
//! list, CSRF on the portal's forms and API, session fixation, account enumeration,
//! rate limits, emailed tokens (expired, reused, tampered, used for the wrong purpose)
//! and the security headers of every response; and every FHIR route tried without a
//! key, with a revoked key, with another organisation's key, without its scope, and
//! with A's ids at B.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::Scenario;
use store::Organisation;
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, PATIENT_PASSWORD, Page, TestApp};

/// Organisation A's private data: none of it may show to anyone outside A's staff and
/// its own patient. (Its portal service is public on its portal home, so not listed.)
const MARKERS: &[&str] = &[
    "Zanzibar",
    "Quintessa",
    "Marlowe",
    "Ysolde",
    "Farquhar",
    "Yodel report",
    "Vexillolog",
    "Wombat",
    "admin-alpha",
    "front_desk-alpha",
];

/// An organisation's setup: one clinic with a holiday, a practitioner type, two
/// practitioners, a schedule type, a portal service and a staff-only one, and two
/// patients (the second may book only the second practitioner), plus a pending
/// appointment.
fn scenario(names: &[(&str, &str)]) -> Scenario {
    let mut text = json!({
        "version": 1,
        "settings": {"slot_step_minutes": 30, "min_notice_minutes": 60},
        "clinics": [{"id": "main", "name": "CLINIC", "timezone": "America/Toronto", "holidays": ["2026-12-26"]}],
        "schedule_types": [{"id": "physio", "name": "STYPE", "clinic": "main"}],
        "practitioners": [
            {"id": "pa", "name": "PRACTA", "type": "PTYPE", "home_clinic": "main", "schedule_types": ["physio"],
             "availability": [{"start_date": "2026-01-01",
               "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]},
            {"id": "pb", "name": "PRACTB", "type": "PTYPE", "home_clinic": "main", "schedule_types": ["physio"],
             "availability": [{"start_date": "2026-01-01",
               "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]}],
        "services": [{"id": "visit", "name": "Portal visit", "duration_minutes": 30, "book_from_portal": true, "schedule_types": ["physio"]},
                     {"id": "report", "name": "SERVICE", "duration_minutes": 30, "book_from_portal": false, "schedule_types": ["physio"]}],
        "patients": [
            {"id": "P1", "first_name": "P1FIRST", "last_name": "P1LAST", "email": "P1@example.com"},
            {"id": "P2", "first_name": "P2FIRST", "last_name": "Other", "email": "P2@example.com", "available_practitioners": ["pb"]}],
        "appointments": [{"id": "held", "practitioner": "pa", "patient": "P1", "service": "visit",
                          "start": "2026-03-03T10:00:00-05:00", "end": "2026-03-03T10:30:00-05:00", "status": "pending"}]
    })
    .to_string();
    for (from, to) in names {
        text = text.replace(from, to);
    }
    Scenario::from_json(text.as_bytes()).unwrap()
}

fn alpha() -> Scenario {
    scenario(&[
        ("CLINIC", "Zanzibar Clinic"),
        ("STYPE", "Wombat hours"),
        ("PRACTA", "Quintessa Marlowe"),
        ("PRACTB", "Quintessa Two"),
        ("PTYPE", "Vexillologist"),
        ("SERVICE", "Yodel report"),
        ("P1FIRST", "Ysolde"),
        ("P1LAST", "Farquhar"),
        ("P2FIRST", "Otto"),
        ("P1", "ysolde"),
        ("P2", "otto"),
    ])
}

fn beta() -> Scenario {
    scenario(&[
        ("CLINIC", "Beta Clinic"),
        ("STYPE", "Beta hours"),
        ("PRACTA", "Bert Bee"),
        ("PRACTB", "Bess Bee"),
        ("PTYPE", "Physiotherapist"),
        ("SERVICE", "Beta report"),
        ("P1FIRST", "Bea"),
        ("P1LAST", "Beeson"),
        ("P2FIRST", "Bo"),
        ("P1", "bea"),
        ("P2", "bo"),
    ])
}

/// Organisation A's ids, as text for paths.
pub(crate) struct Ids {
    pub(crate) clinic: String,
    pub(crate) ptype: String,
    pub(crate) practitioner: String,
    pub(crate) other_practitioner: String,
    pub(crate) record: String,
    pub(crate) schedule_type: String,
    pub(crate) service: String,
    pub(crate) report: String,
    pub(crate) patient: String,
    pub(crate) appointment: String,
    pub(crate) pending: String,
    pub(crate) staff: String,
    /// A weekly series of the owner's, and its first occurrence.
    pub(crate) series: String,
    pub(crate) series_appointment: String,
    /// A room of A's, one of its availability records and an out-of-service period.
    pub(crate) resource: String,
    pub(crate) resource_record: String,
    pub(crate) resource_off: String,
    /// The owner's waitlist entry (issue 17).
    pub(crate) waitlist_entry: String,
    /// A webhook endpoint of A's and one of its deliveries (issue 18).
    pub(crate) webhook: String,
    pub(crate) webhook_delivery: String,
    /// An API key of A's (issue 18).
    pub(crate) api_key: String,
}

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Who {
    /// Anyone (sign-in pages, public portal pages): may answer, but none of A's data.
    Anyone,
    /// A's staff only.
    Staff,
    /// A's signed-in patients only.
    Patient,
}

impl Who {
    /// Where A's pages send this kind of visitor to sign in.
    fn signin(self) -> &'static str {
        match self {
            Staff => "/o/alpha/admin/signin",
            Patient | Anyone => "/o/alpha/portal/signin",
        }
    }
}

/// One route of the matrix, with A's ids filled in.
pub(crate) struct Route {
    pub(crate) method: Method,
    /// The route as the router (or the OpenAPI document) names it.
    pub(crate) template: &'static str,
    /// The path with A's ids, `{slug}` left to fill.
    pub(crate) path: String,
    pub(crate) who: Who,
    /// Form fields (pages) or the JSON body (API).
    pub(crate) form: Vec<(&'static str, String)>,
    pub(crate) body: Option<Value>,
    /// Whether the call names A's ids (in the path or the body), so that it is also
    /// tried at the other organisation's own address.
    names_ids: bool,
}

impl Route {
    pub(crate) fn new(method: Method, template: &'static str, ids: &[&str], who: Who) -> Route {
        let mut path = String::new();
        let mut rest = template;
        let mut ids = ids.iter();
        while let Some(open) = rest.find('{') {
            let close = open + rest[open..].find('}').unwrap();
            path.push_str(&rest[..open]);
            let name = &rest[open + 1..close];
            if name == "slug" {
                path.push_str("{slug}");
            } else {
                path.push_str(ids.next().unwrap_or_else(|| panic!("an id for {template}")));
            }
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
        assert!(ids.next().is_none(), "too many ids for {template}");
        Route {
            names_ids: template.matches('{').count() > 1,
            method,
            template,
            path,
            who,
            form: Vec::new(),
            body: None,
        }
    }

    fn form(mut self, fields: &[(&'static str, &str)]) -> Route {
        self.form = fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self
    }

    fn json(mut self, body: Value) -> Route {
        self.body = Some(body);
        self
    }

    /// A query string for the path.
    fn query(mut self, query: &str) -> Route {
        self.path.push_str(query);
        self
    }

    /// The body names A's ids.
    fn names_ids(mut self) -> Route {
        self.names_ids = true;
        self
    }

    /// The path's parameters name no row of A's (a kind of email), so the call means
    /// the same at every organisation's address.
    fn names_no_ids(mut self) -> Route {
        self.names_ids = false;
        self
    }

    pub(crate) fn at(&self, slug: &str) -> String {
        self.path.replace("{slug}", slug)
    }

    /// The call with an API key instead of a session (API routes only).
    pub(crate) async fn call_keyed(&self, client: &Client, token: &str, slug: &str) -> Page {
        client
            .keyed(
                token,
                self.method.clone(),
                &self.at(slug),
                self.body.clone(),
            )
            .await
    }

    pub(crate) async fn call(&self, client: &Client, slug: &str) -> Page {
        let path = self.at(slug);
        if path.starts_with("/api/") {
            return client
                .api(self.method.clone(), &path, self.body.clone())
                .await;
        }
        if self.method == Method::GET {
            return client.get(&path).await;
        }
        let fields: Vec<(&str, &str)> = self.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        client.post_form(&path, &fields).await
    }
}

use Method as M;
use Who::{Anyone, Patient, Staff};

/// Every API operation under `/api/v1/orgs/{slug}/`.
fn api_routes(a: &Ids) -> Vec<Route> {
    let r = Route::new;
    let when = "2026-03-02T09:00:00-05:00";
    vec![
        r(M::GET, "/api/v1/orgs/{slug}/session", &[], Anyone),
        r(M::POST, "/api/v1/orgs/{slug}/session", &[], Anyone)
            .json(json!({"email": "admin-beta@example.com", "password": crate::support::PASSWORD})),
        r(M::GET, "/api/v1/orgs/{slug}/settings", &[], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/settings", &[], Staff).json(json!({
            "name": "Taken over", "resolution_minutes": 5, "slot_step_minutes": 15,
            "min_notice_minutes": 0, "max_days_ahead": 90, "allow_public_signup": true,
            "auto_accept_portal_bookings": true, "cancellation_notice_minutes": 0,
            "portal_welcome": "hello"})),
        r(M::GET, "/api/v1/orgs/{slug}/email-templates", &[], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/email-templates/{kind}", &["booked"], Staff)
            .json(json!({"subject": "Taken over {what}", "intro": "Hello from an intruder."}))
            .names_no_ids(),
        r(M::DELETE, "/api/v1/orgs/{slug}/email-templates/{kind}", &["booked"], Staff).names_no_ids(),
        r(M::POST, "/api/v1/orgs/{slug}/email-templates/{kind}/preview", &["booked"], Staff)
            .json(json!({"subject": "Preview {what}", "intro": "Hello."}))
            .names_no_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/account/notifications", &[], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/account/notifications", &[], Staff)
            .json(json!({"portal_changes": true})),
        r(M::GET, "/api/v1/orgs/{slug}/clinics", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/clinics", &[], Staff)
            .json(json!({"name": "Intruder", "timezone": "UTC"})),
        r(M::GET, "/api/v1/orgs/{slug}/clinics/{id}", &[&a.clinic], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/clinics/{id}", &[&a.clinic], Staff)
            .json(json!({"name": "Renamed", "timezone": "UTC"})),
        r(M::POST, "/api/v1/orgs/{slug}/clinics/{id}/holidays", &[&a.clinic], Staff)
            .json(json!({"date": "2026-07-01"})),
        r(M::DELETE, "/api/v1/orgs/{slug}/clinics/{id}/holidays/{date}", &[&a.clinic, "2026-12-26"], Staff),
        r(M::GET, "/api/v1/orgs/{slug}/practitioner-types", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/practitioner-types", &[], Staff).json(json!({"name": "Intruder"})),
        r(M::GET, "/api/v1/orgs/{slug}/practitioner-types/{id}", &[&a.ptype], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/practitioner-types/{id}", &[&a.ptype], Staff)
            .json(json!({"name": "Renamed"})),
        r(M::GET, "/api/v1/orgs/{slug}/practitioners", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/practitioners", &[], Staff)
            .json(json!({"name": "Intruder", "type_id": a.ptype.parse::<i64>().unwrap(),
                         "home_clinic_id": a.clinic.parse::<i64>().unwrap()}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/practitioners/{id}", &[&a.practitioner], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/practitioners/{id}", &[&a.practitioner], Staff)
            .json(json!({"name": "Renamed", "type_id": a.ptype.parse::<i64>().unwrap(),
                         "home_clinic_id": a.clinic.parse::<i64>().unwrap()})),
        r(M::PUT, "/api/v1/orgs/{slug}/practitioners/{id}/schedule-types/{schedule_type_id}", &[&a.other_practitioner, &a.schedule_type], Staff),
        r(M::GET, "/api/v1/orgs/{slug}/practitioners/{id}/availability", &[&a.practitioner], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/practitioners/{id}/availability", &[&a.practitioner], Staff)
            .json(json!({"start_date": "2030-01-01"})),
        r(M::GET, "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}", &[&a.practitioner, &a.record], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}", &[&a.practitioner, &a.record], Staff)
            .json(json!({"start_date": "2026-01-01", "end_date": "2026-01-31"})),
        r(M::PUT, "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}/blocks", &[&a.practitioner, &a.record], Staff)
            .json(json!([])),
        r(M::PUT, "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}/portal", &[&a.practitioner, &a.record], Staff)
            .json(json!([])),
        r(M::POST, "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}/new-record-from", &[&a.practitioner, &a.record], Staff)
            .json(json!({"start_date": "2026-06-01"})),
        r(M::POST, "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}/temporary-change", &[&a.practitioner, &a.record], Staff)
            .json(json!({"start_date": "2026-07-01", "end_date": "2026-07-10"})),
        r(M::GET, "/api/v1/orgs/{slug}/schedule-types", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/schedule-types", &[], Staff).json(json!({"name": "Intruder"})),
        r(M::GET, "/api/v1/orgs/{slug}/schedule-types/{id}", &[&a.schedule_type], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/schedule-types/{id}", &[&a.schedule_type], Staff)
            .json(json!({"name": "Renamed"})),
        r(M::GET, "/api/v1/orgs/{slug}/services", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/services", &[], Staff)
            .json(json!({"name": "Intruder", "duration_minutes": 30,
                         "practitioner_type_id": a.ptype.parse::<i64>().unwrap(),
                         "schedule_type_ids": [a.schedule_type.parse::<i64>().unwrap()]}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/services/{id}", &[&a.report], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/services/{id}", &[&a.report], Staff)
            .json(json!({"name": "Renamed", "duration_minutes": 30,
                         "requires": [[a.resource.parse::<i64>().unwrap()]]}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/resources", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/resources", &[], Staff)
            .json(json!({"name": "Intruder room", "clinic_id": a.clinic.parse::<i64>().unwrap()}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/resources/{id}", &[&a.resource], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/resources/{id}", &[&a.resource], Staff)
            .json(json!({"name": "Renamed", "clinic_id": a.clinic.parse::<i64>().unwrap()})),
        r(M::GET, "/api/v1/orgs/{slug}/resources/{id}/availability", &[&a.resource], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/resources/{id}/availability", &[&a.resource], Staff)
            .json(json!({"start_date": "2031-01-01"})),
        r(M::PUT, "/api/v1/orgs/{slug}/resources/{id}/availability/{record}", &[&a.resource, &a.resource_record], Staff)
            .json(json!({"start_date": "2026-01-01", "end_date": "2026-12-31", "blocks": []})),
        r(M::GET, "/api/v1/orgs/{slug}/resources/{id}/time-off", &[&a.resource], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/resources/{id}/time-off", &[&a.resource], Staff)
            .json(json!({"start": "2026-04-01T08:00:00-04:00", "end": "2026-04-01T12:00:00-04:00"})),
        r(M::GET, "/api/v1/orgs/{slug}/staff", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/staff", &[], Staff)
            .json(json!({"email": "intruder@example.com", "name": "Intruder", "role": "practitioner",
                         "password": "intruder-password-very-long-9",
                         "practitioner_id": a.practitioner.parse::<i64>().unwrap()}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/staff/{id}", &[&a.staff], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/staff/{id}/active", &[&a.staff], Staff).json(json!({"active": false})),
        r(M::GET, "/api/v1/orgs/{slug}/audit", &[], Staff),
        r(M::GET, "/api/v1/orgs/{slug}/setup-check", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/setup-check/explain", &[], Staff)
            .json(json!({"service": a.service.parse::<i64>().unwrap(),
                         "practitioner": a.practitioner.parse::<i64>().unwrap(),
                         "date": "2026-03-02", "time": "09:00",
                         "patient": a.patient.parse::<i64>().unwrap()}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/patients", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/patients", &[], Staff)
            .json(json!({"first_name": "In", "last_name": "Truder", "email": "intruder@example.com"})),
        r(M::GET, "/api/v1/orgs/{slug}/patients/{id}", &[&a.patient], Staff),
        // Each patient route its own address: a second patient with one already on
        // file is not saved without staff confirming it (`allow_duplicate_email`).
        r(M::PUT, "/api/v1/orgs/{slug}/patients/{id}", &[&a.patient], Staff)
            .json(json!({"first_name": "In", "last_name": "Truder", "email": "intruder.saved@example.com"})),
        r(M::GET, "/api/v1/orgs/{slug}/patients/{id}/portal-access", &[&a.patient], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/patients/{id}/portal-access/invitation", &[&a.patient], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/patients/{id}/portal-access/credentials", &[&a.patient], Staff)
            .json(json!({"username": "intruder@example.com", "password": "intruder-password-very-long-9"})),
        r(M::PUT, "/api/v1/orgs/{slug}/patients/{id}/portal-access/practitioners", &[&a.patient], Staff)
            .json(json!({"practitioners": [a.practitioner.parse::<i64>().unwrap()]})),
        r(M::GET, "/api/v1/orgs/{slug}/appointments", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/appointments", &[], Staff)
            .json(json!({"practitioner": a.practitioner.parse::<i64>().unwrap(), "start": when,
                         "patient": a.patient.parse::<i64>().unwrap(),
                         "service": a.service.parse::<i64>().unwrap()}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/appointments/pending", &[], Staff),
        r(M::GET, "/api/v1/orgs/{slug}/appointments/{id}", &[&a.appointment], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/appointments/{id}/move", &[&a.appointment], Staff)
            .json(json!({"start": "2026-03-03T09:00:00-05:00"})),
        r(M::POST, "/api/v1/orgs/{slug}/appointments/{id}/accept", &[&a.pending], Staff).json(json!({})),
        r(M::POST, "/api/v1/orgs/{slug}/appointments/{id}/decline", &[&a.pending], Staff).json(json!({})),
        r(M::POST, "/api/v1/orgs/{slug}/appointments/{id}/status", &[&a.appointment], Staff)
            .json(json!({"status": "arrived"})),
        r(M::POST, "/api/v1/orgs/{slug}/appointments/{id}/confirm", &[&a.appointment], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/series/preview", &[], Staff)
            .json(json!({"practitioner": a.practitioner.parse::<i64>().unwrap(), "start": "2026-03-23T09:00:00-04:00",
                         "patient": a.patient.parse::<i64>().unwrap(),
                         "service": a.service.parse::<i64>().unwrap(), "every_weeks": 1, "count": 2}))
            .names_ids(),
        // With an override for each date, so that it books whatever the routes before
        // it did to the practitioner's hours.
        r(M::POST, "/api/v1/orgs/{slug}/series", &[], Staff)
            .json(json!({"practitioner": a.practitioner.parse::<i64>().unwrap(), "start": "2026-03-23T09:00:00-04:00",
                         "patient": a.patient.parse::<i64>().unwrap(),
                         "service": a.service.parse::<i64>().unwrap(), "every_weeks": 1, "count": 2,
                         "overrides": [{"date": "2026-03-23", "reason": "matrix"},
                                       {"date": "2026-03-30", "reason": "matrix"}]}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/series/{id}", &[&a.series], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/appointments/{id}/move-following", &[&a.series_appointment], Staff)
            .json(json!({"start": "2026-03-09T10:00:00-04:00"})),
        r(M::GET, "/api/v1/orgs/{slug}/portal/session", &[], Anyone),
        r(M::POST, "/api/v1/orgs/{slug}/portal/session", &[], Anyone)
            .json(json!({"username": "bea@example.com", "password": PATIENT_PASSWORD})),
        r(M::GET, "/api/v1/orgs/{slug}/portal/captcha", &[], Anyone),
        r(M::POST, "/api/v1/orgs/{slug}/portal/signup", &[], Anyone)
            .json(json!({"first_name": "In", "last_name": "Truder", "email": "ysolde@example.com",
                         "password": PATIENT_PASSWORD, "captcha": ""})),
        r(M::POST, "/api/v1/orgs/{slug}/portal/password-reset", &[], Anyone)
            .json(json!({"email": "nobody@example.com"})),
        r(M::POST, "/api/v1/orgs/{slug}/portal/password-reset/{token}", &["not-a-token"], Anyone)
            .json(json!({"password": PATIENT_PASSWORD})),
        r(M::GET, "/api/v1/orgs/{slug}/portal/reminder-links/{token}", &["not-a-token"], Anyone),
        r(M::POST, "/api/v1/orgs/{slug}/portal/reminder-links/{token}", &["not-a-token"], Anyone),
        r(M::GET, "/api/v1/orgs/{slug}/api-keys", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/api-keys", &[], Staff)
            .json(json!({"name": "Matrix key", "scopes": ["schedule:read"]})),
        r(M::DELETE, "/api/v1/orgs/{slug}/api-keys/{id}", &[&a.api_key], Staff),
        r(M::GET, "/api/v1/orgs/{slug}/reminder-settings", &[], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/reminder-settings", &[], Staff)
            .json(json!({"offsets_minutes": [60], "no_show_pending_after": 1})),
        r(M::GET, "/api/v1/orgs/{slug}/practitioners/{id}/calendar-feed", &[&a.practitioner], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/practitioners/{id}/calendar-feed", &[&a.practitioner], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/practitioners/{id}/calendar-feed", &[&a.practitioner], Staff),
        r(M::GET, "/api/v1/orgs/{slug}/clinics/{id}/calendar-feed", &[&a.clinic], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/clinics/{id}/calendar-feed", &[&a.clinic], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/clinics/{id}/calendar-feed", &[&a.clinic], Staff),
        r(M::GET, "/api/v1/orgs/{slug}/calendar-feed-settings", &[], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/calendar-feed-settings", &[], Staff)
            .json(json!({"patient_names": true, "service_names": true})),
        r(M::GET, "/api/v1/orgs/{slug}/portal/signups/{token}", &["not-a-token"], Anyone),
        r(M::POST, "/api/v1/orgs/{slug}/portal/signups/{token}", &["not-a-token"], Anyone)
            .json(json!({"password": PATIENT_PASSWORD})),
        r(M::GET, "/api/v1/orgs/{slug}/portal/invitations/{token}", &["not-a-token"], Anyone),
        r(M::POST, "/api/v1/orgs/{slug}/portal/invitations/{token}", &["not-a-token"], Anyone)
            .json(json!({"password": PATIENT_PASSWORD})),
        r(M::GET, "/api/v1/orgs/{slug}/portal/services", &[], Patient),
        r(M::GET, "/api/v1/orgs/{slug}/portal/services/{service}/practitioners", &[&a.service], Patient),
        r(M::GET, "/api/v1/orgs/{slug}/portal/slots", &[], Patient),
        r(M::GET, "/api/v1/orgs/{slug}/portal/days", &[], Patient),
        r(M::GET, "/api/v1/orgs/{slug}/portal/appointments", &[], Patient),
        r(M::POST, "/api/v1/orgs/{slug}/portal/appointments", &[], Patient)
            .json(json!({"service": a.service.parse::<i64>().unwrap(),
                         "practitioner": a.practitioner.parse::<i64>().unwrap(), "start": when}))
            .names_ids(),
        r(M::POST, "/api/v1/orgs/{slug}/portal/series/preview", &[], Patient)
            .json(json!({"service": a.service.parse::<i64>().unwrap(),
                         "practitioner": a.practitioner.parse::<i64>().unwrap(),
                         "start": "2026-03-23T09:00:00-04:00", "weeks": 2}))
            .names_ids(),
        r(M::POST, "/api/v1/orgs/{slug}/portal/series", &[], Patient)
            .json(json!({"service": a.service.parse::<i64>().unwrap(),
                         "practitioner": a.practitioner.parse::<i64>().unwrap(),
                         "start": "2026-03-23T09:00:00-04:00", "weeks": 2}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/portal/series/{id}", &[&a.series], Patient),
        r(M::GET, "/api/v1/orgs/{slug}/portal/appointments/{id}", &[&a.appointment], Patient),
        r(M::POST, "/api/v1/orgs/{slug}/portal/appointments/{id}/cancel", &[&a.appointment], Patient),
        r(M::POST, "/api/v1/orgs/{slug}/portal/appointments/{id}/reschedule", &[&a.appointment], Patient)
            .json(json!({"start": "2026-03-02T10:00:00-05:00"})),
        r(M::GET, "/api/v1/orgs/{slug}/portal/account", &[], Patient),
        r(M::PUT, "/api/v1/orgs/{slug}/portal/account", &[], Patient)
            .json(json!({"first_name": "In", "last_name": "Truder", "phone": "555"})),
        r(M::POST, "/api/v1/orgs/{slug}/portal/account/email", &[], Patient)
            .json(json!({"email": "intruder@example.com", "current_password": PATIENT_PASSWORD})),
        r(M::PUT, "/api/v1/orgs/{slug}/portal/account/password", &[], Patient)
            .json(json!({"current_password": PATIENT_PASSWORD, "new_password": "intruder-password-very-long-9"})),
        r(M::GET, "/api/v1/orgs/{slug}/portal/email-changes/{token}", &["not-a-token"], Anyone),
        r(M::POST, "/api/v1/orgs/{slug}/portal/email-changes/{token}", &["not-a-token"], Anyone)
            .json(json!({"password": PATIENT_PASSWORD})),
        r(M::GET, "/api/v1/orgs/{slug}/portal/waitlist", &[], Patient),
        r(M::POST, "/api/v1/orgs/{slug}/portal/waitlist", &[], Patient)
            .json(json!({"service_id": a.service.parse::<i64>().unwrap(), "from_time": "23:30",
                         "practitioner_ids": [a.practitioner.parse::<i64>().unwrap()]}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/waitlist/offers/{token}", &["not-a-token"], Anyone),
        r(M::POST, "/api/v1/orgs/{slug}/waitlist/offers/{token}/accept", &["not-a-token"], Anyone),
        r(M::GET, "/api/v1/orgs/{slug}/waitlist", &[], Staff)
            .query(&format!("?service_id={}", a.service))
            .names_ids(),
        r(M::POST, "/api/v1/orgs/{slug}/waitlist", &[], Staff)
            .json(json!({"patient_id": a.patient.parse::<i64>().unwrap(), "from_time": "23:30",
                         "service_id": a.service.parse::<i64>().unwrap()}))
            .names_ids(),
        r(M::POST, "/api/v1/orgs/{slug}/waitlist/offers", &[], Staff)
            .json(json!({"service_id": a.service.parse::<i64>().unwrap(),
                         "practitioner_id": a.practitioner.parse::<i64>().unwrap(), "start": when}))
            .names_ids(),
        r(M::GET, "/api/v1/orgs/{slug}/webhooks", &[], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/webhooks", &[], Staff)
            .json(json!({"name": "Intruder", "url": "https://hooks.example.com/in",
                         "events": ["appointment.booked"]})),
        r(M::GET, "/api/v1/orgs/{slug}/webhooks/{id}", &[&a.webhook], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/webhooks/{id}", &[&a.webhook], Staff)
            .json(json!({"name": "Intruder", "url": "https://hooks.example.com/in",
                         "events": ["appointment.booked"]})),
        r(M::POST, "/api/v1/orgs/{slug}/webhooks/{id}/rotate-secret", &[&a.webhook], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/webhooks/{id}/test", &[&a.webhook], Staff),
        r(M::GET, "/api/v1/orgs/{slug}/webhooks/{id}/deliveries", &[&a.webhook], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/webhooks/{id}/deliveries/{delivery}/replay",
          &[&a.webhook, &a.webhook_delivery], Staff),
        r(M::GET, "/api/v1/orgs/{slug}/waitlist/settings", &[], Staff),
        r(M::PUT, "/api/v1/orgs/{slug}/waitlist/settings", &[], Staff)
            .json(json!({"offer_count": 1, "hold_minutes": 5, "max_holds_per_service": 1, "max_entries_per_patient": 5})),
        // Deleting last: these remove what the probes above rely on.
        r(M::DELETE, "/api/v1/orgs/{slug}/webhooks/{id}", &[&a.webhook], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/portal/waitlist/{id}", &[&a.waitlist_entry], Patient),
        r(M::DELETE, "/api/v1/orgs/{slug}/waitlist/{id}", &[&a.waitlist_entry], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/appointments/{id}", &[&a.appointment], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/appointments/{id}/restore", &[&a.appointment], Staff),
        r(M::POST, "/api/v1/orgs/{slug}/appointments/{id}/cancel-following", &[&a.series_appointment], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/practitioners/{id}/schedule-types/{schedule_type_id}", &[&a.practitioner, &a.schedule_type], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}", &[&a.practitioner, &a.record], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/services/{id}", &[&a.report], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/resources/{id}/time-off/{off}", &[&a.resource, &a.resource_off], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/resources/{id}/availability/{record}", &[&a.resource, &a.resource_record], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/resources/{id}", &[&a.resource], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/schedule-types/{id}", &[&a.schedule_type], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/practitioner-types/{id}", &[&a.ptype], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/clinics/{id}", &[&a.clinic], Staff),
        r(M::DELETE, "/api/v1/orgs/{slug}/portal/session", &[], Anyone),
        r(M::DELETE, "/api/v1/orgs/{slug}/session", &[], Anyone),
    ]
}

/// Every page under `/o/{slug}/`.
pub(crate) fn page_routes(a: &Ids) -> Vec<Route> {
    let r = Route::new;
    let p = &a.practitioner;
    let rec = &a.record;
    let st = &a.schedule_type;
    let clinic_fields: &[(&str, &str)] = &[("name", "Renamed"), ("timezone", "UTC")];
    let practitioner_fields = [
        ("name", "Renamed"),
        ("type_id", a.ptype.as_str()),
        ("home_clinic_id", a.clinic.as_str()),
        ("active", "on"),
    ];
    let patient_fields: &[(&str, &str)] = &[
        ("first_name", "In"),
        ("last_name", "Truder"),
        ("email", "intruder.page@example.com"),
    ];
    let saved_patient_fields: &[(&str, &str)] = &[
        ("first_name", "In"),
        ("last_name", "Truder"),
        ("email", "intruder.page.saved@example.com"),
    ];
    vec![
        r(M::GET, "/o/{slug}/admin", &[], Anyone),
        r(M::GET, "/o/{slug}/admin/signin", &[], Anyone),
        r(M::POST, "/o/{slug}/admin/signin", &[], Anyone).form(&[
            ("email", "admin-beta@example.com"),
            ("password", crate::support::PASSWORD),
        ]),
        r(M::GET, "/o/{slug}/admin/setup", &[], Staff),
        r(M::GET, "/o/{slug}/admin/setup-check", &[], Staff),
        r(M::GET, "/o/{slug}/admin/audit", &[], Staff),
        r(M::GET, "/o/{slug}/admin/settings", &[], Staff),
        r(M::GET, "/o/{slug}/admin/webhooks", &[], Staff),
        r(M::POST, "/o/{slug}/admin/webhooks", &[], Staff).form(&[
            ("name", "Intruder"),
            ("url", "https://hooks.example.com/in"),
            ("events", "appointment.booked"),
        ]),
        r(
            M::GET,
            "/o/{slug}/admin/webhooks/{id}",
            &[&a.webhook],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/webhooks/{id}",
            &[&a.webhook],
            Staff,
        )
        .form(&[
            ("name", "Intruder"),
            ("url", "https://hooks.example.com/in"),
            ("events", "appointment.booked"),
        ]),
        r(
            M::POST,
            "/o/{slug}/admin/webhooks/{id}/rotate",
            &[&a.webhook],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/webhooks/{id}/test",
            &[&a.webhook],
            Staff,
        ),
        r(
            M::GET,
            "/o/{slug}/admin/webhooks/{id}/deliveries",
            &[&a.webhook],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/webhooks/{id}/deliveries/{delivery}/replay",
            &[&a.webhook, &a.webhook_delivery],
            Staff,
        ),
        r(M::GET, "/o/{slug}/admin/api-keys", &[], Staff),
        r(M::POST, "/o/{slug}/admin/api-keys", &[], Staff)
            .form(&[("name", "Matrix page key"), ("scopes", "schedule:read")]),
        r(
            M::POST,
            "/o/{slug}/admin/api-keys/{id}/revoke",
            &[&a.api_key],
            Staff,
        ),
        r(M::GET, "/o/{slug}/admin/reminders", &[], Staff),
        r(M::POST, "/o/{slug}/admin/reminders", &[], Staff)
            .form(&[("offsets", "1h"), ("no_show_pending_after", "1")]),
        r(
            M::GET,
            "/o/{slug}/admin/practitioners/{id}/calendar-feed",
            &[&a.practitioner],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/calendar-feed",
            &[&a.practitioner],
            Staff,
        )
        .form(&[("action", "address")]),
        r(
            M::GET,
            "/o/{slug}/admin/clinics/{id}/calendar-feed",
            &[&a.clinic],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/clinics/{id}/calendar-feed",
            &[&a.clinic],
            Staff,
        )
        .form(&[("action", "address")]),
        r(
            M::POST,
            "/o/{slug}/admin/calendar-feed-settings",
            &[],
            Staff,
        )
        .form(&[("patient_names", "on"), ("service_names", "on")]),
        r(
            M::GET,
            "/o/{slug}/calendar/{file}",
            &["not-a-token.ics"],
            Anyone,
        ),
        r(
            M::GET,
            "/o/{slug}/portal/reminder/{token}",
            &["not-a-token"],
            Anyone,
        ),
        r(
            M::POST,
            "/o/{slug}/portal/reminder/{token}",
            &["not-a-token"],
            Anyone,
        )
        .form(&[]),
        r(M::POST, "/o/{slug}/admin/settings", &[], Staff).form(&[
            ("name", "Taken over"),
            ("resolution_minutes", "5"),
            ("slot_step_minutes", "15"),
            ("min_notice_minutes", "0"),
            ("max_days_ahead", "90"),
            ("cancellation_notice_minutes", "0"),
            ("portal_welcome", "hi"),
        ]),
        r(M::GET, "/o/{slug}/logo", &[], Anyone),
        r(M::GET, "/o/{slug}/admin/settings/logo", &[], Staff),
        r(M::POST, "/o/{slug}/admin/settings/logo", &[], Staff).form(&[("logo", "not an image")]),
        r(M::POST, "/o/{slug}/admin/settings/logo/remove", &[], Staff),
        r(M::GET, "/o/{slug}/admin/settings/emails", &[], Staff),
        r(
            M::GET,
            "/o/{slug}/admin/settings/emails/{kind}",
            &["booked"],
            Staff,
        )
        .names_no_ids(),
        r(
            M::POST,
            "/o/{slug}/admin/settings/emails/{kind}",
            &["booked"],
            Staff,
        )
        .form(&[
            ("subject", "Taken over {what}"),
            ("intro", "Hello from an intruder."),
            ("action", "save"),
        ])
        .names_no_ids(),
        r(
            M::POST,
            "/o/{slug}/admin/settings/emails/{kind}/reset",
            &["booked"],
            Staff,
        )
        .names_no_ids(),
        r(M::GET, "/o/{slug}/admin/account", &[], Staff),
        r(M::POST, "/o/{slug}/admin/account", &[], Staff).form(&[("portal_changes", "on")]),
        r(M::GET, "/o/{slug}/admin/clinics", &[], Staff),
        r(M::POST, "/o/{slug}/admin/clinics", &[], Staff).form(clinic_fields),
        r(M::GET, "/o/{slug}/admin/clinics/{id}", &[&a.clinic], Staff),
        r(M::POST, "/o/{slug}/admin/clinics/{id}", &[&a.clinic], Staff).form(clinic_fields),
        r(
            M::POST,
            "/o/{slug}/admin/clinics/{id}/holidays",
            &[&a.clinic],
            Staff,
        )
        .form(&[("date", "2026-07-01")]),
        r(
            M::POST,
            "/o/{slug}/admin/clinics/{id}/holidays/{day}/delete",
            &[&a.clinic, "2026-12-26"],
            Staff,
        ),
        r(M::GET, "/o/{slug}/admin/practitioner-types", &[], Staff),
        r(M::POST, "/o/{slug}/admin/practitioner-types", &[], Staff).form(&[("name", "Intruder")]),
        r(
            M::GET,
            "/o/{slug}/admin/practitioner-types/{id}",
            &[&a.ptype],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/practitioner-types/{id}",
            &[&a.ptype],
            Staff,
        )
        .form(&[("name", "Renamed")]),
        r(M::GET, "/o/{slug}/admin/practitioners", &[], Staff),
        r(M::POST, "/o/{slug}/admin/practitioners", &[], Staff)
            .form(&practitioner_fields)
            .names_ids(),
        r(M::GET, "/o/{slug}/admin/practitioners/{id}", &[p], Staff),
        r(M::POST, "/o/{slug}/admin/practitioners/{id}", &[p], Staff).form(&practitioner_fields),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/active",
            &[p],
            Staff,
        )
        .form(&[("active", "false")]),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/schedule-types/{schedule_type}/add",
            &[&a.other_practitioner, st],
            Staff,
        ),
        r(
            M::GET,
            "/o/{slug}/admin/practitioners/{id}/availability",
            &[p],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/availability",
            &[p],
            Staff,
        )
        .form(&[("start_date", "2030-01-01")]),
        r(
            M::GET,
            "/o/{slug}/admin/practitioners/{id}/availability/colours.css",
            &[p],
            Staff,
        ),
        r(
            M::GET,
            "/o/{slug}/admin/practitioners/{id}/availability/{record}",
            &[p, rec],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/availability/{record}",
            &[p, rec],
            Staff,
        )
        .form(&[("start_date", "2026-01-01"), ("end_date", "2026-01-31")]),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/grid",
            &[p, rec],
            Staff,
        )
        .form(&[("layer", "availability"), ("schedule_type", st)]),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/schedule-types",
            &[p, rec],
            Staff,
        )
        .form(&[("schedule_type", st)]),
        r(
            M::GET,
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/new-record-from",
            &[p, rec],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/new-record-from",
            &[p, rec],
            Staff,
        )
        .form(&[("start_date", "2026-06-01")]),
        r(
            M::GET,
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/temporary-change",
            &[p, rec],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/temporary-change",
            &[p, rec],
            Staff,
        )
        .form(&[("start_date", "2026-07-01"), ("end_date", "2026-07-10")]),
        r(M::GET, "/o/{slug}/admin/schedule-types", &[], Staff),
        r(M::POST, "/o/{slug}/admin/schedule-types", &[], Staff).form(&[("name", "Intruder")]),
        r(M::GET, "/o/{slug}/admin/schedule-types.css", &[], Staff),
        r(M::GET, "/o/{slug}/admin/schedule-types/{id}", &[st], Staff),
        r(M::POST, "/o/{slug}/admin/schedule-types/{id}", &[st], Staff)
            .form(&[("name", "Renamed")]),
        r(M::GET, "/o/{slug}/admin/services", &[], Staff),
        r(M::POST, "/o/{slug}/admin/services", &[], Staff)
            .form(&[
                ("name", "Intruder"),
                ("duration_minutes", "30"),
                ("practitioner_type_id", a.ptype.as_str()),
                ("schedule_type_ids", st),
            ])
            .names_ids(),
        r(M::GET, "/o/{slug}/admin/services/{id}", &[&a.report], Staff),
        r(
            M::POST,
            "/o/{slug}/admin/services/{id}",
            &[&a.report],
            Staff,
        )
        .form(&[("name", "Renamed"), ("duration_minutes", "30")]),
        r(
            M::POST,
            "/o/{slug}/admin/services/{id}",
            &[&a.service],
            Staff,
        )
        .form(&[
            ("name", "Portal visit"),
            ("duration_minutes", "30"),
            ("book_from_portal", "on"),
            ("portal_conflicts", "1"),
            ("schedule_type_ids", st),
            ("need_rows", "1"),
            ("need", &format!("{}/0", a.resource)),
        ])
        .names_ids(),
        r(M::GET, "/o/{slug}/admin/resources", &[], Staff),
        r(M::POST, "/o/{slug}/admin/resources", &[], Staff)
            .form(&[
                ("name", "Intruder room"),
                ("kind", "room"),
                ("clinic_id", a.clinic.as_str()),
                ("capacity", "1"),
            ])
            .names_ids(),
        r(
            M::GET,
            "/o/{slug}/admin/resources/{id}",
            &[&a.resource],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/resources/{id}",
            &[&a.resource],
            Staff,
        )
        .form(&[
            ("name", "Renamed"),
            ("kind", "room"),
            ("clinic_id", a.clinic.as_str()),
            ("capacity", "1"),
        ]),
        r(
            M::POST,
            "/o/{slug}/admin/resources/{id}/records",
            &[&a.resource],
            Staff,
        )
        .form(&[("start_date", "2032-01-01"), ("block_rows", "0")]),
        r(
            M::GET,
            "/o/{slug}/admin/resources/{id}/records/{record}",
            &[&a.resource, &a.resource_record],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/resources/{id}/records/{record}",
            &[&a.resource, &a.resource_record],
            Staff,
        )
        .form(&[
            ("start_date", "2026-01-01"),
            ("end_date", "2026-12-31"),
            ("block_rows", "0"),
        ]),
        r(
            M::POST,
            "/o/{slug}/admin/resources/{id}/time-off",
            &[&a.resource],
            Staff,
        )
        .form(&[
            ("off_start_date", "2026-04-01"),
            ("off_start_time", "08:00"),
            ("off_end_date", "2026-04-01"),
            ("off_end_time", "12:00"),
        ]),
        r(M::GET, "/o/{slug}/admin/staff", &[], Staff),
        r(M::POST, "/o/{slug}/admin/staff", &[], Staff)
            .form(&[
                ("email", "intruder@example.com"),
                ("name", "Intruder"),
                ("role", "practitioner"),
                ("practitioner_id", p),
            ])
            .names_ids(),
        r(
            M::POST,
            "/o/{slug}/admin/staff/{id}/active",
            &[&a.staff],
            Staff,
        )
        .form(&[("active", "false")]),
        r(M::GET, "/o/{slug}/admin/patients", &[], Staff),
        r(M::POST, "/o/{slug}/admin/patients", &[], Staff).form(patient_fields),
        r(
            M::GET,
            "/o/{slug}/admin/patients/{id}",
            &[&a.patient],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/patients/{id}",
            &[&a.patient],
            Staff,
        )
        .form(saved_patient_fields),
        r(
            M::GET,
            "/o/{slug}/admin/patients/{id}/portal-access",
            &[&a.patient],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/patients/{id}/portal-access/invitation",
            &[&a.patient],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/patients/{id}/portal-access/credentials",
            &[&a.patient],
            Staff,
        )
        .form(&[
            ("username", "intruder@example.com"),
            ("password", "intruder-password-very-long-9"),
        ]),
        r(
            M::POST,
            "/o/{slug}/admin/patients/{id}/portal-access/practitioners",
            &[&a.patient],
            Staff,
        )
        .form(&[("practitioners", p)]),
        r(M::GET, "/o/{slug}/admin/book", &[], Staff),
        r(M::GET, "/o/{slug}/admin/book/colours.css", &[], Staff),
        r(M::GET, "/o/{slug}/admin/book/new", &[], Staff),
        r(M::POST, "/o/{slug}/admin/book/new", &[], Staff)
            .form(&[
                ("practitioner", p),
                ("patient", a.patient.as_str()),
                ("service", a.service.as_str()),
                ("date", "2026-03-02"),
                ("time", "09:00"),
            ])
            .names_ids(),
        r(
            M::GET,
            "/o/{slug}/admin/book/appointments/{id}",
            &[&a.appointment],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/book/appointments/{id}/move",
            &[&a.appointment],
            Staff,
        )
        .form(&[("date", "2026-03-03"), ("time", "09:00")]),
        r(M::GET, "/o/{slug}/admin/pending", &[], Staff),
        r(
            M::POST,
            "/o/{slug}/admin/pending/{id}",
            &[&a.pending],
            Staff,
        )
        .form(&[("decision", "decline")]),
        r(M::GET, "/o/{slug}", &[], Anyone),
        r(M::GET, "/o/{slug}/portal", &[], Anyone),
        r(M::GET, "/o/{slug}/portal/signin", &[], Anyone),
        r(M::POST, "/o/{slug}/portal/signin", &[], Anyone).form(&[
            ("username", "bea@example.com"),
            ("password", PATIENT_PASSWORD),
        ]),
        r(M::GET, "/o/{slug}/portal/signup", &[], Anyone),
        r(M::POST, "/o/{slug}/portal/signup", &[], Anyone).form(&[
            ("first_name", "In"),
            ("last_name", "Truder"),
            ("email", "ysolde@example.com"),
            ("password", PATIENT_PASSWORD),
            ("captcha", ""),
        ]),
        r(M::GET, "/o/{slug}/portal/captcha", &[], Anyone),
        r(M::GET, "/o/{slug}/portal/forgot", &[], Anyone),
        r(M::POST, "/o/{slug}/portal/forgot", &[], Anyone).form(&[("email", "nobody@example.com")]),
        r(
            M::GET,
            "/o/{slug}/portal/reset/{token}",
            &["not-a-token"],
            Anyone,
        ),
        r(
            M::POST,
            "/o/{slug}/portal/reset/{token}",
            &["not-a-token"],
            Anyone,
        )
        .form(&[
            ("password", PATIENT_PASSWORD),
            ("password_confirmation", PATIENT_PASSWORD),
        ]),
        r(
            M::GET,
            "/o/{slug}/portal/signup/{token}",
            &["not-a-token"],
            Anyone,
        ),
        r(
            M::POST,
            "/o/{slug}/portal/signup/{token}",
            &["not-a-token"],
            Anyone,
        )
        .form(&[("password", PATIENT_PASSWORD)]),
        r(
            M::GET,
            "/o/{slug}/portal/invitation/{token}",
            &["not-a-token"],
            Anyone,
        ),
        r(
            M::POST,
            "/o/{slug}/portal/invitation/{token}",
            &["not-a-token"],
            Anyone,
        )
        .form(&[
            ("password", PATIENT_PASSWORD),
            ("password_confirmation", PATIENT_PASSWORD),
        ]),
        r(M::GET, "/o/{slug}/portal/book", &[], Patient),
        r(
            M::GET,
            "/o/{slug}/portal/book/{service}",
            &[&a.service],
            Patient,
        )
        .query(&format!("?practitioner={p}&from=2026-03-02")),
        r(
            M::POST,
            "/o/{slug}/portal/book/{service}",
            &[&a.service],
            Patient,
        )
        .form(&[("practitioner", p), ("start", "2026-03-02T09:00:00-05:00")]),
        r(
            M::GET,
            "/o/{slug}/portal/book/{service}/confirm",
            &[&a.service],
            Patient,
        )
        .query(&format!(
            "?practitioner={p}&start=2026-03-02T09:00:00-05:00"
        )),
        r(
            M::POST,
            "/o/{slug}/portal/book/{service}/series",
            &[&a.service],
            Patient,
        )
        .form(&[
            ("practitioner", p),
            ("start", "2026-03-23T09:00:00-04:00"),
            ("weeks", "2"),
        ]),
        r(
            M::GET,
            "/o/{slug}/portal/series/{id}",
            &[&a.series],
            Patient,
        ),
        r(
            M::GET,
            "/o/{slug}/portal/series/{id}/calendar.ics",
            &[&a.series],
            Patient,
        ),
        r(M::GET, "/o/{slug}/portal/appointments", &[], Patient),
        r(
            M::GET,
            "/o/{slug}/portal/appointments/{id}",
            &[&a.appointment],
            Patient,
        ),
        r(
            M::GET,
            "/o/{slug}/portal/appointments/{id}/calendar.ics",
            &[&a.appointment],
            Patient,
        ),
        r(
            M::GET,
            "/o/{slug}/portal/appointments/{id}/booked",
            &[&a.appointment],
            Patient,
        ),
        r(
            M::GET,
            "/o/{slug}/portal/appointments/{id}/reschedule",
            &[&a.appointment],
            Patient,
        ),
        r(
            M::GET,
            "/o/{slug}/portal/appointments/{id}/reschedule/confirm",
            &[&a.appointment],
            Patient,
        )
        .query(&format!(
            "?practitioner={p}&start=2026-03-02T10:00:00-05:00"
        )),
        r(
            M::POST,
            "/o/{slug}/portal/appointments/{id}/reschedule",
            &[&a.appointment],
            Patient,
        )
        .form(&[("practitioner", p), ("start", "2026-03-02T10:00:00-05:00")]),
        r(
            M::GET,
            "/o/{slug}/portal/appointments/{id}/cancel",
            &[&a.appointment],
            Patient,
        ),
        r(
            M::POST,
            "/o/{slug}/portal/appointments/{id}/cancel",
            &[&a.appointment],
            Patient,
        ),
        r(M::GET, "/o/{slug}/portal/account", &[], Patient),
        r(M::POST, "/o/{slug}/portal/account", &[], Patient).form(&[
            ("first_name", "In"),
            ("last_name", "Truder"),
            ("phone", "555"),
        ]),
        r(M::POST, "/o/{slug}/portal/account/email", &[], Patient).form(&[
            ("email", "intruder@example.com"),
            ("current_password", PATIENT_PASSWORD),
        ]),
        r(M::POST, "/o/{slug}/portal/account/password", &[], Patient).form(&[
            ("current_password", PATIENT_PASSWORD),
            ("new_password", "intruder-password-very-long-9"),
            ("new_password_confirmation", "intruder-password-very-long-9"),
        ]),
        r(
            M::GET,
            "/o/{slug}/portal/email/{token}",
            &["not-a-token"],
            Anyone,
        ),
        r(
            M::POST,
            "/o/{slug}/portal/email/{token}",
            &["not-a-token"],
            Anyone,
        )
        .form(&[("password", PATIENT_PASSWORD)]),
        // Deleting last.
        r(
            M::POST,
            "/o/{slug}/admin/webhooks/{id}/delete",
            &[&a.webhook],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/book/appointments/{id}/confirm",
            &[&a.appointment],
            Staff,
        )
        .form(&[]),
        r(
            M::POST,
            "/o/{slug}/admin/book/appointments/{id}/status",
            &[&a.appointment],
            Staff,
        )
        .form(&[("status", "arrived")]),
        r(
            M::POST,
            "/o/{slug}/admin/book/appointments/{id}/cancel",
            &[&a.appointment],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/book/appointments/{id}/restore",
            &[&a.appointment],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/book/appointments/{id}/move-following",
            &[&a.series_appointment],
            Staff,
        )
        .form(&[("date", "2026-03-09"), ("time", "10:00")]),
        r(
            M::POST,
            "/o/{slug}/admin/book/appointments/{id}/cancel-following",
            &[&a.series_appointment],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/schedule-types/{schedule_type}/remove",
            &[p, st],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/schedule-types/{type}/delete",
            &[p, rec, st],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/delete",
            &[p, rec],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/services/{id}/delete",
            &[&a.report],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/resources/{id}/time-off/{off}/delete",
            &[&a.resource, &a.resource_off],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/resources/{id}/records/{record}/delete",
            &[&a.resource, &a.resource_record],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/resources/{id}/delete",
            &[&a.resource],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/schedule-types/{id}/delete",
            &[st],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/practitioner-types/{id}/delete",
            &[&a.ptype],
            Staff,
        ),
        r(
            M::POST,
            "/o/{slug}/admin/clinics/{id}/delete",
            &[&a.clinic],
            Staff,
        ),
        r(M::GET, "/o/{slug}/portal/waitlist", &[], Patient),
        r(M::POST, "/o/{slug}/portal/waitlist", &[], Patient)
            .form(&[
                ("service_id", a.service.as_str()),
                ("practitioner_id", p.as_str()),
                ("from_time", "23:30"),
            ])
            .names_ids(),
        r(
            M::POST,
            "/o/{slug}/portal/waitlist/{id}/leave",
            &[&a.waitlist_entry],
            Patient,
        ),
        r(
            M::GET,
            "/o/{slug}/portal/offers/{token}",
            &["not-a-token"],
            Anyone,
        ),
        r(
            M::POST,
            "/o/{slug}/portal/offers/{token}",
            &["not-a-token"],
            Anyone,
        ),
        r(M::GET, "/o/{slug}/admin/waitlist", &[], Staff),
        r(M::POST, "/o/{slug}/admin/waitlist", &[], Staff)
            .form(&[
                ("patient_id", a.patient.as_str()),
                ("service_id", a.service.as_str()),
                ("from_time", "23:30"),
            ])
            .names_ids(),
        r(M::POST, "/o/{slug}/admin/waitlist/offer", &[], Staff)
            .form(&[
                ("service_id", a.service.as_str()),
                ("practitioner_id", p.as_str()),
                ("start", "2026-03-02T09:00:00-05:00"),
            ])
            .names_ids(),
        r(M::POST, "/o/{slug}/admin/waitlist/settings", &[], Staff).form(&[
            ("offer_count", "1"),
            ("hold_minutes", "5"),
            ("max_holds_per_service", "1"),
            ("max_entries_per_patient", "5"),
        ]),
        r(
            M::POST,
            "/o/{slug}/admin/waitlist/{id}/remove",
            &[&a.waitlist_entry],
            Staff,
        ),
        r(M::POST, "/o/{slug}/portal/signout", &[], Anyone),
        r(M::POST, "/o/{slug}/admin/signout", &[], Anyone),
    ]
}

/// The API and the pages, with the sign-outs last (they end the caller's session).
pub(crate) fn all_routes(a: &Ids) -> Vec<Route> {
    let mut routes = api_routes(a);
    routes.extend(page_routes(a));
    routes.sort_by_key(|r| {
        r.template.ends_with("signout")
            || (r.method == Method::DELETE && r.template.ends_with("/session"))
    });
    routes
}

/// The operations of the served OpenAPI document, as `METHOD path`.
async fn documented_operations(client: &Client) -> BTreeSet<String> {
    let doc = client.get("/api/openapi.json").await.json();
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if method != "parameters" {
                operations.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    operations
}

/// The page routes the router declares: every `.route("/o/{slug}…"` in `src/routes`.
fn declared_pages() -> BTreeSet<String> {
    fn scan(dir: &std::path::Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                scan(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (at, _) in text.match_indices(".route(") {
                    let rest = text[at + 7..].trim_start();
                    if let Some(literal) = rest.strip_prefix('"') {
                        let route = &literal[..literal.find('"').unwrap()];
                        if route.starts_with("/o/") {
                            found.insert(route.to_owned());
                        }
                    }
                }
            }
        }
    }
    let mut found = BTreeSet::new();
    scan(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes"),
        &mut found,
    );
    found
}

/// None of A's private data in the answer.
fn assert_no_markers(page: &Page, what: &str) {
    for marker in MARKERS {
        assert!(
            !page.body.contains(marker),
            "{what} shows {marker:?}: {}",
            page.body
        );
    }
}

/// Refused: 401/403/404 (422 when a form or body names another organisation's ids),
/// or a redirect to the sign-in page.
fn assert_denied(page: &Page, what: &str, signin: &str) {
    let ok = matches!(
        page.status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ) || (page.status == StatusCode::SEE_OTHER && page.location().starts_with(signin));
    assert!(ok, "{what}: not refused: {} {}", page.status, page.body);
}

/// Both organisations, A's ids, signed-in clients of each and A's booked appointment.
pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) alpha: Organisation,
    pub(crate) ids: Ids,
    /// A's admin.
    pub(crate) alpha_staff: Client,
    /// A's patient who owns the booked appointment, and another patient of A.
    pub(crate) owner: Client,
    other_patient: Client,
    /// B's admin and patient.
    pub(crate) beta_staff: Client,
    beta_patient: Client,
}

pub(crate) async fn world(backend: Backend) -> World {
    let app = TestApp::spawn(backend).await;
    let alpha = app.import("alpha", &alpha()).await;
    let beta = app.import("beta", &beta()).await;
    // The matrix tries the booking pages as the patients' own: both organisations keep
    // their times for signed-in patients (times shown before signing in are tried in
    // portal_browse.rs, where they name no patient).
    let alpha = times_for_patients_only(&app, alpha).await;
    let beta = times_for_patients_only(&app, beta).await;
    let alpha_staff = app.signed_in(&alpha, Role::Admin).await;
    app.staff(&alpha, "front_desk-alpha@example.com", Role::FrontDesk)
        .await;
    let beta_staff = app.signed_in(&beta, Role::Admin).await;
    let owner = app.portal_patient(&alpha, &alpha_staff, "ysolde").await;
    let other_patient = app.portal_patient(&alpha, &alpha_staff, "otto").await;
    let beta_patient = app.portal_patient(&beta, &beta_staff, "bea").await;
    let id = |kind, key| {
        let app = &app;
        let alpha = &alpha;
        async move { app.id(alpha, kind, key).await.to_string() }
    };
    let practitioner = id(Kind::Practitioner, "pa").await;
    let service = id(Kind::Service, "visit").await;
    let booked = owner
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/portal/appointments",
            Some(json!({"service": service.parse::<i64>().unwrap(),
                        "practitioner": practitioner.parse::<i64>().unwrap(),
                        "start": "2026-03-02T09:00:00-05:00"})),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let record = alpha_staff
        .api(
            Method::GET,
            &format!("/api/v1/orgs/alpha/practitioners/{practitioner}/availability"),
            None,
        )
        .await
        .json()[0]["id"]
        .to_string();
    let pending = alpha_staff
        .api(Method::GET, "/api/v1/orgs/alpha/appointments/pending", None)
        .await
        .json()[0]["id"]
        .to_string();
    let staff = {
        let mut conn = app.db.conn().await.unwrap();
        store::staff::all(conn.exec(), alpha.id).await.unwrap()[0]
            .id
            .to_string()
    };
    let series = alpha_staff
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/series",
            Some(json!({"practitioner": practitioner.parse::<i64>().unwrap(),
                        "patient": id(Kind::Patient, "ysolde").await.parse::<i64>().unwrap(),
                        "service": service.parse::<i64>().unwrap(),
                        "start": "2026-03-09T09:30:00-04:00", "every_weeks": 1, "count": 2})),
        )
        .await;
    assert_eq!(series.status, StatusCode::CREATED, "{}", series.body);
    let series = series.json();
    let (resource, resource_record, resource_off) =
        alpha_room(&alpha_staff, id(Kind::Clinic, "main").await).await;
    let waitlist_entry = owner
        .created(
            "/api/v1/orgs/alpha/portal/waitlist",
            // Late in the day, where no time is open (joining is for when none suits).
            json!({"service_id": service.parse::<i64>().unwrap(), "from_time": "23:30"}),
        )
        .await["id"]
        .to_string();
    // A webhook endpoint (its name one of A's markers) with one delivery.
    let webhook = alpha_staff
        .created(
            "/api/v1/orgs/alpha/webhooks",
            // Disabled: nothing is posted to it (the webhook tests add their own).
            json!({"name": "Wombat hook", "url": "https://hooks.example.com/alpha",
                   "events": ["appointment.booked", "setup.changed"], "enabled": false}),
        )
        .await["endpoint"]["id"]
        .to_string();
    let test = alpha_staff
        .api(
            Method::POST,
            &format!("/api/v1/orgs/alpha/webhooks/{webhook}/test"),
            None,
        )
        .await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.body);
    let webhook_delivery = test.json()["delivery_id"].to_string();
    let api_key = alpha_staff
        .created(
            "/api/v1/orgs/alpha/api-keys",
            json!({"name": "Alpha integration", "scopes": ["schedule:read"]}),
        )
        .await["key"]["id"]
        .to_string();
    let ids = Ids {
        webhook,
        webhook_delivery,
        api_key,
        waitlist_entry,
        resource,
        resource_record,
        resource_off,
        clinic: id(Kind::Clinic, "main").await,
        ptype: id(Kind::PractitionerType, "Vexillologist").await,
        other_practitioner: id(Kind::Practitioner, "pb").await,
        practitioner,
        record,
        schedule_type: id(Kind::ScheduleType, "physio").await,
        report: id(Kind::Service, "report").await,
        service,
        patient: id(Kind::Patient, "ysolde").await,
        appointment: booked.json()["id"].to_string(),
        pending,
        staff,
        series: series["id"].to_string(),
        series_appointment: series["appointments"][0]["id"].to_string(),
    };
    World {
        app,
        alpha,
        ids,
        alpha_staff,
        owner,
        other_patient,
        beta_staff,
        beta_patient,
    }
}

/// A room of A's (its name a marker), with a record of morning hours and a stretch out
/// of service: the ids of the three, as text.
async fn alpha_room(admin: &Client, clinic: String) -> (String, String, String) {
    let made = admin
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/resources",
            Some(json!({"name": "Zanzibar room", "clinic_id": clinic.parse::<i64>().unwrap()})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let room = made.json()["id"].to_string();
    let record = admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/alpha/resources/{room}/availability"),
            Some(json!({"start_date": "2026-01-01", "end_date": "2026-12-31",
                        "blocks": [{"days": ["mon", "tue"], "start": "08:00", "end": "12:00"}]})),
        )
        .await;
    assert_eq!(record.status, StatusCode::CREATED, "{}", record.body);
    let off = admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/alpha/resources/{room}/time-off"),
            Some(
                json!({"start": "2026-05-01T08:00:00-04:00", "end": "2026-05-01T12:00:00-04:00",
                        "reason": "Wombat service"}),
            ),
        )
        .await;
    assert_eq!(off.status, StatusCode::CREATED, "{}", off.body);
    (
        room,
        record.json()["id"].to_string(),
        off.json()["id"].to_string(),
    )
}

async fn the_matrix_names_every_route(backend: Backend) {
    let w = world(backend).await;
    let mut table: BTreeSet<String> = BTreeSet::new();
    for route in api_routes(&w.ids) {
        assert!(
            table.insert(format!("{} {}", route.method, route.template)),
            "{} {} twice",
            route.method,
            route.template
        );
    }
    let documented = documented_operations(&w.alpha_staff).await;
    assert_eq!(
        table, documented,
        "the security matrix must name every API operation (and only those)"
    );
    let pages: BTreeSet<String> = page_routes(&w.ids)
        .iter()
        .map(|r| r.template.to_owned())
        .collect();
    assert_eq!(
        pages,
        declared_pages(),
        "the security matrix must name every page route (and only those)"
    );
    w.app.stop().await;
}

async fn another_organisations_staff_gets_nothing(backend: Backend) {
    let w = world(backend).await;
    let before = w.app.snapshot(&w.alpha).await;
    let mails_before = w.app.mail("ysolde@example.com").await.len();
    let routes = all_routes(&w.ids);
    // At B's own address with A's ids: not found. (Sign-outs come last in the table.)
    for route in routes.iter().filter(|r| r.names_ids && r.who == Staff) {
        let what = format!("B staff: {} {}", route.method, route.at("beta"));
        let page = route.call(&w.beta_staff, "beta").await;
        page.assert_security_headers(&what);
        assert_no_markers(&page, &what);
        let refused = matches!(
            page.status,
            StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY
        );
        assert!(refused, "{what}: {} {}", page.status, page.body);
    }
    // At A's address: B's session is nobody there.
    for route in &routes {
        let what = format!("B staff: {} {}", route.method, route.at("alpha"));
        let page = route.call(&w.beta_staff, "alpha").await;
        page.assert_security_headers(&what);
        assert_no_markers(&page, &what);
        assert!(page.status.as_u16() < 500, "{what}: {}", page.body);
        if route.who != Anyone {
            assert_denied(&page, &what, route.who.signin());
        }
    }
    assert_eq!(w.app.snapshot(&w.alpha).await, before, "A changed");
    let emailed: Vec<String> = w
        .app
        .mail("ysolde@example.com")
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert_eq!(
        emailed.len(),
        mails_before,
        "A's patient was emailed: {emailed:?}"
    );
    w.app.stop().await;
}

async fn another_patient_gets_nothing(backend: Backend) {
    let w = world(backend).await;
    let before = w.app.snapshot(&w.alpha).await;
    let routes = all_routes(&w.ids);
    let owned = |r: &&Route| {
        r.who == Patient
            && (r.template.contains("appointments/{id}") || r.template.contains("waitlist/{id}"))
    };
    // Another patient of the same organisation: the owner's appointment is not found.
    for route in routes.iter().filter(owned) {
        let what = format!("other patient: {} {}", route.method, route.at("alpha"));
        let page = route.call(&w.other_patient, "alpha").await;
        page.assert_security_headers(&what);
        assert_no_markers(&page, &what);
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{what}: {}", page.body);
    }
    // A patient of B at B's address with A's ids: not found (or refused).
    for route in routes.iter().filter(|r| r.names_ids && r.who == Patient) {
        let what = format!("B patient: {} {}", route.method, route.at("beta"));
        let page = route.call(&w.beta_patient, "beta").await;
        page.assert_security_headers(&what);
        assert_no_markers(&page, &what);
        assert!(
            matches!(
                page.status,
                StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::FORBIDDEN
            ),
            "{what}: {} {}",
            page.status,
            page.body
        );
    }
    // B's patient at A's address, and A's patient on the staff side: nobody.
    for route in routes.iter().filter(|r| r.who != Anyone) {
        let (client, who) = if route.who == Patient {
            (&w.beta_patient, "B patient")
        } else {
            (&w.owner, "A patient")
        };
        let what = format!("{who}: {} {}", route.method, route.at("alpha"));
        let page = route.call(client, "alpha").await;
        page.assert_security_headers(&what);
        if route.who == Patient {
            assert_no_markers(&page, &what);
        }
        assert_denied(&page, &what, route.who.signin());
    }
    assert_eq!(w.app.snapshot(&w.alpha).await, before, "A changed");
    // The owner still sees and can cancel their appointment.
    let mine = w
        .owner
        .get(&format!(
            "/o/alpha/portal/appointments/{}",
            w.ids.appointment
        ))
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.contains("Quintessa Marlowe"));
    w.app.stop().await;
}

async fn a_patient_sees_and_books_only_their_practitioners(backend: Backend) {
    let w = world(backend).await;
    let (service, hidden) = (&w.ids.service, &w.ids.practitioner);
    let otto = &w.other_patient;
    let refused = [
        otto.api(
            Method::GET,
            &format!("/api/v1/orgs/alpha/portal/slots?service={service}&from=2026-03-02&to=2026-03-03&practitioner={hidden}"),
            None,
        )
        .await,
        otto.api(
            Method::POST,
            "/api/v1/orgs/alpha/portal/appointments",
            Some(json!({"service": service.parse::<i64>().unwrap(),
                        "practitioner": hidden.parse::<i64>().unwrap(),
                        "start": "2026-03-03T09:00:00-05:00"})),
        )
        .await,
        otto.get(&format!(
            "/o/alpha/portal/book/{service}?practitioner={hidden}&from=2026-03-02"
        ))
        .await,
        otto.get(&format!(
            "/o/alpha/portal/book/{service}/confirm?practitioner={hidden}&start=2026-03-03T09:00:00-05:00"
        ))
        .await,
        otto.post_form(
            &format!("/o/alpha/portal/book/{service}"),
            &[
                ("practitioner", hidden),
                ("start", "2026-03-03T09:00:00-05:00"),
            ],
        )
        .await,
    ];
    for (i, page) in refused.iter().enumerate() {
        assert_eq!(page.status, StatusCode::FORBIDDEN, "#{i}: {}", page.body);
        assert!(!page.contains("Quintessa Marlowe"), "#{i}: {}", page.body);
    }
    // Nor is the hidden practitioner offered anywhere.
    let listed = otto
        .api(
            Method::GET,
            &format!("/api/v1/orgs/alpha/portal/services/{service}/practitioners"),
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(
        !listed.contains("Quintessa Marlowe") && listed.contains("Quintessa Two"),
        "{}",
        listed.body
    );
    let slots = otto
        .get(&format!("/o/alpha/portal/book/{service}?from=2026-03-02"))
        .await;
    assert_eq!(slots.status, StatusCode::OK);
    assert!(!slots.contains("Quintessa Marlowe"), "{}", slots.body);
    let open = otto
        .api(
            Method::GET,
            &format!(
                "/api/v1/orgs/alpha/portal/slots?service={service}&from=2026-03-02&to=2026-03-03"
            ),
            None,
        )
        .await;
    let open = open.json();
    assert!(!open.as_array().unwrap().is_empty());
    assert!(
        open.as_array().unwrap().iter().all(
            |s| s["practitioner_id"] == json!(w.ids.other_practitioner.parse::<i64>().unwrap())
        ),
        "{open}"
    );
    // Nothing was booked for Otto.
    let mine = otto
        .api(Method::GET, "/api/v1/orgs/alpha/portal/appointments", None)
        .await;
    assert_eq!(mine.json(), json!([]));
    w.app.stop().await;
}

/// Every way a state-changing portal request can lack proof that it came from the
/// portal itself: no token, a wrong token, another session's token, and the right token
/// sent cross-site (by `Sec-Fetch-Site` or by `Origin`).
async fn portal_forms_and_api_refuse_forged_requests(backend: Backend) {
    let w = world(backend).await;
    let service = &w.ids.service;
    let practitioner = &w.ids.practitioner;
    let owner = &w.owner;
    let before = owner
        .api(Method::GET, "/api/v1/orgs/alpha/portal/appointments", None)
        .await
        .json();
    let token = owner.csrf_token("/o/alpha").await;
    let foreign = w.other_patient.csrf_token("/o/alpha").await;
    let appointment = &w.ids.appointment;
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("/o/alpha/portal/book/{service}"),
            vec![
                ("practitioner", practitioner.as_str()),
                ("start", "2026-03-03T09:00:00-05:00"),
            ],
        ),
        (
            format!("/o/alpha/portal/appointments/{appointment}/cancel"),
            vec![],
        ),
        (
            format!("/o/alpha/portal/appointments/{appointment}/reschedule"),
            vec![
                ("practitioner", practitioner.as_str()),
                ("start", "2026-03-02T10:00:00-05:00"),
            ],
        ),
        ("/o/alpha/portal/signout".to_owned(), vec![]),
        (
            "/o/alpha/portal/forgot".to_owned(),
            vec![("email", "ysolde@example.com")],
        ),
        (
            "/o/alpha/portal/signin".to_owned(),
            vec![
                ("username", "ysolde@example.com"),
                ("password", PATIENT_PASSWORD),
            ],
        ),
    ];
    // The form's token (if any) and the request's extra headers.
    type Attempt<'a> = (Option<&'a str>, &'a [(&'a str, &'a str)]);
    let attempts: [Attempt<'_>; 5] = [
        (None, &[]),
        (Some("forged"), &[]),
        (Some(foreign.as_str()), &[]),
        (Some(token.as_str()), &[("sec-fetch-site", "cross-site")]),
        (Some(token.as_str()), &[("origin", "https://evil.example")]),
    ];
    for (path, fields) in &forms {
        for (i, (csrf, headers)) in attempts.iter().enumerate() {
            let mut all = fields.clone();
            if let Some(csrf) = csrf {
                all.push(("_csrf", csrf));
            }
            let page = owner.post_raw(path, &all, headers).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path} attempt #{i}");
            page.assert_security_headers(path);
        }
    }
    // The API: the same without the header token, with a wrong one, or cross-site.
    let calls = [
        (
            "/api/v1/orgs/alpha/portal/appointments".to_owned(),
            json!({"service": service.parse::<i64>().unwrap(),
                   "practitioner": practitioner.parse::<i64>().unwrap(),
                   "start": "2026-03-03T09:00:00-05:00"}),
        ),
        (
            format!("/api/v1/orgs/alpha/portal/appointments/{appointment}/cancel"),
            json!({}),
        ),
        (
            format!("/api/v1/orgs/alpha/portal/appointments/{appointment}/reschedule"),
            json!({"start": "2026-03-02T10:00:00-05:00"}),
        ),
        (
            "/api/v1/orgs/alpha/portal/password-reset".to_owned(),
            json!({"email": "ysolde@example.com"}),
        ),
    ];
    let api_attempts: [&[(&str, &str)]; 5] = [
        &[],
        &[("x-csrf-token", "forged")],
        &[("x-csrf-token", foreign.as_str())],
        &[
            ("x-csrf-token", token.as_str()),
            ("sec-fetch-site", "cross-site"),
        ],
        &[
            ("x-csrf-token", token.as_str()),
            ("origin", "https://evil.example"),
        ],
    ];
    for (path, body) in &calls {
        for (i, headers) in api_attempts.iter().enumerate() {
            let mut request = owner.http.post(owner.url(path)).json(body);
            for (k, v) in *headers {
                request = request.header(*k, *v);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{path} attempt #{i}"
            );
        }
    }
    // Nothing happened: the same appointments, no email.
    let after = owner
        .api(Method::GET, "/api/v1/orgs/alpha/portal/appointments", None)
        .await
        .json();
    assert_eq!(before, after);
    assert!(
        w.app
            .mail("ysolde@example.com")
            .await
            .iter()
            .all(|m| !m.subject.contains("password")),
        "no reset email"
    );
    assert_eq!(
        owner.get("/o/alpha/portal/appointments").await.status,
        StatusCode::OK,
        "still signed in"
    );
    w.app.stop().await;
}

/// A session id an attacker planted before sign-in is worth nothing after it: for
/// staff and patients, through the pages and through the API.
async fn a_session_planted_before_sign_in_is_not_the_session_after(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let ways: [(&str, &str); 4] = [
        ("staff page", "/o/alpha/admin/book"),
        ("staff api", "/api/v1/orgs/alpha/clinics"),
        ("patient page", "/o/alpha/portal/appointments"),
        ("patient api", "/api/v1/orgs/alpha/portal/appointments"),
    ];
    for (way, protected) in ways {
        let victim = app.client();
        let planted = if way.starts_with("staff") {
            victim.get("/o/alpha/admin/signin").await
        } else {
            victim.get("/o/alpha/portal/signin").await
        };
        let planted = Client::session_cookie(&planted.headers).expect("a session before sign-in");
        let signed_in = match way {
            "staff page" => {
                let r = victim
                    .sign_in(
                        "alpha",
                        "front_desk-alpha@example.com",
                        crate::support::PASSWORD,
                    )
                    .await;
                assert_eq!(r.status(), StatusCode::SEE_OTHER);
                Client::session_cookie(r.headers())
            }
            "staff api" => {
                let r = victim
                    .api(
                        Method::POST,
                        "/api/v1/orgs/alpha/session",
                        Some(json!({"email": "front_desk-alpha@example.com",
                                    "password": crate::support::PASSWORD})),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                Client::session_cookie(&r.headers)
            }
            "patient page" => {
                let r = victim
                    .portal_sign_in("alpha", "ysolde@example.com", PATIENT_PASSWORD)
                    .await;
                assert_eq!(r.status, StatusCode::SEE_OTHER);
                Client::session_cookie(&r.headers)
            }
            _ => {
                let r = victim
                    .api(
                        Method::POST,
                        "/api/v1/orgs/alpha/portal/session",
                        Some(json!({"username": "ysolde@example.com",
                                    "password": PATIENT_PASSWORD})),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
                Client::session_cookie(&r.headers)
            }
        };
        let signed_in = signed_in.expect("sign-in sets a new session cookie");
        assert_ne!(planted, signed_in, "{way}: the session id did not change");
        assert_eq!(victim.get(protected).await.status, StatusCode::OK, "{way}");
        let attacker = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = attacker
            .get(victim.url(protected))
            .header("cookie", &planted)
            .send()
            .await
            .unwrap();
        assert!(
            matches!(
                response.status(),
                StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED
            ),
            "{way}: the planted id is signed in ({})",
            response.status()
        );
    }
    w.app.stop().await;
}

/// The CSRF token of a page, and the proof-of-work nonce of its CAPTCHA, made neutral
/// so that two answers can be compared.
fn normalised(body: &str, email: &str) -> String {
    let mut out = body.replace(email, "EMAIL");
    for marker in ["name=\"_csrf\" value=\"", "\"csrf_token\":\""] {
        while let Some(at) = out.find(marker) {
            let start = at + marker.len();
            let end = start + out[start..].find('"').unwrap();
            out.replace_range(at..end, "CSRF");
        }
    }
    out
}

/// The doors that take an email address from anyone.
#[derive(Clone, Copy, Debug)]
enum Door {
    StaffSignInPage,
    StaffSignInApi,
    PortalSignInPage,
    PortalSignInApi,
    ForgotPage,
    ForgotApi,
    SignUpPage,
    SignUpApi,
}

impl Door {
    const ALL: [Door; 8] = [
        Door::StaffSignInPage,
        Door::StaffSignInApi,
        Door::PortalSignInPage,
        Door::PortalSignInApi,
        Door::ForgotPage,
        Door::ForgotApi,
        Door::SignUpPage,
        Door::SignUpApi,
    ];

    /// One attempt at organisation `alpha` with `email` (and a wrong password where
    /// one is asked for; sign-up gets a strong one and a solved CAPTCHA).
    async fn knock(self, c: &Client, email: &str) -> Page {
        let wrong = "wrong password";
        let captcha = || async {
            let challenge: altcha::Challenge =
                serde_json::from_str(&c.get("/o/alpha/portal/captcha").await.body).unwrap();
            openslot_web::captcha::solve(&challenge)
        };
        match self {
            Door::StaffSignInPage => {
                let page = c.get("/o/alpha/admin/signin").await;
                let fields = [
                    ("_csrf", page.csrf()),
                    ("email", email.into()),
                    ("password", wrong.into()),
                ];
                let fields: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                c.post_raw("/o/alpha/admin/signin", &fields, &[]).await
            }
            Door::StaffSignInApi => {
                let body = json!({"email": email, "password": wrong});
                c.api(Method::POST, "/api/v1/orgs/alpha/session", Some(body))
                    .await
            }
            Door::PortalSignInPage => c.portal_sign_in("alpha", email, wrong).await,
            Door::PortalSignInApi => {
                let body = json!({"username": email, "password": wrong});
                c.api(
                    Method::POST,
                    "/api/v1/orgs/alpha/portal/session",
                    Some(body),
                )
                .await
            }
            Door::ForgotPage => {
                c.post_form("/o/alpha/portal/forgot", &[("email", email)])
                    .await
            }
            Door::ForgotApi => {
                let body = json!({"email": email});
                c.api(
                    Method::POST,
                    "/api/v1/orgs/alpha/portal/password-reset",
                    Some(body),
                )
                .await
            }
            Door::SignUpPage => {
                let captcha = captcha().await;
                let fields = [
                    ("first_name", "Zoe"),
                    ("last_name", "Quinn"),
                    ("email", email),
                    ("password", PATIENT_PASSWORD),
                    ("captcha", &captcha),
                ];
                c.post_form("/o/alpha/portal/signup", &fields).await
            }
            Door::SignUpApi => {
                let body = json!({"first_name": "Zoe", "last_name": "Quinn", "email": email,
                                  "password": PATIENT_PASSWORD, "captcha": captcha().await});
                c.api(Method::POST, "/api/v1/orgs/alpha/portal/signup", Some(body))
                    .await
            }
        }
    }

    /// An address with an account behind this door.
    fn known(self) -> &'static str {
        match self {
            Door::StaffSignInPage | Door::StaffSignInApi => "front_desk-alpha@example.com",
            _ => "ysolde@example.com",
        }
    }
}

/// Turns off `portal_public_times` (on for a new organisation), answering the
/// organisation as saved.
async fn times_for_patients_only(app: &TestApp, org: Organisation) -> Organisation {
    let mut tx = app.db.begin().await.unwrap();
    let mut settings = org.settings();
    settings.portal_public_times = false;
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut conn = app.db.conn().await.unwrap();
    store::organisation::by_id(conn.exec(), org.id)
        .await
        .unwrap()
}

async fn allow_public_signup(app: &TestApp, org: &Organisation) {
    let mut tx = app.db.begin().await.unwrap();
    let mut settings = org.settings();
    settings.allow_public_signup = true;
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn sign_up_sign_in_and_forgot_password_say_the_same_for_any_address(backend: Backend) {
    let w = world(backend).await;
    allow_public_signup(&w.app, &w.alpha).await;
    let unknown = "nobody-here@example.com";
    for door in Door::ALL {
        // From fresh clients, so that neither answer knows of the other.
        let known = door.known();
        let a = door.knock(&w.app.client(), known).await;
        let b = door.knock(&w.app.client(), unknown).await;
        assert_eq!(a.status, b.status, "{door:?}");
        assert!(a.status.as_u16() < 500, "{door:?}: {}", a.body);
        assert_eq!(
            normalised(&a.body, known),
            normalised(&b.body, unknown),
            "{door:?}: the answers differ"
        );
        // (The length differs with the address's length, which some pages repeat.)
        for header in ["content-type", "location"] {
            assert_eq!(
                a.headers
                    .get(header)
                    .map(|v| v.to_str().unwrap().replace(known, "EMAIL")),
                b.headers
                    .get(header)
                    .map(|v| v.to_str().unwrap().replace(unknown, "EMAIL")),
                "{door:?}: {header}"
            );
        }
    }
    w.app.stop().await;
}

/// Past the limits, each door answers 429 with `Retry-After`, pages and API alike.
async fn every_door_is_rate_limited(backend: Backend) {
    let w = world(backend).await;
    allow_public_signup(&w.app, &w.alpha).await;
    // Per account 8 attempts, per address 30 (shared by all the doors here): each door
    // must refuse within 9 attempts once the others have used up the address's burst.
    for door in Door::ALL {
        let client = w.app.client();
        let mut limited = None;
        for _ in 0..9 {
            let page = door.knock(&client, door.known()).await;
            assert!(page.status.as_u16() < 500, "{door:?}: {}", page.body);
            if page.status == StatusCode::TOO_MANY_REQUESTS {
                limited = Some(page);
                break;
            }
        }
        let what = format!("{door:?}");
        let limited = limited.unwrap_or_else(|| panic!("{what}: never limited"));
        limited.assert_security_headers(&what);
        let retry: u64 = limited
            .headers
            .get("retry-after")
            .unwrap_or_else(|| panic!("{what}: no Retry-After"))
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&retry), "{what}: {retry}");
    }
    w.app.stop().await;
}

/// Emailed links: a tampered token, a token of another organisation, a reset token
/// used as an invitation (and the reverse), a used token, and the API at and after
/// expiry.
async fn emailed_tokens_work_once_in_time_for_their_purpose_only(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let patient = &w.ids.patient;
    let sent = w
        .alpha_staff
        .api(
            Method::POST,
            &format!("/api/v1/orgs/alpha/patients/{patient}/portal-access/invitation"),
            None,
        )
        .await;
    assert!(sent.status.is_success(), "{}", sent.body);
    let invitation = app.link("ysolde@example.com", "/portal/invitation/").await;
    let invitation_token = invitation.rsplit('/').next().unwrap().to_owned();
    let anyone = app.client();
    anyone
        .post_form("/o/alpha/portal/forgot", &[("email", "otto@example.com")])
        .await;
    let reset = app.link("otto@example.com", "/portal/reset/").await;
    let reset_token = reset.rsplit('/').next().unwrap().to_owned();
    let tamper = |token: &str| {
        let mut chars: Vec<char> = token.chars().collect();
        chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let body = json!({"password": "meadow-lantern-violin-7"});
    let bad = [
        format!("/o/alpha/portal/invitation/{}", tamper(&invitation_token)),
        format!("/o/alpha/portal/reset/{}", tamper(&reset_token)),
        format!("/o/alpha/portal/invitation/{reset_token}"),
        format!("/o/alpha/portal/reset/{invitation_token}"),
        format!("/o/beta/portal/invitation/{invitation_token}"),
        format!("/o/beta/portal/reset/{reset_token}"),
        format!("/o/alpha/portal/invitation/{invitation_token}x"),
        format!(
            "/o/alpha/portal/reset/{}",
            &reset_token[..reset_token.len() - 1]
        ),
    ];
    for path in &bad {
        let page = anyone.get(path).await;
        assert_eq!(
            page.status,
            StatusCode::NOT_FOUND,
            "GET {path}: {}",
            page.body
        );
        page.assert_security_headers(path);
        assert_no_markers(&page, path);
        let post = anyone
            .post_form(
                path,
                &[
                    ("password", "meadow-lantern-violin-7"),
                    ("password_confirmation", "meadow-lantern-violin-7"),
                ],
            )
            .await;
        assert_eq!(
            post.status,
            StatusCode::NOT_FOUND,
            "POST {path}: {}",
            post.body
        );
        let api = path
            .replace("/o/", "/api/v1/orgs/")
            .replace("/portal/invitation/", "/portal/invitations/")
            .replace("/portal/reset/", "/portal/password-reset/");
        let page = anyone.api(Method::POST, &api, Some(body.clone())).await;
        assert_eq!(
            page.status,
            StatusCode::NOT_FOUND,
            "POST {api}: {}",
            page.body
        );
        assert_no_markers(&page, &api);
    }
    // Nothing was set: neither token's owner can sign in with the new password.
    for username in ["ysolde@example.com", "otto@example.com"] {
        let r = app
            .client()
            .api(
                Method::POST,
                "/api/v1/orgs/alpha/portal/session",
                Some(json!({"username": username, "password": "meadow-lantern-violin-7"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{username}");
    }
    // The API's view of an invitation: valid just before 72 hours, gone at 72 hours.
    let state = format!("/api/v1/orgs/alpha/portal/invitations/{invitation_token}");
    app.clock.advance(72 * 3600 - 1);
    assert_eq!(
        anyone.api(Method::GET, &state, None).await.json()["state"],
        "valid"
    );
    app.clock.advance(1);
    assert_eq!(
        anyone.api(Method::GET, &state, None).await.json()["state"],
        "expired"
    );
    let late = anyone.api(Method::POST, &state, Some(body.clone())).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(late.json()["error"]["details"]["state"], "expired");
    // The reset link (1 hour) has long expired too; a fresh one works once by the API.
    let reset_api = format!("/api/v1/orgs/alpha/portal/password-reset/{reset_token}");
    let late = anyone
        .api(Method::POST, &reset_api, Some(body.clone()))
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(late.json()["error"]["details"]["state"], "expired");
    anyone
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/portal/password-reset",
            Some(json!({"email": "otto@example.com"})),
        )
        .await;
    let fresh = app.link("otto@example.com", "/portal/reset/").await;
    let fresh_api = fresh
        .replace("/o/", "/api/v1/orgs/")
        .replace("/portal/reset/", "/portal/password-reset/");
    let used = anyone
        .api(Method::POST, &fresh_api, Some(body.clone()))
        .await;
    assert!(used.status.is_success(), "{}", used.body);
    let again = anyone
        .api(Method::POST, &fresh_api, Some(body.clone()))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.json()["error"]["details"]["state"], "used");
    w.app.stop().await;
}

/// The headers on pages the matrix does not reach by itself: error pages (404, 405,
/// 403 from CSRF, 413, a JSON 422), static files, the OpenAPI document, metrics and the
/// calendar file.
async fn error_and_portal_pages_carry_the_security_headers(backend: Backend) {
    let w = world(backend).await;
    let owner = &w.owner;
    let pages = [
        owner.get("/o/nope/portal").await,
        owner.get("/o/alpha/portal/no-such-page").await,
        owner.get("/api/v1/orgs/alpha/no-such").await,
        owner.get("/static/no-such.css").await,
        owner.get("/metrics").await,
        owner.get("/api/openapi.json").await,
        owner.get("/o/alpha/portal").await,
        owner.get("/o/alpha/portal/appointments").await,
        owner
            .get(&format!(
                "/o/alpha/portal/appointments/{}/calendar.ics",
                w.ids.appointment
            ))
            .await,
        owner.post_raw("/o/alpha/portal/signout", &[], &[]).await,
        Client::read(
            owner
                .http
                .delete(owner.url("/healthz"))
                .send()
                .await
                .unwrap(),
        )
        .await,
        owner
            .post_raw("/o/alpha/portal/appointments", &[], &[])
            .await,
        owner
            .api(
                Method::POST,
                "/api/v1/orgs/alpha/portal/appointments",
                Some(json!({"service": "not a number"})),
            )
            .await,
    ];
    let statuses: Vec<u16> = pages.iter().map(|p| p.status.as_u16()).collect();
    for (i, page) in pages.iter().enumerate() {
        page.assert_security_headers(&format!("#{i} ({})", page.status));
    }
    for expected in [404, 403, 405, 422, 200] {
        assert!(statuses.contains(&expected), "{expected} in {statuses:?}");
    }
    w.app.stop().await;
}

/// The scope the served OpenAPI document says an API key needs for each operation
/// (`METHOD path`); operations it does not list are for people only.
async fn documented_scopes(client: &Client) -> BTreeMap<String, String> {
    let doc = client.get("/api/openapi.json").await.json();
    let mut scopes = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(security) = operation["security"].as_array() else {
                continue;
            };
            for requirement in security {
                if let Some(needs) = requirement["api_key"].as_array() {
                    assert_eq!(needs.len(), 1, "{method} {path}: one scope");
                    scopes.insert(
                        format!("{} {path}", method.to_uppercase()),
                        needs[0].as_str().unwrap().to_owned(),
                    );
                }
            }
        }
    }
    scopes
}

/// API keys (issue 18), route by route: another organisation's key, a revoked key and
/// a key that is not an API key at all reach nothing of A's; a key of A's reaches
/// exactly the operations the OpenAPI document gives its scope, and is refused the
/// rest (people's routes, other scopes) before anything changes.
async fn keys_reach_only_their_scopes(backend: Backend) {
    let w = world(backend).await;
    let scopes = documented_scopes(&w.alpha_staff).await;
    assert_eq!(
        scopes
            .get("GET /api/v1/orgs/{slug}/clinics")
            .map(String::as_str),
        Some("schedule:read")
    );
    for people_only in [
        "/staff",
        "/api-keys",
        "/portal",
        "/audit",
        "/account",
        "/portal-access",
        "/session",
    ] {
        assert!(
            !scopes
                .keys()
                .any(|op| op.contains(&format!("{{slug}}{people_only}"))
                    || op.contains(&format!("}}{people_only}/"))
                    || op.ends_with(&format!("/patients/{{id}}{people_only}"))),
            "a key may call a route for people: {people_only}"
        );
    }
    let routes: Vec<Route> = api_routes(&w.ids);
    let client = w.app.client();
    let beta = {
        let mut conn = w.app.db.conn().await.unwrap();
        store::organisation::by_slug(conn.exec(), "beta")
            .await
            .unwrap()
            .unwrap()
    };
    let foreign = w
        .app
        .api_key(
            &beta,
            &[
                "schedule:read",
                "appointments:write",
                "setup:write",
                "patients:read",
                "patients:write",
            ],
        )
        .await;
    let revoked = w
        .app
        .api_key(
            &w.alpha,
            &[
                "schedule:read",
                "appointments:write",
                "setup:write",
                "patients:read",
                "patients:write",
            ],
        )
        .await;
    let revoked_id = {
        let mut conn = w.app.db.conn().await.unwrap();
        store::api_key::by_token(conn.exec(), w.alpha.id, &revoked)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let mut tx = w.app.db.begin().await.unwrap();
    store::api_key::revoke(&mut tx, w.alpha.id, revoked_id, "system", 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let before = w.app.snapshot(&w.alpha).await;
    for (n, route) in routes.iter().enumerate() {
        // Wrong keys count against the client address's attempts (as wrong passwords
        // do): each route is tried from its own loopback address.
        let client = w
            .app
            .client_from(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
                127,
                3,
                (n / 200) as u8,
                (n % 200 + 1) as u8,
            )));
        for (token, who) in [
            (&foreign, "B's key"),
            (&revoked, "a revoked key"),
            (&"osk_forged".to_owned(), "a forged key"),
            (&String::new(), "an empty bearer"),
        ] {
            let what = format!("{who}: {} {}", route.method, route.at("alpha"));
            let page = route.call_keyed(&client, token, "alpha").await;
            assert_eq!(
                page.status,
                StatusCode::UNAUTHORIZED,
                "{what}: {}",
                page.body
            );
            assert!(page.headers.contains_key("www-authenticate"), "{what}");
            assert_no_markers(&page, &what);
        }
    }
    // A session with a bad bearer is nobody: the header wins, the cookie is ignored.
    let page = w
        .alpha_staff
        .keyed("osk_forged", M::GET, "/api/v1/orgs/alpha/clinics", None)
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
    assert_eq!(w.app.snapshot(&w.alpha).await, before, "A changed");
    // Each scope alone: the operations of other scopes and of people are refused.
    for scope in [
        "schedule:read",
        "appointments:write",
        "setup:write",
        "patients:read",
        "patients:write",
    ] {
        let key = w.app.api_key(&w.alpha, &[scope]).await;
        for route in routes.iter().filter(|r| {
            r.method == M::GET
                || scopes
                    .get(&format!("{} {}", r.method, r.template))
                    .is_none_or(|s| s != scope)
        }) {
            let op = format!("{} {}", route.method, route.template);
            let what = format!("a {scope} key: {op}");
            let page = route.call_keyed(&client, &key, "alpha").await;
            assert!(
                page.status.as_u16() < 500,
                "{what}: {} {}",
                page.status,
                page.body
            );
            match scopes.get(&op) {
                Some(needed) if needed == scope => {
                    assert!(
                        page.status.as_u16() < 400
                            || page.status == StatusCode::NOT_FOUND
                            || page.status == StatusCode::UNPROCESSABLE_ENTITY
                            || page.status == StatusCode::CONFLICT,
                        "{what}: {} {}",
                        page.status,
                        page.body
                    );
                }
                _ => assert_eq!(page.status, StatusCode::FORBIDDEN, "{what}: {}", page.body),
            }
        }
    }
    assert_eq!(
        w.app.snapshot(&w.alpha).await,
        before,
        "a key changed A outside its scope"
    );
    w.app.stop().await;
}

/// One FHIR route (`/o/{slug}/fhir/…`), with A's ids filled in: the scope its key
/// needs (`None`: public), and its body.
struct FhirRoute {
    method: Method,
    template: &'static str,
    route: Route,
    scope: Option<&'static str>,
}

impl FhirRoute {
    fn new(
        method: Method,
        template: &'static str,
        ids: &[&str],
        scope: Option<&'static str>,
    ) -> FhirRoute {
        FhirRoute {
            route: Route::new(method.clone(), template, ids, Anyone),
            method,
            template,
            scope,
        }
    }

    fn json(mut self, body: Value) -> FhirRoute {
        self.route.body = Some(body);
        self.route.names_ids = true;
        self
    }

    fn query(mut self, query: &str) -> FhirRoute {
        self.route = self.route.query(query);
        self
    }

    /// Calls it at `slug`'s address with a bearer token (or none).
    async fn call(&self, app: &TestApp, slug: &str, token: Option<&str>) -> Page {
        self.call_with(&app.client(), slug, token).await
    }

    /// Calls it from `client` (a wrong token counts against its address's sign-in
    /// limit, so the refusals below each come from an address of their own).
    async fn call_with(&self, client: &Client, slug: &str, token: Option<&str>) -> Page {
        let mut request = client
            .http
            .request(self.method.clone(), client.url(&self.route.at(slug)));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &self.route.body {
            request = request
                .header("content-type", "application/fhir+json")
                .body(body.to_string());
        }
        Client::read(request.send().await.unwrap()).await
    }
}

/// Every FHIR route, each with A's ids (`slot` one of A's free slots).
fn fhir_routes(a: &Ids, slot: &str) -> Vec<FhirRoute> {
    const READ: Option<&str> = Some("schedule:read");
    const BOOK: Option<&str> = Some("appointments:write");
    let schedule = format!("{}-{}", a.practitioner, a.clinic);
    let book = json!({"resourceType": "Appointment", "status": "booked",
        "slot": [{"reference": format!("Slot/{slot}")}],
        "participant": [{"actor": {"reference": format!("Patient/{}", a.patient)}, "status": "accepted"}]});
    vec![
        FhirRoute::new(M::GET, "/o/{slug}/fhir/metadata", &[], None),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/Location", &[], READ),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/Location/{id}", &[&a.clinic], READ),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/PractitionerRole", &[], READ),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/PractitionerRole/{id}", &[&a.practitioner], READ),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/HealthcareService", &[], READ),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/HealthcareService/{id}", &[&a.report], READ),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/Schedule", &[], READ),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/Schedule/{id}", &[&schedule], READ),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/Slot", &[], READ)
            .query(&format!("?schedule=Schedule/{schedule}&start=ge2026-03-02&start=lt2026-03-04")),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/Slot/{id}", &[slot], READ),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/Appointment", &[], READ)
            .query(&format!("?patient=Patient/{}", a.patient)),
        FhirRoute::new(M::POST, "/o/{slug}/fhir/Appointment", &[], BOOK).json(book.clone()),
        FhirRoute::new(M::POST, "/o/{slug}/fhir/Appointment/$book", &[], BOOK)
            .json(json!({"resourceType": "Parameters", "parameter": [{"name": "appointment", "resource": book}]})),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/Appointment/{id}", &[&a.appointment], READ),
        FhirRoute::new(M::PUT, "/o/{slug}/fhir/Appointment/{id}", &[&a.appointment], BOOK)
            .json(json!({"resourceType": "Appointment", "id": a.appointment, "status": "cancelled", "participant": []})),
        FhirRoute::new(M::PATCH, "/o/{slug}/fhir/Appointment/{id}", &[&a.appointment], BOOK)
            .json(json!([{"op": "replace", "path": "/status", "value": "cancelled"}])),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/$bulk-publish", &[], None),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/$bulk-publish/{file}", &["Slot.ndjson"], None),
        FhirRoute::new(M::GET, "/o/{slug}/fhir/{*rest}", &["Patient"], None),
    ]
}

/// The FHIR routes the router declares: every `.route("/o/{slug}/fhir…"` in `src/fhir`.
fn declared_fhir_routes() -> BTreeSet<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/fhir/mod.rs"),
    )
    .unwrap();
    text.match_indices(".route(")
        .filter_map(|(at, _)| {
            let literal = text[at + 7..].trim_start().strip_prefix('"')?;
            Some(literal[..literal.find('"').unwrap()].to_owned())
        })
        .collect()
}

/// A's free slot on Monday 2 March, found with A's key.
async fn alpha_slot(w: &World, token: &str) -> String {
    let schedule = format!("{}-{}", w.ids.practitioner, w.ids.clinic);
    let page = fhir_get(
        &w.app,
        &format!(
            "/o/alpha/fhir/Slot?schedule=Schedule/{schedule}&start=ge2026-03-02&start=lt2026-03-03"
        ),
        token,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.json()["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn fhir_get(app: &TestApp, path: &str, token: &str) -> Page {
    let client = app.client();
    Client::read(
        client
            .http
            .get(client.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn the_fhir_matrix_names_every_fhir_route(backend: Backend) {
    let w = world(backend).await;
    let token = w.app.api_key(&w.alpha, &["schedule:read"]).await;
    let slot = alpha_slot(&w, &token).await;
    let named: BTreeSet<String> = fhir_routes(&w.ids, &slot)
        .iter()
        .map(|r| r.template.to_owned())
        .collect();
    assert_eq!(
        named,
        declared_fhir_routes(),
        "the FHIR matrix must name every FHIR route (and only those)"
    );
    w.app.stop().await;
}

async fn fhir_needs_a_key_of_the_organisation_with_the_scope(backend: Backend) {
    let w = world(backend).await;
    let beta = {
        let mut conn = w.app.db.conn().await.unwrap();
        store::organisation::by_slug(conn.exec(), "beta")
            .await
            .unwrap()
            .unwrap()
    };
    const ALL: &[&str] = &[
        "schedule:read",
        "appointments:write",
        "patients:read",
        "patients:write",
        "setup:write",
    ];
    let alpha_reader = w
        .app
        .api_key(&w.alpha, &["schedule:read", "patients:read"])
        .await;
    let slot = alpha_slot(&w, &alpha_reader).await;
    let beta_key = w.app.api_key(&beta, ALL).await;
    // A key of A's with every scope, revoked.
    let revoked = w.app.api_key(&w.alpha, ALL).await;
    {
        let mut conn = w.app.db.conn().await.unwrap();
        let key = store::api_key::by_token(conn.exec(), w.alpha.id, &revoked)
            .await
            .unwrap()
            .unwrap();
        drop(conn);
        let mut tx = w.app.db.begin().await.unwrap();
        store::api_key::revoke(&mut tx, w.alpha.id, key.id, "staff:1", 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let before = w.app.snapshot(&w.alpha).await;
    let mails_before = w.app.mail("ysolde@example.com").await.len();
    let mut addresses = 0u8;
    for route in fhir_routes(&w.ids, &slot) {
        let what = format!("{} {}", route.method, route.route.at("alpha"));
        let Some(scope) = route.scope else {
            // Public: answers, but none of A's private data.
            let page = route.call(&w.app, "alpha", None).await;
            assert_no_markers(&page, &what);
            assert!(page.status.as_u16() < 500, "{what}: {}", page.body);
            continue;
        };
        // No key, A's revoked key, and B's key at A's address: nobody there.
        for token in [None, Some(revoked.as_str()), Some(beta_key.as_str())] {
            addresses += 1;
            let from = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 7, addresses));
            let page = route
                .call_with(&w.app.client_from(from), "alpha", token)
                .await;
            assert_eq!(
                page.status,
                StatusCode::UNAUTHORIZED,
                "{what} with {token:?}: {}",
                page.body
            );
            assert!(page.headers.get("www-authenticate").is_some(), "{what}");
            assert!(
                page.headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/fhir+json")
            );
            assert_no_markers(&page, &what);
        }
        // A's key with every scope but the one needed: forbidden.
        let others: Vec<&str> = ALL.iter().copied().filter(|s| *s != scope).collect();
        let lacking = w.app.api_key(&w.alpha, &others).await;
        let page = route.call(&w.app, "alpha", Some(&lacking)).await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "{what} without {scope}: {}",
            page.body
        );
        assert_no_markers(&page, &what);
        // B's key at B's address with A's ids: not found there (or refused naming them).
        if route.route.names_ids {
            let page = route.call(&w.app, "beta", Some(&beta_key)).await;
            assert!(
                matches!(
                    page.status,
                    StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY
                ),
                "B's key with A's ids: {what}: {} {}",
                page.status,
                page.body
            );
            assert_no_markers(&page, &what);
        }
    }
    assert_eq!(w.app.snapshot(&w.alpha).await, before, "A changed");
    assert_eq!(
        w.app.mail("ysolde@example.com").await.len(),
        mails_before,
        "A's patient was emailed"
    );
    w.app.stop().await;
}

both!(
    keys_reach_only_their_scopes,
    the_matrix_names_every_route,
    another_organisations_staff_gets_nothing,
    another_patient_gets_nothing,
    a_patient_sees_and_books_only_their_practitioners,
    portal_forms_and_api_refuse_forged_requests,
    a_session_planted_before_sign_in_is_not_the_session_after,
    sign_up_sign_in_and_forgot_password_say_the_same_for_any_address,
    every_door_is_rate_limited,
    emailed_tokens_work_once_in_time_for_their_purpose_only,
    error_and_portal_pages_carry_the_security_headers,
    the_fhir_matrix_names_every_fhir_route,
    fhir_needs_a_key_of_the_organisation_with_the_scope,
);
