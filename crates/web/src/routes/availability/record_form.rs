//! The record form (dates, clinic and scheduling interval) as the list's create form
//! and the editor's save form both show it, and its reading into the store's input.

use store::availability::{Record, RecordInput};

use crate::form::{FieldErrors, FormData};

/// What the record form shows: as stored, or as typed when it was refused.
#[derive(Clone, Debug, Default)]
pub(super) struct RecordValues {
    pub(super) start_date: String,
    pub(super) end_date: String,
    pub(super) clinic_id: String,
    pub(super) slot_step_minutes: String,
}

impl RecordValues {
    pub(super) fn of(record: &Record) -> Self {
        RecordValues {
            start_date: record.dates.start().to_string(),
            end_date: record
                .dates
                .end()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            clinic_id: record.clinic_id.map(|c| c.to_string()).unwrap_or_default(),
            slot_step_minutes: record
                .slot_step_minutes
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }
    }

    pub(super) fn from_form(form: &FormData) -> Self {
        RecordValues {
            start_date: form.get("start_date"),
            end_date: form.get("end_date"),
            clinic_id: form.get("clinic_id"),
            slot_step_minutes: form.get("slot_step_minutes"),
        }
    }

    /// The store's input, or the errors of fields that are not numbers.
    pub(super) fn input(&self, errors: &mut FieldErrors) -> RecordInput {
        let number = |errors: &mut FieldErrors, field: &str, value: &str, message: &str| {
            if value.is_empty() {
                return None;
            }
            value.parse::<i64>().map_or_else(
                |_| {
                    errors.add(field, message);
                    None
                },
                Some,
            )
        };
        RecordInput {
            start_date: self.start_date.clone(),
            end_date: Some(self.end_date.clone()).filter(|d| !d.is_empty()),
            clinic_id: number(
                errors,
                "clinic_id",
                &self.clinic_id,
                "Choose the clinic from the list.",
            ),
            slot_step_minutes: number(
                errors,
                "slot_step_minutes",
                &self.slot_step_minutes,
                "Enter the scheduling interval as a whole number of minutes, e.g. 15.",
            ),
        }
    }

    /// Whether `clinic` is the one chosen (for `selected`).
    pub(super) fn has_clinic(&self, clinic: &i64) -> bool {
        self.clinic_id == clinic.to_string()
    }
}
