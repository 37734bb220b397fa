//! The rooms-and-equipment pages: the list with a form for a new one, a resource's page
//! (its fields, its availability records and its time out of service), and a record's
//! page (its dates and weekly blocks). Server-rendered forms only: a record's blocks are
//! rows of day boxes and two times, with empty rows to add more.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono_tz::Tz;
use slot_engine::scenario::PortalBlock;
use slot_engine::{WallTime, Weekday};
use store::clinic::{self, Clinic};
use store::resource::{
    self, RecordInput, Resource, ResourceInput, ResourceKind, ResourceRecord, ResourceTimeOff,
};

use super::{NewTimeOff, weekday};
use crate::auth::staff::{Staff, StaffPage};
use crate::clinic_time::{self, local_datetime};
use crate::error::PageError;
use crate::form::{self, FieldErrors, FormData};
use crate::pages::Layout;
use crate::routes::{refused, saved_or_refused, saved_to};
use crate::state::AppState;

/// How many empty block rows a record's form offers, to add blocks without script.
const EMPTY_BLOCK_ROWS: usize = 2;

/// The most block rows a form is read for.
const MAX_BLOCK_ROWS: usize = 50;

/// A resource's form as typed.
#[derive(Debug)]
pub(super) struct Values {
    name: String,
    kind: String,
    clinic_id: String,
    capacity: String,
    always_available: bool,
}

impl Values {
    fn of(r: &Resource) -> Self {
        Values {
            name: r.name.clone(),
            kind: r.kind.as_str().to_owned(),
            clinic_id: r.clinic_id.to_string(),
            capacity: r.capacity.to_string(),
            always_available: r.always_available,
        }
    }

    fn blank() -> Self {
        Values {
            name: String::new(),
            kind: "room".to_owned(),
            clinic_id: String::new(),
            capacity: "1".to_owned(),
            always_available: true,
        }
    }

    fn read(form: &FormData) -> Self {
        Values {
            name: form.get("name"),
            kind: form.get("kind"),
            clinic_id: form.get("clinic_id"),
            capacity: form.get("capacity"),
            always_available: form.checked("always_available"),
        }
    }
}

/// Reads a resource's form, or records why it cannot (every field at once).
fn parse(form: &FormData, values: &Values, errors: &mut FieldErrors) -> Option<ResourceInput> {
    let capacity = form::number(
        errors,
        form,
        "capacity",
        "how many appointments it holds at once",
        1,
    );
    let kind = values.kind.parse::<ResourceKind>().ok();
    if kind.is_none() {
        errors.add("kind", "Choose room or equipment.");
    }
    let clinic_id = values.clinic_id.parse::<i64>().ok();
    if clinic_id.is_none() {
        errors.add("clinic_id", "Choose the clinic it is at.");
    }
    let input = ResourceInput {
        name: values.name.clone(),
        kind: kind.unwrap_or(ResourceKind::Room),
        clinic_id: clinic_id.unwrap_or(-1),
        capacity: capacity.unwrap_or(1),
        always_available: values.always_available,
    };
    if let Err(e) = resource::validate(&input) {
        // Only field errors come from a check without the database.
        let _ = errors.absorb(e);
    }
    errors.is_empty().then_some(input)
}

/// A row of the list.
#[derive(Debug)]
pub(super) struct Row {
    r: Resource,
    availability: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/resources.html")]
pub(super) struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    clinics: Vec<Clinic>,
    errors: FieldErrors,
    values: Values,
}

/// A record as a page lists it.
#[derive(Debug)]
pub(super) struct RecordLine {
    id: i64,
    dates: String,
    blocks: String,
}

/// A stretch out of service as a page lists it.
#[derive(Debug)]
pub(super) struct TimeOffLine {
    id: i64,
    when: String,
    reason: String,
}

/// The new record's and the time off's forms as typed.
#[derive(Debug, Default)]
pub(super) struct ExtraValues {
    record: RecordValues,
    off_start_date: String,
    off_start_time: String,
    off_end_date: String,
    off_end_time: String,
    off_reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/resource.html")]
pub(super) struct EditPage {
    layout: Layout,
    r: Resource,
    clinics: Vec<Clinic>,
    records: Vec<RecordLine>,
    time_off: Vec<TimeOffLine>,
    zone: String,
    errors: FieldErrors,
    values: Values,
    extra: ExtraValues,
    days: &'static [(&'static str, &'static str)],
}

/// One block row of a record's form.
#[derive(Debug, Clone, Default)]
pub(super) struct BlockRow {
    /// Ticked days, Monday first.
    days: [bool; 7],
    start: String,
    end: String,
}

impl BlockRow {
    fn of(b: &PortalBlock) -> Self {
        let mut days = [false; 7];
        for d in &b.days {
            days[d.index()] = true;
        }
        BlockRow {
            days,
            start: b.start.to_string(),
            end: b.end.to_string(),
        }
    }

