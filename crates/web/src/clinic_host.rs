//! Clinic-specific host names. An organisation may have its own host name
//! (`book.kitsilano-physio.ca`, set on its settings page): a request for it reaches that
//! organisation without `/o/{slug}` in the address — `/` is its portal, `/admin` its
//! staff pages, and every other `/o/{slug}/…` page answers without the prefix too.
//!
//! Two layers do it. [`rewrite`] wraps the whole router, since a path must change
//! before routing: it finds the organisation whose host the request names and
//! prefixes the path. [`only_its_organisation`] runs inside the router, among the
//! other layers (so its refusal gets the error page and the security headers of any
//! answer): on a clinic's host only that clinic's organisation is served, and
//! another organisation's `/o/{other}/…` or `/api/v1/orgs/{other}/…` is not found.
//!
//! Requests for the server's own host (`--public-url`), for an address (IP literal),
//! or for a host no organisation has, are routed as they came. Nothing here builds a
//! link from the request's host: emails link to `--public-url` only
//! (docs/operations.md).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri, header, uri::PathAndQuery};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use store::Organisation;
use tower::Layer;

use crate::error::{AppError, PageError};
use crate::state::AppState;

/// What [`rewrite`] found about the request's host, for the layers and extractors
/// inside the router.
#[derive(Clone, Debug)]
pub(crate) enum ClinicHost {
    /// The request came for this organisation's own host name.
    Of(Arc<Organisation>),
    /// The host could not be looked up (the database failed); answered with a 500.
    Unknown(String),
}

/// What the rewriting layer keeps.
#[derive(Clone, Debug)]
struct Hosts {
    state: AppState,
    /// The host of `--public-url`, lower-case: never a clinic's.
    own: Option<String>,
}

/// `app` behind [`rewrite`]: the router the server serves.
pub(crate) fn serve_clinic_hosts(state: AppState, app: Router) -> Router {
    let own = public_host(&state.config.public_url);
    let hosts = Hosts { state, own };
    let rewritten = middleware::from_fn_with_state(hosts, rewrite).layer(app);
    Router::new().fallback_service(rewritten)
}

/// The host of a public URL (`https://Book.Example.com:8443/` → `book.example.com`).
pub(crate) fn public_host(public_url: &str) -> Option<String> {
    let uri: Uri = public_url.parse().ok()?;
    uri.host().map(normalise)
}

