//! An in-memory store, for tests and for embedders that keep nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::memory_index::holds;
use super::{
    JournalEntry, JournalId, MemoryCandidate, MemoryChunk, MemoryFile, SessionFilter, SessionMeta,
    Store, StoreError, StoredSession, TranscriptEntry, WriteOp,
};

#[derive(Default)]
struct Data {
    sessions: HashMap<String, SessionMeta>,
    entries: HashMap<String, Vec<TranscriptEntry>>,
    jobs: HashMap<String, String>,
    pairings: HashMap<String, String>,
    /// Per job, oldest first: (run_at_ms, json).
    runs: HashMap<String, Vec<(i64, String)>>,
    /// The inbound journal by seq, with its done flag.
    journal: BTreeMap<u64, (JournalEntry, bool)>,
    journal_index: HashMap<(String, String), u64>,
    journal_seq: u64,
    /// Memory files per (agent, path), with their chunks.
    memory: BTreeMap<(String, String), (MemoryFile, Vec<MemoryChunk>)>,
}

/// Keeps everything in memory; lost when the process ends.
#[derive(Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
    /// Times the writer asked for memory back (there is nothing to give: counted for tests).
    releases: std::sync::atomic::AtomicU64,
    /// Commits still to refuse (`fail_next_writes`).
    failing: std::sync::atomic::AtomicUsize,
}

impl MemoryStore {
    /// How often the store writer found it quiet and asked it to give memory back.
    pub fn releases(&self) -> u64 {
        self.releases.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Makes the next `n` commits fail as a full disk would (for tests of what the writer
    /// and the runtime do then): nothing of a refused commit is applied.
    pub fn fail_next_writes(&self, n: usize) {
        self.failing.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

fn newest(entries: &[TranscriptEntry], max: usize) -> Vec<TranscriptEntry> {
    entries[entries.len().saturating_sub(max)..].to_vec()
}

impl Store for MemoryStore {
    fn release_memory(&self) {
        self.releases
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn write(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let refuse = self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if refuse.is_ok() {
            return Err(StoreError::Io {
                path: "memory".to_owned(),
                source: std::io::Error::other("disk full (a refusal asked for by a test)"),
            });
        }
        let mut d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        for op in ops {
            match op.unfenced() {
                WriteOp::Session(meta) => {
                    // A write without a title keeps the one known, as SQLite's does.
                    let mut meta = meta.clone();
                    if meta.title.is_none() {
                        meta.title = d.sessions.get(&meta.key).and_then(|m| m.title.clone());
                    }
                    d.sessions.insert(meta.key.clone(), meta);
                }
                WriteOp::Entry { session_id, entry } => {
                    // Kept sorted by seq; an append (the usual case) is a push, and a
                    // rewritten entry replaces the one with its seq.
                    let list = d.entries.entry(session_id.clone()).or_default();
                    match list.binary_search_by_key(&entry.seq, |e| e.seq) {
                        Ok(i) => list[i] = entry.clone(),
                        Err(i) => list.insert(i, entry.clone()),
                    }
                }
                WriteOp::Job { id, json } => {
                    d.jobs.insert(id.clone(), json.clone());
                }
                WriteOp::Pairing { key, json } => {
                    d.pairings.insert(key.clone(), json.clone());
                }
                WriteOp::DeleteJob { id } => {
                    d.jobs.remove(id);
                    d.runs.remove(id);
                }
                WriteOp::Run {
                    job_id,
                    run_at_ms,
                    json,
                    keep,
                } => {
                    let runs = d.runs.entry(job_id.clone()).or_default();
                    runs.push((*run_at_ms, json.clone()));
                    runs.sort_by_key(|r| r.0);
                    let extra = runs.len().saturating_sub(*keep as usize);
                    runs.drain(..extra);
                }
                WriteOp::Inbound(entry) => {
                    let key = (entry.account.clone(), entry.msg_id.clone());
                    if !d.journal_index.contains_key(&key) {
                        d.journal_seq += 1;
                        let seq = d.journal_seq;
                        let entry = JournalEntry {
                            seq,
                            ..entry.clone()
                        };
                        d.journal.insert(seq, (entry, false));
                        d.journal_index.insert(key, seq);
                    }
                }
                WriteOp::InboundDone { account, msg_id } => {
                    let seq = d
                        .journal_index
                        .get(&(account.clone(), msg_id.clone()))
                        .copied();
                    if let Some(row) = seq.and_then(|seq| d.journal.get_mut(&seq)) {
                        row.0.payload = Arc::from("");
                        row.1 = true;
                    }
                }
                WriteOp::MemoryFile {
                    agent,
                    file,
                    chunks,
                } => {
                    d.memory.insert(
                        (agent.clone(), file.path.clone()),
                        (file.clone(), chunks.clone()),
                    );
                }
                WriteOp::MemoryForget { agent, path } => {
                    d.memory.remove(&(agent.clone(), path.clone()));
                }
                // `unfenced` took the fence off; one store alone has no other holder.
                WriteOp::Fenced { .. } => {}
                WriteOp::PruneInbound { done_before_ms } => {
                    let Data {
                        journal,
                        journal_index,
                        ..
                    } = &mut *d;
                    journal.retain(|_, (e, done)| {
                        let keep = !*done || e.received_ms >= *done_before_ms;
                        if !keep {
                            journal_index.remove(&(e.account.clone(), e.msg_id.clone()));
                        }
                        keep
                    });
                }
            }
        }
        Ok(())
    }

    fn load_session(
        &self,
        key: &str,
        max_entries: usize,
    ) -> Result<Option<StoredSession>, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        Ok(d.sessions.get(key).map(|meta| StoredSession {
            meta: meta.clone(),
            entries: d
                .entries
                .get(&meta.session_id)
                .map(|e| newest(e, max_entries))
                .unwrap_or_default(),
        }))
    }

    fn knows_peer(&self, account: &str, group: bool, id: &str) -> Result<bool, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        let suffix = format!(":{id}");
        Ok(d.sessions.values().any(|m| {
            m.account == account
                && if group {
                    m.chat == "group" && m.conversation_id == id
                } else {
                    m.chat == "direct" && m.key.ends_with(&suffix)
                }
        }))
    }

    fn sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionMeta>, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<SessionMeta> = d
            .sessions
            .values()
            .filter(|m| filter.agent_id.as_ref().is_none_or(|a| *a == m.agent_id))
            .filter(|m| filter.account.as_ref().is_none_or(|a| *a == m.account))
            .cloned()
            .collect();
        out.sort_by(|a, b| b.updated_ms.cmp(&a.updated_ms).then(a.key.cmp(&b.key)));
        out.truncate(filter.limit.max(1));
        Ok(out)
    }

    fn transcript(
        &self,
        session_id: &str,
        max_entries: usize,
    ) -> Result<Vec<TranscriptEntry>, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        Ok(d.entries
            .get(session_id)
            .map(|e| newest(e, max_entries))
            .unwrap_or_default())
    }

    fn jobs(&self) -> Result<Vec<String>, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        Ok(d.jobs.values().cloned().collect())
    }

