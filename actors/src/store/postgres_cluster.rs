//! The PostgreSQL store's part in a cluster of gateways (`ClusterStore`): heartbeats, the
//! routed journal with session leases, take-overs, cron claims and `LISTEN`/`NOTIFY`
//! wake-ups. Every statement that decides who holds a session runs under the lease row's
//! lock, so two instances never both think they hold it at one epoch.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::postgres_tls::{Tls, connect_one};
use deadpool_postgres::Pool;
use tokio::sync::mpsc;

use super::postgres::PostgresStore;
use super::{
    ClusterFuture, ClusterStore, ClusterView, InstanceView, JournalEntry, Journaled, LeaseHolder,
    RoutedEntry, SessionMessage, SessionWork, StoreError, Sweep,
};

/// The notification channel; a payload is `<instance>\n<session key>`.
const WAKE_CHANNEL: &str = "dingclaw_wake";

/// Pause before the listener connects again after losing its connection.
const LISTEN_RETRY: Duration = Duration::from_millis(500);

/// `owner` is an instance heard from within `$ttl` ms (the parameter's number is given).
fn alive(owner: &str, ttl_param: u8) -> String {
    format!(
        "EXISTS (SELECT 1 FROM cluster_instances i WHERE i.id = {owner}
                 AND i.heartbeat_at > now() - ${ttl_param}::BIGINT * interval '1 millisecond')"
    )
}

impl PostgresStore {
    /// Runs `work` on the store's runtime; the returned future may be awaited anywhere.
    fn spawn<T, F, Fut>(&self, work: F) -> ClusterFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(Pool) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.spawn_on(&self.pool, work)
    }

    /// `spawn` on the heartbeat's own connection.
    fn control<T, F, Fut>(&self, work: F) -> ClusterFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(Pool) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.spawn_on(&self.control, work)
    }

    fn spawn_on<T, F, Fut>(&self, pool: &Pool, work: F) -> ClusterFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(Pool) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let Some(runtime) = self.runtime.as_ref() else {
            return Box::pin(async { Err(StoreError::WriterGone) });
        };
        let handle = runtime.spawn(work(pool.clone()));
        let target = self.target.clone();
        Box::pin(async move {
            handle.await.map_err(|e| StoreError::Unreachable {
                target,
                message: format!("the store's runtime dropped the call: {e}"),
            })?
        })
    }
}

fn journal_row(r: &tokio_postgres::Row) -> SessionMessage {
    SessionMessage {
        entry: JournalEntry {
            seq: r.get::<_, i64>(0) as u64,
            account: r.get(1),
            msg_id: r.get(2),
            received_ms: r.get(3),
            payload: r.get::<_, String>(4).into(),
        },
        session_seq: r.get::<_, Option<i64>>(5).unwrap_or(0) as u64,
    }
}