    fn is_blank(&self) -> bool {
        !self.days.iter().any(|d| *d) && self.start.is_empty() && self.end.is_empty()
    }

    fn day(&self, n: &usize) -> bool {
        self.days.get(*n).copied().unwrap_or(false)
    }
}

/// A record's form as typed.
#[derive(Debug, Default)]
pub(super) struct RecordValues {
    start_date: String,
    end_date: String,
    blocks: Vec<BlockRow>,
}

impl RecordValues {
    fn of(r: &ResourceRecord) -> Self {
        RecordValues {
            start_date: r.dates.start().to_string(),
            end_date: r.dates.end().map(|d| d.to_string()).unwrap_or_default(),
            blocks: r.blocks.iter().map(BlockRow::of).collect(),
        }
        .with_empty_rows()
    }

    fn blank() -> Self {
        RecordValues::default().with_empty_rows()
    }

    /// The rows typed, without blank ones, and then the empty rows to add more.
    fn with_empty_rows(mut self) -> Self {
        self.blocks.retain(|b| !b.is_blank());
        self.blocks
            .extend(std::iter::repeat_n(BlockRow::default(), EMPTY_BLOCK_ROWS));
        self
    }

    fn read(form: &FormData) -> Self {
        let rows = form
            .get("block_rows")
            .parse::<usize>()
            .unwrap_or(0)
            .min(MAX_BLOCK_ROWS);
        let blocks = (0..rows)
            .map(|n| {
                let mut days = [false; 7];
                for d in form.all(&format!("block{n}_day")) {
                    if let Some(d) = weekday(&d) {
                        days[d.index()] = true;
                    }
                }
                BlockRow {
                    days,
                    start: form.get(&format!("block{n}_start")),
                    end: form.get(&format!("block{n}_end")),
                }
            })
            .collect();
        RecordValues {
            start_date: form.get("start_date"),
            end_date: form.get("end_date"),
            blocks,
        }
    }

