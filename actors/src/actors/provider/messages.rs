//! What a ProviderActor accepts.

use actix::prelude::*;

use crate::provider::{ChatRequest, Completion, StreamSink, WaitNotice};

use super::super::agent::TurnError;

/// One chat completion (with retries inside the provider).
#[derive(Message)]
#[rtype(result = "Result<Completion, TurnError>")]
pub struct Complete {
    /// The OpenAI-shaped request; the actor translates it for its provider's API.
    pub request: ChatRequest,
    /// Receives the text as it streams in.
    pub sink: Option<StreamSink>,
    /// Fired when the call waits long for one of the provider's slots.
    pub notice: Option<WaitNotice>,
    /// `/stop`: the call is dropped (its connection closed) and the turn ends.
    pub stop: tokio_util::sync::CancellationToken,
}
