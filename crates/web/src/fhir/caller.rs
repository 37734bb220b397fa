//! A stand-in for `crate::auth::api_key` until the integrator's extractor lands on
//! main: the same interface, refusing every request. Deleted at the merge.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use store::Organisation;

use crate::error::AppError;
use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    ScheduleRead,
    Book,
    PatientsRead,
}

#[derive(Clone, Debug)]
pub(crate) struct ApiKeyCaller {
    pub org: Organisation,
    pub key_id: i64,
}

impl ApiKeyCaller {
    pub(crate) fn require(&self, _scope: Scope) -> Result<(), AppError> {
        Err(AppError::Forbidden("no keys yet".into()))
    }

    pub(crate) fn actor(&self) -> store::audit::Actor {
        store::audit::Actor::Staff(self.key_id)
    }
}

impl FromRequestParts<AppState> for ApiKeyCaller {
    type Rejection = AppError;

    async fn from_request_parts(_: &mut Parts, _: &AppState) -> Result<Self, AppError> {
        Err(AppError::Unauthorized)
    }
}
