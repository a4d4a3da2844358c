//! `tickring bench websocket`: a producer publishing at a set rate, the pusher, and N websocket clients
//! (tokio-tungstenite's client on their own runtime) in one process on this machine. Measures tick ->
//! client latency (from `ts_publish_ns` to receipt) and messages/s out per input rate, finds the highest
//! rate whose p99 stays under the target, and the effect of one frozen client.

mod clients;
mod load;
mod report;

pub use report::{BenchReport, BenchResult};

use crate::config::WebsocketConfig;
use crate::server::Server;
use std::time::Duration;
use tickring_ipc::RingConfig;

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub clients: usize,
    pub symbols: usize,
    pub per_client: usize,
    /// Input rates to try, ticks/s, ascending.
    pub rates: Vec<u64>,
    pub duration: Duration,
    pub warmup: Duration,
    /// The p99 a rate must stay under to count as held.
    pub p99_target: Duration,
    /// The rate at which the frozen-client run is compared (the highest held one if it is lower).
    pub frozen_rate: u64,
}

impl BenchOptions {
    pub fn full(clients: usize) -> Self {
        Self {
            clients,
            symbols: 1_000,
            per_client: 10,
            rates: vec![2_000, 5_000, 10_000, 20_000, 40_000],
            duration: Duration::from_secs(5),
            warmup: Duration::from_secs(1),
            p99_target: Duration::from_millis(10),
            frozen_rate: 10_000,
        }
    }

    pub fn quick(clients: usize) -> Self {
        Self {
            rates: vec![2_000, 10_000],
            duration: Duration::from_secs(2),
            warmup: Duration::from_millis(500),
            ..Self::full(clients)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("ring: {0}")]
    Ring(#[from] tickring_ipc::RingError),
    #[error("server: {0}")]
    Server(#[from] crate::WsError),
    #[error("clients: {0}")]
    Clients(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the whole benchmark and returns its report (also printed as a table by the caller).
///
/// # Errors
/// The ring, the server or the clients could not be set up.
pub fn run(
    base: &WebsocketConfig,
    ring_base: &RingConfig,
    opts: &BenchOptions,
) -> Result<BenchReport, BenchError> {
    let ring = RingConfig {
        name: format!("wsbench-{}", std::process::id()),
        dir: std::env::temp_dir(),
        capacity: 1 << 18,
        max_batch: 1024,
        ..ring_base.clone()
    };
    let mut producer = load::Load::create(&ring, opts.symbols)?;
    let cfg = WebsocketConfig {
        listen: "127.0.0.1:0".into(),
        consumer_name: format!("wsbench-{}", std::process::id()),
        max_connections: opts.clients + 16,
        max_subscriptions: base.max_subscriptions.max(opts.per_client + 1),
        control_queue: base.control_queue.max(base.max_subscriptions.max(opts.per_client + 1) + 16),
        ..base.clone()
    };
    let server = Server::start(cfg, ring.clone(), Default::default(), None)?;
    producer.wait_attached(&ring, &format!("wsbench-{}", std::process::id()))?;
    let mut fleet = clients::Fleet::connect(server.local_addr(), opts)?;
    let mut report = BenchReport::new("websocket");
    let mut held = None;
    for &rate in &opts.rates {
        let r = step(
            &mut producer,
            &mut fleet,
            rate,
            opts,
            &format!("in={rate}/s clients={}", opts.clients),
        );
        if r.p99_ns < opts.p99_target.as_nanos() as u64 && r.received > 0 {
            held = Some(rate);
        }
        report.results.push(r);
    }
    let frozen_rate = held.map_or(opts.frozen_rate, |h| h.min(opts.frozen_rate));
    let base_run = step(
        &mut producer,
        &mut fleet,
        frozen_rate,
        opts,
        &format!("in={frozen_rate}/s clients={} (baseline)", opts.clients),
    );
    fleet.add_frozen(opts)?;
    let frozen_run = step(
        &mut producer,
        &mut fleet,
        frozen_rate,
        opts,
        &format!("in={frozen_rate}/s clients={} +1 frozen", opts.clients),
    );
    report.highest_rate_held = held;
    report.frozen_effect = Some((base_run.p99_ns, frozen_run.p99_ns));
    report.results.push(base_run);
    report.results.push(frozen_run);
    report.server_stats = Some(server.stats());
    fleet.stop();
    server.shutdown();
    drop(producer);
    let _ = std::fs::remove_file(ring.segment_path());
    let _ = std::fs::remove_file(ring.lock_path());
    Ok(report)
}

fn step(
    producer: &mut load::Load,
    fleet: &mut clients::Fleet,
    rate: u64,
    opts: &BenchOptions,
    name: &str,
) -> BenchResult {
    producer.run_for(rate, opts.warmup);
    fleet.reset();
    let sent = producer.run_for(rate, opts.duration);
    // Let in-flight messages land before reading the counters.
    std::thread::sleep(Duration::from_millis(100));
    let (hist, received) = fleet.take();
    BenchResult::from_histogram(name, &hist, received, sent, opts.duration)
}
