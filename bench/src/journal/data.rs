//! What every row of the journal scenario shares: the ticks it writes, its folders, the journal settings,
//! and the page-cache control between rows.

use anyhow::{Context, Result};
use bytemuck::Zeroable;
use std::path::{Path, PathBuf};
use tickring_engine::fixed::{Price, Quantity};
use tickring_engine::{Exchange, InstrumentEntry, Tick};
use tickring_journal::{FsyncPolicy, JournalConfig};

/// Distinct ticks cycled through (4 MiB: more than the caches, so appends copy from memory).
const POOL: usize = 1 << 16;
/// Instruments the ticks are spread over.
const INSTRUMENTS: u32 = 1_000;
/// 2026-07-15 13:30 UTC (09:30 New York), ns.
const OPEN_NS: u64 = 1_784_122_200_000_000_000;

/// Ticks as the publisher writes them: a trade every microsecond over 1,000 instruments.
#[derive(Debug)]
pub struct TickPool {
    ticks: Vec<Tick>,
}

impl TickPool {
    pub fn new() -> Self {
        let ticks = (0..POOL as u64)
            .map(|i| {
                let mut t = Tick::zeroed();
                t.ts_event_ns = OPEN_NS + i * 1_000;
                t.ts_recv_ns = t.ts_event_ns + 40_000;
                t.ts_publish_ns = t.ts_recv_ns + 900;
                t.price = Price::from_raw(189_000_000_000 + (i % 997) as i64 * 10_000_000);
                t.size = Quantity::from_raw((100 + i % 500) as i64 * 100_000_000);
                t.trade_id = 1_000_000 + i;
                t.instrument_id = (i % u64::from(INSTRUMENTS)) as u32;
                t.trading_day = 20_649;
                t.exchange = Exchange::Xnas as u16;
                t.session = 1;
                t.flags = 1;
                t
            })
            .collect();
        Self { ticks }
    }

    /// The directory the ticks' `instrument_id`s index: `B0000.O` .. `B0999.O` on Nasdaq.
    pub fn directory() -> Vec<InstrumentEntry> {
        (0..INSTRUMENTS)
            .filter_map(|i| InstrumentEntry::new(&format!("B{i:04}.O"), Exchange::Xnas))
            .collect()
    }

    /// `len` consecutive ticks starting at tick number `n` of the run (wrapping round the pool).
    pub fn batch(&self, n: u64, len: usize) -> &[Tick] {
        let len = len.min(POOL);
        let at = (n as usize) % (POOL - len + 1);
        &self.ticks[at..at + len]
    }
}

impl Default for TickPool {
    fn default() -> Self {
        Self::new()
    }
}

/// A folder of this run, removed with everything in it when dropped.
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// `parent/name`, emptied first.
    ///
    /// # Errors
    /// The folder cannot be created.
    pub fn new(parent: &Path, name: &str) -> Result<Self> {
        let path = parent.join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The product's journal settings (`[journal]` of tuning.toml) moved to `dir`, with the bench's fsync
/// policy and retention off (a round must not delete what it measures).
pub fn journal_config(base: &JournalConfig, dir: &Path, fsync: FsyncPolicy) -> JournalConfig {
    JournalConfig {
        dir: dir.to_owned(),
        fsync,
        retention_hours: 0,
        retention_bytes: 0,
        ..base.clone()
    }
}

/// How a replay round made its reads cold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cold {
    /// `echo 1 > /proc/sys/vm/drop_caches`: the whole page cache dropped.
    DropCaches,
    /// `posix_fadvise(DONTNEED)` on every journal file (synced first, so its pages are clean and go).
    Fadvise,
    /// Neither worked: the reads may be served from the page cache.
    Warm,
}

impl Cold {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DropCaches => "drop_caches",
            Self::Fadvise => "posix_fadvise(DONTNEED)",
            Self::Warm => "none (page cache warm)",
        }
    }
}

/// Writes dirty pages back (so no row pays for the previous row's writeback).
pub fn settle() {
    rustix::fs::sync();
}

/// Drops the page cache of the files under `dir`: the kernel-wide way when allowed, else file by file.
pub fn make_cold(dir: &Path) -> Cold {
    settle();
    if std::fs::write("/proc/sys/vm/drop_caches", b"1\n").is_ok() {
        return Cold::DropCaches;
    }
    let mut all = true;
    let mut any = false;
    for file in files_under(dir) {
        let ok = std::fs::File::open(&file)
            .is_ok_and(|f| rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::DontNeed).is_ok());
        all &= ok;
        any = true;
    }
    if any && all {
        Cold::Fadvise
    } else {
        Cold::Warm
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => out.push(e.path()),
                _ => {}
            }
        }
    }
    out
}
