//! Per-provider limits: calls in flight at once, calls started per minute, and a bounded
//! queue of calls waiting; past the bound a call is refused as busy instead of waiting
//! without end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::rate::{RateWindow, SlidingWindow};

use super::error::ProviderError;

/// The window of `requests_per_minute`.
const MINUTE: Duration = Duration::from_secs(60);

/// A provider's limits: calls at once, calls waiting, calls a minute.
pub struct ProviderLimits {
    provider: String,
    slots: Arc<Semaphore>,
    max_concurrent: u32,
    waiting: AtomicU32,
    max_queue: u32,
    per_minute: Option<SlidingWindow>,
}

/// A slot; the call holds it until it ends.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl ProviderLimits {
    /// The limits of `provider`.
    pub fn new(
        provider: &str,
        max_concurrent: u32,
        per_minute: Option<u32>,
        max_queue: u32,
    ) -> Self {
        Self {
            provider: provider.to_owned(),
            slots: Arc::new(Semaphore::new(max_concurrent as usize)),
            max_concurrent,
            waiting: AtomicU32::new(0),
            max_queue,
            per_minute: per_minute.map(|max| {
                SlidingWindow::new(RateWindow {
                    max: max as usize,
                    per: MINUTE,
                })
            }),
        }
    }

    /// Waits for a slot (and for room in the minute), or refuses when too many already wait.
    pub async fn acquire(&self) -> Result<Slot, ProviderError> {
        let permit = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_queue {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(ProviderError::Busy {
                        provider: self.provider.clone(),
                    });
                }
                let p = Arc::clone(&self.slots).acquire_owned().await;
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                p.map_err(|_| ProviderError::Busy {
                    provider: self.provider.clone(),
                })?
            }
        };
        if let Some(window) = &self.per_minute {
            window.acquire().await;
        }
        Ok(Slot { _permit: permit })
    }

    /// Calls in flight now.
    pub fn in_flight(&self) -> u32 {
        self.max_concurrent - self.slots.available_permits() as u32
    }

    /// Calls waiting for a slot now.
    pub fn waiting(&self) -> u32 {
        self.waiting.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn concurrency_is_capped_and_the_queue_is_bounded() {
        let limits = Arc::new(ProviderLimits::new("p", 2, None, 1));
        let a = limits.acquire().await.unwrap();
        let _b = limits.acquire().await.unwrap();
        assert_eq!(limits.in_flight(), 2);
        let l2 = Arc::clone(&limits);
        let waiter = actix_rt::spawn(async move { l2.acquire().await.map(|_| ()) });
        actix_rt::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(limits.waiting(), 1);
        // The queue holds one; the next is refused at once.
        assert!(matches!(
            limits.acquire().await,
            Err(ProviderError::Busy { .. })
        ));
        drop(a);
        waiter.await.unwrap().unwrap();
        assert_eq!(limits.waiting(), 0);
    }
}
