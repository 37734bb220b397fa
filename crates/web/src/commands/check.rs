//! `openslot check --scenario FILE --practitioner ID --start RFC3339 [--staff …]`.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use slot_engine::{Instant, Model, Purpose, StaffBooking};

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
        let booking = StaffBooking {
            practitioner,
            start,
            duration_minutes: args
                .duration
                .expect("clap requires --duration with --staff"),
            purpose,
            buffers: slot_engine::Buffers::NONE,
        };
        match model.check_staff(&booking) {
            Ok(_) => json!({"ok": true}),
            Err(reasons) => json!({
                "ok": false,
                "needs_override": reasons.iter().map(|r| r.message.as_str()).collect::<Vec<_>>(),
            }),
        }
    } else {
        let query = model
            .query()
            .ok_or_else(|| bad("scenario: a query is required".to_owned()))?;
        match model.check(&query.portal, practitioner, start) {
            Ok(_) => json!({"bookable": true}),
            Err(rejection) => json!({
                "bookable": false,
                "rule": rejection.rule.number(),
                "reason": rejection.reason,
            }),
        }
    };
    println!("{answer}");
    Ok(())
}
