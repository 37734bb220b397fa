//! Calendar invitations (RFC 5545): one appointment as an iCalendar object, attached to
//! the confirmation email as a request and to the cancellation email as a cancellation.
//!
//! The event's times are written in the clinic's local time with a `TZID`, because
//! that is how the patient thinks of the appointment and it stays right if the
//! recipient's calendar is in another zone. RFC 5545 requires a `VTIMEZONE` for every
//! `TZID` used; the icalendar crate does not generate one, so [`appointment`] derives
//! it from chrono-tz by finding where the zone's offset changes around the appointment.
//!
//! ```
//! use openslot_web::ics::{self, IcsAppointment, IcsMethod};
//!
//! let details = IcsAppointment {
//!     appointment_id: 42,
//!     start_ns: 1_772_978_400_000_000_000, // 2026-03-08T14:00:00Z, 10:00 in Toronto
//!     end_ns: 1_772_980_200_000_000_000,
//!     zone: chrono_tz::America::Toronto,
//!     location: "Lakeshore Physio, 12 Lake Shore Blvd, Toronto".into(),
//!     video_link: None,
//!     practitioner_name: "Christine Chan".into(),
//!     service_name: "Physiotherapy".into(),
//!     patient_name: "Pat Doe".into(),
//!     patient_email: "pat@example.com".into(),
//!     organiser_name: "Lakeshore Physio & Wellness".into(),
//!     organiser_email: "no-reply@book.example.com".into(),
//!     public_url: "https://book.example.com".into(),
//!     sequence: 0,
//!     stamp_ns: 1_772_366_400_000_000_000,
//! };
//! let text = ics::appointment(&details, IcsMethod::Request);
//! assert!(text.contains("METHOD:REQUEST\r\n"));
//! assert!(text.contains("UID:appointment-42@book.example.com\r\n"));
//! assert!(text.contains("DTSTART;TZID=America/Toronto:20260308T100000\r\n"));
//! ```

use std::fmt;

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use icalendar::{Attendee, Calendar, Component, EventLike, EventStatus, PartStat, Property, Role};

/// What an invitation says about one appointment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcsAppointment {
    /// The appointment's row id: with the host of [`IcsAppointment::public_url`] it
    /// makes the event's `UID`, so a cancellation replaces the event the request made.
    pub appointment_id: i64,
    /// Start, nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// End, nanoseconds since the Unix epoch.
    pub end_ns: i64,
    /// The clinic's timezone: the event's times are written in it.
    pub zone: Tz,
    /// Where, as the event's `LOCATION`: the clinic's name and address on one line, or
    /// for a video appointment its join link (or "Video appointment" when none is set).
    pub location: String,
    /// A video appointment's join link: the event's `URL`, and said in its description.
    pub video_link: Option<String>,
    /// The practitioner seen: the `SUMMARY` reads `{service} with {practitioner}`.
    pub practitioner_name: String,
    /// The service booked, first in the `SUMMARY`.
    pub service_name: String,
    /// The patient's name (the attendee's `CN`).
    pub patient_name: String,
    /// The patient's email (the attendee).
    pub patient_email: String,
    /// Who organises the appointment: the organisation's name.
    pub organiser_name: String,
    /// The organiser's address: the address the email comes from (`--mail-from`), so a
    /// calendar's reply goes where the clinic reads mail.
    pub organiser_email: String,
    /// The server's public URL; its host is the `UID`'s domain.
    pub public_url: String,
    /// How many times the appointment has been changed since it was booked (0 at first).
    /// A request carries it as `SEQUENCE`; a cancellation carries one more, so calendars
    /// take it as newer than the last request.
    pub sequence: u32,
    /// When the invitation is made (`DTSTAMP`), nanoseconds since the Unix epoch.
    pub stamp_ns: i64,
}

/// What the invitation asks of the recipient's calendar (iTIP, RFC 5546).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcsMethod {
    /// Add or update the event (booked, moved).
    Request,
    /// Remove the event (cancelled).
    Cancel,
}

impl IcsMethod {
    /// The calendar's `METHOD` line, which the email's `text/calendar` part repeats as
    /// its `method` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            IcsMethod::Request => "REQUEST",
            IcsMethod::Cancel => "CANCEL",
        }
    }
}

impl fmt::Display for IcsMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The event's `UID`: `appointment-{id}@{host}`, the same for every invitation about
/// one appointment so that calendars update or remove the event they already have.
pub fn uid(appointment_id: i64, public_url: &str) -> String {
    format!("appointment-{appointment_id}@{}", host_of(public_url))
}

