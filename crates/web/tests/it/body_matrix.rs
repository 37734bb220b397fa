//! The body-reference matrix: every id carried *inside* a request body, tried one field
//! at a time with another organisation's id (and, in the portal, another patient's).
//!
//! The security matrix (`security.rs`) tries every route with every kind of actor, but a
//! body naming another organisation's id next to the caller's own valid ones is a
//! different hole: the handler finds the first ids it checks, and the one it forgets is
//! stored. That is how a staff booking came to hold another organisation's schedule
//! type. So the matrix here is generated, not written down:
//!
//! - the API's request bodies come from the served `/api/openapi.json`: every property
//!   of every request body schema (through `$ref`, `oneOf` and arrays) is classified by
//!   [`classify`]; an integer or array field the rule cannot place fails the test;
//! - the pages' forms come from the askama templates (`templates/**.html`, includes
//!   inlined): every `<form method="post">` and the names of its fields; a field that can
//!   carry an id (a `<select>`, a hidden, number or checkbox input) must be classified,
//!   and a field a page handler reads that no template sends fails the test.
//!
//! Each operation with id fields gets a valid body of organisation A's own (its other
//! fields from [`api_bases`] / [`form_bases`], which must name every such operation, and
//! every id field filled with A's id of its kind). Then, for each id field: the body with
//! only that field carrying B's id of the same kind is refused with a 4xx, and A's and
//! B's exports (with staff accounts and the audit log) are unchanged byte for byte; and
//! the body with A's own id (the control) is accepted, so the refusal is about the id and
//! nothing else. A new id field in an existing body is covered without anyone adding it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Duration, NaiveDate};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::Scenario;
use store::Organisation;
use store::keys::Kind as KeyKind;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, Page, TestApp};

/// What an id field names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Clinic,
    PractitionerType,
    Practitioner,
    ScheduleType,
    /// A schedule type named by its key (the scenario format's `id`), not its row id.
    ScheduleTypeKey,
    Service,
    Patient,
    Appointment,
    /// A room or piece of equipment.
    Resource,
}

impl Kind {
    /// In the portal, what of this kind belongs to another patient of the same
    /// organisation, and is as foreign to the signed-in patient as another
    /// organisation's: another patient, their appointment, or a practitioner the
    /// signed-in patient may not book.
    fn other_patients(self) -> Option<&'static str> {
        match self {
            Kind::Patient => Some("another patient"),
            Kind::Appointment => Some("another patient's"),
            Kind::Practitioner => Some("a practitioner not available to this patient:"),
            _ => None,
        }
    }
}

/// One id or a list of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    One,
    List,
    /// The availability editor's painted cells, `ID/day/HH:MM-HH:MM`: the schedule
    /// type's id inside each value of a list.
    Cells,
    /// A service's needs in the API: a list of lists of resource ids.
    NeedLists,
    /// A service's needs in its form: tick boxes `ID/n`, resource `ID` in need `n`.
    NeedTicks,
}

/// What the rule makes of a field.
#[derive(Debug, PartialEq, Eq)]
enum Class {
    /// It names a row: of this kind, one or a list.
    Id(Kind, Shape),
    /// A value that is not an id (a quantity, a flag, a word).
    Value,
}

/// The entity a field's name (without `_id`/`_ids`/plural `s`) refers to: the last
/// word(s) of the name, so `home_clinic` is a clinic. `type` alone is the practitioner
/// type, as in the scenario format.
fn entity(stem: &str) -> Option<Kind> {
    const ENTITIES: &[(&str, Kind)] = &[
        ("practitioner_type", Kind::PractitionerType),
        ("schedule_type", Kind::ScheduleType),
        ("practitioner", Kind::Practitioner),
        ("clinic", Kind::Clinic),
        ("service", Kind::Service),
        ("patient", Kind::Patient),
        ("appointment", Kind::Appointment),
        ("resource", Kind::Resource),
    ];
    if stem == "type" {
        return Some(Kind::PractitionerType);
    }
    ENTITIES
        .iter()
        .find(|(name, _)| stem == *name || stem.ends_with(&format!("_{name}")))
        .map(|(_, kind)| *kind)
}

/// Integer fields that are quantities, not ids: lengths and limits in minutes, days
/// ahead, conflicts allowed.
fn quantity(name: &str) -> bool {
    name.ends_with("_minutes")
        // The desk's status buttons send a status's name, never an id.
        || name == "status"
        || name.ends_with("_conflicts")
        || name == "max_days_ahead"
        // The waitlist's settings: how many offers, held times and entries.
        || name == "offer_count"
        || name == "max_holds_per_service"
        || name == "max_entries_per_patient"
        || name == "duration_default"
        // A series' rule: every how many weeks, how many times.
        || name == "every_weeks"
        || name == "count"
        || name == "weeks"
        // How many appointments a room or machine holds at once.
        || name == "capacity"
        // How many rows of blocks or needs a form sent.
        || name == "block_rows"
        || name == "need_rows"
        // After how many no-shows a patient's portal bookings wait (issue 17).
        || name == "no_show_pending_after"
        // The day a waitlist form goes back to (issue 17), not an id.
        || name == "date"
        // The calendar feed page the feed settings' form goes back to (issue 18), and
        // which of the feed page's buttons was pressed: a path and a word, not ids.
        || name == "from"
        || name == "action"
}

/// The JSON type of a leaf field, as the schema (or a form element) says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leaf {
    Integer,
    IntegerList,
    String,
    StringList,
    Boolean,
}

/// The rule. `where_` names the field for the failure message.
fn classify(name: &str, leaf: Leaf, where_: &str) -> Class {
    let one = name
        .strip_suffix("_id")
        .map_or_else(|| entity(name), entity);
    let list = name
        .strip_suffix("_ids")
        .or_else(|| name.strip_suffix('s'))
        .and_then(entity);
    match leaf {
        Leaf::Integer => match one {
            // A quantity named for what it counts (`max_holds_per_service`).
            _ if quantity(name) => Class::Value,
            Some(kind) => Class::Id(kind, Shape::One),
            None if quantity(name) => Class::Value,
            None => panic!(
                "{where_}: integer field `{name}` is neither an id (`*_id`, or named for \
                 an entity) nor a quantity (`*_minutes`, …): classify it in body_matrix.rs"
            ),
        },
        Leaf::IntegerList => match list {
            Some(kind) => Class::Id(kind, Shape::List),
            // A list of quantities (reminder offsets, issue 17), not of ids.
            None if quantity(name) => Class::Value,
            None => panic!(
                "{where_}: integer list `{name}` is not a list of ids (`*_ids`, or an \
                 entity's plural): classify it in body_matrix.rs"
            ),
        },
        // A string named for an entity is a key (blocks name their schedule type by
        // its key).
        Leaf::String => match one {
            Some(Kind::ScheduleType) => Class::Id(Kind::ScheduleTypeKey, Shape::One),
            Some(kind) => panic!(
                "{where_}: string field `{name}` names a {kind:?} by key: add its kind to \
                 body_matrix.rs"
            ),
            None => Class::Value,
        },
        Leaf::StringList => match list {
            Some(kind) => panic!(
                "{where_}: string list `{name}` names {kind:?}s by key: add its kind to \
                 body_matrix.rs"
            ),
            None => Class::Value,
        },
        Leaf::Boolean => Class::Value,
    }
}

