//! The waitlist (issue 17): patients join it for a service in the portal (or staff for
//! them), freed times are offered by email with a single-use link, and the first to
//! accept gets the time. Staff see it per service and day, remove entries, offer a time
//! by hand and set how offers go. The rules live in `store::waitlist` and
//! `store::appointment::waitlist`; docs/waitlist.md says them in words.
//!
//! By job: this module's shared reading of a join request and of an entry for JSON;
//! `api` answers JSON, `pages` HTML, `offer` the public accept page and API (the link
//! in the email: token only, GET shows, POST accepts).

use axum::Router;
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use store::waitlist::{Entry, NewEntry};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::state::AppState;

mod api;
mod offer;
mod pages;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/portal/waitlist",
            get(pages::portal_page).post(pages::portal_join),
        )
        .route(
            "/o/{slug}/portal/waitlist/{id}/leave",
            post(pages::portal_leave),
        )
        .route(
            "/o/{slug}/portal/offers/{token}",
            get(offer::offer_page).post(offer::accept_page),
        )
        .route(
            "/o/{slug}/admin/waitlist",
            get(pages::staff_page).post(pages::staff_join),
        )
        .route(
            "/o/{slug}/admin/waitlist/{id}/remove",
            post(pages::staff_remove),
        )
        .route("/o/{slug}/admin/waitlist/offer", post(pages::staff_offer))
        .route(
            "/o/{slug}/admin/waitlist/settings",
            post(pages::staff_settings),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::portal_list, api::portal_join))
        .routes(routes!(api::portal_leave))
        .routes(routes!(offer::api_offer))
        .routes(routes!(offer::api_accept))
        .routes(routes!(api::staff_list, api::staff_join))
        .routes(routes!(api::staff_remove))
        .routes(routes!(api::staff_offer))
        .routes(routes!(api::settings_get, api::settings_put))
}

/// A request to join the waitlist (the portal's, and staff's with `patient_id`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JoinBody {
    /// The patient (staff only; the portal's is the signed-in patient).
    #[serde(default)]
    pub patient_id: Option<i64>,
    /// A service patients can book online.
    pub service_id: i64,
    /// Only these practitioners (none: any the patient may book).
    #[serde(default)]
    pub practitioner_ids: Vec<i64>,
    /// Only this clinic.
    #[serde(default)]
    pub clinic_id: Option<i64>,
    /// Not before this date, `YYYY-MM-DD` (clinic-local).
    #[serde(default)]
    pub from_date: Option<String>,
    /// Not after this date, `YYYY-MM-DD`.
    #[serde(default)]
    pub to_date: Option<String>,
    /// The start from this time of day, `HH:MM`.
    #[serde(default)]
    pub from_time: Option<String>,
    /// The start before this time of day, `HH:MM`.
    #[serde(default)]
    pub to_time: Option<String>,
    /// The weekdays that suit (`mon` … `sun`; none: every day).
    #[serde(default)]
    pub weekdays: Vec<String>,
    /// The last date it is offered times (default 30 days ahead, at most 183).
    #[serde(default)]
    pub expires_on: Option<String>,
    /// A note for the clinic (at most 500 characters).
    #[serde(default)]
    pub note: String,
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn date_field(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => crate::clinic_time::parse_date(v)
            .map(Some)
            .map_err(|m| AppError::invalid(field, m)),
    }
}

fn time_field(field: &str, value: Option<&str>) -> Result<Option<i64>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => crate::clinic_time::parse_time(v)
            .map(|m| Some(i64::from(m)))
            .map_err(|m| AppError::invalid(field, m)),
    }
}

impl JoinBody {
    /// The store's request for `patient`, every field parsed (refused naming it).
    pub(crate) fn entry(&self, patient: i64) -> Result<NewEntry, AppError> {
        let mut weekdays = 0;
        for day in &self.weekdays {
            let Some(i) = WEEKDAYS
                .iter()
                .position(|d| d.eq_ignore_ascii_case(day.trim()))
            else {
                return Err(AppError::invalid("weekdays", "name weekdays as mon … sun"));
            };
            weekdays |= 1 << i;
        }
        Ok(NewEntry {
            patient,
            service: self.service_id,
            practitioners: self.practitioner_ids.clone(),
            clinic: self.clinic_id,
            from_date: date_field("from_date", self.from_date.as_deref())?,
            to_date: date_field("to_date", self.to_date.as_deref())?,
            from_minute: time_field("from_time", self.from_time.as_deref())?,
            to_minute: time_field("to_time", self.to_time.as_deref())?,
            weekdays: Some(weekdays),
            expires_on: date_field("expires_on", self.expires_on.as_deref())?,
            note: self.note.clone(),
        })
    }
}

/// A waitlist entry.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EntryDto {
    /// Row id.
    pub id: i64,
    /// The patient.
    pub patient_id: i64,
    /// The service.
    pub service_id: i64,
    /// Only these practitioners (empty: any).
    pub practitioner_ids: Vec<i64>,
    /// Only this clinic.
    pub clinic_id: Option<i64>,
    /// Not before this date.
    pub from_date: Option<String>,
    /// Not after this date.
    pub to_date: Option<String>,
    /// The start from this time of day, `HH:MM`.
    pub from_time: Option<String>,
    /// The start before this time of day, `HH:MM`.
    pub to_time: Option<String>,
    /// The weekdays that suit, `mon` … `sun`.
    pub weekdays: Vec<String>,
    /// The last date it is offered times.
    pub expires_on: String,
    /// The note.
    pub note: String,
    /// `active`, `booked`, `left` or `removed`.
    pub status: String,
    /// The appointment an accepted offer booked.
    pub appointment_id: Option<i64>,
}

pub(crate) fn hhmm(minute: i64) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

pub(crate) fn weekday_names(bits: i64) -> Vec<String> {
    WEEKDAYS
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, d)| (*d).to_owned())
        .collect()
}

impl From<&Entry> for EntryDto {
    fn from(e: &Entry) -> Self {
        EntryDto {
            id: e.id,
            patient_id: e.patient_id,
            service_id: e.service_id,
            practitioner_ids: e.practitioners.clone(),
            clinic_id: e.clinic_id,
            from_date: e.from_date.clone(),
            to_date: e.to_date.clone(),
            from_time: e.from_minute.map(hhmm),
            to_time: e.to_minute.map(hhmm),
            weekdays: weekday_names(e.weekdays),
            expires_on: e.expires_on.clone(),
            note: e.note.clone(),
            status: e.status.as_str().to_owned(),
            appointment_id: e.appointment_id,
        }
    }
}

/// The organisation's date today: the earliest of its clinics'.
pub(crate) async fn today(state: &AppState, org: i64) -> Result<NaiveDate, AppError> {
    let mut conn = state.db.conn().await?;
    let clinics = store::clinic::all(conn.exec(), org).await?;
    Ok(crate::clinic_time::earliest_today(state, &clinics))
}