    fn pairings(&self) -> Result<Vec<String>, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        Ok(d.pairings.values().cloned().collect())
    }

    fn runs(&self, job_id: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        Ok(d.runs
            .get(job_id)
            .map(|r| r.iter().rev().take(limit).map(|(_, j)| j.clone()).collect())
            .unwrap_or_default())
    }

    fn open_inbound(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        Ok(d.journal
            .values()
            .filter(|(_, done)| !done)
            .map(|(e, _)| e.clone())
            .collect())
    }

    fn inbound_ids(&self, since_ms: i64) -> Result<Vec<JournalId>, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        Ok(d.journal
            .values()
            .filter(|(e, done)| !done || e.received_ms >= since_ms)
            .map(|(e, _)| JournalId {
                account: e.account.clone(),
                msg_id: e.msg_id.clone(),
                received_ms: e.received_ms,
            })
            .collect())
    }

    fn memory_files(&self, agent: &str) -> Result<Vec<MemoryFile>, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        Ok(d.memory
            .iter()
            .filter(|((a, _), _)| a == agent)
            .map(|(_, (f, _))| f.clone())
            .collect())
    }

    fn memory_candidates(
        &self,
        agent: &str,
        terms: &[String],
        limit: usize,
    ) -> Result<Vec<MemoryCandidate>, StoreError> {
        let d = self.data.lock().unwrap_or_else(|p| p.into_inner());
        let terms: Vec<String> = terms.iter().map(|t| t.to_lowercase()).collect();
        Ok(d.memory
            .iter()
            .filter(|((a, _), _)| a == agent)
            .flat_map(|((_, path), (_, chunks))| chunks.iter().map(move |c| (path, c)))
            .filter(|(_, c)| terms.iter().any(|t| holds(&c.text, t)))
            .take(limit)
            .map(|(path, c)| MemoryCandidate {
                path: path.clone(),
                start_line: c.start_line,
                end_line: c.end_line,
                text: c.text.clone(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Role;

    fn entry(seq: u64, text: &str) -> WriteOp {
        WriteOp::Entry {
            session_id: "s".into(),
            entry: TranscriptEntry {
                tool_calls: Vec::new(),
                tool_call_id: None,
                attachments: Vec::new(),
                first_kept: None,
                sender_name: None,
                seq,
                role: Role::User,
                content: text.into(),
                msg_id: None,
                sender: None,
                at_ms: 0,
            },
        }
    }

    #[test]
    fn entries_stay_in_seq_order_and_a_rewrite_replaces() {
        let store = MemoryStore::default();
        store
            .write(&[entry(1, "a"), entry(3, "c"), entry(2, "b"), entry(3, "c2")])
            .unwrap();
        let got: Vec<(u64, String)> = store
            .transcript("s", 10)
            .unwrap()
            .into_iter()
            .map(|e| (e.seq, e.content))
            .collect();
        assert_eq!(
            got,
            vec![(1, "a".into()), (2, "b".into()), (3, "c2".into())]
        );
    }
}
