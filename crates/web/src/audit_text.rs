//! The audit log in words: what each action the log records is called, the kinds of
//! thing it names, and an entry's details told as a short account of what changed —
//! `Name: Downtown → Uptown` where the details carry the fields as they were (under
//! `"before"`, or `"from"` and `"to"` for a move), `Name: Downtown` where they carry
//! only what was saved. Ids in the details are told by name, instants in the
//! organisation's zone.
//!
//! Pure: the names of an organisation's rows ([`Names`]) and its zone come in as
//! arguments. The audit pages (`routes::audit`) and an appointment's history
//! (`routes::book`) read the log through it.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::clinic_time::OrgZone;

/// Every kind of thing the log names (an entry's `entity`), and what it is called.
pub(crate) const KINDS: &[(&str, &str)] = &[
    ("organisation", "Organisation settings"),
    ("clinic", "Clinics"),
    ("practitioner_type", "Practitioner types"),
    ("practitioner", "Practitioners"),
    ("schedule_type", "Schedule types"),
    ("availability_record", "Availability records"),
    ("service", "Services"),
    ("resource", "Rooms and equipment"),
    ("staff", "Staff accounts"),
    ("patient", "Patients and portal access"),
    ("appointment", "Appointments"),
    ("series", "Series of appointments"),
    ("waitlist_entry", "Waitlist entries"),
    ("webhook_endpoint", "Webhook endpoints"),
    ("api_key", "API keys"),
    ("calendar_feed", "Calendar feeds"),
];

