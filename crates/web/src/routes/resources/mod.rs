//! Rooms and equipment (issue 16): the admin pages and the API for resources, their
//! availability records and their time out of service. What a service needs of them
//! is part of the service (`routes::services`).
//!
//! Split by job: this module holds the routes and the setup changes both sides make
//! (each one transaction that changes, re-validates the setup, audits and commits);
//! `api` the JSON documents and handlers; `pages` the server-rendered pages.

use crate::auth::staff::Caller;
use axum::Router;
use axum::routing::{get, post};
use serde_json::{Value, json};
use slot_engine::Weekday;
use slot_engine::scenario::PortalBlock;
use store::resource::{
    self, Deleted, RecordInput, Resource, ResourceInput, ResourceRecord, ResourceTimeOff,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::changes::{self, Change};
use crate::state::AppState;

mod api;
mod pages;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/admin/resources",
            get(pages::list_page).post(pages::create_page),
        )
        .route(
            "/o/{slug}/admin/resources/{id}",
            get(pages::edit_page).post(pages::update_page),
        )
        .route(
            "/o/{slug}/admin/resources/{id}/delete",
            post(pages::delete_page),
        )
        .route(
            "/o/{slug}/admin/resources/{id}/records",
            post(pages::create_record_page),
        )
        .route(
            "/o/{slug}/admin/resources/{id}/records/{record}",
            get(pages::record_page).post(pages::update_record_page),
        )
        .route(
            "/o/{slug}/admin/resources/{id}/records/{record}/delete",
            post(pages::delete_record_page),
        )
        .route(
            "/o/{slug}/admin/resources/{id}/time-off",
            post(pages::add_time_off_page),
        )
        .route(
            "/o/{slug}/admin/resources/{id}/time-off/{off}/delete",
            post(pages::remove_time_off_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one, api::update, api::delete))
        .routes(routes!(api::list_records, api::create_record))
        .routes(routes!(api::update_record, api::delete_record))
        .routes(routes!(api::list_time_off, api::add_time_off))
        .routes(routes!(api::remove_time_off))
}

/// The days of a block as the scenario spells them: `mon`, `tue`, …
fn days_text(days: &[Weekday]) -> Vec<String> {
    days.iter().map(|d| d.short_name().to_owned()).collect()
}

/// A weekday from its scenario spelling.
fn weekday(text: &str) -> Option<Weekday> {
    Weekday::ALL.into_iter().find(|d| d.short_name() == text)
}

/// What the audit log keeps of a resource's fields, as saved.
fn details(r: &Resource) -> Value {
    json!({
        "name": r.name,
        "kind": r.kind.as_str(),
        "clinic_id": r.clinic_id,
        "capacity": r.capacity,
        "always_available": r.always_available,
    })
}

fn blocks_details(blocks: &[PortalBlock]) -> Value {
    blocks
        .iter()
        .map(|b| format!("{} {}–{}", days_text(&b.days).join(" "), b.start, b.end))
        .collect::<Vec<_>>()
        .into()
}

/// What the audit log keeps of an availability record.
fn record_details(r: &ResourceRecord) -> Value {
    json!({
        "resource_id": r.resource_id,
        "start_date": r.dates.start().to_string(),
        "end_date": r.dates.end().map(|d| d.to_string()),
        "blocks": blocks_details(&r.blocks),
    })
}

fn time_off_details(t: &ResourceTimeOff) -> Value {
    json!({
        "resource_id": t.resource_id,
        "start_ns": t.start_ns,
        "end_ns": t.end_ns,
        "reason": t.reason,
    })
}

async fn create(
    state: &AppState,
    staff: &Caller,
    input: &ResourceInput,
) -> store::Result<Resource> {
    changes::setup(
        state,
        staff,
        Change {
            action: "resource.create",
            entity: "resource",
        },
        async |tx| {
            let r = resource::create(tx, staff.org.id, input).await?;
            let (id, details) = (r.id, details(&r));
            Ok((r, Some(id), details))
        },
    )
    .await
}

