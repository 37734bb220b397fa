//! The emails patients receive, as an admin words them: the list of kinds, and one
//! kind's subject and intro paragraph with a preview of the whole email (plain text and
//! HTML) for a sample appointment, before or after saving. The catalogue, defaults and
//! placeholders are `notices::templates`; the store keeps what was saved.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::appointment::Appointment;
use store::email_template::{self, EmailTemplate};
use store::{AppointmentStatus, Channel};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody};
use crate::mail::compose::{self, HtmlBody};
use crate::notices::AppointmentContext;
use crate::notices::templates::{self, EmailKind, PLACEHOLDERS};
use crate::pages::Layout;
use crate::routes::{refused, saved_to};
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/settings/emails", get(list_page))
        .route(
            "/o/{slug}/admin/settings/emails/{kind}",
            get(edit_page).post(save_page),
        )
        .route(
            "/o/{slug}/admin/settings/emails/{kind}/reset",
            post(reset_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(put_one, reset_one))
        .routes(routes!(preview))
}

/// One kind of email as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EmailTemplateDto {
    /// `booked`, `requested`, `accepted`, `moved`, `declined`, `cancelled`,
    /// `reminder`, `waitlist_offer` or `waitlist_gone`.
    pub kind: String,
    /// What the list calls it.
    pub title: String,
    /// When it is sent.
    pub when_sent: String,
    /// The subject as worded now (placeholders unfilled).
    pub subject: String,
    /// The intro paragraph as worded now (placeholders unfilled).
    pub intro: String,
    /// Whether the organisation reworded it (otherwise the default).
    pub customised: bool,
    /// The default subject.
    pub default_subject: String,
    /// The default intro paragraph.
    pub default_intro: String,
}

impl EmailTemplateDto {
    fn of(kind: EmailKind, saved: &[EmailTemplate]) -> EmailTemplateDto {
        let own = saved.iter().find(|t| t.kind == kind.key());
        EmailTemplateDto {
            kind: kind.key().to_owned(),
            title: kind.title().to_owned(),
            when_sent: kind.when_sent().to_owned(),
            subject: own
                .map_or(kind.default_subject(), |t| &t.subject)
                .to_owned(),
            intro: own.map_or(kind.default_intro(), |t| &t.intro).to_owned(),
            customised: own.is_some(),
            default_subject: kind.default_subject().to_owned(),
            default_intro: kind.default_intro().to_owned(),
        }
    }
}

/// A wording to save or preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WordingBody {
    /// One line, at most 200 characters; placeholders `{first_name}`, `{what}`,
    /// `{service}`, `{practitioner}`, `{when}`, `{where}`, `{clinic}`.
    pub subject: String,
    /// The paragraph after the greeting, at most 2000 characters; the same
    /// placeholders.
    pub intro: String,
}

/// An email as a patient would receive it, for a sample appointment.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PreviewDto {
    /// The subject, filled in.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

fn kind_of(key: &str) -> Result<EmailKind, AppError> {
    EmailKind::parse(key).ok_or_else(|| AppError::NotFound("kind of email".into()))
}

async fn saved(state: &AppState, org: i64) -> Result<Vec<EmailTemplate>, store::Error> {
    let mut conn = state.db.conn().await?;
    email_template::all(conn.exec(), org).await
}

