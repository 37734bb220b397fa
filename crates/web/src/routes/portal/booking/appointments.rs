//! The patient's own appointments, as the pages and the API show them: listed,
//! read one by one (another patient's is not found), cancelled (with an optional
//! reason) or moved to another time within the notice.

use serde::Serialize;
use slot_engine::Instant;
use store::appointment::{self, Actor, PortalMove, PortalMoveOutcome};
use store::portal::{self, AppointmentView};
use utoipa::ToSchema;

use crate::auth::patient::Patient;
use crate::clinic_time::{local_datetime, rfc3339};
use crate::error::AppError;
use crate::notices::AppointmentContext;
use crate::notices::staff::PortalChange;
use crate::state::AppState;

/// An appointment as the portal shows it. (Named apart from the staff API's
/// `AppointmentDto`: the OpenAPI document keeps one schema per name.)
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = PortalAppointmentDto)]
pub(super) struct AppointmentDto {
    /// Row id.
    pub id: i64,
    /// The practitioner's name.
    pub practitioner_name: String,
    /// The service's name.
    pub service_name: Option<String>,
    /// The clinic's name.
    pub clinic_name: Option<String>,
    /// The clinic's address (possibly several lines); empty when it has none.
    pub clinic_address: String,
    /// The clinic's phone number; empty when it has none.
    pub clinic_phone: String,
    /// The clinic's timezone.
    pub timezone: String,
    /// A video appointment (else in person at the clinic).
    pub telehealth: bool,
    /// Where to join a video appointment: the practitioner's link, else the
    /// organisation's; `None` in person, when none is set, or once it is cancelled.
    pub video_link: Option<String>,
    /// Start, RFC 3339 in the clinic's offset.
    pub start: String,
    /// End, RFC 3339 in the clinic's offset.
    pub end: String,
    /// When, in words, in the clinic's time, with the zone's abbreviation
    /// (`Tue 3 Mar 2026, 09:00 EST`).
    pub when: String,
    /// `booked`, `pending`, `arrived`, `cancelled`, `completed` or `no_show`.
    pub status: String,
    /// A note from the clinic (accept/decline).
    pub status_note: String,
    /// Until when the patient may cancel online (RFC 3339), when they still may;
    /// moving it to another time is allowed exactly as long.
    pub cancellable_until: Option<String>,
    /// Why it was cancelled, when the canceller said.
    pub cancel_reason: Option<String>,
    /// Whether the patient confirmed it from a reminder's link (cleared when it moves).
    pub confirmed: bool,
}

pub(super) fn appointment_dto(
    org: &store::Organisation,
    now_ns: i64,
    a: AppointmentView,
) -> AppointmentDto {
    let tz = a.place.zone();
    let deadline = appointment::cancellable_until(org, a.status, a.start_ns, now_ns);
    AppointmentDto {
        id: a.id,
        practitioner_name: a.practitioner_name,
        service_name: a.service_name,
        clinic_name: Some(a.place.clinic_name.clone()),
        clinic_address: a.place.clinic_address.clone(),
        clinic_phone: a.place.clinic_phone.clone(),
        telehealth: a.place.telehealth,
        video_link: (a.place.telehealth
            && a.status.occupies_time()
            && !a.place.video_link.is_empty())
        .then(|| a.place.video_link.clone()),
        start: rfc3339(a.start_ns, tz),
        end: rfc3339(a.end_ns, tz),
        when: format!(
            "{} {}",
            local_datetime(a.start_ns, tz),
            crate::clinic_time::local(a.start_ns, tz).format("%Z")
        ),
        status: a.status.as_str().to_owned(),
        status_note: a.status_note,
        cancel_reason: a.cancel_reason,
        confirmed: a.confirmed_at_ns.is_some(),
        cancellable_until: deadline.map(|until| rfc3339(until, tz)),
        timezone: a.place.clinic_timezone,
    }
}

pub(super) async fn list(
    state: &AppState,
    p: &Patient,
) -> Result<(Vec<AppointmentDto>, Vec<AppointmentDto>), AppError> {
    let mut conn = state.db.conn().await?;
    let all = portal::appointments_of(conn.exec(), p.org.id, p.patient.id).await?;
    let now = state.clock.now_ns();
    // Upcoming: what still holds a time ahead. A cancelled or declined one goes with the
    // past, whenever it was for.
    let (mut upcoming, past): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|a| a.end_ns > now && a.status.occupies_time());
    upcoming.reverse();
    Ok((
        upcoming
            .into_iter()
            .map(|a| appointment_dto(&p.org, now, a))
            .collect(),
        past.into_iter()
            .map(|a| appointment_dto(&p.org, now, a))
            .collect(),
    ))
}

