//! Behaviour of one ring inside one process: ordering, batches, errors, resume, lapping, takeover.

mod common;

use common::{cleanup, config, opts, Rec};
use tickring_ipc::{
    Consumer, ConsumerPolicy::*, Full, Gap, GapCause, Producer, Read, Record, RingConfig,
    RingError, RingStatus,
};

fn drain(c: &mut Consumer<Rec>) -> Vec<u64> {
    let (seen, gap) = drain_until_gap(c);
    assert_eq!(gap, None, "unexpected gap");
    seen
}

fn drain_until_gap(c: &mut Consumer<Rec>) -> (Vec<u64>, Option<Gap>) {
    let mut seen = Vec::new();
    loop {
        match c.poll().expect("poll") {
            Read::Batch(b) => {
                seen.extend(b.records().iter().map(|r| {
                    assert!(r.is_intact(), "torn record {r:?}");
                    r.seq
                }));
                b.commit().expect("intact");
            }
            Read::Gap(g) => return (seen, Some(g)),
            Read::Empty | Read::Closed => return (seen, None),
        }
    }
}

fn publish_range(p: &mut Producer<Rec>, range: std::ops::Range<u64>) {
    let batch: Vec<Rec> = range.map(Rec::new).collect();
    p.publish_batch(&batch);
}

#[test]
fn gating_consumer_reads_everything_in_order_across_wraps() {
    let cfg = config(64);
    let mut p = Producer::<Rec>::create(&cfg).expect("create");
    let mut c = Consumer::<Rec>::attach(&cfg, opts("a", Gating)).expect("attach");
    let mut seen = Vec::new();
    for round in 0..20u64 {
        publish_range(&mut p, round * 50..round * 50 + 50);
        seen.extend(drain(&mut c));
    }
    assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    assert_eq!(c.cursor(), 1000);
    cleanup(&cfg);
}

#[test]
fn producer_is_held_back_by_gating_consumer_but_not_by_non_gating() {
    let cfg = config(16);
    let mut p = Producer::<Rec>::create(&cfg).expect("create");
    let mut lossy = Consumer::<Rec>::attach(&cfg, opts("lossy", NonGating)).expect("attach");
    publish_range(&mut p, 0..100); // nobody gates: never blocks
    let mut g = Consumer::<Rec>::attach(&cfg, opts("g", Gating)).expect("attach");
    assert_eq!(g.cursor(), 84, "Oldest starts at the oldest record still in the ring");
    assert_eq!(p.try_publish_batch(&[Rec::new(100)]), Err(Full { free: 0 }), "84 is unread");
    assert_eq!(drain(&mut g), (84..100).collect::<Vec<_>>());
    let batch: Vec<Rec> = (100..117).map(Rec::new).collect();
    assert!(p.try_publish_batch(&batch).is_err(), "17 would overwrite sequence 100 unread");
    p.try_publish_batch(&batch[..16]).expect("16 fit exactly");
    assert_eq!(drain(&mut g), (100..116).collect::<Vec<_>>());
    // The lossy reader was lapped: it reports exactly what it skipped and then reads intact records.
    match lossy.poll().expect("poll") {
        Read::Gap(gap) => {
            assert_eq!(gap.cause, GapCause::Lapped);
            assert_eq!(gap.missed, gap.resume_at);
            assert_eq!(gap.resume_at, 116 - 8);
        }
        other => panic!("expected a gap, got {other:?}"),
    }
    assert_eq!(drain(&mut lossy), (108..116).collect::<Vec<_>>());
    cleanup(&cfg);
}

#[test]
fn uncommitted_batch_is_read_again() {
    let cfg = config(64);
    let mut p = Producer::<Rec>::create(&cfg).expect("create");
    let mut c = Consumer::<Rec>::attach(&cfg, opts("a", Gating)).expect("attach");
    publish_range(&mut p, 0..10);
    match c.poll().expect("poll") {
        Read::Batch(b) => assert_eq!(b.records().len(), 10), // dropped without commit
        other => panic!("{other:?}"),
    }
    assert_eq!(drain(&mut c), (0..10).collect::<Vec<_>>());
    cleanup(&cfg);
}

