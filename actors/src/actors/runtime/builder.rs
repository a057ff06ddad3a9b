//! `Runtime::builder(config)`: the one way to start a runtime, with every option named.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::cron::Clock;
use crate::rate::RateWindow;
use crate::store::Store;
use crate::supervise::RestartPolicy;
use crate::tools::{Tool, ToolRegistry};

use super::{Runtime, RuntimeError, RuntimeHandle, RuntimeOptions, StoreChoice};

/// Options for a runtime, then `start()`. Every option has the gateway's default except the
/// store, which is memory unless the embedder chooses (`store_from_config`, `store`).
#[must_use = "a builder does nothing until start()"]
pub struct RuntimeBuilder {
    config: Config,
    options: RuntimeOptions,
}

impl RuntimeBuilder {
    pub(super) fn new(config: Config) -> Self {
        Self {
            config,
            options: RuntimeOptions::default(),
        }
    }

    /// Keeps sessions in the store the config names (SQLite at `dingclaw.storePath` unless
    /// `dingclaw.store` says `memory`), as the gateway does. Two processes must not share
    /// that file: `dingclaw backup` takes a copy of a running gateway's.
    pub fn store_from_config(mut self) -> Self {
        self.options.store = StoreChoice::FromConfig;
        self
    }

    /// Keeps sessions in the embedder's own store.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.options.store = StoreChoice::Given(store);
        self
    }

    /// Replaces the tools agents may call (default: `ToolRegistry::builtin()`). The runtime
    /// still adds the ones that need it (memory, exec, process, message, cron) unless the
    /// registry has a tool of that name.
    pub fn tools(mut self, tools: ToolRegistry) -> Self {
        self.options.tools = tools;
        self
    }

    /// Adds one tool to the registry (replacing a built-in one of the same name).
    pub fn tool(mut self, tool: impl Tool) -> Self {
        self.options.tools.register(tool);
        self
    }

    /// The scheduler's clock (tests use `cron::ManualClock`).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.options.clock = clock;
        self
    }

    /// How often the scheduler looks for due jobs (default: every second).
    pub fn scheduler_tick(mut self, tick: Duration) -> Self {
        self.options.scheduler_tick = tick;
        self
    }

    /// The custom robot limit kept on our side (default: DingTalk's 20 a minute per robot).
    pub fn robot_rate(mut self, rate: RateWindow) -> Self {
        self.options.robot_rate = rate;
        self
    }

    /// How often an MCP server is started again after failing, and the pauses between.
    pub fn mcp_restarts(mut self, policy: RestartPolicy) -> Self {
        self.options.mcp_restarts = policy;
        self
    }

    /// How the process's allocator gives freed memory back to the system; it runs on each
    /// of the runtime's threads once the gateway has been quiet for
    /// `dingclaw.memoryReleaseSeconds` (default: nothing beyond the runtime's own caches).
    /// An allocator with per-thread heaps (mimalloc's `mi_collect(true)`) needs it per
    /// thread; glibc's `malloc_trim(0)` covers the process.
    pub fn release_memory_with(mut self, give_back: fn()) -> Self {
        self.options.give_back = give_back;
        self
    }

    /// Something more to give back once per quiet release, after the per-thread release
    /// (`release_memory_with`) ran everywhere; it runs on the runtime's own thread. The
    /// `dingclaw` binary unmaps the pages of its code that start-up touched.
    pub fn after_memory_release(mut self, once: fn()) -> Self {
        self.options.after_release = once;
        self
    }

    /// Starts every actor inside the current actix System and returns once they run;
    /// `ready()` on the handle says when DingTalk has accepted (or refused) the accounts.
    /// Outside a System it returns `RuntimeError::NoSystem` instead of panicking.
    pub fn start(self) -> Result<RuntimeHandle, RuntimeError> {
        Runtime::launch(self.config, self.options).map(RuntimeHandle::new)
    }
}
