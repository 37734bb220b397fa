//! API keys (issue 18): another system calls the JSON API and FHIR with
//! `Authorization: Bearer osk_…` instead of a browser session.
//!
//! A bearer request carries no cookie that a browser adds by itself, so it needs no
//! CSRF token ([`crate::app`] skips that check for it), and it never borrows a session:
//! with an `Authorization` header present, the session-based extractors see nobody.
//! What a key may reach is one table, [`ROUTES`]: each API route a key may call, with
//! the [`Scope`] it needs. A route not in the table answers 403 to every key: the
//! routes that manage people's access (staff accounts, API keys, portal access,
//! webhooks, the audit log, a staff member's own account) are for people only.

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{Method, header};
use store::Organisation;
use store::audit::Actor;

pub(crate) use store::api_key::Scope;

use crate::auth::staff::Org;
use crate::error::AppError;
use crate::limits::ClientAddress;
use crate::state::AppState;

/// How every token starts: tells a leaked Openslot key apart in logs and scanners.
pub(crate) const TOKEN_PREFIX: &str = "osk_";

/// How many characters of a token lists show (`osk_` and 8 more).
pub(crate) const SHOWN_PREFIX: usize = 12;

/// How often a key's "last used" is written, at most, per server.
const TOUCH_EVERY_NS: i64 = 60 * 1_000_000_000;

/// A new token: `osk_` and 32 random bytes, base64url.
pub(crate) fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", crate::auth::csrf::random_token())
}

/// The API key a request authenticated with, of the organisation in its path.
#[derive(Clone, Debug)]
pub(crate) struct ApiKeyCaller {
    /// The organisation named by the path, which the key belongs to.
    pub org: Organisation,
    /// The key's row id.
    pub key_id: i64,
    /// What the admin called it.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
}

impl ApiKeyCaller {
    /// Refuses (403, naming the scope) unless the key has `scope`.
    pub(crate) fn require(&self, scope: Scope) -> Result<(), AppError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this API key ({:?}) does not have the {scope} scope",
                self.name
            )))
        }
    }

    /// Who the audit log says acted.
    pub(crate) fn actor(&self) -> Actor {
        Actor::ApiKey(self.key_id)
    }
}

/// The bearer token of a request, if it sends an `Authorization` header. `Some("")`
/// when the header is there but is not a bearer token (refused, never ignored).
pub(crate) fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?;
    let value = value.to_str().unwrap_or_default().trim();
    Some(match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => "",
    })
}

/// Whether a request authenticates with a header rather than a session.
pub(crate) fn has_authorization(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
}

