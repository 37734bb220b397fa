//! Who is signed in, and how: passwords, sessions, CSRF, and the extractors that give
//! handlers the signed-in staff user (or patient).

pub(crate) mod api_key;
pub(crate) mod csrf;
pub mod password;
pub(crate) mod patient;
pub mod sessions;
pub(crate) mod staff;

use serde::Serialize;
use tower_sessions::Session;

use crate::error::AppError;

/// Signs someone in under `key` (the staff's or the patient's): a new session id first
/// (no fixation), then who they are, and no CSRF token of the old id (the next page
/// makes a fresh one).
async fn begin_session(
    session: &Session,
    key: &str,
    who: impl Serialize + Send,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(AppError::internal)?;
    session.insert(key, who).await.map_err(AppError::internal)?;
    session
        .remove::<String>("csrf")
        .await
        .map_err(AppError::internal)?;
    Ok(())
}

/// Where to go after signing in: `next` when it is a plain path under `prefix` (never
/// another site, never a path with control characters or other than ASCII, which a
/// `Location` header cannot carry as they are, never one whose dot segments would climb out of `prefix`, even
/// percent-encoded), else `fallback`.
pub(crate) fn redirect_after_sign_in(prefix: &str, fallback: &str, next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with(prefix)
                && !n.contains("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && n.is_ascii()
                && stays_put(n) =>
        {
            n.to_owned()
        }
        _ => fallback.to_owned(),
    }
}

/// Whether a path has no dot segment (`.` or `..`) and no percent-encoded dot, slash
/// or backslash in its path part: the browser resolves it to exactly itself.
fn stays_put(next: &str) -> bool {
    let path = next
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    !["%2e", "%2f", "%5c"].iter().any(|e| path.contains(e))
        && !path
            .split('/')
            .any(|segment| segment == "." || segment == "..")
}

#[cfg(test)]
mod tests {
    use super::redirect_after_sign_in;

    #[test]
    fn only_plain_paths_under_the_prefix() {
        let go =
            |next| redirect_after_sign_in("/o/a/portal/", "/o/a/portal/appointments", Some(next));
        assert_eq!(
            go("/o/a/portal/book/3?from=2026-03-02"),
            "/o/a/portal/book/3?from=2026-03-02"
        );
        // Dots are fine where they are not a segment, and anywhere in the query.
        assert_eq!(go("/o/a/portal/v1.2?q=../x"), "/o/a/portal/v1.2?q=../x");
        for bad in [
            "/o/a/portal/x\ny",
            "/o/a/portal/\u{e9}",
            "/o/a/portal/x\ry",
            "/o/a/portal//evil.example",
            "/o/a/portal/\\evil",
            "https://evil.example/o/a/portal/",
            "/o/b/portal/book",
            "/o/a/portal/../../b/portal/book",
            "/o/a/portal/%2e%2e/%2E%2E/b/portal/book",
            "/o/a/portal/x/..",
            "/o/a/portal/./x",
            "/o/a/portal/..%2f..%2fb",
        ] {
            assert_eq!(go(bad), "/o/a/portal/appointments", "{bad:?}");
        }
    }
}
