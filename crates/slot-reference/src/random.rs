//! Small random scenarios for property tests and fuzzing, built from a byte string
//! (so proptest can shrink it and libFuzzer can mutate it).
//!
//! They aim at the hard parts of the spec: daylight-saving zones (Toronto, London,
//! Lord Howe with its 30-minute shift, Kathmandu at +05:45), dates around their
//! transitions, off-grid appointments and time off, portal overlays, several records
//! with different steps, capacities above one, holidays, telehealth, practitioner
//! lists and booking windows; in about four of ten (format v2), buffers on the
//! service and on some appointments, on and off the grid; and in about four of ten
//! (format v3), rooms and equipment at the clinics, with capacities, records and time
//! out of service, that the service requires and appointments hold. Every scenario
//! built is valid.

use slot_engine::scenario::{
    Appointment, AvailabilityRecord, Block, Clinic, PortalBlock, Practitioner, Query, Resource,
    ResourceKind, ResourceRecord, Scenario, ScheduleType, Service, Settings, Status, Text, TimeOff,
};
use slot_engine::{Date, Instant, WallTime, Weekday};

/// Reads numbers from a byte string; zeros once it runs out.
#[derive(Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// A number in `0..n` (n ≥ 1).
    pub fn below(&mut self, n: u32) -> u32 {
        let x = u32::from(self.byte()) << 8 | u32::from(self.byte());
        x % n.max(1)
    }

    /// True with probability about `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }
}

/// Zones with interesting rules, and dates near their transitions.
pub const ZONES: [(&str, [&str; 2]); 5] = [
    ("America/Toronto", ["2026-03-08", "2026-11-01"]),
    ("Europe/London", ["2026-03-29", "2026-10-25"]),
    ("Australia/Lord_Howe", ["2026-04-05", "2026-10-04"]),
    ("Asia/Kathmandu", ["2026-06-15", "2026-12-31"]),
    ("UTC", ["2026-01-01", "2026-07-04"]),
];

fn text(s: impl Into<String>) -> Text {
    Text::new(s).expect("not empty")
}

fn date(s: &str) -> Date {
    s.parse().expect("valid date")
}

fn minutes(m: u32) -> WallTime {
    WallTime::from_minutes(m).expect("within a day")
}

