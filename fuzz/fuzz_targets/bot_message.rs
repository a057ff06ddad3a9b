//! Fuzz target: see `dingclaw_actors::fuzz_entry::bot_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dingclaw_actors::fuzz_entry::bot_message(data));
