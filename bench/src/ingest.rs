//! The `ingest` scenario: feed messages decoded, mapped, classified and published into a real shared-memory
//! ring on one pinned core, per second; plus the cost of the session lookup alone.
//!
//! Rows: `lseg-json` (LSEG Update frames with a realistic field set), `jsonl` (canonical tick lines) and
//! `session-lookup` (the cached per-exchange session clock). Latencies are per message, averaged over
//! batches of [`BATCH`] (one clock read per batch keeps the clock out of the measured cost).
//!
//! Two more rows answer where a feed connection's frames should be decoded when several connections feed
//! one publisher through the in-process disruptor: `fanin-decode-in-feed` (the feed thread decodes, the
//! publisher classifies and publishes: [`FanIn`]) and `fanin-decode-on-publisher` (the feed thread hands
//! raw frames over, the pinned publisher decodes them too). Their latency column is the publisher's cost
//! per message; compare their throughput.

use crate::affinity::pin_current_thread;
use crate::clock::now_ns;
use crate::histogram::LatencyHistogram;
use crate::report::{Measurement, Report, Throughput};
use crate::ring_scenario::RingRun;
use anyhow::{Context, Result};
use std::sync::Arc;
use tickring_engine::calendar::Calendars;
use tickring_engine::feed::lseg::{FeedEvent, LsegSession};
use tickring_engine::feed::replay::CanonicalReader;
use tickring_engine::feed::{Counters, SourceError};
use tickring_engine::feed::{FeedItem, Poll, Quarantine, TradeSource};
use tickring_engine::ingest::{Classifier, FanIn, Publisher};
use tickring_engine::{mapping, Exchange, InstrumentEntry, Tick};
use tickring_ipc::{Producer, RingConfig, WaitStrategy};

/// Messages per timed batch (and per ring publish).
pub const BATCH: usize = 64;
const SYMBOLS: usize = 100;
/// 2026-07-15 13:30 UTC (09:30 New York), ns.
const OPEN_NS: u64 = 1_784_122_200_000_000_000;

#[derive(Clone, Copy, Debug)]
pub struct IngestBenchConfig {
    pub messages: usize,
    pub core: usize,
}

impl IngestBenchConfig {
    pub fn full() -> Self {
        Self { messages: 2_000_000, core: 0 }
    }

    pub fn quick() -> Self {
        Self { messages: 200_000, core: 0 }
    }
}

/// Runs the three rows on the calling thread, pinned to `cfg.core`.
///
/// # Errors
/// Pinning, ring creation or calendar loading failed.
pub fn run_ingest(cfg: &IngestBenchConfig) -> Result<RingRun> {
    pin_current_thread(cfg.core)?;
    let calendars = Calendars::builtin().context("loading calendars")?;
    let measurements = vec![
        lseg_json(cfg, &calendars)?,
        jsonl(cfg, &calendars)?,
        session_lookup(cfg, &calendars)?,
        fanin_decode_in_feed(cfg, &calendars)?,
        fanin_decode_on_publisher(cfg, &calendars)?,
    ];
    let results = measurements.iter().map(crate::report::BenchResult::from_measurement).collect();
    Ok(RingRun {
        report: Report::new("ingest", results, "lseg-json"),
        measurements,
        failures: Vec::new(),
    })
}

/// A publisher into a private ring that nobody gates, so publishing never waits.
fn publisher(calendars: &Calendars, tag: &str) -> Result<(Publisher<std::io::Sink>, RingConfig)> {
    let ring = RingConfig {
        name: format!("bench-ingest-{tag}-{}", std::process::id()),
        capacity: 1 << 16,
        producer_wait: WaitStrategy::BusySpin,
        ..RingConfig::default()
    };
    let producer =
        Producer::<Tick, InstrumentEntry>::create(&ring).context("creating the bench ring")?;
    let classifier = Classifier::new(calendars, Default::default());
    Ok((Publisher::new(producer, classifier, Quarantine::new(std::io::sink()), BATCH), ring))
}

fn remove(ring: &RingConfig) {
    let _ = std::fs::remove_file(ring.segment_path());
    let _ = std::fs::remove_file(ring.lock_path());
}

fn ric(i: usize) -> String {
    if i.is_multiple_of(2) {
        format!("SYM{i}.O")
    } else {
        format!("SYM{i}.N")
    }
}

/// An LSEG Update frame as the server sends it for a trade: price, size, three time fields, day totals.
fn lseg_frame(i: usize) -> String {
    let ms = 48_600_000 + i as u64 % 1_000_000;
    format!(
        r#"[{{"ID":{},"Type":"Update","UpdateType":"Trade","SeqNumber":{i},"Fields":{{"TRDPRC_1":189.{:02},"TRDVOL_1":{},"SALTIM":"13:30:00","SALTIM_MS":{ms},"SALTIM_NS":"{}","ACVOL_1":{},"NUM_MOVES":{i},"PRC_QL_CD":"0"}}}}]"#,
        3 + i % SYMBOLS,
        i % 100,
        100 + i % 500,
        time_of_day(ms, i),
        1_000_000 + i * 100
    )
}

