//! The slot search: which slots of a service may a patient book (rules 2–12).
//!
//! The search walks dates in order and, per date, every eligible practitioner (rule 3)
//! in id order. For the record in force (rule 4) it walks the day's *runs* — stretches
//! covered by one schedule type of the service, inside the portal overlay (rules 5, 7,
//! 8) — and steps candidate start times through each run at the record's slot step
//! (rule 2). A candidate then needs only its instants (rule 9, one addition on an
//! ordinary day), the booking window (rule 12) and one look at the practitioner's
//! blocked cells (rules 10, 11) through a cursor that moves forward with it.
//!
//! Slots of one clinic and date come out practitioner by practitioner; a counting sort
//! on the wall-clock start orders them (start instants rise with wall-clock time within
//! a date and zone), dates follow each other, and the streams of different clinics are
//! merged at the end.
//!
//! ```
//! use slot_engine::{Model, PortalQuery};
//! let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
//! let all = model.open_slots(model.query().unwrap());
//! // The first three open slots, searched only as far as needed.
//! let q = PortalQuery::new(&model, "initial", "2026-03-01T12:00:00Z".parse().unwrap())?;
//! let first = model.first_available(&q, "2026-03-02".parse().unwrap(), 3);
//! assert_eq!(first, all[..3]);
//! # Ok::<(), slot_engine::Error>(())
//! ```

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, FixedOffset};

use crate::availability::Run;
use crate::calendar::{self, Date, Instant, MINUTES_PER_DAY};
use crate::index::ResourceIx;
use crate::model::{
    ClinicIx, Model, Practitioner, PractitionerIx, ScheduleTypeIx, Service, ServiceIx,
};
use crate::occupancy::{BlockedCursor, CapacityCursor, CellSpan, FreeCells};
use crate::resource::Need;
use crate::zone::DayZone;

pub use crate::model::query::{DateRange, MAX_QUERY_DAYS, PortalQuery, SlotQuery};

/// One open slot: who, under which schedule type, where, and from when to when, its
/// two ends exactly the service's duration apart and each read in the offset its
/// clinic has then.
///
/// Slots order as the answer lists them: by start instant, then practitioner id, then
/// schedule type id, then clinic id. A slot names its practitioner, schedule type and
/// clinic by model index; [`Answer`](crate::Answer) turns them back into ids.
///
/// ```
/// use slot_engine::Model;
/// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
/// let slot = model.open_slots(model.query().unwrap())[0];
/// assert_eq!(model.practitioner(slot.practitioner).id.as_str(), "christine");
/// assert_eq!(model.clinic(slot.clinic).id.as_str(), "toronto");
/// assert_eq!(slot.start_text(), "2026-03-02T10:00:00-05:00");
/// assert_eq!(slot.end_instant().to_string(), "2026-03-02T15:45:00Z");
/// assert_eq!(slot.end_seconds() - slot.start_seconds(), 45 * 60);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Slot {
    /// The practitioner offered; slots at one instant list practitioners in id order.
    pub practitioner: PractitionerIx,
    /// The schedule type whose blocks hold every cell of the slot (rule 5).
    pub schedule_type: ScheduleTypeIx,
    /// The clinic the slot is at (rule 6), whose zone its times and date are read in.
    pub clinic: ClinicIx,
    /// The service it is a slot of.
    pub service: ServiceIx,
    /// Seconds since the Unix epoch.
    start: i64,
    /// Seconds from start to end: the service's duration (rule 9 makes it exact).
    length: u32,
    start_offset: i32,
    end_offset: i32,
}

impl Slot {
    pub(crate) fn new(
        (practitioner, service): (PractitionerIx, ServiceIx),
        schedule_type: ScheduleTypeIx,
        clinic: ClinicIx,
        (start, start_offset): (i64, i32),
        (end, end_offset): (i64, i32),
    ) -> Self {
        Slot {
            practitioner,
            schedule_type,
            clinic,
            service,
            start,
            length: (end - start) as u32,
            start_offset,
            end_offset,
        }
    }

