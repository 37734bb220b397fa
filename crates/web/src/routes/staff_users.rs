//! Staff accounts: the admin page and the API. An admin creates an account with its
//! role and first password, and may stop or restore it; a practitioner account is
//! linked to the practitioner whose schedule it sees.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::practitioner::{self, Practitioner};
use store::staff::{self as accounts, NewStaff, Role, StaffUser};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::password;
use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::changes::{self, Change};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody};
use crate::pages::Layout;
use crate::routes::saved_to;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/staff", get(list_page).post(create_page))
        .route("/o/{slug}/admin/staff/{id}/active", post(set_active_page))
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one))
        .routes(routes!(set_active))
}

/// A staff account, as the API shows it (never its password).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StaffUserDto {
    /// Row id.
    pub id: i64,
    /// Sign-in email.
    pub email: String,
    /// Name.
    pub name: String,
    /// `admin`, `front_desk` or `practitioner`.
    pub role: String,
    /// For the practitioner role: whose schedule they see.
    pub practitioner_id: Option<i64>,
    /// Whether they may sign in.
    pub active: bool,
}

impl From<StaffUser> for StaffUserDto {
    fn from(u: StaffUser) -> Self {
        StaffUserDto {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            practitioner_id: u.practitioner_id,
            active: u.active,
        }
    }
}

/// A staff account to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StaffUserBody {
    /// Sign-in email, unique in the organisation.
    pub email: String,
    /// Name.
    pub name: String,
    /// `admin`, `front_desk` or `practitioner`.
    pub role: String,
    /// For the practitioner role (and only for it): a practitioner of the organisation.
    #[serde(default)]
    pub practitioner_id: Option<i64>,
    /// The first password: at least 10 characters and hard to guess.
    pub password: String,
}

/// Whether an account may sign in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActiveBody {
    /// False stops the account; true restores it.
    pub active: bool,
}

/// An account to create, as read from a form or a body.
#[derive(Debug)]
struct NewAccount {
    email: String,
    name: String,
    role: String,
    practitioner_id: Option<i64>,
    password: String,
}

/// Checks the new password, hashes it off the async threads (Argon2id takes a while
/// on purpose), and creates the account in one checked, audited transaction.
/// Checks a new account's fields that need no database, every field's problem at once
/// (the page shows them all; the API answers the first): its role, email address, name
/// and password.
fn check(new: &NewAccount) -> store::Result<(Role, String)> {
    let mut problems = store::Problems::new();
    let role = problems.check(Role::parse(new.role.trim()).map_err(|_| {
        store::Error::invalid("role", "Choose a role: admin, front desk or practitioner.")
    }));
    let email = problems.check(store::email::normalise_email(&new.email).map_err(|_| {
        store::Error::invalid("email", "Enter an email address, e.g. name@example.com.")
    }));
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        problems.add("name", "Enter a name (at most 100 characters).");
    }
    let known = [email.as_deref().unwrap_or_default(), name];
    if let Err(message) = password::check_new(&new.password, &known) {
        problems.add("password", message);
    }
    problems.done(role.zip(email))
}

async fn create_account(
    state: &AppState,
    staff: &Caller,
    new: NewAccount,
) -> Result<StaffUser, AppError> {
    let (role, email) = check(&new)?;
    let secret = new.password;
    let hash = tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(AppError::internal)?;
    changes::setup_api(
        state,
        staff,
        Change {
            action: "staff.create",
            entity: "staff",
        },
        async |tx| {
            let user = accounts::create_account(
                tx,
                staff.org.id,
                &NewStaff {
                    email: &email,
                    name: &new.name,
                    role,
                    practitioner_id: new.practitioner_id,
                    password_hash: &hash,
                },
                state.clock.now_ns(),
            )
            .await?;
            let id = user.id;
            // The password stays out of the audit log.
            let details = json!({
                "email": email,
                "name": new.name.trim(),
                "role": role.as_str(),
                "practitioner_id": new.practitioner_id,
            });
            Ok((user, Some(id), details))
        },
    )
    .await
}

/// Stops or restores an account. Admins cannot stop their own account, so an
/// organisation always keeps an admin who can sign in.
async fn change_active(
    state: &AppState,
    staff: &Caller,
    id: i64,
    active: bool,
) -> store::Result<StaffUser> {
    changes::setup(
        state,
        staff,
        Change {
            action: if active {
                "staff.activate"
            } else {
                "staff.deactivate"
            },
            entity: "staff",
        },
        async |tx| {
            let user = accounts::by_id(tx.exec(), staff.org.id, id).await?;
            if !active && staff.user().is_some_and(|me| me.id == user.id) {
                return Err(store::Error::invalid(
                    "active",
                    "you cannot deactivate your own account; another admin can",
                ));
            }
            let details =
                changes::update_details(json!({"active": user.active}), json!({"active": active}));
            let user = accounts::set_active(tx, staff.org.id, id, active).await?;
            Ok((user, Some(id), details))
        },
    )
    .await
}

/// Every staff account (admins and front desk).
#[utoipa::path(get, operation_id = "list_staff_users", path = "/api/v1/orgs/{slug}/staff", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [StaffUserDto]), (status = 401, description = "Not signed in"),
        (status = 403, description = "Neither admin nor front desk")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<StaffUserDto>>, AppError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let all = accounts::all(conn.exec(), staff.org.id).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Creates a staff account with its first password (admins).
