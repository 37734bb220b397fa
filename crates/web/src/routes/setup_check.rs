//! The setup check ("why can't my patients book X?"): what keeps each service and
//! practitioner from the portal, each with a link to the page that fixes it; and "why
//! is this time not offered?", answered by the engine's check with the rule and reason;
//! and why video appointments are not offered where they are not. The page and the API.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use store::book;
use store::setup_check::{self, Explanation, Fix, Problem, Question, Report};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{StaffApi, StaffPage};
use crate::clinic_time::{parse_date, parse_time};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, JsonBody, PageQuery};
use crate::pages::Layout;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new().route("/o/{slug}/admin/setup-check", get(page))
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(explain))
}

/// The page that fixes a problem, and what to call the link.
fn fix_link(slug: &str, fix: Fix) -> (String, &'static str) {
    match fix {
        Fix::Service(id) => (format!("/o/{slug}/admin/services/{id}"), "Edit the service"),
        Fix::Practitioner(id) => (
            format!("/o/{slug}/admin/practitioners/{id}"),
            "Edit the practitioner",
        ),
        Fix::Availability(id) => (
            format!("/o/{slug}/admin/practitioners/{id}/availability"),
            "Edit availability",
        ),
        Fix::Clinic(id) => (
            format!("/o/{slug}/admin/clinics/{id}"),
            "Edit the clinic's holidays",
        ),
        Fix::Patient(id) => (format!("/o/{slug}/admin/patients/{id}"), "Open the patient"),
        Fix::Patients => (format!("/o/{slug}/admin/patients"), "Open the patients"),
        Fix::Settings => (format!("/o/{slug}/admin/settings"), "Edit the settings"),
        Fix::ScheduleTypes => (
            format!("/o/{slug}/admin/schedule-types"),
            "Open the schedule types",
        ),
        Fix::Resource(id) => (
            format!("/o/{slug}/admin/resources/{id}"),
            "Edit the room or equipment",
        ),
    }
}

/// One problem, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProblemDto {
    /// `not_bookable_online`, `no_schedule_types`, `no_practitioner`, `type_mismatch`,
    /// `inactive`, `not_bookable_in_portal`, `no_record`, `no_blocks`, `overlay_empty`,
    /// `holiday`, `fully_booked`, `hidden_from_patients`, `no_online_service`,
    /// `no_open_slots`; among the video notes also `no_video` (no schedule type that
    /// allows telehealth) and `no_video_link` (video offered without a join link); about
    /// rooms and equipment `need_not_where_hours` (no resource of a need where the
    /// service has hours), `need_smaller_than_conflicts` (a need holds fewer than the
    /// service's portal conflicts) and `resource_no_record` (no availability record for
    /// the coming weeks).
    pub kind: String,
    /// What keeps it from the portal, in words.
    pub message: String,
    /// The page that fixes it: `service`, `practitioner`, `availability`, `clinic`,
    /// `patient`, `patients`, `settings`, `schedule_types` or `resource`.
    pub fix_page: String,
    /// The id of what that page edits, when it edits one thing.
    pub fix_id: Option<i64>,
    /// That page's address.
    pub fix_url: String,
}

fn problem_dto(slug: &str, p: &Problem) -> ProblemDto {
    let (fix_page, fix_id) = match serde_json::to_value(p.fix) {
        Ok(v) => (
            v["page"].as_str().unwrap_or_default().to_owned(),
            v["id"].as_i64(),
        ),
        Err(_) => (String::new(), None),
    };
    ProblemDto {
        kind: serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        message: p.message.clone(),
        fix_page,
        fix_id,
        fix_url: fix_link(slug, p.fix).0,
    }
}

/// A service's check.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServiceCheckDto {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Whether "Book from portal" is on.
    pub book_from_portal: bool,
    /// Open slots in the coming weeks.
    pub open_slots: usize,
    /// Of those, the open video slots (what a patient asking for video finds).
    pub video_slots: usize,
    /// What keeps it (or some of its practitioners) from the portal; empty when nothing.
    pub problems: Vec<ProblemDto>,
    /// Why it is not offered by video, or not with some practitioners; empty when it is,
    /// and when the organisation offers no video at all (the report's `video` says so).
    pub video: Vec<ProblemDto>,
}

