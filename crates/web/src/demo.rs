//! The demo organisation of `openslot serve --demo`: a realistic clinic group kept in
//! the repository as a scenario (`demo/demo.json`), moved to the current week when it
//! is imported, with staff accounts to sign in with.
//!
//! Its clinics are in Toronto, Whitby and Vancouver (two zones), with addresses and
//! phone numbers; Lena Park counsels in person in Vancouver and by video ("Counselling
//! (video)", a schedule type that allows telehealth, which the counselling session
//! offers), with a video link of her own beside the organisation's. The 60-minute
//! massage keeps ten minutes free after each appointment for the room (a buffer, format
//! v2), so the book shows buffers from the first visit. What the scenario
//! format does not carry is set after the import: the addresses, phones and links, the logo, and
//! the appointments under a telehealth schedule type, which the front desk books as
//! video appointments.
//!
//! Rooms and equipment (issue 16) are set after the import too: two treatment rooms and
//! a shockwave machine at the Toronto clinic, and "Shockwave therapy", the one service
//! that needs them (a treatment room and the machine). The other services need nothing,
//! so they behave as before.

use chrono::{Datelike, Timelike};
use slot_engine::{Date, Instant, Scenario, Zone};
use store::appointment::StaffBooking;
use store::clinic::ClinicInput;
use store::keys::Kind;
use store::practitioner::PractitionerInput;
use store::staff::{NewStaff, Role};
use store::transfer::{self, ImportMode};
use store::{Clock, Db, Organisation};

use crate::auth::password;
use crate::clinic_time;

/// The demo scenario, anchored on the week of Monday 2026-11-30.
pub(crate) const SCENARIO: &str = include_str!("../demo/demo.json");
const ANCHOR_MONDAY: (i32, u32, u32) = (2026, 11, 30);

/// The demo organisation's slug: its portal is `/o/demo/portal`.
pub const SLUG: &str = "demo";
/// The demo's organisation name.
pub(crate) const NAME: &str = "Lakeshore Physio & Wellness";

/// The demo clinic's logo (a lake under a sun), shown in every page's header.
const LOGO: &[u8] = include_bytes!("../demo/logo.png");

/// The demo's admin account, `(email, password)`; `serve --demo` prints both.
pub const ADMIN: (&str, &str) = ("admin@demo.example", "open-slot-demo-admin");
/// The demo's front-desk account, `(email, password)`.
pub const FRONT_DESK: (&str, &str) = ("desk@demo.example", "open-slot-demo-desk");

/// The organisation's video link, for practitioners without one of their own.
pub(crate) const VIDEO_LINK: &str = "https://meet.example.com/lakeshore";

/// Lena Park's own video link.
const LENA_VIDEO_LINK: &str = "https://meet.example.com/lakeshore-lena-park";

/// Each clinic's `(key, address, phone)` (fictitious numbers of the 555-01xx range).
const CLINIC_DETAILS: &[(&str, &str, &str)] = &[
    (
        "toronto",
        "120 King Street West, Suite 400\nToronto ON M5H 1J9",
        "+1 416 555 0142",
    ),
    (
        "whitby",
        "300 Dundas Street East\nWhitby ON L1N 2J1",
        "+1 905 555 0117",
    ),
    (
        "vancouver",
        "2400 West 4th Avenue\nVancouver BC V6K 1P2",
        "+1 604 555 0199",
    ),
];

/// Takes out of the scenario the appointments under a schedule type that allows
/// telehealth: they are video appointments, which the front desk books after the
/// import (the scenario format does not say how an appointment takes place).
fn take_video_appointments(scenario: &mut Scenario) -> Vec<slot_engine::scenario::Appointment> {
    let video_types: Vec<String> = scenario
        .schedule_types
        .iter()
        .filter(|t| t.telehealth)
        .map(|t| t.id.to_string())
        .collect();
    let is_video = |a: &slot_engine::scenario::Appointment| {
        a.schedule_type
            .as_ref()
            .is_some_and(|t| video_types.iter().any(|v| v == t.as_str()))
    };
    let video = scenario
        .appointments
        .iter()
        .filter(|a| is_video(a))
        .cloned()
        .collect();
    scenario.appointments.retain(|a| !is_video(a));
    video
}

