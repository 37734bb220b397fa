//! Booking checks: may this one booking go in, and if not, why not?
//!
//! [`Model::check`] answers a proposed *portal* booking exactly as the search would
//! (it is bookable when the search, over that day, offers a slot of that practitioner
//! starting at that instant) and, when it is not, names the first rule that excludes
//! it — in the order 3, 4, 2, 5, 6, …, 12 — with a reason a clinic admin understands.
//! The store calls it inside its booking transaction; the admin "why is this time not
//! offered?" page shows its reason.
//!
//! [`Model::check_staff`] answers a front-desk booking (`docs/scenario.md`, *Checking
//! one staff booking*): it fits, or here is every reason it needs an explicit
//! override. That check is its own job, in the `staff` submodule; its types are
//! re-exported here.
//!
//! ```
//! use slot_engine::{Model, Rule};
//! let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
//! let portal = &model.query().unwrap().portal;
//! let christine = model.practitioner_ix("christine").unwrap();
//! // Every slot the search offers is bookable, and checks to the same slot.
//! for slot in model.open_slots(model.query().unwrap()) {
//!     assert_eq!(model.check(portal, christine, slot.start_instant()), Ok(slot));
//! }
//! // 09:10 is not on the 15-minute step.
//! let no = model.check(portal, christine, "2026-03-04T09:10:00-05:00".parse().unwrap()).unwrap_err();
//! assert_eq!(no.rule, Rule::Candidates);
//! # Ok::<(), slot_engine::Error>(())
//! ```

use std::fmt;

use crate::calendar::{self, Instant, MINUTES_PER_DAY};
use crate::model::{Buffers, ClinicIx, Model, Practitioner, PractitionerIx};
use crate::occupancy::CellSpan;
use crate::resource::Need;
use crate::search::{PortalQuery, Slot, practitioner_offered};
use crate::zone::{LocalTime, Zone};

mod staff;

pub use staff::{OverrideKind, OverrideReason, Purpose, ResourceChoice, StaffBooking, StaffFit};

/// A slot rule of `docs/scenario.md`, by its number.
///
/// ```
/// use slot_engine::Rule;
/// assert_eq!(Rule::PortalOverlay.number(), 7);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// 2: the start is on the record's slot step and the slot ends by midnight.
    Candidates,
    /// 3: the practitioner is active, bookable in the portal, visible to the patient,
    /// of the service's type and assigned one of its schedule types.
    Who,
    /// 4: an availability record covers the date.
    Record,
    /// 5: every cell is covered by blocks of one schedule type of the service.
    OneScheduleType,
    /// 6: the date is not a holiday of the slot's clinic.
    Clinic,
    /// 7: the portal overlay covers every cell.
    PortalOverlay,
    /// 8: telehealth was asked for and the schedule type offers it.
    Telehealth,
    /// 9: the wall-clock times exist and the slot lasts the service's duration.
    DaylightSaving,
    /// 10: no cell the slot touches is touched by the practitioner's time off.
    TimeOff,
    /// 11: a place is free in every cell the slot touches.
    Conflicts,
    /// 12: the start respects the minimum notice, and the date is at most
    /// `max_days_ahead` days after today.
    BookingWindow,
    /// 13 (v3): every resource requirement of the service has a free resource at the
    /// slot's clinic.
    Resources,
}

impl Rule {
    /// The rule's number in `docs/scenario.md`, 2 ..= 13 (rule 1 defines cells and is
    /// never reported). The numbers never change for a v1 scenario, so callers may
    /// store or match on them; a rule displays as `rule N`.
    ///
    /// ```
    /// use slot_engine::Rule;
    /// assert_eq!(Rule::Candidates.number(), 2);
    /// assert_eq!(Rule::BookingWindow.number(), 12);
    /// assert_eq!(Rule::Conflicts.to_string(), "rule 11");
    /// ```
    pub fn number(self) -> u8 {
        match self {
            Rule::Candidates => 2,
            Rule::Who => 3,
            Rule::Record => 4,
            Rule::OneScheduleType => 5,
            Rule::Clinic => 6,
            Rule::PortalOverlay => 7,
            Rule::Telehealth => 8,
            Rule::DaylightSaving => 9,
            Rule::TimeOff => 10,
            Rule::Conflicts => 11,
            Rule::BookingWindow => 12,
            Rule::Resources => 13,
        }
    }

