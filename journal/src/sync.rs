//! The background fsync of `fsync = { interval_ms = N }`: the publisher never waits for the disk; this
//! thread syncs the epoch's files every N ms and then publishes how far the journal is durable.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the writer and its sync thread share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Records appended (the next sequence), as of the last append.
    pub head: AtomicU64,
    /// Records known to be on the disk (fdatasync returned after they were appended).
    pub durable: AtomicU64,
    pub fsyncs: AtomicU64,
    pub fsync_failures: AtomicU64,
    /// The files to sync: the active segment first, then the logs beside it.
    pub files: Mutex<Vec<Arc<File>>>,
    stop: AtomicBool,
}

impl Shared {
    /// Syncs every file (logs first: a durable record must never refer to a directory entry that is not);
    /// returns whether all succeeded and advances `durable` to the head seen before syncing.
    pub(crate) fn sync_all(&self) -> bool {
        let head = self.head.load(Relaxed);
        let files: Vec<Arc<File>> = self.files.lock().map(|f| f.clone()).unwrap_or_default();
        let mut ok = true;
        for file in files.iter().rev() {
            if let Err(e) = file.sync_data() {
                ok = false;
                self.fsync_failures.fetch_add(1, Relaxed);
                tracing::error!(error = %e, "journal fsync failed; the records stay in the page cache and are retried");
            }
        }
        if ok {
            self.fsyncs.fetch_add(1, Relaxed);
            self.durable.fetch_max(head, Relaxed);
        }
        ok
    }
}

#[derive(Debug)]
pub(crate) struct SyncThread {
    shared: Arc<Shared>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl SyncThread {
    pub(crate) fn spawn(shared: Arc<Shared>, every: Duration) -> std::io::Result<Self> {
        let s = Arc::clone(&shared);
        let handle = std::thread::Builder::new().name("journal-fsync".into()).spawn(move || {
            let mut next = Instant::now() + every;
            while !s.stop.load(Relaxed) {
                let now = Instant::now();
                if now < next {
                    std::thread::sleep((next - now).min(Duration::from_millis(20)));
                    continue;
                }
                next = now + every;
                if s.head.load(Relaxed) > s.durable.load(Relaxed) {
                    s.sync_all();
                }
            }
        })?;
        Ok(Self { shared, handle: Some(handle) })
    }
}

impl Drop for SyncThread {
    fn drop(&mut self) {
        self.shared.stop.store(true, Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
