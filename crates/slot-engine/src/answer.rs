//! The answer document: `{"slots": [...]}` with ids and local times, as `openslot
//! slots` prints it.
//!
//! ```
//! use slot_engine::{Answer, Model};
//! let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
//! let answer = Answer::new(&model, &model.open_slots(model.query().unwrap()));
//! let expected: Answer =
//!     serde_json::from_slice(include_bytes!("../tests/data/scenarios/basic.expected.json")).unwrap();
//! assert_eq!(answer, expected);
//! # Ok::<(), slot_engine::Error>(())
//! ```

use std::io;

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::search::Slot;

/// An answer, as JSON values: what `openslot slots --scenario` prints.
///
/// ```
/// use slot_engine::{Answer, Model};
/// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
/// let answer = Answer::new(&model, &model.open_slots(model.query().unwrap()));
/// assert_eq!(answer.slots[0].start, "2026-03-02T10:00:00-05:00");
/// assert_eq!(answer.slots[0].practitioner, "christine");
/// # Ok::<(), slot_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The open slots, in answer order.
    pub slots: Vec<AnswerSlot>,
}

/// One slot of an [`Answer`]: a [`Slot`] with the scenario's ids in place of the
/// model's indices, and its times as text.
///
/// Two answers are equal when their slots are, field by field, which is how the worked
/// scenarios compare answers: as JSON values, whatever the spacing or key order.
///
/// ```
/// use slot_engine::AnswerSlot;
/// let slot: AnswerSlot = serde_json::from_str(r#"{"start": "2026-03-02T10:00:00-05:00",
///   "end": "2026-03-02T10:45:00-05:00", "practitioner": "christine", "clinic": "toronto",
///   "schedule_type": "physio"}"#).unwrap();
/// assert_eq!(serde_json::to_string(&slot).unwrap(), concat!(
///     r#"{"practitioner":"christine","clinic":"toronto","schedule_type":"physio","#,
///     r#""start":"2026-03-02T10:00:00-05:00","end":"2026-03-02T10:45:00-05:00"}"#));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSlot {
    /// The id of the practitioner offered.
    pub practitioner: String,
    /// The id of the clinic the slot is at, whose offsets `start` and `end` are in.
    pub clinic: String,
    /// The id of the schedule type whose blocks hold the slot.
    pub schedule_type: String,
    /// `YYYY-MM-DDTHH:MM:SS±HH:MM` in the clinic's offset at the start.
    pub start: String,
    /// `YYYY-MM-DDTHH:MM:SS±HH:MM` in the clinic's offset at the end.
    pub end: String,
    /// v3: the ids of the resources the slot would hold, one per requirement of the
    /// service in its order; left out when the service requires none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
}

impl Answer {
    /// The answer for `slots` of `model`, in the order given (the search's order is the
    /// answer's). It is the same document [`write_answer_json`] streams, built in
    /// memory.
    ///
    /// ```
    /// use slot_engine::{Answer, Model, write_answer_json};
    /// let model = Model::from_json(include_bytes!("../tests/data/scenarios/two-clinics.json"))?;
    /// let slots = model.open_slots(model.query().unwrap());
    /// let answer = Answer::new(&model, &slots);
    /// let mut streamed = Vec::new();
    /// write_answer_json(&model, &slots, &mut streamed).unwrap();
    /// assert_eq!(serde_json::to_vec(&answer).unwrap(), streamed);
    /// # Ok::<(), slot_engine::Error>(())
    /// ```
    pub fn new(model: &Model, slots: &[Slot]) -> Answer {
        Answer {
            slots: slots
                .iter()
                .map(|s| AnswerSlot {
                    practitioner: model.practitioner(s.practitioner).id.to_string(),
                    clinic: model.clinic(s.clinic).id.to_string(),
                    schedule_type: model.schedule_type(s.schedule_type).id.to_string(),
                    start: s.start_text(),
                    end: s.end_text(),
                    resources: model
                        .slot_resources(s)
                        .into_iter()
                        .map(|r| model.resource(r).id.to_string())
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Writes the answer for `slots` as compact JSON, without building it in memory first
/// (an answer can hold hundreds of thousands of slots).
///
/// ```
/// use slot_engine::{Model, write_answer_json};
/// let model = Model::from_json(include_bytes!("../tests/data/scenarios/basic.json"))?;
/// let mut out = Vec::new();
/// write_answer_json(&model, &model.open_slots(model.query().unwrap())[..1], &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), concat!(
///     r#"{"slots":[{"practitioner":"christine","clinic":"toronto","schedule_type":"physio","#,
///     r#""start":"2026-03-02T10:00:00-05:00","end":"2026-03-02T10:45:00-05:00"}]}"#));
/// # Ok::<(), slot_engine::Error>(())
/// ```
pub fn write_answer_json(
    model: &Model,
    slots: &[Slot],
    out: &mut impl io::Write,
) -> io::Result<()> {
    let quoted = |s: &str| serde_json::to_string(s).expect("strings serialize");
    let practitioners: Vec<String> = model
        .practitioners()
        .iter()
        .map(|p| quoted(p.id.as_str()))
        .collect();
    let clinics: Vec<String> = model
        .clinics()
        .iter()
        .map(|c| quoted(c.id.as_str()))
        .collect();
    let types: Vec<String> = model
        .schedule_types()
        .iter()
        .map(|t| quoted(t.id.as_str()))
        .collect();
    out.write_all(b"{\"slots\":[")?;
    let mut line = String::with_capacity(256);
    for (i, s) in slots.iter().enumerate() {
        line.clear();
        if i > 0 {
            line.push(',');
        }
        line.push_str("{\"practitioner\":");
        line.push_str(&practitioners[s.practitioner.index()]);
        line.push_str(",\"clinic\":");
        line.push_str(&clinics[s.clinic.index()]);
        line.push_str(",\"schedule_type\":");
        line.push_str(&types[s.schedule_type.index()]);
        line.push_str(",\"start\":\"");
        s.write_start(&mut line).expect("writing to a String");
        line.push_str("\",\"end\":\"");
        s.write_end(&mut line).expect("writing to a String");
        line.push('"');
        let resources = model.slot_resources(s);
        if !resources.is_empty() {
            line.push_str(",\"resources\":[");
            for (n, r) in resources.into_iter().enumerate() {
                if n > 0 {
                    line.push(',');
                }
                line.push_str(&quoted(model.resource(r).id.as_str()));
            }
            line.push(']');
        }
        line.push('}');
        out.write_all(line.as_bytes())?;
    }
    out.write_all(b"]}")
}