    /// The start, in the clinic's offset at that instant.
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let slot = model.open_slots(model.query().unwrap())[0];
    /// assert_eq!(slot.start().to_rfc3339(), "2026-03-02T10:00:00-05:00");
    /// assert_eq!(slot.end().to_rfc3339(), "2026-03-02T10:45:00-05:00");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn start(&self) -> DateTime<FixedOffset> {
        at_offset(self.start, self.start_offset)
    }

    /// The end, in the clinic's offset at that instant. A block ending at 24:00 gives
    /// slots that end at the next day's midnight.
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/records-and-steps.json"))?;
    /// let slots = model.open_slots(model.query().unwrap());
    /// // Jo works 21:00-24:00 on Monday 29 June; the 75-minute massage at 22:45 is the last.
    /// let last = slots.iter().filter(|s| s.start_text().starts_with("2026-06-29")).last().unwrap();
    /// assert_eq!(last.start().to_rfc3339(), "2026-06-29T22:45:00-03:00");
    /// assert_eq!(last.end().to_rfc3339(), "2026-06-30T00:00:00-03:00");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn end(&self) -> DateTime<FixedOffset> {
        at_offset(self.end_seconds(), self.end_offset)
    }

    /// The start as an [`Instant`]: what [`Model::check`] takes to book this very slot,
    /// and what the store keeps for the appointment.
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/zones.json"))?;
    /// let query = model.query().unwrap();
    /// let slot = model.open_slots(query)[0];
    /// assert_eq!(slot.start_instant().to_string(), "2026-10-06T09:05:00Z"); // 14:50 in Kathmandu
    /// assert_eq!(model.check(&query.portal, slot.practitioner, slot.start_instant()), Ok(slot));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn start_instant(&self) -> Instant {
        Instant::computed(self.start * 1_000_000_000)
    }

    /// The end as an [`Instant`]: the start plus the service's duration, exactly (rule
    /// 9).
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// for slot in model.open_slots(model.query().unwrap()) {
    ///     let nanos = slot.end_instant().unix_nanos() - slot.start_instant().unix_nanos();
    ///     assert_eq!(nanos, 45 * 60 * 1_000_000_000);
    /// }
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn end_instant(&self) -> Instant {
        Instant::computed(self.end_seconds() * 1_000_000_000)
    }

    /// Seconds since the Unix epoch at the start; slots start on whole minutes, so
    /// nothing is rounded away.
    pub fn start_seconds(&self) -> i64 {
        self.start
    }

    /// Seconds since the Unix epoch at the end: `start_seconds()` plus the service's
    /// duration.
    pub fn end_seconds(&self) -> i64 {
        self.start + i64::from(self.length)
    }

    /// `start` written as the answer writes it, `YYYY-MM-DDTHH:MM:SS±HH:MM` in the
    /// clinic's offset: never `Z`, never a fraction.
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/zones.json"))?;
    /// let slots = model.open_slots(model.query().unwrap());
    /// // Raj works in Kathmandu and London: the same Tuesday reads +05:45 and +01:00.
    /// assert_eq!(slots[0].start_text(), "2026-10-06T14:50:00+05:45");
    /// assert_eq!(slots[1].start_text(), "2026-10-06T10:10:00+01:00");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn start_text(&self) -> String {
        calendar::format_with_offset(self.start, self.start_offset)
    }

    /// `end` written as the answer writes it, like [`Slot::start_text`], in the offset
    /// the clinic has at the end.
    pub fn end_text(&self) -> String {
        calendar::format_with_offset(self.end_seconds(), self.end_offset)
    }

    /// Writes [`Slot::start_text`] to `out` without allocating: for answers that
    /// write thousands of slots.
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/zones.json"))?;
    /// let slot = model.open_slots(model.query().unwrap())[0];
    /// let mut text = String::new();
    /// slot.write_start(&mut text)?;
    /// assert_eq!(text, slot.start_text());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_start(&self, out: &mut impl fmt::Write) -> fmt::Result {
        calendar::write_local(out, self.start, self.start_offset, true)
    }

    /// Writes [`Slot::end_text`] to `out` without allocating.
    pub fn write_end(&self, out: &mut impl fmt::Write) -> fmt::Result {
        calendar::write_local(out, self.end_seconds(), self.end_offset, true)
    }
}

