//! The simulator is compatible with DingTalk's own SDK: the official Python Stream SDK, with
//! only its base URL pointed at the simulator, receives a group message and a DM and its
//! `reply_text` answers land in the simulator's record.

mod support;

use std::process::{Child, Command};
use std::time::Duration;

use dingclaw::sim::{NewGroup, UserMessage};
use support::python::python_with_sdk;
use support::*;

/// Kills the bot process when the test ends, pass or fail.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[actix_rt::test]
async fn official_python_sdk_talks_to_the_simulator() {
    let python = python_with_sdk();
    let server = start_sim(fast_sim()).await;
    let (id, secret) = bot(&server, "pysdkbot");
    let group = server
        .sim
        .add_group(NewGroup {
            bots: vec![id.clone()],
            members: vec!["alice".into()],
            title: Some("SDK group".into()),
            ..NewGroup::default()
        })
        .unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/sdk_echo_bot.py");
    let _bot = KillOnDrop(
        Command::new(python)
            .arg(script)
            .env("DINGTALK_OPENAPI_ENDPOINT", &server.url)
            .env("CLIENT_ID", &id)
            .env("CLIENT_SECRET", &secret)
            .spawn()
            .expect("start the SDK bot"),
    );
    let sim = server.sim.clone();
    wait_until("the SDK connected", Duration::from_secs(30), || {
        sim.bots()
            .iter()
            .any(|b| b.client_id == id && b.connections == 1)
    })
    .await;

    let g = server
        .sim
        .say(&UserMessage {
            from: "alice".into(),
            group: Some(group.conversation_id.clone()),
            text: "hello group".into(),
            ..UserMessage::default()
        })
        .await
        .unwrap();
    let d = server
        .sim
        .say(&UserMessage {
            from: "alice".into(),
            bot: Some(id.clone()),
            text: "hello dm".into(),
            ..UserMessage::default()
        })
        .await
        .unwrap();
    wait_until("both SDK replies", Duration::from_secs(20), || {
        let group_ok = sim
            .replies(Some(&id), Some(&g.conversation_id), 0)
            .iter()
            .any(|r| r.text == "echo: hello group");
        let dm_ok = sim
            .replies(Some(&id), Some(&d.conversation_id), 0)
            .iter()
            .any(|r| r.text == "echo: hello dm");
        group_ok && dm_ok
    })
    .await;
    // A picture: the SDK's own helper finds its download URL (messageFiles/download) and
    // fetches the bytes the user sent.
    let png = dingclaw::sim::media::TINY_PNG;
    let p = server
        .sim
        .say(&UserMessage {
            from: "alice".into(),
            bot: Some(id.clone()),
            msgtype: Some("picture".into()),
            attachment: Some(dingclaw::sim::model::Attachment {
                data_base64: Some(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    png,
                )),
                ..Default::default()
            }),
            ..UserMessage::default()
        })
        .await
        .unwrap();
    let want = {
        use sha2::Digest;
        let h: String = sha2::Sha256::digest(png)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("image: {} bytes sha256 {h}", png.len())
    };
    wait_until("the SDK's picture reply", Duration::from_secs(20), || {
        sim.replies(Some(&id), Some(&p.conversation_id), 0)
            .iter()
            .any(|r| r.text == want)
    })
    .await;
    let replies = sim.replies(Some(&id), None, 0);
    assert!(replies.iter().all(|r| r.via == "sessionWebhook"));
    assert!(replies.iter().all(|r| r.at_user_ids == vec!["alice"]));
    // The SDK acknowledged every callback on the socket that carried them. Its handler sends
    // the reply before it returns the acknowledgement, so the last ack may trail the reply.
    let callback_acks = || -> Vec<_> {
        sim.acks(Some(&id))
            .into_iter()
            .filter(|a| a.kind == "callback")
            .collect()
    };
    wait_until("three callback acks", Duration::from_secs(10), || {
        callback_acks().len() >= 3
    })
    .await;
    let acks = callback_acks();
    assert_eq!(acks.len(), 3, "{acks:?}");
    assert!(acks.iter().all(|a| a.same_socket));
}
