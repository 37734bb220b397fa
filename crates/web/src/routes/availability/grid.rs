//! The grid editor's pure layout: from a [`Painting`] to the rows and cells the page
//! shows, the labels and classes of each block, and the `cell` fields the form posts
//! (`LAYER/DAY/HH:MM-HH:MM`) both ways. No I/O: its unit tests sit below.

use slot_engine::{WallTime, WeekGrid, Weekday};
use store::availability::{Layer, Painting, ScheduleTypeSummary, day_name};

use super::weekday;

/// The grid as the page shows it.
#[derive(Debug)]
pub(super) struct GridView {
    /// The layer painted: a schedule type's row id, or `portal`.
    pub(super) layer: String,
    /// Its name, for the status line.
    pub(super) layer_name: String,
    /// Whether the layer painted is the portal overlay.
    pub(super) portal_mode: bool,
    /// What the form posts as `portal_customised`: saving from the portal layer
    /// customises the overlay.
    pub(super) customised: bool,
    /// Whether the overlay shown is customised (for `grid.js`).
    pub(super) overlay_customised: bool,
    /// Whether the rows take the whole day, not only working hours.
    pub(super) all_hours: bool,
    /// The organisation's cell size in minutes, and the rows' height (the record's slot
    /// step), for `grid.js`.
    pub(super) resolution: u32,
    pub(super) step: i64,
    pub(super) rows: Vec<RowView>,
    /// Cell values of everything the checkboxes do not show.
    pub(super) hidden: Vec<String>,
}

impl GridView {
    /// The query string that shows the same layer and hours.
    pub(super) fn query(&self, layer: impl std::fmt::Display) -> String {
        if self.all_hours {
            format!("?layer={layer}&hours=all")
        } else {
            format!("?layer={layer}")
        }
    }

    /// Whether `layer` is the one painted.
    pub(super) fn is_layer(&self, layer: impl std::fmt::Display) -> bool {
        self.layer == layer.to_string()
    }
}

/// One row of the grid: a slot step of every weekday.
#[derive(Debug)]
pub(super) struct RowView {
    pub(super) time: String,
    /// Whether the row starts a full hour (drawn with a stronger line).
    pub(super) hour: bool,
    pub(super) cells: Vec<CellView>,
}

/// One block of the grid: a day's slot step, with its checkbox when the layer painted
/// can take it.
#[derive(Debug)]
pub(super) struct CellView {
    pub(super) day: &'static str,
    pub(super) start: u32,
    pub(super) end: u32,
    pub(super) class: String,
    pub(super) label: String,
    /// The checkbox's value, when the block can be painted in this layer.
    pub(super) value: Option<String>,
    pub(super) checked: bool,
}

/// A layer from the page's `layer` field or query: `p` or `portal` for the overlay, a
/// schedule type's row id otherwise.
pub(super) fn parse_layer(text: &str) -> Option<Layer> {
    match text {
        "p" | "portal" => Some(Layer::Portal),
        id => id.parse().ok().map(Layer::ScheduleType),
    }
}

/// The layer as a cell field spells it.
fn layer_token(layer: Layer) -> String {
    match layer {
        Layer::Portal => "p".to_owned(),
        Layer::ScheduleType(id) => id.to_string(),
    }
}

/// `12/mon/09:00-09:15`.
fn cell_value(layer: Layer, day: Weekday, start: u32, end: u32) -> String {
    format!(
        "{}/{}/{}-{}",
        layer_token(layer),
        day.short_name(),
        wall(start),
        wall(end)
    )
}

/// A minute of the day as a wall-clock time; minutes past the day are 24:00.
fn wall(minute: u32) -> WallTime {
    WallTime::from_minutes(minute.min(1440)).unwrap_or(WallTime::END_OF_DAY)
}

