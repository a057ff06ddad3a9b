//! Scheduled tasks end to end, with an injected clock (no test waits for real minutes): a chat
//! turn where the scripted model calls the `cron` tool creates the job; it runs at the right
//! instants (Asia/Shanghai, and across a daylight-saving change) and posts to the simulator's
//! custom robot with a valid signature; "run now", update, remove, and another conversation
//! being refused; jobs survive a restart and a missed run runs once; 30 jobs firing at once
//! stay within the robot rate limit; refused hosts and robot security errors are reported.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::DateTime;
use dingclaw::offline_model::{Action, ModelOptions, Step};
use dingclaw::sim::{Entry, NewRobot, RobotInfo, SimOptions};
use dingclaw_actors::actors::scheduler::{AddJob, Caller, JobRuns, ListJobs};
use dingclaw_actors::actors::{Runtime, RuntimeBuilder};
use dingclaw_actors::cron::{
    DeliveryStatus, Job, JobSpec, ManualClock, Owner, RunRecord, RunStatus,
};
use dingclaw_actors::rate::RateWindow;
use serde_json::{Value, json};
use support::cron::run_job;
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, test_sim};

fn ms(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

fn config(cron_extra: &str, store: &str) -> String {
    format!(
        r#"{{ agents: {{ defaults: {{ userTimezone: "Asia/Shanghai" }}, list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "cronbot1", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER},
             cron: {{ dingtalkWebhookBase: "${{SIM}}", {cron_extra} }},
             dingclaw: {{ store: "{store}", storePath: "${{STATE}}/dingclaw.sqlite" }} }}"#
    )
}

fn options(
    clock: &Arc<ManualClock>,
    robot_rate: RateWindow,
) -> impl FnOnce(RuntimeBuilder) -> RuntimeBuilder {
    let clock = Arc::clone(clock);
    move |b| {
        b.clock(clock)
            .scheduler_tick(Duration::from_millis(20))
            .robot_rate(robot_rate)
    }
}

async fn start(clock: &Arc<ManualClock>, cron_extra: &str, store: &str) -> Harness {
    Harness::start_with_options(
        &config(cron_extra, store),
        ModelOptions::default(),
        test_sim(),
        options(clock, dingclaw_actors::dingtalk::robot::ROBOT_RATE),
    )
    .await
}

/// A group with alice and the bot, and a signed custom robot in it.
fn group_with_robot(h: &Harness, token: &str) -> (String, RobotInfo) {
    let cid = h.group(&["bot1"], &["alice", "bob"]);
    let robot = h
        .sim
        .sim
        .add_robot(NewRobot {
            conversation_id: cid.clone(),
            secret: Some("generate".into()),
            access_token: Some(token.into()),
            ..NewRobot::default()
        })
        .unwrap();
    (cid, robot)
}

/// The robot address as a user copies it from DingTalk.
fn dingtalk_url(token: &str) -> String {
    format!("https://oapi.dingtalk.com/robot/send?access_token={token}")
}

fn robot_posts(h: &Harness, cid: &str) -> Vec<Entry> {
    h.sim
        .sim
        .conversation(cid)
        .into_iter()
        .filter(|e| e.via == "robotWebhook")
        .collect()
}

async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out: {what}"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Scripts the model to call the cron tool with `args` on its next request.
fn script_tool(h: &Harness, args: Value) {
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::ToolCall {
            name: "cron".into(),
            arguments: args,
        },
    }]);
}

/// The tool result the offline model reports at the end of its answer.
fn tool_result(reply: &str) -> Value {
    let json = reply
        .split("tool result: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no tool result in {reply}"));
    // The first JSON value; a group reply ends with an @-mention after it.
    serde_json::Deserializer::from_str(json)
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("no JSON in {json}"))
}

async fn jobs(rt: &Runtime) -> Vec<Job> {
    rt.scheduler()
        .unwrap()
        .send(ListJobs {
            by: Caller::Operator,
            include_disabled: true,
        })
        .await
        .unwrap()
}

