//! Engine benchmarks. Each asserts its result before it is timed.
//!
//! - `search/clinic-200x90`: all open slots of the `gen-clinic` clinic, 200
//!   practitioners × 90 days, fill 0.5 (target ≤ 250 ns per practitioner-day).
//! - `search/mixed-200x90`: the `gen-clinic --mixed` clinic of the same size (target
//!   ≤ 500 ns per practitioner-day).
//! - `first_available/clinic-200x90`: the earliest open slot, which is on the first
//!   day (target < 100 µs).
//! - `first_available/full-200x90`: the clinic fully booked but for one slot on the
//!   last day (target: no slower than `search/clinic-200x90`).
//! - `request/clinic-200x90`, `request/mixed-200x90`: the whole request of `openslot
//!   slots`, from the parsed document to the answer's slots (validation, grids,
//!   occupancy and the search; target ≤ 300 ns per practitioner-day, the mixed clinic
//!   within 2× of that).
//! - `validate/clinic-200x90`, `validate/mixed-200x90`, `validate/mixed-rooms-200x90`:
//!   building the model from the parsed scenario (validation, grids, occupancy).
//! - `search/mixed-buffered-200x90`: the mixed clinic whose visits keep 5 minutes free
//!   before and 10 after (`gen-clinic --mixed --buffers`; target: within 2× of
//!   `search/mixed-200x90`).
//! - `series/portal-52-weeks`, `series/staff-52-weeks`: checking a weekly series of 52
//!   occurrences in the buffered mixed clinic (target < 50 µs).
//! - `search/mixed-rooms-200x90`: the mixed clinic whose 200 practitioners share 30
//!   treatment rooms, every visit needing one (`gen-clinic --mixed --rooms 30`;
//!   target: within 2× of `search/mixed-200x90`); `search/mixed-rooms-120-200x90` the
//!   same with 120 rooms, where most times still have one.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use benches::{mixed, mixed_buffered, mixed_rooms, model, plain};
use slot_engine::{Model, Purpose, SeriesEnd, SeriesRule, StaffBooking};

const PRACTITIONERS: u32 = 200;
const DAYS: u32 = 90;

fn practitioner_days(model: &Model) -> u64 {
    (model.practitioners().len() * model.query().unwrap().dates.len()) as u64
}

fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("search");
    let clinic = model(&plain(PRACTITIONERS, DAYS, 0.5));
    let query = clinic.query().unwrap();
    // 200 practitioners × 65 weekdays × 10 free slots of 20.
    assert_eq!(clinic.open_slots(query).len(), 200 * 65 * 10);
    group.throughput(Throughput::Elements(practitioner_days(&clinic)));
    group.bench_function("clinic-200x90", |b| {
        b.iter(|| black_box(clinic.open_slots(black_box(query))))
    });

    let mixed = model(&mixed(PRACTITIONERS, DAYS));
    let query = mixed.query().unwrap();
    let slots = mixed.open_slots(query);
    assert!(slots.len() > 50_000, "{}", slots.len());
    assert!(slots.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(mixed.clinics().len(), 3);
    group.throughput(Throughput::Elements(practitioner_days(&mixed)));
    group.bench_function("mixed-200x90", |b| {
        b.iter(|| black_box(mixed.open_slots(black_box(query))))
    });

    let buffered = model(&mixed_buffered(PRACTITIONERS, DAYS));
    let query = buffered.query().unwrap();
    let buffered_slots = buffered.open_slots(query);
    assert!(buffered_slots.len() < slots.len());
    assert!(buffered_slots.len() > 40_000, "{}", buffered_slots.len());
    group.throughput(Throughput::Elements(practitioner_days(&buffered)));
    group.bench_function("mixed-buffered-200x90", |b| {
        b.iter(|| black_box(buffered.open_slots(black_box(query))))
    });

    let rooms = model(&mixed_rooms(PRACTITIONERS, DAYS, 30));
    let query = rooms.query().unwrap();
    let room_slots = rooms.open_slots(query);
    assert_eq!(rooms.resources().len(), 30);
    // Rooms, not practitioners, are what runs out: far fewer slots, each holding one.
    assert!(room_slots.len() < slots.len() / 10, "{}", room_slots.len());
    assert!(room_slots.len() > 500, "{}", room_slots.len());
    assert!(
        room_slots
            .iter()
            .take(50)
            .all(|s| rooms.slot_resources(s).len() == 1)
    );
    group.throughput(Throughput::Elements(practitioner_days(&rooms)));
    group.bench_function("mixed-rooms-200x90", |b| {
        b.iter(|| black_box(rooms.open_slots(black_box(query))))
    });

    // Enough rooms that most times still have one: rule 13 is asked of many more
    // candidates that then become slots.
    let plenty = model(&mixed_rooms(PRACTITIONERS, DAYS, 120));
    let query = plenty.query().unwrap();
    let plenty_slots = plenty.open_slots(query);
    assert!(
        plenty_slots.len() > room_slots.len() * 10,
        "{}",
        plenty_slots.len()
    );
    group.throughput(Throughput::Elements(practitioner_days(&plenty)));
    group.bench_function("mixed-rooms-120-200x90", |b| {
        b.iter(|| black_box(plenty.open_slots(black_box(query))))
    });
    group.finish();
}

