//! A practitioner's availability records: the list, the weekly grid editor with
//! *Customize Portal Availability*, and the API.
//!
//! The editor is one plain form: one checkbox per block of the layer being painted (a
//! schedule type, or the portal overlay), and hidden inputs for every other cell, so it
//! works without JavaScript. `static/grid.js` turns the same table into an ARIA grid
//! (click, shift-click, arrow keys and Space) and keeps the hidden inputs in sync; the
//! server reads the same `cell` fields either way. A cell field is
//! `LAYER/DAY/HH:MM-HH:MM`, where `LAYER` is a schedule type's row id or `p` for the
//! overlay.
//!
//! Schedule-type colours come from the organisation's schedule-type stylesheet
//! (`crate::schedule_type_css`), served here at `…/availability/colours.css`, because
//! the Content Security Policy forbids inline styles.
//!
//! Hours change over time without repainting: *New record from…* ends a record the day
//! before a date and starts a copy of it on that date, and *Temporary change…* cuts a
//! range of dates out of a record into a copy to paint (`store::availability::split`).
//! Both are reached from the list (per record) and the editor, and from the API.
//!
//! By job: `api` (the JSON API and its documents), `list` (a practitioner's records
//! and the form that creates one), `editor` (one record's page: its form, the grid
//! editor and the schedule types it paints with), `split` (the pages of *New record
//! from…* and *Temporary change…*), `grid` (the grid's pure layout, with its unit tests)
//! and `record_form` (the record form's values, shared by the list and the editor).

use axum::Router;
use axum::routing::{get, post};
use serde_json::json;
use slot_engine::{RecordDates, Weekday};
use store::availability::{NewRecordFrom, Record, TemporaryChange};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::Staff;
use crate::changes::Change;
use crate::state::AppState;

mod api;
mod editor;
mod grid;
mod list;
mod record_form;
mod split;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability",
            get(list::list_page).post(list::create_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/colours.css",
            get(editor::colours),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}",
            get(editor::edit_page).post(editor::update_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/grid",
            post(editor::save_grid_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/delete",
            post(editor::delete_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/new-record-from",
            get(split::new_record_from_page).post(split::new_record_from_post),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/temporary-change",
            get(split::temporary_change_page).post(split::temporary_change_post),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/schedule-types",
            post(editor::assign_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/schedule-types/{type}/delete",
            post(editor::unassign_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one, api::update, api::delete))
        .routes(routes!(api::put_blocks))
        .routes(routes!(api::put_portal))
        .routes(routes!(api::new_record_from))
        .routes(routes!(api::temporary_change))
}

// What the audit log calls each change.

const CREATE: Change<'static> = Change {
    action: "availability.create",
    entity: "availability_record",
};
const UPDATE: Change<'static> = Change {
    action: "availability.update",
    entity: "availability_record",
};
const DELETE: Change<'static> = Change {
    action: "availability.delete",
    entity: "availability_record",
};
const BLOCKS: Change<'static> = Change {
    action: "availability.blocks",
    entity: "availability_record",
};
const PORTAL: Change<'static> = Change {
    action: "availability.portal",
    entity: "availability_record",
};
const GRID: Change<'static> = Change {
    action: "availability.grid",
    entity: "availability_record",
};
const NEW_RECORD_FROM: Change<'static> = Change {
    action: "availability.new_record_from",
    entity: "availability_record",
};
const TEMPORARY_CHANGE: Change<'static> = Change {
    action: "availability.temporary_change",
    entity: "availability_record",
};
const ASSIGN: Change<'static> = Change {
    action: "practitioner.assign_schedule_type",
    entity: "practitioner",
};
const UNASSIGN: Change<'static> = Change {
    action: "practitioner.unassign_schedule_type",
    entity: "practitioner",
};

/// The audit details of a record's dates, clinic and interval, as saved (from the API
/// or a page).
fn record_details(r: &Record) -> serde_json::Value {
    json!({
        "practitioner": r.practitioner_id,
        "start_date": r.dates.start().to_string(),
        "end_date": r.dates.end().map(|d| d.to_string()),
        "clinic_id": r.clinic_id,
        "slot_step_minutes": r.slot_step_minutes,
    })
}

/// The audit details of a record's grid, as saved: how many blocks it has, and how many
/// its portal overlay (`null`: not customised).
fn block_details(r: &Record) -> serde_json::Value {
    json!({
        "practitioner": r.practitioner_id,
        "blocks": r.blocks.len(),
        "portal_blocks": r.portal_blocks.as_ref().map(Vec::len),
    })
}

/// The audit details of *New record from…*: the date, and the two records it left.
fn new_record_from_details(practitioner: i64, made: &NewRecordFrom) -> serde_json::Value {
    json!({
        "practitioner": practitioner,
        "start_date": made.new.dates.start().to_string(),
        "ended": made.ended.id,
        "new": made.new.id,
    })
}

/// The audit details of *Temporary change…*: the dates, and the records they left.
fn temporary_change_details(practitioner: i64, made: &TemporaryChange) -> serde_json::Value {
    json!({
        "practitioner": practitioner,
        "start_date": made.temporary.dates.start().to_string(),
        "end_date": made.temporary.dates.end().map(|d| d.to_string()),
        "before": made.before.as_ref().map(|r| r.id),
        "temporary": made.temporary.id,
        "after": made.after.as_ref().map(|r| r.id),
    })
}

/// A weekday from its scenario spelling.
fn weekday(text: &str) -> Option<Weekday> {
    Weekday::ALL.into_iter().find(|d| d.short_name() == text)
}

/// `from Thu 1 Jan 2026 to Thu 30 Apr 2026`, or `from Wed 15 Apr 2026 (open-ended)`.
fn dates_text(dates: RecordDates) -> String {
    store::time::record_dates_in_words(dates)
}

/// The page listing a practitioner's records.
fn list_path(staff: &Staff, practitioner: i64) -> String {
    format!(
        "/o/{}/admin/practitioners/{practitioner}/availability",
        staff.org.slug
    )
}

/// A record's editor.
fn record_path(staff: &Staff, practitioner: i64, record: i64) -> String {
    format!("{}/{record}", list_path(staff, practitioner))
}
