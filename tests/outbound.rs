//! Sending as a bot, against the simulator through real sockets: sessionWebhook replies with
//! @mention and chunking, fallback to the OpenAPI when the webhook expires, retries on QPS
//! throttling, token refresh after revocation, and custom robot webhooks with signature and
//! rate limit.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dingclaw::sim::{ChaosRequest, NewGroup, NewRobot, SimOptions, SimServer, UserMessage};
use dingclaw_actors::config::Secret;
use dingclaw_actors::dingtalk::{
    AccessTokenCache, BotMessage, DingTalkApi, DingTalkError, OutboundMessage, RateWindow,
    ReplyTarget, RobotLimiter, RobotWebhook, send_robot,
};
use support::*;

/// A bot in a group with user `u1`, and its API.
async fn setup(extra: &str) -> (SimServer, DingTalkApi, String, String) {
    let server = start_sim(fast_sim()).await;
    let (id, secret) = bot(&server, "outbot");
    let group = server
        .sim
        .add_group(NewGroup {
            bots: vec![id.clone()],
            members: vec!["u1".into()],
            ..NewGroup::default()
        })
        .unwrap();
    let acct = account(
        &server.url,
        &id,
        &secret,
        &format!("{FAST_STREAM}, {extra}"),
    );
    let api = DingTalkApi::new(acct, Arc::new(AccessTokenCache::new()));
    (server, api, id, group.conversation_id)
}

/// Receives user messages for one bot (one Stream client: DingTalk hands each message to one
/// of a bot's connections at random, so a second client would steal some).
struct Inbox {
    _client: actix::Addr<dingclaw_actors::dingtalk::StreamClient>,
    got: Arc<std::sync::Mutex<Vec<dingclaw_actors::dingtalk::BotMessageReceived>>>,
}

impl Inbox {
    async fn open(server: &SimServer, bot: &str) -> Inbox {
        let (client, got) = client(
            account(&server.url, bot, &format!("{bot}-secret"), FAST_STREAM),
            Duration::ZERO,
        );
        wait_connected(&client, Duration::from_secs(5)).await;
        Inbox {
            _client: client,
            got,
        }
    }

    /// Has `u1` say something (in `group`, else a DM) and returns where to reply.
    async fn received(&self, server: &SimServer, bot: &str, group: Option<&str>) -> ReplyTarget {
        let before = self.got.lock().unwrap().len();
        let msg = UserMessage {
            from: "u1".into(),
            bot: group.is_none().then(|| bot.to_owned()),
            group: group.map(str::to_owned),
            text: "question".into(),
            ..UserMessage::default()
        };
        server.sim.say(&msg).await.unwrap();
        wait_until("message delivered", Duration::from_secs(3), || {
            self.got.lock().unwrap().len() > before
        })
        .await;
        let m: Arc<BotMessage> = self.got.lock().unwrap()[before].message.clone();
        ReplyTarget::from(m.as_ref())
    }
}

#[actix_rt::test]
async fn group_reply_goes_through_the_session_webhook_and_mentions_the_sender() {
    let (server, api, id, cid) = setup("").await;
    let target = Inbox::open(&server, &id)
        .await
        .received(&server, &id, Some(&cid))
        .await;
    let outcome = api
        .reply(&target, &OutboundMessage::markdown("**Answer**: 42"))
        .await
        .unwrap();
    assert_eq!((outcome.chunks, outcome.via_openapi), (1, 0));
    let replies = server.sim.replies(Some(&id), Some(&cid), 0);
    assert_eq!(replies.len(), 1);
    let r = &replies[0];
    assert_eq!(r.via, "sessionWebhook");
    assert_eq!(r.msgtype, "markdown");
    assert_eq!(r.title.as_deref(), Some("Answer: 42"));
    assert_eq!(r.text, "**Answer**: 42 @u1");
    assert_eq!(r.at_user_ids, vec!["u1"]);
    assert!(r.latency_us.is_some());
}

