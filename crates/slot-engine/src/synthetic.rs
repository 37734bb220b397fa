//! Synthetic clinics for benchmarks and side-by-side runs (`openslot gen-clinic`).
//!
//! Deterministic: the same [`ClinicSpec`] always gives the same scenario, whatever the
//! machine. The plain clinic matches the peer harness's `gen_clinic.py` in shape (one
//! clinic in America/Toronto, one schedule type, Mon–Fri 08:00–18:00, a 30-minute
//! service, `round(fill × 20)` appointments per practitioner and weekday); the mixed
//! clinic adds what real clinics have.
//!
//! ```
//! use slot_engine::synthetic::{ClinicSpec, clinic};
//! let spec = ClinicSpec { practitioners: 2, days: 5, fill: 0.25, seed: 1 };
//! let (a, b) = (clinic(spec)?, clinic(ClinicSpec { seed: 2, ..spec })?);
//! // Another seed books other slots, but as many of them: five a day of twenty.
//! assert_ne!(a.appointments, b.appointments);
//! assert_eq!((a.appointments.len(), b.appointments.len()), (2 * 5 * 5, 2 * 5 * 5));
//! // Sizes out of range are refused, naming `openslot gen-clinic`'s flag.
//! assert_eq!(clinic(ClinicSpec { days: 0, ..spec }).unwrap_err().to_string(), "--days must be 1..=366");
//! # Ok::<(), slot_engine::ValueError>(())
//! ```

use crate::calendar::{Date, Instant, WallTime, Weekday};
use crate::error::ValueError;
use crate::model::Buffers;
use crate::scenario::{
    Appointment, AvailabilityRecord, Block, Clinic, PortalBlock, Practitioner, Query, Scenario,
    ScheduleType, Service, Settings, Status, Text, TimeOff,
};
use crate::zone::Zone;

/// The size and randomness of a synthetic clinic.
///
/// ```
/// use slot_engine::synthetic::{ClinicSpec, clinic};
/// let spec = ClinicSpec { practitioners: 3, days: 7, fill: 0.5, seed: 1 };
/// let scenario = clinic(spec)?;
/// assert_eq!(scenario.practitioners.len(), 3);
/// assert_eq!(clinic(spec)?, scenario); // deterministic
/// # Ok::<(), slot_engine::ValueError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClinicSpec {
    /// Number of practitioners (≥ 1).
    pub practitioners: u32,
    /// Number of days queried, from Monday 2030-01-07 (1 ..= 366).
    pub days: u32,
    /// Fraction of each working day's slots already booked, 0 ..= 1.
    pub fill: f64,
    /// The seed of the generator: one seed gives one scenario on every machine.
    pub seed: u64,
}

impl ClinicSpec {
    fn check(&self) -> Result<(), ValueError> {
        if self.practitioners == 0 {
            return Err(ValueError::new(
                "--practitioners must be at least 1".to_owned(),
            ));
        }
        if !(1..=366).contains(&self.days) {
            return Err(ValueError::new("--days must be 1..=366".to_owned()));
        }
        if !(0.0..=1.0).contains(&self.fill) {
            return Err(ValueError::new("--fill must be within 0..=1".to_owned()));
        }
        Ok(())
    }

    fn first_date() -> Date {
        Date::new(2030, 1, 7).expect("a valid date")
    }

    fn dates(&self) -> impl Iterator<Item = Date> {
        let first = Self::first_date();
        (0..i64::from(self.days)).filter_map(move |i| first.add_days(i))
    }
}

/// SplitMix64: a small, fast, seeded generator (not for secrets).
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `k` distinct items of `0..n`, ascending.
    fn sample(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut pool: Vec<usize> = (0..n).collect();
        for i in 0..k.min(n) {
            let j = i + self.below(n - i);
            pool.swap(i, j);
        }
        let mut chosen = pool[..k.min(n)].to_vec();
        chosen.sort_unstable();
        chosen
    }
}

