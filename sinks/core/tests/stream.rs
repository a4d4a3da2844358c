//! TickStream against a real ring and a real journal: joins, catch-up, lapping, takeover.

use std::time::Duration;
use tickring_engine::{Exchange, InstrumentEntry, Tick};
use tickring_ipc::{Producer, RingConfig};
use tickring_journal::{FsyncPolicy, JournalConfig, JournalWriter};
use tickring_sink_core::{Event, Position, ReadingFrom, Start, StreamConfig, TickStream};

struct Feed {
    producer: Producer<Tick, InstrumentEntry>,
    journal: JournalWriter<Tick, InstrumentEntry>,
    /// Directory index of AAPL.O in this epoch.
    aapl: u32,
}

impl Feed {
    /// A producer whose directory holds `symbols` (in that order); every tick is on AAPL.O.
    fn start(cfg: &StreamConfig, symbols: &[(&str, Exchange)]) -> Self {
        let mut producer = Producer::create(&cfg.ring).expect("producer");
        let mut journal =
            JournalWriter::open(&cfg.journal, &cfg.ring.name, producer.epoch()).expect("journal");
        for (sym, ex) in symbols {
            let entry = InstrumentEntry::new(sym, *ex).expect("entry");
            let index = producer.push_entry(&entry).expect("directory");
            journal.push_entry(index, &entry).expect("journal directory");
        }
        let aapl = symbols.iter().position(|(s, _)| *s == "AAPL.O").expect("AAPL.O") as u32;
        Self { producer, journal, aapl }
    }

    /// Publishes ticks numbered by their sequence, journal first as ingest does.
    fn publish(&mut self, n: u64) {
        let first = self.producer.head();
        let batch: Vec<Tick> = (first..first + n).map(|s| tick(s, self.aapl)).collect();
        self.journal.append(first, &batch).expect("journal append");
        self.producer.publish_batch(&batch);
    }

    /// Journals ticks the ring never got (ingest killed between the two).
    fn journal_only(&mut self, n: u64) {
        let first = self.journal.head();
        let batch: Vec<Tick> = (first..first + n).map(|s| tick(s, self.aapl)).collect();
        self.journal.append(first, &batch).expect("journal append");
    }

    fn epoch(&self) -> u64 {
        self.producer.epoch()
    }
}

const AAPL: &[(&str, Exchange)] = &[("AAPL.O", Exchange::Xnas)];

fn tick(seq: u64, instrument_id: u32) -> Tick {
    let mut t: Tick = bytemuck::Zeroable::zeroed();
    t.trade_id = seq;
    t.instrument_id = instrument_id;
    t.ts_event_ns = 1_700_000_000_000_000_000 + seq;
    t
}

fn config(dir: &std::path::Path, name: &str, capacity: u64) -> StreamConfig {
    std::fs::create_dir_all(dir.join("shm")).expect("ring folder");
    StreamConfig {
        ring: RingConfig {
            name: name.into(),
            dir: dir.join("shm"),
            capacity,
            max_batch: 128,
            ..RingConfig::default()
        },
        journal: JournalConfig {
            dir: dir.join("journal"),
            fsync: FsyncPolicy::Never,
            segment_bytes: 64 << 10,
            retention_bytes: 0,
            retention_hours: 0,
            ..JournalConfig::default()
        },
        consumer: "test-sink".into(),
        max_batch: 100,
    }
}

/// Reads until ticks of `epoch` up to `from + want` arrived; checks each is the next sequence (no gap, no
/// duplicate). Returns where each batch came from and the next sequence.
fn read_epoch(
    stream: &mut TickStream,
    epoch: u64,
    from: u64,
    want: u64,
) -> (Vec<ReadingFrom>, u64) {
    let mut next = from;
    let mut seen_from = Vec::new();
    let mut idle = 0;
    while next < from + want {
        match stream.next(Duration::from_millis(20)).expect("next") {
            Event::Ticks { epoch: e, first_seq, ticks, instruments } => {
                assert_eq!(e, epoch);
                assert_eq!(first_seq, next, "no gap, no duplicate");
                let aapl = instruments.instruments_of("AAPL.O");
                for t in ticks {
                    assert_eq!(t.trade_id, next);
                    assert_eq!(Some(t.instrument_id), aapl, "resolved to the sink's id of AAPL.O");
                    next += 1;
                }
                seen_from.push(stream.reading_from());
                idle = 0;
            }
            Event::Idle => {
                idle += 1;
                assert!(idle < 500, "stuck at {next}");
            }
            Event::NewEpoch { epoch: e, .. } => assert_eq!(e, epoch, "unexpected epoch change"),
            other => panic!("unexpected {other:?} at {next}"),
        }
    }
    (seen_from, next)
}