impl Ord for Slot {
    fn cmp(&self, other: &Self) -> Ordering {
        (
            self.start,
            self.practitioner,
            self.schedule_type,
            self.clinic,
            self.service,
        )
            .cmp(&(
                other.start,
                other.practitioner,
                other.schedule_type,
                other.clinic,
                other.service,
            ))
    }
}

impl PartialOrd for Slot {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn at_offset(seconds: i64, offset: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset).expect("zone offsets are within a day");
    DateTime::from_timestamp(seconds, 0)
        .expect("slot instants are in range")
        .with_timezone(&offset)
}

impl Model {
    /// Every open slot of the query's service over its dates, in answer order: the
    /// candidates that pass rules 2 to 12 of `docs/scenario.md`.
    ///
    /// ```
    /// use slot_engine::Model;
    /// // Christine works Mondays and Wednesdays 09:00-12:00; a 45-minute service on a
    /// // 15-minute step; Monday's 09:30-10:00 is booked.
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let slots = model.open_slots(model.query().unwrap());
    /// let monday: Vec<String> = slots.iter().take(6).map(|s| s.start().format("%H:%M").to_string()).collect();
    /// assert_eq!(monday, ["10:00", "10:15", "10:30", "10:45", "11:00", "11:15"]);
    /// assert_eq!(slots.len(), 16); // and ten on Wednesday
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn open_slots(&self, query: &SlotQuery) -> Vec<Slot> {
        let mut search = Search::new(self, &query.portal);
        let mut streams: Vec<Vec<Slot>> = vec![Vec::new(); self.clinics().len()];
        let days = query.dates.len();
        for (done, date) in query.dates.dates().enumerate() {
            search.date(date);
            search.flush_into(date, &mut streams);
            // After a day and after a week, size the answer from what came so far
            // rather than grow it by doubling.
            if done == 0 || done == 6 {
                for stream in &mut streams {
                    let expected = stream.len() / (done + 1) * days + 16;
                    stream.reserve(expected.saturating_sub(stream.len()));
                }
            }
        }
        merge_streams(streams)
    }

    /// The earliest `limit` open slots across the query's practitioners, on `from` or
    /// later, looking as far as the booking window (`max_days_ahead`) allows.
    ///
    /// ```
    /// use slot_engine::{Model, PortalQuery};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let q = PortalQuery::new(&model, "initial", "2026-03-01T12:00:00Z".parse().unwrap())?;
    /// let first = model.first_available(&q, "2026-03-02".parse().unwrap(), 1);
    /// assert_eq!(first[0].start_text(), "2026-03-02T10:00:00-05:00");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn first_available(&self, query: &PortalQuery, from: Date, limit: usize) -> Vec<Slot> {
        if limit == 0 {
            return Vec::new();
        }
        let mut search = Search::new(self, query);
        let Some(last) = search.last_bookable_date() else {
            return Vec::new();
        };
        let mut streams: Vec<Vec<Slot>> = vec![Vec::new(); self.clinics().len()];
        let mut found: Vec<Slot> = Vec::new();
        let mut date = from;
        while date <= last {
            search.date(date);
            search.flush_into(date, &mut streams);
            for s in &mut streams {
                found.append(s);
            }
            let Some(next) = date.add_days(1) else { break };
            if found.len() >= limit {
                found.sort_unstable();
                found.truncate(limit);
                if found[limit - 1].start < search.earliest_instant_on(next) {
                    break;
                }
            }
            date = next;
        }
        found.sort_unstable();
        found.truncate(limit);
        found
    }
}

