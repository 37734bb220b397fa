//! Weekly series (`docs/scenario.md`, *Series (v2)*): a first occurrence and a rule,
//! every occurrence an appointment row of its own that names its series.
//!
//! A series is checked and booked in one transaction under the practitioner's lock,
//! exactly as a single booking is: the window of every occurrence's dates is loaded
//! under the lock and the engine checks each occurrence against it
//! ([`slot_engine::Model::check_staff_series`], [`slot_engine::Model::check_series`]).
//! Occurrences are at least a week apart and never meet, so checking each against the
//! same appointments is checking them together; and since nobody else can book the
//! practitioner until the commit, two requests for the same Tuesdays never both get
//! them.
//!
//! - Staff ([`book_staff`]) book all or none ([`Unfit::Refuse`]), or only what fits
//!   ([`Unfit::Skip`]), with an override reason for each occurrence they choose; an
//!   occurrence whose time does not exist that day (clocks go forward) is never booked.
//! - Patients ([`book_portal`]) book a service that allows series, all or none.
//! - Cancelling or moving one occurrence is cancelling or moving an appointment;
//!   [`cancel_following`] and [`move_following`] change it and every later occurrence
//!   still to come, all or none, in one transaction.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeZone, Timelike};
use serde::Serialize;
use slot_engine::{
    Date, Instant, LocalTime, OverrideKind, Purpose, SeriesEnd, SeriesRule,
    StaffBooking as EngineStaffBooking, Zone,
};

use crate::appointment_status::{AppointmentStatus, Channel};
use crate::db::{Db, Exec, Tx, execute, rows, scalar, scalar_optional};
use crate::error::{Error, Result};
use crate::organisation::{self, Organisation};
use crate::time::Clock;
use crate::window::{self, EngineInput, Window};

use super::insert::{check_idempotency_key, insert_one, request_hash};
use super::locking::{lock_practitioner, lock_practitioners, settings_now};
use super::queries::{get as get_appointment, patient_practitioners};
use super::staff_booking::{Placement, StaffBooking, default_duration, override_reason};
use super::status_change::{cancel_deadline, cancel_reason, cancellable_until};
use super::{Actor, Appointment, COLUMNS, NewRow};

/// A series row: who it is for, its rule, who booked it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Series {
    /// Row id.
    pub id: i64,
    /// Scenario id (the appointments' `series` field), when it has one.
    pub key: Option<String>,
    /// The practitioner of its first occurrence.
    pub practitioner_id: i64,
    /// The patient, if any.
    pub patient_id: Option<i64>,
    /// The service, if any.
    pub service_id: Option<i64>,
    /// Weeks between occurrences (1 to 4); `None` for an imported series, whose
    /// scenario keeps no rule.
    pub every_weeks: Option<i64>,
    /// How many occurrences the rule made (the first included), when it ends by count.
    pub planned_count: Option<i64>,
    /// The last date of the rule (`YYYY-MM-DD`), when it ends by date.
    pub until_date: Option<String>,
    /// How it was made.
    pub channel: Channel,
    /// Who booked it (`staff:3`, `patient:12`, `import`).
    pub created_by: String,
    /// When, ns since the Unix epoch.
    pub created_at_ns: i64,
}

const SERIES_COLUMNS: &str = "id, key, practitioner_id, patient_id, service_id, every_weeks, \
    planned_count, until_date, channel, created_by, created_at_ns";

/// Composes the emails announcing a change to several occurrences at once (a series
/// booked, cancelled or moved from one occurrence on): one message listing them all
/// rather than one per occurrence. Queued in the same transaction as the change.
pub type SeriesNotify<'a> =
    &'a (dyn Fn(&[Appointment]) -> Vec<crate::outbox::NewMessage> + Send + Sync);

/// What staff do with an occurrence that needs an override and was given none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfit {
    /// Book nothing: the series goes in whole or not at all.
    Refuse,
    /// Leave it out and book the others.
    Skip,
}

/// A series booked by front-desk staff: a staff booking, repeated.
#[derive(Clone, Debug)]
pub struct StaffSeries {
    /// Who books: a staff user, or an API key (which may not override).
    pub staff: Actor,
    /// The practitioner.
    pub practitioner: i64,
    /// The patient, if any.
    pub patient: Option<i64>,
    /// The service, if any.
    pub service: Option<i64>,
    /// The schedule type, if booking without a service.
    pub schedule_type: Option<i64>,
    /// The first occurrence's start; the others are at the same wall-clock time in
    /// the series' clinic.
    pub start: Instant,
    /// The length, as for a single staff booking.
    pub duration_minutes: Option<u32>,
    /// Video appointments.
    pub telehealth: bool,
    /// Every how many weeks, until when.
    pub rule: SeriesRule,
    /// What to do with an occurrence that needs an override and has none here.
    pub unfit: Unfit,
    /// The override reasons of the occurrences booked despite the engine's reasons, by
    /// date. A date that is no occurrence's, or an occurrence that does not exist, is
    /// refused naming `overrides`.
    pub overrides: BTreeMap<Date, String>,
    /// A client-chosen key that makes a retried request return the first series.
    pub idempotency_key: Option<String>,
}

/// A series booked by a patient in the portal: all or none.
#[derive(Clone, Debug)]
pub struct PortalSeries {
    /// The patient booking.
    pub patient: i64,
    /// The service, which must allow series.
    pub service: i64,
    /// The practitioner.
    pub practitioner: i64,
    /// The first occurrence's start.
    pub start: Instant,
    /// Video appointments.
    pub telehealth: bool,
    /// Every how many weeks, until when.
    pub rule: SeriesRule,
    /// A client-chosen key that makes a retried request return the first series.
    pub idempotency_key: Option<String>,
}

/// What the engine says of one occurrence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// It can be booked as it is.
    Open,
    /// Staff may book it only with an override; every reason, in words.
    NeedsOverride {
        /// Each reason.
        reasons: Vec<String>,
    },
    /// The portal's slot rules refuse it.
    Refused {
        /// The rule's number in `docs/scenario.md`.
        rule: u8,
        /// Why, in words a patient can read.
        reason: String,
    },
    /// Its wall-clock time does not exist on its date (clocks go forward): nothing
    /// can book it.
    DoesNotExist {
        /// Why, naming the time, date and zone.
        reason: String,
    },
}

