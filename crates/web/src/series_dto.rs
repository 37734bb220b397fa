//! A weekly series' occurrences as the API answers them, for the desk's preview and
//! refusals and the portal's: the date, the start in the clinic's offset, and whether it
//! can be booked or why not.

use chrono_tz::Tz;
use serde::Serialize;
use store::appointment::series::{OccurrenceCheck, SeriesCheck, Verdict};
use utoipa::ToSchema;

use crate::clinic_time::rfc3339;

/// One occurrence of a series, as the preview and the API show it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct OccurrenceDto {
    /// Its date, in the series' clinic's zone (`YYYY-MM-DD`).
    pub date: String,
    /// Its start, RFC 3339 in the clinic's offset; `null` when the time does not exist
    /// that day (clocks go forward).
    pub start: Option<String>,
    /// `open`, `needs_override` (staff), `refused` (portal) or `does_not_exist`.
    pub verdict: String,
    /// Why it cannot be booked as it is (empty when open).
    pub reasons: Vec<String>,
    /// The portal's rule number, for a refused one.
    pub rule: Option<u8>,
}

impl OccurrenceDto {
    pub(crate) fn of(o: &OccurrenceCheck, tz: Tz) -> OccurrenceDto {
        let (verdict, reasons, rule) = match &o.verdict {
            Verdict::Open => ("open", Vec::new(), None),
            Verdict::NeedsOverride { reasons } => ("needs_override", reasons.clone(), None),
            Verdict::Refused { rule, reason } => ("refused", vec![reason.clone()], Some(*rule)),
            Verdict::DoesNotExist { reason } => ("does_not_exist", vec![reason.clone()], None),
        };
        OccurrenceDto {
            date: o.date.to_string(),
            start: o.start.map(|s| rfc3339(s.unix_nanos(), tz)),
            verdict: verdict.to_owned(),
            reasons,
            rule,
        }
    }
}

/// A series checked, as the preview and the API's refusals show it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct SeriesPreviewDto {
    /// The clinic whose zone the series' wall-clock time is read in.
    pub clinic_id: i64,
    /// Its IANA timezone.
    pub timezone: String,
    /// The length of each occurrence, in minutes.
    pub duration_minutes: u32,
    /// Whether every occurrence can be booked as it is.
    pub bookable: bool,
    /// Each occurrence, by date.
    pub occurrences: Vec<OccurrenceDto>,
}

impl From<&SeriesCheck> for SeriesPreviewDto {
    fn from(c: &SeriesCheck) -> Self {
        let tz = c.clinic_timezone.parse::<Tz>().unwrap_or(chrono_tz::UTC);
        SeriesPreviewDto {
            clinic_id: c.clinic_id,
            timezone: c.clinic_timezone.clone(),
            duration_minutes: c.duration_minutes,
            bookable: c.all_open(),
            occurrences: c
                .occurrences
                .iter()
                .map(|o| OccurrenceDto::of(o, tz))
                .collect(),
        }
    }
}
