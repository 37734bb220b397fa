//! Recurring series (format v2): a first occurrence and a weekly rule, each occurrence
//! checked as a booking of its own.
//!
//! A series repeats its first occurrence every `N` weeks (1 to 4) on the same weekday,
//! `count` times or until a date, always at the same *clinic-local* wall-clock time:
//! 17:00 stays 17:00 across a change of the clocks. An occurrence whose time does not
//! exist that day (a spring-forward gap) is reported, never moved; one whose time
//! happens twice is read as the earlier instant, as rule 9 reads every time. Each
//! occurrence is then checked exactly as a single booking would be
//! ([`Model::check`] for the portal, [`Model::check_staff`] for staff): occurrences are
//! at least a week apart and a booking with both buffers spans at most three days, so
//! they never meet each other.
//!
//! ```
//! use slot_engine::{Model, SeriesEnd, SeriesRule};
//! let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
//! let portal = &model.query().unwrap().portal;
//! let christine = model.practitioner_ix("christine").unwrap();
//! let weekly = SeriesRule::new(1, SeriesEnd::Count(3)).unwrap();
//! // Mondays at 10:00 for three weeks, but the service does not allow series online.
//! let err = model.check_series(portal, christine, "2026-03-02T10:00:00-05:00".parse().unwrap(), &weekly);
//! assert_eq!(err.unwrap_err().to_string(), "Initial assessment cannot be booked online as a series");
//! # Ok::<(), slot_engine::Error>(())
//! ```

use std::fmt;

use crate::calendar::{self, Date, Instant};
use crate::check::{OverrideKind, OverrideReason, Rejection, Rule, StaffBooking, StaffFit, hhmm};
use crate::error::ValueError;
use crate::model::{ClinicIx, Model, PractitionerIx};
use crate::search::{PortalQuery, Slot};
use crate::zone::{LocalTime, Zone};

/// The fewest occurrences a series has.
pub const MIN_OCCURRENCES: u32 = 2;
/// The most occurrences a series has: a year of weeks.
pub const MAX_OCCURRENCES: u32 = 52;
/// The longest gap between occurrences, in weeks.
pub const MAX_EVERY_WEEKS: u32 = 4;

/// How a series ends: after a number of occurrences, or on a last date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeriesEnd {
    /// This many occurrences, the first included (2 ..= 52).
    Count(u32),
    /// Every occurrence whose date is on or before this one; there must be 2 to 52.
    Until(Date),
}

/// The rule of a series: every `every_weeks` weeks, until its end.
///
/// ```
/// use slot_engine::{SeriesEnd, SeriesRule};
/// assert!(SeriesRule::new(1, SeriesEnd::Count(8)).is_ok());
/// assert_eq!(SeriesRule::new(5, SeriesEnd::Count(8)).unwrap_err().to_string(), "every_weeks 5 is out of range 1..=4");
/// assert_eq!(SeriesRule::new(1, SeriesEnd::Count(60)).unwrap_err().to_string(), "count 60 is out of range 2..=52");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesRule {
    every_weeks: u32,
    end: SeriesEnd,
}

impl SeriesRule {
    /// A rule, if `every_weeks` is 1 ..= 4 and a count is 2 ..= 52 (an end date is
    /// checked against the first occurrence by [`SeriesRule::dates`]).
    pub fn new(every_weeks: u32, end: SeriesEnd) -> Result<Self, ValueError> {
        if !(1..=MAX_EVERY_WEEKS).contains(&every_weeks) {
            return Err(ValueError::new(format!(
                "every_weeks {every_weeks} is out of range 1..={MAX_EVERY_WEEKS}"
            )));
        }
        if let SeriesEnd::Count(n) = end
            && !(MIN_OCCURRENCES..=MAX_OCCURRENCES).contains(&n)
        {
            return Err(ValueError::new(format!(
                "count {n} is out of range {MIN_OCCURRENCES}..={MAX_OCCURRENCES}"
            )));
        }
        Ok(SeriesRule { every_weeks, end })
    }

    /// Weeks between occurrences.
    pub fn every_weeks(&self) -> u32 {
        self.every_weeks
    }

