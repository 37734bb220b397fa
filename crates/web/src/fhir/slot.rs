//! `Slot`: open times computed by the engine on each request through the store's
//! window and open-slot search, exactly as the portal offers them (there is no slot
//! table). A slot's id encodes its practitioner, clinic, service and start
//! ([`SlotId`]); reading or booking it decodes the id and asks the engine again, so a
//! made-up id is simply not found.

use axum::extract::{Path, RawQuery, State};
use base64::Engine;
use base64::alphabet::Alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Value, json};
use slot_engine::{Date, Instant};
use store::Organisation;
use store::service::Service;
use store::window::{self, OpenSlot, SlotRequest};

use crate::state::AppState;

use super::outcome::Outcome;
use super::resource::{
    Bounds, Fhir, FhirResult, base, fhir_instant, params, search_answer, service_type, single,
};
use super::schedule::{self, Place};
use crate::auth::api_key::{ApiKeyCaller, Scope};

/// The longest range one search may cover: about three months.
pub(super) const MAX_RANGE_DAYS: i64 = 92;

/// What a slot id encodes: which practitioner at which clinic, for which service,
/// from when (whole seconds since the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SlotId {
    pub(super) practitioner: i64,
    pub(super) clinic: i64,
    pub(super) service: i64,
    pub(super) start_secs: i64,
}

/// The id's format version, its first byte.
const VERSION: u8 = 1;

/// base64 over the letters FHIR ids allow (`[A-Za-z0-9\-\.]`): base64url's alphabet
/// with `.` for `_`, no padding, and no stray bits, so each slot has one id.
fn codec() -> GeneralPurpose {
    let alphabet =
        Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.")
            .expect("64 distinct printable letters");
    GeneralPurpose::new(
        &alphabet,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(false),
    )
}

impl SlotId {
    /// The id: the version byte and the four numbers as LEB128 varints, in base64
    /// over FHIR's id letters (about 12 characters).
    pub(super) fn encode(&self) -> String {
        let mut bytes = vec![VERSION];
        for n in [
            self.practitioner,
            self.clinic,
            self.service,
            self.start_secs,
        ] {
            let mut n = n as u64;
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    bytes.push(byte);
                    break;
                }
                bytes.push(byte | 0x80);
            }
        }
        codec().encode(bytes)
    }

    /// The slot an id names, `None` for anything [`SlotId::encode`] would not write.
    pub(super) fn decode(id: &str) -> Option<SlotId> {
        if id.len() > 64 {
            return None;
        }
        let bytes = codec().decode(id).ok()?;
        let (&version, mut rest) = bytes.split_first()?;
        if version != VERSION {
            return None;
        }
        let mut numbers = [0i64; 4];
        for number in &mut numbers {
            let mut value: u64 = 0;
            let mut shift = 0;
            loop {
                let (&byte, tail) = rest.split_first()?;
                rest = tail;
                if shift > 56 {
                    return None;
                }
                value |= u64::from(byte & 0x7f) << shift;
                shift += 7;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            *number = i64::try_from(value).ok().filter(|n| *n > 0)?;
        }
        let [practitioner, clinic, service, start_secs] = numbers;
        let slot = SlotId {
            practitioner,
            clinic,
            service,
            start_secs,
        };
        // One id per slot: an overlong varint or trailing bytes name nothing.
        (rest.is_empty() && slot.encode() == id).then_some(slot)
    }

    /// The start.
    pub(super) fn start(&self) -> Option<Instant> {
        Instant::from_unix_nanos(self.start_secs.checked_mul(1_000_000_000)?).ok()
    }

    fn of(place: &Place, service: &Service, slot: &OpenSlot) -> SlotId {
        SlotId {
            practitioner: place.practitioner.id,
            clinic: place.clinic.id,
            service: service.id,
            start_secs: slot.start.timestamp(),
        }
    }
}

/// A free slot, as found.
#[derive(Clone, Debug)]
pub(super) struct Found {
    pub(super) id: SlotId,
    pub(super) schedule: String,
    pub(super) service_key: String,
    pub(super) service_name: String,
    pub(super) slot: OpenSlot,
}

