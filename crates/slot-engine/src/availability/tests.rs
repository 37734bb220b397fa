use super::*;

use crate::grid::Resolution;

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn dates(start: &str, end: Option<&str>) -> RecordDates {
    RecordDates::new(date(start), end.map(date)).unwrap()
}

fn grid(text: &str) -> WeekGrid {
    WeekGrid::parse(Resolution::new(5).unwrap(), text).unwrap()
}

const PHYSIO: ScheduleTypeIx = ScheduleTypeIx(0);
const MASSAGE: ScheduleTypeIx = ScheduleTypeIx(1);
const TORONTO: ClinicIx = ClinicIx(0);
const WHITBY: ClinicIx = ClinicIx(1);

fn type_grid(schedule_type: ScheduleTypeIx, clinic: ClinicIx, text: &str) -> TypeGrid {
    TypeGrid {
        schedule_type,
        clinic,
        grid: grid(text),
    }
}

/// A record with physio 09:00–12:00 at Toronto and massage 12:00–14:00 at Whitby on
/// Mondays, and physio 10:00–11:00 on Wednesdays; the grids are given massage first to
/// show the record sorts them.
fn record(portal: Option<&str>) -> AvailabilityRecord {
    AvailabilityRecord::new(
        dates("2026-01-01", Some("2026-04-30")),
        Some(WHITBY),
        15,
        vec![
            type_grid(MASSAGE, WHITBY, "mon 12:00-14:00"),
            type_grid(PHYSIO, TORONTO, "mon 09:00-12:00; wed 10:00-11:00"),
        ],
        portal.map(grid),
    )
}

/// Runs as `type@start-end` text, to compare whole lists at a glance.
fn runs_text(runs: &[Run]) -> Vec<String> {
    runs.iter()
        .map(|r| {
            let name = if r.schedule_type == PHYSIO {
                "physio"
            } else {
                "massage"
            };
            let clinic = if r.clinic == TORONTO {
                "toronto"
            } else {
                "whitby"
            };
            format!("{name}@{clinic} {}-{}", r.start, r.end)
        })
        .collect()
}

#[test]
fn record_dates_contains() {
    let closed = dates("2026-01-01", Some("2026-04-30"));
    assert!(closed.contains(date("2026-01-01")));
    assert!(closed.contains(date("2026-02-15")));
    assert!(closed.contains(date("2026-04-30")));
    assert!(!closed.contains(date("2025-12-31")));
    assert!(!closed.contains(date("2026-05-01")));
    let open = dates("2026-04-15", None);
    assert!(!open.contains(date("2026-04-14")));
    assert!(open.contains(date("2026-04-15")));
    assert!(open.contains(Date::MAX));
    let one_day = dates("2026-03-02", Some("2026-03-02"));
    assert!(one_day.contains(date("2026-03-02")));
    assert!(!one_day.contains(date("2026-03-03")));
    assert_eq!(closed.start(), date("2026-01-01"));
    assert_eq!(closed.end(), Some(date("2026-04-30")));
    assert_eq!(open.end(), None);
}

#[test]
fn record_dates_refuse_an_end_before_the_start() {
    let err = RecordDates::new(date("2026-05-01"), Some(date("2026-04-30")))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "end_date 2026-04-30 is before start_date 2026-05-01");
}

#[test]
fn record_dates_overlap() {
    for (a, b, overlap) in [
        // Sharing a single date is an overlap.
        (
            ("2026-01-01", Some("2026-04-30")),
            ("2026-04-30", Some("2026-06-30")),
            true,
        ),
        // Consecutive records do not overlap.
        (
            ("2026-01-01", Some("2026-04-30")),
            ("2026-05-01", Some("2026-06-30")),
            false,
        ),
        (
            ("2026-01-01", Some("2026-04-30")),
            ("2026-04-15", None),
            true,
        ),
        (
            ("2026-01-01", Some("2026-04-30")),
            ("2026-05-01", None),
            false,
        ),
        (("2026-01-01", None), ("2030-01-01", None), true),
        (
            ("2026-01-01", None),
            ("2025-01-01", Some("2025-12-31")),
            false,
        ),
        (
            ("2026-01-01", None),
            ("2025-01-01", Some("2026-01-01")),
            true,
        ),
        // One inside the other.
        (
            ("2026-01-01", Some("2026-12-31")),
            ("2026-03-01", Some("2026-03-01")),
            true,
        ),
    ] {
        let (a, b) = (dates(a.0, a.1), dates(b.0, b.1));
        assert_eq!(a.overlaps(b), overlap, "{a} and {b}");
        assert_eq!(b.overlaps(a), overlap, "{b} and {a}");
    }
}

