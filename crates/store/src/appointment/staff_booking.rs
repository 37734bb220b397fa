//! Booking by staff: it goes in when it fits the schedule type's blocks and its
//! allowed conflicts, or with an override that says why; `staff_fit` also decides
//! where a moved appointment fits.

use slot_engine::{Buffers, Instant, Purpose, StaffBooking as EngineStaffBooking};

use crate::db::{Db, Exec, Tx, scalar_optional};
use crate::error::{Conflict, Error, Result};
use crate::organisation::Organisation;
use crate::time::Clock;
use crate::window::{self, Window};

use super::insert::{
    Booked, NewRow, by_idempotency_key, check_idempotency_key, finish_insert, replay, request_hash,
};
use super::locking::{lock_practitioner, settings_now};
use super::resources::{ResourceRequest, check_locked, lock_resources};
use super::{Actor, AppointmentStatus, Channel, Notify, dates_around};

/// A booking made by front-desk staff.
#[derive(Clone, Debug)]
pub struct StaffBooking {
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
    /// The start.
    pub start: Instant,
    /// The length staff chose; default the service's duration, else the schedule
    /// type's default duration.
    pub duration_minutes: Option<u32>,
    /// A video appointment (its schedule type must allow telehealth, or the booking
    /// needs an override); false: in person.
    pub telehealth: bool,
    /// Set to book despite the engine's reasons (double-booking, outside
    /// availability…): why, recorded with who.
    pub override_reason: Option<String>,
    /// A client-chosen key that makes a retried request return the first result.
    pub idempotency_key: Option<String>,
    /// The rooms and equipment it holds: the engine's pick for the service's
    /// requirements ([`ResourceRequest::Auto`]), or the resources staff named.
    pub resources: ResourceRequest,
}

pub(super) async fn default_duration(
    exec: &mut Exec<'_>,
    org: i64,
    b: &StaffBooking,
) -> Result<u32> {
    if let Some(d) = b.duration_minutes {
        return Ok(d);
    }
    let minutes = if let Some(service) = b.service {
        scalar_optional!(
            exec.reborrow(),
            i64,
            "SELECT duration_minutes FROM services WHERE org_id = $1 AND id = $2",
            org,
            service
        )?
        .ok_or(Error::NotFound("service"))?
    } else if let Some(t) = b.schedule_type {
        scalar_optional!(
            exec.reborrow(),
            i64,
            "SELECT default_duration_minutes FROM schedule_types WHERE org_id = $1 AND id = $2",
            org,
            t
        )?
        .ok_or(Error::NotFound("schedule type"))?
    } else {
        return Err(Error::invalid(
            "duration_minutes",
            "choose a service, a schedule type or a duration",
        ));
    };
    Ok(u32::try_from(minutes).unwrap_or(30))
}

