use super::*;

use proptest::prelude::*;

fn res(minutes: u32) -> Resolution {
    Resolution::new(minutes).unwrap()
}

fn at(text: &str) -> Instant {
    text.parse().unwrap()
}

/// An instant on 2026-09-03 (UTC) at `hh:mm[:ss[.fraction]]`.
fn on_day(time: &str) -> Instant {
    let time = if time.len() == 5 {
        format!("{time}:00")
    } else {
        time.to_owned()
    };
    at(&format!("2026-09-03T{time}Z"))
}

/// The index of the UTC cell of `r` minutes holding `hh:mm` on 2026-09-03.
fn cell(r: u32, time: &str) -> i64 {
    on_day(time).unix_seconds().div_euclid(i64::from(r) * 60)
}

/// The cells `[start, end)` of `r` minutes, named by the wall times of their starts.
fn cells(r: u32, start: &str, end: &str) -> CellSpan {
    CellSpan {
        start: cell(r, start),
        end: cell(r, end),
    }
}

fn touched(r: u32, start: &str, end: &str) -> CellSpan {
    CellSpan::touched_by(res(r), on_day(start), on_day(end))
}

/// An occupancy at `r` from `(start, end)` wall times of 2026-09-03 (UTC).
fn occupancy(r: u32, appointments: &[(&str, &str)], time_off: &[(&str, &str)]) -> Occupancy {
    let pairs = |list: &[(&str, &str)]| -> Vec<(Instant, Instant)> {
        list.iter().map(|(a, b)| (on_day(a), on_day(b))).collect()
    };
    Occupancy::new(res(r), pairs(appointments), pairs(time_off))
}

#[test]
fn appointments_in_any_order_give_the_same_occupancy() {
    let list = [
        ("09:00", "09:30"),
        ("10:00", "10:30"),
        ("09:20", "09:50"),
        ("08:00", "08:05"),
        ("10:30", "11:00"),
    ];
    let expected = occupancy(5, &list, &[("12:00", "12:10")]);
    assert_eq!(expected.max_count(cells(5, "09:20", "09:30")), 2);
    assert_eq!(expected.max_count(cells(5, "09:30", "09:50")), 1);
    assert_eq!(
        expected.blocked(1).to_vec(),
        [
            cells(5, "08:00", "08:05"),
            cells(5, "09:00", "09:50"),
            cells(5, "10:00", "11:00"),
            cells(5, "12:00", "12:10"),
        ]
    );
    assert_eq!(
        expected.blocked(2).to_vec(),
        [cells(5, "09:20", "09:30"), cells(5, "12:00", "12:10")]
    );
    for k in 0..list.len() {
        let mut order = list.to_vec();
        order.rotate_left(k);
        assert_eq!(
            occupancy(5, &order, &[("12:00", "12:10")]),
            expected,
            "{order:?}"
        );
        order.reverse();
        assert_eq!(
            occupancy(5, &order, &[("12:00", "12:10")]),
            expected,
            "{order:?}"
        );
    }
    // In order and apart, as a document usually lists them: kept as they are, with
    // spans that touch still separate counts but one blocked stretch.
    let apart = occupancy(
        5,
        &[("08:00", "08:05"), ("10:00", "10:30"), ("10:30", "11:00")],
        &[],
    );
    assert_eq!(apart.max_count(cells(5, "08:00", "11:00")), 1);
    assert_eq!(
        apart.blocked(1).to_vec(),
        [cells(5, "08:00", "08:05"), cells(5, "10:00", "11:00")]
    );
}

#[test]
fn touched_by_counts_cells_sharing_a_positive_stretch() {
    for (r, start, end, first, past) in [
        // An off-grid appointment takes the whole cell it sits in.
        (5, "14:07", "14:09", "14:05", "14:10"),
        // [9:00, 9:30) touches 9:00 … 9:25, not the cell at 9:30.
        (5, "09:00", "09:30", "09:00", "09:30"),
        (15, "09:00", "09:45", "09:00", "09:45"),
        (15, "09:14", "09:16", "09:00", "09:30"),
        (1, "09:07", "09:09", "09:07", "09:09"),
        // A nanosecond past a boundary touches the next cell; one before it does not.
        (5, "09:00", "09:30:00.000000001", "09:00", "09:35"),
        (5, "09:29:59.999999999", "09:30", "09:25", "09:30"),
        (5, "09:30", "09:30:00.000000001", "09:30", "09:35"),
        (
            5,
            "09:04:59.999999999",
            "09:05:00.000000001",
            "09:00",
            "09:10",
        ),
    ] {
        assert_eq!(
            touched(r, start, end),
            cells(r, first, past),
            "r={r} [{start}, {end})"
        );
    }
    assert_eq!(
        touched(5, "14:07", "14:09").end - touched(5, "14:07", "14:09").start,
        1
    );
}

