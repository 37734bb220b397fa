//! Password hashing with Argon2id (the argon2 crate's defaults: m = 19 MiB, t = 2,
//! p = 1, the OWASP recommendation), and the checks a new password must pass.
//!
//! Each hash or verification holds 19 MiB for its duration, and callers run them on
//! tokio's blocking pool (up to 512 threads). So that a burst of sign-ins (a clinic's
//! Monday morning, or someone spreading guesses over many addresses) cannot take
//! gigabytes, at most [`concurrent_limit`] run at once; the rest wait their turn.

use std::sync::{Condvar, Mutex, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// How many hashes or verifications run at once: one per CPU, at least two.
pub(crate) fn concurrent_limit() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

/// The turn-taking of [`concurrent_limit`]: a count of running hashes and a condition
/// variable to wait on when it is full.
struct Turns {
    running: Mutex<usize>,
    freed: Condvar,
}

/// A running hash's turn; dropping it lets the next one in.
struct Turn(&'static Turns);

fn take_turn() -> Turn {
    static TURNS: Turns = Turns {
        running: Mutex::new(0),
        freed: Condvar::new(),
    };
    let limit = concurrent_limit();
    let mut running = TURNS.running.lock().unwrap_or_else(|e| e.into_inner());
    while *running >= limit {
        running = TURNS.freed.wait(running).unwrap_or_else(|e| e.into_inner());
    }
    *running += 1;
    Turn(&TURNS)
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        self.0.freed.notify_one();
    }
}

/// Hashes a password into a PHC string (a random salt is generated). Blocking: call it
/// from `spawn_blocking`.
pub fn hash(password: &str) -> String {
    let _turn = take_turn();
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("hashing with default parameters cannot fail")
        .to_string()
}

/// Whether `password` matches the stored PHC string. A malformed hash never matches.
/// Blocking: call it from `spawn_blocking`.
pub fn verify(password: &str, phc: &str) -> bool {
    let _turn = take_turn();
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Does the work of a verification against a hash that matches nothing, so that a
/// sign-in for an unknown account takes as long as one for a known account.
pub(crate) fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc =
        DUMMY.get_or_init(|| hash("no account has this password: it is never compared as text"));
    let _ = verify(password, phc);
}

/// The shortest password accepted.
pub(crate) const MIN_LENGTH: usize = 10;

/// Checks a new password: at least 10 characters, at most 200, and not easy to guess —
/// zxcvbn's estimate (which knows the common-password lists and tries the person's
/// own email and names) must reach "safely unguessable" (score 3 of 4).
pub(crate) fn check_new(password: &str, personal: &[&str]) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn no_more_than_the_limit_hash_at_once() {
        static INSIDE: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let threads: Vec<_> = (0..4 * concurrent_limit())
            .map(|_| {
                std::thread::spawn(|| {
                    let _turn = take_turn();
                    let now = INSIDE.fetch_add(1, Ordering::SeqCst) + 1;
                    MOST.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    INSIDE.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // Other tests may hold turns meanwhile, so the most seen here can be lower.
        let most = MOST.load(Ordering::SeqCst);
        assert!((1..=concurrent_limit()).contains(&most), "{most} at once");
        assert_eq!(INSIDE.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_hash_verifies_and_a_wrong_password_or_malformed_hash_does_not() {
        let phc = hash("a long enough secret");
        assert!(verify("a long enough secret", &phc));
        assert!(!verify("another secret entirely", &phc));
        assert!(!verify("a long enough secret", "not a phc string"));
    }
}