    /// Position in the order checks report rules: 3, 4, 2, 5, 6, …, 12, 13.
    fn rank(self) -> u8 {
        match self {
            Rule::Who => 0,
            Rule::Record => 1,
            Rule::Candidates => 2,
            other => other.number(),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}", self.number())
    }
}

/// Why a portal booking is refused: the rule, and a reason in words.
///
/// The rule numbers are those of `docs/scenario.md` and never change for a v1
/// scenario; the reason is for people and may be reworded.
///
/// ```
/// use slot_engine::{Model, Rule};
/// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
/// let christine = model.practitioner_ix("christine").unwrap();
/// // Tuesday: the record is in force, but there is no block then.
/// let no = model
///     .check(&model.query().unwrap().portal, christine, "2026-03-03T10:00:00-05:00".parse().unwrap())
///     .unwrap_err();
/// assert_eq!(no.rule, Rule::OneScheduleType);
/// assert_eq!(no.to_string(), "christine is not available at 10:00 on Tuesdays (availability record 2026-03-01..) (rule 5)");
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The first rule (in the order 3, 4, 2, 5, …, 12) that excludes the booking.
    pub rule: Rule,
    /// What a clinic admin would want to read, naming the date, time, schedule type or
    /// count involved.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason, self.rule)
    }
}

fn reject<T>(rule: Rule, reason: String) -> Result<T, Rejection> {
    Err(Rejection { rule, reason })
}

pub(crate) use crate::calendar::hhmm;

/// `09:00`, or `09:00:30` / `09:00:00.5` when not on a whole minute.
fn clock_text(second_of_day: u32, nanos: i64) -> String {
    let mut text = hhmm(second_of_day / 60);
    if !second_of_day.is_multiple_of(60) || nanos != 0 {
        text.push_str(&format!(":{:02}", second_of_day % 60));
    }
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text
}

/// A local time and its date as reasons write them: `09:30 on 2026-03-02`.
fn time_on_date(seconds: i64, offset: i32) -> String {
    let text = calendar::format_with_offset(seconds, offset);
    format!("{} on {}", &text[11..16], &text[..10])
}

/// A local date and time as reasons write them: `2026-03-02 09:30`.
fn local_text(seconds: i64, offset: i32) -> String {
    let mut text = calendar::format_with_offset(seconds, offset);
    text.replace_range(10..11, " ");
    text.truncate(16);
    text
}

