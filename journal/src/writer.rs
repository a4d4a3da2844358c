//! The appending side: one writer per epoch, in the process that publishes into the ring.
//!
//! Appends copy records into the active segment's mapping (the page cache: a kill -9 of the writer loses
//! nothing appended), checksum them block by block and rewrite the tail block's header after each batch.
//! Segments are allocated whole (fallocate) before use, so a full disk shows when a segment is created,
//! never as a fault in the middle of an append.

use crate::config::{FsyncPolicy, JournalConfig, OnFull};
use crate::error::JournalError;
use crate::format::{block_records, BlockCopy, SegmentHeader, BLOCK_HEADER, PAGE};
use crate::frames::{FrameWriter, LogKind, DIRECTORY, SOURCE};
use crate::layout::{self, EpochDir, DIRECTORY_FILE, FEED_GAPS_FILE, SEALED_FILE, SOURCE_FILE};
use crate::map::{allocate, SegmentMap};
use crate::scan::{scan, Expect, SegmentFile};
use crate::sync::{Shared, SyncThread};
use std::fs::{File, OpenOptions};
use std::marker::PhantomData;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tickring_ipc::clock::realtime_ns;
use tickring_ipc::Record;

const DAY_NS: u64 = 86_400_000_000_000;
/// How often a writer that could not allocate a segment tries again.
const FULL_RETRY: Duration = Duration::from_secs(1);

/// What a writer did, for `status`, metrics and the bench.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WriterStats {
    pub appended: u64,
    pub segments: u64,
    pub fsyncs: u64,
    pub fsync_failures: u64,
    /// Records published while the journal could not take them (disk full under `on_full = "continue"`).
    pub behind: u64,
    /// Times a segment could not be allocated.
    pub full_errors: u64,
    pub head: u64,
    pub durable: u64,
}

/// The segment being appended to.
#[derive(Debug)]
struct Active {
    map: SegmentMap,
    file: Arc<File>,
    path: PathBuf,
    first_seq: u64,
    blocks: u64,
    utc_day: u64,
    /// The block being filled, its record count, running checksum and next header generation.
    block: u64,
    count: u32,
    crc: u32,
    generation: u32,
}

/// Appends records of type `R` (and directory entries of type `E`) to one epoch of a ring's journal.
#[derive(Debug)]
pub struct JournalWriter<R: Record, E: Record = ()> {
    cfg: JournalConfig,
    ring: String,
    ring_dir: PathBuf,
    epoch: EpochDir,
    active: Option<Active>,
    head: u64,
    per_block: u32,
    directory: FrameWriter,
    directory_len: u32,
    unwritten_entries: Vec<(u32, E)>,
    source: FrameWriter,
    feed_gaps: FrameWriter,
    shared: Arc<Shared>,
    _sync: Option<SyncThread>,
    stats: WriterStats,
    full_since: Option<Instant>,
    _types: PhantomData<R>,
}

impl<R: Record, E: Record> JournalWriter<R, E> {
    /// Opens the journal of `ring` for a new `epoch`; seals and repairs what earlier epochs left behind.
    ///
    /// # Errors
    /// Invalid config, a folder of another ring or layout, I/O errors.
    pub fn open(cfg: &JournalConfig, ring: &str, epoch: u64) -> Result<Self, JournalError> {
        cfg.validate()?;
        let ring_dir = cfg.ring_dir(ring);
        layout::check_ring_dir(&ring_dir, ring, true)?;
        let expect = Expect {
            ring,
            epoch: 0,
            schema_id: R::SCHEMA_ID,
            record_size: std::mem::size_of::<R>(),
        };
        for old in layout::list_epochs(&ring_dir)? {
            if old.epoch != epoch && !old.sealed() {
                seal_after_crash(&old, &Expect { epoch: old.epoch, ..expect.clone() })?;
            }
        }
        let epoch_dir = layout::create_epoch(&ring_dir, epoch, realtime_ns())?;
        let dir_kind = LogKind {
            kind: DIRECTORY,
            epoch,
            schema: E::SCHEMA_ID,
            item_size: std::mem::size_of::<E>() as u32,
        };
        let (directory, entries) =
            FrameWriter::open(&epoch_dir.path.join(DIRECTORY_FILE), dir_kind)?;
        let src_kind = LogKind { kind: SOURCE, epoch, schema: 0, item_size: 0 };
        let (source, _) = FrameWriter::open(&epoch_dir.path.join(SOURCE_FILE), src_kind)?;
        let (feed_gaps, _) =
            FrameWriter::open(&epoch_dir.path.join(FEED_GAPS_FILE), crate::feed_gap::kind(epoch))?;
        let shared = Arc::new(Shared::default());
        let sync = match cfg.fsync {
            FsyncPolicy::IntervalMs(ms) => Some(
                SyncThread::spawn(Arc::clone(&shared), Duration::from_millis(ms))
                    .map_err(JournalError::io("start the fsync thread for", &epoch_dir.path))?,
            ),
            _ => None,
        };
        let mut writer = Self {
            cfg: cfg.clone(),
            ring: ring.to_string(),
            ring_dir,
            epoch: epoch_dir,
            active: None,
            head: 0,
            per_block: block_records(std::mem::size_of::<R>()) as u32,
            directory,
            directory_len: entries.len() as u32,
            unwritten_entries: Vec::new(),
            source,
            feed_gaps,
            shared,
            _sync: sync,
            stats: WriterStats::default(),
            full_since: None,
            _types: PhantomData,
        };
        writer.resume_existing(&Expect { epoch, ..expect })?;
        writer.refresh_sync_files();
        crate::retention::enforce(&writer.ring_dir, &writer.cfg, &writer.epoch.path);
        Ok(writer)
    }

