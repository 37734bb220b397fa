//! Shared set-up for Openslot's benchmarks (the benchmarks themselves are in
//! `benches/`). Run them with `cargo bench -p benches`.

use slot_engine::synthetic::{ClinicSpec, clinic, mixed_clinic};
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

/// The model of a scenario.
pub fn model(scenario: &Scenario) -> Model {
    Model::new(scenario).expect("synthetic scenarios are valid")
}
