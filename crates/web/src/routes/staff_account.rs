//! A staff member's own account: who they are signed in as, and the emails they asked
//! for (one for each booking, move and cancellation a patient makes in the portal;
//! `notices::staff`). Every staff role has it, for their own account only.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::staff::Role;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{StaffApi, StaffPage};
use crate::error::{AppError, PageError};
use crate::form::FormData;
use crate::pages::Layout;
use crate::routes::saved_to;
use crate::state::AppState;

/// The page.
pub(crate) fn pages() -> Router<AppState> {
    Router::new().route("/o/{slug}/admin/account", get(page).post(save_page))
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_notifications, put_notifications))
}

/// The emails a staff member asked for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotificationsDto {
    /// An email for each booking, move and cancellation a patient makes in the portal
    /// (a practitioner account: of their own practitioner's appointments only).
    pub portal_changes: bool,
}

/// A staff member and their organisation.
#[derive(Debug)]
struct Person {
    org: store::Organisation,
    user: store::staff::StaffUser,
}

/// Turns the emails on or off in one audited transaction.
async fn save(state: &AppState, staff: &Person, on: bool) -> Result<(), store::Error> {
    let mut tx = state.db.begin().await?;
    store::staff::set_notify_portal_changes(&mut tx, staff.org.id, staff.user.id, on).await?;
    store::audit::record(
        &mut tx,
        staff.org.id,
        &store::audit::Actor::Staff(staff.user.id).label(),
        "staff.set_notifications",
        "staff",
        Some(staff.user.id),
        json!({
            "portal_changes": on,
            "before": {"portal_changes": staff.user.notify_portal_changes},
        }),
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The signed-in staff member's emails.
#[utoipa::path(get, operation_id = "get_own_notifications", path = "/api/v1/orgs/{slug}/account/notifications", tag = "session",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = NotificationsDto), (status = 401, description = "Not signed in as staff")))]
async fn get_notifications(StaffApi(staff): StaffApi) -> Result<Json<NotificationsDto>, AppError> {
    Ok(Json(NotificationsDto {
        portal_changes: person(&staff)?.user.notify_portal_changes,
    }))
}

/// The staff member calling, with their account: an API key has none (the route table
/// keeps keys out already; this says so again where the account is used).
fn person(caller: &Caller) -> Result<Person, AppError> {
    match caller.user() {
        Some(user) => Ok(Person {
            org: caller.org.clone(),
            user: user.clone(),
        }),
        None => Err(AppError::Forbidden(
            "an API key has no staff account of its own".into(),
        )),
    }
}

/// Turns the signed-in staff member's emails on or off.
#[utoipa::path(put, operation_id = "put_own_notifications", path = "/api/v1/orgs/{slug}/account/notifications", tag = "session",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = NotificationsDto,
    responses((status = 200, body = NotificationsDto), (status = 401, description = "Not signed in as staff")))]
async fn put_notifications(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    crate::form::JsonBody(body): crate::form::JsonBody<NotificationsDto>,
) -> Result<Json<NotificationsDto>, AppError> {
    save(&state, &person(&staff)?, body.portal_changes).await?;
    Ok(Json(body))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    role: &'static str,
    /// For a practitioner account: whose appointments it hears of.
    practitioner: Option<String>,
    /// For a practitioner account: its practitioner, whose calendar feed it manages.
    practitioner_id: Option<i64>,
    portal_changes: bool,
}

async fn page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<AccountPage, PageError> {
    let practitioner = match (staff.user.role(), staff.user.practitioner_id) {
        (Role::Practitioner, Some(id)) => {
            let mut conn = state.db.conn().await?;
            Some(
                store::practitioner::get(conn.exec(), staff.org.id, id)
                    .await?
                    .name,
            )
        }
        _ => None,
    };
    Ok(AccountPage {
        layout: Layout::staff(&staff, "Your account", "account").await?,
        email: staff.user.email.clone(),
        role: staff.user.role().label(),
        practitioner,
        practitioner_id: staff.user.practitioner_id,
        portal_changes: staff.user.notify_portal_changes,
    })
}

async fn save_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    save(
        &state,
        &Person {
            org: staff.org.clone(),
            user: staff.user.clone(),
        },
        form.checked("portal_changes"),
    )
    .await?;
    saved_to(&staff, &format!("/o/{}/admin/account", staff.org.slug)).await
}
