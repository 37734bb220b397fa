//! Engine input for a window: one service, some practitioners, a range of dates, built
//! from a fixed number of queries whatever their number.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use slot_engine::{Date, DateRange, Instant, Model, PortalQuery, PractitionerIx, Slot, SlotQuery};

use crate::db::Exec;
use crate::error::{Error, Result};
use crate::organisation::Organisation;
use slot_engine::scenario::{Appointment, Scenario, Status, Text};
use std::collections::{HashMap, HashSet};

use crate::scenario_rows::{self, Ids};
use crate::setup_cache;
use crate::setup_cache::Services;
use crate::time::instant;
use crate::time::{DAY_NS, day_start_ns};

/// What [`load`] reads: some practitioners' setup and appointments over a range of
/// dates, for one service or none.
#[derive(Clone, Debug)]
pub struct Window {
    /// The service (`None`: no service, e.g. a staff booking by schedule type).
    pub service: Option<i64>,
    /// The practitioners (`None`: all).
    pub practitioners: Option<Vec<i64>>,
    /// The first date; each clinic's slots are dated in its own zone.
    pub from: Date,
    /// The last date, inclusive.
    pub to: Date,
    /// An appointment to leave out (the one being moved).
    pub skip_appointment: Option<i64>,
    /// Resource rows a staff booking names, besides those the service requires: the
    /// window counts every appointment that holds any of them, whoever's it is.
    pub resources: Vec<i64>,
}

/// A model of the window, with the row ids of what it names.
#[derive(Debug)]
pub struct EngineInput {
    /// The engine's model of the window, which speaks in model indices: the methods
    /// below map them to and from row ids.
    pub model: Model,
    pub(crate) ids: Arc<Ids>,
}

impl EngineInput {
    /// The model index of a practitioner row.
    pub fn practitioner_ix(&self, id: i64) -> Option<PractitionerIx> {
        self.ids
            .practitioners
            .iter()
            .find(|(_, v)| **v == id)
            .and_then(|(k, _)| self.model.practitioner_ix(k))
    }

    /// The row id of a model practitioner.
    pub fn practitioner_id(&self, ix: PractitionerIx) -> i64 {
        self.ids.practitioners[self.model.practitioner(ix).id.as_str()]
    }

    /// The row id of a model schedule type.
    pub fn schedule_type_id(&self, ix: slot_engine::ScheduleTypeIx) -> i64 {
        self.ids.schedule_types[self.model.schedule_type(ix).id.as_str()]
    }

    /// The row id of a model clinic.
    pub fn clinic_id(&self, ix: slot_engine::ClinicIx) -> i64 {
        self.ids.clinics[self.model.clinic(ix).id.as_str()]
    }

    /// The model index of a schedule type row.
    pub fn schedule_type_ix(&self, id: i64) -> Option<slot_engine::ScheduleTypeIx> {
        self.ids
            .schedule_types
            .iter()
            .find(|(_, v)| **v == id)
            .and_then(|(k, _)| self.model.schedule_type_ix(k))
    }

    /// The model index of a resource row.
    pub fn resource_ix(&self, id: i64) -> Option<slot_engine::ResourceIx> {
        self.ids
            .resources
            .iter()
            .find(|(_, v)| **v == id)
            .and_then(|(k, _)| self.model.resource_ix(k))
    }

    /// The row id of a model resource.
    pub fn resource_id(&self, ix: slot_engine::ResourceIx) -> i64 {
        self.ids.resources[self.model.resource(ix).id.as_str()]
    }

    /// The row ids of model resources, in the same order.
    pub fn resource_ids(&self, list: &[slot_engine::ResourceIx]) -> Vec<i64> {
        list.iter().map(|&r| self.resource_id(r)).collect()
    }

    /// The model index of the service row, if loaded.
    pub fn service_ix(&self, id: i64) -> Option<slot_engine::ServiceIx> {
        self.ids
            .services
            .iter()
            .find(|(_, v)| **v == id)
            .and_then(|(k, _)| self.model.service_ix(k))
    }

