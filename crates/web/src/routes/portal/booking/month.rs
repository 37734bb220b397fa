//! The month calendar of the slots page, as a pure layout: which month is asked for,
//! the weeks of that month (Monday first) with each day open, closed or chosen. The
//! page fills it from one engine query over the month; nothing here reads the store.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate};

use crate::error::AppError;

/// The first day of the month a `month` parameter names (`YYYY-MM`); anything else is
/// refused naming the field.
pub(super) fn parse_month(text: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
        .ok()
        .filter(|_| text.trim().len() == 7)
        .ok_or_else(|| AppError::invalid("month", "must be a month YYYY-MM"))
}

/// The first day of `date`'s month.
pub(super) fn first_of(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The last day of the month that starts on `first`.
pub(super) fn last_of(first: NaiveDate) -> NaiveDate {
    next_month(first).pred_opt().unwrap_or(first)
}

/// The first day of the month after the one that starts on `first`.
pub(super) fn next_month(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first)
}

/// The first day of the month before the one that starts on `first`.
pub(super) fn previous_month(first: NaiveDate) -> NaiveDate {
    first
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(first)
}

/// One day of the calendar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CalendarDay {
    /// The date, `YYYY-MM-DD` (the link's `day`).
    pub date: String,
    /// The day of the month, `1` to `31`.
    pub number: u32,
    /// `Tuesday 15 December`, for screen readers.
    pub label: String,
    /// Whether it has open times (and so is a link).
    pub open: bool,
    /// Whether it is the day whose times the page shows.
    pub chosen: bool,
    /// Whether it is today in the clinics' zone.
    pub today: bool,
}

/// A week row: seven cells, `None` for the days of the months either side.
pub(super) type Week = Vec<Option<CalendarDay>>;

/// The weeks of the month that starts on `first`, Monday first, with the days in
/// `open` marked and `chosen` chosen.
pub(super) fn weeks(
    first: NaiveDate,
    open: &BTreeSet<NaiveDate>,
    chosen: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<Week> {
    let last = last_of(first);
    let lead = first.weekday().num_days_from_monday() as usize;
    let mut cells: Vec<Option<CalendarDay>> = vec![None; lead];
    let mut day = first;
    while day <= last {
        cells.push(Some(CalendarDay {
            date: day.to_string(),
            number: day.day(),
            label: day.format("%A %-d %B").to_string(),
            open: open.contains(&day),
            chosen: chosen == Some(day),
            today: day == today,
        }));
        day += Duration::days(1);
    }
    while !cells.len().is_multiple_of(7) {
        cells.push(None);
    }
    cells.chunks(7).map(<[_]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// The calendar as text: `.` outside the month, `n` a closed day, `n*` open,
    /// `[n]` chosen.
    fn draw(weeks: &[Week]) -> String {
        weeks
            .iter()
            .map(|w| {
                w.iter()
                    .map(|c| match c {
                        None => ".".to_owned(),
                        Some(c) if c.chosen => format!("[{}]", c.number),
                        Some(c) if c.open => format!("{}*", c.number),
                        Some(c) => c.number.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_month_starts_on_its_weekday_and_fills_its_last_week() {
        // December 2026 starts on a Tuesday and ends on a Thursday.
        let open = BTreeSet::from([d("2026-12-02"), d("2026-12-31")]);
        let got = weeks(
            d("2026-12-01"),
            &open,
            Some(d("2026-12-02")),
            d("2026-12-01"),
        );
        assert_eq!(
            draw(&got),
            ". 1 [2] 3 4 5 6\n\
             7 8 9 10 11 12 13\n\
             14 15 16 17 18 19 20\n\
             21 22 23 24 25 26 27\n\
             28 29 30 31* . . ."
        );
        assert!(got[0][1].as_ref().unwrap().today);
        assert_eq!(got[0][2].as_ref().unwrap().label, "Wednesday 2 December");
    }

    #[test]
    fn a_february_that_starts_on_monday_is_four_weeks() {
        let got = weeks(d("2027-02-01"), &BTreeSet::new(), None, d("2026-12-01"));
        assert_eq!(got.len(), 4);
        assert!(got.iter().flatten().flatten().all(|c| !c.open && !c.chosen));
    }

    #[test]
    fn months_parse_and_step() {
        assert_eq!(parse_month("2026-12").unwrap(), d("2026-12-01"));
        for bad in ["2026-13", "2026-1", "2026-12-01", "", "december"] {
            assert!(parse_month(bad).is_err(), "{bad:?}");
        }
        assert_eq!(next_month(d("2026-12-01")), d("2027-01-01"));
        assert_eq!(previous_month(d("2027-01-01")), d("2026-12-01"));
        assert_eq!(last_of(d("2028-02-01")), d("2028-02-29"));
        assert_eq!(first_of(d("2026-12-17")), d("2026-12-01"));
    }
}
