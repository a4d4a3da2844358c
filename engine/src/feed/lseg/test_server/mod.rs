//! A local server speaking the LSEG Real-Time WebSocket protocol, for tests and demos without a feed.
//!
//! It refuses handshakes that do not offer `tr_json2`, answers a login with a Refresh stating its
//! PingTimeout, answers an item request (single or batch) the way the real server does (a batch: a Status
//! closing the batch ID, then one Refresh per item with the IDs after it), then runs the connection's
//! [`Script`]: Updates, Status changes, raw frames, Pings (and it drops a client that does not Pong in
//! time), pauses, a dropped connection or a stall.

mod conn;
mod script;

pub use script::{Script, ServerLog, Step};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A running test server on `127.0.0.1` at a free port; stops when dropped.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    log: Arc<Mutex<ServerLog>>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Binds a free port and starts serving `script` on its own thread.
    ///
    /// # Errors
    /// The port cannot be bound or the thread cannot start.
    pub fn start(script: Script) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(ServerLog::default()));
        let (stop, stop_rx) = watch::channel(false);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let shared = log.clone();
        let thread =
            std::thread::Builder::new().name("lseg-test-server".into()).spawn(move || {
                runtime.block_on(conn::serve(listener, Arc::new(script), shared, stop_rx));
            })?;
        Ok(Self { addr, log, stop, thread: Some(thread) })
    }

    /// `ws://127.0.0.1:PORT/WebSocket`.
    pub fn url(&self) -> String {
        format!("ws://{}/WebSocket", self.addr)
    }

    pub fn log(&self) -> ServerLog {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Polls the log until `done` holds or `limit` passes; returns the last log and whether it held.
    pub fn wait_for(
        &self,
        limit: Duration,
        done: impl Fn(&ServerLog) -> bool,
    ) -> (ServerLog, bool) {
        let until = Instant::now() + limit;
        loop {
            let log = self.log();
            if done(&log) {
                return (log, true);
            }
            if Instant::now() >= until {
                return (log, false);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
