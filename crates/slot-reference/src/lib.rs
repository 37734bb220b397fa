//! A naive model of the scenario spec's slot rules, written straight from
//! `docs/scenario.md`, minute by minute and cell by cell, with no precomputation.
//!
//! It is the oracle of the engine's property tests and of the `engine_vs_model` fuzz
//! target: slow on purpose, and sharing no code with the engine beyond the parsed
//! scenario document (whose values the engine's own unit tests check against chrono).
//! Inputs must already be valid (`slot_engine::Model::new` accepted them).

pub mod laws;
pub mod random;

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use slot_engine::scenario::{AvailabilityRecord, Practitioner, Scenario, ScheduleType, Service};

/// One slot of the reference answer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RefSlot {
    /// Start instant, seconds since the Unix epoch (the first sort key).
    pub start_seconds: i64,
    /// Practitioner id.
    pub practitioner: String,
    /// Schedule type id.
    pub schedule_type: String,
    /// Clinic id.
    pub clinic: String,
    /// `YYYY-MM-DDTHH:MM:SS±HH:MM`.
    pub start: String,
    /// `YYYY-MM-DDTHH:MM:SS±HH:MM`.
    pub end: String,
    /// v3: the resource ids the slot holds, one per requirement of the service.
    pub resources: Vec<String>,
}

const NANOS: i128 = 1_000_000_000;

fn tz_of(s: &Scenario, clinic: &str) -> Tz {
    s.clinics
        .iter()
        .find(|c| c.id.as_str() == clinic)
        .expect("valid scenario")
        .timezone
        .tz()
}

fn schedule_type<'a>(s: &'a Scenario, id: &str) -> &'a ScheduleType {
    s.schedule_types
        .iter()
        .find(|t| t.id.as_str() == id)
        .expect("valid scenario")
}

fn weekday_name(date: NaiveDate) -> &'static str {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [date.weekday().num_days_from_monday() as usize]
}

/// The schedule type of the block of `record` covering wall-clock cell `cell` on
/// `date`'s weekday, if any.
fn block_type_at(record: &AvailabilityRecord, date: NaiveDate, cell: u32, r: u32) -> Option<&str> {
    let day = weekday_name(date);
    record
        .blocks
        .iter()
        .find(|b| {
            b.days.iter().any(|d| d.short_name() == day)
                && b.start.minutes() <= cell * r
                && cell * r < b.end.minutes()
        })
        .map(|b| b.schedule_type.as_str())
}

fn in_portal(record: &AvailabilityRecord, date: NaiveDate, cell: u32, r: u32) -> bool {
    let day = weekday_name(date);
    match &record.portal_blocks {
        None => true,
        Some(blocks) => blocks.iter().any(|b| {
            b.days.iter().any(|d| d.short_name() == day)
                && b.start.minutes() <= cell * r
                && cell * r < b.end.minutes()
        }),
    }
}

/// Wall-clock cells touched by the minutes `[a, b)`.
fn wall_cells(a: u32, b: u32, r: u32) -> std::ops::Range<u32> {
    a / r..b.div_ceil(r)
}

/// UTC cells touched by the instants `[a, b)` (nanoseconds).
fn utc_cells(a: i128, b: i128, r: u32) -> std::ops::Range<i128> {
    let cell = i128::from(r) * 60 * NANOS;
    a.div_euclid(cell)..(b + cell - 1).div_euclid(cell)
}

fn touches_cell(a: i128, b: i128, k: i128, r: u32) -> bool {
    let cell = i128::from(r) * 60 * NANOS;
    a < (k + 1) * cell && b > k * cell
}

/// The earliest instant (seconds) of local `minute` on `date`, or `None` in a gap.
fn local_instant(tz: Tz, date: NaiveDate, minute: u32) -> Option<DateTime<Tz>> {
    let naive: NaiveDateTime = date.and_hms_opt(0, 0, 0)? + Duration::minutes(i64::from(minute));
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(a, b) => Some(if a <= b { a } else { b }),
        LocalResult::None => None,
    }
}

fn record_on(p: &Practitioner, date: NaiveDate) -> Option<&AvailabilityRecord> {
    p.availability.iter().find(|rec| {
        rec.start_date.naive() <= date && rec.end_date.is_none_or(|e| date <= e.naive())
    })
}

const MINUTE: i128 = 60 * NANOS;