/// Sets what the scenario format does not carry: the clinics' addresses and phones, and
/// Lena Park's video link (the organisation's is among the settings).
async fn add_details(tx: &mut store::Tx, org: &Organisation) -> store::Result<()> {
    for &(key, address, phone) in CLINIC_DETAILS {
        let id = store::keys::id_of(tx.exec(), Kind::Clinic, org.id, key).await?;
        let clinic = store::clinic::get(tx.exec(), org.id, id).await?;
        let input = ClinicInput {
            name: clinic.name,
            timezone: clinic.timezone,
            address: address.to_owned(),
            phone: phone.to_owned(),
        };
        store::clinic::update(tx, org.id, id, &input).await?;
    }
    let lena = store::keys::id_of(tx.exec(), Kind::Practitioner, org.id, "lena").await?;
    let mut input =
        PractitionerInput::from(&store::practitioner::get(tx.exec(), org.id, lena).await?);
    input.video_link = LENA_VIDEO_LINK.to_owned();
    store::practitioner::update(tx, org.id, lena, &input).await?;
    Ok(())
}

/// The demo's rooms and equipment at the Toronto clinic: `(name, kind, capacity)`.
const ROOMS: &[(&str, store::resource::ResourceKind, i64)] = &[
    ("Treatment room 1", store::resource::ResourceKind::Room, 1),
    ("Treatment room 2", store::resource::ResourceKind::Room, 1),
    (
        "Shockwave machine",
        store::resource::ResourceKind::Equipment,
        1,
    ),
];

/// Adds the rooms and the shockwave machine, and "Shockwave therapy", which needs one
/// of the treatment rooms and the machine; answers the service's row id.
async fn add_rooms(tx: &mut store::Tx, org: &Organisation) -> store::Result<i64> {
    let toronto = store::keys::id_of(tx.exec(), Kind::Clinic, org.id, "toronto").await?;
    let mut ids = Vec::new();
    for &(name, kind, capacity) in ROOMS {
        let input = store::resource::ResourceInput {
            name: name.to_owned(),
            kind,
            clinic_id: toronto,
            capacity,
            always_available: true,
        };
        ids.push(store::resource::create(tx, org.id, &input).await?.id);
    }
    let mut schedule_type_ids = Vec::new();
    for key in ["christine-toronto", "physio-toronto"] {
        schedule_type_ids
            .push(store::keys::id_of(tx.exec(), Kind::ScheduleType, org.id, key).await?);
    }
    let physio =
        store::keys::id_of(tx.exec(), Kind::PractitionerType, org.id, "physiotherapist").await?;
    let service = store::service::create(
        tx,
        org.id,
        &store::service::ServiceInput {
            name: "Shockwave therapy".to_owned(),
            description: Some(
                "Focused shockwaves for tendon pain, in a treatment room with our shockwave \
                 machine (Toronto)."
                    .to_owned(),
            ),
            duration_minutes: 30,
            book_from_portal: true,
            practitioner_type_id: Some(physio),
            schedule_type_ids,
            ..store::service::ServiceInput::default()
        },
    )
    .await?;
    let [room1, room2, machine] = ids[..] else {
        return Err(store::Error::NotFound("demo rooms"));
    };
    store::resource::set_requirements(tx, org.id, service.id, &[vec![room1, room2], vec![machine]])
        .await?;
    Ok(service.id)
}

/// The row id of the demo's `kind` named `key`, when there is one.
async fn row_id(
    db: &Db,
    org: i64,
    kind: Kind,
    key: Option<&slot_engine::Text>,
) -> store::Result<Option<i64>> {
    let Some(key) = key else {
        return Ok(None);
    };
    let mut conn = db.conn().await?;
    Ok(Some(
        store::keys::id_of(conn.exec(), kind, org, key.as_str()).await?,
    ))
}

/// Books the demo's video appointments as the front desk (`staff`) would.
async fn book_video(
    db: &Db,
    org: &Organisation,
    staff: i64,
    appointments: &[slot_engine::scenario::Appointment],
    clock: &dyn Clock,
) -> store::Result<()> {
    for a in appointments {
        let booking = StaffBooking {
            staff: store::audit::Actor::Staff(staff),
            practitioner: row_id(db, org.id, Kind::Practitioner, Some(&a.practitioner))
                .await?
                .ok_or(store::Error::NotFound("practitioner"))?,
            patient: row_id(db, org.id, Kind::Patient, a.patient.as_ref()).await?,
            service: row_id(db, org.id, Kind::Service, a.service.as_ref()).await?,
            schedule_type: row_id(db, org.id, Kind::ScheduleType, a.schedule_type.as_ref()).await?,
            start: a.start,
            duration_minutes: u32::try_from(
                (a.end.unix_nanos() - a.start.unix_nanos()) / 60_000_000_000,
            )
            .ok(),
            telehealth: true,
            override_reason: None,
            idempotency_key: None,
            resources: store::appointment::ResourceRequest::Auto,
        };
        store::appointment::book_staff(db, org, &booking, clock, None).await?;
    }
    Ok(())
}

