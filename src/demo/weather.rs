//! The product document's step 4 in the demo: alice asks bot1 to "check the weather in
//! Beijing at 9 AM every day" and gives the group robot's webhook address; the agent creates
//! the job with the `cron` tool; "send it now" runs it and the result appears in the group
//! through the robot; "change it to 8" and "cancel it" work too. The offline model cannot read
//! a request, so the demo scripts its tool calls, with the arguments a real model would send.
//! The task's own turn is not scripted: its message asks to fetch the demo's weather page
//! (`weather_page`), the offline model calls `web_fetch` on it as a real model would, and
//! the forecast it reads is what the robot posts.

use std::time::{Duration, Instant};

use dingclaw_actors::actors::scheduler::{Caller, ListJobs};
use serde_json::{Value, json};

use crate::offline_model::{Action, Step};
use crate::sim::Entry;

use super::{DEMO_GROUP, Demo, Exchange, Target};

/// The demo robot's access token; `config/demo.json5` sends DingTalk robot addresses to the
/// simulator (`cron.dingtalkWebhookBase`).
pub const DEMO_ROBOT_TOKEN: &str = "dingclaw-demo-weather";

/// What alice writes, as in the product document.
pub const WEATHER_REQUEST: &str = "Check the weather in Beijing at 9 AM every day, webhook address is https://oapi.dingtalk.com/robot/send?access_token=dingclaw-demo-weather";

/// How long "send it now" may take to reach the group.
const POST_TIMEOUT: Duration = Duration::from_secs(20);

impl Demo {
    /// The model's next answer is a call of the `cron` tool with `args`.
    fn script_cron(&self, args: Value) {
        self.model.script([Step {
            model: None,
            times: Some(1),
            action: Action::ToolCall {
                name: "cron".into(),
                arguments: args,
            },
        }]);
    }

    /// The bot alice asks: `bot1` in the built-in demo, the first bot of an operator's config.
    async fn ask_bot1(&self, text: &str) -> anyhow::Result<Exchange> {
        let accounts = self.accounts();
        let bot = accounts.first().map(String::as_str).unwrap_or("bot1");
        self.exchange("alice", Target::Direct(bot), text).await
    }

    /// Runs the scheduled-task conversation.
    pub async fn weather_task(&self) -> anyhow::Result<Vec<Exchange>> {
        let mut out = Vec::new();
        self.script_cron(json!({"action": "add", "job": {
            "name": "Beijing weather",
            "schedule": {"kind": "cron", "expr": "0 9 * * *", "tz": "Asia/Shanghai"},
            "payload": {"kind": "agentTurn", "message": format!(
                "Check the weather in Beijing: fetch {} and report today's forecast", self.weather.url)},
            "delivery": {"mode": "webhook",
                         "to": format!("https://oapi.dingtalk.com/robot/send?access_token={DEMO_ROBOT_TOKEN}")},
        }}));
        out.push(self.ask_bot1(WEATHER_REQUEST).await?);
        let scheduler = self
            .runtime
            .scheduler()
            .ok_or_else(|| anyhow::anyhow!("the scheduler is not running"))?;
        let jobs = scheduler
            .send(ListJobs {
                by: Caller::Operator,
                include_disabled: false,
            })
            .await?;
        let id = jobs
            .first()
            .map(|j| j.id.clone())
            .ok_or_else(|| anyhow::anyhow!("the weather job was not created"))?;

        let before = self.robot_posts().len();
        self.script_cron(json!({"action": "run", "jobId": id}));
        let mut now = self
            .ask_bot1("Send it now so I can check the group.")
            .await?;
        now.expected_posts = 1;
        now.robot_posts = self.wait_robot_posts(before + 1).await;
        out.push(now);

        self.script_cron(json!({"action": "update", "jobId": id,
                                "patch": {"schedule": {"expr": "0 8 * * *"}}}));
        out.push(self.ask_bot1("Change it to 8 AM.").await?);
        self.script_cron(json!({"action": "remove", "jobId": id}));
        out.push(self.ask_bot1("Cancel it.").await?);
        Ok(out)
    }

    fn robot_posts(&self) -> Vec<Entry> {
        self.sim
            .sim
            .conversation(DEMO_GROUP)
            .into_iter()
            .filter(|e| e.via == "robotWebhook")
            .collect()
    }

    /// The posts after the first `from`, once there are `n` in all (or the timeout).
    async fn wait_robot_posts(&self, n: usize) -> Vec<Entry> {
        let start = Instant::now();
        loop {
            let posts = self.robot_posts();
            if posts.len() >= n || start.elapsed() > POST_TIMEOUT {
                return posts.into_iter().skip(n - 1).collect();
            }
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
