//! The question asked of a model: a portal query (service, the patient's
//! practitioners, now, telehealth) and the dates to search.
//!
//! A query names its service and practitioners by the model's indices and is checked
//! against that model when built, as the model's own entities are; a scenario's own
//! `query` becomes one when the model is built ([`Model::query`]). The types are shown
//! at `slot_engine::search::…`, beside the search that answers them.

use crate::calendar::{Date, Instant};
use crate::error::{Error, ValueError};

use super::{Model, PractitionerIx, ServiceIx};

/// The most days one search may cover (`(to − from) + 1`).
pub const MAX_QUERY_DAYS: i64 = 366;

/// An inclusive range of dates, at most 366 days long.
///
/// ```
/// use slot_engine::{Date, DateRange};
/// let r = DateRange::new(Date::new(2026, 3, 2)?, Date::new(2026, 3, 8)?)?;
/// assert_eq!(r.len(), 7);
/// assert!(DateRange::new(Date::new(2026, 3, 8)?, Date::new(2026, 3, 2)?).is_err());
/// # Ok::<(), slot_engine::ValueError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DateRange {
    from: Date,
    to: Date,
}

impl DateRange {
    /// The dates `from ..= to`; `from` must not be after `to`, and the range must not
    /// exceed [`MAX_QUERY_DAYS`], which bounds the work of one search.
    ///
    /// ```
    /// use slot_engine::{Date, DateRange};
    /// let day = Date::new(2026, 3, 2)?;
    /// assert_eq!(DateRange::new(day, day)?.len(), 1);
    /// let err = DateRange::new(day, day.add_days(366).unwrap()).unwrap_err();
    /// assert_eq!(err.to_string(), "range 2026-03-02..=2027-03-03 is 367 days, more than 366");
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn new(from: Date, to: Date) -> Result<Self, ValueError> {
        if from > to {
            return Err(ValueError::new(format!("from {from} is after to {to}")));
        }
        let days = to.days_since(from) + 1;
        if days > MAX_QUERY_DAYS {
            return Err(ValueError::new(format!(
                "range {from}..={to} is {days} days, more than {MAX_QUERY_DAYS}"
            )));
        }
        Ok(Self { from, to })
    }

    /// The first date searched, as a date of each slot's clinic.
    pub fn from(self) -> Date {
        self.from
    }

    /// The last date searched, included; never before [`DateRange::from`].
    pub fn to(self) -> Date {
        self.to
    }

    /// The number of dates, counting both ends: 1 ..= [`MAX_QUERY_DAYS`], never 0, so
    /// there is no `is_empty`.
    ///
    /// ```
    /// use slot_engine::{Date, DateRange};
    /// // February 2028 has 29 days.
    /// let february = DateRange::new(Date::new(2028, 2, 1)?, Date::new(2028, 2, 29)?)?;
    /// assert_eq!(february.len(), 29);
    /// assert_eq!(february.dates().count(), february.len());
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(self) -> usize {
        (self.to.days_since(self.from) + 1) as usize
    }

    /// Whether `date` is in the range.
    ///
    /// ```
    /// use slot_engine::{Date, DateRange};
    /// let week = DateRange::new(Date::new(2026, 3, 2)?, Date::new(2026, 3, 8)?)?;
    /// assert!(week.contains(Date::new(2026, 3, 8)?));
    /// assert!(!week.contains(Date::new(2026, 3, 9)?));
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn contains(self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }

    /// The dates, in order.
    ///
    /// ```
    /// use slot_engine::{Date, DateRange};
    /// let r = DateRange::new(Date::new(2026, 2, 27)?, Date::new(2026, 3, 1)?)?;
    /// let days: Vec<String> = r.dates().map(|d| d.to_string()).collect();
    /// assert_eq!(days, ["2026-02-27", "2026-02-28", "2026-03-01"]);
    /// # Ok::<(), slot_engine::ValueError>(())
    /// ```
    pub fn dates(self) -> impl Iterator<Item = Date> {
        (self.from.days()..=self.to.days()).filter_map(Date::from_days)
    }
}