fn time_of_day(ms: u64, i: usize) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}.{:03}{:06}", s / 3600, s / 60 % 60, s % 60, ms % 1000, i % 1_000_000)
}

fn lseg_json(cfg: &IngestBenchConfig, calendars: &Calendars) -> Result<Measurement> {
    let (mut publisher, ring) = publisher(calendars, "lseg")?;
    let mut session = LsegSession::new(Arc::new(mapping::builtin()));
    for s in 0..SYMBOLS {
        session.expect_item(3 + s as i64, &ric(s));
    }
    let frames: Vec<String> = (0..cfg.messages.min(100_000)).map(lseg_frame).collect();
    let recv = OPEN_NS;
    let mut latency = LatencyHistogram::new();
    let start = now_ns();
    let mut done = 0usize;
    while done < cfg.messages {
        let t0 = now_ns();
        let n = BATCH.min(cfg.messages - done);
        for k in 0..n {
            let frame = &frames[(done + k) % frames.len()];
            session.on_frame(frame, recv, &mut |e| {
                if let FeedEvent::Trade(t) = e {
                    publisher.on_item(FeedItem::Trade(t));
                }
            });
        }
        publisher.flush();
        record_batch(&mut latency, now_ns() - t0, n);
        done += n;
    }
    let elapsed = now_ns() - start;
    let published = publisher.counters().published;
    remove(&ring);
    anyhow::ensure!(
        published == cfg.messages as u64,
        "published {published} of {} frames",
        cfg.messages
    );
    Ok(Measurement {
        name: "lseg-json".into(),
        latency,
        throughput: Throughput { messages: published, elapsed_ns: elapsed },
    })
}

fn jsonl(cfg: &IngestBenchConfig, calendars: &Calendars) -> Result<Measurement> {
    let (mut publisher, ring) = publisher(calendars, "jsonl")?;
    let mut text = String::new();
    for i in 0..cfg.messages {
        text.push_str(&format!(
            r#"{{"symbol":"{}","ts":{},"price":"189.{:02}","size":{},"exchange":"XNAS","trade_id":{i}}}"#,
            ric(i % SYMBOLS),
            OPEN_NS + i as u64 * 1000,
            i % 100,
            100 + i % 500
        ));
        text.push('\n');
    }
    let mut reader = CanonicalReader::new(std::io::Cursor::new(text.into_bytes()));
    let mut latency = LatencyHistogram::new();
    let start = now_ns();
    loop {
        let t0 = now_ns();
        let mut n = 0;
        let poll = reader.next_batch(BATCH, &mut |item| {
            n += 1;
            publisher.on_item(item);
        })?;
        publisher.flush();
        if n > 0 {
            record_batch(&mut latency, now_ns() - t0, n);
        }
        if poll == Poll::End {
            break;
        }
    }
    let elapsed = now_ns() - start;
    let published = publisher.counters().published;
    remove(&ring);
    anyhow::ensure!(
        published == cfg.messages as u64,
        "published {published} of {} lines",
        cfg.messages
    );
    Ok(Measurement {
        name: "jsonl".into(),
        latency,
        throughput: Throughput { messages: published, elapsed_ns: elapsed },
    })
}

fn session_lookup(cfg: &IngestBenchConfig, calendars: &Calendars) -> Result<Measurement> {
    let mut clock = calendars.clock(Exchange::Xnys).context("XNYS calendar")?;
    let mut latency = LatencyHistogram::new();
    let mut sessions = 0u64;
    let start = now_ns();
    let mut ts = OPEN_NS as i64;
    for _ in 0..cfg.messages / BATCH {
        let t0 = now_ns();
        for _ in 0..BATCH {
            ts += 250_000; // a trade every 250 us, crossing into the post session and the next day
            sessions += clock.classify(std::hint::black_box(ts)).session as u64;
        }
        record_batch(&mut latency, now_ns() - t0, BATCH);
    }
    std::hint::black_box(sessions);
    let elapsed = now_ns() - start;
    let lookups = (cfg.messages / BATCH * BATCH) as u64;
    Ok(Measurement {
        name: "session-lookup".into(),
        latency,
        throughput: Throughput { messages: lookups, elapsed_ns: elapsed },
    })
}

/// Records the per-message average of a batch once per message, so percentiles weigh messages equally.
fn record_batch(h: &mut LatencyHistogram, batch_ns: u64, n: usize) {
    let per = batch_ns / n.max(1) as u64;
    for _ in 0..n {
        h.record(per.max(1));
    }
}

