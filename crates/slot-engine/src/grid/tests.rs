use super::*;

use proptest::prelude::*;

fn res(minutes: u32) -> Resolution {
    Resolution::new(minutes).unwrap()
}

fn grid(r: u32, text: &str) -> WeekGrid {
    WeekGrid::parse(res(r), text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn time(text: &str) -> WallTime {
    text.parse().unwrap()
}

fn minute(text: &str) -> u32 {
    time(text).minutes()
}

/// Parses `input` at resolution `r` and checks it prints as `expect`.
#[track_caller]
fn check(r: u32, input: &str, expect: &str) {
    assert_eq!(grid(r, input).to_string(), expect, "input {input:?}");
}

/// Checks the grid's answer to `covers` for each `(day, start, end, covered)`.
#[track_caller]
fn check_covers(r: u32, input: &str, cases: &[(Weekday, &str, &str, bool)]) {
    let g = grid(r, input);
    for &(day, start, end, expect) in cases {
        assert_eq!(
            g.covers(day, minute(start), minute(end)),
            expect,
            "{input:?} covers {day} {start}-{end}"
        );
    }
}

/// Fills `[start, end)` on Monday of an empty grid and checks the text form.
#[track_caller]
fn check_fill(r: u32, start: &str, end: &str, expect: &str) {
    let mut g = WeekGrid::new(res(r));
    g.fill(Weekday::Mon, time(start), time(end));
    assert_eq!(g.to_string(), expect, "fill {start}-{end} at r={r}");
}

#[test]
fn resolution_is_one_five_or_fifteen() {
    for (minutes, cells) in [(1, 1440), (5, 288), (15, 96)] {
        let r = res(minutes);
        assert_eq!(r.minutes(), minutes);
        assert_eq!(r.cells_per_day(), cells);
    }
    for minutes in [0, 2, 10, 30, 60, 1440] {
        let err = Resolution::new(minutes).unwrap_err().to_string();
        assert!(err.contains("not one of 1, 5, 15"), "{minutes}: {err}");
    }
}

#[test]
fn resolution_grid_and_cells_touched() {
    let r = res(15);
    assert!(r.is_on_grid(time("00:00")));
    assert!(r.is_on_grid(time("24:00")));
    assert!(r.is_on_grid(time("09:45")));
    assert!(!r.is_on_grid(time("09:50")));
    assert!(res(1).is_on_grid(time("09:07")));
    assert!(!res(5).is_on_grid(time("09:07")));
    let r5 = res(5);
    // [9:00, 9:30) touches the cells 9:00 … 9:25, not the one at 9:30.
    assert_eq!(r5.cells_touched(540, 570), (108, 114));
    // 14:07–14:09 touches the single cell 14:05.
    assert_eq!(r5.cells_touched(847, 849), (169, 170));
    // An interval ending one minute into a cell touches it.
    assert_eq!(r5.cells_touched(540, 571), (108, 115));
}

#[test]
fn text_form_merges_and_orders_runs() {
    check(5, "", "");
    check(5, "  ;  ", "");
    check(5, "mon 09:00-12:00", "mon 09:00-12:00");
    // Adjacent and overlapping ranges become one run.
    check(5, "mon 09:00-10:00 10:00-11:00", "mon 09:00-11:00");
    check(5, "mon 09:00-10:30 10:00-11:00", "mon 09:00-11:00");
    check(
        5,
        "mon 10:00-11:00 09:00-09:30",
        "mon 09:00-09:30 10:00-11:00",
    );
    // Days print Monday first whatever the input order; a day named twice unites.
    check(
        15,
        "sun 08:00-09:00; wed 10:00-11:00; mon 13:00-14:00; wed 12:00-13:00",
        "mon 13:00-14:00; wed 10:00-11:00 12:00-13:00; sun 08:00-09:00",
    );
    // Whole days, and runs that end at 24:00.
    check(15, "tue 00:00-24:00", "tue 00:00-24:00");
    check(1, "sat 23:59-24:00", "sat 23:59-24:00");
    // Cells of consecutive days do not join into one run across midnight.
    check(
        5,
        "mon 23:00-24:00; tue 00:00-01:00",
        "mon 23:00-24:00; tue 00:00-01:00",
    );
    check(1, "fri 09:07-09:08", "fri 09:07-09:08");
}

#[test]
fn text_form_refuses_what_is_not_a_grid() {
    for (r, input, why) in [
        (5, "mon 09:07-10:00", "bad range"),
        (15, "mon 09:00-09:50", "bad range"),
        (5, "mon 10:00-09:00", "bad range"),
        (5, "mon 10:00-10:00", "bad range"),
        (5, "monday 09:00-10:00", "unknown day"),
        (5, "09:00-10:00", "unknown day"),
        (5, "mon 09:00", "expected HH:MM-HH:MM"),
        (5, "mon 09:00-24:01", "out of range"),
        (5, "mon 9:00-10:00", "expected HH:MM"),
    ] {
        let err = WeekGrid::parse(res(r), input).expect_err(input).to_string();
        assert!(err.contains(why), "{input:?}: {err}");
    }
}

#[test]
fn covers_needs_every_touched_cell() {
    check_covers(
        15,
        "mon 09:00-09:45 10:00-11:00",
        &[
            // A 45-minute span on r = 15 is exactly three cells.
            (Weekday::Mon, "09:00", "09:45", true),
            (Weekday::Mon, "09:15", "09:45", true),
            (Weekday::Mon, "09:00", "09:46", false),
            (Weekday::Mon, "08:59", "09:45", false),
            // Off-grid minutes inside covered cells are covered.
            (Weekday::Mon, "09:05", "09:40", true),
            (Weekday::Mon, "09:44", "09:45", true),
            // The gap 09:45–10:00 is not covered, even by a one-minute touch.
            (Weekday::Mon, "09:30", "10:15", false),
            (Weekday::Mon, "09:59", "10:00", false),
            (Weekday::Mon, "10:00", "11:00", true),
            (Weekday::Tue, "10:00", "11:00", false),
            // An empty interval is covered.
            (Weekday::Tue, "10:00", "10:00", true),
        ],
    );
    check_covers(
        5,
        "sun 22:00-24:00",
        &[
            (Weekday::Sun, "23:00", "24:00", true),
            (Weekday::Sun, "23:55", "24:00", true),
            (Weekday::Mon, "00:00", "00:05", false),
        ],
    );
}

#[test]
fn covers_never_reaches_past_midnight() {
    let g = grid(5, "sun 00:00-24:00; mon 00:00-24:00");
    assert!(g.covers(Weekday::Sun, 0, 1440));
    // Minutes past 24:00 are never covered, even when the next day is.
    assert!(!g.covers(Weekday::Sun, 1430, 1441));
    assert!(!g.covers(Weekday::Sun, 1440, 1500));
}

#[test]
fn fill_sets_the_cells_touched_by_start_to_end() {
    check_fill(5, "09:00", "09:30", "mon 09:00-09:30");
    check_fill(5, "09:07", "09:09", "mon 09:05-09:10");
    check_fill(15, "09:07", "09:38", "mon 09:00-09:45");
    check_fill(15, "09:15", "09:16", "mon 09:15-09:30");
    check_fill(1, "09:07", "09:09", "mon 09:07-09:09");
    check_fill(5, "23:58", "24:00", "mon 23:55-24:00");
    // An empty or reversed interval on the grid sets nothing.
    check_fill(5, "09:05", "09:05", "");
    check_fill(5, "10:00", "09:00", "");
}

#[test]
fn fill_and_any_in_of_an_empty_off_grid_interval_touch_nothing() {
    check_fill(5, "09:07", "09:07", "");
    check_fill(5, "10:07", "09:00", "");
    let g = grid(5, "mon 09:00-10:00");
    assert!(!g.any_in(Weekday::Mon, time("09:07"), time("09:07")));
}

#[test]
fn fill_does_not_spill_into_the_cell_at_its_end() {
    let mut g = WeekGrid::new(res(5));
    g.fill(Weekday::Mon, time("09:00"), time("09:30"));
    assert!(g.is_set(Weekday::Mon, minute("09:25")));
    assert!(g.is_set(Weekday::Mon, minute("09:29")));
    assert!(!g.is_set(Weekday::Mon, minute("09:30")));
    assert!(!g.is_set(Weekday::Mon, minute("08:59")));
    assert!(!g.is_set(Weekday::Tue, minute("09:00")));
    assert_eq!(g.count(), 6);
}

#[test]
fn any_in_looks_at_touched_cells() {
    let g = grid(5, "wed 09:00-10:00");
    assert!(g.any_in(Weekday::Wed, time("09:55"), time("10:30")));
    assert!(g.any_in(Weekday::Wed, time("08:00"), time("09:01")));
    assert!(!g.any_in(Weekday::Wed, time("10:00"), time("11:00")));
    assert!(!g.any_in(Weekday::Wed, time("08:00"), time("09:00")));
    assert!(!g.any_in(Weekday::Thu, time("09:00"), time("10:00")));
    assert!(!g.any_in(Weekday::Wed, time("09:30"), time("09:30")));
}

#[test]
fn is_set_reads_the_cell_holding_a_minute() {
    let g = grid(15, "thu 09:00-09:15; sun 23:45-24:00");
    assert!(g.is_set(Weekday::Thu, minute("09:00")));
    assert!(g.is_set(Weekday::Thu, minute("09:14")));
    assert!(!g.is_set(Weekday::Thu, minute("09:15")));
    assert!(g.is_set(Weekday::Sun, 1439));
    // Minute 1440 has no cell.
    assert!(!g.is_set(Weekday::Sun, 1440));
}

#[test]
fn runs_yield_minutes_earliest_first() {
    let g = grid(
        5,
        "tue 08:00-10:00 10:00-11:00 13:00-24:00; wed 00:00-00:05",
    );
    let runs: Vec<(u32, u32)> = g.runs(Weekday::Tue).collect();
    assert_eq!(runs, [(480, 660), (780, 1440)]);
    let runs: Vec<(u32, u32)> = g.runs(Weekday::Wed).collect();
    assert_eq!(runs, [(0, 5)]);
    assert_eq!(g.runs(Weekday::Mon).count(), 0);
}

#[test]
fn intersection_and_union() {
    for (a, b, both, either) in [
        (
            "mon 09:00-12:00",
            "mon 11:00-13:00",
            "mon 11:00-12:00",
            "mon 09:00-13:00",
        ),
        ("mon 09:00-10:00", "mon 10:00-11:00", "", "mon 09:00-11:00"),
        (
            "mon 09:00-10:00",
            "tue 09:00-10:00",
            "",
            "mon 09:00-10:00; tue 09:00-10:00",
        ),
        (
            "mon 00:00-24:00; fri 08:00-09:00",
            "mon 08:00-08:15 20:00-24:00",
            "mon 08:00-08:15 20:00-24:00",
            "mon 00:00-24:00; fri 08:00-09:00",
        ),
        ("", "sun 23:00-24:00", "", "sun 23:00-24:00"),
    ] {
        let (ga, gb) = (grid(5, a), grid(5, b));
        assert_eq!(ga.intersection(&gb).to_string(), both, "{a:?} & {b:?}");
        assert_eq!(ga.union(&gb).to_string(), either, "{a:?} | {b:?}");
    }
}

#[test]
fn count_empty_and_debug() {
    let empty = WeekGrid::new(res(15));
    assert!(empty.is_empty());
    assert_eq!(empty.count(), 0);
    assert_eq!(empty.resolution(), res(15));
    let g = grid(15, "mon 09:00-10:00; sun 23:00-24:00");
    assert!(!g.is_empty());
    assert_eq!(g.count(), 8);
    assert_eq!(
        format!("{g:?}"),
        "WeekGrid(r=15, mon 09:00-10:00; sun 23:00-24:00)"
    );
}

/// A random grid: a few ranges on random days, on the grid of `r`.
fn arb_grid(r: u32) -> impl Strategy<Value = WeekGrid> {
    let cells = (1440 / r) as usize;
    prop::collection::vec((0..7usize, 0..cells, 1..=cells), 0..6).prop_map(move |ranges| {
        let mut g = WeekGrid::new(res(r));
        for (day, start, len) in ranges {
            let end = (start + len).min(cells);
            g.fill(
                Weekday::ALL[day],
                WallTime::from_minutes(start as u32 * r).unwrap(),
                WallTime::from_minutes(end as u32 * r).unwrap(),
            );
        }
        g
    })
}

fn arb_resolution() -> impl Strategy<Value = u32> {
    prop_oneof![Just(1u32), Just(5u32), Just(15u32)]
}

proptest! {
    #[test]
    fn prop_parse_print_is_identity((r, g) in arb_resolution().prop_flat_map(|r| (Just(r), arb_grid(r)))) {
        let text = g.to_string();
        prop_assert_eq!(WeekGrid::parse(res(r), &text).unwrap(), g);
    }

    #[test]
    fn prop_union_and_intersection_laws(
        (a, b) in arb_resolution().prop_flat_map(|r| (arb_grid(r), arb_grid(r)))
    ) {
        prop_assert_eq!(a.union(&b), b.union(&a));
        prop_assert_eq!(a.intersection(&b), b.intersection(&a));
        prop_assert_eq!(a.union(&b).count() + a.intersection(&b).count(), a.count() + b.count());
        prop_assert_eq!(a.union(&b).intersection(&a), a.clone());
    }

    #[test]
    fn prop_covers_agrees_with_is_set(
        (r, g, day, start, len) in arb_resolution().prop_flat_map(|r| {
            (Just(r), arb_grid(r), 0..7usize, 0..1440u32, 1..=240u32)
        })
    ) {
        // A naive model: every minute of the interval is in a set cell.
        let day = Weekday::ALL[day];
        let end = start + len;
        let naive = end <= 1440 && (start..end).all(|m| g.is_set(day, m));
        prop_assert_eq!(g.covers(day, start, end), naive, "r={} {} {}-{}", r, day, start, end);
    }
}
