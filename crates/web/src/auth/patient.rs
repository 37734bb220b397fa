//! The patient signed in to an organisation's portal.
//!
//! [`PatientPage`] redirects to the portal's sign-in page when nobody is signed in;
//! [`PatientApi`] answers 401. A staff session and a patient session are separate keys
//! of the same session cookie, each bound to one organisation.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use store::Organisation;
use store::patient::Patient as PatientRow;
use store::portal_access::{self, PortalAccount};
use tower_sessions::Session;

use crate::auth::password;
use crate::auth::staff::Org;
use crate::error::{AppError, PageError};
use crate::limits::ClientAddress;
use crate::state::AppState;

/// What the session remembers of a signed-in patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PatientSession {
    /// The organisation signed in to.
    pub org_id: i64,
    /// The patient signed in as; the session ends if the account stops being theirs.
    pub patient_id: i64,
    /// The portal account signed in with, read again on every request.
    pub account_id: i64,
    /// The account's session epoch when signing in: once the credentials change, the
    /// epoch moves and this session has ended.
    #[serde(default)]
    pub epoch: i64,
}

/// The session key of [`PatientSession`].
pub(crate) const PATIENT_KEY: &str = "patient";

/// The signed-in patient of the request's organisation.
#[derive(Clone, Debug)]
pub(crate) struct Patient {
    /// The organisation named in the request's address, which the session belongs to.
    pub org: Organisation,
    /// The patient's row, as read on this request.
    pub patient: PatientRow,
    /// The session (for CSRF tokens and signing out).
    pub session: Session,
}

/// Signs a patient in: a new session id (no fixation), then who they are.
pub(crate) async fn start_session(session: &Session, who: PatientSession) -> Result<(), AppError> {
    super::begin_session(session, PATIENT_KEY, who).await
}

