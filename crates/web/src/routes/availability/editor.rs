//! One record's page: the grid editor (painting schedule types and *Customize Portal
//! Availability*), the record's dates, clinic and interval, the schedule types the
//! practitioner may paint with, deleting the record, and the colour stylesheet the page
//! links.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use slot_engine::Resolution;
use store::availability::{self, Layer, Painting, PractitionerSummary, ScheduleTypeSummary};
use store::clinic::{self, Clinic};

use crate::auth::staff::{Staff, StaffPage};
use crate::changes;
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, PageQuery};
use crate::pages::Layout;
use crate::routes::{refused, saved_or_refused};
use crate::schedule_type_css;
use crate::state::AppState;

use super::grid::{GridView, grid_view, parse_cell, parse_layer};
use super::record_form::RecordValues;
use super::{
    ASSIGN, DELETE, GRID, UNASSIGN, UPDATE, block_details, dates_text, list_path, record_details,
    record_path,
};

/// The grid editor's page.
#[derive(Template, WebTemplate)]
#[template(path = "admin/availability_record.html")]
pub(super) struct EditorPage {
    layout: Layout,
    practitioner: PractitionerSummary,
    record_id: i64,
    dates: String,
    clinics: Vec<Clinic>,
    default_step: i64,
    values: RecordValues,
    errors: FieldErrors,
    /// The schedule types the practitioner may paint with.
    assigned: Vec<ScheduleTypeSummary>,
    /// The organisation's other schedule types, to assign from here.
    assignable: Vec<ScheduleTypeSummary>,
    grid: GridView,
    saved: bool,
    /// What the page says of a record just made by *New record from…* or *Temporary
    /// change…*.
    made: Option<&'static str>,
    /// The record's first date and the day after it (`YYYY-MM-DD`), and its last date
    /// (empty when open-ended), for the date pickers of *Change hours over time*.
    first: String,
    after_first: String,
    last: String,
}

impl EditorPage {
    /// Errors that belong to no field of the page (e.g. the setup check's), shown with
    /// the grid.
    fn other_errors(&self) -> Vec<(&str, &str)> {
        const FIELDS: [&str; 6] = [
            "start_date",
            "end_date",
            "clinic_id",
            "slot_step_minutes",
            "cells",
            "schedule_type",
        ];
        self.errors
            .iter()
            .filter(|(field, _)| !FIELDS.contains(field))
            .collect()
    }
}

/// The query of the editor page.
#[derive(Debug, Deserialize)]
pub(super) struct EditorQuery {
    layer: Option<String>,
    hours: Option<String>,
    saved: Option<String>,
    /// `new` or `temporary`: the record was just made by *New record from…* or
    /// *Temporary change…*.
    made: Option<String>,
}

/// What to show in the editor besides the stored record.
#[derive(Debug, Default)]
struct EditorState {
    layer: Option<String>,
    all_hours: bool,
    painting: Option<Painting>,
    values: Option<RecordValues>,
    errors: FieldErrors,
    saved: bool,
    made: Option<&'static str>,
}

/// The organisation's cell size, which its settings keep valid.
fn resolution_of(org: &store::Organisation) -> Result<Resolution, AppError> {
    u32::try_from(org.resolution_minutes)
        .ok()
        .and_then(|m| Resolution::new(m).ok())
        .ok_or_else(|| AppError::internal("stored resolution is not 1, 5 or 15"))
}

async fn editor_view(
    state: &AppState,
    staff: &Staff,
    practitioner_id: i64,
    record_id: i64,
    view: EditorState,
) -> Result<EditorPage, PageError> {
    let org = staff.org.id;
    let mut conn = state.db.conn().await?;
    let practitioner = availability::practitioner(conn.exec(), org, practitioner_id).await?;
    let record = availability::get(conn.exec(), org, practitioner_id, record_id).await?;
    let clinics = clinic::all(conn.exec(), org).await?;
    let assigned = availability::assigned_schedule_types(conn.exec(), org, practitioner_id).await?;
    let assignable =
        availability::unassigned_schedule_types(conn.exec(), org, practitioner_id).await?;
    drop(conn);
    let resolution = resolution_of(&staff.org)?;
    let painting = view
        .painting
        .unwrap_or_else(|| Painting::of_record(&record, resolution));
    // The layer asked for, if the practitioner may paint with it; else the first
    // schedule type; else the overlay.
    let layer = view
        .layer
        .as_deref()
        .and_then(parse_layer)
        .filter(|l| match l {
            Layer::Portal => true,
            Layer::ScheduleType(id) => assigned.iter().any(|t| t.id == *id),
        })
        .or_else(|| assigned.first().map(|t| Layer::ScheduleType(t.id)))
        .unwrap_or(Layer::Portal);
    let grid = grid_view(
        &painting,
        &assigned,
        layer,
        record.slot_step(&staff.org),
        view.all_hours,
    );
    let dates = dates_text(record.dates);
    Ok(EditorPage {
        layout: Layout::staff(
            staff,
            format!("Availability of {}, {dates}", practitioner.name),
            "setup",
        )
        .await?,
        practitioner,
        record_id,
        dates,
        clinics,
        default_step: staff.org.slot_step_minutes,
        values: view.values.unwrap_or_else(|| RecordValues::of(&record)),
        errors: view.errors,
        assigned,
        assignable,
        grid,
        saved: view.saved,
        made: view.made,
        first: record.dates.start().to_string(),
        after_first: record
            .dates
            .start()
            .add_days(1)
            .unwrap_or(record.dates.start())
            .to_string(),
        last: record
            .dates
            .end()
            .map(|d| d.to_string())
            .unwrap_or_default(),
    })
}

