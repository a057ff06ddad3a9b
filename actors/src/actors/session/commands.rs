//! Chat commands the session answers itself, without a model turn
//! (docs/openclaw-agent.md 6): `/help`, `/status`, `/whoami`, `/model`, `/models`,
//! `/stop` (and a bare abort word while a turn runs), `/usage`, `/queue`, `/think`.
//! `/new` and `/reset` start a new session as a turn of their own (so they wait their turn),
//! and `/approve` is the router's. A `/word` that is none of these goes to the model as text,
//! as OpenClaw does, so skills that use their own `/commands` keep working.
//!
//! Commands are answered at once, even while a turn runs: `/stop` could not work otherwise.
//! With `commands.allowFrom` set, a command from anyone it does not list is dropped without
//! a reply, as OpenClaw does; `commands.text: false` turns them all into plain text.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use actix::prelude::*;

use crate::actors::agent::think::{self, ThinkLevel};
use crate::actors::router::Inbound;
use crate::config::{Config, QueueMode};
use crate::dingtalk::OutboundMessage;
use crate::provider::ModelRef;
use crate::routing::ChatType;

use super::SessionActor;

/// Words that, alone in a message, stop a running turn like `/stop` (OpenClaw's abort
/// triggers). While nothing runs they are ordinary messages, so "stop" can still be said.
const ABORT_WORDS: [&str; 11] = [
    "stop",
    "esc",
    "abort",
    "wait",
    "exit",
    "interrupt",
    "halt",
    "停止",
    "停",
    "别说了",
    "やめて",
];

pub(super) const STOPPED_REPLY: &str = "⏹ 已停止。Stopped.";
const NOTHING_TO_STOP: &str = "没有正在进行的回答。Nothing is being answered right now.";

/// A command and its argument (the rest of the message, trimmed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Command {
    Help,
    Status,
    WhoAmI,
    Model(String),
    Models,
    Stop,
    Usage(String),
    Queue(String),
    Think(String),
}

/// The command in `text`, if it is one. `running`: a turn is in flight (abort words count).
pub(super) fn parse(text: &str, running: bool) -> Option<Command> {
    let t = text.trim();
    if running
        && ABORT_WORDS
            .iter()
            .any(|w| w.eq_ignore_ascii_case(t.trim_end_matches(['!', '！', '.', '。'])))
    {
        return Some(Command::Stop);
    }
    let rest = t.strip_prefix('/')?;
    let (word, arg) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(w, a)| (w, a.trim()));
    let arg = arg.to_owned();
    Some(match word.to_ascii_lowercase().as_str() {
        "help" | "commands" | "帮助" => Command::Help,
        "status" | "状态" => Command::Status,
        "whoami" | "id" => Command::WhoAmI,
        "model" | "模型" => Command::Model(arg),
        "models" => Command::Models,
        "stop" | "abort" | "停止" => Command::Stop,
        "usage" | "用量" => Command::Usage(arg),
        "queue" => Command::Queue(arg),
        "think" | "thinking" | "t" => Command::Think(arg),
        _ => return None,
    })
}

const HELP: &str = "\
📖 可用命令 Commands
/status — 当前状态 what the bot is doing: model, tokens, queue
/model [名称|编号|list|default] — 查看或切换本会话的模型 show or switch this conversation's model
/models — 可用模型 the models you can pick
/new, /reset — 开始新会话 start over (settings are kept)
/compact [重点 focus] — 把较早的对话总结为摘要 summarise the older part of the conversation
/stop — 停止正在进行的回答 stop the answer in progress (or just say 停止 / stop)
/usage [off|tokens|full] — 用量，及每条回答下的用量行 usage, and a usage line under each answer
/queue [followup|collect] — 回答期间新消息的处理方式 how messages sent meanwhile are answered
/think [off|low|medium|high] — 思考程度 how hard the model reasons
/whoami — 你的身份 who you are to the bot
/approve <id> allow-once|allow-always|deny — 批准命令（仅所有者）approve a command (owners)
其他以 / 开头的消息交给模型。Other /words go to the model as text.";

/// `/compact [focus]`: the focus (possibly empty), if `text` is that command.
pub(super) fn compact_focus(text: &str) -> Option<String> {
    let rest = text.trim().strip_prefix("/compact")?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(|| rest.trim().to_owned())
}

