//! Clinic time: instants read as a clinic's local dates and times, and a clinic's
//! wall-clock times turned back into instants. Every conversion from local time goes
//! through [`earliest_ns`], over `slot_engine::Zone::resolve`, which makes the
//! daylight-saving cases explicit (ARCHITECTURE.md's invariant).
//!
//! **One format on every staff page:** a date reads `Tue 15 Dec 2026`, a time `14:00`
//! (24-hour, the clinic's wall clock), the two together `Tue 15 Dec 2026, 14:00`, with
//! the zone's abbreviation after the time where clinics span zones (`14:00 EST`). ISO
//! 8601 stays in `<time datetime>` attributes and in the API; [`readable`] turns what
//! the engine writes in ISO into this format for page text.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use slot_engine::{Instant, LocalTime, Zone};
use store::book::Entry;

use crate::state::AppState;

/// An instant in a zone.
pub(crate) fn local(ns: i64, tz: Tz) -> chrono::DateTime<Tz> {
    tz.from_utc_datetime(&chrono::DateTime::from_timestamp_nanos(ns).naive_utc())
}

/// `2026-03-02T09:00:00-05:00`: the instant in the clinic's offset, as the scenario
/// format writes slots.
pub(crate) fn rfc3339(ns: i64, tz: Tz) -> String {
    local(ns, tz).to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The appointment's start and end in its clinic's wall-clock time: `09:00–09:45`.
pub(crate) fn time_span(entry: &Entry) -> String {
    span_in(entry.start_ns, entry.end_ns, entry.zone())
}

/// An instant span's wall-clock times in `tz`: `09:00–09:45`.
pub(crate) fn span_in(start_ns: i64, end_ns: i64, tz: Tz) -> String {
    format!(
        "{}–{}",
        local(start_ns, tz).format("%H:%M"),
        local(end_ns, tz).format("%H:%M")
    )
}

/// What people call a zone's clock: the city of its IANA name (`America/Vancouver`:
/// `Vancouver`, `America/St_Johns`: `St Johns`), which "13:00 Vancouver time" reads.
pub(crate) fn zone_city(tz: Tz) -> String {
    let name = tz.name();
    name.rsplit('/').next().unwrap_or(name).replace('_', " ")
}

/// `Mon 2 Mar 2026, 09:00–09:45`.
pub(crate) fn when(entry: &Entry) -> String {
    format!(
        "{}, {}",
        local(entry.start_ns, entry.zone()).format("%a %-d %b %Y"),
        time_span(entry)
    )
}

/// A stored instant in a zone: `Mon 2 Mar 2026, 09:30`.
pub(crate) fn local_datetime(ns: i64, tz: Tz) -> String {
    let utc: DateTime<Utc> = DateTime::from_timestamp_nanos(ns);
    tz.from_utc_datetime(&utc.naive_utc())
        .format("%a %-d %b %Y, %H:%M")
        .to_string()
}

/// A stored instant in a zone, with the zone's abbreviation and UTC offset, for text
/// that leaves the page (emails): `Sun 1 Nov 2026, 01:30 EST (UTC-05:00)`. The offset
/// tells apart the two readings of the hour the clocks repeat in autumn.
pub(crate) fn local_datetime_exact(ns: i64, tz: Tz) -> String {
    let utc: DateTime<Utc> = DateTime::from_timestamp_nanos(ns);
    tz.from_utc_datetime(&utc.naive_utc())
        .format("%a %-d %b %Y, %H:%M %Z (UTC%:z)")
        .to_string()
}

/// `text` with every ISO 8601 date (`2026-12-15`) and local date and time
/// (`2026-12-15T14:00:00-05:00`) in it written in the pages' one format (`Tue 15 Dec
/// 2026`, `Tue 15 Dec 2026, 14:00`), and the engine's rule numbers (` (rule 7)`) left
/// out: page text for people, from reasons written for the API. The offset is dropped:
/// the caller says the zone once.
pub(crate) fn readable(text: &str) -> String {
    let bytes = text.as_bytes();
    let digits = |from: usize, n: usize| {
        bytes
            .get(from..from + n)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let is_date = boundary
            && digits(i, 4)
            && bytes.get(i + 4) == Some(&b'-')
            && digits(i + 5, 2)
            && bytes.get(i + 7) == Some(&b'-')
            && digits(i + 8, 2);
        if is_date && let Ok(date) = NaiveDate::parse_from_str(&text[i..i + 10], "%Y-%m-%d") {
            out.push_str(&date.format("%a %-d %b %Y").to_string());
            i += 10;
            if bytes.get(i) == Some(&b'T')
                && digits(i + 1, 2)
                && bytes.get(i + 3) == Some(&b':')
                && digits(i + 4, 2)
            {
                out.push_str(", ");
                out.push_str(&text[i + 1..i + 6]);
                i += 6;
                if bytes.get(i) == Some(&b':') && digits(i + 1, 2) {
                    i += 3;
                }
                if bytes.get(i) == Some(&b'Z') {
                    i += 1;
                } else if matches!(bytes.get(i), Some(b'+' | b'-'))
                    && digits(i + 1, 2)
                    && bytes.get(i + 3) == Some(&b':')
                    && digits(i + 4, 2)
                {
                    i += 6;
                }
            }
            continue;
        }
        if text[i..].starts_with(" (rule ")
            && let Some(close) = text[i..].find(')')
        {
            let number = &text[i + 7..i + close];
            if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
                i += close + 1;
                continue;
            }
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The zone an organisation's own times are read in, where no one clinic's is theirs
/// (the audit log): its first clinic's, labelled when its clinics span several zones
/// (and UTC, labelled, while it has no clinic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrgZone {
    /// The zone.
    pub tz: Tz,
    /// Whether each time says its zone: the clinics are not all in this one.
    pub labelled: bool,
}

impl OrgZone {
    /// The organisation's zone, from its clinics (in any order): the zone of the one
    /// created first.
    pub(crate) fn of(clinics: &[store::clinic::Clinic]) -> OrgZone {
        let Some(first) = clinics.iter().min_by_key(|c| c.id) else {
            return OrgZone {
                tz: Tz::UTC,
                labelled: true,
            };
        };
        let tz = first.zone();
        OrgZone {
            tz,
            labelled: clinics.iter().any(|c| c.zone() != tz),
        }
    }

    /// A stored instant in the zone: `Mon 2 Mar 2026, 09:30`, with the zone's
    /// abbreviation after it when the times are [`labelled`](Self::labelled)
    /// (`Mon 2 Mar 2026, 09:30 EST`).
    pub(crate) fn datetime(self, ns: i64) -> String {
        let at = local(ns, self.tz);
        if self.labelled {
            at.format("%a %-d %b %Y, %H:%M %Z").to_string()
        } else {
            at.format("%a %-d %b %Y, %H:%M").to_string()
        }
    }
}

/// Today's date in a zone, by the organisation's clock.
pub(crate) fn today(state: &AppState, tz: Tz) -> NaiveDate {
    local(state.clock.now_ns(), tz).date_naive()
}

/// Today, as the earliest local date over the organisation's clinics (the portal's
/// default first date): the slots of a service may be in any of them, and no clinic's
/// evening may be cut off because another clinic's day has already turned.
pub(crate) fn earliest_today(state: &AppState, clinics: &[store::clinic::Clinic]) -> NaiveDate {
    store::clinic::earliest_local_date(clinics, state.clock.now())
}

/// The last local date any clinic's booking window reaches (rule 12 counts
/// `max_days_ahead` from each clinic's own today): where the portal's calendar ends.
/// A clinic east of the others is a day ahead of them for part of the day, and its
/// last bookable day must not be cut off by theirs.
pub(crate) fn last_bookable(
    state: &AppState,
    clinics: &[store::clinic::Clinic],
    max_days_ahead: i64,
) -> NaiveDate {
    store::clinic::latest_local_date(clinics, state.clock.now())
        + chrono::Duration::days(max_days_ahead.clamp(0, 3660))
}

/// The first instant at or after the wall-clock `minute` of `date` in `tz` (midnight
/// does not exist on some spring-forward days): the first of `minute`, `minute + 15`,
/// … four hours on that exists.
pub(crate) fn local_ns(tz: Tz, date: NaiveDate, minute: u32) -> i64 {
    let zone = Zone::from(tz);
    // Some quarter hour of the next four hours always exists; only a date beyond what
    // nanoseconds since 1970 can hold has none, and saturates.
    (0..=16)
        .find_map(|k| earliest_ns(zone, date, minute + 15 * k))
        .unwrap_or(if date.year() >= 1970 {
            i64::MAX
        } else {
            i64::MIN
        })
}

/// The instant, in nanoseconds since the Unix epoch, that the wall-clock `minute` of
/// `date` (past 1440 for later days) reads as in `zone`: the earlier one when the clocks
/// go back, `None` when they skip it. The web's one way from clinic time to an instant,
/// over [`Zone::resolve`]. A date past the engine's calendar (2000-01-01..=2199-12-31,
/// which a week view at either end reaches) counts on from its last day; a date before
/// it is read with the offset of its first day.
pub(crate) fn earliest_ns(zone: Zone, date: NaiveDate, minute: u32) -> Option<i64> {
    let first: NaiveDate = slot_engine::Date::MIN.into();
    let last: NaiveDate = slot_engine::Date::MAX.into();
    let (day, minute, days_before) = if date > last {
        let days = u32::try_from((date - last).num_days()).ok()?;
        (last, minute.checked_add(days.checked_mul(24 * 60)?)?, 0)
    } else if date < first {
        (first, minute, (first - date).num_days())
    } else {
        (date, minute, 0)
    };
    let day = slot_engine::Date::try_from(day).ok()?;
    let (seconds, _) = zone.resolve(day, minute).earliest()?;
    seconds
        .checked_sub(days_before.checked_mul(24 * 3600)?)?
        .checked_mul(1_000_000_000)
}

/// A date field, `YYYY-MM-DD`, within the years the scenario format allows.
pub(crate) fn parse_date(value: &str) -> Result<NaiveDate, String> {
    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| "Enter a date, e.g. 2026-12-15.".to_owned())?;
    slot_engine::Date::try_from(date).map_err(|e| e.to_string())?;
    Ok(date)
}

/// A time field, `HH:MM` (browsers may add `:00` seconds): minutes after midnight.
pub(crate) fn parse_time(value: &str) -> Result<u32, String> {
    let value = value.trim();
    let hhmm = value
        .strip_suffix(":00")
        .filter(|v| v.len() == 5)
        .unwrap_or(value);
    let time: slot_engine::WallTime = hhmm
        .parse()
        .map_err(|_| "Enter a time, e.g. 14:00.".to_owned())?;
    if time.minutes() >= 24 * 60 {
        return Err("Enter a time before 24:00, e.g. 14:00.".to_owned());
    }
    Ok(time.minutes())
}

/// The instant a clinic's wall-clock `minute` of `date` reads as (the earlier one when
/// the clocks go back); an error naming the time when the clocks skip it.
pub(crate) fn resolve_local(
    timezone: &str,
    date: NaiveDate,
    minute: u32,
) -> Result<Instant, String> {
    let zone: Zone = timezone
        .parse()
        .map_err(|_| format!("unknown timezone {timezone:?}"))?;
    let day = slot_engine::Date::try_from(date).map_err(|e| e.to_string())?;
    match zone.resolve(day, minute) {
        LocalTime::Missing => Err(format!(
            "{:02}:{:02} does not exist on {date} in {timezone}: the clocks go forward then",
            minute / 60,
            minute % 60
        )),
        other => {
            let (seconds, _) = other.earliest().unwrap_or_default();
            Instant::from_unix_seconds(seconds).map_err(|e| e.to_string())
        }
    }
}

/// A zone as people name it: `Vancouver time (PST)`, the city of its IANA name with
/// its abbreviation at the instant `ns` (the abbreviation changes with daylight saving).
pub(crate) fn zone_label(tz: Tz, ns: i64) -> String {
    format!("{} time ({})", zone_city(tz), local(ns, tz).format("%Z"))
}

/// [`zone_label`] with the offset at `ns`: `Vancouver time (PST, UTC-08:00)`, what the
/// page that commits to a time says.
pub(crate) fn zone_label_with_offset(tz: Tz, ns: i64) -> String {
    let at = local(ns, tz);
    format!(
        "{} time ({}, UTC{})",
        zone_city(tz),
        at.format("%Z"),
        at.format("%:z")
    )
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn iso_dates_and_rule_numbers_are_written_for_people() {
        assert_eq!(
            readable(
                "Christine Roy has time off from 2026-12-15T14:00:00-05:00 to 2026-12-15T17:30-05:00 (rule 10)"
            ),
            "Christine Roy has time off from Tue 15 Dec 2026, 14:00 to Tue 15 Dec 2026, 17:30"
        );
        assert_eq!(
            readable("Main St is closed on 2026-12-25"),
            "Main St is closed on Fri 25 Dec 2026"
        );
        // Not a date, and not a rule number: kept.
        assert_eq!(
            readable("room 12026-12-15 (rule x) é"),
            "room 12026-12-15 (rule x) é"
        );
        assert_eq!(
            readable("at 2026-03-02T09:00:00Z."),
            "at Mon 2 Mar 2026, 09:00."
        );
    }

    fn clinic(id: i64, timezone: &str) -> store::clinic::Clinic {
        store::clinic::Clinic {
            id,
            key: format!("c{id}"),
            name: format!("Clinic {id}"),
            timezone: timezone.to_owned(),
            address: String::new(),
            phone: String::new(),
        }
    }

    #[test]
    fn an_organisation_reads_its_times_in_its_first_clinics_zone_labelled_when_it_spans_zones() {
        let ns = "2026-03-02T14:30:00Z"
            .parse::<DateTime<Utc>>()
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap();
        let one = OrgZone::of(&[clinic(2, "America/Toronto"), clinic(5, "America/Toronto")]);
        assert_eq!(one.datetime(ns), "Mon 2 Mar 2026, 09:30");
        let two = OrgZone::of(&[clinic(7, "America/Vancouver"), clinic(3, "America/Toronto")]);
        assert_eq!(two.tz, chrono_tz::America::Toronto);
        assert_eq!(two.datetime(ns), "Mon 2 Mar 2026, 09:30 EST");
        let none = OrgZone::of(&[]);
        assert_eq!(none.datetime(ns), "Mon 2 Mar 2026, 14:30 UTC");
    }

    #[test]
    fn zones_are_called_by_their_city() {
        assert_eq!(zone_city(chrono_tz::America::Vancouver), "Vancouver");
        assert_eq!(zone_city(chrono_tz::America::St_Johns), "St Johns");
        assert_eq!(
            zone_city(chrono_tz::America::Argentina::Buenos_Aires),
            "Buenos Aires"
        );
        assert_eq!(zone_city(chrono_tz::UTC), "UTC");
    }

    #[test]
    fn the_repeated_autumn_hour_is_told_apart() {
        let toronto = chrono_tz::America::Toronto;
        // 01:30 happens twice in Toronto on 1 November 2026: at 05:30 and 06:30 UTC.
        let first: DateTime<Utc> = "2026-11-01T05:30:00Z".parse().unwrap();
        let second: DateTime<Utc> = "2026-11-01T06:30:00Z".parse().unwrap();
        let text =
            |at: DateTime<Utc>| local_datetime_exact(at.timestamp_nanos_opt().unwrap(), toronto);
        assert_eq!(text(first), "Sun 1 Nov 2026, 01:30 EDT (UTC-04:00)");
        assert_eq!(text(second), "Sun 1 Nov 2026, 01:30 EST (UTC-05:00)");
    }

    /// What `local_ns` answered when it asked chrono-tz directly.
    fn by_chrono(tz: Tz, date: NaiveDate, minute: u32) -> i64 {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight is a time");
        (0..=16)
            .find_map(|k| {
                let at = midnight + Duration::minutes(i64::from(minute + 15 * k));
                tz.from_local_datetime(&at).earliest()
            })
            .and_then(|t| t.timestamp_nanos_opt())
            .unwrap_or_else(|| midnight.and_utc().timestamp_nanos_opt().unwrap_or_default())
    }

    #[test]
    fn local_ns_answers_as_before_across_daylight_saving_and_the_calendar_ends() {
        let zones = [
            chrono_tz::America::Toronto,
            chrono_tz::Europe::London,
            chrono_tz::America::Sao_Paulo, // clocks went forward at midnight until 2019
            chrono_tz::America::Havana,    // and here still do
            chrono_tz::Australia::Lord_Howe, // half an hour
            chrono_tz::UTC,
        ];
        let dates = [
            (2026, 3, 2),
            (2026, 3, 8),
            (2026, 11, 1),
            (2026, 3, 29),
            (2026, 10, 25),
            (2026, 3, 8),
            (2018, 11, 4),
            (2026, 4, 5),
            (2026, 10, 4),
            (1999, 12, 27),
            (2000, 1, 1),
            (2199, 12, 31),
            (2200, 1, 1),
            (2200, 1, 5),
        ];
        for tz in zones {
            for (y, m, d) in dates {
                let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
                for minute in (0..=1440).step_by(5) {
                    assert_eq!(
                        local_ns(tz, date, minute),
                        by_chrono(tz, date, minute),
                        "{tz} {date} minute {minute}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_time_the_clocks_skip_has_no_instant_and_a_repeated_one_is_the_first() {
        let toronto: Zone = "America/Toronto".parse().unwrap();
        let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        assert_eq!(earliest_ns(toronto, spring, 150), None);
        assert!(resolve_local("America/Toronto", spring, 150).is_err());
        let fall = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        // 01:30 EDT, the first of the two.
        let first = earliest_ns(toronto, fall, 90).unwrap();
        assert_eq!(rfc3339(first, toronto.tz()), "2026-11-01T01:30:00-04:00");
        assert_eq!(
            resolve_local("America/Toronto", fall, 90)
                .unwrap()
                .unix_nanos(),
            first
        );
    }

    #[test]
    fn zones_are_named_by_city_and_abbreviation_at_the_instant() {
        // 2026-03-02 16:00 UTC: winter in Vancouver; 2026-07-01: summer.
        let winter = 1_772_467_200_000_000_000;
        let summer = 1_782_921_600_000_000_000;
        let vancouver = chrono_tz::America::Vancouver;
        assert_eq!(zone_label(vancouver, winter), "Vancouver time (PST)");
        assert_eq!(zone_label(vancouver, summer), "Vancouver time (PDT)");
        assert_eq!(
            zone_label_with_offset(vancouver, summer),
            "Vancouver time (PDT, UTC-07:00)"
        );
        assert_eq!(
            zone_label(chrono_tz::America::Argentina::Buenos_Aires, winter),
            "Buenos Aires time (-03)"
        );
    }
}
