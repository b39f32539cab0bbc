//! Trailing-edge debounce of change notifications.
//!
//! A burst of events (an initial list, a Helm release touching fifty Ingresses) becomes one
//! reconcile that runs `quiet` after the last event, but never later than `max_delay` after the
//! first, so a steady trickle of events cannot postpone the write forever.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{timeout_at, Instant};

/// Waits for the next batch of notifications. Returns false when the sender is gone.
pub async fn next_batch(
    trigger: &mut watch::Receiver<u64>,
    quiet: Duration,
    max_delay: Duration,
) -> bool {
    if trigger.changed().await.is_err() {
        return false;
    }
    settle(trigger, quiet, max_delay).await;
    true
}

/// After a first notification: waits until `quiet` passes without one, capped at `max_delay`.
pub async fn settle(trigger: &mut watch::Receiver<u64>, quiet: Duration, max_delay: Duration) {
    if quiet.is_zero() {
        trigger.borrow_and_update();
        return;
    }
    let hard_deadline = Instant::now() + max_delay;
    loop {
        let deadline = (Instant::now() + quiet).min(hard_deadline);
        match timeout_at(deadline, trigger.changed()).await {
            Ok(Ok(())) if Instant::now() < hard_deadline => continue,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_coalesces_into_one_batch_after_quiet_period() {
        let (tx, mut rx) = watch::channel(0u64);
        let start = Instant::now();
        let sender = tokio::spawn(async move {
            for i in 1..=5 {
                tx.send_replace(i);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
            drop(tx);
        });
        assert!(next_batch(&mut rx, Duration::from_millis(25), Duration::from_secs(1)).await);
        let elapsed = start.elapsed();
        // Last event at 40 ms, quiet 25 ms.
        assert!(
            elapsed >= Duration::from_millis(65) && elapsed < Duration::from_millis(80),
            "{elapsed:?}"
        );
        assert!(!rx.has_changed().unwrap());
        sender.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn steady_trickle_is_capped_by_max_delay() {
        let (tx, mut rx) = watch::channel(0u64);
        let start = Instant::now();
        let sender = tokio::spawn(async move {
            for i in 1..1000 {
                tx.send_replace(i);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        assert!(
            next_batch(
                &mut rx,
                Duration::from_millis(25),
                Duration::from_millis(200)
            )
            .await
        );
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(200) && elapsed < Duration::from_millis(230),
            "{elapsed:?}"
        );
        sender.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn closed_sender_ends_the_loop() {
        let (tx, mut rx) = watch::channel(0u64);
        drop(tx);
        assert!(!next_batch(&mut rx, Duration::from_millis(25), Duration::from_secs(1)).await);
    }
}