/// A valid random scenario with a query.
pub fn scenario(b: &mut Bytes<'_>) -> Scenario {
    let r = b.pick(&[1, 5, 15]);
    let steps: Vec<u32> = [1, 5, 10, 15, 20, 30, 45, 60]
        .into_iter()
        .filter(|s| s % r == 0)
        .collect();
    let settings = Settings {
        resolution_minutes: r,
        slot_step_minutes: b.pick(&steps),
        min_notice_minutes: b.pick(&[0, 0, 30, 90, 1440]),
        max_days_ahead: b.pick(&[365, 365, 365, 3, 10, 0]),
    };
    // The query's dates: around one zone's transition.
    let (zone0, transitions) = ZONES[b.below(ZONES.len() as u32) as usize];
    let centre = date(b.pick(&transitions));
    let from = centre
        .add_days(i64::from(b.below(4)) - 2)
        .expect("in range");
    let to = from.add_days(i64::from(b.below(5))).expect("in range");

    let n_clinics = 1 + b.below(3);
    let clinics: Vec<Clinic> = (0..n_clinics)
        .map(|i| Clinic {
            id: text(format!("c{i}")),
            name: None,
            timezone: (if i == 0 {
                zone0
            } else {
                ZONES[b.below(ZONES.len() as u32) as usize].0
            })
            .parse()
            .expect("known zone"),
            holidays: if b.chance(25) {
                vec![from.add_days(i64::from(b.below(5))).expect("in range")]
            } else {
                Vec::new()
            },
        })
        .collect();
    let n_types = 1 + b.below(4);
    let schedule_types: Vec<ScheduleType> = (0..n_types)
        .map(|i| ScheduleType {
            id: text(format!("t{i}")),
            code: None,
            name: None,
            clinic: if b.chance(30) {
                None
            } else {
                Some(clinics[b.below(n_clinics) as usize].id.clone())
            },
            default_duration_minutes: 30,
            allow_conflicts: b.chance(35),
            telehealth: b.chance(35),
            background_color: "#ffffff".parse().expect("colour"),
            font_color: "#000000".parse().expect("colour"),
        })
        .collect();

    let n_practitioners = 1 + b.below(3);
    let kinds = ["physio", "massage"];
    let mut practitioners = Vec::new();
    let mut appointments = Vec::new();
    for i in 0..n_practitioners {
        let id = format!("p{i}");
        let mut assigned: Vec<Text> = schedule_types
            .iter()
            .filter(|_| b.chance(70))
            .map(|t| t.id.clone())
            .collect();
        if assigned.is_empty() && b.chance(80) {
            assigned.push(schedule_types[0].id.clone());
        }
        let mut availability = Vec::new();
        if !assigned.is_empty() {
            // One or two records: split the dates around the query at a random point.
            let split = from.add_days(i64::from(b.below(6)) - 1).expect("in range");
            let two = b.chance(40);
            let first_start = from.add_days(-i64::from(b.below(3))).expect("in range");
            let bounds: Vec<(Date, Option<Date>)> = if two {
                let second = (
                    split,
                    if b.chance(50) {
                        None
                    } else {
                        Some(to.add_days(2).expect("in range"))
                    },
                );
                match split.add_days(-1).filter(|d| *d >= first_start) {
                    Some(first_end) => vec![(first_start, Some(first_end)), second],
                    None => vec![second],
                }
            } else {
                vec![(first_start, if b.chance(50) { None } else { Some(to) })]
            };
            for (start_date, end_date) in bounds {
                if end_date.is_some_and(|e| e < start_date) {
                    continue;
                }
                availability.push(record(
                    b, r, &steps, &assigned, &clinics, start_date, end_date,
                ));
            }
        }
        let time_off = (0..b.below(3))
            .map(|_| {
                let start = instant_near(b, from);
                let len = 1 + i64::from(b.below(240)) * 60 + i64::from(b.below(60));
                TimeOff {
                    start,
                    end: Instant::from_unix_seconds(start.unix_seconds() + len).expect("in range"),
                }
            })
            .collect();
        for _ in 0..b.below(10) {
            let start = instant_near(b, from);
            let len = 60 * i64::from(1 + b.below(90)) + i64::from(b.below(3)) * 17;
            appointments.push(Appointment {
                id: None,
                practitioner: text(id.as_str()),
                patient: None,
                service: None,
                schedule_type: None,
                start,
                end: Instant::from_unix_seconds(start.unix_seconds() + len).expect("in range"),
                status: b.pick(&[
                    Status::Booked,
                    Status::Booked,
                    Status::Pending,
                    Status::Cancelled,
                    Status::NoShow,
                ]),
                buffer_before_minutes: 0,
                buffer_after_minutes: 0,
                series: None,
                resources: Vec::new(),
            });
        }
        practitioners.push(Practitioner {
            id: text(id.as_str()),
            name: None,
            kind: text(b.pick(&kinds)),
            home_clinic: clinics[b.below(n_clinics) as usize].id.clone(),
            email: None,
            active: b.chance(90),
            bookable_in_portal: b.chance(90),
            schedule_types: assigned,
            availability,
            time_off,
        });
    }
    let service_types: Vec<Text> = schedule_types
        .iter()
        .filter(|_| b.chance(75))
        .map(|t| t.id.clone())
        .collect();
    let durations: Vec<u32> = vec![r, 2 * r, 7, 20, 30, 45, 60, 90, 25];
    let service = Service {
        id: text("svc"),
        code: None,
        name: None,
        description: None,
        duration_minutes: b.pick(&durations),
        book_from_portal: true,
        portal_conflicts: 1 + b.below(3),
        practitioner_type: if b.chance(25) {
            Some(text(b.pick(&kinds)))
        } else {
            None
        },
        schedule_types: service_types,
        buffer_before_minutes: 0,
        buffer_after_minutes: 0,
        allow_series: false,
        requires: Vec::new(),
    };
    let practitioner_ids: Vec<Text> = practitioners.iter().map(|p| p.id.clone()).collect();
    let query_practitioners = if b.chance(30) {
        Some(
            practitioner_ids
                .iter()
                .filter(|_| b.chance(60))
                .cloned()
                .collect(),
        )
    } else {
        None
    };
    let now = if b.chance(60) {
        Instant::from_unix_seconds(from.midnight_seconds_utc() - 86_400 * i64::from(b.below(3)))
            .expect("in range")
    } else {
        instant_near(b, from)
    };
    // Version 2 last, so that a short byte string still gives a v1 scenario: buffers
    // on the service and on some appointments, off the grid as often as on it.
    let mut service = service;
    let mut version = 1;
    if b.chance(40) {
        let sizes = [0, 0, 5, 10, 15, 7, 30, 60];
        service.buffer_before_minutes = b.pick(&sizes);
        service.buffer_after_minutes = b.pick(&sizes);
        for a in &mut appointments {
            if b.chance(50) {
                a.buffer_before_minutes = b.pick(&sizes);
                a.buffer_after_minutes = b.pick(&sizes);
            }
        }
        service.allow_series = b.chance(50);
        version = 2;
    }
    // Version 3 after that: rooms and equipment the service requires and some
    // appointments hold, few enough that they fill up.
    let mut resources = Vec::new();
    if b.chance(40) {
        let n = 1 + b.below(4);
        for i in 0..n {
            let clinic = if b.chance(75) {
                clinics[0].id.clone()
            } else {
                clinics[b.below(n_clinics) as usize].id.clone()
            };
            resources.push(resource(b, r, i, clinic, from, to));
        }
        let ids: Vec<Text> = resources.iter().map(|x| x.id.clone()).collect();
        // Each resource in at most one of up to two requirements.
        let mut requires: Vec<Vec<Text>> = vec![Vec::new(), Vec::new()];
        for id in &ids {
            match b.below(4) {
                0 => {}
                k => requires[(k as usize - 1).min(1)].push(id.clone()),
            }
        }
        if b.chance(20) {
            // Repeats within a requirement count once.
            if let Some(first) = requires[0].first().cloned() {
                requires[0].push(first);
            }
        }
        requires.retain(|list| !list.is_empty());
        service.requires = requires;
        for a in &mut appointments {
            if b.chance(60) {
                a.resources = ids.iter().filter(|_| b.chance(50)).cloned().collect();
            }
        }
        version = 3;
    }
    Scenario {
        version,
        settings,
        clinics,
        schedule_types,
        practitioners,
        services: vec![service],
        patients: Vec::new(),
        resources,
        appointments,
        query: Some(Query {
            service: text("svc"),
            from,
            to,
            practitioners: query_practitioners,
            now,
            telehealth: b.chance(20),
        }),
    }
}

