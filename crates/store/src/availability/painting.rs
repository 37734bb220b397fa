//! [`Painting`], the grid editor's view of one week of a record: one [`WeekGrid`] per
//! schedule type and the portal overlay, turned back into compact blocks on save.

use std::collections::BTreeMap;

use slot_engine::{Resolution, WallTime, WeekGrid, Weekday};

use super::{Record, Span, day_name};
use crate::error::{Error, Result};

/// One layer of the grid editor: the cells of one schedule type, or the portal
/// overlay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Availability of the schedule type with this row id.
    ScheduleType(i64),
    /// The portal overlay ("Customize Portal Availability"): which available cells
    /// patients may book online.
    Portal,
}

/// A week as the grid editor paints it: the cells of each schedule type and the portal
/// overlay, at the organisation's resolution.
///
/// Painting never fails on a cell that two schedule types claim: the editor re-renders
/// what was posted, so the first claim is kept and the clash is remembered for
/// [`save_painting`](super::save_painting) to refuse with both names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Painting {
    resolution: Resolution,
    types: BTreeMap<i64, WeekGrid>,
    portal: Option<WeekGrid>,
    pub(super) clash: Option<Clash>,
}

/// A cell claimed by two schedule types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Clash {
    pub(super) day: Weekday,
    pub(super) minute: u32,
    pub(super) first: i64,
    pub(super) second: i64,
}

impl Painting {
    /// An empty week, with the overlay not customised.
    pub fn new(resolution: Resolution) -> Painting {
        Painting {
            resolution,
            types: BTreeMap::new(),
            portal: None,
            clash: None,
        }
    }

    /// The week of a stored record.
    pub fn of_record(record: &Record, resolution: Resolution) -> Painting {
        let mut painting = Painting::new(resolution);
        for b in &record.blocks {
            let grid = painting
                .types
                .entry(b.schedule_type_id)
                .or_insert_with(|| WeekGrid::new(resolution));
            for &day in &b.days {
                grid.fill(day, b.start, b.end);
            }
        }
        if let Some(spans) = &record.portal_blocks {
            let mut overlay = WeekGrid::new(resolution);
            for s in spans {
                for &day in &s.days {
                    overlay.fill(day, s.start, s.end);
                }
            }
            painting.portal = Some(overlay);
        }
        painting
    }

    /// The cell size it was painted at: the organisation's resolution.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Marks the cells of `[start, end)` on `day` in `layer`. Painting the overlay makes
    /// it customised. Refused when the range is not on the resolution grid.
    pub fn paint(
        &mut self,
        layer: Layer,
        day: Weekday,
        start: WallTime,
        end: WallTime,
    ) -> Result<()> {
        let r = self.resolution;
        if start >= end || !r.is_on_grid(start) || !r.is_on_grid(end) {
            return Err(Error::invalid(
                "cells",
                format!(
                    "{} {start}-{end} is not a range of whole {}-minute cells",
                    day_name(day),
                    r.minutes()
                ),
            ));
        }
        match layer {
            Layer::Portal => {
                self.portal
                    .get_or_insert_with(|| WeekGrid::new(r))
                    .fill(day, start, end);
            }
            Layer::ScheduleType(id) => {
                let step = r.minutes();
                let mut grid = self.types.remove(&id).unwrap_or_else(|| WeekGrid::new(r));
                for m in (start.minutes()..end.minutes()).step_by(step as usize) {
                    // The first claim on a cell wins, so that what was painted before
                    // stays as it was shown when the page is rendered again.
                    match self.types.iter().find(|(_, g)| g.is_set(day, m)) {
                        Some((&other, _)) => {
                            self.clash.get_or_insert(Clash {
                                day,
                                minute: m,
                                first: other,
                                second: id,
                            });
                        }
                        None => grid.fill(day, minute(m), minute(m + step)),
                    }
                }
                if !grid.is_empty() {
                    self.types.insert(id, grid);
                }
            }
        }
        Ok(())
    }

    /// Sets whether the overlay is customised. Turning it off forgets the overlay;
    /// turning it on keeps what was painted, or starts from nothing online.
    pub fn set_customised(&mut self, customised: bool) {
        if !customised {
            self.portal = None;
        } else if self.portal.is_none() {
            self.portal = Some(WeekGrid::new(self.resolution));
        }
    }

    /// Whether the overlay is customised.
    pub fn is_customised(&self) -> bool {
        self.portal.is_some()
    }

