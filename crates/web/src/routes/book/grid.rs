//! The book's grid: days, columns and rows laid out from appointments and availability.
//!
//! The rows are one zone's wall-clock time (the axis, `tz`): every appointment and block
//! is placed by its instant read there, and one whose clinic is in another zone also
//! carries its own local time, so no time on the page is read on the wrong clock.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, Timelike};
use chrono_tz::Tz;
use store::Organisation;
use store::book::{Backdrop, Choices, Entry};

use crate::clinic_time::{local, span_in, zone_city};
use crate::query;

/// What the book shows and how: the filters, carried by every link.
#[derive(Clone, Debug)]
pub(super) struct View {
    pub(super) slug: String,
    pub(super) week: bool,
    pub(super) date: NaiveDate,
    pub(super) clinic: Option<i64>,
    pub(super) practitioner: Option<i64>,
    /// Every practitioner asked for explicitly (`practitioner=all`): the week view
    /// otherwise shows one practitioner's week.
    pub(super) all: bool,
    pub(super) cancelled: bool,
    /// The axis zone staff chose, carried by every link; `None`: the default one.
    pub(super) zone: Option<String>,
    /// The day's columns by room (`by=room`), carried by the day's links.
    pub(super) by_room: bool,
}

impl View {
    pub(super) fn link_to(&self, week: bool, date: Option<NaiveDate>) -> String {
        let mut url = format!(
            "/o/{}/admin/book?view={}",
            self.slug,
            if week { "week" } else { "day" }
        );
        if let Some(d) = date {
            url.push_str(&format!("&date={d}"));
        }
        if let Some(c) = self.clinic {
            url.push_str(&format!("&clinic={c}"));
        }
        if let Some(p) = self.practitioner {
            url.push_str(&format!("&practitioner={p}"));
        } else if self.all && week {
            url.push_str("&practitioner=all");
        }
        if self.cancelled {
            url.push_str("&cancelled=1");
        }
        if let Some(z) = &self.zone {
            url.push_str(&format!("&zone={}", query::encode(z)));
        }
        if self.by_room && !week {
            url.push_str("&by=room");
        }
        url
    }

    /// The dates shown: the day, or Monday to Sunday of its week.
    pub(super) fn dates(&self) -> Vec<NaiveDate> {
        if self.week {
            let monday =
                self.date - Duration::days(i64::from(self.date.weekday().num_days_from_monday()));
            (0..7).map(|n| monday + Duration::days(n)).collect()
        } else {
            vec![self.date]
        }
    }
}

/// A date heading of the week view.
#[derive(Debug)]
pub(super) struct DayHeader {
    pub(super) label: String,
    pub(super) span: usize,
    pub(super) notes: Vec<String>,
}

/// A column: one practitioner on one date.
#[derive(Debug)]
pub(super) struct Column {
    pub(super) date: NaiveDate,
    pub(super) date_label: String,
    pub(super) practitioner_id: i64,
    pub(super) name: String,
    pub(super) new_link: String,
    pub(super) notes: Vec<String>,
}

/// One appointment in the grid.
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub(super) link: String,
    pub(super) class: String,
    /// The appointment's id, for the script that moves it.
    pub(super) id: i64,
    /// Its practitioner, for the script that moves it.
    pub(super) practitioner: i64,
    /// Its start in RFC 3339 on the axis's clock, for the script that changes its length.
    pub(super) start: String,
    /// Its length in minutes.
    pub(super) minutes: i64,
    /// Where it sits in its cell's lanes: `r-N s-N l-N` (first row, rows spanned and
    /// lane, from 1), classes because the page's policy forbids `style` attributes.
    pub(super) place: String,
    /// Booked despite the engine's reasons (an override).
    pub(super) overridden: bool,
    /// Booked and confirmed by the patient from a reminder's link (issue 17).
    pub(super) confirmed: bool,
    /// Time blocked for the practitioner: no patient.
    pub(super) block: bool,
    /// Its times on the axis's clock, the row it sits in.
    pub(super) time: String,
    /// Its own clinic's local times and zone when that is not the axis's
    /// (`13:00–13:30 Vancouver time`); empty otherwise.
    pub(super) local_time: String,
    /// A video appointment (else in person).
    pub(super) video: bool,
    pub(super) patient: String,
    pub(super) what: String,
    pub(super) clinic: String,
    pub(super) status: String,
    pub(super) cancelled: bool,
    pub(super) highlight: bool,
    /// The time it keeps free, in words (`5 min buffer before, 10 min buffer after`);
    /// empty when it has no buffers or no longer takes time.
    pub(super) buffers: String,
    /// The bands drawn above and below it in the grid for its buffers.
    pub(super) bands: Vec<Band>,
    /// Its buffers that have no band of their own (too short to reach a row beyond
    /// its own), in words for screen readers; empty otherwise.
    pub(super) unbanded: String,
}

/// A buffer's band in the grid: the time an appointment keeps free before or after
/// itself (docs/scenario.md, *Buffers*), drawn in its lane above or below it.
#[derive(Debug, Clone)]
pub(super) struct Band {
    /// `before` or `after`.
    pub(super) side: &'static str,
    /// `r-N s-N l-N`, as an appointment's.
    pub(super) place: String,
    /// What it is, for screen readers and as its title (`10 min buffer after`).
    pub(super) text: String,
}

/// A cell of the grid: free time (its class tells availability), or appointments
/// spanning `rowspan` rows.
#[derive(Debug)]
pub(super) struct Cell {
    pub(super) class: String,
    pub(super) title: String,
    /// Shown in the first free row of availability at a clinic in another zone: its
    /// own local times (`09:00–12:00 Vancouver time`).
    pub(super) note: String,
    pub(super) rowspan: usize,
    pub(super) items: Vec<Item>,
    /// The side-by-side lanes its appointments need (one unless they overlap).
    pub(super) lanes: usize,
    /// A free row's link to the booking form with practitioner, date and time filled
    /// in; empty when the viewer cannot book.
    pub(super) link: String,
    /// What that link does, for screen readers (`Book Dr Ada, Mon 2 Mar, 09:15`).
    pub(super) link_label: String,
}

