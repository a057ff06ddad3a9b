//! The one place that turns a panic into a restart.
//!
//! actix restarts a supervised actor only when it *stops*; a panic kills it for good and
//! every `Addr` goes dead (docs/actix-notes.md 1.2). So handler bodies run inside
//! `guard` (sync code) or `catch` (futures): a panic is caught, logged, counted, and turned
//! into `ctx.stop()`, which makes the `Supervisor` restart the actor with its mailbox intact.
//! In `restarting()` the actor asks its `Restarts` how long to back off and reloads its state
//! from the store; queued messages wait, none is lost.
//!
//! # Restart semantics, for any actor (an embedder's too: `ActorKind::Custom`)
//!
//! - Survives: the actor struct (actix reuses it; `Supervised::restarting` runs on it) and the
//!   mailbox, so state that must outlive a crash lives in fields, and queued messages are
//!   handled after the restart in their order.
//! - Does not survive: futures spawned on the context before the crash (`ctx.spawn`,
//!   `ctx.wait`, `run_later`, intervals); actix drops them with the old context. Work that
//!   must finish is remembered in a field and started again from `restarting()`, after the
//!   backoff `Restarts::record` gives, with `resume_after` (see `actors/examples/supervision.rs`).
//! - Gives up: past `RestartPolicy::max_restarts` within its window the plan says
//!   `budget_exhausted`; the actor should then answer the failing work with an error instead
//!   of retrying it once more.

use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::FutureExt;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::backoff::Backoff;

/// The kinds of supervised actors, for logs and restart counts. An embedder's own actors use
/// `Custom("name")`: supervised the same way, logged under their name, and counted together
/// in one `custom` restart counter (each actor's own count is `Restarts::total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// A DingTalk account.
    Account,
    /// The router.
    Router,
    /// A conversation session.
    Session,
    /// An agent.
    Agent,
    /// A model provider.
    Provider,
    /// The store writer.
    Store,
    /// The scheduler.
    Scheduler,
    /// An MCP server's actor; its restarts count the server's reconnections too.
    McpServer,
    /// An actor of the embedder's, by the name its logs should use.
    Custom(&'static str),
}

impl ActorKind {
    /// dingclaw's own kinds (not `Custom`), for status output.
    pub const ALL: [ActorKind; 8] = [
        ActorKind::Account,
        ActorKind::Router,
        ActorKind::Session,
        ActorKind::Agent,
        ActorKind::Provider,
        ActorKind::Store,
        ActorKind::Scheduler,
        ActorKind::McpServer,
    ];

    /// The name used in logs, metrics and events.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Account => "account",
            ActorKind::Router => "router",
            ActorKind::Session => "session",
            ActorKind::Agent => "agent",
            ActorKind::Provider => "provider",
            ActorKind::Store => "store",
            ActorKind::Scheduler => "scheduler",
            ActorKind::McpServer => "mcp_server",
            ActorKind::Custom(name) => name,
        }
    }

    fn index(self) -> usize {
        match self {
            ActorKind::Account => 0,
            ActorKind::Router => 1,
            ActorKind::Session => 2,
            ActorKind::Agent => 3,
            ActorKind::Provider => 4,
            ActorKind::Store => 5,
            ActorKind::Scheduler => 6,
            ActorKind::McpServer => 7,
            ActorKind::Custom(_) => 8,
        }
    }
}

/// One counter per built-in kind, and one for every `Custom` kind together.
static RESTARTS: [AtomicU64; 9] = [const { AtomicU64::new(0) }; 9];

/// Restarts of actors of `kind` since the process started.
pub fn restart_count(kind: ActorKind) -> u64 {
    RESTARTS[kind.index()].load(Ordering::Relaxed)
}

