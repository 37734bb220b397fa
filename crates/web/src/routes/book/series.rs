//! Weekly series at the front desk, shared by the booking form, the appointment page
//! and the API: reading a repeat rule, and the store calls with the patient's emails
//! (one message for all the occurrences).

use crate::auth::staff::Caller;
use slot_engine::{Date, SeriesEnd, SeriesRule};
use store::Organisation;
use store::appointment::Appointment;
use store::appointment::series::{
    self as store_series, MoveFollowing, MoveFollowingOutcome, SeriesOutcome, StaffSeries,
};

use crate::error::AppError;
use crate::metrics::{Channel, Kind};
use crate::notices::AppointmentContext;
use crate::state::AppState;

/// The rule of a series from its fields: every `every_weeks` weeks, `count` times or
/// until `until` (exactly one of them). Bad input names the field.
pub(super) fn rule(
    every_weeks: u32,
    count: Option<u32>,
    until: Option<&str>,
) -> Result<SeriesRule, AppError> {
    let end = match (count, until.map(str::trim).filter(|u| !u.is_empty())) {
        (Some(n), None) => SeriesEnd::Count(n),
        (None, Some(u)) => SeriesEnd::Until(
            u.parse::<Date>()
                .map_err(|e| AppError::invalid("until", format!("{e}; write YYYY-MM-DD")))?,
        ),
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "count",
                "give either a number of occurrences or an end date, not both",
            ));
        }
        (None, None) => {
            return Err(AppError::invalid(
                "count",
                "give a number of occurrences (2 to 52) or an end date",
            ));
        }
    };
    SeriesRule::new(every_weeks, end).map_err(|e| {
        let field = if e.to_string().starts_with("every_weeks") {
            "every_weeks"
        } else {
            "count"
        };
        AppError::invalid(field, e.to_string())
    })
}

/// Books a staff series, emailing the patient once for all its occurrences, and counts
/// the bookings for `/metrics`.
pub(super) async fn book(
    state: &AppState,
    org: &Organisation,
    s: &StaffSeries,
) -> Result<SeriesOutcome, store::Error> {
    let context =
        AppointmentContext::for_patient(state, org, s.patient, s.practitioner, s.service).await?;
    let notify = |list: &[Appointment]| {
        context
            .iter()
            .filter_map(|c| c.series_booked(list))
            .collect()
    };
    let outcome =
        store_series::book_staff(&state.db, org, s, state.clock.as_ref(), Some(&notify)).await?;
    match &outcome {
        SeriesOutcome::Booked(b) if !b.replayed => {
            state.metrics.booked(
                Channel::of_actor(s.staff),
                Kind::Series,
                b.appointments.len() as u64,
            );
            state.mail.notify();
        }
        SeriesOutcome::Refused(_) => state
            .metrics
            .conflict(Channel::of_actor(s.staff), Kind::Series),
        SeriesOutcome::Booked(_) => {}
    }
    Ok(outcome)
}

/// Cancels an occurrence and the following ones for staff, telling the patient once.
pub(super) async fn cancel_following(
    state: &AppState,
    staff: &Caller,
    id: i64,
    reason: &str,
) -> Result<Vec<Appointment>, store::Error> {
    let context = AppointmentContext::for_appointment(state, &staff.org, id, None).await?;
    let notify = |list: &[Appointment]| context.iter().map(|c| c.series_cancelled(list)).collect();
    let cancelled = store_series::cancel_following(
        &state.db,
        &staff.org,
        id,
        staff.audit_actor(),
        reason,
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    state.mail.notify();
    Ok(cancelled)
}

/// Moves an occurrence and the following ones for staff, telling the patient once.
pub(super) async fn move_following(
    state: &AppState,
    staff: &Caller,
    m: &MoveFollowing,
) -> Result<MoveFollowingOutcome, store::Error> {
    let context =
        AppointmentContext::for_appointment(state, &staff.org, m.appointment, None).await?;
    let notify = |list: &[Appointment]| context.iter().map(|c| c.series_moved(list)).collect();
    let outcome = store_series::move_following(
        &state.db,
        &staff.org,
        m,
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    if matches!(outcome, MoveFollowingOutcome::Moved(_)) {
        state.mail.notify();
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<SeriesRule, AppError>) -> String {
        match r {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_rule_needs_one_end_and_names_the_field_it_refuses() {
        assert_eq!(
            rule(2, Some(8), None).unwrap().to_string(),
            "every 2 weeks, 8 times"
        );
        assert_eq!(
            rule(1, None, Some("2026-06-30")).unwrap().to_string(),
            "every week until 2026-06-30"
        );
        assert_eq!(field(rule(5, Some(8), None)), "every_weeks");
        assert_eq!(field(rule(1, Some(60), None)), "count");
        assert_eq!(field(rule(1, None, None)), "count");
        assert_eq!(field(rule(1, Some(3), Some("2026-06-30"))), "count");
        assert_eq!(field(rule(1, None, Some("30/06/2026"))), "until");
    }
}
