//! The running gateway: one `Runtime` shared by every actor, holding the registries (accounts,
//! sessions), the per-thread lanes of agent and provider actors, the store and the counters.
//!
//! Threads: one arbiter per worker (default one per core) runs sessions, agents, providers
//! and accounts; the store writer has a thread of its own; the router runs on the thread that
//! started the runtime. A session is placed on a lane by a hash of its key, and talks to the
//! agent and provider actors *of its own lane*, so a turn never hops threads
//! (docs/actix-notes.md 1.6, 3.3).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use actix::prelude::*;
use dashmap::DashMap;
use serde::Serialize;
use tokio::sync::{Semaphore, oneshot, watch};

use crate::config::{Config, StoreKind, is_dingtalk_channel};
use crate::cron::{Clock, SystemClock};
use crate::dingtalk::RobotLimiter;
use crate::dingtalk::robot::ROBOT_RATE;
use crate::dingtalk::{DingTalkError, OutboundMessage, ReplyOutcome};
use crate::provider::{ProviderState, ProviderStatus, UsageCounters, UsageSnapshot};
use crate::rate::RateWindow;
use crate::routing::{Routes, SessionKey};
use crate::store::{ClusterView, Lease, MemoryStore, Store, StoreError, StoreHandle, WriteOp};
use crate::supervise::{ActorKind, RestartPolicy, restart_count};
use crate::tools::{
    Approvals, Catalog, Exec, McpServerStatus, McpState, MemoryGet, MemorySearch, Process,
    Processes, ToolRegistry,
};

use super::account::{AccountActor, GetAccountState, SendReply, StreamReply};
use super::agent::AgentActor;
use super::cluster::{ClusterActor, ClusterState, ClusterStats, Leave as LeaveCluster};
use super::mcp::{McpServerActor, StopMcpServer};

use super::provider::ProviderActor;
use super::router::{Inbound, ReplyTo, RouterActor};
use super::scheduler::{CronTool, SchedulerActor};
use super::webchat::{AnswerPart, stream_to_caller};

mod builder;
mod events;
mod handle;
mod message_tool;
mod pairing;
mod proactive;
mod readiness;
mod reclaim;
mod recover;
mod reload;

use super::session::SessionActor;
pub use builder::RuntimeBuilder;
use events::EventBus;
pub use events::RuntimeEvent;
pub use handle::RuntimeHandle;
pub use pairing::{PairingRecord, PairingStatus, Pairings, pairing_reply};
pub use proactive::{ProactiveError, Target};
pub use readiness::{AccountReadiness, Readiness};
pub use reload::ReloadReport;

pub(crate) use recover::received as journal_message;

/// The cluster as one instance sees it: its settings and counters, and the store's picture.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterReport {
    /// This instance's id.
    pub instance: String,
    /// `heartbeatMs`.
    pub heartbeat_ms: u64,
    /// `leaseTtlMs`.
    pub lease_ttl_ms: u64,
    /// `botReplicas`.
    pub bot_replicas: usize,
    /// This instance's heartbeat is fresh: it answers.
    pub acting: bool,
    /// Where the shared store is (`postgres://user@host:port/db`, never the password).
    pub store_target: String,
    /// What this instance did in the cluster.
    pub stats: ClusterStats,
    /// Instances, leases and open messages, from the store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<ClusterView>,
    /// Why the store's picture is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
}

/// A session actor and how many messages the router has sent it (see `SessionIdle`).
pub struct SessionSlot {
    /// The session's actor.
    pub addr: Addr<SessionActor>,
    /// Messages the router has sent it (see `SessionIdle`).
    pub dispatched: u64,
    /// The worker it runs on.
    pub lane: usize,
    /// Answered under a cluster lease (evicted when the lease goes).
    pub clustered: bool,
}

/// The actors of one worker thread.
pub struct Lane {
    /// Its position among the workers.
    pub index: usize,
    /// Its thread.
    pub arbiter: ArbiterHandle,
    /// Each agent's actor on this worker.
    pub agents: RwLock<HashMap<String, Addr<AgentActor>>>,
    /// Each provider's actor on this worker.
    pub providers: RwLock<HashMap<String, Addr<ProviderActor>>>,
}