/// An id field of a body: its place (`["practitioners"]`, or `["[]", "schedule_type"]`
/// for a field of every element of an array body), what it names and its shape.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct IdField {
    path: Vec<String>,
    kind: Kind,
    shape: Shape,
}

impl IdField {
    fn name(&self) -> String {
        self.path.join(".")
    }
}

// ---------------------------------------------------------------------------------
// The API: id fields from the OpenAPI document.

/// Follows `$ref`s into `components.schemas`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {reference}"));
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The schema's type, without `null`.
fn type_of(schema: &Value) -> Option<&str> {
    match &schema["type"] {
        Value::String(t) => Some(t.as_str()),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

/// The branches of a `oneOf`/`anyOf`/`allOf`, without the `null` one.
fn branches(schema: &Value) -> Vec<&Value> {
    ["oneOf", "anyOf", "allOf"]
        .iter()
        .filter_map(|k| schema[*k].as_array())
        .flatten()
        .filter(|s| type_of(s) != Some("null") || s.get("$ref").is_some())
        .collect()
}

/// Collects the id fields of the body schema `schema`; `at` is where it sits.
fn walk(doc: &Value, schema: &Value, at: &[String], op: &str, out: &mut Vec<IdField>) {
    let schema = resolve(doc, schema);
    let alternatives = branches(schema);
    if !alternatives.is_empty() {
        for branch in alternatives {
            walk(doc, branch, at, op, out);
        }
        return;
    }
    match type_of(schema) {
        Some("object") | None if schema.get("properties").is_some() => {
            for (name, property) in schema["properties"].as_object().unwrap() {
                let mut here = at.to_vec();
                here.push(name.clone());
                let property = resolve(doc, property);
                // A service's needs: lists of resource ids, one list per need.
                if name == "requires" {
                    out.push(IdField {
                        path: here,
                        kind: Kind::Resource,
                        shape: Shape::NeedLists,
                    });
                    continue;
                }
                let leaf = match type_of(property) {
                    Some("integer") => Some(Leaf::Integer),
                    Some("boolean") => Some(Leaf::Boolean),
                    Some("string") => Some(Leaf::String),
                    Some("array") => {
                        let items = resolve(doc, &property["items"]);
                        match type_of(items) {
                            Some("integer") => Some(Leaf::IntegerList),
                            Some("string") => Some(Leaf::StringList),
                            _ => {
                                here.push("[]".to_owned());
                                walk(doc, items, &here, op, out);
                                None
                            }
                        }
                    }
                    _ => {
                        walk(doc, property, &here, op, out);
                        None
                    }
                };
                if let Some(leaf) = leaf
                    && let Class::Id(kind, shape) = classify(name, leaf, op)
                {
                    out.push(IdField {
                        path: here,
                        kind,
                        shape,
                    });
                }
            }
        }
        Some("array") => {
            let mut here = at.to_vec();
            here.push("[]".to_owned());
            walk(doc, &schema["items"], &here, op, out);
        }
        other => panic!("{op}: a body part of type {other:?} the matrix cannot read: {schema}"),
    }
}

/// Every operation of the OpenAPI document with a JSON request body, and its id fields.
fn api_operations(doc: &Value) -> BTreeMap<String, Vec<IdField>> {
    let mut operations = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(body) = operation.get("requestBody") else {
                continue;
            };
            let op = format!("{} {path}", method.to_uppercase());
            let content = body["content"].as_object().unwrap();
            let schema = &content
                .get("application/json")
                .unwrap_or_else(|| panic!("{op}: a request body that is not JSON"))["schema"];
            let mut fields = Vec::new();
            walk(doc, schema, &[], &op, &mut fields);
            fields.sort();
            fields.dedup();
            operations.insert(op, fields);
        }
    }
    operations
}

// ---------------------------------------------------------------------------------
// The pages: forms and their fields from the templates.

/// A template with its `{% include "…" %}`s inlined.
fn inlined(dir: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("{% include \"") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 12..];
        let name = &after[..after.find('"').unwrap()];
        out.push_str(&inlined(dir, name));
        rest = &after[after.find("%}").unwrap() + 2..];
    }
    out.push_str(rest);
    out
}