/// A row of the grid.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) label: String,
    pub(super) hour: bool,
    pub(super) cells: Vec<Cell>,
}

/// A link in the list under the grid.
#[derive(Debug)]
pub(super) struct Listed {
    pub(super) date: String,
    pub(super) practitioner: String,
    pub(super) item: Item,
}

/// A legend entry.
#[derive(Debug)]
pub(super) struct Legend {
    pub(super) id: i64,
    pub(super) name: String,
}

/// Minutes of wall-clock time on `date` in `tz` at which an instant reads (may be
/// negative or past 1440 for instants on other dates); rounded up for ends.
fn wall_minutes(ns: i64, tz: Tz, date: NaiveDate, round_up: bool) -> i64 {
    let t = local(ns, tz);
    let days = (t.date_naive() - date).num_days();
    let mut minutes = days * 1440 + i64::from(t.hour()) * 60 + i64::from(t.minute());
    if round_up && (t.second() > 0 || t.nanosecond() > 0) {
        minutes += 1;
    }
    minutes
}

/// A stretch of wall-clock minutes of one column, clipped to its date.
fn clip(start_ns: i64, end_ns: i64, tz: Tz, date: NaiveDate) -> Option<(i64, i64)> {
    let a = wall_minutes(start_ns, tz, date, false).max(0);
    let b = wall_minutes(end_ns, tz, date, true).min(1440);
    (b > a).then_some((a, b))
}

/// The rows' length: a quarter hour, or finer when the organisation's slot step needs it.
pub(super) fn row_minutes(org: &Organisation) -> i64 {
    match org.slot_step_minutes {
        s if s % 15 == 0 => 15,
        s if s % 10 == 0 => 10,
        _ => 5,
    }
}

/// `13:00–13:30 Vancouver time`: a span's times on its own zone's clock, with the
/// weekday when its date there is not `date` (the axis's date of its column).
fn own_time(start_ns: i64, end_ns: i64, own: Tz, date: NaiveDate) -> String {
    let start = local(start_ns, own);
    let day = if start.date_naive() == date {
        String::new()
    } else {
        format!("{} ", start.format("%a"))
    };
    format!(
        "{day}{} {} time",
        span_in(start_ns, end_ns, own),
        zone_city(own)
    )
}

/// How the grid reads times: the axis zone, and the date of the column.
#[derive(Clone, Copy)]
struct Clock {
    tz: Tz,
    date: NaiveDate,
}

fn item_of(
    entry: &Entry,
    class: String,
    can_open: bool,
    slug: &str,
    highlight: Option<i64>,
    clinics: usize,
    clock: Clock,
) -> Item {
    let own = entry.zone();
    Item {
        id: entry.id,
        practitioner: entry.practitioner_id,
        start: local(entry.start_ns, clock.tz).to_rfc3339(),
        minutes: (entry.end_ns - entry.start_ns) / 60_000_000_000,
        place: String::new(),
        overridden: entry.override_reason.is_some(),
        confirmed: entry.status == store::AppointmentStatus::Booked
            && entry.confirmed_at_ns.is_some(),
        block: entry.patient_id.is_none(),
        link: if can_open {
            format!("/o/{slug}/admin/book/appointments/{}", entry.id)
        } else {
            String::new()
        },
        class,
        time: span_in(entry.start_ns, entry.end_ns, clock.tz),
        local_time: if own == clock.tz {
            String::new()
        } else {
            own_time(entry.start_ns, entry.end_ns, own, clock.date)
        },
        video: entry.place.telehealth,
        patient: entry.patient_name().unwrap_or_else(|| {
            // A block's label is its note while it stands (a cancellation's note
            // replaces it).
            if entry.is_active() && !entry.status_note.is_empty() {
                format!("Blocked: {}", entry.status_note)
            } else {
                "Blocked time".to_owned()
            }
        }),
        what: entry
            .service_name
            .clone()
            .or_else(|| entry.schedule_type_name.clone())
            .unwrap_or_default(),
        clinic: if clinics > 1 {
            entry.place.clinic_name.clone()
        } else {
            String::new()
        },
        status: entry.status.as_str().replace('_', "-"),
        cancelled: !entry.is_active(),
        highlight: highlight == Some(entry.id),
        buffers: buffers_in_words(entry),
        bands: Vec::new(),
        unbanded: String::new(),
    }
}

/// The buffers an appointment keeps free, in words; empty when it has none or no
/// longer takes time (a cancelled appointment keeps nothing free).
fn buffers_in_words(entry: &Entry) -> String {
    if !entry.is_active() {
        return String::new();
    }
    let mut parts = Vec::new();
    if entry.buffer_before_minutes > 0 {
        parts.push(format!("{} min buffer before", entry.buffer_before_minutes));
    }
    if entry.buffer_after_minutes > 0 {
        parts.push(format!("{} min buffer after", entry.buffer_after_minutes));
    }
    parts.join(", ")
}

