//! The dingclaw binary's own library: the command line and the wiring around the
//! `dingclaw-actors` library.
//!
//! # Layout
//!
//! - [`cli`]: the `dingclaw` command line (clap), one file per command.
//! - [`sim`]: a local DingTalk Open Platform for tests, benchmarks and the offline demo.

pub mod cli;
pub mod sim;
