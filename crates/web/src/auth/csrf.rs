//! CSRF protection, two layers deep.
//!
//! 1. `tower_http::csrf::CsrfLayer` refuses cross-site requests that change state (by
//!    `Sec-Fetch-Site` / `Origin`), and the session cookie is `SameSite=Lax`.
//! 2. Every form carries a token bound to the session (`_csrf`), and every JSON API
//!    call that changes state sends it as `X-CSRF-Token`; both are compared in constant
//!    time. Clients without a browser's headers are covered by the token.

use base64::Engine;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::error::AppError;

const KEY: &str = "csrf";

/// The session's token, created on first use.
pub(crate) async fn token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session
        .get::<String>(KEY)
        .await
        .map_err(AppError::internal)?
    {
        return Ok(token);
    }
    let token = random_token();
    session
        .insert(KEY, &token)
        .await
        .map_err(AppError::internal)?;
    Ok(token)
}

/// 32 random bytes from the operating system, base64url.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks a submitted token against the session's.
pub(crate) async fn verify(session: &Session, submitted: Option<&str>) -> Result<(), AppError> {
    let expected = session
        .get::<String>(KEY)
        .await
        .map_err(AppError::internal)?;
    match (expected, submitted) {
        (Some(expected), Some(submitted))
            if bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) =>
        {
            Ok(())
        }
        _ => Err(refused()),
    }
}

/// Whether the session holds a token at all (a form post from a session without one
/// is refused before its body is read).
pub(crate) async fn issued(session: &Session) -> Result<bool, AppError> {
    Ok(session
        .get::<String>(KEY)
        .await
        .map_err(AppError::internal)?
        .is_some())
}

/// The refusal of a request without the session's token.
pub(crate) fn refused() -> AppError {
    AppError::Forbidden(
        "the form has expired or was not sent from this site; reload the page and try again".into(),
    )
}