fn text(s: impl Into<String>) -> Text {
    Text::new(s).expect("generated text is not empty")
}

fn time(minutes: u32) -> WallTime {
    WallTime::from_minutes(minutes).expect("generated times are within a day")
}

fn local_instant(zone: Zone, date: Date, minute: u32) -> Option<Instant> {
    let (seconds, _) = zone.resolve(date, minute).earliest()?;
    Instant::from_unix_seconds(seconds).ok()
}

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

/// The plain clinic of `openslot gen-clinic`: one clinic in America/Toronto, one
/// schedule type, practitioners working Mon–Fri 08:00–18:00, one 30-minute service on a
/// 30-minute step, and `round(fill × 20)` of each weekday's twenty slots booked.
///
/// ```
/// use slot_engine::{Model, synthetic::{ClinicSpec, clinic}};
/// let scenario = clinic(ClinicSpec { practitioners: 2, days: 7, fill: 0.5, seed: 1 }).unwrap();
/// assert_eq!(scenario.appointments.len(), 2 * 5 * 10);
/// let model = Model::new(&scenario).unwrap();
/// assert_eq!(model.open_slots(model.query().unwrap()).len(), 2 * 5 * 10);
/// ```
pub fn clinic(spec: ClinicSpec) -> Result<Scenario, ValueError> {
    spec.check()?;
    let zone: Zone = "America/Toronto".parse()?;
    let mut rng = SplitMix64(spec.seed);
    let ids: Vec<String> = (0..spec.practitioners)
        .map(|i| format!("p{i:05}"))
        .collect();
    let per_day = (spec.fill * 20.0 + 0.5).floor() as usize;
    let mut appointments = Vec::new();
    for id in &ids {
        for date in spec.dates() {
            if date.weekday().index() >= 5 {
                continue;
            }
            for k in rng.sample(20, per_day) {
                let minute = 8 * 60 + 30 * k as u32;
                let (Some(start), Some(end)) = (
                    local_instant(zone, date, minute),
                    local_instant(zone, date, minute + 30),
                ) else {
                    continue;
                };
                appointments.push(Appointment {
                    id: None,
                    practitioner: text(id.as_str()),
                    patient: None,
                    service: None,
                    schedule_type: None,
                    start,
                    end,
                    status: Status::Booked,
                    buffer_before_minutes: 0,
                    buffer_after_minutes: 0,
                    series: None,
                    resources: Vec::new(),
                });
            }
        }
    }
    let first = ClinicSpec::first_date();
    Ok(Scenario {
        version: 1,
        settings: Settings {
            resolution_minutes: 5,
            slot_step_minutes: 30,
            min_notice_minutes: 0,
            max_days_ahead: 365,
        },
        clinics: vec![Clinic {
            id: text("clinic"),
            name: None,
            timezone: zone,
            holidays: Vec::new(),
        }],
        schedule_types: vec![schedule_type(
            "general",
            "General",
            Some("clinic"),
            false,
            false,
        )],
        practitioners: ids
            .iter()
            .map(|id| Practitioner {
                id: text(id.as_str()),
                name: None,
                kind: text("physiotherapist"),
                home_clinic: text("clinic"),
                email: None,
                active: true,
                bookable_in_portal: true,
                schedule_types: vec![text("general")],
                availability: vec![AvailabilityRecord {
                    start_date: first,
                    end_date: None,
                    clinic: None,
                    slot_step_minutes: None,
                    blocks: vec![Block {
                        days: WEEKDAYS.to_vec(),
                        start: time(8 * 60),
                        end: time(18 * 60),
                        schedule_type: text("general"),
                    }],
                    portal_blocks: None,
                }],
                time_off: Vec::new(),
            })
            .collect(),
        services: vec![Service {
            id: text("consult"),
            code: None,
            name: Some(text("Consultation")),
            description: None,
            duration_minutes: 30,
            book_from_portal: true,
            portal_conflicts: 1,
            practitioner_type: None,
            schedule_types: vec![text("general")],
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            allow_series: false,
            requires: Vec::new(),
        }],
        patients: Vec::new(),
        resources: Vec::new(),
        appointments,
        query: Some(query(&spec, "consult")),
    })
}

