//! The journal as its users see it: appends read back exactly, across segments, epochs, restarts, torn
//! tails and damage.

use bytemuck::{Pod, Zeroable};
use proptest::prelude::*;
use std::path::Path;
use tickring_journal::{
    verify, FsyncPolicy, JournalConfig, JournalReader, JournalWriter, ReadGapCause, ReadOutcome,
};

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
struct Rec {
    seq: u64,
    check: u64,
    pad: [u64; 6],
}

impl tickring_ipc::Record for Rec {
    const SCHEMA_ID: u64 = 0x7465_7374_0001_0040;
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
struct Entry {
    name: [u8; 16],
}

impl tickring_ipc::Record for Entry {
    const SCHEMA_ID: u64 = 0x656e_7472_0001_0010;
}

fn rec(seq: u64) -> Rec {
    Rec { seq, check: seq.wrapping_mul(0x9e37_79b9_7f4a_7c15), pad: [seq; 6] }
}

fn cfg(dir: &Path) -> JournalConfig {
    JournalConfig {
        dir: dir.to_path_buf(),
        fsync: FsyncPolicy::Never,
        segment_bytes: 64 << 10, // 15 blocks of 63: rolls often
        retention_hours: 0,
        retention_bytes: 0,
        ..Default::default()
    }
}

type Writer = JournalWriter<Rec, Entry>;
type Reader = JournalReader<Rec, Entry>;

/// Reads everything from `from`, collecting records and gaps, until caught up or the epoch ends.
fn drain(reader: &mut Reader) -> (Vec<Rec>, Vec<(u64, u64, ReadGapCause)>, bool) {
    let (mut recs, mut gaps) = (Vec::new(), Vec::new());
    loop {
        match reader.read(500).expect("read") {
            ReadOutcome::Records { first_seq, records } => {
                assert_eq!(first_seq, records[0].seq, "sequence maps to the record");
                recs.extend_from_slice(records);
            }
            ReadOutcome::Gap { from, to, cause } => gaps.push((from, to, cause)),
            ReadOutcome::CaughtUp => return (recs, gaps, false),
            ReadOutcome::EpochEnd => return (recs, gaps, true),
        }
    }
}

fn append_range(w: &mut Writer, from: u64, to: u64) {
    let batch: Vec<Rec> = (from..to).map(rec).collect();
    w.append(from, &batch).expect("append");
}

#[test]
fn records_read_back_across_segments_and_from_any_sequence() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = cfg(dir.path());
    let mut w = Writer::open(&c, "ticks", 7).expect("open");
    append_range(&mut w, 0, 3000);
    let mut r = Reader::open(&c, "ticks", 7, 0).expect("reader");
    let (recs, gaps, ended) = drain(&mut r);
    assert_eq!(recs.len(), 3000);
    assert!(recs.iter().enumerate().all(|(i, r)| *r == rec(i as u64)));
    assert!(gaps.is_empty() && !ended);
    for from in [1, 62, 63, 64, 944, 945, 2999] {
        let mut r = Reader::open(&c, "ticks", 7, from).expect("reader");
        let (recs, _, _) = drain(&mut r);
        assert_eq!(recs.first().map(|r| r.seq), Some(from));
        assert_eq!(recs.len() as u64, 3000 - from);
    }
    // A live reader sees later appends, then the end once the epoch is sealed.
    append_range(&mut w, 3000, 3100);
    let (recs, _, _) = drain(&mut r);
    assert_eq!(recs.len(), 100);
    w.close().expect("close");
    assert!(drain(&mut r).2, "sealed epoch ends");
}

#[test]
fn directory_entries_resolve_per_epoch() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = cfg(dir.path());
    let name = |s: &str| {
        let mut e = Entry { name: [0; 16] };
        e.name[..s.len()].copy_from_slice(s.as_bytes());
        e
    };
    let mut a = Writer::open(&c, "ticks", 1).expect("open");
    a.push_entry(0, &name("AAPL.O")).expect("entry");
    a.push_entry(1, &name("7203.T")).expect("entry");
    append_range(&mut a, 0, 10);
    drop(a); // killed: never sealed
    let mut b = Writer::open(&c, "ticks", 2).expect("open");
    b.push_entry(0, &name("7203.T")).expect("entry");
    let mut ra = Reader::open(&c, "ticks", 1, 0).expect("reader");
    let mut rb = Reader::open(&c, "ticks", 2, 0).expect("reader");
    assert_eq!(ra.entry(0).expect("read"), Some(name("AAPL.O")));
    assert_eq!(rb.entry(0).expect("read"), Some(name("7203.T")));
    assert_eq!(rb.entry(1).expect("read"), None);
    let (recs, _, ended) = drain(&mut ra);
    assert_eq!(recs.len(), 10);
    assert!(ended, "a newer epoch exists: the old one is finished");
}

