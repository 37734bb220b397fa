//! A patient's own change of email address, proven through the new address.
//!
//! A signed-in patient who gave their current password starts a change ([`start`]): it
//! waits here with a single-use link for the *new* address (24 hours; only the token's
//! SHA-256 is stored). Nothing else changes until the link is followed ([`complete`]):
//! only then do the patient's email and the account's username become the new address.
//! The password stays, since the patient proved it to start the change and proved the
//! address by following the link.
//!
//! A change stops working when a newer one is started, when the account's credentials or
//! address change ([`crate::portal_access::cancel_links`]: a new password, staff-made
//! credentials, staff editing the address), or when its time is up.
//!
//! An address that is another account's username, or that a public sign-up is waiting to
//! prove, cannot be taken. [`start`] tells only its caller (who answers the patient the
//! same either way and tells the address's owner by email, as sign-up does), and
//! [`complete`] checks the username again inside its transaction, since the address may
//! have been taken meanwhile.

use crate::db::{Exec, Tx, execute, rows};
use crate::email::normalise_email;
use crate::error::{Error, Result, unique_as};
use crate::portal_access::{self, PortalAccount, token_hash};

/// How long a change's link works: 24 hours after it was sent.
pub const EMAIL_CHANGE_NS: i64 = 24 * 3_600 * 1_000_000_000;

/// How long a link's row is kept after it expired (so that following it says "expired"
/// rather than "not recognised"); older rows are deleted when the next change starts.
const KEPT_AFTER_EXPIRY_NS: i64 = 7 * 86_400 * 1_000_000_000;

/// A change waiting for its link.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingChange {
    pub id: i64,
    /// The account whose address changes (never the account of whoever follows the link).
    pub account_id: i64,
    /// The new address, in its normal form.
    pub new_email: String,
    /// When the link was sent, ns since the Unix epoch.
    pub created_at_ns: i64,
    /// Until when it works (it has expired at this instant).
    pub expires_at_ns: i64,
    used_at_ns: Option<i64>,
    cancelled_at_ns: Option<i64>,
}

const COLUMNS: &str =
    "id, account_id, new_email, created_at_ns, expires_at_ns, used_at_ns, cancelled_at_ns";

/// What [`start`] recorded, which decides the email the new address gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Started {
    /// The address is free: send it the link.
    Link,
    /// Another account signs in with the address, or a sign-up waits for it: the link
    /// is never sent (the change waits until it expires, like any other, so that the
    /// patient's pages look the same either way); tell the address's owner instead.
    Taken,
}

/// Starts a change of the account's address to `new_email`: cancels the account's
/// change still waiting, if any, and records this one with its link token (the plain
/// token goes in the email). The caller checked the patient's current password.
///
/// Refused (naming `email`) when the address is not one, or is the patient's already.
pub async fn start(
    tx: &mut Tx,
    org: i64,
    account: &PortalAccount,
    new_email: &str,
    token: &str,
    now_ns: i64,
) -> Result<Started> {
    let new_email = normalise_email(new_email)?;
    let patient = crate::patient::get(tx.exec(), org, account.patient_id).await?;
    if normalise_email(&patient.email).is_ok_and(|current| current == new_email) {
        return Err(Error::invalid("email", "is already your email address"));
    }
    execute!(
        tx.exec(),
        "DELETE FROM portal_email_changes WHERE org_id = $1 AND expires_at_ns <= $2",
        org,
        now_ns - KEPT_AFTER_EXPIRY_NS
    )?;
    cancel_waiting(tx, org, account.id, now_ns).await?;
    let named = portal_access::by_username(tx.exec(), org, &new_email).await?;
    let taken = named.is_some_and(|other| other.id != account.id)
        || crate::portal_signup::waiting(tx.exec(), org, &new_email, now_ns).await?;
    execute!(
        tx.exec(),
        "INSERT INTO portal_email_changes (org_id, account_id, new_email, token_hash, created_at_ns, expires_at_ns) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        org,
        account.id,
        &new_email,
        token_hash(token),
        now_ns,
        now_ns + EMAIL_CHANGE_NS
    )?;
    Ok(if taken { Started::Taken } else { Started::Link })
}

/// Cancels the account's change still waiting, if any.
async fn cancel_waiting(tx: &mut Tx, org: i64, account: i64, now_ns: i64) -> Result<()> {
    execute!(
        tx.exec(),
        "UPDATE portal_email_changes SET cancelled_at_ns = $3 WHERE org_id = $1 AND account_id = $2 \
         AND used_at_ns IS NULL AND cancelled_at_ns IS NULL",
        org,
        account,
        now_ns
    )?;
    Ok(())
}