async fn update(
    state: &AppState,
    staff: &Caller,
    id: i64,
    input: &ResourceInput,
) -> store::Result<Resource> {
    changes::setup(
        state,
        staff,
        Change {
            action: "resource.update",
            entity: "resource",
        },
        async |tx| {
            let before = resource::get(tx.exec(), staff.org.id, id).await?;
            let r = resource::update(tx, staff.org.id, id, input, state.clock.now_ns()).await?;
            let details = changes::update_details(details(&before), details(&r));
            Ok((r, Some(id), details))
        },
    )
    .await
}

async fn delete(state: &AppState, staff: &Caller, id: i64) -> store::Result<Deleted> {
    changes::setup(
        state,
        staff,
        Change {
            action: "resource.delete",
            entity: "resource",
        },
        async |tx| {
            let gone = resource::get(tx.exec(), staff.org.id, id).await?;
            let deleted = resource::delete(tx, staff.org.id, id).await?;
            let details = json!({
                "name": gone.name,
                "removed_from_services": deleted.removed_from_services,
            });
            Ok((deleted, Some(id), details))
        },
    )
    .await
}

async fn create_record(
    state: &AppState,
    staff: &Caller,
    id: i64,
    input: &RecordInput,
) -> store::Result<ResourceRecord> {
    changes::setup(
        state,
        staff,
        Change {
            action: "resource.add_record",
            entity: "resource",
        },
        async |tx| {
            let r = resource::create_record(tx, staff.org.id, id, input).await?;
            let details = record_details(&r);
            Ok((r, Some(id), details))
        },
    )
    .await
}

async fn update_record(
    state: &AppState,
    staff: &Caller,
    id: i64,
    record: i64,
    input: &RecordInput,
) -> store::Result<ResourceRecord> {
    changes::setup(
        state,
        staff,
        Change {
            action: "resource.update_record",
            entity: "resource",
        },
        async |tx| {
            let before = resource::record(tx.exec(), staff.org.id, id, record).await?;
            let r = resource::update_record(tx, staff.org.id, id, record, input).await?;
            let details = changes::update_details(record_details(&before), record_details(&r));
            Ok((r, Some(id), details))
        },
    )
    .await
}

async fn delete_record(
    state: &AppState,
    staff: &Caller,
    id: i64,
    record: i64,
) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "resource.delete_record",
            entity: "resource",
        },
        async |tx| {
            let gone = resource::record(tx.exec(), staff.org.id, id, record).await?;
            resource::delete_record(tx, staff.org.id, id, record).await?;
            Ok(((), Some(id), record_details(&gone)))
        },
    )
    .await
}

/// A stretch out of service to add: instants in nanoseconds, and a reason.
#[derive(Debug)]
struct NewTimeOff {
    start_ns: i64,
    end_ns: i64,
    reason: Option<String>,
}

async fn add_time_off(
    state: &AppState,
    staff: &Caller,
    id: i64,
    off: &NewTimeOff,
) -> store::Result<ResourceTimeOff> {
    changes::setup(
        state,
        staff,
        Change {
            action: "resource.add_time_off",
            entity: "resource",
        },
        async |tx| {
            let t = resource::add_time_off(
                tx,
                staff.org.id,
                id,
                (off.start_ns, off.end_ns),
                off.reason.as_deref(),
                state.clock.now_ns(),
            )
            .await?;
            let details = time_off_details(&t);
            Ok((t, Some(id), details))
        },
    )
    .await
}

async fn remove_time_off(state: &AppState, staff: &Caller, id: i64, off: i64) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "resource.remove_time_off",
            entity: "resource",
        },
        async |tx| {
            let gone = resource::remove_time_off(tx, staff.org.id, id, off).await?;
            Ok(((), Some(id), time_off_details(&gone)))
        },
    )
    .await
}
