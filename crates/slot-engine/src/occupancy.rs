//! Appointment occupancy as per-cell conflict counts, and time off (rules 10 and 11).
//!
//! Time here is UTC cells: `[k·r, (k+1)·r)` minutes after the Unix epoch. An
//! appointment occupies every cell it touches, so an off-grid 14:07–14:09 appointment
//! takes the whole 14:05 cell. [`Occupancy`] keeps, per practitioner, the piecewise
//! constant count of appointments per cell and the cells touched by time off; the
//! search asks it for the cells that are *blocked* at a given capacity.
//!
//! ```
//! use slot_engine::{CellSpan, Instant, Occupancy, Resolution};
//! let r = Resolution::new(15).unwrap();
//! let at = |s: &str| s.parse::<Instant>().unwrap();
//! // Two appointments 09:00-09:30, and time off from 11:00 to 11:10.
//! let occupancy = Occupancy::new(
//!     r,
//!     [(at("2026-03-02T09:00:00Z"), at("2026-03-02T09:30:00Z")); 2],
//!     [(at("2026-03-02T11:00:00Z"), at("2026-03-02T11:10:00Z"))],
//! );
//! let slot = CellSpan::touched_by(r, at("2026-03-02T09:15:00Z"), at("2026-03-02T10:00:00Z"));
//! assert!(!occupancy.is_free(slot, 2)); // two of two places taken at 09:15
//! assert!(occupancy.is_free(slot, 3));
//! // Time off blocks whatever the capacity, and takes the whole 11:00 cell.
//! let late = CellSpan::touched_by(r, at("2026-03-02T11:10:00Z"), at("2026-03-02T11:20:00Z"));
//! assert!(!occupancy.is_free(late, 100));
//! ```

use std::borrow::Cow;

use crate::calendar::Instant;
use crate::grid::Resolution;

/// A half-open range of UTC cells `[start, end)`, each cell numbered by how many
/// cells of the resolution lie between the Unix epoch and it (cell `k` is
/// `[k·r, (k+1)·r)` minutes after the epoch).
///
/// ```
/// use slot_engine::{CellSpan, Instant, Resolution};
/// let r = Resolution::new(5).unwrap();
/// let a: Instant = "2026-09-03T14:07:00-07:00".parse().unwrap();
/// let b: Instant = "2026-09-03T14:09:00-07:00".parse().unwrap();
/// let span = CellSpan::touched_by(r, a, b);
/// assert_eq!(span.end - span.start, 1); // one cell: 14:05–14:10
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellSpan {
    /// The number of the first cell in the span.
    pub start: i64,
    /// The number of the cell just past the span; `end <= start` holds no cell.
    pub end: i64,
}

impl CellSpan {
    /// The cells touched by the instants `[start, end)`: those sharing a stretch of
    /// positive length with it (rule 1), counted with the instants' full nanosecond
    /// precision. An empty interval touches none.
    ///
    /// ```
    /// use slot_engine::{CellSpan, Instant, Resolution};
    /// let r = Resolution::new(15).unwrap();
    /// let at = |s: &str| s.parse::<Instant>().unwrap();
    /// // 09:00 to 09:30 touches two cells, not the one starting at 09:30 ...
    /// let half_hour = CellSpan::touched_by(r, at("2026-03-02T09:00:00Z"), at("2026-03-02T09:30:00Z"));
    /// assert_eq!(half_hour.end - half_hour.start, 2);
    /// // ... but a nanosecond more reaches into it.
    /// let more = CellSpan::touched_by(r, at("2026-03-02T09:00:00Z"), at("2026-03-02T09:30:00.000000001Z"));
    /// assert_eq!(more.end - more.start, 3);
    /// assert!(CellSpan::touched_by(r, at("2026-03-02T09:00:00Z"), at("2026-03-02T09:00:00Z")).is_empty());
    /// ```
    #[inline]
    pub fn touched_by(resolution: Resolution, start: Instant, end: Instant) -> CellSpan {
        // One arm per resolution, so each division is by a constant (a multiplication)
        // rather than by a variable: this runs once per appointment.
        const MINUTE: i64 = 60_000_000_000;
        #[inline(always)]
        fn by<const CELL: i64>(start: Instant, end: Instant) -> CellSpan {
            CellSpan {
                start: start.unix_nanos().div_euclid(CELL),
                end: ceil_div(end.unix_nanos(), CELL),
            }
        }
        match resolution.minutes() {
            5 => by::<{ 5 * MINUTE }>(start, end),
            15 => by::<{ 15 * MINUTE }>(start, end),
            _ => by::<MINUTE>(start, end),
        }
    }