    /// The buffers a new appointment of the service row is booked with, as the model
    /// the booking was checked against has them; none when the service is not loaded.
    pub fn service_buffers(&self, id: i64) -> slot_engine::Buffers {
        self.service_ix(id).map_or(slot_engine::Buffers::NONE, |s| {
            self.model.service(s).buffers
        })
    }

    /// The row ids and names of every practitioner and clinic of the model, for
    /// writing a long answer (see [`AnswerNames`]); [`EngineInput::open_slot`] gives
    /// the same, per slot.
    pub fn answer_names(&self) -> AnswerNames<'_> {
        AnswerNames {
            practitioners: self
                .model
                .practitioners()
                .iter()
                .map(|p| {
                    let id = self.ids.practitioners.get(p.id.as_str())?;
                    Some((*id, p.name.as_str()))
                })
                .collect(),
            clinics: self
                .model
                .clinics()
                .iter()
                .map(|c| {
                    let id = self.ids.clinics.get(c.id.as_str())?;
                    Some((*id, c.name.as_str(), c.zone.name()))
                })
                .collect(),
        }
    }

    /// A slot of this window's model as the portal offers it: in row ids and names,
    /// so that it outlives the model.
    pub fn open_slot(&self, slot: &Slot) -> OpenSlot {
        OpenSlot {
            practitioner_id: self.practitioner_id(slot.practitioner),
            practitioner_name: self.model.practitioner(slot.practitioner).name.to_string(),
            clinic_id: self.clinic_id(slot.clinic),
            clinic_name: self.model.clinic(slot.clinic).name.to_string(),
            clinic_timezone: self.model.clinic(slot.clinic).zone.name().to_owned(),
            start: slot.start(),
            end: slot.end(),
        }
    }
}

/// The row ids and names a slot answer repeats, looked up once per answer instead of
/// once per slot: borrowed from the [`EngineInput`], indexed by the model's indices.
#[derive(Debug)]
pub struct AnswerNames<'a> {
    /// Per model practitioner: row id and name (`None` for one the setup has no row
    /// for, which is never offered).
    practitioners: Vec<Option<(i64, &'a str)>>,
    /// Per model clinic: row id, name and IANA zone.
    clinics: Vec<Option<(i64, &'a str, &'a str)>>,
}

impl<'a> AnswerNames<'a> {
    /// The row id and name of a slot's practitioner.
    pub fn practitioner(&self, ix: PractitionerIx) -> Option<(i64, &'a str)> {
        self.practitioners.get(ix.index()).copied().flatten()
    }

    /// The row id, name and IANA zone of a slot's clinic.
    pub fn clinic(&self, ix: slot_engine::ClinicIx) -> Option<(i64, &'a str, &'a str)> {
        self.clinics.get(ix.index()).copied().flatten()
    }
}

/// An open slot, read out of the model that found it: what the portal lists, and
/// what a refused portal booking offers instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenSlot {
    /// The practitioner's row id.
    pub practitioner_id: i64,
    /// The practitioner's name.
    pub practitioner_name: String,
    /// The row id of the clinic the slot is at.
    pub clinic_id: i64,
    /// The name of the clinic the slot is at.
    pub clinic_name: String,
    /// The clinic's IANA timezone, which the slot's wall-clock times are read in.
    pub clinic_timezone: String,
    /// The start, in the clinic's offset at that instant.
    pub start: DateTime<FixedOffset>,
    /// The end, in the clinic's offset at that instant.
    pub end: DateTime<FixedOffset>,
}

/// Loads the window and builds its model: the setup from memory while the
/// organisation's setup is unchanged (see `setup_cache`), the appointments from the
/// database.
pub async fn load(exec: &mut Exec<'_>, org: &Organisation, window: &Window) -> Result<EngineInput> {
    let (scenario, ids) = scenario(
        exec,
        org,
        window.practitioners.as_deref(),
        (window.from, window.to),
        window.service.map_or(Services::None, Services::One),
        &window.resources,
        window.skip_appointment,
    )
    .await?;
    Ok(EngineInput {
        model: Model::new(&scenario)?,
        ids,
    })
}