/// A posted `cell` field: its layer, day and range; refused under `cells` when it is not
/// one the page could have written.
pub(super) fn parse_cell(
    value: &str,
) -> Result<(Layer, Weekday, WallTime, WallTime), store::Error> {
    let bad = || store::Error::invalid("cells", format!("{value:?} is not a cell of the grid"));
    let mut parts = value.split('/');
    let (Some(layer), Some(day), Some(range), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let layer = parse_layer(layer).ok_or_else(bad)?;
    let day = weekday(day).ok_or_else(bad)?;
    let (a, b) = range.split_once('-').ok_or_else(bad)?;
    let start: WallTime = a.parse().map_err(|_| bad())?;
    let end: WallTime = b.parse().map_err(|_| bad())?;
    Ok((layer, day, start, end))
}

/// The cells in `layer`: a schedule type's (the cells whose type it is), or the
/// overlay's (the cells bookable online).
fn layer_cells(painting: &Painting, layer: Layer) -> WeekGrid {
    let r = painting.resolution().minutes();
    let mut cells = WeekGrid::new(painting.resolution());
    for day in Weekday::ALL {
        for m in (0..1440).step_by(r as usize) {
            let set = match layer {
                Layer::ScheduleType(t) => painting.type_at(day, m) == Some(t),
                Layer::Portal => painting.is_online(day, m),
            };
            if set {
                cells.fill(day, wall(m), wall(m + r));
            }
        }
    }
    cells
}

/// The cell fields of `cells` in `layer`: one per maximal run of a day, Monday first.
fn run_values(layer: Layer, cells: &WeekGrid) -> impl Iterator<Item = String> + '_ {
    Weekday::ALL.into_iter().flat_map(move |day| {
        cells
            .runs(day)
            .map(move |(a, b)| cell_value(layer, day, a, b))
    })
}

/// The label and classes of one block of the grid; `grid.js` computes the same.
fn describe(
    painting: &Painting,
    names: &[ScheduleTypeSummary],
    day: Weekday,
    start: u32,
    end: u32,
) -> (String, String) {
    let r = painting.resolution().minutes();
    let cells: Vec<(Option<i64>, bool)> = (start..end)
        .step_by(r as usize)
        .map(|m| (painting.type_at(day, m), painting.is_online(day, m)))
        .collect();
    let mut types: Vec<i64> = Vec::new();
    for (t, _) in &cells {
        if let Some(t) = t
            && !types.contains(t)
        {
            types.push(*t);
        }
    }
    let available = cells.iter().filter(|(t, _)| t.is_some()).count();
    let online = cells.iter().filter(|(_, o)| *o).count();
    let name = |t: &i64| {
        names
            .iter()
            .find(|n| n.id == *t)
            .map_or_else(|| format!("schedule type {t}"), |n| n.name.clone())
    };
    let when = format!("{} {}", day_name(day), wall(start));
    if types.is_empty() {
        return (format!("{when}, empty"), "cell".to_owned());
    }
    let mut class = format!("cell painted t-{}", types[0]);
    let whole = available == cells.len() && types.len() == 1;
    let names: Vec<String> = types.iter().map(name).collect();
    let mut label = if whole {
        format!("{when}, {}", names[0])
    } else {
        class.push_str(" part");
        format!("{when}, partly {}", names.join(" and "))
    };
    if online == available {
        class.push_str(" online");
        label.push_str(", online");
    } else if online > 0 {
        class.push_str(" part-online");
        label.push_str(", partly online");
    } else {
        // Only a customised overlay leaves available blocks off the portal: a block
        // painted since is not online until it is put online, and says so.
        class.push_str(" offline");
        label.push_str(", in clinic only, not online");
    }
    (label, class)
}

/// The rows shown: at the slot step, from 07:00 to 19:00 or wider to take in every
/// available cell, or the whole day.
fn row_range(painting: &Painting, step: u32, all_hours: bool) -> (u32, u32) {
    if all_hours {
        return (0, 1440);
    }
    let all = painting.availability();
    let (mut first, mut last) = (7 * 60, 19 * 60);
    for day in Weekday::ALL {
        for (a, b) in all.runs(day) {
            first = first.min(a);
            last = last.max(b);
        }
    }
    (
        first / step * step,
        last.div_ceil(step).saturating_mul(step).min(1440),
    )
}