fn frames(cfg: &IngestBenchConfig) -> Arc<Vec<String>> {
    Arc::new((0..cfg.messages.min(100_000)).map(lseg_frame).collect())
}

fn lseg_session() -> LsegSession {
    let mut session = LsegSession::new(Arc::new(mapping::builtin()));
    for s in 0..SYMBOLS {
        session.expect_item(3 + s as i64, &ric(s));
    }
    session
}

/// A feed connection replaying frames from memory, decoding them itself.
struct DecodingFeed {
    session: LsegSession,
    frames: Arc<Vec<String>>,
    next: usize,
    total: usize,
}

impl TradeSource for DecodingFeed {
    fn next_batch(
        &mut self,
        max: usize,
        sink: &mut dyn FnMut(FeedItem),
    ) -> Result<Poll, SourceError> {
        if self.next >= self.total {
            return Ok(Poll::End);
        }
        let n = max.min(self.total - self.next);
        for k in 0..n {
            let frame = &self.frames[(self.next + k) % self.frames.len()];
            self.session.on_frame(frame, OPEN_NS, &mut |e| {
                if let FeedEvent::Trade(t) = e {
                    sink(FeedItem::Trade(t));
                }
            });
        }
        self.next += n;
        Ok(Poll::Ready(n))
    }

    fn counters(&self) -> Counters {
        self.session.counters().clone()
    }

    fn name(&self) -> &'static str {
        "bench-decoding-feed"
    }
}

fn fanin_decode_in_feed(cfg: &IngestBenchConfig, calendars: &Calendars) -> Result<Measurement> {
    let (mut publisher, ring) = publisher(calendars, "fanin-feed")?;
    let feed =
        DecodingFeed { session: lseg_session(), frames: frames(cfg), next: 0, total: cfg.messages };
    let mut fan =
        FanIn::start(vec![Box::new(feed)], 4096, BATCH).context("starting the feed thread")?;
    let mut latency = LatencyHistogram::new();
    let start = now_ns();
    loop {
        let t0 = now_ns();
        let poll = fan.next_batch(BATCH, &mut |item| publisher.on_item(item))?;
        publisher.flush();
        match poll {
            Poll::Ready(n) => record_batch(&mut latency, now_ns() - t0, n),
            Poll::Idle => std::hint::spin_loop(),
            Poll::End => break,
        }
    }
    let elapsed = now_ns() - start;
    let published = publisher.counters().published;
    remove(&ring);
    anyhow::ensure!(published == cfg.messages as u64, "published {published} of {}", cfg.messages);
    Ok(Measurement {
        name: "fanin-decode-in-feed".into(),
        latency,
        throughput: Throughput { messages: published, elapsed_ns: elapsed },
    })
}

fn fanin_decode_on_publisher(
    cfg: &IngestBenchConfig,
    calendars: &Calendars,
) -> Result<Measurement> {
    use disruptor::{build_single_producer, BusySpin, Polling, Producer as _};
    let (mut publisher, ring) = publisher(calendars, "fanin-pub")?;
    let frames = frames(cfg);
    let mut session = lseg_session();
    // The slot carries a handle to a received frame (its index), as a feed thread would pass its buffer.
    let (mut poller, builder) =
        build_single_producer(4096, || usize::MAX, BusySpin).new_event_poller();
    let mut producer = builder.build();
    let total = cfg.messages;
    let feed = std::thread::Builder::new().name("feed-raw".into()).spawn(move || {
        for i in 0..total {
            producer.publish(|slot| *slot = i);
        }
    })?;
    let mut latency = LatencyHistogram::new();
    let start = now_ns();
    let mut done = 0usize;
    while done < total {
        let t0 = now_ns();
        let mut n = 0;
        match poller.take(BATCH as u64) {
            Ok(mut events) => {
                for &i in &mut events {
                    session.on_frame(&frames[i % frames.len()], OPEN_NS, &mut |e| {
                        if let FeedEvent::Trade(t) = e {
                            publisher.on_item(FeedItem::Trade(t));
                        }
                    });
                    n += 1;
                }
            }
            Err(Polling::NoEvents) => std::hint::spin_loop(),
            Err(Polling::Shutdown) => break,
        }
        publisher.flush();
        if n > 0 {
            record_batch(&mut latency, now_ns() - t0, n);
            done += n;
        }
    }
    let elapsed = now_ns() - start;
    feed.join().map_err(|_| anyhow::anyhow!("the feed thread panicked"))?;
    let published = publisher.counters().published;
    remove(&ring);
    anyhow::ensure!(published == cfg.messages as u64, "published {published} of {}", cfg.messages);
    Ok(Measurement {
        name: "fanin-decode-on-publisher".into(),
        latency,
        throughput: Throughput { messages: published, elapsed_ns: elapsed },
    })
}
