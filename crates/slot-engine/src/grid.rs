//! Weekly bit grids: which cells of a Monday-to-Sunday week are set.
//!
//! A week is cut into cells of [`Resolution`] minutes (rule 1 of `docs/scenario.md`);
//! a [`WeekGrid`] holds one bit per cell, Monday 00:00 first. Availability blocks of
//! one schedule type, and the portal overlay of a record, are each one grid. Questions
//! the search asks ("is this whole slot covered?", "where are the covered stretches on
//! Tuesdays?") are word-wide bit operations on it.
//!
//! ```
//! use slot_engine::{Resolution, WeekGrid, Weekday};
//! let r = Resolution::new(5).unwrap();
//! let mut physio = WeekGrid::new(r);
//! physio.fill(Weekday::Mon, "09:00".parse()?, "12:00".parse()?);
//! // A 45-minute slot from 11:15 touches the cells up to 11:55: covered.
//! assert!(physio.covers(Weekday::Mon, 11 * 60 + 15, 12 * 60));
//! // From 11:30 it would run past 12:00: not covered.
//! assert!(!physio.covers(Weekday::Mon, 11 * 60 + 30, 12 * 60 + 15));
//! # Ok::<(), slot_engine::ValueError>(())
//! ```

use std::fmt;

use bitvec::prelude::*;

use crate::calendar::{MINUTES_PER_DAY, WallTime, Weekday};
use crate::error::ValueError;

/// The cell size `r` in minutes: 1, 5 or 15.
///
/// ```
/// use slot_engine::Resolution;
/// let r = Resolution::new(5).unwrap();
/// assert_eq!(r.cells_per_day(), 288);
/// assert!(Resolution::new(10).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Resolution(u8);

impl Resolution {
    /// The resolution of `minutes`, which must be 1, 5 or 15: each divides an hour, so
    /// wall-clock and UTC cells line up in every zone whose offset is a multiple of 15
    /// minutes.
    ///
    /// ```
    /// use slot_engine::Resolution;
    /// assert_eq!(Resolution::new(15).unwrap().minutes(), 15);
    /// assert_eq!(Resolution::new(10).unwrap_err().to_string(), "resolution 10 is not one of 1, 5, 15");
    /// ```
    pub fn new(minutes: u32) -> Result<Self, ValueError> {
        match minutes {
            1 | 5 | 15 => Ok(Self(minutes as u8)),
            _ => Err(ValueError::new(format!(
                "resolution {minutes} is not one of 1, 5, 15"
            ))),
        }
    }

    /// The length of one cell in minutes: 1, 5 or 15.
    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }

    /// How many cells one day of a [`WeekGrid`] has: 1440, 288 or 96.
    pub fn cells_per_day(self) -> usize {
        (MINUTES_PER_DAY / self.minutes()) as usize
    }

    /// Whether `time` falls on a cell boundary.
    ///
    /// ```
    /// use slot_engine::{Resolution, WallTime};
    /// let r = Resolution::new(15).unwrap();
    /// assert!(r.is_on_grid("09:45".parse::<WallTime>().unwrap()));
    /// assert!(!r.is_on_grid("09:50".parse::<WallTime>().unwrap()));
    /// ```
    pub fn is_on_grid(self, time: WallTime) -> bool {
        time.minutes().is_multiple_of(self.minutes())
    }

    /// The cells touched by the wall-clock minutes `[start, end)`: from the cell holding
    /// `start` up to, not including, the first cell at or after `end`.
    pub(crate) fn cells_touched(self, start_minute: u32, end_minute: u32) -> (usize, usize) {
        if end_minute <= start_minute {
            // An empty interval touches nothing (it shares no stretch of positive length).
            return (0, 0);
        }
        let r = self.minutes();
        ((start_minute / r) as usize, end_minute.div_ceil(r) as usize)
    }
}

