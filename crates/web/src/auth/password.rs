//! Password hashing with Argon2id (the argon2 crate's defaults: m = 19 MiB, t = 2,
//! p = 1, the OWASP recommendation), and the checks a new password must pass.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Hashes a password into a PHC string (a random salt is generated).
pub fn hash(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("hashing with default parameters cannot fail")
        .to_string()
}

/// Whether `password` matches the stored PHC string. A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Does the work of a verification against a hash that matches nothing, so that a
/// sign-in for an unknown account takes as long as one for a known account.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc =
        DUMMY.get_or_init(|| hash("no account has this password: it is never compared as text"));
    let _ = verify(password, phc);
}

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 10;

/// Checks a new password: at least 10 characters, at most 200, and not easy to guess —
/// zxcvbn's estimate (which knows the common-password lists and tries the person's
/// own email and names) must reach "safely unguessable" (score 3 of 4).
pub fn check_new(password: &str, personal: &[&str]) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!("use at least {MIN_LENGTH} characters"));
    }
    if length > 200 {
        return Err("use at most 200 characters".to_owned());
    }
    let estimate = zxcvbn::zxcvbn(password, personal);
    if (estimate.score() as u8) < 3 {
        let hint = estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "it is too easy to guess".to_owned());
        return Err(format!(
            "choose a harder password: {}",
            hint.trim_end_matches('.').to_lowercase()
        ));
    }
    Ok(())
}