    /// The same epoch opened again (a writer restarted in-process): continue after its valid prefix.
    fn resume_existing(&mut self, expect: &Expect<'_>) -> Result<(), JournalError> {
        let segments = self.epoch.segments()?;
        let Some((first, path)) = segments.last().cloned() else { return Ok(()) };
        let seg = SegmentFile::open(&path, expect)?;
        let found = scan(&seg)?;
        let blocks = seg.header.blocks;
        drop(seg);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(JournalError::io("open", &path))?;
        let (block, count, crc, generation) = match found.tail {
            Some((b, count, copy)) => (b, count, copy.data_crc, copy.generation + 1),
            None => (found.records / u64::from(self.per_block), 0, 0, 0),
        };
        // Cut whatever follows the valid prefix (a torn block), then give the file its full size back.
        let keep = SegmentHeader::block_offset(block + u64::from(count > 0));
        file.set_len(keep).map_err(JournalError::io("truncate", &path))?;
        let len = SegmentHeader::block_offset(blocks);
        allocate(&file, len).map_err(JournalError::io("allocate", &path))?;
        let map = SegmentMap::new(&file, len as usize, &path)?;
        self.head = first + found.records;
        self.active = Some(Active {
            map,
            file: Arc::new(file),
            path,
            first_seq: first,
            blocks,
            utc_day: realtime_ns() / DAY_NS,
            block,
            count,
            crc,
            generation,
        });
        self.publish_head();
        Ok(())
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.epoch
    }

    /// The next sequence the journal expects.
    pub fn head(&self) -> u64 {
        self.head
    }

    pub fn stats(&self) -> WriterStats {
        WriterStats {
            head: self.head,
            durable: self.shared.durable.load(Relaxed),
            fsyncs: self.shared.fsyncs.load(Relaxed),
            fsync_failures: self.shared.fsync_failures.load(Relaxed),
            ..self.stats.clone()
        }
    }

    /// Records the directory entry `index` (entries must be pushed in index order, before any record that
    /// refers to them is appended).
    ///
    /// # Errors
    /// I/O errors other than a full disk (whose entries are kept and written with the next append).
    pub fn push_entry(&mut self, index: u32, entry: &E) -> Result<(), JournalError> {
        if index < self.directory_len {
            return Ok(());
        }
        self.unwritten_entries.push((index, *entry));
        self.write_entries()
    }

