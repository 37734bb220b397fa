//! One question: why is this service with this practitioner not offered at this date
//! and time? Answered by the engine's own check of that time.

use serde::Serialize;
use slot_engine::{Date, Instant, LocalTime, Rule, WallTime};

use crate::db::Exec;
use crate::error::{Error, Result};
use crate::organisation::Organisation;
use crate::window::{self, Window};

/// "Why is this time not offered?": one portal booking, in row ids and the clinic's
/// wall-clock time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub service: i64,
    pub practitioner: i64,
    /// The date, in the clinic's timezone.
    pub date: Date,
    /// The start, wall-clock time in the clinic's timezone.
    pub time: WallTime,
    /// Ask as this patient (their available practitioners apply).
    pub patient: Option<i64>,
}

/// The engine's answer to a [`Question`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Whether the portal offers this slot.
    pub bookable: bool,
    /// The rule that rejects it (numbered as in `docs/scenario.md`), when one does.
    pub rule: Option<u8>,
    /// Why, in words; or the slot offered.
    pub reason: String,
    /// The slot's start, in the clinic's offset, when offered.
    pub start: Option<String>,
    /// The slot's end, when offered.
    pub end: Option<String>,
    /// The timezone the date and time were read in.
    pub timezone: String,
}

/// Answers a [`Question`] exactly as a portal booking at `now` would be checked.
pub async fn explain(
    exec: &mut Exec<'_>,
    org: &Organisation,
    q: &Question,
    now: Instant,
) -> Result<Explanation> {
    if q.time.minutes() >= 24 * 60 {
        return Err(Error::invalid("time", "must be before 24:00"));
    }
    let input = window::load(
        exec,
        org,
        &Window {
            service: Some(q.service),
            practitioners: Some(vec![q.practitioner]),
            from: q.date.add_days(-1).unwrap_or(q.date),
            to: q.date.add_days(1).unwrap_or(q.date),
            skip_appointment: None,
            resources: Vec::new(),
        },
    )
    .await?;
    let model = &input.model;
    let s = input
        .service_ix(q.service)
        .ok_or(Error::NotFound("service"))?;
    let p = input
        .practitioner_ix(q.practitioner)
        .ok_or(Error::NotFound("practitioner"))?;
    let practitioner = model.practitioner(p);
    // The clinic whose blocks hold that time decides the timezone (rule 6); with no
    // block there, the home clinic's.
    let clinic = practitioner
        .record_on(q.date)
        .and_then(|r| r.type_at(q.date.weekday(), q.time.minutes()))
        .map_or(practitioner.home_clinic, |g| g.clinic);
    let zone = model.clinic(clinic).zone;
    let timezone = zone.name().to_owned();
    let no = |rule: Option<u8>, reason: String| Explanation {
        bookable: false,
        rule,
        reason,
        start: None,
        end: None,
        timezone: timezone.clone(),
    };
    let service = model.service(s);
    if !service.book_from_portal {
        return Ok(no(
            None,
            format!(
                "{} is not bookable online: Book from portal is off",
                service.name
            ),
        ));
    }
    let allowed = match q.patient {
        Some(patient) => crate::appointment::patient_practitioners(exec, org.id, patient).await?,
        None => None,
    };
    let query = window::portal_query(&input, q.service, allowed.as_deref(), now, false)?;
    let seconds = match zone.resolve(q.date, q.time.minutes()) {
        LocalTime::Missing => {
            return Ok(no(
                Some(Rule::DaylightSaving.number()),
                format!(
                    "{} does not exist on {} in {timezone} (clocks go forward)",
                    q.time, q.date
                ),
            ));
        }
        other => other.earliest().map_or(0, |(seconds, _)| seconds),
    };
    let start =
        Instant::from_unix_seconds(seconds).map_err(|e| Error::invalid("date", e.to_string()))?;
    Ok(match model.check(&query, p, start) {
        Ok(slot) => Explanation {
            bookable: true,
            rule: None,
            reason: format!(
                "the portal offers {} with {} from {} to {}",
                service.name,
                practitioner.name,
                slot.start_text(),
                slot.end_text()
            ),
            start: Some(slot.start_text()),
            end: Some(slot.end_text()),
            timezone: zone.name().to_owned(),
        },
        Err(r) => no(Some(r.rule.number()), r.reason),
    })
}