#[utoipa::path(post, operation_id = "create_staff_user", path = "/api/v1/orgs/{slug}/staff", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = StaffUserBody,
    responses((status = 201, body = StaffUserDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field (a weak password, an email already used…); nothing saved")))]
async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<StaffUserBody>,
) -> Result<(StatusCode, Json<StaffUserDto>), AppError> {
    staff.admin()?;
    let new = NewAccount {
        email: body.email,
        name: body.name,
        role: body.role,
        practitioner_id: body.practitioner_id,
        password: body.password,
    };
    let user = create_account(&state, &staff, new).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// One staff account (admins and front desk).
#[utoipa::path(get, operation_id = "get_staff_user", path = "/api/v1/orgs/{slug}/staff/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The staff account")),
    responses((status = 200, body = StaffUserDto),
        (status = 404, description = "No such staff account in this organisation")))]
async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<StaffUserDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    Ok(Json(
        accounts::by_id(conn.exec(), staff.org.id, id).await?.into(),
    ))
}

/// Stops (`false`) or restores (`true`) a staff account (admins; not their own).
#[utoipa::path(put, operation_id = "set_staff_user_active", path = "/api/v1/orgs/{slug}/staff/{id}/active", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The staff account")),
    request_body = ActiveBody,
    responses((status = 200, body = StaffUserDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such staff account"),
        (status = 422, description = "An admin's own account")))]
async fn set_active(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<ActiveBody>,
) -> Result<Json<StaffUserDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let user = change_active(&state, &staff, id, body.active).await?;
    Ok(Json(user.into()))
}

// Pages.

/// The form's values as typed (but never the password), so that a refused form shows
/// them again.
#[derive(Debug, Default)]
struct Values {
    email: String,
    name: String,
    role: String,
    practitioner_id: String,
}

/// A row of the list.
#[derive(Debug)]
struct Row {
    user: StaffUser,
    role: &'static str,
    practitioner: Option<String>,
}

/// One choice of the role list.
#[derive(Debug)]
struct RoleOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/staff_users.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    practitioners: Vec<Practitioner>,
    roles: Vec<RoleOption>,
    errors: FieldErrors,
    values: Values,
    me: i64,
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: Values,
) -> Result<ListPage, PageError> {
    let mut conn = state.db.conn().await?;
    let practitioners = practitioner::all(conn.exec(), staff.org.id).await?;
    let rows = accounts::all(conn.exec(), staff.org.id)
        .await?
        .into_iter()
        .map(|user| Row {
            role: user.role().label(),
            practitioner: user.practitioner_id.and_then(|id| {
                practitioners
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.name.clone())
            }),
            user,
        })
        .collect();
    let roles = [Role::Admin, Role::FrontDesk, Role::Practitioner]
        .into_iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: r.label(),
            selected: values.role == r.as_str(),
        })
        .collect();
    Ok(ListPage {
        layout: Layout::staff(staff, "Staff accounts", "setup").await?,
        rows,
        practitioners,
        roles,
        errors,
        values,
        me: staff.user.id,
    })
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    let values = Values {
        role: Role::FrontDesk.as_str().to_owned(),
        ..Values::default()
    };
    list_view(&state, &staff, FieldErrors::new(), values).await
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values {
        email: form.get("email"),
        name: form.get("name"),
        role: form.get("role"),
        practitioner_id: form.get("practitioner_id"),
    };
    let mut errors = FieldErrors::new();
    let practitioner_id = match values.practitioner_id.as_str() {
        "" => Some(None),
        id => match id.parse::<i64>() {
            Ok(id) => Some(Some(id)),
            Err(_) => {
                errors.add("practitioner_id", "choose a practitioner from the list");
                None
            }
        },
    };
    if let Some(practitioner_id) = practitioner_id {
        let new = NewAccount {
            email: values.email.clone(),
            name: values.name.clone(),
            role: values.role.clone(),
            practitioner_id,
            // A password is taken as typed: spaces may be part of it.
            password: form
                .pairs()
                .iter()
                .find(|(k, _)| k == "password")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        };
        // Every field's error at once, before the first that the store would stop at.
        if let Err(e) = check(&new) {
            errors.absorb(e)?;
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                list_view(&state, &staff, errors, values).await?,
            )
                .into_response());
        }
        match create_account(&state, &staff.caller(), new).await {
            Ok(_) => {
                return saved_to(&staff, &format!("/o/{}/admin/staff", staff.org.slug)).await;
            }
            // Field errors go next to their fields; anything else is an error page.
            Err(AppError::Invalid { field, message }) => errors.add(field, message),
            Err(e) => return Err(e.into()),
        }
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        list_view(&state, &staff, errors, values).await?,
    )
        .into_response())
}

async fn set_active_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let mut errors = FieldErrors::new();
    let active = match form.get("active").as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            errors.add("active", "must be true or false");
            None
        }
    };
    if let Some(active) = active {
        match change_active(&state, &staff.caller(), id, active).await {
            Ok(_) => {
                return saved_to(&staff, &format!("/o/{}/admin/staff", staff.org.slug)).await;
            }
            Err(e) => errors.absorb(e)?,
        }
    }
    let values = Values {
        role: Role::FrontDesk.as_str().to_owned(),
        ..Values::default()
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        list_view(&state, &staff, errors, values).await?,
    )
        .into_response())
}
