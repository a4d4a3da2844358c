//! The live LSEG client: a thread with a small single-threaded tokio runtime that keeps one websocket
//! connection alive and hands decoded items to the ingest side through a bounded channel.

use super::config::{LsegConfig, LsegConfigError};
use super::connection::{Client, FrameTap};
use super::session::LsegSession;
use super::stats::{ClientStats, Shared};
use crate::feed::source::{FeedItem, Poll, SourceError, TradeSource};
use crate::feed::Counters;
use crate::mapping::Mapping;
use crossbeam_channel::{Receiver, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::watch;

/// Why the client could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Config(#[from] LsegConfigError),
    #[error("starting the LSEG client thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// A running LSEG Real-Time WebSocket client.
///
/// It logs in, requests `config.rics` in one batch, answers Pings, and reconnects (with backoff, a new
/// login and a new request) whenever the connection fails, closes or falls silent beyond PingTimeout +
/// slack. Decoded trades, rejects and link changes arrive through [`TradeSource::next_batch`] or
/// [`LsegClient::recv_timeout`]. When the ingest side falls a full channel behind, the client waits
/// (and stops reading the socket), so nothing is dropped on this side.
#[derive(Debug)]
pub struct LsegClient {
    items: Receiver<FeedItem>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl LsegClient {
    /// Validates `config` and starts the client thread.
    ///
    /// # Errors
    /// The configuration cannot work, or the thread or its runtime cannot be created.
    pub fn start(config: LsegConfig, mapping: Arc<Mapping>) -> Result<Self, ClientError> {
        Self::spawn(config, mapping, None)
    }

    /// Like [`LsegClient::start`], and `tap` sees every text frame as received (for recording).
    ///
    /// # Errors
    /// As [`LsegClient::start`].
    pub fn start_with_tap(
        config: LsegConfig,
        mapping: Arc<Mapping>,
        tap: FrameTap,
    ) -> Result<Self, ClientError> {
        Self::spawn(config, mapping, Some(tap))
    }

    fn spawn(
        config: LsegConfig,
        mapping: Arc<Mapping>,
        tap: Option<FrameTap>,
    ) -> Result<Self, ClientError> {
        config.validate()?;
        let (tx, rx) = crossbeam_channel::bounded(config.channel_capacity);
        let (stop_tx, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared::default());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let client =
            Client::new(config, LsegSession::new(mapping), tx, tap, shared.clone(), stop_rx);
        let thread = std::thread::Builder::new()
            .name("lseg-client".into())
            .spawn(move || runtime.block_on(client.run()))?;
        Ok(Self { items: rx, stop: stop_tx, thread: Some(thread), shared })
    }

    /// Waits up to `wait` for the next item; `None` on timeout or once the client has ended.
    pub fn recv_timeout(&self, wait: Duration) -> Option<FeedItem> {
        self.items.recv_timeout(wait).ok()
    }

    pub fn stats(&self) -> ClientStats {
        self.shared.snapshot()
    }

    /// The decoder's counters (frames, messages, trades, pings, rejects by reason) across connections.
    pub fn decoder_counters(&self) -> Counters {
        self.shared.decoder.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Closes the connection, ends the thread and returns the final counters.
    pub fn stop(mut self) -> ClientStats {
        self.shutdown();
        self.shared.snapshot()
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("LSEG client thread panicked");
            }
        }
    }
}

impl Drop for LsegClient {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl TradeSource for LsegClient {
    fn next_batch(
        &mut self,
        max: usize,
        sink: &mut dyn FnMut(FeedItem),
    ) -> Result<Poll, SourceError> {
        let mut n = 0;
        while n < max.max(1) {
            match self.items.try_recv() {
                Ok(item) => sink(item),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) if n > 0 => break,
                Err(TryRecvError::Disconnected) => {
                    return match *self.stop.borrow() {
                        true => Ok(Poll::End),
                        false => Err(SourceError::Client("client thread ended".into())),
                    };
                }
            }
            n += 1;
        }
        Ok(if n == 0 { Poll::Idle } else { Poll::Ready(n) })
    }

    fn counters(&self) -> Counters {
        self.decoder_counters()
    }

    fn name(&self) -> &'static str {
        "lseg"
    }
}