async fn runs(rt: &Runtime, id: &str) -> Vec<RunRecord> {
    rt.scheduler()
        .unwrap()
        .send(JobRuns {
            id: id.into(),
            by: Caller::Operator,
            limit: 50,
        })
        .await
        .unwrap()
        .unwrap()
}

fn weather_job(token: &str, secret: Option<&str>) -> Value {
    let mut delivery = json!({"mode": "webhook", "to": dingtalk_url(token)});
    if let Some(s) = secret {
        delivery["secret"] = json!(s);
    }
    json!({
        "action": "add",
        "job": {
            "name": "Beijing weather",
            "schedule": {"kind": "cron", "expr": "0 9 * * *", "tz": "Asia/Shanghai"},
            "payload": {"kind": "agentTurn", "message": "Check the weather in Beijing"},
            "delivery": delivery,
        }
    })
}

#[actix_rt::test]
async fn the_weather_example_runs_every_morning_at_nine_in_the_group() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T10:00:00+08:00")));
    let h = start(&clock, "", "memory").await;
    let (cid, robot) = group_with_robot(&h, "weathertoken1");
    script_tool(&h, weather_job("weathertoken1", robot.secret.as_deref()));
    let reply = h
        .ask(
            "alice",
            To::Group(&cid, &["bot1"]),
            &format!(
                "Check the weather in Beijing at 9 AM every day, webhook address is {}",
                dingtalk_url("weathertoken1")
            ),
        )
        .await;
    let result = tool_result(&reply);
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(
        result["job"]["nextRun"],
        "2026-11-24 09:00:00 (Asia/Shanghai)"
    );
    let shown = result.to_string();
    assert!(shown.contains("access_token=***"), "{shown}");
    assert!(!shown.contains("weathertoken1") && !shown.contains(robot.secret.as_deref().unwrap()));

    // Not a second early.
    clock.set(ms("2026-11-24T08:59:59+08:00"));
    actix_rt::time::sleep(Duration::from_millis(200)).await;
    assert!(robot_posts(&h, &cid).is_empty());
    clock.set(ms("2026-11-24T09:00:00+08:00"));
    let post = wait_for("the 9:00 run", || robot_posts(&h, &cid).pop()).await;
    assert_eq!(post.msgtype, "markdown");
    assert!(
        post.text.starts_with("**Beijing weather**"),
        "{}",
        post.text
    );
    assert!(
        post.text.contains("You said: Check the weather in Beijing"),
        "{}",
        post.text
    );
    assert_eq!(
        h.sim.sim.stats().robot_rejected,
        0,
        "the signature was valid"
    );

    let id = jobs(&h.rt).await.remove(0).id;
    let log = wait_runs(&h.rt, &id, 1).await;
    let job = jobs(&h.rt).await.remove(0);
    assert_eq!(
        job.state.next_run_at_ms,
        Some(ms("2026-11-25T09:00:00+08:00"))
    );
    assert_eq!(
        (
            log[0].status,
            log[0].delivery_status,
            log[0].trigger.as_str()
        ),
        (RunStatus::Ok, DeliveryStatus::Delivered, "schedule")
    );
    // The run has its own session, kept in the store.
    let session =
        h.rt.store()
            .load_session(&format!("agent:a:cron:{}", job.id), 10)
            .await
            .unwrap()
            .expect("the run's session");
    assert_eq!(session.entries.len(), 2);
    h.stop().await;
}

