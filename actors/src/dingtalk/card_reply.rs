//! A reply that streams into an AI card while the model writes it
//! (docs/dingtalk-protocol.md 6.2, the DingTalk-Real-AI sequence): the card is created
//! before the answer exists, shows the text as it grows at most once per
//! `card.updateIntervalMs`, and is finished with the whole answer.
//!
//! Whatever goes wrong with the card, the user gets the whole answer: a card that cannot be
//! created, or breaks on the way, degrades the account to markdown (see `CardGate`) and the
//! answer is sent as a markdown reply instead.

use tokio::sync::{oneshot, watch};

use super::api::{DingTalkApi, ReplyOutcome, ReplyTarget};
use super::card::{Card, FlowStatus};
use super::error::DingTalkError;
use super::message::OutboundMessage;

/// Sends the answer that `done` will carry into the conversation of `target`, showing the
/// partial text of `live` meanwhile.
pub async fn reply_streaming(
    api: &DingTalkApi,
    target: &ReplyTarget,
    live: watch::Receiver<String>,
    done: oneshot::Receiver<String>,
) -> Result<ReplyOutcome, DingTalkError> {
    let gate = api.cards();
    if gate.settings().enabled && gate.degraded().is_none() {
        match api.card_create(target).await {
            Ok(card) => return stream_into(api, target, card, live, done).await,
            // An external user's DM has no staff id to deliver a card to: markdown, no degrade.
            Err(DingTalkError::NoStaffId) => {}
            Err(e) => gate.degrade(&api.account().id, &e),
        }
    }
    let text = done.await.map_err(|_| no_answer())?;
    let mut outcome = api.reply(target, &OutboundMessage::markdown(text)).await?;
    outcome.card_fallback = gate.settings().enabled;
    Ok(outcome)
}

async fn stream_into(
    api: &DingTalkApi,
    target: &ReplyTarget,
    card: Card,
    mut live: watch::Receiver<String>,
    done: oneshot::Receiver<String>,
) -> Result<ReplyOutcome, DingTalkError> {
    let gate = api.cards();
    let interval = gate.settings().update_interval;
    // What the card shows; empty until the first update.
    let mut shown = String::new();
    let mut healthy = true;
    tokio::pin!(done);
    let answer = loop {
        tokio::select! {
            answer = &mut done => break answer.ok(),
            _ = actix_rt::time::sleep(interval) => {}
        }
        let current = live.borrow_and_update().clone();
        if !healthy || current.is_empty() || current == shown {
            continue;
        }
        // The first text also switches the card from "processing" to "typing".
        let update = if shown.is_empty() {
            api.card_update(&card, FlowStatus::Inputing, &current).await
        } else {
            api.card_stream(&card, &current, false).await
        };
        match update {
            Ok(()) => shown = current,
            Err(e) => {
                gate.degrade(&api.account().id, &e);
                healthy = false;
            }
        }
    };
    let Some(text) = answer else {
        // The session gave up without an answer; do not leave the card spinning.
        if healthy {
            let _ = api.card_update(&card, FlowStatus::Failed, &shown).await;
        }
        return Err(no_answer());
    };
    if healthy {
        let finish = async {
            api.card_stream(&card, &text, true).await?;
            api.card_update(&card, FlowStatus::Finished, &text).await
        };
        match finish.await {
            Ok(()) => {
                return Ok(ReplyOutcome {
                    chunks: 1,
                    via_card: true,
                    ..ReplyOutcome::default()
                });
            }
            Err(e) => gate.degrade(&api.account().id, &e),
        }
    }
    let mut outcome = api.reply(target, &OutboundMessage::markdown(text)).await?;
    outcome.card_fallback = true;
    Ok(outcome)
}

fn no_answer() -> DingTalkError {
    DingTalkError::Protocol {
        api: "card reply",
        message: "the turn ended without an answer".to_owned(),
    }
}
