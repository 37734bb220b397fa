//! Connections to SQLite or PostgreSQL, transactions, and the macros that run one SQL
//! text on either backend.
//!
//! SQL is written once with `$1, $2, …` placeholders (which sqlx's SQLite driver binds
//! by number too) in the dialect both databases share; the few statements that differ
//! branch on [`Backend`]. Rows decode into `#[derive(FromRow)]` structs of `i64`,
//! `String`, `bool` and `Option`s of those, which both drivers understand, and of
//! enums kept as text (declared with `text_enum!`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::error::Result;

/// Runs `sqlx::query_as::<_, $ty>($sql).bind(…)…` with `$method` (`fetch_all`,
/// `fetch_one`, `fetch_optional`) on an [`Exec`].
macro_rules! rows {
    ($exec:expr, $method:ident, $ty:ty, $sql:expr $(, $bind:expr)* $(,)?) => {
        match $exec {
            $crate::db::Exec::Sqlite(c) => {
                sqlx::query_as::<_, $ty>($sql)$(.bind($bind))*.$method(&mut *c).await
            }
            $crate::db::Exec::Postgres(c) => {
                let sql = $sql;
                $crate::statement_log::record(sql);
                sqlx::query_as::<_, $ty>(sql)$(.bind($bind))*.$method(&mut *c).await
            }
        }
    };
}

/// Runs a statement on an [`Exec`] and returns the number of rows it affected.
macro_rules! execute {
    ($exec:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        match $exec {
            $crate::db::Exec::Sqlite(c) => {
                sqlx::query($sql)$(.bind($bind))*.execute(&mut *c).await.map(|r| r.rows_affected())
            }
            $crate::db::Exec::Postgres(c) => {
                let sql = $sql;
                $crate::statement_log::record(sql);
                sqlx::query(sql)$(.bind($bind))*.execute(&mut *c).await.map(|r| r.rows_affected())
            }
        }
    };
}

/// Runs a query returning one value of type `$ty` on an [`Exec`].
macro_rules! scalar {
    ($exec:expr, $ty:ty, $sql:expr $(, $bind:expr)* $(,)?) => {
        match $exec {
            $crate::db::Exec::Sqlite(c) => {
                sqlx::query_scalar::<_, $ty>($sql)$(.bind($bind))*.fetch_one(&mut *c).await
            }
            $crate::db::Exec::Postgres(c) => {
                let sql = $sql;
                $crate::statement_log::record(sql);
                sqlx::query_scalar::<_, $ty>(sql)$(.bind($bind))*.fetch_one(&mut *c).await
            }
        }
    };
}

/// Like [`scalar!`], for a query that may return no row.
macro_rules! scalar_optional {
    ($exec:expr, $ty:ty, $sql:expr $(, $bind:expr)* $(,)?) => {
        match $exec {
            $crate::db::Exec::Sqlite(c) => {
                sqlx::query_scalar::<_, $ty>($sql)$(.bind($bind))*.fetch_optional(&mut *c).await
            }
            $crate::db::Exec::Postgres(c) => {
                let sql = $sql;
                $crate::statement_log::record(sql);
                sqlx::query_scalar::<_, $ty>(sql)$(.bind($bind))*.fetch_optional(&mut *c).await
            }
        }
    };
}

/// Declares an enum kept in a text column: `as_str` (the stored and the JSON spelling,
/// which serde also uses), `Display`, `FromStr`, and sqlx's `Type` and `Decode` on
/// either backend, so that a row's text becomes the enum once, as the row is read, and
/// a text the enum does not know fails that read.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $field:literal {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
        $vis enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in the order declared.
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The stored spelling, which JSON shows too.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::Error;

            fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
                match text {
                    $( $text => Ok($name::$variant), )+
                    other => Err($crate::error::Error::invalid(
                        $field,
                        format!("{other:?} is not a known {}", $field),
                    )),
                }
            }
        }

        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> std::result::Result<Self, sqlx::error::BoxDynError> {
                Ok(<&'r str as sqlx::Decode<'r, DB>>::decode(value)?.parse()?)
            }
        }
    };
}

pub(crate) use {execute, rows, scalar, scalar_optional, text_enum};

/// Which database a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (the default): one server instance.
    Sqlite,
    /// PostgreSQL: any number of server instances.
    Postgres,
}

/// A connection pool to the database, with the schema migrated.
#[derive(Clone, Debug)]
pub struct Db {
    pools: Pools,
    /// Told how long each [`Db::conn`] and [`Db::begin`] waited ([`Db::observed`]).
    observer: Observer,
}