/// Checks and books a staff appointment: it goes in when it fits the schedule type's
/// blocks and allowed-conflicts rule, or with an explicit override reason; otherwise
/// [`Conflict::NeedsOverride`] lists every reason. The emails `notify` composes are
/// queued with the booking (not on a replay).
pub async fn book_staff(
    db: &Db,
    org: &Organisation,
    b: &StaffBooking,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<Booked> {
    check_idempotency_key(&b.idempotency_key)?;
    let reason = override_reason(b.staff, &b.override_reason)?;
    let mut tx = db.begin().await?;
    lock_practitioner(&mut tx, org.id, b.practitioner).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    let mut fields = vec![
        ("staff.practitioner", Some(b.practitioner)),
        ("patient", b.patient),
        ("service", b.service),
        ("schedule_type", b.schedule_type),
        ("start", Some(b.start.unix_nanos())),
        ("duration_minutes", b.duration_minutes.map(i64::from)),
        ("telehealth", Some(i64::from(b.telehealth))),
    ];
    // Named resources are part of the request; an automatic pick adds nothing, so that
    // a key first used before rooms existed still replays.
    if let ResourceRequest::Chosen(list) = &b.resources {
        fields.push(("resources", Some(list.len() as i64)));
        fields.extend(list.iter().map(|&r| ("resource", Some(r))));
    }
    let request = request_hash(&fields);
    if let Some(key) = &b.idempotency_key
        && let Some(existing) = by_idempotency_key(&mut tx, org.id, b.staff, key).await?
    {
        return replay(existing, &request);
    }
    // Every id of the request names a row of this organisation, whether or not the
    // engine looks at it (with a service, or overridden, the schedule type is stored
    // as given); the database refuses any other too (migration 0015).
    for (noun, table, id) in [
        ("patient", "patients", b.patient),
        ("service", "services", b.service),
        ("schedule type", "schedule_types", b.schedule_type),
    ] {
        if let Some(id) = id {
            let sql = format!("SELECT id FROM {table} WHERE org_id = $1 AND id = $2");
            scalar_optional!(tx.exec(), i64, &sql, org.id, id)?.ok_or(Error::NotFound(noun))?;
        }
    }
    let duration = default_duration(&mut tx.exec(), org.id, b).await?;
    if !(1..=1440).contains(&duration) {
        return Err(Error::invalid(
            "duration_minutes",
            "must be between 1 and 1440",
        ));
    }
    let (fit, reasons) = staff_fit(
        &mut tx,
        org,
        b.practitioner,
        b.service,
        b.schedule_type,
        b.start,
        duration,
        b.telehealth,
        None,
        KeptFree::OfService,
        &b.resources,
    )
    .await?;
    if !reasons.is_empty() && reason.is_none() {
        return Err(Error::Conflict(Conflict::NeedsOverride { reasons }));
    }
    let row = NewRow {
        key: None,
        practitioner_id: b.practitioner,
        patient_id: b.patient,
        service_id: b.service,
        schedule_type_id: fit.schedule_type.or(b.schedule_type),
        clinic_id: Some(fit.clinic),
        telehealth: b.telehealth,
        start_ns: b.start.unix_nanos(),
        end_ns: b.start.unix_nanos() + i64::from(duration) * 60_000_000_000,
        status: AppointmentStatus::Booked,
        channel: Channel::Staff,
        override_reason: if reasons.is_empty() {
            None
        } else {
            reason.clone()
        },
        override_by: if reasons.is_empty() {
            None
        } else {
            b.staff.staff_id()
        },
        idempotency_key: b.idempotency_key.clone(),
        actor: b.staff.label(),
        buffers: fit.buffers,
        resources: fit.resources,
    };
    let details = if reasons.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::json!({ "override_reason": reason, "overridden": reasons })
    };
    finish_insert(
        db, tx, org.id, row, &request, b.staff, clock, details, notify,
    )
    .await
}

/// The override's reason, checked: only a staff user may override (an API key books
/// only what fits), and a reason says why in at most 500 characters.
pub(super) fn override_reason(by: Actor, reason: &Option<String>) -> Result<Option<String>> {
    match reason.as_deref().map(str::trim) {
        None => Ok(None),
        Some(_) if by.staff_id().is_none() => Err(Error::invalid(
            "override_reason",
            "only a staff member signed in may override; an API key books only what fits",
        )),
        Some("") => Err(Error::invalid(
            "override_reason",
            "say why the conflict is overridden",
        )),
        Some(r) if r.len() > 500 => Err(Error::invalid(
            "override_reason",
            "must be at most 500 characters",
        )),
        Some(r) => Ok(Some(r.to_owned())),
    }
}

/// Where a staff booking goes: the schedule type whose block holds it (`None` when it
/// fits none and is overridden) and its clinic, which every appointment names by the
/// one rule of [`slot_engine::Model::appointment_clinic`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Placement {
    pub(super) schedule_type: Option<i64>,
    pub(super) clinic: i64,
    /// The buffers it was checked with, which the row keeps.
    pub(super) buffers: Buffers,
    /// The resource rows it holds: what fitted, or what the overridden booking takes
    /// ([`slot_engine::Model::staff_resources`]).
    pub(super) resources: Vec<i64>,
}

