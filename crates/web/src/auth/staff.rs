//! The organisation of a request, and the staff user signed in to it.
//!
//! [`Org`] comes from the `{slug}` in the path: every organisation-scoped route names
//! its organisation there, and every store call passes `org.id`. On an organisation's
//! own host name (`clinic_host`) the path's organisation must be that one. [`StaffPage`] and
//! [`StaffApi`] give the signed-in staff user of that organisation — a page redirects
//! to the sign-in page when there is none, the API answers 401.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use store::Organisation;
use store::audit::Actor;
use store::staff::{Role, StaffUser};
use tower_sessions::Session;

use crate::auth::api_key::ApiKeyCaller;
use crate::auth::password;
use crate::clinic_host::ClinicHost;
use crate::error::{AppError, PageError};
use crate::limits::ClientAddress;
use crate::state::AppState;

/// The organisation named by the path's `{slug}`.
#[derive(Clone, Debug)]
pub(crate) struct Org(pub Organisation);

impl FromRequestParts<AppState> for Org {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(org) = parts.extensions.get::<Org>() {
            return Ok(org.clone());
        }
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound("organisation".into()))?;
        let slug = params
            .iter()
            .find(|(name, _)| *name == "slug")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| AppError::NotFound("organisation".into()))?;
        // On an organisation's own host name only that organisation is served
        // (`clinic_host`, which has read it already).
        let org = match parts.extensions.get::<ClinicHost>() {
            Some(ClinicHost::Of(org)) if org.slug == slug => Organisation::clone(org),
            Some(_) => return Err(AppError::NotFound("organisation".into())),
            None => {
                let mut conn = state.db.conn().await?;
                store::organisation::by_slug(conn.exec(), &slug)
                    .await?
                    .ok_or_else(|| AppError::NotFound("organisation".into()))?
            }
        };
        let org = Org(org);
        parts.extensions.insert(org.clone());
        Ok(org)
    }
}

/// What the session remembers of a signed-in staff user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StaffSession {
    /// The organisation signed in to.
    pub org_id: i64,
    /// The staff user signed in as, read again on every request.
    pub staff_id: i64,
    /// The user's session epoch when signing in: once the password changes or the
    /// account is stopped, the epoch moves and this session has ended.
    #[serde(default)]
    pub epoch: i64,
}

/// The session key of [`StaffSession`].
pub(crate) const STAFF_KEY: &str = "staff";

/// The signed-in staff user of the request's organisation, with the organisation.
#[derive(Clone, Debug)]
pub(crate) struct Staff {
    /// The organisation named in the request's address, which the session belongs to.
    pub org: Organisation,
    /// The staff user's row, as read on this request (active, with the session's
    /// epoch).
    pub user: StaffUser,
    /// The session (for CSRF tokens and signing out).
    pub session: Session,
}

impl Staff {
    /// Refuses unless the user has one of `roles`.
    pub(crate) fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        require_role(&self.user, roles)
    }

    /// Refuses unless the user is an admin.
    pub(crate) fn admin(&self) -> Result<(), AppError> {
        self.require(&[Role::Admin])
    }

    /// Refuses unless the user runs the front desk (admins do too).
    pub(crate) fn front_desk(&self) -> Result<(), AppError> {
        self.require(&[Role::Admin, Role::FrontDesk])
    }

    /// `staff:ID`, for the audit log.
    pub(crate) fn actor(&self) -> String {
        format!("staff:{}", self.user.id)
    }
}

/// Refuses unless `user` has one of `roles`.
fn require_role(user: &StaffUser, roles: &[Role]) -> Result<(), AppError> {
    if roles.contains(&user.role()) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "this needs the {} role",
            roles
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join(" or ")
        )))
    }
}