#[test]
fn of_seconds_matches_touched_by() {
    let (a, b) = (on_day("09:07"), on_day("10:01"));
    assert_eq!(
        CellSpan::of_seconds(300, a.unix_seconds(), b.unix_seconds()),
        CellSpan::touched_by(res(5), a, b)
    );
    assert_eq!(
        CellSpan::of_seconds(900, 900, 1800),
        CellSpan { start: 1, end: 2 }
    );
    assert_eq!(
        CellSpan::of_seconds(900, 901, 1801),
        CellSpan { start: 1, end: 3 }
    );
}

#[test]
fn spans_overlap_when_they_share_a_cell() {
    let span = |start, end| CellSpan { start, end };
    assert!(span(0, 2).overlaps(span(1, 3)));
    assert!(span(1, 3).overlaps(span(0, 2)));
    assert!(span(0, 5).overlaps(span(2, 3)));
    // Touching ends share no cell.
    assert!(!span(0, 2).overlaps(span(2, 4)));
    assert!(!span(2, 4).overlaps(span(0, 2)));
}

/// Three appointments: A [9:00, 10:00), B [9:30, 10:30) and C [9:30, 9:45).
fn three_overlapping() -> Occupancy {
    occupancy(
        5,
        &[("09:00", "10:00"), ("09:30", "10:30"), ("09:30", "09:45")],
        &[],
    )
}

#[test]
fn counts_follow_overlapping_appointments() {
    let occ = three_overlapping();
    for (start, end, count) in [
        ("09:00", "09:30", 1),
        ("09:30", "09:45", 3),
        ("09:45", "10:00", 2),
        ("10:00", "10:30", 1),
        ("10:30", "11:00", 0),
        ("08:00", "09:00", 0),
        ("08:00", "12:00", 3),
        ("09:40", "09:50", 3),
        ("09:45", "09:50", 2),
    ] {
        assert_eq!(occ.max_count(cells(5, start, end)), count, "{start}-{end}");
    }
}

#[test]
fn appointments_in_any_order_give_the_same_counts() {
    let forward = three_overlapping();
    let backward = occupancy(
        5,
        &[("09:30", "09:45"), ("09:30", "10:30"), ("09:00", "10:00")],
        &[],
    );
    assert_eq!(forward, backward);
}

#[test]
fn back_to_back_and_identical_appointments() {
    let occ = occupancy(
        5,
        &[("09:00", "09:30"), ("09:30", "10:00"), ("09:30", "10:00")],
        &[],
    );
    assert_eq!(occ.max_count(cells(5, "09:00", "09:30")), 1);
    assert_eq!(occ.max_count(cells(5, "09:30", "10:00")), 2);
    assert_eq!(occ.max_count(cells(5, "10:00", "10:05")), 0);
    // The ends of the first and the starts of the others meet in no cell.
    assert!(occ.is_free(cells(5, "09:25", "09:30"), 2));
    assert!(!occ.is_free(cells(5, "09:25", "09:35"), 2));
}

#[test]
fn busiest_cell_is_the_first_cell_with_the_most() {
    let occ = three_overlapping();
    assert_eq!(
        occ.busiest_cell(cells(5, "08:00", "12:00")),
        Some((cell(5, "09:30"), 3))
    );
    // The answer lies inside the span asked about, even when a run starts before it.
    assert_eq!(
        occ.busiest_cell(cells(5, "09:40", "10:30")),
        Some((cell(5, "09:40"), 3))
    );
    assert_eq!(
        occ.busiest_cell(cells(5, "09:50", "10:30")),
        Some((cell(5, "09:50"), 2))
    );
    assert_eq!(
        occ.busiest_cell(cells(5, "10:10", "12:00")),
        Some((cell(5, "10:10"), 1))
    );
    assert_eq!(occ.busiest_cell(cells(5, "10:30", "12:00")), None);
    assert_eq!(
        Occupancy::default().busiest_cell(cells(5, "00:00", "23:00")),
        None
    );
}