#[test]
fn detached_consumer_resumes_from_its_cursor_or_reports_exactly_what_it_missed() {
    let cfg = config(32);
    let mut p = Producer::<Rec>::create(&cfg).expect("create");
    let mut c = Consumer::<Rec>::attach(&cfg, opts("sink", Gating)).expect("attach");
    publish_range(&mut p, 0..10);
    assert_eq!(drain(&mut c).len(), 10);
    drop(c);
    publish_range(&mut p, 10..30); // still fits: resume loses nothing
    let mut c = Consumer::<Rec>::attach(&cfg, opts("sink", Gating)).expect("re-attach");
    assert_eq!(c.cursor(), 10);
    assert_eq!(drain(&mut c), (10..30).collect::<Vec<_>>());
    drop(c);
    publish_range(&mut p, 30..100); // a detached consumer does not gate: 30..68 are overwritten
    let mut c = Consumer::<Rec>::attach(&cfg, opts("sink", Gating)).expect("re-attach");
    match c.poll().expect("poll") {
        Read::Gap(g) => {
            assert_eq!(g.cause, GapCause::Resumed);
            assert_eq!((g.missed, g.resume_at), (38, 68));
        }
        other => panic!("expected a gap, got {other:?}"),
    }
    assert_eq!(drain(&mut c), (68..100).collect::<Vec<_>>());
    cleanup(&cfg);
}

#[test]
fn restarted_producer_takes_the_name_over_and_consumers_follow() {
    let cfg = config(64);
    let mut p = Producer::<Rec>::create(&cfg).expect("create");
    let mut c = Consumer::<Rec>::attach(&cfg, opts("sink", Gating)).expect("attach");
    publish_range(&mut p, 0..20);
    let old_epoch = p.epoch();
    drop(p);
    let mut p2 = Producer::<Rec>::create(&cfg).expect("take over");
    assert_ne!(p2.epoch(), old_epoch);
    // The carried-over registration gates the new epoch from sequence 0.
    publish_range(&mut p2, 1000..1064);
    assert!(
        p2.try_publish_batch(&[Rec::new(5000)]).is_err(),
        "carried gating consumer holds the ring"
    );
    let (old, gap) = drain_until_gap(&mut c);
    assert_eq!(old, (0..20).collect::<Vec<_>>(), "the old epoch is drained first");
    let gap = gap.expect("epoch change reported");
    assert_eq!(gap.cause, GapCause::NewEpoch { old: old_epoch, new: p2.epoch() });
    assert_eq!((gap.missed, gap.resume_at), (0, 0));
    assert_eq!(drain(&mut c), (1000..1064).collect::<Vec<_>>());
    cleanup(&cfg);
}

#[test]
fn closed_producer_is_reported_after_the_last_record() {
    let cfg = config(64);
    let mut p = Producer::<Rec>::create(&cfg).expect("create");
    let mut c = Consumer::<Rec>::attach(&cfg, opts("sink", Gating)).expect("attach");
    publish_range(&mut p, 0..5);
    drop(p);
    assert_eq!(drain(&mut c), (0..5).collect::<Vec<_>>());
    assert!(matches!(c.poll().expect("poll"), Read::Closed));
    cleanup(&cfg);
}

#[test]
fn a_clean_exit_leaves_no_files_once_every_live_reader_is_done() {
    let cfg = config(64);
    let files = |cfg: &RingConfig| (cfg.segment_path().exists(), cfg.lock_path().exists());
    // Nobody reading: the producer removes both files itself.
    let mut p = Producer::<Rec>::create(&cfg).expect("create");
    publish_range(&mut p, 0..5);
    drop(p);
    assert_eq!(files(&cfg), (false, false));

    // A reader still behind keeps the ring until it has drained it; the last reader out removes it.
    let mut p = Producer::<Rec>::create(&cfg).expect("create again");
    let mut c = Consumer::<Rec>::attach(&cfg, opts("sink", NonGating)).expect("attach");
    publish_range(&mut p, 0..5);
    drop(p);
    assert_eq!(files(&cfg), (true, true), "kept while a live reader is behind");
    assert_eq!(drain(&mut c), (0..5).collect::<Vec<_>>());
    assert!(matches!(c.poll().expect("poll"), Read::Closed));
    drop(c);
    assert_eq!(files(&cfg), (false, false));
    // And the name starts afresh.
    drop(Producer::<Rec>::create(&cfg).expect("create a third time"));
    cleanup(&cfg);
}