/// One occurrence of a series, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OccurrenceCheck {
    /// Its date in the series' clinic's zone.
    pub date: Date,
    /// Its start; `None` when the time does not exist that day.
    pub start: Option<Instant>,
    /// The start as the engine writes it, in the clinic's offset then.
    pub start_text: Option<String>,
    /// What the engine says.
    pub verdict: Verdict,
}

impl OccurrenceCheck {
    /// Whether it can be booked as it is.
    pub fn is_open(&self) -> bool {
        self.verdict == Verdict::Open
    }
}

/// A series checked: its clinic, and each occurrence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesCheck {
    /// The clinic whose zone the series' wall-clock time is read in.
    pub clinic_id: i64,
    /// That clinic's IANA timezone.
    pub clinic_timezone: String,
    /// The length of each occurrence, in minutes.
    pub duration_minutes: u32,
    /// Each occurrence, by date.
    pub occurrences: Vec<OccurrenceCheck>,
}

impl SeriesCheck {
    /// Whether every occurrence can be booked as it is.
    pub fn all_open(&self) -> bool {
        self.occurrences.iter().all(OccurrenceCheck::is_open)
    }
}

/// A series that went in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookedSeries {
    /// The series row.
    pub series: Series,
    /// Its appointments, by start.
    pub appointments: Vec<Appointment>,
    /// The occurrences left out (skipped, or not existing), with why.
    pub skipped: Vec<OccurrenceCheck>,
    /// True when the idempotency key had been used: this is the first request's
    /// series, and nothing new was booked.
    pub replayed: bool,
}

/// What a series booking request comes to.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeriesOutcome {
    /// Booked: every occurrence, or those chosen.
    Booked(BookedSeries),
    /// Nothing was booked: some occurrence cannot be, and the request wanted all of
    /// them. Every occurrence is listed with its verdict.
    Refused(SeriesCheck),
}

/// One series of the organisation.
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<Series> {
    let sql =
        format!("SELECT {SERIES_COLUMNS} FROM appointment_series WHERE org_id = $1 AND id = $2");
    rows!(exec, fetch_optional, Series, &sql, org, id)?.ok_or(Error::NotFound("series"))
}

/// A series' appointments, cancelled ones included, by start.
pub async fn appointments(exec: Exec<'_>, org: i64, series: i64) -> Result<Vec<Appointment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND series_id = $2 ORDER BY start_ns, id"
    );
    Ok(rows!(exec, fetch_all, Appointment, &sql, org, series)?)
}

/// The dates a series' window must cover: the day before its first start to two days
/// after its last possible occurrence (every clinic's reading of each start falls in
/// it). An end date far away is capped at the longest series, which the engine then
/// refuses naming it.
fn window_dates(start: Instant, rule: &SeriesRule) -> (Date, Date) {
    let day = Date::try_from(start.to_utc().date_naive()).unwrap_or(Date::MIN);
    let longest =
        7 * i64::from(rule.every_weeks()) * i64::from(slot_engine::series::MAX_OCCURRENCES - 1);
    let last = match rule.end() {
        SeriesEnd::Count(n) => day
            .add_days(7 * i64::from(rule.every_weeks()) * i64::from(n.saturating_sub(1)))
            .unwrap_or(day),
        SeriesEnd::Until(until) => {
            let cap = day.add_days(longest + 7).unwrap_or(day);
            until.clamp(day, cap)
        }
    };
    (
        day.add_days(-1).unwrap_or(day),
        last.add_days(2).unwrap_or(last),
    )
}

/// The field a rule's refusal names.
fn rule_field(rule: &SeriesRule) -> &'static str {
    match rule.end() {
        SeriesEnd::Count(_) => "count",
        SeriesEnd::Until(_) => "until",
    }
}

fn the_booking(s: &StaffSeries) -> StaffBooking {
    StaffBooking {
        staff: s.staff,
        practitioner: s.practitioner,
        patient: s.patient,
        service: s.service,
        schedule_type: s.schedule_type,
        start: s.start,
        duration_minutes: s.duration_minutes,
        telehealth: s.telehealth,
        override_reason: None,
        idempotency_key: None,
        resources: super::resources::ResourceRequest::Auto,
    }
}

/// Resolves every id of a staff series inside the organisation (a foreign one is not
/// found) and its length.
async fn resolve_staff(exec: &mut Exec<'_>, org: i64, s: &StaffSeries) -> Result<u32> {
    scalar_optional!(
        exec.reborrow(),
        i64,
        "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2",
        org,
        s.practitioner
    )?
    .ok_or(Error::NotFound("practitioner"))?;
    for (noun, table, id) in [
        ("patient", "patients", s.patient),
        ("service", "services", s.service),
        ("schedule type", "schedule_types", s.schedule_type),
    ] {
        if let Some(id) = id {
            let sql = format!("SELECT id FROM {table} WHERE org_id = $1 AND id = $2");
            scalar_optional!(exec.reborrow(), i64, &sql, org, id)?.ok_or(Error::NotFound(noun))?;
        }
    }
    let duration = default_duration(exec, org, &the_booking(s)).await?;
    if !(1..=1440).contains(&duration) {
        return Err(Error::invalid(
            "duration_minutes",
            "must be between 1 and 1440",
        ));
    }
    Ok(duration)
}

