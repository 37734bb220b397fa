//! Webhook events, queued where every change already passes: [`crate::audit::record`]
//! calls [`queue`] in the change's own transaction, so an event commits with its change
//! and only then, whoever made it (portal, staff, the API, the waitlist, a reminder's
//! link, an import).
//!
//! [`Event::from_audit`] says which audit actions are which events; [`queue`] builds the
//! body once (the Standard Webhooks envelope `{type, timestamp, data}`) from the rows
//! as the change left them, and writes one `webhook_deliveries` row per enabled
//! endpoint of the organisation subscribed to the event. The body is kept as built, so
//! a later change never rewrites what an event said. Health details (a service's name,
//! the patient's name, notes, a cancellation's reason) are in it only for endpoints
//! that opted in.
//!
//! A leaf of the store: it imports only `db` and `error`, so that `audit` may call it
//! and `webhook` (the endpoints, which are audited) may sit above both.

use chrono::SecondsFormat;
use serde_json::{Value, json};

use crate::db::{Tx, rows, scalar, scalar_optional, text_enum};
use crate::error::Result;

text_enum! {
    /// What an endpoint may subscribe to.
    pub enum Event for "events" {
        /// An appointment was booked (by staff, in the portal, through the API, by a
        /// waitlist offer accepted, in a weekly series), or a cancellation was undone.
        AppointmentBooked = "appointment.booked",
        /// An appointment moved to another time, practitioner or clinic.
        AppointmentMoved = "appointment.moved",
        /// An appointment was cancelled (by the patient, staff, or a reminder's link).
        AppointmentCancelled = "appointment.cancelled",
        /// Staff accepted a portal request that was waiting for the clinic.
        AppointmentAccepted = "appointment.accepted",
        /// Staff declined a portal request that was waiting for the clinic.
        AppointmentDeclined = "appointment.declined",
        /// The front desk marked an appointment a no-show.
        AppointmentNoShow = "appointment.no_show",
        /// A patient was added by staff or signed up in the portal.
        PatientCreated = "patient.created",
        /// The organisation's setup changed: its settings, clinics, practitioners,
        /// schedule types, availability, services, rooms and equipment, reminders,
        /// waitlist settings or email templates.
        SetupChanged = "setup.changed",
    }
}

/// The event type of the "Send test event" button; never subscribed to, sent on demand.
pub const TEST_EVENT: &str = "webhook.test";

/// Audit entities whose changes are `setup.changed`.
const SETUP_ENTITIES: &[&str] = &[
    "organisation",
    "clinic",
    "practitioner_type",
    "practitioner",
    "schedule_type",
    "availability_record",
    "service",
    "resource",
];

impl Event {
    /// The event an audit entry is, if it is one. `appointment.mark` is a no-show only
    /// when the status it set (its details' `status`) is `no_show`; the other marks
    /// (arrived, completed) and their undo are no event.
    pub fn from_audit(action: &str, entity: &str, details: &Value) -> Option<Event> {
        Some(match action {
            "appointment.book" | "appointment.book_override" | "appointment.restore" => {
                Event::AppointmentBooked
            }
            "appointment.reschedule" | "appointment.reschedule_override" => Event::AppointmentMoved,
            "appointment.cancel" => Event::AppointmentCancelled,
            "appointment.accept" => Event::AppointmentAccepted,
            "appointment.decline" => Event::AppointmentDeclined,
            "appointment.mark" if details["status"] == "no_show" => Event::AppointmentNoShow,
            "patient.create" | "portal.signup" => Event::PatientCreated,
            "reminders.settings" | "waitlist.settings_changed" => Event::SetupChanged,
            // The organisation's import is a setup change; its appointments and
            // patients come in with it, and are not told one by one.
            _ if SETUP_ENTITIES.contains(&entity) => Event::SetupChanged,
            _ => return None,
        })
    }

