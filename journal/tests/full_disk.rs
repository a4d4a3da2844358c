//! A full disk, for real: a small tmpfs (mounting needs root, as CI runs; elsewhere the test says why it
//! skips). Appends until no segment can be allocated: under `on_full = "continue"` the writer counts what it
//! could not take and goes on, under `"hold"` it refuses the batch (the caller retries); nothing already
//! journaled is damaged, and once space is free the journal continues with an explicit hole.

use bytemuck::{Pod, Zeroable};
use std::path::{Path, PathBuf};
use std::process::Command;
use tickring_journal::{
    verify, FsyncPolicy, JournalConfig, JournalError, JournalReader, JournalWriter, OnFull,
    ReadGapCause, ReadOutcome,
};

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
struct Rec {
    seq: u64,
    pad: [u64; 7],
}

impl tickring_ipc::Record for Rec {
    const SCHEMA_ID: u64 = 0x6675_6c6c_0001_0040;
}

/// A 640 KiB tmpfs, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(tag: &str) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("tickring-full-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=640k", "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a small tmpfs here (needs root)");
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(Self(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn cfg(dir: &Path, on_full: OnFull) -> JournalConfig {
    JournalConfig {
        dir: dir.join("journal"),
        fsync: FsyncPolicy::EveryBatch,
        segment_bytes: 128 << 10,
        retention_hours: 0,
        retention_bytes: 0,
        on_full,
    }
}

fn batch(from: u64, n: u64) -> Vec<Rec> {
    (from..from + n).map(|seq| Rec { seq, pad: [seq; 7] }).collect()
}

#[test]
fn a_full_disk_under_continue_counts_goes_on_and_damages_nothing() {
    let Some(disk) = SmallDisk::mount("continue") else { return };
    let c = cfg(disk.path(), OnFull::Continue);
    let mut w = JournalWriter::<Rec>::open(&c, "ticks", 1).expect("open");
    let mut seq = 0;
    // Far more than 640 KiB of records: the disk fills after four or five segments.
    while seq < 20_000 {
        w.append(seq, &batch(seq, 500)).expect("continue never fails the feed");
        seq += 500;
    }
    let stats = w.stats();
    assert!(stats.behind > 0 && stats.full_errors > 0, "{stats:?}");
    assert!(stats.appended + stats.behind >= 20_000, "{stats:?}");
    let report = verify::<Rec, ()>(&c, "ticks").expect("verify");
    assert!(report.ok(), "what was journaled is intact: {report:?}");
    let journaled = report.records;
    assert!(journaled > 0 && journaled < 20_000);

    // Space again (a segment deleted by an operator): after the retry pause the journal goes on, and a
    // reader sees every record it holds and one explicit hole for what it could not take.
    let first = std::fs::read_dir(c.dir.join("ticks/1"))
        .expect("epoch folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .min()
        .expect("a segment");
    std::fs::remove_file(first).expect("free space");
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    w.append(seq, &batch(seq, 100)).expect("append");
    assert!(w.stats().behind < 20_000);
    let mut r = JournalReader::<Rec>::open(&c, "ticks", 1, 0).expect("reader");
    let (mut got, mut holes) = (Vec::new(), Vec::new());
    loop {
        match r.read(1000).expect("read") {
            ReadOutcome::Records { records, .. } => got.extend(records.iter().map(|r| r.seq)),
            ReadOutcome::Gap { cause, from, to } => holes.push((cause, from, to)),
            _ => break,
        }
    }
    assert!(got.windows(2).all(|p| p[0] < p[1]), "in order, never repeated");
    assert!(got.iter().all(|&s| s < seq + 100));
    assert_eq!(got.last(), Some(&(seq + 99)), "the journal continued");
    assert!(holes.iter().any(|(c, _, _)| *c == ReadGapCause::Behind), "{holes:?}");
}

#[test]
fn a_full_disk_under_hold_refuses_the_batch_until_space_is_free() {
    let Some(disk) = SmallDisk::mount("hold") else { return };
    let c = cfg(disk.path(), OnFull::Hold);
    let mut w = JournalWriter::<Rec>::open(&c, "ticks", 1).expect("open");
    let mut seq = 0;
    let refused = loop {
        match w.append(seq, &batch(seq, 500)) {
            Ok(()) => seq += 500,
            Err(e) => break e,
        }
        assert!(seq < 100_000, "the disk never filled");
    };
    assert!(matches!(refused, JournalError::Full { .. }), "{refused}");
    assert!(refused.to_string().contains("free disk space"), "{refused}");
    // Retrying the same batch appends each record once (part of it may have gone in before the roll).
    let head = w.head();
    assert!(head >= seq);
    let report = verify::<Rec, ()>(&c, "ticks").expect("verify");
    assert!(report.ok() && report.holes.is_empty(), "{report:?}");
    assert_eq!(report.records, head);
}
