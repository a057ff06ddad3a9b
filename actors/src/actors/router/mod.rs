//! RouterActor: applies the policies and routing rules to each inbound message and hands it
//! to the session actor for its session key, starting the session on first use. The registry
//! of sessions is a `DashMap` shared with status readers; only the router writes to it.

mod approve;
mod messages;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use actix::prelude::*;

pub use messages::{Evict, Inbound, ReplyTo, SessionIdle};

use crate::dingtalk::OutboundMessage;
use crate::fault::{FaultPoint, check};
use crate::routing::{self, Refusal, Route};
use crate::supervise::{ActorKind, Restarts, guard, resume_after};

use super::runtime::{PairingStatus, Runtime, SessionSlot, lane_of, pairing_reply};
use super::session::{SessionActor, SessionSeed, UserMessage};
use super::webchat;

/// Applies the bindings and scope rules to each message and hands it to its session actor.
pub struct RouterActor {
    rt: Arc<Runtime>,
    /// The message being dispatched, redone after a restart.
    in_flight: Option<Inbound>,
    restarts: Restarts,
}

impl RouterActor {
    /// The router of `rt` (one per runtime).
    pub fn new(rt: Arc<Runtime>) -> Self {
        Self {
            rt,
            in_flight: None,
            restarts: Restarts::default(),
        }
    }

    fn dispatch(&mut self, msg: Inbound) {
        self.in_flight = Some(msg.clone());
        check(FaultPoint::RouterDispatch, "router");
        self.rt.counters.messages_in.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::message_in(&msg.account);
        let config = self.rt.config();
        if let Some(agent) = msg.agent.clone() {
            return self.dispatch_explicit(&agent, msg);
        }
        let refusal = config.account(&msg.account).and_then(|account| {
            routing::admit(account, msg.chat, &msg.conversation_id, &msg.sender_id).err()
        });
        let text = match refusal {
            None => None,
            // `dmPolicy: "pairing"`: an approved person is in; a stranger gets a code.
            Some(Refusal::NeedsPairing) => {
                match self.rt.pairings.status(&msg.account, &msg.sender_id) {
                    Some(PairingStatus::Approved) => None,
                    _ => Some(pairing_reply(&self.rt.pairing_request(
                        &msg.account,
                        &msg.sender_id,
                        &msg.sender_nick,
                    ))),
                }
            }
            Some(r) => Some(r.reply_text().to_owned()),
        };
        if let Some(text) = text {
            let reason = refusal.map_or("", Refusal::as_str);
            tracing::info!(account = %msg.account, reason, "refused a message");
            self.rt.counters.refused.fetch_add(1, Ordering::Relaxed);
            let (rt, refused) = (Arc::clone(&self.rt), msg.clone());
            actix_rt::spawn(async move {
                let _ = rt
                    .send_reply(&refused.reply, OutboundMessage::Text(text))
                    .await;
                rt.journal_done([&refused]);
            });
            self.in_flight = None;
            return;
        }
        if msg.chat == crate::routing::ChatType::Group
            && let Some(account) = config.account(&msg.account)
            && !routing::mention_ok(account, &msg.conversation_id, msg.mentioned)
        {
            tracing::debug!(account = %msg.account, "a group message without an @-mention; requireMention drops it");
            self.rt.journal_done([&msg]);
            self.in_flight = None;
            return;
        }
        if approve::is_approve(&msg.text) {
            approve::handle(&self.rt, msg);
            self.in_flight = None;
            return;
        }
        let route = self.rt.routes().route(&msg.routing());
        crate::telemetry::route(route.matched_by.as_str());
        self.deliver(route, msg);
        self.in_flight = None;
    }

    /// A message whose channel chose the agent (the web chat, an embedder's `ask`).
    fn dispatch_explicit(&mut self, agent: &str, msg: Inbound) {
        if self.rt.config().agents.get(agent).is_none() {
            let (rt, reply) = (Arc::clone(&self.rt), msg.reply.clone());
            let text = format!("⚠️ There is no agent \"{agent}\" on this gateway.");
            actix_rt::spawn(async move {
                let _ = rt.send_reply(&reply, OutboundMessage::Text(text)).await;
            });
            self.in_flight = None;
            return;
        }
        if approve::is_approve(&msg.text) {
            approve::handle(&self.rt, msg);
            self.in_flight = None;
            return;
        }
        let route = if &*msg.channel == webchat::WEBCHAT_CHANNEL {
            webchat::route(agent, &msg.conversation_id)
        } else {
            super::ask::route(&msg.channel, agent, &msg.conversation_id)
        };
        crate::telemetry::route(route.matched_by.as_str());
        self.deliver(route, msg);
        self.in_flight = None;
    }

    fn deliver(&mut self, route: Route, msg: Inbound) {
        let rt = &self.rt;
        let mut slot = rt
            .sessions
            .entry(route.session_key.clone())
            .or_insert_with(|| {
                let lane = lane_of(route.session_key.as_str(), rt.lanes.len());
                let seed = SessionSeed::new(&route, &msg, lane);
                let rt2 = Arc::clone(rt);
                let addr = Supervisor::start_in_arbiter(&rt.lanes[lane].arbiter, move |_| {
                    SessionActor::new(seed, rt2)
                });
                rt.counters.sessions_started.fetch_add(1, Ordering::Relaxed);
                SessionSlot {
                    addr,
                    dispatched: 0,
                    lane,
                    clustered: msg.lease.is_some(),
                }
            });
        slot.dispatched += 1;
        rt.counters.pending.fetch_add(1, Ordering::Relaxed);
        slot.addr.do_send(UserMessage(msg));
    }
}

impl Actor for RouterActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(0);
    }
}

impl Supervised for RouterActor {
    fn restarting(&mut self, ctx: &mut Self::Context) {
        let plan = self.restarts.record(ActorKind::Router);
        let redo = self.in_flight.take();
        resume_after(ctx, plan.backoff, move |act: &mut Self, ctx| {
            if let Some(msg) = redo {
                guard(act, ctx, ActorKind::Router, "router", |act, _| {
                    act.dispatch(msg)
                });
            }
        });
    }
}

impl Handler<Inbound> for RouterActor {
    type Result = ();

    fn handle(&mut self, msg: Inbound, ctx: &mut Self::Context) {
        guard(self, ctx, ActorKind::Router, "router", |act, _| {
            act.dispatch(msg)
        });
    }
}

impl Handler<Evict> for RouterActor {
    type Result = ();

    fn handle(&mut self, msg: Evict, _: &mut Self::Context) {
        match msg.key {
            Some(key) => {
                self.rt
                    .sessions
                    .remove(&crate::routing::SessionKey::new(key));
            }
            None => self.rt.sessions.retain(|_, slot| !slot.clustered),
        }
    }
}

impl Handler<SessionIdle> for RouterActor {
    type Result = ();

    fn handle(&mut self, msg: SessionIdle, _: &mut Self::Context) {
        self.rt
            .sessions
            .remove_if(&msg.key, |_, slot| slot.dispatched == msg.received);
    }
}
