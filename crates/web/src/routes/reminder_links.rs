//! A reminder's links (issue 17, `store::reminder`), at
//! `/o/{slug}/portal/reminder/{token}`, without signing in: GET shows the appointment
//! and one button (confirm, or cancel), and changes nothing (mail scanners fetch
//! links); POST does it. A link works once, for the appointment as it was when the
//! reminder was sent (its start and its `sequence`: any move since, even back, or to
//! another practitioner or clinic at the same time, stops it), until that start; a cancel link only while the portal's own cancel
//! would be allowed (the organisation's notice, `cancellable_until`). Every other case
//! — used, expired, moved, cancelled, unknown — is a page that says so. The token
//! reaches nothing but its own appointment: the path's organisation is the only one
//! searched, and nothing in the request names an appointment.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use store::appointment::{Actor, Appointment, cancellable_until};
use store::reminder::{Link, LinkAction, LinkState};
use store::{AppointmentStatus, Organisation};
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::Org;
use crate::error::{AppError, PageError};
use crate::form::FormData;
use crate::notices::AppointmentContext;
use crate::notices::staff::PortalChange;
use crate::pages::PortalLayout;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/o/{slug}/portal/reminder/{token}",
        axum::routing::get(page).post(submit),
    )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_show, api_use))
}

/// The appointment a link speaks of, in words.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LinkAppointmentDto {
    /// `Physiotherapy with Dr Lee`.
    pub what: String,
    /// The date and time in the clinic's zone, with the zone.
    pub when: String,
    /// The clinic with its address, or how a video appointment is joined.
    pub place: String,
    /// `booked`, `cancelled`, …
    pub status: String,
    /// Whether the patient has confirmed it.
    pub confirmed: bool,
}

/// What a reminder's link is and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReminderLinkDto {
    /// `confirm` or `cancel`.
    pub action: String,
    /// `valid`, `used`, `expired`, `moved`, `cancelled`, `arrived` (the patient is
    /// checked in), `settled` (it took place, was missed, or waits for the clinic), or
    /// `too_late` (a cancel link past the clinic's cancellation notice).
    pub state: String,
    /// The appointment.
    pub appointment: LinkAppointmentDto,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/reminder_link.html")]
struct LinkPage {
    layout: PortalLayout,
    heading: String,
    paragraphs: Vec<String>,
    appointment: Option<LinkAppointmentDto>,
    /// The form's address and its button.
    form: Option<(String, String)>,
    danger: bool,
    links: Vec<(String, String)>,
}

/// Where a link stands, with the notice rule for a cancel link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    Link(LinkState),
    /// A cancel link past the organisation's cancellation notice.
    TooLate,
}

impl Standing {
    fn as_str(self) -> &'static str {
        match self {
            Standing::Link(LinkState::Valid) => "valid",
            Standing::Link(LinkState::Used) => "used",
            Standing::Link(LinkState::Expired) => "expired",
            Standing::Link(LinkState::Moved) => "moved",
            Standing::Link(LinkState::Cancelled) => "cancelled",
            Standing::Link(LinkState::Arrived) => "arrived",
            Standing::Link(LinkState::Settled) => "settled",
            Standing::TooLate => "too_late",
        }
    }
}

fn standing(org: &Organisation, link: &Link, a: &Appointment, now: i64) -> Standing {
    match store::reminder::state(link, a, now) {
        LinkState::Valid
            if link.action == LinkAction::Cancel
                && cancellable_until(org, a.status, a.start_ns, now).is_none() =>
        {
            Standing::TooLate
        }
        s => Standing::Link(s),
    }
}