impl ClusterStore for PostgresStore {
    fn join(&self, me: &str, incarnation: &str, info: serde_json::Value) -> ClusterFuture<()> {
        let (me, incarnation, info) = (me.to_owned(), incarnation.to_owned(), info.to_string());
        self.spawn(move |pool| async move {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "INSERT INTO cluster_instances (id, incarnation, info) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET incarnation = excluded.incarnation,
                   started_at = now(), heartbeat_at = now(), info = excluded.info",
                &[&me, &incarnation, &info],
            )
            .await?;
            // An earlier process of this id may have died with turns in flight: its sessions
            // are replayed from the journal by whoever sweeps first.
            tx.execute(
                "UPDATE cluster_leases SET owner = NULL WHERE owner = $1",
                &[&me],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn heartbeat(
        &self,
        me: &str,
        incarnation: &str,
        info: serde_json::Value,
    ) -> ClusterFuture<bool> {
        let (me, incarnation, info) = (me.to_owned(), incarnation.to_owned(), info.to_string());
        self.control(move |pool| async move {
            let client = pool.get().await?;
            let n = client
                .execute(
                    "UPDATE cluster_instances SET heartbeat_at = now(), info = $3
                     WHERE id = $1 AND incarnation = $2",
                    &[&me, &incarnation, &info],
                )
                .await?;
            Ok(n == 1)
        })
    }

    fn live(&self, ttl_ms: i64) -> ClusterFuture<Vec<String>> {
        self.control(move |pool| async move {
            let client = pool.get().await?;
            let rows = client
                .query(
                    "SELECT id FROM cluster_instances
                     WHERE heartbeat_at > now() - $1::BIGINT * interval '1 millisecond'
                     ORDER BY id",
                    &[&ttl_ms],
                )
                .await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn leave(&self, me: &str) -> ClusterFuture<()> {
        let me = me.to_owned();
        self.spawn(move |pool| async move {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "UPDATE cluster_leases SET owner = NULL WHERE owner = $1",
                &[&me],
            )
            .await?;
            tx.execute("DELETE FROM cluster_instances WHERE id = $1", &[&me])
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn release_all(&self, me: &str) -> ClusterFuture<u64> {
        let me = me.to_owned();
        self.spawn(move |pool| async move {
            let client = pool.get().await?;
            Ok(client
                .execute(
                    "UPDATE cluster_leases SET owner = NULL WHERE owner = $1",
                    &[&me],
                )
                .await?)
        })
    }

    fn journal(
        &self,
        me: &str,
        ttl_ms: i64,
        entries: Vec<RoutedEntry>,
    ) -> ClusterFuture<Vec<Journaled>> {
        let me = me.to_owned();
        self.spawn(move |pool| async move {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            let insert = tx
                .prepare_cached(
                    "INSERT INTO inbound (account, msg_id, received_ms, payload, session_key)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account, msg_id) DO NOTHING
                     RETURNING seq",
                )
                .await?;
            // The holder keeps its lease while it lives; this instance never takes its own
            // lease again (a higher epoch would cut off its own turns in flight). A key's
            // `count` new messages take the next `count` places at once.
            let holder = format!("(l.owner = $2 OR {})", alive("l.owner", 3));
            let lease = tx
                .prepare_cached(&format!(
                    "INSERT INTO cluster_leases AS l (session_key, owner, epoch, next_seq)
                     VALUES ($1, $2, 1, $4)
                     ON CONFLICT (session_key) DO UPDATE SET next_seq = l.next_seq + $4,
                       owner = CASE WHEN {holder} THEN l.owner ELSE $2 END,
                       epoch = CASE WHEN {holder} THEN l.epoch ELSE l.epoch + 1 END,
                       taken_at = CASE WHEN {holder} THEN l.taken_at ELSE now() END
                     RETURNING owner, epoch, next_seq"
                ))
                .await?;
            let place = tx
                .prepare_cached("UPDATE inbound SET session_seq = $1 WHERE seq = $2")
                .await?;
            // Rows are inserted in (account, msgId) order and lease rows locked in key
            // order, as every transaction here does: no two wait for each other in a circle.
            let mut by_id: Vec<usize> = (0..entries.len()).collect();
            by_id.sort_by(|a, b| {
                let (a, b) = (&entries[*a].entry, &entries[*b].entry);
                (&a.account, &a.msg_id).cmp(&(&b.account, &b.msg_id))
            });
            let mut row_of: Vec<Option<i64>> = vec![None; entries.len()];
            for i in by_id {
                let e = &entries[i].entry;
                let row = tx
                    .query_opt(
                        &insert,
                        &[
                            &e.account,
                            &e.msg_id,
                            &e.received_ms,
                            &&*e.payload,
                            &entries[i].session_key,
                        ],
                    )
                    .await?;
                row_of[i] = row.map(|r| r.get(0));
            }
            // The new messages of each session, in arrival order.
            let mut per_key: std::collections::BTreeMap<&str, Vec<usize>> =
                std::collections::BTreeMap::new();
            for (i, row) in row_of.iter().enumerate() {
                if row.is_some() {
                    per_key
                        .entry(entries[i].session_key.as_str())
                        .or_default()
                        .push(i);
                }
            }
            let mut out: Vec<Journaled> = vec![Journaled::Duplicate; entries.len()];
            let mut wake: Vec<String> = Vec::new();
            for (key, news) in per_key {
                let count = news.len() as i64;
                let l = tx.query_one(&lease, &[&key, &me, &ttl_ms, &count]).await?;
                let (owner, epoch, last): (Option<String>, i64, i64) =
                    (l.get(0), l.get(1), l.get(2));
                let owner = owner.unwrap_or_else(|| me.clone());
                let holder = if owner == me {
                    LeaseHolder::Me {
                        epoch: epoch as u64,
                    }
                } else {
                    wake.push(format!("{owner}\n{key}"));
                    LeaseHolder::Other { instance: owner }
                };
                for (n, i) in news.into_iter().enumerate() {
                    let session_seq = last - count + 1 + n as i64;
                    tx.execute(&place, &[&session_seq, &row_of[i]]).await?;
                    out[i] = Journaled::New {
                        session_seq: session_seq as u64,
                        owner: holder.clone(),
                    };
                }
            }
            // Delivered with the commit, and only if it commits.
            for payload in &wake {
                tx.execute("SELECT pg_notify($1, $2)", &[&WAKE_CHANNEL, payload])
                    .await?;
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    fn session_work(&self, me: &str, key: &str, after: u64) -> ClusterFuture<Option<SessionWork>> {
        let (me, key) = (me.to_owned(), key.to_owned());
        self.spawn(move |pool| async move {
            let client = pool.get().await?;
            let Some(lease) = client
                .query_opt(
                    "SELECT owner, epoch FROM cluster_leases WHERE session_key = $1",
                    &[&key],
                )
                .await?
            else {
                return Ok(None);
            };
            if lease.get::<_, Option<String>>(0).as_deref() != Some(me.as_str()) {
                return Ok(None);
            }
            let rows = client
                .query(
                    "SELECT seq, account, msg_id, received_ms, payload, session_seq FROM inbound
                     WHERE session_key = $1 AND NOT done AND session_seq > $2
                     ORDER BY session_seq",
                    &[&key, &(after as i64)],
                )
                .await?;
            Ok(Some(SessionWork {
                key,
                epoch: lease.get::<_, i64>(1) as u64,
                messages: rows.iter().map(journal_row).collect(),
            }))
        })
    }

    fn sweep(&self, me: &str, ttl_ms: i64, limit: i64) -> ClusterFuture<Sweep> {
        let me = me.to_owned();
        self.spawn(move |pool| async move {
            let client = pool.get().await?;
            let dead = alive("c.owner", 2);
            let taken = client
                .query(
                    &format!(
                        "UPDATE cluster_leases l SET owner = $1, epoch = l.epoch + 1, taken_at = now()
                         FROM (SELECT c.session_key FROM cluster_leases c
                               WHERE (c.owner IS NULL OR (c.owner <> $1 AND NOT {dead}))
                                 AND EXISTS (SELECT 1 FROM inbound i
                                             WHERE i.session_key = c.session_key AND NOT i.done)
                               ORDER BY c.session_key LIMIT $3
                               FOR UPDATE SKIP LOCKED) o
                         WHERE l.session_key = o.session_key
                         RETURNING l.session_key, l.epoch"
                    ),
                    &[&me, &ttl_ms, &limit],
                )
                .await?;
            let open = client
                .query(
                    "SELECT l.session_key, l.epoch, max(i.session_seq) FROM cluster_leases l
                     JOIN inbound i ON i.session_key = l.session_key AND NOT i.done
                     WHERE l.owner = $1 GROUP BY l.session_key, l.epoch",
                    &[&me],
                )
                .await?;
            Ok(Sweep {
                taken: taken
                    .iter()
                    .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
                    .collect(),
                open: open
                    .iter()
                    .map(|r| {
                        (
                            r.get(0),
                            r.get::<_, i64>(1) as u64,
                            r.get::<_, Option<i64>>(2).unwrap_or(0) as u64,
                        )
                    })
                    .collect(),
            })
        })
    }

    fn claim_run(&self, me: &str, job_id: &str, due_ms: i64) -> ClusterFuture<bool> {
        let (me, job_id) = (me.to_owned(), job_id.to_owned());
        self.spawn(move |pool| async move {
            let client = pool.get().await?;
            let n = client
                .execute(
                    "INSERT INTO cron_claims (job_id, due_ms, instance) VALUES ($1, $2, $3)
                     ON CONFLICT (job_id, due_ms) DO NOTHING",
                    &[&job_id, &due_ms, &me],
                )
                .await?;
            // Claims are only needed while an instance could still be about to run the same
            // occurrence; a week is far past that.
            client
                .execute(
                    "DELETE FROM cron_claims WHERE job_id = $1
                       AND claimed_at < now() - interval '7 days'",
                    &[&job_id],
                )
                .await?;
            Ok(n == 1)
        })
    }

    fn finish_run(&self, job_id: &str, due_ms: i64) -> ClusterFuture<()> {
        let job_id = job_id.to_owned();
        self.spawn(move |pool| async move {
            let client = pool.get().await?;
            client
                .execute(
                    "UPDATE cron_claims SET done = TRUE WHERE job_id = $1 AND due_ms = $2",
                    &[&job_id, &due_ms],
                )
                .await?;
            Ok(())
        })
    }

    fn orphan_runs(&self, me: &str, ttl_ms: i64) -> ClusterFuture<Vec<(String, i64)>> {
        let me = me.to_owned();
        self.spawn(move |pool| async move {
            let client = pool.get().await?;
            let dead = alive("c.instance", 2);
            let rows = client
                .query(
                    &format!(
                        "UPDATE cron_claims c SET instance = $1, claimed_at = now()
                         WHERE NOT c.done AND c.instance <> $1 AND NOT {dead}
                         RETURNING c.job_id, c.due_ms"
                    ),
                    &[&me, &ttl_ms],
                )
                .await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn view(&self, ttl_ms: i64) -> ClusterFuture<ClusterView> {
        self.spawn(move |pool| async move {
            let client = pool.get().await?;
            let rows = client
                .query(
                    "SELECT i.id,
                            i.heartbeat_at > now() - $1::BIGINT * interval '1 millisecond',
                            (extract(epoch FROM now() - i.heartbeat_at) * 1000)::BIGINT,
                            (extract(epoch FROM i.started_at) * 1000)::BIGINT,
                            (SELECT count(*) FROM cluster_leases l WHERE l.owner = i.id),
                            i.info
                     FROM cluster_instances i
                     WHERE i.heartbeat_at > now() - interval '10 minutes'
                     ORDER BY 2 DESC, i.id",
                    &[&ttl_ms],
                )
                .await?;
            let counts = client
                .query_one(
                    "SELECT (SELECT count(*) FROM cluster_leases),
                            (SELECT count(*) FROM inbound WHERE NOT done)",
                    &[],
                )
                .await?;
            Ok(ClusterView {
                instances: rows
                    .iter()
                    .map(|r| InstanceView {
                        id: r.get(0),
                        live: r.get(1),
                        heartbeat_age_ms: r.get(2),
                        started_ms: r.get(3),
                        sessions: r.get(4),
                        info: serde_json::from_str(r.get::<_, &str>(5))
                            .unwrap_or(serde_json::Value::Null),
                    })
                    .collect(),
                leases: counts.get(0),
                open_messages: counts.get(1),
            })
        })
    }

    fn wakeups(&self) -> Result<mpsc::UnboundedReceiver<(String, String)>, StoreError> {
        let runtime = self.runtime.as_ref().ok_or(StoreError::WriterGone)?;
        let (tx, rx) = mpsc::unbounded_channel();
        runtime.spawn(listen(self.config.clone(), self.tls.clone(), tx));
        Ok(rx)
    }

    fn fenced_writes(&self) -> u64 {
        self.fenced.load(Ordering::Relaxed)
    }
}

/// Keeps a connection that `LISTEN`s for wake-ups and hands each on; after every (re)connect
/// it sends an empty pair, so the consumer looks for work it may have missed meanwhile.
async fn listen(
    config: tokio_postgres::Config,
    tls: Tls,
    out: mpsc::UnboundedSender<(String, String)>,
) {
    while !out.is_closed() {
        let (notes_tx, mut notes) = mpsc::unbounded_channel::<String>();
        if let Ok((client, driver)) = connect_one(&config, &tls, Some(notes_tx)).await {
            if client
                .batch_execute(&format!("LISTEN {WAKE_CHANNEL}"))
                .await
                .is_ok()
                && out.send((String::new(), String::new())).is_ok()
            {
                while let Some(payload) = notes.recv().await {
                    if let Some((instance, key)) = payload.split_once('\n')
                        && out.send((instance.to_owned(), key.to_owned())).is_err()
                    {
                        break;
                    }
                }
            }
            driver.abort();
        }
        tokio::time::sleep(LISTEN_RETRY).await;
    }
}
