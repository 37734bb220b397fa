//! The whole organisation's check: every service and practitioner over the coming
//! [`HORIZON_DAYS`], each problem with the page that fixes it.

use std::collections::{BTreeMap, HashMap, HashSet};

use slot_engine::{
    ClinicIx, Date, DateRange, Instant, Model, PortalQuery, PractitionerIx, Rejection, Rule,
    Scenario, ScheduleTypeIx, ServiceIx, SlotQuery, WeekGrid,
};

use crate::db::{Exec, rows};
use crate::error::{Error, Result};
use crate::organisation::Organisation;
use crate::scenario_rows::Ids;
use crate::setup_cache::Services;

use super::{Fix, HORIZON_DAYS, Kind, PractitionerCheck, Problem, Report, ServiceCheck};

#[derive(sqlx::FromRow)]
struct RestrictedRow {
    id: i64,
    first_name: String,
    last_name: String,
    practitioner_id: Option<i64>,
}

/// A patient who may book only some practitioners.
struct Restricted {
    id: i64,
    name: String,
    practitioners: Vec<i64>,
}

async fn restricted_patients(exec: &mut Exec<'_>, org: i64) -> Result<Vec<Restricted>> {
    let rows = rows!(
        exec.reborrow(),
        fetch_all,
        RestrictedRow,
        "SELECT pa.id, pa.first_name, pa.last_name, pp.practitioner_id \
         FROM patients pa LEFT JOIN patient_practitioners pp ON pp.org_id = pa.org_id AND pp.patient_id = pa.id \
         WHERE pa.org_id = $1 AND pa.practitioners_restricted \
         ORDER BY pa.last_name, pa.first_name, pa.id",
        org
    )?;
    let mut out: Vec<Restricted> = Vec::new();
    for row in rows {
        if out.last().is_none_or(|r| r.id != row.id) {
            out.push(Restricted {
                id: row.id,
                name: format!("{} {}", row.first_name, row.last_name),
                practitioners: Vec::new(),
            });
        }
        if let (Some(last), Some(p)) = (out.last_mut(), row.practitioner_id) {
            last.practitioners.push(p);
        }
    }
    Ok(out)
}

/// The items joined for a sentence: `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The items joined for a sentence: `Physiotherapy, Massage or Acupuncture`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// `2026-03-02` or `2026-03-02 to 2026-03-08`.
fn span_text(a: Date, b: Date) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a} to {b}")
    }
}

/// Each date of `from..=to`.
fn each_date(from: Date, to: Date) -> impl Iterator<Item = Date> {
    std::iter::successors(Some(from), move |d| d.add_days(1).filter(|n| *n <= to))
}

/// Whether the problems found already say why a practitioner has no slot at all, so
/// that "fully booked" or the engine's reason would only repeat them.
fn explained(problems: &[Problem]) -> bool {
    problems.iter().any(|p| {
        matches!(
            p.kind,
            Kind::Inactive
                | Kind::NotBookableInPortal
                | Kind::NoScheduleTypes
                | Kind::NoBlocks
                | Kind::OverlayEmpty
        )
    })
}

/// What one check needs at hand.
struct Ctx<'a> {
    model: &'a Model,
    ids: &'a Ids,
    from: Date,
    to: Date,
    now: Instant,
    /// Open slots per service and practitioner: with the appointments, and without.
    open: HashMap<(ServiceIx, PractitionerIx), (usize, usize)>,
    /// Open video slots per service and practitioner (with the appointments).
    video_open: HashMap<(ServiceIx, PractitionerIx), usize>,
    /// Whether the organisation offers video at all (some practitioner holds a schedule
    /// type that allows telehealth): only then do services and practitioners get video
    /// notes, which would otherwise repeat the organisation's one.
    video_in_use: bool,
    /// The practitioners (row ids) with a video link of their own.
    own_links: HashSet<i64>,
    /// Whether the organisation has a video link.
    org_link: bool,
}

