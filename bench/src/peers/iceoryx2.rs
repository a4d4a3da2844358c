//! `iceoryx2-ipc`: iceoryx2 publish/subscribe between two real processes.
//!
//! The subscriber (consumer) runs in this process on a thread pinned to the consumer core; the publisher
//! (producer) is this same program started again through [`RingBenchConfig::child`], pinned to the
//! producer core. One child process per phase, driven over its standard input: it creates its publisher,
//! waits for `start` (sent once the subscriber has connected to that publisher), sends, then stays until
//! the parent closes the pipe (a gone publisher's samples are not delivered). The service is lossless: no safe overflow, and the
//! publisher retries until delivered when the subscriber's buffer is full. iceoryx2 has no batch send, so
//! the flat-out phase sends sample by sample (loan, write, send) with one clock stamp per batch.
//!
//! The hop measured is loan + stamp + write + send in the child, then receive + read + release here.

use super::child::ChildProcess;
use super::pair::{batches, paced_producer, Deadline, LatencyRecorder, ThroughputRecorder};
use super::Peer;
use crate::affinity::pin_current_thread;
use crate::clock::now_ns;
use crate::message::Message;
use crate::report::Measurement;
use crate::ring_scenario::{ChildLauncher, RingBenchConfig};
use anyhow::{anyhow, bail, Context, Result};
use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::prelude::*;
use iceoryx2::service::port_factory::publish_subscribe::PortFactory;
use iceoryx2::service::port_factory::PortFactory as _;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::io::{BufRead, Read};

/// Row name; also the child-process peer name.
pub const NAME: &str = "iceoryx2-ipc";

/// The payload on the wire: a [`Message`] as eight words (iceoryx2 ships plain arrays of integers
/// without any derive).
type Payload = [u64; 8];

/// Which phase a child process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// `total` paced messages, `gap_ns` apart.
    Latency,
    /// `total` messages flat out, stamped once per `batch`.
    Throughput,
}

/// What the parent tells its child publisher (passed as JSON on the command line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildSpec {
    /// iceoryx2 service name, unique per run.
    pub service: String,
    pub phase: Phase,
    /// Messages to send, warm-up included.
    pub total: u64,
    pub gap_ns: u64,
    pub batch: u64,
    /// Subscriber buffer size the service was created with.
    pub capacity: usize,
    /// Core to pin the publisher to.
    pub core: usize,
}

/// The iceoryx2 peer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Iceoryx2Peer;

impl Peer for Iceoryx2Peer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn measure(&self, cfg: &RingBenchConfig) -> Result<Measurement> {
        let launcher = cfg.child.clone().context(
            "iceoryx2-ipc needs a child launcher (RingBenchConfig::child) to start its publisher",
        )?;
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("bench-iox2-sub".into())
                .spawn_scoped(s, || {
                    pin_current_thread(cfg.consumer_core)?;
                    subscriber_side(cfg, &launcher)
                })
                .context("spawning the subscriber thread")?
                .join()
                .map_err(|_| anyhow!("the subscriber thread panicked"))?
        })
    }

    fn run_child(&self, spec: &str) -> Result<()> {
        let spec: ChildSpec = serde_json::from_str(spec).context("parsing the child spec")?;
        publisher_side(&spec)
    }
}

/// Turns an iceoryx2 error (which is `Debug` but not always `std::error::Error + Send + Sync`) into anyhow.
fn ix<T, E: Debug>(what: &str, r: Result<T, E>) -> Result<T> {
    r.map_err(|e| anyhow!("iceoryx2: {what}: {e:?}"))
}

fn node() -> Result<Node<ipc::Service>> {
    set_log_level(LogLevel::Warn);
    ix(
        "creating a node",
        NodeBuilder::new()
            // The built-in defaults, stated, rather than a search for a config file that is not there.
            .config(&Config::default())
            .signal_handling_mode(SignalHandlingMode::Disabled)
            .create::<ipc::Service>(),
    )
}

fn service(
    node: &Node<ipc::Service>,
    name: &str,
    capacity: usize,
    create: bool,
) -> Result<PortFactory<ipc::Service, Payload, ()>> {
    let service_name: ServiceName = ix("service name", name.try_into())?;
    let builder = node
        .service_builder(&service_name)
        .publish_subscribe::<Payload>()
        .max_publishers(1)
        .max_subscribers(1)
        .history_size(0)
        .subscriber_max_buffer_size(capacity)
        .enable_safe_overflow(false);
    if create {
        ix("creating the service", builder.create())
    } else {
        ix("opening the service", builder.open())
    }
}

fn spawn(launcher: &ChildLauncher, spec: &ChildSpec) -> Result<ChildProcess> {
    ChildProcess::spawn(launcher, NAME, &serde_json::to_string(spec)?, false)
}

