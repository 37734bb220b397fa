use super::*;

use serde_json::{Value, json};

/// A document using every object of the format, so that each nesting level can be
/// spoiled in turn. It follows the spec's example, with a second availability record.
fn full() -> Value {
    json!({
        "version": 1,
        "settings": {"resolution_minutes": 5, "slot_step_minutes": 15,
                     "min_notice_minutes": 0, "max_days_ahead": 365},
        "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto",
                     "holidays": ["2026-12-25"]}],
        "schedule_types": [{"id": "christine-toronto", "code": "CT", "name": "Christine Toronto",
                            "clinic": "toronto", "default_duration_minutes": 30,
                            "allow_conflicts": false, "telehealth": false,
                            "background_color": "#cfe8ff", "font_color": "#0b2a4a"}],
        "practitioners": [{
            "id": "christine", "name": "Christine Roy", "type": "physiotherapist",
            "home_clinic": "toronto", "email": "christine@example.com", "active": true,
            "bookable_in_portal": true, "schedule_types": ["christine-toronto"],
            "availability": [
                {"start_date": "2026-01-01", "end_date": "2026-04-30", "clinic": "toronto",
                 "slot_step_minutes": 15,
                 "blocks": [{"days": ["mon", "wed"], "start": "09:00", "end": "17:00",
                             "schedule_type": "christine-toronto"}],
                 "portal_blocks": [{"days": ["mon"], "start": "09:00", "end": "12:00"}]},
                {"start_date": "2026-05-01",
                 "blocks": [{"days": ["tue"], "start": "09:00", "end": "24:00",
                             "schedule_type": "christine-toronto"}]}
            ],
            "time_off": [{"start": "2026-03-03T12:00:00-05:00", "end": "2026-03-03T17:00:00-05:00"}]
        }],
        "services": [{"id": "physio-initial", "code": "PI", "name": "Initial assessment",
                      "description": "First visit", "duration_minutes": 45,
                      "book_from_portal": true, "portal_conflicts": 1,
                      "practitioner_type": "physiotherapist",
                      "schedule_types": ["christine-toronto"]}],
        "patients": [{"id": "pat-1", "first_name": "Ada", "last_name": "Lane",
                      "email": "ada@example.com", "available_practitioners": ["christine"]}],
        "appointments": [{"id": "a-1", "practitioner": "christine", "patient": "pat-1",
                          "service": "physio-initial", "schedule_type": "christine-toronto",
                          "start": "2026-03-02T09:00:00-05:00",
                          "end": "2026-03-02T09:45:00-05:00", "status": "booked"}],
        "query": {"service": "physio-initial", "from": "2026-03-02", "to": "2026-03-08",
                  "practitioners": null, "now": "2026-03-01T00:00:00Z", "telehealth": false}
    })
}

/// Every object of `full()`: its JSON pointer and the path errors inside it carry.
const OBJECTS: &[(&str, &str)] = &[
    ("", ""),
    ("/settings", "settings"),
    ("/clinics/0", "clinics[0]"),
    ("/schedule_types/0", "schedule_types[0]"),
    ("/practitioners/0", "practitioners[0]"),
    (
        "/practitioners/0/availability/1",
        "practitioners[0].availability[1]",
    ),
    (
        "/practitioners/0/availability/0/blocks/0",
        "practitioners[0].availability[0].blocks[0]",
    ),
    (
        "/practitioners/0/availability/0/portal_blocks/0",
        "practitioners[0].availability[0].portal_blocks[0]",
    ),
    (
        "/practitioners/0/time_off/0",
        "practitioners[0].time_off[0]",
    ),
    ("/services/0", "services[0]"),
    ("/patients/0", "patients[0]"),
    ("/appointments/0", "appointments[0]"),
    ("/query", "query"),
];

fn parse(doc: &Value) -> Result<Scenario, Error> {
    Scenario::from_json(&serde_json::to_vec(doc).unwrap())
}

/// The path and message of the `Error::Json` a document must be refused with.
#[track_caller]
fn refused(bytes: &[u8]) -> (String, String) {
    match Scenario::from_json(bytes) {
        Err(Error::Json { path, message }) => (path, message),
        other => panic!(
            "expected a JSON error for {}, got {other:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(400)])
        ),
    }
}

