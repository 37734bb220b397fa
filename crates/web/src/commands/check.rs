//! `openslot check --scenario FILE --practitioner ID --start RFC3339 [--staff …]
//! [--every-weeks N (--count C | --until DATE)]`.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;
use serde_json::json;
use slot_engine::{
    Date, Instant, Model, Occurrence, Purpose, ResourceChoice, SeriesEnd, SeriesRule, StaffBooking,
};

use crate::commands::{Failure, read_input};

/// Arguments of `openslot check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The scenario file, or `-` for standard input; its query gives the service,
    /// `now` and the patient's practitioners.
    #[arg(long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// The practitioner, by their id in the scenario.
    #[arg(long, value_name = "ID")]
    pub practitioner: String,
    /// The proposed start, RFC 3339 with an offset.
    #[arg(long, value_name = "RFC3339")]
    pub start: String,
    /// Check a front-desk booking (docs/scenario.md, *Checking one staff booking*)
    /// instead.
    #[arg(long, requires = "duration")]
    pub staff: bool,
    /// The staff booking's length in minutes.
    #[arg(long, value_name = "M", requires = "staff", value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub duration: Option<u32>,
    /// The service booked (staff bookings).
    #[arg(
        long,
        value_name = "ID",
        requires = "staff",
        conflicts_with = "schedule_type"
    )]
    pub service: Option<String>,
    /// The schedule type booked (staff bookings).
    #[arg(long, value_name = "ID", requires = "staff")]
    pub schedule_type: Option<String>,
    /// The rooms and equipment the staff booking holds, by id, comma-separated;
    /// without it the engine chooses for the service's requirements (v3).
    #[arg(long, value_name = "ID,…", requires = "staff", value_delimiter = ',')]
    pub resources: Option<Vec<String>>,
    /// Check a weekly series from the start instead (docs/scenario.md, *Series*):
    /// every N weeks, 1 to 4.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4))]
    pub every_weeks: Option<u32>,
    /// How many occurrences the series has, 2 to 52.
    #[arg(
        long,
        value_name = "C",
        requires = "every_weeks",
        conflicts_with = "until",
        value_parser = clap::value_parser!(u32).range(2..=52)
    )]
    pub count: Option<u32>,
    /// The last date of the series, YYYY-MM-DD.
    #[arg(long, value_name = "DATE", requires = "every_weeks")]
    pub until: Option<String>,
}