/// One bit per cell of a Monday-to-Sunday week.
///
/// ```
/// use slot_engine::{Resolution, WeekGrid, Weekday};
/// let r = Resolution::new(15).unwrap();
/// let mut grid = WeekGrid::new(r);
/// grid.fill(Weekday::Mon, "09:00".parse()?, "12:00".parse()?);
/// grid.fill(Weekday::Mon, "13:00".parse()?, "14:00".parse()?);
/// assert!(grid.covers(Weekday::Mon, 9 * 60, 10 * 60));
/// assert!(!grid.covers(Weekday::Mon, 11 * 60 + 30, 13 * 60 + 30));
/// assert_eq!(grid.to_string(), "mon 09:00-12:00 13:00-14:00");
/// # Ok::<(), slot_engine::ValueError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WeekGrid {
    resolution: Resolution,
    bits: BitBox<u64, Lsb0>,
}

impl WeekGrid {
    /// A grid of `resolution` with no cell set; [`WeekGrid::fill`] and
    /// [`WeekGrid::parse`] set cells.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid};
    /// let grid = WeekGrid::new(Resolution::new(15).unwrap());
    /// assert!(grid.is_empty());
    /// assert_eq!(grid.to_string(), "");
    /// ```
    pub fn new(resolution: Resolution) -> Self {
        Self {
            resolution,
            bits: bitbox![u64, Lsb0; 0; 7 * resolution.cells_per_day()],
        }
    }

    /// The cell size the grid was made with; two grids combine only at the same one.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// The cells of `day`, one bit each from midnight.
    pub(crate) fn day(&self, day: Weekday) -> &BitSlice<u64, Lsb0> {
        let n = self.resolution.cells_per_day();
        &self.bits[day.index() * n..(day.index() + 1) * n]
    }

    fn day_mut(&mut self, day: Weekday) -> &mut BitSlice<u64, Lsb0> {
        let n = self.resolution.cells_per_day();
        &mut self.bits[day.index() * n..(day.index() + 1) * n]
    }

    /// Sets every cell touched by `[start, end)` on `day`.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid, Weekday};
    /// let mut grid = WeekGrid::new(Resolution::new(15).unwrap());
    /// grid.fill(Weekday::Sat, "08:00".parse()?, "08:05".parse()?); // takes the whole 08:00 cell
    /// assert_eq!(grid.to_string(), "sat 08:00-08:15");
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn fill(&mut self, day: Weekday, start: WallTime, end: WallTime) {
        let (a, b) = self
            .resolution
            .cells_touched(start.minutes(), end.minutes().max(start.minutes()));
        self.day_mut(day)[a..b].fill(true);
    }

    /// Whether any cell touched by `[start, end)` on `day` is already set.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid, Weekday};
    /// let grid = WeekGrid::parse(Resolution::new(5).unwrap(), "mon 09:00-10:00")?;
    /// assert!(grid.any_in(Weekday::Mon, "09:55".parse()?, "11:00".parse()?));
    /// assert!(!grid.any_in(Weekday::Mon, "10:00".parse()?, "11:00".parse()?));
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn any_in(&self, day: Weekday, start: WallTime, end: WallTime) -> bool {
        let (a, b) = self
            .resolution
            .cells_touched(start.minutes(), end.minutes().max(start.minutes()));
        self.day(day)[a..b].any()
    }

    /// Whether every cell touched by the wall-clock minutes `[start, end)` of `day` is
    /// set. Minutes past 24:00 are never covered; an empty interval is.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid, Weekday};
    /// let grid = WeekGrid::parse(Resolution::new(15).unwrap(), "mon 09:00-12:00")?;
    /// assert!(grid.covers(Weekday::Mon, 9 * 60, 12 * 60));
    /// assert!(grid.covers(Weekday::Mon, 11 * 60, 11 * 60 + 50)); // ends inside the last cell
    /// assert!(!grid.covers(Weekday::Mon, 11 * 60, 12 * 60 + 1));
    /// assert!(!grid.covers(Weekday::Tue, 9 * 60, 10 * 60));
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn covers(&self, day: Weekday, start_minute: u32, end_minute: u32) -> bool {
        if end_minute > MINUTES_PER_DAY {
            return false;
        }
        let (a, b) = self.resolution.cells_touched(start_minute, end_minute);
        a >= b || self.day(day)[a..b].all()
    }