/// The time a staff check keeps free around the booking (docs/scenario.md, *Buffers*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum KeptFree {
    /// A new booking's: its service's buffers, as the model checked against has them;
    /// none without a service.
    OfService,
    /// An appointment already made keeps its own (a move, an undone cancellation), even
    /// when its service's buffers have changed since.
    Own(Buffers),
}

/// Where a staff booking goes, and the reasons it needs an override (empty when it
/// fits). A video booking (`telehealth`) also needs its schedule type to allow video.
/// Time off and other appointments are judged on the booking with the buffers `kept`
/// says, availability on the booking alone; rooms and equipment as `resources` asks,
/// locked (after the caller's practitioner locks) before the window is read.
#[allow(clippy::too_many_arguments)]
pub(super) async fn staff_fit(
    tx: &mut Tx,
    org: &Organisation,
    practitioner: i64,
    service: Option<i64>,
    schedule_type: Option<i64>,
    start: Instant,
    duration: u32,
    telehealth: bool,
    skip: Option<i64>,
    kept: KeptFree,
    resources: &ResourceRequest,
) -> Result<(Placement, Vec<String>)> {
    let locked = lock_resources(tx, org.id, service, resources.named()).await?;
    let (from, to) = dates_around(start);
    let input = window::load(
        &mut tx.exec(),
        org,
        &Window {
            service,
            practitioners: Some(vec![practitioner]),
            from,
            to,
            skip_appointment: skip,
            resources: resources.named().to_vec(),
        },
    )
    .await?;
    check_locked(&input, service, &locked)?;
    let given_type = schedule_type
        .map(|t| {
            input
                .schedule_type_ix(t)
                .ok_or(Error::NotFound("schedule type"))
        })
        .transpose()?;
    let purpose = match (service, given_type) {
        (Some(s), _) => Purpose::Service(input.service_ix(s).ok_or(Error::NotFound("service"))?),
        (None, Some(t)) => Purpose::ScheduleType(t),
        (None, None) => Purpose::Unspecified,
    };
    let practitioner = input
        .practitioner_ix(practitioner)
        .ok_or(Error::NotFound("practitioner"))?;
    let buffers = match kept {
        KeptFree::OfService => input.model.new_booking_buffers(purpose),
        KeptFree::Own(buffers) => buffers,
    };
    let booking = EngineStaffBooking {
        practitioner,
        start,
        duration_minutes: duration,
        purpose,
        buffers,
        resources: match resources {
            ResourceRequest::Auto => slot_engine::ResourceChoice::Auto,
            ResourceRequest::Chosen(list) => slot_engine::ResourceChoice::Chosen(
                list.iter()
                    .map(|&r| {
                        input.resource_ix(r).ok_or_else(|| {
                            Error::invalid(
                                "resources",
                                format!("no resource {r} in this organisation"),
                            )
                        })
                    })
                    .collect::<Result<_>>()?,
            ),
        },
    };
    let model = &input.model;
    let (fitted_type, held, mut reasons) = match model.check_staff(&booking) {
        Ok(fit) => (Some(fit.schedule_type), fit.resources, Vec::new()),
        Err(reasons) => (
            None,
            model.staff_resources(&booking),
            reasons.into_iter().map(|r| r.message).collect(),
        ),
    };
    let placed_type = fitted_type.or(given_type);
    if telehealth
        && let Some(t) = placed_type
        && !model.schedule_type(t).telehealth
    {
        reasons.push(format!(
            "{} does not allow video appointments",
            model.schedule_type(t).name
        ));
    }
    let clinic = model.appointment_clinic(practitioner, placed_type, start);
    Ok((
        Placement {
            schedule_type: fitted_type.map(|t| input.schedule_type_id(t)),
            clinic: input.clinic_id(clinic),
            buffers,
            resources: input.resource_ids(&held),
        },
        reasons,
    ))
}