/// Checks a staff series against the window of its dates: each occurrence's verdict
/// and, for each, where it would go.
async fn check_staff_in(
    exec: &mut Exec<'_>,
    org: &Organisation,
    s: &StaffSeries,
    duration: u32,
    locked: Option<&[i64]>,
) -> Result<(SeriesCheck, Vec<Placement>)> {
    let (from, to) = window_dates(s.start, &s.rule);
    let input = window::load(
        exec,
        org,
        &Window {
            service: s.service,
            practitioners: Some(vec![s.practitioner]),
            from,
            to,
            skip_appointment: None,
            resources: Vec::new(),
        },
    )
    .await?;
    if let Some(locked) = locked {
        super::resources::check_locked(&input, s.service, locked)?;
    }
    let given_type = s
        .schedule_type
        .map(|t| {
            input
                .schedule_type_ix(t)
                .ok_or(Error::NotFound("schedule type"))
        })
        .transpose()?;
    let purpose = match (s.service, given_type) {
        (Some(id), _) => Purpose::Service(input.service_ix(id).ok_or(Error::NotFound("service"))?),
        (None, Some(t)) => Purpose::ScheduleType(t),
        (None, None) => Purpose::Unspecified,
    };
    let practitioner = input
        .practitioner_ix(s.practitioner)
        .ok_or(Error::NotFound("practitioner"))?;
    // A new booking keeps its service's buffers, as the model checked against has them.
    let buffers = input.model.new_booking_buffers(purpose);
    let first = EngineStaffBooking {
        practitioner,
        start: s.start,
        duration_minutes: duration,
        purpose,
        buffers,
        resources: slot_engine::ResourceChoice::Auto,
    };
    let model = &input.model;
    let found = model
        .check_staff_series(&first, &s.rule)
        .map_err(|e| Error::invalid(rule_field(&s.rule), e.to_string()))?;
    let clinic = found.first().map(|o| o.clinic);
    let mut occurrences = Vec::with_capacity(found.len());
    let mut placements = Vec::with_capacity(found.len());
    for o in &found {
        let (fitted_type, mut reasons, missing) = match &o.answer {
            Ok(fit) => (Some(fit.schedule_type), Vec::new(), None),
            Err(reasons) => match reasons
                .iter()
                .find(|r| r.kind == OverrideKind::DoesNotExist)
            {
                Some(gap) => (None, Vec::new(), Some(gap.message.clone())),
                None => (
                    None,
                    reasons.iter().map(|r| r.message.clone()).collect(),
                    None,
                ),
            },
        };
        let placed_type = fitted_type.or(given_type);
        if s.telehealth
            && let Some(t) = placed_type
            && !model.schedule_type(t).telehealth
        {
            reasons.push(format!(
                "{} does not allow video appointments",
                model.schedule_type(t).name
            ));
        }
        let start = o.start.unwrap_or(s.start);
        // What this occurrence holds: what fitted, or what it takes overridden.
        let held = match &o.answer {
            Ok(fit) => fit.resources.clone(),
            Err(_) => model.staff_resources(&EngineStaffBooking {
                start,
                ..first.clone()
            }),
        };
        placements.push(Placement {
            buffers,
            schedule_type: fitted_type.map(|t| input.schedule_type_id(t)),
            clinic: input.clinic_id(model.appointment_clinic(practitioner, placed_type, start)),
            resources: input.resource_ids(&held),
        });
        let verdict = match missing {
            Some(reason) => Verdict::DoesNotExist { reason },
            None if reasons.is_empty() => Verdict::Open,
            None => Verdict::NeedsOverride { reasons },
        };
        occurrences.push(OccurrenceCheck {
            date: o.date,
            start: o.start,
            start_text: o.start_text(model),
            verdict,
        });
    }
    let clinic = clinic.ok_or_else(|| Error::invalid(rule_field(&s.rule), "no occurrence"))?;
    Ok((
        SeriesCheck {
            clinic_id: input.clinic_id(clinic),
            clinic_timezone: model.clinic(clinic).zone.name().to_owned(),
            duration_minutes: duration,
            occurrences,
        },
        placements,
    ))
}

/// Checks a staff series without booking it: what the booking form previews. The
/// booking itself checks again under the practitioner's lock.
pub async fn preview_staff(db: &Db, org: &Organisation, s: &StaffSeries) -> Result<SeriesCheck> {
    // A read outside any transaction, as `check_portal`: on SQLite a transaction here
    // would take the write lock that bookings wait on.
    let mut conn = db.conn().await?;
    let duration = resolve_staff(&mut conn.exec(), org.id, s).await?;
    let (check, _) = check_staff_in(&mut conn.exec(), org, s, duration, None).await?;
    Ok(check)
}

/// The override reasons of a staff series, trimmed and checked like a single
/// booking's.
fn checked_overrides(s: &StaffSeries) -> Result<BTreeMap<Date, String>> {
    let mut out = BTreeMap::new();
    for (date, reason) in &s.overrides {
        let reason = override_reason(s.staff, &Some(reason.clone()))
            .map_err(|e| Error::invalid("overrides", format!("{date}: {}", message_of(e))))?
            .unwrap_or_default();
        out.insert(*date, reason);
    }
    Ok(out)
}

fn message_of(e: Error) -> String {
    match e {
        Error::Invalid { message, .. } => message,
        other => other.to_string(),
    }
}