#[test]
fn time_off_touches_cells_it_shares_a_stretch_with() {
    let occ = occupancy(5, &[], &[("12:00", "17:00"), ("18:03", "18:04")]);
    for (start, end, touches) in [
        ("16:55", "17:00", true),
        ("12:00", "12:05", true),
        ("11:00", "20:00", true),
        ("17:00", "17:05", false),
        ("11:55", "12:00", false),
        // An off-grid minute of time off takes its whole cell.
        ("18:00", "18:05", true),
        ("18:05", "18:10", false),
        ("17:55", "18:00", false),
    ] {
        assert_eq!(
            occ.time_off_touches(cells(5, start, end)),
            touches,
            "{start}-{end}"
        );
    }
    // Time off is not an appointment: no count.
    assert_eq!(occ.max_count(cells(5, "12:00", "17:00")), 0);
}

#[test]
fn is_free_at_capacities_one_to_three() {
    let occ = occupancy(
        5,
        &[("09:00", "10:00"), ("09:30", "10:30")],
        &[("13:00", "14:00")],
    );
    for (start, end, free) in [
        ("08:00", "09:00", [true, true, true]),
        ("09:00", "09:30", [false, true, true]),
        ("09:30", "10:00", [false, false, true]),
        ("09:00", "10:30", [false, false, true]),
        ("10:00", "10:30", [false, true, true]),
        ("10:30", "13:00", [true, true, true]),
        // Time off blocks at every capacity.
        ("12:55", "13:05", [false, false, false]),
    ] {
        for capacity in 1..=3 {
            assert_eq!(
                occ.is_free(cells(5, start, end), capacity),
                free[capacity as usize - 1],
                "{start}-{end} at capacity {capacity}"
            );
        }
    }
}

#[test]
fn blocked_lists_merged_spans_per_capacity() {
    let occ = occupancy(
        5,
        &[("09:00", "10:00"), ("09:30", "10:30"), ("11:00", "11:30")],
        &[("10:30", "11:00"), ("13:00", "14:00")],
    );
    let as_cells = |spans: &[CellSpan]| spans.to_vec();
    // At capacity 1 every appointment and time off blocks; touching spans merge.
    assert_eq!(
        as_cells(&occ.blocked(1)),
        [cells(5, "09:00", "11:30"), cells(5, "13:00", "14:00")]
    );
    assert_eq!(occ.blocked_any(), &occ.blocked(1)[..]);
    assert_eq!(as_cells(&occ.blocked(0)), as_cells(&occ.blocked(1)));
    // At capacity 2 only the cells holding two appointments, and time off.
    assert_eq!(
        as_cells(&occ.blocked(2)),
        [
            cells(5, "09:30", "10:00"),
            cells(5, "10:30", "11:00"),
            cells(5, "13:00", "14:00")
        ]
    );
    // At capacity 3 only time off.
    assert_eq!(
        as_cells(&occ.blocked(3)),
        [cells(5, "10:30", "11:00"), cells(5, "13:00", "14:00")]
    );
}

#[test]
fn an_empty_span_holds_no_appointment() {
    let occ = occupancy(5, &[("09:00", "10:00")], &[]);
    let empty = cells(5, "09:30", "09:30");
    assert_eq!(occ.max_count(empty), 0);
    assert_eq!(occ.busiest_cell(empty), None);
    assert!(occ.is_free(empty, 1));
}

#[test]
fn blocked_merges_overlapping_time_off() {
    let occ = occupancy(
        15,
        &[],
        &[("09:00", "11:00"), ("10:00", "12:00"), ("12:07", "12:08")],
    );
    assert_eq!(occ.blocked(1).to_vec(), [cells(15, "09:00", "12:15")]);
}

