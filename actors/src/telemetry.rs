//! The metrics dingclaw reports, through the `metrics` facade: every name and label is here,
//! so the list an operator scrapes is in one place. Without a recorder installed (an embedder
//! that does not want metrics) each call costs next to nothing; the `dingclaw` binary installs
//! a Prometheus recorder and serves it on `/metrics`.

use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};

/// Messages received, by account.
pub const MESSAGES_IN: &str = "dingclaw_messages_received_total";
/// Replies, by account and outcome.
pub const REPLIES: &str = "dingclaw_replies_total";
/// Routing decisions, by the tier that decided (`matchedBy`).
pub const ROUTES: &str = "dingclaw_routes_total";
/// How long turns take, by agent.
pub const TURN_SECONDS: &str = "dingclaw_turn_seconds";
/// From a message arriving to its answer being sent, by channel.
pub const REPLY_SECONDS: &str = "dingclaw_reply_latency_seconds";
/// How long model calls take, by provider.
pub const PROVIDER_SECONDS: &str = "dingclaw_provider_call_seconds";
/// Failed model calls, by provider and kind of error.
pub const PROVIDER_ERRORS: &str = "dingclaw_provider_errors_total";
/// Tokens used, by provider and kind (prompt, completion).
pub const TOKENS: &str = "dingclaw_tokens_total";
/// Actor restarts after a panic, by kind.
pub const RESTARTS: &str = "dingclaw_actor_restarts_total";
/// Stream connections lost or refused, by account.
pub const RECONNECTS: &str = "dingclaw_stream_reconnects_total";
/// Scheduled runs, by outcome.
pub const CRON_RUNS: &str = "dingclaw_cron_runs_total";
/// Sessions in memory.
pub const SESSIONS_RESIDENT: &str = "dingclaw_sessions_resident";
/// Messages received and not yet answered.
pub const MESSAGES_PENDING: &str = "dingclaw_messages_pending";
/// Accounts whose Stream connection is up.
pub const ACCOUNTS_CONNECTED: &str = "dingclaw_accounts_connected";
/// Frames over the size limit, acknowledged and dropped, by account.
pub const OVERSIZED_FRAMES: &str = "dingclaw_oversized_frames_total";
/// How long an inbound journal commit takes.
pub const JOURNAL_SECONDS: &str = "dingclaw_journal_commit_seconds";
/// Store transactions committed by the writer (group commits), and the writes they carried.
pub const STORE_COMMITS: &str = "dingclaw_store_commits_total";
/// How long a WAL checkpoint takes (SQLite store, on its own thread).
pub const STORE_CHECKPOINT_SECONDS: &str = "dingclaw_store_checkpoint_seconds";
/// Writes (transcript entries, session rows, journal rows and marks...) committed.
pub const STORE_WRITES: &str = "dingclaw_store_writes_total";
/// Journaled messages an earlier process left unanswered, answered after a restart.
pub const JOURNAL_RECOVERED: &str = "dingclaw_journal_recovered_total";
/// How long MCP tool calls take, by server.
pub const MCP_CALL_SECONDS: &str = "dingclaw_mcp_call_seconds";
/// MCP tool calls, by server and outcome.
pub const MCP_CALLS: &str = "dingclaw_mcp_calls_total";

/// Cluster events on this instance, by kind (`leases_taken`, `fenced_writes`,
/// `fenced_replies`, `wakeups_sent`, `wakeups_received`, `duplicates`, `lapses`).
pub const CLUSTER_EVENTS: &str = "dingclaw_cluster_events_total";
/// 1 while this instance's cluster heartbeat is fresh (it answers), else 0.
pub const CLUSTER_ACTING: &str = "dingclaw_cluster_acting";