    /// The cells touched by `[start, end)` given in whole seconds.
    pub(crate) fn of_seconds(cell_seconds: i64, start: i64, end: i64) -> CellSpan {
        CellSpan {
            start: start.div_euclid(cell_seconds),
            end: ceil_div(end, cell_seconds),
        }
    }

    /// Whether the two spans share a cell.
    ///
    /// ```
    /// use slot_engine::CellSpan;
    /// let a = CellSpan { start: 10, end: 12 };
    /// assert!(a.overlaps(CellSpan { start: 11, end: 13 }));
    /// assert!(!a.overlaps(CellSpan { start: 12, end: 13 })); // half-open: they only meet
    /// ```
    pub fn overlaps(self, other: CellSpan) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether the span holds no cell (`end <= start`), as for an empty interval:
    /// neither appointments nor time off can block it.
    ///
    /// ```
    /// use slot_engine::CellSpan;
    /// assert!(CellSpan { start: 4, end: 4 }.is_empty());
    /// assert!(!CellSpan { start: 4, end: 5 }.is_empty());
    /// ```
    pub fn is_empty(self) -> bool {
        self.start >= self.end
    }
}

fn ceil_div(a: i64, b: i64) -> i64 {
    -((-a).div_euclid(b))
}

/// How many appointments occupy each UTC cell of one practitioner, and which cells
/// their time off touches.
///
/// ```
/// use slot_engine::{CellSpan, Instant, Occupancy, Resolution};
/// let r = Resolution::new(15).unwrap();
/// let at = |s: &str| s.parse::<Instant>().unwrap();
/// let nine = at("2026-09-03T09:00:00Z");
/// let ten = at("2026-09-03T10:00:00Z");
/// let occ = Occupancy::new(r, [(nine, ten), (nine, ten)], []);
/// let hour = CellSpan::touched_by(r, nine, ten);
/// assert_eq!(occ.max_count(hour), 2);
/// assert!(occ.is_free(hour, 3));
/// assert!(!occ.is_free(hour, 2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Occupancy {
    /// Disjoint spans with their appointment count (≥ 1), earliest first.
    counts: Vec<(CellSpan, u32)>,
    /// Disjoint, merged spans touched by time off.
    time_off: Vec<CellSpan>,
    /// Cells blocked at capacity 1: the union of `counts` and `time_off`.
    blocked_any: Vec<CellSpan>,
}

impl Occupancy {
    /// The occupancy of a practitioner's appointments and time off, each given as
    /// `[start, end)` instants. The caller leaves out cancelled appointments (the
    /// model does); every appointment given counts, in every cell it touches.
    ///
    /// ```
    /// use slot_engine::{CellSpan, Instant, Occupancy, Resolution};
    /// let r = Resolution::new(5).unwrap();
    /// let at = |s: &str| s.parse::<Instant>().unwrap();
    /// // Two appointments overlapping from 09:20 to 09:30.
    /// let occupancy = Occupancy::new(r, [
    ///     (at("2026-03-02T09:00:00Z"), at("2026-03-02T09:30:00Z")),
    ///     (at("2026-03-02T09:20:00Z"), at("2026-03-02T09:50:00Z")),
    /// ], []);
    /// let count = |from, to| occupancy.max_count(CellSpan::touched_by(r, at(from), at(to)));
    /// assert_eq!(count("2026-03-02T09:00:00Z", "2026-03-02T09:20:00Z"), 1);
    /// assert_eq!(count("2026-03-02T09:25:00Z", "2026-03-02T09:30:00Z"), 2);
    /// assert_eq!(count("2026-03-02T09:50:00Z", "2026-03-02T10:00:00Z"), 0);
    /// ```
    pub fn new(
        resolution: Resolution,
        appointments: impl IntoIterator<Item = (Instant, Instant)>,
        time_off: impl IntoIterator<Item = (Instant, Instant)>,
    ) -> Self {
        let spans = appointments
            .into_iter()
            .map(|(a, b)| (CellSpan::touched_by(resolution, a, b), 1))
            .collect();
        let time_off = time_off
            .into_iter()
            .map(|(a, b)| CellSpan::touched_by(resolution, a, b))
            .collect();
        Occupancy::from_spans(spans, time_off)
    }