impl SessionActor {
    /// Handles `msg` if it is a command; `false` leaves it to be answered as a message.
    pub(super) fn command(&mut self, msg: &Inbound, ctx: &mut Context<Self>) -> bool {
        let config = self.rt.config();
        if !config.commands.text {
            return false;
        }
        // `/compact` is a turn of its own (it waits for the one in progress), once allowed.
        if compact_focus(&msg.text).is_some() {
            if config.commands.may_command(&msg.channel, &msg.sender_id) {
                return false;
            }
            self.rt.counters.pending.fetch_sub(1, Ordering::Relaxed);
            self.rt.journal_done([msg]);
            return true;
        }
        let running = self.turn.as_ref().is_some_and(|t| t.answer.is_none());
        let Some(command) = parse(&msg.text, running) else {
            return false;
        };
        self.rt.counters.pending.fetch_sub(1, Ordering::Relaxed);
        if !config.commands.may_command(&msg.channel, &msg.sender_id) {
            tracing::info!(session = %self.seed.key, sender = %msg.sender_id, "dropped a command from a sender commands.allowFrom does not list");
            self.rt.journal_done([msg]);
            return true;
        }
        tracing::debug!(session = %self.seed.key, ?command, "chat command");
        let reply = match command {
            Command::Help => HELP.to_owned(),
            Command::Status => self.status(&config),
            Command::WhoAmI => whoami(msg, &config),
            Command::Model(arg) => self.model(&arg, &config),
            Command::Models => models_list(&config, &self.seed.agent_id),
            Command::Stop => {
                if let Some(stop) = self.turn.as_ref().and_then(|t| t.stop.as_ref()) {
                    stop.cancel();
                    // The stopped turn answers "stopped" itself; this message is settled.
                    self.rt.journal_done([msg]);
                    return true;
                }
                NOTHING_TO_STOP.to_owned()
            }
            Command::Usage(arg) => self.usage_command(&arg),
            Command::Queue(arg) => self.queue_command(&arg, &config),
            Command::Think(arg) => self.think_command(&arg, &config),
        };
        self.spawn_send(
            msg.reply.clone(),
            OutboundMessage::Text(reply),
            Some(msg.clone()),
            ctx,
        );
        true
    }

    /// The model that answers this session's turns, and whether the session chose it.
    fn current_model(&self, config: &Config) -> (String, bool) {
        match &self.settings.model {
            Some(m) => (m.clone(), true),
            None => (
                config
                    .agents
                    .get(&self.seed.agent_id)
                    .and_then(|a| a.model.primary.clone())
                    .unwrap_or_else(|| "-".to_owned()),
                false,
            ),
        }
    }

    pub(super) fn queue_mode(&self, config: &Config) -> QueueMode {
        match self.settings.queue.as_deref() {
            Some("collect") => QueueMode::Collect,
            Some("followup") => QueueMode::Followup,
            _ => config.queue.mode_for(&self.seed.channel),
        }
    }