impl Ctx<'_> {
    fn practitioner_id(&self, p: PractitionerIx) -> i64 {
        self.ids.practitioners[self.model.practitioner(p).id.as_str()]
    }

    fn service_id(&self, s: ServiceIx) -> i64 {
        self.ids.services[self.model.service(s).id.as_str()]
    }

    fn clinic_id(&self, c: ClinicIx) -> i64 {
        self.ids.clinics[self.model.clinic(c).id.as_str()]
    }

    fn open(&self, s: ServiceIx, p: PractitionerIx) -> (usize, usize) {
        self.open.get(&(s, p)).copied().unwrap_or((0, 0))
    }

    fn video_open(&self, s: ServiceIx, p: PractitionerIx) -> usize {
        self.video_open.get(&(s, p)).copied().unwrap_or(0)
    }

    /// The service's schedule types that allow telehealth.
    fn video_types(&self, s: ServiceIx) -> Vec<ScheduleTypeIx> {
        telehealth_types(self.model, &self.model.service(s).schedule_types)
    }

    /// The practitioner's records in force on some date of the horizon.
    fn records(
        &self,
        p: PractitionerIx,
    ) -> impl Iterator<Item = &slot_engine::AvailabilityRecord> + '_ {
        let (from, to) = (self.from, self.to);
        self.model
            .practitioner(p)
            .records()
            .iter()
            .filter(move |r| r.dates().start() <= to && r.dates().end().is_none_or(|e| e >= from))
    }

    /// The stretches of the horizon that no record of the practitioner covers.
    fn gaps(&self, p: PractitionerIx) -> Vec<(Date, Date)> {
        let practitioner = self.model.practitioner(p);
        let mut gaps: Vec<(Date, Date)> = Vec::new();
        for d in each_date(self.from, self.to) {
            if practitioner.record_on(d).is_some() {
                continue;
            }
            match gaps.last_mut() {
                Some((_, end)) if end.add_days(1) == Some(d) => *end = d,
                _ => gaps.push((d, d)),
            }
        }
        gaps
    }

    /// The cells of the service's schedule types in a record, and whether any of them
    /// is online.
    fn service_cells(
        &self,
        s: ServiceIx,
        record: &slot_engine::AvailabilityRecord,
    ) -> (bool, bool) {
        let service = self.model.service(s);
        let mut cells: Option<WeekGrid> = None;
        for &t in &service.schedule_types {
            if let Some(g) = record.grid_of(t) {
                cells = Some(match cells {
                    None => g.grid.clone(),
                    Some(c) => c.union(&g.grid),
                });
            }
        }
        match cells {
            None => (false, false),
            Some(c) if c.is_empty() => (false, false),
            Some(c) => (
                true,
                record
                    .portal()
                    .is_none_or(|overlay| !overlay.intersection(&c).is_empty()),
            ),
        }
    }

    fn type_names(&self, s: ServiceIx) -> String {
        let names: Vec<String> = self
            .model
            .service(s)
            .schedule_types
            .iter()
            .map(|&t| self.model.schedule_type(t).name.to_string())
            .collect();
        or_list(&names)
    }

    /// The engine's answer on the first candidate times of the horizon that fall in the
    /// service's blocks (those that allow telehealth, asking for video): why the portal
    /// does not offer them.
    fn first_rejection(
        &self,
        s: ServiceIx,
        p: PractitionerIx,
        video: bool,
    ) -> Option<(Rejection, ClinicIx)> {
        let query = PortalQuery::for_service(self.model, s, self.now)
            .ok()?
            .with_telehealth(video);
        let service = self.model.service(s);
        let practitioner = self.model.practitioner(p);
        let mut tried = 0;
        for d in each_date(self.from, self.to) {
            let Some(record) = practitioner.record_on(d) else {
                continue;
            };
            let step = record.slot_step().max(1);
            for run in record.runs(d.weekday(), false) {
                if !service.applies_to(run.schedule_type)
                    || (video && !self.model.schedule_type(run.schedule_type).telehealth)
                {
                    continue;
                }
                let t = u32::from(run.start).div_ceil(step) * step;
                if t >= u32::from(run.end) {
                    continue;
                }
                let zone = self.model.clinic(run.clinic).zone;
                let Some((seconds, _)) = zone.resolve(d, t).earliest() else {
                    continue;
                };
                let Ok(start) = Instant::from_unix_seconds(seconds) else {
                    continue;
                };
                if let Err(rejection) = self.model.check(&query, p, start) {
                    return Some((rejection, run.clinic));
                }
                tried += 1;
                if tried >= 16 {
                    return None;
                }
            }
        }
        None
    }

    /// The problem explaining why the service offers no slot with the practitioner.
    fn pair_problem(&self, s: ServiceIx, p: PractitionerIx) -> Option<Problem> {
        let practitioner = self.model.practitioner(p);
        let service = self.model.service(s);
        let pid = self.practitioner_id(p);
        let name = &practitioner.name;
        let (booked, free) = self.open(s, p);
        if booked > 0 {
            return None;
        }
        if !practitioner.active {
            return Some(Problem {
                kind: Kind::Inactive,
                message: format!("{name} is not active"),
                fix: Fix::Practitioner(pid),
            });
        }
        if !practitioner.bookable_in_portal {
            return Some(Problem {
                kind: Kind::NotBookableInPortal,
                message: format!("{name} is not bookable in the portal"),
                fix: Fix::Practitioner(pid),
            });
        }
        if self.records(p).next().is_none() {
            return Some(Problem {
                kind: Kind::NoRecord,
                message: format!(
                    "{name} has no availability record covering {}",
                    span_text(self.from, self.to)
                ),
                fix: Fix::Availability(pid),
            });
        }
        let cells: Vec<(bool, bool)> = self.records(p).map(|r| self.service_cells(s, r)).collect();
        if cells.iter().all(|(any, _)| !any) {
            return Some(Problem {
                kind: Kind::NoBlocks,
                message: format!(
                    "{name}'s availability from {} has no {} blocks",
                    span_text(self.from, self.to),
                    self.type_names(s)
                ),
                fix: Fix::Availability(pid),
            });
        }
        if cells.iter().all(|(_, online)| !online) {
            return Some(Problem {
                kind: Kind::OverlayEmpty,
                message: format!(
                    "Customize Portal Availability leaves out every {} block of {name}",
                    self.type_names(s)
                ),
                fix: Fix::Availability(pid),
            });
        }
        if free > 0 {
            return Some(Problem {
                kind: Kind::FullyBooked,
                message: format!(
                    "{name} is fully booked for {} from {}",
                    service.name,
                    span_text(self.from, self.to)
                ),
                fix: Fix::Availability(pid),
            });
        }
        Some(self.no_slots(s, p))
    }

    /// No open slot for a reason none of the checks above names: the engine's own.
    fn no_slots(&self, s: ServiceIx, p: PractitionerIx) -> Problem {
        self.no_slots_of(s, p, false)
    }

    /// No open slot (`video`: no open video slot) for the engine's reason.
    fn no_slots_of(&self, s: ServiceIx, p: PractitionerIx, video: bool) -> Problem {
        let pid = self.practitioner_id(p);
        let name = &self.model.practitioner(p).name;
        let service = &self.model.service(s).name;
        let what = if video {
            "open video slot"
        } else {
            "open slot"
        };
        match self.first_rejection(s, p, video) {
            Some((r, clinic)) => Problem {
                kind: Kind::NoOpenSlots,
                message: format!(
                    "no {what} for {service} with {name} from {}: {} (rule {})",
                    span_text(self.from, self.to),
                    r.reason,
                    r.rule.number()
                ),
                fix: match r.rule {
                    Rule::Who => Fix::Practitioner(pid),
                    Rule::Clinic => Fix::Clinic(self.clinic_id(clinic)),
                    Rule::Telehealth => Fix::Service(self.service_id(s)),
                    Rule::BookingWindow => Fix::Settings,
                    _ => Fix::Availability(pid),
                },
            },
            None => Problem {
                kind: Kind::NoOpenSlots,
                message: format!(
                    "no {what} for {service} with {name} from {}",
                    span_text(self.from, self.to)
                ),
                fix: Fix::Availability(pid),
            },
        }
    }

    /// Why a service bookable online is not offered by video, or not with some of the
    /// practitioners it is offered with; a practitioner whose slots are all missing is
    /// explained among the problems already.
    fn service_video(&self, s: ServiceIx, practitioners: &[PractitionerIx]) -> Vec<Problem> {
        let service = self.model.service(s);
        if !self.video_in_use || !service.book_from_portal {
            return Vec::new();
        }
        let video_types = self.video_types(s);
        if video_types.is_empty() {
            return vec![Problem {
                kind: Kind::NoVideo,
                message: format!(
                    "Video is not offered for {}: none of its schedule types allows telehealth",
                    service.name
                ),
                fix: Fix::Service(self.service_id(s)),
            }];
        }
        let names = type_list(self.model, &video_types);
        let mut out = Vec::new();
        for &p in practitioners {
            let practitioner = self.model.practitioner(p);
            let name = &practitioner.name;
            if !video_types
                .iter()
                .any(|&t| practitioner.has_schedule_type(t))
            {
                out.push(Problem {
                    kind: Kind::NoVideo,
                    message: format!(
                        "Video is not offered for {} with {name}: {name} has no schedule type that allows telehealth among its schedule types ({names})",
                        service.name
                    ),
                    fix: Fix::Practitioner(self.practitioner_id(p)),
                });
            } else if self.open(s, p).0 > 0 && self.video_open(s, p) == 0 {
                out.push(self.no_slots_of(s, p, true));
            }
        }
        out
    }

    /// Why a practitioner is not offered by video, or why their video appointments have
    /// no join link.
    fn practitioner_video(&self, p: PractitionerIx) -> Vec<Problem> {
        if !self.video_in_use {
            return Vec::new();
        }
        let practitioner = self.model.practitioner(p);
        let id = self.practitioner_id(p);
        let name = &practitioner.name;
        if telehealth_types(self.model, &practitioner.schedule_types).is_empty() {
            return vec![Problem {
                kind: Kind::NoVideo,
                message: format!(
                    "Video is not offered with {name}: {name} has no schedule type that allows telehealth"
                ),
                fix: Fix::Practitioner(id),
            }];
        }
        if !self.org_link && !self.own_links.contains(&id) {
            return vec![Problem {
                kind: Kind::NoVideoLink,
                message: format!(
                    "{name}'s video appointments have no join link: neither {name} nor the organisation has a video link (add one on the practitioner's page or in Settings)"
                ),
                fix: Fix::Practitioner(id),
            }];
        }
        Vec::new()
    }

    /// Whether the practitioner may be offered a service at all (rule 3 without the
    /// patient's list).
    fn eligible(&self, s: ServiceIx, p: PractitionerIx) -> bool {
        let service = self.model.service(s);
        let practitioner = self.model.practitioner(p);
        service
            .schedule_types
            .iter()
            .any(|&t| practitioner.has_schedule_type(t))
            && service
                .practitioner_type
                .as_ref()
                .is_none_or(|k| *k == practitioner.kind)
    }

    fn service_check(&self, s: ServiceIx) -> ServiceCheck {
        let service = self.model.service(s);
        let id = self.service_id(s);
        let mut problems = Vec::new();
        if !service.book_from_portal {
            problems.push(Problem {
                kind: Kind::NotBookableOnline,
                message: format!(
                    "{} is not bookable online: Book from portal is off",
                    service.name
                ),
                fix: Fix::Service(id),
            });
        }
        if service.schedule_types.is_empty() {
            problems.push(Problem {
                kind: Kind::NoScheduleTypes,
                message: format!("{} applies to no schedule type", service.name),
                fix: Fix::Service(id),
            });
        }
        let holders: Vec<PractitionerIx> = self
            .model
            .practitioner_indices()
            .filter(|&p| {
                service
                    .schedule_types
                    .iter()
                    .any(|&t| self.model.practitioner(p).has_schedule_type(t))
            })
            .collect();
        if holders.is_empty() && !service.schedule_types.is_empty() {
            problems.push(Problem {
                kind: Kind::NoPractitioner,
                message: format!(
                    "no practitioner is assigned any of its schedule types ({})",
                    self.type_names(s)
                ),
                fix: Fix::Service(id),
            });
        }
        if let Some(kind) = &service.practitioner_type {
            for &p in &holders {
                let practitioner = self.model.practitioner(p);
                if practitioner.kind != *kind {
                    problems.push(Problem {
                        kind: Kind::TypeMismatch,
                        message: format!(
                            "{} has its schedule types but is a {}; {} is for {kind} practitioners",
                            practitioner.name, practitioner.kind, service.name
                        ),
                        fix: Fix::Practitioner(self.practitioner_id(p)),
                    });
                }
            }
        }
        let mut open_slots = 0;
        let mut video_slots = 0;
        let offered: Vec<PractitionerIx> = holders
            .iter()
            .copied()
            .filter(|&p| self.eligible(s, p))
            .collect();
        if service.book_from_portal {
            for &p in &offered {
                open_slots += self.open(s, p).0;
                video_slots += self.video_open(s, p);
                problems.extend(self.pair_problem(s, p));
            }
        }
        ServiceCheck {
            id,
            key: service.id.to_string(),
            name: service.name.to_string(),
            book_from_portal: service.book_from_portal,
            open_slots,
            video_slots,
            problems,
            video: self.service_video(s, &offered),
        }
    }

    fn practitioner_check(
        &self,
        p: PractitionerIx,
        restricted: &[Restricted],
    ) -> PractitionerCheck {
        let practitioner = self.model.practitioner(p);
        let id = self.practitioner_id(p);
        let name = &practitioner.name;
        let mut problems = Vec::new();
        if !practitioner.active {
            problems.push(Problem {
                kind: Kind::Inactive,
                message: format!("{name} is not active"),
                fix: Fix::Practitioner(id),
            });
        }
        if !practitioner.bookable_in_portal {
            problems.push(Problem {
                kind: Kind::NotBookableInPortal,
                message: format!("{name} is not bookable in the portal"),
                fix: Fix::Practitioner(id),
            });
        }
        if practitioner.schedule_types.is_empty() {
            problems.push(Problem {
                kind: Kind::NoScheduleTypes,
                message: format!("{name} is assigned no schedule type"),
                fix: Fix::Practitioner(id),
            });
        }
        for (a, b) in self.gaps(p) {
            problems.push(Problem {
                kind: Kind::NoRecord,
                message: format!("no availability record covers {}", span_text(a, b)),
                fix: Fix::Availability(id),
            });
        }
        for record in self.records(p) {
            let any_block = record.grids().iter().any(|g| !g.grid.is_empty());
            let online = match record.portal() {
                None => any_block,
                Some(overlay) => record
                    .grids()
                    .iter()
                    .any(|g| !g.grid.intersection(overlay).is_empty()),
            };
            let dates = record.dates();
            let span = match dates.end() {
                Some(end) => format!("{} to {end}", dates.start()),
                None => format!("from {}", dates.start()),
            };
            if !any_block {
                problems.push(Problem {
                    kind: Kind::NoBlocks,
                    message: format!("the availability record {span} has no blocks"),
                    fix: Fix::Availability(id),
                });
            } else if !online {
                problems.push(Problem {
                    kind: Kind::OverlayEmpty,
                    message: format!(
                        "Customize Portal Availability of the record {span} is empty: nothing is offered online"
                    ),
                    fix: Fix::Availability(id),
                });
            }
        }
        // Holidays on days the practitioner works at that clinic, by clinic.
        let mut holidays: BTreeMap<ClinicIx, Vec<String>> = BTreeMap::new();
        for d in each_date(self.from, self.to) {
            let Some(record) = practitioner.record_on(d) else {
                continue;
            };
            for g in record.grids() {
                let clinic = self.model.clinic(g.clinic);
                let works = g.grid.runs(d.weekday()).next().is_some();
                if works && clinic.is_holiday(d) {
                    let days = holidays.entry(g.clinic).or_default();
                    if !days.contains(&d.to_string()) {
                        days.push(d.to_string());
                    }
                }
            }
        }
        for (clinic, days) in holidays {
            problems.push(Problem {
                kind: Kind::Holiday,
                message: format!(
                    "{} is closed on {} (holiday), when {name} works there",
                    self.model.clinic(clinic).name,
                    and_list(&days)
                ),
                fix: Fix::Clinic(self.clinic_id(clinic)),
            });
        }
        let hidden: Vec<&Restricted> = restricted
            .iter()
            .filter(|r| !r.practitioners.contains(&id))
            .collect();
        if !hidden.is_empty() {
            let mut names: Vec<String> = hidden.iter().take(3).map(|r| r.name.clone()).collect();
            if hidden.len() > 3 {
                names.push(format!("{} more", hidden.len() - 3));
            }
            problems.push(Problem {
                kind: Kind::HiddenFromPatients,
                message: format!(
                    "hidden from {} patient{} whose available practitioners leave {name} out: {}",
                    hidden.len(),
                    if hidden.len() == 1 { "" } else { "s" },
                    and_list(&names)
                ),
                fix: match hidden.as_slice() {
                    [only] => Fix::Patient(only.id),
                    _ => Fix::Patients,
                },
            });
        }
        let offered: Vec<ServiceIx> = self
            .model
            .services()
            .iter()
            .filter_map(|service| self.model.service_ix(service.id.as_str()))
            .filter(|&s| self.model.service(s).book_from_portal && self.eligible(s, p))
            .collect();
        let (booked, free) = offered.iter().fold((0, 0), |(b, f), &s| {
            let (sb, sf) = self.open(s, p);
            (b + sb, f + sf)
        });
        if offered.is_empty() {
            if !practitioner.schedule_types.is_empty() {
                problems.push(Problem {
                    kind: Kind::NoOnlineService,
                    message: format!(
                        "no service bookable online is offered with {name}: none matches both their schedule types and their practitioner type"
                    ),
                    fix: Fix::Practitioner(id),
                });
            }
        } else if booked == 0 && !explained(&problems) && self.records(p).next().is_some() {
            if free > 0 {
                problems.push(Problem {
                    kind: Kind::FullyBooked,
                    message: format!(
                        "{name} is fully booked from {}",
                        span_text(self.from, self.to)
                    ),
                    fix: Fix::Availability(id),
                });
            } else {
                problems.push(self.no_slots(offered[0], p));
            }
        }
        let video_slots = offered.iter().map(|&s| self.video_open(s, p)).sum();
        PractitionerCheck {
            id,
            key: practitioner.id.to_string(),
            name: name.to_string(),
            open_slots: booked,
            video_slots,
            problems,
            video: self.practitioner_video(p),
        }
    }
}