/// The text with askama's statements and comments (`{% … %}`, `{# … #}`) blanked out,
/// so that a `>` inside one does not end a tag early, and the fields of every branch of
/// an `{% if %}` are seen.
fn without_statements(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('{') {
        let close = match &rest[at..] {
            t if t.starts_with("{%") => t.find("%}"),
            t if t.starts_with("{#") => t.find("#}"),
            _ => None,
        };
        match close {
            Some(close) => {
                out.push_str(&rest[..at]);
                out.push(' ');
                rest = &rest[at + close + 2..];
            }
            None => {
                out.push_str(&rest[..=at]);
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of attribute `name` in a tag's text.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let at = tag.find(&needle)? + needle.len();
    Some(&tag[at..at + tag[at..].find('"')?])
}

/// A form field as the template writes it: whether its element may carry an id (a
/// `<select>`, or a hidden, number, checkbox or radio input), and whether it appears
/// more than once or is a checkbox (a list).
#[derive(Debug, Default)]
struct FormField {
    may_be_id: bool,
    list: bool,
    count: usize,
}

/// Every `<form method="post">` of every template: its action, normalised
/// (`{{ layout.org_slug }}` → `{slug}`, any other expression → `{}`), and its fields.
fn template_forms() -> BTreeMap<String, BTreeMap<String, FormField>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                files.push(
                    path.strip_prefix(&dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut forms: BTreeMap<String, BTreeMap<String, FormField>> = BTreeMap::new();
    for file in files {
        let text = without_statements(&inlined(&dir, &file));
        let mut rest = text.as_str();
        while let Some(at) = rest.find("<form") {
            let form = &rest[at..];
            let end = form
                .find("</form>")
                .unwrap_or_else(|| panic!("{file}: unclosed form"));
            let open = &form[..form.find('>').unwrap()];
            rest = &form[end..];
            if !attribute(open, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
                continue;
            }
            let action = attribute(open, "action").unwrap_or_else(|| panic!("{file}: no action"));
            let action = normalise_action(action);
            let fields = forms.entry(action).or_default();
            let body = &form[..end];
            for tag_start in body.match_indices('<').map(|(i, _)| i) {
                let tag = &body[tag_start..tag_start + body[tag_start..].find('>').unwrap_or(0)];
                let element = tag[1..].split([' ', '\n']).next().unwrap_or_default();
                if !matches!(element, "input" | "select" | "textarea" | "button") {
                    continue;
                }
                let Some(name) = attribute(tag, "name") else {
                    continue;
                };
                let kind = attribute(tag, "type").unwrap_or("text");
                let field = fields.entry(name.to_owned()).or_default();
                field.count += 1;
                field.may_be_id |= element == "select"
                    || (element == "input"
                        && matches!(kind, "hidden" | "number" | "checkbox" | "radio"));
                field.list |= element == "input" && kind == "checkbox";
            }
        }
    }
    forms
}

fn normalise_action(action: &str) -> String {
    let mut out = String::new();
    let mut rest = action;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let close = open + rest[open..].find("}}").unwrap();
        let expression = rest[open + 2..close].trim();
        out.push_str(if expression == "layout.org_slug" {
            "{slug}"
        } else {
            "{}"
        });
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    out
}

/// Form fields whose element may carry an id but that are not ids, and why.
const FORM_VALUES: &[(&str, &str)] = &[
    ("_csrf", "the CSRF token"),
    ("idempotency_key", "a client's random key"),
    ("next", "where to go after signing in"),
    ("reason", "the override reasons shown, sent back as text"),
    ("override", "the override tick box"),
    ("action", "which button"),
    (
        "mode",
        "in person or video (`in_person` or `video`), text refused unless one of those",
    ),
    (
        "layer",
        "the editor's layer to show next (a schedule type's id or `p`): a view choice \
         that falls back to the first layer when it is not the practitioner's, like a \
         query parameter; nothing is stored",
    ),
    ("hours", "`all` to show every hour"),
    ("portal_customised", "a flag"),
    (
        "background_color",
        "a colour preset's `#rrggbb`, or `custom` for the picker's colour: radio buttons of a colour, not ids",
    ),
    ("reset_portal", "a flag"),
    ("decision", "accept or decline"),
    ("active", "a flag"),
    ("role", "a role's name"),
    ("timezone", "an IANA name"),
    ("start", "an instant"),
    ("bookable_in_portal", "a flag"),
    ("book_from_portal", "a flag"),
    ("allow_public_signup", "a flag"),
    ("auto_accept_portal_bookings", "a flag"),
    ("allow_conflicts", "a flag"),
    ("captcha", "the CAPTCHA's solution"),
    ("telehealth", "in person (`0`) or by video (`1`)"),
    (
        "block",
        "`yes` to block time without a patient instead of booking one",
    ),
    ("repeat", "every how many weeks a series repeats (1 to 4)"),
    ("repeat_end", "`count` or `until`: how a series ends"),
    ("repeat_count", "how many times a series repeats"),
    (
        "override_date",
        "the date of a series' occurrence to book anyway",
    ),
    (
        "unfit",
        "`skip` or `refuse`: what a series does with what needs an override",
    ),
    ("weeks", "how many weeks a portal series runs (2 to 12)"),
    ("kind", "`room` or `equipment`"),
    ("always_available", "a flag"),
    ("add_need", "the button that shows one more need row"),
];

/// The form fields the page handlers read by name (`form.get("…")`, `form.all("…")`,
/// `form.optional("…")`, `form.checked("…")` anywhere under `src/`).
fn fields_read_by_handlers() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for call in [
                "form.get(\"",
                "form.all(\"",
                "form.optional(\"",
                "form.checked(\"",
            ] {
                for (at, _) in text.match_indices(call) {
                    let rest = &text[at + call.len()..];
                    found.insert(rest[..rest.find('"').unwrap()].to_owned());
                }
            }
        }
    }
    found
}

/// Form fields that carry an id inside a compound value.
const EMBEDDED: &[(&str, Kind, Shape)] = &[
    ("cell", Kind::ScheduleType, Shape::Cells),
    ("need", Kind::Resource, Shape::NeedTicks),
];

/// Every posted form with its id fields (fields that may carry an id are classified,
/// and fail the test when the rule cannot place them).
fn form_operations() -> BTreeMap<String, Vec<IdField>> {
    let forms = template_forms();
    // A field a handler reads but no template sends would be invisible here.
    let sent: BTreeSet<&String> = forms.values().flat_map(BTreeMap::keys).collect();
    let unseen: Vec<String> = fields_read_by_handlers()
        .into_iter()
        .filter(|name| !sent.contains(name))
        .collect();
    assert!(
        unseen.is_empty(),
        "page handlers read form fields no template's form sends, so the body matrix \
         cannot try them: {unseen:?}"
    );
    let stale: Vec<&str> = FORM_VALUES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !sent.iter().any(|s| s == name))
        .collect();
    assert!(
        stale.is_empty(),
        "FORM_VALUES names fields no form sends any more (remove them): {stale:?}"
    );
    let mut operations = BTreeMap::new();
    for (action, fields) in forms {
        let op = format!("POST {action}");
        let mut ids = Vec::new();
        for (name, field) in &fields {
            if FORM_VALUES.iter().any(|(n, _)| n == name) {
                continue;
            }
            if let Some((_, kind, shape)) = EMBEDDED.iter().find(|(n, _, _)| n == name) {
                ids.push(IdField {
                    path: vec![name.clone()],
                    kind: *kind,
                    shape: *shape,
                });
                continue;
            }
            // A page's form sends text; its field is read as the entity it names.
            let leaf = if field.list || field.count > 1 {
                Leaf::IntegerList
            } else {
                Leaf::Integer
            };
            let named = name
                .strip_suffix("_id")
                .map_or_else(|| entity(name), entity)
                .is_some()
                || name.strip_suffix("_ids").and_then(entity).is_some()
                || name.strip_suffix('s').and_then(entity).is_some();
            if !field.may_be_id && !named {
                continue;
            }
            // A list field named for one entity (`practitioner` twice) is one id per form.
            let leaf = if field.list && !named {
                // A tick box not named for an entity is a flag.
                Leaf::Boolean
            } else if leaf == Leaf::IntegerList
                && name.strip_suffix("_ids").is_none()
                && name.strip_suffix('s').and_then(entity).is_none()
            {
                Leaf::Integer
            } else {
                leaf
            };
            if let Class::Id(kind, shape) = classify(name, leaf, &op) {
                ids.push(IdField {
                    path: vec![name.clone()],
                    kind,
                    shape,
                });
            }
        }
        operations.insert(op, ids);
    }
    operations
}

// ---------------------------------------------------------------------------------
// The world: two organisations with everything, and A's admin and patients signed in.

/// An organisation with every kind of row: a clinic, a practitioner type, two
/// practitioners available every day of 2026 from 08:00 to 18:00 UTC, a schedule type,
/// a portal and a staff-only service, two patients and an appointment. Keys carry the
/// organisation's suffix so that B's keys are unknown in A.
fn scenario(x: &str) -> Scenario {
    let every_day = json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
    let practitioner = |key: &str, name: &str| {
        json!({"id": format!("{key}-{x}"), "name": format!("{name} {x}"),
               "type": format!("Type {x}"), "home_clinic": format!("main-{x}"),
               "schedule_types": [format!("physio-{x}")],
               "availability": [{"start_date": "2026-01-01", "end_date": "2026-12-31",
                 "blocks": [{"days": every_day, "start": "08:00", "end": "18:00",
                             "schedule_type": format!("physio-{x}")}]}]})
    };
    let patient = |key: &str| {
        json!({"id": format!("{key}-{x}"), "first_name": key, "last_name": x,
               "email": format!("{key}-{x}@example.com")})
    };
    // The first patient may book only the first practitioner.
    let mut first = patient("p1");
    first["available_practitioners"] = json!([format!("pa-{x}")]);
    let text = json!({
        "version": 3,
        "settings": {"slot_step_minutes": 30, "min_notice_minutes": 60},
        "clinics": [{"id": format!("main-{x}"), "name": format!("Main {x}"), "timezone": "UTC"}],
        "resources": [{"id": format!("room-{x}"), "name": format!("Room {x}"), "clinic": format!("main-{x}")}],
        "schedule_types": [{"id": format!("physio-{x}"), "name": format!("Physio {x}"),
                            "clinic": format!("main-{x}")}],
        "practitioners": [practitioner("pa", "Ann"), practitioner("pb", "Bob")],
        "services": [
            {"id": format!("visit-{x}"), "name": format!("Visit {x}"), "duration_minutes": 30,
             "book_from_portal": true, "schedule_types": [format!("physio-{x}")],
             "allow_series": true},
            {"id": format!("report-{x}"), "name": format!("Report {x}"), "duration_minutes": 30,
             "book_from_portal": false, "schedule_types": [format!("physio-{x}")]}],
        "patients": [first, patient("p2")],
        "appointments": [{"id": format!("held-{x}"), "practitioner": format!("pa-{x}"),
                          "patient": format!("p2-{x}"), "service": format!("visit-{x}"),
                          "start": "2026-03-20T08:00:00Z", "end": "2026-03-20T08:30:00Z",
                          "status": "booked"}]
    });
    Scenario::from_json(text.to_string().as_bytes()).unwrap()
}