/// A practitioner's check.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PractitionerCheckDto {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Open slots in the coming weeks, all their online services together.
    pub open_slots: usize,
    /// Of those, the open video slots.
    pub video_slots: usize,
    /// What keeps them from the portal; empty when nothing.
    pub problems: Vec<ProblemDto>,
    /// Why they are not offered by video, or why their video appointments have no join
    /// link; empty when nothing, and when the organisation offers no video at all.
    pub video: Vec<ProblemDto>,
}

/// The setup check.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReportDto {
    /// The first date looked at.
    pub from: String,
    /// The last date looked at.
    pub to: String,
    /// Every service, by name.
    pub services: Vec<ServiceCheckDto>,
    /// Every practitioner, by name.
    pub practitioners: Vec<PractitionerCheckDto>,
    /// Why the organisation offers no video appointments at all; empty when it does.
    pub video: Vec<ProblemDto>,
    /// What keeps rooms and equipment from being used (no availability record for the
    /// coming weeks); empty when nothing.
    pub resources: Vec<ProblemDto>,
}

fn report_dto(slug: &str, r: Report) -> ReportDto {
    ReportDto {
        from: r.from.to_string(),
        to: r.to.to_string(),
        services: r
            .services
            .iter()
            .map(|s| ServiceCheckDto {
                id: s.id,
                name: s.name.clone(),
                book_from_portal: s.book_from_portal,
                open_slots: s.open_slots,
                video_slots: s.video_slots,
                problems: s.problems.iter().map(|p| problem_dto(slug, p)).collect(),
                video: s.video.iter().map(|p| problem_dto(slug, p)).collect(),
            })
            .collect(),
        practitioners: r
            .practitioners
            .iter()
            .map(|p| PractitionerCheckDto {
                id: p.id,
                name: p.name.clone(),
                open_slots: p.open_slots,
                video_slots: p.video_slots,
                problems: p.problems.iter().map(|x| problem_dto(slug, x)).collect(),
                video: p.video.iter().map(|x| problem_dto(slug, x)).collect(),
            })
            .collect(),
        video: r.video.iter().map(|p| problem_dto(slug, p)).collect(),
        resources: r.resources.iter().map(|p| problem_dto(slug, p)).collect(),
    }
}

/// "Why is this time not offered?"
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExplainBody {
    /// The service.
    pub service: i64,
    /// The practitioner.
    pub practitioner: i64,
    /// The date, `YYYY-MM-DD`, in the clinic's timezone.
    pub date: String,
    /// The start, `HH:MM`, in the clinic's timezone.
    pub time: String,
    /// Ask as this patient: their available practitioners apply.
    #[serde(default)]
    pub patient: Option<i64>,
}

/// The engine's answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExplanationDto {
    /// Whether the portal offers this slot.
    pub bookable: bool,
    /// The number of the rule that rejects it (the scenario spec's *Rules*), when one
    /// does; `null` when offered, or when the service is not bookable online at all.
    pub rule: Option<u8>,
    /// Why, in words; or the slot offered.
    pub reason: String,
    /// The slot's start when offered, RFC 3339 in the clinic's offset.
    pub start: Option<String>,
    /// The slot's end when offered.
    pub end: Option<String>,
    /// The timezone the date and time were read in.
    pub timezone: String,
}

impl From<Explanation> for ExplanationDto {
    fn from(e: Explanation) -> Self {
        ExplanationDto {
            bookable: e.bookable,
            rule: e.rule,
            reason: e.reason,
            start: e.start,
            end: e.end,
            timezone: e.timezone,
        }
    }
}

async fn run_report(state: &AppState, staff: &Caller) -> Result<Report, store::Error> {
    let mut conn = state.db.conn().await?;
    setup_check::report(&mut conn.exec(), &staff.org, state.clock.now()).await
}

/// What keeps each service and practitioner from the portal in the coming weeks
/// (admins and front desk).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/setup-check", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = ReportDto), (status = 401, description = "Not signed in"),
              (status = 403, description = "Not an admin or front desk")))]
async fn report(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<ReportDto>, AppError> {
    staff.front_desk()?;
    let r = run_report(&state, &staff).await?;
    Ok(Json(report_dto(&staff.org.slug, r)))
}

/// Checks one service, practitioner, date and time as a portal booking now: bookable,
/// or the rule that rejects it and why (admins and front desk: the front desk answers
/// patients who ask why a time is not offered).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/setup-check/explain", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = ExplainBody,
    responses((status = 200, body = ExplanationDto), (status = 401, description = "Not signed in"),
              (status = 403, description = "Not an admin or front desk"),
              (status = 404, description = "No such service, practitioner or patient in this organisation"),
              (status = 422, description = "Invalid date or time")))]