/// Merges the clinics' sorted streams into one sorted answer.
fn merge_streams(mut streams: Vec<Vec<Slot>>) -> Vec<Slot> {
    streams.retain(|s| !s.is_empty());
    // Pairwise, like a merge sort's last passes: each pass is a tight two-way merge.
    while streams.len() > 1 {
        let mut merged = Vec::with_capacity(streams.len().div_ceil(2));
        let mut pairs = streams.into_iter();
        while let Some(a) = pairs.next() {
            match pairs.next() {
                Some(b) => merged.push(merge_two(&a, &b)),
                None => merged.push(a),
            }
        }
        streams = merged;
    }
    streams.pop().unwrap_or_default()
}

fn merge_two(a: &[Slot], b: &[Slot]) -> Vec<Slot> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j] < a[i] {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Per-clinic facts for the date being searched.
#[derive(Clone, Copy, Debug)]
struct ClinicDay {
    date: Option<Date>,
    zone: DayZone,
    closed: bool,
}

/// A practitioner who passed rule 3, with their blocked cells at the service's
/// capacity when that exceeds 1.
#[derive(Debug)]
struct Eligible<'m> {
    ix: PractitionerIx,
    practitioner: &'m Practitioner,
    /// Where the searched dates have got to in the practitioner's blocked cells at
    /// capacity 1, and in their counts and time off (capacity above 1): dates come in
    /// order, so these only move forward.
    any: usize,
    counts: usize,
    time_off: usize,
}

/// What the slots of one run on one date share.
#[derive(Clone, Copy, Debug)]
struct Shape {
    schedule_type: ScheduleTypeIx,
    clinic: ClinicIx,
    length: u32,
    start_offset: i32,
    end_offset: i32,
}

/// A slot waiting in its clinic's bucket for the date to be ordered: half the size of
/// a [`Slot`], which it becomes with its [`Shape`].
#[derive(Clone, Copy, Debug)]
struct Pending {
    start: i64,
    practitioner: PractitionerIx,
    shape: u32,
}

/// The state of one search.
#[derive(Debug)]
pub(crate) struct Search<'m> {
    model: &'m Model,
    service_ix: ServiceIx,
    service: &'m Service,
    eligible: Vec<Eligible<'m>>,
    /// Per schedule type: usable for this query (rules 5 and 8).
    type_usable: Vec<bool>,
    /// Per schedule type: whether appointments may share its cells up to
    /// `portal_conflicts` (rule 11).
    type_shared: Vec<bool>,
    /// Per clinic: the last bookable date (rule 12), as days since 1970-01-01 (today
    /// may read 1999-12-31 in a clinic's zone, before the first date a `Date` holds).
    last_day: Vec<i64>,
    earliest_start: i64,
    cell_seconds: i64,
    days: Vec<ClinicDay>,
    buckets: Vec<Vec<Pending>>,
    /// Per clinic: the date and table of rule 13 last built for it (v3).
    resource_days: Vec<(Option<Date>, Vec<bool>)>,
    shapes: Vec<Shape>,
    /// Counting-sort counters, one per minute of the 50 hours a date's slots can
    /// start in; all zero between flushes.
    counts: Vec<u32>,
    /// Counting-sort output: bucket positions in answer order.
    order: Vec<u32>,
}