/// How often an actor may restart, and how long it waits before going on.
#[derive(Clone, Copy, Debug)]
pub struct RestartPolicy {
    /// More restarts than this within `window` exhaust the budget.
    pub max_restarts: usize,
    /// How far back restarts count.
    pub window: Duration,
    /// Backoff before the actor handles messages again: doubles from `initial` to `max`.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        Self {
            max_restarts: 5,
            window: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// What `Restarts::record` decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartPlan {
    /// Wait this long before handling messages again.
    pub backoff: Duration,
    /// The budget is spent: the actor should give up on the work that keeps failing (answer
    /// it with an error) instead of retrying it again.
    pub budget_exhausted: bool,
}

/// One actor's restart history; lives in the actor struct, which survives restarts.
#[derive(Debug)]
pub struct Restarts {
    policy: RestartPolicy,
    recent: VecDeque<Instant>,
    backoff: Backoff,
    total: u64,
}

impl Restarts {
    /// A restart history under `policy`.
    pub fn new(policy: RestartPolicy) -> Self {
        Self {
            backoff: Backoff::new(policy.initial_backoff, policy.max_backoff),
            policy,
            recent: VecDeque::new(),
            total: 0,
        }
    }

    /// Records a restart of an actor of `kind`.
    pub fn record(&mut self, kind: ActorKind) -> RestartPlan {
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.policy.window)
        {
            self.recent.pop_front();
        }
        if self.recent.is_empty() {
            self.backoff.reset();
        }
        self.recent.push_back(now);
        self.total += 1;
        RESTARTS[kind.index()].fetch_add(1, Ordering::Relaxed);
        crate::telemetry::restart(kind.as_str());
        let budget_exhausted = self.recent.len() > self.policy.max_restarts;
        if budget_exhausted {
            self.recent.clear();
        }
        RestartPlan {
            backoff: self.backoff.next_delay(),
            budget_exhausted,
        }
    }

    /// Restarts of this actor since it was created.
    pub fn total(&self) -> u64 {
        self.total
    }
}

impl Default for Restarts {
    fn default() -> Self {
        Self::new(RestartPolicy::default())
    }
}

/// Makes a restarted actor wait `backoff` before it handles anything else, then runs `then`
/// (redo the work it was in). Messages queue meanwhile; none is lost.
pub fn resume_after<A>(
    ctx: &mut Context<A>,
    backoff: Duration,
    then: impl FnOnce(&mut A, &mut Context<A>) + 'static,
) where
    A: Actor<Context = Context<A>>,
{
    ctx.wait(
        actix::fut::wrap_future::<_, A>(actix_rt::time::sleep(backoff))
            .map(move |_, act, ctx| then(act, ctx)),
    );
}

/// A panic caught inside a future.
#[derive(Debug, Clone)]
pub struct Panicked(pub String);

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "panicked: {}", self.0)
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".to_owned())
}

/// Runs a handler body; a panic becomes a logged restart of the actor (`ctx.stop()` under a
/// `Supervisor`) and `None`.
pub fn guard<A, R>(
    act: &mut A,
    ctx: &mut Context<A>,
    kind: ActorKind,
    id: &str,
    f: impl FnOnce(&mut A, &mut Context<A>) -> R,
) -> Option<R>
where
    A: Actor<Context = Context<A>>,
{
    match catch_unwind(AssertUnwindSafe(|| f(act, ctx))) {
        Ok(r) => Some(r),
        Err(payload) => {
            crashed(kind, id, &panic_message(payload.as_ref()));
            ctx.stop();
            None
        }
    }
}

/// A crash that is about to become a restart, as `crashes()` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crash {
    /// The actor kind (`session`, `account`...).
    pub kind: &'static str,
    /// The actor's id (a session key, an account id...).
    pub name: String,
}

/// Every crash in the process goes out here; a runtime forwards them as events.
static CRASHES: LazyLock<broadcast::Sender<Crash>> = LazyLock::new(|| broadcast::channel(256).0);