    /// How the series ends.
    pub fn end(&self) -> SeriesEnd {
        self.end
    }

    /// The dates of the occurrences of a series whose first occurrence is on `first`.
    ///
    /// ```
    /// use slot_engine::{Date, SeriesEnd, SeriesRule};
    /// let d = |s: &str| s.parse::<Date>().unwrap();
    /// let fortnightly = SeriesRule::new(2, SeriesEnd::Until(d("2026-04-01"))).unwrap();
    /// let dates: Vec<String> = fortnightly.dates(d("2026-03-03")).unwrap().iter().map(|d| d.to_string()).collect();
    /// assert_eq!(dates, ["2026-03-03", "2026-03-17", "2026-03-31"]);
    /// let too_short = SeriesRule::new(1, SeriesEnd::Until(d("2026-03-05"))).unwrap();
    /// assert_eq!(too_short.dates(d("2026-03-03")).unwrap_err().to_string(),
    ///     "until 2026-03-05 leaves 1 occurrence; a series has 2 to 52");
    /// ```
    pub fn dates(&self, first: Date) -> Result<Vec<Date>, ValueError> {
        let step = 7 * i64::from(self.every_weeks);
        let count = match self.end {
            SeriesEnd::Count(n) => n,
            SeriesEnd::Until(last) => {
                if last < first {
                    return Err(ValueError::new(format!(
                        "until {last} is before the first occurrence on {first}"
                    )));
                }
                let n = last.days_since(first) / step + 1;
                if !(i64::from(MIN_OCCURRENCES)..=i64::from(MAX_OCCURRENCES)).contains(&n) {
                    return Err(ValueError::new(format!(
                        "until {last} leaves {n} occurrence{}; a series has {MIN_OCCURRENCES} to {MAX_OCCURRENCES}",
                        if n == 1 { "" } else { "s" }
                    )));
                }
                n as u32
            }
        };
        (0..i64::from(count))
            .map(|k| {
                first.add_days(k * step).ok_or_else(|| {
                    ValueError::new(format!("the series would run past {}", Date::MAX))
                })
            })
            .collect()
    }
}

/// One occurrence of a series and its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence<T> {
    /// Its date, in the series' clinic's zone.
    pub date: Date,
    /// Its start instant; `None` when the series' wall-clock time does not exist on
    /// that date (clocks go forward over it), which no override can book.
    pub start: Option<Instant>,
    /// The clinic whose zone the series' wall-clock time is read in.
    pub clinic: ClinicIx,
    /// The answer of the check of that single booking.
    pub answer: T,
}

impl<T> Occurrence<T> {
    /// The start as the answer writes times, `YYYY-MM-DDTHH:MM:SS±HH:MM` in the
    /// series' clinic's offset then, with any fraction of a second; `None` when the time
    /// does not exist that day.
    ///
    /// ```
    /// use slot_engine::{Model, SeriesEnd, SeriesRule};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/series-london.json"))?;
    /// let ana = model.practitioner_ix("ana").unwrap();
    /// let rule = SeriesRule::new(1, SeriesEnd::Count(2)).unwrap();
    /// let series = model.check_series(&model.query().unwrap().portal, ana,
    ///     "2027-03-23T17:00:00Z".parse().unwrap(), &rule).unwrap();
    /// assert!(series[0].answer.is_err()); // taken from 17:15
    /// assert_eq!(series[0].start_text(&model).unwrap(), "2027-03-23T17:00:00+00:00");
    /// assert_eq!(series[1].start_text(&model).unwrap(), "2027-03-30T17:00:00+01:00");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn start_text(&self, model: &Model) -> Option<String> {
        let start = self.start?;
        let seconds = start.unix_seconds();
        let offset = model.clinic(self.clinic).zone.offset_at(seconds);
        let mut text = calendar::format_with_offset(seconds, offset);
        let nanos = start.unix_nanos().rem_euclid(1_000_000_000);
        if nanos != 0 {
            // "…T09:00:00.5+01:00": the fraction goes before the offset.
            let at = text.len() - 6;
            let fraction = format!("{:09}", nanos);
            text.insert_str(at, &format!(".{}", fraction.trim_end_matches('0')));
        }
        Some(text)
    }
}