    /// The row ids of the schedule types painted, in id order.
    pub fn schedule_types(&self) -> impl Iterator<Item = i64> + '_ {
        self.types
            .iter()
            .filter(|(_, g)| !g.is_empty())
            .map(|(&id, _)| id)
    }

    /// The schedule type of the cell holding `minute` on `day`, if any.
    pub fn type_at(&self, day: Weekday, minute: u32) -> Option<i64> {
        self.types
            .iter()
            .find(|(_, g)| g.is_set(day, minute))
            .map(|(&id, _)| id)
    }

    /// Whether the cell holding `minute` on `day` is bookable online: available, and in
    /// the overlay when it is customised.
    pub fn is_online(&self, day: Weekday, minute: u32) -> bool {
        self.type_at(day, minute).is_some()
            && self.portal.as_ref().is_none_or(|g| g.is_set(day, minute))
    }

    /// The cells of a layer: a schedule type's, or the overlay cells that count (those
    /// inside availability; `None` when the overlay is not customised).
    pub fn layer(&self, layer: Layer) -> Option<WeekGrid> {
        match layer {
            Layer::ScheduleType(id) => self.types.get(&id).cloned(),
            Layer::Portal => self
                .portal
                .as_ref()
                .map(|overlay| overlay.intersection(&self.availability())),
        }
    }

    /// Every available cell, whatever its schedule type.
    pub fn availability(&self) -> WeekGrid {
        self.types
            .values()
            .fold(WeekGrid::new(self.resolution), |all, g| all.union(g))
    }

    /// The compact blocks of the week: per schedule type, each maximal run of a weekday,
    /// with identical runs on several weekdays merged into one block; ordered by first
    /// weekday, start and schedule type.
    pub fn blocks(&self) -> Vec<(i64, Span)> {
        let mut out: Vec<(i64, Span)> = self
            .types
            .iter()
            .flat_map(|(&id, grid)| compact(grid).into_iter().map(move |s| (id, s)))
            .collect();
        out.sort_by(|(ta, a), (tb, b)| (a.days[0], a.start, ta).cmp(&(b.days[0], b.start, tb)));
        out
    }

    /// The compact overlay, `None` when not customised. Overlay cells outside
    /// availability never count (rule 7), so they are left out: what is stored is
    /// what the editor shows.
    pub fn portal_blocks(&self) -> Option<Vec<Span>> {
        self.layer(Layer::Portal).map(|g| compact(&g))
    }
}

/// A wall-clock time from a minute the grid produced (never past 24:00).
pub(super) fn minute(m: u32) -> WallTime {
    WallTime::from_minutes(m).expect("grid minutes are within the day")
}

/// The maximal runs of a grid, with identical runs of several weekdays merged into one
/// span; ordered by first weekday, then start.
fn compact(grid: &WeekGrid) -> Vec<Span> {
    let mut by_run: BTreeMap<(u32, u32), Vec<Weekday>> = BTreeMap::new();
    for day in Weekday::ALL {
        for run in grid.runs(day) {
            by_run.entry(run).or_default().push(day);
        }
    }
    let mut spans: Vec<Span> = by_run
        .into_iter()
        .map(|((a, b), days)| Span {
            days,
            start: minute(a),
            end: minute(b),
        })
        .collect();
    spans.sort_by_key(|s| (s.days[0], s.start));
    spans
}

#[cfg(test)]
mod tests {
    use slot_engine::{Date, RecordDates};

    use super::super::Block;
    use super::*;

    fn r5() -> Resolution {
        Resolution::new(5).unwrap()
    }

    fn t(s: &str) -> WallTime {
        s.parse().unwrap()
    }

    fn blocks_of(painting: &Painting) -> Vec<Block> {
        painting
            .blocks()
            .into_iter()
            .map(|(id, s)| Block {
                days: s.days,
                start: s.start,
                end: s.end,
                schedule_type_id: id,
                schedule_type: format!("type-{id}"),
            })
            .collect()
    }

    fn record(painting: &Painting) -> Record {
        Record {
            id: 1,
            practitioner_id: 1,
            dates: RecordDates::new(Date::new(2026, 1, 1).unwrap(), None).unwrap(),
            clinic_id: None,
            slot_step_minutes: None,
            blocks: blocks_of(painting),
            portal_blocks: painting.portal_blocks(),
        }
    }

    fn text(spans: &[(i64, Span)]) -> Vec<String> {
        spans
            .iter()
            .map(|(id, s)| {
                let days: Vec<&str> = s.days.iter().map(|d| d.short_name()).collect();
                format!("{id} {} {}-{}", days.join(","), s.start, s.end)
            })
            .collect()
    }

    #[test]
    fn cells_painted_one_by_one_become_maximal_runs() {
        let mut p = Painting::new(r5());
        for (a, b) in [("09:00", "09:15"), ("09:15", "09:30"), ("09:30", "09:45")] {
            p.paint(Layer::ScheduleType(7), Weekday::Mon, t(a), t(b))
                .unwrap();
        }
        p.paint(Layer::ScheduleType(7), Weekday::Mon, t("11:00"), t("12:00"))
            .unwrap();
        assert_eq!(
            text(&p.blocks()),
            ["7 mon 09:00-09:45", "7 mon 11:00-12:00"]
        );
    }

