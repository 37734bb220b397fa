//! The "Saved." notice a staff page shows once after a change: set in the session by the
//! handler that saved and redirected (redirect-after-post), taken out of it by the next
//! page's [`Layout`](crate::pages::Layout), which shows it with `role="status"` so screen
//! readers announce it. A page that says more than "Saved." in its own words (a query's
//! `saved=1`) sets none.

use tower_sessions::Session;

use crate::error::AppError;

/// The session key of the notice.
const KEY: &str = "flash";

/// Keeps `message` for the next page of this session.
pub(crate) async fn set(session: &Session, message: &str) -> Result<(), AppError> {
    session
        .insert(KEY, message)
        .await
        .map_err(AppError::internal)
}

/// The notice kept for this page, if any; it is shown once.
pub(crate) async fn take(session: &Session) -> Result<Option<String>, AppError> {
    session
        .remove::<String>(KEY)
        .await
        .map_err(AppError::internal)
}