/// One of the database's connection pools, as `/metrics` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolName {
    /// SQLite's pool of readers ([`Db::conn`]).
    SqliteRead,
    /// SQLite's one writer ([`Db::begin`]).
    SqliteWrite,
    /// PostgreSQL's one pool, for reads and transactions.
    Postgres,
}

impl PoolName {
    /// `sqlite_read`, `sqlite_write` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolName::SqliteRead => "sqlite_read",
            PoolName::SqliteWrite => "sqlite_write",
            PoolName::Postgres => "postgres",
        }
    }
}

/// What a pool holds now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStatus {
    /// Which pool.
    pub pool: PoolName,
    /// Connections open (idle or in use).
    pub size: u32,
    /// Open connections waiting in the pool.
    pub idle: u32,
    /// The most it opens.
    pub max: u32,
}

impl PoolStatus {
    /// Connections handed out and not yet returned.
    pub fn in_use(&self) -> u32 {
        self.size.saturating_sub(self.idle)
    }
}

/// A function told how long a caller waited for a connection of a pool.
pub type AcquireObserver = Arc<dyn Fn(PoolName, Duration) + Send + Sync>;

#[derive(Clone, Default)]
struct Observer(Option<AcquireObserver>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Observer(Some)"
        } else {
            "Observer(None)"
        })
    }
}

impl Observer {
    fn waited(&self, pool: PoolName, since: Instant) {
        if let Some(f) = &self.0 {
            f(pool, since.elapsed());
        }
    }
}

#[derive(Clone, Debug)]
enum Pools {
    /// SQLite allows one writer at a time, so writes go through a one-connection pool:
    /// they queue fairly in the pool instead of spinning on the database lock.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// An open transaction on either backend; dropped without [`Tx::commit`], it rolls
/// back.
#[derive(Debug)]
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A pooled connection for reads.
#[derive(Debug)]
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// Something to run a statement on: a transaction's or a pooled connection.
#[derive(Debug)]
pub enum Exec<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Exec<'_> {
    /// The same connection, borrowed again for one more statement.
    pub fn reborrow(&mut self) -> Exec<'_> {
        match self {
            Exec::Sqlite(c) => Exec::Sqlite(c),
            Exec::Postgres(c) => Exec::Postgres(c),
        }
    }

    /// `column IN (…the JSON array of ids bound at $param…)` in this backend's dialect.
    ///
    /// On PostgreSQL the list is read into an array once per statement (an `InitPlan`):
    /// written as `IN (SELECT …)`, the planner may join it in a nested loop that parses
    /// the JSON again for every row it scans, which was most of a slot query's database
    /// time.
    pub(crate) fn in_json_list(&self, column: &str, param: usize) -> String {
        match self {
            Exec::Sqlite(_) => format!("{column} IN (SELECT value FROM json_each(${param}))"),
            Exec::Postgres(_) => format!(
                "{column} = ANY(ARRAY(SELECT jsonb_array_elements_text(${param}::jsonb)::bigint))"
            ),
        }
    }

    /// The backend behind it.
    pub fn backend(&self) -> Backend {
        match self {
            Exec::Sqlite(_) => Backend::Sqlite,
            Exec::Postgres(_) => Backend::Postgres,
        }
    }

    /// Whether it runs inside a transaction (a [`Tx`]'s), rather than one statement
    /// at a time.
    pub(crate) fn in_transaction(&self) -> bool {
        use sqlx::Connection;
        match self {
            Exec::Sqlite(c) => c.is_in_transaction(),
            Exec::Postgres(c) => c.is_in_transaction(),
        }
    }
}

impl Tx {
    /// The transaction as an [`Exec`], for the functions that read or write in it.
    pub fn exec(&mut self) -> Exec<'_> {
        match self {
            Tx::Sqlite(tx) => Exec::Sqlite(&mut *tx),
            Tx::Postgres(tx) => Exec::Postgres(&mut *tx),
        }
    }

    /// Commits, which releases the transaction's locks (SQLite's write lock,
    /// PostgreSQL's row locks).
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// The backend, for the few statements whose SQL differs between the two.
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
}

impl Conn {
    /// The connection as an [`Exec`], for reads outside any transaction.
    pub fn exec(&mut self) -> Exec<'_> {
        match self {
            Conn::Sqlite(c) => Exec::Sqlite(&mut *c),
            Conn::Postgres(c) => Exec::Postgres(&mut *c),
        }
    }
}