impl Lane {
    /// Agent `id`'s actor on this worker.
    pub fn agent(&self, id: &str) -> Option<Addr<AgentActor>> {
        self.agents
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Provider `id`'s actor on this worker.
    pub fn provider(&self, id: &str) -> Option<Addr<ProviderActor>> {
        self.providers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }
}

/// Running totals, for status output and drain.
#[derive(Default)]
pub struct Counters {
    /// Messages received from every channel.
    pub messages_in: AtomicU64,
    /// Messages refused by a policy (DM or group allow-lists, pairing).
    pub refused: AtomicU64,
    /// Replies delivered.
    pub replies_out: AtomicU64,
    /// Replies that could not be delivered.
    pub reply_failures: AtomicU64,
    /// Turns that ended with the model's answer.
    pub turns: AtomicU64,
    /// Turns that ended with an apology (the model failed, the turn crashed too often).
    pub turn_errors: AtomicU64,
    /// Sessions started since the runtime started (reloaded ones included).
    pub sessions_started: AtomicU64,
    /// Session actors not yet dropped: the resident ones, and evicted ones until they end.
    /// More than resident for long means evicted actors are kept alive (a leak).
    pub session_actors: AtomicI64,
    /// Messages dispatched to a session and not yet answered (queued or in a turn).
    pub pending: AtomicI64,
    /// Journaled messages an earlier process did not answer, answered by this one.
    pub recovered: AtomicU64,
    /// Transcripts resident sessions let go after `transcriptIdleSeconds`.
    pub transcripts_released: AtomicU64,
    /// Times a quiet gateway gave freed memory back (`memoryReleaseSeconds`).
    pub memory_releases: AtomicU64,
    /// Stream connections that came up, reconnections included.
    pub stream_connects: AtomicU64,
}

/// A snapshot for status output.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeStats {
    /// Messages received from every channel.
    pub messages_in: u64,
    /// Messages refused by a policy.
    pub refused: u64,
    /// Replies delivered.
    pub replies_out: u64,
    /// Replies that could not be delivered.
    pub reply_failures: u64,
    /// Turns answered by the model.
    pub turns: u64,
    /// Turns answered with an apology.
    pub turn_errors: u64,
    /// Sessions started.
    pub sessions_started: u64,
    /// Sessions in memory now (idle ones are evicted and reloaded on their next message).
    pub sessions_resident: usize,
    /// Session actors alive: the resident ones and evicted ones still finishing.
    pub session_actors: i64,
    /// Messages received and not yet answered.
    pub pending: i64,
    /// Messages an earlier process journaled and did not answer, answered by this one.
    pub recovered: u64,
    /// Transcripts resident sessions let go after `transcriptIdleSeconds`.
    pub transcripts_released: u64,
    /// Times a quiet gateway gave freed memory back (`memoryReleaseSeconds`).
    pub memory_releases: u64,
    /// Stream connections that came up, reconnections included.
    pub stream_connects: u64,
    /// Restarts per actor kind, in the whole process.
    pub restarts: HashMap<&'static str, u64>,
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The actors need an actix System on this thread (`actix_rt::System::new().block_on`,
    /// `#[actix_rt::main]`, or an actix-web server's).
    #[error(
        "the runtime must start inside an actix System (run it in actix_rt::System::new().block_on(...))"
    )]
    NoSystem,
    /// The config (or `StoreChoice::FromConfig`) asks for SQLite, and this build has no
    /// `sqlite` feature.
    #[error(
        "the config's store is SQLite, but dingclaw-actors was built without its `sqlite` feature"
    )]
    NoSqlite,
    /// The config asks for PostgreSQL, and this build has no `postgres` feature.
    #[error(
        "the config's store is PostgreSQL, but dingclaw-actors was built without its `postgres` feature"
    )]
    NoPostgres,
    /// `dingclaw.cluster` with a store that cannot be shared (a config built in code, or a
    /// store given by the embedder; the loader refuses the config's own).
    #[error("dingclaw.cluster needs a store several gateways can share (PostgreSQL)")]
    NoCluster,
    /// `store: "postgres"` without `storeUrl` (a config built in code; the loader refuses it).
    #[error("dingclaw.store is \"postgres\" but dingclaw.storeUrl is not set")]
    NoStoreUrl,
}

/// Where the runtime keeps sessions, transcripts, jobs and the inbound journal.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum StoreChoice {
    /// In memory: nothing survives the process. The default for a runtime built in code, so
    /// that an embedder's test never writes into the SQLite file a running gateway uses.
    #[default]
    Memory,
    /// The one the config names (`dingclaw.store`: SQLite at `dingclaw.storePath` unless it
    /// says `memory`), as the `dingclaw` gateway does. Its path is logged when it opens.
    FromConfig,
    /// The embedder's own.
    Given(Arc<dyn Store>),
}