    /// The occupancy of appointments given as the cells each touches (each paired with
    /// a count of 1), and of time off given as cells.
    ///
    /// A document usually lists a practitioner's appointments in order and without
    /// overlap: then the spans already are the counts, and are kept as they are. Any
    /// other order, or an overlap, takes a sweep over the sorted ends.
    pub(crate) fn from_spans(mut spans: Vec<(CellSpan, u32)>, time_off: Vec<CellSpan>) -> Self {
        debug_assert!(spans.iter().all(|(_, n)| *n == 1));
        spans.retain(|(s, _)| !s.is_empty());
        let disjoint =
            |spans: &[(CellSpan, u32)]| spans.windows(2).all(|w| w[0].0.end <= w[1].0.start);
        let counts = if disjoint(&spans) {
            spans
        } else {
            // Usually a few runs in order (a day's visits, then its other bookings):
            // the stable sort merges runs rather than sorting from scratch.
            spans.sort_by_key(|(s, _)| s.start);
            if disjoint(&spans) {
                spans
            } else {
                sweep(&spans)
            }
        };
        let time_off = merge(time_off);
        let blocked_any = merge_sorted(counts.iter().map(|(s, _)| *s), &time_off);
        Occupancy {
            counts,
            time_off,
            blocked_any,
        }
    }