/// Saves a kind's wording in one audited transaction.
async fn save(
    state: &AppState,
    staff: &Caller,
    kind: EmailKind,
    subject: &str,
    intro: &str,
) -> Result<(), store::Error> {
    templates::check(subject, intro)?;
    let before = saved(state, staff.org.id).await?;
    let mut tx = state.db.begin().await?;
    let now = state.clock.now_ns();
    let saved = email_template::set(&mut tx, staff.org.id, kind.key(), subject, intro, now).await?;
    let was = EmailTemplateDto::of(kind, &before);
    store::audit::record(
        &mut tx,
        staff.org.id,
        &staff.actor(),
        "organisation.set_email_template",
        "organisation",
        Some(staff.org.id),
        json!({
            "kind": kind.key(),
            "subject": saved.subject,
            "intro": saved.intro,
            "before": {"subject": was.subject, "intro": was.intro},
        }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Goes back to the default wording in one audited transaction (nothing recorded when
/// it already was the default).
async fn reset(state: &AppState, staff: &Caller, kind: EmailKind) -> Result<(), store::Error> {
    let mut tx = state.db.begin().await?;
    if email_template::reset(&mut tx, staff.org.id, kind.key()).await? {
        store::audit::record(
            &mut tx,
            staff.org.id,
            &staff.actor(),
            "organisation.reset_email_template",
            "organisation",
            Some(staff.org.id),
            json!({ "kind": kind.key() }),
            state.clock.now_ns(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The email of `kind` for a sample appointment two days from now at the
/// organisation's first clinic, with its first practitioner and service, worded as
/// `wording` says (or as saved, when `None`).
async fn sample(
    state: &AppState,
    staff: &Caller,
    kind: EmailKind,
    wording: Option<(&str, &str)>,
) -> Result<PreviewDto, AppError> {
    let mut conn = state.db.conn().await?;
    let org = &staff.org;
    let clinics = store::clinic::all(conn.exec(), org.id).await?;
    let practitioner = store::practitioner::all(conn.exec(), org.id)
        .await?
        .into_iter()
        .next();
    let service = store::service::all(conn.exec(), org.id)
        .await?
        .into_iter()
        .next();
    let mut templates = email_template::all(conn.exec(), org.id).await?;
    drop(conn);
    if let Some((subject, intro)) = wording {
        templates.retain(|t| t.kind != kind.key());
        templates.push(EmailTemplate {
            kind: kind.key().to_owned(),
            subject: subject.trim().to_owned(),
            intro: intro.trim().to_owned(),
            updated_at_ns: 0,
        });
    }
    let context = AppointmentContext {
        org_name: org.name.clone(),
        portal_url: format!("{}/o/{}/portal", state.config.public_url, org.slug),
        patient_email: "sam.sample@example.com".to_owned(),
        patient_first_name: "Sam".to_owned(),
        patient_name: "Sam Sample".to_owned(),
        organiser_email: state.config.mail.from.email.to_string(),
        public_url: state.config.public_url.clone(),
        practitioner_name: practitioner
            .as_ref()
            .map_or_else(|| "Dr Alex Example".to_owned(), |p| p.name.clone()),
        service_name: Some(
            service
                .as_ref()
                .map_or_else(|| "Physiotherapy".to_owned(), |s| s.name.clone()),
        ),
        video_link: org.video_link.clone(),
        cancellation_notice_minutes: org.cancellation_notice_minutes,
        templates,
        clinics: clinics.clone(),
        staff_watching: Vec::new(),
        staff_book_url: String::new(),
        staff_account_url: String::new(),
    };
    // Two days from now, on the hour.
    let hour = 3_600 * 1_000_000_000_i64;
    let start_ns = (state.clock.now_ns() / hour + 48) * hour;
    let duration_ns = service.as_ref().map_or(45, |s| s.duration_minutes) * 60 * 1_000_000_000;
    let status = match kind {
        EmailKind::Requested => AppointmentStatus::Pending,
        EmailKind::Cancelled | EmailKind::Declined => AppointmentStatus::Cancelled,
        _ => AppointmentStatus::Booked,
    };
    let a = Appointment {
        id: 0,
        key: None,
        practitioner_id: practitioner.as_ref().map_or(0, |p| p.id),
        patient_id: None,
        service_id: service.as_ref().map(|s| s.id),
        schedule_type_id: None,
        clinic_id: clinics.first().map(|c| c.id),
        telehealth: false,
        start_ns,
        end_ns: start_ns + duration_ns,
        status,
        channel: Channel::Portal,
        override_reason: None,
        override_by: None,
        status_note: String::new(),
        created_by: "patient:0".to_owned(),
        created_at_ns: state.clock.now_ns(),
        updated_by: "patient:0".to_owned(),
        updated_at_ns: state.clock.now_ns(),
        sequence: 0,
        cancel_reason: None,
        cancelled_by: None,
        cancelled_at_ns: None,
        cancelled_from: None,
        series_id: None,
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        confirmed_at_ns: None,
    };
    let message = match kind {
        EmailKind::Booked | EmailKind::Requested => context.booked(&a),
        EmailKind::Accepted => context.accepted(&a),
        EmailKind::Moved => context.moved(&a),
        EmailKind::Declined => context.declined(&a),
        EmailKind::Cancelled => context.cancelled(&a),
        EmailKind::Reminder => context.reminder(
            &a,
            &store::reminder::Links {
                confirm: "sample-confirm-link".to_owned(),
                cancel: "sample-cancel-link".to_owned(),
            },
            true,
        ),
        EmailKind::WaitlistOffer => {
            context.waitlist_offered(&a, "sample-offer-link", start_ns - 46 * hour)
        }
        EmailKind::WaitlistGone => context.waitlist_gone(&a),
    };
    let html = compose::html(&message.subject, &message.body)
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(PreviewDto {
        subject: message.subject,
        text: message.body,
        html,
    })
}

// API.

/// Every kind of email patients receive, with its wording now (admins).
#[utoipa::path(get, operation_id = "list_email_templates", path = "/api/v1/orgs/{slug}/email-templates", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [EmailTemplateDto]), (status = 403, description = "Not an admin")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<EmailTemplateDto>>, AppError> {
    staff.admin()?;
    let saved = saved(&state, staff.org.id).await?;
    Ok(Json(EmailTemplateDto::every(&saved)))
}

impl EmailTemplateDto {
    /// Every kind, in the catalogue's order.
    fn every(saved: &[EmailTemplate]) -> Vec<EmailTemplateDto> {
        EmailKind::ALL
            .into_iter()
            .map(|k| EmailTemplateDto::of(k, saved))
            .collect()
    }
}

/// Rewords one kind of email (admins): its subject and intro paragraph.
#[utoipa::path(put, operation_id = "put_email_template", path = "/api/v1/orgs/{slug}/email-templates/{kind}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("kind" = String, Path, description = "`booked`, `requested`, `accepted`, `moved`, `declined`, `cancelled`, `reminder`, `waitlist_offer` or `waitlist_gone`")),
    request_body = WordingBody,
    responses((status = 200, body = EmailTemplateDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such kind of email"),
        (status = 422, description = "A field is too long, empty, or holds an unknown placeholder; nothing saved")))]
async fn put_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<WordingBody>,
) -> Result<Json<EmailTemplateDto>, AppError> {
    staff.admin()?;
    let kind = kind_of(&path.1)?;
    save(&state, &staff, kind, &body.subject, &body.intro).await?;
    let saved = saved(&state, staff.org.id).await?;
    Ok(Json(EmailTemplateDto::of(kind, &saved)))
}

/// Goes back to the default wording of one kind of email (admins).
#[utoipa::path(delete, operation_id = "reset_email_template", path = "/api/v1/orgs/{slug}/email-templates/{kind}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("kind" = String, Path, description = "The kind of email")),
    responses((status = 200, body = EmailTemplateDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such kind of email")))]
async fn reset_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, String)>,
) -> Result<Json<EmailTemplateDto>, AppError> {
    staff.admin()?;
    let kind = kind_of(&path.1)?;
    reset(&state, &staff, kind).await?;
    Ok(Json(EmailTemplateDto::of(kind, &[])))
}

/// The email of one kind worded as the body says, for a sample appointment, without
/// saving anything (admins).
#[utoipa::path(post, operation_id = "preview_email_template", path = "/api/v1/orgs/{slug}/email-templates/{kind}/preview", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("kind" = String, Path, description = "The kind of email")),
    request_body = WordingBody,
    responses((status = 200, body = PreviewDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such kind of email"),
        (status = 422, description = "A field is too long, empty, or holds an unknown placeholder")))]
async fn preview(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<WordingBody>,
) -> Result<Json<PreviewDto>, AppError> {
    staff.admin()?;
    let kind = kind_of(&path.1)?;
    templates::check(&body.subject, &body.intro)?;
    Ok(Json(
        sample(&state, &staff, kind, Some((&body.subject, &body.intro))).await?,
    ))
}

// Pages.

#[derive(Template, WebTemplate)]
#[template(path = "admin/email_templates.html")]
struct ListPage {
    layout: Layout,
    kinds: Vec<EmailTemplateDto>,
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    let saved = saved(&state, staff.org.id).await?;
    Ok(ListPage {
        layout: Layout::staff(&staff, "Emails to patients", "setup").await?,
        kinds: EmailTemplateDto::every(&saved),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/email_template.html")]
struct EditPage {
    layout: Layout,
    kind: EmailTemplateDto,
    /// The subject and intro as typed (or as saved).
    subject: String,
    intro: String,
    errors: FieldErrors,
    placeholders: &'static [(&'static str, &'static str)],
    /// The email for the sample appointment, worded as the form shows; none while the
    /// form has errors.
    preview: Option<PreviewDto>,
    /// Its HTML part's body, as the page shows it.
    preview_html: Option<String>,
    /// Whether the preview is of typed, unsaved words.
    unsaved: bool,
}

async fn edit_view(
    state: &AppState,
    staff: &Staff,
    kind: EmailKind,
    typed: Option<(String, String)>,
    errors: FieldErrors,
) -> Result<EditPage, PageError> {
    let saved = saved(state, staff.org.id).await?;
    let dto = EmailTemplateDto::of(kind, &saved);
    let unsaved = typed.is_some();
    let (subject, intro) = typed.unwrap_or_else(|| (dto.subject.clone(), dto.intro.clone()));
    let preview = if errors.is_empty() {
        Some(sample(state, &staff.caller(), kind, Some((&subject, &intro))).await?)
    } else {
        None
    };
    let preview_html = match &preview {
        Some(p) => Some(
            HtmlBody::of(&p.text)
                .render()
                .map_err(|e| AppError::internal(e.to_string()))?,
        ),
        None => None,
    };
    Ok(EditPage {
        layout: Layout::staff(staff, format!("Email: {}", kind.title()), "setup").await?,
        kind: dto,
        subject,
        intro,
        errors,
        placeholders: &PLACEHOLDERS,
        preview,
        preview_html,
        unsaved,
    })
}

async fn edit_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, kind)): Path<(String, String)>,
) -> Result<EditPage, PageError> {
    staff.admin()?;
    let kind = kind_of(&kind)?;
    edit_view(&state, &staff, kind, None, FieldErrors::new()).await
}

/// The form's two buttons: *Preview* shows the email as typed without saving;
/// *Save* saves it (and the list says "Saved.").
async fn save_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, kind)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let kind = kind_of(&kind)?;
    let (subject, intro) = (form.get("subject"), form.get("intro"));
    let mut errors = FieldErrors::new();
    if form.get("action") == "preview" {
        if let Err(e) = templates::check(&subject, &intro) {
            errors.absorb(e)?;
            return Ok(refused(
                edit_view(&state, &staff, kind, Some((subject, intro)), errors).await?,
            ));
        }
        return Ok(
            edit_view(&state, &staff, kind, Some((subject, intro)), errors)
                .await?
                .into_response(),
        );
    }
    match save(&state, &staff.caller(), kind, &subject, &intro).await {
        Ok(()) => {
            saved_to(
                &staff,
                &format!("/o/{}/admin/settings/emails", staff.org.slug),
            )
            .await
        }
        Err(e) => {
            errors.absorb(e)?;
            Ok(refused(
                edit_view(&state, &staff, kind, Some((subject, intro)), errors).await?,
            ))
        }
    }
}

async fn reset_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, kind)): Path<(String, String)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let kind = kind_of(&kind)?;
    reset(&state, &staff.caller(), kind).await?;
    saved_to(
        &staff,
        &format!("/o/{}/admin/settings/emails", staff.org.slug),
    )
    .await
}
