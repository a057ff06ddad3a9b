//! Fuzz target: see `dingclaw_actors::fuzz_entry::frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dingclaw_actors::fuzz_entry::frame(data));