/// Books a staff series in one transaction under the practitioner's lock: each
/// occurrence that fits goes in; one that needs an override goes in with the reason
/// [`StaffSeries::overrides`] gives for its date, is left out ([`Unfit::Skip`]), or
/// stops the whole series ([`Unfit::Refuse`], answered [`SeriesOutcome::Refused`] with
/// every occurrence's verdict). An occurrence that does not exist is never booked: it
/// is left out, or refuses the series under [`Unfit::Refuse`].
///
/// Each occurrence is an appointment row naming the series, audited like a single
/// staff booking (`appointment.book` or `appointment.book_override`); the series is
/// audited as `series.book`, and the emails `notify` composes for the whole series are
/// queued with it.
pub async fn book_staff(
    db: &Db,
    org: &Organisation,
    s: &StaffSeries,
    clock: &dyn Clock,
    notify: Option<SeriesNotify<'_>>,
) -> Result<SeriesOutcome> {
    check_idempotency_key(&s.idempotency_key)?;
    let overrides = checked_overrides(s)?;
    let mut tx = db.begin().await?;
    lock_practitioner(&mut tx, org.id, s.practitioner).await?;
    let locked = super::resources::lock_resources(&mut tx, org.id, s.service, &[]).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    let actor = s.staff;
    let mut fields = vec![
        ("staff.series.practitioner", Some(s.practitioner)),
        ("patient", s.patient),
        ("service", s.service),
        ("schedule_type", s.schedule_type),
        ("start", Some(s.start.unix_nanos())),
        ("duration_minutes", s.duration_minutes.map(i64::from)),
        ("telehealth", Some(i64::from(s.telehealth))),
        ("unfit", Some(i64::from(s.unfit == Unfit::Skip))),
    ];
    fields.extend(rule_fields(&s.rule));
    for date in overrides.keys() {
        fields.push(("override", Some(day_number(*date))));
    }
    let request = request_hash(&fields);
    if let Some(key) = &s.idempotency_key
        && let Some(done) = replay(&mut tx, org.id, actor, key, &request).await?
    {
        return Ok(SeriesOutcome::Booked(done));
    }
    let duration = resolve_staff(&mut tx.exec(), org.id, s).await?;
    let (check, placements) =
        check_staff_in(&mut tx.exec(), org, s, duration, Some(&locked)).await?;
    for date in overrides.keys() {
        match check.occurrences.iter().find(|o| o.date == *date) {
            None => {
                return Err(Error::invalid(
                    "overrides",
                    format!("{date} is not a date of this series"),
                ));
            }
            Some(OccurrenceCheck {
                verdict: Verdict::DoesNotExist { reason },
                ..
            }) => {
                return Err(Error::invalid(
                    "overrides",
                    format!("{reason}: that occurrence cannot be booked"),
                ));
            }
            Some(_) => {}
        }
    }
    let mut chosen = Vec::new();
    let mut skipped = Vec::new();
    let mut refused = false;
    for (o, placement) in check.occurrences.iter().zip(&placements) {
        let reason = match &o.verdict {
            Verdict::Open => None,
            Verdict::NeedsOverride { .. } if overrides.contains_key(&o.date) => {
                Some(overrides[&o.date].clone())
            }
            _ if s.unfit == Unfit::Skip => {
                skipped.push(o.clone());
                continue;
            }
            _ => {
                refused = true;
                break;
            }
        };
        chosen.push((o.clone(), placement.clone(), reason));
    }
    if refused {
        return Ok(SeriesOutcome::Refused(check));
    }
    if chosen.is_empty() {
        return Err(Error::invalid(
            "series",
            "no occurrence of this series can be booked without an override",
        ));
    }
    let now = clock.now_ns();
    let series = insert_series(
        &mut tx,
        org.id,
        &NewSeries {
            practitioner: s.practitioner,
            patient: s.patient,
            service: s.service,
            rule: &s.rule,
            channel: Channel::Staff,
            idempotency_key: s.idempotency_key.as_deref(),
            request: &request,
            actor,
        },
        now,
    )
    .await?;
    let mut booked = Vec::with_capacity(chosen.len());
    for (o, placement, reason) in chosen {
        let start = o
            .start
            .expect("an occurrence that does not exist is never chosen");
        let row = NewRow {
            key: None,
            practitioner_id: s.practitioner,
            patient_id: s.patient,
            service_id: s.service,
            schedule_type_id: placement.schedule_type.or(s.schedule_type),
            clinic_id: Some(placement.clinic),
            telehealth: s.telehealth,
            start_ns: start.unix_nanos(),
            end_ns: start.unix_nanos() + i64::from(duration) * 60_000_000_000,
            status: AppointmentStatus::Booked,
            channel: Channel::Staff,
            override_by: reason.as_ref().and_then(|_| s.staff.staff_id()),
            override_reason: reason.clone(),
            idempotency_key: None,
            actor: actor.label(),
            buffers: placement.buffers,
            resources: placement.resources,
        };
        let details = match (&reason, &o.verdict) {
            (Some(r), Verdict::NeedsOverride { reasons }) => {
                serde_json::json!({ "override_reason": r, "overridden": reasons })
            }
            _ => serde_json::json!({}),
        };
        booked
            .push(insert_occurrence(&mut tx, org.id, &row, series.id, actor, details, now).await?);
    }
    finish(tx, org.id, series, booked, skipped, actor, notify, now).await
}

/// Books a portal series, all or none, in one transaction under the practitioner's
/// lock: the patient's practitioners (refused with [`Error::Forbidden`]), the service's
/// being online ([`Error::NotFound`]) and allowing series (refused naming `service`),
/// then every occurrence by the portal's slot rules. If any occurrence is refused
/// nothing is booked, and [`SeriesOutcome::Refused`] says which and why.
///
/// The appointments are booked, or pending when the organisation does not auto-accept,
/// like single portal bookings; each is audited as `appointment.book`, the series as
/// `series.book`, and the emails `notify` composes for the whole series are queued
/// with it.
pub async fn book_portal(
    db: &Db,
    org: &Organisation,
    s: &PortalSeries,
    clock: &dyn Clock,
    notify: Option<SeriesNotify<'_>>,
) -> Result<SeriesOutcome> {
    check_idempotency_key(&s.idempotency_key)?;
    let mut tx = db.begin().await?;
    let allowed = portal_allowed(&mut tx.exec(), org.id, s).await?;
    lock_practitioner(&mut tx, org.id, s.practitioner).await?;
    let locked = super::resources::lock_resources(&mut tx, org.id, Some(s.service), &[]).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    let actor = Actor::Patient(s.patient);
    let mut fields = vec![
        ("portal.series.patient", Some(s.patient)),
        ("service", Some(s.service)),
        ("practitioner", Some(s.practitioner)),
        ("start", Some(s.start.unix_nanos())),
        ("telehealth", Some(i64::from(s.telehealth))),
    ];
    fields.extend(rule_fields(&s.rule));
    let request = request_hash(&fields);
    if let Some(key) = &s.idempotency_key
        && let Some(done) = replay(&mut tx, org.id, actor, key, &request).await?
    {
        return Ok(SeriesOutcome::Booked(done));
    }
    let (input, check, slots) =
        check_portal_in(&mut tx.exec(), org, s, allowed.as_deref(), clock.now()).await?;
    super::resources::check_locked(&input, Some(s.service), &locked)?;
    if !check.all_open() {
        return Ok(SeriesOutcome::Refused(check));
    }
    let now = clock.now_ns();
    let series = insert_series(
        &mut tx,
        org.id,
        &NewSeries {
            practitioner: s.practitioner,
            patient: Some(s.patient),
            service: Some(s.service),
            rule: &s.rule,
            channel: Channel::Portal,
            idempotency_key: s.idempotency_key.as_deref(),
            request: &request,
            actor,
        },
        now,
    )
    .await?;
    // The no-show policy (migration 0027), read under the lock as a single booking does.
    let status = if org.auto_accept_portal_bookings
        && !crate::patient::pending_by_no_shows(tx.exec(), org.id, s.patient).await?
    {
        AppointmentStatus::Booked
    } else {
        AppointmentStatus::Pending
    };
    let mut booked = Vec::with_capacity(slots.len());
    for slot in slots {
        let row = NewRow {
            key: None,
            practitioner_id: s.practitioner,
            patient_id: Some(s.patient),
            service_id: Some(s.service),
            schedule_type_id: Some(input.schedule_type_id(slot.schedule_type)),
            clinic_id: Some(input.clinic_id(slot.clinic)),
            telehealth: s.telehealth,
            start_ns: slot.start_instant().unix_nanos(),
            end_ns: slot.end_instant().unix_nanos(),
            status,
            channel: Channel::Portal,
            override_reason: None,
            override_by: None,
            idempotency_key: None,
            actor: actor.label(),
            // The buffers the engine just checked the slot with: the service's.
            buffers: input.service_buffers(s.service),
            // Each occurrence holds the rooms and equipment checked free for it.
            resources: input.resource_ids(&input.model.slot_resources(&slot)),
        };
        booked.push(
            insert_occurrence(
                &mut tx,
                org.id,
                &row,
                series.id,
                actor,
                serde_json::json!({}),
                now,
            )
            .await?,
        );
    }
    finish(tx, org.id, series, booked, Vec::new(), actor, notify, now).await
}

