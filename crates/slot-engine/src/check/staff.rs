//! The staff booking check: a front-desk booking fits, or here is every reason it
//! needs an explicit override (`docs/scenario.md`, *Checking one staff booking*).
//!
//! None of the portal's rules apply to staff (not the overlay, the slot step, the
//! booking window or `portal_conflicts`); what remains is whether the practitioner is
//! active and whether some record's blocks of an allowed schedule type hold the
//! booking on a working day, clear of time off and, unless the schedule type allows
//! conflicts, of other appointments.

use std::fmt;

use crate::availability::AvailabilityRecord;
use crate::calendar::{Date, Instant, MINUTES_PER_DAY};
use crate::model::{
    Buffers, ClinicIx, Model, Practitioner, PractitionerIx, ResourceIx, ScheduleTypeIx, ServiceIx,
};
use crate::occupancy::CellSpan;
use crate::resource::{Need, Refusal};
use crate::zone::Zone;

use super::{hhmm, time_on_date};

/// What a staff booking is for: a service, a schedule type, or neither. It decides
/// which schedule types' blocks may hold the booking.
///
/// ```
/// use slot_engine::{Model, Purpose, StaffBooking};
/// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/two-clinics.json"))?;
/// let christine = model.practitioner_ix("christine").unwrap();
/// let booking = |purpose| StaffBooking {
///     practitioner: christine,
///     start: "2026-05-04T09:00:00-04:00".parse().unwrap(),
///     duration_minutes: 30,
///     purpose,
///     buffers: slot_engine::Buffers::NONE,
///     resources: slot_engine::ResourceChoice::Auto,
/// };
/// // Without a service or schedule type, any of the practitioner's blocks will do.
/// assert!(model.check_staff(&booking(Purpose::Unspecified)).is_ok());
/// // At 09:00 Christine works in Toronto: booked as a Whitby visit, it needs an override.
/// let whitby = model.schedule_type_ix("christine-whitby").unwrap();
/// assert!(model.check_staff(&booking(Purpose::ScheduleType(whitby))).is_err());
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A service: its schedule types are the ones that may hold the booking.
    Service(ServiceIx),
    /// A schedule type staff chose: only its blocks may hold the booking.
    ScheduleType(ScheduleTypeIx),
    /// Any of the practitioner's schedule types: whichever blocks the time falls in.
    Unspecified,
}

/// A booking made by front-desk staff: no portal rules, any duration, any start.
///
/// ```
/// use slot_engine::{Model, Purpose, StaffBooking};
/// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/basic.json"))?;
/// let booking = StaffBooking {
///     practitioner: model.practitioner_ix("christine").unwrap(),
///     // Off the 15-minute step and 50 minutes long: fine for staff.
///     start: "2026-03-04T09:05:00-05:00".parse().unwrap(),
///     duration_minutes: 50,
///     purpose: Purpose::Service(model.service_ix("initial").unwrap()),
///     buffers: slot_engine::Buffers::NONE,
///     resources: slot_engine::ResourceChoice::Auto,
/// };
/// let fit = model.check_staff(&booking).unwrap();
/// assert_eq!(model.schedule_type(fit.schedule_type).id.as_str(), "physio");
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffBooking {
    /// The practitioner whose availability, time off and appointments it is checked
    /// against; an inactive one needs an override.
    pub practitioner: PractitionerIx,
    /// The start instant, on or off the grid and the slot step; its date is read in the
    /// zone of each candidate schedule type's clinic.
    pub start: Instant,
    /// How long it lasts, as staff chose (1 ..= 1440 minutes).
    pub duration_minutes: u32,
    /// Which schedule types' blocks may hold it.
    pub purpose: Purpose,
    /// The time to keep free around it (v2): time off and other appointments are
    /// judged on its buffered interval. A new booking takes its service's
    /// [`buffers`](crate::Service::buffers); a move keeps the appointment's own.
    pub buffers: Buffers,
    /// The rooms and equipment it holds (v3): chosen by staff, or picked by the
    /// engine for the service's requirements.
    pub resources: ResourceChoice,
}