/// How many of the practitioner's appointments occupy UTC cell `k`: those whose
/// buffered interval (v2: `start − buffer_before`, `end + buffer_after`) touches it.
fn occupied(s: &Scenario, practitioner: &str, k: i128, r: u32) -> usize {
    s.appointments
        .iter()
        .filter(|a| a.practitioner.as_str() == practitioner && a.status.occupies_time())
        .filter(|a| {
            touches_cell(
                i128::from(a.start.unix_nanos()) - i128::from(a.buffer_before_minutes) * MINUTE,
                i128::from(a.end.unix_nanos()) + i128::from(a.buffer_after_minutes) * MINUTE,
                k,
                r,
            )
        })
        .count()
}

fn time_off_at(p: &Practitioner, k: i128, r: u32) -> bool {
    p.time_off.iter().any(|t| {
        touches_cell(
            i128::from(t.start.unix_nanos()),
            i128::from(t.end.unix_nanos()),
            k,
            r,
        )
    })
}

fn text(t: DateTime<Tz>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Rule 3 for one practitioner.
fn offered(s: &Scenario, service: &Service, p: &Practitioner) -> bool {
    let q = s.query.as_ref().expect("a query");
    p.active
        && p.bookable_in_portal
        && q.practitioners
            .as_ref()
            .is_none_or(|list| list.iter().any(|id| id == &p.id))
        && service
            .practitioner_type
            .as_ref()
            .is_none_or(|k| *k == p.kind)
        && service
            .schedule_types
            .iter()
            .any(|t| p.schedule_types.contains(t))
}

/// The reference answer of the scenario's query, over `from ..= to` instead of the
/// query's own dates.
pub fn open_slots_between(s: &Scenario, from: NaiveDate, to: NaiveDate) -> Vec<RefSlot> {
    let q = s.query.as_ref().expect("a query");
    let service = s
        .services
        .iter()
        .find(|v| v.id == q.service)
        .expect("valid scenario");
    let r = s.settings.resolution_minutes;
    let d = service.duration_minutes;
    let earliest =
        i128::from(q.now.unix_nanos()) + i128::from(s.settings.min_notice_minutes) * 60 * NANOS;
    let now_utc = DateTime::<Utc>::from_timestamp_nanos(q.now.unix_nanos());
    let mut out = BTreeSet::new();
    for p in &s.practitioners {
        if !offered(s, service, p) {
            continue;
        }
        let mut date = from;
        while date <= to {
            if let Some(record) = record_on(p, date) {
                let step = record
                    .slot_step_minutes
                    .unwrap_or(s.settings.slot_step_minutes);
                let mut t = 0;
                while t + d <= 1440 {
                    if let Some(slot) =
                        candidate(s, service, p, record, date, t, d, r, earliest, now_utc)
                    {
                        out.insert(slot);
                    }
                    t += step;
                }
            }
            date = date.succ_opt().expect("in range");
        }
    }
    out.into_iter().collect()
}

#[allow(clippy::too_many_arguments)]
fn candidate(
    s: &Scenario,
    service: &Service,
    p: &Practitioner,
    record: &AvailabilityRecord,
    date: NaiveDate,
    t: u32,
    d: u32,
    r: u32,
    earliest: i128,
    now: DateTime<Utc>,
) -> Option<RefSlot> {
    let q = s.query.as_ref()?;
    // Rule 5: one schedule type over every touched cell, one of the service's.
    let mut kind: Option<&str> = None;
    for cell in wall_cells(t, t + d, r) {
        let here = block_type_at(record, date, cell, r)?;
        if kind.is_some_and(|k| k != here) {
            return None;
        }
        kind = Some(here);
    }
    let kind = kind?;
    if !service.schedule_types.iter().any(|x| x.as_str() == kind) {
        return None;
    }
    let st = schedule_type(s, kind);
    // Rule 6.
    let clinic_id = st
        .clinic
        .as_ref()
        .or(record.clinic.as_ref())
        .unwrap_or(&p.home_clinic)
        .as_str();
    let clinic = s.clinics.iter().find(|c| c.id.as_str() == clinic_id)?;
    if clinic.holidays.iter().any(|h| h.naive() == date) {
        return None;
    }
    let tz = tz_of(s, clinic_id);
    // Rule 7.
    if !wall_cells(t, t + d, r).all(|cell| in_portal(record, date, cell, r)) {
        return None;
    }
    // Rule 8.
    if q.telehealth && !st.telehealth {
        return None;
    }
    // Rule 9.
    let start = local_instant(tz, date, t)?;
    let end = local_instant(tz, date, t + d)?;
    if end.timestamp() - start.timestamp() != i64::from(d) * 60 {
        return None;
    }
    let (a, b) = (
        i128::from(start.timestamp()) * NANOS,
        i128::from(end.timestamp()) * NANOS,
    );
    // Rules 10 and 11, over the buffered interval.
    let capacity = if st.allow_conflicts {
        service.portal_conflicts as usize
    } else {
        1
    };
    let before = i128::from(service.buffer_before_minutes) * MINUTE;
    let after = i128::from(service.buffer_after_minutes) * MINUTE;
    for k in utc_cells(a - before, b + after, r) {
        if time_off_at(p, k, r) || occupied(s, p.id.as_str(), k, r) >= capacity {
            return None;
        }
    }
    // Rule 12.
    if a < earliest {
        return None;
    }
    let today = now.with_timezone(&tz).date_naive();
    if (date - today).num_days() > i64::from(s.settings.max_days_ahead) {
        return None;
    }
    // Rule 13: per requirement, the first free resource by id.
    let wall: Vec<u32> = (t..t + d).collect();
    let mut resources = Vec::new();
    for requirement in &service.requires {
        let chosen = first_free(
            s,
            requirement,
            clinic_id,
            date,
            &wall,
            (a - before, b + after),
        )?;
        resources.push(chosen);
    }
    Some(RefSlot {
        start_seconds: start.timestamp(),
        practitioner: p.id.to_string(),
        schedule_type: kind.to_owned(),
        clinic: clinic_id.to_owned(),
        start: text(start),
        end: text(end),
        resources,
    })
}

/// The first resource of `requirement` by id that is free (docs/scenario.md, *Rooms
/// and equipment*) for a booking at `clinic` whose wall-clock minutes on `date` are
/// `wall` (each minute `m` of `date`; 1440 and later fall on the next dates) and whose
/// buffered interval is `[from, to)` nanoseconds.
pub fn first_free(
    s: &Scenario,
    requirement: &[slot_engine::Text],
    clinic: &str,
    date: NaiveDate,
    wall: &[u32],
    (from, to): (i128, i128),
) -> Option<String> {
    let mut ids: Vec<&str> = requirement.iter().map(|t| t.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .find(|id| resource_free(s, id, clinic, date, wall, (from, to)))
        .map(str::to_owned)
}

/// Whether resource `id` is free for such a booking: at the clinic, available at each
/// of its wall-clock minutes (by the cells they fall in), out of service at no cell of
/// the buffered interval, and holding fewer than its capacity in each of those cells.
pub fn resource_free(
    s: &Scenario,
    id: &str,
    clinic: &str,
    date: NaiveDate,
    wall: &[u32],
    (from, to): (i128, i128),
) -> bool {
    let r = s.settings.resolution_minutes;
    let resource = s
        .resources
        .iter()
        .find(|x| x.id.as_str() == id)
        .expect("valid scenario");
    if resource.clinic.as_str() != clinic {
        return false;
    }
    if let Some(records) = &resource.availability {
        for &m in wall {
            let day = date + Duration::days(i64::from(m / 1440));
            let minute = m % 1440;
            let Some(record) = records.iter().find(|rec| {
                rec.start_date.naive() <= day && rec.end_date.is_none_or(|e| day <= e.naive())
            }) else {
                return false;
            };
            let name = weekday_name(day);
            let cell = minute / r;
            let covered = record.blocks.iter().any(|b| {
                b.days.iter().any(|d| d.short_name() == name)
                    && b.start.minutes() <= cell * r
                    && cell * r < b.end.minutes()
            });
            if !covered {
                return false;
            }
        }
    }
    utc_cells(from, to, r).all(|k| {
        let out = resource.time_off.iter().any(|t| {
            touches_cell(
                i128::from(t.start.unix_nanos()),
                i128::from(t.end.unix_nanos()),
                k,
                r,
            )
        });
        let held = s
            .appointments
            .iter()
            .filter(|a| a.status.occupies_time() && a.resources.iter().any(|x| x.as_str() == id))
            .filter(|a| {
                touches_cell(
                    i128::from(a.start.unix_nanos()) - i128::from(a.buffer_before_minutes) * MINUTE,
                    i128::from(a.end.unix_nanos()) + i128::from(a.buffer_after_minutes) * MINUTE,
                    k,
                    r,
                )
            })
            .count();
        !out && held < resource.capacity as usize
    })
}

/// The reference answer of the scenario's query.
pub fn open_slots(s: &Scenario) -> Vec<RefSlot> {
    let q = s.query.as_ref().expect("a query");
    open_slots_between(s, q.from.naive(), q.to.naive())
}

/// Whether a portal booking of the query's service with `practitioner` at
/// `start_nanos` is bookable: the answer over the days around it has that slot.
pub fn portal_bookable(s: &Scenario, practitioner: &str, start_nanos: i64) -> bool {
    if start_nanos % 1_000_000_000 != 0 {
        return false;
    }
    let seconds = start_nanos / 1_000_000_000;
    let day = DateTime::<Utc>::from_timestamp(seconds, 0)
        .expect("in range")
        .date_naive();
    let from = day.pred_opt().unwrap_or(day);
    let to = day.succ_opt().unwrap_or(day);
    open_slots_between(s, from, to)
        .iter()
        .any(|slot| slot.practitioner == practitioner && slot.start_seconds == seconds)
}

/// Whether a staff booking goes in without an override (`docs/scenario.md`, *Checking
/// one staff booking*), with `(before, after)` buffer minutes kept free around it and
/// the resources the engine chooses for its service.
pub fn staff_ok(
    s: &Scenario,
    practitioner: &str,
    start_seconds: i64,
    duration_minutes: u32,
    purpose: (Option<&str>, Option<&str>),
    buffers: (u32, u32),
) -> bool {
    staff_ok_holding(
        s,
        practitioner,
        start_seconds,
        duration_minutes,
        purpose,
        buffers,
        None,
    )
}

/// [`staff_ok`] for a booking that names the resources it holds (`Some`), or lets the
/// engine choose them (`None`).
pub fn staff_ok_holding(
    s: &Scenario,
    practitioner: &str,
    start_seconds: i64,
    duration_minutes: u32,
    (service, schedule_type_id): (Option<&str>, Option<&str>),
    (buffer_before, buffer_after): (u32, u32),
    named: Option<&[String]>,
) -> bool {
    let r = s.settings.resolution_minutes;
    let p = s
        .practitioners
        .iter()
        .find(|p| p.id.as_str() == practitioner)
        .expect("valid scenario");
    if !p.active {
        return false;
    }
    let allowed: Vec<&str> = match (service, schedule_type_id) {
        (Some(v), _) => s
            .services
            .iter()
            .find(|x| x.id.as_str() == v)
            .expect("valid scenario")
            .schedule_types
            .iter()
            .map(|t| t.as_str())
            .collect(),
        (None, Some(t)) => vec![t],
        (None, None) => p.schedule_types.iter().map(|t| t.as_str()).collect(),
    };
    let a = i128::from(start_seconds) * NANOS;
    let b = a + i128::from(duration_minutes) * 60 * NANOS;
    for record in &p.availability {
        for kind in &allowed {
            let st = schedule_type(s, kind);
            let clinic_id = st
                .clinic
                .as_ref()
                .or(record.clinic.as_ref())
                .unwrap_or(&p.home_clinic)
                .as_str();
            let clinic = s
                .clinics
                .iter()
                .find(|c| c.id.as_str() == clinic_id)
                .expect("valid");
            let tz = clinic.timezone.tz();
            let start = DateTime::<Utc>::from_timestamp(start_seconds, 0)
                .expect("in range")
                .with_timezone(&tz);
            let date = start.date_naive();
            if !(record.start_date.naive() <= date
                && record.end_date.is_none_or(|e| date <= e.naive()))
            {
                continue;
            }
            // Every minute of the booking reads as a wall-clock minute of `date`, inside
            // blocks of `kind`.
            let mut fits = true;
            for k in 0..duration_minutes {
                let at = (start + Duration::minutes(i64::from(k))).with_timezone(&tz);
                if at.date_naive() != date {
                    fits = false;
                    break;
                }
                let minute = at.hour_minute();
                if block_type_at(record, date, minute / r, r) != Some(*kind) {
                    fits = false;
                    break;
                }
            }
            if !fits || clinic.holidays.iter().any(|h| h.naive() == date) {
                continue;
            }
            let (from, to) = (
                a - i128::from(buffer_before) * MINUTE,
                b + i128::from(buffer_after) * MINUTE,
            );
            let clear = utc_cells(from, to, r).all(|k| {
                !time_off_at(p, k, r)
                    && (st.allow_conflicts || occupied(s, p.id.as_str(), k, r) == 0)
            });
            if clear
                && staff_resources_free(
                    s,
                    service,
                    named,
                    clinic_id,
                    start,
                    duration_minutes,
                    (from, to),
                )
            {
                return true;
            }
        }
    }
    false
}

/// Whether a staff booking at `clinic` starting at `start` meets its resources: the
/// named ones each free and meeting every requirement of the service, or (none named)
/// a free one for every requirement.
fn staff_resources_free(
    s: &Scenario,
    service: Option<&str>,
    named: Option<&[String]>,
    clinic: &str,
    start: DateTime<Tz>,
    duration_minutes: u32,
    span: (i128, i128),
) -> bool {
    let date = start.date_naive();
    let tz = start.timezone();
    let wall: Vec<u32> = (0..duration_minutes)
        .map(|k| {
            let at = (start + Duration::minutes(i64::from(k))).with_timezone(&tz);
            let days = (at.date_naive() - date).num_days() as u32;
            days * 1440 + at.hour_minute()
        })
        .collect();
    let requires: &[Vec<slot_engine::Text>] = match service {
        Some(v) => {
            &s.services
                .iter()
                .find(|x| x.id.as_str() == v)
                .expect("valid scenario")
                .requires
        }
        None => &[],
    };
    match named {
        None => requires
            .iter()
            .all(|req| first_free(s, req, clinic, date, &wall, span).is_some()),
        Some(list) => {
            list.iter()
                .all(|id| resource_free(s, id, clinic, date, &wall, span))
                && requires
                    .iter()
                    .all(|req| req.iter().any(|id| list.iter().any(|n| n == id.as_str())))
        }
    }
}

trait HourMinute {
    fn hour_minute(&self) -> u32;
}

impl HourMinute for DateTime<Tz> {
    fn hour_minute(&self) -> u32 {
        use chrono::Timelike;
        self.hour() * 60 + self.minute()
    }
}

/// One occurrence of a series in the reference: its local date, its start (seconds
/// since the epoch; `None` when the wall-clock time does not exist that day), and
/// whether the portal may book it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefOccurrence {
    /// The occurrence's date in the series' zone.
    pub date: NaiveDate,
    /// Its start instant, seconds since the Unix epoch.
    pub start_seconds: Option<i64>,
    /// Whether a portal booking of it is bookable on its own.
    pub bookable: bool,
}

/// The clinic an appointment of `p` starting at `start_seconds` takes place at, with no
/// schedule type (*Where an appointment takes place*): the clinic of the record whose
/// dates hold the start, read in that record's clinic; else the home clinic.
fn appointment_clinic<'s>(s: &'s Scenario, p: &'s Practitioner, start_seconds: i64) -> &'s str {
    for record in &p.availability {
        let clinic = record.clinic.as_ref().unwrap_or(&p.home_clinic).as_str();
        let date = DateTime::<Utc>::from_timestamp(start_seconds, 0)
            .expect("in range")
            .with_timezone(&tz_of(s, clinic))
            .date_naive();
        if record.start_date.naive() <= date && record.end_date.is_none_or(|e| date <= e.naive()) {
            return clinic;
        }
    }
    p.home_clinic.as_str()
}

/// A portal series of the query's service (*Series* in `docs/scenario.md`): the first
/// occurrence at `first_seconds`, then every `every_weeks` weeks on the same weekday at
/// the same wall-clock time in the series' zone, `count` occurrences in all.
pub fn portal_series(
    s: &Scenario,
    practitioner: &str,
    first_seconds: i64,
    every_weeks: u32,
    count: u32,
) -> Vec<RefOccurrence> {
    let p = s
        .practitioners
        .iter()
        .find(|p| p.id.as_str() == practitioner)
        .expect("valid scenario");
    // The series' zone: the first occurrence's slot's clinic, else where it would be.
    let first_day = DateTime::<Utc>::from_timestamp(first_seconds, 0)
        .expect("in range")
        .date_naive();
    let offered = open_slots_between(
        s,
        first_day.pred_opt().unwrap_or(first_day),
        first_day.succ_opt().unwrap_or(first_day),
    )
    .into_iter()
    .find(|slot| slot.practitioner == practitioner && slot.start_seconds == first_seconds);
    let clinic = match &offered {
        Some(slot) => slot.clinic.clone(),
        None => appointment_clinic(s, p, first_seconds).to_owned(),
    };
    let tz = tz_of(s, &clinic);
    let local = DateTime::<Utc>::from_timestamp(first_seconds, 0)
        .expect("in range")
        .with_timezone(&tz)
        .naive_local();
    let (date, time) = (local.date(), local.time());
    (0..count)
        .map(|k| {
            let day = date + Duration::days(7 * i64::from(every_weeks) * i64::from(k));
            let start = if k == 0 {
                Some(first_seconds)
            } else {
                match tz.from_local_datetime(&day.and_time(time)) {
                    LocalResult::Single(t) => Some(t.timestamp()),
                    LocalResult::Ambiguous(a, b) => Some(a.timestamp().min(b.timestamp())),
                    LocalResult::None => None,
                }
            };
            RefOccurrence {
                date: day,
                start_seconds: start,
                bookable: start
                    .is_some_and(|at| portal_bookable(s, practitioner, at * 1_000_000_000)),
            }
        })
        .collect()
}
