//! Pending portal bookings: when the organisation does not auto-accept, a portal booking
//! holds its slot until the front desk accepts or declines it, with a note for the
//! patient. The page and the API.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use store::appointment::{self, Decision};
use store::book::{self, Entry};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::appointment_dto::AppointmentDto;
use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::clinic_time::{local, time_span};
use crate::error::{AppError, PageError};
use crate::form::{FormData, JsonBody, PageQuery};
use crate::notices::AppointmentContext;
use crate::pages::Layout;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/pending", get(list_page))
        .route("/o/{slug}/admin/pending/{id}", post(decide_page))
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(accept))
        .routes(routes!(decline))
}

/// Staff's answer to a pending booking.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionBody {
    /// A note for the patient (at most 1000 characters).
    #[serde(default)]
    pub note: String,
}

/// Accepts or declines a pending booking, emails the patient, and reads it back as the
/// book shows it. The page and the API both decide through here.
async fn decide(
    state: &AppState,
    staff: &Caller,
    id: i64,
    decision: Decision,
    note: &str,
) -> Result<Entry, store::Error> {
    let context = AppointmentContext::for_appointment(state, &staff.org, id, None).await?;
    let accepted = decision == Decision::Accept;
    let notify = |a: &appointment::Appointment| {
        context
            .iter()
            .map(|c| {
                if accepted {
                    c.accepted(a)
                } else {
                    c.declined(a)
                }
            })
            .collect()
    };
    let decided = appointment::decide(
        &state.db,
        &staff.org,
        id,
        decision,
        note,
        staff.audit_actor(),
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    state.mail.notify();
    let mut conn = state.db.conn().await?;
    book::entry(conn.exec(), staff.org.id, decided.id).await
}

/// Pending portal bookings, earliest first (front desk).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/appointments/pending", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [AppointmentDto]), (status = 401, description = "Not signed in"),
              (status = 403, description = "Not front desk")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<AppointmentDto>>, AppError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let entries = book::pending(conn.exec(), staff.org.id).await?;
    Ok(Json(
        entries.into_iter().map(AppointmentDto::from).collect(),
    ))
}

/// Accepts a pending booking: it becomes booked.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/appointments/{id}/accept", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    request_body = DecisionBody,
    responses((status = 200, body = AppointmentDto, description = "Accepted"),
              (status = 404, description = "No such appointment in this organisation"),
              (status = 422, description = "Not pending, or the note is too long")))]
async fn accept(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<AppointmentDto>, AppError> {
    staff.front_desk()?;
    let entry = decide(&state, &staff, path.1, Decision::Accept, &body.note).await?;
    Ok(Json(entry.into()))
}

/// Declines a pending booking: it is cancelled, and its slot freed.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/appointments/{id}/decline", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    request_body = DecisionBody,
    responses((status = 200, body = AppointmentDto, description = "Declined"),
              (status = 404, description = "No such appointment in this organisation"),
              (status = 422, description = "Not pending, or the note is too long")))]
async fn decline(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<AppointmentDto>, AppError> {
    staff.front_desk()?;
    let entry = decide(&state, &staff, path.1, Decision::Decline, &body.note).await?;
    Ok(Json(entry.into()))
}

// The page.

/// A pending booking as the page lists it.
#[derive(Debug)]
struct Line {
    id: i64,
    patient: String,
    patient_id: Option<i64>,
    practitioner: String,
    service: String,
    date: String,
    time: String,
    clinic: String,
    requested: String,
}

impl From<&Entry> for Line {
    fn from(e: &Entry) -> Self {
        let tz = e.zone();
        Line {
            id: e.id,
            patient: e.patient_name().unwrap_or_else(|| "No patient".to_owned()),
            patient_id: e.patient_id,
            practitioner: e.practitioner_name.clone(),
            service: e
                .service_name
                .clone()
                .or_else(|| e.schedule_type_name.clone())
                .unwrap_or_default(),
            date: local(e.start_ns, tz).format("%a %-d %b %Y").to_string(),
            time: time_span(e),
            clinic: e.place.clinic_name.clone(),
            requested: local(e.created_at_ns, tz)
                .format("%a %-d %b, %H:%M")
                .to_string(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/pending.html")]
struct PendingPage {
    layout: Layout,
    lines: Vec<Line>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    notice: Option<String>,
    appointment: Option<i64>,
}

async fn view(
    state: &AppState,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
) -> Result<PendingPage, PageError> {
    let mut conn = state.db.conn().await?;
    let entries = book::pending(conn.exec(), staff.org.id).await?;
    Ok(PendingPage {
        layout: Layout::staff(staff, "Pending bookings", "pending").await?,
        lines: entries.iter().map(Line::from).collect(),
        notice,
        error,
    })
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(done): PageQuery<Done>,
) -> Result<PendingPage, PageError> {
    staff.front_desk()?;
    let notice = match (done.notice.as_deref(), done.appointment) {
        (Some(kind @ ("accepted" | "declined")), Some(id)) => {
            let mut conn = state.db.conn().await?;
            match book::entry(conn.exec(), staff.org.id, id).await {
                Ok(e) => Some(format!(
                    "{} {} with {}, {}.",
                    if kind == "accepted" {
                        "Accepted:"
                    } else {
                        "Declined:"
                    },
                    e.patient_name().unwrap_or_else(|| "no patient".to_owned()),
                    e.practitioner_name,
                    crate::clinic_time::when(&e)
                )),
                Err(store::Error::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    view(&state, &staff, notice, None).await
}

async fn decide_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    let (decision, done) = match form.get("decision").as_str() {
        "accept" => (Decision::Accept, "accepted"),
        "decline" => (Decision::Decline, "declined"),
        _ => {
            return Err(AppError::invalid("decision", "choose Accept or Decline").into());
        }
    };
    match decide(&state, &staff.caller(), id, decision, &form.get("note")).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/o/{}/admin/pending?notice={done}&appointment={id}",
            staff.org.slug
        ))
        .into_response()),
        Err(store::Error::Invalid { field, message }) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            view(
                &state,
                &staff,
                None,
                Some(format!("Nothing was changed: {field}: {message}.")),
            )
            .await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