/// What a portal series would come to now, without booking: the confirm page's
/// preview. Refuses as [`book_portal`] does (another patient's practitioner, a service
/// that is not online or does not allow series).
pub async fn preview_portal(
    db: &Db,
    org: &Organisation,
    s: &PortalSeries,
    clock: &dyn Clock,
) -> Result<SeriesCheck> {
    let mut conn = db.conn().await?;
    let allowed = portal_allowed(&mut conn.exec(), org.id, s).await?;
    let (_, check, _) =
        check_portal_in(&mut conn.exec(), org, s, allowed.as_deref(), clock.now()).await?;
    Ok(check)
}

/// The practitioners the patient may book (`None`: all), once the series' practitioner
/// is one of them and its service is online.
async fn portal_allowed(
    exec: &mut Exec<'_>,
    org: i64,
    s: &PortalSeries,
) -> Result<Option<Vec<i64>>> {
    let allowed = patient_practitioners(exec, org, s.patient).await?;
    if allowed
        .as_ref()
        .is_some_and(|list| !list.contains(&s.practitioner))
    {
        return Err(Error::Forbidden(
            "this practitioner is not available to you",
        ));
    }
    crate::portal::service(exec.reborrow(), org, s.service).await?;
    Ok(allowed)
}

async fn check_portal_in(
    exec: &mut Exec<'_>,
    org: &Organisation,
    s: &PortalSeries,
    allowed: Option<&[i64]>,
    now: Instant,
) -> Result<(EngineInput, SeriesCheck, Vec<slot_engine::Slot>)> {
    let (from, to) = window_dates(s.start, &s.rule);
    let input = window::load(
        exec,
        org,
        &Window {
            service: Some(s.service),
            practitioners: Some(vec![s.practitioner]),
            from,
            to,
            skip_appointment: None,
            resources: Vec::new(),
        },
    )
    .await?;
    let query = window::portal_query(&input, s.service, allowed, now, s.telehealth)?;
    let practitioner = input
        .practitioner_ix(s.practitioner)
        .ok_or(Error::NotFound("practitioner"))?;
    let model = &input.model;
    let service = model.service(query.service());
    if !service.allow_series {
        return Err(Error::invalid(
            "service",
            format!("{} cannot be booked online as a series", service.name),
        ));
    }
    let found = model
        .check_series(&query, practitioner, s.start, &s.rule)
        .map_err(|e| Error::invalid(rule_field(&s.rule), e.to_string()))?;
    let clinic = found
        .first()
        .map(|o| o.clinic)
        .ok_or_else(|| Error::invalid(rule_field(&s.rule), "no occurrence"))?;
    let mut occurrences = Vec::with_capacity(found.len());
    let mut slots = Vec::with_capacity(found.len());
    for o in &found {
        let verdict = match (&o.answer, o.start) {
            (Ok(slot), _) => {
                slots.push(*slot);
                Verdict::Open
            }
            (Err(no), None) => Verdict::DoesNotExist {
                reason: no.reason.clone(),
            },
            (Err(no), Some(_)) => Verdict::Refused {
                rule: no.rule.number(),
                reason: no.reason.clone(),
            },
        };
        occurrences.push(OccurrenceCheck {
            date: o.date,
            start: o.start,
            start_text: o.start_text(model),
            verdict,
        });
    }
    let check = SeriesCheck {
        clinic_id: input.clinic_id(clinic),
        clinic_timezone: model.clinic(clinic).zone.name().to_owned(),
        duration_minutes: service.duration_minutes,
        occurrences,
    };
    Ok((input, check, slots))
}

/// The rule, as request-hash fields.
fn rule_fields(rule: &SeriesRule) -> Vec<(&'static str, Option<i64>)> {
    let (count, until) = match rule.end() {
        SeriesEnd::Count(n) => (Some(i64::from(n)), None),
        SeriesEnd::Until(d) => (None, Some(day_number(d))),
    };
    vec![
        ("every_weeks", Some(i64::from(rule.every_weeks()))),
        ("count", count),
        ("until", until),
    ]
}

fn day_number(d: Date) -> i64 {
    d.days_since(Date::MIN)
}

struct NewSeries<'a> {
    practitioner: i64,
    patient: Option<i64>,
    service: Option<i64>,
    rule: &'a SeriesRule,
    channel: Channel,
    idempotency_key: Option<&'a str>,
    request: &'a str,
    actor: Actor,
}