    fn write_entries(&mut self) -> Result<(), JournalError> {
        let mut payload = Vec::with_capacity(4 + std::mem::size_of::<E>());
        while let Some((index, entry)) = self.unwritten_entries.first().copied() {
            payload.clear();
            payload.extend_from_slice(&index.to_le_bytes());
            payload.extend_from_slice(bytemuck::bytes_of(&entry));
            match self.directory.append(&payload) {
                Ok(()) => {
                    self.unwritten_entries.remove(0);
                    self.directory_len = index + 1;
                }
                Err(JournalError::Full { .. }) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Records where the source stands once `next_seq` records are published: a restarted feed continues
    /// from here (the bytes are the source's own, e.g. a file offset).
    ///
    /// # Errors
    /// I/O errors.
    pub fn record_position(&mut self, next_seq: u64, position: &[u8]) -> Result<(), JournalError> {
        let mut payload = Vec::with_capacity(8 + position.len());
        payload.extend_from_slice(&next_seq.to_le_bytes());
        payload.extend_from_slice(position);
        match self.source.append(&payload) {
            Err(JournalError::Full { .. }) => Ok(()),
            other => other,
        }
    }

    /// Records that the live feed was not listening from `from_ns` to `to_ns`, before sequence `seq`.
    ///
    /// # Errors
    /// I/O errors.
    pub fn record_feed_gap(&mut self, gap: crate::FeedGap) -> Result<(), JournalError> {
        self.feed_gaps.append(&gap.encode())
    }

    /// Appends `records`, the first of which has sequence `first_seq`. Records below the head (a retried
    /// batch) are skipped; a `first_seq` above it is allowed only after the journal fell behind.
    ///
    /// # Errors
    /// Out-of-order sequences; I/O errors; [`JournalError::Full`] under `on_full = "hold"` (retry the same
    /// call: what was appended is not appended twice).
    pub fn append(&mut self, first_seq: u64, records: &[R]) -> Result<(), JournalError> {
        if !self.unwritten_entries.is_empty() {
            self.write_entries()?;
        }
        let skip = self.head.saturating_sub(first_seq) as usize;
        if skip >= records.len() {
            return Ok(());
        }
        let mut seq = first_seq + skip as u64;
        let mut rest = &records[skip..];
        if seq > self.head {
            if self.full_since.is_none() {
                return Err(JournalError::OutOfOrder {
                    epoch: self.epoch(),
                    head: self.head,
                    got: seq,
                });
            }
            // The journal fell behind: what lies between is missing; a new segment starts here.
            self.seal_active();
            self.head = seq;
        }
        let day = realtime_ns() / DAY_NS;
        if self.active.as_ref().is_some_and(|a| a.utc_day != day) {
            self.seal_active();
        }
        while !rest.is_empty() {
            if self.active.as_ref().is_none_or(|a| a.block >= a.blocks) {
                self.seal_active();
                if let Err(e) = self.start_segment(seq, day) {
                    return self.on_no_segment(e, rest.len() as u64);
                }
            }
            let n = self.fill(rest);
            seq += n as u64;
            rest = &rest[n..];
            self.head = seq;
            self.stats.appended += n as u64;
        }
        self.publish_head();
        if self.cfg.fsync == FsyncPolicy::EveryBatch {
            self.shared.sync_all();
        }
        Ok(())
    }

    fn on_no_segment(&mut self, e: JournalError, left: u64) -> Result<(), JournalError> {
        let JournalError::Full { .. } = e else { return Err(e) };
        self.stats.full_errors += 1;
        if self.full_since.is_none() {
            tracing::error!(error = %e, policy = ?self.cfg.on_full, "journal disk full");
            self.full_since = Some(Instant::now());
        }
        match self.cfg.on_full {
            OnFull::Hold => Err(e),
            OnFull::Continue => {
                self.stats.behind += left;
                self.publish_head();
                Ok(())
            }
        }
    }

    /// Copies as many records as fit in the active segment; returns how many.
    fn fill(&mut self, records: &[R]) -> usize {
        let per_block = self.per_block;
        let size = std::mem::size_of::<R>();
        let Some(a) = self.active.as_mut() else { return 0 };
        let mut done = 0;
        while done < records.len() && a.block < a.blocks {
            let room = (per_block - a.count) as usize;
            let run = &records[done..done + room.min(records.len() - done)];
            let bytes: &[u8] = bytemuck::cast_slice(run);
            let block_at = SegmentHeader::block_offset(a.block) as usize;
            let at = block_at + BLOCK_HEADER + a.count as usize * size;
            let map = a.map.bytes();
            map[at..at + bytes.len()].copy_from_slice(bytes);
            a.crc = crc32c::crc32c_append(a.crc, bytes);
            a.count += run.len() as u32;
            let first_seq = a.first_seq + a.block * u64::from(per_block);
            BlockCopy { count: a.count, first_seq, data_crc: a.crc, generation: a.generation }
                .write_into(&mut map[block_at..block_at + BLOCK_HEADER]);
            a.generation = a.generation.wrapping_add(1);
            done += run.len();
            if a.count == per_block {
                a.block += 1;
                a.count = 0;
                a.crc = 0;
                a.generation = 0;
            }
        }
        done
    }

    fn start_segment(&mut self, first_seq: u64, utc_day: u64) -> Result<(), JournalError> {
        if self.full_since.is_some_and(|t| t.elapsed() < FULL_RETRY) {
            return Err(JournalError::Full {
                path: self.epoch.path.clone(),
                source: std::io::Error::from_raw_os_error(libc::ENOSPC),
            });
        }
        let blocks = (self.cfg.segment_bytes - PAGE as u64) / PAGE as u64;
        let path = self.epoch.segment_path(first_seq);
        let tmp = path.with_extension("seg.tmp");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(JournalError::io("create", &tmp))?;
        let len = SegmentHeader::block_offset(blocks);
        if let Err(e) = allocate(&file, len) {
            let _ = std::fs::remove_file(&tmp);
            crate::retention::enforce(&self.ring_dir, &self.cfg, &self.epoch.path);
            return Err(JournalError::io("allocate", &tmp)(e));
        }
        let mut map = SegmentMap::new(&file, len as usize, &tmp)?;
        let header = SegmentHeader {
            layout_version: crate::format::LAYOUT_VERSION,
            record_size: std::mem::size_of::<R>() as u32,
            block_records: self.per_block,
            schema_id: R::SCHEMA_ID,
            epoch: self.epoch.epoch,
            first_seq,
            created_ns: realtime_ns(),
            blocks,
            ring: self.ring.clone(),
        };
        map.bytes()[..PAGE].copy_from_slice(&header.encode());
        map.flush_range(0, PAGE).map_err(JournalError::io("sync", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(JournalError::io("rename", &path))?;
        layout::sync_dir(&self.epoch.path);
        if self.full_since.take().is_some() {
            tracing::info!(path = %path.display(), behind = self.stats.behind, "journal has space again");
        }
        self.active = Some(Active {
            map,
            file: Arc::new(file),
            path,
            first_seq,
            blocks,
            utc_day,
            block: 0,
            count: 0,
            crc: 0,
            generation: 0,
        });
        self.stats.segments += 1;
        self.refresh_sync_files();
        crate::retention::enforce(&self.ring_dir, &self.cfg, &self.epoch.path);
        Ok(())
    }

    /// Finishes the active segment: synced (unless fsync is `never`) and cut to the blocks it used.
    fn seal_active(&mut self) {
        let Some(a) = self.active.take() else { return };
        if self.cfg.fsync != FsyncPolicy::Never {
            self.shared.sync_all();
        }
        let used = a.block + u64::from(a.count > 0);
        let Active { map, file, path, blocks, .. } = a;
        drop(map);
        if used < blocks {
            if let Err(e) = file.set_len(SegmentHeader::block_offset(used)) {
                tracing::warn!(path = %path.display(), error = %e, "could not trim a sealed segment");
            }
        }
        self.refresh_sync_files();
    }

    fn refresh_sync_files(&self) {
        let mut files: Vec<Arc<File>> = Vec::new();
        if let Some(a) = &self.active {
            files.push(Arc::clone(&a.file));
        }
        for log in [self.directory.file(), self.source.file(), self.feed_gaps.file()] {
            if let Ok(f) = log.try_clone() {
                files.push(Arc::new(f));
            }
        }
        if let Ok(mut shared) = self.shared.files.lock() {
            *shared = files;
        }
    }

    fn publish_head(&self) {
        self.shared.head.store(self.head, Relaxed);
    }

    /// Syncs everything appended so far, whatever the policy.
    pub fn sync(&self) -> bool {
        self.shared.sync_all()
    }

    /// Seals the epoch: nothing more will be appended (readers stop waiting for it).
    ///
    /// # Errors
    /// The seal marker cannot be written.
    pub fn close(mut self) -> Result<(), JournalError> {
        self.seal_active();
        self.shared.sync_all();
        let path = self.epoch.path.join(SEALED_FILE);
        std::fs::write(&path, b"").map_err(JournalError::io("write", &path))?;
        layout::sync_dir(&self.epoch.path);
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.epoch.path
    }
}

/// An earlier epoch whose writer died: cut its torn tail so every reader sees a clean end, then seal it.
fn seal_after_crash(old: &EpochDir, expect: &Expect<'_>) -> Result<(), JournalError> {
    if let Some((_, path)) = old.segments()?.last() {
        match SegmentFile::open(path, expect) {
            Ok(seg) => {
                let found = scan(&seg)?;
                let used = match found.tail {
                    Some((b, _, _)) => b + 1,
                    None => found.records / seg.per_block(),
                };
                if found.damage.is_some() {
                    tracing::warn!(path = %path.display(), records = found.records, "cut the torn tail of a crashed writer's segment");
                }
                let keep = SegmentHeader::block_offset(used);
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(JournalError::io("open", path))?;
                file.set_len(keep).map_err(JournalError::io("truncate", path))?;
                file.sync_all().map_err(JournalError::io("sync", path))?;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot repair the last segment of an earlier epoch")
            }
        }
    }
    let marker = old.path.join(SEALED_FILE);
    std::fs::write(&marker, b"").map_err(JournalError::io("write", &marker))?;
    Ok(())
}
