//! The book's grid: days, columns and rows laid out from appointments and availability.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, Timelike};
use chrono_tz::Tz;
use store::Organisation;
use store::book::{Backdrop, Choices, Entry};

use crate::clinic_time::{local, time_span};

/// What the book shows and how: the filters, carried by every link.
#[derive(Clone, Debug)]
pub(super) struct View {
    pub(super) slug: String,
    pub(super) week: bool,
    pub(super) date: NaiveDate,
    pub(super) clinic: Option<i64>,
    pub(super) practitioner: Option<i64>,
    pub(super) cancelled: bool,
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
        }
        if self.cancelled {
            url.push_str("&cancelled=1");
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
    pub(super) time: String,
    pub(super) patient: String,
    pub(super) what: String,
    pub(super) clinic: String,
    pub(super) status: String,
    pub(super) cancelled: bool,
    pub(super) highlight: bool,
}

/// A cell of the grid: free time (its class tells availability), or appointments
/// spanning `rowspan` rows.
#[derive(Debug)]
pub(super) struct Cell {
    pub(super) class: String,
    pub(super) title: String,
    pub(super) rowspan: usize,
    pub(super) items: Vec<Item>,
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
fn row_minutes(org: &Organisation) -> i64 {
    match org.slot_step_minutes {
        s if s % 15 == 0 => 15,
        s if s % 10 == 0 => 10,
        _ => 5,
    }
}

fn item_of(
    entry: &Entry,
    class: String,
    can_open: bool,
    slug: &str,
    highlight: Option<i64>,
    clinics: usize,
) -> Item {
    Item {
        link: if can_open {
            format!("/o/{slug}/admin/book/appointments/{}", entry.id)
        } else {
            String::new()
        },
        class,
        time: time_span(entry),
        patient: entry
            .patient_name()
            .unwrap_or_else(|| "No patient".to_owned()),
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
    }
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
    }
    struct Placed<'e> {
        a: i64,
        b: i64,
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
                    clip(b.start_ns, b.end_ns, tz, c.date).map(|(a, e)| Stretch {
                        a,
                        b: e,
                        schedule_type: b.schedule_type_id,
                        clinic: b.clinic_id,
                        online: b.online,
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
                    clip(e.start_ns, e.end_ns, tz, c.date).map(|(a, b)| Placed { a, b, entry: e })
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
            first = first.min(x.a);
            last = last.max(x.b);
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
        // Appointments that share a row are drawn in one cell, stacked, so a
        // double-booking is visible rather than hidden behind another.
        let mut items: Vec<(usize, usize, &Entry)> = placed[ci]
            .iter()
            .map(|p| {
                let start = row_of(p.a);
                (start, row_end(p.b).max(start + 1).min(rows_count), p.entry)
            })
            .collect();
        items.sort_by_key(|(start, _, e)| (*start, e.start_ns, e.id));
        let mut groups: Vec<(usize, usize, Vec<&Entry>)> = Vec::new();
        for (start, end, entry) in items {
            match groups.last_mut() {
                Some((_, group_end, members)) if start < *group_end => {
                    *group_end = (*group_end).max(end);
                    members.push(entry);
                }
                _ => groups.push((start, end, vec![entry])),
            }
        }
        let mut holidays_here: Vec<i64> = Vec::new();
        let date_text = c.date.to_string();
        for s in &stretches[ci] {
            let closed = backdrop
                .holidays
                .iter()
                .any(|h| h.clinic_id == s.clinic && h.date.to_string() == date_text);
            if closed && !holidays_here.contains(&s.clinic) {
                holidays_here.push(s.clinic);
            }
        }
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
                for entry in members {
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
                    let item = item_of(
                        entry,
                        class,
                        can_book,
                        &view.slug,
                        highlight,
                        choices.clinics.len(),
                    );
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
                    rowspan: end - start,
                    items: cell_items,
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
                .find(|s| !s.online && s.a <= minute && minute < s.b);
            let online = stretches[ci]
                .iter()
                .any(|s| s.online && s.a <= minute && minute < s.b);
            let off = offs[ci].iter().any(|&(a, b)| a <= minute && minute < b);
            let (class, title) = if off {
                ("off".to_owned(), "Time off".to_owned())
            } else if let Some(s) = covering {
                let name = names.get(&s.schedule_type).copied().unwrap_or("");
                if holidays_here.contains(&s.clinic) {
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
                }
            } else {
                (String::new(), String::new())
            };
            cells.push(Some(Cell {
                class,
                title,
                rowspan: 1,
                items: Vec::new(),
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

#[cfg(test)]
mod tests {
    use store::book::{Block, PractitionerChoice, ScheduleTypeChoice};
    use store::clinic::Clinic;

    use super::*;

    const TORONTO: Tz = chrono_tz::America::Toronto;

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
            auto_accept_portal_bookings: false,
            cancellation_notice_minutes: 0,
            portal_welcome: String::new(),
            video_link: String::new(),
            host: None,
            max_appointment_ns: 0,
            created_at_ns: 0,
        }
    }

    fn choices() -> Choices {
        Choices {
            clinics: vec![Clinic {
                id: 1,
                key: "c".to_owned(),
                name: "Downtown".to_owned(),
                timezone: "America/Toronto".to_owned(),
                address: String::new(),
                phone: String::new(),
            }],
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
            }],
        }
    }

    fn view(date: NaiveDate) -> View {
        View {
            slug: "demo".to_owned(),
            week: false,
            date,
            clinic: None,
            practitioner: None,
            cancelled: false,
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
        }
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
    fn rows_are_a_quarter_hour_unless_the_slot_step_needs_finer() {
        let rows = |step| row_minutes(&org(step));
        assert_eq!(
            [rows(15), rows(30), rows(10), rows(20), rows(5), rows(7)],
            [15, 15, 10, 10, 5, 5]
        );
    }
}
