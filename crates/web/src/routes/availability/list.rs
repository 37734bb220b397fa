//! The list of a practitioner's availability records, and the form that creates one.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Response;
use slot_engine::{WallTime, Weekday};
use store::availability::{self, PractitionerSummary, Record, day_name};
use store::clinic::{self, Clinic};

use crate::auth::staff::{Staff, StaffPage};
use crate::changes;
use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::pages::Layout;
use crate::routes::{refused, saved_to};
use crate::state::AppState;

use super::record_form::RecordValues;
use super::{CREATE, dates_text, record_details, record_path};

/// A record in the list.
#[derive(Debug)]
struct RecordItem {
    id: i64,
    dates: String,
    clinic: String,
    step: i64,
    blocks: Vec<String>,
    portal: &'static str,
}

/// The list page, with the create form (as typed, when it was refused).
#[derive(Template, WebTemplate)]
#[template(path = "admin/availability.html")]
pub(super) struct ListPage {
    layout: Layout,
    practitioner: PractitionerSummary,
    records: Vec<RecordItem>,
    clinics: Vec<Clinic>,
    default_step: i64,
    values: RecordValues,
    errors: FieldErrors,
}

/// `Mon, Wed 09:00–12:00`.
fn span_text(days: &[Weekday], start: WallTime, end: WallTime) -> String {
    let days: Vec<&str> = days.iter().map(|d| &day_name(*d)[..3]).collect();
    format!("{} {start}–{end}", days.join(", "))
}

/// The record's clinic for schedule types usable at any clinic: the one chosen, else
/// the practitioner's home clinic.
fn clinic_name(clinics: &[Clinic], id: Option<i64>, home: &str) -> String {
    match id.and_then(|id| clinics.iter().find(|c| c.id == id)) {
        Some(c) => c.name.clone(),
        None => format!("{home} (home clinic)"),
    }
}

/// What the list says of a record's portal overlay.
fn portal_text(record: &Record) -> &'static str {
    match &record.portal_blocks {
        None => "Not customised: every available block is online",
        Some(spans) if spans.is_empty() => "Customised: nothing online",
        Some(_) => "Customised",
    }
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    practitioner_id: i64,
    values: RecordValues,
    errors: FieldErrors,
) -> Result<ListPage, PageError> {
    let org = staff.org.id;
    let mut conn = state.db.conn().await?;
    let practitioner = availability::practitioner(conn.exec(), org, practitioner_id).await?;
    let records = availability::list(conn.exec(), org, practitioner_id).await?;
    let clinics = clinic::all(conn.exec(), org).await?;
    let mut types =
        availability::assigned_schedule_types(conn.exec(), org, practitioner_id).await?;
    types.extend(availability::unassigned_schedule_types(conn.exec(), org, practitioner_id).await?);
    let type_name = |id: i64| {
        types
            .iter()
            .find(|t| t.id == id)
            .map_or_else(String::new, |t| t.name.clone())
    };
    let records = records
        .iter()
        .map(|r| RecordItem {
            id: r.id,
            dates: dates_text(r.dates),
            clinic: clinic_name(&clinics, r.clinic_id, &practitioner.home_clinic),
            step: r.slot_step(&staff.org),
            blocks: r
                .blocks
                .iter()
                .map(|b| {
                    format!(
                        "{} · {}",
                        span_text(&b.days, b.start, b.end),
                        type_name(b.schedule_type_id)
                    )
                })
                .collect(),
            portal: portal_text(r),
        })
        .collect();
    Ok(ListPage {
        layout: Layout::staff(
            staff,
            format!("Availability of {}", practitioner.name),
            "setup",
        )
        .await?,
        practitioner,
        records,
        clinics,
        default_step: staff.org.slot_step_minutes,
        values,
        errors,
    })
}

pub(super) async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner)): Path<(String, i64)>,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    list_view(
        &state,
        &staff,
        practitioner,
        RecordValues::default(),
        FieldErrors::new(),
    )
    .await
}

pub(super) async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = RecordValues::from_form(&form);
    let mut errors = FieldErrors::new();
    let input = values.input(&mut errors);
    if errors.is_empty() {
        let result = changes::setup(&state, &staff, CREATE, async |tx| {
            let r = availability::create(tx, staff.org.id, practitioner, &input).await?;
            let (id, details) = (r.id, record_details(&r));
            Ok((r, Some(id), details))
        })
        .await;
        match result {
            Ok(r) => {
                return saved_to(&staff, &record_path(&staff, practitioner, r.id)).await;
            }
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok(refused(
        list_view(&state, &staff, practitioner, values, errors).await?,
    ))
}
