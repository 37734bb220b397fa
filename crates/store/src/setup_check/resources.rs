//! The setup check's rooms and equipment: what a clinic would want to hear about them
//! before patients find fewer times than expected.
//!
//! - a service's need that no resource can meet where the service has hours: none of
//!   its resources is at a clinic where the service's schedule types have blocks in the
//!   coming weeks;
//! - a service offered online that lets more patients share a slot than one of its
//!   needs holds at once (the need's resources' capacities together);
//! - a resource available only by its records that no record covers for some of the
//!   coming weeks (it is not available at all then).
//!
//! Read from the rows (resources, their records, services' needs) so that the notes do
//! not depend on how the engine's input carries resources; the clinics a service has
//! hours at come from the engine's model, as the rest of the check.

use std::collections::{BTreeMap, HashSet};

use slot_engine::Date;

use super::{Fix, Kind, Problem, ServiceCheck};
use crate::db::Exec;
use crate::error::Result;
use crate::resource::{self, Resource, ResourceRecord};

/// What the resource notes need from the rest of the check.
pub(super) struct Inputs<'a> {
    /// The first and last dates looked at.
    pub from: Date,
    pub to: Date,
    /// For each service (row id): its portal flag, how many may share a slot online,
    /// and the clinics (row ids) where its schedule types have blocks in the horizon.
    pub services: &'a BTreeMap<i64, ServiceFacts>,
}

/// What the notes need to know of one service.
#[derive(Debug, Default)]
pub(super) struct ServiceFacts {
    pub name: String,
    pub book_from_portal: bool,
    pub portal_conflicts: i64,
    pub clinics_with_hours: HashSet<i64>,
    /// The clinics' names, in the order found, for the message.
    pub clinic_names: Vec<String>,
}

/// `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `a, b or c`.
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The stretches of `from..=to` no record covers.
fn uncovered(records: &[&ResourceRecord], from: Date, to: Date) -> Vec<(Date, Date)> {
    let mut gaps: Vec<(Date, Date)> = Vec::new();
    let mut day = Some(from);
    while let Some(d) = day.filter(|d| *d <= to) {
        if !records.iter().any(|r| r.dates.contains(d)) {
            match gaps.last_mut() {
                Some((_, end)) if end.add_days(1) == Some(d) => *end = d,
                _ => gaps.push((d, d)),
            }
        }
        day = d.add_days(1);
    }
    gaps
}

fn span_text((a, b): (Date, Date)) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a} to {b}")
    }
}

/// Adds the services' resource notes to their checks, and answers the resources' own.
pub(super) async fn check(
    exec: &mut Exec<'_>,
    org: i64,
    inputs: &Inputs<'_>,
    services: &mut [ServiceCheck],
) -> Result<Vec<Problem>> {
    let resources = resource::all(exec.reborrow(), org).await?;
    let records = resource::all_records(exec.reborrow(), org).await?;
    let links = resource::requirement_links(exec.reborrow(), org).await?;
    let needs = resource::requirements_by_service(&links);
    let by_id = |id: i64| resources.iter().find(|r| r.id == id);
    for check in services.iter_mut() {
        let (Some(facts), Some(service_needs)) =
            (inputs.services.get(&check.id), needs.get(&check.id))
        else {
            continue;
        };
        for need in service_needs {
            let need: Vec<&Resource> = need.iter().filter_map(|id| by_id(*id)).collect();
            let names: Vec<&str> = need.iter().map(|r| r.name.as_str()).collect();
            let what = if names.len() == 1 {
                names[0].to_owned()
            } else {
                format!("one of {}", or_list(&names))
            };
            if !need
                .iter()
                .any(|r| facts.clinics_with_hours.contains(&r.clinic_id))
            {
                let mut at: Vec<&str> = need.iter().map(|r| r.clinic_name.as_str()).collect();
                at.sort_unstable();
                at.dedup();
                let hours: Vec<&str> = facts.clinic_names.iter().map(String::as_str).collect();
                let message = if hours.is_empty() {
                    format!(
                        "{} needs {what}, and its schedule types have no hours at any clinic in the coming weeks",
                        facts.name
                    )
                } else {
                    format!(
                        "{} needs {what} (at {}), but its schedule types have hours only at {} in the coming weeks: it cannot be booked until a room or machine it needs is at one of those clinics",
                        facts.name,
                        and_list(&at),
                        and_list(&hours),
                    )
                };
                check.problems.push(Problem {
                    kind: Kind::NeedNotWhereHours,
                    message,
                    fix: Fix::Service(check.id),
                });
            }
            let together: i64 = need.iter().map(|r| r.capacity).sum();
            if facts.book_from_portal && facts.portal_conflicts > together && !need.is_empty() {
                check.problems.push(Problem {
                    kind: Kind::NeedSmallerThanConflicts,
                    message: format!(
                        "{} lets {} patients share a slot online, but {what} {} only {together} appointment{} at once: at most {together} can book the same time",
                        facts.name,
                        facts.portal_conflicts,
                        if need.len() == 1 { "holds" } else { "hold" },
                        if together == 1 { "" } else { "s" },
                    ),
                    fix: Fix::Service(check.id),
                });
            }
        }
    }
    let mut notes = Vec::new();
    for r in resources.iter().filter(|r| !r.always_available) {
        let own: Vec<&ResourceRecord> = records
            .iter()
            .filter(|rec| rec.resource_id == r.id)
            .collect();
        let gaps = uncovered(&own, inputs.from, inputs.to);
        if gaps.is_empty() {
            continue;
        }
        let message = if gaps == [(inputs.from, inputs.to)] {
            format!(
                "{} is available only by its availability records, and none covers the coming weeks: it is not available at all, so no service that needs it can be booked",
                r.name
            )
        } else {
            let spans: Vec<String> = gaps.into_iter().map(span_text).collect();
            let spans: Vec<&str> = spans.iter().map(String::as_str).collect();
            format!(
                "{} is available only by its availability records, and none covers {}: it is not available then",
                r.name,
                and_list(&spans)
            )
        };
        notes.push(Problem {
            kind: Kind::ResourceNoRecord,
            message,
            fix: Fix::Resource(r.id),
        });
    }
    Ok(notes)
}