    fn status(&self, config: &Config) -> String {
        let (model, chosen) = self.current_model(config);
        let fallbacks = config
            .agents
            .get(&self.seed.agent_id)
            .map(|a| a.model.fallbacks.join(", "))
            .unwrap_or_default();
        let mut out = format!("🦞 dingclaw {}\n", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(out, "🤖 助手 Agent: {}", self.seed.agent_id);
        let _ = write!(
            out,
            "🧠 模型 Model: {model}{}",
            if chosen {
                "（本会话选择 chosen for this conversation）"
            } else {
                ""
            }
        );
        if !fallbacks.is_empty() {
            let _ = write!(out, " · 备用 fallbacks: {fallbacks}");
        }
        out.push('\n');
        let _ = writeln!(
            out,
            "🔢 用量 Tokens: {} in / {} out",
            self.usage.prompt_tokens, self.usage.completion_tokens
        );
        let compactions = self
            .transcript
            .iter()
            .filter(|e| e.role == crate::store::Role::Compaction)
            .count();
        let _ = writeln!(
            out,
            "📏 上下文 Context: ~{} / {} tokens · 🧹 压缩 Compactions: {compactions}",
            super::compact::estimate(&self.history()),
            self.context_window(config)
        );
        let short: String = self.session_id.chars().take(8).collect();
        let _ = writeln!(
            out,
            "💬 会话 Session: {} · {short} · {} 条记录 entries in memory",
            self.seed.key,
            self.transcript.len()
        );
        let answering = if self.turn.is_some() {
            "正在回答 answering"
        } else {
            "空闲 idle"
        };
        let _ = writeln!(
            out,
            "🪢 队列 Queue: {} · {} 条等待 waiting · {answering}",
            queue_word(self.queue_mode(config)),
            self.queue.len()
        );
        let _ = write!(
            out,
            "💭 思考 Think: {} · 用量行 usage line: {}",
            self.settings.think.as_deref().unwrap_or("default"),
            self.settings.usage.as_deref().unwrap_or("off")
        );
        out
    }

    fn model(&mut self, arg: &str, config: &Config) -> String {
        let agent = self.seed.agent_id.clone();
        let arg = arg.trim();
        if arg.is_empty() || arg.eq_ignore_ascii_case("status") {
            let (model, chosen) = self.current_model(config);
            let whose = if chosen {
                "本会话选择 chosen for this conversation"
            } else {
                "助手默认 the agent's default"
            };
            return format!(
                "🧠 当前模型 Model: {model}（{whose}）\n\n{}",
                models_list(config, &agent)
            );
        }
        if arg.eq_ignore_ascii_case("list") {
            return models_list(config, &agent);
        }
        if arg.eq_ignore_ascii_case("default") || arg.eq_ignore_ascii_case("reset") {
            self.settings.model = None;
            self.write_meta();
            let (model, _) = self.current_model(config);
            return format!("✅ 已恢复助手默认模型 Back to the agent's model: {model}");
        }
        let choices = model_choices(config, &agent);
        let picked = arg
            .trim_start_matches('#')
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| choices.get(i).cloned())
            .unwrap_or_else(|| arg.to_owned());
        let usable = ModelRef::parse(&picked, &config.agents.model_aliases)
            .ok()
            .filter(|r| {
                config
                    .models
                    .provider(&r.provider)
                    .is_some_and(|p| p.usable())
            });
        let Some(model) = usable else {
            return format!(
                "❓ 没有可用的模型 \"{picked}\"。No model \"{picked}\" is configured here.\n\n{}",
                models_list(config, &agent)
            );
        };
        self.settings.model = Some(model.to_string());
        self.write_meta();
        format!(
            "✅ 本会话已切换到 {model}（重启后仍有效；/model default 恢复）。This conversation now uses {model} (kept across restarts; /model default to undo)."
        )
    }

    fn usage_command(&mut self, arg: &str) -> String {
        match arg.trim().to_ascii_lowercase().as_str() {
            "" => {}
            "off" => self.settings.usage = None,
            mode @ ("tokens" | "full") => self.settings.usage = Some(mode.to_owned()),
            other => {
                return format!("用法 Usage: /usage [off|tokens|full]（不认识 unknown: {other}）");
            }
        }
        if !arg.trim().is_empty() {
            self.write_meta();
        }
        format!(
            "🔢 本会话用量 This conversation: {} in / {} out tokens（{} 条记录 entries）\n每条回答下的用量行 Usage line under answers: {}",
            self.usage.prompt_tokens,
            self.usage.completion_tokens,
            self.transcript.len(),
            self.settings.usage.as_deref().unwrap_or("off")
        )
    }

    fn queue_command(&mut self, arg: &str, config: &Config) -> String {
        match arg.trim().to_ascii_lowercase().as_str() {
            "" => {}
            mode @ ("followup" | "collect") => {
                self.settings.queue = Some(mode.to_owned());
                self.write_meta();
            }
            "default" | "reset" => {
                self.settings.queue = None;
                self.write_meta();
            }
            other => {
                return format!(
                    "用法 Usage: /queue [followup|collect|default]（不认识 unknown: {other}；steer 与 interrupt 不支持 not available）"
                );
            }
        }
        format!(
            "🪢 队列 Queue: {}（{} 条等待 waiting）",
            queue_word(self.queue_mode(config)),
            self.queue.len()
        )
    }

    fn think_command(&mut self, arg: &str, config: &Config) -> String {
        let arg = arg.trim();
        if arg.is_empty() {
            return format!(
                "💭 思考 Think: {}\n用法 Usage: /think off|low|medium|high|default",
                self.settings.think.as_deref().unwrap_or("default")
            );
        }
        if arg.eq_ignore_ascii_case("default") {
            self.settings.think = None;
            self.write_meta();
            return "✅ 思考程度恢复模型默认。Reasoning back to the model's default.".to_owned();
        }
        let Some(level) = ThinkLevel::parse(arg) else {
            return format!(
                "用法 Usage: /think off|low|medium|high|default（不认识 unknown: {arg}）"
            );
        };
        self.settings.think = Some(level.as_str().to_owned());
        self.write_meta();
        let (model, _) = self.current_model(config);
        let how = ModelRef::parse(&model, &config.agents.model_aliases)
            .ok()
            .and_then(|r| config.models.provider(&r.provider))
            .map(|p| think::describe(level, p))
            .unwrap_or_else(|| "-".to_owned());
        format!("✅ 思考程度 Think: {}（{model}: {how}）", level.as_str())
    }
}