/// Where `tickring status` says the test's sink reads.
fn reads(ring: &RingConfig) -> &'static str {
    let status = tickring_ipc::RingStatus::read::<Tick, InstrumentEntry>(ring).expect("status");
    status.consumers.iter().find(|c| c.name == "test-sink").expect("the sink's slot").reading
}

/// Lets the stream notice it is caught up.
fn settle(stream: &mut TickStream) {
    for _ in 0..5 {
        assert!(matches!(stream.next(Duration::from_millis(5)).expect("next"), Event::Idle));
    }
}

#[test]
fn a_late_sink_catches_up_from_the_journal_then_reads_the_ring() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), "late", 1024);
    let mut feed = Feed::start(&cfg, AAPL);
    feed.publish(5_000); // far more than the ring holds
    let epoch = feed.epoch();
    let cfg_ring = cfg.ring.clone();
    let mut stream = TickStream::new(cfg, Start::At(Position { epoch, seq: 0 }));
    assert!(matches!(
        stream.next(Duration::ZERO).expect("first"),
        Event::NewEpoch { epoch: e, previous: None } if e == epoch
    ));
    let (from, next) = read_epoch(&mut stream, epoch, 0, 1_000);
    assert_eq!(from.first(), Some(&ReadingFrom::Journal));
    assert_eq!(reads(&cfg_ring), "journal", "status shows the sink catching up from the journal");
    read_epoch(&mut stream, epoch, next, 5_000 - next);
    settle(&mut stream);
    assert_eq!(stream.reading_from(), ReadingFrom::Ring, "back on the ring once caught up");
    feed.publish(300);
    let (from, _) = read_epoch(&mut stream, epoch, 5_000, 300);
    assert!(from.iter().all(|f| *f == ReadingFrom::Ring), "{from:?}");
    assert_eq!(reads(&cfg_ring), "ring");
}

#[test]
fn a_lapped_sink_loses_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), "lapped", 256);
    let mut feed = Feed::start(&cfg, AAPL);
    let epoch = feed.epoch();
    let mut stream = TickStream::new(cfg, Start::Latest);
    assert!(matches!(stream.next(Duration::ZERO).expect("first"), Event::NewEpoch { .. }));
    let mut next = 0;
    for round in 0..20 {
        feed.publish(1_000 + round); // laps the 256-record ring every round
        next = read_epoch(&mut stream, epoch, next, 1_000 + round).1;
    }
}

#[test]
fn after_a_takeover_the_old_epoch_is_finished_from_the_journal() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), "takeover", 1024);
    let mut feed = Feed::start(&cfg, AAPL);
    let old = feed.epoch();
    feed.publish(3_000);
    feed.journal_only(7); // journaled, never published: killed in between
    let mut stream = TickStream::new(cfg.clone(), Start::At(Position { epoch: old, seq: 100 }));
    assert!(matches!(stream.next(Duration::ZERO).expect("first"), Event::NewEpoch { .. }));
    let (_, next) = read_epoch(&mut stream, old, 100, 1_000);
    drop(feed); // the producer dies with the sink behind
                // The restarted producer numbers its instruments differently.
    let mut feed = Feed::start(&cfg, &[("7203.T", Exchange::Xtks), ("AAPL.O", Exchange::Xnas)]);
    let new = feed.epoch();
    assert!(new > old, "epochs grow with time");
    feed.publish(500);
    let (_, next) = read_epoch(&mut stream, old, next, 3_007 - next);
    assert_eq!(next, 3_007, "every journaled tick of the old epoch, the unpublished ones too");
    let mut changed = false;
    for _ in 0..100 {
        match stream.next(Duration::from_millis(10)).expect("next") {
            Event::NewEpoch { epoch, previous } => {
                assert_eq!((epoch, previous), (new, Some(old)));
                changed = true;
                break;
            }
            Event::Idle => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(changed, "moved to the new epoch");
    read_epoch(&mut stream, new, 0, 500);
    assert_eq!(stream.instruments().len(), 2);
}

#[test]
fn feed_gaps_arrive_where_they_happened_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), "feedgap", 1024);
    let mut feed = Feed::start(&cfg, AAPL);
    let epoch = feed.epoch();
    feed.publish(150);
    let gap = tickring_journal::FeedGap { seq: 150, from_ns: 10, to_ns: 20, connection: 2 };
    feed.journal.record_feed_gap(gap).expect("journal");
    feed.publish(100);
    let mut stream = TickStream::new(cfg, Start::At(Position { epoch, seq: 0 }));
    let mut seen = Vec::new();
    let mut next = 0;
    for _ in 0..200 {
        match stream.next(Duration::from_millis(5)).expect("next") {
            Event::Ticks { first_seq, ticks, .. } => {
                assert_eq!(first_seq, next);
                next += ticks.len() as u64;
            }
            Event::FeedGap { gap, .. } => seen.push((next, gap)),
            _ => {}
        }
    }
    assert_eq!(next, 250);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].0 >= 150, "announced once the ticks before it were read: {seen:?}");
    assert_eq!(seen[0].1, gap);
}

