//! TickStream against a real ring and a real journal: joins, catch-up, lapping, takeover.

use std::time::Duration;
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{Producer, RingConfig};
use tickring_journal::{FsyncPolicy, JournalConfig, JournalWriter};
use tickring_sink_core::{Event, Position, ReadingFrom, Start, StreamConfig, TickStream};

struct Feed {
    producer: Producer<Tick, InstrumentEntry>,
    journal: JournalWriter<Tick, InstrumentEntry>,
}

impl Feed {
    fn start(cfg: &StreamConfig) -> Self {
        let producer = Producer::create(&cfg.ring).expect("producer");
        let journal =
            JournalWriter::open(&cfg.journal, &cfg.ring.name, producer.epoch()).expect("journal");
        Self { producer, journal }
    }

    /// Publishes ticks numbered by their sequence, journal first as ingest does.
    fn publish(&mut self, n: u64) {
        let first = self.producer.head();
        let batch: Vec<Tick> = (first..first + n).map(tick).collect();
        self.journal.append(first, &batch).expect("journal append");
        self.producer.publish_batch(&batch);
    }

    /// Journals ticks the ring never got (ingest killed between the two).
    fn journal_only(&mut self, n: u64) {
        let first = self.journal.head();
        let batch: Vec<Tick> = (first..first + n).map(tick).collect();
        self.journal.append(first, &batch).expect("journal append");
    }

    fn epoch(&self) -> u64 {
        self.producer.epoch()
    }
}

fn tick(seq: u64) -> Tick {
    let mut t: Tick = bytemuck::Zeroable::zeroed();
    t.trade_id = seq;
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
            Event::Ticks { epoch: e, first_seq, ticks } => {
                assert_eq!(e, epoch);
                assert_eq!(first_seq, next, "no gap, no duplicate");
                for t in ticks {
                    assert_eq!(t.trade_id, next);
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
    let mut feed = Feed::start(&cfg);
    feed.publish(5_000); // far more than the ring holds
    let epoch = feed.epoch();
    let mut stream = TickStream::new(cfg, Start::At(Position { epoch, seq: 0 }));
    assert!(matches!(
        stream.next(Duration::ZERO).expect("first"),
        Event::NewEpoch { epoch: e, previous: None } if e == epoch
    ));
    let (from, _) = read_epoch(&mut stream, epoch, 0, 5_000);
    assert_eq!(from.first(), Some(&ReadingFrom::Journal));
    settle(&mut stream);
    assert_eq!(stream.reading_from(), ReadingFrom::Ring, "back on the ring once caught up");
    feed.publish(300);
    let (from, _) = read_epoch(&mut stream, epoch, 5_000, 300);
    assert!(from.iter().all(|f| *f == ReadingFrom::Ring), "{from:?}");
}

#[test]
fn a_lapped_sink_loses_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), "lapped", 256);
    let mut feed = Feed::start(&cfg);
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
    let mut feed = Feed::start(&cfg);
    let old = feed.epoch();
    feed.publish(3_000);
    feed.journal_only(7); // journaled, never published: killed in between
    let mut stream = TickStream::new(cfg.clone(), Start::At(Position { epoch: old, seq: 100 }));
    assert!(matches!(stream.next(Duration::ZERO).expect("first"), Event::NewEpoch { .. }));
    let (_, next) = read_epoch(&mut stream, old, 100, 1_000);
    drop(feed); // the producer dies with the sink behind
    let mut feed = Feed::start(&cfg);
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
}
