//! The supervised actors, one folder each, and the runtime that wires them.
//!
//! The path of a message: `account` (one per DingTalk account: Stream client, outbound
//! sends) → `router` (policies, routing rules, session registry) → `session` (one per
//! session key: turns, queue, transcript) → `agent` (prompt and model) → `provider` (the HTTP
//! call) → back to `session` → `account` sends the reply. `scheduler` runs scheduled jobs
//! through the same agents. `cluster` (with `dingclaw.cluster`) shares bots and sessions
//! with the other gateways on one PostgreSQL store. `runtime` starts them all and holds what they share.

pub mod account;
pub mod agent;
pub mod ask;
pub mod cluster;
pub mod mcp;
pub mod provider;
pub mod router;
pub mod runtime;
pub mod scheduler;
pub mod session;
pub mod webchat;

pub use ask::{Answer, AskError, EMBEDDED_CHANNEL};
pub use runtime::{
    AccountReadiness, ClusterReport, Readiness, ReloadReport, Runtime, RuntimeBuilder,
    RuntimeError, RuntimeEvent, RuntimeHandle, RuntimeOptions, RuntimeStats, StoreChoice,
};
pub use webchat::AnswerPart;
