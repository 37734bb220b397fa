//! The offer link from the email: public, the token its only key. GET shows the offer
//! and a button (mail scanners fetch links, so a GET changes nothing); POST accepts.
//! The first acceptance books; every later one is told the time has gone (the API's
//! 409 with `details.outcome` `taken`, or `expired` once the hold ran out).

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use store::Organisation;
use store::appointment::{AcceptOutcome, OfferByToken, OfferNotify};
use tower_sessions::Session;
use utoipa::ToSchema;

use crate::auth::staff::Org;
use crate::error::{AppError, PageError};
use crate::pages::PortalLayout;
use crate::state::AppState;

/// What the link's page and API show of an offer.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct OfferDto {
    /// `open` (it can be accepted), `accepted`, `cancelled` (accepted, then the
    /// appointment was cancelled), `taken`, `expired` or `withdrawn` (the patient left
    /// the waitlist).
    pub state: String,
    /// The service with the practitioner: `Physio with Dr Ada`.
    pub what: String,
    /// The start in the clinic's zone, with the zone.
    pub when: String,
    /// The clinic.
    pub place: String,
    /// The start, RFC 3339 UTC.
    pub start: String,
    /// When the hold runs out, RFC 3339 UTC.
    pub expires_at: String,
    /// The appointment, once accepted.
    pub appointment_id: Option<i64>,
    /// Once accepted, the appointment's status: `booked`, or `pending` when it waits
    /// for the clinic (the organisation's no-show policy).
    pub appointment_status: Option<String>,
}

async fn describe(
    state: &AppState,
    org: &Organisation,
    found: &OfferByToken,
) -> Result<OfferDto, AppError> {
    let now = state.clock.now_ns();
    let mut conn = state.db.conn().await?;
    let practitioner =
        store::practitioner::get(conn.exec(), org.id, found.hold.practitioner_id).await?;
    let service = store::portal::service_name(conn.exec(), org.id, found.hold.service_id).await?;
    let clinics = store::clinic::all(conn.exec(), org.id).await?;
    // The hold keeps its clinic: the time reads in the clinic's zone even once the
    // held time is gone.
    let clinic = clinics.iter().find(|c| c.id == found.hold.clinic_id);
    let zone = clinic.map_or(chrono_tz::UTC, store::clinic::Clinic::zone);
    let entry_active = store::waitlist::get(conn.exec(), org.id, found.offer.entry_id)
        .await?
        .status
        == store::waitlist::EntryStatus::Active;
    let cancelled = found
        .appointment
        .as_ref()
        .is_none_or(|a| a.status == store::appointment::AppointmentStatus::Cancelled);
    let offer_state = match (found.offer.state.as_str(), found.hold.state.as_str()) {
        ("accepted", _) if cancelled => "cancelled",
        ("accepted", _) => "accepted",
        (_, _) if !entry_active => "withdrawn",
        ("open", "open") if found.hold.expires_at_ns > now => "open",
        ("expired", _) | ("open", "open" | "expired") => "expired",
        _ => "taken",
    };
    Ok(OfferDto {
        state: offer_state.to_owned(),
        what: format!("{service} with {}", practitioner.name),
        when: format!(
            "{} ({})",
            crate::clinic_time::local_datetime_exact(found.hold.start_ns, zone),
            crate::clinic_time::zone_label(zone, found.hold.start_ns)
        ),
        place: clinic.map_or_else(String::new, |c| c.name.clone()),
        start: crate::clinic_time::rfc3339(found.hold.start_ns, chrono_tz::UTC),
        expires_at: crate::clinic_time::rfc3339(found.hold.expires_at_ns, chrono_tz::UTC),
        appointment_id: (offer_state == "accepted")
            .then(|| found.appointment.as_ref().map(|a| a.id))
            .flatten(),
        appointment_status: (offer_state == "accepted")
            .then(|| {
                found
                    .appointment
                    .as_ref()
                    .map(|a| a.status.as_str().to_owned())
            })
            .flatten(),
    })
}

