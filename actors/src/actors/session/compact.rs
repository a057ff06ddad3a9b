//! Compaction (docs/openclaw-agent.md 7.1): a conversation whose context nears its
//! model's window, or whose people say `/compact [focus]`, has its older part summarised by
//! the model. The summary is stored as a `compaction` entry naming the first entry it kept;
//! from then on the model sees the summary, the kept entries and what follows, while the
//! store keeps every entry. A turn's tool calls and results are summarised with it, and the
//! kept part starts at a user message, so no tool result loses its call.

use std::fmt::Write as _;
use std::sync::Arc;

use actix::prelude::*;

use super::SessionActor;
use super::commands::STOPPED_REPLY;
use crate::actors::agent::{RunTurn, TurnError, TurnOutput};
use crate::config::{Config, DEFAULT_CONTEXT_WINDOW};
use crate::dingtalk::api::now_ms;
use crate::provider::{ChatMessage, ModelRef};
use crate::store::{Role, TranscriptEntry};
use crate::supervise::{ActorKind, Panicked, catch, guard};

const SUMMARY_HEADER: &str = "[Summary of the earlier conversation]";

/// Characters of the older part sent to be summarised; past it, its oldest lines are left
/// out (the previous summary always goes).
const MAX_RENDERED_CHARS: usize = 120_000;

/// Characters of one message or tool result put in the text to summarise.
const MAX_ENTRY_CHARS: usize = 4_000;

/// The system prompt of a summarising call.
pub const COMPACTION_PROMPT: &str = "You keep the running summary of a chat between people and an assistant, so the assistant can continue it without the older messages. Write in the language the people use. Use these sections, leaving out any that would be empty: Decisions; Open TODOs; Constraints and rules; Pending requests; Exact identifiers (names, numbers, dates, URLs, file paths and ids, copied exactly). Keep what tools found that still matters. Fold the previous summary in. At most 600 words. Answer with the summary only.";

/// The message the model sees in place of what a compaction summarised.
pub fn summary_message(summary: &str) -> String {
    format!("{SUMMARY_HEADER}\n{summary}")
}

/// Tokens in a text, roughly: a CJK character is about one token, four other characters are.
///
/// Counted over bytes (every turn estimates its whole history): ASCII bytes are ASCII
/// characters, and every other character starts with exactly one byte of 0xC0 or above.
pub fn estimate_tokens(text: &str) -> u64 {
    let (ascii, wide) = text.bytes().fold((0u64, 0u64), |(a, w), b| {
        (a + u64::from(b < 0x80), w + u64::from(b >= 0xC0))
    });
    ascii / 4 + wide + 1
}

/// Tokens of what a model call would carry (without the system prompt and tools).
pub fn estimate(messages: &[ChatMessage]) -> u64 {
    messages
        .iter()
        .map(|m| {
            4 + estimate_tokens(&m.content)
                + m.tool_calls
                    .iter()
                    .map(|c| estimate_tokens(&c.arguments) + 8)
                    .sum::<u64>()
        })
        .sum()
}

/// What one compaction summarises.
#[derive(Debug)]
pub struct Plan {
    /// The older part, as text for the summariser.
    pub text: String,
    /// The first entry kept word for word.
    pub first_kept: u64,
    /// Entries summarised (the previous summary not counted).
    pub summarised: usize,
    /// Entries kept.
    pub kept: usize,
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept} […]")
}

/// The entries the model sees now: those after the newest summary's cut.
fn active(transcript: &[TranscriptEntry]) -> (Option<&TranscriptEntry>, Vec<&TranscriptEntry>) {
    let previous = transcript
        .iter()
        .rposition(|e| e.role == Role::Compaction)
        .map(|i| &transcript[i]);
    let first_kept = previous.map_or(0, |c| c.first_kept.unwrap_or(c.seq));
    let active = transcript
        .iter()
        .filter(|e| e.role != Role::Compaction && e.seq >= first_kept)
        .collect();
    (previous, active)
}

/// Messages that count toward `historyLimit` among those the model sees.
pub fn counted(transcript: &[TranscriptEntry]) -> usize {
    active(transcript)
        .1
        .iter()
        .filter(|e| e.role == Role::User || e.is_final_answer())
        .count()
}

