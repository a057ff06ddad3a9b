//! What happens in a running gateway, as events an embedder can subscribe to
//! (`RuntimeHandle::events`) instead of polling status.
//!
//! One broadcast channel per runtime: a subscriber that falls more than `CAPACITY` events
//! behind loses the oldest ones and is told how many (`RecvError::Lagged`), so a slow
//! subscriber never holds the gateway up.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

/// Events kept for a subscriber that has not read them yet.
const CAPACITY: usize = 1024;

/// Something that happened in the runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeEvent {
    /// An account's Stream connection is up (first connect and every reconnect).
    Connected {
        /// The account's id in the config.
        account: Arc<str>,
    },
    /// DingTalk refused an account's credentials; retried slowly.
    AuthFailed {
        /// The account's id in the config.
        account: Arc<str>,
        /// DingTalk's answer (never the secret).
        reason: String,
    },
    /// An account's connection was lost; it reconnects after a pause.
    Disconnected {
        /// The account's id in the config.
        account: Arc<str>,
        /// Why, as far as the client knows (closed, silent, `disconnect` from DingTalk).
        reason: String,
    },
    /// A turn ended and its answer is on its way: `ok` is false when the answer is an
    /// apology (the model failed, the turn crashed too often).
    TurnFinished {
        /// The agent that answered.
        agent: String,
        /// The session's key.
        session: String,
        /// The model answered (not an apology).
        ok: bool,
        /// From the first message of the turn arriving to its answer.
        took: Duration,
    },
    /// A reply could not be delivered (DingTalk refused it, the account is down, the caller
    /// of `ask` stopped listening).
    ReplyFailed {
        /// The account, or the channel of a caller (`web`, an embedder's).
        account: String,
        /// Why.
        error: String,
    },
    /// A supervised actor panicked and was started again. Restarts are counted per kind, in
    /// the whole process (`supervise::restart_count`).
    Restarted {
        /// The actor's kind (`session`, `account`...).
        kind: &'static str,
        /// Its id (a session key, an account id...).
        name: String,
    },
}

/// The sending side, kept by the runtime.
pub(super) struct EventBus {
    tx: broadcast::Sender<RuntimeEvent>,
}

impl EventBus {
    pub(super) fn new() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
        }
    }

    /// Publishes an event; nobody listening is fine.
    pub(super) fn emit(&self, event: RuntimeEvent) {
        let _ = self.tx.send(event);
    }

    /// Someone listens: events need building (a turn's costs two strings otherwise spent
    /// for nobody).
    pub(super) fn has_subscribers(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<RuntimeEvent> {
        self.tx.subscribe()
    }
}

impl super::Runtime {
    /// Subscribes to what happens from now on: connections, refusals, turns, failed
    /// replies, restarts. A subscriber that falls behind loses the oldest events and learns
    /// how many (`RecvError::Lagged`); the gateway never waits for it.
    pub fn events(&self) -> broadcast::Receiver<RuntimeEvent> {
        self.events.subscribe()
    }

    /// Publishes an event.
    pub(crate) fn emit(&self, event: RuntimeEvent) {
        self.events.emit(event);
    }

    /// Publishes the event `make` builds, only if someone listens (for events built on a
    /// hot path, such as every turn's).
    pub(crate) fn emit_with(&self, make: impl FnOnce() -> RuntimeEvent) {
        if self.events.has_subscribers() {
            self.events.emit(make());
        }
    }
}

/// Publishes the process's actor crashes (`supervise::crashes`) as this runtime's
/// `Restarted` events, until the runtime is gone or its threads stop.
pub(super) fn forward_crashes(rt: &Arc<super::Runtime>) {
    let mut crashes = crate::supervise::crashes();
    let weak = Arc::downgrade(rt);
    rt.lanes[0].arbiter.spawn(async move {
        loop {
            match crashes.recv().await {
                Ok(crash) => match weak.upgrade() {
                    Some(rt) => rt.emit(RuntimeEvent::Restarted {
                        kind: crash.kind,
                        name: crash.name,
                    }),
                    None => break,
                },
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