/// The patient this session is signed in as in `org`, with their account id: only
/// while the account is still the patient's, can sign in, and has the session epoch
/// the session was opened with (changed credentials end every other session at once).
pub(crate) async fn patient_in_session(
    state: &AppState,
    org: i64,
    session: &Session,
) -> Result<Option<(PatientRow, i64)>, AppError> {
    let Some(who) = session
        .get::<PatientSession>(PATIENT_KEY)
        .await
        .map_err(AppError::internal)?
    else {
        return Ok(None);
    };
    if who.org_id != org {
        return Ok(None);
    }
    let mut conn = state.db.conn().await?;
    let account = match store::portal_access::get(conn.exec(), org, who.account_id).await {
        Ok(a) => a,
        Err(store::Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if account.patient_id != who.patient_id
        || account.session_epoch != who.epoch
        || !account.can_sign_in()
    {
        return Ok(None);
    }
    match store::patient::get(conn.exec(), org, who.patient_id).await {
        Ok(p) => Ok(Some((p, account.id))),
        Err(store::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn signed_in(parts: &mut Parts, state: &AppState) -> Result<Option<Patient>, AppError> {
    let Org(org) = Org::from_request_parts(parts, state).await?;
    let session = Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, e)| AppError::internal(e))?;
    Ok(patient_in_session(state, org.id, &session)
        .await?
        .map(|(patient, _)| Patient {
            org,
            patient,
            session,
        }))
}

/// A patient for a portal page: redirects to the portal's sign-in page when nobody is
/// signed in.
#[derive(Clone, Debug)]
pub(crate) struct PatientPage(pub Patient);

/// Why a portal page could not get its patient.
#[derive(Debug)]
pub(crate) enum PatientPageRejection {
    /// Go and sign in, then come back.
    SignIn(String),
    /// Something else went wrong.
    Error(PageError),
}

impl IntoResponse for PatientPageRejection {
    fn into_response(self) -> Response {
        match self {
            PatientPageRejection::SignIn(to) => Redirect::to(&to).into_response(),
            PatientPageRejection::Error(e) => e.into_response(),
        }
    }
}

/// The sign-in page's address that comes back to this request's page afterwards.
fn sign_in_first(parts: &Parts, slug: &str) -> PatientPageRejection {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    PatientPageRejection::SignIn(format!(
        "/o/{slug}/portal/signin?next={}",
        crate::query::encode(next)
    ))
}

impl FromRequestParts<AppState> for PatientPage {
    type Rejection = PatientPageRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match signed_in(parts, state).await {
            Ok(Some(patient)) => Ok(PatientPage(patient)),
            Ok(None) => {
                let slug = Org::from_request_parts(parts, state)
                    .await
                    .map(|o| o.0.slug)
                    .unwrap_or_default();
                Err(sign_in_first(parts, &slug))
            }
            Err(e) => Err(PatientPageRejection::Error(PageError(e))),
        }
    }
}

/// Whoever opens a portal page that shows open times: the signed-in patient, or — when
/// the organisation shows its times before signing in (`portal_public_times`) — a
/// visitor who has not signed in.
#[derive(Clone, Debug)]
pub(crate) struct Visitor {
    /// The organisation named in the request's address.
    pub org: Organisation,
    /// The signed-in patient, if any.
    pub patient: Option<PatientRow>,
    /// The session (for CSRF tokens).
    pub session: Session,
}

impl From<Patient> for Visitor {
    fn from(p: Patient) -> Self {
        Visitor {
            org: p.org,
            patient: Some(p.patient),
            session: p.session,
        }
    }
}

/// A [`Visitor`] for a portal page: redirects to the sign-in page (and back) when
/// nobody is signed in and the organisation keeps its times for its patients.
#[derive(Clone, Debug)]
pub(crate) struct VisitorPage(pub Visitor);

impl FromRequestParts<AppState> for VisitorPage {
    type Rejection = PatientPageRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Org(org) = Org::from_request_parts(parts, state)
            .await
            .map_err(|e| PatientPageRejection::Error(PageError(e)))?;
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, e)| PatientPageRejection::Error(PageError(AppError::internal(e))))?;
        let patient = patient_in_session(state, org.id, &session)
            .await
            .map_err(|e| PatientPageRejection::Error(PageError(e)))?
            .map(|(patient, _)| patient);
        if patient.is_none() && !org.portal_public_times {
            return Err(sign_in_first(parts, &org.slug));
        }
        Ok(VisitorPage(Visitor {
            org,
            patient,
            session,
        }))
    }
}

/// A patient for the JSON API: 401 when nobody is signed in.
#[derive(Clone, Debug)]
pub(crate) struct PatientApi(pub Patient);

impl FromRequestParts<AppState> for PatientApi {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        signed_in(parts, state)
            .await?
            .map(PatientApi)
            .ok_or(AppError::Unauthorized)
    }
}

/// Checks portal credentials, doing the same work whether or not the account exists
/// or can sign in, within the rate limits of the client's address and the account.
pub(crate) async fn authenticate(
    state: &AppState,
    address: ClientAddress,
    org: i64,
    username: &str,
    secret: &str,
) -> Result<Option<PortalAccount>, AppError> {
    let username = username.trim().to_lowercase();
    if let Err(e) = state
        .limits
        .attempt(address.0, Some(&format!("portal:{org}:{username}")))
    {
        state.metrics.rate_limited();
        return Err(e);
    }
    let mut conn = state.db.conn().await?;
    let account = portal_access::by_username(conn.exec(), org, &username).await?;
    drop(conn);
    let secret = secret.to_owned();
    tokio::task::spawn_blocking(move || match account {
        Some(a) if a.can_sign_in() => {
            let hash = a.password_hash.clone().unwrap_or_default();
            password::verify(&secret, &hash).then_some(a)
        }
        _ => {
            password::verify_dummy(&secret);
            None
        }
    })
    .await
    .map_err(AppError::internal)
}