#[track_caller]
fn refused_doc(doc: &Value) -> (String, String) {
    refused(&serde_json::to_vec(doc).unwrap())
}

/// `full()` with `field` of the object at `pointer` set to `value`.
fn with(pointer: &str, field: &str, value: Value) -> Value {
    let mut doc = full();
    doc.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer:?}"))
        .insert(field.to_owned(), value);
    doc
}

/// `full()` without `field` of the object at `pointer`.
fn without(pointer: &str, field: &str) -> Value {
    let mut doc = full();
    doc.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer:?}"))
        .remove(field)
        .unwrap_or_else(|| panic!("no {field:?} at {pointer:?}"));
    doc
}

/// `full()` as text with `raw` (`"key": value`, any text) added to the object at
/// `pointer`, for what a `Value` cannot hold: duplicate keys, broken escapes.
fn with_raw(pointer: &str, raw: &str) -> Vec<u8> {
    with_raw_in(full(), pointer, raw)
}

/// Like `with_raw`, into `doc`.
fn with_raw_in(mut doc: Value, pointer: &str, raw: &str) -> Vec<u8> {
    const MARKER: &str = "\"__raw_marker__\":0";
    doc.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer:?}"))
        .insert("__raw_marker__".to_owned(), json!(0));
    let text = serde_json::to_string(&doc).unwrap();
    assert_eq!(text.matches(MARKER).count(), 1);
    text.replace(MARKER, raw).into_bytes()
}

/// The path of `field` inside the object whose own path is `parent`.
fn path_of(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_owned()
    } else {
        format!("{parent}.{field}")
    }
}

#[test]
fn the_full_document_parses() {
    let s = parse(&full()).unwrap();
    assert_eq!(s.version, 1);
    assert_eq!(s.clinics[0].timezone.name(), "America/Toronto");
    assert_eq!(s.practitioners[0].availability.len(), 2);
    assert_eq!(s.practitioners[0].availability[1].end_date, None);
    assert_eq!(
        s.practitioners[0].availability[0].slot_step_minutes,
        Some(15)
    );
}

#[test]
fn defaults_apply_when_fields_are_absent() {
    let s = Scenario::from_json(
        br#"{"version": 1,
             "clinics": [{"id": "c", "timezone": "UTC"}],
             "schedule_types": [{"id": "t"}],
             "practitioners": [{"id": "p", "type": "rmt", "home_clinic": "c",
               "availability": [{"start_date": "2026-01-01", "blocks": []}]}],
             "services": [{"id": "s", "duration_minutes": 30}],
             "patients": [{"id": "x", "first_name": "A", "last_name": "B", "email": "e"}],
             "appointments": [{"practitioner": "p", "start": "2026-01-01T00:00:00Z",
                               "end": "2026-01-01T01:00:00Z"}]}"#,
    )
    .unwrap();
    assert_eq!(s.settings, Settings::default());
    assert_eq!(
        (
            s.settings.resolution_minutes,
            s.settings.slot_step_minutes,
            s.settings.min_notice_minutes,
            s.settings.max_days_ahead
        ),
        (5, 15, 0, 365)
    );
    assert_eq!(s.clinics[0].name, None);
    assert!(s.clinics[0].holidays.is_empty());
    let t = &s.schedule_types[0];
    assert_eq!(
        (t.code.as_ref(), t.name.as_ref(), t.clinic.as_ref()),
        (None, None, None)
    );
    assert_eq!(t.default_duration_minutes, 30);
    assert!(!t.allow_conflicts && !t.telehealth);
    assert_eq!(t.background_color.to_string(), "#ffffff");
    assert_eq!(t.font_color.to_string(), "#000000");
    let p = &s.practitioners[0];
    assert!(p.active && p.bookable_in_portal);
    assert!(p.schedule_types.is_empty() && p.time_off.is_empty());
    let r = &p.availability[0];
    assert_eq!(
        (r.end_date, r.clinic.as_ref(), r.slot_step_minutes),
        (None, None, None)
    );
    assert_eq!(r.portal_blocks, None);
    let v = &s.services[0];
    assert!(!v.book_from_portal);
    assert_eq!(v.portal_conflicts, 1);
    assert_eq!(v.practitioner_type, None);
    assert_eq!(s.patients[0].available_practitioners, None);
    let a = &s.appointments[0];
    assert_eq!(
        (a.id.as_ref(), a.patient.as_ref(), a.service.as_ref()),
        (None, None, None)
    );
    assert_eq!(a.status, Status::Booked);
    assert_eq!(s.query, None);
}