impl<'m> Search<'m> {
    pub(crate) fn new(model: &'m Model, query: &PortalQuery) -> Self {
        let service = model.service(query.service);
        let type_usable: Vec<bool> = model
            .schedule_type_indices()
            .map(|t| {
                service.applies_to(t) && (!query.telehealth || model.schedule_type(t).telehealth)
            })
            .collect();
        let type_shared: Vec<bool> = model
            .schedule_types()
            .iter()
            .map(|t| t.allow_conflicts && service.portal_conflicts > 1)
            .collect();
        let eligible = model
            .practitioner_indices()
            .filter(|&p| practitioner_offered(model, service, query, p))
            .map(|ix| Eligible {
                ix,
                practitioner: model.practitioner(ix),
                any: 0,
                counts: 0,
                time_off: 0,
            })
            .collect();
        let settings = model.settings();
        let max_days = i64::from(settings.max_days_ahead);
        let now_seconds = query.now.unix_nanos().div_euclid(1_000_000_000);
        let last_day = model
            .clinics()
            .iter()
            .map(|c| c.zone.reading(now_seconds).days + max_days)
            .collect();
        let notice = i64::from(settings.min_notice_minutes) * 60_000_000_000;
        let earliest_start =
            (query.now.unix_nanos() + notice + 999_999_999).div_euclid(1_000_000_000);
        Search {
            model,
            service_ix: query.service,
            service,
            eligible,
            type_usable,
            type_shared,
            last_day,
            earliest_start,
            cell_seconds: i64::from(settings.resolution.minutes()) * 60,
            days: vec![
                ClinicDay {
                    date: None,
                    zone: DayZone {
                        uniform: false,
                        midnight: 0,
                        offset: 0,
                        next_midnight: None,
                    },
                    closed: true,
                };
                model.clinics().len()
            ],
            buckets: vec![Vec::new(); model.clinics().len()],
            resource_days: vec![(None, Vec::new()); model.clinics().len()],
            shapes: Vec::new(),
            counts: vec![0; 50 * 60 + 2],
            order: Vec::new(),
        }
    }

    /// The latest date any clinic takes bookings on, if any practitioner is eligible.
    fn last_bookable_date(&self) -> Option<Date> {
        if self.eligible.is_empty() {
            return None;
        }
        let last = self.last_day.iter().max().copied()?;
        Date::from_days(i32::try_from(last.min(i64::from(Date::MAX.days()))).ok()?)
    }

    /// A lower bound of the start instants of slots on `date` in any clinic.
    fn earliest_instant_on(&self, date: Date) -> i64 {
        self.model
            .clinics()
            .iter()
            .map(|c| match c.zone.resolve(date, 0).earliest() {
                Some((seconds, _)) => seconds,
                // 00:00 falls in a gap: the first existing time is the transition,
                // which is midnight read at the offset before it.
                None => {
                    date.midnight_seconds()
                        - i64::from(c.zone.offset_at(date.midnight_seconds() - 86_400))
                }
            })
            .min()
            .unwrap_or(i64::MAX)
    }

    fn clinic_day(&mut self, clinic: ClinicIx, date: Date) -> ClinicDay {
        let day = &mut self.days[clinic.index()];
        if day.date != Some(date) {
            let c = self.model.clinic(clinic);
            let closed =
                c.is_holiday(date) || i64::from(date.days()) > self.last_day[clinic.index()];
            *day = ClinicDay {
                date: Some(date),
                zone: c.zone.day(date),
                closed,
            };
        }
        *day
    }

    /// Collects the slots of `date` into the per-clinic buckets.
    pub(crate) fn date(&mut self, date: Date) {
        let weekday = date.weekday();
        let duration = self.service.duration_minutes;
        for e in 0..self.eligible.len() {
            let practitioner: &'m Practitioner = self.eligible[e].practitioner;
            let Some(record) = practitioner.record_on(date) else {
                continue;
            };
            let step = record.slot_step();
            for run in record.runs(weekday, true) {
                if !self.type_usable[run.schedule_type.index()] {
                    continue;
                }
                let day = self.clinic_day(run.clinic, date);
                if day.closed {
                    continue;
                }
                let from = self.buckets[run.clinic.index()].len();
                self.run(e, date, &day.zone, run, step, duration);
                if !self.service.requires.is_empty() {
                    self.keep_with_resources(run.clinic, date, &day.zone, from);
                }
            }
        }
    }

