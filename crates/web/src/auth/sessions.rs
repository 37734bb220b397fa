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

fn expires_ns(record: &Record) -> i64 {
    record
        .expiry_date
        .unix_timestamp_nanos()
        .clamp(0, i128::from(i64::MAX)) as i64
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
            expires_ns(record),
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
            expires_ns(record),
        )
        .await
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = self.state.clock.now_ns();
        let Some(stored) = store::session::load(&self.state.db, &id_hash(id), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
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
