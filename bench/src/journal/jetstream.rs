//! The peer `jetstream-publish`: the same 64-byte ticks published to a file-backed NATS JetStream stream
//! (one replica) on a `nats-server` this run starts on a free port with a store folder of its own, through
//! `async-nats` with asynchronous acks and a bounded window of unacknowledged messages.
//!
//! One round: a fresh stream, the ticks published in batches like the journal's; a batch's latency is from
//! its first publish to the ack of its last message. Throughput ends at the last ack. JetStream's file store
//! acks once the message is written to its files (the page cache, as the journal's appends), not after an
//! fsync (nats-server syncs on its own interval), so both sides promise the same: the record survives a
//! crash of the process, not a power loss.

use super::data::{ScratchDir, TickPool};
use crate::clock::now_ns;
use crate::histogram::LatencyHistogram;
use crate::report::{Measurement, Throughput};
use anyhow::{anyhow, bail, ensure, Context, Result};
use async_nats::jetstream::{self, context::PublishAckFuture, stream::StorageType};
use std::collections::VecDeque;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const NAME: &str = "jetstream-publish";
const STREAM: &str = "BENCH_TICKS";
const SUBJECT: &str = "bench.ticks";

/// A `nats-server -js` of this run, stopped (and its store removed) when dropped.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    pub port: u16,
    pub version: String,
    _store: ScratchDir,
}

impl NatsServer {
    /// The server's pid, for its CPU time.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `program` (a path, or a name looked up on `PATH` and in `/usr/sbin`) with JetStream on, its
    /// store under `parent`, and waits until it accepts connections.
    ///
    /// # Errors
    /// The program is not installed, does not start, or does not listen within 10 s.
    pub fn start(program: &Path, parent: &Path) -> Result<Self> {
        let program = find_program(program).with_context(|| {
            format!("{} is not installed (apt-get install -y nats-server)", program.display())
        })?;
        let version = Command::new(&program)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .with_context(|| format!("running {} --version", program.display()))?;
        let store = ScratchDir::new(parent, "nats")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = store.path().join("server.log");
        let child = Command::new(&program)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store.path().join("store"))
            .arg("-l")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut server = Self { child, port, version, _store: store };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                bail!("nats-server exited at start ({status}): {}", last_lines(&tail, 5));
            }
            if started.elapsed() > Duration::from_secs(10) {
                bail!("nats-server did not listen on port {port} within 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let asked = Instant::now();
        while asked.elapsed() < Duration::from_secs(5) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_owned());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// What one publishing round needs.
#[derive(Debug)]
pub struct PublishRound<'a> {
    pub server: &'a NatsServer,
    pub pool: &'a TickPool,
    pub records: u64,
    pub batch: usize,
    /// Most messages published and not yet acknowledged.
    pub window: usize,
    pub timeout: Duration,
}

/// `jetstream-publish`: one round on a fresh stream.
///
/// # Errors
/// Connecting, creating the stream, a publish or an ack failed, or the stream does not hold every record.
pub fn publish(r: &PublishRound<'_>) -> Result<Measurement> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the NATS client runtime")?;
    runtime.block_on(async {
        tokio::time::timeout(r.timeout, publish_async(r))
            .await
            .map_err(|_| anyhow!("{NAME}: still publishing after {:?}", r.timeout))?
    })
}

async fn publish_async(r: &PublishRound<'_>) -> Result<Measurement> {
    let url = format!("127.0.0.1:{}", r.server.port);
    let client = async_nats::connect(&url).await.with_context(|| format!("connecting to {url}"))?;
    let js = jetstream::ContextBuilder::new()
        .max_ack_inflight(r.window + r.batch)
        .backpressure_on_inflight(true)
        .build(client.clone());
    let _ = js.delete_stream(STREAM).await;
    let config = jetstream::stream::Config {
        name: STREAM.into(),
        subjects: vec![SUBJECT.into()],
        storage: StorageType::File,
        num_replicas: 1,
        ..Default::default()
    };
    js.create_stream(config).await.map_err(|e| anyhow!("creating the stream: {e}"))?;

    let mut latency = LatencyHistogram::new();
    let mut inflight: VecDeque<(u64, Vec<PublishAckFuture>)> = VecDeque::new();
    let mut unacked = 0usize;
    let start = now_ns();
    let mut seq = 0u64;
    while seq < r.records {
        let n = r.batch.min((r.records - seq) as usize);
        let t0 = now_ns();
        let mut acks = Vec::with_capacity(n);
        for tick in r.pool.batch(seq, n) {
            let payload = bytemuck::bytes_of(tick).to_vec();
            let ack =
                js.publish(SUBJECT, payload.into()).await.map_err(|e| anyhow!("publish: {e}"))?;
            acks.push(ack);
        }
        inflight.push_back((t0, acks));
        unacked += n;
        seq += n as u64;
        while unacked > r.window {
            unacked -= await_batch(&mut inflight, &mut latency).await?;
        }
    }
    while !inflight.is_empty() {
        await_batch(&mut inflight, &mut latency).await?;
    }
    let elapsed = now_ns() - start;
    let mut stream = js.get_stream(STREAM).await.map_err(|e| anyhow!("stream info: {e}"))?;
    let stored = stream.info().await.map_err(|e| anyhow!("stream info: {e}"))?.state.messages;
    ensure!(stored == r.records, "the stream holds {stored} of {} messages", r.records);
    let _ = js.delete_stream(STREAM).await;
    drop(client);
    Ok(Measurement {
        name: NAME.into(),
        latency,
        throughput: Throughput { messages: r.records, elapsed_ns: elapsed },
    })
}

/// Waits for every ack of the oldest batch in flight; records its latency; returns its size.
async fn await_batch(
    inflight: &mut VecDeque<(u64, Vec<PublishAckFuture>)>,
    latency: &mut LatencyHistogram,
) -> Result<usize> {
    let Some((t0, acks)) = inflight.pop_front() else { return Ok(0) };
    let n = acks.len();
    for ack in acks {
        ack.await.map_err(|e| anyhow!("ack: {e}"))?;
    }
    latency.record(now_ns() - t0);
    Ok(n)
}
