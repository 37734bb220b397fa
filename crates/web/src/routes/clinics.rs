//! Clinics and their holidays: the admin pages and the API.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::clinic::{self, Clinic, ClinicInput};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::changes::{self, Change};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody};
use crate::pages::Layout;
use crate::routes::saved_or_refused;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/clinics", get(list_page).post(create_page))
        .route(
            "/o/{slug}/admin/clinics/{id}",
            get(edit_page).post(update_page),
        )
        .route("/o/{slug}/admin/clinics/{id}/delete", post(delete_page))
        .route(
            "/o/{slug}/admin/clinics/{id}/holidays",
            post(add_holiday_page),
        )
        .route(
            "/o/{slug}/admin/clinics/{id}/holidays/{day}/delete",
            post(remove_holiday_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(add_holiday))
        .routes(routes!(remove_holiday))
}

/// A clinic, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ClinicDto {
    /// Row id.
    pub id: i64,
    /// Scenario id.
    pub key: String,
    /// Name.
    pub name: String,
    /// IANA timezone.
    pub timezone: String,
    /// Street address, lines separated by `\n`; empty when none is given.
    pub address: String,
    /// Phone number; empty when none is given.
    pub phone: String,
    /// Dates the clinic takes no bookings (`YYYY-MM-DD`).
    pub holidays: Vec<String>,
}

/// A clinic to create or save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClinicBody {
    /// Name.
    pub name: String,
    /// IANA timezone, e.g. `America/Toronto`.
    pub timezone: String,
    /// Street address patients are told, possibly several lines (at most 300
    /// characters); blank or absent: none.
    #[serde(default)]
    pub address: String,
    /// Phone number (digits, spaces and `+ ( ) - .`, at most 40 characters); blank or
    /// absent: none.
    #[serde(default)]
    pub phone: String,
}

/// A holiday to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HolidayBody {
    /// `YYYY-MM-DD`.
    pub date: String,
}

async fn dto(state: &AppState, org: i64, c: Clinic) -> Result<ClinicDto, AppError> {
    let mut conn = state.db.conn().await?;
    let holidays = clinic::holidays(conn.exec(), org, c.id).await?;
    Ok(ClinicDto {
        id: c.id,
        key: c.key,
        name: c.name,
        timezone: c.timezone,
        address: c.address,
        phone: c.phone,
        holidays: holidays.iter().map(ToString::to_string).collect(),
    })
}

/// What the audit log keeps of a clinic's fields, as saved.
fn details(c: &Clinic) -> serde_json::Value {
    json!({"name": c.name, "timezone": c.timezone, "address": c.address, "phone": c.phone})
}

async fn create_clinic(
    state: &AppState,
    staff: &Caller,
    input: &ClinicInput,
) -> store::Result<Clinic> {
    changes::setup(
        state,
        staff,
        Change {
            action: "clinic.create",
            entity: "clinic",
        },
        async |tx| {
            let c = clinic::create(tx, staff.org.id, input).await?;
            let (id, details) = (c.id, details(&c));
            Ok((c, Some(id), details))
        },
    )
    .await
}

async fn update_clinic(
    state: &AppState,
    staff: &Caller,
    id: i64,
    input: &ClinicInput,
) -> store::Result<Clinic> {
    changes::setup(
        state,
        staff,
        Change {
            action: "clinic.update",
            entity: "clinic",
        },
        async |tx| {
            let before = details(&clinic::get(tx.exec(), staff.org.id, id).await?);
            let c = clinic::update(tx, staff.org.id, id, input).await?;
            let details = changes::update_details(before, details(&c));
            Ok((c, Some(id), details))
        },
    )
    .await
}

async fn delete_clinic(state: &AppState, staff: &Caller, id: i64) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "clinic.delete",
            entity: "clinic",
        },
        async |tx| {
            let gone = details(&clinic::get(tx.exec(), staff.org.id, id).await?);
            clinic::delete(tx, staff.org.id, id).await?;
            Ok(((), Some(id), gone))
        },
    )
    .await
}

async fn add_clinic_holiday(
    state: &AppState,
    staff: &Caller,
    id: i64,
    date: &str,
) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "clinic.add_holiday",
            entity: "clinic",
        },
        async |tx| {
            let day = clinic::add_holiday(tx, staff.org.id, id, date).await?;
            Ok(((), Some(id), json!({"date": day.to_string()})))
        },
    )
    .await
}