/// Polls `subscriber` until `on_message(message, read_ns)` says it has everything, watching the child and
/// the deadline. `read_ns` is read right after the payload is copied out, before the sample is released.
fn consume(
    subscriber: &Subscriber<ipc::Service, Payload, ()>,
    child: &mut ChildProcess,
    cfg: &RingBenchConfig,
    mut on_message: impl FnMut(&Message, u64) -> Result<bool>,
) -> Result<()> {
    let deadline = Deadline::after(cfg.timeout);
    let mut idle: u32 = 0;
    loop {
        match ix("receiving", subscriber.receive())? {
            Some(sample) => {
                let m = Message::from_words(*sample.payload());
                let read_ns = now_ns();
                drop(sample);
                if on_message(&m, read_ns)? {
                    return Ok(());
                }
            }
            None => {
                std::hint::spin_loop();
                idle = idle.wrapping_add(1);
                if idle.is_multiple_of(4096) {
                    deadline.check(NAME)?;
                    // The child stays until told everything arrived, so any exit now is early.
                    if child.exited()? {
                        bail!("the publisher process exited before everything arrived");
                    }
                }
            }
        }
    }
}

/// Waits until the child's publisher is registered, connects the subscriber to it, then lets the child
/// send. Samples sent before the subscriber has connected are dropped by iceoryx2 once the queue is
/// full (it will not block a sender on a receiver that is not there), so the child must not start earlier.
fn connect_and_start(
    service: &PortFactory<ipc::Service, Payload, ()>,
    subscriber: &Subscriber<ipc::Service, Payload, ()>,
    child: &mut ChildProcess,
    cfg: &RingBenchConfig,
) -> Result<()> {
    let deadline = Deadline::after(cfg.timeout);
    while service.dynamic_config().number_of_publishers() == 0 {
        if child.exited()? {
            bail!("the publisher process exited before its publisher appeared");
        }
        deadline.check("waiting for the iceoryx2 publisher")?;
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
    ix("connecting to the publisher", subscriber.update_connections())?;
    child.start()
}

fn subscriber_side(cfg: &RingBenchConfig, launcher: &ChildLauncher) -> Result<Measurement> {
    let node = node()?;
    let name = format!("tickring/bench/{}/{}", std::process::id(), now_ns());
    let service = service(&node, &name, cfg.capacity, true)?;
    let subscriber = ix(
        "creating the subscriber",
        service.subscriber_builder().buffer_size(cfg.capacity).create(),
    )?;
    let spec = |phase, total| ChildSpec {
        service: name.clone(),
        phase,
        total,
        gap_ns: cfg.gap_ns,
        batch: cfg.batch,
        capacity: cfg.capacity,
        core: cfg.producer_core,
    };

    let mut latency = LatencyRecorder::new(cfg.warmup_messages, cfg.latency_messages);
    let mut child = spawn(launcher, &spec(Phase::Latency, latency.total()))?;
    connect_and_start(&service, &subscriber, &mut child, cfg)?;
    consume(&subscriber, &mut child, cfg, |m, read_ns| {
        latency.on_message(m, read_ns)?;
        Ok(latency.is_done())
    })
    .context("latency phase")?;
    child.wait()?;

    let mut throughput = ThroughputRecorder::new(cfg.throughput_messages);
    let mut child = spawn(launcher, &spec(Phase::Throughput, cfg.throughput_messages))?;
    connect_and_start(&service, &subscriber, &mut child, cfg)?;
    consume(&subscriber, &mut child, cfg, |m, _| {
        throughput.on_message(m)?;
        Ok(throughput.is_done())
    })
    .context("throughput phase")?;
    child.wait()?;

    Ok(Measurement {
        name: NAME.to_owned(),
        latency: latency.into_histogram(),
        throughput: throughput.finish(),
    })
}

fn publisher_side(spec: &ChildSpec) -> Result<()> {
    pin_current_thread(spec.core)?;
    let node = node()?;
    let service = service(&node, &spec.service, spec.capacity, false)?;
    let publisher = ix(
        "creating the publisher",
        service
            .publisher_builder()
            .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
            .create(),
    )?;
    // Wait for the parent's go: it has connected its subscriber to this publisher.
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("waiting for the start signal")?;
    if line.trim_end() != "start" {
        // The parent closed the pipe without starting us: it gave up, so do we.
        bail!("no start signal from the subscriber (got {line:?})");
    }
    match spec.phase {
        Phase::Latency => paced_producer(spec.total, spec.gap_ns, |seq| {
            let sample = ix("loaning a sample", publisher.loan_uninit())?;
            let stamp = now_ns();
            ix("sending", sample.write_payload(Message::new(seq, stamp).to_words()).send())?;
            Ok(stamp)
        }),
        Phase::Throughput => {
            for (first, len) in batches(spec.total, spec.batch) {
                let stamp = now_ns();
                for seq in first..first + len {
                    send(&publisher, Message::new(seq, stamp))?;
                }
            }
            Ok(())
        }
    }?;
    // Samples of a publisher that is gone are not delivered, so stay until the parent has them all: it
    // closes our standard input then.
    std::io::stdin()
        .read_to_end(&mut Vec::new())
        .context("waiting for the subscriber to finish")?;
    Ok(())
}

#[inline]
fn send(publisher: &Publisher<ipc::Service, Payload, ()>, m: Message) -> Result<()> {
    let sample = ix("loaning a sample", publisher.loan_uninit())?;
    ix("sending", sample.write_payload(m.to_words()).send())?;
    Ok(())
}