#[test]
fn ticks_naming_no_directory_entry_are_kept_under_a_placeholder_and_counted() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), "damaged", 1024);
    let mut feed = Feed::start(&cfg, AAPL);
    let epoch = feed.epoch();
    // Index 7 has no directory entry: a damaged journal or a faulty producer.
    let batch: Vec<Tick> =
        (0..300).map(|s| tick(s, if s % 3 == 0 { 7 } else { feed.aapl })).collect();
    feed.journal.append(0, &batch).expect("journal append");
    feed.producer.publish_batch(&batch);
    let mut stream = TickStream::new(cfg, Start::At(Position { epoch, seq: 0 }));
    let mut next = 0;
    while next < 300 {
        if let Event::Ticks { ticks, instruments, .. } =
            stream.next(Duration::from_millis(20)).expect("next")
        {
            for t in ticks {
                let (symbol, mic) = instruments.name(t.instrument_id);
                let want = if next % 3 == 0 { format!("?{epoch}:7") } else { "AAPL.O".to_string() };
                assert_eq!(symbol, want, "tick {next}");
                if next % 3 == 0 {
                    assert_eq!(mic, Exchange::Unknown.mic());
                }
                next += 1;
            }
        }
    }
    assert_eq!(stream.unresolved_ticks(), 100, "every damaged tick counted");
    assert_eq!(stream.instruments().len(), 2, "one placeholder for the index, not one per tick");
}

#[test]
fn after_a_clean_stop_the_next_producers_ring_is_followed() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), "restart", 1024);
    let mut feed = Feed::start(&cfg, AAPL);
    let first = feed.epoch();
    feed.publish(200);
    let mut stream = TickStream::new(cfg.clone(), Start::At(Position { epoch: first, seq: 0 }));
    assert!(matches!(stream.next(Duration::ZERO).expect("first"), Event::NewEpoch { .. }));
    read_epoch(&mut stream, first, 0, 200);
    settle(&mut stream);
    drop(feed); // a clean stop: the ring is closed, then removed once nobody is behind
    let mut closed = false;
    for _ in 0..50 {
        match stream.next(Duration::from_millis(10)).expect("next") {
            Event::Closed => closed = true,
            Event::Idle => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(closed, "the stop is reported");
    assert!(!cfg.ring.segment_path().exists(), "nothing left in the ring folder");
    // A new producer creates the ring afresh (nothing to take over) under a new epoch.
    let mut feed = Feed::start(&cfg, &[("7203.T", Exchange::Xtks), ("AAPL.O", Exchange::Xnas)]);
    let second = feed.epoch();
    feed.publish(300);
    let mut moved = false;
    for _ in 0..200 {
        match stream.next(Duration::from_millis(10)).expect("next") {
            Event::NewEpoch { epoch, previous } => {
                assert_eq!((epoch, previous), (second, Some(first)));
                moved = true;
                break;
            }
            Event::Idle | Event::Closed => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(moved, "moved to the new producer's epoch");
    read_epoch(&mut stream, second, 0, 300);
}
