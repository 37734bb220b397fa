//! tower-sessions' store, backed by the database through `store::session`. Session ids
//! are kept only as their SHA-256, so a database copy holds no usable session.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::state::AppState;

/// The database-backed session store.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    state: AppState,
}

impl DbSessionStore {
    /// A store over the application's database and clock.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

fn id_hash(id: &Id) -> Vec<u8> {
    Sha256::digest(id.0.to_le_bytes()).to_vec()
}

/// How long a session lives without a request: each request moves its end to this
/// long after it (in the database at most once an hour, so that reading
/// a page rarely writes).
pub const IDLE_LIFETIME: time::Duration = time::Duration::hours(12);

#[allow(clippy::cast_possible_truncation)] // 12 hours of nanoseconds fit an i64
const IDLE_LIFETIME_NS: i64 = IDLE_LIFETIME.whole_nanoseconds() as i64;

/// How stale the stored end of a session may get before a request moves it.
const EXTEND_AFTER_NS: i64 = 3600 * 1_000_000_000;

impl DbSessionStore {
    /// When a session saved or used now ends, by the application's clock (tower-sessions'
    /// own expiry date reads the system clock).
    fn expires_ns(&self) -> i64 {
        self.state.clock.now_ns().saturating_add(IDLE_LIFETIME_NS)
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        // A colliding 128-bit id is astronomically unlikely; draw again if it happens.
        while !store::session::create(
            &self.state.db,
            &id_hash(&record.id),
            &data,
            self.expires_ns(),
        )
        .await
        .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        store::session::save(
            &self.state.db,
            &id_hash(&record.id),
            &data,
            self.expires_ns(),
        )
        .await
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = self.state.clock.now_ns();
        let Some(mut stored) = store::session::load(&self.state.db, &id_hash(id), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let renewed = self.expires_ns();
        if renewed - stored.expires_at_ns > EXTEND_AFTER_NS {
            store::session::extend(&self.state.db, &id_hash(id), renewed)
                .await
                .map_err(backend)?;
            stored.expires_at_ns = renewed;
        }
        let data = serde_json::from_str(&stored.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(stored.expires_at_ns))
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        store::session::delete(&self.state.db, &id_hash(id))
            .await
            .map_err(backend)
    }
}
