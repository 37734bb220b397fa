//! Changing hours over time without repainting: `availability::new_record_from` and
//! `availability::temporary_change` copy a record (blocks, overlay, slot step, clinic)
//! into pieces that share no date, refuse bad dates naming the field and changing
//! nothing, find no record of another organisation, and change nothing bookable.

use serde_json::json;
use slot_engine::{Date, RecordDates, Scenario};
use store::availability::{self, Record};
use store::keys::Kind;
use store::window::{SlotRequest, open_slots};
use store::{Db, Error, Organisation};

use crate::{TestDb, both, export, id, import};

/// Christine works at any clinic's schedule type "physio" in her record from Mon 5 Jan
/// 2026 (open-ended): at Ottawa (the record's clinic, not her home clinic), every 30
/// minutes (the record's own step; the organisation's is 15), Monday and Wednesday
/// mornings and Friday afternoons, with Customize Portal Availability putting only part
/// of them online.
fn scenario() -> Scenario {
    let doc = json!({
        "version": 1,
        "settings": {"slot_step_minutes": 15, "min_notice_minutes": 0, "max_days_ahead": 400},
        "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto"},
                    {"id": "ottawa", "name": "Ottawa", "timezone": "America/Toronto"}],
        "schedule_types": [{"id": "physio", "name": "Physiotherapy", "clinic": null}],
        "practitioners": [{"id": "christine", "name": "Christine Roy", "type": "physio",
            "home_clinic": "toronto", "schedule_types": ["physio"],
            "availability": [{"start_date": "2026-01-05", "clinic": "ottawa", "slot_step_minutes": 30,
                "blocks": [{"days": ["mon", "wed"], "start": "09:00", "end": "12:00", "schedule_type": "physio"},
                           {"days": ["fri"], "start": "13:00", "end": "17:00", "schedule_type": "physio"}],
                "portal_blocks": [{"days": ["mon"], "start": "09:00", "end": "11:00"},
                                  {"days": ["fri"], "start": "13:00", "end": "15:00"}]}]}],
        "services": [{"id": "visit", "name": "Visit", "duration_minutes": 30,
                      "book_from_portal": true, "schedule_types": ["physio"]}]
    });
    Scenario::from_json(doc.to_string().as_bytes()).unwrap()
}

struct Setup {
    org: Organisation,
    christine: i64,
    service: i64,
    record: i64,
}

async fn setup(db: &Db, slug: &str) -> Setup {
    let org = import(db, slug, &scenario()).await;
    let christine = id(db, Kind::Practitioner, &org, "christine").await;
    let service = id(db, Kind::Service, &org, "visit").await;
    let record = records(db, &org, christine).await[0].id;
    Setup {
        org,
        christine,
        service,
        record,
    }
}

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn dates(start: &str, end: Option<&str>) -> RecordDates {
    RecordDates::new(date(start), end.map(date)).unwrap()
}

async fn records(db: &Db, org: &Organisation, practitioner: i64) -> Vec<Record> {
    let mut conn = db.conn().await.unwrap();
    availability::list(conn.exec(), org.id, practitioner)
        .await
        .unwrap()
}

/// The open slots of the service from Mon 2 Feb to Sun 29 Mar 2026, as the portal
/// offers them.
async fn slots(db: &Db, s: &Setup) -> Vec<String> {
    let mut conn = db.conn().await.unwrap();
    let (_, slots) = open_slots(
        &mut conn.exec(),
        &s.org,
        &SlotRequest {
            service: s.service,
            practitioners: None,
            from: date("2026-02-02"),
            to: date("2026-03-29"),
            now: "2026-02-01T12:00:00Z".parse().unwrap(),
            telehealth: false,
        },
    )
    .await
    .unwrap();
    slots.iter().map(|slot| slot.start_text()).collect()
}

/// Everything of a record but its id and dates: what a piece must copy.
fn contents(r: &Record) -> impl PartialEq + std::fmt::Debug + '_ {
    (
        r.practitioner_id,
        r.clinic_id,
        r.slot_step_minutes,
        &r.blocks,
        &r.portal_blocks,
    )
}

