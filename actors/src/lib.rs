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
//!
//! Dependencies point one way: later modules use earlier ones, never the reverse.

pub mod config;
pub mod routing;
