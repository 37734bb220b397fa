//! The append-only audit log: who created, changed, cancelled or overrode what, when.
//! The schema refuses updates and deletes of its rows.
//!
//! [`record`] appends an entry in the transaction of the change it describes; [`page`]
//! reads the log a page at a time, newest first, with a keyset on the entry's id (so a
//! page's next page stays the same however many entries are added meanwhile), and
//! [`person_names`] gives the names of the people a page's entries name.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::db::{Exec, Tx, execute, rows};
use crate::error::Result;

/// One action by one actor, as [`record`] stored it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Entry {
    /// Row id; it increases with every entry, so it orders the log (see [`recent`]).
    pub id: i64,
    /// When (ns since the Unix epoch).
    pub at_ns: i64,
    /// Who: `staff:3`, `patient:12`, `import`, `system`.
    pub actor: String,
    /// What: `appointment.book`, `appointment.override`, `schedule_type.update`, …
    pub action: String,
    /// The kind of thing changed: `appointment`, `service`, `staff`, `organisation`, …
    pub entity: String,
    /// The changed row's id in `entity`'s table; `None` when the action names no one row.
    pub entity_id: Option<i64>,
    /// Details, as JSON text. An update's carry the fields as saved and, under
    /// `"before"`, the same fields as they were.
    pub details: String,
}

/// Who acts, as the log names them: a staff user, a patient in the portal, or an API key.
/// Anything else that acts (`system` for the command line, `import`) is no person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A staff user.
    Staff(i64),
    /// A patient in the portal.
    Patient(i64),
    /// Another system, through an API key (issue 18); the log names the key.
    ApiKey(i64),
}

impl Actor {
    /// `staff:3`, `patient:12`: how the log stores the actor.
    pub fn label(self) -> String {
        match self {
            Actor::Staff(id) => format!("staff:{id}"),
            Actor::Patient(id) => format!("patient:{id}"),
            Actor::ApiKey(id) => format!("key:{id}"),
        }
    }

    /// The staff user, when a staff user acts.
    pub fn staff_id(self) -> Option<i64> {
        match self {
            Actor::Staff(id) => Some(id),
            Actor::Patient(_) | Actor::ApiKey(_) => None,
        }
    }

    /// The person a stored actor names, if it names one: [`Actor::label`] read back.
    pub fn parse(label: &str) -> Option<Actor> {
        let (kind, id) = label.split_once(':')?;
        // Only the plain decimal form `label` writes: no sign, no leading zero.
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || id.starts_with('0') {
            return None;
        }
        let id = id.parse().ok()?;
        match kind {
            "staff" => Some(Actor::Staff(id)),
            "patient" => Some(Actor::Patient(id)),
            "key" => Some(Actor::ApiKey(id)),
            _ => None,
        }
    }
}

/// Appends an entry in the caller's transaction, so it commits with the change, and
/// queues the webhook event the change is, if any ([`crate::webhook_event::queue`]):
/// every change passes here, whoever makes it.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &mut Tx,
    org: i64,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    details: serde_json::Value,
    at_ns: i64,
) -> Result<()> {
    let change = crate::webhook_event::Change {
        actor,
        action,
        entity,
        entity_id,
        details: &details,
        at_ns,
    };
    if tx.backend() == crate::Backend::Postgres {
        // One round trip on PostgreSQL: the entry, and the endpoints its event may go to.
        let subscribers = rows!(
            tx.exec(),
            fetch_all,
            crate::webhook_event::Subscriber,
            "WITH entry AS (INSERT INTO audit_log (org_id, at_ns, actor, action, entity, entity_id, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)) \
             SELECT id, events, include_health_details FROM webhook_endpoints \
             WHERE org_id = $1 AND enabled ORDER BY id",
            org,
            at_ns,
            actor,
            action,
            entity,
            entity_id,
            details.to_string()
        )?;
        return crate::webhook_event::queue_to(tx, org, &change, subscribers).await;
    }
    execute!(
        tx.exec(),
        "INSERT INTO audit_log (org_id, at_ns, actor, action, entity, entity_id, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        org,
        at_ns,
        actor,
        action,
        entity,
        entity_id,
        details.to_string()
    )?;
    crate::webhook_event::queue(tx, org, actor, action, entity, entity_id, &details, at_ns).await?;
    Ok(())
}

/// The latest `limit` entries, newest first, optionally about one entity.
pub async fn recent(
    exec: Exec<'_>,
    org: i64,
    entity: Option<(&str, i64)>,
    limit: i64,
) -> Result<Vec<Entry>> {
    let (kind, id) = entity.map_or(("", -1), |(k, i)| (k, i));
    Ok(rows!(
        exec,
        fetch_all,
        Entry,
        "SELECT id, at_ns, actor, action, entity, entity_id, details FROM audit_log \
         WHERE org_id = $1 AND ($2 = '' OR (entity = $2 AND entity_id = $3)) \
         ORDER BY id DESC LIMIT $4",
        org,
        kind,
        id,
        limit
    )?)
}