/// One organisation's ids, by kind; and, for the portal, its first patient's own.
#[derive(Debug)]
struct Ids {
    by_kind: BTreeMap<Kind, Value>,
    /// Row ids by the path segment before them (`clinics`, `availability`, …).
    by_segment: BTreeMap<&'static str, String>,
}

struct World {
    app: TestApp,
    alpha: Organisation,
    beta: Organisation,
    a: Ids,
    b: Ids,
    /// A's first patient's own ids of the kinds [`Kind::other_patients`] names, and
    /// the second patient's.
    p1: BTreeMap<Kind, Value>,
    p2: BTreeMap<Kind, Value>,
    admin: Client,
    patient: Client,
}

async fn ids(app: &TestApp, org: &Organisation, x: &str, admin: &Client) -> Ids {
    let id = |kind, key: String| async move { app.id(org, kind, &key).await };
    let clinic = id(KeyKind::Clinic, format!("main-{x}")).await;
    let ptype = id(KeyKind::PractitionerType, format!("Type {x}")).await;
    let practitioner = id(KeyKind::Practitioner, format!("pa-{x}")).await;
    let schedule_type = id(KeyKind::ScheduleType, format!("physio-{x}")).await;
    let service = id(KeyKind::Service, format!("visit-{x}")).await;
    let patient = id(KeyKind::Patient, format!("p2-{x}")).await;
    let slug = &org.slug;
    let record = admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/{slug}/practitioners/{practitioner}/availability"),
            None,
        )
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();
    let appointments = admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/{slug}/appointments?from=2026-03-20&to=2026-03-21"),
            None,
        )
        .await
        .json();
    let appointment = appointments.as_array().unwrap()[0]["id"].as_i64().unwrap();
    // A room holding many appointments at once, so that needing it refuses no booking.
    let resource = admin
        .created(
            &format!("/api/v1/orgs/{slug}/resources"),
            json!({"name": format!("Room {x}"), "clinic_id": clinic, "capacity": 100}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let by_kind = BTreeMap::from([
        (Kind::Resource, json!(resource)),
        (Kind::Clinic, json!(clinic)),
        (Kind::PractitionerType, json!(ptype)),
        (Kind::Practitioner, json!(practitioner)),
        (Kind::ScheduleType, json!(schedule_type)),
        (Kind::ScheduleTypeKey, json!(format!("physio-{x}"))),
        (Kind::Service, json!(service)),
        (Kind::Patient, json!(patient)),
        (Kind::Appointment, json!(appointment)),
    ]);
    let by_segment = BTreeMap::from([
        ("clinics", clinic.to_string()),
        ("practitioner-types", ptype.to_string()),
        ("practitioners", practitioner.to_string()),
        ("schedule-types", schedule_type.to_string()),
        ("services", service.to_string()),
        ("book", service.to_string()),
        ("patients", patient.to_string()),
        ("availability", record.to_string()),
        ("appointments", appointment.to_string()),
        ("resources", resource.to_string()),
    ]);
    Ids {
        by_kind,
        by_segment,
    }
}

async fn world(backend: Backend) -> World {
    let app = TestApp::spawn(backend).await;
    let alpha = app.import("alpha", &scenario("a")).await;
    let beta = app.import("beta", &scenario("b")).await;
    let admin = app.signed_in(&alpha, Role::Admin).await;
    let beta_admin = app.signed_in(&beta, Role::Admin).await;
    let patient = app.portal_patient(&alpha, &admin, "p1-a").await;
    let a = ids(&app, &alpha, "a", &admin).await;
    // The waitlist's controls add many entries for one patient, and each offer holds a
    // time for one of them.
    let saved = admin
        .api(
            Method::PUT,
            "/api/v1/orgs/alpha/waitlist/settings",
            Some(
                json!({"offer_count": 1, "hold_minutes": 60, "max_holds_per_service": 50,
                        "max_entries_per_patient": 50}),
            ),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let b = ids(&app, &beta, "b", &beta_admin).await;
    // The patients' own appointments: each books one through the portal.
    let other = app.portal_patient(&alpha, &admin, "p2-a").await;
    let mut own = Vec::new();
    for (client, start) in [
        (&patient, "2026-03-21T08:00:00Z"),
        (&other, "2026-03-21T09:00:00Z"),
    ] {
        let booked = client
            .created(
                "/api/v1/orgs/alpha/portal/appointments",
                json!({"service": a.by_kind[&Kind::Service],
                       "practitioner": a.by_kind[&Kind::Practitioner], "start": start}),
            )
            .await;
        own.push(booked["id"].clone());
    }
    // Entries waiting for any time, for the offers by hand to go to. Joining is for
    // when nothing suits, and times are open now: they join as if none were (a notice
    // longer than the calendar), so that each open time offered suits one of them.
    let no_times = Organisation {
        min_notice_minutes: 10_000_000,
        ..alpha.clone()
    };
    let waiting = app.id(&alpha, KeyKind::Patient, "p2-a").await;
    for _ in 0..30 {
        store::waitlist::join(
            &app.db,
            &no_times,
            &store::waitlist::NewEntry {
                patient: waiting,
                service: a.by_kind[&Kind::Service].as_i64().unwrap(),
                ..Default::default()
            },
            store::audit::Actor::Patient(waiting),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            &*app.clock,
        )
        .await
        .unwrap();
    }
    let patient_ids = |patient: i64, appointment: &Value, practitioner: i64| {
        BTreeMap::from([
            (Kind::Patient, json!(patient)),
            (Kind::Appointment, appointment.clone()),
            (Kind::Practitioner, json!(practitioner)),
        ])
    };
    let id = |kind, key| app.id(&alpha, kind, key);
    let p1 = patient_ids(
        id(KeyKind::Patient, "p1-a").await,
        &own[0],
        id(KeyKind::Practitioner, "pa-a").await,
    );
    let p2 = patient_ids(
        id(KeyKind::Patient, "p2-a").await,
        &own[1],
        id(KeyKind::Practitioner, "pb-a").await,
    );
    World {
        app,
        alpha,
        beta,
        a,
        b,
        p1,
        p2,
        admin,
        patient,
    }
}

// ---------------------------------------------------------------------------------
// Valid bodies of A's own.

/// Who sends an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Staff,
    Patient,
}

/// The `n`th try's fresh values: a slot inside practitioners' hours and one outside
/// them (which needs an override), unique names and dates.
struct Fill {
    n: i64,
}

impl Fill {
    fn day(&self, per_day: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap() + Duration::days(self.n / per_day)
    }

    /// A start inside hours: 08:00 … 17:30 UTC, a fresh one per try.
    fn open(&self) -> (String, String) {
        let minute = 8 * 60 + (self.n % 20) * 30;
        (
            self.day(20).to_string(),
            format!("{:02}:{:02}", minute / 60, minute % 60),
        )
    }

    /// A start outside hours: 18:00 … 21:30 UTC.
    fn closed(&self) -> (String, String) {
        let minute = 18 * 60 + (self.n % 8) * 30;
        (
            self.day(8).to_string(),
            format!("{:02}:{:02}", minute / 60, minute % 60),
        )
    }

    /// A start inside hours from September 2026, for a weekly series: its later
    /// occurrences, a week on, stay clear of the other tries' slots.
    fn series_open(&self) -> String {
        let minute = 8 * 60 + (self.n % 20) * 30;
        let day = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap() + Duration::days(self.n / 20);
        format!("{day}T{:02}:{:02}:00Z", minute / 60, minute % 60)
    }

    fn instant((date, time): (String, String)) -> String {
        format!("{date}T{time}:00Z")
    }

    /// A one-day availability record's date, far from the tries' slots.
    fn record_day(&self) -> String {
        (NaiveDate::from_ymd_opt(2031, 1, 1).unwrap() + Duration::days(self.n)).to_string()
    }
}

/// A valid body's fields other than ids, for one operation; `omit` names id fields the
/// variant leaves out (`service` for a booking by schedule type alone).
struct Base {
    variant: &'static str,
    who: Who,
    omit: &'static [&'static str],
    fields: fn(&Fill) -> Value,
}

