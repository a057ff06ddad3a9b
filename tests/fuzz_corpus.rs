//! Replays every input of the checked-in fuzz corpora (`fuzz/corpus/<target>/`) through the
//! fuzz targets' entry points, so each input a fuzzer kept (and each crash it found, once
//! fixed) is checked on every CI run, with or without cargo-fuzz. Each runs on a thread with
//! a smaller stack than a worker's, so deep nesting that would overflow a real worker thread fails here too.

use std::path::Path;

use dingclaw_actors::fuzz_entry;

fn replay(target: &str, entry: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "{target}: a corpus of seeds is checked in"
    );
    for file in files {
        let data = std::fs::read(&file).unwrap();
        // 1 MiB: half the stack of the worker threads these parsers run on (2 MiB, Rust's
        // default), in a debug build, whose frames are larger than a release build's.
        let run = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || entry(&data))
            .unwrap()
            .join();
        assert!(run.is_ok(), "{target}: {} panicked", file.display());
    }
}

#[test]
fn frame_corpus() {
    replay("frame", fuzz_entry::frame);
}

#[test]
fn bot_message_corpus() {
    replay("bot_message", fuzz_entry::bot_message);
}

#[test]
fn config_corpus() {
    replay("config", fuzz_entry::config);
}

#[test]
fn sse_corpus() {
    replay("sse", fuzz_entry::sse);
}