/// What an embedder may give the runtime besides the config. Built with `Runtime::builder`;
/// new options may be added, so it cannot be written as a struct literal.
#[non_exhaustive]
pub struct RuntimeOptions {
    /// The store (default: memory).
    pub store: StoreChoice,
    /// The tools agents may call; defaults to dingclaw's built-in ones. The runtime adds
    /// those that need it: `memory_search` and `memory_get` (the store), `exec` and
    /// `process` (its commands), and `cron` when `cron.enabled`. An embedder's tool of the
    /// same name is kept.
    pub tools: ToolRegistry,
    /// The scheduler's clock (tests use a `ManualClock`).
    pub(crate) clock: Arc<dyn Clock>,
    /// How often the scheduler looks for due jobs.
    pub scheduler_tick: Duration,
    /// The custom robot limit kept on our side (DingTalk's: 20 a minute per robot).
    pub robot_rate: RateWindow,
    /// How often an MCP server is started again after failing, and the pauses between.
    pub mcp_restarts: RestartPolicy,
    /// The allocator's release of freed memory, run on each runtime thread when the gateway
    /// is quiet (default: nothing; the `dingclaw` binary passes mimalloc's and glibc's).
    pub give_back: fn(),
    /// Run once per release, after `give_back` ran on every thread (default: nothing; the
    /// `dingclaw` binary unmaps its cold code).
    pub after_release: fn(),
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            store: StoreChoice::Memory,
            tools: ToolRegistry::builtin(),
            clock: Arc::new(SystemClock),
            scheduler_tick: Duration::from_secs(1),
            robot_rate: ROBOT_RATE,
            mcp_restarts: super::mcp::SERVER_RESTARTS,
            give_back: || {},
            after_release: || {},
        }
    }
}

/// Everything the actors share. Embedders hold it through a `RuntimeHandle` (which stops it
/// when dropped) or an `Arc` from `RuntimeHandle::runtime`.
pub struct Runtime {
    config: RwLock<Arc<Config>>,
    pub(crate) store: StoreHandle,
    pub(crate) lanes: Vec<Lane>,
    pub(crate) accounts: DashMap<String, Addr<AccountActor>>,
    pub(crate) sessions: DashMap<SessionKey, SessionSlot>,
    router: OnceLock<Addr<RouterActor>>,
    /// Itself, for work a method spawns that outlives the call.
    me: OnceLock<std::sync::Weak<Runtime>>,
    /// `dmPolicy: "pairing"` requests and approvals.
    pub(crate) pairings: Pairings,
    /// `agents.defaults.maxConcurrent`: model turns running at once, across all agents.
    pub(crate) turn_slots: Arc<Semaphore>,
    pub(crate) counters: Counters,
    /// One per provider some agent uses: settings, limits, circuit, usage. Shared by that
    /// provider's actors on every lane.
    providers: RwLock<HashMap<String, Arc<ProviderState>>>,
    /// The routing rules of the config in force.
    routes: RwLock<Arc<Routes>>,
    /// One reload at a time.
    reloading: std::sync::Mutex<()>,
    /// Tokens and calls per agent.
    agent_usage: DashMap<String, Arc<UsageCounters>>,
    /// The tools agents may call: the built-in registry and the MCP servers' live tools.
    pub(crate) catalog: Arc<Catalog>,
    /// One actor per enabled MCP server, on `mcp_arbiter`.
    pub(crate) mcp_servers: DashMap<String, Addr<McpServerActor>>,
    mcp_arbiter: ArbiterHandle,
    mcp_restarts: RestartPolicy,
    /// Commands started by `exec`.
    pub(crate) processes: Arc<Processes>,
    /// Commands waiting for an owner's `/approve`.
    pub(crate) approvals: Arc<Approvals>,
    /// What `agents.defaults.imageModel` said pictures show, by their SHA-256.
    pub(crate) image_descriptions: Arc<DashMap<String, String>>,
    /// Where downloaded files are kept, by folder.
    media_stores: DashMap<std::path::PathBuf, Arc<crate::media::MediaStore>>,
    /// The scheduler, once started (only when `cron.enabled`).
    pub(crate) scheduler: Arc<OnceLock<Addr<SchedulerActor>>>,
    /// Every custom robot send in the process goes through it.
    pub(crate) robot_limiter: Arc<RobotLimiter>,
    /// The scheduler's clock.
    pub clock: Arc<dyn Clock>,
    started: Instant,
    arbiters: std::sync::Mutex<Vec<Arbiter>>,
    /// What happened, for `events()` subscribers.
    events: EventBus,
    /// `shutdown` has begun; a second call (or a dropped handle after it) does nothing.
    stopping: AtomicBool,
    /// `dingclaw.cluster`: this instance's place among the gateways sharing the store.
    cluster: Option<Arc<ClusterState>>,
    cluster_addr: OnceLock<Addr<ClusterActor>>,
}

impl Runtime {
    /// A runtime for `config`, with options to set before `start()`.
    pub fn builder(config: Config) -> RuntimeBuilder {
        RuntimeBuilder::new(config)
    }

    /// Starts every actor for `config` with the default options (an in-memory store,
    /// dingclaw's built-in tools) inside the current actix System: `Runtime::builder(config)
    /// .start()`.
    pub fn start(config: Config) -> Result<RuntimeHandle, RuntimeError> {
        Self::builder(config).start()
    }