fn queue_word(mode: QueueMode) -> &'static str {
    match mode {
        QueueMode::Followup => "followup（逐条回答 one by one）",
        QueueMode::Collect => "collect（合并回答 answered together）",
    }
}

/// The models `/model <n>` picks from: the agent's chain, the aliases, then each usable
/// provider's listed models.
fn model_choices(config: &Config, agent: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |m: String| {
        if !out.contains(&m) {
            out.push(m);
        }
    };
    if let Some(a) = config.agents.get(agent) {
        a.model.primary.iter().cloned().for_each(&mut add);
        a.model.fallbacks.iter().cloned().for_each(&mut add);
    }
    for target in config.agents.model_aliases.values() {
        add(target.clone());
    }
    for (id, p) in &config.models.providers {
        if p.usable() {
            for m in &p.models {
                add(format!("{id}/{m}"));
            }
        }
    }
    out
}

fn models_list(config: &Config, agent: &str) -> String {
    let choices = model_choices(config, agent);
    let mut out = "📋 可选模型 Models (/model <编号 number|名称 name>):\n".to_owned();
    for (i, m) in choices.iter().enumerate() {
        let aliases: Vec<&str> = config
            .agents
            .model_aliases
            .iter()
            .filter(|(_, target)| *target == m)
            .map(|(alias, _)| alias.as_str())
            .collect();
        let _ = write!(out, "{}. {m}", i + 1);
        if !aliases.is_empty() {
            let _ = write!(out, " ({})", aliases.join(", "));
        }
        out.push('\n');
    }
    out.push_str("任何已配置服务商的 provider/model 也可以。Any provider/model of a configured provider works too.");
    out
}

fn whoami(msg: &Inbound, config: &Config) -> String {
    let mut out = "🧭 身份 Identity\n".to_owned();
    let _ = writeln!(
        out,
        "渠道 Channel: {} · 账号 account {}",
        msg.channel, msg.account
    );
    let _ = writeln!(out, "用户 User id: {}", msg.sender_id);
    if !msg.sender_nick.is_empty() {
        let _ = writeln!(out, "昵称 Name: {}", msg.sender_nick);
    }
    let chat = match msg.chat {
        ChatType::Group => format!("群聊 group {}", msg.conversation_id),
        ChatType::Direct => "单聊 private chat".to_owned(),
    };
    let _ = writeln!(out, "会话 Chat: {chat}");
    let owner = crate::tools::sender_is_owner(config, &msg.channel, &msg.sender_id);
    let _ = write!(
        out,
        "所有者 Owner: {}\nAllowFrom: {}",
        if owner { "是 yes" } else { "否 no" },
        msg.sender_id
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_abort_words() {
        assert_eq!(parse("/status", false), Some(Command::Status));
        assert_eq!(
            parse("  /model  dashscope/qwen-max ", false),
            Some(Command::Model("dashscope/qwen-max".into()))
        );
        assert_eq!(
            parse("/think high", false),
            Some(Command::Think("high".into()))
        );
        assert_eq!(parse("/STOP", false), Some(Command::Stop));
        // An unknown /word is the model's.
        assert_eq!(parse("/weather Beijing", false), None);
        assert_eq!(parse("/statusbar", false), None);
        // Abort words stop only a running turn.
        assert_eq!(parse("停止", true), Some(Command::Stop));
        assert_eq!(parse("Stop!", true), Some(Command::Stop));
        assert_eq!(parse("stop", false), None);
        assert_eq!(parse("stop the music", true), None);
        // /new, /reset and /compact are turns of their own.
        assert_eq!(parse("/new", false), None);
        assert_eq!(parse("/compact", false), None);
        assert_eq!(compact_focus("/compact"), Some(String::new()));
        assert_eq!(
            compact_focus(" /compact the budget "),
            Some("the budget".into())
        );
        assert_eq!(compact_focus("/compactify"), None);
    }
}