/// Which resources a staff booking holds (v3).
///
/// ```
/// use slot_engine::{Model, Purpose, ResourceChoice, StaffBooking};
/// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/rooms.json"))?;
/// let mut booking = StaffBooking {
///     practitioner: model.practitioner_ix("ana").unwrap(),
///     start: "2026-03-02T10:00:00Z".parse().unwrap(),
///     duration_minutes: 30,
///     purpose: Purpose::Service(model.service_ix("shockwave-therapy").unwrap()),
///     buffers: slot_engine::Buffers::NONE,
///     resources: ResourceChoice::Auto,
/// };
/// // The engine picks the first free room and the machine.
/// let fit = model.check_staff(&booking).unwrap();
/// let ids: Vec<&str> = fit.resources.iter().map(|&r| model.resource(r).id.as_str()).collect();
/// assert_eq!(ids, ["room-1", "shockwave"]);
/// // Staff may name them instead.
/// booking.resources = ResourceChoice::Chosen(vec![model.resource_ix("room-2").unwrap(), model.resource_ix("shockwave").unwrap()]);
/// assert_eq!(model.check_staff(&booking).unwrap().resources.len(), 2);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ResourceChoice {
    /// Per requirement of the booking's service, the first free resource by id (the
    /// first at the clinic, with an override, when none is free). A booking without a
    /// service holds none.
    #[default]
    Auto,
    /// Exactly these resources, each of which must be free and at the booking's
    /// clinic, and which must meet every requirement of its service, or the booking
    /// needs an override.
    Chosen(Vec<ResourceIx>),
}

/// Where a staff booking fits without an override.
///
/// ```
/// use slot_engine::{Model, Purpose, StaffBooking};
/// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/two-clinics.json"))?;
/// let fit = model.check_staff(&StaffBooking {
///     practitioner: model.practitioner_ix("christine").unwrap(),
///     start: "2026-05-04T12:30:00-04:00".parse().unwrap(),
///     duration_minutes: 60,
///     purpose: Purpose::Unspecified,
///     buffers: slot_engine::Buffers::NONE,
///     resources: slot_engine::ResourceChoice::Auto,
/// }).unwrap();
/// // At 12:30 on Mondays Christine works in Whitby.
/// assert_eq!(model.clinic(fit.clinic).id.as_str(), "whitby");
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffFit {
    /// The schedule type whose blocks hold it.
    pub schedule_type: ScheduleTypeIx,
    /// That schedule type's clinic in the record.
    pub clinic: ClinicIx,
    /// The rooms and equipment it holds (v3), sorted by id.
    pub resources: Vec<ResourceIx>,
}

/// The kind of an [`OverrideReason`].
///
/// ```
/// use slot_engine::{Model, OverrideKind, Purpose, StaffBooking};
/// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/two-clinics.json"))?;
/// let whitby = model.schedule_type_ix("christine-whitby").unwrap();
/// let reasons = model.check_staff(&StaffBooking {
///     practitioner: model.practitioner_ix("christine").unwrap(),
///     start: "2026-05-18T12:30:00-04:00".parse().unwrap(), // Whitby's holiday
///     duration_minutes: 30,
///     purpose: Purpose::ScheduleType(whitby),
///     buffers: slot_engine::Buffers::NONE,
///     resources: slot_engine::ResourceChoice::Auto,
/// }).unwrap_err();
/// assert_eq!(reasons.iter().map(|r| r.kind).collect::<Vec<_>>(), [OverrideKind::Holiday]);
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OverrideKind {
    /// The practitioner is not active.
    Inactive,
    /// No availability record of the practitioner covers the date, read in the home
    /// clinic's zone.
    NoRecord,
    /// The booking runs past the midnight that ends its start's date.
    SpansDays,
    /// Some cell it touches is not covered by blocks of an allowed schedule type.
    OutsideAvailability,
    /// The date is a holiday of the clinic whose blocks would hold it.
    Holiday,
    /// Time off touches one of its cells.
    TimeOff,
    /// Appointments already occupy its cells, under a schedule type that does not
    /// allow conflicts.
    Conflict,
    /// An occurrence of a series whose wall-clock time does not exist on its date
    /// (clocks go forward over it): there is nothing to book, override or not.
    DoesNotExist,
    /// A room or piece of equipment it needs or names has no place left then (v3).
    ResourceTaken,
    /// A room or piece of equipment it needs or names is not available then: its own
    /// availability, out of service, or at another clinic (v3).
    ResourceUnavailable,
    /// The service needs a resource that the booking does not name (v3).
    ResourceMissing,
}