fn base(variant: &'static str, who: Who, fields: fn(&Fill) -> Value) -> Base {
    Base {
        variant,
        who,
        omit: &[],
        fields,
    }
}

/// The API operations with id fields in their body, and valid bodies for them.
fn api_bases() -> BTreeMap<&'static str, Vec<Base>> {
    use Who::{Patient, Staff};
    BTreeMap::from([
        (
            "POST /api/v1/orgs/{slug}/practitioners",
            vec![base(
                "",
                Staff,
                |f| json!({"name": format!("Matrix {}", f.n)}),
            )],
        ),
        (
            "PUT /api/v1/orgs/{slug}/practitioners/{id}",
            vec![base("", Staff, |_| json!({"name": "Ann a"}))],
        ),
        (
            "POST /api/v1/orgs/{slug}/schedule-types",
            vec![base(
                "",
                Staff,
                |f| json!({"name": format!("Matrix {}", f.n)}),
            )],
        ),
        (
            "PUT /api/v1/orgs/{slug}/schedule-types/{id}",
            vec![base("", Staff, |_| json!({"name": "Physio a"}))],
        ),
        (
            "POST /api/v1/orgs/{slug}/services",
            vec![base(
                "",
                Staff,
                |f| json!({"name": format!("Matrix {}", f.n), "duration_minutes": 30}),
            )],
        ),
        (
            "PUT /api/v1/orgs/{slug}/services/{id}",
            vec![base(
                "",
                Staff,
                |_| json!({"name": "Visit a", "duration_minutes": 30, "book_from_portal": true}),
            )],
        ),
        (
            "PUT /api/v1/orgs/{slug}/reminder-settings",
            vec![base("", Staff, |_| {
                json!({"offsets_minutes": [60], "no_show_pending_after": null,
                       "services": [{"service_id": 0, "offsets_minutes": [30]}]})
            })],
        ),
        (
            "POST /api/v1/orgs/{slug}/resources",
            vec![base(
                "",
                Staff,
                |f| json!({"name": format!("Matrix room {}", f.n), "capacity": 100}),
            )],
        ),
        (
            "PUT /api/v1/orgs/{slug}/resources/{id}",
            vec![base(
                "",
                Staff,
                |_| json!({"name": "Room a", "capacity": 100}),
            )],
        ),
        (
            "POST /api/v1/orgs/{slug}/staff",
            vec![base("", Staff, |f| {
                json!({"email": format!("matrix{}@example.com", f.n), "name": "Matrix",
                       "role": "practitioner", "password": "matrix-password-very-long-9"})
            })],
        ),
        (
            "PUT /api/v1/orgs/{slug}/patients/{id}/portal-access/practitioners",
            vec![base("", Staff, |_| json!({}))],
        ),
        (
            "POST /api/v1/orgs/{slug}/setup-check/explain",
            vec![base("", Staff, |f| {
                let (date, time) = f.open();
                json!({"date": date, "time": time})
            })],
        ),
        (
            "POST /api/v1/orgs/{slug}/practitioners/{id}/availability",
            vec![base(
                "",
                Staff,
                |f| json!({"start_date": f.record_day(), "end_date": f.record_day()}),
            )],
        ),
        (
            "PUT /api/v1/orgs/{slug}/practitioners/{id}/availability/{record}",
            vec![base(
                "",
                Staff,
                |_| json!({"start_date": "2026-01-01", "end_date": "2026-12-31"}),
            )],
        ),
        (
            "PUT /api/v1/orgs/{slug}/practitioners/{id}/availability/{record}/blocks",
            vec![base("", Staff, |_| {
                json!([{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                        "start": "08:00", "end": "18:00"}])
            })],
        ),
        (
            "POST /api/v1/orgs/{slug}/appointments",
            vec![
                base(
                    "with a service",
                    Staff,
                    |f| json!({"start": Fill::instant(f.open())}),
                ),
                Base {
                    omit: &["service"],
                    ..base(
                        "with a schedule type alone",
                        Staff,
                        |f| json!({"start": Fill::instant(f.open())}),
                    )
                },
                base(
                    "with an override",
                    Staff,
                    |f| json!({"start": Fill::instant(f.closed()), "override_reason": "matrix"}),
                ),
            ],
        ),
        (
            "POST /api/v1/orgs/{slug}/series/preview",
            vec![base(
                "",
                Staff,
                |f| json!({"start": f.series_open(), "every_weeks": 1, "count": 2}),
            )],
        ),
        (
            "POST /api/v1/orgs/{slug}/series",
            vec![
                base(
                    "with a service",
                    Staff,
                    |f| json!({"start": f.series_open(), "every_weeks": 1, "count": 2, "unfit": "skip"}),
                ),
                Base {
                    omit: &["service"],
                    ..base("with a schedule type alone", Staff, |f| {
                        json!({"start": f.series_open(), "every_weeks": 1, "count": 2,
                               "unfit": "skip"})
                    })
                },
            ],
        ),
        (
            "POST /api/v1/orgs/{slug}/appointments/{id}/move",
            vec![base(
                "",
                Staff,
                |f| json!({"start": Fill::instant(f.open())}),
            )],
        ),
        // The waitlist (issue 17): a patient joins for themself (the portal refuses any
        // `patient_id`); staff join for a patient; an open time offered by hand goes to
        // the first entries that suit it (the joins' controls made them).
        (
            "POST /api/v1/orgs/{slug}/portal/waitlist",
            vec![Base {
                variant: "",
                who: Patient,
                omit: &["patient_id"],
                // Late in the day, where no time is open: joining is for when none suits.
                fields: |_| json!({"from_time": "23:30"}),
            }],
        ),
        (
            "POST /api/v1/orgs/{slug}/waitlist",
            vec![base("", Staff, |_| json!({"from_time": "23:30"}))],
        ),
        (
            "POST /api/v1/orgs/{slug}/waitlist/offers",
            vec![base(
                "",
                Staff,
                |f| json!({"start": Fill::instant(f.open())}),
            )],
        ),
        (
            "POST /api/v1/orgs/{slug}/portal/appointments",
            vec![base(
                "",
                Patient,
                |f| json!({"start": Fill::instant(f.open())}),
            )],
        ),
        (
            "POST /api/v1/orgs/{slug}/portal/series/preview",
            vec![base(
                "",
                Patient,
                |f| json!({"start": f.series_open(), "weeks": 2}),
            )],
        ),
        (
            "POST /api/v1/orgs/{slug}/portal/series",
            vec![base(
                "",
                Patient,
                |f| json!({"start": f.series_open(), "weeks": 2}),
            )],
        ),
        (
            "POST /api/v1/orgs/{slug}/portal/appointments/{id}/reschedule",
            vec![base(
                "",
                Patient,
                |f| json!({"start": Fill::instant(f.open())}),
            )],
        ),
    ])
}

