//! dingclaw-actors: the embeddable library behind the dingclaw gateway.
//!
//! # Layout
//!
//! The path of one DingTalk message through the library, module by module:
//!
//! - [`config`]: openclaw.json. Loading (JSON5, `$include`, `${VAR}`), strict validation with
//!   every error reported as `dotted.path: message`, and the effective config with defaults and
//!   account inheritance applied. Secrets are a type that never prints.
//! - [`routing`]: pure functions. Which agent answers a message (OpenClaw's binding tiers) and
//!   which session it belongs to (the DingTalk connector's scope flags). No actors, no I/O.
//! - [`dingtalk`]: the DingTalk wire protocol. Stream-mode client (one actor per account, one
//!   per socket), frame and bot message types, replies through the sessionWebhook or the robot
//!   OpenAPI, custom robot webhooks.
//! - [`actors`]: the supervised actors (account, router, session, agent, provider, MCP
//!   server, scheduler) and the runtime that starts them.
//! - [`provider`]: model providers: OpenAI-compatible calls and model references.
//! - [`tools`]: tools agents' models can call; one file per tool. [`net`] guards the requests
//!   a chat can steer (SSRF); [`skills`] finds `SKILL.md` files; [`memory`] indexes an agent's
//!   memory files; [`mcp`] reaches Model Context Protocol servers (with the `rmcp` SDK).
//! - [`cron`]: scheduled tasks: jobs, schedules, delivery rules, the clock (the scheduler
//!   actor is in [`actors`]).
//! - [`store`]: persistence behind one trait; SQLite (WAL) by default, written in batches.
//! - [`supervise`]: the one place that turns a panic into a restart; [`fault`] injects
//!   panics in tests.
//! - [`telemetry`]: the metrics dingclaw reports (names and labels in one place); [`tls`]: the
//!   crypto provider and HTTP clients.
//! - [`backoff`]: exponential backoff with jitter, shared by every retry loop; [`rate`]: the
//!   sliding-window rate limit shared by every limit we keep on our side.
//!
//! Dependencies point one way: later modules use earlier ones, never the reverse.
//!
//! `config` and `routing` are always built. The Cargo features add the rest: `dingtalk` (the
//! wire protocol, with `supervise`, `telemetry`, `tls`, `backoff`, `rate`), `runtime` (the
//! actors and everything they use) and `sqlite` (the SQLite store); all three are on by
//! default.
//!
//! The crate's front page, with runnable examples, follows.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

#[cfg(feature = "runtime")]
pub mod actors;
#[cfg(feature = "dingtalk")]
pub mod backoff;
#[cfg(feature = "runtime")]
pub mod charset;
pub mod config;
#[cfg(feature = "runtime")]
pub mod cron;
#[cfg(feature = "dingtalk")]
pub mod dingtalk;
#[cfg(feature = "dingtalk")]
#[doc(hidden)]
pub mod fault;
#[cfg(feature = "runtime")]
#[doc(hidden)]
pub mod fuzz_entry;
#[cfg(feature = "dingtalk")]
pub mod latency_window;
#[cfg(feature = "runtime")]
pub mod mcp;
#[cfg(feature = "runtime")]
pub mod media;
#[cfg(feature = "runtime")]
pub mod memory;
#[cfg(feature = "runtime")]
pub mod net;
#[cfg(feature = "runtime")]
pub mod provider;
#[cfg(feature = "dingtalk")]
pub mod rate;
pub mod routing;
#[cfg(feature = "runtime")]
pub mod skills;
#[cfg(feature = "runtime")]
pub mod store;
#[cfg(feature = "dingtalk")]
pub mod supervise;
#[cfg(feature = "dingtalk")]
pub mod telemetry;
#[cfg(feature = "dingtalk")]
pub mod tls;
#[cfg(feature = "runtime")]
pub mod tools;

/// Crates this one's signatures use, re-exported so an embedder's versions always match.
#[cfg(feature = "dingtalk")]
pub use actix;
#[cfg(feature = "dingtalk")]
pub use actix_rt;
pub use serde_json;
#[cfg(feature = "dingtalk")]
pub use tokio;

/// The names most programs embedding dingclaw use.
pub mod prelude {
    #[cfg(feature = "runtime")]
    pub use crate::actors::{Runtime, RuntimeOptions};
    pub use crate::config::{
        Config, ConfigError, DingTalkAccount, Environment, MapEnv, ProcessEnv, Secret, load_file,
        load_str,
    };
    #[cfg(feature = "dingtalk")]
    pub use crate::dingtalk::{BotMessage, BotMessageReceived, DingTalkError, StreamClient};
    pub use crate::routing::{ChatType, Inbound, Route, Routes};
    #[cfg(feature = "runtime")]
    pub use crate::tools::{Tool, ToolContext, ToolError, ToolRegistry};
}