fn schedule_type(
    id: &str,
    name: &str,
    clinic: Option<&str>,
    allow_conflicts: bool,
    telehealth: bool,
) -> ScheduleType {
    ScheduleType {
        id: text(id),
        code: None,
        name: Some(text(name)),
        clinic: clinic.map(text),
        default_duration_minutes: 30,
        allow_conflicts,
        telehealth,
        background_color: "#cfe8ff".parse().expect("valid colour"),
        font_color: "#0b2a4a".parse().expect("valid colour"),
    }
}

fn query(spec: &ClinicSpec, service: &str) -> Query {
    let first = ClinicSpec::first_date();
    Query {
        service: text(service),
        from: first,
        to: first
            .add_days(i64::from(spec.days) - 1)
            .expect("within range"),
        practitioners: None,
        now: "2030-01-01T00:00:00Z".parse().expect("valid instant"),
        telehealth: false,
    }
}

/// The mixed clinic of `openslot gen-clinic --mixed`: the same size as [`clinic`], with
/// three clinics in different zones (Toronto with daylight saving, Kolkata at +05:30,
/// Kathmandu at +05:45), holidays, two or three records per practitioner with slot steps
/// 15, 30 and 20, portal overlays, group schedule types that allow three bookings per
/// slot, a telehealth type usable at any clinic, off-grid and cancelled appointments,
/// and time off.
///
/// ```
/// use slot_engine::{Model, synthetic::{ClinicSpec, mixed_clinic}};
/// let scenario = mixed_clinic(ClinicSpec { practitioners: 6, days: 90, fill: 0.5, seed: 7 }).unwrap();
/// assert_eq!(scenario.clinics.len(), 3);
/// let model = Model::new(&scenario).unwrap();
/// assert!(!model.open_slots(model.query().unwrap()).is_empty());
/// ```
pub fn mixed_clinic(spec: ClinicSpec) -> Result<Scenario, ValueError> {
    mixed_clinic_with_buffers(spec, Buffers::NONE)
}

/// The buffers of `openslot gen-clinic --mixed --buffers` and of the buffered mixed
/// benchmark: 5 minutes before each visit and 10 after.
pub const MIXED_BUFFERS: Buffers = Buffers {
    before_minutes: 5,
    after_minutes: 10,
};

