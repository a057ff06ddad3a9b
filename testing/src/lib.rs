//! Test doubles for DingTalk bots: a DingTalk simulator and an offline model, both real
//! HTTP/WebSocket servers on 127.0.0.1, so that the code under test speaks its real protocols.
//!
//! - [`sim`]: DingTalk's Stream gateway, OpenAPI, sessionWebhooks, AI cards and custom robots
//!   (docs/dingtalk-protocol.md 9), with knobs for the failures real bots meet (refused
//!   credentials, dropped and silent sockets, redeliveries, QPS and permission refusals), a
//!   record of everything bots sent, and a load driver that measures reply latency.
//! - [`offline_model`]: an OpenAI-compatible (and Anthropic-compatible) model that answers
//!   deterministically (`[persona · model · turn N] You said: ...`), streams, calls tools on
//!   request (`/tool name {json}`) and follows scripts of delays and failures.
//! - [`postgres`]: a throwaway PostgreSQL server (`initdb` and `pg_ctl` in a temporary
//!   folder), for tests of the shared store.
//!
//! Both are what `dingclaw sim`, `dingclaw offline-model` and dingclaw's own tests and benchmarks
//! use. In a test of your own (`actix_rt::test`):
//!
//! ```no_run
//! use dingclaw_testing::offline_model::{ModelOptions, OfflineModel};
//! use dingclaw_testing::sim::{NewBot, SimOptions, SimServer};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let sim = SimServer::start(SimOptions::default(), 0, 1).await?; // port 0: any free one
//! sim.sim.add_bot(NewBot {
//!     client_id: Some("my-bot".into()),
//!     client_secret: Some("my-secret".into()),
//!     name: None,
//! });
//! let model = OfflineModel::start(ModelOptions::default(), 0, 1).await?;
//! // Point your bot at `sim.url` and its provider at `model.base_url`.
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod offline_model;
pub mod postgres;
pub mod sim;
