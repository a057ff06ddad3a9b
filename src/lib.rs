//! The dingclaw binary's own library: the command line and the wiring around the
//! `dingclaw-actors` library.
//!
//! # Layout
//!
//! - [`allocator`]: giving freed memory back, for the allocator `main.rs` chose.
//! - [`cli`]: the `dingclaw` command line (clap), one file per command.
//! - [`sim`]: a local DingTalk Open Platform for tests, benchmarks and the offline demo
//!   (re-exported from the `dingclaw-testing` crate).
//! - [`offline_model`]: a deterministic OpenAI-compatible model on loopback (the same).
//! - [`web`]: the operator's HTTP side on `gateway.port`: health and the operator API.
//! - [`demo`]: the offline demo, all of the above together.
//! - [`bench`]: the load benchmark (`dingclaw bench`): the above as separate processes.

pub mod allocator;
pub mod bench;
pub mod cli;
pub mod code_pages;
pub mod demo;
pub mod log_ring;
pub mod web;

/// The DingTalk simulator and the offline model live in the `dingclaw-testing` crate, for
/// embedders' tests too; the binary serves them as `dingclaw sim` and `dingclaw offline-model`.
pub use dingclaw_testing::{offline_model, sim};