#[actix_rt::test]
async fn long_replies_are_chunked_within_the_limit() {
    let (server, api, id, _cid) = setup("textChunkLimit: 200").await;
    let target = Inbox::open(&server, &id)
        .await
        .received(&server, &id, None)
        .await;
    let code: String = (0..30)
        .map(|i| format!("    let v{i} = compute({i});\n"))
        .collect();
    let text = format!("Here you go.\n\n```rust\n{code}```\n\nThat is all.");
    let outcome = api
        .reply(&target, &OutboundMessage::Text(text.clone()))
        .await
        .unwrap();
    assert!(outcome.chunks >= 5, "{outcome:?}");
    let replies = server
        .sim
        .replies(Some(&id), Some(&target.conversation_id), 0);
    assert_eq!(replies.len(), outcome.chunks);
    for r in &replies {
        assert!(
            r.text.chars().count() <= 200,
            "chunk of {} chars",
            r.text.chars().count()
        );
        assert_eq!(
            r.text.matches("```").count() % 2,
            0,
            "fences balanced in:\n{}",
            r.text
        );
    }
    assert!(replies.iter().all(|r| r.via == "sessionWebhook"));
    assert!(replies.last().unwrap().text.ends_with("That is all."));
}

#[actix_rt::test]
async fn expired_webhook_falls_back_to_the_openapi() {
    let (server, api, id, cid) = setup("").await;
    let inbox = Inbox::open(&server, &id).await;
    let group_target = inbox.received(&server, &id, Some(&cid)).await;
    let dm_target = inbox.received(&server, &id, None).await;
    // DingTalk answers 300001 for every webhook handed out so far.
    server.sim.chaos(&ChaosRequest {
        expire_webhooks: Some(true),
        ..ChaosRequest::default()
    });

    let outcome = api
        .reply(
            &group_target,
            &OutboundMessage::Text("late group answer".into()),
        )
        .await
        .unwrap();
    assert_eq!(outcome.via_openapi, 1);
    let outcome = api
        .reply(&dm_target, &OutboundMessage::Text("late DM answer".into()))
        .await
        .unwrap();
    assert_eq!(outcome.via_openapi, 1);

    let group = server.sim.replies(Some(&id), Some(&cid), 0);
    assert_eq!(
        group.last().map(|r| (r.via.as_str(), r.text.as_str())),
        Some(("groupMessages", "late group answer @u1"))
    );
    let dm = server
        .sim
        .replies(Some(&id), Some(&dm_target.conversation_id), 0);
    assert_eq!(
        dm.last().map(|r| (r.via.as_str(), r.text.as_str())),
        Some(("oToMessages", "late DM answer"))
    );
    assert_eq!(server.sim.stats().webhook_expired, 2);

    // A webhook past its stated expiry is not even tried.
    let mut old = group_target.clone();
    old.webhook_expires_at_ms = Some(1);
    api.reply(&old, &OutboundMessage::Text("known to be expired".into()))
        .await
        .unwrap();
    assert_eq!(server.sim.stats().webhook_expired, 2);
}

#[actix_rt::test]
async fn qps_throttling_is_retried_and_parameter_errors_are_not() {
    let (server, api, _id, cid) = setup("").await;
    server.sim.chaos(&ChaosRequest {
        throttle: Some(2),
        ..ChaosRequest::default()
    });
    let start = Instant::now();
    api.send_group(&cid, &OutboundMessage::Text("after throttling".into()))
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "backed off between tries"
    );
    assert_eq!(server.sim.stats().openapi_throttled, 2);

    server.sim.chaos(&ChaosRequest {
        throttle: Some(50),
        ..ChaosRequest::default()
    });
    let err = api
        .send_group(&cid, &OutboundMessage::Text("never".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DingTalkError::Http { status: 403, code: Some(c), .. } if c.contains("QpsLimit")),
        "{err}"
    );
    assert_eq!(
        server.sim.stats().openapi_throttled,
        2 + 4,
        "1 try + 3 retries"
    );

    server.sim.chaos(&ChaosRequest {
        clear: Some(true),
        ..ChaosRequest::default()
    });
    let before = server.sim.stats().openapi_sends;
    let err = api
        .send_group("cidNoSuchGroup", &OutboundMessage::Text("x".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DingTalkError::Http { status: 400, .. }),
        "{err}"
    );
    assert_eq!(server.sim.stats().openapi_sends, before);
}

