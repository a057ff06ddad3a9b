//! A session's files, reactions and mentions:
//!
//! - before a turn, the files of its messages are downloaded through the account and read
//!   (`media::ingest`); the turn waits for them, the message is stored with them;
//! - while the turn runs, a "thinking" reaction sits on the user's message (text and
//!   markdown replies; an AI card shows progress itself), taken off at the end;
//! - an answer's `MEDIA:<./workspace/path or https URL>` lines are taken out of its text and
//!   the files sent after it, as pictures or files (docs/openclaw-agent.md 2.6);
//! - an answer that names someone of the group as `@Name` @-mentions them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix::prelude::*;

use crate::actors::account::{DownloadMedia, React, SendMedia};
use crate::actors::router::{Inbound, ReplyTo};
use crate::config::ReplyMode;
use crate::dingtalk::files::MAX_UPLOAD_BYTES;
use crate::dingtalk::{DownloadError, OutboundMessage};
use crate::media::{AttachmentKind, Ingested, ingest, sniff};
use crate::routing::ChatType;

use super::SessionActor;

/// One `MEDIA:` line of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub target: String,
}

/// The answer without its `MEDIA:` lines, and those lines' targets.
pub fn split_media(text: &str) -> (String, Vec<Outgoing>) {
    let mut kept = Vec::new();
    let mut media = Vec::new();
    for line in text.lines() {
        match line.trim().strip_prefix("MEDIA:") {
            Some(target) if !target.trim().is_empty() => media.push(Outgoing {
                target: target.trim().trim_matches(['`', '"', '\'']).to_owned(),
            }),
            _ => kept.push(line),
        }
    }
    if media.is_empty() {
        return (text.to_owned(), media);
    }
    (kept.join("\n").trim_end().to_owned(), media)
}

/// A file the answer sends: name, type, bytes.
pub struct Loaded {
    pub name: String,
    pub mime: String,
    pub image: bool,
    pub bytes: Vec<u8>,
}

/// Reads a `MEDIA:` target: a path inside the workspace (`./a.png`, `out/b.pdf`) or an https
/// address, fetched like `web_fetch` (private addresses refused). Absolute and `~` paths are
/// refused, as OpenClaw does.
pub async fn load(
    target: &str,
    workspace: &Path,
    ssrf: &crate::config::SsrfPolicy,
) -> Result<Loaded, String> {
    let (name, bytes) = if target.starts_with("https://") {
        let client = crate::net::guarded_client(ssrf);
        let fetched = crate::net::get(
            &client,
            ssrf,
            target,
            &[],
            3,
            std::time::Duration::from_secs(30),
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut resp = fetched.response;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status().as_u16()));
        }
        let body = resp
            .body()
            .limit(MAX_UPLOAD_BYTES)
            .await
            .map_err(|e| format!("{e} (DingTalk takes files up to 20 MB)"))?;
        let name = fetched
            .final_url
            .path_segments()
            .and_then(|mut s| s.next_back().map(str::to_owned))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "download".to_owned());
        (name, body.to_vec())
    } else if target.starts_with('/') || target.starts_with('~') || target.contains("://") {
        return Err(
            "only files in the workspace (./path) and https addresses can be sent".to_owned(),
        );
    } else {
        let root = workspace
            .canonicalize()
            .map_err(|e| format!("the workspace: {e}"))?;
        let path = root
            .join(target.trim_start_matches("./"))
            .canonicalize()
            .map_err(|_| "there is no such file in the workspace".to_owned())?;
        if !path.starts_with(&root) {
            return Err("it is outside the workspace".to_owned());
        }
        let size = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
        if size > MAX_UPLOAD_BYTES as u64 {
            return Err(format!(
                "it is {} MB; DingTalk takes files up to 20 MB",
                size / 1_048_576
            ));
        }
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".to_owned());
        (name, bytes)
    };
    let sniffed = sniff(&name, &bytes);
    let image = sniffed.kind == AttachmentKind::Image
        && matches!(
            sniffed.mime.as_str(),
            "image/png" | "image/jpeg" | "image/gif" | "image/bmp" | "image/webp"
        );
    Ok(Loaded {
        name,
        mime: sniffed.mime,
        image,
        bytes,
    })
}

