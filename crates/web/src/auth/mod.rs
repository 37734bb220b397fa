//! Who is signed in, and how: passwords, sessions, CSRF, and the extractors that give
//! handlers the signed-in staff user (or patient).

pub mod csrf;
pub mod password;
pub mod patient;
pub mod sessions;
pub mod staff;
