//! `metadata`: the `CapabilityStatement` listing exactly what this server serves, its
//! search parameters and operations. Public, as FHIR servers' capability statements
//! are: it says nothing of the organisation's data.

use axum::extract::State;
use serde_json::{Value, json};

use crate::auth::staff::Org;
use crate::state::AppState;

use super::resource::{FHIR_VERSION, Fhir, base, instant_utc};

fn param(name: &str, kind: &str, documentation: &str) -> Value {
    json!({"name": name, "type": kind, "documentation": documentation})
}

fn read_search(kind: &str, params: Vec<Value>, documentation: &str) -> Value {
    json!({
        "type": kind,
        "documentation": documentation,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": params,
    })
}

/// `GET metadata`.
pub(super) async fn capability_statement(State(state): State<AppState>, Org(org): Org) -> Fhir {
    let base = base(&state, &org);
    let id = param("_id", "token", "the resource's id");
    let service_type = param(
        "service-type",
        "token",
        "a service, by key: [system|]key with the system {base}/CodeSystem/service",
    );
    let mut appointment = read_search(
        "Appointment",
        vec![
            param(
                "date",
                "date",
                "the start: ge/gt and lt/le bounds (required unless patient is given; at most 366 days)",
            ),
            param(
                "patient",
                "reference",
                "Patient/{id}; needs the scope patients:read",
            ),
            param("practitioner", "reference", "PractitionerRole/{id}"),
            param(
                "status",
                "token",
                "booked, pending, arrived, cancelled, fulfilled, noshow (comma-separated)",
            ),
        ],
        "Appointments with a patient. Needs schedule:read; the patient's name needs patients:read. \
         Create (appointments:write) books a free Slot for a Patient under the portal's rules; \
         If-None-Exist: identifier=[system|]value makes it idempotent. Update or patch cancels (status cancelled).",
    );
    appointment["interaction"] = json!([
        {"code": "read"}, {"code": "search-type"}, {"code": "create"}, {"code": "update"}, {"code": "patch"}
    ]);
    appointment["conditionalCreate"] = json!(true);
    appointment["updateCreate"] = json!(false);
    appointment["operation"] = json!([{
        "name": "book",
        "definition": format!("{base}/OperationDefinition/Appointment-book"),
        "documentation": "POST a Parameters whose parameter appointment holds the Appointment to book; answers a Parameters with it as return",
    }]);
    let statement = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant_utc(state.clock.now_ns()),
        "publisher": org.name,
        "kind": "instance",
        "software": {"name": "Openslot", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": format!("Scheduling of {}", org.name), "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json", "application/merge-patch+json"],
        "rest": [{
            "mode": "server",
            "documentation": "Scheduling: clinics, practitioners, services, their schedules and free slots (computed on each request), and appointments.",
            "security": {
                "cors": false,
                "description": "API keys of the organisation: Authorization: Bearer osk_… with the scopes schedule:read, appointments:write, patients:read. metadata and $bulk-publish are public.",
            },
            "resource": [
                read_search("Location", vec![id.clone()], "The clinics, with their IANA time zone in the timezone extension. Needs schedule:read."),
                read_search("PractitionerRole", vec![id.clone(), param("active", "token", "true or false")], "The practitioners. Needs schedule:read."),
                read_search("HealthcareService", vec![id.clone()], "The services, coded by key. Needs schedule:read."),
                read_search("Schedule", vec![id, param("actor", "reference", "PractitionerRole/{id} or Location/{id}"), service_type.clone()], "One per practitioner and clinic where they have availability (id {practitioner}-{clinic}). Needs schedule:read."),
                read_search("Slot", vec![
                    param("schedule", "reference", "Schedule/{id} (required)"),
                    param("start", "date", "ge/gt and lt/le bounds (both required; at most 92 days, else too-costly)"),
                    param("status", "token", "free (only free slots are served)"),
                    service_type,
                ], "Free slots as the patient portal offers them, in person, computed on each request; ids are opaque. Needs schedule:read."),
                appointment,
            ],
            "operation": [{
                "name": "bulk-publish",
                "definition": "http://fhir-registry.smarthealthit.org/OperationDefinition/bulk-publish",
                "documentation": "SMART Scheduling Links: GET $bulk-publish (public) lists NDJSON files of Location, Schedule and Slot (the portal's free slots over the next 4 weeks, each with a booking-deep-link).",
            }],
        }],
    });
    Fhir::ok(statement)
}