/// A portal occurrence: the slot, or the rule that refuses it.
pub type PortalOccurrence = Occurrence<Result<Slot, Rejection>>;

/// A staff occurrence: where it fits, or every reason it needs an override.
pub type StaffOccurrence = Occurrence<Result<StaffFit, Vec<OverrideReason>>>;

/// The starts of a series: its first instant, then the same wall-clock time every
/// `every_weeks` weeks, read in `zone`.
struct Starts {
    /// Each occurrence's date and start; the first is `first` itself.
    items: Vec<(Date, Result<Instant, String>)>,
}

impl Starts {
    fn new(zone: Zone, first: Instant, rule: &SeriesRule) -> Result<Starts, ValueError> {
        let reading = zone.reading(first.unix_seconds());
        let date = reading.date().ok_or_else(|| {
            ValueError::new(format!("{first} is outside the dates a series may use"))
        })?;
        let minute = reading.second_of_day / 60;
        // Seconds and nanoseconds past the minute carry over to every occurrence.
        let past_minute = i64::from(reading.second_of_day % 60) * 1_000_000_000
            + first.unix_nanos().rem_euclid(1_000_000_000);
        let dates = rule.dates(date)?;
        let items = dates
            .into_iter()
            .enumerate()
            .map(|(k, d)| {
                if k == 0 {
                    return (d, Ok(first));
                }
                let start = match zone.resolve(d, minute) {
                    LocalTime::Missing => Err(format!(
                        "{} does not exist on {d} in {} (clocks go forward)",
                        hhmm(minute),
                        zone.name()
                    )),
                    other => {
                        let (seconds, _) = other.earliest().expect("the time exists");
                        Ok(Instant::computed(seconds * 1_000_000_000 + past_minute))
                    }
                };
                (d, start)
            })
            .collect();
        Ok(Starts { items })
    }
}

