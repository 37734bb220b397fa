//! Finding open slots for the signed-in patient and booking one: what the pages and
//! the API share.

use chrono::NaiveDate;
use std::fmt;

use serde::Serialize;
use serde::ser::{Error as _, SerializeStruct, Serializer};
use slot_engine::{Date, Instant, Slot};
use store::Organisation;
use store::appointment::{self, PortalBooking, PortalOutcome};
use store::patient::Patient as PatientRow;
use store::window::{self, AnswerNames, EngineInput, OpenSlot, SlotRequest};
use utoipa::ToSchema;

use crate::auth::patient::{Patient, Visitor};
use crate::error::AppError;
use crate::metrics::{Channel, Kind};
use crate::notices::AppointmentContext;
use crate::notices::staff::PortalChange;
use crate::state::AppState;

/// The practitioners this patient may book, or `None` for all.
pub(super) async fn allowed(state: &AppState, p: &Patient) -> Result<Option<Vec<i64>>, AppError> {
    allowed_to(state, &p.org, &p.patient).await
}

/// The practitioners `patient` (read on this request, in `org`) may book: no database
/// work when their list is not restricted, which their row says.
async fn allowed_to(
    state: &AppState,
    org: &Organisation,
    patient: &PatientRow,
) -> Result<Option<Vec<i64>>, AppError> {
    if !patient.practitioners_restricted {
        return Ok(None);
    }
    let mut conn = state.db.conn().await?;
    Ok(appointment::patient_practitioners(&mut conn.exec(), org.id, patient.id).await?)
}

/// The practitioners a visitor may book: the signed-in patient's, or for someone who
/// has not signed in, what a patient who signs up now could book — every portal
/// practitioner (a new patient's list is not restricted).
pub(super) async fn allowed_to_visitor(
    state: &AppState,
    v: &Visitor,
) -> Result<Option<Vec<i64>>, AppError> {
    match &v.patient {
        Some(patient) => allowed_to(state, &v.org, patient).await,
        None => Ok(None),
    }
}

/// Which practitioners a slot query covers: the one asked for (403 when the patient
/// may not book them), or every one the patient may book.
pub(super) fn practitioners_for(
    allowed: &Option<Vec<i64>>,
    asked: Option<i64>,
) -> Result<Option<Vec<i64>>, AppError> {
    match asked {
        Some(p) => {
            if allowed.as_ref().is_some_and(|list| !list.contains(&p)) {
                return Err(AppError::Forbidden(
                    "this practitioner is not available to you".into(),
                ));
            }
            Ok(Some(vec![p]))
        }
        None => Ok(allowed.clone()),
    }
}

pub(super) fn date(naive: NaiveDate) -> Result<Date, AppError> {
    Date::try_from(naive).map_err(|e| AppError::invalid("from", e.to_string()))
}

/// An open slot as the portal shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(super) struct SlotDto {
    /// The practitioner's row id.
    pub practitioner_id: i64,
    /// Their name.
    pub practitioner_name: String,
    /// The clinic's row id.
    pub clinic_id: i64,
    /// The clinic's name.
    pub clinic_name: String,
    /// The clinic's IANA timezone: `date`, `time` and the offsets of `start` and `end`
    /// are the clinic's.
    pub timezone: String,
    /// Start, RFC 3339 in the clinic's offset.
    pub start: String,
    /// End, RFC 3339 in the clinic's offset.
    pub end: String,
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// The local time, `HH:MM`.
    pub time: String,
}

impl From<OpenSlot> for SlotDto {
    fn from(slot: OpenSlot) -> Self {
        SlotDto {
            practitioner_id: slot.practitioner_id,
            practitioner_name: slot.practitioner_name,
            clinic_id: slot.clinic_id,
            clinic_name: slot.clinic_name,
            timezone: slot.clinic_timezone,
            start: slot.start.to_rfc3339(),
            end: slot.end.to_rfc3339(),
            date: slot.start.date_naive().to_string(),
            time: slot.start.format("%H:%M").to_string(),
        }
    }
}

pub(super) fn slot_dto(input: &EngineInput, slot: &Slot) -> SlotDto {
    SlotDto::from(input.open_slot(slot))
}

/// A whole answer of open slots, serialized exactly as `[SlotDto]` is, but straight
/// from the model: each practitioner's and clinic's names looked up once, the times
/// written into the output, nothing allocated per slot. A week of a busy organisation
/// is a thousand slots, so this is most of a slot query's own work.
pub(super) struct SlotAnswer<'a> {
    names: AnswerNames<'a>,
    slots: &'a [Slot],
    /// Only slots at this clinic (row id).
    clinic: Option<i64>,
}

impl<'a> SlotAnswer<'a> {
    pub(super) fn new(
        input: &'a EngineInput,
        slots: &'a [Slot],
        clinic: Option<i64>,
    ) -> SlotAnswer<'a> {
        SlotAnswer {
            names: input.answer_names(),
            slots,
            clinic,
        }
    }

    /// The slots the answer keeps: those at the clinic asked for, or all.
    pub(super) fn slots(&self) -> impl Iterator<Item = &'a Slot> + '_ {
        self.slots.iter().filter(|slot| {
            self.clinic
                .is_none_or(|wanted| self.names.clinic(slot.clinic).map(|c| c.0) == Some(wanted))
        })
    }

    /// How many bytes the JSON will take, about: for sizing its buffer once.
    pub(super) fn size_hint(&self) -> usize {
        const PER_SLOT: usize = 256;
        self.slots.len().saturating_mul(PER_SLOT).saturating_add(2)
    }
}

impl Serialize for SlotAnswer<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.slots().map(|slot| SlotView {
            names: &self.names,
            slot,
        }))
    }
}

