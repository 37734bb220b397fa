//! Shared set-up for Openslot's benchmarks (the benchmarks themselves are in
//! `benches/`). Run them with `cargo bench -p benches`.

use slot_engine::synthetic::{
    ClinicSpec, MIXED_BUFFERS, clinic, mixed_clinic, mixed_clinic_with_buffers,
    mixed_clinic_with_rooms,
};
use slot_engine::{Model, Scenario};

/// The `gen-clinic` clinic of `practitioners` × `days`, fill 0.5, seed 1.
pub fn plain(practitioners: u32, days: u32, fill: f64) -> Scenario {
    clinic(ClinicSpec {
        practitioners,
        days,
        fill,
        seed: 1,
    })
    .expect("valid spec")
}

/// The `gen-clinic --mixed` clinic of `practitioners` × `days`, fill 0.5, seed 1.
pub fn mixed(practitioners: u32, days: u32) -> Scenario {
    mixed_clinic(ClinicSpec {
        practitioners,
        days,
        fill: 0.5,
        seed: 1,
    })
    .expect("valid spec")
}

/// The `gen-clinic --mixed --buffers` clinic: the mixed clinic whose visits keep 5
/// minutes free before and 10 after.
pub fn mixed_buffered(practitioners: u32, days: u32) -> Scenario {
    mixed_clinic_with_buffers(
        ClinicSpec {
            practitioners,
            days,
            fill: 0.5,
            seed: 1,
        },
        MIXED_BUFFERS,
    )
    .expect("valid spec")
}

/// The `gen-clinic --mixed --rooms N` clinic: the mixed clinic whose visits each need
/// one of `rooms` treatment rooms shared by its three clinics.
pub fn mixed_rooms(practitioners: u32, days: u32, rooms: u32) -> Scenario {
    mixed_clinic_with_rooms(
        ClinicSpec {
            practitioners,
            days,
            fill: 0.5,
            seed: 1,
        },
        rooms,
    )
    .expect("valid spec")
}

/// The model of a scenario.
pub fn model(scenario: &Scenario) -> Model {
    Model::new(scenario).expect("synthetic scenarios are valid")
}