impl Model {
    /// Answers one proposed portal booking: the slot it would take, or the rule that
    /// rejects it and why.
    ///
    /// ```
    /// use slot_engine::{Model, PortalQuery, Rule};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
    /// let q = &model.query().unwrap().portal;
    /// let christine = model.practitioner_ix("christine").unwrap();
    /// assert!(model.check(q, christine, "2026-03-02T10:00:00-05:00".parse().unwrap()).is_ok());
    /// let no = model.check(q, christine, "2026-03-02T09:15:00-05:00".parse().unwrap()).unwrap_err();
    /// assert_eq!(no.rule, Rule::Conflicts);
    /// assert_eq!(no.reason, "1 of 1 places taken at 09:30 on 2026-03-02");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn check(
        &self,
        query: &PortalQuery,
        practitioner: PractitionerIx,
        start: Instant,
    ) -> Result<Slot, Rejection> {
        self.check_who(query, practitioner)?;
        let p = self.practitioner(practitioner);
        let mut best: Option<Rejection> = None;
        for &clinic in p.clinics() {
            match self.check_at(query, practitioner, start, clinic) {
                Ok(slot) => return Ok(slot),
                Err(r) => {
                    if best.as_ref().is_none_or(|b| r.rule.rank() > b.rule.rank()) {
                        best = Some(r);
                    }
                }
            }
        }
        Err(best.expect("the home clinic is always tried"))
    }

    /// Rule 3, with the reason.
    fn check_who(&self, query: &PortalQuery, ix: PractitionerIx) -> Result<(), Rejection> {
        let service = self.service(query.service());
        if practitioner_offered(self, service, query, ix) {
            return Ok(());
        }
        let p = self.practitioner(ix);
        let name = &p.name;
        let reason = if !p.active {
            format!("{name} is not active")
        } else if !p.bookable_in_portal {
            format!("{name} is not bookable in the portal")
        } else if !query.allows(ix) {
            format!("{name} is not among the practitioners this patient may book")
        } else if let Some(kind) = service.practitioner_type.as_ref().filter(|k| **k != p.kind) {
            format!(
                "{} is for {kind} practitioners; {name} is a {}",
                service.name, p.kind
            )
        } else {
            let types: Vec<&str> = service
                .schedule_types
                .iter()
                .map(|&t| self.schedule_type(t).name.as_str())
                .collect();
            format!(
                "{name} is not assigned any schedule type of {} ({})",
                service.name,
                if types.is_empty() {
                    "it has none".to_owned()
                } else {
                    types.join(", ")
                }
            )
        };
        reject(Rule::Who, reason)
    }

    /// Rules 4, 2, 5–12 for the reading of `start` at one clinic.
    fn check_at(
        &self,
        query: &PortalQuery,
        ix: PractitionerIx,
        start: Instant,
        clinic_ix: ClinicIx,
    ) -> Result<Slot, Rejection> {
        let p = self.practitioner(ix);
        let service = self.service(query.service());
        let clinic = self.clinic(clinic_ix);
        let zone = clinic.zone;
        let seconds = start.unix_seconds();
        let reading = zone.reading(seconds);
        let date = reading.date();
        let Some((date, record)) = date.and_then(|d| p.record_on(d).map(|r| (d, r))) else {
            let day = date.map_or_else(|| "that date".to_owned(), |d| d.to_string());
            return reject(
                Rule::Record,
                format!("{} has no availability record covering {day}", p.name),
            );
        };

        // Rule 2.
        let step = record.slot_step();
        let whole_minute =
            start.unix_nanos() % 1_000_000_000 == 0 && reading.second_of_day.is_multiple_of(60);
        let t = reading.second_of_day / 60;
        if !whole_minute || !t.is_multiple_of(step) {
            return reject(
                Rule::Candidates,
                format!(
                    "{} is not on the {step}-minute scheduling interval of the availability record {}",
                    clock_text(
                        reading.second_of_day,
                        start.unix_nanos().rem_euclid(1_000_000_000)
                    ),
                    record.dates()
                ),
            );
        }
        let d = service.duration_minutes;
        if t + d > MINUTES_PER_DAY {
            return reject(
                Rule::Candidates,
                format!(
                    "a {d}-minute {} starting at {} on {date} would end after midnight",
                    service.name,
                    hhmm(t)
                ),
            );
        }

        // Rule 5.
        let weekday = date.weekday();
        let Some(g) = record.type_at(weekday, t) else {
            return reject(
                Rule::OneScheduleType,
                format!(
                    "{} is not available at {} on {} (availability record {})",
                    p.name,
                    hhmm(t),
                    weekday.plural(),
                    record.dates()
                ),
            );
        };
        let type_name = &self.schedule_type(g.schedule_type).name;
        if !g.grid.covers(weekday, t, t + d) {
            let gap = (t..t + d)
                .find(|&m| !g.grid.is_set(weekday, m))
                .unwrap_or(t + d);
            let next = record.type_at(weekday, gap).map_or_else(
                || "no availability".to_owned(),
                |o| format!("{}", self.schedule_type(o.schedule_type).name),
            );
            return reject(
                Rule::OneScheduleType,
                format!(
                    "{type_name} on {} ends at {}, before the {d}-minute {} would end at {} ({next} from then)",
                    weekday.plural(),
                    hhmm(gap - gap % self.settings().resolution.minutes()),
                    service.name,
                    hhmm(t + d)
                ),
            );
        }
        if !service.applies_to(g.schedule_type) {
            return reject(
                Rule::OneScheduleType,
                format!(
                    "{} at {} on {} is {type_name}, not a schedule type of {}",
                    p.name,
                    hhmm(t),
                    weekday.plural(),
                    service.name
                ),
            );
        }
        if g.clinic != clinic_ix {
            return reject(
                Rule::OneScheduleType,
                format!(
                    "at {} on {date} ({}) {} works at {}, not {}",
                    hhmm(t),
                    zone.name(),
                    p.name,
                    self.clinic(g.clinic).name,
                    clinic.name
                ),
            );
        }

        // Rule 6.
        if clinic.is_holiday(date) {
            return reject(Rule::Clinic, format!("{} is closed on {date}", clinic.name));
        }

        // Rule 7.
        if let Some(overlay) = record.portal()
            && !overlay.covers(weekday, t, t + d)
        {
            return reject(
                Rule::PortalOverlay,
                format!(
                    "{}–{} is outside Customize Portal Availability on {}",
                    hhmm(t),
                    hhmm(t + d),
                    weekday.plural()
                ),
            );
        }

        // Rule 8.
        let schedule_type = self.schedule_type(g.schedule_type);
        if query.telehealth() && !schedule_type.telehealth {
            return reject(
                Rule::Telehealth,
                format!("{type_name} does not offer telehealth appointments"),
            );
        }

        // Rule 9.
        let (start_seconds, start_offset) = match zone.resolve(date, t) {
            LocalTime::Ambiguous { earlier, .. } if earlier.0 != seconds => {
                return reject(
                    Rule::DaylightSaving,
                    format!(
                        "{} happens twice on {date} (clocks go back); the portal offers only the first, at {}",
                        hhmm(t),
                        calendar::format_with_offset(earlier.0, earlier.1)
                    ),
                );
            }
            other => other.earliest().unwrap_or((seconds, reading.offset)),
        };
        let Some((end_seconds, end_offset)) = zone.resolve(date, t + d).earliest() else {
            return reject(
                Rule::DaylightSaving,
                format!(
                    "it would end at {} on {date}, a time that does not exist there (clocks go forward)",
                    hhmm(t + d)
                ),
            );
        };
        let lasts = end_seconds - start_seconds;
        if lasts != i64::from(d) * 60 {
            return reject(
                Rule::DaylightSaving,
                format!(
                    "{}–{} on {date} lasts {} minutes across the clock change, not {d}",
                    hhmm(t),
                    hhmm(t + d),
                    lasts / 60
                ),
            );
        }

        // Rules 10 and 11, on the buffered interval.
        let capacity = if schedule_type.allow_conflicts {
            service.portal_conflicts
        } else {
            1
        };
        self.check_time(
            p,
            (start_seconds, end_seconds),
            service.buffers,
            capacity,
            zone,
        )?;

        // Rule 12.
        let notice = i64::from(self.settings().min_notice_minutes) * 60_000_000_000;
        let earliest_nanos = query.now().unix_nanos() + notice;
        if i128::from(start_seconds) * 1_000_000_000 < i128::from(earliest_nanos) {
            // Slots start on whole minutes: name the first one not refused.
            let earliest = earliest_nanos.div_euclid(60_000_000_000) * 60
                + 60 * i64::from(earliest_nanos % 60_000_000_000 != 0);
            return reject(
                Rule::BookingWindow,
                format!(
                    "too soon: with {} minutes' notice the earliest bookable start is {}",
                    self.settings().min_notice_minutes,
                    local_text(earliest, zone.offset_at(earliest))
                ),
            );
        }
        // Today may read 1999-12-31 in the clinic's zone: count days as numbers.
        let today = zone.reading(query.now().unix_seconds()).days;
        let max_days = i64::from(self.settings().max_days_ahead);
        if i64::from(date.days()) > today + max_days {
            return reject(
                Rule::BookingWindow,
                format!(
                    "{date} is more than {max_days} days ahead of {}, the furthest patients may book",
                    calendar::day_text(today)
                ),
            );
        }

        // Rule 13.
        if !service.requires.is_empty() {
            let cell_seconds = i64::from(self.settings().resolution.minutes()) * 60;
            let before = i64::from(service.buffers.before_minutes) * 60;
            let after = i64::from(service.buffers.after_minutes) * 60;
            let segments = [(t, t + d)];
            let need = Need {
                clinic: clinic_ix,
                date,
                segments: &segments,
                buffered: CellSpan::of_seconds(
                    cell_seconds,
                    start_seconds - before,
                    end_seconds + after,
                ),
            };
            if let Err(unmet) = self.pick_resources(query.service(), &need) {
                return reject(Rule::Resources, self.unmet_text(&unmet, clinic_ix));
            }
        }

        Ok(Slot::new(
            (ix, query.service()),
            g.schedule_type,
            clinic_ix,
            (start_seconds, start_offset),
            (end_seconds, end_offset),
        ))
    }

    /// Rules 10 and 11 for `[start, end)` (seconds) with `buffers` around it: no time
    /// off touches the buffered interval, and each of its cells holds fewer than
    /// `capacity` appointments. A refusal caused only by a buffer says so.
    pub(crate) fn check_time(
        &self,
        p: &Practitioner,
        (start, end): (i64, i64),
        buffers: Buffers,
        capacity: u32,
        zone: Zone,
    ) -> Result<(), Rejection> {
        let cell_seconds = i64::from(self.settings().resolution.minutes()) * 60;
        let own = CellSpan::of_seconds(cell_seconds, start, end);
        let before = i64::from(buffers.before_minutes) * 60;
        let after = i64::from(buffers.after_minutes) * 60;
        let buffered = CellSpan::of_seconds(cell_seconds, start - before, end + after);
        let occupancy = p.occupancy();
        if occupancy.time_off_touches(own) {
            return reject(Rule::TimeOff, self.time_off_reason(p, own, zone));
        }
        let before_span = CellSpan {
            start: buffered.start,
            end: own.start,
        };
        let after_span = CellSpan {
            start: own.end,
            end: buffered.end,
        };
        for (side, span) in [(Side::Before, before_span), (Side::After, after_span)] {
            if occupancy.time_off_touches(span) {
                return reject(
                    Rule::TimeOff,
                    format!(
                        "{} meets time off: {}",
                        buffer_text(buffers, start, end, zone, side),
                        self.time_off_reason(p, span, zone)
                    ),
                );
            }
        }
        let full = |span: CellSpan| {
            occupancy
                .busiest_cell(span)
                .filter(|&(_, count)| count >= capacity)
        };
        let taken = |cell: i64, count: u32| {
            let at = cell * cell_seconds;
            format!(
                "{count} of {capacity} places taken at {}",
                time_on_date(at, zone.offset_at(at))
            )
        };
        if let Some((cell, count)) = full(own) {
            return reject(Rule::Conflicts, taken(cell, count));
        }
        for (side, span) in [(Side::Before, before_span), (Side::After, after_span)] {
            if let Some((cell, count)) = full(span) {
                return reject(
                    Rule::Conflicts,
                    format!(
                        "{} reaches {}",
                        buffer_text(buffers, start, end, zone, side),
                        taken(cell, count)
                    ),
                );
            }
        }
        Ok(())
    }

    fn time_off_reason(&self, p: &Practitioner, span: CellSpan, zone: Zone) -> String {
        let r = self.settings().resolution;
        let hit = p
            .time_off()
            .iter()
            .find(|(a, b)| CellSpan::touched_by(r, *a, *b).overlaps(span));
        match hit {
            Some((a, b)) => {
                let (a, b) = (a.unix_seconds(), b.unix_seconds());
                format!(
                    "{} has time off from {} to {}",
                    p.name,
                    local_text(a, zone.offset_at(a)),
                    local_text(b, zone.offset_at(b))
                )
            }
            None => format!("{} has time off then", p.name),
        }
    }
}

/// Which buffer of an appointment a refusal is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Before,
    After,
}

/// "the 10-minute buffer after 09:00–09:45", in the clinic's wall-clock time.
pub(crate) fn buffer_text(
    buffers: Buffers,
    start: i64,
    end: i64,
    zone: Zone,
    side: Side,
) -> String {
    let clock = |at: i64| {
        let reading = zone.reading(at);
        hhmm(reading.second_of_day / 60)
    };
    let minutes = match side {
        Side::Before => buffers.before_minutes,
        Side::After => buffers.after_minutes,
    };
    format!(
        "the {minutes}-minute buffer {} {}–{}",
        match side {
            Side::Before => "before",
            Side::After => "after",
        },
        clock(start),
        clock(end)
    )
}

#[cfg(test)]
mod tests;
