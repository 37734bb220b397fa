//! The pages of *New record from…* and *Temporary change…*: each a small form on one
//! record, reached from the record list and the record's editor, which copies the
//! record instead of repainting it (`store::availability::split`). Once done, the page
//! opens the copy in the editor to paint what changes; refused, it shows the form again
//! with the message under the field, and nothing is changed.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Response;
use store::availability::{self, PractitionerSummary};

use crate::auth::staff::{Staff, StaffPage};
use crate::changes;
use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::pages::Layout;
use crate::routes::saved_or_refused;
use crate::state::AppState;

use super::{
    NEW_RECORD_FROM, TEMPORARY_CHANGE, dates_text, new_record_from_details, record_path,
    temporary_change_details,
};

/// Which of the two changes a page makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Split {
    NewRecordFrom,
    TemporaryChange,
}

/// The form of *New record from…* or *Temporary change…* on one record.
#[derive(Template, WebTemplate)]
#[template(path = "admin/availability_split.html")]
pub(super) struct SplitPage {
    layout: Layout,
    practitioner: PractitionerSummary,
    record_id: i64,
    /// The record's dates, in words.
    dates: String,
    /// *Temporary change…* (two dates) rather than *New record from…* (one).
    temporary: bool,
    /// The first and last dates the form may take (`YYYY-MM-DD`; `max` empty when the
    /// record is open-ended), for the browser's date picker.
    min: String,
    max: String,
    start_date: String,
    end_date: String,
    errors: FieldErrors,
}

impl SplitPage {
    /// Errors that belong to no field of the form (e.g. the setup check's).
    fn other_errors(&self) -> Vec<(&str, &str)> {
        self.errors
            .iter()
            .filter(|(field, _)| *field != "start_date" && *field != "end_date")
            .collect()
    }
}

/// The page, with what was typed and why it was refused.
async fn split_view(
    state: &AppState,
    staff: &Staff,
    (practitioner_id, record_id): (i64, i64),
    split: Split,
    form: &FormData,
    errors: FieldErrors,
) -> Result<SplitPage, PageError> {
    let org = staff.org.id;
    let mut conn = state.db.conn().await?;
    let practitioner = availability::practitioner(conn.exec(), org, practitioner_id).await?;
    let record = availability::get(conn.exec(), org, practitioner_id, record_id).await?;
    drop(conn);
    let dates = record.dates;
    // A new record starts after the record's first day; a temporary change may start on it.
    let min = match split {
        Split::NewRecordFrom => dates.start().add_days(1).unwrap_or(dates.start()),
        Split::TemporaryChange => dates.start(),
    };
    let title = match split {
        Split::NewRecordFrom => "New record from a date",
        Split::TemporaryChange => "Temporary change",
    };
    Ok(SplitPage {
        layout: Layout::staff(
            staff,
            format!("{title}: {}, {}", practitioner.name, dates_text(dates)),
            "setup",
        )
        .await?,
        practitioner,
        record_id,
        dates: dates_text(dates),
        temporary: split == Split::TemporaryChange,
        min: min.to_string(),
        max: dates.end().map(|d| d.to_string()).unwrap_or_default(),
        start_date: form.get("start_date"),
        end_date: form.get("end_date"),
        errors,
    })
}

pub(super) async fn new_record_from_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
) -> Result<SplitPage, PageError> {
    staff.admin()?;
    let ids = (practitioner, record);
    let empty = FormData::default();
    split_view(
        &state,
        &staff,
        ids,
        Split::NewRecordFrom,
        &empty,
        FieldErrors::new(),
    )
    .await
}

/// Ends the record the day before the date posted and starts a copy on it; then opens
/// the copy in the editor.
pub(super) async fn new_record_from_post(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let start_date = form.get("start_date");
    let saved = changes::setup(&state, &staff, NEW_RECORD_FROM, async |tx| {
        let made =
            availability::new_record_from(tx, staff.org.id, practitioner, record, &start_date)
                .await?;
        let details = new_record_from_details(practitioner, &made);
        Ok((made.new.id, Some(record), details))
    })
    .await
    .map(|new| format!("{}?made=new", record_path(&staff, practitioner, new)));
    saved_or_refused(&staff, saved, async |errors| {
        let ids = (practitioner, record);
        split_view(&state, &staff, ids, Split::NewRecordFrom, &form, errors).await
    })
    .await
}

pub(super) async fn temporary_change_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
) -> Result<SplitPage, PageError> {
    staff.admin()?;
    let ids = (practitioner, record);
    let empty = FormData::default();
    split_view(
        &state,
        &staff,
        ids,
        Split::TemporaryChange,
        &empty,
        FieldErrors::new(),
    )
    .await
}

/// Cuts the dates posted out of the record into a copy; then opens the copy in the
/// editor, to paint.
pub(super) async fn temporary_change_post(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let (start_date, end_date) = (form.get("start_date"), form.get("end_date"));
    let saved = changes::setup(&state, &staff, TEMPORARY_CHANGE, async |tx| {
        let made = availability::temporary_change(
            tx,
            staff.org.id,
            practitioner,
            record,
            &start_date,
            &end_date,
        )
        .await?;
        let details = temporary_change_details(practitioner, &made);
        Ok((made.temporary.id, Some(record), details))
    })
    .await
    .map(|temporary| {
        format!(
            "{}?made=temporary",
            record_path(&staff, practitioner, temporary)
        )
    });
    saved_or_refused(&staff, saved, async |errors| {
        let ids = (practitioner, record);
        split_view(&state, &staff, ids, Split::TemporaryChange, &form, errors).await
    })
    .await
}