impl Model {
    /// Checks a series of portal bookings of the query's service: for each occurrence,
    /// the slot or the rule that refuses it. The portal books a series all or none, so
    /// it is bookable when every occurrence is. The series' zone is that of the first
    /// occurrence's slot, or, when that is refused, of the clinic where it would take
    /// place ([`Model::appointment_clinic`]).
    ///
    /// Refused as a whole (an error naming the field) when the service does not allow
    /// series or the rule's end date leaves fewer than 2 or more than 52 occurrences.
    ///
    /// ```
    /// use slot_engine::{Model, SeriesEnd, SeriesRule};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/series-london.json"))?;
    /// let portal = &model.query().unwrap().portal;
    /// let ana = model.practitioner_ix("ana").unwrap();
    /// let rule = SeriesRule::new(1, SeriesEnd::Count(4)).unwrap();
    /// let series = model.check_series(portal, ana, "2027-03-16T17:00:00Z".parse().unwrap(), &rule).unwrap();
    /// // 17:00 stays 17:00 in London when the clocks go forward on 28 March; the 23rd
    /// // is taken from 17:15, and is reported, not moved.
    /// let answers: Vec<String> = series.iter().map(|o| match &o.answer {
    ///     Ok(slot) => slot.start_text(),
    ///     Err(no) => format!("rule {}: {}", no.rule.number(), no.reason),
    /// }).collect();
    /// assert_eq!(answers, ["2027-03-16T17:00:00+00:00", "rule 11: 1 of 1 places taken at 17:15 on 2027-03-23",
    ///                      "2027-03-30T17:00:00+01:00", "2027-04-06T17:00:00+01:00"]);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn check_series(
        &self,
        query: &PortalQuery,
        practitioner: PractitionerIx,
        first: Instant,
        rule: &SeriesRule,
    ) -> Result<Vec<PortalOccurrence>, ValueError> {
        let service = self.service(query.service());
        if !service.allow_series {
            return Err(ValueError::new(format!(
                "{} cannot be booked online as a series",
                service.name
            )));
        }
        let first_answer = self.check(query, practitioner, first);
        let clinic = match &first_answer {
            Ok(slot) => slot.clinic,
            Err(_) => self.appointment_clinic(practitioner, None, first),
        };
        let starts = Starts::new(self.clinic(clinic).zone, first, rule)?;
        let mut first_answer = Some(first_answer);
        Ok(starts
            .items
            .into_iter()
            .map(|(date, start)| {
                let answer = match (&start, first_answer.take()) {
                    (_, Some(answer)) => answer,
                    (Ok(at), None) => self.check(query, practitioner, *at),
                    (Err(reason), None) => Err(Rejection {
                        rule: Rule::DaylightSaving,
                        reason: reason.clone(),
                    }),
                };
                Occurrence {
                    date,
                    start: start.ok(),
                    clinic,
                    answer,
                }
            })
            .collect())
    }

    /// Checks a series of staff bookings, each like `first` but at its own start: for
    /// each occurrence, where it fits or every reason it needs an override. Staff may
    /// book any service as a series, all or none or only the occurrences they choose.
    /// The series' zone is that of the clinic the first occurrence fits at, or else
    /// where it would take place ([`Model::appointment_clinic`]).
    ///
    /// ```
    /// use slot_engine::{Buffers, Model, OverrideKind, Purpose, SeriesEnd, SeriesRule, StaffBooking};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/series-london.json"))?;
    /// let first = StaffBooking {
    ///     practitioner: model.practitioner_ix("ana").unwrap(),
    ///     start: "2027-03-21T01:30:00Z".parse().unwrap(), // a Sunday, 01:30 in London
    ///     duration_minutes: 30,
    ///     purpose: Purpose::Unspecified,
    ///     buffers: Buffers::NONE,
    ///     resources: slot_engine::ResourceChoice::Auto,
    /// };
    /// let rule = SeriesRule::new(1, SeriesEnd::Count(2)).unwrap();
    /// let series = model.check_staff_series(&first, &rule).unwrap();
    /// // 01:30 does not exist on 28 March 2027 in London: reported, not moved.
    /// assert_eq!(series[1].start, None);
    /// let reasons = series[1].answer.as_ref().unwrap_err();
    /// assert_eq!(reasons[0].kind, OverrideKind::DoesNotExist);
    /// assert_eq!(reasons[0].message, "01:30 does not exist on 2027-03-28 in Europe/London (clocks go forward)");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn check_staff_series(
        &self,
        first: &StaffBooking,
        rule: &SeriesRule,
    ) -> Result<Vec<StaffOccurrence>, ValueError> {
        let first_answer = self.check_staff(first);
        let clinic: ClinicIx = match &first_answer {
            Ok(fit) => fit.clinic,
            Err(_) => {
                let schedule_type = match first.purpose {
                    crate::Purpose::ScheduleType(t) => Some(t),
                    _ => None,
                };
                self.appointment_clinic(first.practitioner, schedule_type, first.start)
            }
        };
        let starts = Starts::new(self.clinic(clinic).zone, first.start, rule)?;
        let mut first_answer = Some(first_answer);
        Ok(starts
            .items
            .into_iter()
            .map(|(date, start)| {
                let answer = match (&start, first_answer.take()) {
                    (_, Some(answer)) => answer,
                    (Ok(at), None) => self.check_staff(&StaffBooking {
                        start: *at,
                        ..first.clone()
                    }),
                    (Err(reason), None) => Err(vec![OverrideReason {
                        kind: OverrideKind::DoesNotExist,
                        message: reason.clone(),
                    }]),
                };
                Occurrence {
                    date,
                    start: start.ok(),
                    clinic,
                    answer,
                }
            })
            .collect())
    }
}

impl fmt::Display for SeriesRule {
    /// "every week, 8 times", "every 2 weeks until 2026-06-30".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.every_weeks {
            1 => f.write_str("every week")?,
            n => write!(f, "every {n} weeks")?,
        }
        match self.end {
            SeriesEnd::Count(n) => write!(f, ", {n} times"),
            SeriesEnd::Until(d) => write!(f, " until {d}"),
        }
    }
}

#[cfg(test)]
mod tests;