    /// Whether the cell holding `minute` (< 1440) of `day` is set.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid, Weekday};
    /// let grid = WeekGrid::parse(Resolution::new(15).unwrap(), "wed 09:00-09:15")?;
    /// assert!(grid.is_set(Weekday::Wed, 9 * 60 + 14));
    /// assert!(!grid.is_set(Weekday::Wed, 9 * 60 + 15));
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn is_set(&self, day: Weekday, minute: u32) -> bool {
        let cell = (minute / self.resolution.minutes()) as usize;
        self.day(day).get(cell).is_some_and(|bit| *bit)
    }

    /// The maximal stretches of set cells on `day`, as `(start, end)` minutes after
    /// midnight, earliest first.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid, Weekday};
    /// let grid = WeekGrid::parse(Resolution::new(5).unwrap(), "tue 08:00-10:00 10:00-11:00 13:00-24:00").unwrap();
    /// let runs: Vec<_> = grid.runs(Weekday::Tue).collect();
    /// assert_eq!(runs, [(480, 660), (780, 1440)]);
    /// ```
    pub fn runs(&self, day: Weekday) -> Runs<'_> {
        Runs {
            bits: self.day(day),
            offset: 0,
            minutes_per_cell: self.resolution.minutes(),
        }
    }

    /// The cells set in both grids: how a schedule type's availability and a portal
    /// overlay give what is bookable online.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid};
    /// let r = Resolution::new(15).unwrap();
    /// let physio = WeekGrid::parse(r, "mon 09:00-12:00; wed 09:00-12:00")?;
    /// let overlay = WeekGrid::parse(r, "mon 10:00-14:00")?;
    /// assert_eq!(physio.intersection(&overlay).to_string(), "mon 10:00-12:00");
    /// assert_eq!(physio.union(&overlay).to_string(), "mon 09:00-14:00; wed 09:00-12:00");
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn intersection(&self, other: &WeekGrid) -> WeekGrid {
        debug_assert_eq!(self.resolution, other.resolution);
        let mut bits = self.bits.clone();
        bits &= &other.bits;
        WeekGrid {
            resolution: self.resolution,
            bits,
        }
    }

    /// The cells set in either grid: for instance every cell a service may be booked
    /// in, from the grids of its schedule types in a record. Both grids must have the
    /// same resolution.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid};
    /// let r = Resolution::new(15).unwrap();
    /// let physio = WeekGrid::parse(r, "tue 09:00-11:00")?;
    /// let massage = WeekGrid::parse(r, "tue 11:00-12:00; thu 15:00-18:00")?;
    /// // Adjacent cells of the two join up in the union, though no slot spans both types.
    /// assert_eq!(physio.union(&massage).to_string(), "tue 09:00-12:00; thu 15:00-18:00");
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn union(&self, other: &WeekGrid) -> WeekGrid {
        debug_assert_eq!(self.resolution, other.resolution);
        let mut bits = self.bits.clone();
        bits |= &other.bits;
        WeekGrid {
            resolution: self.resolution,
            bits,
        }
    }

    /// Whether no cell is set: an empty overlay takes a whole record out of the portal.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid, Weekday};
    /// let mut grid = WeekGrid::new(Resolution::new(5).unwrap());
    /// grid.fill(Weekday::Mon, "09:00".parse()?, "09:00".parse()?); // an empty interval sets nothing
    /// assert!(grid.is_empty());
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.bits.not_any()
    }

    /// The number of set cells.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid};
    /// let grid = WeekGrid::parse(Resolution::new(5).unwrap(), "tue 09:00-10:00")?;
    /// assert_eq!(grid.count(), 12);
    /// assert!(!grid.is_empty());
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn count(&self) -> usize {
        self.bits.count_ones()
    }

    /// Builds a grid from its text form (see `Display`): `;`-separated days, each a day
    /// name followed by `HH:MM-HH:MM` ranges on the grid. Meant for tests and tools.
    ///
    /// ```
    /// use slot_engine::{Resolution, WeekGrid, Weekday};
    /// let r = Resolution::new(15).unwrap();
    /// let grid = WeekGrid::parse(r, "mon 09:00-12:00; fri 13:00-24:00")?;
    /// assert!(grid.covers(Weekday::Fri, 23 * 60, 24 * 60));
    /// assert!(WeekGrid::parse(r, "mon 09:00-09:10").is_err()); // off the 15-minute grid
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn parse(resolution: Resolution, text: &str) -> Result<WeekGrid, ValueError> {
        let mut grid = WeekGrid::new(resolution);
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let mut words = part.split_whitespace();
            let name = words.next().unwrap_or_default();
            let day = Weekday::ALL
                .into_iter()
                .find(|d| d.short_name() == name)
                .ok_or_else(|| ValueError::new(format!("unknown day {name:?}")))?;
            for range in words {
                let (a, b) = range.split_once('-').ok_or_else(|| {
                    ValueError::new(format!("expected HH:MM-HH:MM, got {range:?}"))
                })?;
                let (a, b): (WallTime, WallTime) = (a.parse()?, b.parse()?);
                if a >= b || !resolution.is_on_grid(a) || !resolution.is_on_grid(b) {
                    return Err(ValueError::new(format!("bad range {range:?}")));
                }
                grid.fill(day, a, b);
            }
        }
        Ok(grid)
    }
}