/// A host as compared: lower-case, without the dot a fully qualified name may end in.
fn normalise(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The host a request names: the authority of its target (HTTP/2, absolute-form) or
/// its `Host` header, without the port.
fn request_host(request: &Request) -> Option<String> {
    host_named(request.uri(), request.headers())
}

/// [`request_host`] of a request's target and headers, for a handler: a settings change
/// may not claim the host it came in on, which serves every organisation.
pub(crate) fn host_named(uri: &Uri, headers: &axum::http::HeaderMap) -> Option<String> {
    if let Some(authority) = uri.authority() {
        return Some(normalise(authority.host()));
    }
    let value = headers.get(header::HOST)?.to_str().ok()?;
    let authority: axum::http::uri::Authority = value.parse().ok()?;
    Some(normalise(authority.host()))
}

/// Paths every host serves as they are: the API (checked by
/// [`only_its_organisation`]), organisation pages with their prefix (checked too),
/// static files and the probes.
fn kept_as_is(path: &str) -> bool {
    ["/api/", "/o/", "/static/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
        || ["/healthz", "/metrics", "/favicon.ico"].contains(&path)
}

/// The path (and query) a request for `path_and_query` on the host of organisation
/// `slug` is served at: `/` is the portal, any path outside [`kept_as_is`] gets the
/// organisation's prefix, and the rest stays (`None`).
fn rewritten(slug: &str, path_and_query: &str) -> Option<String> {
    let (path, query) = path_and_query
        .split_once('?')
        .map_or((path_and_query, None), |(p, q)| (p, Some(q)));
    if kept_as_is(path) {
        return None;
    }
    let path = if path == "/" || path.is_empty() {
        format!("/o/{slug}/portal")
    } else {
        format!("/o/{slug}{path}")
    };
    Some(match query {
        Some(query) => format!("{path}?{query}"),
        None => path,
    })
}

/// The organisation a path names by slug, as it stands in the path (not decoded):
/// `/o/{slug}/…` or `/api/v1/orgs/{slug}/…`.
fn named_slug(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/o/")
        .or_else(|| path.strip_prefix("/api/v1/orgs/"))?;
    Some(rest.split('/').next().unwrap_or_default())
}

/// Finds the organisation whose own host the request names and serves the request as
/// that organisation's ([`rewritten`]); any other request passes as it came.
async fn rewrite(State(hosts): State<Hosts>, mut request: Request, next: Next) -> Response {
    let Some(host) = request_host(&request) else {
        return next.run(request).await;
    };
    // Only a name an organisation could have asks the database: the server's own host
    // and addresses never do.
    if hosts.own.as_deref() == Some(host.as_str())
        || store::organisation::check_host(&host).is_err()
    {
        return next.run(request).await;
    }
    let found = async {
        let mut conn = hosts.state.db.conn().await?;
        store::organisation::by_host(conn.exec(), &host).await
    }
    .await;
    let org = match found {
        Ok(Some(org)) => org,
        Ok(None) => return next.run(request).await,
        Err(e) => {
            request
                .extensions_mut()
                .insert(ClinicHost::Unknown(e.to_string()));
            return next.run(request).await;
        }
    };
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or("/", PathAndQuery::as_str)
        .to_owned();
    if let Some(new) = rewritten(&org.slug, &path_and_query) {
        let mut parts = request.uri().clone().into_parts();
        match new.parse::<PathAndQuery>() {
            Ok(new) => parts.path_and_query = Some(new),
            // It parsed before it had a prefix of letters, digits and hyphens.
            Err(_) => return StatusCode::BAD_REQUEST.into_response(),
        }
        match Uri::from_parts(parts) {
            Ok(uri) => *request.uri_mut() = uri,
            Err(_) => return StatusCode::BAD_REQUEST.into_response(),
        }
    }
    request
        .extensions_mut()
        .insert(ClinicHost::Of(Arc::new(org)));
    next.run(request).await
}

/// On an organisation's own host, refuses what names another organisation: its pages
/// (`/o/{other}/…`, the HTML 404 page) and its API (`/api/v1/orgs/{other}/…`, the
/// JSON 404). A lookup of the host that failed is a 500.
pub(crate) async fn only_its_organisation(request: Request, next: Next) -> Response {
    let refused = match request.extensions().get::<ClinicHost>() {
        None => None,
        Some(ClinicHost::Unknown(cause)) => Some(AppError::internal(cause)),
        Some(ClinicHost::Of(org)) => named_slug(request.uri().path())
            .filter(|slug| *slug != org.slug)
            .map(|_| AppError::NotFound("organisation".into())),
    };
    match refused {
        None => next.run(request).await,
        Some(e) if request.uri().path().starts_with("/api/") => e.into_response(),
        Some(e) => PageError(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clinic_host_serves_its_organisation_without_the_prefix() {
        let at = |path| rewritten("kits", path);
        assert_eq!(at("/").as_deref(), Some("/o/kits/portal"));
        assert_eq!(
            at("/?welcome=1").as_deref(),
            Some("/o/kits/portal?welcome=1")
        );
        assert_eq!(at("/admin").as_deref(), Some("/o/kits/admin"));
        assert_eq!(
            at("/admin/signin?next=%2Fo%2Fkits%2Fadmin").as_deref(),
            Some("/o/kits/admin/signin?next=%2Fo%2Fkits%2Fadmin")
        );
        assert_eq!(
            at("/portal/book/3").as_deref(),
            Some("/o/kits/portal/book/3")
        );
        // A prefixed page, the API, static files and the probes stay as they are.
        for kept in [
            "/o/kits/portal",
            "/o/other/portal",
            "/api/v1/orgs/kits/session",
            "/api/openapi.json",
            "/static/app.css",
            "/healthz",
            "/metrics",
            "/favicon.ico",
        ] {
            assert_eq!(at(kept), None, "{kept}");
        }
    }

    #[test]
    fn the_organisation_a_path_names_is_read_as_written() {
        assert_eq!(named_slug("/o/kits/admin"), Some("kits"));
        assert_eq!(named_slug("/o/kits"), Some("kits"));
        assert_eq!(named_slug("/o/"), Some(""));
        assert_eq!(named_slug("/api/v1/orgs/other/clinics"), Some("other"));
        // Percent-encoded, it is not the same text, and so not the host's organisation.
        assert_eq!(named_slug("/o/%6bits/admin"), Some("%6bits"));
        assert_eq!(named_slug("/api/openapi.json"), None);
        assert_eq!(named_slug("/static/app.css"), None);
    }

    #[test]
    fn the_public_host_is_compared_in_lower_case_without_its_port() {
        assert_eq!(
            public_host("https://Book.Example.com:8443/").as_deref(),
            Some("book.example.com")
        );
        assert_eq!(
            public_host("http://127.0.0.1:3000").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(normalise("Book.Example.COM."), "book.example.com");
    }
}
