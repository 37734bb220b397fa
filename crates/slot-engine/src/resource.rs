//! Rooms and equipment (format v3): resources at a clinic, each holding up to its
//! capacity of appointments at once, and the services that need them (rule 13).
//!
//! A service *requires* a list of requirements; each is a set of resources of which
//! an appointment takes one place in any one ("any treatment room"), so "all of" is
//! several requirements of one resource each. A candidate is offered only when every
//! requirement has a resource that is *free for it*: at the slot's clinic, available
//! (its own records, if it has any) for the appointment's wall-clock time, out of
//! service at no cell of the buffered interval, and holding fewer appointments than
//! its capacity in every cell of it. Of the free ones, the first by id is picked.
//!
//! ```
//! use slot_engine::Model;
//! let model = Model::from_json(include_bytes!("../tests/data/scenarios/rooms.json"))?;
//! let query = model.query().unwrap();
//! let slots = model.open_slots(query);
//! // Each slot says which rooms and equipment it would hold.
//! let held = model.slot_resources(&slots[0]);
//! assert!(!held.is_empty());
//! # Ok::<(), slot_engine::Error>(())
//! ```

use std::fmt;

use crate::calendar::{Date, Instant, hhmm};
use crate::index::{ClinicIx, ResourceIx, ServiceIx};
use crate::model::Model;
use crate::model::resources::Availability;
pub use crate::model::resources::{
    MAX_REQUIREMENTS, MAX_RESOURCE_CAPACITY, Resource, ResourceRecord,
};
use crate::occupancy::CellSpan;
use crate::scenario::ResourceKind;
use crate::zone::Zone;

/// Where and when a booking would hold resources: the clinic, the date its
/// wall-clock stretches are counted from, the stretches, and its buffered interval's
/// UTC cells.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Need<'a> {
    pub(crate) clinic: ClinicIx,
    pub(crate) date: Date,
    pub(crate) segments: &'a [(u32, u32)],
    pub(crate) buffered: CellSpan,
}

/// Why one resource is not free for a booking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// It is at another clinic.
    Elsewhere,
    /// It has records and none covers the date.
    NoRecord(Date),
    /// Its record does not cover the wall-clock stretch on the date.
    Outside(Date, u32, u32),
    /// Out of service (its time off, by position) at some cell of the buffered
    /// interval.
    OutOfService(usize),
    /// Full: at the cell, `count` of `capacity` places are taken.
    Full { cell: i64, count: u32 },
}

/// A requirement none of whose resources is free, with each one's refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unmet {
    pub(crate) requirement: usize,
    pub(crate) refusals: Vec<(ResourceIx, Refusal)>,
}

impl Model {
    /// Whether `r` is free for `need`, or why not.
    pub(crate) fn resource_refusal(&self, r: ResourceIx, need: &Need<'_>) -> Option<Refusal> {
        let resource = self.resource(r);
        if resource.clinic != need.clinic {
            return Some(Refusal::Elsewhere);
        }
        match resource.available(need.date, need.segments) {
            Availability::Yes => {}
            Availability::NoRecord(d) => return Some(Refusal::NoRecord(d)),
            Availability::Outside(d, a, b) => return Some(Refusal::Outside(d, a, b)),
        }
        if resource.has_place(need.buffered) {
            return None;
        }
        let r = self.settings().resolution;
        if let Some(i) = resource
            .time_off
            .iter()
            .position(|&(a, b)| CellSpan::touched_by(r, a, b).overlaps(need.buffered))
        {
            return Some(Refusal::OutOfService(i));
        }
        let (cell, count) = resource
            .occupancy
            .busiest_cell(need.buffered)
            .unwrap_or((need.buffered.start, resource.capacity));
        Some(Refusal::Full { cell, count })
    }

    /// Whether `r` is free for `need` (the search's quick form of
    /// [`Model::resource_refusal`]).
    pub(crate) fn resource_free(&self, r: ResourceIx, need: &Need<'_>) -> bool {
        let resource = self.resource(r);
        resource.clinic == need.clinic
            && resource.has_place(need.buffered)
            && matches!(
                resource.available(need.date, need.segments),
                Availability::Yes
            )
    }

