//! Message passing between actors, the way the gateway does it.
//!
//! - `hop/same_arbiter` and `hop/cross_arbiter`: one request and its answer between two
//!   actors on the same thread, and on two threads (what a lane change costs).
//! - `router_to_session`: the real runtime. A web chat `/new` goes through the router actor
//!   to its resident session actor (on a lane arbiter), which resets and answers; no model
//!   and no socket are involved, so this is the actor path alone.

use std::time::{Duration, Instant};

use actix::prelude::*;
use criterion::{Criterion, criterion_group, criterion_main};
use dingclaw_actors::actors::Runtime;
use dingclaw_actors::actors::router::Inbound;
use dingclaw_actors::actors::webchat::AnswerPart;
use dingclaw_actors::config::{MapEnv, load_str};
use tokio::sync::mpsc;

#[derive(Message)]
#[rtype(result = "u64")]
struct Ping(u64);

struct Echo;

impl Actor for Echo {
    type Context = Context<Self>;
}

impl Handler<Ping> for Echo {
    type Result = u64;

    fn handle(&mut self, msg: Ping, _: &mut Context<Self>) -> u64 {
        msg.0 + 1
    }
}

/// Sends `Ping`s to an `Echo` on the caller's arbiter (`cross: false`) or on its own thread.
fn hop(cross: bool, iters: u64) -> Duration {
    System::new().block_on(async move {
        let arbiter = cross.then(Arbiter::new);
        let addr = match &arbiter {
            Some(a) => Echo::start_in_arbiter(&a.handle(), |_| Echo),
            None => Echo.start(),
        };
        addr.send(Ping(0)).await.expect("echo answers");
        let start = Instant::now();
        for i in 0..iters {
            addr.send(Ping(i)).await.expect("echo answers");
        }
        let took = start.elapsed();
        if let Some(a) = arbiter {
            a.stop();
        }
        took
    })
}

fn hops(c: &mut Criterion) {
    c.bench_function("hop/same_arbiter", |b| b.iter_custom(|n| hop(false, n)));
    c.bench_function("hop/cross_arbiter", |b| b.iter_custom(|n| hop(true, n)));
}

/// `iters` round trips of `/new` through the router to one resident session.
fn router_round_trips(iters: u64) -> Duration {
    System::new().block_on(async move {
        let text = r#"{agents: {list: [{id: "main"}]}, cron: {enabled: false}}"#;
        let config = load_str(text, std::path::Path::new("."), &MapEnv::new())
            .expect("valid config")
            .config;
        // No store chosen: memory.
        let rt = Runtime::start(config).expect("runtime starts");
        let router = rt.router().expect("router started").clone();
        let round_trip = || {
            let router = router.clone();
            async move {
                let (tx, mut rx) = mpsc::unbounded_channel();
                router.do_send(Inbound::from_web("main", "bench", "/new", tx));
                loop {
                    match rx.recv().await {
                        Some(AnswerPart::Done(_)) => break,
                        Some(AnswerPart::Partial(_)) => continue,
                        None => panic!("the session dropped the reply"),
                    }
                }
            }
        };
        // The first message creates the session; the measured ones find it resident.
        round_trip().await;
        let start = Instant::now();
        for _ in 0..iters {
            round_trip().await;
        }
        let took = start.elapsed();
        rt.shutdown(Duration::from_secs(1)).await;
        took
    })
}

fn router(c: &mut Criterion) {
    c.bench_function("router_to_session/webchat_reset", |b| {
        b.iter_custom(router_round_trips)
    });
}

criterion_group!(benches, hops, router);
criterion_main!(benches);