/// The page forms with id fields, and valid submissions of them (text, as a form sends).
fn form_bases() -> BTreeMap<&'static str, Vec<Base>> {
    use Who::{Patient, Staff};
    BTreeMap::from([
        (
            "POST /o/{slug}/admin/practitioners",
            vec![base("", Staff, |f| {
                json!({"name": format!("Matrix {}", f.n), "active": "on",
                       "bookable_in_portal": "on"})
            })],
        ),
        (
            "POST /o/{slug}/admin/practitioners/{}",
            vec![base(
                "",
                Staff,
                |_| json!({"name": "Ann a", "active": "on", "bookable_in_portal": "on"}),
            )],
        ),
        (
            "POST /o/{slug}/admin/schedule-types",
            vec![base("", Staff, |f| {
                json!({"name": format!("Matrix {}", f.n), "default_duration_minutes": "30",
                       "background_color": "#ffffff", "font_color": "#000000"})
            })],
        ),
        (
            "POST /o/{slug}/admin/schedule-types/{}",
            vec![base("", Staff, |_| {
                json!({"name": "Physio a", "default_duration_minutes": "30",
                       "background_color": "#ffffff", "font_color": "#000000"})
            })],
        ),
        (
            "POST /o/{slug}/admin/services",
            vec![base("", Staff, |f| {
                json!({"name": format!("Matrix {}", f.n), "duration_minutes": "30",
                       "portal_conflicts": "1"})
            })],
        ),
        (
            "POST /o/{slug}/admin/services/{}",
            vec![base("", Staff, |_| {
                // The service keeps allowing series, which the portal's series form
                // needs later in the walk.
                json!({"name": "Visit a", "duration_minutes": "30", "portal_conflicts": "1",
                       "book_from_portal": "on", "allow_series": "on"})
            })],
        ),
        (
            "POST /o/{slug}/admin/resources",
            vec![base("", Staff, |f| {
                json!({"name": format!("Matrix room {}", f.n), "kind": "room",
                       "capacity": "100", "always_available": "on"})
            })],
        ),
        (
            "POST /o/{slug}/admin/resources/{}",
            vec![base("", Staff, |_| {
                json!({"name": "Room a", "kind": "room", "capacity": "100",
                       "always_available": "on"})
            })],
        ),
        (
            "POST /o/{slug}/admin/staff",
            vec![base("", Staff, |f| {
                json!({"email": format!("matrix{}@example.com", f.n), "name": "Matrix",
                       "role": "practitioner", "password": "matrix-password-very-long-9"})
            })],
        ),
        (
            "POST /o/{slug}/admin/patients/{}/portal-access/practitioners",
            vec![base("", Staff, |_| json!({}))],
        ),
        (
            "POST /o/{slug}/admin/practitioners/{}/availability",
            vec![base(
                "",
                Staff,
                |f| json!({"start_date": f.record_day(), "end_date": f.record_day()}),
            )],
        ),
        (
            "POST /o/{slug}/admin/practitioners/{}/availability/{}",
            vec![base(
                "",
                Staff,
                |_| json!({"start_date": "2026-01-01", "end_date": "2026-12-31"}),
            )],
        ),
        (
            "POST /o/{slug}/admin/practitioners/{}/availability/{}/grid",
            vec![base(
                "",
                Staff,
                |_| json!({"layer": "p", "portal_customised": "0"}),
            )],
        ),
        (
            "POST /o/{slug}/admin/practitioners/{}/availability/{}/schedule-types",
            vec![base("", Staff, |_| json!({}))],
        ),
        (
            "POST /o/{slug}/admin/book/new",
            vec![
                base("with a service", Staff, |f| {
                    let (date, time) = f.open();
                    json!({"date": date, "time": time, "action": "book"})
                }),
                Base {
                    omit: &["service"],
                    ..base("with a schedule type alone", Staff, |f| {
                        let (date, time) = f.open();
                        json!({"date": date, "time": time, "action": "book"})
                    })
                },
                base("with an override", Staff, |f| {
                    let (date, time) = f.closed();
                    json!({"date": date, "time": time, "action": "book", "override": "1",
                           "override_reason": "matrix"})
                }),
            ],
        ),
        (
            "POST /o/{slug}/admin/book/appointments/{}/move",
            vec![base("", Staff, |f| {
                let (date, time) = f.open();
                json!({"date": date, "time": time, "duration_minutes": "30"})
            })],
        ),
        (
            "POST /o/{slug}/portal/waitlist",
            vec![base("", Patient, |_| json!({"from_time": "23:30"}))],
        ),
        (
            "POST /o/{slug}/admin/waitlist",
            vec![base("", Staff, |_| json!({"from_time": "23:30"}))],
        ),
        (
            "POST /o/{slug}/admin/waitlist/offer",
            vec![base(
                "",
                Staff,
                |f| json!({"start": Fill::instant(f.open())}),
            )],
        ),
        (
            "POST /o/{slug}/portal/book/{}",
            vec![base(
                "",
                Patient,
                |f| json!({"start": Fill::instant(f.open())}),
            )],
        ),
        (
            "POST /o/{slug}/portal/appointments/{}/reschedule",
            vec![base(
                "",
                Patient,
                |f| json!({"start": Fill::instant(f.open())}),
            )],
        ),
        (
            "POST /o/{slug}/portal/book/{}/series",
            vec![base(
                "",
                Patient,
                |f| json!({"start": f.series_open(), "weeks": "2"}),
            )],
        ),
    ])
}

// ---------------------------------------------------------------------------------
// Trying.

/// Fills a path template's ids (`{id}`, `{record}`, `{}` …; `{slug}` stays) with A's
/// ids, each by the path segment before it.
fn fill_path(template: &str, a: &Ids) -> String {
    let mut out = String::new();
    let mut previous = "";
    for segment in template.split('/').skip(1) {
        out.push('/');
        if segment.starts_with('{') && segment != "{slug}" {
            let id = a
                .by_segment
                .get(previous)
                .unwrap_or_else(|| panic!("{template}: no id for the segment after {previous}"));
            out.push_str(id);
        } else {
            out.push_str(segment);
        }
        previous = segment;
    }
    out
}

/// Sets the field at `path` (`"[]"` = every element of an array) to `value`.
fn set(body: &mut Value, path: &[String], value: &Value) {
    let Some((first, rest)) = path.split_first() else {
        *body = value.clone();
        return;
    };
    if first == "[]" {
        for element in body.as_array_mut().expect("an array body") {
            set(element, rest, value);
        }
        return;
    }
    let object = body.as_object_mut().expect("an object body");
    if rest.is_empty() {
        object.insert(first.clone(), value.clone());
    } else {
        set(
            object.entry(first.clone()).or_insert_with(|| json!({})),
            rest,
            value,
        );
    }
}