async fn insert_series(tx: &mut Tx, org: i64, n: &NewSeries<'_>, now: i64) -> Result<Series> {
    let (count, until) = match n.rule.end() {
        SeriesEnd::Count(c) => (Some(i64::from(c)), None),
        SeriesEnd::Until(d) => (None, Some(d.to_string())),
    };
    let sql = format!(
        "INSERT INTO appointment_series (org_id, practitioner_id, patient_id, service_id, every_weeks, \
         planned_count, until_date, channel, idempotency_key, idempotency_request, created_by, created_at_ns) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {SERIES_COLUMNS}"
    );
    let inserted = rows!(
        tx.exec(),
        fetch_one,
        Series,
        &sql,
        org,
        n.practitioner,
        n.patient,
        n.service,
        i64::from(n.rule.every_weeks()),
        count,
        until,
        n.channel.as_str(),
        n.idempotency_key,
        n.idempotency_key.map(|_| n.request),
        n.actor.label(),
        now
    );
    match inserted {
        Ok(series) => Ok(series),
        // Another request with the same key got in first (it held the lock before us and
        // committed): the key is used, and the caller's retry replays it.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::invalid(
            "idempotency_key",
            "this key was already used for another booking request",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The series `actor` booked with this key, when the request is the same as the one
/// the key first came with; a different request with a used key is refused.
async fn replay(
    tx: &mut Tx,
    org: i64,
    actor: Actor,
    key: &str,
    request: &str,
) -> Result<Option<BookedSeries>> {
    let found = rows!(
        tx.exec(),
        fetch_optional,
        (i64, Option<String>),
        "SELECT id, idempotency_request FROM appointment_series \
         WHERE org_id = $1 AND created_by = $2 AND idempotency_key = $3",
        org,
        actor.label(),
        key
    )?;
    let Some((id, first)) = found else {
        return Ok(None);
    };
    if first.as_deref().is_some_and(|first| first != request) {
        return Err(Error::invalid(
            "idempotency_key",
            "this key was already used for a different booking request",
        ));
    }
    Ok(Some(BookedSeries {
        series: get(tx.exec(), org, id).await?,
        appointments: appointments(tx.exec(), org, id).await?,
        skipped: Vec::new(),
        replayed: true,
    }))
}

/// Inserts one occurrence linked to its series and audits it as a single booking.
async fn insert_occurrence(
    tx: &mut Tx,
    org: i64,
    row: &NewRow,
    series: i64,
    actor: Actor,
    mut details: serde_json::Value,
    now: i64,
) -> Result<Appointment> {
    let inserted = insert_one(tx, org, row, "", now).await?;
    execute!(
        tx.exec(),
        "UPDATE appointments SET series_id = $3 WHERE org_id = $1 AND id = $2",
        org,
        inserted.id,
        series
    )?;
    let appointment = get_appointment(tx.exec(), org, inserted.id).await?;
    details["start_ns"] = appointment.start_ns.into();
    details["end_ns"] = appointment.end_ns.into();
    details["practitioner_id"] = appointment.practitioner_id.into();
    details["status"] = appointment.status.as_str().into();
    details["channel"] = appointment.channel.as_str().into();
    details["series_id"] = series.into();
    crate::audit::record(
        tx,
        org,
        &actor.label(),
        if row.override_reason.is_some() {
            "appointment.book_override"
        } else {
            "appointment.book"
        },
        "appointment",
        Some(appointment.id),
        details,
        now,
    )
    .await?;
    Ok(appointment)
}

/// Audits the series, queues its emails and commits.
#[allow(clippy::too_many_arguments)]
async fn finish(
    mut tx: Tx,
    org: i64,
    series: Series,
    booked: Vec<Appointment>,
    skipped: Vec<OccurrenceCheck>,
    actor: Actor,
    notify: Option<SeriesNotify<'_>>,
    now: i64,
) -> Result<SeriesOutcome> {
    crate::audit::record(
        &mut tx,
        org,
        &actor.label(),
        "series.book",
        "series",
        Some(series.id),
        serde_json::json!({
            "appointments": booked.iter().map(|a| a.id).collect::<Vec<_>>(),
            "skipped": skipped.iter().map(|o| o.date.to_string()).collect::<Vec<_>>(),
            "every_weeks": series.every_weeks,
            "count": series.planned_count,
            "until": series.until_date,
        }),
        now,
    )
    .await?;
    queue_series_notices(&mut tx, org, notify, &booked, now).await?;
    tx.commit().await?;
    Ok(SeriesOutcome::Booked(BookedSeries {
        series,
        appointments: booked,
        skipped,
        replayed: false,
    }))
}

async fn queue_series_notices(
    tx: &mut Tx,
    org: i64,
    notify: Option<SeriesNotify<'_>>,
    changed: &[Appointment],
    now: i64,
) -> Result<()> {
    if let Some(notify) = notify
        && !changed.is_empty()
    {
        for message in notify(changed) {
            crate::outbox::enqueue(tx, org, &message, now).await?;
        }
    }
    Ok(())
}

/// How many times a "this and following" change starts again when an occurrence
/// changed practitioner between the first read and the locks.
const FOLLOWING_ATTEMPTS: usize = 3;

/// Begins a transaction holding the locks of every practitioner of `appointment`'s
/// series occurrences from it on that are still to come (booked or pending), and
/// returns the appointment and those occurrences (it first, if it is one) as read
/// under the locks. A patient sees only their own appointment.
async fn lock_following(
    db: &Db,
    org: i64,
    appointment: i64,
    patient: Option<i64>,
    now_ns: i64,
) -> Result<(Tx, Appointment, Vec<Appointment>)> {
    for _ in 0..FOLLOWING_ATTEMPTS {
        let mut tx = db.begin().await?;
        let seen = get_appointment(tx.exec(), org, appointment).await?;
        if patient.is_some() && seen.patient_id != patient {
            return Err(Error::NotFound("appointment"));
        }
        let Some(series) = seen.series_id else {
            return Err(Error::invalid(
                "appointment",
                "this appointment is not part of a series",
            ));
        };
        let seen_following = following(&mut tx, org, series, seen.id, now_ns).await?;
        let mut locked: Vec<i64> = seen_following.iter().map(|a| a.practitioner_id).collect();
        locked.push(seen.practitioner_id);
        lock_practitioners(&mut tx, org, locked.clone()).await?;
        let this = get_appointment(tx.exec(), org, appointment).await?;
        let following = following(&mut tx, org, series, this.id, now_ns).await?;
        if following
            .iter()
            .all(|a| locked.contains(&a.practitioner_id))
        {
            return Ok((tx, this, following));
        }
    }
    Err(Error::invalid(
        "appointment",
        "the series was being changed by someone else at the same time; please try again",
    ))
}

/// The occurrence `this` (when booked or pending) and the series' later occurrences
/// that are booked or pending and still to come at `now_ns`, in the series' order.
///
/// "Following" is by the series' own order, which is the order of the rows (a series'
/// occurrences are inserted first to last), not by where they are now: an earlier
/// occurrence moved after this one is not one of its following, and a past one never
/// is.
async fn following(
    tx: &mut Tx,
    org: i64,
    series: i64,
    this: i64,
    now_ns: i64,
) -> Result<Vec<Appointment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND series_id = $2 \
         AND (id = $3 OR (id > $3 AND start_ns >= $4)) \
         AND status IN ('booked', 'pending') ORDER BY id"
    );
    Ok(rows!(
        tx.exec(),
        fetch_all,
        Appointment,
        &sql,
        org,
        series,
        this,
        now_ns
    )?)
}