trait MidnightUtc {
    fn midnight_seconds_utc(self) -> i64;
}

impl MidnightUtc for Date {
    fn midnight_seconds_utc(self) -> i64 {
        self.naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp()
    }
}

/// An instant within the days around `day`, often on a whole minute, sometimes not.
fn instant_near(b: &mut Bytes<'_>, day: Date) -> Instant {
    let base = day.midnight_seconds_utc() - 86_400;
    let minute = i64::from(b.below(7 * 1440));
    let seconds = if b.chance(20) {
        i64::from(b.below(60))
    } else {
        0
    };
    Instant::from_unix_seconds(base + minute * 60 + seconds).expect("in range")
}

/// A resource at `clinic`: capacity 1 to 3, always available or by one or two records
/// of random blocks, sometimes out of service near the query.
fn resource(b: &mut Bytes<'_>, r: u32, i: u32, clinic: Text, from: Date, to: Date) -> Resource {
    let cells = 1440 / r;
    let availability = if b.chance(50) {
        None
    } else {
        let mut records = Vec::new();
        let split = from.add_days(i64::from(b.below(5))).expect("in range");
        let spans: Vec<(Date, Option<Date>)> = if b.chance(40) {
            vec![
                (from.add_days(-3).expect("in range"), split.add_days(-1)),
                (split, Some(to.add_days(2).expect("in range"))),
            ]
        } else {
            vec![(
                from.add_days(-i64::from(b.below(3))).expect("in range"),
                None,
            )]
        };
        for (start_date, end_date) in spans {
            if end_date.is_some_and(|e| e < start_date) {
                continue;
            }
            let blocks = (0..b.below(4))
                .map(|_| {
                    let a = b.below(cells);
                    let e = (a + 1 + b.below(600 / r + 1)).min(cells);
                    PortalBlock {
                        days: Weekday::ALL.into_iter().filter(|_| b.chance(70)).collect(),
                        start: minutes(a * r),
                        end: minutes(e * r),
                    }
                })
                .collect();
            records.push(ResourceRecord {
                start_date,
                end_date,
                blocks,
            });
        }
        Some(records)
    };
    let time_off = if b.chance(25) {
        let start = instant_near(b, from);
        let len = 60 * i64::from(1 + b.below(180)) + i64::from(b.below(60));
        vec![TimeOff {
            start,
            end: Instant::from_unix_seconds(start.unix_seconds() + len).expect("in range"),
        }]
    } else {
        Vec::new()
    };
    Resource {
        id: text(format!("r{i}")),
        name: None,
        kind: if b.chance(50) {
            ResourceKind::Room
        } else {
            ResourceKind::Equipment
        },
        clinic,
        capacity: 1 + b.below(3),
        availability,
        time_off,
    }
}