/// No two records of the list share a date, and together they cover `from` onward
/// without a gap (the list is earliest first).
fn assert_apart_and_whole(list: &[Record], from: &str) {
    assert_eq!(list[0].dates.start(), date(from));
    for pair in list.windows(2) {
        assert!(!pair[0].dates.overlaps(pair[1].dates), "{:?}", pair);
        let next = pair[0].dates.end().unwrap().add_days(1).unwrap();
        assert_eq!(pair[1].dates.start(), next, "a gap between {:?}", pair);
    }
    assert_eq!(list.last().unwrap().dates.end(), None);
}

/// Runs `change` in a transaction with the setup check, and commits only when both
/// pass, as the web's setup changes do.
async fn change<T>(
    db: &Db,
    org: &Organisation,
    change: impl AsyncFnOnce(&mut store::Tx) -> store::Result<T>,
) -> store::Result<T> {
    let mut tx = db.begin().await.unwrap();
    let made = change(&mut tx).await?;
    store::transfer::check_setup(&mut tx, org.id).await?;
    tx.commit().await.unwrap();
    Ok(made)
}

fn field(result: store::Result<impl std::fmt::Debug>) -> (String, String) {
    match result {
        Err(Error::Invalid { field, message }) => (field, message),
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn a_new_record_from_a_date_copies_the_record_and_changes_nothing_bookable(t: &TestDb) {
    let s = setup(&t.db, "acme").await;
    let before = slots(&t.db, &s).await;
    assert!(before.contains(&"2026-02-02T09:00:00-05:00".to_owned()));
    assert!(before.contains(&"2026-03-27T14:30:00-04:00".to_owned()));
    let original = records(&t.db, &s.org, s.christine).await.remove(0);

    let (org, p, record) = (s.org.id, s.christine, s.record);
    let made = change(&t.db, &s.org, async |tx| {
        availability::new_record_from(tx, org, p, record, "2026-02-18").await
    })
    .await
    .unwrap();
    assert_eq!(made.ended.id, s.record, "the record keeps its id");
    assert_eq!(made.ended.dates, dates("2026-01-05", Some("2026-02-17")));
    assert_eq!(made.new.dates, dates("2026-02-18", None));
    assert_ne!(made.new.id, s.record);
    let list = records(&t.db, &s.org, s.christine).await;
    assert_eq!(list, [made.ended.clone(), made.new.clone()]);
    for r in &list {
        assert_eq!(contents(r), contents(&original));
    }
    assert!(
        original
            .portal_blocks
            .as_ref()
            .is_some_and(|p| p.len() == 2)
    );
    assert_eq!(original.slot_step_minutes, Some(30));
    assert!(original.clinic_id.is_some());
    assert_apart_and_whole(&list, "2026-01-05");

    // The split changes nothing bookable, on either side of it.
    assert_eq!(slots(&t.db, &s).await, before);
    // The export says the same: two records, one grid.
    let exported = export(&t.db, &s.org).await;
    let availability = &exported.practitioners[0].availability;
    assert_eq!(availability.len(), 2);
    let json = |r| serde_json::to_value(r).unwrap();
    let (first, second) = (json(&availability[0]), json(&availability[1]));
    for key in ["blocks", "portal_blocks", "clinic", "slot_step_minutes"] {
        assert_eq!(first[key], second[key], "{key}");
    }

    // A bounded record splits up to its last date, which the copy keeps.
    let (ended, new) = (made.ended.id, made.new.id);
    let made = change(&t.db, &s.org, async |tx| {
        availability::new_record_from(tx, org, p, ended, "2026-02-17").await
    })
    .await
    .unwrap();
    assert_eq!(made.ended.dates, dates("2026-01-05", Some("2026-02-16")));
    assert_eq!(made.new.dates, dates("2026-02-17", Some("2026-02-17")));
    let list = records(&t.db, &s.org, s.christine).await;
    assert_eq!(list.len(), 3);
    assert_eq!(list[2].id, new);
    assert_apart_and_whole(&list, "2026-01-05");
    assert_eq!(slots(&t.db, &s).await, before);
}

async fn a_new_record_from_a_bad_date_is_refused_naming_it_and_changes_nothing(t: &TestDb) {
    let s = setup(&t.db, "acme").await;
    let (org, p, record) = (s.org.id, s.christine, s.record);
    // A bounded record of her own to test its end: from 2026-01-05 to 2026-02-28.
    change(&t.db, &s.org, async |tx| {
        availability::new_record_from(tx, org, p, record, "2026-03-01").await
    })
    .await
    .unwrap();
    let snapshot = export(&t.db, &s.org).await;
    for (typed, says) in [
        ("", "is required"),
        ("  ", "is required"),
        ("2026-02-30", ""),
        ("1 March", ""),
        ("2026-01-05", "is this record's first day, Mon 5 Jan 2026"),
        (
            "2025-12-31",
            "is before this record starts, on Mon 5 Jan 2026",
        ),
        (
            "2026-03-01",
            "is after this record ends, on Sat 28 Feb 2026",
        ),
        ("2199-12-31", "is after this record ends"),
    ] {
        let refused = change(&t.db, &s.org, async |tx| {
            availability::new_record_from(tx, org, p, record, typed).await
        })
        .await;
        let (field, message) = field(refused);
        assert_eq!(field, "start_date", "{typed:?}: {message}");
        assert!(message.contains(says), "{typed:?}: {message}");
        assert!(!message.contains(".."), "{message}");
    }
    assert_eq!(export(&t.db, &s.org).await, snapshot, "nothing changed");
}

async fn a_temporary_change_splits_a_record_into_before_temporary_and_after(t: &TestDb) {
    let s = setup(&t.db, "acme").await;
    let before = slots(&t.db, &s).await;
    let original = records(&t.db, &s.org, s.christine).await.remove(0);
    let (org, p, record) = (s.org.id, s.christine, s.record);

    // Inside an open-ended record: three pieces, the record itself the first.
    let made = change(&t.db, &s.org, async |tx| {
        availability::temporary_change(tx, org, p, record, "2026-03-02", "2026-03-06").await
    })
    .await
    .unwrap();
    let first = made.before.clone().expect("dates before the change");
    let after = made.after.clone().expect("dates after the change");
    assert_eq!(first.id, s.record);
    assert_eq!(first.dates, dates("2026-01-05", Some("2026-03-01")));
    assert_eq!(
        made.temporary.dates,
        dates("2026-03-02", Some("2026-03-06"))
    );
    assert_eq!(after.dates, dates("2026-03-07", None));
    let list = records(&t.db, &s.org, s.christine).await;
    assert_eq!(list, [first.clone(), made.temporary.clone(), after.clone()]);
    for r in &list {
        assert_eq!(contents(r), contents(&original));
    }
    assert_apart_and_whole(&list, "2026-01-05");
    assert_eq!(slots(&t.db, &s).await, before, "nothing bookable changed");

    // From a record's first date: no empty piece before it; the record keeps the
    // dates after.
    let after_id = after.id;
    let made = change(&t.db, &s.org, async |tx| {
        availability::temporary_change(tx, org, p, after_id, "2026-03-07", "2026-03-08").await
    })
    .await
    .unwrap();
    assert_eq!(made.before, None);
    assert_eq!(
        made.temporary.dates,
        dates("2026-03-07", Some("2026-03-08"))
    );
    let rest = made.after.expect("dates after the change");
    assert_eq!(rest.id, after_id, "the record keeps the regular hours");
    assert_eq!(rest.dates, dates("2026-03-09", None));

    // To a record's last date: no empty piece after it.
    let first_id = first.id;
    let made = change(&t.db, &s.org, async |tx| {
        availability::temporary_change(tx, org, p, first_id, "2026-02-23", "2026-03-01").await
    })
    .await
    .unwrap();
    assert_eq!(made.after, None);
    assert_eq!(
        made.before.map(|r| (r.id, r.dates)),
        Some((first_id, dates("2026-01-05", Some("2026-02-22"))))
    );
    assert_eq!(
        made.temporary.dates,
        dates("2026-02-23", Some("2026-03-01"))
    );

    // One day.
    let made = change(&t.db, &s.org, async |tx| {
        availability::temporary_change(tx, org, p, first_id, "2026-02-02", "2026-02-02").await
    })
    .await
    .unwrap();
    assert_eq!(
        made.temporary.dates,
        dates("2026-02-02", Some("2026-02-02"))
    );

    let list = records(&t.db, &s.org, s.christine).await;
    assert_eq!(list.len(), 7);
    for r in &list {
        assert_eq!(contents(r), contents(&original));
    }
    assert_apart_and_whole(&list, "2026-01-05");
    assert_eq!(slots(&t.db, &s).await, before, "nothing bookable changed");
}

async fn a_temporary_change_outside_one_record_is_refused_naming_the_field(t: &TestDb) {
    let s = setup(&t.db, "acme").await;
    let (org, p, record) = (s.org.id, s.christine, s.record);
    // Two records: to Sat 28 Feb 2026, and from Sun 1 Mar 2026 (open-ended).
    let made = change(&t.db, &s.org, async |tx| {
        availability::new_record_from(tx, org, p, record, "2026-03-01").await
    })
    .await
    .unwrap();
    let later = made.new.id;
    let snapshot = export(&t.db, &s.org).await;
    for (id, from, to, at, says) in [
        (record, "", "2026-02-10", "start_date", "is required"),
        (record, "2026-02-09", "", "end_date", "is required"),
        (record, "2026-02-31", "2026-03-02", "start_date", ""),
        (record, "2026-02-09", "soon", "end_date", ""),
        (
            record,
            "2026-02-10",
            "2026-02-09",
            "end_date",
            "is before the start date, Tue 10 Feb 2026",
        ),
        (
            record,
            "2026-02-20",
            "2026-03-05",
            "end_date",
            "is after this record ends, on Sat 28 Feb 2026: a temporary change must lie inside one record",
        ),
        (
            record,
            "2026-03-02",
            "2026-03-05",
            "start_date",
            "is after this record ends, on Sat 28 Feb 2026",
        ),
        (
            later,
            "2026-02-20",
            "2026-03-05",
            "start_date",
            "is before this record starts, on Sun 1 Mar 2026: a temporary change must lie inside one record",
        ),
        (
            record,
            "2026-01-05",
            "2026-02-28",
            "end_date",
            "these dates are the whole record, from Mon 5 Jan 2026 to Sat 28 Feb 2026",
        ),
        (
            later,
            "2026-03-01",
            "2199-12-31",
            "end_date",
            "these dates are the whole record, from Sun 1 Mar 2026 (open-ended)",
        ),
    ] {
        let refused = change(&t.db, &s.org, async |tx| {
            availability::temporary_change(tx, org, p, id, from, to).await
        })
        .await;
        let (field, message) = field(refused);
        assert_eq!(field, at, "{from}..{to}: {message}");
        assert!(message.contains(says), "{from}..{to}: {message}");
    }
    assert_eq!(export(&t.db, &s.org).await, snapshot, "nothing changed");
}

async fn another_organisations_record_is_not_found_and_unchanged(t: &TestDb) {
    let acme = setup(&t.db, "acme").await;
    let other = setup(&t.db, "other").await;
    let snapshot = export(&t.db, &other.org).await;
    let org = acme.org.id;
    // The other organisation's record, under its practitioner or under acme's.
    for (p, record) in [
        (other.christine, other.record),
        (acme.christine, other.record),
    ] {
        let refused = change(&t.db, &acme.org, async |tx| {
            availability::new_record_from(tx, org, p, record, "2026-02-18").await
        })
        .await;
        assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
        let refused = change(&t.db, &acme.org, async |tx| {
            availability::temporary_change(tx, org, p, record, "2026-02-18", "2026-02-19").await
        })
        .await;
        assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
    }
    assert_eq!(export(&t.db, &other.org).await, snapshot);
    assert_eq!(records(&t.db, &acme.org, acme.christine).await.len(), 1);
}

async fn an_overlap_names_the_other_record_in_words_and_what_to_do(t: &TestDb) {
    let s = setup(&t.db, "acme").await;
    let mut tx = t.db.begin().await.unwrap();
    let refused = availability::create(
        &mut tx,
        s.org.id,
        s.christine,
        &availability::RecordInput {
            start_date: "2026-02-02".into(),
            end_date: Some("2026-02-06".into()),
            ..Default::default()
        },
    )
    .await;
    drop(tx);
    let (field, message) = field(refused);
    assert_eq!(field, "start_date");
    assert_eq!(
        message,
        "these dates, from Mon 2 Feb 2026 to Fri 6 Feb 2026, overlap Christine Roy's record \
         from Mon 5 Jan 2026 (open-ended); to change hours from a date, use “New record \
         from…” on that record, or “Temporary change…” for a date range"
    );
}

both!(
    a_new_record_from_a_date_copies_the_record_and_changes_nothing_bookable,
    a_new_record_from_a_bad_date_is_refused_naming_it_and_changes_nothing,
    a_temporary_change_splits_a_record_into_before_temporary_and_after,
    a_temporary_change_outside_one_record_is_refused_naming_the_field,
    another_organisations_record_is_not_found_and_unchanged,
    an_overlap_names_the_other_record_in_words_and_what_to_do,
);