/// The engine's input for `practitioners` (`None`: all) and `services` over the dates:
/// their setup, every room and piece of equipment, and the time their appointments
/// take but `skip`'s; and the time every appointment takes, whoever's, that holds a
/// resource the services require or `named` names (its practitioner then comes
/// without availability: see `Setup::bystander`); with the row ids of what it names.
pub(crate) async fn scenario(
    exec: &mut Exec<'_>,
    org: &Organisation,
    practitioners: Option<&[i64]>,
    dates: (Date, Date),
    services: Services,
    named: &[i64],
    skip: Option<i64>,
) -> Result<(Scenario, Arc<Ids>)> {
    let setup = setup_cache::current(exec, org).await?;
    let practitioners = setup.practitioner_rows(practitioners);
    let mut scenario = setup.select(org, &practitioners, dates, services);
    let mut resources = setup.required_resource_rows(&scenario);
    resources.extend_from_slice(named);
    resources.sort_unstable();
    resources.dedup();
    let taken = scenario_rows::window_appointments(
        exec,
        org,
        &practitioners,
        &resources,
        day_start_ns(dates.0) - 2 * DAY_NS,
        day_start_ns(dates.1) + 3 * DAY_NS,
        skip,
    )
    .await?;
    let ids = setup.ids();
    let resource_keys: HashMap<i64, &str> = ids
        .resources
        .iter()
        .map(|(k, v)| (*v, k.as_str()))
        .collect();
    let mut present: HashSet<i64> = practitioners.iter().copied().collect();
    scenario.appointments.reserve(taken.len());
    for t in taken {
        let Some(key) = setup.practitioner_key(t.practitioner) else {
            continue;
        };
        if present.insert(t.practitioner)
            && let Some(p) = setup.bystander(t.practitioner)
        {
            scenario.practitioners.push(p);
        }
        let held = t
            .resources
            .iter()
            .filter_map(|r| resource_keys.get(r))
            .map(|k| Text::new(*k).map_err(|e| Error::invalid("stored resource", e.to_string())))
            .collect::<Result<Vec<Text>>>()?;
        scenario.appointments.push(Appointment {
            id: None,
            practitioner: key.clone(),
            patient: None,
            service: None,
            schedule_type: None,
            start: instant(t.start_ns)?,
            end: instant(t.end_ns)?,
            status: Status::Booked,
            buffer_before_minutes: t.buffers.before_minutes,
            buffer_after_minutes: t.buffers.after_minutes,
            series: None,
            resources: held,
        });
    }
    // An appointment keeps the buffers it was booked with even when its service has
    // none any more, so the window may need version 2 where the setup does not.
    scenario.version = scenario.version.max(scenario_rows::version_of(&scenario));
    Ok((scenario, ids))
}

/// A question for open slots, in row ids.
#[derive(Clone, Debug)]
pub struct SlotRequest {
    /// A service bookable from the portal.
    pub service: i64,
    /// Limit to these practitioner rows (a patient's available practitioners).
    pub practitioners: Option<Vec<i64>>,
    /// The first date searched; at most 366 dates from `from` to `to`, inclusive.
    pub from: Date,
    pub to: Date,
    /// When the question is asked: minimum notice and days ahead count from it.
    pub now: Instant,
    /// Whether to offer only slots whose schedule type allows telehealth (rule 8).
    pub telehealth: bool,
}

/// The open slots of a service over dates, exactly as `openslot slots --scenario` on
/// the organisation's export would answer.
pub async fn open_slots(
    exec: &mut Exec<'_>,
    org: &Organisation,
    req: &SlotRequest,
) -> Result<(EngineInput, Vec<Slot>)> {
    search(exec, org, req, Offer::AnyService).await
}