#[actix_rt::test]
async fn send_it_now_change_it_and_cancel_it_from_the_chat_and_only_from_there() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T10:00:00+08:00")));
    let h = start(&clock, "", "memory").await;
    let (cid, robot) = group_with_robot(&h, "weathertoken2");
    script_tool(&h, weather_job("weathertoken2", robot.secret.as_deref()));
    h.ask(
        "alice",
        To::Group(&cid, &["bot1"]),
        "every day at 9, please",
    )
    .await;
    let id = jobs(&h.rt).await[0].id.clone();

    script_tool(&h, json!({"action": "run", "jobId": id}));
    let reply = h
        .ask("alice", To::Group(&cid, &["bot1"]), "send it now")
        .await;
    assert_eq!(tool_result(&reply)["ok"], true, "{reply}");
    let post = wait_for("the run now", || robot_posts(&h, &cid).pop()).await;
    assert!(post.text.contains("Check the weather in Beijing"));

    script_tool(
        &h,
        json!({"action": "update", "jobId": id, "patch": {"schedule": {"expr": "0 8 * * *"}}}),
    );
    let reply = h
        .ask("alice", To::Group(&cid, &["bot1"]), "change it to 8")
        .await;
    assert_eq!(
        tool_result(&reply)["job"]["nextRun"],
        "2026-11-24 08:00:00 (Asia/Shanghai)",
        "{reply}"
    );

    // Bob's DM is another conversation: he can neither see nor remove the group's job.
    script_tool(&h, json!({"action": "remove", "jobId": id}));
    let reply = h.ask("bob", To::Dm("bot1"), "cancel it").await;
    let refused = tool_result(&reply);
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("belongs to another conversation")),
        "{refused}"
    );
    script_tool(&h, json!({"action": "list"}));
    let reply = h.ask("bob", To::Dm("bot1"), "my tasks?").await;
    assert_eq!(tool_result(&reply), json!({"jobs": []}));

    script_tool(&h, json!({"action": "remove", "jobId": id}));
    let reply = h
        .ask("alice", To::Group(&cid, &["bot1"]), "cancel it")
        .await;
    assert_eq!(tool_result(&reply)["removed"], json!(id));
    assert!(jobs(&h.rt).await.is_empty());
    h.stop().await;
}

fn owner() -> Owner {
    Owner {
        channel: "dingtalk-connector".into(),
        account: "bot1".into(),
        chat: "direct".into(),
        conversation_id: "cidAliceDm".into(),
        sender_id: "alice".into(),
    }
}

async fn add(rt: &Runtime, job: Value) -> Job {
    rt.scheduler()
        .unwrap()
        .send(AddJob {
            agent_id: "a".into(),
            owner: owner(),
            spec: JobSpec::from_value(&job).unwrap(),
        })
        .await
        .unwrap()
        .unwrap()
}