async fn remove_clinic_holiday(
    state: &AppState,
    staff: &Caller,
    id: i64,
    date: &str,
) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "clinic.remove_holiday",
            entity: "clinic",
        },
        async |tx| {
            clinic::remove_holiday(tx, staff.org.id, id, date).await?;
            Ok(((), Some(id), json!({"date": date})))
        },
    )
    .await
}

/// Every clinic.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/clinics", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [ClinicDto]), (status = 401, description = "Not signed in")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<ClinicDto>>, AppError> {
    let mut conn = state.db.conn().await?;
    let clinics = clinic::all(conn.exec(), staff.org.id).await?;
    drop(conn);
    let mut out = Vec::with_capacity(clinics.len());
    for c in clinics {
        out.push(dto(&state, staff.org.id, c).await?);
    }
    Ok(Json(out))
}

/// Creates a clinic (admins).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/clinics", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = ClinicBody,
    responses((status = 201, body = ClinicDto), (status = 422, description = "Invalid field"), (status = 403, description = "Not an admin")))]
async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<ClinicBody>,
) -> Result<(StatusCode, Json<ClinicDto>), AppError> {
    staff.admin()?;
    let input = ClinicInput {
        name: body.name,
        timezone: body.timezone,
        address: body.address,
        phone: body.phone,
    };
    let created = create_clinic(&state, &staff, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(dto(&state, staff.org.id, created).await?),
    ))
}

/// One clinic.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/clinics/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    responses((status = 200, body = ClinicDto), (status = 404, description = "No such clinic in this organisation")))]
async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<ClinicDto>, AppError> {
    let id = path.1;
    let mut conn = state.db.conn().await?;
    let c = clinic::get(conn.exec(), staff.org.id, id).await?;
    drop(conn);
    Ok(Json(dto(&state, staff.org.id, c).await?))
}

/// Saves a clinic (admins).
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/clinics/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    request_body = ClinicBody,
    responses((status = 200, body = ClinicDto), (status = 404, description = "No such clinic"), (status = 422, description = "Invalid field")))]
async fn update(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<ClinicBody>,
) -> Result<Json<ClinicDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let input = ClinicInput {
        name: body.name,
        timezone: body.timezone,
        address: body.address,
        phone: body.phone,
    };
    let saved = update_clinic(&state, &staff, id, &input).await?;
    Ok(Json(dto(&state, staff.org.id, saved).await?))
}

/// Deletes a clinic nothing refers to (admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/clinics/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such clinic"), (status = 422, description = "Still in use")))]
async fn delete(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    let id = path.1;
    staff.admin()?;
    delete_clinic(&state, &staff, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a holiday (admins).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/clinics/{id}/holidays", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    request_body = HolidayBody,
    responses((status = 200, body = ClinicDto), (status = 422, description = "Invalid date")))]
async fn add_holiday(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<HolidayBody>,
) -> Result<Json<ClinicDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    add_clinic_holiday(&state, &staff, id, &body.date).await?;
    get_one(State(state), StaffApi(staff), Path((String::new(), id))).await
}

/// Removes a holiday (admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/clinics/{id}/holidays/{date}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic"),
           ("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = ClinicDto)))]
async fn remove_holiday(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, String)>,
) -> Result<Json<ClinicDto>, AppError> {
    let (_, id, date) = path;
    staff.admin()?;
    remove_clinic_holiday(&state, &staff, id, &date).await?;
    get_one(State(state), StaffApi(staff), Path((String::new(), id))).await
}

// Pages.