#[test]
fn unknown_fields_are_refused_at_every_level() {
    for &(pointer, path) in OBJECTS {
        let (at, message) = refused_doc(&with(pointer, "bogus", json!(1)));
        assert!(
            message.starts_with("unknown field `bogus`"),
            "{pointer}: {message}"
        );
        // The path names the unknown field itself, inside its object.
        assert_eq!(at, path_of(path, "bogus"), "{pointer}");
    }
}

#[test]
fn a_key_given_twice_is_refused_at_every_level() {
    for &(pointer, key, value) in &[
        ("", "version", "1"),
        ("/settings", "max_days_ahead", "365"),
        ("/clinics/0", "id", r#""toronto""#),
        ("/schedule_types/0", "clinic", r#""toronto""#),
        ("/practitioners/0", "active", "true"),
        (
            "/practitioners/0/availability/1",
            "start_date",
            r#""2026-05-01""#,
        ),
        (
            "/practitioners/0/availability/0/blocks/0",
            "start",
            r#""09:00""#,
        ),
        (
            "/practitioners/0/availability/0/portal_blocks/0",
            "days",
            r#"["mon"]"#,
        ),
        (
            "/practitioners/0/time_off/0",
            "end",
            r#""2026-03-03T17:00:00-05:00""#,
        ),
        ("/services/0", "duration_minutes", "45"),
        ("/patients/0", "email", r#""ada@example.com""#),
        ("/appointments/0", "status", r#""booked""#),
        ("/query", "now", r#""2026-03-01T00:00:00Z""#),
    ] {
        // The same value twice: only the repetition is wrong.
        let (_, message) = refused(&with_raw(pointer, &format!("\"{key}\":{value}")));
        assert!(
            message.starts_with(&format!("duplicate field `{key}`")),
            "{pointer}: {message}"
        );
    }
}

#[test]
fn missing_required_fields_are_named() {
    for &(pointer, field, path) in &[
        ("", "version", "."),
        ("/clinics/0", "id", "clinics[0]"),
        ("/clinics/0", "timezone", "clinics[0]"),
        ("/schedule_types/0", "id", "schedule_types[0]"),
        ("/practitioners/0", "id", "practitioners[0]"),
        ("/practitioners/0", "type", "practitioners[0]"),
        ("/practitioners/0", "home_clinic", "practitioners[0]"),
        (
            "/practitioners/0/availability/1",
            "start_date",
            "practitioners[0].availability[1]",
        ),
        (
            "/practitioners/0/availability/1",
            "blocks",
            "practitioners[0].availability[1]",
        ),
        (
            "/practitioners/0/availability/0/blocks/0",
            "schedule_type",
            "practitioners[0].availability[0].blocks[0]",
        ),
        (
            "/practitioners/0/availability/0/blocks/0",
            "days",
            "practitioners[0].availability[0].blocks[0]",
        ),
        (
            "/practitioners/0/availability/0/portal_blocks/0",
            "end",
            "practitioners[0].availability[0].portal_blocks[0]",
        ),
        (
            "/practitioners/0/time_off/0",
            "start",
            "practitioners[0].time_off[0]",
        ),
        ("/services/0", "id", "services[0]"),
        ("/services/0", "duration_minutes", "services[0]"),
        ("/patients/0", "first_name", "patients[0]"),
        ("/patients/0", "last_name", "patients[0]"),
        ("/patients/0", "email", "patients[0]"),
        ("/appointments/0", "practitioner", "appointments[0]"),
        ("/appointments/0", "start", "appointments[0]"),
        ("/appointments/0", "end", "appointments[0]"),
        ("/query", "service", "query"),
        ("/query", "from", "query"),
        ("/query", "to", "query"),
        ("/query", "now", "query"),
    ] {
        let (at, message) = refused_doc(&without(pointer, field));
        assert_eq!(at, path, "{pointer} without {field}");
        assert!(
            message.starts_with(&format!("missing field `{field}`")),
            "{pointer} without {field}: {message}"
        );
    }
}

/// Optional fields whose default is null or "the id": `null` means the default.
const NULL_MEANS_DEFAULT: &[(&str, &str)] = &[
    ("", "query"),
    ("/clinics/0", "name"),
    ("/schedule_types/0", "code"),
    ("/schedule_types/0", "name"),
    ("/schedule_types/0", "clinic"),
    ("/practitioners/0", "name"),
    ("/practitioners/0", "email"),
    ("/practitioners/0/availability/0", "end_date"),
    ("/practitioners/0/availability/0", "clinic"),
    ("/practitioners/0/availability/0", "portal_blocks"),
    ("/services/0", "code"),
    ("/services/0", "name"),
    ("/services/0", "description"),
    ("/services/0", "practitioner_type"),
    ("/patients/0", "available_practitioners"),
    ("/appointments/0", "id"),
    ("/appointments/0", "patient"),
    ("/appointments/0", "service"),
    ("/appointments/0", "schedule_type"),
    ("/query", "practitioners"),
];

/// Fields whose default is a value, and required fields: `null` is not of their type.
const NULL_REFUSED: &[(&str, &str)] = &[
    ("", "version"),
    ("", "settings"),
    ("", "clinics"),
    ("", "schedule_types"),
    ("", "practitioners"),
    ("", "services"),
    ("", "patients"),
    ("", "appointments"),
    ("/settings", "resolution_minutes"),
    ("/settings", "slot_step_minutes"),
    ("/settings", "min_notice_minutes"),
    ("/settings", "max_days_ahead"),
    ("/clinics/0", "id"),
    ("/clinics/0", "timezone"),
    ("/clinics/0", "holidays"),
    ("/schedule_types/0", "id"),
    ("/schedule_types/0", "default_duration_minutes"),
    ("/schedule_types/0", "allow_conflicts"),
    ("/schedule_types/0", "telehealth"),
    ("/schedule_types/0", "background_color"),
    ("/schedule_types/0", "font_color"),
    ("/practitioners/0", "type"),
    ("/practitioners/0", "home_clinic"),
    ("/practitioners/0", "active"),
    ("/practitioners/0", "bookable_in_portal"),
    ("/practitioners/0", "schedule_types"),
    ("/practitioners/0", "availability"),
    ("/practitioners/0", "time_off"),
    ("/practitioners/0/availability/0", "start_date"),
    ("/practitioners/0/availability/0", "slot_step_minutes"),
    ("/practitioners/0/availability/0", "blocks"),
    ("/practitioners/0/availability/0/blocks/0", "days"),
    ("/practitioners/0/availability/0/blocks/0", "start"),
    ("/practitioners/0/availability/0/portal_blocks/0", "end"),
    ("/practitioners/0/time_off/0", "end"),
    ("/services/0", "duration_minutes"),
    ("/services/0", "book_from_portal"),
    ("/services/0", "portal_conflicts"),
    ("/services/0", "schedule_types"),
    ("/patients/0", "email"),
    ("/appointments/0", "practitioner"),
    ("/appointments/0", "status"),
    ("/query", "telehealth"),
    ("/query", "now"),
];

#[test]
fn null_is_accepted_exactly_where_the_default_is_null_or_the_id() {
    for &(pointer, field) in NULL_MEANS_DEFAULT {
        let nulled = parse(&with(pointer, field, Value::Null))
            .unwrap_or_else(|e| panic!("{pointer}/{field}: null refused: {e}"));
        let omitted = parse(&without(pointer, field)).unwrap();
        assert_eq!(
            nulled, omitted,
            "{pointer}/{field}: null is not the default"
        );
    }
    for &(pointer, field) in NULL_REFUSED {
        let (at, message) = refused_doc(&with(pointer, field, Value::Null));
        let parent = OBJECTS.iter().find(|o| o.0 == pointer).map_or_else(
            || {
                // The first record of `full()` has no entry in OBJECTS.
                pointer
                    .trim_start_matches('/')
                    .replace("/0", "[0]")
                    .replace('/', ".")
            },
            |o| o.1.to_owned(),
        );
        assert_eq!(at, path_of(&parent, field), "{pointer}/{field}: {message}");
    }
}

#[test]
fn null_on_a_record_slot_step_is_refused_but_absence_is_fine() {
    let (at, _) = refused_doc(&with(
        "/practitioners/0/availability/0",
        "slot_step_minutes",
        Value::Null,
    ));
    assert_eq!(at, "practitioners[0].availability[0].slot_step_minutes");
    let s = parse(&without(
        "/practitioners/0/availability/0",
        "slot_step_minutes",
    ))
    .unwrap();
    assert_eq!(s.practitioners[0].availability[0].slot_step_minutes, None);
}

#[test]
fn integers_must_be_json_integers_in_range() {
    for (pointer, field, value) in [
        ("", "version", json!(1.0)),
        ("", "version", json!("1")),
        ("", "version", json!(-1)),
        ("/settings", "resolution_minutes", json!(5.0)),
        ("/settings", "max_days_ahead", json!(1e2)),
        ("/settings", "min_notice_minutes", json!(-1)),
        ("/settings", "slot_step_minutes", json!(15.5)),
        (
            "/settings",
            "slot_step_minutes",
            json!(u64::from(u32::MAX) + 1),
        ),
        ("/schedule_types/0", "default_duration_minutes", json!(30.0)),
        ("/services/0", "duration_minutes", json!(-45)),
        ("/services/0", "portal_conflicts", json!(true)),
        (
            "/practitioners/0/availability/0",
            "slot_step_minutes",
            json!(1.5e1),
        ),
    ] {
        let (at, _) = refused_doc(&with(pointer, field, value.clone()));
        let parent = OBJECTS
            .iter()
            .find(|o| o.0 == pointer)
            .map_or("practitioners[0].availability[0]", |o| o.1);
        assert_eq!(at, path_of(parent, field), "{pointer}/{field} = {value}");
    }
    // Exponent notation is a float even when its value is whole.
    let (_, message) = refused(br#"{"version": 1e0}"#);
    assert!(message.contains("floating point"), "{message}");
}

#[test]
fn booleans_must_be_json_booleans() {
    for value in [json!(0), json!("true"), json!(1)] {
        let (at, _) = refused_doc(&with("/schedule_types/0", "allow_conflicts", value));
        assert_eq!(at, "schedule_types[0].allow_conflicts");
    }
}

#[test]
fn unpaired_surrogate_escapes_are_refused() {
    // The clinic has no name yet, so the only thing wrong is the escape.
    let nameless = || without("/clinics/0", "name");
    for escape in [
        r#""\ud800""#,
        r#""\udc00""#,
        r#""a\ud800b""#,
        r#""\ud800\u0041""#,
    ] {
        let doc = with_raw_in(nameless(), "/clinics/0", &format!("\"name\":{escape}"));
        let (at, message) = refused(&doc);
        assert!(at.starts_with("clinics[0]"), "{escape}: {at}: {message}");
        assert!(
            message.contains("surrogate") || message.contains("hex escape"),
            "{escape}: {message}"
        );
    }
    // A proper pair is one character.
    let doc = with_raw_in(nameless(), "/clinics/0", r#""name":"\ud83d\ude00""#);
    let s = Scenario::from_json(&doc).unwrap();
    assert_eq!(s.clinics[0].name.as_ref().unwrap().as_str(), "\u{1f600}");
}

#[test]
fn empty_strings_are_refused_for_ids_names_and_labels() {
    for &(pointer, field) in &[
        ("/clinics/0", "id"),
        ("/clinics/0", "name"),
        ("/schedule_types/0", "id"),
        ("/schedule_types/0", "code"),
        ("/schedule_types/0", "name"),
        ("/schedule_types/0", "clinic"),
        ("/practitioners/0", "id"),
        ("/practitioners/0", "name"),
        ("/practitioners/0", "type"),
        ("/practitioners/0", "home_clinic"),
        ("/practitioners/0", "email"),
        ("/services/0", "id"),
        ("/services/0", "code"),
        ("/services/0", "description"),
        ("/services/0", "practitioner_type"),
        ("/patients/0", "id"),
        ("/patients/0", "first_name"),
        ("/patients/0", "email"),
        ("/appointments/0", "id"),
        ("/appointments/0", "practitioner"),
        ("/query", "service"),
    ] {
        let (at, message) = refused_doc(&with(pointer, field, json!("")));
        let parent = OBJECTS.iter().find(|o| o.0 == pointer).unwrap().1;
        assert_eq!(at, path_of(parent, field), "{pointer}/{field}");
        assert!(
            message.contains("non-empty"),
            "{pointer}/{field}: {message}"
        );
    }
    // Inside lists too.
    let (at, _) = refused_doc(&with("/practitioners/0", "schedule_types", json!([""])));
    assert_eq!(at, "practitioners[0].schedule_types[0]");
    let (at, _) = refused_doc(&with("/query", "practitioners", json!(["christine", ""])));
    assert_eq!(at, "query.practitioners[1]");
}

#[test]
fn values_of_the_wrong_form_are_refused_with_their_path() {
    let record = "/practitioners/0/availability/0";
    let block = "/practitioners/0/availability/0/blocks/0";
    for (pointer, field, value, path) in [
        (
            "/schedule_types/0",
            "background_color",
            json!("#fff"),
            "schedule_types[0].background_color",
        ),
        (
            "/schedule_types/0",
            "background_color",
            json!("cfe8ff"),
            "schedule_types[0].background_color",
        ),
        (
            "/schedule_types/0",
            "font_color",
            json!("#gggggg"),
            "schedule_types[0].font_color",
        ),
        (
            "/schedule_types/0",
            "font_color",
            json!("#0b2a4a00"),
            "schedule_types[0].font_color",
        ),
        (
            "/schedule_types/0",
            "font_color",
            json!(""),
            "schedule_types[0].font_color",
        ),
        (
            "/clinics/0",
            "timezone",
            json!("Mars/Olympus"),
            "clinics[0].timezone",
        ),
        (
            "/clinics/0",
            "timezone",
            json!("america/toronto"),
            "clinics[0].timezone",
        ),
        (
            "/clinics/0",
            "holidays",
            json!(["2026-12-25", "2026-02-30"]),
            "clinics[0].holidays[1]",
        ),
        (
            "/clinics/0",
            "holidays",
            json!(["1999-12-25"]),
            "clinics[0].holidays[0]",
        ),
        (
            block,
            "days",
            json!(["mon", "monday"]),
            "practitioners[0].availability[0].blocks[0].days[1]",
        ),
        (
            block,
            "days",
            json!(["Mon"]),
            "practitioners[0].availability[0].blocks[0].days[0]",
        ),
        (
            block,
            "days",
            json!("mon"),
            "practitioners[0].availability[0].blocks[0].days",
        ),
        (
            block,
            "start",
            json!("9:00"),
            "practitioners[0].availability[0].blocks[0].start",
        ),
        (
            block,
            "end",
            json!("24:01"),
            "practitioners[0].availability[0].blocks[0].end",
        ),
        (
            record,
            "start_date",
            json!("2026-1-01"),
            "practitioners[0].availability[0].start_date",
        ),
        (
            "/appointments/0",
            "status",
            json!("canceled"),
            "appointments[0].status",
        ),
        (
            "/appointments/0",
            "status",
            json!("Booked"),
            "appointments[0].status",
        ),
        (
            "/appointments/0",
            "start",
            json!("2026-03-02T09:00:00"),
            "appointments[0].start",
        ),
        (
            "/appointments/0",
            "end",
            json!("2026-03-02T09:45:00+24:00"),
            "appointments[0].end",
        ),
        (
            "/query",
            "now",
            json!("2000-01-01T02:00:00+05:00"),
            "query.now",
        ),
        ("/query", "from", json!(20260302), "query.from"),
    ] {
        let (at, message) = refused_doc(&with(pointer, field, value.clone()));
        assert_eq!(at, path, "{pointer}/{field} = {value}: {message}");
    }
}

#[test]
fn error_paths_name_the_offending_item() {
    let err = parse(&with(
        "/practitioners/0/availability/1",
        "end_date",
        json!("2026-13-01"),
    ))
    .unwrap_err();
    assert!(
        err.to_string().starts_with(
            r#"practitioners[0].availability[1].end_date: invalid date "2026-13-01": no such day"#
        ),
        "{err}"
    );
    match err {
        Error::Json { path, message } => {
            assert_eq!(path, "practitioners[0].availability[1].end_date");
            assert!(
                message.starts_with(r#"invalid date "2026-13-01": no such day"#),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_status_is_accepted() {
    for (text, status) in [
        ("booked", Status::Booked),
        ("pending", Status::Pending),
        ("cancelled", Status::Cancelled),
        ("arrived", Status::Arrived),
        ("completed", Status::Completed),
        ("no_show", Status::NoShow),
    ] {
        let s = parse(&with("/appointments/0", "status", json!(text))).unwrap();
        assert_eq!(s.appointments[0].status, status);
        assert_eq!(status.as_str(), text);
        assert_eq!(status.occupies_time(), status != Status::Cancelled);
        assert_eq!(serde_json::to_value(status).unwrap(), json!(text));
    }
}

#[test]
fn the_document_must_be_one_object() {
    for text in [
        "",
        "[]",
        "1",
        "null",
        "{",
        r#"{"version": 1} x"#,
        r#"{"version": 1}{}"#,
        r#"{"version": 1},"#,
        r#"{"version": 1} {"version": 1}"#,
    ] {
        let (_, message) = refused(text.as_bytes());
        assert!(!message.is_empty(), "{text:?}");
    }
    // Whitespace around the document is fine.
    assert!(Scenario::from_json(b" \n{\"version\": 1}\n\t ").is_ok());
    // Trailing garbage is reported at the document level.
    let (at, message) = refused(br#"{"version": 1} x"#);
    assert_eq!(at, ".");
    assert!(message.contains("trailing characters"), "{message}");
}

#[test]
fn a_document_over_64_mib_is_refused() {
    assert_eq!(MAX_DOCUMENT_BYTES, 64 * 1024 * 1024);
    let mut big = br#"{"version": 1}"#.to_vec();
    big.resize(MAX_DOCUMENT_BYTES + 1, b' ');
    assert_eq!(
        Scenario::from_json(&big),
        Err(Error::TooLarge {
            bytes: MAX_DOCUMENT_BYTES + 1,
            limit: MAX_DOCUMENT_BYTES
        })
    );
    // Exactly 64 MiB is within the limit.
    big.truncate(MAX_DOCUMENT_BYTES);
    assert_eq!(Scenario::from_json(&big).unwrap().version, 1);
}

#[test]
fn serialize_then_parse_is_the_identity() {
    let s = parse(&full()).unwrap();
    let text = s.to_json_pretty();
    assert_eq!(Scenario::from_json(text.as_bytes()).unwrap(), s);
    // Written values keep their scenario spellings.
    let written: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        written["practitioners"][0]["type"],
        json!("physiotherapist")
    );
    assert_eq!(
        written["practitioners"][0]["availability"][1]["blocks"][0]["end"],
        json!("24:00")
    );
    assert_eq!(
        written["schedule_types"][0]["background_color"],
        json!("#cfe8ff")
    );
    assert_eq!(written["appointments"][0]["status"], json!("booked"));
    // A record without its own slot step does not gain a null one (it would be refused).
    assert!(
        written["practitioners"][0]["availability"][1]
            .get("slot_step_minutes")
            .is_none()
    );
}

#[test]
fn export_omits_an_absent_query() {
    let mut s = parse(&full()).unwrap();
    s.query = None;
    let written: Value = serde_json::from_str(&s.to_json_pretty()).unwrap();
    assert!(written.get("query").is_none());
    assert_eq!(
        Scenario::from_json(s.to_json_pretty().as_bytes()).unwrap(),
        s
    );
    assert!(
        Scenario::default()
            .to_json_pretty()
            .contains("\"version\": 1")
    );
    assert_eq!(
        Scenario::from_json(Scenario::default().to_json_pretty().as_bytes()).unwrap(),
        Scenario::default()
    );
}

#[test]
fn text_is_never_empty() {
    assert_eq!(Text::new("physio").unwrap().as_str(), "physio");
    assert_eq!(Text::new("x").unwrap().to_string(), "x");
    assert_eq!(format!("{:?}", Text::new("x").unwrap()), r#""x""#);
    assert!(Text::new("").is_err());
    assert!(serde_json::from_str::<Text>(r#""""#).is_err());
    // Whitespace is not empty; the format says non-empty, not non-blank.
    assert!(Text::new(" ").is_ok());
}

#[test]
fn colours_are_hash_and_six_hex_digits() {
    let c: Color = "#CFE8FF".parse().unwrap();
    assert_eq!(c, Color([0xcf, 0xe8, 0xff]));
    assert_eq!(c.to_string(), "#cfe8ff");
    assert_eq!(format!("{c:?}"), "#cfe8ff");
    for bad in [
        "",
        "#",
        "#cfe8f",
        "#cfe8ff0",
        "cfe8ff",
        "#cfe8fg",
        "#+fe8ff",
        "#\u{e9}e8ff",
    ] {
        let err = bad.parse::<Color>().unwrap_err().to_string();
        assert!(err.contains("expected #rrggbb"), "{bad:?}: {err}");
    }
}

#[test]
fn colour_contrast_follows_wcag() {
    let white: Color = "#ffffff".parse().unwrap();
    let black: Color = "#000000".parse().unwrap();
    assert!((white.relative_luminance() - 1.0).abs() < 1e-12);
    assert!(black.relative_luminance().abs() < 1e-12);
    assert!((black.contrast_ratio(white) - 21.0).abs() < 1e-9);
    assert!((white.contrast_ratio(white) - 1.0).abs() < 1e-12);
    // The example's pale blue on navy is readable (at least 4.5).
    let background: Color = "#cfe8ff".parse().unwrap();
    let font: Color = "#0b2a4a".parse().unwrap();
    assert!(background.contrast_ratio(font) > 4.5);
    assert_eq!(
        background.contrast_ratio(font),
        font.contrast_ratio(background)
    );
}

#[test]
fn colours_mix_channel_by_channel() {
    let background: Color = "#cfe8ff".parse().unwrap();
    // The tints and shades the schedule-type stylesheet draws with.
    assert_eq!(
        background.mix(Color::WHITE, 0.35),
        Color([0xe0, 0xf0, 0xff])
    );
    assert_eq!(background.mix(Color::WHITE, 0.5), Color([0xe7, 0xf4, 0xff]));
    assert_eq!(
        background.mix(Color::BLACK, 0.35),
        Color([0x87, 0x97, 0xa6])
    );
    // The ends are the colours themselves, and `t` outside 0 ..= 1 is held to them.
    for (a, b) in [(background, Color::BLACK), (Color::WHITE, background)] {
        assert_eq!(a.mix(b, 0.0), a);
        assert_eq!(a.mix(b, 1.0), b);
        assert_eq!(a.mix(b, -1.0), a);
        assert_eq!(a.mix(b, 3.0), b);
    }
    // Halfway rounds half away from zero: 0x00 and 0x01 meet at 0x01.
    assert_eq!(
        Color([0, 0, 0]).mix(Color([1, 1, 1]), 0.5),
        Color([1, 1, 1])
    );
    // Every channel moves steadily from the one colour to the other.
    let (from, to) = (Color([0, 128, 255]), Color([255, 128, 0]));
    let mut last = from;
    for step in 1..=20 {
        let next = from.mix(to, f64::from(step) / 20.0);
        let ([r, g, b], [last_r, _, last_b]) = (next.0, last.0);
        assert!(
            r >= last_r && g == 128 && b <= last_b,
            "step {step}: {last} to {next}"
        );
        last = next;
    }
    assert_eq!(last, to);
}

#[test]
fn readable_ink_keeps_the_colour_or_takes_black_or_white() {
    let navy: Color = "#0b2a4a".parse().unwrap();
    let pale: Color = "#cfe8ff".parse().unwrap();
    assert_eq!(navy.readable_on(pale), navy);
    assert_eq!(navy.readable_on(Color::WHITE), navy);
    assert_eq!(navy.readable_on(navy), Color::WHITE);
    assert_eq!(pale.readable_on(pale), Color::BLACK);
    let grey: Color = "#777777".parse().unwrap();
    assert!(navy.contrast_ratio(grey) < Color::MIN_TEXT_CONTRAST);
    assert_eq!(navy.readable_on(grey), Color::BLACK);
    // Whatever is chosen reads at least as well as the other of black and white.
    for background in [navy, pale, grey, Color::WHITE, Color::BLACK] {
        let ink = Color([255, 0, 0]).readable_on(background);
        let best = Color::BLACK
            .contrast_ratio(background)
            .max(Color::WHITE.contrast_ratio(background));
        assert!(
            ink.contrast_ratio(background) >= Color::MIN_TEXT_CONTRAST
                || ink.contrast_ratio(background) == best,
            "{background}"
        );
    }
}