/// Every action the log records: the action, the kind of thing it is about, and what
/// it is called.
pub(crate) const ACTIONS: &[(&str, &str, &str)] = &[
    (
        "calendar_feed.create",
        "calendar_feed",
        "Calendar feed turned on",
    ),
    (
        "calendar_feed.rotate",
        "calendar_feed",
        "Calendar feed given a new address",
    ),
    (
        "calendar_feed.revoke",
        "calendar_feed",
        "Calendar feed turned off",
    ),
    (
        "calendar_feed.settings",
        "organisation",
        "Calendar feed settings changed",
    ),
    (
        "reminders.settings",
        "organisation",
        "Reminder settings changed",
    ),
    (
        "appointment.confirm",
        "appointment",
        "Appointment confirmed by the patient",
    ),
    (
        "organisation.update_settings",
        "organisation",
        "Settings changed",
    ),
    ("organisation.import", "organisation", "Setup imported"),
    ("organisation.set_logo", "organisation", "Logo changed"),
    ("organisation.remove_logo", "organisation", "Logo removed"),
    (
        "organisation.set_email_template",
        "organisation",
        "Email reworded",
    ),
    (
        "organisation.reset_email_template",
        "organisation",
        "Email back to its default wording",
    ),
    ("clinic.create", "clinic", "Clinic added"),
    ("clinic.update", "clinic", "Clinic changed"),
    ("clinic.delete", "clinic", "Clinic deleted"),
    ("clinic.add_holiday", "clinic", "Holiday added"),
    ("clinic.remove_holiday", "clinic", "Holiday removed"),
    (
        "practitioner_type.create",
        "practitioner_type",
        "Practitioner type added",
    ),
    (
        "practitioner_type.rename",
        "practitioner_type",
        "Practitioner type renamed",
    ),
    (
        "practitioner_type.delete",
        "practitioner_type",
        "Practitioner type deleted",
    ),
    ("practitioner.create", "practitioner", "Practitioner added"),
    (
        "practitioner.update",
        "practitioner",
        "Practitioner changed",
    ),
    (
        "practitioner.activate",
        "practitioner",
        "Practitioner made active",
    ),
    (
        "practitioner.deactivate",
        "practitioner",
        "Practitioner made inactive",
    ),
    (
        "practitioner.add_schedule_type",
        "practitioner",
        "Schedule type assigned",
    ),
    (
        "practitioner.remove_schedule_type",
        "practitioner",
        "Schedule type unassigned",
    ),
    (
        "practitioner.assign_schedule_type",
        "practitioner",
        "Schedule type assigned in a record",
    ),
    (
        "practitioner.unassign_schedule_type",
        "practitioner",
        "Schedule type unassigned in a record",
    ),
    (
        "schedule_type.create",
        "schedule_type",
        "Schedule type added",
    ),
    (
        "schedule_type.update",
        "schedule_type",
        "Schedule type changed",
    ),
    (
        "schedule_type.delete",
        "schedule_type",
        "Schedule type deleted",
    ),
    (
        "availability.create",
        "availability_record",
        "Availability record added",
    ),
    (
        "availability.update",
        "availability_record",
        "Availability record changed",
    ),
    (
        "availability.delete",
        "availability_record",
        "Availability record deleted",
    ),
    (
        "availability.grid",
        "availability_record",
        "Availability grid saved",
    ),
    (
        "availability.blocks",
        "availability_record",
        "Availability blocks replaced",
    ),
    (
        "availability.portal",
        "availability_record",
        "Portal availability changed",
    ),
    (
        "availability.new_record_from",
        "availability_record",
        "New availability record from a date",
    ),
    (
        "availability.temporary_change",
        "availability_record",
        "Temporary change of availability",
    ),
    ("service.create", "service", "Service added"),
    ("service.update", "service", "Service changed"),
    ("service.delete", "service", "Service deleted"),
    ("resource.create", "resource", "Room or equipment added"),
    ("resource.update", "resource", "Room or equipment changed"),
    ("resource.delete", "resource", "Room or equipment deleted"),
    (
        "resource.add_record",
        "resource",
        "Room or equipment availability record added",
    ),
    (
        "resource.update_record",
        "resource",
        "Room or equipment availability record changed",
    ),
    (
        "resource.delete_record",
        "resource",
        "Room or equipment availability record deleted",
    ),
    (
        "resource.add_time_off",
        "resource",
        "Room or equipment out of service",
    ),
    (
        "resource.remove_time_off",
        "resource",
        "Out-of-service period removed",
    ),
    ("staff.create", "staff", "Staff account added"),
    ("staff.activate", "staff", "Staff account restored"),
    ("staff.deactivate", "staff", "Staff account stopped"),
    (
        "staff.set_notifications",
        "staff",
        "Own email notifications changed",
    ),
    ("patient.create", "patient", "Patient added"),
    ("patient.update", "patient", "Patient changed"),
    ("portal.invite", "patient", "Portal invitation sent"),
    ("portal.credentials", "patient", "Portal credentials set"),
    (
        "portal.practitioners",
        "patient",
        "Portal practitioners chosen",
    ),
    (
        "portal.accept_invitation",
        "patient",
        "Portal invitation accepted",
    ),
    ("portal.reset_password", "patient", "Portal password reset"),
    ("portal.signup", "patient", "Signed up in the portal"),
    (
        "portal.update_details",
        "patient",
        "Details changed by the patient",
    ),
    (
        "portal.start_email_change",
        "patient",
        "Email change asked for by the patient",
    ),
    (
        "portal.change_email",
        "patient",
        "Email changed by the patient (link followed)",
    ),
    (
        "portal.change_password",
        "patient",
        "Password changed by the patient",
    ),
    ("appointment.book", "appointment", "Booked"),
    (
        "appointment.book_override",
        "appointment",
        "Booked with an override",
    ),
    (
        "appointment.block_labelled",
        "appointment",
        "Blocked time labelled",
    ),
    ("appointment.reschedule", "appointment", "Moved"),
    (
        "appointment.reschedule_override",
        "appointment",
        "Moved with an override",
    ),
    ("appointment.cancel", "appointment", "Cancelled"),
    ("appointment.accept", "appointment", "Accepted"),
    ("appointment.decline", "appointment", "Declined"),
    ("appointment.mark", "appointment", "Marked"),
    (
        "appointment.unmark",
        "appointment",
        "Mark undone (back to booked)",
    ),
    ("appointment.restore", "appointment", "Cancellation undone"),
    ("series.book", "series", "Weekly series booked"),
    ("waitlist.joined", "waitlist_entry", "Joined the waitlist"),
    ("waitlist.left", "waitlist_entry", "Left the waitlist"),
    (
        "waitlist.removed",
        "waitlist_entry",
        "Removed from the waitlist",
    ),
    (
        "waitlist.settings_changed",
        "organisation",
        "Waitlist settings changed",
    ),
    (
        "waitlist.offered",
        "appointment",
        "Time held and offered to the waitlist",
    ),
    ("waitlist.released", "appointment", "Waitlist hold released"),
    (
        "webhook.create",
        "webhook_endpoint",
        "Webhook endpoint added",
    ),
    (
        "webhook.update",
        "webhook_endpoint",
        "Webhook endpoint changed",
    ),
    (
        "webhook.delete",
        "webhook_endpoint",
        "Webhook endpoint deleted",
    ),
    (
        "webhook.rotate_secret",
        "webhook_endpoint",
        "Webhook signing secret rotated",
    ),
    (
        "webhook.replay",
        "webhook_endpoint",
        "Webhook message replayed",
    ),
    (
        "webhook.test",
        "webhook_endpoint",
        "Webhook test event sent",
    ),
    ("api_key.create", "api_key", "API key made"),
    ("api_key.revoke", "api_key", "API key revoked"),
];