/// The schedule types among `types` that allow telehealth.
fn telehealth_types(model: &Model, types: &[ScheduleTypeIx]) -> Vec<ScheduleTypeIx> {
    types
        .iter()
        .copied()
        .filter(|&t| model.schedule_type(t).telehealth)
        .collect()
}

/// `Video visit or Phone call`: the schedule types' names for a sentence.
fn type_list(model: &Model, types: &[ScheduleTypeIx]) -> String {
    let names: Vec<String> = types
        .iter()
        .map(|&t| model.schedule_type(t).name.to_string())
        .collect();
    or_list(&names)
}

/// Why the organisation offers no video appointments at all; empty when it does.
fn organisation_video(model: &Model) -> Vec<Problem> {
    let all: Vec<ScheduleTypeIx> = model.schedule_type_indices().collect();
    let video_types = telehealth_types(model, &all);
    if video_types.is_empty() {
        return vec![Problem {
            kind: Kind::NoVideo,
            message: "Video appointments are not offered: no schedule type allows telehealth"
                .to_owned(),
            fix: Fix::ScheduleTypes,
        }];
    }
    let assigned = model.practitioner_indices().any(|p| {
        video_types
            .iter()
            .any(|&t| model.practitioner(p).has_schedule_type(t))
    });
    if !assigned {
        return vec![Problem {
            kind: Kind::NoVideo,
            message: format!(
                "Video appointments are not offered: no practitioner is assigned a schedule type that allows telehealth ({})",
                type_list(model, &video_types)
            ),
            fix: Fix::ScheduleTypes,
        }];
    }
    Vec::new()
}

