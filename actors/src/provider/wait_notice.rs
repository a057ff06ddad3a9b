//! Telling a user that their turn is queued. A turn can wait for one of the gateway's turn
//! slots (`agents.defaults.maxConcurrent`) or for one of its provider's (`maxConcurrent`,
//! `requestsPerMinute`); a user who hears nothing for half a minute sends the message again,
//! so after `NOTICE_AFTER` of waiting the session is told once, and says so in the chat.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a turn waits for a slot before its user is told.
pub const NOTICE_AFTER: Duration = Duration::from_secs(8);

type Tell = Box<dyn FnOnce() + Send>;

/// What to do when a turn has waited long; done at most once, however many waits of one
/// turn run long. Nothing runs (and nothing waits) for the many turns that never wait.
#[derive(Clone)]
pub struct WaitNotice(Arc<Mutex<Option<Tell>>>);

impl WaitNotice {
    /// A notice that runs `tell` the first time a wait of the turn runs long.
    pub fn new(tell: impl FnOnce() + Send + 'static) -> WaitNotice {
        WaitNotice(Arc::new(Mutex::new(Some(Box::new(tell)))))
    }

    fn fire(&self) {
        let tell = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(tell) = tell {
            tell();
        }
    }
}

impl fmt::Debug for WaitNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WaitNotice")
    }
}

/// Awaits `wait` (a slot being acquired); when it takes longer than `after`, fires `notice`
/// and keeps waiting.
pub async fn noticed<F: Future>(
    wait: F,
    notice: Option<&WaitNotice>,
    after: Duration,
) -> F::Output {
    let Some(notice) = notice else {
        return wait.await;
    };
    tokio::pin!(wait);
    tokio::select! {
        out = &mut wait => out,
        _ = tokio::time::sleep(after) => {
            notice.fire();
            wait.await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[actix_rt::test]
    async fn fires_once_after_a_long_wait_and_never_for_a_short_one() {
        let told = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&told);
        let notice = WaitNotice::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let quick = noticed(async { 1 }, Some(&notice), Duration::from_millis(50)).await;
        assert_eq!(quick, 1);
        assert_eq!(told.load(Ordering::SeqCst), 0, "a short wait says nothing");
        noticed(
            tokio::time::sleep(Duration::from_millis(100)),
            Some(&notice),
            Duration::from_millis(10),
        )
        .await;
        assert_eq!(told.load(Ordering::SeqCst), 1);
        // A second long wait of the same turn does not tell again.
        noticed(
            tokio::time::sleep(Duration::from_millis(30)),
            Some(&notice.clone()),
            Duration::from_millis(5),
        )
        .await;
        assert_eq!(told.load(Ordering::SeqCst), 1);
    }
}