/// Prints whether the booking may go in.
pub(crate) fn run(args: &CheckArgs) -> Result<(), Failure> {
    let bad = |message: String| Failure::BadInput(message);
    let model = Model::from_json(&read_input(&args.scenario)?).map_err(|e| bad(e.to_string()))?;
    let practitioner = model.practitioner_ix(&args.practitioner).ok_or_else(|| {
        bad(format!(
            "--practitioner: unknown practitioner {:?}",
            args.practitioner
        ))
    })?;
    let start: Instant = args
        .start
        .parse()
        .map_err(|e| bad(format!("--start: {e}")))?;
    let answer = if args.staff {
        let purpose = match (&args.service, &args.schedule_type) {
            (Some(id), _) => Purpose::Service(
                model
                    .service_ix(id)
                    .ok_or_else(|| bad(format!("--service: unknown service {id:?}")))?,
            ),
            (None, Some(id)) => Purpose::ScheduleType(
                model
                    .schedule_type_ix(id)
                    .ok_or_else(|| bad(format!("--schedule-type: unknown schedule type {id:?}")))?,
            ),
            (None, None) => Purpose::Unspecified,
        };
        let resources = match &args.resources {
            None => ResourceChoice::Auto,
            Some(ids) => ResourceChoice::Chosen(
                ids.iter()
                    .map(|id| {
                        model
                            .resource_ix(id)
                            .ok_or_else(|| bad(format!("--resources: unknown resource {id:?}")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        let booking = StaffBooking {
            practitioner,
            start,
            duration_minutes: args
                .duration
                .expect("clap requires --duration with --staff"),
            purpose,
            buffers: model.new_booking_buffers(purpose),
            resources,
        };
        let resource_ids = |held: Vec<slot_engine::ResourceIx>| -> Vec<String> {
            held.into_iter()
                .map(|r| model.resource(r).id.to_string())
                .collect()
        };
        let staff_answer = |answer: Result<_, Vec<slot_engine::OverrideReason>>, at: Instant| {
            let held = resource_ids(model.staff_resources(&StaffBooking {
                start: at,
                ..booking.clone()
            }));
            let mut v = match answer {
                Ok(_) => json!({"ok": true}),
                Err(reasons) => json!({
                    "ok": false,
                    "needs_override": reasons.iter().map(|r: &slot_engine::OverrideReason| r.message.as_str()).collect::<Vec<_>>(),
                }),
            };
            if !held.is_empty() {
                v["resources"] = json!(held);
            }
            v
        };
        match series_rule(args)? {
            None => staff_answer(model.check_staff(&booking), start),
            Some(rule) => {
                let occurrences = model
                    .check_staff_series(&booking, &rule)
                    .map_err(series_refused)?;
                let all = occurrences.iter().all(|o| o.answer.is_ok());
                let list: Vec<Value> = occurrences
                    .iter()
                    .map(|o| {
                        let answer = staff_answer(o.answer.clone(), o.start.unwrap_or(start));
                        occurrence(&model, o, answer)
                    })
                    .collect();
                json!({"ok": all, "occurrences": list})
            }
        }
    } else {
        let query = model
            .query()
            .ok_or_else(|| bad("scenario: a query is required".to_owned()))?;
        let portal_answer =
            |answer: &Result<slot_engine::Slot, slot_engine::Rejection>| match answer {
                Ok(slot) => {
                    let held: Vec<String> = model
                        .slot_resources(slot)
                        .into_iter()
                        .map(|r| model.resource(r).id.to_string())
                        .collect();
                    if held.is_empty() {
                        json!({"bookable": true})
                    } else {
                        json!({"bookable": true, "resources": held})
                    }
                }
                Err(rejection) => json!({
                    "bookable": false,
                    "rule": rejection.rule.number(),
                    "reason": rejection.reason,
                }),
            };
        match series_rule(args)? {
            None => portal_answer(&model.check(&query.portal, practitioner, start)),
            Some(rule) => {
                let service = model.service(query.portal.service());
                if !service.allow_series {
                    return Err(bad(format!(
                        "scenario: {} cannot be booked online as a series",
                        service.name
                    )));
                }
                let occurrences = model
                    .check_series(&query.portal, practitioner, start, &rule)
                    .map_err(series_refused)?;
                let all = occurrences.iter().all(|o| o.answer.is_ok());
                let list: Vec<Value> = occurrences
                    .iter()
                    .map(|o| occurrence(&model, o, portal_answer(&o.answer)))
                    .collect();
                json!({"bookable": all, "occurrences": list})
            }
        }
    };
    println!("{answer}");
    Ok(())
}

/// A series refused as a whole: its end date leaves too few or too many occurrences,
/// or its start or end lies outside the dates the format holds.
fn series_refused(e: slot_engine::ValueError) -> Failure {
    let message = e.to_string();
    let flag = if message.starts_with("until") {
        "--until"
    } else {
        "--start"
    };
    Failure::BadInput(format!("{flag}: {message}"))
}

/// The series the flags ask for, if any.
fn series_rule(args: &CheckArgs) -> Result<Option<SeriesRule>, Failure> {
    let bad = |message: String| Failure::BadInput(message);
    let Some(every) = args.every_weeks else {
        return Ok(None);
    };
    let end = match (args.count, &args.until) {
        (Some(n), None) => SeriesEnd::Count(n),
        (None, Some(text)) => SeriesEnd::Until(
            text.parse::<Date>()
                .map_err(|e| bad(format!("--until: {e}")))?,
        ),
        _ => return Err(bad("--every-weeks needs --count or --until".to_owned())),
    };
    SeriesRule::new(every, end)
        .map(Some)
        .map_err(|e| bad(format!("--every-weeks: {e}")))
}

/// One occurrence as the command prints it: date and start, then its answer's fields.
fn occurrence<T>(model: &Model, o: &Occurrence<T>, answer: Value) -> Value {
    let mut v = json!({"date": o.date.to_string(), "start": o.start_text(model)});
    if let (Value::Object(out), Value::Object(fields)) = (&mut v, answer) {
        out.extend(fields);
    }
    v
}
