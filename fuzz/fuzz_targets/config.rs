//! Fuzz target: see `dingclaw_actors::fuzz_entry::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dingclaw_actors::fuzz_entry::config(data));