/// Checks the whole setup over the coming [`HORIZON_DAYS`] days from `now`.
/// For each service (row id): what the resource notes need, with the clinics where its
/// schedule types have blocks in some practitioner's records in force in the horizon.
fn service_facts(
    ctx: &Ctx<'_>,
    clinics: &[crate::clinic::Clinic],
) -> BTreeMap<i64, super::resources::ServiceFacts> {
    let model = ctx.model;
    let mut facts = BTreeMap::new();
    for service in model.services() {
        let Some(s) = model.service_ix(service.id.as_str()) else {
            continue;
        };
        let mut found = super::resources::ServiceFacts {
            name: service.name.to_string(),
            book_from_portal: service.book_from_portal,
            portal_conflicts: i64::from(service.portal_conflicts),
            ..Default::default()
        };
        for p in model.practitioner_indices() {
            for record in ctx.records(p) {
                for &t in &service.schedule_types {
                    let Some(g) = record.grid_of(t).filter(|g| !g.grid.is_empty()) else {
                        continue;
                    };
                    let clinic = ctx.clinic_id(g.clinic);
                    if found.clinics_with_hours.insert(clinic) {
                        let name = clinics
                            .iter()
                            .find(|c| c.id == clinic)
                            .map_or_else(|| clinic.to_string(), |c| c.name.clone());
                        found.clinic_names.push(name);
                    }
                }
            }
        }
        facts.insert(ctx.service_id(s), found);
    }
    facts
}