async fn find(state: &AppState, org: &Organisation, token: &str) -> Result<OfferByToken, AppError> {
    // A token is 43 base64url characters; anything else is no token of ours.
    if token.len() > 100 {
        return Err(AppError::NotFound("offer".to_owned()));
    }
    store::appointment::offer_by_token(&state.db, org.id, token)
        .await?
        .ok_or_else(|| AppError::NotFound("offer".to_owned()))
}

/// Accepts through the store, composing the emails from the recipients' contexts.
async fn accept(
    state: &AppState,
    org: &Organisation,
    found: &OfferByToken,
    token: &str,
) -> Result<AcceptOutcome, AppError> {
    let mut patients = {
        let mut conn = state.db.conn().await?;
        store::appointment::open_offer_patients(conn.exec(), org.id, found.hold.id).await?
    };
    patients.push(found.offer.patient_id);
    let contexts = crate::waitlist::contexts(
        state,
        org,
        patients,
        found.hold.practitioner_id,
        Some(found.hold.service_id),
    )
    .await?;
    let notify = crate::waitlist::compose(&contexts);
    let notify: OfferNotify<'_> = &notify;
    let outcome =
        store::appointment::accept_offer(&state.db, org, token, state.clock.as_ref(), notify)
            .await?;
    // A repeated click on an accepted offer is the same booking: not counted again.
    if matches!(outcome, AcceptOutcome::Booked(_)) {
        state.mail.notify();
        state.metrics.booked(
            crate::metrics::Channel::Waitlist,
            crate::metrics::Kind::Single,
            1,
        );
    }
    Ok(outcome)
}

/// An offer, by its link's token (no sign-in: the token is the key).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/waitlist/offers/{token}", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The link's token")),
    responses((status = 200, body = OfferDto), (status = 404, description = "No such offer")))]
pub(super) async fn api_offer(
    State(state): State<AppState>,
    Org(org): Org,
    Path(path): Path<(String, String)>,
) -> Result<Json<OfferDto>, AppError> {
    let found = find(&state, &org, &path.1).await?;
    Ok(Json(describe(&state, &org, &found).await?))
}

/// Accepts an offer: 200 with the booking for the first to accept; 409 with
/// `details.outcome` `taken` (someone else accepted first, or the clinic took the time
/// back) or `expired` (the hold ran out) for every other.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/waitlist/offers/{token}/accept", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The link's token")),
    responses((status = 200, body = OfferDto, description = "Booked"),
              (status = 404, description = "No such offer"),
              (status = 409, description = "Not booked, `details.outcome` says why: `taken` (someone else accepted first, or the clinic took the time back), `expired`, `withdrawn` (the patient left the waitlist) or `cancelled` (accepted, then the appointment was cancelled)")))]
pub(super) async fn api_accept(
    State(state): State<AppState>,
    Org(org): Org,
    Path(path): Path<(String, String)>,
) -> Result<Json<OfferDto>, AppError> {
    let found = find(&state, &org, &path.1).await?;
    match accept(&state, &org, &found, &path.1).await? {
        AcceptOutcome::Booked(_) | AcceptOutcome::AlreadyBooked(_) => {
            let found = find(&state, &org, &path.1).await?;
            Ok(Json(describe(&state, &org, &found).await?))
        }
        AcceptOutcome::Taken => Err(taken()),
        AcceptOutcome::Cancelled => Err(AppError::Conflict {
            message: "the appointment this offer booked has been cancelled".to_owned(),
            details: serde_json::json!({ "outcome": "cancelled" }),
        }),
        AcceptOutcome::Withdrawn => Err(AppError::Conflict {
            message: "this offer was withdrawn: you are no longer on the waitlist for it"
                .to_owned(),
            details: serde_json::json!({ "outcome": "withdrawn" }),
        }),
        AcceptOutcome::Expired => Err(AppError::Conflict {
            message: "this offer has expired".to_owned(),
            details: serde_json::json!({ "outcome": "expired" }),
        }),
        AcceptOutcome::Unknown => Err(AppError::NotFound("offer".to_owned())),
    }
}