    /// Whether the event is about one appointment (and so is delivered in order with
    /// that appointment's other events).
    pub fn is_appointment(self) -> bool {
        self.as_str().starts_with("appointment.")
    }

    /// Reads a comma-separated list as saved, skipping what is no longer an event.
    pub fn parse_list(text: &str) -> Vec<Event> {
        let mut events: Vec<Event> = text
            .split(',')
            .filter_map(|e| e.trim().parse().ok())
            .collect();
        events.sort_by_key(|e| Event::ALL.iter().position(|a| a == e));
        events.dedup();
        events
    }

    /// The list as saved: comma-separated, in [`Event::ALL`]'s order.
    pub fn list_text(events: &[Event]) -> String {
        Event::ALL
            .iter()
            .filter(|e| events.contains(e))
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// An instant (ns since the Unix epoch) in RFC 3339, UTC, to the second.
pub fn rfc3339(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A fresh message id, `msg_` and 24 random bytes in base64url: the `webhook-id`.
pub fn message_id() -> Result<String> {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|e| crate::Error::invalid("message_id", format!("no random source: {e}")))?;
    Ok(format!(
        "msg_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// An enabled endpoint subscribed to an event.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Subscriber {
    id: i64,
    events: String,
    include_health_details: bool,
}

/// A change as the audit log records it: what [`queue`] makes an event of.
#[derive(Debug)]
pub(crate) struct Change<'a> {
    pub(crate) actor: &'a str,
    pub(crate) action: &'a str,
    pub(crate) entity: &'a str,
    pub(crate) entity_id: Option<i64>,
    pub(crate) details: &'a Value,
    pub(crate) at_ns: i64,
}

/// The appointment as an event tells it.
#[derive(Debug, sqlx::FromRow)]
struct AppointmentRow {
    id: i64,
    status: String,
    start_ns: i64,
    end_ns: i64,
    practitioner_id: i64,
    clinic_id: Option<i64>,
    service_id: Option<i64>,
    patient_id: Option<i64>,
    telehealth: bool,
    channel: String,
    sequence: i64,
    service_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    status_note: String,
    cancel_reason: Option<String>,
}

/// Queues the event `action` is, if any, for every enabled endpoint of `org`
/// subscribed to it, in the change's transaction, saying who made the change
/// (`actor`, as the audit log names them). Called by [`crate::audit::record`].
#[allow(clippy::too_many_arguments)]
pub async fn queue(
    tx: &mut Tx,
    org: i64,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    details: &Value,
    at_ns: i64,
) -> Result<()> {
    if Event::from_audit(action, entity, details).is_none() {
        return Ok(());
    }
    let subscribers: Vec<Subscriber> = rows!(
        tx.exec(),
        fetch_all,
        Subscriber,
        "SELECT id, events, include_health_details FROM webhook_endpoints \
         WHERE org_id = $1 AND enabled ORDER BY id",
        org
    )?;
    let change = Change {
        actor,
        action,
        entity,
        entity_id,
        details,
        at_ns,
    };
    queue_to(tx, org, &change, subscribers).await
}

/// [`queue`] with the organisation's enabled endpoints already read (the audit entry's
/// statement reads them on PostgreSQL).
pub(crate) async fn queue_to(
    tx: &mut Tx,
    org: i64,
    change: &Change<'_>,
    subscribers: Vec<Subscriber>,
) -> Result<()> {
    let &Change {
        actor,
        action,
        entity,
        entity_id,
        details,
        at_ns,
    } = change;
    let Some(event) = Event::from_audit(action, entity, details) else {
        return Ok(());
    };
    let subscribers: Vec<Subscriber> = subscribers
        .into_iter()
        .filter(|s| Event::parse_list(&s.events).contains(&event))
        .collect();
    if subscribers.is_empty() {
        return Ok(());
    }
    let slug = scalar_optional!(
        tx.exec(),
        String,
        "SELECT slug FROM organisations WHERE id = $1",
        org
    )?
    .unwrap_or_default();
    let (plain, detailed, appointment_id) = match event {
        _ if event.is_appointment() => {
            let Some(id) = entity_id else { return Ok(()) };
            let Some(row) = rows!(
                tx.exec(),
                fetch_optional,
                AppointmentRow,
                "SELECT a.id, a.status, a.start_ns, a.end_ns, a.practitioner_id, a.clinic_id, \
                 a.service_id, a.patient_id, a.telehealth, a.channel, a.sequence, \
                 s.name AS service_name, p.first_name, p.last_name, a.status_note, a.cancel_reason \
                 FROM appointments a LEFT JOIN services s ON s.org_id = a.org_id AND s.id = a.service_id \
                 LEFT JOIN patients p ON p.org_id = a.org_id AND p.id = a.patient_id \
                 WHERE a.org_id = $1 AND a.id = $2",
                org,
                id
            )?
            else {
                return Ok(());
            };
            let plain = json!({
                "organisation": slug,
                "appointment_id": row.id,
                "status": row.status,
                "start": rfc3339(row.start_ns),
                "end": rfc3339(row.end_ns),
                "practitioner_id": row.practitioner_id,
                "clinic_id": row.clinic_id,
                "service_id": row.service_id,
                "patient_id": row.patient_id,
                "telehealth": row.telehealth,
                "channel": row.channel,
                "sequence": row.sequence,
            });
            let mut detailed = plain.clone();
            detailed["service_name"] = json!(row.service_name);
            detailed["patient"] = match (row.first_name, row.last_name) {
                (Some(first), Some(last)) => json!({"first_name": first, "last_name": last}),
                _ => Value::Null,
            };
            detailed["note"] = json!(row.status_note);
            detailed["cancel_reason"] = json!(row.cancel_reason);
            (plain, detailed, Some(row.id))
        }
        Event::PatientCreated => {
            let Some(id) = entity_id else { return Ok(()) };
            let plain = json!({"organisation": slug, "patient_id": id});
            let mut detailed = plain.clone();
            if let Some((first, last, email)) = rows!(
                tx.exec(),
                fetch_optional,
                (String, String, String),
                "SELECT first_name, last_name, email FROM patients WHERE org_id = $1 AND id = $2",
                org,
                id
            )? {
                detailed["first_name"] = json!(first);
                detailed["last_name"] = json!(last);
                detailed["email"] = json!(email);
            }
            (plain, detailed, None)
        }
        _ => {
            let data = json!({
                "organisation": slug,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
            });
            (data.clone(), data, None)
        }
    };
    let timestamp = rfc3339(at_ns);
    // Who made the change, as the audit log names them (`staff:3`, `patient:12`,
    // `key:5`, `system`): a receiver can tell a change another system made.
    let body = |data: &Value| {
        let mut data = data.clone();
        data["by"] = json!(actor);
        json!({"type": event.as_str(), "timestamp": timestamp, "data": data}).to_string()
    };
    let (plain, detailed) = (body(&plain), body(&detailed));
    for subscriber in subscribers {
        let payload = if subscriber.include_health_details {
            &detailed
        } else {
            &plain
        };
        insert(
            tx,
            org,
            subscriber.id,
            &message_id()?,
            event.as_str(),
            appointment_id,
            payload,
            at_ns,
        )
        .await?;
    }
    Ok(())
}

/// Writes one delivery, due at once.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert(
    tx: &mut Tx,
    org: i64,
    endpoint: i64,
    message_id: &str,
    event_type: &str,
    appointment_id: Option<i64>,
    payload: &str,
    now_ns: i64,
) -> Result<i64> {
    Ok(scalar!(
        tx.exec(),
        i64,
        "INSERT INTO webhook_deliveries (org_id, endpoint_id, message_id, event_type, appointment_id, \
         payload, next_attempt_at_ns, created_at_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        org,
        endpoint,
        message_id,
        event_type,
        appointment_id,
        payload,
        now_ns
    )?)
}