/// The instants an appointment keeps, its buffers included while it takes time.
fn buffered_ns(entry: &Entry) -> (i64, i64) {
    const MINUTE_NS: i64 = 60_000_000_000;
    if !entry.is_active() {
        return (entry.start_ns, entry.end_ns);
    }
    (
        entry.start_ns - entry.buffer_before_minutes.max(0) * MINUTE_NS,
        entry.end_ns + entry.buffer_after_minutes.max(0) * MINUTE_NS,
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) fn build_grid(
    view: &View,
    org: &Organisation,
    choices: &Choices,
    tz: Tz,
    practitioners: &[i64],
    entries: &[Entry],
    backdrop: &Backdrop,
    can_book: bool,
    highlight: Option<i64>,
) -> (Vec<DayHeader>, Vec<Column>, Vec<Row>, Vec<Listed>) {
    let names: HashMap<i64, &str> = choices
        .schedule_types
        .iter()
        .map(|t| (t.id, t.name.as_str()))
        .collect();
    let clinic_names: HashMap<i64, &str> = choices
        .clinics
        .iter()
        .map(|c| (c.id, c.name.as_str()))
        .collect();
    let clinic_zones: HashMap<i64, Tz> = choices.clinics.iter().map(|c| (c.id, c.zone())).collect();
    let dates = view.dates();
    let mut columns = Vec::new();
    let mut days = Vec::new();
    for &date in &dates {
        let date_text = date.to_string();
        let holidays: Vec<String> = backdrop
            .holidays
            .iter()
            .filter(|h| h.date.to_string() == date_text)
            .filter(|h| view.clinic.is_none_or(|c| c == h.clinic_id))
            .map(|h| {
                format!(
                    "{} closed (holiday)",
                    clinic_names
                        .get(&h.clinic_id)
                        .copied()
                        .unwrap_or("A clinic")
                )
            })
            .collect();
        days.push(DayHeader {
            label: date.format("%a %-d %b").to_string(),
            span: practitioners.len(),
            notes: holidays,
        });
        for &p in practitioners {
            let name = choices
                .practitioner(p)
                .map_or_else(String::new, |c| c.name.clone());
            let mut new_link = String::new();
            if can_book {
                new_link = format!(
                    "/o/{}/admin/book/new?practitioner={p}&date={date}",
                    view.slug
                );
                if let Some(c) = view.clinic {
                    new_link.push_str(&format!("&clinic={c}"));
                }
            }
            columns.push(Column {
                date,
                date_label: date.format("%a %-d %b").to_string(),
                practitioner_id: p,
                name,
                new_link,
                notes: Vec::new(),
            });
        }
    }

    // Each column's availability, time off and appointments in wall-clock minutes.
    struct Stretch {
        a: i64,
        b: i64,
        schedule_type: i64,
        clinic: i64,
        online: bool,
        /// Its date in its clinic's own zone, whose holidays close it.
        own_date: NaiveDate,
        /// Its own local times when its clinic is in another zone than the axis.
        own_time: String,
    }
    /// An appointment in a column: its own minutes, and those with its buffers (the
    /// same when it has none), which its cell and lane hold.
    struct Placed<'e> {
        a: i64,
        b: i64,
        kept: (i64, i64),
        entry: &'e Entry,
    }
    let mut stretches: Vec<Vec<Stretch>> = Vec::with_capacity(columns.len());
    let mut offs: Vec<Vec<(i64, i64)>> = Vec::with_capacity(columns.len());
    let mut placed: Vec<Vec<Placed<'_>>> = Vec::with_capacity(columns.len());
    for c in &columns {
        stretches.push(
            backdrop
                .blocks
                .iter()
                .filter(|b| b.practitioner_id == c.practitioner_id)
                .filter(|b| view.clinic.is_none_or(|clinic| clinic == b.clinic_id))
                .filter_map(|b| {
                    let own = clinic_zones.get(&b.clinic_id).copied().unwrap_or(tz);
                    clip(b.start_ns, b.end_ns, tz, c.date).map(|(a, e)| Stretch {
                        a,
                        b: e,
                        schedule_type: b.schedule_type_id,
                        clinic: b.clinic_id,
                        online: b.online,
                        own_date: local(b.start_ns, own).date_naive(),
                        own_time: if own == tz {
                            String::new()
                        } else {
                            own_time(b.start_ns, b.end_ns, own, c.date)
                        },
                    })
                })
                .collect(),
        );
        offs.push(
            backdrop
                .time_off
                .iter()
                .filter(|t| t.practitioner_id == c.practitioner_id)
                .filter_map(|t| clip(t.start_ns, t.end_ns, tz, c.date))
                .collect(),
        );
        placed.push(
            entries
                .iter()
                .filter(|e| e.practitioner_id == c.practitioner_id)
                .filter_map(|e| {
                    let (a, b) = clip(e.start_ns, e.end_ns, tz, c.date)?;
                    let (from, to) = buffered_ns(e);
                    let kept = clip(from, to, tz, c.date).unwrap_or((a, b));
                    Some(Placed {
                        a,
                        b,
                        kept: (kept.0.min(a), kept.1.max(b)),
                        entry: e,
                    })
                })
                .collect(),
        );
    }

    // The hours shown: every block and appointment, at least 08:00 to 18:00 when there
    // is nothing to show, in whole hours.
    let step = row_minutes(org);
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    for (s, p) in stretches.iter().zip(&placed) {
        for x in s {
            first = first.min(x.a);
            last = last.max(x.b);
        }
        for x in p {
            first = first.min(x.kept.0);
            last = last.max(x.kept.1);
        }
    }
    if first > last {
        (first, last) = (8 * 60, 18 * 60);
    }
    let first = first - first % 60;
    let last = (last + 59) / 60 * 60;
    let rows_count = usize::try_from((last - first) / step).unwrap_or(0);
    let row_of = |minute: i64| -> usize {
        usize::try_from((minute - first).div_euclid(step))
            .unwrap_or(0)
            .min(rows_count)
    };
    let row_end = |minute: i64| -> usize {
        usize::try_from((minute - first + step - 1).div_euclid(step))
            .unwrap_or(0)
            .min(rows_count)
    };

    let mut grid: Vec<Vec<Option<Cell>>> = Vec::with_capacity(columns.len());
    let mut listed = Vec::new();
    for (ci, c) in columns.iter_mut().enumerate() {
        let mut cells: Vec<Option<Cell>> = Vec::with_capacity(rows_count);
        // The booking form reads its time in a clinic's zone: a free row's link names
        // a clinic in the axis's zone, so the time it fills in is the row's.
        let clinic_param = if view.clinic.is_some() {
            String::new()
        } else {
            choices
                .practitioner(c.practitioner_id)
                .and_then(|p| choices.clinic(p.home_clinic_id))
                .filter(|home| home.zone() == tz)
                .or_else(|| choices.clinics.iter().find(|k| k.zone() == tz))
                .map_or_else(String::new, |k| format!("&clinic={}", k.id))
        };
        // Appointments that share a row are drawn in one cell, stacked, so a
        // double-booking is visible rather than hidden behind another. An appointment's
        // buffers are drawn with it, so they hold its cell's rows too.
        let rows_of = |(a, b): (i64, i64)| {
            let start = row_of(a);
            (start, row_end(b).max(start + 1).min(rows_count))
        };
        let mut items: Vec<(usize, usize, &Placed<'_>)> = placed[ci]
            .iter()
            .map(|p| {
                let (start, end) = rows_of(p.kept);
                (start, end, p)
            })
            .collect();
        items.sort_by_key(|(start, _, p)| (*start, p.entry.start_ns, p.entry.id));
        let mut groups: Vec<(usize, usize, Vec<&Placed<'_>>)> = Vec::new();
        for (start, end, entry) in items {
            match groups.last_mut() {
                Some((_, group_end, members)) if start < *group_end => {
                    *group_end = (*group_end).max(end);
                    members.push(entry);
                }
                _ => groups.push((start, end, vec![entry])),
            }
        }
        // A stretch is closed by its clinic's holiday on its own date there (an evening
        // in Vancouver is already the next day on a Toronto axis).
        let closed = |s: &Stretch| {
            let date = s.own_date.to_string();
            backdrop
                .holidays
                .iter()
                .any(|h| h.clinic_id == s.clinic && h.date.to_string() == date)
        };
        let mut holidays_here: Vec<i64> = Vec::new();
        for s in &stretches[ci] {
            if closed(s) && !holidays_here.contains(&s.clinic) {
                holidays_here.push(s.clinic);
            }
        }
        // The stretches of another zone whose own times a free row already shows.
        let mut noted: Vec<usize> = Vec::new();
        for clinic in &holidays_here {
            c.notes.push(format!(
                "{} closed (holiday)",
                clinic_names.get(clinic).copied().unwrap_or("The clinic")
            ));
        }
        let mut next_group = 0;
        let mut row = 0;
        while row < rows_count {
            if let Some((start, end, members)) = groups.get(next_group)
                && *start == row
            {
                let mut cell_items = Vec::with_capacity(members.len());
                // Lanes hold each appointment with its buffers, so that a band never
                // sits under another appointment of its lane.
                let kept: Vec<(usize, usize)> = members.iter().map(|p| rows_of(p.kept)).collect();
                let (lane_of, lanes_needed) = lanes(&kept);
                for (k, placed) in members.iter().enumerate() {
                    let entry = placed.entry;
                    let schedule_type = entry.schedule_type_id.or_else(|| {
                        // An appointment booked without a schedule type takes the colour
                        // of the availability it sits in.
                        let at = wall_minutes(entry.start_ns, tz, c.date, false);
                        stretches[ci]
                            .iter()
                            .find(|s| !s.online && s.a <= at && at < s.b)
                            .map(|s| s.schedule_type)
                    });
                    let class =
                        schedule_type.map_or_else(|| "st-none".to_owned(), |t| format!("st-{t}"));
                    let mut item = item_of(
                        entry,
                        class,
                        can_book,
                        &view.slug,
                        highlight,
                        choices.clinics.len(),
                        Clock { tz, date: c.date },
                    );
                    let (a, b) = rows_of((placed.a, placed.b));
                    let lane = lane_of[k] + 1;
                    let place = |from: usize, to: usize| {
                        format!(
                            "r-{} s-{} l-{lane}",
                            from - start + 1,
                            to.saturating_sub(from).max(1)
                        )
                    };
                    item.place = place(a, b);
                    // The rows of its buffers outside its own rows: a buffer shorter
                    // than the part of a row the appointment leaves free has no band,
                    // and is said in words for screen readers instead.
                    let (kept_from, kept_to) = kept[k];
                    let mut unbanded = Vec::new();
                    for (side, minutes, from, to) in [
                        ("before", entry.buffer_before_minutes, kept_from, a),
                        ("after", entry.buffer_after_minutes, b, kept_to),
                    ] {
                        if !entry.is_active() || minutes <= 0 {
                            continue;
                        }
                        let text = format!("{minutes} min buffer {side}");
                        if from < to {
                            item.bands.push(Band {
                                side,
                                place: place(from, to),
                                text,
                            });
                        } else {
                            unbanded.push(text);
                        }
                    }
                    item.unbanded = unbanded.join(", ");
                    listed.push(Listed {
                        date: c.date_label.clone(),
                        practitioner: c.name.clone(),
                        item: item.clone(),
                    });
                    cell_items.push(item);
                }
                cells.push(Some(Cell {
                    class: String::new(),
                    title: String::new(),
                    note: String::new(),
                    rowspan: end - start,
                    items: cell_items,
                    lanes: lanes_needed,
                    link: String::new(),
                    link_label: String::new(),
                }));
                for _ in row + 1..*end {
                    cells.push(None);
                }
                row = *end;
                next_group += 1;
                continue;
            }
            let minute = first + i64::try_from(row).unwrap_or(0) * step;
            let covering = stretches[ci]
                .iter()
                .enumerate()
                .find(|(_, s)| !s.online && s.a <= minute && minute < s.b);
            let online = stretches[ci]
                .iter()
                .any(|s| s.online && s.a <= minute && minute < s.b);
            let off = offs[ci].iter().any(|&(a, b)| a <= minute && minute < b);
            let mut note = String::new();
            let (class, title) = if off {
                ("off".to_owned(), "Time off".to_owned())
            } else if let Some((si, s)) = covering {
                let name = names.get(&s.schedule_type).copied().unwrap_or("");
                let (class, mut title) = if closed(s) {
                    (
                        format!("av av-{} holiday", s.schedule_type),
                        format!("{name} (holiday)"),
                    )
                } else if online {
                    (
                        format!("av av-{} online", s.schedule_type),
                        format!("{name} (online)"),
                    )
                } else {
                    (format!("av av-{}", s.schedule_type), name.to_owned())
                };
                if !s.own_time.is_empty() {
                    title.push_str(&format!(
                        ", {} at {}",
                        s.own_time,
                        clinic_names.get(&s.clinic).copied().unwrap_or("its clinic")
                    ));
                    if !noted.contains(&si) {
                        noted.push(si);
                        note = s.own_time.clone();
                    }
                }
                (class, title)
            } else {
                (String::new(), String::new())
            };
            let (link, link_label) = if c.new_link.is_empty() {
                (String::new(), String::new())
            } else {
                let time = format!("{:02}:{:02}", minute / 60, minute % 60);
                (
                    format!("{}&time={time}{}", c.new_link, clinic_param),
                    format!("Book {}, {}, {time}", c.name, c.date_label),
                )
            };
            cells.push(Some(Cell {
                class,
                title,
                note,
                rowspan: 1,
                items: Vec::new(),
                lanes: 1,
                link,
                link_label,
            }));
            row += 1;
        }
        grid.push(cells);
    }
    let rows = (0..rows_count)
        .map(|r| {
            let minute = first + i64::try_from(r).unwrap_or(0) * step;
            Row {
                label: format!("{:02}:{:02}", minute / 60, minute % 60),
                hour: minute % 60 == 0,
                cells: grid
                    .iter_mut()
                    .filter_map(|column| column.get_mut(r).and_then(Option::take))
                    .collect(),
            }
        })
        .collect();
    (days, columns, rows, listed)
}

/// Interval partitioning: the lane (from 0) of each span of rows `(first, end)`, given
/// in order of start, and the number of lanes. Each span takes the lowest lane free at
/// its start, which needs no more lanes than the most spans overlapping at one time,
/// so overlapping appointments stand side by side as narrow as they can.
pub(super) fn lanes(spans: &[(usize, usize)]) -> (Vec<usize>, usize) {
    // The end of the last span of each lane.
    let mut ends: Vec<usize> = Vec::new();
    let mut lane_of = Vec::with_capacity(spans.len());
    for &(a, b) in spans {
        match ends.iter().position(|&e| e <= a) {
            Some(l) => {
                ends[l] = b;
                lane_of.push(l);
            }
            None => {
                ends.push(b);
                lane_of.push(ends.len() - 1);
            }
        }
    }
    (lane_of, ends.len().max(1))
}

#[cfg(test)]
mod tests {
    use store::book::{Block, PractitionerChoice, ScheduleTypeChoice};
    use store::clinic::Clinic;

    use super::*;

    const TORONTO: Tz = chrono_tz::America::Toronto;
    const VANCOUVER: Tz = chrono_tz::America::Vancouver;

    fn org(slot_step_minutes: i64) -> Organisation {
        Organisation {
            id: 1,
            slug: "demo".to_owned(),
            name: "Demo".to_owned(),
            resolution_minutes: 5,
            slot_step_minutes,
            min_notice_minutes: 0,
            max_days_ahead: 60,
            allow_public_signup: false,
            portal_public_times: false,
            auto_accept_portal_bookings: false,
            cancellation_notice_minutes: 0,
            portal_welcome: String::new(),
            video_link: String::new(),
            host: None,
            logo_version: None,
            max_appointment_ns: 0,
            created_at_ns: 0,
        }
    }

    fn clinic(id: i64, name: &str, timezone: &str) -> Clinic {
        Clinic {
            id,
            key: format!("c{id}"),
            name: name.to_owned(),
            timezone: timezone.to_owned(),
            address: String::new(),
            phone: String::new(),
        }
    }

    fn choices() -> Choices {
        Choices {
            clinics: vec![clinic(1, "Downtown", "America/Toronto")],
            practitioners: vec![PractitionerChoice {
                id: 5,
                name: "Dr Ada".to_owned(),
                home_clinic_id: 1,
                active: true,
            }],
            services: Vec::new(),
            schedule_types: vec![ScheduleTypeChoice {
                id: 7,
                name: "Physio".to_owned(),
                clinic_id: None,
                default_duration_minutes: 30,
                background_color: "#336699".to_owned(),
                font_color: "#ffffff".to_owned(),
                telehealth: false,
            }],
            resources: Vec::new(),
        }
    }

    /// Downtown in Toronto and Kitsilano in Vancouver.
    fn two_zones() -> Choices {
        Choices {
            clinics: vec![
                clinic(1, "Downtown", "America/Toronto"),
                clinic(2, "Kitsilano", "America/Vancouver"),
            ],
            ..choices()
        }
    }

    fn view(date: NaiveDate) -> View {
        View {
            slug: "demo".to_owned(),
            week: false,
            date,
            clinic: None,
            practitioner: None,
            all: false,
            cancelled: false,
            zone: None,
            by_room: false,
        }
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
    }

    /// The instant of `hh:mm` on `date` in Toronto.
    fn at(date: NaiveDate, hh: u32, mm: u32) -> i64 {
        crate::clinic_time::local_ns(TORONTO, date, hh * 60 + mm)
    }

    fn entry(id: i64, start: (u32, u32), end: (u32, u32)) -> Entry {
        Entry {
            id,
            practitioner_id: 5,
            practitioner_name: "Dr Ada".to_owned(),
            patient_id: Some(9),
            patient_first_name: Some("Grace".to_owned()),
            patient_last_name: Some("Hopper".to_owned()),
            service_id: None,
            service_name: None,
            schedule_type_id: Some(7),
            schedule_type_name: Some("Physio".to_owned()),
            background_color: None,
            font_color: None,
            place: store::place::Place {
                clinic_id: 1,
                clinic_name: "Downtown".to_owned(),
                clinic_timezone: "America/Toronto".to_owned(),
                clinic_address: String::new(),
                clinic_phone: String::new(),
                telehealth: false,
                video_link: String::new(),
            },
            start_ns: at(day(), start.0, start.1),
            end_ns: at(day(), end.0, end.1),
            status: store::AppointmentStatus::Booked,
            channel: store::Channel::Staff,
            override_reason: None,
            override_by: None,
            status_note: String::new(),
            created_by: "import".to_owned(),
            created_at_ns: 0,
            updated_by: "import".to_owned(),
            updated_at_ns: 0,
            cancel_reason: None,
            cancelled_by: None,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            confirmed_at_ns: None,
            resources: Vec::new(),
        }
    }

    /// An appointment of Dr Ada at Kitsilano, in Vancouver, `hh:mm` to `hh:mm` on `date`
    /// there.
    fn in_vancouver(id: i64, date: NaiveDate, start: (u32, u32), end: (u32, u32)) -> Entry {
        let mut e = entry(id, (9, 0), (9, 30));
        e.place.clinic_id = 2;
        e.place.clinic_name = "Kitsilano".to_owned();
        e.place.clinic_timezone = "America/Vancouver".to_owned();
        e.start_ns = crate::clinic_time::local_ns(VANCOUVER, date, start.0 * 60 + start.1);
        e.end_ns = crate::clinic_time::local_ns(VANCOUVER, date, end.0 * 60 + end.1);
        e
    }

    /// The grid of `date` in the axis zone `tz` over the two clinics.
    fn two_zone_grid(
        tz: Tz,
        date: NaiveDate,
        entries: &[Entry],
        backdrop: &Backdrop,
    ) -> (Vec<Row>, Vec<Listed>) {
        let (_, _, rows, listed) = build_grid(
            &view(date),
            &org(15),
            &two_zones(),
            tz,
            &[5],
            entries,
            backdrop,
            true,
            None,
        );
        (rows, listed)
    }

    /// The items of the row labelled `label`.
    fn items_at<'r>(rows: &'r [Row], label: &str) -> Vec<&'r Item> {
        rows.iter()
            .find(|r| r.label == label)
            .unwrap_or_else(|| panic!("no row {label}"))
            .cells
            .iter()
            .flat_map(|c| &c.items)
            .collect()
    }

    fn grid(entries: &[Entry], backdrop: &Backdrop) -> (Vec<Column>, Vec<Row>, Vec<Listed>) {
        let (_, columns, rows, listed) = build_grid(
            &view(day()),
            &org(15),
            &choices(),
            TORONTO,
            &[5],
            entries,
            backdrop,
            true,
            None,
        );
        (columns, rows, listed)
    }

    #[test]
    fn an_empty_day_shows_eight_to_six_in_quarter_hours() {
        let (columns, rows, listed) = grid(&[], &Backdrop::default());
        assert_eq!(columns.len(), 1);
        assert_eq!(
            columns[0].new_link,
            "/o/demo/admin/book/new?practitioner=5&date=2026-03-02"
        );
        assert_eq!(rows.len(), 40);
        assert_eq!(rows[0].label, "08:00");
        assert!(rows[0].hour);
        assert_eq!(rows[39].label, "17:45");
        assert!(!rows[39].hour);
        assert!(
            rows.iter()
                .all(|r| r.cells.len() == 1 && r.cells[0].class.is_empty())
        );
        assert!(listed.is_empty());
    }

    #[test]
    fn overlapping_appointments_share_one_cell_so_a_double_booking_shows() {
        let entries = [entry(1, (9, 0), (9, 30)), entry(2, (9, 15), (9, 45))];
        let (_, rows, listed) = grid(&entries, &Backdrop::default());
        // 09:00 to 10:00: the hours the appointments touch, in whole hours.
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["09:00", "09:15", "09:30", "09:45"]);
        let cell = &rows[0].cells[0];
        assert_eq!(cell.rowspan, 3);
        let times: Vec<&str> = cell.items.iter().map(|i| i.time.as_str()).collect();
        assert_eq!(times, ["09:00–09:30", "09:15–09:45"]);
        assert_eq!(cell.items[0].link, "/o/demo/admin/book/appointments/1");
        assert_eq!(cell.items[0].class, "st-7");
        assert!(rows[1].cells.is_empty() && rows[2].cells.is_empty());
        assert_eq!(rows[3].cells.len(), 1);
        assert!(rows[3].cells[0].items.is_empty());
        assert_eq!(listed.len(), 2);
    }

    #[test]
    fn buffers_are_bands_above_and_below_their_appointment_in_its_lane() {
        let mut buffered = entry(1, (10, 0), (10, 30));
        buffered.buffer_before_minutes = 15;
        buffered.buffer_after_minutes = 10;
        let (_, rows, listed) = grid(&[buffered.clone()], &Backdrop::default());
        // The hours shown hold the buffers: 09:45 is the first row kept.
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45"
            ]
        );
        let cell = &rows[3].cells[0];
        assert_eq!(
            cell.rowspan, 4,
            "09:45 to 10:45: the buffer before, the appointment, the buffer after"
        );
        assert_eq!(cell.lanes, 1);
        let item = &cell.items[0];
        assert_eq!(item.place, "r-2 s-2 l-1");
        assert_eq!(item.buffers, "15 min buffer before, 10 min buffer after");
        let bands: Vec<(&str, &str, &str)> = item
            .bands
            .iter()
            .map(|b| (b.side, b.place.as_str(), b.text.as_str()))
            .collect();
        assert_eq!(
            bands,
            [
                ("before", "r-1 s-1 l-1", "15 min buffer before"),
                ("after", "r-4 s-1 l-1", "10 min buffer after"),
            ]
        );
        assert_eq!(listed[0].item.buffers, item.buffers);
        assert!(item.unbanded.is_empty(), "every buffer has its band");

        // A cancelled appointment keeps nothing free: no band, no words.
        let mut cancelled = buffered.clone();
        cancelled.status = store::AppointmentStatus::Cancelled;
        let (_, rows, _) = grid(&[cancelled], &Backdrop::default());
        let item = &items_at(&rows, "10:00")[0];
        assert!(item.bands.is_empty() && item.buffers.is_empty());

        // An appointment starting in its buffer's row keeps the buffer in words only.
        let mut mid_row = entry(2, (10, 5), (10, 30));
        mid_row.buffer_before_minutes = 5;
        let (_, rows, _) = grid(&[mid_row], &Backdrop::default());
        let item = &items_at(&rows, "10:00")[0];
        assert!(item.bands.is_empty());
        assert_eq!(item.buffers, "5 min buffer before");
        assert_eq!(item.unbanded, "5 min buffer before");
    }

    #[test]
    fn an_appointment_in_anothers_buffer_stands_beside_it() {
        let mut first = entry(1, (9, 0), (9, 30));
        first.buffer_after_minutes = 15;
        // Booked with an override into the first one's buffer.
        let second = entry(2, (9, 30), (10, 0));
        let (_, rows, _) = grid(&[first, second], &Backdrop::default());
        let cell = &rows[0].cells[0];
        assert_eq!(cell.lanes, 2, "the band is not hidden under the second");
        let places: Vec<&str> = cell.items.iter().map(|i| i.place.as_str()).collect();
        assert_eq!(places, ["r-1 s-2 l-1", "r-3 s-2 l-2"]);
        assert_eq!(cell.items[0].bands[0].place, "r-3 s-1 l-1");
    }

    #[test]
    fn lanes_put_overlapping_spans_side_by_side_in_as_few_lanes_as_possible() {
        // One span alone: one lane.
        assert_eq!(lanes(&[(0, 2)]), (vec![0], 1));
        // Two overlapping: two lanes; a third after the first ends reuses lane 0.
        assert_eq!(lanes(&[(0, 2), (1, 3), (2, 4)]), (vec![0, 1, 0], 2));
        // Touching spans do not overlap.
        assert_eq!(lanes(&[(0, 1), (1, 2), (2, 3)]), (vec![0, 0, 0], 1));
        // Three at once need three; a later one takes the lowest lane free.
        assert_eq!(
            lanes(&[(0, 4), (0, 2), (1, 3), (2, 5), (3, 6)]),
            (vec![0, 1, 2, 1, 2], 3)
        );
        // A long one keeps its lane while short ones come and go beside it.
        assert_eq!(
            lanes(&[(0, 8), (1, 2), (2, 3), (3, 4)]),
            (vec![0, 1, 1, 1], 2)
        );
        // Nothing: still one lane to draw.
        assert_eq!(lanes(&[]), (vec![], 1));
    }

    #[test]
    fn overlapping_appointments_are_placed_by_row_span_and_lane() {
        let entries = [
            entry(1, (9, 0), (9, 30)),
            entry(2, (9, 15), (9, 45)),
            entry(3, (9, 30), (10, 0)),
        ];
        let (_, rows, _) = grid(&entries, &Backdrop::default());
        let cell = &rows[0].cells[0];
        assert_eq!(cell.rowspan, 4);
        assert_eq!(cell.lanes, 2);
        let places: Vec<&str> = cell.items.iter().map(|i| i.place.as_str()).collect();
        assert_eq!(places, ["r-1 s-2 l-1", "r-2 s-2 l-2", "r-3 s-2 l-1"]);
        assert_eq!(cell.items[0].minutes, 30);
        assert_eq!(cell.items[0].start, "2026-03-02T09:00:00-05:00");
        assert!(cell.items.iter().all(|i| !i.block && !i.overridden));
    }

    #[test]
    fn free_rows_link_to_the_booking_form_at_their_time() {
        let (_, rows, _) = grid(&[entry(1, (9, 0), (9, 30))], &Backdrop::default());
        let at = |label: &str| {
            let c = &rows.iter().find(|r| r.label == label).unwrap().cells[0];
            (c.link.clone(), c.link_label.clone())
        };
        assert_eq!(
            at("09:30"),
            (
                "/o/demo/admin/book/new?practitioner=5&date=2026-03-02&time=09:30&clinic=1"
                    .to_owned(),
                "Book Dr Ada, Mon 2 Mar, 09:30".to_owned()
            )
        );
        // A row an appointment covers has no free cell of its own.
        assert!(rows[1].cells.is_empty());
        // A viewer who cannot book has no links.
        let (_, _, rows, _) = build_grid(
            &view(day()),
            &org(15),
            &choices(),
            TORONTO,
            &[5],
            &[],
            &Backdrop::default(),
            false,
            None,
        );
        assert!(rows.iter().all(|r| r.cells[0].link.is_empty()));
    }

    #[test]
    fn blocks_and_overrides_are_marked() {
        let mut block = entry(1, (9, 0), (9, 30));
        block.patient_id = None;
        block.patient_first_name = None;
        block.patient_last_name = None;
        let mut forced = entry(2, (10, 0), (10, 30));
        forced.override_reason = Some("Urgent".to_owned());
        let (_, _, listed) = grid(&[block, forced], &Backdrop::default());
        let marks: Vec<(&str, bool, bool)> = listed
            .iter()
            .map(|l| (l.item.patient.as_str(), l.item.block, l.item.overridden))
            .collect();
        assert_eq!(
            marks,
            [("Blocked time", true, false), ("Grace Hopper", false, true)]
        );
    }

    #[test]
    fn availability_colours_free_rows_and_marks_the_online_part() {
        let block = |start: (u32, u32), end: (u32, u32), online| Block {
            practitioner_id: 5,
            clinic_id: 1,
            schedule_type_id: 7,
            start_ns: at(day(), start.0, start.1),
            end_ns: at(day(), end.0, end.1),
            online,
        };
        let backdrop = Backdrop {
            blocks: vec![block((9, 0), (10, 0), false), block((9, 0), (9, 30), true)],
            ..Backdrop::default()
        };
        let (_, rows, _) = grid(&[], &backdrop);
        let cells: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.cells[0].class.as_str(), r.cells[0].title.as_str()))
            .collect();
        assert_eq!(
            cells,
            [
                ("av av-7 online", "Physio (online)"),
                ("av av-7 online", "Physio (online)"),
                ("av av-7", "Physio"),
                ("av av-7", "Physio"),
            ]
        );
    }

    #[test]
    fn wall_minutes_read_the_clock_on_the_wall_across_a_spring_forward() {
        // Clocks go from 02:00 to 03:00 on 8 March 2026 in Toronto.
        let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let three = at(spring, 3, 0);
        assert_eq!(wall_minutes(three, TORONTO, spring, false), 180);
        assert_eq!(wall_minutes(three + 1, TORONTO, spring, true), 181);
        let next_day = at(spring + Duration::days(1), 1, 0);
        assert_eq!(wall_minutes(next_day, TORONTO, spring, false), 1440 + 60);
        assert_eq!(clip(three, next_day, TORONTO, spring), Some((180, 1440)));
        assert_eq!(clip(next_day, next_day + 1, TORONTO, spring), None);
    }

    #[test]
    fn an_appointment_in_another_zone_sits_at_its_instant_and_says_its_own_time() {
        // 13:00 in Vancouver (PST) is 16:00 in Toronto (EST); 09:00 in Toronto is 06:00
        // in Vancouver.
        let entries = [
            entry(1, (9, 0), (9, 30)),
            in_vancouver(2, day(), (13, 0), (13, 30)),
        ];
        let (rows, listed) = two_zone_grid(TORONTO, day(), &entries, &Backdrop::default());
        let at_nine = items_at(&rows, "09:00");
        assert_eq!(at_nine.len(), 1);
        assert_eq!(
            (at_nine[0].time.as_str(), at_nine[0].local_time.as_str()),
            ("09:00–09:30", "")
        );
        assert!(items_at(&rows, "13:00").is_empty());
        let at_four = items_at(&rows, "16:00");
        assert_eq!(at_four.len(), 1);
        assert_eq!(at_four[0].time, "16:00–16:30");
        assert_eq!(at_four[0].local_time, "13:00–13:30 Vancouver time");
        assert_eq!(at_four[0].clinic, "Kitsilano");
        assert_eq!(listed.len(), 2);

        // On a Vancouver axis the same two change places.
        let (rows, _) = two_zone_grid(VANCOUVER, day(), &entries, &Backdrop::default());
        let at_six = items_at(&rows, "06:00");
        assert_eq!(
            (at_six[0].time.as_str(), at_six[0].local_time.as_str()),
            ("06:00–06:30", "09:00–09:30 Toronto time")
        );
        let at_one = items_at(&rows, "13:00");
        assert_eq!(
            (at_one[0].time.as_str(), at_one[0].local_time.as_str()),
            ("13:00–13:30", "")
        );
    }

    #[test]
    fn an_evening_in_vancouver_is_the_next_morning_in_toronto_and_says_its_day() {
        // Sunday 1 March, 22:00 in Vancouver: Monday 01:00 in Toronto.
        let sunday = day() - Duration::days(1);
        let entries = [in_vancouver(3, sunday, (22, 0), (22, 30))];
        let (rows, _) = two_zone_grid(TORONTO, day(), &entries, &Backdrop::default());
        let item = items_at(&rows, "01:00")[0];
        assert_eq!(item.time, "01:00–01:30");
        assert_eq!(item.local_time, "Sun 22:00–22:30 Vancouver time");
    }

    #[test]
    fn on_the_spring_forward_night_toronto_and_vancouver_are_four_hours_apart() {
        // 8 March 2026: Toronto moves to EDT at 07:00 UTC, Vancouver to PDT at 10:00
        // UTC. 01:00 PST in Vancouver (09:00 UTC) is 05:00 EDT in Toronto: a fixed
        // three-hour difference would put it at 04:00.
        let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let entries = [
            in_vancouver(4, spring, (1, 0), (1, 30)),
            in_vancouver(5, spring, (9, 0), (9, 30)),
        ];
        let (rows, _) = two_zone_grid(TORONTO, spring, &entries, &Backdrop::default());
        // The day's first row is its hour: nothing sits at 04:00.
        assert_eq!(rows[0].label, "05:00");
        let night = items_at(&rows, "05:00");
        assert_eq!(
            (night[0].time.as_str(), night[0].local_time.as_str()),
            ("05:00–05:30", "01:00–01:30 Vancouver time")
        );
        // After both changed, three hours again.
        let morning = items_at(&rows, "12:00");
        assert_eq!(
            (morning[0].time.as_str(), morning[0].local_time.as_str()),
            ("12:00–12:30", "09:00–09:30 Vancouver time")
        );
    }

    #[test]
    fn availability_in_another_zone_sits_at_its_instant_and_says_its_own_time_once() {
        // Kitsilano 09:00–10:00 in Vancouver: 12:00–13:00 on a Toronto axis.
        let block = Block {
            practitioner_id: 5,
            clinic_id: 2,
            schedule_type_id: 7,
            start_ns: crate::clinic_time::local_ns(VANCOUVER, day(), 9 * 60),
            end_ns: crate::clinic_time::local_ns(VANCOUVER, day(), 10 * 60),
            online: false,
        };
        let backdrop = Backdrop {
            blocks: vec![block],
            ..Backdrop::default()
        };
        let (rows, _) = two_zone_grid(TORONTO, day(), &[], &backdrop);
        let cells: Vec<(&str, &str, &str, &str)> = rows
            .iter()
            .filter(|r| !r.cells[0].class.is_empty())
            .map(|r| {
                let c = &r.cells[0];
                (
                    r.label.as_str(),
                    c.class.as_str(),
                    c.title.as_str(),
                    c.note.as_str(),
                )
            })
            .collect();
        let title = "Physio, 09:00–10:00 Vancouver time at Kitsilano";
        assert_eq!(
            cells,
            [
                ("12:00", "av av-7", title, "09:00–10:00 Vancouver time"),
                ("12:15", "av av-7", title, ""),
                ("12:30", "av av-7", title, ""),
                ("12:45", "av av-7", title, ""),
            ]
        );
        // On the clinic's own axis nothing more is said.
        let (rows, _) = two_zone_grid(VANCOUVER, day(), &[], &backdrop);
        let nine = rows.iter().find(|r| r.label == "09:00").unwrap();
        assert_eq!(
            (nine.cells[0].title.as_str(), nine.cells[0].note.as_str()),
            ("Physio", "")
        );
    }

    #[test]
    fn video_appointments_are_marked() {
        let mut video = entry(1, (9, 0), (9, 30));
        video.place.telehealth = true;
        let (_, rows, _) = grid(&[video, entry(2, (10, 0), (10, 30))], &Backdrop::default());
        let flags: Vec<(&str, bool)> = rows
            .iter()
            .flat_map(|r| &r.cells)
            .flat_map(|c| &c.items)
            .map(|i| (i.time.as_str(), i.video))
            .collect();
        assert_eq!(flags, [("09:00–09:30", true), ("10:00–10:30", false)]);
    }

    #[test]
    fn links_carry_the_zone_chosen() {
        let view = View {
            zone: Some("Etc/GMT+5".to_owned()),
            ..view(day())
        };
        assert_eq!(
            view.link_to(true, Some(day())),
            "/o/demo/admin/book?view=week&date=2026-03-02&zone=Etc/GMT%2B5"
        );
    }

    #[test]
    fn rows_are_a_quarter_hour_unless_the_slot_step_needs_finer() {
        let rows = |step| row_minutes(&org(step));
        assert_eq!(
            [rows(15), rows(30), rows(10), rows(20), rows(5), rows(7)],
            [15, 15, 10, 10, 5, 5]
        );
    }
}
