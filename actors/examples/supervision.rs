//! Supervising an actor of your own the way dingclaw supervises its own: a panic in a handler
//! becomes a restart (not a dead actor), the actor's state and its queued messages survive,
//! and the work that was in progress is redone after a backoff.
//!
//! ```sh
//! cargo run -p dingclaw-actors --example supervision
//! ```
//!
//! What survives a restart: the actor struct (so keep anything that must outlive a crash in
//! it) and its mailbox. What does not: futures spawned on the context (`ctx.spawn`,
//! `ctx.wait`, `run_later`) before the crash; redo them from `restarting()`, as
//! `resume_after` does here.

use std::time::Duration;

use actix::prelude::*;
use dingclaw_actors::supervise::{ActorKind, RestartPolicy, Restarts, guard, resume_after};

const KIND: ActorKind = ActorKind::Custom("worker");

struct Worker {
    done: Vec<String>,
    /// The job being worked on; redone after a restart.
    in_progress: Option<String>,
    /// Whether the flaky job already failed once (kept across the restart).
    failed_once: bool,
    restarts: Restarts,
}

#[derive(Message)]
#[rtype(result = "()")]
struct Job(String);

#[derive(Message)]
#[rtype(result = "Vec<String>")]
struct Done;

impl Worker {
    fn work(&mut self, job: String) {
        self.in_progress = Some(job.clone());
        if job == "flaky" && !self.failed_once {
            self.failed_once = true;
            panic!("the flaky job failed");
        }
        println!("done: {job}");
        self.done.push(job);
        self.in_progress = None;
    }
}

impl Actor for Worker {
    type Context = Context<Self>;
}

impl Supervised for Worker {
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        let plan = self.restarts.record(KIND);
        println!(
            "restarting after a panic ({} so far), backing off {:?}",
            self.restarts.total(),
            plan.backoff
        );
        if let Some(job) = self.in_progress.take()
            && !plan.budget_exhausted
        {
            resume_after(ctx, plan.backoff, move |act, ctx| {
                guard(act, ctx, KIND, "worker-1", |act, _| act.work(job));
            });
        }
    }
}

impl Handler<Job> for Worker {
    type Result = ();

    fn handle(&mut self, msg: Job, ctx: &mut Context<Self>) {
        // `guard` turns a panic into a logged restart instead of a dead actor.
        guard(self, ctx, KIND, "worker-1", |act, _| act.work(msg.0));
    }
}

impl Handler<Done> for Worker {
    type Result = MessageResult<Done>;

    fn handle(&mut self, _: Done, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.done.clone())
    }
}

fn main() {
    actix_rt::System::new().block_on(async {
        let worker = Supervisor::start(|_| Worker {
            done: Vec::new(),
            in_progress: None,
            failed_once: false,
            restarts: Restarts::new(RestartPolicy::default()),
        });
        for job in ["first", "flaky", "last"] {
            worker.do_send(Job(job.to_owned()));
        }
        // Queued behind the jobs; the restart loses none of them.
        actix_rt::time::sleep(Duration::from_millis(200)).await;
        match worker.send(Done).await {
            Ok(done) => println!("all done in order: {}", done.join(", ")),
            Err(e) => println!("the worker is gone: {e}"),
        }
    });
}
