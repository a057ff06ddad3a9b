//! ClusterActor: this instance's part in a cluster of gateways sharing one PostgreSQL store
//! (`dingclaw.cluster`; README "Several gateways").
//!
//! - **Heartbeat** every `heartbeatMs`; the live set is every instance heard from within
//!   `leaseTtlMs`. A renewal that comes after a lapse ends the lease generation: whatever
//!   was in flight is not answered by this instance (see `ClusterState`).
//! - **Bots** connect on `botReplicas` live instances chosen by rendezvous hashing; a bot
//!   that moves away stays connected here a little longer, so the new holder is connected
//!   before this one leaves (no gap for DingTalk to fall into).
//! - **Sessions**: a message is journaled by whichever instance DingTalk handed it to, with
//!   its session's next place; the journal names the lease holder (taking the lease when its
//!   holder is dead) and wakes it with `NOTIFY`. This actor hands a held session's messages
//!   to the router strictly in session order, reading any gap from the journal.
//! - **Take-over**: every heartbeat, sessions with open messages whose holder went silent
//!   are taken (a higher epoch) and their open messages replayed in order; the old holder's
//!   late writes are refused by the fence in the store.

mod messages;
mod state;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;

pub use messages::{JournaledHere, Leave, Wake};
pub use state::{ClusterCounters, ClusterState, ClusterStats, placement};

use crate::dingtalk::BotMessageReceived;
use crate::store::{ClusterStore, SessionWork, Sweep};
use crate::supervise::{ActorKind, Restarts, guard, resume_after};

use super::account::Connect;
use super::router::{Evict, Inbound};
use super::runtime::Runtime;

/// Sessions taken over in one sweep at most (the next sweep takes more).
const SWEEP_LIMIT: i64 = 500;

/// How often pairing approvals made on other instances are read in.
const PAIRINGS_REFRESH: Duration = Duration::from_secs(2);

/// One session this instance holds.
#[derive(Debug, Default)]
struct Held {
    epoch: u64,
    /// The newest place handed to the router.
    handed: u64,
    /// A read of the journal is running.
    reading: bool,
    /// Something arrived during that read: read again after it.
    again: bool,
}

/// This instance's cluster work (one per clustered runtime).
pub struct ClusterActor {
    rt: Arc<Runtime>,
    state: Arc<ClusterState>,
    held: HashMap<String, Held>,
    /// Accounts this instance keeps connected, and since when each is no longer placed here.
    connected: HashMap<String, Option<Instant>>,
    /// The live instances at the last heartbeat.
    live: Vec<String>,
    joined: bool,
    ticking: bool,
    /// When the pairing records were last read.
    pairings_read: Instant,
    restarts: Restarts,
}

impl ClusterActor {
    /// The cluster actor of `rt`, which must have a cluster.
    pub fn new(rt: Arc<Runtime>, state: Arc<ClusterState>) -> Self {
        Self {
            rt,
            state,
            held: HashMap::new(),
            connected: HashMap::new(),
            live: Vec::new(),
            joined: false,
            ticking: false,
            pairings_read: Instant::now(),
            restarts: Restarts::default(),
        }
    }

    fn store(&self) -> Option<&dyn ClusterStore> {
        self.rt.store.cluster()
    }

    /// What this instance says about itself in its heartbeat.
    fn info(&self) -> serde_json::Value {
        let mut bots: Vec<&String> = self.connected.keys().collect();
        bots.sort();
        serde_json::json!({
            "bots": bots,
            "sessions": self.held.len(),
            "resident": self.rt.sessions.len(),
            "pid": std::process::id(),
            "version": env!("CARGO_PKG_VERSION"),
        })
    }