#[actix_rt::test]
async fn a_revoked_token_is_refreshed_once() {
    let (server, api, _id, cid) = setup("").await;
    api.send_group(&cid, &OutboundMessage::Text("one".into()))
        .await
        .unwrap();
    server.sim.chaos(&ChaosRequest {
        revoke_tokens: Some(true),
        ..ChaosRequest::default()
    });
    api.send_group(&cid, &OutboundMessage::Text("two".into()))
        .await
        .unwrap();
    assert_eq!(server.sim.stats().openapi_unauthorized, 1);
    assert_eq!(server.sim.stats().openapi_sends, 2);
}

async fn robot_server(rate_max: usize, window: Duration) -> (SimServer, String) {
    let server = start_sim(SimOptions {
        robot_rate_max: rate_max,
        robot_rate_window: window,
        ..fast_sim()
    })
    .await;
    let (id, _) = bot(&server, "robot-owner");
    let g = server
        .sim
        .add_group(NewGroup {
            bots: vec![id],
            ..NewGroup::default()
        })
        .unwrap();
    (server, g.conversation_id)
}

#[actix_rt::test]
async fn signed_robot_webhook_is_accepted_and_a_wrong_secret_is_not_retried() {
    let (server, cid) = robot_server(20, Duration::from_secs(60)).await;
    let robot = server
        .sim
        .add_robot(NewRobot {
            conversation_id: cid.clone(),
            secret: Some("generate".into()),
            ..NewRobot::default()
        })
        .unwrap();
    let http =
        dingclaw_actors::dingtalk::http::client(Duration::from_secs(5), Duration::from_secs(5));
    let limiter = RobotLimiter::default();
    let hook = RobotWebhook {
        url: Secret::new(robot.webhook.clone()),
        secret: robot.secret.clone().map(Secret::new),
    };
    send_robot(
        &http,
        &limiter,
        &hook,
        &OutboundMessage::markdown("## Beijing\nSunny, 21°C"),
    )
    .await
    .unwrap();
    let log = server.sim.conversation(&cid);
    assert_eq!(
        log.last().map(|e| (e.via.as_str(), e.title.as_deref())),
        Some(("robotWebhook", Some("Beijing")))
    );

    let wrong = RobotWebhook {
        url: hook.url.clone(),
        secret: Some(Secret::new("SECwrong")),
    };
    let start = Instant::now();
    let err = send_robot(&http, &limiter, &wrong, &OutboundMessage::Text("x".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            DingTalkError::Rejected {
                errcode: 310000,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "a signature failure is not retried"
    );
    let unsigned = RobotWebhook {
        url: hook.url.clone(),
        secret: None,
    };
    assert!(
        send_robot(
            &http,
            &limiter,
            &unsigned,
            &OutboundMessage::Text("x".into())
        )
        .await
        .is_err()
    );
}

#[actix_rt::test]
async fn robot_rate_limit_queues_instead_of_dropping() {
    // The simulator enforces 5 per second; the sender keeps to the same limit.
    let window = Duration::from_millis(1000);
    let (server, cid) = robot_server(5, window).await;
    let robot = server
        .sim
        .add_robot(NewRobot {
            conversation_id: cid.clone(),
            ..NewRobot::default()
        })
        .unwrap();
    let http =
        dingclaw_actors::dingtalk::http::client(Duration::from_secs(5), Duration::from_secs(5));
    let limiter = RobotLimiter::new(RateWindow {
        max: 5,
        per: window,
    });
    let hook = RobotWebhook {
        url: Secret::new(robot.webhook),
        secret: None,
    };
    let start = Instant::now();
    for i in 0..12 {
        send_robot(
            &http,
            &limiter,
            &hook,
            &OutboundMessage::Text(format!("tick {i}")),
        )
        .await
        .unwrap();
    }
    assert!(
        start.elapsed() >= Duration::from_millis(2000),
        "12 at 5/s take two windows"
    );
    let stats = server.sim.stats();
    assert_eq!((stats.robot_sends, stats.robot_rejected), (12, 0));
    assert_eq!(server.sim.conversation(&cid).len(), 12);
}