async fn wait_runs(rt: &Runtime, id: &str, n: usize) -> Vec<RunRecord> {
    let start = Instant::now();
    loop {
        let r = runs(rt, id).await;
        if r.len() >= n {
            return r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{n} runs of {id}: {r:?}"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_rt::test]
async fn runs_keep_the_wall_clock_time_across_a_daylight_saving_change() {
    // New York springs forward on Sunday 2026-03-08.
    let clock = Arc::new(ManualClock::new(ms("2026-03-07T10:00:00-05:00")));
    let h = start(&clock, "", "memory").await;
    let job = add(
        &h.rt,
        json!({
            "schedule": {"kind": "cron", "expr": "0 9 * * *", "tz": "America/New_York"},
            "payload": {"kind": "agentTurn", "message": "morning report"},
            "delivery": {"mode": "none"},
        }),
    )
    .await;
    let first = ms("2026-03-08T09:00:00-04:00");
    assert_eq!(job.state.next_run_at_ms, Some(first));
    // 09:00 EST would be an hour late: nothing at 08:59 EDT.
    clock.set(first - 1_000);
    actix_rt::time::sleep(Duration::from_millis(200)).await;
    assert!(runs(&h.rt, &job.id).await.is_empty());
    clock.set(first);
    let r = wait_runs(&h.rt, &job.id, 1).await;
    assert_eq!((r[0].run_at_ms, r[0].status), (first, RunStatus::Ok));
    assert_eq!(r[0].delivery_status, DeliveryStatus::NotRequested);
    assert_eq!(
        jobs(&h.rt).await[0].state.next_run_at_ms,
        Some(ms("2026-03-09T09:00:00-04:00"))
    );
    h.stop().await;
}

#[actix_rt::test]
async fn jobs_survive_a_restart_and_a_missed_run_runs_once_within_the_grace() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T10:00:00+08:00")));
    let h = start(&clock, "missedRunGraceSeconds: 3600", "sqlite").await;
    let (cid, robot) = group_with_robot(&h, "restarttoken");
    let mut spec = weather_job("restarttoken", robot.secret.as_deref())["job"].clone();
    spec["schedule"]["expr"] = json!("0 9 * * *");
    let kept = add(&h.rt, spec.clone()).await;
    spec["schedule"]["expr"] = json!("0 7 * * *");
    spec["name"] = json!("too late");
    let stale = add(&h.rt, spec).await;
    h.rt.store().flush().await.unwrap();
    h.rt.shutdown(Duration::from_secs(2)).await;

    // Down from 10:00 until 09:30 the next day: the 09:00 run is 30 minutes old (within the
    // hour of grace), the 07:00 run 2.5 hours old (skipped).
    clock.set(ms("2026-11-24T09:30:00+08:00"));
    let rt = options(&clock, dingclaw_actors::dingtalk::robot::ROBOT_RATE)(
        Runtime::builder(h.config.clone()).store_from_config(),
    )
    .start()
    .unwrap();
    let r = wait_runs(&rt, &kept.id, 1).await;
    assert_eq!(
        (r[0].trigger.as_str(), r[0].run_at_ms),
        ("missed", ms("2026-11-24T09:30:00+08:00"))
    );
    wait_for("the missed run's post", || robot_posts(&h, &cid).pop()).await;
    actix_rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(robot_posts(&h, &cid).len(), 1, "once");
    assert!(runs(&rt, &stale.id).await.is_empty());
    let all = jobs(&rt).await;
    let next = |id: &str| {
        all.iter()
            .find(|j| j.id == id)
            .unwrap()
            .state
            .next_run_at_ms
    };
    assert_eq!(next(&kept.id), Some(ms("2026-11-25T09:00:00+08:00")));
    assert_eq!(next(&stale.id), Some(ms("2026-11-25T07:00:00+08:00")));
    rt.shutdown(Duration::from_secs(2)).await;
    h.model.stop().await;
    h.sim.stop().await;
}

#[actix_rt::test]
async fn thirty_jobs_firing_at_once_keep_to_the_robot_rate_limit() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T10:00:00+08:00")));
    // The limit scaled down so the test is quick: 10 per second on both sides.
    let window = RateWindow {
        max: 10,
        per: Duration::from_secs(1),
    };
    let h = Harness::start_with_options(
        &config(
            "maxConcurrentRuns: 30, maxJobsPerConversation: 30",
            "memory",
        ),
        ModelOptions::default(),
        SimOptions {
            robot_rate_max: window.max,
            robot_rate_window: window.per,
            ..test_sim()
        },
        options(&clock, window),
    )
    .await;
    let (cid, robot) = group_with_robot(&h, "busytoken");
    let spec = weather_job("busytoken", robot.secret.as_deref())["job"].clone();
    for _ in 0..30 {
        add(&h.rt, spec.clone()).await;
    }
    let start = Instant::now();
    clock.set(ms("2026-11-24T09:00:00+08:00"));
    wait_for("30 posts", || {
        (robot_posts(&h, &cid).len() == 30).then_some(())
    })
    .await;
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "30 posts at 10 a second need two full windows: {:?}",
        start.elapsed()
    );
    assert_eq!(
        h.sim.sim.stats().robot_rejected,
        0,
        "none was refused as too fast"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn other_hosts_are_refused_and_robot_errors_are_reported_not_retried() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T10:00:00+08:00")));
    let h = start(&clock, "", "memory").await;
    script_tool(
        &h,
        json!({"action": "add", "job": {
            "schedule": {"kind": "every", "everyMs": 3600000},
            "payload": {"kind": "agentTurn", "message": "x"},
            "delivery": {"mode": "webhook", "to": "http://169.254.169.254/latest/meta-data"},
        }}),
    );
    let reply = h.ask("alice", To::Dm("bot1"), "post it there").await;
    let refused = tool_result(&reply);
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("webhook host \"169.254.169.254\" is not allowed")),
        "{refused}"
    );
    assert!(jobs(&h.rt).await.is_empty());

    // A robot that wants a keyword the message lacks: 310000, reported once, not retried.
    let cid = h.group(&["bot1"], &["alice"]);
    h.sim
        .sim
        .add_robot(NewRobot {
            conversation_id: cid,
            keywords: vec!["天气".into()],
            access_token: Some("keywordtoken".into()),
            ..NewRobot::default()
        })
        .unwrap();
    let job = add(
        &h.rt,
        json!({
            "schedule": {"kind": "cron", "expr": "0 9 * * *"},
            "payload": {"kind": "agentTurn", "message": "no keyword here"},
            "delivery": {"mode": "webhook", "to": dingtalk_url("keywordtoken")},
        }),
    )
    .await;
    let record = run_job(&h.rt, &job.id).await;
    assert_eq!(record.status, RunStatus::Error);
    assert_eq!(record.delivery_status, DeliveryStatus::NotDelivered);
    assert!(
        record
            .delivery_error
            .as_deref()
            .is_some_and(|e| e.contains("310000")),
        "{record:?}"
    );
    assert_eq!(h.sim.sim.stats().robot_rejected, 1, "not retried");
    h.stop().await;
}