/// The mixed clinic with `buffers` around its visits (format v2, `openslot gen-clinic
/// --mixed --buffers`): the service keeps them free around every new visit, and every
/// booked visit carries them, so slots next to a visit start a buffer later.
///
/// ```
/// use slot_engine::{Buffers, Model, synthetic::{ClinicSpec, mixed_clinic, mixed_clinic_with_buffers}};
/// let spec = ClinicSpec { practitioners: 6, days: 30, fill: 0.5, seed: 7 };
/// let cleaning = Buffers { before_minutes: 5, after_minutes: 10 };
/// let plain = Model::new(&mixed_clinic(spec).unwrap()).unwrap();
/// let buffered = Model::new(&mixed_clinic_with_buffers(spec, cleaning).unwrap()).unwrap();
/// let count = |m: &Model| m.open_slots(m.query().unwrap()).len();
/// assert!(count(&buffered) < count(&plain));
/// ```
pub fn mixed_clinic_with_buffers(
    spec: ClinicSpec,
    buffers: Buffers,
) -> Result<Scenario, ValueError> {
    spec.check()?;
    let mut rng = SplitMix64(spec.seed ^ 0x006d_6978_6564);
    let first = ClinicSpec::first_date();
    let day = |n: i64| first.add_days(n).expect("within range");
    let sites: [(&str, &str, [i64; 2]); 3] = [
        ("toronto", "America/Toronto", [42, 88]),
        ("kolkata", "Asia/Kolkata", [19, 61]),
        ("kathmandu", "Asia/Kathmandu", [11, 74]),
    ];
    let zones: Vec<Zone> = sites
        .iter()
        .map(|(_, tz, _)| tz.parse().expect("known zone"))
        .collect();
    let clinics = sites
        .iter()
        .zip(&zones)
        .map(|((id, _, holidays), zone)| Clinic {
            id: text(*id),
            name: Some(text(format!(
                "{}{} clinic",
                id[..1].to_uppercase(),
                &id[1..]
            ))),
            timezone: *zone,
            holidays: holidays.iter().map(|&n| day(n)).collect(),
        })
        .collect();
    let mut schedule_types = vec![schedule_type("telehealth", "Telehealth", None, false, true)];
    for (id, _, _) in &sites {
        schedule_types.push(schedule_type(
            &format!("{id}-individual"),
            "Individual",
            Some(id),
            false,
            false,
        ));
        schedule_types.push(schedule_type(
            &format!("{id}-group"),
            "Group",
            Some(id),
            true,
            false,
        ));
    }

    let blocks = |site: &str, saturday: bool| {
        let mut b = vec![
            Block {
                days: WEEKDAYS.to_vec(),
                start: time(8 * 60),
                end: time(12 * 60),
                schedule_type: text(format!("{site}-individual")),
            },
            Block {
                days: WEEKDAYS.to_vec(),
                start: time(13 * 60),
                end: time(15 * 60),
                schedule_type: text(format!("{site}-group")),
            },
            Block {
                days: WEEKDAYS.to_vec(),
                start: time(15 * 60),
                end: time(17 * 60),
                schedule_type: text("telehealth"),
            },
        ];
        if saturday {
            b.push(Block {
                days: vec![Weekday::Sat],
                start: time(9 * 60),
                end: time(13 * 60),
                schedule_type: text(format!("{site}-individual")),
            });
        }
        b
    };
    let mornings = vec![PortalBlock {
        days: WEEKDAYS.to_vec(),
        start: time(8 * 60),
        end: time(11 * 60),
    }];
    let most = vec![
        PortalBlock {
            days: WEEKDAYS.to_vec(),
            start: time(9 * 60),
            end: time(17 * 60),
        },
        PortalBlock {
            days: vec![Weekday::Sat],
            start: time(9 * 60),
            end: time(12 * 60),
        },
    ];

    let mut practitioners = Vec::new();
    let mut appointments = Vec::new();
    let mut n_appointment = 0u32;
    for i in 0..spec.practitioners {
        let id = format!("p{i:05}");
        let site = i as usize % sites.len();
        let (site_id, _, _) = sites[site];
        let zone = zones[site];
        let saturday = i % 4 == 0;
        let three = i % 3 != 2;
        let mut records = vec![AvailabilityRecord {
            start_date: day(-30),
            end_date: Some(day(29)),
            clinic: None,
            slot_step_minutes: Some(15),
            blocks: blocks(site_id, saturday),
            portal_blocks: None,
        }];
        if three {
            records.push(AvailabilityRecord {
                start_date: day(30),
                end_date: Some(day(59)),
                clinic: None,
                slot_step_minutes: Some(30),
                blocks: blocks(site_id, saturday),
                portal_blocks: Some(mornings.clone()),
            });
            records.push(AvailabilityRecord {
                start_date: day(60),
                end_date: None,
                clinic: None,
                slot_step_minutes: Some(20),
                blocks: blocks(site_id, saturday),
                portal_blocks: Some(most.clone()),
            });
        } else {
            records.push(AvailabilityRecord {
                start_date: day(30),
                end_date: None,
                clinic: None,
                slot_step_minutes: Some(20),
                blocks: blocks(site_id, saturday),
                portal_blocks: Some(most.clone()),
            });
        }
        let mut time_off = Vec::new();
        for date in spec.dates() {
            let weekday = date.weekday().index();
            let working: Vec<u32> = match weekday {
                0..=4 => (0..8)
                    .map(|k| 8 * 60 + 30 * k)
                    .chain((0..8).map(|k| 13 * 60 + 30 * k))
                    .collect(),
                5 if saturday => (0..8).map(|k| 9 * 60 + 30 * k).collect(),
                _ => Vec::new(),
            };
            if working.is_empty() {
                continue;
            }
            let k = (spec.fill * working.len() as f64 + 0.5).floor() as usize;
            for j in rng.sample(working.len(), k) {
                let minute = working[j];
                // Group slots (13:00–15:00) take up to three bookings.
                let copies = if (13 * 60..15 * 60).contains(&minute) {
                    1 + rng.below(3)
                } else {
                    1
                };
                for _ in 0..copies {
                    let (Some(start), Some(end)) = (
                        local_instant(zone, date, minute),
                        local_instant(zone, date, minute + 30),
                    ) else {
                        continue;
                    };
                    n_appointment += 1;
                    appointments.push(Appointment {
                        id: Some(text(format!("a{n_appointment:07}"))),
                        practitioner: text(id.as_str()),
                        patient: None,
                        service: Some(text("visit")),
                        schedule_type: None,
                        start,
                        end,
                        status: if rng.below(20) == 0 {
                            Status::Cancelled
                        } else {
                            Status::Booked
                        },
                        buffer_before_minutes: buffers.before_minutes,
                        buffer_after_minutes: buffers.after_minutes,
                        series: None,
                        resources: Vec::new(),
                    });
                }
            }
            // An off-grid appointment on some days: 10:07–10:20 takes two cells.
            if weekday == 2
                && rng.below(2) == 0
                && let (Some(start), Some(end)) = (
                    local_instant(zone, date, 10 * 60 + 7),
                    local_instant(zone, date, 10 * 60 + 20),
                )
            {
                n_appointment += 1;
                appointments.push(Appointment {
                    id: Some(text(format!("a{n_appointment:07}"))),
                    practitioner: text(id.as_str()),
                    patient: None,
                    service: None,
                    schedule_type: None,
                    start,
                    end,
                    status: Status::Pending,
                    buffer_before_minutes: 0,
                    buffer_after_minutes: 0,
                    series: None,
                    resources: Vec::new(),
                });
            }
            // An afternoon off every four weeks.
            if weekday == 4
                && date.days_since(first) % 28 == (i64::from(i) % 4) * 7 + 4
                && let (Some(start), Some(end)) = (
                    local_instant(zone, date, 12 * 60 + 30),
                    local_instant(zone, date, 17 * 60),
                )
            {
                time_off.push(TimeOff { start, end });
            }
        }
        let mut assigned = vec![
            text("telehealth"),
            text(format!("{site_id}-individual")),
            text(format!("{site_id}-group")),
        ];
        assigned.sort();
        practitioners.push(Practitioner {
            id: text(id),
            name: None,
            kind: text(if i % 2 == 0 {
                "physiotherapist"
            } else {
                "massage-therapist"
            }),
            home_clinic: text(site_id),
            email: None,
            active: true,
            bookable_in_portal: true,
            schedule_types: assigned,
            availability: records,
            time_off,
        });
    }
    let mut all_types: Vec<Text> = schedule_types.iter().map(|t| t.id.clone()).collect();
    all_types.sort();
    Ok(Scenario {
        version: if buffers.is_none() { 1 } else { 2 },
        settings: Settings {
            resolution_minutes: 5,
            slot_step_minutes: 15,
            min_notice_minutes: 60,
            max_days_ahead: 365,
        },
        clinics,
        schedule_types,
        practitioners,
        services: vec![Service {
            id: text("visit"),
            code: None,
            name: Some(text("Visit")),
            description: Some(text("A 30-minute visit, in person, in a group or by video")),
            duration_minutes: 30,
            book_from_portal: true,
            portal_conflicts: 3,
            practitioner_type: None,
            schedule_types: all_types,
            buffer_before_minutes: buffers.before_minutes,
            buffer_after_minutes: buffers.after_minutes,
            allow_series: false,
            requires: Vec::new(),
        }],
        patients: Vec::new(),
        resources: Vec::new(),
        appointments,
        query: Some(query(&spec, "visit")),
    })
}

