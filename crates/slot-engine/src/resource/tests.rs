use serde_json::{Value, json};

use crate::{Buffers, Instant, Model, Purpose, ResourceChoice, Rule, StaffBooking};

/// `rooms.json`, the worked scenario of *Rooms and equipment*.
fn rooms() -> Value {
    serde_json::from_slice(include_bytes!("../../tests/data/scenarios/rooms.json")).unwrap()
}

fn model_of(v: &Value) -> Result<Model, crate::Error> {
    Model::from_json(v.to_string().as_bytes())
}

fn with(mut v: Value, pointer: &str, value: Value) -> Value {
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = value;
    v
}

fn invalid(v: &Value) -> String {
    model_of(v).unwrap_err().to_string()
}

fn at(s: &str) -> Instant {
    s.parse().unwrap()
}

#[test]
fn v3_fields_need_version_three() {
    let v2 = with(rooms(), "/version", json!(2));
    assert_eq!(
        invalid(&v2),
        r#"appointment "a1": resources needs "version": 3"#
    );
    let mut bare = with(rooms(), "/version", json!(2));
    bare["appointments"] = json!([]);
    assert_eq!(invalid(&bare), r#"resources: resources needs "version": 3"#);
    let mut only_service = rooms();
    only_service["version"] = json!(2);
    only_service["appointments"] = json!([]);
    only_service["resources"] = json!([]);
    only_service["services"][0]["requires"] = json!([]);
    only_service["services"][1]["requires"] = json!([["gym"]]);
    assert_eq!(
        invalid(&only_service),
        r#"service "gym-session": requires needs "version": 3"#
    );
}

#[test]
fn references_and_ranges_are_checked() {
    let cases = [
        (
            with(rooms(), "/services/1/requires", json!([["pool"]])),
            r#"service "gym-session": unknown resource "pool""#,
        ),
        (
            with(rooms(), "/services/1/requires", json!([["gym"], []])),
            r#"service "gym-session": requirement 2 names no resource"#,
        ),
        (
            with(
                rooms(),
                "/services/1/requires",
                json!([["gym"], ["room-1", "gym"]]),
            ),
            r#"service "gym-session": resource "gym" is in two requirements"#,
        ),
        (
            with(rooms(), "/resources/3/capacity", json!(0)),
            r#"resource "gym": capacity 0 is out of range 1..=10000"#,
        ),
        (
            with(rooms(), "/resources/3/clinic", json!("paris")),
            r#"resource "gym": unknown clinic "paris""#,
        ),
        (
            with(rooms(), "/appointments/0/resources", json!(["pool"])),
            r#"appointment "a1": unknown resource "pool""#,
        ),
        (
            with(
                rooms(),
                "/resources/4/time_off/0/end",
                json!("2026-03-03T10:00:00Z"),
            ),
            r#"resource "shockwave": time off 2026-03-03T10:00:00Z..2026-03-03T10:00:00Z: end is not after start"#,
        ),
        (
            with(
                rooms(),
                "/resources/4/availability",
                json!([{"start_date": "2026-03-01", "blocks": []},
                       {"start_date": "2026-04-01", "blocks": []}]),
            ),
            r#"resource "shockwave": availability records 2026-03-01.. and 2026-04-01.. overlap"#,
        ),
        (
            with(
                rooms(),
                "/resources/4/availability/0/blocks/0/end",
                json!("09:03"),
            ),
            r#"resource "shockwave": availability record 2026-03-01..: block 1: 09:03 is not on the 5-minute grid"#,
        ),
    ];
    for (v, message) in cases {
        assert_eq!(invalid(&v), message);
    }
    let mut duplicate = rooms();
    duplicate["resources"][1]["id"] = json!("gym");
    assert_eq!(invalid(&duplicate), r#"resource "gym": duplicate id"#);
}

#[test]
fn the_first_free_resource_by_id_is_taken_whatever_the_listed_order() {
    let model = model_of(&rooms()).unwrap();
    let shockwave = model.service(model.service_ix("shockwave-therapy").unwrap());
    // Listed as room-2, leeds-1, room-1; kept in id order.
    let ids: Vec<&str> = shockwave.requires[0]
        .iter()
        .map(|&r| model.resource(r).id.as_str())
        .collect();
    assert_eq!(ids, ["leeds-1", "room-1", "room-2"]);
    let q = &model.query().unwrap().portal;
    let ana = model.practitioner_ix("ana").unwrap();
    // Leeds room 1 sorts first but is at another clinic; room-1 is free on Thursday.
    let slot = model.check(q, ana, at("2026-03-05T09:00:00Z")).unwrap();
    let held: Vec<&str> = model
        .slot_resources(&slot)
        .into_iter()
        .map(|r| model.resource(r).id.as_str())
        .collect();
    assert_eq!(held, ["room-1", "shockwave"]);
    // On Wednesday Cy's appointment holds Room 1 until 10:00, so Ana takes Room 2.
    let slot = model.check(q, ana, at("2026-03-04T09:15:00Z")).unwrap();
    let held: Vec<&str> = model
        .slot_resources(&slot)
        .into_iter()
        .map(|r| model.resource(r).id.as_str())
        .collect();
    assert_eq!(held, ["room-2", "shockwave"]);
}

#[test]
fn rule_13_says_which_resource_refuses_and_why() {
    let model = model_of(&rooms()).unwrap();
    let q = &model.query().unwrap().portal;
    let p = |id: &str| model.practitioner_ix(id).unwrap();
    let refusal = |who: &str, when: &str| model.check(q, p(who), at(when)).unwrap_err();
    let both = refusal("cy", "2026-03-02T09:00:00Z");
    assert_eq!(both.rule, Rule::Resources);
    assert_eq!(
        both.reason,
        "both Room 1 and Room 2 are taken at 09:00 on 2026-03-02"
    );
    assert_eq!(both.to_string(), format!("{} (rule 13)", both.reason));
    assert_eq!(
        refusal("cy", "2026-03-06T09:00:00Z").reason,
        "Shockwave machine is not available on Fridays"
    );
    assert_eq!(
        refusal("ana", "2026-03-03T09:45:00Z").reason,
        "Shockwave machine is out of service from 2026-03-03 10:00 to 2026-03-03 11:00"
    );
    // The machine is busy at 09:15 on Monday too (Ben's appointment holds it).
    assert_eq!(
        refusal("cy", "2026-03-02T09:15:00Z").reason,
        "both Room 1 and Room 2 are taken at 09:15 on 2026-03-02"
    );
}

#[test]
fn a_partly_available_resource_names_the_stretch() {
    // The machine from 09:00 to 10:00 only; a 30-minute slot at 09:45 runs past it.
    let v = with(
        rooms(),
        "/resources/4/availability/0/blocks/0/end",
        json!("10:00"),
    );
    let model = model_of(&v).unwrap();
    let q = &model.query().unwrap().portal;
    let ana = model.practitioner_ix("ana").unwrap();
    let no = model.check(q, ana, at("2026-03-05T09:45:00Z")).unwrap_err();
    assert_eq!(no.rule, Rule::Resources);
    assert_eq!(
        no.reason,
        "Shockwave machine is not available 09:45–10:15 on Thursdays"
    );
    // A date before its only record.
    let later = with(
        rooms(),
        "/resources/4/availability/0/start_date",
        json!("2026-03-05"),
    );
    let model = model_of(&later).unwrap();
    let q = &model.query().unwrap().portal;
    let no = model.check(q, ana, at("2026-03-04T09:00:00Z")).unwrap_err();
    assert_eq!(
        no.reason,
        "Shockwave machine has no availability covering 2026-03-04"
    );
}

#[test]
fn a_resource_of_another_clinic_is_never_taken() {
    let v = with(
        rooms(),
        "/services/0/requires",
        json!([["leeds-1"], ["shockwave"]]),
    );
    let model = model_of(&v).unwrap();
    let q = model.query().unwrap();
    assert!(model.open_slots(q).is_empty());
    let ana = model.practitioner_ix("ana").unwrap();
    let no = model
        .check(&q.portal, ana, at("2026-03-05T09:00:00Z"))
        .unwrap_err();
    assert_eq!(no.reason, "Leeds room 1 is at Leeds, not at London");
}

#[test]
fn capacity_counts_places_and_buffers_hold_the_room() {
    let mut v = rooms();
    v["query"]["service"] = json!("gym-session");
    let model = model_of(&v).unwrap();
    let q = &model.query().unwrap().portal;
    let cy = model.practitioner_ix("cy").unwrap();
    // Friday: Ana's session 09:00–10:00 and Ben's 09:30–10:30 each keep 15 minutes
    // after; at 09:30 both places of the gym are taken.
    let no = model.check(q, cy, at("2026-03-06T09:00:00Z")).unwrap_err();
    assert_eq!(
        no.reason,
        "Gym is taken at 09:30 on 2026-03-06 (2 of 2 places)"
    );
    // With a capacity of three there is a place.
    let roomier = with(v.clone(), "/resources/3/capacity", json!(3));
    let model = model_of(&roomier).unwrap();
    assert!(
        model
            .check(
                &model.query().unwrap().portal,
                cy,
                at("2026-03-06T09:00:00Z")
            )
            .is_ok()
    );
    // Without Ben's session, Ana's buffer (until 10:15) still leaves one place.
    let mut alone = v;
    alone["appointments"][5]["status"] = json!("cancelled");
    let model = model_of(&alone).unwrap();
    assert!(
        model
            .check(
                &model.query().unwrap().portal,
                cy,
                at("2026-03-06T09:00:00Z")
            )
            .is_ok()
    );
}

#[test]
fn staff_bookings_choose_or_name_resources_and_override_full_ones() {
    let model = model_of(&rooms()).unwrap();
    let shockwave = Purpose::Service(model.service_ix("shockwave-therapy").unwrap());
    let r = |id: &str| model.resource_ix(id).unwrap();
    let booking = |who: &str, when: &str, resources| StaffBooking {
        practitioner: model.practitioner_ix(who).unwrap(),
        start: at(when),
        duration_minutes: 30,
        purpose: shockwave,
        buffers: Buffers::NONE,
        resources,
    };
    // Automatic: Monday 09:00 has no room and no machine for Cy.
    let full = booking("cy", "2026-03-02T09:00:00Z", ResourceChoice::Auto);
    let reasons = model.check_staff(&full).unwrap_err();
    let kinds: Vec<_> = reasons.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            crate::OverrideKind::ResourceTaken,
            crate::OverrideKind::ResourceTaken
        ]
    );
    // With an override it still holds the first room and the machine.
    assert_eq!(model.staff_resources(&full), [r("room-1"), r("shockwave")]);
    // Named: Room 2 and the machine on Wednesday at 09:00 fit; Room 1 is taken.
    let named = |list: Vec<_>| booking("ana", "2026-03-04T09:00:00Z", ResourceChoice::Chosen(list));
    assert_eq!(
        model
            .check_staff(&named(vec![r("shockwave"), r("room-2")]))
            .unwrap()
            .resources,
        [r("room-2"), r("shockwave")]
    );
    let taken = model
        .check_staff(&named(vec![r("room-1"), r("shockwave")]))
        .unwrap_err();
    assert_eq!(
        taken[0].message,
        "Room 1 is taken at 09:00 on 2026-03-04 (1 of 1 places)"
    );
    // Naming too little leaves a requirement unmet.
    let missing = model.check_staff(&named(vec![r("room-2")])).unwrap_err();
    assert_eq!(missing[0].kind, crate::OverrideKind::ResourceMissing);
    assert_eq!(
        missing[0].message,
        "Shockwave therapy needs Shockwave machine, which is not named"
    );
    let no_room = model.check_staff(&named(vec![r("shockwave")])).unwrap_err();
    assert_eq!(
        no_room[0].message,
        "Shockwave therapy needs one of Leeds room 1, Room 1, Room 2; none is named"
    );
}