/// Subscribes to the crashes of every supervised actor in the process, from now on.
pub fn crashes() -> broadcast::Receiver<Crash> {
    CRASHES.subscribe()
}

/// Logs a crash that is about to become a restart, and tells `crashes()` subscribers.
pub fn crashed(kind: ActorKind, id: &str, message: &str) {
    tracing::error!(
        actor = kind.as_str(),
        id,
        panic = message,
        "actor panicked; restarting it"
    );
    let _ = CRASHES.send(Crash {
        kind: kind.as_str(),
        name: id.to_owned(),
    });
}

/// Runs a future, turning a panic inside it into `Err(Panicked)`.
pub async fn catch<F: Future>(fut: F) -> Result<F::Output, Panicked> {
    AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .map_err(|p| Panicked(panic_message(p.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker that keeps a counter across restarts and panics on request.
    struct Worker {
        handled: u32,
        generation: u32,
        restarts: Restarts,
    }

    impl Actor for Worker {
        type Context = Context<Self>;
    }

    impl Supervised for Worker {
        fn restarting(&mut self, ctx: &mut Context<Self>) {
            self.generation += 1;
            let plan = self.restarts.record(ActorKind::Session);
            ctx.wait(actix::fut::wrap_future(actix_rt::time::sleep(plan.backoff)));
        }
    }

    #[derive(Message)]
    #[rtype(result = "Option<(u32, u32)>")]
    struct Work {
        panic: bool,
    }

    impl Handler<Work> for Worker {
        type Result = Option<(u32, u32)>;

        fn handle(&mut self, msg: Work, ctx: &mut Context<Self>) -> Self::Result {
            guard(self, ctx, ActorKind::Session, "w", |act, _| {
                if msg.panic {
                    panic!("boom");
                }
                act.handled += 1;
                (act.generation, act.handled)
            })
        }
    }

    #[actix_rt::test]
    async fn a_panic_becomes_a_restart_with_state_and_mailbox_kept() {
        let mut crashes = crashes();
        let before = restart_count(ActorKind::Session);
        let addr = Supervisor::start(|_| Worker {
            handled: 0,
            generation: 0,
            restarts: Restarts::default(),
        });
        assert_eq!(
            addr.send(Work { panic: false }).await.unwrap(),
            Some((0, 1))
        );
        let crashed = addr.send(Work { panic: true });
        let queued = addr.send(Work { panic: false });
        assert_eq!(crashed.await.unwrap(), None);
        // The message queued behind the panic is handled by the restarted actor.
        assert_eq!(queued.await.unwrap(), Some((1, 2)));
        assert!(restart_count(ActorKind::Session) > before);
        // And the crash was told to `crashes()` subscribers (runtimes turn it into an event).
        let want = Crash {
            kind: "session",
            name: "w".to_owned(),
        };
        let mut seen = Vec::new();
        while let Ok(c) = crashes.try_recv() {
            seen.push(c);
        }
        assert!(seen.contains(&want), "{seen:?}");
    }

    #[test]
    fn budget_is_exhausted_after_too_many_restarts_in_the_window() {
        let mut r = Restarts::new(RestartPolicy {
            max_restarts: 2,
            window: Duration::from_secs(60),
            ..RestartPolicy::default()
        });
        assert!(!r.record(ActorKind::Agent).budget_exhausted);
        assert!(!r.record(ActorKind::Agent).budget_exhausted);
        let plan = r.record(ActorKind::Agent);
        assert!(plan.budget_exhausted);
        assert!(plan.backoff >= Duration::from_millis(40));
        assert_eq!(r.total(), 3);
    }

    #[actix_rt::test]
    async fn catch_turns_a_panicking_future_into_an_error() {
        let r = catch(async { panic!("inside") }).await;
        let err: Result<(), _> = r;
        assert_eq!(err.unwrap_err().0, "inside");
        assert_eq!(catch(async { 5 }).await.unwrap(), 5);
    }
}