    /// The most appointments sharing one cell of `span` (0 for an empty span).
    ///
    /// ```
    /// use slot_engine::{CellSpan, Instant, Occupancy, Resolution};
    /// let r = Resolution::new(5).unwrap();
    /// let at = |s: &str| s.parse::<Instant>().unwrap();
    /// let occupancy = Occupancy::new(r, [(at("2026-03-02T14:07:00Z"), at("2026-03-02T14:09:00Z"))], []);
    /// // The off-grid appointment takes the whole 14:05 cell.
    /// assert_eq!(occupancy.max_count(CellSpan::touched_by(r, at("2026-03-02T14:05:00Z"), at("2026-03-02T14:06:00Z"))), 1);
    /// assert_eq!(occupancy.max_count(CellSpan::touched_by(r, at("2026-03-02T14:10:00Z"), at("2026-03-02T14:20:00Z"))), 0);
    /// ```
    pub fn max_count(&self, span: CellSpan) -> u32 {
        if span.is_empty() {
            return 0;
        }
        let first = self.counts.partition_point(|(s, _)| s.end <= span.start);
        self.counts[first..]
            .iter()
            .take_while(|(s, _)| s.start < span.end)
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0)
    }

    /// The first cell of `span` holding the most appointments, with that count.
    ///
    /// ```
    /// use slot_engine::{CellSpan, Instant, Occupancy, Resolution};
    /// let r = Resolution::new(15).unwrap();
    /// let at = |s: &str| s.parse::<Instant>().unwrap();
    /// let occupancy = Occupancy::new(r, [
    ///     (at("2026-03-02T09:00:00Z"), at("2026-03-02T10:00:00Z")),
    ///     (at("2026-03-02T09:30:00Z"), at("2026-03-02T10:30:00Z")),
    /// ], []);
    /// let morning = CellSpan::touched_by(r, at("2026-03-02T08:00:00Z"), at("2026-03-02T12:00:00Z"));
    /// let (cell, count) = occupancy.busiest_cell(morning).unwrap();
    /// assert_eq!(count, 2);
    /// assert_eq!(cell, CellSpan::touched_by(r, at("2026-03-02T09:30:00Z"), at("2026-03-02T09:45:00Z")).start);
    /// ```
    pub fn busiest_cell(&self, span: CellSpan) -> Option<(i64, u32)> {
        if span.is_empty() {
            return None;
        }
        let first = self.counts.partition_point(|(s, _)| s.end <= span.start);
        let mut best: Option<(i64, u32)> = None;
        for (s, n) in self.counts[first..]
            .iter()
            .take_while(|(s, _)| s.start < span.end)
        {
            if best.is_none_or(|(_, m)| *n > m) {
                best = Some((s.start.max(span.start), *n));
            }
        }
        best
    }

    /// Whether any cell of `span` is touched by time off.
    ///
    /// ```
    /// use slot_engine::{CellSpan, Instant, Occupancy, Resolution};
    /// let r = Resolution::new(5).unwrap();
    /// let at = |s: &str| s.parse::<Instant>().unwrap();
    /// let occupancy = Occupancy::new(r, [], [(at("2026-03-02T12:00:00Z"), at("2026-03-02T12:42:00Z"))]);
    /// // Time off ending at 12:42 takes the cell up to 12:45.
    /// assert!(occupancy.time_off_touches(CellSpan::touched_by(r, at("2026-03-02T12:40:00Z"), at("2026-03-02T13:00:00Z"))));
    /// assert!(!occupancy.time_off_touches(CellSpan::touched_by(r, at("2026-03-02T12:45:00Z"), at("2026-03-02T13:00:00Z"))));
    /// ```
    pub fn time_off_touches(&self, span: CellSpan) -> bool {
        if span.is_empty() {
            return false;
        }
        let i = self.time_off.partition_point(|s| s.end <= span.start);
        self.time_off.get(i).is_some_and(|s| s.start < span.end)
    }

    /// Whether `span` is free of time off and every cell holds fewer than `capacity`
    /// appointments: rules 10 and 11 for one candidate, with `capacity` 1 unless its
    /// schedule type allows conflicts.
    ///
    /// ```
    /// use slot_engine::{CellSpan, Instant, Occupancy, Resolution};
    /// let r = Resolution::new(15).unwrap();
    /// let at = |s: &str| s.parse::<Instant>().unwrap();
    /// let busy = (at("2026-09-03T16:00:00Z"), at("2026-09-03T17:00:00Z"));
    /// let occupancy = Occupancy::new(r, [busy, busy], []);
    /// let slot = CellSpan::touched_by(r, busy.0, busy.1);
    /// assert!(!occupancy.is_free(slot, 1)); // a private session: taken
    /// assert!(!occupancy.is_free(slot, 2)); // two places, both taken
    /// assert!(occupancy.is_free(slot, 3)); // a group class of three: one place left
    /// ```
    pub fn is_free(&self, span: CellSpan, capacity: u32) -> bool {
        !self.time_off_touches(span) && self.max_count(span) < capacity
    }

    /// The cells blocked at capacity 1: any appointment or time off.
    pub(crate) fn blocked_any(&self) -> &[CellSpan] {
        &self.blocked_any
    }

    /// The cells where a booking needing `capacity` places does not fit: time off, and
    /// cells holding `capacity` or more appointments. Disjoint, merged, earliest first.
    ///
    /// ```
    /// use slot_engine::{CellSpan, Instant, Occupancy, Resolution};
    /// let r = Resolution::new(15).unwrap();
    /// let at = |s: &str| s.parse::<Instant>().unwrap();
    /// let occupancy = Occupancy::new(r, [
    ///     (at("2026-03-02T09:00:00Z"), at("2026-03-02T10:00:00Z")),
    ///     (at("2026-03-02T09:30:00Z"), at("2026-03-02T10:30:00Z")),
    /// ], []);
    /// let cells = |capacity| occupancy.blocked(capacity).iter().map(|s| s.end - s.start).collect::<Vec<_>>();
    /// assert_eq!(cells(1), [6]); // 09:00 to 10:30, six cells
    /// assert_eq!(cells(2), [2]); // 09:30 to 10:00, where both are
    /// assert!(cells(3).is_empty());
    /// ```
    pub fn blocked(&self, capacity: u32) -> Cow<'_, [CellSpan]> {
        if capacity <= 1 {
            return Cow::Borrowed(&self.blocked_any);
        }
        Cow::Owned(merge(
            self.counts
                .iter()
                .filter(|(_, n)| *n >= capacity)
                .map(|(s, _)| *s)
                .chain(self.time_off.iter().copied())
                .collect(),
        ))
    }
}

/// The counts of overlapping spans: where the number of spans covering a cell
/// changes, a new count begins.
fn sweep(spans: &[(CellSpan, u32)]) -> Vec<(CellSpan, u32)> {
    // Starts come sorted; the ends are sorted apart, then both are walked together.
    let mut ends: Vec<i64> = spans.iter().map(|(s, _)| s.end).collect();
    ends.sort();
    let starts = spans.iter().map(|(s, _)| s.start);
    let mut starts = starts.peekable();
    let mut ends = ends.into_iter().peekable();
    let mut counts: Vec<(CellSpan, u32)> = Vec::with_capacity(spans.len());
    let mut level: i64 = 0;
    loop {
        let at = match (starts.peek(), ends.peek()) {
            (Some(&s), Some(&e)) => s.min(e),
            (None, Some(&e)) => e,
            (Some(&s), None) => s,
            (None, None) => break,
        };
        let before = level;
        while starts.next_if_eq(&at).is_some() {
            level += 1;
        }
        while ends.next_if_eq(&at).is_some() {
            level -= 1;
        }
        if before > 0
            && let Some(last) = counts.last_mut()
        {
            last.0.end = at;
        }
        if level > 0 {
            counts.push((CellSpan { start: at, end: at }, level as u32));
        }
    }
    counts
}