/// Cancels an occurrence of a series and every later one still to come (booked or
/// pending), in one transaction under the locks of their practitioners, each like
/// [`super::cancel`]: the reason kept, who cancelled and the status before, audited as
/// `appointment.cancel`. A patient may cancel only their own series' occurrences
/// (another's is not found), and only when each is still cancellable online
/// ([`Error::TooLate`], nothing cancelled). The emails `notify` composes for all of
/// them are queued with the change. Returns the cancelled appointments, by start.
pub async fn cancel_following(
    db: &Db,
    org: &Organisation,
    appointment: i64,
    actor: Actor,
    reason: &str,
    clock: &dyn Clock,
    notify: Option<SeriesNotify<'_>>,
) -> Result<Vec<Appointment>> {
    let reason = cancel_reason(reason)?;
    let patient = match actor {
        Actor::Patient(p) => Some(p),
        _ => None,
    };
    let (mut tx, _, following) =
        lock_following(db, org.id, appointment, patient, clock.now_ns()).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    if following.is_empty() {
        return Err(Error::invalid(
            "appointment",
            "no occurrence of this series from this one on is still to come",
        ));
    }
    let now = clock.now_ns();
    let mut cancelled = Vec::with_capacity(following.len());
    for a in following {
        if patient.is_some() {
            if a.patient_id != patient {
                return Err(Error::NotFound("appointment"));
            }
            if cancellable_until(org, a.status, a.start_ns, now).is_none() {
                return Err(Error::TooLate {
                    until_ns: cancel_deadline(org, a.start_ns),
                });
            }
        }
        execute!(
            tx.exec(),
            "UPDATE appointments SET status = 'cancelled', status_note = '', updated_by = $3, \
             updated_at_ns = $4, cancel_reason = $5, cancelled_by = $3, cancelled_at_ns = $4, \
             cancelled_from = $6 WHERE org_id = $1 AND id = $2",
            org.id,
            a.id,
            actor.label(),
            now,
            reason.as_deref(),
            a.status.as_str()
        )?;
        crate::audit::record(
            &mut tx,
            org.id,
            &actor.label(),
            "appointment.cancel",
            "appointment",
            Some(a.id),
            serde_json::json!({
                "previous_status": a.status,
                "reason": reason,
                "series_id": a.series_id,
                "following": true,
            }),
            now,
        )
        .await?;
        cancelled.push(get_appointment(tx.exec(), org.id, a.id).await?);
    }
    queue_series_notices(&mut tx, org.id, notify, &cancelled, now).await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// Moving an occurrence and every later one still to come (staff).
#[derive(Clone, Debug)]
pub struct MoveFollowing {
    /// Who moves them: a staff user, or an API key (which may not override).
    pub staff: Actor,
    /// The occurrence the change starts from.
    pub appointment: i64,
    /// Its new start: each later occurrence moves by the same wall-clock change (days
    /// and clock time) in its clinic's zone.
    pub start: Instant,
    /// Set to move despite the engine's reasons, for every occurrence that needs it.
    pub override_reason: Option<String>,
}

/// One occurrence of a "this and following" move, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MoveCheck {
    /// The appointment.
    pub appointment: i64,
    /// Its start before the move, ns since the Unix epoch.
    pub from_ns: i64,
    /// Its new start, ns since the Unix epoch; `None` when the new wall-clock time does
    /// not exist on its new date.
    pub to_ns: Option<i64>,
    /// Why it cannot move without an override (empty: it can).
    pub reasons: Vec<String>,
}

/// What a "this and following" move comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoveFollowingOutcome {
    /// Every occurrence moved, by start.
    Moved(Vec<Appointment>),
    /// Nothing moved: some occurrence cannot (each listed, with its reasons).
    Refused(Vec<MoveCheck>),
}

/// Moves an occurrence to `start` and every later occurrence still to come by the same
/// wall-clock change, all or none, in one transaction under their practitioners' locks.
/// Each is checked at its new time as a staff move ([`super::reschedule`]) against the
/// others already at their new times; a new time that does not exist (clocks go
/// forward) cannot be overridden. Audited per appointment as `appointment.reschedule`
/// (or `_override`); the emails `notify` composes are queued with the change.
pub async fn move_following(
    db: &Db,
    org: &Organisation,
    m: &MoveFollowing,
    clock: &dyn Clock,
    notify: Option<SeriesNotify<'_>>,
) -> Result<MoveFollowingOutcome> {
    let reason = override_reason(m.staff, &m.override_reason)?;
    if m.start.unix_nanos() < clock.now_ns() {
        return Err(Error::invalid(
            "start",
            "the new start is in the past: choose a time still to come",
        ));
    }
    let (mut tx, this, following) =
        lock_following(db, org.id, m.appointment, None, clock.now_ns()).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    if !this.status.is_changeable() {
        return Err(Error::invalid(
            "status",
            format!("a {} appointment cannot be moved", this.status),
        ));
    }
    let clinics = crate::clinic::all(tx.exec(), org.id).await?;
    let zone_of = |clinic: Option<i64>| -> Zone {
        clinics
            .iter()
            .find(|c| Some(c.id) == clinic)
            .map(|c| Zone::from(c.zone()))
            .unwrap_or_else(|| Zone::from(chrono_tz::UTC))
    };
    let local =
        |zone: Zone, ns: i64| -> NaiveDateTime { zone.tz().timestamp_nanos(ns).naive_local() };
    let this_zone = zone_of(this.clinic_id);
    let change = local(this_zone, m.start.unix_nanos()) - local(this_zone, this.start_ns);
    // Moving later, the last moves first into free time, and each earlier one then
    // into the time the later one left; moving earlier, the other way round. So each
    // is checked against the others where they will be, as a move of all at once.
    let mut order = following;
    if change > chrono::TimeDelta::zero() {
        order.reverse();
    }
    let now = clock.now_ns();
    let actor = m.staff;
    let mut checks = Vec::with_capacity(order.len());
    let mut any_refused = false;
    for a in &order {
        let target = if a.id == this.id {
            Ok(m.start)
        } else {
            shifted(
                zone_of(a.clinic_id),
                local(zone_of(a.clinic_id), a.start_ns) + change,
            )
        };
        let duration =
            u32::try_from((a.end_ns - a.start_ns).div_euclid(60_000_000_000)).unwrap_or(0);
        let start = match target {
            Ok(start) => start,
            Err(gap) => {
                any_refused = true;
                checks.push(MoveCheck {
                    appointment: a.id,
                    from_ns: a.start_ns,
                    to_ns: None,
                    reasons: vec![gap],
                });
                continue;
            }
        };
        let (fit, reasons) = super::staff_booking::staff_fit(
            &mut tx,
            org,
            a.practitioner_id,
            a.service_id,
            if a.service_id.is_none() {
                a.schedule_type_id
            } else {
                None
            },
            start,
            duration.max(1),
            a.telehealth,
            Some(a.id),
            // A move keeps the buffers it was booked with.
            super::staff_booking::KeptFree::Own(a.buffers()),
            // And the engine picks its rooms and equipment again at the new time.
            &super::resources::ResourceRequest::Auto,
        )
        .await?;
        let overridden = !reasons.is_empty();
        if overridden && reason.is_none() {
            any_refused = true;
        }
        let start_ns = start.unix_nanos();
        let end_ns = start_ns + (a.end_ns - a.start_ns);
        // Written even when refused, so that the next occurrences are checked against
        // this one where it would be; a refusal rolls everything back.
        execute!(
            tx.exec(),
            "UPDATE appointments SET start_ns = $3, end_ns = $4, \
             schedule_type_id = COALESCE($5, schedule_type_id), clinic_id = $6, \
             override_reason = $7, override_by = $8, updated_by = $9, updated_at_ns = $10, \
             sequence = sequence + 1 \
             WHERE org_id = $1 AND id = $2",
            org.id,
            a.id,
            start_ns,
            end_ns,
            fit.schedule_type,
            fit.clinic,
            if overridden { reason.clone() } else { None },
            if overridden { m.staff.staff_id() } else { None },
            actor.label(),
            now
        )?;
        organisation::note_appointment_length(&mut tx, org.id, end_ns - start_ns).await?;
        super::resources::hold(&mut tx, org.id, a.id, &fit.resources).await?;
        crate::audit::record(
            &mut tx,
            org.id,
            &actor.label(),
            if overridden { "appointment.reschedule_override" } else { "appointment.reschedule" },
            "appointment",
            Some(a.id),
            serde_json::json!({
                "from": { "practitioner_id": a.practitioner_id, "start_ns": a.start_ns, "end_ns": a.end_ns },
                "to": { "practitioner_id": a.practitioner_id, "start_ns": start_ns, "end_ns": end_ns },
                "override_reason": if overridden { reason.clone() } else { None },
                "overridden": reasons,
                "series_id": a.series_id,
                "following": true,
            }),
            now,
        )
        .await?;
        checks.push(MoveCheck {
            appointment: a.id,
            from_ns: a.start_ns,
            to_ns: Some(start_ns),
            reasons: if overridden && reason.is_some() {
                Vec::new()
            } else {
                reasons
            },
        });
    }
    checks.sort_by_key(|c| c.from_ns);
    if any_refused {
        drop(tx);
        return Ok(MoveFollowingOutcome::Refused(checks));
    }
    let mut moved = Vec::with_capacity(checks.len());
    for c in &checks {
        moved.push(get_appointment(tx.exec(), org.id, c.appointment).await?);
    }
    queue_series_notices(&mut tx, org.id, notify, &moved, now).await?;
    tx.commit().await?;
    Ok(MoveFollowingOutcome::Moved(moved))
}