    /// Starts the actors; the builder's `start` wraps the result in a handle.
    pub(super) fn launch(
        config: Config,
        options: RuntimeOptions,
    ) -> Result<Arc<Runtime>, RuntimeError> {
        // Starting an actor outside a System panics; say so instead.
        if actix::System::try_current().is_none() {
            return Err(RuntimeError::NoSystem);
        }
        let store = open_store(options.store, &config)?;
        let cluster = match &config.runtime.cluster {
            Some(c) if store.cluster().is_some() => Some(Arc::new(ClusterState::new(c.clone()))),
            Some(_) => return Err(RuntimeError::NoCluster),
            None => None,
        };
        let mut providers = HashMap::new();
        for id in config.agents.used_providers() {
            match config.models.provider(&id) {
                Some(p) if !p.base_url.is_empty() => {
                    providers.insert(id, ProviderState::new(p.clone()));
                }
                // `config check` has said why; the agents' turns will say it again.
                _ => {
                    tracing::warn!(provider = %id, "provider is not configured; agents using it will answer with an error")
                }
            }
        }
        let scheduler = Arc::new(OnceLock::new());
        let store_arbiter = Arbiter::new();
        let store = StoreHandle::start(store, &store_arbiter.handle());
        let mcp_arbiter = Arbiter::new();
        let (processes, approvals) = (
            Arc::new(Processes::default()),
            Arc::new(Approvals::default()),
        );
        let mut tools = options.tools;
        if tools.get("memory_search").is_none() {
            tools.register(MemorySearch::new(store.clone()));
        }
        if tools.get("memory_get").is_none() {
            tools.register(MemoryGet);
        }
        if tools.get("exec").is_none() {
            tools.register(Exec::new(Arc::clone(&processes), Arc::clone(&approvals)));
        }
        if tools.get("process").is_none() {
            tools.register(Process::new(Arc::clone(&processes)));
        }
        if config.cron.enabled {
            tools.register(CronTool::new(Arc::clone(&scheduler)));
        }
        let for_message_tool = Arc::new(OnceLock::new());
        if tools.get("message").is_none() {
            tools.register(message_tool::MessageTool::new(Arc::clone(
                &for_message_tool,
            )));
        }
        let mcp_handle = mcp_arbiter.handle();
        let mut arbiters = vec![store_arbiter, mcp_arbiter];
        let mut lanes = Vec::new();
        for index in 0..config.runtime.workers {
            let arbiter = Arbiter::new();
            lanes.push(Lane {
                index,
                arbiter: arbiter.handle(),
                agents: RwLock::new(HashMap::new()),
                providers: RwLock::new(HashMap::new()),
            });
            arbiters.push(arbiter);
        }
        let max_concurrent = config.agents.max_concurrent.max(1) as usize;
        let routes = Arc::new(Routes::new(&config));
        let rt = Arc::new(Runtime {
            config: RwLock::new(Arc::new(config)),
            store,
            lanes,
            accounts: DashMap::new(),
            sessions: DashMap::new(),
            router: OnceLock::new(),
            me: OnceLock::new(),
            pairings: Pairings::default(),
            turn_slots: Arc::new(Semaphore::new(max_concurrent)),
            counters: Counters::default(),
            routes: RwLock::new(routes),
            providers: RwLock::new(providers),
            reloading: std::sync::Mutex::new(()),
            agent_usage: DashMap::new(),
            catalog: Arc::new(Catalog::new(tools)),
            mcp_servers: DashMap::new(),
            mcp_arbiter: mcp_handle,
            mcp_restarts: options.mcp_restarts,
            processes,
            approvals,
            image_descriptions: Arc::default(),
            media_stores: DashMap::new(),
            scheduler,
            robot_limiter: Arc::new(RobotLimiter::new(options.robot_rate)),
            clock: options.clock,
            started: Instant::now(),
            arbiters: std::sync::Mutex::new(arbiters),
            events: EventBus::new(),
            stopping: AtomicBool::new(false),
            cluster,
            cluster_addr: OnceLock::new(),
        });
        events::forward_crashes(&rt);
        let _ = for_message_tool.set(Arc::downgrade(&rt));
        let _ = rt.me.set(Arc::downgrade(&rt));
        let config = rt.config();
        for lane in &rt.lanes {
            rt.start_lane(lane, &config);
        }
        for server in &config.mcp.servers {
            rt.start_mcp_server(server);
        }
        // The router lives on a lane, not on the caller's thread: a message then crosses
        // threads only where its account, the router and its session are on different lanes
        // (with one worker, never), and the router does not depend on an embedder's thread.
        let for_router = Arc::clone(&rt);
        let _ = rt.router.set(Supervisor::start_in_arbiter(
            &rt.lanes[0].arbiter,
            move |_| RouterActor::new(for_router),
        ));
        let (for_reclaim, release) = (
            Arc::clone(&rt),
            reclaim::Release {
                per_thread: options.give_back,
                once: options.after_release,
            },
        );
        Supervisor::start(move |_| reclaim::ReclaimActor::new(for_reclaim, release));
        if config.cron.enabled {
            let (for_scheduler, clock, tick) = (
                Arc::clone(&rt),
                Arc::clone(&rt.clock),
                options.scheduler_tick,
            );
            let addr = Supervisor::start_in_arbiter(&rt.lanes[0].arbiter, move |_| {
                SchedulerActor::new(for_scheduler, clock, tick)
            });
            let _ = rt.scheduler.set(addr);
        }
        let accounts = config
            .channels
            .dingtalk
            .active_accounts()
            .cloned()
            .collect();
        actix_rt::spawn(recover::recover_and_start(Arc::clone(&rt), accounts));
        Ok(rt)
    }