pub async fn report(exec: &mut Exec<'_>, org: &Organisation, now: Instant) -> Result<Report> {
    // "Today" is the earliest local date over the clinics, so that the check covers
    // every clinic's whole day; the search itself applies each clinic's own zone.
    let clinics = crate::clinic::all(exec.reborrow(), org.id).await?;
    let today = Date::try_from(crate::clinic::earliest_local_date(&clinics, now))
        .map_err(|e| Error::invalid("now", e.to_string()))?;
    let to = today.add_days(HORIZON_DAYS - 1).unwrap_or(Date::MAX);
    let (scenario, ids) =
        crate::window::scenario(exec, org, None, (today, to), Services::All, &[], None).await?;
    let booked = Model::new(&scenario)?;
    // The same setup without its appointments: entities keep their indices, so counts
    // of the two searches compare slot for slot.
    let free = Model::new(&Scenario {
        appointments: Vec::new(),
        ..scenario
    })?;
    let restricted = restricted_patients(exec, org.id).await?;
    let dates = DateRange::new(today, to).map_err(|e| Error::invalid("to", e.to_string()))?;
    let mut open: HashMap<(ServiceIx, PractitionerIx), (usize, usize)> = HashMap::new();
    let mut video_open: HashMap<(ServiceIx, PractitionerIx), usize> = HashMap::new();
    for service in booked.services().iter().filter(|s| s.book_from_portal) {
        let Some(s) = booked.service_ix(service.id.as_str()) else {
            continue;
        };
        let portal = PortalQuery::for_service(&booked, s, now)?;
        for slot in booked.open_slots(&SlotQuery {
            portal: portal.clone(),
            dates,
        }) {
            open.entry((s, slot.practitioner)).or_default().0 += 1;
        }
        // What a patient asking for video finds (rule 8).
        if !telehealth_types(&booked, &service.schedule_types).is_empty() {
            for slot in booked.open_slots(&SlotQuery {
                portal: portal.clone().with_telehealth(true),
                dates,
            }) {
                *video_open.entry((s, slot.practitioner)).or_default() += 1;
            }
        }
        for slot in free.open_slots(&SlotQuery { portal, dates }) {
            open.entry((s, slot.practitioner)).or_default().1 += 1;
        }
    }
    let own_links: HashSet<i64> = rows!(
        exec.reborrow(),
        fetch_all,
        (i64,),
        "SELECT id FROM practitioners WHERE org_id = $1 AND video_link <> ''",
        org.id
    )?
    .into_iter()
    .map(|(id,)| id)
    .collect();
    let video = organisation_video(&booked);
    let ctx = Ctx {
        model: &booked,
        ids: &ids,
        from: today,
        to,
        now,
        open,
        video_open,
        video_in_use: video.is_empty(),
        own_links,
        org_link: !org.video_link.trim().is_empty(),
    };
    let mut services: Vec<ServiceCheck> = booked
        .services()
        .iter()
        .filter_map(|s| booked.service_ix(s.id.as_str()))
        .map(|s| ctx.service_check(s))
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let mut practitioners: Vec<PractitionerCheck> = booked
        .practitioner_indices()
        .map(|p| ctx.practitioner_check(p, &restricted))
        .collect();
    practitioners.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let facts = service_facts(&ctx, &clinics);
    let resources = super::resources::check(
        exec,
        org.id,
        &super::resources::Inputs {
            from: today,
            to,
            services: &facts,
        },
        &mut services,
    )
    .await?;
    Ok(Report {
        from: today,
        to,
        services,
        practitioners,
        video,
        resources,
    })
}
