//! An organisation's own wording of the emails patients receive: per kind of email, a
//! subject and an intro paragraph (migration 0029). Which kinds there are, their
//! defaults and the placeholders they may use are the web crate's catalogue; the store
//! keeps what an admin saved, and a kind without a row uses the default.

use serde::Serialize;

use crate::db::{Exec, Tx, execute, rows};
use crate::error::{Error, Problems, Result};

/// The longest subject saved, in characters.
pub const SUBJECT_MAX: usize = 200;
/// The longest intro paragraph saved, in characters.
pub const INTRO_MAX: usize = 2_000;

/// One kind's adjusted wording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EmailTemplate {
    /// The kind of email, as the web crate's catalogue names it (`booked`, `reminder`…).
    pub kind: String,
    /// The subject line; may hold the catalogue's placeholders.
    pub subject: String,
    /// The first paragraph after the greeting; may hold the catalogue's placeholders.
    pub intro: String,
    /// When it was last saved, ns since the Unix epoch.
    pub updated_at_ns: i64,
}

/// Every kind the organisation has adjusted.
pub async fn all(exec: Exec<'_>, org: i64) -> Result<Vec<EmailTemplate>> {
    Ok(rows!(
        exec,
        fetch_all,
        EmailTemplate,
        "SELECT kind, subject, intro, updated_at_ns FROM email_templates WHERE org_id = $1 ORDER BY kind",
        org
    )?)
}

/// Checks a wording's lengths: a subject of one line, 1 to [`SUBJECT_MAX`] characters,
/// and an intro of 1 to [`INTRO_MAX`]; every field's problem at once.
pub fn check(subject: &str, intro: &str) -> Result<()> {
    let mut problems = Problems::new();
    let subject = subject.trim();
    if subject.is_empty() || subject.chars().count() > SUBJECT_MAX {
        problems.add(
            "subject",
            format!("Enter a subject (at most {SUBJECT_MAX} characters)."),
        );
    } else if subject.contains(['\r', '\n']) {
        problems.add("subject", "A subject is one line.");
    }
    let intro = intro.trim();
    if intro.is_empty() || intro.chars().count() > INTRO_MAX {
        problems.add(
            "intro",
            format!("Enter an intro paragraph (at most {INTRO_MAX} characters)."),
        );
    }
    problems.done(Some(()))
}

/// Saves a kind's wording (trimmed), replacing what was saved before.
pub async fn set(
    tx: &mut Tx,
    org: i64,
    kind: &str,
    subject: &str,
    intro: &str,
    now_ns: i64,
) -> Result<EmailTemplate> {
    check(subject, intro)?;
    let (subject, intro) = (subject.trim(), intro.trim().replace("\r\n", "\n"));
    execute!(
        tx.exec(),
        "INSERT INTO email_templates (org_id, kind, subject, intro, updated_at_ns) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id, kind) DO UPDATE SET subject = excluded.subject, intro = excluded.intro, \
         updated_at_ns = excluded.updated_at_ns",
        org,
        kind,
        subject,
        &intro,
        now_ns
    )?;
    Ok(EmailTemplate {
        kind: kind.to_owned(),
        subject: subject.to_owned(),
        intro,
        updated_at_ns: now_ns,
    })
}

/// Goes back to the default wording of a kind; whether there was an adjusted one.
pub async fn reset(tx: &mut Tx, org: i64, kind: &str) -> Result<bool> {
    let deleted = execute!(
        tx.exec(),
        "DELETE FROM email_templates WHERE org_id = $1 AND kind = $2",
        org,
        kind
    )?;
    Ok(deleted > 0)
}

/// Refuses a kind the caller's catalogue does not know, naming the field.
pub fn unknown_kind(kind: &str) -> Error {
    Error::invalid(
        "kind",
        format!("There is no kind of email called {kind:?}."),
    )
}