/// Which entries a page of the log shows: each `Some` narrows it, `None` lets every
/// entry through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Who, exactly as stored: `staff:3`, `patient:12`, `system`, `import`.
    pub actor: Option<String>,
    /// The kind of thing changed: `clinic`, `appointment`, …
    pub entity: Option<String>,
    /// The action: `clinic.update`, …
    pub action: Option<String>,
    /// From this instant on (ns since the Unix epoch, inclusive).
    pub from_ns: Option<i64>,
    /// Before this instant (ns since the Unix epoch, exclusive).
    pub until_ns: Option<i64>,
}

/// One page of the log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The entries, newest (highest id) first.
    pub entries: Vec<Entry>,
    /// The `before` that reads the next, older page: the id of this page's last entry,
    /// when older entries pass the filter; `None` on the last page.
    pub next_before: Option<i64>,
}

/// The most entries one [`page`] holds.
pub const MAX_PAGE: i64 = 200;

/// Runs the page's query, built for its filter, on one backend's connection.
macro_rules! page_query {
    ($conn:expr, $db:ty, $org:expr, $filter:expr, $before:expr, $limit:expr) => {{
        let mut query = sqlx::QueryBuilder::<$db>::new(
            "SELECT id, at_ns, actor, action, entity, entity_id, details FROM audit_log \
             WHERE org_id = ",
        );
        query.push_bind($org);
        // Only the conditions the filter has, so that each uses its index
        // (migration 0018) instead of an `(… IS NULL OR …)` no index serves.
        if let Some(actor) = &$filter.actor {
            query.push(" AND actor = ").push_bind(actor.clone());
        }
        if let Some(entity) = &$filter.entity {
            query.push(" AND entity = ").push_bind(entity.clone());
        }
        if let Some(action) = &$filter.action {
            query.push(" AND action = ").push_bind(action.clone());
        }
        if let Some(from) = $filter.from_ns {
            query.push(" AND at_ns >= ").push_bind(from);
        }
        if let Some(until) = $filter.until_ns {
            query.push(" AND at_ns < ").push_bind(until);
        }
        if let Some(before) = $before {
            query.push(" AND id < ").push_bind(before);
        }
        query.push(" ORDER BY id DESC LIMIT ").push_bind($limit);
        if <$db as sqlx::Database>::NAME == "PostgreSQL" {
            $crate::statement_log::record(query.sql());
        }
        query
            .build_query_as::<Entry>()
            .fetch_all(&mut *$conn)
            .await?
    }};
}

/// The newest `limit` entries (1 ..= [`MAX_PAGE`]) that pass `filter` and, when
/// `before` is given, whose id is below it: the page after the one whose
/// [`Page::next_before`] it is. Entries added meanwhile have higher ids, so they never
/// push an entry onto a later page twice or off it.
pub async fn page(
    exec: Exec<'_>,
    org: i64,
    filter: &Filter,
    before: Option<i64>,
    limit: i64,
) -> Result<Page> {
    let limit = limit.clamp(1, MAX_PAGE);
    // One more than the page holds, to know whether an older page follows.
    let asked = limit + 1;
    let mut entries = match exec {
        Exec::Sqlite(c) => page_query!(c, sqlx::Sqlite, org, filter, before, asked),
        Exec::Postgres(c) => page_query!(c, sqlx::Postgres, org, filter, before, asked),
    };
    let full = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_before = if entries.len() > full {
        entries.truncate(full);
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Page {
        entries,
        next_before,
    })
}

/// An id and a name, read from a row.
#[derive(sqlx::FromRow)]
struct Named {
    id: i64,
    name: String,
}

/// The names of `people` in the organisation: a staff user's name, a patient's first
/// and last name. Someone no longer there (or never of this organisation) is not in
/// the answer.
pub async fn person_names(
    exec: &mut Exec<'_>,
    org: i64,
    people: impl IntoIterator<Item = Actor>,
) -> Result<HashMap<Actor, String>> {
    let mut staff = BTreeSet::new();
    let mut patients = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for person in people {
        match person {
            Actor::Staff(id) => staff.insert(id),
            Actor::Patient(id) => patients.insert(id),
            Actor::ApiKey(id) => keys.insert(id),
        };
    }
    let mut names = HashMap::new();
    let lists = [
        (
            staff,
            "SELECT id, name FROM staff_users",
            Actor::Staff as fn(i64) -> Actor,
        ),
        (
            patients,
            "SELECT id, first_name || ' ' || last_name AS name FROM patients",
            Actor::Patient,
        ),
        (
            keys,
            "SELECT id, 'API key ' || name AS name FROM api_keys",
            Actor::ApiKey,
        ),
    ];
    for (ids, select, person) in lists {
        if ids.is_empty() {
            continue;
        }
        let ids = serde_json::to_string(&ids).expect("ids serialize");
        let sql = format!(
            "{select} WHERE org_id = $1 AND {}",
            exec.in_json_list("id", 2)
        );
        for row in rows!(exec.reborrow(), fetch_all, Named, &sql, org, &ids)? {
            names.insert(person(row.id), row.name);
        }
    }
    Ok(names)
}
