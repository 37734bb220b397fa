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

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, FixedOffset};

use crate::availability::Run;
use crate::calendar::{self, Date, Instant, MINUTES_PER_DAY};
use crate::error::{Error, ValueError};
use crate::model::{
    ClinicIx, Model, Practitioner, PractitionerIx, ScheduleTypeIx, Service, ServiceIx,
};
use crate::occupancy::{BlockedCursor, CellSpan};
use crate::zone::DayZone;

/// The most days one search may cover (`(to − from) + 1`).
pub const MAX_QUERY_DAYS: i64 = 366;

/// An inclusive range of dates, at most 366 days long.
///
/// ```
/// use slot_engine::{Date, DateRange};
/// let r = DateRange::new(Date::new(2026, 3, 2)?, Date::new(2026, 3, 8)?)?;
/// assert_eq!(r.len(), 7);
/// assert!(DateRange::new(Date::new(2026, 3, 8)?, Date::new(2026, 3, 2)?).is_err());
/// # Ok::<(), slot_engine::ValueError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DateRange {
    from: Date,
    to: Date,
}

impl DateRange {
    /// The dates `from ..= to`; `from` must not be after `to`, and the range must not
    /// exceed 366 days.
    pub fn new(from: Date, to: Date) -> Result<Self, ValueError> {
        if from > to {
            return Err(ValueError::new(format!("from {from} is after to {to}")));
        }
        let days = to.days_since(from) + 1;
        if days > MAX_QUERY_DAYS {
            return Err(ValueError::new(format!(
                "range {from}..={to} is {days} days, more than {MAX_QUERY_DAYS}"
            )));
        }
        Ok(Self { from, to })
    }

    /// The first date.
    pub fn from(self) -> Date {
        self.from
    }

    /// The last date.
    pub fn to(self) -> Date {
        self.to
    }

    /// The number of dates.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(self) -> usize {
        (self.to.days_since(self.from) + 1) as usize
    }

    /// Whether `date` is in the range.
    pub fn contains(self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }

    /// The dates, in order.
    pub fn dates(self) -> impl Iterator<Item = Date> {
        (self.from.days()..=self.to.days()).filter_map(Date::from_days)
    }
}

/// Who is asking and for what: a service booked from the portal, by a patient who may
/// see some practitioners, at a given moment.
///
/// ```
/// use slot_engine::{Model, PortalQuery};
/// # let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json")).unwrap();
/// let now = "2026-03-01T12:00:00Z".parse().unwrap();
/// let q = PortalQuery::new(&model, "initial", now)?.with_practitioners(&model, &["christine"])?;
/// assert_eq!(q.practitioners().unwrap().len(), 1);
/// assert!(PortalQuery::new(&model, "no-such-service", now).is_err());
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalQuery {
    pub(crate) service: ServiceIx,
    pub(crate) practitioners: Option<Vec<PractitionerIx>>,
    pub(crate) now: Instant,
    pub(crate) telehealth: bool,
}

impl PortalQuery {
    /// A query for the service with id `service`, which must exist and be bookable
    /// from the portal, seen at `now`, for every practitioner, not only telehealth.
    pub fn new(model: &Model, service: &str, now: Instant) -> Result<Self, Error> {
        let ix = model
            .service_ix(service)
            .ok_or_else(|| Error::invalid("query", format!("unknown service {service:?}")))?;
        Self::for_service(model, ix, now)
    }

    /// Like [`PortalQuery::new`], with a service index.
    pub fn for_service(model: &Model, service: ServiceIx, now: Instant) -> Result<Self, Error> {
        if !model.service(service).book_from_portal {
            return Err(Error::invalid(
                "query",
                format!(
                    "service {:?} is not bookable from the portal",
                    model.service(service).id.as_str()
                ),
            ));
        }
        Ok(Self {
            service,
            practitioners: None,
            now,
            telehealth: false,
        })
    }