async fn describe(
    state: &AppState,
    org: &Organisation,
    a: &Appointment,
) -> Result<LinkAppointmentDto, AppError> {
    let mut conn = state.db.conn().await?;
    let e = store::book::entry(conn.exec(), org.id, a.id).await?;
    let tz = e.zone();
    let place = if e.place.telehealth {
        if e.place.video_link.trim().is_empty() {
            "Video appointment: the clinic will send you the link".to_owned()
        } else {
            format!("Video appointment: join at {}", e.place.video_link.trim())
        }
    } else {
        [
            e.place.clinic_name.trim(),
            e.place.clinic_address.trim(),
            e.place.clinic_phone.trim(),
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.replace('\n', ", "))
        .collect::<Vec<_>>()
        .join(", ")
    };
    Ok(LinkAppointmentDto {
        what: format!(
            "{} with {}",
            e.service_name.as_deref().unwrap_or("Appointment"),
            e.practitioner_name
        ),
        when: format!(
            "{} ({})",
            crate::clinic_time::local_datetime(e.start_ns, tz),
            crate::clinic_time::zone_label(tz, e.start_ns)
        ),
        place,
        status: e.status.as_str().to_owned(),
        confirmed: a.confirmed_at_ns.is_some(),
    })
}

/// The link and its appointment, or 404 for a token the organisation does not know.
async fn open(
    state: &AppState,
    org: &Organisation,
    token: &str,
) -> Result<(Link, Appointment), AppError> {
    let mut conn = state.db.conn().await?;
    store::reminder::open(conn.exec(), org.id, token)
        .await?
        .ok_or_else(|| AppError::NotFound("link".into()))
}

fn words(
    org: &Organisation,
    action: LinkAction,
    s: Standing,
    a: &Appointment,
) -> (String, Vec<String>) {
    let call = "If you need to change it, sign in to the portal or call the clinic.".to_owned();
    match (action, s) {
        (LinkAction::Confirm, Standing::Link(LinkState::Valid)) => (
            "Confirm your appointment".into(),
            vec!["Will you come? Confirming tells the clinic to expect you.".into()],
        ),
        (LinkAction::Cancel, Standing::Link(LinkState::Valid)) => (
            "Cancel your appointment".into(),
            vec!["Cancelling frees the time for someone else. This cannot be undone online.".into()],
        ),
        (_, Standing::TooLate) => (
            "It is too late to cancel online".into(),
            vec![format!(
                "{} asks for notice to cancel online. Please call the clinic if you cannot come.",
                org.name
            )],
        ),
        (_, Standing::Link(LinkState::Used)) => (
            "This link was already used".into(),
            vec![
                if action == LinkAction::Confirm && a.confirmed_at_ns.is_some() {
                    "Your appointment is confirmed: there is nothing more to do.".into()
                } else {
                    "Each link in a reminder works once.".into()
                },
                call,
            ],
        ),
        (_, Standing::Link(LinkState::Expired)) => (
            "This link has expired".into(),
            vec!["A reminder's links work until the appointment starts.".into(), call],
        ),
        (_, Standing::Link(LinkState::Moved)) => (
            "This appointment has moved".into(),
            vec![
                "The appointment has changed since this link was sent (its time, practitioner or place), so the link no longer works. The appointment as it is now is below; a new reminder will come before it.".into(),
            ],
        ),
        (_, Standing::Link(LinkState::Cancelled)) => (
            "This appointment is cancelled".into(),
            vec!["There is nothing to confirm or cancel.".into()],
        ),
        (_, Standing::Link(LinkState::Arrived)) => (
            "You are checked in".into(),
            vec!["The clinic has marked you as arrived: there is nothing to confirm or cancel.".into()],
        ),
        (_, Standing::Link(LinkState::Settled)) => match a.status {
            AppointmentStatus::Pending => (
                "This appointment is waiting for the clinic".into(),
                vec!["The clinic has not accepted it yet: there is nothing to confirm or cancel.".into(), call],
            ),
            AppointmentStatus::NoShow => (
                "This appointment has already taken place".into(),
                vec!["The clinic marked it as missed. To book again, sign in to the portal or call the clinic.".into()],
            ),
            _ => (
                "This appointment has already taken place".into(),
                vec!["There is nothing to confirm or cancel. To book again, sign in to the portal or call the clinic.".into()],
            ),
        },
    }
}