/// Plans a compaction of what the model sees now: the newest entries worth about `keep`
/// tokens, and at most `keep_messages` counted messages, stay (starting at a user message,
/// and never fewer than the newest user message and what follows it); everything older,
/// with any previous summary, is summarised. `None` when there is nothing older.
pub fn plan(transcript: &[TranscriptEntry], keep: u64, keep_messages: usize) -> Option<Plan> {
    let (previous, active) = active(transcript);
    let last_user = active.iter().rposition(|e| e.role == Role::User)?;
    // Walk back while the kept part fits.
    let mut start = active.len();
    let (mut tokens, mut messages) = (0, 0);
    for (i, e) in active.iter().enumerate().rev() {
        tokens += estimate_tokens(&e.content);
        if e.role == Role::User || e.is_final_answer() {
            messages += 1;
        }
        if (tokens > keep || messages > keep_messages) && i < last_user {
            break;
        }
        start = i;
    }
    while start < last_user && active[start].role != Role::User {
        start += 1;
    }
    if start == 0 {
        return None;
    }
    let mut lines: Vec<String> = Vec::new();
    for e in &active[..start] {
        let line = match e.role {
            Role::User => format!(
                "{}: {}",
                e.sender_name
                    .as_deref()
                    .or(e.sender.as_deref())
                    .unwrap_or("user"),
                cut(&e.content, MAX_ENTRY_CHARS)
            ),
            Role::Assistant if !e.tool_calls.is_empty() => {
                let mut l = String::from("assistant called");
                for c in &e.tool_calls {
                    let _ = write!(l, " {}({})", c.name, cut(&c.arguments, 300));
                }
                l
            }
            Role::Assistant => format!("assistant: {}", cut(&e.content, MAX_ENTRY_CHARS)),
            Role::Tool => format!("tool result: {}", cut(&e.content, MAX_ENTRY_CHARS / 2)),
            Role::Compaction => continue,
        };
        lines.push(line);
    }
    // Over the cap, the oldest lines give way.
    let mut total: usize = lines.iter().map(|l| l.chars().count() + 1).sum();
    let mut dropped = 0;
    while total > MAX_RENDERED_CHARS && dropped + 1 < lines.len() {
        total -= lines[dropped].chars().count() + 1;
        dropped += 1;
    }
    let mut text = String::new();
    if let Some(p) = previous {
        let _ = writeln!(
            text,
            "<previous-summary>\n{}\n</previous-summary>",
            p.content
        );
    }
    if dropped > 0 {
        let _ = writeln!(text, "[{dropped} older messages left out]");
    }
    text.push_str("<conversation>\n");
    for l in &lines[dropped..] {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str("</conversation>");
    Some(Plan {
        text,
        first_kept: active[start].seq,
        summarised: start,
        kept: active.len() - start,
    })
}

/// The user message of a summarising call; `focus` is what `/compact <focus>` asked for.
pub fn request(plan: &Plan, focus: Option<&str>) -> String {
    match focus.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => format!(
            "Summarise this, paying most attention to: {f}\n\n{}",
            plan.text
        ),
        None => format!("Summarise this.\n\n{}", plan.text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ToolCall;

    fn entry(seq: u64, role: Role, text: &str) -> TranscriptEntry {
        TranscriptEntry::message(seq, role, text.to_owned(), 0)
    }

    fn long(n: usize) -> String {
        "word ".repeat(n)
    }

    #[test]
    fn token_estimate_counts_characters_by_their_bytes() {
        // The rule stated over characters: a quarter token per ASCII one, one per other.
        let by_chars = |t: &str| {
            let ascii = t.chars().filter(char::is_ascii).count() as u64;
            ascii / 4 + (t.chars().count() as u64 - ascii) + 1
        };
        for text in [
            "",
            "hello world",
            "北京天气怎么样？",
            "mixed 混合 text 😀 é ü",
            &long(50),
        ] {
            assert_eq!(estimate_tokens(text), by_chars(text), "{text}");
        }
    }

    #[test]
    fn keeps_the_recent_turns_and_never_splits_a_tool_call() {
        let mut t = vec![
            entry(1, Role::User, &long(400)),
            entry(2, Role::Assistant, &long(400)),
        ];
        let mut call = entry(3, Role::User, "weather?");
        call.sender = Some("alice".into());
        t.push(call);
        let mut asked = entry(4, Role::Assistant, "");
        asked.tool_calls = vec![ToolCall {
            id: "c1".into(),
            name: "web_fetch".into(),
            arguments: "{\"url\":\"https://example.com\"}".into(),
        }];
        t.push(asked);
        let mut result = entry(5, Role::Tool, &long(300));
        result.tool_call_id = Some("c1".into());
        t.push(result);
        t.push(entry(6, Role::Assistant, "sunny"));
        t.push(entry(7, Role::User, "thanks"));
        // Room for the last user message only: everything before it is summarised, the tool
        // round included.
        let p = plan(&t, 10, 100).expect("something to summarise");
        assert_eq!(p.first_kept, 7);
        assert_eq!((p.summarised, p.kept), (6, 1));
        assert!(p.text.contains("alice: weather?"), "{}", p.text);
        assert!(p.text.contains("assistant called web_fetch("), "{}", p.text);
        assert!(p.text.contains("tool result: word"), "{}", p.text);

        // Enough room for the last two turns: the cut lands on a user message.
        let p = plan(&t, 450, 100).expect("the first turn");
        assert_eq!(p.first_kept, 3);
        // The same by message count: the last turn and its answer, then the cut.
        let p = plan(&t, 100_000, 3).expect("by count");
        assert_eq!(p.first_kept, 3);

        // After a compaction, the next one starts from its kept part and folds it in.
        let mut c = entry(8, Role::Compaction, "S1");
        c.first_kept = Some(7);
        t.push(c);
        t.push(entry(9, Role::Assistant, &long(50)));
        t.push(entry(10, Role::User, "more"));
        let p = plan(&t, 5, 100).expect("the kept part");
        assert_eq!(p.first_kept, 10);
        assert!(p.text.contains("<previous-summary>\nS1"), "{}", p.text);
        assert!(
            !p.text.contains("weather?"),
            "already summarised: {}",
            p.text
        );
        // Everything fits: nothing to do.
        assert!(plan(&t[..2], 100_000, 100).is_none());
    }

    #[test]
    fn chinese_counts_about_a_token_a_character() {
        assert_eq!(estimate_tokens("北京天气"), 5);
        assert_eq!(estimate_tokens("abcdefgh"), 3);
    }
}

// -- the session's side -----------------------------------------------------------------------

const NOTHING_TO_COMPACT: &str =
    "🧹 对话还很短，没有需要压缩的内容。The conversation is short; there is nothing to compact.";

/// Where a compaction was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Asked {
    /// `/compact`: the turn answers with what was done.
    Command,
    /// Before a turn's model call: the turn goes on afterwards, compacted or not.
    Automatic,
}

impl SessionActor {
    /// The context window of the model answering this conversation.
    pub(super) fn context_window(&self, config: &Config) -> u64 {
        let model = self.settings.model.clone().or_else(|| {
            config
                .agents
                .get(&self.seed.agent_id)
                .and_then(|a| a.model.primary.clone())
        });
        model
            .and_then(|m| ModelRef::parse(&m, &config.agents.model_aliases).ok())
            .and_then(|r| {
                config
                    .models
                    .provider(&r.provider)
                    .map(|p| p.context_window(&r.model))
            })
            .unwrap_or(DEFAULT_CONTEXT_WINDOW)
    }

    /// Is `history` (what the model would see) past its window minus the reserve? Asked once
    /// per turn.
    pub(super) fn context_over_window(&mut self, config: &Config, history: &[ChatMessage]) -> bool {
        let Some(turn) = self.turn.as_mut() else {
            return false;
        };
        if turn.context_checked {
            return false;
        }
        turn.context_checked = true;
        let c = &config.agents.compaction;
        if !c.enabled {
            return false;
        }
        let window = self.context_window(config);
        // The reserve never takes more than half of a small window.
        let limit = window - c.reserve_tokens.min(window / 2);
        let used = estimate(history);
        // Past `historyLimit` the oldest messages would drop out of the window unseen; they
        // are summarised instead.
        let messages = counted(&self.transcript);
        let history_limit = config.runtime.history_limit;
        if used <= limit && messages <= history_limit {
            return false;
        }
        tracing::info!(session = %self.seed.key, used, limit, window, messages, history_limit, "compacting the conversation");
        true
    }

    /// Summarises the older part of the conversation: for `/compact [focus]` (`focus` is
    /// `Some`), or before a turn's model call (`None`), which then goes on either way.
    pub(super) fn compact(&mut self, focus: Option<String>, ctx: &mut Context<Self>) {
        let asked = if focus.is_some() {
            Asked::Command
        } else {
            Asked::Automatic
        };
        let config = self.rt.config();
        let keep_messages = (config.runtime.history_limit / 2).max(1);
        let Some(plan) = plan(
            &self.transcript,
            config.agents.compaction.keep_recent_tokens,
            keep_messages,
        ) else {
            return match asked {
                Asked::Command => self.answer(NOTHING_TO_COMPACT.to_owned(), false, ctx),
                Asked::Automatic => self.run_turn(ctx),
            };
        };
        let Some(agent) = self.rt.lanes[self.seed.lane].agent(&self.seed.agent_id) else {
            return match asked {
                Asked::Command => self.answer(
                    format!(
                        "⚠️ The assistant \"{}\" is not running on this gateway.",
                        self.seed.agent_id
                    ),
                    false,
                    ctx,
                ),
                Asked::Automatic => self.run_turn(ctx),
            };
        };
        let stop = tokio_util::sync::CancellationToken::new();
        if let Some(turn) = self.turn.as_mut() {
            turn.stop = Some(stop.clone());
        }
        let mut settings = self.settings.clone();
        if let Some(model) = &config.agents.compaction.model {
            settings.model = Some(model.clone());
        }
        settings.think = None;
        let request = RunTurn {
            session_key: self.seed.key.clone(),
            history: vec![ChatMessage::user(request(&plan, focus.as_deref()))],
            extra_system: None,
            context: self.tool_context(&config),
            stream: None,
            notice: None,
            settings,
            stop,
            compact: true,
        };
        let call = catch(agent.send(request));
        ctx.spawn(
            actix::fut::wrap_future::<_, Self>(call).map(move |res, act, ctx| {
                let key: Arc<str> = Arc::from(act.seed.key.as_str());
                guard(act, ctx, ActorKind::Session, &key, |act, ctx| {
                    act.on_compacted(res, &plan, asked, ctx)
                });
            }),
        );
    }

    fn on_compacted(
        &mut self,
        res: Result<Result<Result<TurnOutput, TurnError>, MailboxError>, Panicked>,
        plan: &Plan,
        asked: Asked,
        ctx: &mut Context<Self>,
    ) {
        let failure = match res {
            Ok(Ok(Ok(out))) if !out.text.trim().is_empty() => {
                self.usage.add(out.usage);
                let mut entry = TranscriptEntry::message(
                    0,
                    Role::Compaction,
                    out.text.trim().to_owned(),
                    now_ms(),
                );
                entry.first_kept = Some(plan.first_kept);
                self.push_entry(entry);
                self.write_meta();
                tracing::info!(session = %self.seed.key, summarised = plan.summarised, kept = plan.kept, "conversation compacted");
                return match asked {
                    Asked::Command => self.answer(
                        format!(
                            "🧹 已压缩：较早的 {} 条记录已总结为摘要，保留最近 {} 条。Compacted: {} older entries summarised, the newest {} kept.",
                            plan.summarised, plan.kept, plan.summarised, plan.kept
                        ),
                        false,
                        ctx,
                    ),
                    Asked::Automatic => self.run_turn(ctx),
                };
            }
            Ok(Ok(Err(TurnError::Stopped))) => {
                return self.answer(STOPPED_REPLY.to_owned(), false, ctx);
            }
            Ok(Ok(Ok(_))) => "the model wrote an empty summary".to_owned(),
            Ok(Ok(Err(e))) => e.to_string(),
            Ok(Err(e)) => e.to_string(),
            Err(p) => p.to_string(),
        };
        tracing::warn!(session = %self.seed.key, error = %failure, "compaction failed; the conversation goes on uncompacted");
        match asked {
            Asked::Command => self.answer(
                format!(
                    "⚠️ 压缩失败，对话保持原样。Compaction failed; nothing was changed: {failure}"
                ),
                false,
                ctx,
            ),
            Asked::Automatic => self.run_turn(ctx),
        }
    }
}
