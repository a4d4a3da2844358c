//! Journal segment opening: the input becomes the segment files and `directory.log` of one epoch folder
//! (layout: `src/journal_input.rs`), then `verify` checks the journal and a `JournalReader` reads it to
//! the end. No panic, and the reader only moves forward: records start where it stood, gaps skip ahead.
#![no_main]

use bytemuck::{Pod, Zeroable};
use libfuzzer_sys::fuzz_target;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tickring_engine::{InstrumentEntry, Tick};
use tickring_fuzz::journal_input::{self as input, Input, PAGE};
use tickring_ipc::Record;
use tickring_journal::{layout, verify, FsyncPolicy, JournalConfig, JournalReader, ReadOutcome};

const RING: &str = "fuzz";
const EPOCH: u64 = 7;

/// The 64-byte test record (as the journal's own tests use).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
struct Rec64 {
    words: [u64; 8],
}

impl Record for Rec64 {
    const SCHEMA_ID: u64 = 0x6675_7a7a_0001_0040;
}

struct Journal {
    _dir: tempfile::TempDir,
    cfg: JournalConfig,
    epoch_dir: PathBuf,
}

/// One journal folder per process, in memory where there is a tmpfs; each input replaces its epoch's files.
fn journal() -> &'static Journal {
    static JOURNAL: OnceLock<Journal> = OnceLock::new();
    JOURNAL.get_or_init(|| {
        let base = Path::new("/dev/shm");
        let dir = if base.is_dir() { tempfile::tempdir_in(base) } else { tempfile::tempdir() };
        let dir = dir.expect("a temporary folder");
        let cfg = JournalConfig {
            dir: dir.path().to_path_buf(),
            fsync: FsyncPolicy::Never,
            retention_hours: 0,
            retention_bytes: 0,
            ..JournalConfig::default()
        };
        let ring_dir = cfg.ring_dir(RING);
        layout::check_ring_dir(&ring_dir, RING, true).expect("journal.meta");
        let epoch_dir = layout::create_epoch(&ring_dir, EPOCH, 1).expect("epoch folder").path;
        Journal { _dir: dir, cfg, epoch_dir }
    })
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The repairs the flags ask for (see `journal_input`), for records of `size` bytes and `schema`.
fn repair_segment(seg: &mut [u8], flags: u8, schema: u64, size: usize) {
    let per_block = (PAGE - 64) / size;
    if flags & input::FIX_HEADER != 0 && seg.len() >= 132 {
        seg[..8].copy_from_slice(&input::SEGMENT_MAGIC);
        put_u32(seg, 8, 1);
        put_u32(seg, 12, size as u32);
        put_u32(seg, 16, per_block as u32);
        put_u64(seg, 24, schema);
        put_u64(seg, 32, EPOCH);
        seg[64..128].fill(0);
        seg[64..64 + RING.len()].copy_from_slice(RING.as_bytes());
        let crc = crc32c::crc32c(&seg[..128]);
        put_u32(seg, 128, crc);
    }
    if flags & (input::FIX_COPY0 | input::FIX_COPY1) == 0 || seg.len() < 48 {
        return;
    }
    let first = get_u64(seg, 40);
    let blocks = PAGE.min(seg.len());
    for (b, block) in seg[blocks..].chunks_exact_mut(PAGE).enumerate() {
        for (bit, at) in [(input::FIX_COPY0, 0), (input::FIX_COPY1, 32)] {
            if flags & bit == 0 {
                continue;
            }
            let count = get_u32(block, at + 4) as usize % (per_block + 1);
            put_u32(block, at, 0x4b4c_4254);
            put_u32(block, at + 4, count as u32);
            put_u64(block, at + 8, first.wrapping_add(b as u64 * per_block as u64));
            let data = crc32c::crc32c(&block[64..64 + count * size]);
            put_u32(block, at + 16, data);
            let crc = crc32c::crc32c(&block[at..at + 28]);
            put_u32(block, at + 28, crc);
        }
    }
}