fn series(c: &mut Criterion) {
    let mut group = c.benchmark_group("series");
    let mut scenario = mixed_buffered(PRACTITIONERS, DAYS);
    scenario.services[0].allow_series = true;
    let clinic = model(&scenario);
    let query = clinic.query().unwrap();
    let first = clinic.first_available(&query.portal, query.dates.from(), 1)[0];
    let rule = SeriesRule::new(1, SeriesEnd::Count(52)).unwrap();
    let occurrences = clinic
        .check_series(
            &query.portal,
            first.practitioner,
            first.start_instant(),
            &rule,
        )
        .unwrap();
    assert_eq!(occurrences.len(), 52);
    // The first is bookable; later ones meet other records, holidays and time off.
    assert!(occurrences[0].answer.is_ok());
    let bookable = occurrences.iter().filter(|o| o.answer.is_ok()).count();
    eprintln!("series/portal-52-weeks: {bookable} of 52 occurrences bookable");
    group.throughput(Throughput::Elements(52));
    group.bench_function("portal-52-weeks", |b| {
        b.iter(|| {
            black_box(clinic.check_series(
                black_box(&query.portal),
                first.practitioner,
                first.start_instant(),
                &rule,
            ))
        })
    });
    let booking = StaffBooking {
        practitioner: first.practitioner,
        start: first.start_instant(),
        duration_minutes: 30,
        purpose: Purpose::Service(query.portal.service()),
        buffers: clinic.service(query.portal.service()).buffers,
        resources: slot_engine::ResourceChoice::Auto,
    };
    assert_eq!(
        clinic.check_staff_series(&booking, &rule).unwrap().len(),
        52
    );
    group.bench_function("staff-52-weeks", |b| {
        b.iter(|| black_box(clinic.check_staff_series(black_box(&booking), &rule)))
    });
    group.finish();
}

fn first_available(c: &mut Criterion) {
    let mut group = c.benchmark_group("first_available");
    let clinic = model(&plain(PRACTITIONERS, DAYS, 0.5));
    let query = clinic.query().unwrap();
    let from = query.dates.from();
    let first = clinic.first_available(&query.portal, from, 1);
    assert_eq!(first[0].start_text(), "2030-01-07T08:00:00-05:00");
    group.bench_function("clinic-200x90", |b| {
        b.iter(|| black_box(clinic.first_available(black_box(&query.portal), from, 1)))
    });

    // Fully booked, but for the last slot of the last day (Friday 2030-04-05 17:30).
    let mut scenario = plain(PRACTITIONERS, DAYS, 1.0);
    let last_day = scenario
        .appointments
        .iter()
        .rposition(|a| a.start.to_string() == "2030-04-05T21:30:00Z")
        .expect("the last slot is booked");
    scenario.appointments.remove(last_day);
    let full = model(&scenario);
    let query = full.query().unwrap();
    let first = full.first_available(&query.portal, from, 1);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].start_text(), "2030-04-05T17:30:00-04:00");
    group.throughput(Throughput::Elements(practitioner_days(&full)));
    group.bench_function("full-200x90", |b| {
        b.iter(|| black_box(full.first_available(black_box(&query.portal), from, 1)))
    });
    group.finish();
}

fn request(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    group.sample_size(20);
    let whole = |scenario: &slot_engine::Scenario| {
        let model = model(scenario);
        let slots = model.open_slots(model.query().unwrap());
        (model, slots)
    };
    let scenario = plain(PRACTITIONERS, DAYS, 0.5);
    let (clinic, slots) = whole(&scenario);
    assert_eq!(slots.len(), 200 * 65 * 10);
    assert_eq!(clinic.appointments().len(), 200 * 65 * 10);
    group.throughput(Throughput::Elements(practitioner_days(&clinic)));
    group.bench_function("clinic-200x90", |b| {
        b.iter(|| black_box(whole(black_box(&scenario))))
    });
    let scenario = mixed(PRACTITIONERS, DAYS);
    let (clinic, slots) = whole(&scenario);
    // The mixed clinic's answer, as the search on a model built beforehand gives it.
    assert_eq!(slots.len(), 117_432);
    group.throughput(Throughput::Elements(practitioner_days(&clinic)));
    group.bench_function("mixed-200x90", |b| {
        b.iter(|| black_box(whole(black_box(&scenario))))
    });
    group.finish();
}

fn validate(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate");
    group.sample_size(20);
    let scenario = plain(PRACTITIONERS, DAYS, 0.5);
    group.bench_function("clinic-200x90", |b| {
        b.iter(|| black_box(model(black_box(&scenario))))
    });
    let scenario = mixed(PRACTITIONERS, DAYS);
    group.bench_function("mixed-200x90", |b| {
        b.iter(|| black_box(model(black_box(&scenario))))
    });
    let scenario = mixed_rooms(PRACTITIONERS, DAYS, 30);
    group.bench_function("mixed-rooms-200x90", |b| {
        b.iter(|| black_box(model(black_box(&scenario))))
    });
    group.finish();
}

criterion_group!(benches, search, first_available, request, validate, series);
criterion_main!(benches);