impl Found {
    /// As a FHIR `Slot`.
    pub(super) fn resource(&self, base: &str) -> Value {
        json!({
            "resourceType": "Slot",
            "id": self.id.encode(),
            "serviceType": [service_type(base, &self.service_key, &self.service_name)],
            "schedule": {"reference": format!("Schedule/{}", self.schedule)},
            "status": "free",
            "start": fhir_instant(self.slot.start),
            "end": fhir_instant(self.slot.end),
        })
    }
}

/// The portal's open times of `service` with the place's practitioner at its clinic,
/// starting in `[from, to)`, in person. `service` must be one the place gives online.
pub(super) async fn free(
    state: &AppState,
    org: &Organisation,
    place: &Place,
    service: &Service,
    (from, to): (Instant, Instant),
) -> Result<Vec<Found>, Outcome> {
    let zone = place.clinic.zone();
    let local = |at: Instant| {
        Date::try_from(at.to_utc().with_timezone(&zone).date_naive())
            .map_err(|e| Outcome::invalid("start", e.to_string()))
    };
    let first = local(from)?;
    let last = local(Instant::from_unix_nanos(to.unix_nanos() - 1).unwrap_or(to))?;
    let mut conn = state.db.conn().await?;
    let (input, slots) = window::open_slots(
        &mut conn.exec(),
        org,
        &SlotRequest {
            service: service.id,
            practitioners: Some(vec![place.practitioner.id]),
            from: first,
            to: last.max(first),
            now: state.clock.now(),
            telehealth: false,
        },
    )
    .await?;
    drop(conn);
    state.metrics.slot_query(crate::metrics::Channel::Fhir);
    Ok(slots
        .iter()
        .filter(|s| s.start_instant() >= from && s.start_instant() < to)
        .map(|s| input.open_slot(s))
        .filter(|s| s.clinic_id == place.clinic.id && s.practitioner_id == place.practitioner.id)
        .map(|slot| Found {
            id: SlotId::of(place, service, &slot),
            schedule: place.id(),
            service_key: service.key.clone(),
            service_name: service.name.clone(),
            slot,
        })
        .collect())
}

/// The free slot an id names, if the engine still offers it; `None` for an id that
/// does not decode, names another organisation's rows, or a time no longer free.
pub(super) async fn verify(
    state: &AppState,
    org: &Organisation,
    id: &str,
) -> Result<Option<Found>, Outcome> {
    let Some(slot) = SlotId::decode(id) else {
        return Ok(None);
    };
    let Some(start) = slot.start() else {
        return Ok(None);
    };
    let schedule = format!("{}-{}", slot.practitioner, slot.clinic);
    let Some(place) = schedule::place(state, org, &schedule).await? else {
        return Ok(None);
    };
    let Some(service) = place
        .portal_services()
        .find(|s| s.id == slot.service)
        .cloned()
    else {
        return Ok(None);
    };
    let end = Instant::from_unix_nanos(start.unix_nanos() + 1_000_000_000).unwrap_or(start);
    Ok(free(state, org, &place, &service, (start, end))
        .await?
        .into_iter()
        .find(|f| f.id == slot))
}

/// `GET Slot/{id}`: the slot while it is free; 404 once taken, or for an id no slot
/// ever had.
pub(super) async fn read(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    Path((_, id)): Path<(String, String)>,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let found = verify(&state, &caller.org, &id)
        .await?
        .ok_or_else(|| Outcome::not_found(format!("free Slot/{id}")))?;
    Ok(Fhir::ok(found.resource(&base(&state, &caller.org))))
}