/// The open slots a patient is offered: [`open_slots`], except that a service not
/// bookable from the portal is not found, exactly as one that does not exist. The
/// check reads the setup the window is built from, so it costs no statement.
pub async fn open_portal_slots(
    exec: &mut Exec<'_>,
    org: &Organisation,
    req: &SlotRequest,
) -> Result<(EngineInput, Vec<Slot>)> {
    search(exec, org, req, Offer::PortalServices).await
}

/// Which services a slot search answers for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Offer {
    /// Any of the organisation's services (a portal-only one is refused by name).
    AnyService,
    /// Only services bookable from the portal; any other is not found.
    PortalServices,
}

async fn search(
    exec: &mut Exec<'_>,
    org: &Organisation,
    req: &SlotRequest,
    offer: Offer,
) -> Result<(EngineInput, Vec<Slot>)> {
    let dates =
        DateRange::new(req.from, req.to).map_err(|e| Error::invalid("to", e.to_string()))?;
    let input = load(
        exec,
        org,
        &Window {
            service: Some(req.service),
            practitioners: req.practitioners.clone(),
            from: req.from,
            to: req.to,
            skip_appointment: None,
            resources: Vec::new(),
        },
    )
    .await?;
    if offer == Offer::PortalServices
        && !input
            .service_ix(req.service)
            .is_some_and(|ix| input.model.service(ix).book_from_portal)
    {
        return Err(Error::NotFound("service"));
    }
    let portal = portal_query(
        &input,
        req.service,
        req.practitioners.as_deref(),
        req.now,
        req.telehealth,
    )?;
    let slots = input.model.open_slots(&SlotQuery { portal, dates });
    Ok((input, slots))
}

/// A [`SlotRequest`] in scenario keys instead of row ids (the command line's
/// `slots --org`).
#[derive(Clone, Debug)]
pub struct KeyedSlotRequest {
    /// The service's scenario key; an unknown key is refused naming the service.
    pub service: String,
    /// Limit to these practitioners, by scenario key.
    pub practitioners: Option<Vec<String>>,
    pub from: Date,
    pub to: Date,
    pub now: Instant,
    pub telehealth: bool,
}

/// The answer document for a keyed request: what `openslot slots --scenario` prints
/// for the organisation's export with the same query.
pub async fn answer(
    exec: &mut Exec<'_>,
    org: &Organisation,
    req: &KeyedSlotRequest,
) -> Result<slot_engine::Answer> {
    use crate::keys::{Kind, id_of};
    let service = id_of(exec.reborrow(), Kind::Service, org.id, &req.service).await?;
    let practitioners = match &req.practitioners {
        None => None,
        Some(keys) => {
            let mut ids = Vec::with_capacity(keys.len());
            for key in keys {
                ids.push(id_of(exec.reborrow(), Kind::Practitioner, org.id, key).await?);
            }
            Some(ids)
        }
    };
    let (input, slots) = open_slots(
        exec,
        org,
        &SlotRequest {
            service,
            practitioners,
            from: req.from,
            to: req.to,
            now: req.now,
            telehealth: req.telehealth,
        },
    )
    .await?;
    Ok(slot_engine::Answer::new(&input.model, &slots))
}

/// The portal query of a loaded window.
pub(crate) fn portal_query(
    input: &EngineInput,
    service: i64,
    practitioners: Option<&[i64]>,
    now: Instant,
    telehealth: bool,
) -> Result<PortalQuery> {
    let ix = input
        .service_ix(service)
        .ok_or(Error::NotFound("service"))?;
    let query = PortalQuery::for_service(&input.model, ix, now)
        .map_err(|_| Error::invalid("service", "this service is not bookable from the portal"))?;
    let list = practitioners.map(|ids| {
        ids.iter()
            .filter_map(|&id| input.practitioner_ix(id))
            .collect()
    });
    Ok(query
        .with_practitioner_indices(list)
        .with_telehealth(telehealth))
}
