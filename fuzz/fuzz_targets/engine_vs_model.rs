//! Bytes as a small random scenario (buffers and series included): the engine answers
//! as the naive model does
//! (`slot_reference::laws::engine_vs_model`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    slot_reference::laws::engine_vs_model(data);
});