#[derive(Template, WebTemplate)]
#[template(path = "admin/clinics.html")]
struct ListPage {
    layout: Layout,
    clinics: Vec<Clinic>,
    errors: FieldErrors,
    values: ClinicInput,
    zone_groups: Vec<ZoneGroup>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/clinic.html")]
struct EditPage {
    layout: Layout,
    clinic: Clinic,
    /// Each holiday as ISO (the address, `<time datetime>`) and in the pages' format.
    holidays: Vec<(String, String)>,
    errors: FieldErrors,
    values: ClinicInput,
    zone_groups: Vec<ZoneGroup>,
}

/// A zone of the timezone select.
#[derive(Debug, PartialEq, Eq)]
struct ZoneOption {
    /// The IANA name the form sends.
    value: String,
    /// The name within its region, as people read it (`Argentina / Buenos Aires`).
    label: String,
    selected: bool,
}

/// A region of the timezone select (an `optgroup`), with its zones by name.
#[derive(Debug, PartialEq, Eq)]
struct ZoneGroup {
    region: &'static str,
    zones: Vec<ZoneOption>,
}

/// The regions of the IANA database's zone names, in the select's order; names outside
/// them (legacy aliases such as `US/Pacific`, `EST5EDT`) are not offered, though the
/// API and an existing clinic may still hold one.
const REGIONS: &[&str] = &[
    "America",
    "Europe",
    "Asia",
    "Australia",
    "Pacific",
    "Africa",
    "Atlantic",
    "Indian",
    "Antarctica",
    "Arctic",
];

/// Every IANA zone of [`REGIONS`], grouped by region, with `selected` (trimmed) chosen;
/// `UTC`, and `selected` when it is no zone of those regions, in a last group "Other",
/// so that the current value is always an option and stays selected.
fn zone_groups(selected: &str) -> Vec<ZoneGroup> {
    let selected = selected.trim();
    let mut groups: Vec<ZoneGroup> = REGIONS
        .iter()
        .map(|&region| ZoneGroup {
            region,
            zones: Vec::new(),
        })
        .collect();
    let mut found = false;
    for tz in chrono_tz::TZ_VARIANTS {
        let name = tz.name();
        let Some((region, place)) = name.split_once('/') else {
            continue;
        };
        if let Some(group) = groups.iter_mut().find(|g| g.region == region) {
            found |= name == selected;
            group.zones.push(ZoneOption {
                value: name.to_owned(),
                label: place.replace('_', " ").replace('/', " / "),
                selected: name == selected,
            });
        }
    }
    for group in &mut groups {
        group.zones.sort_by(|a, b| a.label.cmp(&b.label));
    }
    let mut other = vec![ZoneOption {
        value: "UTC".to_owned(),
        label: "UTC".to_owned(),
        selected: selected == "UTC",
    }];
    if !found && !selected.is_empty() && selected != "UTC" {
        other.push(ZoneOption {
            value: selected.to_owned(),
            label: selected.to_owned(),
            selected: true,
        });
    }
    groups.push(ZoneGroup {
        region: "Other",
        zones: other,
    });
    groups
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: Option<ClinicInput>,
) -> Result<ListPage, PageError> {
    let mut conn = state.db.conn().await?;
    let clinics = clinic::all(conn.exec(), staff.org.id).await?;
    // A new clinic starts in the zone of the first one: a group's clinics mostly share one.
    let values = values.unwrap_or_else(|| ClinicInput {
        name: String::new(),
        timezone: clinics
            .first()
            .map_or_else(|| "America/Toronto".to_owned(), |c| c.timezone.clone()),
        address: String::new(),
        phone: String::new(),
    });
    Ok(ListPage {
        layout: Layout::staff(staff, "Clinics", "setup").await?,
        clinics,
        errors,
        zone_groups: zone_groups(&values.timezone),
        values,
    })
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    list_view(&state, &staff, FieldErrors::new(), None).await
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let input = ClinicInput {
        name: form.get("name"),
        timezone: form.get("timezone"),
        address: form.get("address"),
        phone: form.get("phone"),
    };
    let result = create_clinic(&state, &staff.caller(), &input).await;
    saved_or_refused(
        &staff,
        result.map(|c| clinic_path(&staff, c.id)),
        async |errors| list_view(&state, &staff, errors, Some(input)).await,
    )
    .await
}

/// The clinics' list page.
fn list_path(staff: &Staff) -> String {
    format!("/o/{}/admin/clinics", staff.org.slug)
}

/// A clinic's page.
fn clinic_path(staff: &Staff, id: i64) -> String {
    format!("/o/{}/admin/clinics/{id}", staff.org.slug)
}

async fn edit_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
    errors: FieldErrors,
    values: Option<ClinicInput>,
) -> Result<EditPage, PageError> {
    let mut conn = state.db.conn().await?;
    let c = clinic::get(conn.exec(), staff.org.id, id).await?;
    let holidays = clinic::holidays(conn.exec(), staff.org.id, id).await?;
    let values = values.unwrap_or(ClinicInput {
        name: c.name.clone(),
        timezone: c.timezone.clone(),
        address: c.address.clone(),
        phone: c.phone.clone(),
    });
    Ok(EditPage {
        layout: Layout::staff(staff, format!("Clinic {}", c.name), "setup").await?,
        clinic: c,
        holidays: holidays
            .iter()
            .map(|d| {
                let iso = d.to_string();
                let words = crate::clinic_time::readable(&iso);
                (iso, words)
            })
            .collect(),
        errors,
        zone_groups: zone_groups(&values.timezone),
        values,
    })
}