/// The account's change waiting for its link, if any (the latest, unused, not
/// cancelled, not expired).
pub async fn waiting(
    exec: Exec<'_>,
    org: i64,
    account: i64,
    now_ns: i64,
) -> Result<Option<PendingChange>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM portal_email_changes WHERE org_id = $1 AND account_id = $2 \
         AND used_at_ns IS NULL AND cancelled_at_ns IS NULL AND expires_at_ns > $3 \
         ORDER BY created_at_ns DESC, id DESC LIMIT 1"
    );
    Ok(rows!(
        exec,
        fetch_optional,
        PendingChange,
        &sql,
        org,
        account,
        now_ns
    )?)
}

/// What a change's link turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// It works: the change it confirms.
    Valid(PendingChange),
    /// It was followed already.
    Used,
    /// A newer change was started, or the account's password or address changed since.
    Cancelled,
    /// Its time is up.
    Expired,
    /// No change of the organisation has this token (mistyped, cut short, or long gone).
    Unknown,
}

/// Looks a link up without using it. A link works while `now < expires`.
pub async fn inspect(exec: Exec<'_>, org: i64, token: &str, now_ns: i64) -> Result<LinkState> {
    let sql =
        format!("SELECT {COLUMNS} FROM portal_email_changes WHERE org_id = $1 AND token_hash = $2");
    let found = rows!(
        exec,
        fetch_optional,
        PendingChange,
        &sql,
        org,
        token_hash(token)
    )?;
    Ok(match found {
        None => LinkState::Unknown,
        Some(c) if c.used_at_ns.is_some() => LinkState::Used,
        Some(c) if c.cancelled_at_ns.is_some() => LinkState::Cancelled,
        Some(c) if now_ns >= c.expires_at_ns => LinkState::Expired,
        Some(c) => LinkState::Valid(c),
    })
}

/// A change that took effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailChanged {
    /// The account, with its new username.
    pub account: PortalAccount,
    /// The address before: it is told of the change.
    pub old_email: String,
    /// The address now, the patient's email and the account's username.
    pub new_email: String,
}

/// What following a link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completion {
    /// The patient's email and the account's username are the new address.
    Changed(EmailChanged),
    /// Another account has come to sign in with the address since the change started:
    /// the link is spent and nothing else changed.
    AddressTaken,
    /// The link does not work (used, cancelled, expired or unknown): nothing changed.
    NotValid(LinkState),
}

/// Follows a change's link, in the caller's transaction: marks it used, and makes the new
/// address the patient's email and the account's username (a username staff chose is
/// replaced too: the address is how the patient signs in from now on). Every other
/// link of the account stops working: reset and invitation links went to the old
/// address. Everything is decided again here, from what the database holds now.
///
/// Only the account the link was sent for changes, whoever follows it: the caller
/// decides who may (the patient signed in, or someone who gives its password).
pub async fn complete(tx: &mut Tx, org: i64, token: &str, now_ns: i64) -> Result<Completion> {
    let change = match inspect(tx.exec(), org, token, now_ns).await? {
        LinkState::Valid(change) => change,
        other => return Ok(Completion::NotValid(other)),
    };
    let n = execute!(
        tx.exec(),
        "UPDATE portal_email_changes SET used_at_ns = $3 WHERE org_id = $1 AND id = $2 \
         AND used_at_ns IS NULL AND cancelled_at_ns IS NULL",
        org,
        change.id,
        now_ns
    )?;
    if n == 0 {
        return Ok(Completion::NotValid(LinkState::Used));
    }
    let account = portal_access::get(tx.exec(), org, change.account_id).await?;
    let named = portal_access::by_username(tx.exec(), org, &change.new_email).await?;
    if named.is_some_and(|other| other.id != account.id) {
        return Ok(Completion::AddressTaken);
    }
    let patient = crate::patient::get(tx.exec(), org, account.patient_id).await?;
    execute!(
        tx.exec(),
        "UPDATE patients SET email = $3 WHERE org_id = $1 AND id = $2",
        org,
        patient.id,
        &change.new_email
    )?;
    let sql = format!(
        "UPDATE portal_accounts SET username = $3 WHERE org_id = $1 AND id = $2 RETURNING {}",
        portal_access::COLUMNS
    );
    let account = rows!(
        tx.exec(),
        fetch_one,
        PortalAccount,
        &sql,
        org,
        account.id,
        &change.new_email
    )
    .map_err(unique_as(
        "email",
        "another account already uses this address",
    ))?;
    portal_access::cancel_links(tx, org, account.id, now_ns).await?;
    Ok(Completion::Changed(EmailChanged {
        account,
        old_email: patient.email,
        new_email: change.new_email,
    }))
}