/// One reason a staff booking needs an explicit override.
///
/// ```
/// use slot_engine::{Model, OverrideKind, Purpose, StaffBooking};
/// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/basic.json"))?;
/// let booking = StaffBooking {
///     practitioner: model.practitioner_ix("christine").unwrap(),
///     start: "2026-03-02T11:30:00-05:00".parse().unwrap(), // runs past the 12:00 end
///     duration_minutes: 60,
///     purpose: Purpose::Unspecified,
///     buffers: slot_engine::Buffers::NONE,
///     resources: slot_engine::ResourceChoice::Auto,
/// };
/// let reasons = model.check_staff(&booking).unwrap_err();
/// assert_eq!(reasons[0].kind, OverrideKind::OutsideAvailability);
/// assert_eq!(reasons[0].to_string(), "60 minutes from 11:30 on 2026-03-02 is outside christine's Physiotherapy availability");
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideReason {
    /// What kind of reason, for callers that treat some differently.
    pub kind: OverrideKind,
    /// The reason in words for the person deciding on the override, naming the date,
    /// time, schedule type or count; the wording may improve.
    pub message: String,
}

impl fmt::Display for OverrideReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Model {
    /// The buffers a *new* staff booking for `purpose` keeps free: its service's, or
    /// none without a service (a move keeps the appointment's own instead).
    ///
    /// ```
    /// use slot_engine::{Buffers, Model, Purpose};
    /// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/buffers.json"))?;
    /// let deep = model.service_ix("deep").unwrap();
    /// assert_eq!(model.new_booking_buffers(Purpose::Service(deep)), Buffers { before_minutes: 5, after_minutes: 15 });
    /// assert_eq!(model.new_booking_buffers(Purpose::Unspecified), Buffers::NONE);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn new_booking_buffers(&self, purpose: Purpose) -> Buffers {
        match purpose {
            Purpose::Service(s) => self.service(s).buffers,
            Purpose::ScheduleType(_) | Purpose::Unspecified => Buffers::NONE,
        }
    }

    /// Answers a staff booking: where it fits without an override, or every reason it
    /// needs one.
    ///
    /// ```
    /// use slot_engine::{Model, Purpose, StaffBooking};
    /// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/basic.json"))?;
    /// let booking = StaffBooking {
    ///     practitioner: model.practitioner_ix("christine").unwrap(),
    ///     start: "2026-03-02T09:30:00-05:00".parse().unwrap(),
    ///     duration_minutes: 30,
    ///     purpose: Purpose::ScheduleType(model.schedule_type_ix("physio").unwrap()),
    ///     buffers: slot_engine::Buffers::NONE,
    ///     resources: slot_engine::ResourceChoice::Auto,
    /// };
    /// let reasons = model.check_staff(&booking).unwrap_err();
    /// assert_eq!(reasons[0].message, "1 appointment already at 09:30 on 2026-03-02 (Physiotherapy does not allow conflicts)");
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn check_staff(&self, booking: &StaffBooking) -> Result<StaffFit, Vec<OverrideReason>> {
        match self.check_staff_practitioner(booking) {
            Ok(fits) => {
                // The first place it fits whose resources are free; else the reasons
                // of the first place it fits.
                let mut first_reasons = None;
                for &(schedule_type, clinic) in &fits {
                    let (held, reasons) = self.staff_resources_at(booking, clinic, true);
                    if reasons.is_empty() {
                        return Ok(StaffFit {
                            schedule_type,
                            clinic,
                            resources: held,
                        });
                    }
                    first_reasons.get_or_insert(reasons);
                }
                Err(first_reasons.unwrap_or_default())
            }
            Err((clinic, mut reasons)) => {
                reasons.extend(self.staff_resources_at(booking, clinic, true).1);
                Err(reasons)
            }
        }
    }

    /// The rooms and equipment a staff booking holds, whether or not it needs an
    /// override: what [`StaffFit::resources`] says when it fits, and what an
    /// overridden booking takes (per requirement the first free resource at its
    /// clinic, else the first there).
    ///
    /// ```
    /// use slot_engine::{Model, Purpose, ResourceChoice, StaffBooking};
    /// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/rooms.json"))?;
    /// let booking = StaffBooking {
    ///     practitioner: model.practitioner_ix("ana").unwrap(),
    ///     start: "2026-03-02T10:00:00Z".parse().unwrap(),
    ///     duration_minutes: 30,
    ///     purpose: Purpose::Service(model.service_ix("shockwave-therapy").unwrap()),
    ///     buffers: slot_engine::Buffers::NONE,
    ///     resources: ResourceChoice::Auto,
    /// };
    /// assert_eq!(model.staff_resources(&booking), model.check_staff(&booking).unwrap().resources);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn staff_resources(&self, booking: &StaffBooking) -> Vec<ResourceIx> {
        match self.check_staff(booking) {
            Ok(fit) => fit.resources,
            Err(_) => {
                let clinic = match self.check_staff_practitioner(booking) {
                    Ok(fits) => fits[0].1,
                    Err((clinic, _)) => clinic,
                };
                self.staff_resources_at(booking, clinic, false).0
            }
        }
    }

    /// The practitioner's side of a staff booking: every place it fits (schedule type
    /// and clinic, in record then schedule type order), or the clinic it takes place
    /// at and the reasons it needs an override.
    #[allow(clippy::type_complexity)]
    fn check_staff_practitioner(
        &self,
        booking: &StaffBooking,
    ) -> Result<Vec<(ScheduleTypeIx, ClinicIx)>, (ClinicIx, Vec<OverrideReason>)> {
        let p = self.practitioner(booking.practitioner);
        let mut general = Vec::new();
        if !p.active {
            general.push(OverrideReason {
                kind: OverrideKind::Inactive,
                message: format!("{} is not active", p.name),
            });
        }
        let chosen: [ScheduleTypeIx; 1];
        let allowed: &[ScheduleTypeIx] = match booking.purpose {
            Purpose::ScheduleType(t) => {
                chosen = [t];
                &chosen
            }
            Purpose::Service(s) => &self.service(s).schedule_types,
            Purpose::Unspecified => &p.schedule_types,
        };
        let (start, end) = booking_instants(booking);
        let r = self.settings().resolution;
        let (from, to) = booking.buffers.around(start, end);
        let utc_span = Spans {
            own: CellSpan::touched_by(r, start, end),
            buffered: CellSpan::touched_by(r, from, to),
        };

        // Find the closest record and schedule type without writing a reason, then
        // write the reasons of that one only.
        let mut best: Option<(usize, &AvailabilityRecord, ScheduleTypeIx, ClinicIx)> = None;
        let mut fits = Vec::new();
        for record in p.records() {
            for g in record.grids() {
                if !allowed.contains(&g.schedule_type) {
                    continue;
                }
                let Some(reasons) = self.staff_fit(
                    p,
                    record,
                    (g.schedule_type, g.clinic),
                    (start, end, utc_span),
                    false,
                ) else {
                    continue;
                };
                if reasons.is_empty() && general.is_empty() {
                    fits.push((g.schedule_type, g.clinic));
                    // Without resources, the first place it fits is the answer.
                    if !self.holds_resources(booking) {
                        return Ok(fits);
                    }
                    continue;
                }
                if best.is_none_or(|(n, ..)| reasons.len() < n) {
                    best = Some((reasons.len(), record, g.schedule_type, g.clinic));
                }
            }
        }
        if !fits.is_empty() {
            return Ok(fits);
        }
        let schedule_type = match booking.purpose {
            Purpose::ScheduleType(t) => Some(t),
            _ => None,
        };
        let clinic = self.appointment_clinic(booking.practitioner, schedule_type, start);
        let best = best.and_then(|(_, record, t, clinic)| {
            self.staff_fit(p, record, (t, clinic), (start, end, utc_span), true)
        });
        let specific = best.unwrap_or_else(|| self.staff_no_fit(p, allowed, start, utc_span));
        general.extend(specific);
        Err((clinic, general))
    }

    /// Whether the booking holds any resource: it names some, or its service
    /// requires some.
    fn holds_resources(&self, booking: &StaffBooking) -> bool {
        match (&booking.resources, booking.purpose) {
            (ResourceChoice::Chosen(list), _) => !list.is_empty(),
            (ResourceChoice::Auto, Purpose::Service(v)) => !self.service(v).requires.is_empty(),
            (ResourceChoice::Auto, _) => false,
        }
    }

    /// The resources a staff booking at `clinic` holds, and (when `describe`) the
    /// reasons they need an override.
    fn staff_resources_at(
        &self,
        booking: &StaffBooking,
        clinic: ClinicIx,
        describe: bool,
    ) -> (Vec<ResourceIx>, Vec<OverrideReason>) {
        let requires: &[Vec<ResourceIx>] = match booking.purpose {
            Purpose::Service(s) => &self.service(s).requires,
            _ => &[],
        };
        if requires.is_empty() && matches!(booking.resources, ResourceChoice::Auto) {
            return (Vec::new(), Vec::new());
        }
        let zone = self.clinic(clinic).zone;
        let (start, end) = booking_instants(booking);
        let Some(date) = zone.reading(start.unix_seconds()).date() else {
            return (Vec::new(), Vec::new());
        };
        let segments = wall_segments(zone, start, end, date);
        let (from, to) = booking.buffers.around(start, end);
        let need = Need {
            clinic,
            date,
            segments: &segments,
            buffered: CellSpan::touched_by(self.settings().resolution, from, to),
        };
        let mut reasons = Vec::new();
        let mut held = Vec::new();
        match &booking.resources {
            ResourceChoice::Auto => {
                for requirement in requires {
                    if let Some(&r) = requirement.iter().find(|&&r| self.resource_free(r, &need)) {
                        held.push(r);
                        continue;
                    }
                    if let Some(&r) = requirement
                        .iter()
                        .find(|&&r| self.resource(r).clinic == clinic)
                    {
                        held.push(r);
                    }
                    if describe {
                        let refusals: Vec<(ResourceIx, Refusal)> = requirement
                            .iter()
                            .filter_map(|&r| self.resource_refusal(r, &need).map(|why| (r, why)))
                            .collect();
                        let kind = resource_kind(refusals.iter().map(|(_, why)| why));
                        let unmet = crate::resource::Unmet {
                            requirement: 0,
                            refusals,
                        };
                        reasons.push(OverrideReason {
                            kind,
                            message: self.unmet_text(&unmet, clinic),
                        });
                    }
                }
            }
            ResourceChoice::Chosen(list) => {
                held = list.clone();
                held.sort_unstable();
                held.dedup();
                if describe {
                    for &r in &held {
                        if let Some(why) = self.resource_refusal(r, &need) {
                            reasons.push(OverrideReason {
                                kind: resource_kind(std::iter::once(&why)),
                                message: self.refusal_text(r, &why, clinic),
                            });
                        }
                    }
                    for requirement in requires {
                        if !requirement.iter().any(|r| held.binary_search(r).is_ok()) {
                            let names: Vec<&str> = requirement
                                .iter()
                                .map(|&r| self.resource(r).name.as_str())
                                .collect();
                            let service = match booking.purpose {
                                Purpose::Service(v) => self.service(v).name.as_str(),
                                _ => "the service",
                            };
                            reasons.push(OverrideReason {
                                kind: OverrideKind::ResourceMissing,
                                message: match names.as_slice() {
                                    [one] => format!("{service} needs {one}, which is not named"),
                                    _ => format!(
                                        "{service} needs one of {}; none is named",
                                        names.join(", ")
                                    ),
                                },
                            });
                        }
                    }
                }
            }
        }
        held.sort_unstable();
        (held, reasons)
    }

    /// The reasons the booking does not fit one record's blocks of one schedule type,
    /// or `None` when the record is not in force on the booking's date.
    /// Without `describe`, the reasons' messages are left empty: the caller only
    /// counts them.
    fn staff_fit(
        &self,
        p: &Practitioner,
        record: &AvailabilityRecord,
        (t, clinic_ix): (ScheduleTypeIx, ClinicIx),
        (start, end, utc_span): (Instant, Instant, Spans),
        describe: bool,
    ) -> Option<Vec<OverrideReason>> {
        let clinic = self.clinic(clinic_ix);
        let zone = clinic.zone;
        let start_reading = zone.reading(start.unix_seconds());
        let date = start_reading.date()?;
        if !record.dates().contains(date) {
            return None;
        }
        let schedule_type = self.schedule_type(t);
        let mut reasons = Vec::new();
        let end_seconds = -((-end.unix_nanos()).div_euclid(1_000_000_000));
        let end_reading = zone.reading(end_seconds);
        let same_day = end_reading.days == start_reading.days
            || (end_reading.days == start_reading.days + 1 && end_reading.second_of_day == 0);
        if !same_day {
            reasons.push(OverrideReason {
                kind: OverrideKind::SpansDays,
                message: say(describe, || {
                    format!(
                        "it runs past midnight at the end of {date} ({})",
                        clinic.name
                    )
                }),
            });
        }
        // The wall-clock cells the booking's instants read as, on this date.
        let covered = wall_segments(zone, start, end, date).iter().all(|&(a, b)| {
            let grid = &record.grid_of(t).expect("record has blocks of t").grid;
            grid.covers(date.weekday(), a, b)
        });
        if !covered {
            reasons.push(OverrideReason {
                kind: OverrideKind::OutsideAvailability,
                message: say(describe, || {
                    format!(
                        "{} from {} on {date} is outside {}'s {} availability",
                        duration_text(start, end),
                        hhmm(start_reading.second_of_day / 60),
                        p.name,
                        schedule_type.name
                    )
                }),
            });
        }
        if clinic.is_holiday(date) {
            reasons.push(OverrideReason {
                kind: OverrideKind::Holiday,
                message: say(describe, || format!("{} is closed on {date}", clinic.name)),
            });
        }
        reasons.extend(self.staff_time_reasons(p, utc_span, zone, Some(t), describe));
        Some(reasons)
    }

    /// Reasons when no record and schedule type applies at all.
    fn staff_no_fit(
        &self,
        p: &Practitioner,
        allowed: &[ScheduleTypeIx],
        start: Instant,
        utc_span: Spans,
    ) -> Vec<OverrideReason> {
        let zone = self.clinic(p.home_clinic).zone;
        let date = zone.reading(start.unix_seconds()).date();
        let mut reasons = Vec::new();
        let has_record = date.is_some_and(|d| p.record_on(d).is_some());
        if !has_record {
            reasons.push(OverrideReason {
                kind: OverrideKind::NoRecord,
                message: format!(
                    "{} has no availability record covering {}",
                    p.name,
                    date.map_or_else(|| "that date".to_owned(), |d| d.to_string())
                ),
            });
        } else {
            let names: Vec<&str> = allowed
                .iter()
                .map(|&t| self.schedule_type(t).name.as_str())
                .collect();
            reasons.push(OverrideReason {
                kind: OverrideKind::OutsideAvailability,
                message: format!(
                    "{} has no {} availability then",
                    p.name,
                    if names.is_empty() {
                        "matching".to_owned()
                    } else {
                        names.join(" or ")
                    }
                ),
            });
        }
        let strict = allowed
            .iter()
            .find(|&&t| !self.schedule_type(t).allow_conflicts)
            .copied();
        reasons.extend(self.staff_time_reasons(
            p,
            utc_span,
            zone,
            strict.or(allowed.first().copied()),
            true,
        ));
        reasons
    }

    /// Time off, and conflicts when the schedule type does not allow them.
    fn staff_time_reasons(
        &self,
        p: &Practitioner,
        spans: Spans,
        zone: Zone,
        t: Option<ScheduleTypeIx>,
        describe: bool,
    ) -> Vec<OverrideReason> {
        let mut reasons = Vec::new();
        let span = spans.buffered;
        // Said when only the time kept free around the booking meets something.
        const IN_BUFFER: &str = " (in the buffer kept free around it)";
        if p.occupancy().time_off_touches(span) {
            let own = p.occupancy().time_off_touches(spans.own);
            reasons.push(OverrideReason {
                kind: OverrideKind::TimeOff,
                message: say(describe, || {
                    format!(
                        "{}{}",
                        self.time_off_reason(p, span, zone),
                        if own { "" } else { IN_BUFFER }
                    )
                }),
            });
        }
        let strict = t.is_none_or(|t| !self.schedule_type(t).allow_conflicts);
        if strict && let Some((cell, count)) = p.occupancy().busiest_cell(span) {
            let at = cell * i64::from(self.settings().resolution.minutes()) * 60;
            let name = t.map_or("the schedule type", |t| self.schedule_type(t).name.as_str());
            reasons.push(OverrideReason {
                kind: OverrideKind::Conflict,
                message: say(describe, || {
                    format!(
                        "{count} appointment{} already at {}{} ({name} does not allow conflicts)",
                        if count == 1 { "" } else { "s" },
                        time_on_date(at, zone.offset_at(at)),
                        if spans.own.start <= cell && cell < spans.own.end {
                            ""
                        } else {
                            IN_BUFFER
                        }
                    )
                }),
            });
        }
        reasons
    }
}

