//! The audit log: the admin page that lists who changed what and when, and its API.
//!
//! Admins only. Entries come newest first, a page at a time: `before` is the id the
//! previous page ended at (`next_before`), so paging is stable however many entries are
//! added meanwhile. Filters: a person (`actor`: `staff:ID`, `patient:ID`, `system`,
//! `import`), a kind of thing (`entity`) or an action (`action`), and a range of dates
//! (`from`, `to`, inclusive) in the organisation's zone. Each entry says who (by name),
//! when (in the organisation's zone, labelled when its clinics span zones), what, and
//! what changed in words (`audit_text`); an entry about an appointment links to that
//! appointment's history.

use crate::auth::staff::Caller;
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use store::audit::{self, Actor, Entry, Filter};
use store::staff::StaffUser;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit_text::{self, ACTIONS, KINDS, Line, Names};
use crate::auth::staff::{StaffApi, StaffPage};
use crate::clinic_time::{OrgZone, local_ns, parse_date, rfc3339};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, PageQuery, QueryParams};
use crate::pages::Layout;
use crate::state::AppState;

/// Entries on a page unless `limit` says otherwise.
const DEFAULT_LIMIT: i64 = 50;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new().route("/o/{slug}/admin/audit", get(page))
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The filters and paging, as sent: every one optional, each checked by [`check`] so
/// that a bad one is refused naming it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditParams {
    actor: Option<String>,
    entity: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
    limit: Option<String>,
}

impl AuditParams {
    /// A parameter as sent, trimmed ("" when absent).
    fn text(value: Option<&String>) -> String {
        value.map(|v| v.trim().to_owned()).unwrap_or_default()
    }
}

/// The filters and paging, checked.
#[derive(Debug)]
struct Checked {
    filter: Filter,
    before: Option<i64>,
    limit: i64,
}

/// What the page and the API read of the organisation to tell its log: the zone, the
/// names of its rows, and its staff (for the person filter).
#[derive(Debug)]
struct Context {
    zone: OrgZone,
    names: Names,
    staff: Vec<StaffUser>,
}

async fn context(state: &AppState, staff: &Caller) -> Result<Context, AppError> {
    let org = staff.org.id;
    let mut conn = state.db.conn().await?;
    let clinics = store::clinic::all(conn.exec(), org).await?;
    let mut names = Names::default();
    for c in &clinics {
        names.add("clinic", c.id, &c.name);
    }
    for t in store::practitioner_type::all(conn.exec(), org).await? {
        names.add("practitioner_type", t.id, t.name);
    }
    for p in store::practitioner::all(conn.exec(), org).await? {
        names.add("practitioner", p.id, p.name);
    }
    for t in store::schedule_type::all(conn.exec(), org).await? {
        names.add("schedule_type", t.id, t.name);
    }
    for s in store::service::all(conn.exec(), org).await? {
        names.add("service", s.id, s.name);
    }
    for r in store::resource::all(conn.exec(), org).await? {
        names.add("resource", r.id, r.name);
    }
    // Keys are never deleted: a revoked one keeps its name.
    for k in store::api_key::all(conn.exec(), org).await? {
        names.add("api_key", k.id, k.name);
    }
    let staff_users = store::staff::all(conn.exec(), org).await?;
    for u in &staff_users {
        names.add("staff", u.id, &u.name);
    }
    Ok(Context {
        zone: OrgZone::of(&clinics),
        names,
        staff: staff_users,
    })
}

