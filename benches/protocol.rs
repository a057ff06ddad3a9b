//! The DingTalk side of one message: parse the Stream frame, serialise its ACK, read the bot
//! message in its `data`, and the msgId dedup check, on a typical group message.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use dingclaw_actors::dingtalk::bot_message::BotMessage;
use dingclaw_actors::dingtalk::dedup::{DEFAULT_DEDUP_CAPACITY, DEFAULT_DEDUP_TTL, Dedup};
use dingclaw_actors::dingtalk::frame::Frame;
use serde_json::json;

/// A group @mention as DingTalk pushes it (docs/dingtalk-protocol.md 3.1).
fn typical_frame() -> String {
    let data = json!({
        "conversationId": "cidqOq8V2wT3F0mYJ0QzJz1pQ==",
        "conversationType": "2",
        "conversationTitle": "Ops team",
        "chatbotCorpId": "dingcorp4f2b3c",
        "chatbotUserId": "$:LWCP_v1:$botuserid0001",
        "robotCode": "dingbench0001",
        "msgId": "msgYWJjZGVmZ2hpamtsbW5vcA==",
        "msgtype": "text",
        "text": {"content": " what is the weather in Beijing tomorrow?"},
        "senderNick": "Zhang San",
        "senderId": "$:LWCP_v1:$sender0001",
        "senderStaffId": "manager1234",
        "senderCorpId": "dingcorp4f2b3c",
        "senderPlatform": "Mac",
        "isAdmin": false,
        "isInAtList": true,
        "atUsers": [{"dingtalkId": "$:LWCP_v1:$botuserid0001"}],
        "createAt": 1_763_900_000_000i64,
        "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=c0ffee0123456789",
        "sessionWebhookExpiredTime": 1_763_905_400_000i64,
    });
    json!({
        "specVersion": "1.0",
        "type": "CALLBACK",
        "headers": {
            "appId": "app-bench", "connectionId": "conn-0001", "contentType": "application/json",
            "messageId": "4ae7c1f0-1bd2-4c7b-9d1e-0f3b8f1d2a11", "time": "1763900000000",
            "topic": "/v1.0/im/bot/messages/get",
        },
        "data": data.to_string(),
    })
    .to_string()
}

fn frame(c: &mut Criterion) {
    let text = typical_frame();
    c.bench_function("frame/parse", |b| {
        b.iter(|| Frame::parse(black_box(&text)).expect("valid frame"))
    });
    let parsed = Frame::parse(&text).expect("valid frame");
    c.bench_function("frame/ack_json", |b| {
        b.iter(|| black_box(&parsed).ack().to_json())
    });
    c.bench_function("frame/bot_message", |b| {
        b.iter(|| BotMessage::parse(black_box(&parsed.data)).expect("valid message"))
    });
    c.bench_function("frame/parse_ack_message", |b| {
        b.iter(|| {
            let f = Frame::parse(black_box(&text)).expect("valid frame");
            let ack = f.ack().to_json();
            let m = BotMessage::parse(&f.data).expect("valid message");
            (ack, m)
        })
    });
}

fn dedup(c: &mut Criterion) {
    // Full to its capacity, as after a busy hour: the check is against 100,000 ids.
    let now = Instant::now();
    let mut d = Dedup::new(DEFAULT_DEDUP_TTL, DEFAULT_DEDUP_CAPACITY);
    let ids: Vec<String> = (0..DEFAULT_DEDUP_CAPACITY)
        .map(|i| format!("msg{i:012}"))
        .collect();
    for id in &ids {
        d.first_time(id, now);
    }
    c.bench_function("dedup/redelivery", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 7919) % ids.len();
            d.first_time(black_box(&ids[i]), now)
        })
    });
    let fresh: Vec<String> = (0..1_000_000).map(|i| format!("new{i:012}")).collect();
    c.bench_function("dedup/new_message", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) % fresh.len();
            d.first_time(black_box(&fresh[i]), now)
        })
    });
}

criterion_group!(benches, frame, dedup);
criterion_main!(benches);