    /// The resources a booking of `service` holds: per requirement, the first free
    /// one by id; or the first requirement with none free.
    pub(crate) fn pick_resources(
        &self,
        service: ServiceIx,
        need: &Need<'_>,
    ) -> Result<Vec<ResourceIx>, Unmet> {
        let requires = &self.service(service).requires;
        let mut held = Vec::with_capacity(requires.len());
        for (n, requirement) in requires.iter().enumerate() {
            match requirement.iter().find(|&&r| self.resource_free(r, need)) {
                Some(&r) => held.push(r),
                None => {
                    return Err(Unmet {
                        requirement: n,
                        refusals: requirement
                            .iter()
                            .filter_map(|&r| self.resource_refusal(r, need).map(|why| (r, why)))
                            .collect(),
                    });
                }
            }
        }
        Ok(held)
    }

    /// Rule 13 for every candidate of `service` starting on a cell boundary of an
    /// ordinary day (one offset all day, midnight on a UTC cell boundary): entry `c`
    /// says whether every requirement has a free resource for the candidate starting
    /// at wall-clock cell `c` of `date` at `clinic`, whose UTC cells are then
    /// `midnight_cell + c` on. The search looks candidates up here instead of asking
    /// each resource about each candidate.
    pub(crate) fn requirements_by_start_cell(
        &self,
        service: ServiceIx,
        clinic: ClinicIx,
        date: Date,
        midnight_cell: i64,
    ) -> Vec<bool> {
        let v = self.service(service);
        let r = self.settings().resolution.minutes();
        let cells = self.settings().resolution.cells_per_day();
        // Cells each candidate touches: its own wall-clock cells, and its buffered
        // interval's UTC cells before and after it.
        let own = v.duration_minutes.div_ceil(r) as usize;
        let back = v.buffers.before_minutes.div_ceil(r) as usize;
        let reach = (v.duration_minutes + v.buffers.after_minutes).div_ceil(r) as usize;
        let weekday = date.weekday();
        let mut ok = vec![true; cells];
        let mut any = vec![false; cells];
        // Prefix counts of cells that refuse: unavailable (wall-clock), blocked (UTC,
        // from `back` cells before midnight to `reach` after the last start).
        let mut unavailable = vec![0u32; cells + 1];
        let utc_len = back + cells + reach;
        let mut blocked = vec![0u32; utc_len + 1];
        let mut marks = vec![false; utc_len];
        for requirement in &v.requires {
            any.fill(false);
            for &ix in requirement {
                let resource = self.resource(ix);
                if resource.clinic != clinic {
                    continue;
                }
                // Wall-clock availability of the date.
                match (&resource.records, resource.record_on(date)) {
                    (None, _) => unavailable.fill(0),
                    (Some(_), None) => continue,
                    (Some(_), Some(record)) => {
                        let bits = record.grid.day(weekday);
                        for c in 0..cells {
                            unavailable[c + 1] = unavailable[c] + u32::from(!bits[c]);
                        }
                    }
                }
                // Blocked UTC cells in the range the day's candidates reach.
                let first = midnight_cell - back as i64;
                let last = first + utc_len as i64;
                marks.fill(false);
                let i = resource.blocked.partition_point(|s| s.end <= first);
                for span in resource.blocked[i..].iter().take_while(|s| s.start < last) {
                    let a = (span.start.max(first) - first) as usize;
                    let b = (span.end.min(last) - first) as usize;
                    marks[a..b].fill(true);
                }
                for k in 0..utc_len {
                    blocked[k + 1] = blocked[k] + u32::from(marks[k]);
                }
                for c in 0..cells.saturating_sub(own.max(1) - 1) {
                    let free_wall = unavailable[c + own] == unavailable[c];
                    // UTC cells c - back .. c + reach, shifted by `back`.
                    let free_utc = blocked[c + back + reach] == blocked[c];
                    any[c] |= free_wall & free_utc;
                }
            }
            for (o, a) in ok.iter_mut().zip(&any) {
                *o &= *a;
            }
        }
        ok
    }

    /// Whether every requirement of `service` has a free resource (rule 13).
    pub(crate) fn resources_free(&self, service: ServiceIx, need: &Need<'_>) -> bool {
        self.service(service)
            .requires
            .iter()
            .all(|requirement| requirement.iter().any(|&r| self.resource_free(r, need)))
    }