fn repair_directory(log: &mut [u8], schema: u64, item_size: u32) {
    if log.len() < 40 {
        return;
    }
    log[..8].copy_from_slice(b"TRKJFRM\x01");
    put_u32(log, 8, 1);
    put_u32(log, 12, 1);
    put_u64(log, 16, EPOCH);
    put_u64(log, 24, schema);
    put_u32(log, 32, item_size);
    let crc = crc32c::crc32c(&log[..36]);
    put_u32(log, 36, crc);
    let mut at = 40;
    while log.len() - at >= 8 {
        let len = get_u32(log, at) as usize;
        if len > log.len() - at - 8 {
            break;
        }
        let crc = crc32c::crc32c(&log[at + 8..at + 8 + len]);
        put_u32(log, at + 4, crc);
        at += 8 + len;
    }
}

/// Writes the epoch's files for this input, replacing the last input's.
fn lay_out(j: &Journal, input: &Input<'_>, schema: u64, size: usize, entry: (u64, u32)) {
    for entry in std::fs::read_dir(&j.epoch_dir).expect("list epoch").flatten() {
        if entry.file_name() != layout::INFO_FILE {
            std::fs::remove_file(entry.path()).expect("remove last input's file");
        }
    }
    let mut directory = input.directory.to_vec();
    if input.flags & input::FIX_DIRECTORY != 0 {
        repair_directory(&mut directory, entry.0, entry.1);
    }
    if !directory.is_empty() {
        std::fs::write(j.epoch_dir.join(layout::DIRECTORY_FILE), &directory).expect("write");
    }
    for (i, seg) in input.segments.iter().enumerate() {
        let mut seg = seg.to_vec();
        repair_segment(&mut seg, input.flags, schema, size);
        let first = match input.flags & input::NAME_BY_INDEX != 0 || seg.len() < 48 {
            true => i as u64,
            false => get_u64(&seg, 40),
        };
        std::fs::write(layout::segment_path(&j.epoch_dir, first), &seg).expect("write segment");
    }
    if input.flags & input::SEALED != 0 {
        std::fs::write(j.epoch_dir.join(layout::SEALED_FILE), b"").expect("write seal");
    }
}

fn check<R: Record + Debug, E: Record + Debug>(input: &Input<'_>) {
    let j = journal();
    let entry = (E::SCHEMA_ID, std::mem::size_of::<E>() as u32);
    lay_out(j, input, R::SCHEMA_ID, std::mem::size_of::<R>(), entry);
    if let Ok(report) = verify::<R, E>(&j.cfg, RING) {
        let _ = (report.ok(), format!("{report:?}"));
    }
    let mut reader =
        JournalReader::<R, E>::open(&j.cfg, RING, EPOCH, input.from).expect("the epoch is listed");
    if let Ok(entries) = reader.entries() {
        let _ = format!("{entries:?}");
    }
    let max = if input.flags & input::READ_ONE != 0 { 1 } else { 500 };
    // Every call hands out a record or skips ahead, so this many calls reach the end of any input.
    let bytes: usize = input.segments.iter().map(|s| s.len()).sum();
    let mut calls = bytes / 64 + 64;
    loop {
        let before = reader.position();
        let outcome = match reader.read(max) {
            Ok(o) => o,
            Err(_) => break,
        };
        match outcome {
            ReadOutcome::Records { first_seq, records } => {
                assert_eq!(first_seq, before, "records start where the reader stood");
                assert!(!records.is_empty() && records.len() <= max, "{} records", records.len());
                let _ = format!("{:?}", records[0]);
                let n = records.len() as u64;
                assert_eq!(reader.position(), before + n, "the position follows the records");
            }
            ReadOutcome::Gap { from, to, cause } => {
                assert!(from == before && to > from, "gap {from}..{to} at {before}: {cause:?}");
                assert_eq!(reader.position(), to, "reading goes on after the gap");
            }
            ReadOutcome::CaughtUp | ReadOutcome::EpochEnd => break,
        }
        calls -= 1;
        assert!(calls > 0, "the reader does not come to an end");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::split(data) else { return };
    if input.flags & input::TICKS != 0 {
        check::<Tick, InstrumentEntry>(&input);
    } else {
        check::<Rec64, ()>(&input);
    }
});