    #[test]
    fn identical_runs_on_several_days_merge_into_one_block() {
        let mut p = Painting::new(r5());
        for day in [Weekday::Mon, Weekday::Wed, Weekday::Fri] {
            p.paint(Layer::ScheduleType(1), day, t("09:00"), t("12:00"))
                .unwrap();
        }
        p.paint(Layer::ScheduleType(1), Weekday::Tue, t("09:00"), t("11:00"))
            .unwrap();
        p.paint(Layer::ScheduleType(2), Weekday::Mon, t("13:00"), t("17:00"))
            .unwrap();
        p.paint(Layer::ScheduleType(2), Weekday::Sun, t("13:00"), t("24:00"))
            .unwrap();
        assert_eq!(
            text(&p.blocks()),
            [
                "1 mon,wed,fri 09:00-12:00",
                "2 mon 13:00-17:00",
                "1 tue 09:00-11:00",
                "2 sun 13:00-24:00",
            ]
        );
    }

    #[test]
    fn blocks_and_grid_round_trip() {
        let mut p = Painting::new(r5());
        let layers = [
            Layer::ScheduleType(3),
            Layer::ScheduleType(4),
            Layer::ScheduleType(9),
        ];
        // A deterministic scatter of ranges over the week, some touching, some not.
        let mut seed = 17_u32;
        for _ in 0..200 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let day = Weekday::ALL[(seed >> 8) as usize % 7];
            let start = (seed >> 12) % 280 * 5;
            let len = ((seed >> 20) % 8 + 1) * 5;
            let layer = layers[(seed >> 4) as usize % 3];
            // Only cells nobody claimed yet, so the painting has no clash.
            let free = (start..start + len).step_by(5).all(|m| {
                p.type_at(day, m)
                    .is_none_or(|t| Layer::ScheduleType(t) == layer)
            });
            if free {
                p.paint(
                    layer,
                    day,
                    t(&format!("{:02}:{:02}", start / 60, start % 60)),
                    {
                        let end = start + len;
                        t(&format!("{:02}:{:02}", end / 60, end % 60))
                    },
                )
                .unwrap();
            }
        }
        p.set_customised(true);
        p.paint(Layer::Portal, Weekday::Tue, t("00:00"), t("12:00"))
            .unwrap();
        let stored = record(&p);
        let back = Painting::of_record(&stored, r5());
        // The overlay comes back as the cells that count (inside availability).
        let mut expected = p.clone();
        expected.portal = p.layer(Layer::Portal);
        assert_eq!(back, expected);
        assert_eq!(back.blocks(), p.blocks());
        assert_eq!(back.portal_blocks(), p.portal_blocks());
        // Stored blocks never cover a cell twice: at most one block per cell and day.
        let mut seen = WeekGrid::new(r5());
        for b in &stored.blocks {
            for &d in &b.days {
                assert!(!seen.any_in(d, b.start, b.end), "{b:?}");
                seen.fill(d, b.start, b.end);
            }
        }
    }

    #[test]
    fn the_overlay_keeps_only_cells_inside_availability() {
        let mut p = Painting::new(r5());
        p.paint(Layer::ScheduleType(1), Weekday::Tue, t("08:00"), t("16:00"))
            .unwrap();
        assert_eq!(p.portal_blocks(), None, "not customised");
        assert!(p.is_online(Weekday::Tue, 8 * 60));
        p.set_customised(true);
        assert_eq!(p.portal_blocks(), Some(vec![]), "customised but empty");
        assert!(!p.is_online(Weekday::Tue, 8 * 60));
        p.paint(Layer::Portal, Weekday::Tue, t("15:00"), t("18:00"))
            .unwrap();
        let spans = p.portal_blocks().unwrap();
        assert_eq!(spans.len(), 1);
        assert_eq!((spans[0].start, spans[0].end), (t("15:00"), t("16:00")));
        p.set_customised(false);
        assert_eq!(p.portal_blocks(), None);
    }

    #[test]
    fn a_cell_claimed_by_two_schedule_types_is_remembered_and_the_first_claim_kept() {
        let mut p = Painting::new(r5());
        p.paint(Layer::ScheduleType(1), Weekday::Mon, t("09:00"), t("10:00"))
            .unwrap();
        p.paint(Layer::ScheduleType(2), Weekday::Mon, t("09:45"), t("11:00"))
            .unwrap();
        assert_eq!(
            p.clash,
            Some(Clash {
                day: Weekday::Mon,
                minute: 9 * 60 + 45,
                first: 1,
                second: 2
            })
        );
        assert_eq!(
            text(&p.blocks()),
            ["1 mon 09:00-10:00", "2 mon 10:00-11:00"]
        );
    }

    #[test]
    fn ranges_off_the_grid_are_refused() {
        let mut p = Painting::new(Resolution::new(15).unwrap());
        let err = p
            .paint(Layer::ScheduleType(1), Weekday::Mon, t("09:05"), t("09:20"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cells: Monday 09:05-09:20 is not a range of whole 15-minute cells"
        );
        assert!(
            p.paint(Layer::Portal, Weekday::Mon, t("10:00"), t("10:00"))
                .is_err()
        );
        assert_eq!(p, Painting::new(Resolution::new(15).unwrap()));
    }
}