/// The appointment as an iCalendar object (CRLF line ends, lines folded at 75 octets),
/// with a `VTIMEZONE` for the clinic's zone.
pub fn appointment(details: &IcsAppointment, method: IcsMethod) -> String {
    appointments(std::slice::from_ref(details), method)
}

/// Several appointments (the occurrences of a series) as one iCalendar object: one
/// `VEVENT` each, with its own stable `UID` ([`uid`]), so that a later invitation about
/// one occurrence updates or removes that event only; and one `VTIMEZONE` per zone,
/// covering every event in it.
///
/// ```
/// use openslot_web::ics::{self, IcsAppointment, IcsMethod};
/// let first = IcsAppointment {
///     appointment_id: 7,
///     start_ns: 1_772_978_400_000_000_000, // Sunday 8 March 2026, 10:00 in Toronto (EDT)
///     end_ns: 1_772_980_200_000_000_000,
///     zone: chrono_tz::America::Toronto,
///     location: "Lakeshore Physio".into(),
///     video_link: None,
///     practitioner_name: "Christine Chan".into(),
///     service_name: "Physiotherapy".into(),
///     patient_name: "Pat Doe".into(),
///     patient_email: "pat@example.com".into(),
///     organiser_name: "Lakeshore Physio".into(),
///     organiser_email: "no-reply@book.example.com".into(),
///     public_url: "https://book.example.com".into(),
///     sequence: 0,
///     stamp_ns: 1_772_366_400_000_000_000,
/// };
/// let week = 7 * 86_400_000_000_000;
/// let second = IcsAppointment { appointment_id: 8, start_ns: first.start_ns + week, end_ns: first.end_ns + week, ..first.clone() };
/// let text = ics::appointments(&[first, second], IcsMethod::Request);
/// assert_eq!(text.matches("BEGIN:VEVENT\r\n").count(), 2);
/// assert_eq!(text.matches("BEGIN:VTIMEZONE\r\n").count(), 1);
/// assert!(text.contains("UID:appointment-8@book.example.com\r\n"));
/// ```
pub fn appointments(list: &[IcsAppointment], method: IcsMethod) -> String {
    let mut calendar = calendar_with(method.as_str());
    // Each zone once, in the order of its first event, with the span of its events.
    let mut zones: Vec<(Tz, DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for details in list {
        cover(&mut zones, details.zone, details.start_ns, details.end_ns);
        calendar.push(event(details, method));
    }
    with_timezones(&calendar.to_string(), zones)
}

/// An empty calendar with the lines every Openslot calendar starts with, and `method`.
fn calendar_with(method: &str) -> Calendar {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new(
            "PRODID",
            concat!("-//Openslot//Openslot ", env!("CARGO_PKG_VERSION"), "//EN"),
        ))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", method));
    calendar
}

/// Widens `zone`'s span in `zones` to cover `start_ns..end_ns` (each zone once, in the
/// order of its first event).
fn cover(
    zones: &mut Vec<(Tz, DateTime<Utc>, DateTime<Utc>)>,
    zone: Tz,
    start_ns: i64,
    end_ns: i64,
) {
    let (start, end) = (utc(start_ns), utc(end_ns));
    match zones.iter_mut().find(|(z, _, _)| *z == zone) {
        Some((_, first, last)) => {
            *first = (*first).min(start);
            *last = (*last).max(end);
        }
        None => zones.push((zone, start, end)),
    }
}

/// The calendar's text with a `VTIMEZONE` for each zone (with the span of its events)
/// put before the events that refer to them. They are written here rather than as
/// icalendar components because the crate adds a DTSTAMP and a random UID to every
/// component it writes, which VTIMEZONE and its observances must not have.
fn with_timezones(text: &str, zones: Vec<(Tz, DateTime<Utc>, DateTime<Utc>)>) -> String {
    let at = text
        .find("BEGIN:VEVENT\r\n")
        .or_else(|| text.find("END:VCALENDAR\r\n"))
        .unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + 512 * zones.len());
    out.push_str(&text[..at]);
    for (zone, start, end) in zones {
        out.push_str(&vtimezone(zone, start, end));
    }
    out.push_str(&text[at..]);
    out
}