/// The default database: an SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://openslot.db";

impl Db {
    /// Connects to `url` (`sqlite://FILE`, `sqlite::memory:`, or `postgres://…`),
    /// creating an SQLite file if it does not exist, and migrates the schema.
    pub async fn connect(url: &str) -> Result<Db> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?;
            Db {
                pools: Pools::Postgres(pool),
                observer: Observer::default(),
            }
        } else {
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .journal_mode(if memory {
                    SqliteJournalMode::Memory
                } else {
                    SqliteJournalMode::Wal
                })
                .synchronous(SqliteSynchronous::Normal);
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(options.clone())
                .await?;
            // An in-memory database exists only on its one connection.
            let read = if memory {
                write.clone()
            } else {
                SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options.read_only(false))
                    .await?
            };
            Db {
                pools: Pools::Sqlite { read, write },
                observer: Observer::default(),
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<()> {
        match &self.pools {
            Pools::Sqlite { write, .. } => sqlx::migrate!("migrations/sqlite").run(write).await?,
            Pools::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// The backend the URL named.
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so its reads and writes see one state and nothing else
    /// writes in between; on PostgreSQL callers lock the rows they depend on, then read.
    ///
    /// Lock-then-read is right only under READ COMMITTED, where each statement sees
    /// what committed before it began: under REPEATABLE READ the snapshot is taken by
    /// the first statement, the lock, before the lock is granted, so a booking would
    /// decide on a state without the booking it waited for and overbook. The level is
    /// therefore set here, whatever the server's `default_transaction_isolation`.
    ///
    /// The observer ([`Db::observed`]) is told the time to get the connection and
    /// begin (on SQLite, the wait for the write lock; on PostgreSQL, for a free
    /// connection, and the `BEGIN`'s round trip).
    pub async fn begin(&self) -> Result<Tx> {
        let since = Instant::now();
        Ok(match &self.pools {
            Pools::Sqlite { write, .. } => {
                let tx = write.begin_with("BEGIN IMMEDIATE").await?;
                self.observer.waited(PoolName::SqliteWrite, since);
                Tx::Sqlite(tx)
            }
            Pools::Postgres(pool) => {
                let tx = pool
                    .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
                    .await?;
                self.observer.waited(PoolName::Postgres, since);
                Tx::Postgres(tx)
            }
        })
    }

    /// A connection for reads; the observer is told how long it took to get.
    pub async fn conn(&self) -> Result<Conn> {
        let since = Instant::now();
        Ok(match &self.pools {
            Pools::Sqlite { read, .. } => {
                let c = read.acquire().await?;
                self.observer.waited(PoolName::SqliteRead, since);
                Conn::Sqlite(c)
            }
            Pools::Postgres(pool) => {
                let c = pool.acquire().await?;
                self.observer.waited(PoolName::Postgres, since);
                Conn::Postgres(c)
            }
        })
    }

    /// The same database, telling `observer` how long every [`Db::conn`] and
    /// [`Db::begin`] waited for its connection (for `/metrics`).
    pub fn observed(mut self, observer: AcquireObserver) -> Db {
        self.observer = Observer(Some(observer));
        self
    }

    /// What each pool holds now. An in-memory SQLite database has one pool, its writer,
    /// which also reads.
    pub fn pool_status(&self) -> Vec<PoolStatus> {
        fn status<DB: sqlx::Database>(pool: PoolName, p: &sqlx::Pool<DB>) -> PoolStatus {
            PoolStatus {
                pool,
                size: p.size(),
                idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
                max: p.options().get_max_connections(),
            }
        }
        match &self.pools {
            // In memory, the reader is the writer (`Db::connect`).
            Pools::Sqlite { read, write } if read.options().get_max_connections() == 1 => {
                vec![status(PoolName::SqliteWrite, write)]
            }
            Pools::Sqlite { read, write } => vec![
                status(PoolName::SqliteRead, read),
                status(PoolName::SqliteWrite, write),
            ],
            Pools::Postgres(pool) => vec![status(PoolName::Postgres, pool)],
        }
    }

    /// Closes every connection, waiting for those in use to be returned; any later
    /// [`Db::conn`] or [`Db::begin`] fails.
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn().await?;
        scalar!(conn.exec(), i64, "SELECT CAST(1 AS BIGINT)")?;
        Ok(())
    }
}