/// Help texts, once, after a recorder is installed.
pub fn describe() {
    describe_counter!(
        MESSAGES_IN,
        "Bot messages received, per account (after dedup)."
    );
    describe_counter!(REPLIES, "Replies sent, per account and result (ok, error).");
    describe_counter!(ROUTES, "Routing decisions, per deciding tier.");
    describe_histogram!(
        TURN_SECONDS,
        Unit::Seconds,
        "Model turns (tool rounds included), per agent."
    );
    describe_histogram!(
        REPLY_SECONDS,
        Unit::Seconds,
        "From a message's arrival to its reply being sent, per channel."
    );
    describe_histogram!(
        PROVIDER_SECONDS,
        Unit::Seconds,
        "Model calls (retries included), per provider."
    );
    describe_counter!(
        PROVIDER_ERRORS,
        "Failed model calls, per provider and kind."
    );
    describe_counter!(
        TOKENS,
        "Tokens used, per provider and kind (prompt, completion)."
    );
    describe_counter!(RESTARTS, "Actor restarts after a crash, per actor kind.");
    describe_counter!(
        RECONNECTS,
        "Stream connections lost or failed, per account."
    );
    describe_counter!(CRON_RUNS, "Scheduled task runs, per status.");
    describe_counter!(
        OVERSIZED_FRAMES,
        "Frames over stream.maxFrameBytes, acknowledged and dropped, per account."
    );
    describe_histogram!(
        JOURNAL_SECONDS,
        Unit::Seconds,
        "Inbound journal commits that an ACK waited for."
    );
    describe_counter!(
        STORE_COMMITS,
        "Store transactions committed (each a group commit of many writes)."
    );
    describe_counter!(STORE_WRITES, "Writes the store's transactions carried.");
    describe_histogram!(
        STORE_CHECKPOINT_SECONDS,
        Unit::Seconds,
        "SQLite WAL checkpoints (copy back and fsync), run beside the writer."
    );
    describe_counter!(
        JOURNAL_RECOVERED,
        "Journaled messages answered again after a restart."
    );
    describe_histogram!(
        MCP_CALL_SECONDS,
        Unit::Seconds,
        "MCP tool calls, per server, from the call to its answer."
    );
    describe_counter!(
        MCP_CALLS,
        "MCP tool calls, per server and result (ok, error)."
    );
    describe_gauge!(SESSIONS_RESIDENT, "Sessions in memory.");
    describe_counter!(
        CLUSTER_EVENTS,
        "Cluster events on this instance: leases taken over, fenced writes and replies, wake-ups, duplicates, heartbeat lapses."
    );
    describe_gauge!(
        CLUSTER_ACTING,
        "1 while this instance's cluster heartbeat is fresh enough to answer."
    );
    describe_gauge!(MESSAGES_PENDING, "Messages received and not yet answered.");
    describe_gauge!(
        ACCOUNTS_CONNECTED,
        "DingTalk accounts with a live Stream connection."
    );
}

/// Counts a message received by `account`.
pub fn message_in(account: &str) {
    counter!(MESSAGES_IN, "account" => account.to_owned()).increment(1);
}

/// Counts a reply of `account`, delivered or not.
pub fn reply(account: &str, ok: bool) {
    let result = if ok { "ok" } else { "error" };
    counter!(REPLIES, "account" => account.to_owned(), "result" => result).increment(1);
}

/// Counts a routing decision.
pub fn route(matched_by: &'static str) {
    counter!(ROUTES, "matched_by" => matched_by).increment(1);
}

/// Records how long a turn of `agent` took.
pub fn turn(agent: &str, took: Duration) {
    histogram!(TURN_SECONDS, "agent" => agent.to_owned()).record(took.as_secs_f64());
}

/// Records how long a message on `channel` waited for its answer.
pub fn reply_latency(channel: &str, took: Duration) {
    histogram!(REPLY_SECONDS, "channel" => channel.to_owned()).record(took.as_secs_f64());
    crate::latency_window::REPLIES.record(took.as_millis() as u64);
}

/// Registers the counters of every account and provider at zero, so that a rate or an
/// increase alert works from the first scrape (a series that appears only with its first
/// error makes `increase()` miss that error).
pub fn zero(config: &crate::config::Config) {
    for a in config.channels.dingtalk.active_accounts() {
        counter!(MESSAGES_IN, "account" => a.id.clone()).increment(0);
        counter!(RECONNECTS, "account" => a.id.clone()).increment(0);
        for result in ["ok", "error"] {
            counter!(REPLIES, "account" => a.id.clone(), "result" => result).increment(0);
        }
    }
    for p in config.agents.used_providers() {
        for kind in ["prompt", "completion"] {
            counter!(TOKENS, "provider" => p.clone(), "kind" => kind).increment(0);
        }
        for kind in [
            "auth",
            "rate_limit",
            "server_error",
            "timeout",
            "network",
            "circuit_open",
        ] {
            counter!(PROVIDER_ERRORS, "provider" => p.clone(), "kind" => kind).increment(0);
        }
    }
    for status in ["ok", "error", "skipped"] {
        counter!(CRON_RUNS, "status" => status).increment(0);
    }
    counter!(JOURNAL_RECOVERED).increment(0);
}