    /// The input, or the blocks' problems under `blocks`; dates are the store's to
    /// check.
    fn input(&self, errors: &mut FieldErrors) -> Option<RecordInput> {
        let mut blocks = Vec::new();
        for (n, row) in self.blocks.iter().enumerate() {
            if row.is_blank() {
                continue;
            }
            let (Ok(start), Ok(end)) = (row.start.parse::<WallTime>(), row.end.parse::<WallTime>())
            else {
                errors.add(
                    "blocks",
                    format!(
                        "Block {}: enter its start and end as times, e.g. 08:00 and 12:00.",
                        n + 1
                    ),
                );
                continue;
            };
            blocks.push(PortalBlock {
                days: Weekday::ALL
                    .into_iter()
                    .filter(|d| row.days[d.index()])
                    .collect(),
                start,
                end,
            });
        }
        errors.is_empty().then(|| RecordInput {
            start_date: self.start_date.clone(),
            end_date: Some(self.end_date.clone()),
            blocks,
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/resource_record.html")]
pub(super) struct RecordPage {
    layout: Layout,
    r: Resource,
    record_id: i64,
    errors: FieldErrors,
    record: RecordValues,
    days: &'static [(&'static str, &'static str)],
}

/// The weekdays as the block rows show them: scenario spelling and label.
const DAYS: [(&str, &str); 7] = [
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
];

/// `Mon Tue 08:00–12:00; Sat 09:00–13:00`, or `not available` for no block.
fn blocks_text(blocks: &[PortalBlock]) -> String {
    if blocks.is_empty() {
        return "not available".to_owned();
    }
    blocks
        .iter()
        .map(|b| {
            let days: Vec<&str> = b.days.iter().map(|d| DAYS[d.index()].1).collect();
            format!("{} {}–{}", days.join(" "), b.start, b.end)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the list says of a resource's availability: always, or its record in force
/// today in its clinic's zone.
fn availability_summary(
    state: &AppState,
    r: &Resource,
    tz: Tz,
    records: &[&ResourceRecord],
) -> String {
    if r.always_available {
        return "Whenever a practitioner is".to_owned();
    }
    let today = clinic_time::today(state, tz);
    let in_force = records
        .iter()
        .find(|rec| slot_engine::Date::try_from(today).is_ok_and(|d| rec.dates.contains(d)));
    match (in_force, records.is_empty()) {
        (_, true) => "Never: no availability record yet".to_owned(),
        (Some(rec), _) => format!("Today's record: {}", blocks_text(&rec.blocks)),
        (None, _) => format!(
            "No record in force today ({} record{})",
            records.len(),
            if records.len() == 1 { "" } else { "s" }
        ),
    }
}

fn zone_of(clinics: &[Clinic], id: i64) -> Tz {
    clinics
        .iter()
        .find(|c| c.id == id)
        .map_or(chrono_tz::UTC, Clinic::zone)
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: Values,
) -> Result<ListPage, PageError> {
    let mut conn = state.db.conn().await?;
    let clinics = clinic::all(conn.exec(), staff.org.id).await?;
    let records = resource::all_records(conn.exec(), staff.org.id).await?;
    let rows = resource::all(conn.exec(), staff.org.id)
        .await?
        .into_iter()
        .map(|r| {
            let mine: Vec<&ResourceRecord> = records
                .iter()
                .filter(|rec| rec.resource_id == r.id)
                .collect();
            Row {
                availability: availability_summary(
                    state,
                    &r,
                    zone_of(&clinics, r.clinic_id),
                    &mine,
                ),
                r,
            }
        })
        .collect();
    Ok(ListPage {
        layout: Layout::staff(staff, "Rooms & equipment", "setup").await?,
        rows,
        clinics,
        errors,
        values,
    })
}

async fn edit_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
    errors: FieldErrors,
    values: Option<Values>,
    extra: ExtraValues,
) -> Result<EditPage, PageError> {
    let mut conn = state.db.conn().await?;
    let r = resource::get(conn.exec(), staff.org.id, id).await?;
    let clinics = clinic::all(conn.exec(), staff.org.id).await?;
    let tz = zone_of(&clinics, r.clinic_id);
    let records = resource::records(conn.exec(), staff.org.id, id)
        .await?
        .into_iter()
        .map(|rec| RecordLine {
            id: rec.id,
            dates: store::time::record_dates_in_words(rec.dates),
            blocks: blocks_text(&rec.blocks),
        })
        .collect();
    let time_off = resource::time_off(conn.exec(), staff.org.id, id)
        .await?
        .into_iter()
        .map(|t: ResourceTimeOff| TimeOffLine {
            id: t.id,
            when: format!(
                "{} to {}",
                local_datetime(t.start_ns, tz),
                local_datetime(t.end_ns, tz)
            ),
            reason: t.reason.unwrap_or_default(),
        })
        .collect();
    Ok(EditPage {
        layout: Layout::staff(staff, format!("{} (room or equipment)", r.name), "setup").await?,
        values: values.unwrap_or_else(|| Values::of(&r)),
        zone: clinic_time::zone_city(tz),
        r,
        clinics,
        records,
        time_off,
        errors,
        extra,
        days: &DAYS,
    })
}

fn list_path(staff: &Staff) -> String {
    format!("/o/{}/admin/resources", staff.org.slug)
}

fn edit_path(staff: &Staff, id: i64) -> String {
    format!("/o/{}/admin/resources/{id}", staff.org.slug)
}

fn fresh_extra() -> ExtraValues {
    ExtraValues {
        record: RecordValues::blank(),
        ..ExtraValues::default()
    }
}

pub(super) async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    list_view(&state, &staff, FieldErrors::new(), Values::blank()).await
}

pub(super) async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values::read(&form);
    let mut errors = FieldErrors::new();
    if let Some(input) = parse(&form, &values, &mut errors) {
        match super::create(&state, &staff.caller(), &input).await {
            Ok(_) => return saved_to(&staff, &list_path(&staff)).await,
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok(refused(list_view(&state, &staff, errors, values).await?))
}

pub(super) async fn edit_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<EditPage, PageError> {
    staff.admin()?;
    edit_view(&state, &staff, id, FieldErrors::new(), None, fresh_extra()).await
}

pub(super) async fn update_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values::read(&form);
    let mut errors = FieldErrors::new();
    if let Some(input) = parse(&form, &values, &mut errors) {
        match super::update(&state, &staff.caller(), id, &input).await {
            Ok(_) => return saved_to(&staff, &list_path(&staff)).await,
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok(refused(
        edit_view(&state, &staff, id, errors, Some(values), fresh_extra()).await?,
    ))
}

pub(super) async fn delete_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let deleted = super::delete(&state, &staff.caller(), id).await;
    saved_or_refused(&staff, deleted.map(|_| list_path(&staff)), async |errors| {
        edit_view(&state, &staff, id, errors, None, fresh_extra()).await
    })
    .await
}

pub(super) async fn create_record_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let record = RecordValues::read(&form);
    let mut errors = FieldErrors::new();
    if let Some(input) = record.input(&mut errors) {
        match super::create_record(&state, &staff.caller(), id, &input).await {
            Ok(_) => return saved_to(&staff, &edit_path(&staff, id)).await,
            Err(e) => errors.absorb(e)?,
        }
    }
    let extra = ExtraValues {
        record: record.with_empty_rows(),
        ..ExtraValues::default()
    };
    Ok(refused(
        edit_view(&state, &staff, id, errors, None, extra).await?,
    ))
}

async fn record_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
    record_id: i64,
    errors: FieldErrors,
    record: Option<RecordValues>,
) -> Result<RecordPage, PageError> {
    let mut conn = state.db.conn().await?;
    let r = resource::get(conn.exec(), staff.org.id, id).await?;
    let stored = resource::record(conn.exec(), staff.org.id, id, record_id).await?;
    Ok(RecordPage {
        layout: Layout::staff(staff, format!("Availability of {}", r.name), "setup").await?,
        r,
        record_id,
        errors,
        record: record.unwrap_or_else(|| RecordValues::of(&stored)),
        days: &DAYS,
    })
}

pub(super) async fn record_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id, record)): Path<(String, i64, i64)>,
) -> Result<RecordPage, PageError> {
    staff.admin()?;
    record_view(&state, &staff, id, record, FieldErrors::new(), None).await
}

pub(super) async fn update_record_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id, record)): Path<(String, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = RecordValues::read(&form);
    let mut errors = FieldErrors::new();
    if let Some(input) = values.input(&mut errors) {
        match super::update_record(&state, &staff.caller(), id, record, &input).await {
            Ok(_) => return saved_to(&staff, &edit_path(&staff, id)).await,
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok(refused(
        record_view(
            &state,
            &staff,
            id,
            record,
            errors,
            Some(values.with_empty_rows()),
        )
        .await?,
    ))
}

pub(super) async fn delete_record_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id, record)): Path<(String, i64, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let deleted = super::delete_record(&state, &staff.caller(), id, record).await;
    saved_or_refused(
        &staff,
        deleted.map(|()| edit_path(&staff, id)),
        async |errors| record_view(&state, &staff, id, record, errors, None).await,
    )
    .await
}

