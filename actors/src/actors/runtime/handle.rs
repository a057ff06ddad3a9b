//! The handle an embedder keeps: the runtime lives as long as it does.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use super::Runtime;

/// A started runtime. Everything `Runtime` offers is reachable through it (it dereferences
/// to it); `runtime()` gives an `Arc` to share with code that outlives a borrow (a web
/// server). Dropping the handle stops the runtime without waiting for turns in flight:
/// accounts disconnect, commands are killed, queued store writes are committed and the
/// worker threads stop, as `shutdown(Duration::ZERO)` would; call `shutdown(drain)` to give
/// the turns in flight time to finish first.
#[must_use = "dropping the handle stops the runtime"]
pub struct RuntimeHandle {
    rt: Arc<Runtime>,
}

impl RuntimeHandle {
    pub(super) fn new(rt: Arc<Runtime>) -> Self {
        Self { rt }
    }

    /// The runtime, to share. Holding this `Arc` does not keep the runtime running once
    /// the handle is dropped; it keeps the memory alive for status reads.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.rt
    }
}

/// To the `Arc`, so that methods taking `self: &Arc<Runtime>` (`reload`) work on the handle.
impl Deref for RuntimeHandle {
    type Target = Arc<Runtime>;

    fn deref(&self) -> &Arc<Runtime> {
        &self.rt
    }
}

impl Drop for RuntimeHandle {
    fn drop(&mut self) {
        if self.rt.is_stopping() {
            return;
        }
        // The shutdown awaits the store and the MCP servers, so it runs on one of the
        // runtime's own threads; it stops that thread last.
        let rt = Arc::clone(&self.rt);
        let spawned = self.rt.lanes[0]
            .arbiter
            .spawn(async move { rt.shutdown(Duration::ZERO).await });
        if !spawned {
            // The threads are gone already (the System stopped): nothing left to drain.
            self.rt.stop_threads();
        }
    }
}