/// The instant of a wall-clock time in a zone, read as rule 9 reads every time (the
/// earlier of two), keeping its seconds; a time that does not exist is refused in the
/// engine's words.
fn shifted(zone: Zone, at: NaiveDateTime) -> std::result::Result<Instant, String> {
    let date = Date::try_from(at.date()).map_err(|e| e.to_string())?;
    let minute = at.hour() * 60 + at.minute();
    let past_minute = i64::from(at.second()) * 1_000_000_000 + i64::from(at.nanosecond());
    match zone.resolve(date, minute) {
        LocalTime::Missing => Err(format!(
            "{:02}:{:02} does not exist on {date} in {} (clocks go forward)",
            minute / 60,
            minute % 60,
            zone.name()
        )),
        other => {
            let (seconds, _) = other.earliest().ok_or("no such time")?;
            Instant::from_unix_nanos(seconds * 1_000_000_000 + past_minute)
                .map_err(|e| e.to_string())
        }
    }
}

/// Writes an import's appointments: those of no series in bulk, and each series' as a
/// series row keyed by the scenario's `series` id (practitioner, patient and service of
/// its first occurrence; no rule, which the format does not keep) with its
/// appointments linked to it. `series` gives each row's series id, in `rows`' order.
pub(crate) async fn import_rows(
    tx: &mut Tx,
    org: i64,
    rows: Vec<NewRow>,
    series: &[Option<&str>],
    now: i64,
) -> Result<()> {
    let mut plain = Vec::with_capacity(rows.len());
    let mut holding = Vec::new();
    let mut grouped: BTreeMap<&str, Vec<NewRow>> = BTreeMap::new();
    for (row, key) in rows.into_iter().zip(series) {
        match key {
            // A row that holds rooms or equipment needs its id for them: one at a time.
            None if !row.resources.is_empty() => holding.push(row),
            None => plain.push(row),
            Some(key) => grouped.entry(key).or_default().push(row),
        }
    }
    super::insert_many(tx, org, &plain, now).await?;
    for row in &holding {
        insert_one(tx, org, row, "", now).await?;
    }
    for (key, mut rows) in grouped {
        rows.sort_by_key(|r| r.start_ns);
        let first = &rows[0];
        let id = scalar!(
            tx.exec(),
            i64,
            "INSERT INTO appointment_series (org_id, key, practitioner_id, patient_id, service_id, \
             channel, created_by, created_at_ns) VALUES ($1, $2, $3, $4, $5, 'import', 'import', $6) \
             RETURNING id",
            org,
            key,
            first.practitioner_id,
            first.patient_id,
            first.service_id,
            now
        )?;
        for row in &rows {
            let inserted = insert_one(tx, org, row, "", now).await?;
            execute!(
                tx.exec(),
                "UPDATE appointments SET series_id = $3 WHERE org_id = $1 AND id = $2",
                org,
                inserted.id,
                id
            )?;
        }
    }
    Ok(())
}

/// Whether patients may book `service` online as a series (the service's
/// `allow_series`, as the engine reads it), for the portal's confirm page to offer
/// "weekly". A service that is not online is not found.
pub async fn portal_allows_series(
    db: &Db,
    org: &Organisation,
    service: i64,
    now: Instant,
) -> Result<bool> {
    let mut conn = db.conn().await?;
    crate::portal::service(conn.exec(), org.id, service).await?;
    let day = Date::try_from(now.to_utc().date_naive()).unwrap_or(Date::MIN);
    let input = window::load(
        &mut conn.exec(),
        org,
        &Window {
            service: Some(service),
            practitioners: Some(Vec::new()),
            from: day,
            to: day,
            skip_appointment: None,
            resources: Vec::new(),
        },
    )
    .await?;
    let ix = input
        .service_ix(service)
        .ok_or(Error::NotFound("service"))?;
    Ok(input.model.service(ix).allow_series)
}