/// The demo scenario with its appointments, time off and holidays moved by whole weeks
/// so that its week is the week of `today` (same weekdays, same wall-clock times).
pub(crate) fn scenario_for(today: Date) -> Scenario {
    let mut scenario =
        Scenario::from_json(SCENARIO.as_bytes()).expect("the demo scenario is valid");
    let anchor = Date::new(ANCHOR_MONDAY.0, ANCHOR_MONDAY.1, ANCHOR_MONDAY.2).expect("a date");
    let monday = today
        .add_days(-(today.weekday().index() as i64))
        .unwrap_or(today);
    let shift_days = monday.days_since(anchor);
    let zone_of = |practitioner: &str| {
        let p = scenario
            .practitioners
            .iter()
            .find(|p| p.id.as_str() == practitioner)
            .expect("known practitioner");
        scenario
            .clinics
            .iter()
            .find(|c| c.id == p.home_clinic)
            .expect("known clinic")
            .timezone
    };
    // Keep the wall-clock time in the practitioner's zone across daylight saving.
    let shift = |at: Instant, zone: Zone| -> Instant {
        let local = at.to_utc().with_timezone(&zone.tz()).naive_local()
            + chrono::Duration::days(shift_days);
        let minute = local.hour() * 60 + local.minute();
        let within = i64::from(local.second()) * 1_000_000_000 + i64::from(local.nanosecond());
        let moved = clinic_time::earliest_ns(zone, local.date(), minute).expect("demo times exist");
        Instant::from_unix_nanos(moved + within).expect("in range")
    };
    let zones: Vec<(String, Zone)> = scenario
        .appointments
        .iter()
        .map(|a| (a.practitioner.to_string(), zone_of(a.practitioner.as_str())))
        .collect();
    for (a, (_, tz)) in scenario.appointments.iter_mut().zip(zones) {
        a.start = shift(a.start, tz);
        a.end = shift(a.end, tz);
    }
    let zones: Vec<Zone> = scenario
        .practitioners
        .iter()
        .map(|p| zone_of(p.id.as_str()))
        .collect();
    for (p, tz) in scenario.practitioners.iter_mut().zip(zones) {
        for t in &mut p.time_off {
            t.start = shift(t.start, tz);
            t.end = shift(t.end, tz);
        }
    }
    for c in &mut scenario.clinics {
        for h in &mut c.holidays {
            *h = h.add_days(shift_days).unwrap_or(*h);
        }
    }
    scenario
}