/// The grid of `painting` with `layer` painted: `assigned` names the schedule types,
/// `step` is the record's slot step (the rows' height), `all_hours` shows the whole day.
pub(super) fn grid_view(
    painting: &Painting,
    assigned: &[ScheduleTypeSummary],
    layer: Layer,
    step: i64,
    all_hours: bool,
) -> GridView {
    let r = painting.resolution().minutes();
    let step = u32::try_from(step).unwrap_or(r).clamp(r, 1440);
    let (first, last) = row_range(painting, step, all_hours);
    let portal_mode = layer == Layer::Portal;
    let painted = layer_cells(painting, layer);
    // The cells no ticked box stands for: those outside the rows shown, and those of the
    // blocks left unticked (filled in below).
    let mut unticked = WeekGrid::new(painting.resolution());
    for day in Weekday::ALL {
        unticked.fill(day, wall(0), wall(first / r * r));
        unticked.fill(day, wall(last / r * r), WallTime::END_OF_DAY);
    }
    let mut rows = Vec::new();
    let mut start = first;
    while start < last {
        let end = (start + step).min(1440);
        let cells = Weekday::ALL
            .iter()
            .map(|&day| {
                let (label, class) = describe(painting, assigned, day, start, end);
                // The block's cells, by index.
                let (a, b) = (start / r, end / r);
                let in_layer = |i: u32| painted.is_set(day, i * r);
                let paintable = !portal_mode
                    || (start..end)
                        .step_by(r as usize)
                        .any(|m| painting.type_at(day, m).is_some());
                let checked = if portal_mode {
                    // Every available cell of the block online.
                    paintable
                        && (a..b).all(|i| in_layer(i) || painting.type_at(day, i * r).is_none())
                } else {
                    (a..b).all(in_layer)
                };
                if !checked {
                    // A ticked checkbox stands for its cells: no hidden input repeats them.
                    unticked.fill(day, wall(a * r), wall(b * r));
                }
                CellView {
                    day: day.short_name(),
                    start,
                    end,
                    class,
                    label,
                    value: paintable.then(|| cell_value(layer, day, start, end)),
                    checked,
                }
            })
            .collect();
        rows.push(RowView {
            time: wall(start).to_string(),
            hour: start % 60 == 0,
            cells,
        });
        start = end;
    }
    // Every other cell of the painted layer, and every cell of the other layers, rides
    // along in hidden inputs so that saving one layer keeps the rest.
    let mut hidden: Vec<String> = run_values(layer, &painted.intersection(&unticked)).collect();
    let mut others: Vec<Layer> = painting.schedule_types().map(Layer::ScheduleType).collect();
    if painting.is_customised() {
        others.push(Layer::Portal);
    }
    for other in others.into_iter().filter(|l| *l != layer) {
        hidden.extend(run_values(other, &layer_cells(painting, other)));
    }
    let layer_name = match layer {
        Layer::Portal => "Customize Portal Availability".to_owned(),
        Layer::ScheduleType(id) => assigned
            .iter()
            .find(|t| t.id == id)
            .map_or_else(String::new, |t| t.name.clone()),
    };
    GridView {
        layer: match layer {
            Layer::Portal => "portal".to_owned(),
            Layer::ScheduleType(id) => id.to_string(),
        },
        layer_name,
        portal_mode,
        // Painting the overlay makes it customised: the portal layer starts from what
        // is online now (everything available, when not customised yet).
        customised: painting.is_customised() || portal_mode,
        overlay_customised: painting.is_customised(),
        all_hours,
        resolution: r,
        step: i64::from(step),
        rows,
        hidden,
    }
}

#[cfg(test)]
mod tests {
    use slot_engine::Resolution;

    use super::*;

    fn painting(minutes: u32, cells: &[(Layer, Weekday, &str, &str)]) -> Painting {
        let mut painting = Painting::new(Resolution::new(minutes).unwrap());
        for &(layer, day, a, b) in cells {
            painting
                .paint(layer, day, a.parse().unwrap(), b.parse().unwrap())
                .unwrap();
        }
        painting
    }