/// What `action` is called ("Changed" for one the catalogue does not know).
pub(crate) fn action_label(action: &str) -> &'static str {
    ACTIONS
        .iter()
        .find(|(a, _, _)| *a == action)
        .map_or("Changed", |(_, _, label)| label)
}

/// What a kind of thing is called ("" for one the catalogue does not know).
pub(crate) fn kind_label(entity: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(e, _)| *e == entity)
        .map_or("", |(_, label)| label)
}

/// The names of an organisation's rows, by kind (`clinic`, `practitioner`, …) and row
/// id, for telling the ids in an entry's details by name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Names(HashMap<(String, i64), String>);

impl Names {
    /// Records the name of row `id` of `kind`.
    pub(crate) fn add(&mut self, kind: &str, id: i64, name: impl Into<String>) {
        self.0.insert((kind.to_owned(), id), name.into());
    }

    /// The name of row `id` of `kind`, if it is known (a deleted row's is not).
    pub(crate) fn get(&self, kind: &str, id: i64) -> Option<&str> {
        self.0.get(&(kind.to_owned(), id)).map(String::as_str)
    }
}

/// One line of an entry's account: a field and its value as saved, with its value
/// before when the details carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    /// The field as the details name it (`home_clinic_id`).
    pub field: String,
    /// What it is called (`Home clinic`).
    pub label: String,
    /// Its value before the change, in words, when the details carry it.
    pub before: Option<String>,
    /// Its value as saved, in words.
    pub after: String,
}

impl Line {
    /// `Home clinic: Downtown → Uptown`, `Name: Downtown`.
    pub(crate) fn text(&self) -> String {
        match &self.before {
            Some(before) => format!("{}: {before} → {}", self.label, self.after),
            None => format!("{}: {}", self.label, self.after),
        }
    }
}

/// An entry's details told in lines: for an update, each field whose value changed
/// (before → after); for a move, what moved (from → to) and why; otherwise each field
/// it carries (those without a value left out).
pub(crate) fn lines(details: &str, names: &Names, zone: OrgZone) -> Vec<Line> {
    let words = Words { names, zone };
    let Ok(value) = serde_json::from_str::<Value>(details) else {
        return vec![words.line("details", None, &Value::String(details.to_owned()))];
    };
    let Value::Object(fields) = value else {
        return match value {
            Value::Null => Vec::new(),
            other => vec![words.line("details", None, &other)],
        };
    };
    if let Some(Value::Object(before)) = fields.get("before") {
        let mut after = fields.clone();
        after.remove("before");
        return words.changes(before, &after);
    }
    if let (Some(Value::Object(from)), Some(Value::Object(to))) =
        (fields.get("from"), fields.get("to"))
    {
        let mut lines = words.changes(from, to);
        lines.retain(|l| l.label != "Nothing changed");
        let rest: Map<String, Value> = fields
            .iter()
            .filter(|(k, _)| *k != "from" && *k != "to")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        lines.extend(words.fields(&rest));
        return lines;
    }
    words.fields(&fields)
}

/// [`lines`], joined into one sentence-like text: `Name: A → B; Timezone: …`.
pub(crate) fn summary(lines: &[Line]) -> String {
    lines.iter().map(Line::text).collect::<Vec<_>>().join("; ")
}

/// How values are told.
struct Words<'a> {
    names: &'a Names,
    zone: OrgZone,
}