/// The start and end instants of a staff booking.
fn booking_instants(booking: &StaffBooking) -> (Instant, Instant) {
    let d = i64::from(booking.duration_minutes.max(1));
    let start = booking.start;
    (
        start,
        Instant::computed(start.unix_nanos() + d * 60_000_000_000),
    )
}

/// Taken when any resource is full, else unavailable.
fn resource_kind<'a>(mut refusals: impl Iterator<Item = &'a Refusal>) -> OverrideKind {
    if refusals.any(|why| matches!(why, Refusal::Full { .. })) {
        OverrideKind::ResourceTaken
    } else {
        OverrideKind::ResourceUnavailable
    }
}

/// `text()` when the reason is to be described, else nothing (and no allocation).
fn say(describe: bool, text: impl FnOnce() -> String) -> String {
    if describe { text() } else { String::new() }
}

/// A booking's own cells and those of its buffered interval.
#[derive(Clone, Copy, Debug)]
struct Spans {
    own: CellSpan,
    buffered: CellSpan,
}

fn duration_text(start: Instant, end: Instant) -> String {
    let minutes = (end.unix_nanos() - start.unix_nanos()) / 60_000_000_000;
    format!("{minutes} minutes")
}

/// The wall-clock stretches (minutes after `date`'s midnight, possibly past 1440) that
/// the instants `[start, end)` read as in `zone`: one stretch, or two when the offset
/// changes in between.
fn wall_segments(zone: Zone, start: Instant, end: Instant, date: Date) -> Vec<(u32, u32)> {
    let base = date.midnight_seconds();
    let a = start.unix_seconds();
    let b = -((-end.unix_nanos()).div_euclid(1_000_000_000));
    let to_minutes = |seconds: i64, offset: i32, round_up: bool| -> u32 {
        let local = seconds + i64::from(offset) - base;
        let minutes = if round_up {
            -((-local).div_euclid(60))
        } else {
            local.div_euclid(60)
        };
        minutes.clamp(0, i64::from(MINUTES_PER_DAY) + 1) as u32
    };
    let (o1, o2) = (zone.offset_at(a), zone.offset_at(b - 1));
    if o1 == o2 || b - a <= 1 {
        return vec![(to_minutes(a, o1, false), to_minutes(b, o1, true))];
    }
    // Find the transition: the first second at which the offset is o2.
    let (mut lo, mut hi) = (a, b - 1);
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if zone.offset_at(mid) == o1 {
            lo = mid
        } else {
            hi = mid
        }
    }
    vec![
        (to_minutes(a, o1, false), to_minutes(hi, o1, true)),
        (to_minutes(hi, o2, false), to_minutes(b, o2, true)),
    ]
}