async fn render(
    state: &AppState,
    org: &Organisation,
    session: &Session,
    token: &str,
    done: Option<(&str, Vec<String>)>,
) -> Result<Response, PageError> {
    let now = state.clock.now_ns();
    let layout = |title: String| async move {
        PortalLayout::new(org, session, None, &title, "appointments").await
    };
    let (link, a) = match open(state, org, token).await {
        Ok(found) => found,
        Err(AppError::NotFound(_)) => {
            let page = LinkPage {
                layout: layout("Link not recognised".into()).await?,
                heading: "This link is not recognised".into(),
                paragraphs: vec!["The link may be incomplete: some email programs cut long links. Open it from the email again, or copy the whole link.".into()],
                appointment: None,
                form: None,
                danger: false,
                links: vec![(format!("/o/{}/portal", org.slug), "Go to the patient portal".into())],
            };
            return Ok((StatusCode::NOT_FOUND, page).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let appointment = Some(describe(state, org, &a).await?);
    let portal_appointment = (
        format!("/o/{}/portal/appointments/{}", org.slug, a.id),
        "See it in the portal (sign in)".to_owned(),
    );
    if let Some((heading, paragraphs)) = done {
        let page = LinkPage {
            layout: layout(heading.to_owned()).await?,
            heading: heading.to_owned(),
            paragraphs,
            appointment,
            form: None,
            danger: false,
            links: vec![portal_appointment],
        };
        return Ok(page.into_response());
    }
    let s = standing(org, &link, &a, now);
    let (heading, paragraphs) = words(org, link.action, s, &a);
    let mut links = Vec::new();
    let form = (s == Standing::Link(LinkState::Valid)).then(|| {
        (
            format!("/o/{}/portal/reminder/{token}", org.slug),
            match link.action {
                LinkAction::Confirm => "Yes, I will come".to_owned(),
                LinkAction::Cancel => "Cancel this appointment".to_owned(),
            },
        )
    });
    if link.action == LinkAction::Cancel && form.is_some() {
        links.push((
            format!("/o/{}/portal/appointments/{}/reschedule", org.slug, a.id),
            "Choose another time instead (sign in)".to_owned(),
        ));
    }
    links.push(portal_appointment);
    let status = match s {
        Standing::Link(LinkState::Valid) => StatusCode::OK,
        Standing::Link(LinkState::Expired) => StatusCode::GONE,
        _ => StatusCode::CONFLICT,
    };
    let page = LinkPage {
        layout: layout(heading.clone()).await?,
        heading,
        paragraphs,
        appointment,
        form,
        danger: link.action == LinkAction::Cancel,
        links,
    };
    Ok((status, page).into_response())
}

async fn page(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
) -> Result<Response, PageError> {
    render(&state, &org, &session, &token, None).await
}

/// Uses a link: `Ok` with the appointment after the change, or the standing that
/// refused it (nothing changed then).
async fn use_link(
    state: &AppState,
    org: &Organisation,
    token: &str,
) -> Result<Result<(LinkAction, Appointment), Standing>, AppError> {
    let now = state.clock.now_ns();
    let (link, a) = open(state, org, token).await?;
    let s = standing(org, &link, &a, now);
    if s != Standing::Link(LinkState::Valid) {
        return Ok(Err(s));
    }
    match link.action {
        LinkAction::Confirm => {
            match store::reminder::confirm(&state.db, org.id, token, now).await? {
                Ok(a) => Ok(Ok((LinkAction::Confirm, a))),
                Err(s) => Ok(Err(Standing::Link(s))),
            }
        }
        LinkAction::Cancel => {
            let Some(patient) = a.patient_id else {
                return Err(AppError::NotFound("link".into()));
            };
            let context = AppointmentContext::for_appointment(state, org, a.id, None).await?;
            // Told like a cancellation in the portal: the patient, and the staff who
            // asked to be.
            let notify = |a: &Appointment| {
                context
                    .iter()
                    .flat_map(|c| c.portal_notices(PortalChange::Cancelled, a))
                    .collect()
            };
            // The store's cancel checks the notice rule again under the practitioner's
            // lock, as the portal's cancel does; the link is used up after it, so that
            // a refused cancel leaves the link working.
            match store::appointment::cancel(
                &state.db,
                org,
                a.id,
                Actor::Patient(patient),
                "",
                state.clock.as_ref(),
                Some(&notify),
            )
            .await
            {
                Ok(cancelled) => {
                    let mut tx = state.db.begin().await?;
                    store::reminder::mark_used(&mut tx, org.id, link.id, now).await?;
                    tx.commit().await?;
                    state.mail.notify();
                    Ok(Ok((LinkAction::Cancel, cancelled)))
                }
                Err(store::Error::TooLate { .. }) => Ok(Err(Standing::TooLate)),
                // Cancelled, checked in or settled meanwhile (by the clinic, or this
                // link twice at once): the page says which.
                Err(store::Error::Invalid { field, .. }) if field == "status" => {
                    let (link, a) = open(state, org, token).await?;
                    Ok(Err(match standing(org, &link, &a, now) {
                        Standing::Link(LinkState::Valid) => Standing::Link(LinkState::Used),
                        s => s,
                    }))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

async fn submit(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
    _form: FormData,
) -> Result<Response, PageError> {
    match use_link(&state, &org, &token).await {
        Ok(Ok((LinkAction::Confirm, _))) => {
            render(
                &state,
                &org,
                &session,
                &token,
                Some((
                    "Thank you: your appointment is confirmed",
                    vec!["The clinic will expect you.".into()],
                )),
            )
            .await
        }
        Ok(Ok((LinkAction::Cancel, _))) => {
            render(
                &state,
                &org,
                &session,
                &token,
                Some((
                    "Your appointment is cancelled",
                    vec![
                    "We have emailed you a confirmation. You can book another time in the portal."
                        .into(),
                ],
                )),
            )
            .await
        }
        Ok(Err(_)) | Err(AppError::NotFound(_)) => {
            render(&state, &org, &session, &token, None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn dto(
    state: &AppState,
    org: &Organisation,
    token: &str,
) -> Result<ReminderLinkDto, AppError> {
    let (link, a) = open(state, org, token).await?;
    let s = standing(org, &link, &a, state.clock.now_ns());
    Ok(ReminderLinkDto {
        action: link.action.as_str().to_owned(),
        state: s.as_str().to_owned(),
        appointment: describe(state, org, &a).await?,
    })
}

/// What a reminder's link is for and where it stands (changes nothing).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/reminder-links/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The token from the reminder")),
    responses((status = 200, body = ReminderLinkDto), (status = 404, description = "No such link in this organisation")))]
async fn api_show(
    State(state): State<AppState>,
    Org(org): Org,
    Path(path): Path<(String, String)>,
) -> Result<Json<ReminderLinkDto>, AppError> {
    Ok(Json(dto(&state, &org, &path.1).await?))
}

/// Uses a reminder's link: confirms or cancels its appointment, once.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/reminder-links/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The token from the reminder")),
    responses((status = 200, body = ReminderLinkDto), (status = 404, description = "No such link in this organisation"),
              (status = 409, description = "The link was used or expired, the appointment moved, is cancelled, checked in or settled, or it is too late to cancel online")))]
async fn api_use(
    State(state): State<AppState>,
    Org(org): Org,
    Path(path): Path<(String, String)>,
) -> Result<Json<ReminderLinkDto>, AppError> {
    let token = &path.1;
    match use_link(&state, &org, token).await? {
        Ok(_) => Ok(Json(dto(&state, &org, token).await?)),
        Err(s) => Err(AppError::Conflict {
            message: match s {
                Standing::Link(LinkState::Used) => "this link was already used".into(),
                Standing::Link(LinkState::Moved) => {
                    "the appointment has moved since this reminder: its links no longer work".into()
                }
                Standing::TooLate => {
                    "it is too late to cancel online: please call the clinic".into()
                }
                Standing::Link(LinkState::Expired) => {
                    "the appointment has started: its reminder's links no longer work".into()
                }
                Standing::Link(LinkState::Arrived) => {
                    "the patient is checked in: there is nothing to confirm or cancel".into()
                }
                Standing::Link(LinkState::Settled) => {
                    "the appointment is no longer to come: there is nothing to confirm or cancel"
                        .into()
                }
                Standing::Link(LinkState::Cancelled) => "the appointment is cancelled".into(),
                Standing::Link(LinkState::Valid) => "the link could not be used".into(),
            },
            details: serde_json::json!({ "state": s.as_str() }),
        }),
    }
}