    /// Rule 13: keeps, of the candidates from position `from` of the clinic's bucket,
    /// those for which every requirement of the service has a free resource. On an
    /// ordinary day each candidate is one look into the clinic's table of the date
    /// ([`Model::requirements_by_start_cell`], built once per clinic and date for all
    /// practitioners); on a day with a clock change each is asked of the resources.
    fn keep_with_resources(&mut self, clinic: ClinicIx, date: Date, zone: &DayZone, from: usize) {
        let model = self.model;
        let service = self.service_ix;
        let buffers = self.service.buffers;
        let duration = self.service.duration_minutes;
        let (before, after) = (
            i64::from(buffers.before_minutes) * 60,
            i64::from(buffers.after_minutes) * 60,
        );
        let cell = self.cell_seconds;
        let ordinary = zone.uniform && zone.midnight % cell == 0;
        if ordinary {
            let table = &mut self.resource_days[clinic.index()];
            if table.0 != Some(date) {
                *table = (
                    Some(date),
                    model.requirements_by_start_cell(service, clinic, date, zone.midnight / cell),
                );
            }
        }
        let table = &self.resource_days[clinic.index()].1;
        let clinic_zone = model.clinic(clinic).zone;
        let shapes = &self.shapes;
        let bucket = &mut self.buckets[clinic.index()];
        let mut kept = from;
        for i in from..bucket.len() {
            let p = bucket[i];
            let since_midnight = p.start - zone.midnight;
            let free = if ordinary && since_midnight % cell == 0 {
                table[(since_midnight / cell) as usize]
            } else {
                let length = i64::from(shapes[p.shape as usize].length);
                let t = if zone.uniform {
                    (since_midnight / 60) as u32
                } else {
                    clinic_zone.reading(p.start).second_of_day / 60
                };
                let segments = [(t, t + duration)];
                let need = Need {
                    clinic,
                    date,
                    segments: &segments,
                    buffered: CellSpan::of_seconds(
                        cell,
                        p.start - before,
                        p.start + length + after,
                    ),
                };
                model.resources_free(service, &need)
            };
            if free {
                bucket[kept] = p;
                kept += 1;
            }
        }
        bucket.truncate(kept);
    }

    fn run(&mut self, e: usize, date: Date, zone: &DayZone, run: &Run, step: u32, duration: u32) {
        // No candidate of `date` starts before its midnight read at UTC+14:00, and no
        // buffered interval before that less the buffer.
        let first_cell = (date.midnight_seconds()
            - 14 * 3600
            - i64::from(self.service.buffers.before_minutes) * 60)
            .div_euclid(self.cell_seconds);
        let eligible = &mut self.eligible[e];
        let occupancy = eligible.practitioner.occupancy();
        if self.type_shared[run.schedule_type.index()] {
            let capacity = self.service.portal_conflicts;
            let cursor = CapacityCursor::resume(
                occupancy,
                capacity,
                (&mut eligible.counts, &mut eligible.time_off),
                first_cell,
            );
            self.candidates(e, cursor, date, zone, run, step, duration);
        } else {
            let cursor =
                BlockedCursor::resume(occupancy.blocked_any(), &mut eligible.any, first_cell);
            self.candidates(e, cursor, date, zone, run, step, duration);
        }
    }