/// One event of a calendar feed ([`feed`]): what a subscribed calendar shows. Unlike
/// an invitation it has no organiser and no attendee, since nobody is invited; what
/// it says (its summary and description) is decided by the caller from the
/// organisation's privacy settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEvent {
    /// The stable `UID` (for an appointment, [`uid`], the same as its invitations').
    pub uid: String,
    /// Start, nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// End, nanoseconds since the Unix epoch.
    pub end_ns: i64,
    /// The zone its times are written in (with `TZID` and a `VTIMEZONE`); `None`
    /// writes them in UTC.
    pub zone: Option<Tz>,
    /// The `SUMMARY`.
    pub summary: String,
    /// The `DESCRIPTION`, if any.
    pub description: Option<String>,
    /// The `LOCATION`, if any.
    pub location: Option<String>,
    /// The `SEQUENCE`: how many times it moved.
    pub sequence: u32,
    /// Whether it was cancelled: `STATUS:CANCELLED`, so a subscribed calendar drops it.
    pub cancelled: bool,
    /// When it last changed (`LAST-MODIFIED`), nanoseconds since the Unix epoch.
    pub modified_ns: Option<i64>,
}

/// A subscribable calendar (`METHOD:PUBLISH`) named `name`, made at `stamp_ns`
/// (every event's `DTSTAMP`), with one `VEVENT` per event and one `VTIMEZONE` per zone
/// used, covering that zone's events (so a feed spanning a change of summer time
/// describes both offsets).
///
/// ```
/// use openslot_web::ics::{self, FeedEvent};
/// let event = FeedEvent {
///     uid: ics::uid(7, "https://book.example.com"),
///     start_ns: 1_772_978_400_000_000_000, // 10:00 in Toronto, 8 March 2026 (EDT)
///     end_ns: 1_772_980_200_000_000_000,
///     zone: Some(chrono_tz::America::Toronto),
///     summary: "Booked appointment".into(),
///     description: None,
///     location: Some("Lakeshore Physio".into()),
///     sequence: 2,
///     cancelled: false,
///     modified_ns: Some(1_772_366_400_000_000_000),
/// };
/// let text = ics::feed("Christine Chan", &[event], 1_772_366_400_000_000_000);
/// assert!(text.contains("METHOD:PUBLISH\r\n"));
/// assert!(text.contains("SEQUENCE:2\r\n"));
/// assert!(text.contains("DTSTART;TZID=America/Toronto:20260308T100000\r\n"));
/// assert_eq!(text.matches("BEGIN:VTIMEZONE\r\n").count(), 1);
/// ```
pub fn feed(name: &str, events: &[FeedEvent], stamp_ns: i64) -> String {
    let mut calendar = calendar_with("PUBLISH");
    calendar
        .append_property(Property::new("X-WR-CALNAME", clean(name)))
        // How often a subscribing calendar should look again (Apple Calendar and
        // Outlook read these; Google Calendar decides for itself).
        .append_property(
            Property::new("REFRESH-INTERVAL", "PT1H")
                .add_parameter("VALUE", "DURATION")
                .done(),
        )
        .append_property(Property::new("X-PUBLISHED-TTL", "PT1H"));
    let mut zones: Vec<(Tz, DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for e in events {
        let (start, end) = (utc(e.start_ns), utc(e.end_ns));
        if let Some(zone) = e.zone {
            cover(&mut zones, zone, e.start_ns, e.end_ns);
        }
        let mut event = icalendar::Event::new();
        event
            .uid(&e.uid)
            .timestamp(utc(stamp_ns))
            .summary(&clean(&e.summary))
            .sequence(e.sequence)
            .status(if e.cancelled {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            })
            .add_property("TRANSP", "OPAQUE");
        match e.zone {
            Some(zone) => {
                event
                    .append_property(local_time("DTSTART", start, zone))
                    .append_property(local_time("DTEND", end, zone));
            }
            None => {
                event
                    .add_property("DTSTART", start.format("%Y%m%dT%H%M%SZ").to_string())
                    .add_property("DTEND", end.format("%Y%m%dT%H%M%SZ").to_string());
            }
        }
        if let Some(description) = &e.description {
            event.description(&clean(description));
        }
        if let Some(location) = &e.location {
            event.location(&clean(location));
        }
        if let Some(modified) = e.modified_ns.filter(|m| *m > 0) {
            event.last_modified(utc(modified));
        }
        calendar.push(event.done());
    }
    with_timezones(&calendar.to_string(), zones)
}

/// One appointment's `VEVENT`.
fn event(details: &IcsAppointment, method: IcsMethod) -> icalendar::Event {
    let zone = details.zone;
    let start = utc(details.start_ns);
    let end = utc(details.end_ns);
    let service = clean(&details.service_name);
    let practitioner = clean(&details.practitioner_name);
    let location = clean(&details.location);
    let how = match details.video_link.as_deref().map(clean) {
        Some(link) => format!("Video appointment: join at {link}"),
        None => format!("At {location}"),
    };

    let mut event = icalendar::Event::new();
    event
        .uid(&uid(details.appointment_id, &details.public_url))
        .timestamp(utc(details.stamp_ns))
        .summary(&format!("{service} with {practitioner}"))
        .description(&format!("{service} with {practitioner}. {how}."))
        .location(&location)
        .append_property(local_time("DTSTART", start, zone))
        .append_property(local_time("DTEND", end, zone))
        .append_property(
            Property::new(
                "ORGANIZER",
                format!("mailto:{}", details.organiser_email.trim()),
            )
            .add_parameter("CN", &parameter(&details.organiser_name))
            .done(),
        )
        .attendee(
            Attendee::new(format!("mailto:{}", details.patient_email.trim()))
                .cn(parameter(&details.patient_name))
                .role(Role::ReqParticipant)
                .partstat(PartStat::Accepted)
                .rsvp(false),
        )
        .add_property("TRANSP", "OPAQUE");
    if let Some(link) = &details.video_link {
        event.url(&clean(link));
    }
    match method {
        IcsMethod::Request => {
            event
                .sequence(details.sequence)
                .status(EventStatus::Confirmed);
        }
        IcsMethod::Cancel => {
            event
                .sequence(details.sequence.saturating_add(1))
                .status(EventStatus::Cancelled);
        }
    }
    event.done()
}

fn utc(ns: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(ns)
}

/// A text value without control characters: names come from forms, and a stray CR
/// would survive the crate's TEXT escaping and break the content line.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A parameter value (a `CN`): RFC 5545 allows no DQUOTE in one, quoted or not.
fn parameter(text: &str) -> String {
    clean(text).replace('"', "'")
}

/// The host of a URL such as `https://book.example.com:8443/x` (`book.example.com`).
fn host_of(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if authority.starts_with('[') {
        // An IPv6 literal keeps its brackets; the port follows them.
        authority
            .find(']')
            .map_or(authority, |close| &authority[..=close])
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        "localhost".to_owned()
    } else {
        host.to_ascii_lowercase()
    }
}

/// `DTSTART`/`DTEND` in the zone's local time with its `TZID`. RFC 5545 reads a local
/// time that happens twice (the hour a fall-back repeats) as its first occurrence, so
/// an instant in the second one is written in UTC instead, which is exact.
fn local_time(key: &str, at: DateTime<Utc>, zone: Tz) -> Property {
    let local = at.with_timezone(&zone).naive_local();
    let minute = local.time().num_seconds_from_midnight() / 60;
    let seconds = i64::from(local.time().num_seconds_from_midnight() % 60);
    let first = zone
        .name()
        .parse::<slot_engine::Zone>()
        .ok()
        .and_then(|zone| crate::clinic_time::earliest_ns(zone, local.date(), minute));
    let names_it_first = first.is_some_and(|first| {
        at.timestamp_nanos_opt() == first.checked_add(seconds * 1_000_000_000)
    });
    if names_it_first {
        Property::new(key, local.format("%Y%m%dT%H%M%S").to_string())
            .add_parameter("TZID", zone.name())
            .done()
    } else {
        Property::new(key, at.format("%Y%m%dT%H%M%SZ").to_string())
    }
}

/// The zone's state at one instant, as far as a `VTIMEZONE` cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    /// The whole offset from UTC, in seconds.
    offset: i32,
    /// Whether it is summer time (DAYLIGHT rather than STANDARD).
    daylight: bool,
}