pub(super) async fn edit_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
    PageQuery(query): PageQuery<EditorQuery>,
) -> Result<EditorPage, PageError> {
    staff.admin()?;
    editor_view(
        &state,
        &staff,
        practitioner,
        record,
        EditorState {
            layer: query.layer,
            all_hours: query.hours.as_deref() == Some("all"),
            saved: query.saved.is_some(),
            made: match query.made.as_deref() {
                Some("new") => Some(
                    "New record: a copy of the previous record's grid, Customize Portal \
                     Availability, interval and clinic, from its first date. Paint what \
                     changes from that date; the previous record keeps the dates before.",
                ),
                Some("temporary") => Some(
                    "Temporary change: a copy of the record's grid, Customize Portal \
                     Availability, interval and clinic for these dates only. Paint what \
                     changes on them; before and after, the record keeps its hours.",
                ),
                _ => None,
            },
            ..EditorState::default()
        },
    )
    .await
}

/// A form posted from a record's editor: where the editor is, and what it showed.
struct Post<'a> {
    state: &'a AppState,
    staff: &'a Staff,
    practitioner: i64,
    record: i64,
    form: &'a FormData,
}

impl<'a> Post<'a> {
    fn new(
        state: &'a AppState,
        staff: &'a Staff,
        practitioner: i64,
        record: i64,
        form: &'a FormData,
    ) -> Self {
        Post {
            state,
            staff,
            practitioner,
            record,
            form,
        }
    }

    /// The editor's address after a change, keeping the layer (`layer`, else the one
    /// posted) and the hours shown.
    fn back(&self, layer: Option<String>) -> String {
        let mut url = format!(
            "{}?saved=1",
            record_path(self.staff, self.practitioner, self.record)
        );
        if let Some(layer) = layer.or_else(|| self.form.optional("layer")) {
            url.push_str(&format!("&layer={}", crate::query::encode(&layer)));
        }
        if self.form.get("hours") == "all" {
            url.push_str("&hours=all");
        }
        url
    }

    /// The editor again, with what was posted (in the layer and hours it showed) and
    /// why it was refused; [`refused`] or [`saved_or_refused`] answer it with 422.
    async fn again(&self, view: EditorState) -> Result<EditorPage, PageError> {
        let view = EditorState {
            layer: view.layer.or_else(|| self.form.optional("layer")),
            all_hours: view.all_hours || self.form.get("hours") == "all",
            ..view
        };
        editor_view(self.state, self.staff, self.practitioner, self.record, view).await
    }

    /// Answers with [`saved_or_refused`]: back to the editor when the store `saved` the
    /// change (in `layer`, else the layer posted), else the editor again with the
    /// store's error and what `view` keeps of the post.
    async fn answer(
        &self,
        saved: store::Result<()>,
        layer: Option<String>,
        view: impl FnOnce(FieldErrors) -> EditorState,
    ) -> Result<Response, PageError> {
        saved_or_refused(
            self.staff,
            saved.map(|()| self.back(layer)),
            async |errors| self.again(view(errors)).await,
        )
        .await
    }
}

/// Saves the record's dates, clinic and interval from its editor.
pub(super) async fn update_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let post = Post::new(&state, &staff, practitioner, record, &form);
    let values = RecordValues::from_form(&form);
    let mut errors = FieldErrors::new();
    let input = values.input(&mut errors);
    let as_typed = |errors| EditorState {
        values: Some(values),
        errors,
        ..EditorState::default()
    };
    if !errors.is_empty() {
        return Ok(refused(post.again(as_typed(errors)).await?));
    }
    let saved = changes::setup(&state, &staff, UPDATE, async |tx| {
        let before = availability::get(tx.exec(), staff.org.id, practitioner, record).await?;
        let r = availability::update(tx, staff.org.id, practitioner, record, &input).await?;
        let details = changes::update_details(record_details(&before), record_details(&r));
        Ok(((), Some(record), details))
    })
    .await;
    post.answer(saved, None, as_typed).await
}