/// Reads a date and a time field into an instant in the resource's clinic's zone,
/// recording a problem under `field`.
fn local_instant(
    errors: &mut FieldErrors,
    field: &str,
    timezone: &str,
    date: &str,
    time: &str,
) -> Option<i64> {
    let date = clinic_time::parse_date(date);
    let minute = clinic_time::parse_time(time);
    match (date, minute) {
        (Ok(date), Ok(minute)) => match clinic_time::resolve_local(timezone, date, minute) {
            Ok(at) => Some(at.unix_nanos()),
            Err(e) => {
                errors.add(field, e);
                None
            }
        },
        (Err(e), _) | (_, Err(e)) => {
            errors.add(field, e);
            None
        }
    }
}

pub(super) async fn add_time_off_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let extra = ExtraValues {
        record: RecordValues::blank(),
        off_start_date: form.get("off_start_date"),
        off_start_time: form.get("off_start_time"),
        off_end_date: form.get("off_end_date"),
        off_end_time: form.get("off_end_time"),
        off_reason: form.get("off_reason"),
    };
    let timezone = {
        let mut conn = state.db.conn().await?;
        let r = resource::get(conn.exec(), staff.org.id, id).await?;
        clinic::get(conn.exec(), staff.org.id, r.clinic_id)
            .await?
            .timezone
    };
    let mut errors = FieldErrors::new();
    let start = local_instant(
        &mut errors,
        "start",
        &timezone,
        &extra.off_start_date,
        &extra.off_start_time,
    );
    let end = local_instant(
        &mut errors,
        "end",
        &timezone,
        &extra.off_end_date,
        &extra.off_end_time,
    );
    if let (Some(start_ns), Some(end_ns)) = (start, end) {
        let off = NewTimeOff {
            start_ns,
            end_ns,
            reason: Some(extra.off_reason.clone()),
        };
        match super::add_time_off(&state, &staff.caller(), id, &off).await {
            Ok(_) => return saved_to(&staff, &edit_path(&staff, id)).await,
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok(refused(
        edit_view(&state, &staff, id, errors, None, extra).await?,
    ))
}

pub(super) async fn remove_time_off_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id, off)): Path<(String, i64, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let removed = super::remove_time_off(&state, &staff.caller(), id, off).await;
    saved_or_refused(
        &staff,
        removed.map(|()| edit_path(&staff, id)),
        async |errors| edit_view(&state, &staff, id, errors, None, fresh_extra()).await,
    )
    .await
}