#[test]
fn record_dates_display() {
    assert_eq!(
        dates("2026-01-01", Some("2026-04-30")).to_string(),
        "2026-01-01..2026-04-30"
    );
    assert_eq!(dates("2026-04-15", None).to_string(), "2026-04-15..");
}

#[test]
fn record_keeps_what_it_was_given() {
    let r = record(None);
    assert_eq!(r.dates(), dates("2026-01-01", Some("2026-04-30")));
    assert_eq!(r.clinic(), Some(WHITBY));
    assert_eq!(r.slot_step(), 15);
    assert_eq!(r.portal(), None);
    let with_portal = record(Some("mon 09:00-10:00"));
    assert_eq!(with_portal.portal(), Some(&grid("mon 09:00-10:00")));
}

#[test]
fn grids_are_sorted_by_schedule_type_and_found_by_it() {
    let r = record(None);
    let order: Vec<ScheduleTypeIx> = r.grids().iter().map(|g| g.schedule_type).collect();
    assert_eq!(order, [PHYSIO, MASSAGE]);
    let physio = r.grid_of(PHYSIO).unwrap();
    assert_eq!(physio.clinic, TORONTO);
    assert_eq!(physio.grid.to_string(), "mon 09:00-12:00; wed 10:00-11:00");
    assert_eq!(r.grid_of(MASSAGE).unwrap().clinic, WHITBY);
    assert_eq!(r.grid_of(ScheduleTypeIx(2)), None);
}

#[test]
fn type_at_names_the_schedule_type_of_a_cell() {
    let r = record(None);
    let at = |day, minute| r.type_at(day, minute).map(|g| g.schedule_type);
    assert_eq!(at(Weekday::Mon, 9 * 60), Some(PHYSIO));
    assert_eq!(at(Weekday::Mon, 11 * 60 + 59), Some(PHYSIO));
    assert_eq!(at(Weekday::Mon, 12 * 60), Some(MASSAGE));
    assert_eq!(at(Weekday::Mon, 14 * 60), None);
    assert_eq!(at(Weekday::Mon, 8 * 60 + 59), None);
    assert_eq!(at(Weekday::Wed, 10 * 60 + 30), Some(PHYSIO));
    assert_eq!(at(Weekday::Tue, 10 * 60), None);
}

#[test]
fn runs_without_an_overlay_are_the_blocks_per_schedule_type() {
    let r = record(None);
    // Adjacent blocks of different schedule types stay separate runs, earliest first.
    assert_eq!(
        runs_text(r.runs(Weekday::Mon, false)),
        ["physio@toronto 540-720", "massage@whitby 720-840"]
    );
    assert_eq!(
        runs_text(r.runs(Weekday::Wed, false)),
        ["physio@toronto 600-660"]
    );
    assert!(r.runs(Weekday::Sun, false).is_empty());
    // Without an overlay every available cell is bookable online.
    for day in Weekday::ALL {
        assert_eq!(r.runs(day, true), r.runs(day, false), "{day}");
    }
}

#[test]
fn runs_with_an_overlay_keep_only_cells_inside_it() {
    // The overlay covers 10:00–13:00 on Mondays (across both schedule types) and
    // Tuesday, where there is no availability: those cells never count.
    let r = record(Some("mon 10:00-11:00 10:30-13:00; tue 09:00-17:00"));
    assert_eq!(
        runs_text(r.runs(Weekday::Mon, true)),
        ["physio@toronto 600-720", "massage@whitby 720-780"]
    );
    assert!(r.runs(Weekday::Tue, true).is_empty());
    assert!(r.runs(Weekday::Wed, true).is_empty());
    // The clinic runs ignore the overlay.
    assert_eq!(
        runs_text(r.runs(Weekday::Mon, false)),
        ["physio@toronto 540-720", "massage@whitby 720-840"]
    );
}

#[test]
fn an_empty_overlay_leaves_nothing_online() {
    let r = AvailabilityRecord::new(
        dates("2026-01-01", None),
        None,
        15,
        vec![type_grid(PHYSIO, TORONTO, "mon 09:00-12:00")],
        Some(WeekGrid::new(Resolution::new(5).unwrap())),
    );
    assert!(r.runs(Weekday::Mon, true).is_empty());
    assert_eq!(
        runs_text(r.runs(Weekday::Mon, false)),
        ["physio@toronto 540-720"]
    );
}

#[test]
fn an_overlay_splits_runs() {
    let r = AvailabilityRecord::new(
        dates("2026-01-01", None),
        None,
        5,
        vec![type_grid(PHYSIO, TORONTO, "fri 08:00-24:00")],
        Some(grid("fri 08:00-09:00 10:00-11:00 23:55-24:00")),
    );
    assert_eq!(
        runs_text(r.runs(Weekday::Fri, true)),
        [
            "physio@toronto 480-540",
            "physio@toronto 600-660",
            "physio@toronto 1435-1440"
        ]
    );
}