#[test]
fn cursors_resume_past_spans_that_end_before_the_first_cell() {
    let occ = occupancy(5, &[("09:00", "10:00"), ("11:00", "12:00")], &[]);
    let mut position = 0;
    let mut cursor = BlockedCursor::resume(occ.blocked_any(), &mut position, cell(5, "10:00"));
    assert_eq!(position, 1);
    assert!(cursor.is_free(cells(5, "10:00", "11:00")));
    assert!(!cursor.is_free(cells(5, "10:30", "11:05")));
    assert!(cursor.is_free(cells(5, "12:00", "13:00")));
    // Resuming never moves back.
    let _ = BlockedCursor::resume(occ.blocked_any(), &mut position, cell(5, "08:00"));
    assert_eq!(position, 1);

    let (mut counts, mut time_off) = (0, 0);
    let mut cursor =
        CapacityCursor::resume(&occ, 2, (&mut counts, &mut time_off), cell(5, "10:00"));
    assert_eq!((counts, time_off), (1, 0));
    assert!(cursor.is_free(cells(5, "10:30", "11:05")));
}

/// A span of cells starting at `start`, `len` cells long.
fn span(start: i64, len: i64) -> CellSpan {
    CellSpan {
        start,
        end: start + len,
    }
}

/// Appointments and time off on a small stretch of cells, as instants at r = 5, with a
/// few off-grid ones (seconds into a cell).
fn arb_intervals(max: usize) -> impl Strategy<Value = Vec<(Instant, Instant)>> {
    prop::collection::vec((0..200i64, 1..2000i64), 0..max).prop_map(|list| {
        let base = on_day("00:00").unix_seconds();
        list.into_iter()
            .map(|(start, len)| {
                // Starts every 30 seconds, lengths up to ~16 hours in 30-second steps.
                let a = base + start * 30;
                let b = a + len * 30;
                (
                    Instant::from_unix_seconds(a).unwrap(),
                    Instant::from_unix_seconds(b).unwrap(),
                )
            })
            .collect()
    })
}

/// Candidate spans in the order a search would pass them: starts never decrease.
fn arb_candidates() -> impl Strategy<Value = Vec<CellSpan>> {
    prop::collection::vec((0..4i64, 1..20i64), 1..60).prop_map(|steps| {
        let first = cell(5, "00:00") - 5;
        let mut start = first;
        steps
            .into_iter()
            .map(|(gap, len)| {
                start += gap;
                span(start, len)
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn prop_cursors_agree_with_is_free(
        appointments in arb_intervals(12),
        time_off in arb_intervals(3),
        candidates in arb_candidates(),
        capacity in 2..5u32,
    ) {
        let occ = Occupancy::new(res(5), appointments, time_off);
        let first = candidates[0].start;

        let mut position = 0;
        let mut blocked = BlockedCursor::resume(occ.blocked_any(), &mut position, first);
        let (mut counts, mut off) = (0, 0);
        let mut shared = CapacityCursor::resume(&occ, capacity, (&mut counts, &mut off), first);
        for c in &candidates {
            prop_assert_eq!(FreeCells::is_free(&mut blocked, *c), occ.is_free(*c, 1), "{:?}", c);
            prop_assert_eq!(
                FreeCells::is_free(&mut shared, *c),
                occ.is_free(*c, capacity),
                "{:?} at capacity {}", c, capacity
            );
        }
    }

    #[test]
    fn prop_max_count_agrees_with_a_naive_count(
        appointments in arb_intervals(12),
        probe in (0..200i64, 1..30i64),
    ) {
        let r = res(5);
        let occ = Occupancy::new(r, appointments.clone(), []);
        let probe = span(cell(5, "00:00") + probe.0, probe.1);
        // Per cell of the probe, count the appointments touching it.
        let naive = (probe.start..probe.end)
            .map(|c| {
                appointments
                    .iter()
                    .filter(|(a, b)| CellSpan::touched_by(r, *a, *b).overlaps(span(c, 1)))
                    .count() as u32
            })
            .max()
            .unwrap_or(0);
        prop_assert_eq!(occ.max_count(probe), naive);
        match occ.busiest_cell(probe) {
            Some((c, n)) => {
                prop_assert_eq!(n, naive);
                prop_assert!(probe.start <= c && c < probe.end);
                prop_assert_eq!(occ.max_count(span(c, 1)), n);
                // No earlier cell of the probe holds as many.
                for earlier in probe.start..c {
                    prop_assert!(occ.max_count(span(earlier, 1)) < n);
                }
            }
            None => prop_assert_eq!(naive, 0),
        }
    }
}