    /// Runs `f` under the actor's panic guard.
    fn guarded(&mut self, ctx: &mut Context<Self>, f: impl FnOnce(&mut Self, &mut Context<Self>)) {
        guard(self, ctx, ActorKind::Custom("cluster"), "cluster", f);
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.ticking || self.rt.is_stopping() {
            return;
        }
        let (me, inc, ttl) = (
            self.state.me.to_string(),
            self.state.incarnation.clone(),
            self.state.ttl_ms(),
        );
        let info = self.info();
        let joining = !self.joined;
        let rt = Arc::clone(&self.rt);
        self.ticking = true;
        // One step after the other: the heartbeat must find the row the join wrote.
        let work = async move {
            let store = rt
                .store
                .cluster()
                .ok_or(crate::store::StoreError::WriterGone)?;
            if joining {
                store.join(&me, &inc, info.clone()).await?;
            }
            let sent = Instant::now();
            let renewed = store.heartbeat(&me, &inc, info).await?;
            let live = store.live(ttl).await?;
            let sweep = if renewed {
                Some(store.sweep(&me, ttl, SWEEP_LIMIT).await?)
            } else {
                None
            };
            Ok::<_, crate::store::StoreError>((sent, renewed, live, sweep))
        };
        ctx.spawn(work.into_actor(self).map(move |res, act, ctx| {
            act.ticking = false;
            match res {
                Ok((sent, renewed, live, sweep)) => {
                    if joining {
                        act.joined = true;
                        tracing::info!(instance = %act.state.me, "joined the cluster");
                    }
                    act.guarded(ctx, |act, ctx| {
                        act.after_heartbeat(sent, renewed, live, sweep, ctx)
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cluster heartbeat failed; this instance stops answering once its lease time is up")
                }
            }
        }));
    }

    fn after_heartbeat(
        &mut self,
        sent: Instant,
        renewed: bool,
        live: Vec<String>,
        sweep: Option<Sweep>,
        ctx: &mut Context<Self>,
    ) {
        if !renewed {
            tracing::error!(instance = %self.state.me, "another process runs under this instance id; this one stops answering (give each gateway its own dingclaw.cluster.instanceId)");
            self.state.displace();
            self.drop_everything();
            for account in self.connected.keys() {
                self.connect(account, false);
            }
            self.connected.clear();
            return;
        }
        if self.state.renewed(sent) {
            tracing::warn!(instance = %self.state.me, "this instance's heartbeat lapsed (paused, or cut off from the store); its sessions may have been taken over, so it gives them all up");
            self.drop_everything();
            if let Some(store) = self.store() {
                let release = store.release_all(&self.state.me);
                ctx.spawn(
                    async move {
                        if let Err(e) = release.await {
                            tracing::warn!(error = %e, "could not free this instance's leases");
                        }
                    }
                    .into_actor(self),
                );
            }
            // The sweep ran under the old generation; the next one starts afresh.
            return self.place(live);
        }
        self.place(live);
        if let Some(sweep) = sweep {
            self.apply_sweep(sweep, ctx);
        }
        if self.pairings_read.elapsed() >= PAIRINGS_REFRESH {
            self.pairings_read = Instant::now();
            self.read_pairings(ctx);
        }
    }

    /// Takes in the pairing approvals other instances recorded (an owner approves a person
    /// once, on whichever instance; every instance must let them in).
    fn read_pairings(&self, ctx: &mut Context<Self>) {
        let store = self.rt.store.clone();
        ctx.spawn(async move { store.pairings().await }.into_actor(self).map(
            |res, act, _| match res {
                Ok(rows) => act.rt.pairings.load(&rows),
                Err(e) => tracing::warn!(error = %e, "cannot read the shared pairing records"),
            },
        ));
    }

    /// Forgets every held session and evicts their actors.
    fn drop_everything(&mut self) {
        self.held.clear();
        if let Some(router) = self.rt.router() {
            router.do_send(Evict { key: None });
        }
    }

    /// Connects the bots placed here, and disconnects (after a grace) those placed elsewhere.
    fn place(&mut self, live: Vec<String>) {
        // An empty live set means the store said nothing useful: keep what is connected.
        if live.is_empty() || !live.iter().any(|id| **id == *self.state.me) {
            self.live = live;
            return;
        }
        self.live = live;
        let grace = (self.state.config.heartbeat * 3).max(Duration::from_secs(1));
        let config = self.rt.config();
        let mut wanted = HashSet::new();
        for account in config.channels.dingtalk.active_accounts() {
            let here = placement(&account.id, &self.live, self.state.config.bot_replicas)
                .contains(&&*self.state.me);
            if here {
                wanted.insert(account.id.clone());
            }
        }
        for id in &wanted {
            match self.connected.get_mut(id) {
                Some(since) => *since = None,
                None => {
                    self.connect(id, true);
                    self.connected.insert(id.clone(), None);
                }
            }
        }
        let mut leaving = Vec::new();
        for (id, since) in &mut self.connected {
            if wanted.contains(id) {
                continue;
            }
            let at = *since.get_or_insert_with(Instant::now);
            if at.elapsed() >= grace || config.account(id).is_none() {
                leaving.push(id.clone());
            }
        }
        for id in leaving {
            self.connect(&id, false);
            self.connected.remove(&id);
        }
    }

    fn connect(&self, account: &str, on: bool) {
        if let Some(addr) = self.rt.accounts.get(account) {
            tracing::info!(account, instance = %self.state.me, connect = on, "bot placement");
            addr.do_send(Connect(on));
        }
    }

    fn apply_sweep(&mut self, sweep: Sweep, ctx: &mut Context<Self>) {
        if !sweep.taken.is_empty() {
            tracing::info!(
                sessions = sweep.taken.len(),
                "took over sessions whose instance went silent"
            );
            self.state.counters.leases_taken.fetch_add(
                sweep.taken.len() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        for (key, epoch) in sweep.taken {
            self.hold(&key, epoch);
        }
        for (key, epoch, newest) in sweep.open {
            self.hold(&key, epoch);
            if self.held.get(&key).is_some_and(|h| newest > h.handed) {
                self.read(key, ctx);
            }
        }
    }

    /// Notes that this instance holds `key` at `epoch`: a new epoch starts the session
    /// afresh (its open messages are all handed again, its actor reloads from the store).
    fn hold(&mut self, key: &str, epoch: u64) {
        let held = self.held.entry(key.to_owned()).or_default();
        if held.epoch != epoch {
            let was_held = held.epoch != 0;
            *held = Held {
                epoch,
                ..Held::default()
            };
            if was_held {
                tracing::info!(
                    session = key,
                    epoch,
                    "the session's lease changed hands; its actor here starts afresh"
                );
            }
            if was_held && let Some(router) = self.rt.router() {
                router.do_send(Evict {
                    key: Some(key.to_owned()),
                });
            }
        }
    }

    /// Reads the session's open messages after those handed, and hands them over in order.
    fn read(&mut self, key: String, ctx: &mut Context<Self>) {
        let Some(held) = self.held.get_mut(&key) else {
            return;
        };
        if held.reading {
            held.again = true;
            return;
        }
        held.reading = true;
        let after = held.handed;
        let Some(store) = self.store() else {
            return;
        };
        let work = store.session_work(&self.state.me, &key, after);
        let generation = self.state.generation();
        ctx.spawn(work.into_actor(self).map(move |res, act, ctx| {
            let again = act.held.get_mut(&key).is_some_and(|h| {
                h.reading = false;
                std::mem::take(&mut h.again)
            });
            if generation != act.state.generation() {
                // Read before a lapse: the next sweep reads again, under the new generation.
                return;
            }
            match res {
                Ok(Some(work)) => act.hand_over(work),
                Ok(None) => {
                    // Another instance holds it now: a resident actor here is stale.
                    if act.held.remove(&key).is_some()
                        && let Some(router) = act.rt.router()
                    {
                        router.do_send(Evict {
                            key: Some(key.clone()),
                        });
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, session = %key, "could not read a session's messages from the journal; the next heartbeat tries again")
                }
            }
            if again {
                act.read(key, ctx);
            }
        }));
    }

    fn hand_over(&mut self, work: SessionWork) {
        self.hold(&work.key, work.epoch);
        let lease = self.state.lease(&work.key, work.epoch);
        for m in work.messages {
            let Some(held) = self.held.get_mut(&work.key) else {
                return;
            };
            if m.session_seq <= held.handed {
                continue;
            }
            held.handed = m.session_seq;
            let Some(received) = super::runtime::journal_message(&m.entry) else {
                tracing::warn!(account = %m.entry.account, msg_id = %m.entry.msg_id, "a journaled message cannot be read; marking it done");
                self.rt.store.write_now(vec![
                    crate::store::WriteOp::InboundDone {
                        account: m.entry.account.clone(),
                        msg_id: m.entry.msg_id.clone(),
                    }
                    .fenced(Some(&lease)),
                ]);
                continue;
            };
            self.deliver(&received, &lease);
        }
    }

    /// Hands a message to the router under `lease`.
    fn deliver(&self, message: &BotMessageReceived, lease: &crate::store::Lease) {
        // An account removed since still answers under the connector's channel id.
        let channel = self
            .rt
            .config()
            .account(&message.account)
            .map_or(crate::config::DINGTALK_CHANNEL, |a| a.channel());
        if let Some(router) = self.rt.router() {
            router.do_send(Inbound::from_dingtalk(message, channel).with_lease(lease.clone()));
        }
    }
}

impl Actor for ClusterActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.tick(ctx);
        ctx.run_interval(self.state.config.heartbeat, |act, ctx| act.tick(ctx));
        if let Some(store) = self.store() {
            match store.wakeups() {
                Ok(mut wakeups) => {
                    let (me, addr) = (Arc::clone(&self.state.me), ctx.address());
                    ctx.spawn(
                        async move {
                            while let Some((instance, key)) = wakeups.recv().await {
                                if instance.is_empty() || *instance == *me {
                                    addr.do_send(Wake { key });
                                }
                            }
                        }
                        .into_actor(self),
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for wake-ups; sessions held here are found by the heartbeat's sweep only")
                }
            }
        }
    }
}

impl Supervised for ClusterActor {
    fn restarting(&mut self, ctx: &mut Self::Context) {
        let plan = self.restarts.record(ActorKind::Custom("cluster"));
        // What was held may have been half handed over: start those sessions afresh.
        self.held.clear();
        self.ticking = false;
        resume_after(ctx, plan.backoff, |act: &mut Self, ctx| act.tick(ctx));
    }
}

impl Handler<JournaledHere> for ClusterActor {
    type Result = ();

    fn handle(&mut self, msg: JournaledHere, ctx: &mut Self::Context) {
        if msg.generation != self.state.generation() {
            // Journaled before this instance lapsed: whoever holds the session answers it.
            return;
        }
        self.guarded(ctx, |act, ctx| {
            act.hold(&msg.key, msg.epoch);
            let Some(held) = act.held.get_mut(&msg.key) else {
                return;
            };
            if !held.reading && msg.session_seq == held.handed + 1 {
                held.handed = msg.session_seq;
                let lease = act.state.lease(&msg.key, msg.epoch);
                act.deliver(&msg.message, &lease);
            } else {
                act.read(msg.key, ctx);
            }
        });
    }
}

impl Handler<Wake> for ClusterActor {
    type Result = ();

    fn handle(&mut self, msg: Wake, ctx: &mut Self::Context) {
        if msg.key.is_empty() {
            // The listener (re)connected: the sweep finds whatever was missed.
            return self.tick(ctx);
        }
        self.state
            .counters
            .wakeups_received
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.guarded(ctx, |act, ctx| {
            if !act.held.contains_key(&msg.key) {
                // Held here since the journal said so; the epoch comes with the read.
                act.held.insert(msg.key.clone(), Held::default());
            }
            act.read(msg.key, ctx);
        });
    }
}

impl Handler<Leave> for ClusterActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: Leave, _: &mut Self::Context) -> Self::Result {
        self.held.clear();
        let leave = self.store().map(|s| s.leave(&self.state.me));
        Box::pin(
            async move {
                if let Some(leave) = leave
                    && let Err(e) = leave.await
                {
                    tracing::warn!(error = %e, "could not leave the cluster cleanly; the others take over once this instance's lease time is up");
                }
            }
            .into_actor(self),
        )
    }
}