/// One of the patient's own appointments; another patient's is not found.
pub(super) async fn own(
    state: &AppState,
    p: &Patient,
    id: i64,
) -> Result<AppointmentView, AppError> {
    let mut conn = state.db.conn().await?;
    let a = portal::appointment(conn.exec(), p.org.id, id).await?;
    if a.patient_id != Some(p.patient.id) {
        return Err(AppError::NotFound("appointment".into()));
    }
    Ok(a)
}

/// Cancels one of the patient's own appointments, within the cancellation notice,
/// with an optional reason.
pub(super) async fn cancel(
    state: &AppState,
    p: &Patient,
    id: i64,
    reason: &str,
) -> Result<AppointmentView, AppError> {
    let before = own(state, p, id).await?;
    // The signed-in patient's own context (the staff who asked are told even when the
    // patient has no address to write to).
    let context = Some(
        AppointmentContext::of_patient(
            state,
            &p.org,
            &p.patient,
            before.practitioner_id,
            before.service_id,
        )
        .await?,
    );
    let notify = |a: &store::appointment::Appointment| {
        context
            .iter()
            .flat_map(|c| c.portal_notices(PortalChange::Cancelled, a))
            .collect()
    };
    match appointment::cancel(
        &state.db,
        &p.org,
        id,
        Actor::Patient(p.patient.id),
        reason,
        state.clock.as_ref(),
        Some(&notify),
    )
    .await
    {
        Ok(_) => {
            state.mail.notify();
            own(state, p, id).await
        }
        Err(store::Error::TooLate { until_ns }) => {
            Err(too_late(&before, until_ns, ("cancelled", "cancelling")))
        }
        Err(e) => Err(e.into()),
    }
}

/// The notice rule's refusal, in words: `(done, doing)` ("cancelled", "cancelling")
/// online was possible until a time.
fn too_late(a: &AppointmentView, until_ns: i64, (done, doing): (&str, &str)) -> AppError {
    let tz = a.place.zone();
    AppError::Conflict {
        message: format!(
            "this appointment can no longer be {done} online: {doing} was possible until {}. Please call the clinic.",
            local_datetime(until_ns, tz)
        ),
        details: serde_json::json!({"cancellable_until": rfc3339(until_ns, tz)}),
    }
}

/// Moves one of the patient's own appointments to `start` with `practitioner`, within
/// the cancellation notice (409 in words after it), telling the patient by email. A
/// time the slot rules refuse (someone just took it) is an answer with the next open
/// times, and the appointment is unchanged.
pub(super) async fn reschedule(
    state: &AppState,
    p: &Patient,
    id: i64,
    practitioner: i64,
    start: Instant,
) -> Result<PortalMoveOutcome, AppError> {
    let before = own(state, p, id).await?;
    let context = Some(
        AppointmentContext::of_patient(state, &p.org, &p.patient, practitioner, before.service_id)
            .await?,
    );
    let notify = |a: &store::appointment::Appointment| {
        context
            .iter()
            .flat_map(|c| c.portal_notices(PortalChange::Moved, a))
            .collect()
    };
    let outcome = appointment::reschedule_portal(
        &state.db,
        &p.org,
        &PortalMove {
            patient: p.patient.id,
            appointment: id,
            practitioner,
            start,
        },
        state.clock.as_ref(),
        Some(&notify),
    )
    .await;
    match outcome {
        Ok(PortalMoveOutcome::Moved(a)) => {
            state.mail.notify();
            Ok(PortalMoveOutcome::Moved(a))
        }
        Ok(taken @ PortalMoveOutcome::Taken { .. }) => {
            state.metrics.conflict(
                crate::metrics::Channel::Portal,
                crate::metrics::Kind::Single,
            );
            Ok(taken)
        }
        Err(store::Error::TooLate { until_ns }) => {
            Err(too_late(&before, until_ns, ("moved", "moving")))
        }
        Err(e) => Err(e.into()),
    }
}