fn record(
    b: &mut Bytes<'_>,
    r: u32,
    steps: &[u32],
    assigned: &[Text],
    clinics: &[Clinic],
    start_date: Date,
    end_date: Option<Date>,
) -> AvailabilityRecord {
    let cells = 1440 / r;
    let mut blocks = Vec::new();
    for day in Weekday::ALL {
        // Up to three stretches with increasing boundaries, each of one schedule type.
        let mut at = b.below(cells / 2);
        for _ in 0..b.below(4) {
            if at >= cells {
                break;
            }
            let len = 1 + b.below((cells - at).min(240 / r + 1));
            let end = (at + len).min(cells);
            blocks.push(Block {
                days: vec![day],
                start: minutes(at * r),
                end: minutes(end * r),
                schedule_type: assigned[b.below(assigned.len() as u32) as usize].clone(),
            });
            at = end + if b.chance(50) { 0 } else { b.below(8) };
        }
    }
    let portal_blocks = if b.chance(40) {
        Some(
            (0..b.below(4))
                .map(|_| {
                    let a = b.below(cells);
                    let e = (a + 1 + b.below(120 / r + 1)).min(cells);
                    PortalBlock {
                        days: Weekday::ALL.into_iter().filter(|_| b.chance(60)).collect(),
                        start: minutes(a * r),
                        end: minutes(e * r),
                    }
                })
                .collect(),
        )
    } else {
        None
    };
    AvailabilityRecord {
        start_date,
        end_date,
        clinic: if b.chance(40) {
            Some(clinics[b.below(clinics.len() as u32) as usize].id.clone())
        } else {
            None
        },
        slot_step_minutes: if b.chance(50) {
            Some(b.pick(steps))
        } else {
            None
        },
        blocks,
        portal_blocks,
    }
}