async fn edit_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<EditPage, PageError> {
    staff.admin()?;
    edit_view(&state, &staff, id, FieldErrors::new(), None).await
}

async fn update_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let input = ClinicInput {
        name: form.get("name"),
        timezone: form.get("timezone"),
        address: form.get("address"),
        phone: form.get("phone"),
    };
    let result = update_clinic(&state, &staff.caller(), id, &input).await;
    saved_or_refused(&staff, result.map(|_| list_path(&staff)), async |errors| {
        edit_view(&state, &staff, id, errors, Some(input)).await
    })
    .await
}

async fn delete_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let result = delete_clinic(&state, &staff.caller(), id).await;
    saved_or_refused(&staff, result.map(|()| list_path(&staff)), async |errors| {
        edit_view(&state, &staff, id, errors, None).await
    })
    .await
}

async fn add_holiday_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let date = form.get("date");
    let result = add_clinic_holiday(&state, &staff.caller(), id, &date).await;
    saved_or_refused(
        &staff,
        result.map(|()| clinic_path(&staff, id)),
        async |errors| edit_view(&state, &staff, id, errors, None).await,
    )
    .await
}

async fn remove_holiday_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id, day)): Path<(String, i64, String)>,
) -> Result<Redirect, PageError> {
    staff.admin()?;
    remove_clinic_holiday(&state, &staff.caller(), id, &day).await?;
    Ok(Redirect::to(&clinic_path(&staff, id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group<'g>(groups: &'g [ZoneGroup], region: &str) -> &'g ZoneGroup {
        groups.iter().find(|g| g.region == region).unwrap()
    }

    #[test]
    fn the_timezone_select_groups_every_zone_by_region_with_the_current_one_chosen() {
        let groups = zone_groups(" America/Vancouver ");
        let regions: Vec<&str> = groups.iter().map(|g| g.region).collect();
        assert_eq!(&regions[..3], ["America", "Europe", "Asia"]);
        assert_eq!(regions.last(), Some(&"Other"));
        let chosen: Vec<&str> = groups
            .iter()
            .flat_map(|g| &g.zones)
            .filter(|z| z.selected)
            .map(|z| z.value.as_str())
            .collect();
        assert_eq!(chosen, ["America/Vancouver"]);
        let america = group(&groups, "America");
        let labels: Vec<&str> = america.zones.iter().map(|z| z.label.as_str()).collect();
        assert!(labels.windows(2).all(|w| w[0] <= w[1]), "sorted by name");
        let buenos_aires = america
            .zones
            .iter()
            .find(|z| z.value == "America/Argentina/Buenos_Aires")
            .unwrap();
        assert_eq!(buenos_aires.label, "Argentina / Buenos Aires");
        assert!(
            group(&groups, "Asia")
                .zones
                .iter()
                .any(|z| z.value == "Asia/Kathmandu")
        );
        assert!(
            group(&groups, "Australia")
                .zones
                .iter()
                .any(|z| z.value == "Australia/Lord_Howe")
        );
        // Every offered value is a zone the store accepts.
        for z in groups.iter().flat_map(|g| &g.zones) {
            assert!(z.value.parse::<chrono_tz::Tz>().is_ok(), "{}", z.value);
        }
        // Legacy aliases are not offered.
        assert!(
            groups
                .iter()
                .flat_map(|g| &g.zones)
                .all(|z| z.value != "US/Pacific")
        );
    }

    #[test]
    fn a_current_value_outside_the_regions_stays_an_option_and_chosen() {
        let other = |selected: &str| -> Vec<(String, bool)> {
            let groups = zone_groups(selected);
            group(&groups, "Other")
                .zones
                .iter()
                .map(|z| (z.value.clone(), z.selected))
                .collect()
        };
        assert_eq!(other("UTC"), [("UTC".to_owned(), true)]);
        assert_eq!(
            other("US/Pacific"),
            [("UTC".to_owned(), false), ("US/Pacific".to_owned(), true)]
        );
        assert_eq!(other("America/Toronto"), [("UTC".to_owned(), false)]);
        assert_eq!(other(""), [("UTC".to_owned(), false)]);
    }
}