/// One slot of a [`SlotAnswer`]: the fields of [`SlotDto`], in its order.
struct SlotView<'a> {
    names: &'a AnswerNames<'a>,
    slot: &'a Slot,
}

impl Serialize for SlotView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (practitioner_id, practitioner_name) = self
            .names
            .practitioner(self.slot.practitioner)
            .ok_or_else(|| S::Error::custom("a slot's practitioner has no row"))?;
        let (clinic_id, clinic_name, timezone) = self
            .names
            .clinic(self.slot.clinic)
            .ok_or_else(|| S::Error::custom("a slot's clinic has no row"))?;
        let start = Stamp::of(|out| self.slot.write_start(out)).map_err(S::Error::custom)?;
        let end = Stamp::of(|out| self.slot.write_end(out)).map_err(S::Error::custom)?;
        let mut dto = serializer.serialize_struct("SlotDto", 9)?;
        dto.serialize_field("practitioner_id", &practitioner_id)?;
        dto.serialize_field("practitioner_name", practitioner_name)?;
        dto.serialize_field("clinic_id", &clinic_id)?;
        dto.serialize_field("clinic_name", clinic_name)?;
        dto.serialize_field("timezone", timezone)?;
        dto.serialize_field("start", start.text())?;
        dto.serialize_field("end", end.text())?;
        dto.serialize_field("date", start.date())?;
        dto.serialize_field("time", start.time())?;
        dto.end()
    }
}

/// A slot's time as the answer writes it, `YYYY-MM-DDTHH:MM:SS±HH:MM`, on the stack.
struct Stamp {
    bytes: [u8; Stamp::LEN],
    len: usize,
}

impl Stamp {
    const LEN: usize = "2026-03-02T10:00:00-05:00".len();

    fn of(write: impl FnOnce(&mut Stamp) -> fmt::Result) -> Result<Stamp, &'static str> {
        let mut stamp = Stamp {
            bytes: [0; Stamp::LEN],
            len: 0,
        };
        write(&mut stamp).map_err(|_| "a slot's time does not fit its format")?;
        if stamp.len != Stamp::LEN {
            return Err("a slot's time does not fit its format");
        }
        Ok(stamp)
    }

    fn text(&self) -> &str {
        // Only whole `&str`s are written in (see `write_str`).
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    /// `YYYY-MM-DD`.
    fn date(&self) -> &str {
        self.text().get(..10).unwrap_or_default()
    }

    /// `HH:MM`.
    fn time(&self) -> &str {
        self.text().get(11..16).unwrap_or_default()
    }
}

impl fmt::Write for Stamp {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Open slots of a service for a patient over `[from, to]`: in person, or by video
/// (`telehealth`: only schedule types that allow it, rule 8).
pub(super) async fn slots(
    state: &AppState,
    org: &Organisation,
    service: i64,
    practitioners: Option<Vec<i64>>,
    (from, to): (Date, Date),
    telehealth: bool,
) -> Result<(EngineInput, Vec<Slot>), AppError> {
    let mut conn = state.db.conn().await?;
    let (input, found) = window::open_portal_slots(
        &mut conn.exec(),
        org,
        &SlotRequest {
            service,
            practitioners,
            from,
            to,
            now: state.clock.now(),
            telehealth,
        },
    )
    .await?;
    state.metrics.slot_query(Channel::Portal);
    Ok((input, found))
}

/// Books for a patient. The store decides, and answers with the appointment or, for
/// a time the slot rules refuse, why and the next open times.
pub(super) async fn book(
    state: &AppState,
    p: &Patient,
    service: i64,
    practitioner: i64,
    start: Instant,
    telehealth: bool,
    key: Option<String>,
) -> Result<PortalOutcome, AppError> {
    // The emails' names are read first. A practitioner or service that is not there
    // leaves nothing to say, and the store refuses the booking (in its own order of
    // refusals), so the emails are simply none.
    let context = match AppointmentContext::of_patient(
        state,
        &p.org,
        &p.patient,
        practitioner,
        Some(service),
    )
    .await
    {
        Ok(context) => Some(context),
        Err(store::Error::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let notify = move |a: &store::appointment::Appointment| {
        context
            .iter()
            .flat_map(|c| c.portal_notices(PortalChange::Booked, a))
            .collect()
    };
    let outcome = appointment::book_portal(
        &state.db,
        &p.org,
        &PortalBooking {
            patient: p.patient.id,
            service,
            practitioner,
            start,
            telehealth,
            idempotency_key: key,
        },
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    match &outcome {
        PortalOutcome::Booked(booked) => {
            if !booked.replayed {
                state.metrics.booked(Channel::Portal, Kind::Single, 1);
                state.mail.notify();
            }
        }
        PortalOutcome::Taken { .. } => {
            state.metrics.conflict(Channel::Portal, Kind::Single);
            // The next open times came from a slot search.
            state.metrics.slot_query(Channel::Portal);
        }
    }
    Ok(outcome)
}

pub(super) fn parse_start(text: &str) -> Result<Instant, AppError> {
    text.trim()
        .parse::<Instant>()
        .map_err(|e| AppError::invalid("start", e.to_string()))
}

/// How the patient meets the practitioner, as the pages' `mode` parameter says it:
/// `in_person` (the default) or `video`. Anything else is refused naming the field.
pub(super) fn parse_mode(value: Option<&str>) -> Result<bool, AppError> {
    match value.map(str::trim) {
        None | Some("") | Some("in_person") => Ok(false),
        Some("video") => Ok(true),
        Some(_) => Err(AppError::invalid("mode", "must be in_person or video")),
    }
}
