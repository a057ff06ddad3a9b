//! The entry points of the fuzz targets (`fuzz/`), one per parser that reads what someone
//! else wrote: Stream frames, bot message payloads, the JSON5 config and model answers as
//! server-sent events. Each takes arbitrary bytes and must return without panicking,
//! whatever they are. `tests/fuzz_corpus.rs` replays the checked-in corpora through the same
//! functions, so CI runs every input the fuzzers ever kept even where cargo-fuzz is absent.

use std::path::Path;

use crate::config::{MapEnv, load_str};
use crate::dingtalk::frame::{FrameKind, TOPIC_BOT_MESSAGE};
use crate::dingtalk::{BotMessage, ReplyTarget};

/// A Stream frame as the connection reads it, and the bot message inside a callback.
pub fn frame(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(frame) = crate::dingtalk::frame::Frame::parse(&text) else {
        return;
    };
    let _ = frame.ack().to_json();
    if frame.kind == FrameKind::Callback && frame.topic() == TOPIC_BOT_MESSAGE {
        bot_message(frame.data.as_bytes());
    }
}

/// A bot message payload (a callback's `data`), and what the gateway derives from it.
pub fn bot_message(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = BotMessage::parse(&text) {
        let _ = m.text_for_agent();
        let _ = m.sender();
        let _ = ReplyTarget::from(&m).webhook_expired(0);
    }
}

/// An openclaw.json, through the whole loader (JSON5, substitution, validation). Includes
/// resolve against an empty directory.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = load_str(&text, Path::new("/nonexistent"), &MapEnv::new());
}

/// A streamed model answer.
pub fn sse(data: &[u8]) {
    let _ = crate::provider::openai::assemble_sse(data, "fuzz");
}