async fn explain(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<ExplainBody>,
) -> Result<Json<ExplanationDto>, AppError> {
    staff.front_desk()?;
    let date = parse_date(&body.date).map_err(|m| AppError::invalid("date", m))?;
    let time = parse_time(&body.time).map_err(|m| AppError::invalid("time", m))?;
    let question = Question {
        service: body.service,
        practitioner: body.practitioner,
        date: slot_engine::Date::try_from(date)
            .map_err(|e| AppError::invalid("date", e.to_string()))?,
        time: slot_engine::WallTime::from_minutes(time)
            .map_err(|e| AppError::invalid("time", e.to_string()))?,
        patient: body.patient,
    };
    let mut conn = state.db.conn().await?;
    let answer =
        setup_check::explain(&mut conn.exec(), &staff.org, &question, state.clock.now()).await?;
    Ok(Json(answer.into()))
}

// The page.

/// A problem on the page.
#[derive(Debug)]
struct ProblemLine {
    message: String,
    url: String,
    label: &'static str,
}

/// A service or practitioner on the page.
#[derive(Debug)]
struct Section {
    name: String,
    summary: String,
    /// What needs attention.
    problems: Vec<ProblemLine>,
    /// Planned time off (clinic holidays): told apart, not a problem to fix.
    planned: Vec<ProblemLine>,
    /// Why it is not offered by video (or has no join link).
    video: Vec<ProblemLine>,
}

/// An option of a select.
#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/setup_check.html")]
struct Page {
    layout: Layout,
    from: String,
    to: String,
    services: Vec<Section>,
    practitioners: Vec<Section>,
    /// Why the organisation offers no video at all.
    video: Vec<ProblemLine>,
    /// What keeps rooms and equipment from being used.
    resources: Vec<ProblemLine>,
    service_choices: Vec<Choice>,
    practitioner_choices: Vec<Choice>,
    date: String,
    time: String,
    errors: FieldErrors,
    answer: Option<Answer>,
}

/// The engine's answer as the page says it: one sentence opening with the time asked
/// about in the pages' format and its zone, and whether what keeps the time from the
/// portal is planned time off (the practitioner's time off or a clinic holiday: not a
/// problem) or something that needs attention. The rule's number stays in the API.
#[derive(Debug)]
struct Answer {
    bookable: bool,
    /// Planned time off, not a problem to fix.
    planned: bool,
    /// `Tue 15 Dec 2026, 14:00 EST: Christine Roy has time off … .`
    sentence: String,
    /// The zone the question was read in, as its IANA name.
    timezone: String,
}