fn state(zone: Tz, at: DateTime<Utc>) -> State {
    let offset = zone.offset_from_utc_datetime(&at.naive_utc());
    State {
        offset: offset.fix().local_minus_utc(),
        // Europe/Dublin's winter has a negative "DST" in the tz database; only a
        // positive one is summer time.
        daylight: offset.dst_offset() > Duration::zero(),
    }
}

/// The zone's abbreviation at an instant (`EST`), if it has one.
fn abbreviation(zone: Tz, at: DateTime<Utc>) -> Option<String> {
    zone.offset_from_utc_datetime(&at.naive_utc())
        .abbreviation()
        .map(str::to_owned)
}

/// One change of offset: the instant it happens, and the states either side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Transition {
    at: DateTime<Utc>,
    before: State,
    after: State,
}

/// Every change of the zone's offset or summer-time flag in `from..=to`. The zone is
/// sampled hourly (no zone changes twice within an hour) and each change is then found
/// to the second by bisection.
fn transitions(zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Transition> {
    let mut found = Vec::new();
    let mut at = from;
    let mut current = state(zone, at);
    while at < to {
        let next = (at + Duration::hours(1)).min(to);
        let there = state(zone, next);
        if there != current {
            // The state is `current` at `low` and another at `high`.
            let (mut low, mut high) = (at, next);
            while high - low > Duration::seconds(1) {
                let middle = low + (high - low) / 2;
                if state(zone, middle) == current {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            found.push(Transition {
                at: high,
                before: current,
                after: there,
            });
        }
        current = there;
        at = next;
    }
    found
}

/// The `VTIMEZONE` of `zone` covering an appointment from `start` to `end`: the change
/// that put the zone in the offset it has at `start`, any change during the
/// appointment, and the next change after it (so a zone with summer time shows both
/// its STANDARD and DAYLIGHT observances). A zone that has not changed for a year
/// before the appointment gets an observance for its offset since 1970.
fn vtimezone(zone: Tz, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let year = Duration::days(366);
    let all = transitions(zone, start - year, end + year);
    let before = all.iter().rposition(|t| t.at <= start);
    let after = all.iter().position(|t| t.at > end);
    let first = before.unwrap_or(0);
    let last = after.map_or(all.len(), |i| i + 1);
    let mut lines = vec!["BEGIN:VTIMEZONE".to_owned(), property("TZID", zone.name())];
    if before.is_none() {
        let since = state(zone, start);
        let epoch = DateTime::<Utc>::UNIX_EPOCH.naive_utc();
        lines.extend(observance(epoch, since, since, abbreviation(zone, start)));
    }
    for t in &all[first..last] {
        let onset = t.at.naive_utc() + Duration::seconds(t.before.offset.into());
        lines.extend(observance(
            onset,
            t.before,
            t.after,
            abbreviation(zone, t.at),
        ));
    }
    lines.push("END:VTIMEZONE".to_owned());
    let mut out = lines.join("\r\n");
    out.push_str("\r\n");
    out
}

/// A STANDARD or DAYLIGHT observance beginning at `onset` (local time in the offset in
/// force before it, as RFC 5545 defines an observance's `DTSTART`).
fn observance(onset: NaiveDateTime, from: State, to: State, name: Option<String>) -> Vec<String> {
    let kind = if to.daylight { "DAYLIGHT" } else { "STANDARD" };
    let mut lines = vec![
        format!("BEGIN:{kind}"),
        property("DTSTART", &onset.format("%Y%m%dT%H%M%S").to_string()),
        property("TZOFFSETFROM", &utc_offset(from.offset)),
        property("TZOFFSETTO", &utc_offset(to.offset)),
    ];
    if let Some(name) = name {
        lines.push(property("TZNAME", &name));
    }
    lines.push(format!("END:{kind}"));
    lines
}

/// One content line, escaped and folded by icalendar, without its CRLF.
fn property(key: &str, value: &str) -> String {
    let line: String = Property::new(key, value)
        .try_into()
        .expect("writing to a String does not fail");
    line.trim_end_matches("\r\n").to_owned()
}

/// A UTC-OFFSET value: `-0500`, or `+053328` when the offset has seconds.
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, rest) = (s / 3600, s / 60 % 60, s % 60);
    if rest == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{rest:02}")
    }
}