/// The mixed clinic whose visits need a room (format v3, `openslot gen-clinic --mixed
/// --rooms N`): `rooms` treatment rooms spread over the three clinics (the first
/// clinics get one more when they do not divide evenly), the visit requiring any one
/// of them, and every booked visit holding the first room at its clinic that is free
/// for it (a visit that finds none holds none, as a home visit would).
///
/// ```
/// use slot_engine::{Model, synthetic::{ClinicSpec, mixed_clinic, mixed_clinic_with_rooms}};
/// let spec = ClinicSpec { practitioners: 12, days: 14, fill: 0.5, seed: 7 };
/// let plain = Model::new(&mixed_clinic(spec).unwrap()).unwrap();
/// let rooms = Model::new(&mixed_clinic_with_rooms(spec, 2).unwrap()).unwrap();
/// assert_eq!(rooms.resources().len(), 2);
/// // Twelve practitioners share two rooms: fewer slots are open.
/// let count = |m: &Model| m.open_slots(m.query().unwrap()).len();
/// assert!(count(&rooms) < count(&plain));
/// # assert!(count(&rooms) > 0);
/// ```
pub fn mixed_clinic_with_rooms(spec: ClinicSpec, rooms: u32) -> Result<Scenario, ValueError> {
    if !(1..=10_000).contains(&rooms) {
        return Err(ValueError::new("--rooms must be 1..=10000".to_owned()));
    }
    let mut scenario = mixed_clinic(spec)?;
    scenario.version = 3;
    let sites: Vec<Text> = scenario.clinics.iter().map(|c| c.id.clone()).collect();
    let mut by_site: Vec<Vec<Text>> = vec![Vec::new(); sites.len()];
    for n in 0..rooms {
        let site = n as usize % sites.len();
        let id = text(format!("room-{:04}", n + 1));
        by_site[site].push(id.clone());
        scenario.resources.push(crate::scenario::Resource {
            id,
            name: Some(text(format!("Room {}", n + 1))),
            kind: crate::scenario::ResourceKind::Room,
            clinic: sites[site].clone(),
            capacity: 1,
            availability: None,
            time_off: Vec::new(),
        });
    }
    scenario.services[0].requires = vec![scenario.resources.iter().map(|r| r.id.clone()).collect()];
    // Each practitioner's visits are at their home clinic; rooms there are handed out
    // in start order to the first one free (each room's last end so far).
    let home: std::collections::HashMap<&str, usize> = scenario
        .practitioners
        .iter()
        .map(|p| {
            let site = sites.iter().position(|s| *s == p.home_clinic).unwrap_or(0);
            (p.id.as_str(), site)
        })
        .collect();
    let mut order: Vec<usize> = (0..scenario.appointments.len())
        .filter(|&i| scenario.appointments[i].status.occupies_time())
        .collect();
    order.sort_by_key(|&i| scenario.appointments[i].start);
    let mut free_from: Vec<Vec<Option<Instant>>> =
        by_site.iter().map(|list| vec![None; list.len()]).collect();
    let mut held: Vec<(usize, Text)> = Vec::new();
    for i in order {
        let a = &scenario.appointments[i];
        let site = home[a.practitioner.as_str()];
        let buffers = Buffers {
            before_minutes: a.buffer_before_minutes,
            after_minutes: a.buffer_after_minutes,
        };
        let (from, to) = buffers.around(a.start, a.end);
        if let Some(room) = free_from[site]
            .iter()
            .position(|end| end.is_none_or(|end| end <= from))
        {
            free_from[site][room] = Some(to);
            held.push((i, by_site[site][room].clone()));
        }
    }
    for (i, room) in held {
        scenario.appointments[i].resources = vec![room];
    }
    Ok(scenario)
}
