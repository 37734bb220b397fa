//! Arbitrary bytes as a scenario document: never a panic or a hang, and the laws of
//! `slot_reference::laws::scenario_bytes` hold.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    slot_reference::laws::scenario_bytes(data);
});