    /// Limits the query to the practitioners with these ids (a patient's available
    /// practitioners). Unknown ids are refused; duplicates count once; an empty list
    /// gives no slots.
    pub fn with_practitioners(mut self, model: &Model, ids: &[&str]) -> Result<Self, Error> {
        let mut list = ids
            .iter()
            .map(|id| {
                model
                    .practitioner_ix(id)
                    .ok_or_else(|| Error::invalid("query", format!("unknown practitioner {id:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        list.sort_unstable();
        list.dedup();
        self.practitioners = Some(list);
        Ok(self)
    }

    /// Limits the query to these practitioners (`None`: no limit).
    pub fn with_practitioner_indices(mut self, list: Option<Vec<PractitionerIx>>) -> Self {
        self.practitioners = list.map(|mut l| {
            l.sort_unstable();
            l.dedup();
            l
        });
        self
    }

    /// Asks only for telehealth slots (rule 8) when `telehealth` is true.
    pub fn with_telehealth(mut self, telehealth: bool) -> Self {
        self.telehealth = telehealth;
        self
    }

    /// The service.
    pub fn service(&self) -> ServiceIx {
        self.service
    }

    /// The practitioners the search is limited to, if any.
    pub fn practitioners(&self) -> Option<&[PractitionerIx]> {
        self.practitioners.as_deref()
    }

    /// The moment the question is asked.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Whether only telehealth slots are wanted.
    pub fn telehealth(&self) -> bool {
        self.telehealth
    }

    /// Whether the practitioner may be offered at all (rule 3).
    pub(crate) fn allows(&self, p: PractitionerIx) -> bool {
        self.practitioners
            .as_ref()
            .is_none_or(|list| list.binary_search(&p).is_ok())
    }
}

/// A portal query over a range of dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotQuery {
    /// Service, practitioners, now, telehealth.
    pub portal: PortalQuery,
    /// The dates to search.
    pub dates: DateRange,
}

/// One open slot.
///
/// Slots order as the answer lists them: by start instant, then practitioner id, then
/// schedule type id, then clinic id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Slot {
    /// Who.
    pub practitioner: PractitionerIx,
    /// Under which schedule type.
    pub schedule_type: ScheduleTypeIx,
    /// Where (the schedule type's clinic, rule 6).
    pub clinic: ClinicIx,
    start: i64,
    end: i64,
    start_offset: i32,
    end_offset: i32,
}

impl Slot {
    pub(crate) fn new(
        practitioner: PractitionerIx,
        schedule_type: ScheduleTypeIx,
        clinic: ClinicIx,
        (start, start_offset): (i64, i32),
        (end, end_offset): (i64, i32),
    ) -> Self {
        Slot {
            practitioner,
            schedule_type,
            clinic,
            start,
            end,
            start_offset,
            end_offset,
        }
    }

    /// The start, in the clinic's offset at that instant.
    pub fn start(&self) -> DateTime<FixedOffset> {
        at_offset(self.start, self.start_offset)
    }

    /// The end, in the clinic's offset at that instant.
    pub fn end(&self) -> DateTime<FixedOffset> {
        at_offset(self.end, self.end_offset)
    }

    /// The start instant.
    pub fn start_instant(&self) -> Instant {
        Instant::from_unix_seconds(self.start).expect("slot instants are in range")
    }

    /// The end instant.
    pub fn end_instant(&self) -> Instant {
        Instant::from_unix_seconds(self.end).expect("slot instants are in range")
    }

    /// Seconds since the Unix epoch at the start.
    pub fn start_seconds(&self) -> i64 {
        self.start
    }

    /// `start` written as the answer writes it: `2026-03-02T09:00:00-05:00`.
    pub fn start_text(&self) -> String {
        calendar::format_with_offset(self.start, self.start_offset)
    }

    /// `end` written as the answer writes it.
    pub fn end_text(&self) -> String {
        calendar::format_with_offset(self.end, self.end_offset)
    }

    pub(crate) fn write_start(&self, out: &mut impl fmt::Write) -> fmt::Result {
        calendar::write_local(out, self.start, self.start_offset, true)
    }

    pub(crate) fn write_end(&self, out: &mut impl fmt::Write) -> fmt::Result {
        calendar::write_local(out, self.end, self.end_offset, true)
    }
}

impl Ord for Slot {
    fn cmp(&self, other: &Self) -> Ordering {
        (
            self.start,
            self.practitioner,
            self.schedule_type,
            self.clinic,
        )
            .cmp(&(
                other.start,
                other.practitioner,
                other.schedule_type,
                other.clinic,
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
    /// Every open slot of the query's service over its dates, in answer order.
    pub fn open_slots(&self, query: &SlotQuery) -> Vec<Slot> {
        let mut search = Search::new(self, &query.portal);
        let mut streams: Vec<Vec<Slot>> = vec![Vec::new(); self.clinics().len()];
        for date in query.dates.dates() {
            search.date(date);
            search.flush_into(&mut streams);
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
            search.flush_into(&mut streams);
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

fn merge_streams(mut streams: Vec<Vec<Slot>>) -> Vec<Slot> {
    streams.retain(|s| !s.is_empty());
    match streams.len() {
        0 => Vec::new(),
        1 => streams.pop().expect("one stream"),
        _ => {
            // Each stream is sorted; the stable sort finds them as runs and merges.
            let mut all = streams.concat();
            all.sort();
            all
        }
    }
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
    blocked_shared: Cow<'m, [crate::occupancy::CellSpan]>,
}

/// The state of one search.
#[derive(Debug)]
pub(crate) struct Search<'m> {
    model: &'m Model,
    service: &'m Service,
    eligible: Vec<Eligible<'m>>,
    /// Per schedule type: usable for this query (rules 5 and 8).
    type_usable: Vec<bool>,
    /// Per schedule type: whether appointments may share its cells up to
    /// `portal_conflicts` (rule 11).
    type_shared: Vec<bool>,
    /// Per clinic: the last bookable date (rule 12).
    last_date: Vec<Option<Date>>,
    earliest_start: i64,
    cell_seconds: i64,
    days: Vec<ClinicDay>,
    buckets: Vec<Vec<(u16, Slot)>>,
    counts: Vec<u32>,
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
        let any_shared = model
            .schedule_type_indices()
            .any(|t| type_usable[t.index()] && type_shared[t.index()]);
        let eligible = model
            .practitioner_indices()
            .filter(|&p| practitioner_offered(model, service, query, p))
            .map(|ix| {
                let practitioner = model.practitioner(ix);
                let blocked_shared = if any_shared {
                    practitioner.occupancy().blocked(service.portal_conflicts)
                } else {
                    Cow::Borrowed(&[][..])
                };
                Eligible {
                    ix,
                    practitioner,
                    blocked_shared,
                }
            })
            .collect();
        let settings = model.settings();
        let max_days = i64::from(settings.max_days_ahead);
        let now_seconds = query.now.unix_nanos().div_euclid(1_000_000_000);
        let last_date = model
            .clinics()
            .iter()
            .map(|c| {
                c.zone
                    .reading(now_seconds)
                    .date()
                    .and_then(|d| d.add_days(max_days).or(Some(Date::MAX)))
            })
            .collect();
        let notice = i64::from(settings.min_notice_minutes) * 60_000_000_000;
        let earliest_start =
            (query.now.unix_nanos() + notice + 999_999_999).div_euclid(1_000_000_000);
        Search {
            model,
            service,
            eligible,
            type_usable,
            type_shared,
            last_date,
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
            counts: vec![0; MINUTES_PER_DAY as usize + 1],
        }
    }

    /// The latest date any clinic takes bookings on, if any practitioner is eligible.
    fn last_bookable_date(&self) -> Option<Date> {
        if self.eligible.is_empty() {
            return None;
        }
        self.last_date.iter().flatten().max().copied()
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
                c.is_holiday(date) || self.last_date[clinic.index()].is_none_or(|last| date > last);
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
                self.run(e, date, &day.zone, run, step, duration);
            }
        }
    }

    fn run(&mut self, e: usize, date: Date, zone: &DayZone, run: &Run, step: u32, duration: u32) {
        let end = u32::from(run.end);
        if end < duration {
            return;
        }
        let last = end - duration;
        let mut t = u32::from(run.start).div_ceil(step) * step;
        if t > last {
            return;
        }
        let eligible = &self.eligible[e];
        let blocked: &[CellSpan] = if self.type_shared[run.schedule_type.index()] {
            &eligible.blocked_shared
        } else {
            eligible.practitioner.occupancy().blocked_any()
        };
        let cell = self.cell_seconds;
        // No candidate of `date` starts before its midnight read at UTC+14:00.
        let mut cursor = BlockedCursor::new(
            blocked,
            (date.midnight_seconds() - 14 * 3600).div_euclid(cell),
        );
        let bucket = &mut self.buckets[run.clinic.index()];
        let d = i64::from(duration) * 60;
        while t <= last {
            let instants = if zone.uniform && t + duration < MINUTES_PER_DAY {
                let start = zone.midnight + i64::from(t) * 60;
                Some((start, start + d, zone.offset, zone.offset))
            } else {
                exact_instants(self.model, run.clinic, date, t, duration)
            };
            if let Some((start, end, start_offset, end_offset)) = instants
                && start >= self.earliest_start
                && cursor.is_free(CellSpan::of_seconds(cell, start, end))
            {
                bucket.push((
                    t as u16,
                    Slot {
                        practitioner: eligible.ix,
                        schedule_type: run.schedule_type,
                        clinic: run.clinic,
                        start,
                        end,
                        start_offset,
                        end_offset,
                    },
                ));
            }
            t += step;
        }
    }

    /// Moves each clinic's bucket, ordered, onto the end of that clinic's stream.
    pub(crate) fn flush_into(&mut self, streams: &mut [Vec<Slot>]) {
        for (bucket, stream) in self.buckets.iter_mut().zip(streams.iter_mut()) {
            if bucket.windows(2).all(|w| w[0].0 <= w[1].0) {
                stream.extend(bucket.drain(..).map(|(_, s)| s));
                continue;
            }
            // A stable counting sort on the wall-clock minute: practitioners were
            // visited in id order, so equal starts stay in answer order.
            let counts = &mut self.counts;
            counts.fill(0);
            for (t, _) in bucket.iter() {
                counts[usize::from(*t) + 1] += 1;
            }
            for i in 1..counts.len() {
                counts[i] += counts[i - 1];
            }
            let base = stream.len();
            stream.resize(base + bucket.len(), bucket[0].1);
            for (t, slot) in bucket.drain(..) {
                let at = &mut counts[usize::from(t)];
                stream[base + *at as usize] = slot;
                *at += 1;
            }
        }
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