/// One id (or a one-id list) of `kind` as the field's shape wants it.
fn shaped(field: &IdField, id: &Value, own: &Value) -> Value {
    match field.shape {
        Shape::One => id.clone(),
        // The caller's own id first: a list checked only at its first element would
        // pass it.
        Shape::List if id == own => json!([own]),
        Shape::List => json!([own, id]),
        // Every day painted with the caller's own schedule type, 08:00–18:00 as the
        // world has it; the foreign one paints one more half hour.
        Shape::Cells => {
            let text = |v: &Value| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let mut cells: Vec<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .iter()
                .map(|day| format!("{}/{day}/08:00-18:00", text(own)))
                .collect();
            if id != own {
                cells.push(format!("{}/mon/18:00-18:30", text(id)));
            }
            json!(cells)
        }
        // The caller's own resource in the first need; the foreign one in a second.
        Shape::NeedLists if id == own => json!([[own]]),
        Shape::NeedLists => json!([[own], [id]]),
        Shape::NeedTicks => {
            let mut ticks = vec![format!("{own}/0")];
            if id != own {
                ticks.push(format!("{id}/1"));
            }
            json!(ticks)
        }
    }
}

/// Sends a body to an operation: JSON to the API, a form to a page.
async fn send(client: &Client, method: &Method, path: &str, body: &Value) -> Page {
    if path.starts_with("/api/") {
        return client.api(method.clone(), path, Some(body.clone())).await;
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for (name, value) in body.as_object().unwrap() {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match value {
            Value::Array(items) => fields.extend(items.iter().map(|v| (name.clone(), text(v)))),
            other => fields.push((name.clone(), text(other))),
        }
    }
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    client.post_form(path, &fields).await
}

/// Whether a page or API answer is a success: 2xx, or a page's redirect that is not to
/// a sign-in page, and no form error on a page that answered 200.
fn accepted(page: &Page) -> bool {
    let redirect = page.status == StatusCode::SEE_OTHER && !page.location().contains("signin");
    let success = page.status.is_success()
        && !page.body.contains("class=\"field-error\"")
        && !page.body.contains("class=\"error\"");
    redirect || success
}

/// How many emails each patient of A and B has been sent: a refused try sends none.
async fn mails(w: &World) -> Vec<usize> {
    w.app.state.jobs.idle().await;
    let mut conn = w.app.db.conn().await.unwrap();
    let mut counts = Vec::new();
    for address in [
        "p1-a@example.com",
        "p2-a@example.com",
        "p1-b@example.com",
        "p2-b@example.com",
    ] {
        let sent = store::outbox::to_address(conn.exec(), address, 100_000)
            .await
            .unwrap();
        counts.push(sent.len());
    }
    counts
}

/// The start of an answer, for a finding.
fn excerpt(page: &Page) -> String {
    page.body.chars().take(300).collect()
}

/// One operation's tries, with the ids the caller's own and the foreign ones.
struct Operation<'a> {
    label: String,
    method: Method,
    path: String,
    base: &'a Base,
    fields: &'a [IdField],
}

/// What a run of the matrix found wrong, one line per try.
#[derive(Default)]
struct Findings {
    lines: Vec<String>,
    tried: usize,
}

async fn try_operation(w: &World, op: &Operation<'_>, n: &mut i64, findings: &mut Findings) {
    let client = match op.base.who {
        Who::Staff => &w.admin,
        Who::Patient => &w.patient,
    };
    // A patient's routes under an appointment name the patient's own appointment.
    let path = match op.base.who {
        Who::Patient => op.path.replace(
            &format!("/appointments/{}/", w.a.by_kind[&Kind::Appointment]),
            &format!("/appointments/{}/", w.p1[&Kind::Appointment]),
        ),
        Who::Staff => op.path.clone(),
    };
    let used: Vec<&IdField> = op
        .fields
        .iter()
        .filter(|f| !op.base.omit.contains(&f.name().as_str()))
        .collect();
    let own_id = |kind: Kind| -> Value {
        if op.base.who == Who::Patient && kind.other_patients().is_some() {
            w.p1[&kind].clone()
        } else {
            w.a.by_kind[&kind].clone()
        }
    };
    let body_for = |n: i64, swap: Option<(&IdField, &Value)>| -> Value {
        let mut body = (op.base.fields)(&Fill { n });
        for field in &used {
            let own = own_id(field.kind);
            let id = match swap {
                Some((swapped, foreign)) if swapped == *field => foreign.clone(),
                _ => own.clone(),
            };
            set(&mut body, &field.path, &shaped(field, &id, &own));
        }
        body
    };
    for field in used.iter().filter(|f| f.shape == Shape::List) {
        // A list naming the caller's own id twice is a mistake to refuse or a set to
        // read, never a server error.
        *n += 1;
        findings.tried += 1;
        let what = format!("{} — `{}` naming A's own id twice", op.label, field.name());
        let before = w.app.snapshot(&w.alpha).await;
        let own = own_id(field.kind);
        let mut body = body_for(*n, None);
        set(&mut body, &field.path, &json!([own, own]));
        let answer = send(client, &op.method, &path, &body).await;
        if answer.status.is_server_error() {
            findings.lines.push(format!(
                "{what}: answered {} to {body}: {}",
                answer.status,
                excerpt(&answer)
            ));
        }
        if !accepted(&answer) && w.app.snapshot(&w.alpha).await != before {
            findings
                .lines
                .push(format!("{what}: refused, but A's data changed"));
        }
    }
    for field in &used {
        let mut foreign = vec![("another organisation's", w.b.by_kind[&field.kind].clone())];
        if op.base.who == Who::Patient
            && let Some(whose) = field.kind.other_patients()
        {
            foreign.push((whose, w.p2[&field.kind].clone()));
        }
        for (whose, id) in foreign {
            *n += 1;
            findings.tried += 1;
            let what = format!(
                "{} — `{}` with {whose} {:?}",
                op.label,
                field.name(),
                field.kind
            );
            let before = (
                w.app.snapshot(&w.alpha).await,
                w.app.snapshot(&w.beta).await,
                mails(w).await,
            );
            let body = body_for(*n, Some((field, &id)));
            let answer = send(client, &op.method, &path, &body).await;
            if !answer.status.is_client_error() {
                findings.lines.push(format!(
                    "{what}: answered {} (not a 4xx) to {body}: {}",
                    answer.status,
                    excerpt(&answer)
                ));
            }
            let after = (
                w.app.snapshot(&w.alpha).await,
                w.app.snapshot(&w.beta).await,
                mails(w).await,
            );
            if after.2 != before.2 {
                findings
                    .lines
                    .push(format!("{what}: a patient was emailed"));
            }
            if after.0 != before.0 {
                findings.lines.push(format!("{what}: A's data changed"));
            }
            if after.1 != before.1 {
                findings.lines.push(format!("{what}: B's data changed"));
            }
            // The control: the same body (the same slot, name and dates, which the
            // refused try left free) with A's own id goes in, so the refusal was about
            // that id and nothing else. A try wrongly let in took them: fresh ones then.
            if after.0 != before.0 {
                *n += 1;
            }
            let body = body_for(*n, None);
            let answer = send(client, &op.method, &path, &body).await;
            if !accepted(&answer) {
                findings.lines.push(format!(
                    "{what}: the control with A's own id was refused ({}) for {body}: {}",
                    answer.status,
                    excerpt(&answer)
                ));
            }
            if w.app.snapshot(&w.beta).await != before.1 {
                findings
                    .lines
                    .push(format!("{what}: the control changed B's data"));
            }
        }
    }
}