#[cfg(test)]
mod tests {
    use icalendar::parser::{Component as Parsed, read_calendar, unfold};

    use super::*;

    fn ns(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    }

    fn details(start: &str, end: &str, zone: Tz) -> IcsAppointment {
        IcsAppointment {
            appointment_id: 42,
            start_ns: ns(start),
            end_ns: ns(end),
            zone,
            location: "Lakeshore Physio, Downtown; 2nd floor".into(),
            video_link: None,
            practitioner_name: "Christine Chan".into(),
            service_name: "Physiotherapy".into(),
            patient_name: "Pat \"PJ\" Doe".into(),
            patient_email: "pat@example.com".into(),
            organiser_name: "Lakeshore Physio & Wellness".into(),
            organiser_email: "no-reply@book.example.com".into(),
            public_url: "https://Book.Example.com:8443/".into(),
            sequence: 2,
            stamp_ns: ns("2026-03-01T12:00:00Z"),
        }
    }

    /// The parsed calendar, after checking every line is CRLF-terminated and at most 75
    /// octets long.
    fn parse(text: &str) -> (Vec<(String, String)>, Vec<Parsed<'static>>) {
        assert!(text.ends_with("END:VCALENDAR\r\n"), "{text}");
        for line in text.split_terminator("\r\n") {
            assert!(
                !line.contains('\n') && !line.contains('\r'),
                "bare line end in {line:?}"
            );
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        }
        let unfolded = unfold(text);
        let calendar = read_calendar(&unfolded).unwrap();
        let properties = calendar
            .properties
            .iter()
            .map(|p| (p.name.as_str().to_owned(), p.val.as_str().to_owned()))
            .collect();
        let components = calendar
            .components
            .iter()
            .map(|c| owned(c.clone()))
            .collect();
        (properties, components)
    }