impl FromRequestParts<AppState> for ApiKeyCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(caller) = parts.extensions.get::<ApiKeyCaller>() {
            return Ok(caller.clone());
        }
        let Some(token) = bearer(parts).map(str::to_owned) else {
            return Err(AppError::Unauthorized);
        };
        let Org(org) = Org::from_request_parts(parts, state).await?;
        let ClientAddress(address) = ClientAddress::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientAddress(std::net::IpAddr::V4(
                std::net::Ipv4Addr::UNSPECIFIED,
            )));
        let key = if token.starts_with(TOKEN_PREFIX) && token.len() <= 128 {
            let mut conn = state.db.conn().await?;
            store::api_key::by_token(conn.exec(), org.id, &token).await?
        } else {
            None
        };
        let Some(key) = key else {
            // Wrong tokens are counted per address (apart from sign-in attempts).
            state.limits.wrong_key(address)?;
            return Err(AppError::Unauthorized);
        };
        state.limits.api_key(key.id)?;
        touch(state, org.id, key.id).await;
        let caller = ApiKeyCaller {
            org,
            key_id: key.id,
            name: key.name,
            scopes: key.scopes,
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// Writes a key's "last used", at most once a minute per key and server.
async fn touch(state: &AppState, org: i64, key: i64) {
    let now = state.clock.now_ns();
    {
        let mut written = state.key_uses.lock().unwrap_or_else(|e| e.into_inner());
        if written
            .get(&key)
            .is_some_and(|&at| now >= at && now - at < TOUCH_EVERY_NS)
        {
            return;
        }
        if written.len() > 10_000 {
            written.clear();
        }
        written.insert(key, now);
    }
    // "Last used" is a convenience: a failure to write it is logged, never refused.
    let result = async {
        let mut conn = state.db.conn().await?;
        store::api_key::touch(conn.exec(), org, key, now).await?;
        Ok::<_, AppError>(())
    };
    if let Err(e) = result.await {
        tracing::warn!(
            key,
            error = e.message(),
            "could not record an API key's use"
        );
    }
}

/// What an API key needs to call a route of the JSON API: the route's method and path
/// (after `/api/v1/orgs/{slug}`) and the scope. A route not here is for people only.
pub(crate) const ROUTES: &[(&str, &str, Scope)] = &[
    // The schedule and the setup, read.
    ("GET", "/appointments", Scope::ScheduleRead),
    ("GET", "/appointments/pending", Scope::ScheduleRead),
    ("GET", "/appointments/{id}", Scope::ScheduleRead),
    ("GET", "/series/{id}", Scope::ScheduleRead),
    ("POST", "/series/preview", Scope::ScheduleRead),
    ("GET", "/clinics", Scope::ScheduleRead),
    ("GET", "/clinics/{id}", Scope::ScheduleRead),
    ("GET", "/practitioner-types", Scope::ScheduleRead),
    ("GET", "/practitioner-types/{id}", Scope::ScheduleRead),
    ("GET", "/practitioners", Scope::ScheduleRead),
    ("GET", "/practitioners/{id}", Scope::ScheduleRead),
    (
        "GET",
        "/practitioners/{id}/availability",
        Scope::ScheduleRead,
    ),
    (
        "GET",
        "/practitioners/{id}/availability/{record}",
        Scope::ScheduleRead,
    ),
    ("GET", "/schedule-types", Scope::ScheduleRead),
    ("GET", "/schedule-types/{id}", Scope::ScheduleRead),
    ("GET", "/services", Scope::ScheduleRead),
    ("GET", "/services/{id}", Scope::ScheduleRead),
    ("GET", "/resources", Scope::ScheduleRead),
    ("GET", "/resources/{id}", Scope::ScheduleRead),
    ("GET", "/resources/{id}/availability", Scope::ScheduleRead),
    ("GET", "/resources/{id}/time-off", Scope::ScheduleRead),
    ("GET", "/settings", Scope::ScheduleRead),
    ("GET", "/reminder-settings", Scope::ScheduleRead),
    ("GET", "/email-templates", Scope::ScheduleRead),
    ("GET", "/setup-check", Scope::ScheduleRead),
    ("POST", "/setup-check/explain", Scope::ScheduleRead),
    ("GET", "/waitlist", Scope::ScheduleRead),
    ("GET", "/waitlist/settings", Scope::ScheduleRead),
    // Appointments, changed.
    ("POST", "/appointments", Scope::Book),
    ("DELETE", "/appointments/{id}", Scope::Book),
    ("POST", "/appointments/{id}/accept", Scope::Book),
    ("POST", "/appointments/{id}/decline", Scope::Book),
    ("POST", "/appointments/{id}/confirm", Scope::Book),
    ("POST", "/appointments/{id}/move", Scope::Book),
    ("POST", "/appointments/{id}/restore", Scope::Book),
    ("POST", "/appointments/{id}/status", Scope::Book),
    ("POST", "/appointments/{id}/cancel-following", Scope::Book),
    ("POST", "/appointments/{id}/move-following", Scope::Book),
    ("POST", "/series", Scope::Book),
    ("POST", "/waitlist", Scope::Book),
    ("DELETE", "/waitlist/{id}", Scope::Book),
    ("POST", "/waitlist/offers", Scope::Book),
    // The setup, changed.
    ("POST", "/clinics", Scope::SetupWrite),
    ("PUT", "/clinics/{id}", Scope::SetupWrite),
    ("DELETE", "/clinics/{id}", Scope::SetupWrite),
    ("POST", "/clinics/{id}/holidays", Scope::SetupWrite),
    ("DELETE", "/clinics/{id}/holidays/{date}", Scope::SetupWrite),
    ("POST", "/practitioner-types", Scope::SetupWrite),
    ("PUT", "/practitioner-types/{id}", Scope::SetupWrite),
    ("DELETE", "/practitioner-types/{id}", Scope::SetupWrite),
    ("POST", "/practitioners", Scope::SetupWrite),
    ("PUT", "/practitioners/{id}", Scope::SetupWrite),
    (
        "PUT",
        "/practitioners/{id}/schedule-types/{schedule_type_id}",
        Scope::SetupWrite,
    ),
    (
        "DELETE",
        "/practitioners/{id}/schedule-types/{schedule_type_id}",
        Scope::SetupWrite,
    ),
    (
        "POST",
        "/practitioners/{id}/availability",
        Scope::SetupWrite,
    ),
    (
        "PUT",
        "/practitioners/{id}/availability/{record}",
        Scope::SetupWrite,
    ),
    (
        "DELETE",
        "/practitioners/{id}/availability/{record}",
        Scope::SetupWrite,
    ),
    (
        "PUT",
        "/practitioners/{id}/availability/{record}/blocks",
        Scope::SetupWrite,
    ),
    (
        "PUT",
        "/practitioners/{id}/availability/{record}/portal",
        Scope::SetupWrite,
    ),
    (
        "POST",
        "/practitioners/{id}/availability/{record}/new-record-from",
        Scope::SetupWrite,
    ),
    (
        "POST",
        "/practitioners/{id}/availability/{record}/temporary-change",
        Scope::SetupWrite,
    ),
    ("POST", "/schedule-types", Scope::SetupWrite),
    ("PUT", "/schedule-types/{id}", Scope::SetupWrite),
    ("DELETE", "/schedule-types/{id}", Scope::SetupWrite),
    ("POST", "/services", Scope::SetupWrite),
    ("PUT", "/services/{id}", Scope::SetupWrite),
    ("DELETE", "/services/{id}", Scope::SetupWrite),
    ("POST", "/resources", Scope::SetupWrite),
    ("PUT", "/resources/{id}", Scope::SetupWrite),
    ("DELETE", "/resources/{id}", Scope::SetupWrite),
    ("POST", "/resources/{id}/availability", Scope::SetupWrite),
    (
        "PUT",
        "/resources/{id}/availability/{record}",
        Scope::SetupWrite,
    ),
    (
        "DELETE",
        "/resources/{id}/availability/{record}",
        Scope::SetupWrite,
    ),
    ("POST", "/resources/{id}/time-off", Scope::SetupWrite),
    (
        "DELETE",
        "/resources/{id}/time-off/{off}",
        Scope::SetupWrite,
    ),
    ("PUT", "/settings", Scope::SetupWrite),
    ("PUT", "/reminder-settings", Scope::SetupWrite),
    ("PUT", "/waitlist/settings", Scope::SetupWrite),
    ("PUT", "/email-templates/{kind}", Scope::SetupWrite),
    ("DELETE", "/email-templates/{kind}", Scope::SetupWrite),
    ("POST", "/email-templates/{kind}/preview", Scope::SetupWrite),
    // Patients' records.
    ("GET", "/patients", Scope::PatientsRead),
    ("GET", "/patients/{id}", Scope::PatientsRead),
    ("POST", "/patients", Scope::PatientsWrite),
    ("PUT", "/patients/{id}", Scope::PatientsWrite),
];

/// The part of every organisation's API path before [`ROUTES`]' paths.
pub(crate) const API_BASE: &str = "/api/v1/orgs/{slug}";

/// The scope a key needs for `method` on the route `matched` (axum's matched path), or
/// `None` when no key may call it.
pub(crate) fn scope_for(method: &Method, matched: &str) -> Option<Scope> {
    let rest = matched.strip_prefix(API_BASE)?;
    ROUTES
        .iter()
        .find(|(m, path, _)| *m == method.as_str() && *path == rest)
        .map(|(_, _, scope)| *scope)
}

/// The key of a request to the staff API, checked against the route's scope: 401
/// without a live key of the path's organisation, 403 when the route is for people
/// only or the key lacks its scope.
pub(crate) async fn for_route(
    parts: &mut Parts,
    state: &AppState,
) -> Result<ApiKeyCaller, AppError> {
    let caller = ApiKeyCaller::from_request_parts(parts, state).await?;
    let matched = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    match scope_for(&parts.method, &matched) {
        Some(scope) => caller.require(scope).map(|()| caller),
        None => Err(AppError::Forbidden(
            "API keys cannot use this route; it needs a staff member signed in".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_in_the_table_is_an_operation_of_the_api() {
        let (_, doc) = crate::routes::api_document();
        for (method, path, _) in ROUTES {
            let full = format!("{API_BASE}{path}");
            let item = doc
                .paths
                .paths
                .get(&full)
                .unwrap_or_else(|| panic!("{method} {full} is not in the API"));
            let operation = match *method {
                "GET" => item.get.as_ref(),
                "POST" => item.post.as_ref(),
                "PUT" => item.put.as_ref(),
                "DELETE" => item.delete.as_ref(),
                _ => None,
            };
            assert!(operation.is_some(), "{method} {full} is not in the API");
        }
    }

    #[test]
    fn the_scope_of_a_route_is_found_by_its_matched_path() {
        assert_eq!(
            scope_for(&Method::GET, "/api/v1/orgs/{slug}/clinics"),
            Some(Scope::ScheduleRead)
        );
        assert_eq!(
            scope_for(&Method::POST, "/api/v1/orgs/{slug}/clinics"),
            Some(Scope::SetupWrite)
        );
        assert_eq!(scope_for(&Method::GET, "/api/v1/orgs/{slug}/staff"), None);
        assert_eq!(scope_for(&Method::GET, "/o/{slug}/admin/clinics"), None);
    }
}