impl Words<'_> {
    fn line(&self, field: &str, before: Option<&Value>, after: &Value) -> Line {
        Line {
            field: field.to_owned(),
            label: label(field),
            before: before.map(|v| self.value(field, v)),
            after: self.value(field, after),
        }
    }

    /// Each field of `before` whose value in `after` differs; one line saying nothing
    /// changed when none does.
    fn changes(&self, before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<Line> {
        let lines: Vec<Line> = before
            .iter()
            .filter_map(|(field, old)| {
                let new = after.get(field).unwrap_or(&Value::Null);
                (old != new).then(|| self.line(field, Some(old), new))
            })
            .collect();
        if lines.is_empty() {
            return vec![Line {
                field: String::new(),
                label: "Nothing changed".to_owned(),
                before: None,
                after: "saved as it was".to_owned(),
            }];
        }
        lines
    }

    /// Each field with a value (not null, not empty).
    fn fields(&self, fields: &Map<String, Value>) -> Vec<Line> {
        fields
            .iter()
            .filter(|(_, v)| match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(items) => !items.is_empty(),
                Value::Object(map) => !map.is_empty(),
                Value::Bool(_) | Value::Number(_) => true,
            })
            .map(|(field, v)| self.line(field, None, v))
            .collect()
    }

    /// A value of `field`, in words.
    fn value(&self, field: &str, value: &Value) -> String {
        match value {
            Value::Null => match field {
                "practitioners" => "every practitioner bookable in the portal",
                "portal_blocks" => "not customised (every available block)",
                "end_date" => "open-ended",
                "clinic_id" => "any clinic (the record's, else the home clinic)",
                "slot_step_minutes" => "the organisation's default",
                "host" => "none",
                _ => "none",
            }
            .to_owned(),
            Value::Bool(true) => "yes".to_owned(),
            Value::Bool(false) => "no".to_owned(),
            Value::Number(n) => match n.as_i64() {
                Some(at) if field.ends_with("_ns") => self.zone.datetime(at),
                Some(id) => match id_kind(field) {
                    Some(kind) => self
                        .names
                        .get(kind, id)
                        .map_or_else(|| format!("#{id}"), str::to_owned),
                    None => id.to_string(),
                },
                None => n.to_string(),
            },
            Value::String(s) if s.is_empty() => "(empty)".to_owned(),
            Value::String(s) => s.clone(),
            Value::Array(items) if items.is_empty() => "none".to_owned(),
            // A service's needs: each need is one of its resources.
            Value::Array(needs) if field == "requires" => needs
                .iter()
                .map(|need| match need {
                    Value::Array(one) if one.len() == 1 => self.value("resource_ids", need),
                    _ => format!("one of {}", self.value("resource_ids", need)),
                })
                .collect::<Vec<_>>()
                .join("; "),
            Value::Array(items) => {
                let told: Vec<String> = items
                    .iter()
                    .map(|item| match (field, item) {
                        // Lists of fields name them as people call them.
                        ("fields" | "changed", Value::String(name)) => label(name),
                        _ => self.value(field, item),
                    })
                    .collect();
                told.join(if field == "overridden" { "; " } else { ", " })
            }
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| format!("{} {}", label(k).to_lowercase(), self.value(k, v)))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The kind of row a field's id names, if it names one.
fn id_kind(field: &str) -> Option<&'static str> {
    match field {
        "clinic_id" | "home_clinic_id" => Some("clinic"),
        "type_id" | "practitioner_type_id" => Some("practitioner_type"),
        "practitioner" | "practitioner_id" | "practitioners" => Some("practitioner"),
        "schedule_type_id" | "schedule_type_ids" => Some("schedule_type"),
        "service_id" => Some("service"),
        "resource_id" | "resource_ids" => Some("resource"),
        _ => None,
    }
}