#[test]
fn a_torn_tail_is_cut_and_a_flipped_byte_is_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = cfg(dir.path());
    let mut w = Writer::open(&c, "ticks", 3).expect("open");
    append_range(&mut w, 0, 100);
    let seg = dir.path().join("ticks/3/00000000000000000000.seg");
    drop(w);
    // A kill in the middle of the next append: records of block 1 half written, its header torn.
    let mut bytes = std::fs::read(&seg).expect("read");
    let block1 = 4096 * 2;
    for b in &mut bytes[block1 + 20..block1 + 40] {
        *b ^= 0x5a;
    }
    std::fs::write(&seg, &bytes).expect("write");
    let report = verify::<Rec, Entry>(&c, "ticks").expect("verify");
    assert!(report.ok(), "a torn tail is not damage: {report:?}");
    assert_eq!(report.torn_tails.len(), 1);
    // The next writer seals the crashed epoch at its last whole block.
    let w2 = Writer::open(&c, "ticks", 4).expect("open");
    let mut r = Reader::open(&c, "ticks", 3, 0).expect("reader");
    let (recs, gaps, ended) = drain(&mut r);
    assert_eq!(recs.len(), 63);
    assert!(recs.iter().enumerate().all(|(i, r)| *r == rec(i as u64)));
    assert!(gaps.is_empty() && ended);
    drop(w2);

    // Damage in the middle of a segment: verify names file and offset, a reader reports a gap.
    let mut w = Writer::open(&c, "ticks", 5).expect("open");
    append_range(&mut w, 0, 300);
    drop(w);
    let seg = dir.path().join("ticks/5/00000000000000000000.seg");
    let mut bytes = std::fs::read(&seg).expect("read");
    bytes[4096 * 2 + 64 + 5] ^= 1; // a record of block 1
    std::fs::write(&seg, &bytes).expect("write");
    let report = verify::<Rec, Entry>(&c, "ticks").expect("verify");
    assert_eq!(report.damage.len(), 1, "{report:?}");
    assert_eq!(report.damage[0].offset, 4096 * 2);
    assert!(report.damage[0].path.ends_with("ticks/5/00000000000000000000.seg"));
    let mut r = Reader::open(&c, "ticks", 5, 0).expect("reader");
    let (recs, gaps, _) = drain(&mut r);
    assert_eq!(gaps.len(), 1);
    assert_eq!((gaps[0].0, gaps[0].1), (63, 126));
    assert!(matches!(gaps[0].2, ReadGapCause::Damaged { offset: 8192, .. }));
    assert_eq!(recs.len(), 300 - 63);
    assert!(recs.iter().all(|r| *r == rec(r.seq)), "never garbage");
}

#[test]
fn a_folder_of_another_ring_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = cfg(dir.path());
    Writer::open(&c, "ticks", 1).expect("open");
    std::fs::rename(dir.path().join("ticks"), dir.path().join("other")).expect("rename");
    let err = Writer::open(&c, "other", 2).expect_err("another ring").to_string();
    assert!(err.contains("belongs to ring 'ticks'"), "{err}");
}

#[test]
fn retention_deletes_the_oldest_segments_and_readers_get_a_gap() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = JournalConfig { retention_bytes: 3 * (64 << 10), ..cfg(dir.path()) };
    let mut w = Writer::open(&c, "ticks", 9).expect("open");
    for i in 0..10 {
        append_range(&mut w, i * 945, (i + 1) * 945);
    }
    let mut r = Reader::open(&c, "ticks", 9, 0).expect("reader");
    let (recs, gaps, _) = drain(&mut r);
    assert_eq!(gaps.len(), 1);
    assert!(matches!(gaps[0].2, ReadGapCause::Retention));
    assert_eq!(gaps[0].1, recs[0].seq);
    assert_eq!(recs.last().map(|r| r.seq), Some(9449));
}

#[test]
fn a_concurrent_reader_never_sees_a_torn_record() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = cfg(dir.path());
    let mut w = Writer::open(&c, "ticks", 11).expect("open");
    let c2 = c.clone();
    let total = 200_000u64;
    let reader = std::thread::spawn(move || {
        let mut r = Reader::open(&c2, "ticks", 11, 0).expect("reader");
        let mut next = 0;
        while next < total {
            match r.read(4096).expect("read") {
                ReadOutcome::Records { first_seq, records } => {
                    assert_eq!(first_seq, next);
                    for x in records {
                        assert_eq!(*x, rec(next));
                        next += 1;
                    }
                }
                ReadOutcome::Gap { .. } => panic!("no gap without retention"),
                _ => std::thread::yield_now(),
            }
        }
    });
    let mut seq = 0;
    while seq < total {
        let n = (seq % 97 + 1).min(total - seq);
        append_range(&mut w, seq, seq + n);
        seq += n;
    }
    reader.join().expect("reader saw every record in order");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Any batching, any reopen points: what is read equals what was appended, in order, once.
    #[test]
    fn any_batching_reads_back_exactly(batches in proptest::collection::vec(1u64..300, 1..40), reopen in 0usize..40) {
        let dir = tempfile::tempdir().expect("tmp");
        let c = cfg(dir.path());
        let mut w = Writer::open(&c, "ticks", 1).expect("open");
        let mut seq = 0;
        for (i, n) in batches.iter().enumerate() {
            if i == reopen {
                drop(w);
                w = Writer::open(&c, "ticks", 1).expect("reopen the same epoch");
                prop_assert_eq!(w.head(), seq);
            }
            append_range(&mut w, seq, seq + n);
            seq += n;
        }
        // A retried batch is not appended twice.
        append_range(&mut w, seq.saturating_sub(5), seq);
        let mut r = Reader::open(&c, "ticks", 1, 0).expect("reader");
        let (recs, gaps, _) = drain(&mut r);
        prop_assert!(gaps.is_empty());
        prop_assert_eq!(recs.len() as u64, seq);
        prop_assert!(recs.iter().enumerate().all(|(i, r)| *r == rec(i as u64)));
    }
}
