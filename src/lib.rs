//! The dingclaw binary's own library: the command line and the wiring around the
//! `dingclaw-actors` library.
//!
//! # Layout
//!
//! - [`cli`]: the `dingclaw` command line (clap), one file per command.

pub mod cli;