/// `GET Slot?schedule=…&start=ge…&start=lt…[&status=free][&service-type=…]`: the free
/// slots of one schedule over at most [`MAX_RANGE_DAYS`] days, of every service its
/// practitioner gives online, or of the one `service-type` names.
pub(super) async fn search(
    State(state): State<AppState>,
    caller: ApiKeyCaller,
    RawQuery(query): RawQuery,
) -> FhirResult {
    caller.require(Scope::ScheduleRead)?;
    let pairs = params(
        query.as_deref(),
        &["schedule", "start", "status", "service-type"],
    )?;
    let schedule_ref = single(&pairs, "schedule")?
        .ok_or_else(|| Outcome::invalid("schedule", "schedule is required: Schedule/{id}"))?;
    let schedule_id = schedule_ref
        .strip_prefix("Schedule/")
        .unwrap_or(schedule_ref);
    if schedule::parse_id(schedule_id).is_none() {
        return Err(Outcome::invalid(
            "schedule",
            format!("{schedule_ref:?} is not a Schedule of this server"),
        ));
    }
    let place = schedule::place(&state, &caller.org, schedule_id)
        .await?
        .ok_or_else(|| Outcome::invalid("schedule", format!("Schedule/{schedule_id} not found")))?;
    let bounds = Bounds::parse(&pairs, "start", place.clinic.zone())?;
    let (Some(from), Some(to)) = (bounds.from, bounds.to) else {
        return Err(Outcome::invalid(
            "start",
            "start needs a lower bound (ge or gt) and an upper bound (lt or le)",
        ));
    };
    if to <= from {
        return Err(Outcome::invalid("start", "the start range is empty"));
    }
    if to.unix_nanos() - from.unix_nanos() > MAX_RANGE_DAYS * 86_400 * 1_000_000_000 {
        return Err(Outcome::too_costly(
            "start",
            format!("search at most {MAX_RANGE_DAYS} days (about three months) of slots at a time"),
        ));
    }
    let mut free_wanted = true;
    if let Some(status) = single(&pairs, "status")? {
        const STATUSES: [&str; 5] = [
            "busy",
            "free",
            "busy-unavailable",
            "busy-tentative",
            "entered-in-error",
        ];
        let asked: Vec<&str> = status.split(',').collect();
        if let Some(bad) = asked.iter().find(|s| !STATUSES.contains(s)) {
            return Err(Outcome::invalid(
                "status",
                format!("{bad:?} is not a Slot status"),
            ));
        }
        // Only free slots are served: a search for others finds none.
        free_wanted = asked.contains(&"free");
    }
    let base = base(&state, &caller.org);
    let wanted = single(&pairs, "service-type")?
        .map(|t| schedule::service_code(&base, t))
        .transpose()?;
    let mut found = Vec::new();
    if free_wanted {
        let services: Vec<Service> = place
            .portal_services()
            .filter(|s| wanted.is_none_or(|code| s.key == code))
            .cloned()
            .collect();
        for service in &services {
            found.extend(free(&state, &caller.org, &place, service, (from, to)).await?);
        }
    }
    found.sort_by_key(|f| (f.slot.start, f.id.service));
    Ok(search_answer(
        &base,
        "Slot",
        query.as_deref(),
        found.iter().map(|f| f.resource(&base)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::SlotId;
    use base64::Engine;

    #[test]
    fn ids_round_trip_and_use_only_fhir_id_letters() {
        let slot = SlotId {
            practitioner: 3,
            clinic: 1,
            service: 200,
            start_secs: 1_772_441_400,
        };
        let id = slot.encode();
        assert!(id.len() <= 64);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        );
        assert_eq!(SlotId::decode(&id), Some(slot));
    }

    #[test]
    fn forged_ids_decode_to_nothing() {
        for forged in ["", "x", "AQMBAQ_", "Slot", &"A".repeat(80)] {
            assert_eq!(SlotId::decode(forged), None, "{forged}");
        }
        // A well-formed id decodes (the engine then finds no such slot: see
        // `verify`); a zero id, and an overlong varint, are not ids this server writes.
        assert!(SlotId::decode("AQEBAQE").is_some());
        let zero = super::codec().encode([1u8, 0, 1, 1, 1]);
        assert_eq!(SlotId::decode(&zero), None);
        let overlong = super::codec().encode([1u8, 0x83, 0, 1, 1, 1]);
        assert_eq!(SlotId::decode(&overlong), None);
    }
}
