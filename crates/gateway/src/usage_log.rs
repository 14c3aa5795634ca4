//! The usage log writer: rows go into a bounded in-memory queue and are written in batches by
//! one background task, so logging never blocks a request. A full queue drops (and counts)
//! rows rather than slow the gateway down.
//!
//! Queuing a row is a push under a short lock; only the first row of a batch wakes the writer,
//! which then gathers for a moment and takes the whole queue at once. (A channel woke the
//! writer task for every row: one task switch per request at peak.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use switchyard_store::{Store, UsageLog};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

const QUEUE: usize = 65_536;
/// How long the writer gathers rows after the first one of a batch.
const GATHER: Duration = Duration::from_millis(50);

#[derive(Default)]
struct Queue {
    rows: Vec<UsageLog>,
    /// Answered once every row queued before them is written.
    flushes: Vec<oneshot::Sender<()>>,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Rows (or a flush) are waiting.
    work: Notify,
    /// A flush is waiting: stop gathering.
    hurry: Notify,
    dropped: AtomicU64,
}

#[derive(Clone)]
pub struct UsageLogger {
    shared: Arc<Shared>,
    /// Held by every logger: the writer ends (after writing what is queued) when all are gone.
    _alive: mpsc::Sender<()>,
}

impl UsageLogger {
    /// Start the writer; it ends (after writing what is queued) when every logger is dropped.
    pub fn start(store: Store) -> (UsageLogger, JoinHandle<()>) {
        let shared = Arc::new(Shared::default());
        let (alive, gone) = mpsc::channel(1);
        let handle = tokio::spawn(write_batches(store, shared.clone(), gone));
        (
            UsageLogger {
                shared,
                _alive: alive,
            },
            handle,
        )
    }

    pub fn log(&self, row: UsageLog) {
        let mut q = self.shared.queue.lock();
        if q.rows.len() >= QUEUE {
            drop(q);
            let n = self.shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "usage log queue full; rows dropped");
            }
            return;
        }
        let first = q.rows.is_empty();
        q.rows.push(row);
        drop(q);
        if first {
            self.shared.work.notify_one();
        }
    }

    /// Wait until everything logged so far is in the database (at shutdown).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        self.shared.queue.lock().flushes.push(done);
        self.shared.work.notify_one();
        self.shared.hurry.notify_one();
        let _ = wait.await;
    }

    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

async fn write_batches(store: Store, shared: Arc<Shared>, mut gone: mpsc::Receiver<()>) {
    let mut closing = false;
    // The queue's rows are swapped with this buffer, so neither is grown again every batch.
    let mut rows = Vec::new();
    while !closing {
        tokio::select! {
            _ = shared.work.notified() => {}
            _ = gone.recv() => closing = true,
        }
        // Gather what arrives in the next moment, so a busy gateway writes few big batches.
        if !closing && shared.queue.lock().flushes.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(GATHER) => {}
                _ = shared.hurry.notified() => {}
            }
        }
        let flushes = {
            let mut q = shared.queue.lock();
            std::mem::swap(&mut q.rows, &mut rows);
            std::mem::take(&mut q.flushes)
        };
        write(&store, &mut rows).await;
        rows.clear();
        for done in flushes {
            let _ = done.send(());
        }
    }
}

async fn write(store: &Store, batch: &mut Vec<UsageLog>) {
    if batch.is_empty() {
        return;
    }
    for attempt in 0..3 {
        match store.insert_logs(batch).await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %e, rows = batch.len(), attempt, "writing usage logs failed");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
}
