//! A reply that streams into an AI card while the model writes it
//! (docs/dingtalk-protocol.md 6.2, the DingTalk-Real-AI sequence): the card shows the text
//! as it grows at most once per `card.updateIntervalMs`, and is finished with the whole
//! answer.
//!
//! Card calls are what limits a bot (`card.qps`, 20 a second for the whole app), so a reply
//! spends as few as it can: it waits `card.holdMs` for the whole answer, and one that is
//! complete by then goes out as a single `createAndDeliver` of a finished card; a longer one
//! opens its card then, already showing the text so far, and a card that was never streamed
//! into is finished by one variable update. Only a card that streamed ends with the
//! finalizing streaming call as well.
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
    mut live: watch::Receiver<String>,
    mut done: oneshot::Receiver<String>,
) -> Result<ReplyOutcome, DingTalkError> {
    let gate = api.cards();
    if gate.settings().enabled && gate.degraded().is_none() {
        let early = tokio::select! {
            answer = &mut done => Some(answer.map_err(|_| no_answer())?),
            _ = actix_rt::time::sleep(gate.settings().hold) => None,
        };
        let (status, text) = match &early {
            Some(answer) => (FlowStatus::Finished, answer.clone()),
            None => {
                let partial = live.borrow_and_update().clone();
                let status = if partial.is_empty() {
                    FlowStatus::Processing
                } else {
                    FlowStatus::Inputing
                };
                (status, partial)
            }
        };
        match api.card_create(target, status, &text).await {
            Ok(_) if early.is_some() => return Ok(card_outcome()),
            Ok(card) => return stream_into(api, target, card, text, live, &mut done).await,
            // An external user's DM has no staff id to deliver a card to: markdown, no degrade.
            Err(DingTalkError::NoStaffId) => {}
            Err(e) => gate.degrade(&api.account().id, &e),
        }
        if let Some(answer) = early {
            return markdown_fallback(api, target, answer, true).await;
        }
    }
    let text = done.await.map_err(|_| no_answer())?;
    markdown_fallback(api, target, text, gate.settings().enabled).await
}

/// Streams into `card`, created showing `shown`, until the answer is there; then finishes it.
async fn stream_into(
    api: &DingTalkApi,
    target: &ReplyTarget,
    card: Card,
    mut shown: String,
    mut live: watch::Receiver<String>,
    done: &mut oneshot::Receiver<String>,
) -> Result<ReplyOutcome, DingTalkError> {
    let gate = api.cards();
    let interval = gate.settings().update_interval;
    let mut healthy = true;
    let mut streamed = false;
    let answer = loop {
        tokio::select! {
            answer = &mut *done => break answer.ok(),
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
            streamed = true;
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
            // A stream that was opened is closed; a card only ever updated by variables
            // needs nothing but the last update.
            if streamed {
                api.card_stream(&card, &text, true).await?;
            }
            api.card_update(&card, FlowStatus::Finished, &text).await
        };
        match finish.await {
            Ok(()) => return Ok(card_outcome()),
            Err(e) => gate.degrade(&api.account().id, &e),
        }
    }
    markdown_fallback(api, target, text, true).await
}

fn card_outcome() -> ReplyOutcome {
    ReplyOutcome {
        chunks: 1,
        via_card: true,
        ..ReplyOutcome::default()
    }
}

/// The answer as a markdown reply; `card_fallback` when a card was meant to carry it.
async fn markdown_fallback(
    api: &DingTalkApi,
    target: &ReplyTarget,
    text: String,
    card_fallback: bool,
) -> Result<ReplyOutcome, DingTalkError> {
    let mut outcome = api.reply(target, &OutboundMessage::markdown(text)).await?;
    outcome.card_fallback = card_fallback;
    Ok(outcome)
}

fn no_answer() -> DingTalkError {
    DingTalkError::Protocol {
        api: "card reply",
        message: "the turn ended without an answer".to_owned(),
    }
}