    /// Steps candidates through one run, keeping those `cursor` finds free.
    #[allow(clippy::too_many_arguments)]
    fn candidates(
        &mut self,
        e: usize,
        mut cursor: impl FreeCells,
        date: Date,
        zone: &DayZone,
        run: &Run,
        step: u32,
        duration: u32,
    ) {
        let end = u32::from(run.end);
        if end < duration {
            return;
        }
        let last = end - duration;
        let mut t = u32::from(run.start).div_ceil(step) * step;
        if t > last {
            return;
        }
        let cell = self.cell_seconds;
        let buffers = self.service.buffers;
        let (before, after) = (
            i64::from(buffers.before_minutes) * 60,
            i64::from(buffers.after_minutes) * 60,
        );
        let ix = self.eligible[e].ix;
        let bucket = &mut self.buckets[run.clinic.index()];
        let shapes = &mut self.shapes;
        let mut shape = |length: i64, start_offset, end_offset| {
            shapes.push(Shape {
                schedule_type: run.schedule_type,
                clinic: run.clinic,
                length: length as u32,
                start_offset,
                end_offset,
            });
            shapes.len() as u32 - 1
        };
        // The ordinary day: one offset from midnight to midnight, and midnight on a UTC
        // cell boundary (the offset is a multiple of the resolution), so instants and
        // cells advance by constants.
        if zone.uniform && zone.midnight % cell == 0 {
            let r = cell as u32 / 60;
            let fast_last = last.min(MINUTES_PER_DAY - 1 - duration.min(MINUTES_PER_DAY - 1));
            if t <= fast_last && t + duration < MINUTES_PER_DAY {
                // A candidate starts on a cell boundary: its buffered interval reaches
                // `before` minutes back, whole cells or not, and `after` past its end.
                let back_cells = i64::from(buffers.before_minutes.div_ceil(r));
                let d_cells = i64::from((duration + buffers.after_minutes).div_ceil(r));
                let step_seconds = i64::from(step) * 60;
                let step_cells = i64::from(step / r);
                let mut start = zone.midnight + i64::from(t) * 60;
                let mut first_cell = zone.midnight / cell + i64::from(t / r);
                let pending = Pending {
                    start: 0,
                    practitioner: ix,
                    shape: shape(i64::from(duration) * 60, zone.offset, zone.offset),
                };
                // Whether a candidate is free is data, not a pattern: write every
                // candidate and advance the length only past free ones, so the loop has
                // no branch to mispredict.
                let count = ((fast_last - t) / step + 1) as usize;
                let mut len = bucket.len();
                bucket.resize(len + count, pending);
                for _ in 0..count {
                    let free = (start >= self.earliest_start)
                        & cursor.is_free(CellSpan {
                            start: first_cell - back_cells,
                            end: first_cell + d_cells,
                        });
                    bucket[len] = Pending { start, ..pending };
                    len += usize::from(free);
                    start += step_seconds;
                    first_cell += step_cells;
                }
                bucket.truncate(len);
                t += count as u32 * step;
            }
        }
        // Days with a clock change, odd offsets, and slots ending at 24:00: each
        // candidate through the timezone rules.
        while t <= last {
            if let Some((start, end, start_offset, end_offset)) =
                exact_instants(self.model, run.clinic, date, t, duration)
                && start >= self.earliest_start
                && cursor.is_free(CellSpan::of_seconds(cell, start - before, end + after))
            {
                bucket.push(Pending {
                    start,
                    practitioner: ix,
                    shape: shape(end - start, start_offset, end_offset),
                });
            }
            t += step;
        }
    }