fn taken() -> AppError {
    AppError::Conflict {
        message: "this time has been taken by someone else".to_owned(),
        details: serde_json::json!({ "outcome": "taken" }),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/offer.html")]
pub(super) struct OfferPage {
    layout: PortalLayout,
    heading: String,
    what: String,
    when: String,
    place: String,
    until: String,
    open: bool,
    token: String,
    notice: Option<String>,
    error: Option<String>,
    link: Option<(String, String)>,
}

async fn page(
    state: &AppState,
    org: &Organisation,
    session: &Session,
    token: &str,
    found: &OfferByToken,
    notice: Option<String>,
) -> Result<OfferPage, AppError> {
    let d = describe(state, org, found).await?;
    let portal = format!("/o/{}/portal", org.slug);
    let (heading, error, link) = match d.state.as_str() {
        "open" => ("A time has come free".to_owned(), None, None),
        "accepted" if d.appointment_status.as_deref() == Some("pending") => (
            "You have asked for this time".to_owned(),
            None,
            d.appointment_id.map(|id| {
                (
                    format!("{portal}/appointments/{id}"),
                    "See it in My appointments".to_owned(),
                )
            }),
        ),
        "accepted" => (
            "This time is yours".to_owned(),
            None,
            d.appointment_id.map(|id| {
                (
                    format!("{portal}/appointments/{id}"),
                    "See it in My appointments".to_owned(),
                )
            }),
        ),
        "cancelled" => (
            "This appointment was cancelled".to_owned(),
            Some("You accepted this time, and the appointment has since been cancelled.".to_owned()),
            Some((format!("{portal}/book"), "Book another time".to_owned())),
        ),
        "withdrawn" => (
            "This offer was withdrawn".to_owned(),
            Some("You are no longer on the waitlist for this service, so the offer went with your entry.".to_owned()),
            Some((format!("{portal}/waitlist"), "See your waitlist".to_owned())),
        ),
        "expired" => (
            "This offer has expired".to_owned(),
            Some("The time was held for a while and has now gone back to the calendar. You are still on the waitlist.".to_owned()),
            Some((format!("{portal}/book"), "Book another time".to_owned())),
        ),
        _ => (
            "This time has been taken".to_owned(),
            Some("Someone else on the waitlist accepted it first. You are still on the waitlist: we will email you when another time comes free.".to_owned()),
            Some((format!("{portal}/waitlist"), "See your waitlist".to_owned())),
        ),
    };
    let until = {
        let mut conn = state.db.conn().await?;
        let clinics = store::clinic::all(conn.exec(), org.id).await?;
        let zone = clinics
            .iter()
            .find(|c| c.id == found.hold.clinic_id)
            .map_or(chrono_tz::UTC, store::clinic::Clinic::zone);
        crate::clinic_time::local_datetime_exact(found.hold.expires_at_ns, zone)
    };
    Ok(OfferPage {
        layout: PortalLayout::new(org, session, None, heading.clone(), "offer").await?,
        heading,
        what: d.what,
        when: d.when,
        place: d.place,
        until,
        open: d.state == "open",
        token: token.to_owned(),
        notice,
        error,
        link,
    })
}

/// The offer's page: what, when, where, and the button (GET changes nothing).
pub(super) async fn offer_page(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path(path): Path<(String, String)>,
) -> Result<OfferPage, PageError> {
    let found = find(&state, &org, &path.1).await?;
    Ok(page(&state, &org, &session, &path.1, &found, None).await?)
}

/// Accepts from the page: the page again, saying booked, taken or expired (409 when
/// not booked).
pub(super) async fn accept_page(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path(path): Path<(String, String)>,
) -> Result<Response, PageError> {
    let found = find(&state, &org, &path.1).await?;
    let outcome = accept(&state, &org, &found, &path.1).await?;
    let found = find(&state, &org, &path.1).await?;
    Ok(match outcome {
        AcceptOutcome::Booked(a) | AcceptOutcome::AlreadyBooked(a) => page(
            &state,
            &org,
            &session,
            &path.1,
            &found,
            Some(
                if a.status == store::appointment::AppointmentStatus::Pending {
                    "Requested: the clinic will confirm it. We have emailed you the details."
                        .to_owned()
                } else {
                    "Booked. We have emailed you the details.".to_owned()
                },
            ),
        )
        .await?
        .into_response(),
        _ => (
            StatusCode::CONFLICT,
            page(&state, &org, &session, &path.1, &found, None).await?,
        )
            .into_response(),
    })
}