    /// The words for a requirement none of whose resources is free (rule 13, and a
    /// staff booking's override reason).
    pub(crate) fn unmet_text(&self, unmet: &Unmet, clinic: ClinicIx) -> String {
        let zone = self.clinic(clinic).zone;
        let described: Vec<String> = unmet
            .refusals
            .iter()
            .filter(|(_, why)| *why != Refusal::Elsewhere)
            .map(|(r, why)| self.refusal_text(*r, why, clinic))
            .collect();
        let here = unmet.refusals.len() - unmet_elsewhere(unmet);
        if here == 0 {
            let clinic = &self.clinic(clinic).name;
            return match unmet.refusals.as_slice() {
                [(r, _)] => {
                    let resource = self.resource(*r);
                    format!(
                        "{} is at {}, not at {clinic}",
                        resource.name,
                        self.clinic(resource.clinic).name
                    )
                }
                list => format!(
                    "none of {} is at {clinic}",
                    self.resource_names(list.iter().map(|(r, _)| *r))
                ),
            };
        }
        if here == 1 {
            return described.into_iter().next().unwrap_or_default();
        }
        // Several, all full at the same cell: say it once.
        let full: Vec<(i64, u32)> = unmet
            .refusals
            .iter()
            .filter_map(|(_, why)| match why {
                Refusal::Full { cell, count } => Some((*cell, *count)),
                _ => None,
            })
            .collect();
        if full.len() == here && full.iter().all(|(c, _)| *c == full[0].0) {
            let names = self.resource_names(
                unmet
                    .refusals
                    .iter()
                    .filter(|(_, why)| *why != Refusal::Elsewhere)
                    .map(|(r, _)| *r),
            );
            let all = if here == 2 {
                "both".to_owned()
            } else {
                format!("all {here} of")
            };
            return format!(
                "{all} {names} are taken at {}",
                self.cell_text(full[0].0, zone)
            );
        }
        format!("none of them is free: {}", described.join("; "))
    }

    fn resource_names(&self, list: impl Iterator<Item = ResourceIx>) -> String {
        let names: Vec<&str> = list.map(|r| self.resource(r).name.as_str()).collect();
        match names.as_slice() {
            [] => String::new(),
            [one] => (*one).to_owned(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }

    fn cell_text(&self, cell: i64, zone: Zone) -> String {
        let seconds = cell * i64::from(self.settings().resolution.minutes()) * 60;
        let reading = zone.reading(seconds);
        let date = reading
            .date()
            .map(|d| d.to_string())
            .unwrap_or_else(|| crate::calendar::day_text(reading.days));
        format!("{} on {date}", hhmm(reading.second_of_day / 60))
    }

    /// One resource's refusal in words.
    pub(crate) fn refusal_text(&self, r: ResourceIx, why: &Refusal, clinic: ClinicIx) -> String {
        let zone = self.clinic(clinic).zone;
        let resource = self.resource(r);
        let name = &resource.name;
        match why {
            Refusal::Elsewhere => format!(
                "{name} is at {}, not at {}",
                self.clinic(resource.clinic).name,
                self.clinic(clinic).name
            ),
            Refusal::NoRecord(d) => format!("{name} has no availability covering {d}"),
            Refusal::Outside(d, a, b) => {
                let day = d.weekday();
                let record = resource.record_on(*d);
                let any_that_day = record.is_some_and(|rec| rec.grid.runs(day).next().is_some());
                if any_that_day {
                    format!(
                        "{name} is not available {}–{} on {}",
                        hhmm(*a),
                        hhmm(*b),
                        day.plural()
                    )
                } else {
                    format!("{name} is not available on {}", day.plural())
                }
            }
            Refusal::OutOfService(i) => {
                let (from, to) = resource.time_off[*i];
                format!(
                    "{name} is out of service from {} to {}",
                    local_minute(from, zone),
                    local_minute(to, zone)
                )
            }
            Refusal::Full { cell, count } => format!(
                "{name} is taken at {} ({count} of {} places)",
                self.cell_text(*cell, zone),
                resource.capacity
            ),
        }
    }
}

fn unmet_elsewhere(unmet: &Unmet) -> usize {
    unmet
        .refusals
        .iter()
        .filter(|(_, why)| *why == Refusal::Elsewhere)
        .count()
}

/// `2026-03-02 12:00`, in the zone.
fn local_minute(at: Instant, zone: Zone) -> String {
    let reading = zone.reading(at.unix_seconds());
    let date = reading
        .date()
        .map(|d| d.to_string())
        .unwrap_or_else(|| crate::calendar::day_text(reading.days));
    format!("{date} {}", hhmm(reading.second_of_day / 60))
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