#[actix_rt::test]
async fn announce_posts_back_to_the_conversation_that_created_the_job() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T10:00:00+08:00")));
    let h = start(&clock, "", "memory").await;
    let cid = h.group(&["bot1"], &["alice"]);
    script_tool(
        &h,
        json!({"action": "add", "job": {
            "name": "stand-up",
            "schedule": {"kind": "at", "at": "2026-11-23T10:30:00+08:00"},
            "payload": {"kind": "agentTurn", "message": "time for the stand-up"},
        }}),
    );
    h.ask("alice", To::Group(&cid, &["bot1"]), "remind us at 10:30")
        .await;
    clock.set(ms("2026-11-23T10:30:00+08:00"));
    let post = wait_for("the announcement", || {
        h.sim
            .sim
            .conversation(&cid)
            .into_iter()
            .find(|e| e.via == "groupMessages")
    })
    .await;
    assert!(post.text.contains("time for the stand-up"), "{}", post.text);
    // A one-shot job is done after its run.
    let start = Instant::now();
    let job = loop {
        let job = jobs(&h.rt).await.remove(0);
        if !job.enabled {
            break job;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{job:?}");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(job.state.next_run_at_ms, None);
    h.stop().await;
}

#[actix_rt::test]
async fn a_one_shot_job_retries_a_transient_failure_then_is_done() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T10:00:00+08:00")));
    let text = config("", "memory").replace(
        TEST_PROVIDER,
        r#"models: { providers: { offline: { baseUrl: "${MODEL}", apiKey: "k", retries: 0 } } }"#,
    );
    let h = Harness::start_with_options(
        &text,
        ModelOptions::default(),
        test_sim(),
        options(&clock, dingclaw_actors::dingtalk::robot::ROBOT_RATE),
    )
    .await;
    let job = add(
        &h.rt,
        json!({
            "schedule": {"kind": "at", "at": "2026-11-23T11:00:00+08:00"},
            "payload": {"kind": "agentTurn", "message": "once"},
            "delivery": {"mode": "none"},
        }),
    )
    .await;
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::Fail {
            status: 503,
            retry_after: None,
            message: None,
        },
    }]);
    clock.set(ms("2026-11-23T11:00:00+08:00"));
    let first = wait_runs(&h.rt, &job.id, 1).await;
    assert_eq!(first[0].status, RunStatus::Error);
    actix_rt::time::sleep(Duration::from_millis(100)).await;
    let retry_at = jobs(&h.rt).await[0].state.next_run_at_ms;
    assert_eq!(
        retry_at,
        Some(ms("2026-11-23T11:00:30+08:00")),
        "retried after 30 s"
    );
    clock.set(ms("2026-11-23T11:00:30+08:00"));
    let runs = wait_runs(&h.rt, &job.id, 2).await;
    assert_eq!(runs[0].status, RunStatus::Ok);
    actix_rt::time::sleep(Duration::from_millis(100)).await;
    let done = jobs(&h.rt).await.remove(0);
    assert!(
        !done.enabled && done.state.next_run_at_ms.is_none(),
        "{done:?}"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn the_scheduler_restarts_after_a_crash_and_its_jobs_go_on() {
    use dingclaw_actors::fault::{FaultPoint, arm, fired};
    use dingclaw_actors::supervise::{ActorKind, restart_count};
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T10:00:00+08:00")));
    let h = start(&clock, "", "memory").await;
    let job = add(
        &h.rt,
        json!({
            "name": "crash-probe",
            "schedule": {"kind": "cron", "expr": "0 9 * * *"},
            "payload": {"kind": "agentTurn", "message": "report"},
            "delivery": {"mode": "none"},
        }),
    )
    .await;
    let restarts = restart_count(ActorKind::Scheduler);
    arm(FaultPoint::SchedulerFinish, 1, Some(&job.id));
    clock.set(ms("2026-11-24T09:00:00+08:00"));
    let start = Instant::now();
    while fired(FaultPoint::SchedulerFinish) == 0 || restart_count(ActorKind::Scheduler) == restarts
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the fault did not fire"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    // Back after the restart, not stuck as running, and the next morning's run happens.
    let start = Instant::now();
    let next = loop {
        let j = jobs(&h.rt).await.remove(0);
        if j.state.running_at_ms.is_none() && j.state.next_run_at_ms.is_some() {
            break j.state.next_run_at_ms.unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{j:?}");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(next, ms("2026-11-25T09:00:00+08:00"));
    clock.set(next);
    let r = wait_runs(&h.rt, &job.id, 2).await;
    assert_eq!(r[0].run_at_ms, next);
    h.stop().await;
}

/// Found by probing: one conversation's 2,000 every-minute jobs delayed another user's
/// one-shot job by more than 85 s, because due runs went in order of due time and then
/// job id, one a tick. Now each freed slot goes to the conversation served longest ago, the
/// next run starts as soon as one ends, and each run records how late it started.
#[actix_rt::test]
async fn one_conversations_many_jobs_cannot_starve_another_conversation() {
    let t0 = ms("2026-11-23T10:00:00+08:00");
    let clock = Arc::new(ManualClock::new(t0));
    // Each run takes 100 ms of model time, so the order of runs can be watched.
    let h = Harness::start_with_options(
        &config(
            "maxConcurrentRuns: 1, maxJobsPerConversation: 200",
            "memory",
        ),
        ModelOptions {
            latency: Duration::from_millis(100),
            ..ModelOptions::default()
        },
        test_sim(),
        options(&clock, dingclaw_actors::dingtalk::robot::ROBOT_RATE),
    )
    .await;
    let busy = Owner {
        conversation_id: "cidBusyTenant".into(),
        ..owner()
    };
    for i in 0..40 {
        support::cron::add_job(
            &h.rt,
            busy.clone(),
            json!({
                "name": format!("busy {i}"),
                "schedule": {"kind": "every", "everyMs": 60_000},
                "payload": {"kind": "agentTurn", "message": "tick"},
                "delivery": {"mode": "none"},
            }),
        )
        .await;
    }
    let one_shot = add(
        &h.rt,
        json!({
            "name": "reminder",
            "schedule": {"kind": "at", "at": "2026-11-23T10:01:00+08:00"},
            "payload": {"kind": "agentTurn", "message": "remind me"},
            "delivery": {"mode": "none"},
        }),
    )
    .await;
    let busy_started = |all: &[Job]| {
        all.iter()
            .filter(|j| j.owner.conversation_id == "cidBusyTenant")
            .filter(|j| j.state.last_run_at_ms.is_some() || j.state.running_at_ms.is_some())
            .count()
    };
    // Everything falls due at 10:01; the scheduler looks 5 s later.
    clock.set(t0 + 65_000);
    let started = Instant::now();
    let busy_before = loop {
        let all = jobs(&h.rt).await;
        let reminder = all.iter().find(|j| j.id == one_shot.id).unwrap();
        if reminder.state.running_at_ms.is_some() || reminder.state.last_run_at_ms.is_some() {
            break busy_started(&all);
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the reminder never ran"
        );
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(
        busy_before <= 2,
        "the other conversation's job started after {busy_before} of the busy one's"
    );
    let reminder = wait_runs(&h.rt, &one_shot.id, 1).await;
    assert_eq!(reminder[0].late_ms, 5_000, "lateness is in the run log");
    // And the busy conversation's runs follow one another without waiting for ticks.
    loop {
        let all = jobs(&h.rt).await;
        let finished = all
            .iter()
            .filter(|j| j.owner.conversation_id == "cidBusyTenant")
            .filter(|j| j.state.last_run_at_ms.is_some())
            .count();
        if finished == 40 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "only {finished} of 40 runs in 30 s"
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    h.stop().await;
}

/// A local server answering every request with `answer`, counting the requests it got.
async fn http_server(
    answer: impl Fn() -> actix_web::HttpResponse + Clone + Send + 'static,
) -> (
    String,
    Arc<std::sync::atomic::AtomicUsize>,
    actix_web::dev::ServerHandle,
) {
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    let server = actix_web::HttpServer::new(move || {
        let answer = answer.clone();
        let hits = Arc::clone(&counted);
        actix_web::App::new().default_service(actix_web::web::to(move || {
            hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let r = answer();
            async move { r }
        }))
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    let running = server.run();
    let handle = running.handle();
    actix_rt::spawn(running);
    (format!("http://{addr}"), hits, handle)
}

/// Found by probing: a webhook that answered 307 had its POST (body and headers) replayed to
/// the address it named, 127.0.0.1 included, past the allow-list. And the webhook token went
/// out over plain http.
#[actix_rt::test]
async fn webhook_redirects_are_not_followed_and_the_token_needs_https() {
    let (trap, trap_hits, trap_handle) =
        http_server(|| actix_web::HttpResponse::Ok().finish()).await;
    let steal = format!("{trap}/steal");
    let (hook, hook_hits, hook_handle) = http_server(move || {
        actix_web::HttpResponse::TemporaryRedirect()
            .insert_header(("Location", steal.clone()))
            .finish()
    })
    .await;
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T10:00:00+08:00")));
    let allow = r#"webhookAllowHosts: ["oapi.dingtalk.com", "127.0.0.1"]"#;
    let h = start(&clock, allow, "memory").await;
    let job = add(
        &h.rt,
        json!({
            "schedule": {"kind": "cron", "expr": "0 9 * * *"},
            "payload": {"kind": "agentTurn", "message": "report"},
            "delivery": {"mode": "webhook", "to": format!("{hook}/hook")},
        }),
    )
    .await;
    let record = run_job(&h.rt, &job.id).await;
    assert_eq!(record.delivery_status, DeliveryStatus::NotDelivered);
    let error = record.delivery_error.clone().unwrap_or_default();
    assert!(error.contains("redirect (HTTP 307)"), "{record:?}");
    assert_eq!(hook_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        trap_hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the redirect was not followed"
    );

    // With a webhook token, an http address gets nothing at all.
    let with_token = dingclaw_actors::config::load_str(
        &config(
            &format!("{allow}, webhookToken: \"hook-bearer-4411\""),
            "memory",
        ),
        std::path::Path::new("/"),
        &h.env(),
    )
    .unwrap()
    .config;
    h.rt.reload(with_token);
    let record = run_job(&h.rt, &job.id).await;
    let error = record.delivery_error.clone().unwrap_or_default();
    assert!(error.contains("only over https"), "{record:?}");
    assert_eq!(hook_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    hook_handle.stop(false).await;
    trap_handle.stop(false).await;
    h.stop().await;
}