/// Saves the grid: every layer, from the ticked boxes and the hidden cells.
pub(super) async fn save_grid_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let post = Post::new(&state, &staff, practitioner, record, &form);
    let resolution = resolution_of(&staff.org)?;
    let mut conn = state.db.conn().await?;
    let assigned: Vec<i64> =
        availability::assigned_schedule_types(conn.exec(), staff.org.id, practitioner)
            .await?
            .iter()
            .map(|t| t.id)
            .collect();
    drop(conn);
    let mut painting = Painting::new(resolution);
    let mut errors = FieldErrors::new();
    let cells = form.all("cell");
    // Each layer of a week holds at most this many runs; a larger form is not the
    // editor's, and is refused before it costs any work.
    let limit = 7 * resolution.cells_per_day() * (assigned.len() + 2);
    if cells.len() > limit {
        errors.add("cells", "the form holds more cells than a week has");
    }
    let mut stray: Option<i64> = None;
    for value in cells.iter().take(limit) {
        let painted = parse_cell(value).and_then(|(layer, day, a, b)| {
            if let Layer::ScheduleType(t) = layer
                && !assigned.contains(&t)
                && *stray.get_or_insert(t) != t
            {
                // Only the first schedule type the practitioner may not paint with is
                // kept, for the store to refuse by name; more would only make the same
                // refusal slower.
                return Ok(());
            }
            painting.paint(layer, day, a, b)
        });
        if let Err(e) = painted {
            errors.absorb(e)?;
        }
    }
    painting.set_customised(form.get("portal_customised") == "1" && !form.checked("reset_portal"));
    let as_painted = |painting, errors| EditorState {
        painting: Some(painting),
        errors,
        ..EditorState::default()
    };
    if !errors.is_empty() {
        return Ok(refused(post.again(as_painted(painting, errors)).await?));
    }
    let saved = changes::setup(&state, &staff, GRID, async |tx| {
        let before = availability::get(tx.exec(), staff.org.id, practitioner, record).await?;
        let saved =
            availability::save_painting(tx, staff.org.id, practitioner, record, &painting).await?;
        let details = changes::update_details(block_details(&before), block_details(&saved));
        Ok(((), Some(record), details))
    })
    .await;
    post.answer(saved, None, |errors| as_painted(painting, errors))
        .await
}

pub(super) async fn delete_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
) -> Result<Redirect, PageError> {
    staff.admin()?;
    changes::setup(&state, &staff, DELETE, async |tx| {
        let gone = availability::get(tx.exec(), staff.org.id, practitioner, record).await?;
        availability::delete(tx, staff.org.id, practitioner, record).await?;
        Ok(((), Some(record), record_details(&gone)))
    })
    .await?;
    Ok(Redirect::to(&list_path(&staff, practitioner)))
}

/// Assigns a schedule type to the practitioner from the record's editor, and paints
/// with it next.
pub(super) async fn assign_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let post = Post::new(&state, &staff, practitioner, record, &form);
    let Ok(schedule_type) = form.get("schedule_type").parse::<i64>() else {
        let mut errors = FieldErrors::new();
        errors.add("schedule_type", "choose a schedule type to assign");
        return Ok(refused(post.again(with_errors(errors)).await?));
    };
    let saved = set_assigned(&post, schedule_type, true).await;
    // Next, paint with the schedule type just assigned.
    post.answer(saved, Some(schedule_type.to_string()), with_errors)
        .await
}

/// Takes a schedule type away from the practitioner, from the record's editor.
pub(super) async fn unassign_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record, schedule_type)): Path<(String, i64, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let post = Post::new(&state, &staff, practitioner, record, &form);
    let saved = set_assigned(&post, schedule_type, false).await;
    post.answer(saved, None, with_errors).await
}

/// Assigns a schedule type to the practitioner (`assign`) or takes it away, from the
/// editor of one of their records: the record must be theirs, and the audit names it.
async fn set_assigned(post: &Post<'_>, schedule_type: i64, assign: bool) -> store::Result<()> {
    let (org, practitioner, record) = (post.staff.org.id, post.practitioner, post.record);
    let mut conn = post.state.db.conn().await?;
    availability::get(conn.exec(), org, practitioner, record).await?;
    drop(conn);
    let change = if assign { ASSIGN } else { UNASSIGN };
    changes::setup(post.state, post.staff, change, async |tx| {
        let t = if assign {
            availability::assign(tx, org, practitioner, schedule_type).await?
        } else {
            availability::unassign(tx, org, practitioner, schedule_type).await?
        };
        let details = json!({"schedule_type": t.key, "from_record": record});
        Ok(((), Some(practitioner), details))
    })
    .await
}

/// The editor as stored, with `errors`.
fn with_errors(errors: FieldErrors) -> EditorState {
    EditorState {
        errors,
        ..EditorState::default()
    }
}

/// The organisation's schedule-type stylesheet, which the editor links for its layers
/// and legend (admins, for a practitioner of the organisation).
pub(super) async fn colours(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let mut conn = state.db.conn().await?;
    availability::practitioner(conn.exec(), staff.org.id, practitioner).await?;
    drop(conn);
    schedule_type_css::serve(&state, staff.org.id).await
}