    fn owned(c: Parsed<'_>) -> Parsed<'static> {
        Parsed {
            name: c.name.into_owned(),
            properties: c
                .properties
                .into_iter()
                .map(|p| icalendar::parser::Property {
                    name: p.name.into_owned(),
                    val: p.val.into_owned(),
                    params: p
                        .params
                        .into_iter()
                        .map(|q| icalendar::parser::Parameter {
                            key: q.key.into_owned(),
                            val: q.val.map(|v| v.into_owned()),
                        })
                        .collect(),
                })
                .collect(),
            components: c.components.into_iter().map(owned).collect(),
        }
    }

    fn value<'a>(c: &'a Parsed<'_>, name: &str) -> &'a str {
        c.properties
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no {name} in {}", c.name.as_str()))
            .val
            .as_str()
    }

    fn param<'a>(c: &'a Parsed<'_>, name: &str, key: &str) -> Option<&'a str> {
        c.properties
            .iter()
            .find(|p| p.name == name)?
            .params
            .iter()
            .find(|q| q.key == key)?
            .val
            .as_ref()
            .map(|v| v.as_str())
    }

    fn component<'a>(components: &'a [Parsed<'static>], name: &str) -> &'a Parsed<'static> {
        components
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    /// The observances as `KIND DTSTART FROM TO TZNAME` lines.
    fn observances(vtimezone: &Parsed<'_>) -> Vec<String> {
        vtimezone
            .components
            .iter()
            .map(|o| {
                format!(
                    "{} {} {} {} {}",
                    o.name.as_str(),
                    value(o, "DTSTART"),
                    value(o, "TZOFFSETFROM"),
                    value(o, "TZOFFSETTO"),
                    value(o, "TZNAME")
                )
            })
            .collect()
    }

    #[test]
    fn request_after_fall_back_is_in_standard_time() {
        // Toronto falls back at 02:00 EDT on 2026-11-01; 10:00 that day is EST (UTC-5).
        let d = details(
            "2026-11-01T15:00:00Z",
            "2026-11-01T15:45:00Z",
            chrono_tz::America::Toronto,
        );
        let text = appointment(&d, IcsMethod::Request);
        let (properties, components) = parse(&text);
        assert!(properties.contains(&("METHOD".into(), "REQUEST".into())));
        assert!(properties.contains(&("VERSION".into(), "2.0".into())));
        let event = component(&components, "VEVENT");
        assert_eq!(value(event, "UID"), "appointment-42@book.example.com");
        assert_eq!(value(event, "DTSTAMP"), "20260301T120000Z");
        assert_eq!(value(event, "DTSTART"), "20261101T100000");
        assert_eq!(param(event, "DTSTART", "TZID"), Some("America/Toronto"));
        assert_eq!(value(event, "DTEND"), "20261101T104500");
        assert_eq!(param(event, "DTEND", "TZID"), Some("America/Toronto"));
        assert_eq!(value(event, "SEQUENCE"), "2");
        assert_eq!(value(event, "STATUS"), "CONFIRMED");
        assert_eq!(value(event, "SUMMARY"), "Physiotherapy with Christine Chan");
        // Escaped on the wire, as TEXT must be; the parser undoes it.
        assert!(text.contains("LOCATION:Lakeshore Physio\\, Downtown\\; 2nd floor\r\n"));
        assert_eq!(
            value(event, "LOCATION"),
            "Lakeshore Physio, Downtown; 2nd floor"
        );
        assert_eq!(
            value(event, "ORGANIZER"),
            "mailto:no-reply@book.example.com"
        );
        assert_eq!(
            param(event, "ORGANIZER", "CN"),
            Some("Lakeshore Physio & Wellness")
        );
        assert_eq!(value(event, "ATTENDEE"), "mailto:pat@example.com");
        assert_eq!(param(event, "ATTENDEE", "CN"), Some("Pat 'PJ' Doe"));
        assert_eq!(param(event, "ATTENDEE", "PARTSTAT"), Some("ACCEPTED"));

        let tz = component(&components, "VTIMEZONE");
        assert_eq!(value(tz, "TZID"), "America/Toronto");
        assert_eq!(
            observances(tz),
            [
                "STANDARD 20261101T020000 -0400 -0500 EST",
                "DAYLIGHT 20270314T020000 -0500 -0400 EDT",
            ]
        );
        // RFC 5545 forbids DTSTAMP and UID in a VTIMEZONE.
        assert!(tz.properties.iter().all(|p| p.name == "TZID"));
    }

    #[test]
    fn request_after_spring_forward_is_in_daylight_time() {
        // Toronto springs forward at 02:00 EST on 2026-03-08; 10:00 that day is EDT.
        let d = details(
            "2026-03-08T14:00:00Z",
            "2026-03-08T14:30:00Z",
            chrono_tz::America::Toronto,
        );
        let (_, components) = parse(&appointment(&d, IcsMethod::Request));
        let event = component(&components, "VEVENT");
        assert_eq!(value(event, "DTSTART"), "20260308T100000");
        assert_eq!(value(event, "DTEND"), "20260308T103000");
        assert_eq!(
            observances(component(&components, "VTIMEZONE")),
            [
                "DAYLIGHT 20260308T020000 -0500 -0400 EDT",
                "STANDARD 20261101T020000 -0400 -0500 EST",
            ]
        );
    }

    #[test]
    fn cancellation_keeps_the_uid_and_raises_the_sequence() {
        let d = details(
            "2026-11-01T15:00:00Z",
            "2026-11-01T15:45:00Z",
            chrono_tz::America::Toronto,
        );
        let request = appointment(&d, IcsMethod::Request);
        let cancel = appointment(&d, IcsMethod::Cancel);
        let (properties, components) = parse(&cancel);
        assert!(properties.contains(&("METHOD".into(), "CANCEL".into())));
        let event = component(&components, "VEVENT");
        assert_eq!(value(event, "STATUS"), "CANCELLED");
        assert_eq!(value(event, "SEQUENCE"), "3");
        let (_, requested) = parse(&request);
        assert_eq!(
            value(event, "UID"),
            value(component(&requested, "VEVENT"), "UID")
        );
        assert_eq!(value(event, "UID"), uid(42, "https://book.example.com"));
        // The same inputs give the same text: nothing random, nothing from the clock.
        assert_eq!(request, appointment(&d, IcsMethod::Request));
    }

    #[test]
    fn an_appointment_across_the_change_covers_both_offsets() {
        // 00:30 EDT to 03:00 EST: the clocks go back during the appointment.
        let d = details(
            "2026-11-01T04:30:00Z",
            "2026-11-01T08:00:00Z",
            chrono_tz::America::Toronto,
        );
        let (_, components) = parse(&appointment(&d, IcsMethod::Request));
        let event = component(&components, "VEVENT");
        assert_eq!(value(event, "DTSTART"), "20261101T003000");
        assert_eq!(value(event, "DTEND"), "20261101T030000");
        assert_eq!(
            observances(component(&components, "VTIMEZONE")),
            [
                "DAYLIGHT 20260308T020000 -0500 -0400 EDT",
                "STANDARD 20261101T020000 -0400 -0500 EST",
                "DAYLIGHT 20270314T020000 -0500 -0400 EDT",
            ]
        );
    }

    #[test]
    fn the_repeated_hour_is_exact() {
        // 01:30 happens twice on 2026-11-01 in Toronto. The first (EDT, 05:30Z) is what
        // a TZID time means; the second (EST, 06:30Z) has to be written in UTC.
        let first = details(
            "2026-11-01T05:30:00Z",
            "2026-11-01T06:30:00Z",
            chrono_tz::America::Toronto,
        );
        let (_, components) = parse(&appointment(&first, IcsMethod::Request));
        let event = component(&components, "VEVENT");
        assert_eq!(value(event, "DTSTART"), "20261101T013000");
        assert_eq!(param(event, "DTSTART", "TZID"), Some("America/Toronto"));
        assert_eq!(value(event, "DTEND"), "20261101T063000Z");
        assert_eq!(param(event, "DTEND", "TZID"), None);
    }

    #[test]
    fn a_zone_without_summer_time_has_one_standard_observance() {
        let d = details(
            "2026-07-01T01:00:00Z",
            "2026-07-01T02:00:00Z",
            chrono_tz::Asia::Tokyo,
        );
        let (_, components) = parse(&appointment(&d, IcsMethod::Request));
        let event = component(&components, "VEVENT");
        assert_eq!(value(event, "DTSTART"), "20260701T100000");
        assert_eq!(param(event, "DTSTART", "TZID"), Some("Asia/Tokyo"));
        assert_eq!(
            observances(component(&components, "VTIMEZONE")),
            ["STANDARD 19700101T000000 +0900 +0900 JST"]
        );
    }

    #[test]
    fn southern_summer_time_is_daylight() {
        // Sydney: summer time (AEDT, +11) until 03:00 on 2026-04-05, then AEST (+10).
        let d = details(
            "2026-06-01T00:00:00Z",
            "2026-06-01T01:00:00Z",
            chrono_tz::Australia::Sydney,
        );
        let (_, components) = parse(&appointment(&d, IcsMethod::Request));
        assert_eq!(
            value(component(&components, "VEVENT"), "DTSTART"),
            "20260601T100000"
        );
        assert_eq!(
            observances(component(&components, "VTIMEZONE")),
            [
                "STANDARD 20260405T030000 +1100 +1000 AEST",
                "DAYLIGHT 20261004T020000 +1000 +1100 AEDT",
            ]
        );
    }

    #[test]
    fn long_lines_are_folded_at_75_octets() {
        let mut d = details(
            "2026-11-01T15:00:00Z",
            "2026-11-01T15:45:00Z",
            chrono_tz::America::Toronto,
        );
        d.service_name = "Ostéopathie et physiothérapie — évaluation complète, ".repeat(4);
        d.practitioner_name = "Zoë Ångström-Łukasiewicz".into();
        let text = appointment(&d, IcsMethod::Request);
        assert!(text.contains("\r\n "), "nothing was folded:\n{text}");
        // `parse` checks the 75-octet limit; unfolded, the summary is whole again.
        let (_, components) = parse(&text);
        let summary = value(component(&components, "VEVENT"), "SUMMARY");
        assert_eq!(
            summary,
            format!("{} with Zoë Ångström-Łukasiewicz", d.service_name.trim())
        );
    }

    #[test]
    fn a_video_appointment_names_its_join_link_as_location_url_and_description() {
        let mut d = details(
            "2026-11-01T15:00:00Z",
            "2026-11-01T15:45:00Z",
            chrono_tz::America::Toronto,
        );
        d.location = "https://meet.example.com/roy".into();
        d.video_link = Some("https://meet.example.com/roy".into());
        let text = appointment(&d, IcsMethod::Request);
        let (_, components) = parse(&text);
        let event = component(&components, "VEVENT");
        assert_eq!(value(event, "LOCATION"), "https://meet.example.com/roy");
        assert_eq!(value(event, "URL"), "https://meet.example.com/roy");
        assert!(
            value(event, "DESCRIPTION")
                .contains("Video appointment: join at https://meet.example.com/roy"),
            "{text}"
        );
    }

    #[test]
    fn control_characters_do_not_break_lines() {
        let mut d = details(
            "2026-11-01T15:00:00Z",
            "2026-11-01T15:45:00Z",
            chrono_tz::America::Toronto,
        );
        d.location = "Lakeshore\r\nBEGIN:VALARM".into();
        let (_, components) = parse(&appointment(&d, IcsMethod::Request));
        let event = component(&components, "VEVENT");
        assert_eq!(value(event, "LOCATION"), "Lakeshore  BEGIN:VALARM");
        assert!(event.components.is_empty());
    }

    #[test]
    fn the_uid_domain_is_the_public_host() {
        for (url, host) in [
            ("https://book.example.com", "book.example.com"),
            ("http://127.0.0.1:3000", "127.0.0.1"),
            ("http://[::1]:3000/x", "[::1]"),
            (
                "https://user@Clinic.Example.org/path?q",
                "clinic.example.org",
            ),
            ("", "localhost"),
        ] {
            assert_eq!(uid(7, url), format!("appointment-7@{host}"), "{url}");
        }
    }

    #[test]
    fn utc_offsets_keep_their_seconds() {
        assert_eq!(utc_offset(-5 * 3600), "-0500");
        assert_eq!(utc_offset(5 * 3600 + 30 * 60), "+0530");
        assert_eq!(utc_offset(0), "+0000");
        assert_eq!(utc_offset(-(3600 + 15 * 60 + 8)), "-011508");
    }
}