/// `@Name` in `text`, for names of people seen in the conversation: replaced by `@<staffId>`
/// (DingTalk shows the @ only when the id is in the text) and returned as ids to mention.
pub fn mentions(text: &str, names: &HashMap<String, String>) -> (String, Vec<String>) {
    let mut out = text.to_owned();
    let mut ids = Vec::new();
    // Longest names first, so "@Li Lei" is not taken for "@Li".
    let mut known: Vec<(&String, &String)> = names.iter().collect();
    known.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    for (name, id) in known {
        let at = format!("@{name}");
        if out.contains(&at) {
            out = out.replace(&at, &format!("@{id}"));
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
    }
    (out, ids)
}

impl SessionActor {
    /// Starts downloading the files of the turn's new messages, and returns true: the turn
    /// runs again when they are in. False when there is nothing (left) to download.
    pub(super) fn ingest_first(&mut self, ctx: &mut Context<Self>) -> bool {
        let pending: Vec<Inbound> = match self.turn.as_ref() {
            Some(t) if t.ingested.is_none() => t
                .messages
                .iter()
                .filter(|m| !m.media.is_empty() && !self.stored(&m.msg_id))
                .cloned()
                .collect(),
            _ => return false,
        };
        if pending.is_empty() {
            if let Some(t) = self.turn.as_mut() {
                t.ingested = Some(HashMap::new());
            }
            return false;
        }
        let config = self.rt.config();
        let Some(account) = config.account(&self.seed.account) else {
            if let Some(t) = self.turn.as_mut() {
                t.ingested = Some(HashMap::new());
            }
            return false;
        };
        let media = account.media.clone();
        let store = self.rt.media_store(media.dir.as_deref());
        let workspace: PathBuf = config
            .agents
            .get(&self.seed.agent_id)
            .map(|a| a.workspace.clone())
            .unwrap_or_default();
        let addr = self.rt.accounts.get(&*self.seed.account).map(|a| a.clone());
        let account_id = self.seed.account.clone();
        let work = async move {
            store.prune(media.keep_days);
            let mut out = HashMap::new();
            for m in pending {
                let addr = addr.clone();
                let got: Ingested = ingest(
                    &m.media,
                    &account_id,
                    media.max_bytes,
                    &store,
                    &workspace,
                    move |code, max| {
                        let addr = addr.clone();
                        async move {
                            let addr = addr.ok_or_else(|| {
                                DownloadError::Failed("the account is not running".to_owned())
                            })?;
                            addr.send(DownloadMedia {
                                download_code: code,
                                max_bytes: max,
                            })
                            .await
                            .map_err(|e| DownloadError::Failed(e.to_string()))?
                        }
                    },
                )
                .await;
                out.insert(m.msg_id.clone(), got);
            }
            out
        };
        ctx.spawn(work.into_actor(self).map(|got, act, ctx| {
            if let Some(t) = act.turn.as_mut() {
                t.ingested = Some(got);
            }
            let key = act.key();
            crate::supervise::guard(
                act,
                ctx,
                crate::supervise::ActorKind::Session,
                &key,
                |act, ctx| act.run_turn(ctx),
            );
        }));
        true
    }

    /// The account and target of a DingTalk reply, if this turn's reply goes to DingTalk.
    fn dingtalk_reply(&self) -> Option<(Arc<str>, crate::dingtalk::ReplyTarget)> {
        match self.turn.as_ref()?.messages.last().map(|m| &m.reply)? {
            ReplyTo::DingTalk {
                account, target, ..
            } => Some((Arc::clone(account), target.clone())),
            ReplyTo::Caller { .. } => None,
        }
    }

    /// Puts the "thinking" reaction on the turn's last message (once per turn), in the text and
    /// markdown reply modes, unless `ackReaction` is off.
    pub(super) fn react_start(&mut self, mode: ReplyMode) {
        if mode == ReplyMode::Aicard {
            return;
        }
        let Some(text) = self
            .rt
            .config()
            .account(&self.seed.account)
            .and_then(|a| a.media.ack_reaction.clone())
        else {
            return;
        };
        let Some((account, target)) = self.dingtalk_reply() else {
            return;
        };
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        if turn.reaction.is_some() {
            return;
        }
        let Some(msg_id) = turn.messages.last().map(|m| m.msg_id.clone()) else {
            return;
        };
        turn.reaction = Some((msg_id.clone(), text.clone()));
        self.send_react(&account, msg_id, target.conversation_id, text, true);
    }

    /// Takes the reaction off again.
    pub(super) fn react_end(&self, reaction: Option<(String, String)>, reply: Option<&ReplyTo>) {
        if let (
            Some((msg_id, text)),
            Some(ReplyTo::DingTalk {
                account, target, ..
            }),
        ) = (reaction, reply)
        {
            self.send_react(account, msg_id, target.conversation_id.clone(), text, false);
        }
    }

    fn send_react(
        &self,
        account: &str,
        msg_id: String,
        conversation_id: String,
        text: String,
        add: bool,
    ) {
        let Some(addr) = self.rt.accounts.get(account).map(|a| a.clone()) else {
            return;
        };
        actix_rt::spawn(async move {
            let r = addr
                .send(React {
                    msg_id,
                    conversation_id,
                    text,
                    add,
                })
                .await;
            if let Ok(Err(e)) = r {
                tracing::info!(error = %e, add, "the thinking reaction could not be set (the app may lack the permission)");
            }
        });
    }

    /// The answer as it goes out: `MEDIA:` lines taken out (sent after it by `send_files`),
    /// `@Name` of people seen in a group turned into @-mentions.
    pub(super) fn outgoing(&self, text: String, reply: &mut ReplyTo) -> (String, Vec<Outgoing>) {
        let (mut text, files) = split_media(&text);
        if let ReplyTo::DingTalk { target, .. } = reply
            && target.chat == ChatType::Group
        {
            let (with_ids, ids) = mentions(&text, &self.names);
            text = with_ids;
            target.mentions = ids;
        }
        if let ReplyTo::Caller { .. } = reply {
            for f in &files {
                text.push_str(&format!(
                    "\n[attachment {}: sent only in DingTalk chats]",
                    f.target
                ));
            }
            return (text, Vec::new());
        }
        (text, files)
    }

    /// Sends the answer's files after its text; a file that cannot be sent is said so.
    pub(super) fn send_files(&self, files: Vec<Outgoing>, ctx: &mut Context<Self>) {
        if files.is_empty() || self.stale() {
            return;
        }
        let Some((account, target)) = self.dingtalk_reply() else {
            return;
        };
        let config = self.rt.config();
        let workspace = config
            .agents
            .get(&self.seed.agent_id)
            .map(|a| a.workspace.clone())
            .unwrap_or_default();
        let ssrf = config.tools.web.fetch.ssrf.clone();
        let rt = Arc::clone(&self.rt);
        let work = async move {
            let Some(addr) = rt.accounts.get(account.as_ref()).map(|a| a.clone()) else {
                return;
            };
            for f in files {
                let result = match load(&f.target, &workspace, &ssrf).await {
                    Ok(l) => addr
                        .send(SendMedia {
                            target: target.clone(),
                            kind: if l.image { "image" } else { "file" },
                            file_name: l.name,
                            mime: l.mime,
                            bytes: l.bytes,
                        })
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map_err(|e| e.to_string())),
                    Err(e) => Err(e),
                };
                if let Err(why) = result {
                    tracing::warn!(file = %f.target, error = %why, "a file of an answer could not be sent");
                    let text = format!(
                        "⚠️ 没有发出 {}：{why}。Could not send {}: {why}.",
                        f.target, f.target
                    );
                    let reply = ReplyTo::DingTalk {
                        account: Arc::clone(&account),
                        target: target.clone(),
                        lease: None,
                    };
                    let _ = rt.send_reply(&reply, OutboundMessage::Text(text)).await;
                }
            }
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(work));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_lines_are_taken_out_and_names_become_mentions() {
        let (text, files) = split_media(
            "Here is the chart.\nMEDIA: ./out/chart.png\nMEDIA:https://example.com/a.pdf\nDone.",
        );
        assert_eq!(text, "Here is the chart.\nDone.");
        assert_eq!(
            files,
            vec![
                Outgoing {
                    target: "./out/chart.png".into()
                },
                Outgoing {
                    target: "https://example.com/a.pdf".into()
                },
            ]
        );
        let names = HashMap::from([
            ("Li".to_owned(), "li01".to_owned()),
            ("Li Lei".to_owned(), "lilei".to_owned()),
        ]);
        let (text, ids) = mentions("@Li Lei please check with @Li.", &names);
        assert_eq!(text, "@lilei please check with @li01.");
        assert_eq!(ids, vec!["lilei".to_owned(), "li01".to_owned()]);
    }

    #[actix_rt::test]
    async fn only_workspace_files_and_https_addresses_are_sent() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("chart.png"),
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "hi").unwrap();
        let ssrf = crate::config::SsrfPolicy::default();
        let png = load("./chart.png", dir.path(), &ssrf).await.unwrap();
        assert!(png.image && png.name == "chart.png");
        assert!(!load("notes.txt", dir.path(), &ssrf).await.unwrap().image);
        for bad in [
            "/etc/passwd",
            "~/.ssh/id_rsa",
            "../outside.txt",
            "http://127.0.0.1/x",
            "missing.png",
        ] {
            assert!(load(bad, dir.path(), &ssrf).await.is_err(), "{bad}");
        }
    }
}