#[test]
fn directory_entries_reach_consumers() {
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
    struct Entry {
        symbol: [u8; 16],
    }
    impl Record for Entry {
        const SCHEMA_ID: u64 = 77;
    }
    let cfg = config(16);
    let mut p = Producer::<Rec, Entry>::create(&cfg).expect("create");
    let c = Consumer::<Rec, Entry>::attach(&cfg, opts("dir", NonGating)).expect("attach");
    let mut e = Entry { symbol: [0; 16] };
    e.symbol[..6].copy_from_slice(b"AAPL.O");
    assert_eq!(p.push_entry(&e).expect("room"), 0);
    assert_eq!(c.entries(), &[e]);
    for _ in 1..64 {
        p.push_entry(&e).expect("room");
    }
    assert!(matches!(p.push_entry(&e), Err(RingError::DirectoryFull(64))));
    cleanup(&cfg);
}

#[test]
fn bad_attachments_get_one_clear_error_each() {
    let cfg = config(16);
    let err = Consumer::<Rec>::attach(&cfg, opts("x", Gating)).expect_err("no ring yet");
    assert!(matches!(err, RingError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("start the producer"), "{err}");

    let _p = Producer::<Rec>::create(&cfg).expect("create");
    let err = Producer::<Rec>::create(&cfg).expect_err("second producer");
    assert!(
        matches!(err, RingError::ProducerRunning { pid, .. } if pid == std::process::id()),
        "{err}"
    );

    let err = Consumer::<Other>::attach(&cfg, opts("x", Gating)).expect_err("other record type");
    assert!(matches!(err, RingError::SchemaMismatch { what: "records", .. }), "{err}");

    let mut held = Vec::new();
    let err = loop {
        match Consumer::<Rec>::attach(&cfg, opts(&format!("c{}", held.len()), Gating)) {
            Ok(c) => held.push(c),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, RingError::TableFull { max: 8, .. }), "{err}");
    assert_eq!(held.len(), 8);

    let err = Consumer::<Rec>::attach(&cfg, opts("../evil", Gating)).expect_err("bad name");
    assert!(matches!(err, RingError::InvalidName(_)), "{err}");
    cleanup(&cfg);
}

#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct Other([u64; 4]);

impl Record for Other {
    const SCHEMA_ID: u64 = 4;
}

#[test]
fn foreign_and_damaged_segments_are_refused() {
    let cfg = config(16);
    std::fs::write(cfg.segment_path(), vec![0xAB; 8192]).expect("write");
    set_mode(&cfg.segment_path(), 0o600);
    let err = Consumer::<Rec>::attach(&cfg, opts("x", Gating)).expect_err("foreign");
    assert!(matches!(err, RingError::Foreign { .. }), "{err}");
    std::fs::remove_file(cfg.segment_path()).expect("rm");

    let p = Producer::<Rec>::create(&cfg).expect("create");
    let f = std::fs::OpenOptions::new().write(true).open(cfg.segment_path()).expect("open");
    f.set_len(8192).expect("truncate");
    let err = Consumer::<Rec>::attach(&cfg, opts("x", Gating)).expect_err("damaged");
    assert!(matches!(err, RingError::WrongSize { .. }), "{err}");
    drop(p);
    cleanup(&cfg);
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Another local user could plant a 0666 segment with a valid header; its ticks must not be read.
#[test]
fn a_segment_that_is_not_private_to_this_user_is_refused() {
    use std::os::unix::fs::MetadataExt;
    let cfg = config(16);
    let p = Producer::<Rec>::create(&cfg).expect("create");
    for mode in [0o644, 0o666, 0o640] {
        set_mode(&cfg.segment_path(), mode);
        let err = Consumer::<Rec>::attach(&cfg, opts("x", Gating)).expect_err("wide mode");
        assert!(matches!(err, RingError::NotPrivate { .. }), "{err}");
        assert!(err.to_string().contains("mode 0600"), "{err}");
        assert!(RingStatus::read::<Rec, ()>(&cfg).is_err(), "status refuses it too");
    }
    set_mode(&cfg.segment_path(), 0o600);
    Consumer::<Rec>::attach(&cfg, opts("x", Gating)).expect("own 0600 segment");
    let me = std::fs::metadata(cfg.segment_path()).expect("stat").uid();
    // Only root can give a file away; elsewhere the owner half is covered by the unit test.
    if me == 0 {
        std::os::unix::fs::chown(cfg.segment_path(), Some(65_534), None).expect("chown");
        let err = Consumer::<Rec>::attach(&cfg, opts("y", Gating)).expect_err("other owner");
        assert!(matches!(err, RingError::NotPrivate { owner: 65_534, uid: 0, .. }), "{err}");
    }
    drop(p);
    cleanup(&cfg);
}

/// A ring bigger than its folder's free space once made a sparse file that SIGBUSed the producer later.
#[test]
fn a_ring_that_does_not_fit_its_folder_is_refused_up_front() {
    let cfg = RingConfig { capacity: 1 << 30, max_batch: 256, ..config(16) };
    let out = std::process::Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(&cfg.dir)
        .output()
        .expect("df");
    let avail: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("df prints the free bytes");
    let needed = (1u64 << 30) * std::mem::size_of::<Rec>() as u64;
    if avail >= needed {
        eprintln!(
            "skipped: {} has {avail} bytes free, more than a 2^30-record ring",
            cfg.dir.display()
        );
        return;
    }
    let err = Producer::<Rec>::create(&cfg).expect_err("does not fit");
    let text = err.to_string();
    assert!(matches!(err, RingError::NoSpace { needed: n, .. } if n > needed), "{text}");
    assert!(text.contains("ring.capacity") && text.contains("free"), "{text}");
    let leftovers = std::fs::read_dir(&cfg.dir)
        .expect("ls")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(&format!(".tickring-{}.", cfg.name)))
        .count();
    assert_eq!(leftovers, 0, "no temporary segment left behind");
    cleanup(&cfg);
}

#[test]
fn consumers_map_records_read_only_and_the_segment_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let cfg = config(1024);
    let _p = Producer::<Rec>::create(&cfg).expect("create");
    let meta = std::fs::metadata(cfg.segment_path()).expect("stat");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let c = Consumer::<Rec>::attach(&cfg, opts("ro", Gating)).expect("attach");
    let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
    let path = cfg.segment_path().display().to_string();
    let perms: Vec<&str> = maps
        .lines()
        .filter(|l| l.ends_with(&path))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    // producer: control rw + data rw; consumer: control rw + data read-only.
    assert!(perms.contains(&"r--s"), "no read-only shared mapping of the records in {perms:?}");
    drop(c);
    cleanup(&cfg);
}

#[test]
fn status_shows_cursors_and_lag() {
    let cfg = config(64);
    let mut p = Producer::<Rec>::create(&cfg).expect("create");
    let mut c = Consumer::<Rec>::attach(&cfg, opts("sink", Gating)).expect("attach");
    publish_range(&mut p, 0..10);
    if let Read::Batch(b) = c.poll().expect("poll") {
        b.commit().expect("intact");
    }
    publish_range(&mut p, 10..15);
    let s = RingStatus::read::<Rec, ()>(&cfg).expect("status");
    assert_eq!((s.published, s.producer_state), (15, "running"));
    let sink = s.consumers.iter().find(|c| c.name == "sink").expect("listed");
    assert_eq!((sink.cursor, sink.lag, sink.gating, sink.state), (10, 5, true, "active"));
    cleanup(&cfg);
}