/// Pairs each operation having id fields with its valid bodies; an operation with id
/// fields and no valid body fails, naming it.
fn operations<'a>(
    found: &'a BTreeMap<String, Vec<IdField>>,
    bases: &'a BTreeMap<&'static str, Vec<Base>>,
    a: &Ids,
) -> Vec<Operation<'a>> {
    let mut out = Vec::new();
    let missing: Vec<String> = found
        .iter()
        .filter(|(op, fields)| !fields.is_empty() && !bases.contains_key(op.as_str()))
        .map(|(op, fields)| {
            format!(
                "{op} has id fields {:?}",
                fields.iter().map(IdField::name).collect::<Vec<_>>()
            )
        })
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a valid body in body_matrix.rs (add one):\n{}",
        missing.join("\n")
    );
    for (op, fields) in found {
        let Some(variants) = bases.get(op.as_str()) else {
            continue;
        };
        let (method, template) = op.split_once(' ').unwrap();
        for base in variants {
            out.push(Operation {
                label: if base.variant.is_empty() {
                    op.clone()
                } else {
                    format!("{op} ({})", base.variant)
                },
                method: method.parse().unwrap(),
                path: fill_path(template, a).replace("{slug}", "alpha"),
                base,
                fields,
            });
        }
    }
    for op in bases.keys() {
        assert!(
            found.get(*op).is_some_and(|f| !f.is_empty()),
            "{op} has a valid body in body_matrix.rs but no id fields (or no longer exists)"
        );
    }
    out
}

/// Runs one side of the matrix (the API or the pages) and fails with every finding.
async fn run(backend: Backend, api: bool) {
    let w = world(backend).await;
    let (found, bases) = if api {
        let doc = w.admin.get("/api/openapi.json").await.json();
        (api_operations(&doc), api_bases())
    } else {
        (form_operations(), form_bases())
    };
    for (op, fields) in found.iter().filter(|(_, f)| !f.is_empty()) {
        let names: Vec<String> = fields.iter().map(IdField::name).collect();
        // Shown when the test fails: what the matrix found to try.
        eprintln!("body matrix: {op}: {}", names.join(", "));
    }
    let mut findings = Findings::default();
    let mut n = 0;
    // The portal books series of a service that allows them, which the store keeps
    // once `services.allow_series` lands (migration 0022, issue 15).
    let series_online = {
        let mut conn = w.app.db.conn().await.unwrap();
        store::transfer::export(&mut conn.exec(), &w.alpha)
            .await
            .unwrap()
            .services
            .iter()
            .any(|s| s.allow_series)
    };
    for op in operations(&found, &bases, &w.a) {
        if !series_online && op.base.who == Who::Patient && op.path.contains("/series") {
            eprintln!("body matrix: {} waits for services.allow_series", op.label);
            continue;
        }
        try_operation(&w, &op, &mut n, &mut findings).await;
    }
    let kinds: BTreeSet<Kind> = found.values().flatten().map(|f| f.kind).collect();
    assert!(
        findings.tried >= 10 && kinds.contains(&Kind::ScheduleType),
        "the matrix found too little to try ({} tries over {kinds:?})",
        findings.tried
    );
    assert!(
        findings.lines.is_empty(),
        "{} of {} tries went wrong:\n{}",
        findings.lines.len(),
        findings.tried,
        findings.lines.join("\n")
    );
    w.app.stop().await;
}

async fn every_body_id_of_the_api_is_resolved_in_the_callers_organisation(backend: Backend) {
    run(backend, true).await;
}

async fn every_form_id_of_the_pages_is_resolved_in_the_callers_organisation(backend: Backend) {
    run(backend, false).await;
}

/// The staff booking form's hidden clinic (the timezone its date and time are read in)
/// of another organisation is refused, naming the field, and nothing is booked; with
/// A's own clinic the same form books.
async fn the_booking_form_refuses_another_organisations_clinic(backend: Backend) {
    let w = world(backend).await;
    let a = &w.a.by_kind;
    let form = |clinic: &Value| {
        json!({"practitioner": a[&Kind::Practitioner], "service": a[&Kind::Service],
               "patient": a[&Kind::Patient], "clinic": clinic,
               "date": "2026-03-02", "time": "09:00", "action": "book"})
    };
    let path = "/o/alpha/admin/book/new";
    let before = (
        w.app.snapshot(&w.alpha).await,
        w.app.snapshot(&w.beta).await,
    );
    let refused = send(
        &w.admin,
        &Method::POST,
        path,
        &form(&w.b.by_kind[&Kind::Clinic]),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.contains("clinic: choose one of this organisation&#39;s clinics"),
        "{}",
        refused.body
    );
    let after = (
        w.app.snapshot(&w.alpha).await,
        w.app.snapshot(&w.beta).await,
    );
    assert_eq!(after, before, "a refused booking changed something");
    let booked = send(&w.admin, &Method::POST, path, &form(&a[&Kind::Clinic])).await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    assert_ne!(
        w.app.snapshot(&w.alpha).await,
        before.0,
        "nothing was booked"
    );
    w.app.stop().await;
}

/// The rule itself: ids, lists of ids and quantities are told apart, and a field it
/// cannot place fails loudly.
#[test]
fn the_rule_classifies_ids_and_refuses_what_it_cannot_place() {
    use Kind::*;
    let cases = [
        (
            "type_id",
            Leaf::Integer,
            Class::Id(PractitionerType, Shape::One),
        ),
        (
            "home_clinic_id",
            Leaf::Integer,
            Class::Id(Clinic, Shape::One),
        ),
        (
            "practitioner",
            Leaf::Integer,
            Class::Id(Practitioner, Shape::One),
        ),
        (
            "schedule_type_ids",
            Leaf::IntegerList,
            Class::Id(ScheduleType, Shape::List),
        ),
        (
            "practitioners",
            Leaf::IntegerList,
            Class::Id(Practitioner, Shape::List),
        ),
        (
            "schedule_type",
            Leaf::String,
            Class::Id(ScheduleTypeKey, Shape::One),
        ),
        ("duration_minutes", Leaf::Integer, Class::Value),
        ("portal_conflicts", Leaf::Integer, Class::Value),
        ("capacity", Leaf::Integer, Class::Value),
        (
            "resource_id",
            Leaf::Integer,
            Class::Id(Resource, Shape::One),
        ),
        ("name", Leaf::String, Class::Value),
        ("days", Leaf::StringList, Class::Value),
    ];
    for (name, leaf, class) in cases {
        assert_eq!(classify(name, leaf, "test"), class, "{name}");
    }
    for (name, leaf) in [
        ("room_id", Leaf::Integer),
        ("id", Leaf::Integer),
        ("seats", Leaf::Integer),
        ("rooms", Leaf::IntegerList),
    ] {
        let unplaced = std::panic::catch_unwind(|| classify(name, leaf, "test"));
        assert!(unplaced.is_err(), "{name} was classified");
    }
}

both!(
    the_booking_form_refuses_another_organisations_clinic,
    every_body_id_of_the_api_is_resolved_in_the_callers_organisation,
    every_form_id_of_the_pages_is_resolved_in_the_callers_organisation,
);
