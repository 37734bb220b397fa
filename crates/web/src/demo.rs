//! The demo organisation of `openslot serve --demo`: a realistic clinic group kept in
//! the repository as a scenario (`demo/demo.json`), moved to the current week when it
//! is imported, with staff accounts to sign in with.

use chrono::{Datelike, Timelike};
use slot_engine::{Date, Instant, Scenario, Zone};
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

/// The demo's admin account, `(email, password)`; `serve --demo` prints both.
pub const ADMIN: (&str, &str) = ("admin@demo.example", "open-slot-demo-admin");
/// The demo's front-desk account, `(email, password)`.
pub const FRONT_DESK: (&str, &str) = ("desk@demo.example", "open-slot-demo-desk");

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
/// exist; returns the organisation.
pub async fn ensure(db: &Db, clock: &dyn Clock) -> store::Result<Organisation> {
    let mut conn = db.conn().await?;
    let existing = store::organisation::by_slug(conn.exec(), SLUG).await?;
    drop(conn);
    let org = match existing {
        Some(org) => org,
        None => {
            let now = clock.now().to_utc();
            let today = Date::new(now.year(), now.month(), now.day()).unwrap_or(Date::MIN);
            let scenario = scenario_for(today);
            let mut tx = db.begin().await?;
            let org =
                transfer::import(&mut tx, SLUG, &scenario, ImportMode::IntoEmpty, clock).await?;
            let mut settings = org.settings();
            settings.name = NAME.to_owned();
            settings.allow_public_signup = true;
            settings.auto_accept_portal_bookings = true;
            settings.cancellation_notice_minutes = 24 * 60;
            settings.portal_welcome =
                "Welcome to Lakeshore Physio & Wellness. Book physiotherapy, massage, \
                chiropractic and counselling online, in Toronto, Whitby and Vancouver."
                    .to_owned();
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
            tx.commit().await?;
            let mut conn = db.conn().await?;
            store::organisation::by_id(conn.exec(), org.id).await?
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
}