/// The staff user this session is signed in as in `org`: only while the account is
/// active and its session epoch is the one the session was opened with (a stopped
/// account or a changed password ends every session at once).
pub(crate) async fn staff_in_session(
    state: &AppState,
    org: i64,
    session: &Session,
) -> Result<Option<StaffUser>, AppError> {
    let Some(who) = session
        .get::<StaffSession>(STAFF_KEY)
        .await
        .map_err(AppError::internal)?
    else {
        return Ok(None);
    };
    if who.org_id != org {
        return Ok(None);
    }
    let mut conn = state.db.conn().await?;
    match store::staff::by_id(conn.exec(), org, who.staff_id).await {
        Ok(user) if user.active && user.session_epoch == who.epoch => Ok(Some(user)),
        Ok(_) | Err(store::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn signed_in(parts: &mut Parts, state: &AppState) -> Result<Option<Staff>, AppError> {
    // A request that authenticates with a header never borrows the browser's session.
    if crate::auth::api_key::has_authorization(&parts.headers) {
        return Ok(None);
    }
    let Org(org) = Org::from_request_parts(parts, state).await?;
    let session = Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, e)| AppError::internal(e))?;
    Ok(staff_in_session(state, org.id, &session)
        .await?
        .map(|user| Staff { org, user, session }))
}

/// A staff user for a page: redirects to the sign-in page when nobody is signed in.
#[derive(Clone, Debug)]
pub(crate) struct StaffPage(pub Staff);

/// Why a page could not get its staff user.
#[derive(Debug)]
pub(crate) enum StaffPageRejection {
    /// Go and sign in, then come back.
    SignIn(String),
    /// Something else went wrong.
    Error(PageError),
}

impl IntoResponse for StaffPageRejection {
    fn into_response(self) -> Response {
        match self {
            StaffPageRejection::SignIn(to) => Redirect::to(&to).into_response(),
            StaffPageRejection::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for StaffPage {
    type Rejection = StaffPageRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match signed_in(parts, state).await {
            Ok(Some(staff)) => Ok(StaffPage(staff)),
            Ok(None) => {
                let slug = Org::from_request_parts(parts, state)
                    .await
                    .map(|o| o.0.slug)
                    .unwrap_or_default();
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                Err(StaffPageRejection::SignIn(format!(
                    "/o/{slug}/admin/signin?next={}",
                    crate::query::encode(next)
                )))
            }
            Err(e) => Err(StaffPageRejection::Error(PageError(e))),
        }
    }
}

/// Who calls the staff API: a signed-in staff user, or another system with an API key.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// The organisation named in the request's address, which the caller belongs to.
    pub org: Organisation,
    /// Who it is.
    pub who: Who,
}

/// The two kinds of [`Caller`].
#[derive(Clone, Debug)]
pub(crate) enum Who {
    /// A staff user signed in with a session (the user's row as read on this request).
    Staff(Box<StaffUser>),
    /// An API key whose scope allows the route (checked before the handler runs).
    Key(Box<ApiKeyCaller>),
}

impl Caller {
    /// Refuses unless a staff user has one of `roles`. An API key passes: the route's
    /// scope ([`crate::auth::api_key::ROUTES`]) was checked when it was authenticated.
    pub(crate) fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        match &self.who {
            Who::Staff(user) => require_role(user, roles),
            Who::Key(_) => Ok(()),
        }
    }

    /// Refuses unless the caller is an admin (or a key with the route's scope).
    pub(crate) fn admin(&self) -> Result<(), AppError> {
        self.require(&[Role::Admin])
    }

    /// Refuses unless the caller runs the front desk (or a key with the route's scope).
    pub(crate) fn front_desk(&self) -> Result<(), AppError> {
        self.require(&[Role::Admin, Role::FrontDesk])
    }

    /// Who the audit log says acted.
    pub(crate) fn audit_actor(&self) -> Actor {
        match &self.who {
            Who::Staff(user) => Actor::Staff(user.id),
            Who::Key(key) => key.actor(),
        }
    }

    /// `staff:ID` or `key:ID`, for the audit log.
    pub(crate) fn actor(&self) -> String {
        self.audit_actor().label()
    }

    /// The staff user, when a person calls.
    pub(crate) fn user(&self) -> Option<&StaffUser> {
        match &self.who {
            Who::Staff(user) => Some(user),
            Who::Key(_) => None,
        }
    }
}

/// Whoever changes something on staff's side: a staff user with a session ([`Staff`])
/// or any caller of the staff API ([`Caller`]). What the audit log and the setup
/// checks need of them.
pub(crate) trait Acting {
    /// The organisation acted in.
    fn org(&self) -> &Organisation;
    /// Who the audit log says acted.
    fn audit_actor(&self) -> Actor;
    /// `staff:ID` or `key:ID`, for the audit log.
    fn actor(&self) -> String {
        self.audit_actor().label()
    }
}

impl Acting for Staff {
    fn org(&self) -> &Organisation {
        &self.org
    }
    fn audit_actor(&self) -> Actor {
        Staff::audit_actor(self)
    }
}

impl Acting for Caller {
    fn org(&self) -> &Organisation {
        &self.org
    }
    fn audit_actor(&self) -> Actor {
        Caller::audit_actor(self)
    }
}

impl Staff {
    /// Who the audit log says acted.
    pub(crate) fn audit_actor(&self) -> Actor {
        Actor::Staff(self.user.id)
    }

    /// This staff user as a caller of the staff API (what handlers shared with the API
    /// take).
    pub(crate) fn caller(&self) -> Caller {
        self.clone().into()
    }
}

impl From<Staff> for Caller {
    fn from(staff: Staff) -> Self {
        Caller {
            org: staff.org,
            who: Who::Staff(Box::new(staff.user)),
        }
    }
}

/// A caller of the JSON API: a signed-in staff user, or an API key (`Authorization:
/// Bearer`) whose scope allows the route. 401 when neither.
#[derive(Clone, Debug)]
pub(crate) struct StaffApi(pub Caller);

impl FromRequestParts<AppState> for StaffApi {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if crate::auth::api_key::has_authorization(&parts.headers) {
            let key = crate::auth::api_key::for_route(parts, state).await?;
            return Ok(StaffApi(Caller {
                org: key.org.clone(),
                who: Who::Key(Box::new(key)),
            }));
        }
        signed_in(parts, state)
            .await?
            .map(|staff| StaffApi(staff.into()))
            .ok_or(AppError::Unauthorized)
    }
}