impl Answer {
    fn of(e: Explanation, date: slot_engine::Date, time: slot_engine::WallTime) -> Self {
        let planned = matches!(
            e.rule,
            Some(n) if n == slot_engine::Rule::TimeOff.number() || n == slot_engine::Rule::Clinic.number()
        );
        let zone = e
            .timezone
            .parse::<chrono_tz::Tz>()
            .ok()
            .and_then(|tz| {
                let naive =
                    date.naive()
                        .and_hms_opt(time.minutes() / 60, time.minutes() % 60, 0)?;
                use chrono::TimeZone;
                let at = tz.from_local_datetime(&naive).earliest()?;
                Some(format!(" {}", at.format("%Z")))
            })
            .unwrap_or_default();
        let reason = sentence(&e.reason);
        let when = format!(
            "{}, {time}{zone}",
            crate::clinic_time::readable(&date.to_string())
        );
        Answer {
            bookable: e.bookable,
            planned,
            sentence: format!("{when}: {reason}."),
            timezone: e.timezone,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ExplainParams {
    service: Option<String>,
    practitioner: Option<String>,
    date: Option<String>,
    time: Option<String>,
}

fn lines(slug: &str, problems: &[Problem]) -> Vec<ProblemLine> {
    problems
        .iter()
        .map(|p| {
            let (url, label) = fix_link(slug, p.fix);
            ProblemLine {
                message: sentence(&p.message),
                url,
                label,
            }
        })
        .collect()
}

/// A reason written for the API as page text: dates in the pages' format, without
/// rule numbers, opening with a capital (the template ends it with a full stop).
fn sentence(reason: &str) -> String {
    let text = crate::clinic_time::readable(reason);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn section(
    slug: &str,
    name: &str,
    summary: String,
    problems: &[Problem],
    video: &[Problem],
) -> Section {
    let (planned, attention): (Vec<Problem>, Vec<Problem>) = problems
        .iter()
        .cloned()
        .partition(|p| p.kind == setup_check::Kind::Holiday);
    Section {
        name: name.to_owned(),
        summary,
        problems: lines(slug, &attention),
        planned: lines(slug, &planned),
        video: lines(slug, video),
    }
}

/// ` (3 by video)`, when the organisation offers video at all.
fn video_text(offered: bool, n: usize) -> String {
    if offered {
        format!(" ({n} by video)")
    } else {
        String::new()
    }
}

fn slots_text(n: usize) -> String {
    match n {
        0 => "no open slot".to_owned(),
        1 => "1 open slot".to_owned(),
        n => format!("{n} open slots"),
    }
}

async fn page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(q): PageQuery<ExplainParams>,
) -> Result<Page, PageError> {
    staff.front_desk()?;
    let slug = staff.org.slug.clone();
    let r = run_report(&state, &staff.caller()).await?;
    let mut conn = state.db.conn().await?;
    let choices = book::choices(conn.exec(), staff.org.id).await?;
    let value = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_owned();
    let (service, practitioner, date, time) = (
        value(&q.service),
        value(&q.practitioner),
        value(&q.date),
        value(&q.time),
    );
    // The question is asked once every field is there; until then the form just waits.
    let mut errors = FieldErrors::new();
    let mut answer = None;
    let asked =
        !(service.is_empty() && practitioner.is_empty() && date.is_empty() && time.is_empty());
    if asked {
        let id = |errors: &mut FieldErrors, v: &str, field: &str| match v.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(field, "choose one from the list");
                None
            }
        };
        let s = id(&mut errors, &service, "service");
        let p = id(&mut errors, &practitioner, "practitioner");
        let d = parse_date(&date)
            .map_err(|m| errors.add("date", m))
            .ok()
            .and_then(|d| slot_engine::Date::try_from(d).ok());
        let t = parse_time(&time)
            .map_err(|m| errors.add("time", m))
            .ok()
            .and_then(|t| slot_engine::WallTime::from_minutes(t).ok());
        if let (Some(service), Some(practitioner), Some(date), Some(time)) = (s, p, d, t) {
            let question = Question {
                service,
                practitioner,
                date,
                time,
                patient: None,
            };
            match setup_check::explain(&mut conn.exec(), &staff.org, &question, state.clock.now())
                .await
            {
                Ok(a) => answer = Some(Answer::of(a, date, time)),
                Err(store::Error::NotFound(what)) => errors.add(
                    if what == "service" {
                        "service"
                    } else {
                        "practitioner"
                    },
                    format!("no such {what} here"),
                ),
                Err(e) => errors.absorb(e)?,
            }
        }
    }
    let video_offered = r.video.is_empty();
    let services = r
        .services
        .iter()
        .map(|s| {
            let summary = if s.book_from_portal {
                format!(
                    "{}{} in the coming weeks",
                    slots_text(s.open_slots),
                    video_text(video_offered, s.video_slots)
                )
            } else {
                "not bookable online".to_owned()
            };
            section(&slug, &s.name, summary, &s.problems, &s.video)
        })
        .collect();
    let practitioners = r
        .practitioners
        .iter()
        .map(|p| {
            section(
                &slug,
                &p.name,
                format!(
                    "{}{} in the coming weeks",
                    slots_text(p.open_slots),
                    video_text(video_offered, p.video_slots)
                ),
                &p.problems,
                &p.video,
            )
        })
        .collect();
    let video = lines(&slug, &r.video);
    let resources = lines(&slug, &r.resources);
    let options = |items: Vec<(i64, String)>, selected: &str| -> Vec<Choice> {
        items
            .into_iter()
            .map(|(id, label)| Choice {
                selected: id.to_string() == selected,
                value: id.to_string(),
                label,
            })
            .collect()
    };
    Ok(Page {
        layout: Layout::staff(&staff, "Setup check", "setup-check").await?,
        from: crate::clinic_time::readable(&r.from.to_string()),
        to: crate::clinic_time::readable(&r.to.to_string()),
        services,
        practitioners,
        video,
        resources,
        service_choices: options(
            choices
                .services
                .iter()
                .map(|s| (s.id, s.name.clone()))
                .collect(),
            &service,
        ),
        practitioner_choices: options(
            choices
                .practitioners
                .iter()
                .map(|p| (p.id, p.name.clone()))
                .collect(),
            &practitioner,
        ),
        date,
        time,
        errors,
        answer,
    })
}