    /// Providers used by some agent, and every agent, on one lane.
    fn start_lane(self: &Arc<Self>, lane: &Lane, config: &Config) {
        let mut providers = HashMap::new();
        for (id, state) in self
            .providers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            providers.insert(id.clone(), start_provider(lane, state));
        }
        *lane.providers.write().unwrap_or_else(|p| p.into_inner()) = providers;
        let mut agents = HashMap::new();
        for agent in &config.agents.agents {
            agents.insert(agent.id.clone(), self.start_agent(lane, agent));
        }
        *lane.agents.write().unwrap_or_else(|p| p.into_inner()) = agents;
    }

    fn start_agent(
        self: &Arc<Self>,
        lane: &Lane,
        agent: &crate::config::Agent,
    ) -> Addr<AgentActor> {
        let (rt, agent, index) = (Arc::clone(self), agent.clone(), lane.index);
        Supervisor::start_in_arbiter(&lane.arbiter, move |_| AgentActor::new(agent, index, rt))
    }

    /// The store for downloads into `dir`, else `<stateDir>/media`.
    pub fn media_store(&self, dir: Option<&std::path::Path>) -> Arc<crate::media::MediaStore> {
        let root = dir
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| self.config().state_dir.join("media"));
        Arc::clone(
            &self
                .media_stores
                .entry(root.clone())
                .or_insert_with(|| Arc::new(crate::media::MediaStore::new(root))),
        )
    }

    /// The tools now (a snapshot: a turn keeps the one it started with).
    pub fn tools(&self) -> Arc<ToolRegistry> {
        self.catalog.current()
    }

    /// Starts an MCP server's actor, or records that it is disabled.
    pub(super) fn start_mcp_server(&self, server: &crate::config::McpServerConfig) {
        if !server.enabled {
            self.catalog.set_mcp_status(McpServerStatus {
                name: server.name.clone(),
                transport: server.transport.kind(),
                state: McpState::Stopped,
                pid: None,
                tools: Vec::new(),
                last_error: Some("disabled in the config".to_owned()),
                restarts: 0,
                calls: 0,
                errors: 0,
            });
            return;
        }
        let (cfg, catalog, policy) = (server.clone(), Arc::clone(&self.catalog), self.mcp_restarts);
        let addr = Supervisor::start_in_arbiter(&self.mcp_arbiter, move |_| {
            McpServerActor::new(cfg, catalog, policy)
        });
        self.mcp_servers.insert(server.name.clone(), addr);
    }

    /// Stops an MCP server's actor (its child is killed) and forgets it.
    pub(super) async fn stop_mcp_server(&self, name: &str) {
        if let Some((_, addr)) = self.mcp_servers.remove(name) {
            let _ = tokio::time::timeout(Duration::from_secs(5), addr.send(StopMcpServer)).await;
        }
        self.catalog.remove_mcp(name);
    }

    /// The routing rules in force.
    pub fn routes(&self) -> Arc<Routes> {
        Arc::clone(&self.routes.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// This instance's cluster state, when it runs in a cluster.
    pub fn cluster(&self) -> Option<&Arc<ClusterState>> {
        self.cluster.as_ref()
    }

    /// The ClusterActor, once started.
    pub(crate) fn cluster_addr(&self) -> Option<&Addr<ClusterActor>> {
        self.cluster_addr.get()
    }

    /// Starts the ClusterActor (after the accounts: it places them).
    fn start_cluster(self: &Arc<Self>) {
        if let Some(state) = &self.cluster {
            let (rt, state) = (Arc::clone(self), Arc::clone(state));
            let _ = self
                .cluster_addr
                .set(Supervisor::start(move |_| ClusterActor::new(rt, state)));
        }
    }

    /// The cluster as this instance sees it (`None` when it runs alone).
    pub async fn cluster_view(&self) -> Option<ClusterReport> {
        let state = self.cluster.as_ref()?;
        let store = self.store.cluster()?;
        let view = store.view(state.ttl_ms()).await;
        Some(ClusterReport {
            instance: state.me.to_string(),
            heartbeat_ms: state.config.heartbeat.as_millis() as u64,
            lease_ttl_ms: state.config.lease_ttl.as_millis() as u64,
            bot_replicas: state.config.bot_replicas,
            acting: state.alive(),
            store_target: self.store_target(),
            stats: state.stats(store.fenced_writes()),
            store: view.as_ref().ok().cloned(),
            store_error: view.err().map(|e| e.to_string()),
        })
    }

    /// Where the shared store is, without its password.
    fn store_target(&self) -> String {
        #[cfg(feature = "postgres")]
        if let Some(url) = &self.config().runtime.store_url {
            return crate::store::describe_postgres_url(url.expose());
        }
        String::new()
    }

    /// The account actor a reply under `lease` goes through, unless the reply is no longer
    /// this instance's to send (counted).
    fn replying_account(
        &self,
        account: &str,
        lease: Option<&Lease>,
    ) -> Result<Addr<AccountActor>, DingTalkError> {
        if let (Some(lease), Some(cluster)) = (lease, &self.cluster)
            && !cluster.may_act(lease)
        {
            cluster
                .counters
                .fenced_replies
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(session = %lease.key, "not sending a reply: this instance's lease on the session lapsed (another instance answers it)");
            return Err(DingTalkError::Fenced);
        }
        self.account_addr(account)
    }

    /// Starts an account's actor; `seen` are msgIds of it already journaled, with their age.
    fn start_account(
        self: &Arc<Self>,
        account: Arc<crate::config::DingTalkAccount>,
        seen: Vec<(String, Duration)>,
    ) {
        let lane = &self.lanes[lane_of(&account.id, self.lanes.len())];
        let (rt, id) = (Arc::clone(self), account.id.clone());
        let clustered = self.cluster.is_some();
        let addr = Supervisor::start_in_arbiter(&lane.arbiter, move |_| {
            let actor = AccountActor::new(account, rt).remembering(seen);
            if clustered { actor.clustered() } else { actor }
        });
        self.accounts.insert(id, addr);
    }

    /// Marks journaled DingTalk messages done: their reply was delivered, or failed for
    /// good. Committed at once: until then a crash would answer them a second time.
    pub fn journal_done<'a>(&self, messages: impl IntoIterator<Item = &'a Inbound>) {
        if !self.config().runtime.journal {
            return;
        }
        let ops: Vec<WriteOp> = messages
            .into_iter()
            .filter(|m| is_dingtalk_channel(&m.channel))
            .map(|m| {
                WriteOp::InboundDone {
                    account: m.account.to_string(),
                    msg_id: m.msg_id.clone(),
                }
                .fenced(m.lease.as_ref())
            })
            .collect();
        if !ops.is_empty() {
            self.store.write_now(ops);
        }
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The router, once started.
    pub fn router(&self) -> Option<&Addr<RouterActor>> {
        self.router.get()
    }

    /// This runtime as an `Arc`, while it is alive.
    pub(crate) fn me(&self) -> Option<Arc<Runtime>> {
        self.me.get().and_then(std::sync::Weak::upgrade)
    }

    /// Sends a reply back where a message came from.
    pub async fn send_reply(
        &self,
        reply: &ReplyTo,
        message: OutboundMessage,
    ) -> Result<ReplyOutcome, DingTalkError> {
        match reply {
            ReplyTo::DingTalk {
                account,
                target,
                lease,
            } => {
                let addr = self.replying_account(account, lease.as_ref())?;
                let sent = addr.send(SendReply {
                    target: target.clone(),
                    message,
                });
                self.count_reply(account, sent.await)
            }
            ReplyTo::Caller { account, events } => {
                let delivered = events
                    .send(AnswerPart::Done(message.text().to_owned()))
                    .is_ok();
                self.count_reply(account, Ok(caller_outcome(delivered)))
            }
        }
    }

    /// Sends a reply that streams into an AI card (see `StreamReply`).
    pub async fn stream_reply(
        &self,
        reply: &ReplyTo,
        live: watch::Receiver<String>,
        done: oneshot::Receiver<String>,
    ) -> Result<ReplyOutcome, DingTalkError> {
        match reply {
            ReplyTo::DingTalk {
                account,
                target,
                lease,
            } => {
                let addr = self.replying_account(account, lease.as_ref())?;
                let sent = addr.send(StreamReply {
                    target: target.clone(),
                    live,
                    done,
                });
                self.count_reply(account, sent.await)
            }
            ReplyTo::Caller { account, events } => {
                let delivered = stream_to_caller(events.clone(), live, done).await;
                self.count_reply(account, Ok(caller_outcome(delivered)))
            }
        }
    }

    fn account_addr(&self, account: &str) -> Result<Addr<AccountActor>, DingTalkError> {
        self.accounts
            .get(account)
            .map(|a| a.clone())
            .ok_or_else(|| DingTalkError::Transport {
                api: "reply",
                message: format!("account \"{account}\" is not running"),
            })
    }

    fn count_reply(
        &self,
        account: &str,
        sent: Result<Result<ReplyOutcome, DingTalkError>, MailboxError>,
    ) -> Result<ReplyOutcome, DingTalkError> {
        let result = sent.map_err(|e| DingTalkError::Transport {
            api: "reply",
            message: format!("account actor: {e}"),
        })?;
        match &result {
            Ok(_) => self.counters.replies_out.fetch_add(1, Ordering::Relaxed),
            Err(e) => {
                self.emit(RuntimeEvent::ReplyFailed {
                    account: account.to_owned(),
                    error: e.to_string(),
                });
                self.counters.reply_failures.fetch_add(1, Ordering::Relaxed)
            }
        };
        crate::telemetry::reply(account, result.is_ok());
        result
    }

    /// Stream state of every running account.
    pub async fn account_states(&self) -> Vec<super::account::AccountState> {
        let addrs: Vec<Addr<AccountActor>> = self.accounts.iter().map(|a| a.clone()).collect();
        let mut out = Vec::new();
        for a in addrs {
            if let Ok(Some(s)) = a.send(GetAccountState).await {
                out.push(s);
            }
        }
        out.sort_by(|a, b| a.stream.account.cmp(&b.stream.account));
        out
    }

    /// Totals for status output.
    pub fn stats(&self) -> RuntimeStats {
        let c = &self.counters;
        RuntimeStats {
            messages_in: c.messages_in.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            replies_out: c.replies_out.load(Ordering::Relaxed),
            reply_failures: c.reply_failures.load(Ordering::Relaxed),
            turns: c.turns.load(Ordering::Relaxed),
            turn_errors: c.turn_errors.load(Ordering::Relaxed),
            sessions_started: c.sessions_started.load(Ordering::Relaxed),
            sessions_resident: self.sessions.len(),
            session_actors: c.session_actors.load(Ordering::Relaxed),
            pending: c.pending.load(Ordering::Relaxed),
            recovered: c.recovered.load(Ordering::Relaxed),
            transcripts_released: c.transcripts_released.load(Ordering::Relaxed),
            memory_releases: c.memory_releases.load(Ordering::Relaxed),
            stream_connects: c.stream_connects.load(Ordering::Relaxed),
            restarts: ActorKind::ALL
                .iter()
                .map(|k| (k.as_str(), restart_count(*k)))
                .collect(),
        }
    }

    /// Counters that move with every message, reply and session change (`reclaim`).
    pub(crate) fn activity(&self) -> reclaim::Activity {
        let c = &self.counters;
        [
            c.messages_in.load(Ordering::Relaxed),
            c.replies_out.load(Ordering::Relaxed),
            c.sessions_started.load(Ordering::Relaxed),
            c.transcripts_released.load(Ordering::Relaxed),
            c.session_actors.load(Ordering::Relaxed) as u64,
            c.stream_connects.load(Ordering::Relaxed),
        ]
    }

    /// The threads that run sessions, agents, providers and MCP servers (the store's thread
    /// is reached through its writer).
    fn worker_arbiters(&self) -> Vec<ArbiterHandle> {
        let mut threads: Vec<ArbiterHandle> =
            self.lanes.iter().map(|l| l.arbiter.clone()).collect();
        threads.push(self.mcp_arbiter.clone());
        threads
    }

    /// The usage counters of an agent (created on first use).
    pub fn agent_usage(&self, agent: &str) -> Arc<UsageCounters> {
        if let Some(u) = self.agent_usage.get(agent) {
            return Arc::clone(&u);
        }
        Arc::clone(&self.agent_usage.entry(agent.to_owned()).or_default())
    }

    /// Usage of every agent that has run a turn, by agent id.
    pub fn agent_usages(&self) -> Vec<(String, UsageSnapshot)> {
        let mut out: Vec<_> = self
            .agent_usage
            .iter()
            .map(|e| (e.key().clone(), e.value().snapshot()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Status of every provider in use.
    pub fn provider_states(&self) -> Vec<ProviderStatus> {
        let mut out: Vec<_> = self
            .providers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|p| p.status())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Closes provider `id`'s circuit now (the web page's "try now"); false if unknown.
    pub fn retry_provider(&self, id: &str) -> bool {
        let providers = self.providers.read().unwrap_or_else(|p| p.into_inner());
        match providers.get(&crate::config::canonical_provider_id(id)) {
            Some(p) => {
                p.retry_now();
                true
            }
            None => false,
        }
    }

    /// Time since the runtime started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The store's handle: reads, writes and `flush()` (writes are batched behind the turn).
    pub fn store(&self) -> &StoreHandle {
        &self.store
    }

    /// Session keys of the sessions in memory now (idle ones are evicted; the store keeps
    /// them all: `store().sessions(..)`).
    pub fn resident_sessions(&self) -> Vec<SessionKey> {
        self.sessions.iter().map(|s| s.key().clone()).collect()
    }

    /// A session's actor, if it is in memory now.
    pub fn session(&self, key: &SessionKey) -> Option<Addr<SessionActor>> {
        self.sessions.get(key).map(|slot| slot.addr.clone())
    }

    /// The scheduler, when `cron.enabled`.
    pub fn scheduler(&self) -> Option<&Addr<SchedulerActor>> {
        self.scheduler.get()
    }

    /// The tools agents may call and the MCP servers' state.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// `dmPolicy: "pairing"` requests and approvals.
    pub fn pairings(&self) -> &Pairings {
        &self.pairings
    }

    /// `shutdown` has begun.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Stops every thread the runtime started (workers, store writer, MCP).
    fn stop_arbiters(&self) {
        for arbiter in self
            .arbiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            arbiter.stop();
        }
    }

    /// Stops the worker threads at once, for when no task can run a graceful shutdown.
    pub(super) fn stop_threads(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.processes.kill_all();
        self.stop_arbiters();
    }

    /// Stops taking messages, waits up to `drain` for turns in flight, commits the store, and
    /// stops the worker threads. Only the first call does anything.
    pub async fn shutdown(&self, drain: Duration) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        for a in self.accounts.iter() {
            a.do_send(super::account::StopAccount);
        }
        let deadline = Instant::now() + drain;
        while self.counters.pending.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
        let left = self.counters.pending.load(Ordering::Relaxed);
        if left > 0 {
            tracing::warn!(
                messages = left,
                "shutdown: drain time is up with messages unanswered"
            );
        }
        if let Err(e) = self.store.flush().await {
            tracing::error!(error = %e, "shutdown: store flush failed");
        }
        if let Some(addr) = self.cluster_addr.get() {
            let _ = tokio::time::timeout(Duration::from_secs(5), addr.send(LeaveCluster)).await;
        }
        self.processes.kill_all();
        let servers: Vec<String> = self.mcp_servers.iter().map(|e| e.key().clone()).collect();
        for name in servers {
            self.stop_mcp_server(&name).await;
        }
        self.sessions.clear();
        self.accounts.clear();
        for lane in &self.lanes {
            lane.agents
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
            lane.providers
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
        }
        self.stop_arbiters();
    }
}

/// Opens the store the options choose.
fn open_store(choice: StoreChoice, config: &Config) -> Result<Arc<dyn Store>, RuntimeError> {
    let configured = match choice {
        StoreChoice::Given(store) => return Ok(store),
        StoreChoice::Memory => StoreKind::Memory,
        StoreChoice::FromConfig => config.runtime.store,
    };
    match configured {
        StoreKind::Memory => {
            tracing::info!("store: memory (nothing is kept after the process ends)");
            Ok(Arc::new(MemoryStore::default()))
        }
        #[cfg(feature = "sqlite")]
        StoreKind::Sqlite => {
            tracing::info!(path = %config.runtime.store_path.display(), "store: SQLite");
            Ok(Arc::new(crate::store::SqliteStore::open_with(
                &config.runtime.store_path,
                config.runtime.durability,
            )?))
        }
        #[cfg(not(feature = "sqlite"))]
        StoreKind::Sqlite => Err(RuntimeError::NoSqlite),
        #[cfg(feature = "postgres")]
        StoreKind::Postgres => {
            let url = config
                .runtime
                .store_url
                .as_ref()
                .ok_or(RuntimeError::NoStoreUrl)?;
            tracing::info!(server = %crate::store::describe_postgres_url(url.expose()), "store: PostgreSQL");
            Ok(Arc::new(crate::store::PostgresStore::connect_trusting(
                url,
                config.runtime.store_ca_file.as_deref(),
            )?))
        }
        #[cfg(not(feature = "postgres"))]
        StoreKind::Postgres => Err(RuntimeError::NoPostgres),
    }
}

/// How a reply to a caller went: the page (or the embedder's receiver) may have gone away.
fn caller_outcome(delivered: bool) -> Result<ReplyOutcome, DingTalkError> {
    if delivered {
        Ok(ReplyOutcome {
            chunks: 1,
            ..ReplyOutcome::default()
        })
    } else {
        Err(DingTalkError::Transport {
            api: "caller",
            message: "the caller stopped listening before the answer".to_owned(),
        })
    }
}

/// A provider's actor on one lane.
fn start_provider(lane: &Lane, state: &Arc<ProviderState>) -> Addr<ProviderActor> {
    let state = Arc::clone(state);
    Supervisor::start_in_arbiter(&lane.arbiter, move |_| ProviderActor::new(state))
}

/// The lane (worker thread) for a key: sessions by session key, accounts by account id.
pub fn lane_of(key: &str, lanes: usize) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % lanes.max(1) as u64) as usize
}