/// Checks staff credentials, doing the same work whether or not the account exists.
///
/// Every attempt counts against the rate limits of the client's address and of the
/// account.
pub(crate) async fn authenticate(
    state: &AppState,
    address: ClientAddress,
    org: i64,
    email: &str,
    password: &str,
) -> Result<Option<StaffUser>, AppError> {
    if let Err(e) = state.limits.attempt(
        address.0,
        Some(&format!("staff:{org}:{}", email.trim().to_lowercase())),
    ) {
        state.metrics.rate_limited();
        return Err(e);
    }
    let mut conn = state.db.conn().await?;
    let user = store::staff::by_email(conn.exec(), org, email).await?;
    drop(conn);
    let password = password.to_owned();
    let verified = tokio::task::spawn_blocking(move || match user {
        Some(user) if user.active => {
            password::verify(&password, &user.password_hash).then_some(user)
        }
        Some(_) | None => {
            password::verify_dummy(&password);
            None
        }
    })
    .await
    .map_err(AppError::internal)?;
    Ok(verified)
}

/// Signs a staff user in: a new session id (no fixation), then who they are.
pub(crate) async fn start_session(session: &Session, user: &StaffUser) -> Result<(), AppError> {
    let who = StaffSession {
        org_id: user.org_id,
        staff_id: user.id,
        epoch: user.session_epoch,
    };
    super::begin_session(session, STAFF_KEY, who).await
}