/// Records a model call: how long it took and, if it failed, how (`rate_limit`, `timeout`...).
pub fn provider_call(provider: &str, took: Duration, error: Option<&'static str>) {
    histogram!(PROVIDER_SECONDS, "provider" => provider.to_owned()).record(took.as_secs_f64());
    if let Some(kind) = error {
        counter!(PROVIDER_ERRORS, "provider" => provider.to_owned(), "kind" => kind).increment(1);
    }
}

/// Counts the tokens of a model call.
pub fn tokens(provider: &str, prompt: u64, completion: u64) {
    counter!(TOKENS, "provider" => provider.to_owned(), "kind" => "prompt").increment(prompt);
    counter!(TOKENS, "provider" => provider.to_owned(), "kind" => "completion")
        .increment(completion);
}

/// Records an MCP tool call.
pub fn mcp_call(server: &str, took: Duration, ok: bool) {
    histogram!(MCP_CALL_SECONDS, "server" => server.to_owned()).record(took.as_secs_f64());
    let result = if ok { "ok" } else { "error" };
    counter!(MCP_CALLS, "server" => server.to_owned(), "result" => result).increment(1);
}

/// Counts a restart of an actor of `kind`.
pub fn restart(kind: &'static str) {
    counter!(RESTARTS, "kind" => kind).increment(1);
}

/// Counts a lost or refused Stream connection of `account`.
pub fn reconnect(account: &str) {
    counter!(RECONNECTS, "account" => account.to_owned()).increment(1);
}

/// Counts a frame over the size limit.
pub fn oversized_frame(account: &str) {
    counter!(OVERSIZED_FRAMES, "account" => account.to_owned()).increment(1);
}

/// Records how long a journal commit took.
pub fn journal_commit(took: Duration) {
    histogram!(JOURNAL_SECONDS).record(took.as_secs_f64());
}

/// Counts one committed store transaction of `writes` writes.
pub fn store_commit(writes: usize) {
    counter!(STORE_COMMITS).increment(1);
    counter!(STORE_WRITES).increment(writes as u64);
}

/// Records one WAL checkpoint.
pub fn store_checkpoint(took: std::time::Duration) {
    histogram!(STORE_CHECKPOINT_SECONDS).record(took.as_secs_f64());
}

/// Counts `n` messages answered after a restart.
pub fn journal_recovered(n: u64) {
    counter!(JOURNAL_RECOVERED).increment(n);
}

/// Counts a scheduled run by its outcome (`ok`, `error`, `skipped`).
pub fn cron_run(status: &'static str) {
    counter!(CRON_RUNS, "status" => status).increment(1);
}

/// The cluster's counters of this instance, read at scrape time.
#[cfg(feature = "runtime")]
pub fn cluster(stats: &crate::actors::cluster::ClusterStats, acting: bool) {
    for (kind, n) in [
        ("leases_taken", stats.leases_taken),
        ("fenced_writes", stats.fenced_writes),
        ("fenced_replies", stats.fenced_replies),
        ("wakeups_sent", stats.wakeups_sent),
        ("wakeups_received", stats.wakeups_received),
        ("duplicates", stats.duplicates),
        ("lapses", stats.lapses),
    ] {
        counter!(CLUSTER_EVENTS, "kind" => kind).absolute(n);
    }
    gauge!(CLUSTER_ACTING).set(if acting { 1.0 } else { 0.0 });
}

/// Levels read at scrape time.
pub fn levels(sessions_resident: usize, pending: i64, accounts_connected: usize) {
    gauge!(SESSIONS_RESIDENT).set(sessions_resident as f64);
    gauge!(MESSAGES_PENDING).set(pending as f64);
    gauge!(ACCOUNTS_CONNECTED).set(accounts_connected as f64);
}