/// Checks every filter and paging parameter; the errors name their fields.
async fn check(
    state: &AppState,
    staff: &Caller,
    context: &Context,
    params: &AuditParams,
) -> Result<Result<Checked, FieldErrors>, AppError> {
    let mut errors = FieldErrors::new();
    let mut filter = Filter::default();
    let actor = AuditParams::text(params.actor.as_ref());
    if !actor.is_empty() {
        match Actor::parse(&actor) {
            _ if actor == "system" || actor == "import" => filter.actor = Some(actor),
            Some(Actor::Staff(id)) => {
                if context.staff.iter().any(|u| u.id == id) {
                    filter.actor = Some(actor);
                } else {
                    errors.add("actor", "no staff member of this organisation has this id");
                }
            }
            Some(Actor::Patient(id)) => {
                let mut conn = state.db.conn().await?;
                match store::patient::get(conn.exec(), staff.org.id, id).await {
                    Ok(_) => filter.actor = Some(actor),
                    Err(store::Error::NotFound(_)) => {
                        errors.add("actor", "no patient of this organisation has this id");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Some(Actor::ApiKey(id)) => {
                let mut conn = state.db.conn().await?;
                match store::api_key::by_id(conn.exec(), staff.org.id, id).await {
                    Ok(_) => filter.actor = Some(actor),
                    Err(store::Error::NotFound(_)) => {
                        errors.add("actor", "no API key of this organisation has this id");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            None => errors.add(
                "actor",
                format!("{actor:?} must be staff:ID, patient:ID, key:ID, system or import"),
            ),
        }
    }
    let entity = AuditParams::text(params.entity.as_ref());
    if !entity.is_empty() {
        if KINDS.iter().any(|(e, _)| *e == entity) {
            filter.entity = Some(entity.clone());
        } else {
            let known: Vec<&str> = KINDS.iter().map(|(e, _)| *e).collect();
            errors.add(
                "entity",
                format!(
                    "{entity:?} is not a kind of thing the log records; one of {}",
                    known.join(", ")
                ),
            );
        }
    }
    let action = AuditParams::text(params.action.as_ref());
    if !action.is_empty() {
        match ACTIONS.iter().find(|(a, _, _)| *a == action) {
            Some((_, of, _)) if !entity.is_empty() && *of != entity => errors.add(
                "action",
                format!("{action:?} is a change of {of}, not of {entity}"),
            ),
            Some(_) => filter.action = Some(action),
            None => errors.add(
                "action",
                format!("{action:?} is not an action the log records"),
            ),
        }
    }
    let mut date = |field: &str, value: Option<&String>| {
        let value = AuditParams::text(value);
        if value.is_empty() {
            return None;
        }
        parse_date(&value)
            .map_err(|message| errors.add(field, message))
            .ok()
    };
    let from = date("from", params.from.as_ref());
    let to = date("to", params.to.as_ref());
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        errors.add("to", format!("{to} is before the first date, {from}"));
    }
    filter.from_ns = from.map(|d| local_ns(context.zone.tz, d, 0));
    filter.until_ns = to.map(|d| local_ns(context.zone.tz, d + Duration::days(1), 0));
    let before = AuditParams::text(params.before.as_ref());
    let before = if before.is_empty() {
        None
    } else {
        match before.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                errors.add(
                    "before",
                    "must be an entry id (a whole number, 1 or more) from next_before",
                );
                None
            }
        }
    };
    let limit = AuditParams::text(params.limit.as_ref());
    let limit = if limit.is_empty() {
        DEFAULT_LIMIT
    } else {
        match limit.parse::<i64>() {
            Ok(n) if (1..=audit::MAX_PAGE).contains(&n) => n,
            _ => {
                errors.add(
                    "limit",
                    format!("must be a whole number from 1 to {}", audit::MAX_PAGE),
                );
                DEFAULT_LIMIT
            }
        }
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(Checked {
        filter,
        before,
        limit,
    }))
}

/// One entry, told.
#[derive(Debug)]
struct EntryView {
    entry: Entry,
    /// When, in the organisation's zone.
    at: String,
    /// When, in RFC 3339 with the zone's offset.
    at_rfc3339: String,
    /// Who, by name (or `System`, `Import`).
    who: String,
    /// The person's name, when the actor is a person still known.
    actor_name: Option<String>,
    /// What the action is called.
    what: String,
    /// What it was about: the row's name, or the kind and id of one gone since.
    subject: String,
    /// The admin page of what it was about, while that is there.
    link: Option<String>,
    /// An appointment's history (its page).
    history: Option<String>,
    /// What changed, in words.
    lines: Vec<Line>,
}

impl EntryView {
    fn summary(&self) -> String {
        audit_text::summary(&self.lines)
    }
}

/// The entries of a page, told.
async fn tell(
    state: &AppState,
    staff: &Caller,
    context: &Context,
    entries: Vec<Entry>,
) -> Result<Vec<EntryView>, AppError> {
    let people = entries.iter().flat_map(|e| {
        let about = match (e.entity.as_str(), e.entity_id) {
            ("patient", Some(id)) => Some(Actor::Patient(id)),
            _ => None,
        };
        Actor::parse(&e.actor).into_iter().chain(about)
    });
    let mut conn = state.db.conn().await?;
    let people: HashMap<Actor, String> =
        audit::person_names(&mut conn.exec(), staff.org.id, people.collect::<Vec<_>>()).await?;
    drop(conn);
    let slug = &staff.org.slug;
    let admin = |path: String| format!("/o/{slug}/admin/{path}");
    Ok(entries
        .into_iter()
        .map(|entry| {
            let person = Actor::parse(&entry.actor);
            let actor_name = person.and_then(|p| people.get(&p).cloned());
            let who = match (person, &actor_name) {
                (_, Some(name)) => name.clone(),
                (Some(Actor::Staff(id)), None) => format!("Staff account #{id}"),
                (Some(Actor::Patient(id)), None) => format!("Patient #{id}"),
                (Some(Actor::ApiKey(id)), None) => format!("API key #{id}"),
                (None, _) if entry.actor == "system" => "System (command line)".to_owned(),
                (None, _) if entry.actor == "import" => "Import".to_owned(),
                (None, _) => entry.actor.clone(),
            };
            let details: serde_json::Value =
                serde_json::from_str(&entry.details).unwrap_or(serde_json::Value::Null);
            let named = |kind: &str| {
                entry
                    .entity_id
                    .and_then(|id| context.names.get(kind, id).map(str::to_owned))
            };
            let (subject, link) = match (entry.entity.as_str(), entry.entity_id) {
                ("organisation", _) => (staff.org.name.clone(), Some(admin("settings".into()))),
                ("appointment", Some(id)) => (format!("Appointment #{id}"), None),
                ("patient", Some(id)) => (
                    people
                        .get(&Actor::Patient(id))
                        .cloned()
                        .unwrap_or_else(|| format!("Patient #{id}")),
                    Some(admin(format!("patients/{id}"))),
                ),
                ("staff", Some(_)) => match named("staff") {
                    Some(name) => (name, Some(admin("staff".into()))),
                    None => (
                        format!("Staff account #{}", entry.entity_id.unwrap_or_default()),
                        None,
                    ),
                },
                ("availability_record", Some(id)) => {
                    let practitioner = details["practitioner"].as_i64();
                    let of = practitioner
                        .and_then(|p| context.names.get("practitioner", p).map(|n| (p, n)));
                    match of {
                        Some((p, name)) if entry.action != "availability.delete" => (
                            format!("Availability record #{id} of {name}"),
                            Some(admin(format!("practitioners/{p}/availability/{id}"))),
                        ),
                        Some((_, name)) => (format!("Availability record #{id} of {name}"), None),
                        None => (format!("Availability record #{id}"), None),
                    }
                }
                (kind, Some(id)) => {
                    let page = match kind {
                        "clinic" => "clinics",
                        "practitioner_type" => "practitioner-types",
                        "practitioner" => "practitioners",
                        "schedule_type" => "schedule-types",
                        "service" => "services",
                        _ => "",
                    };
                    match named(kind) {
                        Some(name) if !page.is_empty() => {
                            (name, Some(admin(format!("{page}/{id}"))))
                        }
                        Some(name) => (name, None),
                        // Gone since: the name it had, if the entry kept it.
                        None => (
                            details["name"]
                                .as_str()
                                .map_or_else(|| format!("#{id}"), |n| format!("{n} (deleted)")),
                            None,
                        ),
                    }
                }
                (_, None) => (String::new(), None),
            };
            let history = (entry.entity == "appointment")
                .then(|| {
                    entry
                        .entity_id
                        .map(|id| admin(format!("book/appointments/{id}")))
                })
                .flatten();
            EntryView {
                at: context.zone.datetime(entry.at_ns),
                at_rfc3339: rfc3339(entry.at_ns, context.zone.tz),
                who,
                actor_name,
                what: audit_text::action_label(&entry.action).to_owned(),
                subject,
                link,
                history,
                lines: audit_text::lines(&entry.details, &context.names, context.zone),
                entry,
            }
        })
        .collect())
}

/// One change of an entry, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditChangeDto {
    /// The field as the details name it (`home_clinic_id`); empty for "nothing changed".
    pub field: String,
    /// What the field is called (`Home clinic`).
    pub label: String,
    /// Its value before, in words, when the entry carries it (updates).
    pub before: Option<String>,
    /// Its value as saved, in words.
    pub after: String,
}

/// One entry of the audit log, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditEntryDto {
    /// The entry's id; ids increase with every entry.
    pub id: i64,
    /// When, in RFC 3339 with the organisation's zone's offset.
    pub at: String,
    /// When, as the page shows it (`Mon 2 Mar 2026, 09:30`, with the zone's
    /// abbreviation when the organisation's clinics span zones).
    pub at_text: String,
    /// Who, as stored: `staff:3`, `patient:12`, `system`, `import`.
    pub actor: String,
    /// The staff member's or patient's name, when the actor is a person still known.
    pub actor_name: Option<String>,
    /// Who, in words: the name, `System (command line)` or `Import`.
    pub who: String,
    /// The action: `schedule_type.update`, …
    pub action: String,
    /// What the action is called: `Schedule type changed`.
    pub action_label: String,
    /// The kind of thing changed: `schedule_type`, `appointment`, …
    pub entity: String,
    /// The changed row's id, when the action names one.
    pub entity_id: Option<i64>,
    /// What was changed, by name (`Physiotherapy`, `Appointment #12`).
    pub subject: String,
    /// The admin page of what was changed, while it is there.
    pub link: Option<String>,
    /// For an appointment: its page, with its own history.
    pub history: Option<String>,
    /// What changed, in words: `Name: Physio → Physiotherapy; …`.
    pub summary: String,
    /// What changed, field by field.
    pub changes: Vec<AuditChangeDto>,
    /// The details as recorded.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditPageDto {
    /// The entries, newest first.
    pub entries: Vec<AuditEntryDto>,
    /// Send as `before` to read the next, older page; `null` on the last page.
    pub next_before: Option<i64>,
    /// The IANA zone the times are read in: the organisation's first clinic's.
    pub zone: String,
    /// Whether each time names its zone (the organisation's clinics span zones).
    pub zone_labelled: bool,
}

impl From<EntryView> for AuditEntryDto {
    fn from(v: EntryView) -> Self {
        let summary = v.summary();
        AuditEntryDto {
            id: v.entry.id,
            at: v.at_rfc3339,
            at_text: v.at,
            actor: v.entry.actor,
            actor_name: v.actor_name,
            who: v.who,
            action_label: v.what,
            action: v.entry.action,
            entity: v.entry.entity,
            entity_id: v.entry.entity_id,
            subject: v.subject,
            link: v.link,
            history: v.history,
            summary,
            changes: v
                .lines
                .into_iter()
                .map(|l| AuditChangeDto {
                    field: l.field,
                    label: l.label,
                    before: l.before,
                    after: l.after,
                })
                .collect(),
            details: serde_json::from_str(&v.entry.details).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// The audit log, newest first (admins).
#[utoipa::path(get, operation_id = "list_audit_entries", path = "/api/v1/orgs/{slug}/audit", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
           ("actor" = Option<String>, Query, description = "Only this person's or tool's entries: `staff:ID`, `patient:ID`, `system` or `import`"),
           ("entity" = Option<String>, Query, description = "Only entries about this kind of thing: `organisation`, `clinic`, `practitioner_type`, `practitioner`, `schedule_type`, `availability_record`, `service`, `staff`, `patient` or `appointment`"),
           ("action" = Option<String>, Query, description = "Only this action, e.g. `schedule_type.update`"),
           ("from" = Option<String>, Query, description = "First date (YYYY-MM-DD, in the organisation's zone)"),
           ("to" = Option<String>, Query, description = "Last date, inclusive"),
           ("before" = Option<i64>, Query, description = "Only entries older than this id: the `next_before` of the previous page"),
           ("limit" = Option<i64>, Query, description = "Entries per page, 1 to 200 (default 50)")),
    responses((status = 200, body = AuditPageDto), (status = 401, description = "Not signed in"),
              (status = 403, description = "Not an admin"),
              (status = 422, description = "A filter that does not parse or names nothing of this organisation")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    QueryParams(params): QueryParams<AuditParams>,
) -> Result<Json<AuditPageDto>, AppError> {
    staff.admin()?;
    let context = context(&state, &staff).await?;
    let checked = check(&state, &staff, &context, &params)
        .await?
        .map_err(FieldErrors::into_api_error)?;
    let mut conn = state.db.conn().await?;
    let page = audit::page(
        conn.exec(),
        staff.org.id,
        &checked.filter,
        checked.before,
        checked.limit,
    )
    .await?;
    drop(conn);
    let entries = tell(&state, &staff, &context, page.entries).await?;
    Ok(Json(AuditPageDto {
        entries: entries.into_iter().map(Into::into).collect(),
        next_before: page.next_before,
        zone: context.zone.tz.name().to_owned(),
        zone_labelled: context.zone.labelled,
    }))
}

// The page.

/// One choice of a filter's list.
#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    errors: FieldErrors,
    people: Vec<Choice>,
    kinds: Vec<Choice>,
    actions: Vec<Choice>,
    from: String,
    to: String,
    entries: Vec<EntryView>,
    /// The query of the next, older page, when there is one.
    older: Option<String>,
    /// Whether this is a later page (a link back to the newest entries).
    paged: bool,
    /// The query of the filters alone (the first page with them).
    filters: String,
    zone: String,
    zone_labelled: bool,
}

impl AuditPage {
    fn filtered(&self) -> bool {
        !self.filters.is_empty()
    }
}

/// `key=value&…` of the non-empty pairs, percent-encoded.
fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", crate::query::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(params): PageQuery<AuditParams>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let context = context(&state, &staff.caller()).await?;
    let checked = check(&state, &staff.caller(), &context, &params).await?;
    let text = |v: &Option<String>| AuditParams::text(v.as_ref());
    let (actor, entity, action) = (
        text(&params.actor),
        text(&params.entity),
        text(&params.action),
    );
    let (from, to) = (text(&params.from), text(&params.to));
    let limit = text(&params.limit);
    let mut people = vec![Choice {
        value: String::new(),
        label: "Anyone".to_owned(),
        selected: actor.is_empty(),
    }];
    let mut staff_people: Vec<Choice> = context
        .staff
        .iter()
        .map(|u| {
            let value = Actor::Staff(u.id).label();
            Choice {
                selected: value == actor,
                label: if u.active {
                    u.name.clone()
                } else {
                    format!("{} (stopped)", u.name)
                },
                value,
            }
        })
        .collect();
    staff_people.sort_by(|a, b| a.label.cmp(&b.label));
    people.extend(staff_people);
    people.extend([
        Choice {
            value: "system".to_owned(),
            label: "System (command line)".to_owned(),
            selected: actor == "system",
        },
        Choice {
            value: "import".to_owned(),
            label: "Import".to_owned(),
            selected: actor == "import",
        },
    ]);
    if let Some(Actor::Patient(id)) = Actor::parse(&actor) {
        // A patient chosen from an entry's link: shown as the choice it is.
        let mut conn = state.db.conn().await?;
        let names =
            audit::person_names(&mut conn.exec(), staff.org.id, [Actor::Patient(id)]).await?;
        if let Some(name) = names.get(&Actor::Patient(id)) {
            people.push(Choice {
                value: actor.clone(),
                label: format!("{name} (patient)"),
                selected: true,
            });
        }
    }
    let kinds = std::iter::once(("", "Every kind"))
        .chain(KINDS.iter().copied())
        .map(|(value, label)| Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            selected: value == entity,
        })
        .collect();
    let actions = std::iter::once(("", "", "Every action"))
        .chain(ACTIONS.iter().copied())
        .map(|(value, of, label)| Choice {
            value: value.to_owned(),
            label: if of.is_empty() {
                label.to_owned()
            } else {
                format!("{label} ({})", audit_text::kind_label(of).to_lowercase())
            },
            selected: value == action,
        })
        .collect();
    let filters = query(&[
        ("actor", &actor),
        ("entity", &entity),
        ("action", &action),
        ("from", &from),
        ("to", &to),
        ("limit", &limit),
    ]);
    let (errors, entries, older, paged) = match checked {
        Ok(checked) => {
            let mut conn = state.db.conn().await?;
            let found = audit::page(
                conn.exec(),
                staff.org.id,
                &checked.filter,
                checked.before,
                checked.limit,
            )
            .await?;
            drop(conn);
            let older = found.next_before.map(|before| {
                let before = before.to_string();
                let next = query(&[("before", &before)]);
                if filters.is_empty() {
                    next
                } else {
                    format!("{filters}&{next}")
                }
            });
            let entries = tell(&state, &staff.caller(), &context, found.entries).await?;
            (FieldErrors::new(), entries, older, checked.before.is_some())
        }
        Err(errors) => (errors, Vec::new(), None, false),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = AuditPage {
        layout: Layout::staff(&staff, "Audit log", "audit").await?,
        errors,
        people,
        kinds,
        actions,
        from,
        to,
        entries,
        older,
        paged,
        filters,
        zone: context.zone.tz.name().to_owned(),
        zone_labelled: context.zone.labelled,
    };
    Ok((status, page).into_response())
}