/// Imports the demo organisation unless it exists, and makes sure its staff accounts
/// exist; returns the organisation. Several servers started at once on one empty
/// database race to do it: the one that loses has its import or account refused as
/// already there, and tries again after a pause, until it finds everything in place.
pub async fn ensure(db: &Db, clock: &dyn Clock) -> store::Result<Organisation> {
    let mut attempt = 0;
    loop {
        match ensure_once(db, clock).await {
            Ok(org) => return Ok(org),
            // Refused as already there (a field error, not a database failure): the
            // winner may still be adding its accounts, so wait for it to finish.
            Err(store::Error::Invalid { .. }) if attempt < 4 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250 * attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn ensure_once(db: &Db, clock: &dyn Clock) -> store::Result<Organisation> {
    let mut conn = db.conn().await?;
    let existing = store::organisation::by_slug(conn.exec(), SLUG).await?;
    drop(conn);
    let (org, video) = match existing {
        Some(org) => (org, Vec::new()),
        None => {
            let now = clock.now().to_utc();
            let today = Date::new(now.year(), now.month(), now.day()).unwrap_or(Date::MIN);
            let mut scenario = scenario_for(today);
            let video = take_video_appointments(&mut scenario);
            let mut tx = db.begin().await?;
            let org =
                transfer::import(&mut tx, SLUG, &scenario, ImportMode::IntoEmpty, clock).await?;
            let mut settings = org.settings();
            settings.name = NAME.to_owned();
            settings.allow_public_signup = true;
            // The demo shows what a new patient meets first: times before signing in.
            settings.portal_public_times = true;
            settings.auto_accept_portal_bookings = true;
            settings.cancellation_notice_minutes = 24 * 60;
            settings.portal_welcome =
                "Welcome to Lakeshore Physio & Wellness. Book physiotherapy, massage, \
                chiropractic and counselling online, in Toronto, Whitby and Vancouver, \
                and counselling by video."
                    .to_owned();
            settings.video_link = VIDEO_LINK.to_owned();
            store::organisation::update_settings(&mut tx, org.id, &settings).await?;
            store::audit::record(
                &mut tx,
                org.id,
                "system",
                "organisation.update_settings",
                "organisation",
                Some(org.id),
                serde_json::json!(settings),
                clock.now_ns(),
            )
            .await?;
            add_details(&mut tx, &org).await?;
            add_rooms(&mut tx, &org).await?;
            transfer::check_setup(&mut tx, org.id).await?;
            store::organisation_logo::set(&mut tx, org.id, LOGO, clock.now_ns()).await?;
            tx.commit().await?;
            let mut conn = db.conn().await?;
            (
                store::organisation::by_id(conn.exec(), org.id).await?,
                video,
            )
        }
    };
    for ((email, secret), role, name) in [
        (ADMIN, Role::Admin, "Alex Admin"),
        (FRONT_DESK, Role::FrontDesk, "Dana Desk"),
    ] {
        let mut conn = db.conn().await?;
        let exists = store::staff::by_email(conn.exec(), org.id, email)
            .await?
            .is_some();
        drop(conn);
        if !exists {
            let hash = password::hash(secret);
            let mut tx = db.begin().await?;
            let user = store::staff::create(
                &mut tx,
                org.id,
                &NewStaff {
                    email,
                    name,
                    role,
                    practitioner_id: None,
                    password_hash: &hash,
                },
                clock.now_ns(),
            )
            .await?;
            store::audit::record(
                &mut tx,
                org.id,
                "system",
                "staff.create",
                "staff",
                Some(user.id),
                serde_json::json!({"email": email, "name": name, "role": role.as_str()}),
                clock.now_ns(),
            )
            .await?;
            tx.commit().await?;
        }
    }
    if !video.is_empty() {
        let mut conn = db.conn().await?;
        let desk = store::staff::by_email(conn.exec(), org.id, FRONT_DESK.0)
            .await?
            .ok_or(store::Error::NotFound("front desk"))?;
        drop(conn);
        book_video(db, &org, desk.id, &video, clock).await?;
    }
    Ok(org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_moves_to_the_current_week_keeping_weekdays_and_wall_clock_times() {
        let moved = scenario_for(Date::new(2027, 3, 17).unwrap()); // a Wednesday, after DST began
        let first = &moved.appointments[0];
        // Originally Monday 2026-11-30 09:00 in Toronto (EST); now Monday 2027-03-15
        // 09:00 in Toronto (EDT).
        assert_eq!(first.start.to_string(), "2027-03-15T13:00:00Z");
        slot_engine::Model::new(&moved).expect("the moved demo is valid");
        let whitby = moved
            .clinics
            .iter()
            .find(|c| c.id.as_str() == "whitby")
            .unwrap();
        assert!(whitby.holidays.contains(&Date::new(2027, 3, 19).unwrap()));
    }

    #[test]
    fn the_appointments_under_counselling_by_video_are_booked_as_video_after_the_import() {
        let mut scenario = scenario_for(Date::new(2026, 12, 2).unwrap());
        let before = scenario.appointments.len();
        let video = take_video_appointments(&mut scenario);
        let ids: Vec<&str> = video
            .iter()
            .filter_map(|a| a.id.as_ref().map(|i| i.as_str()))
            .collect();
        assert_eq!(ids, ["demo-018", "demo-019"]);
        assert_eq!(scenario.appointments.len() + video.len(), before);
        assert!(
            scenario
                .appointments
                .iter()
                .all(|a| a.schedule_type.as_ref().map(|t| t.as_str()) != Some("video-counselling"))
        );
        // The demo spans two zones, and every clinic gets an address and a phone.
        let zones: std::collections::BTreeSet<String> = scenario
            .clinics
            .iter()
            .map(|c| c.timezone.to_string())
            .collect();
        assert_eq!(
            zones.into_iter().collect::<Vec<_>>(),
            ["America/Toronto", "America/Vancouver"]
        );
        for c in &scenario.clinics {
            assert!(
                CLINIC_DETAILS
                    .iter()
                    .any(|(key, _, _)| *key == c.id.as_str()),
                "{}",
                c.id
            );
        }
    }
}