/// The union of two lists of disjoint spans, each earliest first, with spans that
/// overlap or touch merged.
fn merge_sorted(a: impl Iterator<Item = CellSpan>, b: &[CellSpan]) -> Vec<CellSpan> {
    let mut out: Vec<CellSpan> = Vec::with_capacity(a.size_hint().0 + b.len());
    let mut push = |s: CellSpan| match out.last_mut() {
        Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
        _ => out.push(s),
    };
    let mut b = b.iter().copied().peekable();
    for s in a {
        while let Some(t) = b.next_if(|t| t.start < s.start) {
            push(t);
        }
        push(s);
    }
    b.for_each(push);
    out
}

/// Sorts spans and merges those that overlap or touch.
fn merge(mut spans: Vec<CellSpan>) -> Vec<CellSpan> {
    spans.retain(|s| !s.is_empty());
    spans.sort_unstable();
    let mut out: Vec<CellSpan> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// Answers "is this span free?" for candidates that come in increasing order.
pub(crate) trait FreeCells {
    /// Whether `span` is free; spans passed must not start before the previous one.
    fn is_free(&mut self, span: CellSpan) -> bool;
}

/// Skips the spans that end at or before `first`, from `position` on, and records
/// where it stopped (callers pass a `first` that never decreases).
fn resume_at<'a, T>(
    spans: &'a [T],
    position: &mut usize,
    first: i64,
    end: impl Fn(&T) -> i64,
) -> &'a [T] {
    let mut i = (*position).min(spans.len());
    while i < spans.len() && end(&spans[i]) <= first {
        i += 1;
    }
    *position = i;
    &spans[i..]
}

/// Walks merged blocked spans (capacity 1: any appointment or time off).
#[derive(Debug)]
pub(crate) struct BlockedCursor<'a> {
    spans: &'a [CellSpan],
}

impl<'a> BlockedCursor<'a> {
    /// A cursor for candidates starting at or after cell `first`.
    pub(crate) fn resume(spans: &'a [CellSpan], position: &mut usize, first: i64) -> Self {
        Self {
            spans: resume_at(spans, position, first, |s| s.end),
        }
    }
}

impl FreeCells for BlockedCursor<'_> {
    #[inline]
    fn is_free(&mut self, span: CellSpan) -> bool {
        while let Some(first) = self.spans.first() {
            if first.end <= span.start {
                self.spans = &self.spans[1..];
            } else {
                return first.start >= span.end;
            }
        }
        true
    }
}

/// Walks appointment counts and time off for a capacity above 1.
#[derive(Debug)]
pub(crate) struct CapacityCursor<'a> {
    counts: &'a [(CellSpan, u32)],
    time_off: &'a [CellSpan],
    capacity: u32,
}

impl<'a> CapacityCursor<'a> {
    /// A cursor for candidates starting at or after cell `first`.
    pub(crate) fn resume(
        occupancy: &'a Occupancy,
        capacity: u32,
        (counts, time_off): (&mut usize, &mut usize),
        first: i64,
    ) -> Self {
        Self {
            counts: resume_at(&occupancy.counts, counts, first, |(s, _)| s.end),
            time_off: resume_at(&occupancy.time_off, time_off, first, |s| s.end),
            capacity,
        }
    }
}

impl FreeCells for CapacityCursor<'_> {
    #[inline]
    fn is_free(&mut self, span: CellSpan) -> bool {
        while self.time_off.first().is_some_and(|t| t.end <= span.start) {
            self.time_off = &self.time_off[1..];
        }
        if self.time_off.first().is_some_and(|t| t.start < span.end) {
            return false;
        }
        while self
            .counts
            .first()
            .is_some_and(|(s, _)| s.end <= span.start)
        {
            self.counts = &self.counts[1..];
        }
        self.counts
            .iter()
            .take_while(|(s, _)| s.start < span.end)
            .all(|(_, n)| *n < self.capacity)
    }
}

#[cfg(test)]
mod tests;
