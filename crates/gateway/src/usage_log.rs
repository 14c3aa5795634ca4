//! The usage log writer: rows go into a bounded queue and are written in batches by one
//! background task, so logging never blocks a request. A full queue drops (and counts) rows
//! rather than slow the gateway down.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use switchyard_store::{Store, UsageLog};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

const QUEUE: usize = 65_536;
const BATCH: usize = 1_000;

enum Msg {
    Row(Box<UsageLog>),
    /// Answered once every row queued before it is written.
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct UsageLogger {
    tx: mpsc::Sender<Msg>,
    dropped: Arc<AtomicU64>,
}

impl UsageLogger {
    /// Start the writer; it ends (after writing what is queued) when every logger is dropped.
    pub fn start(store: Store) -> (UsageLogger, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let handle = tokio::spawn(write_batches(store, rx));
        (
            UsageLogger {
                tx,
                dropped: Arc::default(),
            },
            handle,
        )
    }

    pub fn log(&self, row: UsageLog) {
        if self.tx.try_send(Msg::Row(Box::new(row))).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "usage log queue full; rows dropped");
            }
        }
    }

    /// Wait until everything logged so far is in the database (at shutdown).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<Msg>) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = rx.recv().await {
        let mut flushes = Vec::new();
        take(first, &mut batch, &mut flushes);
        // Gather what arrives in the next moment, so a busy gateway writes few big batches.
        let deadline = tokio::time::sleep(Duration::from_millis(50));
        tokio::pin!(deadline);
        while batch.len() < BATCH && flushes.is_empty() {
            tokio::select! {
                m = rx.recv() => match m { Some(m) => take(m, &mut batch, &mut flushes), None => break },
                _ = &mut deadline => break,
            }
        }
        write(&store, &batch).await;
        batch.clear();
        for done in flushes {
            let _ = done.send(());
        }
    }
}

fn take(m: Msg, batch: &mut Vec<UsageLog>, flushes: &mut Vec<oneshot::Sender<()>>) {
    match m {
        Msg::Row(r) => batch.push(*r),
        Msg::Flush(done) => flushes.push(done),
    }
}

async fn write(store: &Store, batch: &[UsageLog]) {
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
