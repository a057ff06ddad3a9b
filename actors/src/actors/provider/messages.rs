//! What a ProviderActor accepts.

use actix::prelude::*;

use crate::provider::{ChatMessage, Completion};

use super::super::agent::TurnError;

/// One chat completion.
#[derive(Message)]
#[rtype(result = "Result<Completion, TurnError>")]
pub struct Complete {
    /// The model id as the provider spells it.
    pub model: String,
    pub messages: Vec<ChatMessage>,
}