/// What a field is called: `home_clinic_id` → `Home clinic`.
fn label(field: &str) -> String {
    let known = match field {
        "type_id" | "practitioner_type_id" => "Practitioner type",
        "home_clinic_id" => "Home clinic",
        "clinic_id" => "Clinic",
        "practitioner" | "practitioner_id" => "Practitioner",
        "practitioners" => "Practitioners the patient may book",
        "schedule_type" | "schedule_type_id" => "Schedule type",
        "schedule_type_ids" => "Schedule types",
        "service_id" => "Service",
        "requires" => "Needs",
        "resource_id" => "Room or equipment",
        "always_available" => "Always available",
        "removed_from_services" => "Taken out of the needs of",
        "start_ns" => "Start",
        "end_ns" => "End",
        "from_record" => "From availability record",
        "override_reason" => "Override reason",
        "reason" | "cancel_reason" => "Cancellation reason",
        "previous_status" => "Status before",
        "label" => "Label",
        "overridden" => "Overrode",
        "portal_blocks" => "Portal blocks",
        "host" => "Host name",
        "portal_public_times" => "Open times shown before signing in",
        "email" => "Email",
        "username" => "Username",
        "shares_email_with" => "Shares the email address of patients",
        "changed" => "Changed",
        "fields" => "Fields",
        "has_phone" => "Has a phone number",
        "details" => "Details",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    let words = field.strip_suffix("_ns").unwrap_or(field).replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toronto() -> OrgZone {
        OrgZone {
            tz: chrono_tz::America::Toronto,
            labelled: false,
        }
    }

    fn names() -> Names {
        let mut names = Names::default();
        names.add("clinic", 1, "Downtown");
        names.add("clinic", 2, "Uptown");
        names.add("schedule_type", 7, "Physiotherapy");
        names.add("schedule_type", 8, "Massage");
        names.add("practitioner", 3, "Christine Roy");
        names.add("resource", 11, "Room 1");
        names.add("resource", 12, "Room 2");
        names.add("resource", 13, "Shockwave");
        names
    }

    fn told(details: &str) -> Vec<String> {
        lines(details, &names(), toronto())
            .iter()
            .map(Line::text)
            .collect()
    }

    #[test]
    fn an_update_tells_each_changed_field_from_before_to_after_by_name() {
        let details = r#"{"name": "Main", "home_clinic_id": 2, "active": true,
            "before": {"name": "Main", "home_clinic_id": 1, "active": false}}"#;
        assert_eq!(
            told(details),
            ["Active: no → yes", "Home clinic: Downtown → Uptown"]
        );
        let same = r#"{"name": "Main", "before": {"name": "Main"}}"#;
        assert_eq!(told(same), ["Nothing changed: saved as it was"]);
        // A row deleted since is told by its id.
        let gone = r#"{"home_clinic_id": 9, "before": {"home_clinic_id": 1}}"#;
        assert_eq!(told(gone), ["Home clinic: Downtown → #9"]);
    }

    #[test]
    fn lists_nulls_and_instants_are_told_in_words() {
        let details = r#"{"schedule_type_ids": [7, 8], "practitioners": null,
            "before": {"schedule_type_ids": [7], "practitioners": [3]}}"#;
        assert_eq!(
            told(details),
            [
                "Practitioners the patient may book: Christine Roy → every practitioner bookable in the portal",
                "Schedule types: Physiotherapy → Physiotherapy, Massage",
            ]
        );
        // 2026-03-02T14:30Z is 09:30 in Toronto.
        let moved = r#"{"from": {"practitioner_id": 3, "start_ns": 1772461800000000000},
            "to": {"practitioner_id": 3, "start_ns": 1772465400000000000},
            "override_reason": "urgent", "overridden": ["a", "b"]}"#;
        assert_eq!(
            told(moved),
            [
                "Start: Mon 2 Mar 2026, 09:30 → Mon 2 Mar 2026, 10:30",
                "Overrode: a; b",
                "Override reason: urgent",
            ]
        );
    }

    #[test]
    fn a_creation_tells_the_fields_it_saved_and_leaves_out_the_empty_ones() {
        let details = r#"{"name": "Physio", "code": null, "clinic_id": 1, "telehealth": false,
            "description": ""}"#;
        assert_eq!(
            told(details),
            ["Clinic: Downtown", "Name: Physio", "Telehealth: no"]
        );
        assert_eq!(
            told(r#"{"fields": ["first_name", "email"]}"#),
            ["Fields: First name, Email"]
        );
        assert!(told("{}").is_empty());
        assert!(told("null").is_empty());
        assert_eq!(told("not json"), ["Details: not json"]);
    }

    #[test]
    fn a_services_needs_are_told_by_the_names_of_their_resources() {
        let details = r#"{"requires": [[11, 12], [13]], "before": {"requires": []}}"#;
        assert_eq!(
            told(details),
            ["Needs: none → one of Room 1, Room 2; Shockwave"]
        );
    }

    #[test]
    fn every_action_is_called_something_and_names_a_known_kind() {
        for (action, entity, label) in ACTIONS {
            assert!(!label.is_empty(), "{action}");
            assert!(!kind_label(entity).is_empty(), "{action}: {entity}");
            assert_eq!(action_label(action), *label);
        }
        assert_eq!(action_label("something.new"), "Changed");
    }
}