    /// Moves each clinic's bucket of `date`, ordered, onto the end of that clinic's
    /// stream.
    pub(crate) fn flush_into(&mut self, date: Date, streams: &mut [Vec<Slot>]) {
        let shapes = &self.shapes;
        let service = self.service_ix;
        let finish = |p: &Pending| {
            let shape = shapes[p.shape as usize];
            Slot {
                service,
                practitioner: p.practitioner,
                schedule_type: shape.schedule_type,
                clinic: shape.clinic,
                start: p.start,
                length: shape.length,
                start_offset: shape.start_offset,
                end_offset: shape.end_offset,
            }
        };
        // Slots of `date` start within 50 hours of its midnight read at UTC+14:00
        // (offsets span −12:00 ..= +14:00), on whole minutes: the key of a stable
        // counting sort. Practitioners were visited in id order, so equal starts stay
        // in answer order.
        let base = date.midnight_seconds() - 14 * 3600;
        let key = |p: &Pending| ((p.start - base) / 60) as usize;
        let counts = &mut self.counts;
        for (bucket, stream) in self.buckets.iter_mut().zip(streams.iter_mut()) {
            if bucket.is_empty() {
                continue;
            }
            let (mut low, mut high, mut sorted, mut previous) = (usize::MAX, 0, true, i64::MIN);
            for p in bucket.iter() {
                let k = key(p);
                counts[k + 1] += 1;
                low = low.min(k);
                high = high.max(k);
                sorted &= previous <= p.start;
                previous = p.start;
            }
            if sorted {
                stream.extend(bucket.iter().map(finish));
            } else {
                for i in low + 1..=high + 1 {
                    counts[i] += counts[i - 1];
                }
                let order = &mut self.order;
                order.clear();
                order.resize(bucket.len(), 0);
                for (i, p) in bucket.iter().enumerate() {
                    let at = &mut counts[key(p)];
                    order[*at as usize] = i as u32;
                    *at += 1;
                }
                stream.extend(order.iter().map(|&i| finish(&bucket[i as usize])));
            }
            counts[low..=high + 1].fill(0);
            bucket.clear();
        }
        self.shapes.clear();
    }
}

impl Model {
    /// The resources an open slot holds: one per requirement of its service, in the
    /// order of the service's `requires`, each the first free one by id. Empty for a
    /// service that requires none (and for a slot that was not open).
    ///
    /// ```
    /// use slot_engine::Model;
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/rooms.json"))?;
    /// let query = model.query().unwrap();
    /// for slot in model.open_slots(query) {
    ///     let held = model.slot_resources(&slot);
    ///     assert_eq!(held.len(), model.service(slot.service).requires.len());
    /// }
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn slot_resources(&self, slot: &Slot) -> Vec<ResourceIx> {
        let service = slot.service;
        let v = self.service(service);
        if v.requires.is_empty() {
            return Vec::new();
        }
        let zone = self.clinic(slot.clinic).zone;
        let reading = zone.reading(slot.start_seconds());
        let Some(date) = reading.date() else {
            return Vec::new();
        };
        let t = reading.second_of_day / 60;
        let segments = [(t, t + v.duration_minutes)];
        let (from, to) = v.buffers.around(slot.start_instant(), slot.end_instant());
        let need = Need {
            clinic: slot.clinic,
            date,
            segments: &segments,
            buffered: CellSpan::touched_by(self.settings().resolution, from, to),
        };
        self.pick_resources(service, &need).unwrap_or_default()
    }
}

/// Whether rule 3 lets the practitioner be offered for the service at all.
pub(crate) fn practitioner_offered(
    model: &Model,
    service: &Service,
    query: &PortalQuery,
    p: PractitionerIx,
) -> bool {
    let practitioner = model.practitioner(p);
    practitioner.active
        && practitioner.bookable_in_portal
        && query.allows(p)
        && service
            .practitioner_type
            .as_ref()
            .is_none_or(|kind| *kind == practitioner.kind)
        && service
            .schedule_types
            .iter()
            .any(|&t| practitioner.has_schedule_type(t))
}

/// The start and end instants (with offsets) of the candidate `[t, t + duration)` on
/// `date` at `clinic`, or `None` when rule 9 drops it.
pub(crate) fn exact_instants(
    model: &Model,
    clinic: ClinicIx,
    date: Date,
    t: u32,
    duration: u32,
) -> Option<(i64, i64, i32, i32)> {
    let zone = model.clinic(clinic).zone;
    let (start, start_offset) = zone.resolve(date, t).earliest()?;
    let (end, end_offset) = zone.resolve(date, t + duration).earliest()?;
    (end - start == i64::from(duration) * 60).then_some((start, end, start_offset, end_offset))
}

#[cfg(test)]
mod tests;
