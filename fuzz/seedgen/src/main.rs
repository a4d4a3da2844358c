//! Seeds for the `journal_segment` target: journals written by `JournalWriter`, in the target's input
//! form (`fuzz/src/journal_input.rs`), into `fuzz/seeds/journal_segment/`.

#[path = "../../src/journal_input.rs"]
#[allow(dead_code)]
mod journal_input;

use bytemuck::{Pod, Zeroable};
use journal_input::{Input, SEALED, TICKS};
use std::path::{Path, PathBuf};
use tickring_engine::{Exchange, InstrumentEntry, Price, Quantity, Tick};
use tickring_ipc::Record;
use tickring_journal::{layout, FsyncPolicy, JournalConfig, JournalWriter};

const RING: &str = "fuzz";
const EPOCH: u64 = 7;

/// Must match the target's `Rec64`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
struct Rec64 {
    words: [u64; 8],
}

impl Record for Rec64 {
    const SCHEMA_ID: u64 = 0x6675_7a7a_0001_0040;
}

fn cfg(dir: &Path) -> JournalConfig {
    JournalConfig {
        dir: dir.to_path_buf(),
        fsync: FsyncPolicy::Never,
        segment_bytes: 64 << 10,
        retention_hours: 0,
        retention_bytes: 0,
        ..JournalConfig::default()
    }
}

/// The epoch's directory log and segments, as the target takes them.
fn read_epoch(cfg: &JournalConfig) -> (Vec<u8>, Vec<Vec<u8>>) {
    let dir = layout::epoch_path(&cfg.ring_dir(RING), EPOCH);
    let directory = std::fs::read(dir.join(layout::DIRECTORY_FILE)).unwrap_or_default();
    let segments = layout::list_segments(&dir)
        .expect("list")
        .into_iter()
        .map(|(_, p)| std::fs::read(p).expect("read segment"))
        .collect();
    (directory, segments)
}

fn rec(seq: u64) -> Rec64 {
    Rec64 { words: [seq, seq.wrapping_mul(0x9e37_79b9_7f4a_7c15), 0, 0, 0, 0, 0, seq] }
}

fn tick(seq: u64) -> Tick {
    Tick {
        ts_event_ns: 1_784_122_200_000_000_000 + seq * 1_000,
        ts_recv_ns: 1_784_122_200_000_000_000 + seq * 1_000 + 50,
        ts_publish_ns: 1_784_122_200_000_000_000 + seq * 1_000 + 80,
        price: Price::parse("189.84").expect("price"),
        size: Quantity::from_units(100),
        trade_id: seq,
        instrument_id: (seq % 3) as u32,
        exchange: Exchange::Xnas as u16,
        ..Tick::zeroed()
    }
}

fn write(out: &Path, name: &str, flags: u8, from: u64, make: impl FnOnce(&JournalConfig)) {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = cfg(tmp.path());
    make(&cfg);
    let (directory, segments) = read_epoch(&cfg);
    let data = Input::encode(flags, from, &directory, &segments);
    let split = Input::split(&data).expect("splits");
    assert_eq!(split.segments.len(), segments.len(), "{name}: segments found again");
    std::fs::write(out.join(name), data).expect("write seed");
    println!("{name}: {} segments, {} directory bytes", segments.len(), directory.len());
}

fn main() {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../seeds/journal_segment");
    std::fs::create_dir_all(&out).expect("seed folder");
    write(&out, "rec64-sealed", SEALED, 0, |cfg| {
        let mut w = JournalWriter::<Rec64>::open(cfg, RING, EPOCH).expect("open");
        let recs: Vec<Rec64> = (0..100).map(rec).collect();
        w.append(0, &recs).expect("append");
        w.close().expect("close");
    });
    write(&out, "rec64-two-segments-live", 0, 40, |cfg| {
        let mut w = JournalWriter::<Rec64>::open(cfg, RING, EPOCH).expect("open");
        for first in (0..1000).step_by(100) {
            let recs: Vec<Rec64> = (first..first + 100).map(rec).collect();
            w.append(first, &recs).expect("append");
        }
        drop(w);
    });
    write(&out, "ticks-directory-sealed", TICKS | SEALED, 50, |cfg| {
        let mut w = JournalWriter::<Tick, InstrumentEntry>::open(cfg, RING, EPOCH).expect("open");
        for (i, (sym, ex)) in
            [("AAPL.O", Exchange::Xnas), ("VOD.L", Exchange::Xlon), ("ESZ6", Exchange::Xcme)]
                .into_iter()
                .enumerate()
        {
            let entry = InstrumentEntry::new(sym, ex).expect("entry");
            w.push_entry(i as u32, &entry).expect("entry");
        }
        let ticks: Vec<Tick> = (0..200).map(tick).collect();
        w.append(0, &ticks).expect("append");
        w.close().expect("close");
    });
}
