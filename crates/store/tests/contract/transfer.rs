//! Import, export and the window loader: the store answers exactly as the engine does
//! on the scenario itself.

use slot_engine::{Answer, Model, Scenario};
use slot_reference::random::{self, Bytes};
use store::transfer::{self, ImportMode};
use store::window::{self, KeyedSlotRequest};

use store::keys::Kind;

use crate::{TestDb, both, clock, export, id, import, worked, worked_names};

fn engine_answer(scenario: &Scenario) -> Answer {
    let model = Model::new(scenario).unwrap();
    Answer::new(&model, &model.open_slots(model.query().unwrap()))
}

async fn store_answer(t: &TestDb, org: &store::Organisation, scenario: &Scenario) -> Answer {
    let q = scenario.query.as_ref().unwrap();
    let mut conn = t.db.conn().await.unwrap();
    window::answer(
        &mut conn.exec(),
        org,
        &KeyedSlotRequest {
            service: q.service.to_string(),
            practitioners: q
                .practitioners
                .as_ref()
                .map(|l| l.iter().map(|p| p.to_string()).collect()),
            from: q.from,
            to: q.to,
            now: q.now,
            telehealth: q.telehealth,
        },
    )
    .await
    .unwrap()
}

async fn import_export_and_window_agree_with_the_engine_on_worked_scenarios(t: &TestDb) {
    for name in worked_names() {
        let original = worked(&name);
        let slug = name.trim_end_matches(".json").replace('_', "-");
        let org = import(&t.db, &slug, &original).await;
        let mut exported = export(&t.db, &org).await;
        assert!(exported.query.is_none(), "{name}: export has no query");
        // Export, then slots, answers as the scenario does.
        exported.query = original.query.clone();
        assert_eq!(
            engine_answer(&exported),
            engine_answer(&original),
            "{name}: export answers differently"
        );
        // The store's own window search answers the same.
        assert_eq!(
            store_answer(t, &org, &original).await,
            engine_answer(&original),
            "{name}: window answers differently"
        );
        // Export loses nothing: import it again, and it exports the same document.
        exported.query = None;
        let again = import(&t.db, &format!("{slug}-again"), &exported).await;
        assert_eq!(
            export(&t.db, &again).await,
            exported,
            "{name}: export of the export differs"
        );
    }
}

async fn random_scenarios_answer_the_same_through_the_store(t: &TestDb) {
    let mut seed: u64 = 7;
    let mut nonempty = 0;
    for n in 0..40 {
        let bytes: Vec<u8> = (0..700)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (seed >> 33) as u8
            })
            .collect();
        let scenario = random::scenario(&mut Bytes::new(&bytes));
        let org = import(&t.db, &format!("random-{n}"), &scenario).await;
        let expected = engine_answer(&scenario);
        nonempty += usize::from(!expected.slots.is_empty());
        assert_eq!(
            store_answer(t, &org, &scenario).await,
            expected,
            "random scenario {n}"
        );
        let mut exported = export(&t.db, &org).await;
        exported.query = scenario.query.clone();
        assert_eq!(
            engine_answer(&exported),
            expected,
            "random scenario {n}: export"
        );
        // The same organisation, its setup replaced each time: the setup the store keeps
        // in memory between requests follows every replacement.
        let mut tx = t.db.begin().await.unwrap();
        let replaced = transfer::import(
            &mut tx,
            "random-replaced",
            &scenario,
            ImportMode::Replace,
            &clock("2026-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store_answer(t, &replaced, &scenario).await,
            expected,
            "random scenario {n}, replacing the last"
        );
    }
    assert!(
        nonempty >= 5,
        "too few random scenarios had slots: {nonempty}"
    );
}

async fn a_setup_change_shows_in_the_next_window(t: &TestDb) {
    let mut scenario = worked("basic.json");
    let org = import(&t.db, "changing", &scenario).await;
    let before = engine_answer(&scenario);
    assert!(!before.slots.is_empty());
    assert_eq!(store_answer(t, &org, &scenario).await, before);
    // A holiday on the first day (a clinic's row elsewhere than the practitioner's).
    let toronto = id(&t.db, Kind::Clinic, &org, "toronto").await;
    let mut tx = t.db.begin().await.unwrap();
    store::clinic::add_holiday(&mut tx, org.id, toronto, "2026-03-02")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    scenario.clinics[0]
        .holidays
        .push("2026-03-02".parse().unwrap());
    let holiday = engine_answer(&scenario);
    assert_ne!(holiday, before, "the holiday takes slots away");
    assert_eq!(store_answer(t, &org, &scenario).await, holiday);
    // The practitioner made inactive: no slots at all.
    let christine = id(&t.db, Kind::Practitioner, &org, "christine").await;
    let mut tx = t.db.begin().await.unwrap();
    store::practitioner::set_active(&mut tx, org.id, christine, false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(store_answer(t, &org, &scenario).await.slots.is_empty());
}

async fn an_invalid_scenario_is_refused_and_changes_nothing(t: &TestDb) {
    let bad = worked("invalid-overlapping-records.json");
    let clock = clock("2026-01-01T00:00:00Z");
    let mut tx = t.db.begin().await.unwrap();
    let err = transfer::import(&mut tx, "bad", &bad, ImportMode::IntoEmpty, &clock)
        .await
        .unwrap_err();
    drop(tx);
    assert!(err.to_string().contains("overlap"), "{err}");
    let mut conn = t.db.conn().await.unwrap();
    assert!(
        store::organisation::by_slug(conn.exec(), "bad")
            .await
            .unwrap()
            .is_none()
    );
}

async fn importing_into_an_organisation_with_data_needs_replace(t: &TestDb) {
    let basic = worked("basic.json");
    import(&t.db, "clinic", &basic).await;
    let clock = clock("2026-01-01T00:00:00Z");
    let mut tx = t.db.begin().await.unwrap();
    let err = transfer::import(&mut tx, "clinic", &basic, ImportMode::IntoEmpty, &clock)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already has data"), "{err}");
    drop(tx);
    let zones = worked("zones.json");
    let mut tx = t.db.begin().await.unwrap();
    let org = transfer::import(&mut tx, "clinic", &zones, ImportMode::Replace, &clock)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut exported = export(&t.db, &org).await;
    exported.query = zones.query.clone();
    assert_eq!(engine_answer(&exported), engine_answer(&zones));
}

both!(
    import_export_and_window_agree_with_the_engine_on_worked_scenarios,
    a_setup_change_shows_in_the_next_window,
    random_scenarios_answer_the_same_through_the_store,
    an_invalid_scenario_is_refused_and_changes_nothing,
    importing_into_an_organisation_with_data_needs_replace,
);