impl fmt::Display for WeekGrid {
    /// `mon 09:00-12:00 13:00-14:00; wed 10:00-11:00`: each day with set cells, its runs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first_day = true;
        for day in Weekday::ALL {
            let mut runs = self.runs(day).peekable();
            if runs.peek().is_none() {
                continue;
            }
            if !first_day {
                f.write_str("; ")?;
            }
            first_day = false;
            f.write_str(day.short_name())?;
            for (a, b) in runs {
                write!(f, " {}-{}", minute_text(a), minute_text(b))?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for WeekGrid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WeekGrid(r={}, {self})", self.resolution.minutes())
    }
}

fn minute_text(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The iterator [`WeekGrid::runs`] returns: the maximal stretches of set cells of one
/// day, as `(start, end)` minutes after midnight, earliest first.
///
/// ```
/// use slot_engine::{Resolution, WeekGrid, Weekday};
/// let grid = WeekGrid::parse(Resolution::new(1).unwrap(), "sun 00:00-00:01 23:59-24:00")?;
/// let mut runs = grid.runs(Weekday::Sun);
/// assert_eq!(runs.next(), Some((0, 1)));
/// assert_eq!(runs.next(), Some((1439, 1440)));
/// assert_eq!(runs.next(), None);
/// # Ok::<(), slot_engine::ValueError>(())
/// ```
#[derive(Debug)]
pub struct Runs<'a> {
    bits: &'a BitSlice<u64, Lsb0>,
    offset: usize,
    minutes_per_cell: u32,
}

impl Iterator for Runs<'_> {
    type Item = (u32, u32);

    fn next(&mut self) -> Option<(u32, u32)> {
        let start = self.bits.first_one()?;
        let len = self.bits[start..]
            .first_zero()
            .unwrap_or(self.bits.len() - start);
        let (a, b) = (self.offset + start, self.offset + start + len);
        self.bits = &self.bits[start + len..];
        self.offset = b;
        Some((
            a as u32 * self.minutes_per_cell,
            b as u32 * self.minutes_per_cell,
        ))
    }
}

#[cfg(test)]
mod tests;
