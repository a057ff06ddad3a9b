//! Telling a user that their turn is queued. A turn can wait for one of the gateway's turn
//! slots (`agents.defaults.maxConcurrent`) or for one of its provider's (`maxConcurrent`,
//! `requestsPerMinute`); a user who hears nothing for half a minute sends the message again,
//! so after `NOTICE_AFTER` of waiting the session is told once, and says so in the chat.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

/// How long a turn waits for a slot before its user is told.
pub const NOTICE_AFTER: Duration = Duration::from_secs(8);

/// Fires at most once, however many waits of one turn run long.
#[derive(Clone, Debug)]
pub struct WaitNotice(Arc<Mutex<Option<oneshot::Sender<()>>>>);

impl WaitNotice {
    /// A notice and the receiver the session listens on (it ends without a value when the
    /// turn ends without a long wait).
    pub fn new() -> (WaitNotice, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (WaitNotice(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    fn fire(&self) {
        if let Some(tx) = self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = tx.send(());
        }
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

    #[actix_rt::test]
    async fn fires_once_after_a_long_wait_and_never_for_a_short_one() {
        let (notice, rx) = WaitNotice::new();
        let quick = noticed(async { 1 }, Some(&notice), Duration::from_millis(50)).await;
        assert_eq!(quick, 1);
        let slow = noticed(
            tokio::time::sleep(Duration::from_millis(100)),
            Some(&notice),
            Duration::from_millis(10),
        );
        slow.await;
        // A second long wait of the same turn does not fire again (and cannot: one sender).
        noticed(
            tokio::time::sleep(Duration::from_millis(30)),
            Some(&notice),
            Duration::from_millis(5),
        )
        .await;
        assert!(rx.await.is_ok());

        let (notice, rx) = WaitNotice::new();
        noticed(async {}, Some(&notice), Duration::from_millis(50)).await;
        drop(notice);
        assert!(rx.await.is_err(), "a short wait says nothing");
    }
}