    fn summary(id: i64, name: &str) -> ScheduleTypeSummary {
        ScheduleTypeSummary {
            id,
            key: name.to_lowercase(),
            name: name.into(),
            code: None,
            clinic_id: None,
            background_color: "#cfe8ff".into(),
            font_color: "#0b2a4a".into(),
        }
    }

    const PHYSIO: Layer = Layer::ScheduleType(1);
    const MASSAGE: Layer = Layer::ScheduleType(2);

    #[test]
    fn cell_values_round_trip() {
        let value = cell_value(Layer::ScheduleType(12), Weekday::Mon, 540, 555);
        assert_eq!(value, "12/mon/09:00-09:15");
        let (layer, day, a, b) = parse_cell(&value).unwrap();
        assert_eq!(
            (layer, day, a.minutes(), b.minutes()),
            (Layer::ScheduleType(12), Weekday::Mon, 540, 555)
        );
        assert_eq!(parse_cell("p/sun/23:45-24:00").unwrap().0, Layer::Portal);
        for bad in [
            "",
            "12/mon",
            "12/mom/09:00-09:15",
            "x/mon/09:00-09:15",
            "12/mon/9:00-09:15",
            "1/mon/09:00-09:15/x",
        ] {
            assert!(parse_cell(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn runs_are_maximal() {
        // Cells 00:05, 00:10 and 00:20 of a 5-minute grid: two runs.
        let p = painting(
            5,
            &[
                (PHYSIO, Weekday::Mon, "00:05", "00:15"),
                (PHYSIO, Weekday::Mon, "00:20", "00:25"),
            ],
        );
        let values: Vec<String> = run_values(PHYSIO, &layer_cells(&p, PHYSIO)).collect();
        assert_eq!(values, ["1/mon/00:05-00:15", "1/mon/00:20-00:25"]);
    }

    #[test]
    fn blocks_are_described_by_type_and_portal() {
        let mut p = painting(
            15,
            &[
                (PHYSIO, Weekday::Mon, "09:00", "10:00"),
                (MASSAGE, Weekday::Mon, "10:00", "10:15"),
                (Layer::Portal, Weekday::Mon, "09:00", "09:15"),
            ],
        );
        let names = [summary(1, "Physio")];
        let at = |p: &Painting, a: u32, b: u32| describe(p, &names, Weekday::Mon, a, b);
        assert_eq!(
            at(&p, 540, 570),
            (
                "Monday 09:00, Physio, partly online".to_owned(),
                "cell painted t-1 part-online".to_owned()
            )
        );
        assert_eq!(
            at(&p, 570, 600),
            (
                "Monday 09:30, Physio, in clinic only, not online".to_owned(),
                "cell painted t-1 offline".to_owned()
            )
        );
        // Two types in one block, the second one unnamed.
        assert_eq!(
            at(&p, 585, 615).0,
            "Monday 09:45, partly Physio and schedule type 2, in clinic only, not online"
        );
        assert_eq!(at(&p, 585, 615).1, "cell painted t-1 part offline");
        assert_eq!(at(&p, 600, 630).1, "cell painted t-2 part offline");
        assert_eq!(
            at(&p, 660, 690),
            ("Monday 11:00, empty".to_owned(), "cell".to_owned())
        );
        // Not customised: every available cell is online.
        p.set_customised(false);
        assert_eq!(
            at(&p, 540, 570),
            (
                "Monday 09:00, Physio, online".to_owned(),
                "cell painted t-1 online".to_owned()
            )
        );
    }

    #[test]
    fn rows_take_in_working_hours_and_every_available_cell() {
        let p = painting(15, &[(PHYSIO, Weekday::Mon, "09:00", "10:00")]);
        assert_eq!(row_range(&p, 30, false), (7 * 60, 19 * 60));
        assert_eq!(row_range(&p, 30, true), (0, 1440));
        let p = painting(
            15,
            &[
                (PHYSIO, Weekday::Tue, "06:15", "06:30"),
                (MASSAGE, Weekday::Sun, "22:00", "23:15"),
            ],
        );
        // Widened to the slot step around the earliest and latest available cells.
        assert_eq!(row_range(&p, 30, false), (6 * 60, 23 * 60 + 30));
        assert_eq!(row_range(&p, 60, false), (6 * 60, 24 * 60));
    }

    #[test]
    fn ticked_blocks_stand_for_their_cells_and_the_rest_rides_along_hidden() {
        let p = painting(
            15,
            &[
                (PHYSIO, Weekday::Mon, "09:00", "09:15"),
                (PHYSIO, Weekday::Mon, "10:00", "10:30"),
                (MASSAGE, Weekday::Tue, "08:00", "08:30"),
                (Layer::Portal, Weekday::Mon, "10:00", "10:15"),
            ],
        );
        let names = [summary(1, "Physio"), summary(2, "Massage")];
        let grid = grid_view(&p, &names, PHYSIO, 30, false);
        assert_eq!(grid.layer, "1");
        assert_eq!(grid.layer_name, "Physio");
        assert!(!grid.portal_mode && grid.customised && grid.overlay_customised);
        assert_eq!((grid.resolution, grid.step), (15, 30));
        assert_eq!(grid.rows.len(), 24);
        assert_eq!(grid.rows[0].time, "07:00");
        assert!(grid.rows[0].hour && !grid.rows[1].hour);
        let cell = |time: &str, day: usize| {
            let row = grid.rows.iter().find(|r| r.time == time).unwrap();
            &row.cells[day]
        };
        // 09:00-09:30 is half painted: unticked, and its painted cell is hidden.
        assert!(!cell("09:00", 0).checked);
        assert_eq!(cell("09:00", 0).value.as_deref(), Some("1/mon/09:00-09:30"));
        // 10:00-10:30 is wholly painted: the ticked box stands for it.
        assert!(cell("10:00", 0).checked);
        assert_eq!(cell("10:00", 0).day, "mon");
        assert_eq!((cell("10:00", 0).start, cell("10:00", 0).end), (600, 630));
        // Massage and the overlay ride along whole.
        assert_eq!(
            grid.hidden,
            [
                "1/mon/09:00-09:15",
                "2/tue/08:00-08:30",
                "p/mon/10:00-10:15"
            ]
        );

        // The overlay: a block is ticked when all its available cells are online, and
        // only blocks with available cells can be ticked.
        let grid = grid_view(&p, &names, Layer::Portal, 30, false);
        assert_eq!(grid.layer, "portal");
        assert_eq!(grid.layer_name, "Customize Portal Availability");
        assert!(grid.portal_mode);
        assert!(!cell_of(&grid, "10:00", 0).checked);
        assert!(cell_of(&grid, "11:00", 0).value.is_none());
        assert_eq!(
            cell_of(&grid, "09:00", 0).value.as_deref(),
            Some("p/mon/09:00-09:30")
        );
        assert_eq!(
            grid.hidden,
            [
                "p/mon/10:00-10:15",
                "1/mon/09:00-09:15",
                "1/mon/10:00-10:30",
                "2/tue/08:00-08:30"
            ]
        );

        // Not customised yet: everything available is online, and ticked.
        let mut p = p;
        p.set_customised(false);
        let grid = grid_view(&p, &names, Layer::Portal, 30, true);
        assert!(grid.customised && !grid.overlay_customised);
        assert_eq!(grid.rows.len(), 48);
        assert!(cell_of(&grid, "10:00", 0).checked);
        assert!(cell_of(&grid, "09:00", 0).checked);
        assert!(!grid.hidden.iter().any(|v| v.starts_with("p/")));
    }

    fn cell_of<'g>(grid: &'g GridView, time: &str, day: usize) -> &'g CellView {
        let row = grid.rows.iter().find(|r| r.time == time).unwrap();
        &row.cells[day]
    }
}
