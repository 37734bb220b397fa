//! (filled in by the setup pages work)