/// Who is asking and for what: a service booked from the portal, by a patient who may
/// see some practitioners, at a given moment.
///
/// ```
/// use slot_engine::{Model, PortalQuery};
/// # let model = Model::from_json(include_bytes!("../../tests/data/scenarios/basic.json")).unwrap();
/// let now = "2026-03-01T12:00:00Z".parse().unwrap();
/// let q = PortalQuery::new(&model, "initial", now)?.with_practitioners(&model, &["christine"])?;
/// assert_eq!(q.practitioners().unwrap().len(), 1);
/// assert!(PortalQuery::new(&model, "no-such-service", now).is_err());
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalQuery {
    pub(crate) service: ServiceIx,
    pub(crate) practitioners: Option<Vec<PractitionerIx>>,
    pub(crate) now: Instant,
    pub(crate) telehealth: bool,
}

impl PortalQuery {
    /// A query for the service with id `service`, which must exist and be bookable
    /// from the portal, seen at `now`, for every practitioner, not only telehealth.
    /// The refusal is an [`Error::Invalid`] whose item is `query`, as when a
    /// scenario's own query names such a service.
    ///
    /// ```
    /// use slot_engine::{Model, PortalQuery};
    /// let model = Model::from_json(br#"{"version": 1, "services": [
    ///   {"id": "initial", "duration_minutes": 45, "book_from_portal": true},
    ///   {"id": "follow-up", "duration_minutes": 30}]}"#)?;
    /// let now = "2026-03-01T12:00:00Z".parse().unwrap();
    /// assert!(PortalQuery::new(&model, "initial", now).is_ok());
    /// let err = PortalQuery::new(&model, "follow-up", now).unwrap_err();
    /// assert_eq!(err.to_string(), r#"query: service "follow-up" is not bookable from the portal"#);
    /// let err = PortalQuery::new(&model, "massage", now).unwrap_err();
    /// assert_eq!(err.to_string(), r#"query: unknown service "massage""#);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn new(model: &Model, service: &str, now: Instant) -> Result<Self, Error> {
        let ix = model
            .service_ix(service)
            .ok_or_else(|| Error::invalid("query", format!("unknown service {service:?}")))?;
        Self::for_service(model, ix, now)
    }

    /// Like [`PortalQuery::new`], with a service index.
    ///
    /// ```
    /// use slot_engine::{Model, PortalQuery};
    /// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/basic.json"))?;
    /// let initial = model.service_ix("initial").unwrap();
    /// let q = PortalQuery::for_service(&model, initial, "2026-03-01T12:00:00Z".parse().unwrap())?;
    /// assert_eq!(q.service(), initial);
    /// assert_eq!(q.practitioners(), None);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn for_service(model: &Model, service: ServiceIx, now: Instant) -> Result<Self, Error> {
        if !model.service(service).book_from_portal {
            return Err(Error::invalid(
                "query",
                format!(
                    "service {:?} is not bookable from the portal",
                    model.service(service).id.as_str()
                ),
            ));
        }
        Ok(Self {
            service,
            practitioners: None,
            now,
            telehealth: false,
        })
    }

    /// Limits the query to the practitioners with these ids (a patient's available
    /// practitioners). Unknown ids are refused; duplicates count once; an empty list
    /// gives no slots.
    ///
    /// ```
    /// use slot_engine::{Model, PortalQuery};
    /// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/basic.json"))?;
    /// let now = "2026-03-01T12:00:00Z".parse().unwrap();
    /// let nobody = PortalQuery::new(&model, "initial", now)?.with_practitioners(&model, &[])?;
    /// assert!(model.first_available(&nobody, "2026-03-02".parse().unwrap(), 1).is_empty());
    /// assert!(PortalQuery::new(&model, "initial", now)?.with_practitioners(&model, &["ghost"]).is_err());
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn with_practitioners(mut self, model: &Model, ids: &[&str]) -> Result<Self, Error> {
        let mut list = ids
            .iter()
            .map(|id| {
                model
                    .practitioner_ix(id)
                    .ok_or_else(|| Error::invalid("query", format!("unknown practitioner {id:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        list.sort_unstable();
        list.dedup();
        self.practitioners = Some(list);
        Ok(self)
    }

    /// Limits the query to these practitioners (`None`: no limit).
    ///
    /// ```
    /// use slot_engine::{Model, PortalQuery};
    /// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/basic.json"))?;
    /// let christine = model.practitioner_ix("christine").unwrap();
    /// let q = PortalQuery::new(&model, "initial", "2026-03-01T12:00:00Z".parse().unwrap())?
    ///     .with_practitioner_indices(Some(vec![christine, christine]));
    /// assert_eq!(q.practitioners(), Some(&[christine][..]));
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn with_practitioner_indices(mut self, list: Option<Vec<PractitionerIx>>) -> Self {
        self.practitioners = list.map(|mut l| {
            l.sort_unstable();
            l.dedup();
            l
        });
        self
    }

    /// Asks only for telehealth slots (rule 8) when `telehealth` is true.
    ///
    /// ```
    /// use slot_engine::{Model, PortalQuery};
    /// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/basic.json"))?;
    /// let now = "2026-03-01T12:00:00Z".parse().unwrap();
    /// let q = PortalQuery::new(&model, "initial", now)?.with_telehealth(true);
    /// // The only schedule type, Physiotherapy, offers no telehealth.
    /// assert!(model.first_available(&q, "2026-03-02".parse().unwrap(), 1).is_empty());
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn with_telehealth(mut self, telehealth: bool) -> Self {
        self.telehealth = telehealth;
        self
    }

    /// The service asked about: its duration is every slot's length, its schedule
    /// types the blocks a slot may lie in.
    pub fn service(&self) -> ServiceIx {
        self.service
    }

    /// The practitioners the search is limited to, sorted and without duplicates, or
    /// `None` for no limit. An empty list gives no slots.
    pub fn practitioners(&self) -> Option<&[PractitionerIx]> {
        self.practitioners.as_deref()
    }

    /// The moment the question is asked (the engine has no clock): the minimum notice
    /// counts from it, and the booking window from its date in each clinic (rule 12).
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Whether only slots under telehealth schedule types are wanted (rule 8).
    pub fn telehealth(&self) -> bool {
        self.telehealth
    }

    /// Whether the practitioner may be offered at all (rule 3).
    pub(crate) fn allows(&self, p: PractitionerIx) -> bool {
        self.practitioners
            .as_ref()
            .is_none_or(|list| list.binary_search(&p).is_ok())
    }
}

/// A portal query over a range of dates: the question [`Model::open_slots`] answers.
///
/// A scenario's own `query` becomes one ([`Model::query`]); the server builds one per
/// request from the signed-in patient and the dates shown.
///
/// ```
/// use slot_engine::{DateRange, Model, PortalQuery, SlotQuery};
/// let model = Model::from_json(include_bytes!("../../tests/data/scenarios/basic.json"))?;
/// let query = SlotQuery {
///     portal: PortalQuery::new(&model, "initial", "2026-03-01T12:00:00Z".parse().unwrap())?,
///     dates: DateRange::new("2026-03-04".parse().unwrap(), "2026-03-04".parse().unwrap()).unwrap(),
/// };
/// assert_eq!(model.open_slots(&query).len(), 10); // Wednesday, 09:00 to 11:15
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotQuery {
    /// Everything but the dates: the service, whose practitioners, at what moment,
    /// and whether only telehealth.
    pub portal: PortalQuery,
    /// The dates to search, each read in the zone of the slot's clinic.
    pub dates: DateRange,
}
