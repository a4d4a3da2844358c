//! Creating, opening and mapping segment files. All raw pointers into the mapping are made here.

use crate::config::RingConfig;
use crate::error::RingError;
use crate::layout::{
    ConsumerSlot, Control, CursorLine, Geometry, Header, WakeLine, CONTROL_OFFSET, CURSORS_OFFSET,
    LAYOUT_VERSION, MAGIC, PAGE, TABLE_OFFSET, WAKE_OFFSET,
};
use crate::liveness::Identity;
use crate::protocol::Cursors;
use crate::record::Record;
use crate::segment_file;
use crate::wake::WakeWords;
use memmap2::{Mmap, MmapOptions, MmapRaw};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::{Acquire, Release};

/// The records and directory: read-write for the producer, read-only for consumers so a buggy sink cannot
/// corrupt what others read.
#[derive(Debug)]
enum DataMap {
    Writable(MmapRaw),
    ReadOnly(Mmap),
}

/// One mapped segment: the control part (header, cursors, consumer table) is always writable because
/// consumers commit their cursors there.
#[derive(Debug)]
pub(crate) struct Segment {
    control: MmapRaw,
    data: DataMap,
    geometry: Geometry,
}

impl Segment {
    /// Creates a fresh segment in a temporary file, initialised with `magic` written last. The caller renames
    /// it into place with [`Segment::publish_as`] once it has finished setting it up.
    pub fn create<T: Record, E: Record>(
        cfg: &RingConfig,
        epoch: u64,
    ) -> Result<(Self, PathBuf), RingError> {
        let geometry = Geometry::new(
            cfg.capacity,
            std::mem::size_of::<T>(),
            std::mem::size_of::<E>(),
            cfg.max_consumers as usize,
            cfg.directory_capacity as usize,
        )
        .ok_or_else(|| RingError::Config("ring too large for this address space".into()))?;
        let tmp = cfg.dir.join(format!(".tickring-{}.{}.tmp", cfg.name, std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(RingError::io("create", &tmp))?;
        if let Err(e) = segment_file::allocate(&file, geometry.len as u64, cfg, &tmp) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let control = map_raw(&file, 0, geometry.records_offset, &tmp)?;
        let data =
            map_raw(&file, geometry.records_offset, geometry.len - geometry.records_offset, &tmp)?;
        let header = Header {
            magic: std::sync::atomic::AtomicU64::new(0),
            layout_version: LAYOUT_VERSION,
            record_size: std::mem::size_of::<T>() as u32,
            record_align: std::mem::align_of::<T>() as u32,
            entry_size: std::mem::size_of::<E>() as u32,
            record_schema: T::SCHEMA_ID,
            entry_schema: E::SCHEMA_ID,
            capacity: geometry.capacity,
            max_consumers: cfg.max_consumers,
            directory_capacity: cfg.directory_capacity,
            records_offset: geometry.records_offset as u64,
            directory_offset: geometry.directory_offset as u64,
            segment_len: geometry.len as u64,
            epoch,
            producer_pid: std::process::id(),
            reserved: 0,
            producer_start: Identity::current().start,
            producer_pid_ns: Identity::current().pid_ns,
        };
        // SAFETY: the mapping is at least one page long, page aligned (so aligned for Header), and nobody else
        // can see this file yet: it has a private temporary name until `publish_as`.
        unsafe { control.as_mut_ptr().cast::<Header>().write(header) };
        let segment = Self { control, data: DataMap::Writable(data), geometry };
        Ok((segment, tmp))
    }

    /// Marks a created segment complete (`magic`, Release) and atomically renames it to its public name, so an
    /// opener sees either the previous segment or this complete one.
    pub fn publish_as(&mut self, tmp: &Path, path: &Path) -> Result<(), RingError> {
        self.header().magic.store(MAGIC, Release);
        std::fs::rename(tmp, path).map_err(RingError::io("rename into place", path))?;
        Ok(())
    }

    /// Opens an existing segment after checking its header against what this build expects.
    pub fn open<T: Record, E: Record>(path: &Path, writable_data: bool) -> Result<Self, RingError> {
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RingError::NotFound { path: path.to_path_buf() })
            }
            Err(e) => return Err(RingError::io("open", path)(e)),
        };
        let meta = file.metadata().map_err(RingError::io("stat", path))?;
        segment_file::check_private(&meta, path)?;
        let actual = meta.len();
        if actual < PAGE as u64 {
            return Err(RingError::Foreign { path: path.to_path_buf() });
        }
        let first_page = map_raw(&file, 0, PAGE, path)?;
        // SAFETY: the mapping is one page, page aligned; Header's plain fields are only read after the Acquire
        // load of `magic` below, which pairs with the creator's Release store made after writing them.
        let header = unsafe { &*first_page.as_ptr().cast::<Header>() };
        let geometry = check_header::<T, E>(header, path, actual)?;
        drop(first_page);
        let control = map_raw(&file, 0, geometry.records_offset, path)?;
        let data_len = geometry.len - geometry.records_offset;
        let data = if writable_data {
            DataMap::Writable(map_raw(&file, geometry.records_offset, data_len, path)?)
        } else {
            // SAFETY: a read-only shared mapping of a file that is only ever resized by its creator before it
            // becomes visible under this name; size checked against the header above. Mapped from the same
            // descriptor whose owner and mode were checked, not a second open that could find another file.
            let map = unsafe {
                MmapOptions::new().offset(geometry.records_offset as u64).len(data_len).map(&file)
            }
            .map_err(RingError::io("map", path))?;
            DataMap::ReadOnly(map)
        };
        Ok(Self { control, data, geometry })
    }

    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    pub fn header(&self) -> &Header {
        // SAFETY: offset 0 of a page-aligned mapping of at least one page holds the Header; its plain fields
        // are immutable once `magic` is set, and `magic` itself is atomic.
        unsafe { &*self.control.as_ptr().add(0).cast::<Header>() }
    }

    pub fn cursor_line(&self) -> &CursorLine {
        // SAFETY: CURSORS_OFFSET is 128-aligned and inside the first page; CursorLine is all atomics.
        unsafe { &*self.control.as_ptr().add(CURSORS_OFFSET).cast::<CursorLine>() }
    }

    pub fn control(&self) -> &Control {
        // SAFETY: CONTROL_OFFSET is 128-aligned and inside the first page; Control is all atomics.
        unsafe { &*self.control.as_ptr().add(CONTROL_OFFSET).cast::<Control>() }
    }

    pub fn wake_words(&self) -> WakeWords<'_> {
        // SAFETY: WAKE_OFFSET is 128-aligned and inside the first page; WakeLine is all atomics.
        let line = unsafe { &*self.control.as_ptr().add(WAKE_OFFSET).cast::<WakeLine>() };
        WakeWords { word: &line.word, sleepers: &line.sleepers }
    }

    pub fn cursors(&self) -> Cursors<'_> {
        let line = self.cursor_line();
        Cursors {
            claim: &line.claim,
            published: &line.published,
            table_gen: &self.control().table_gen,
        }
    }

    pub fn slots(&self) -> &[ConsumerSlot] {
        // SAFETY: the table starts at TABLE_OFFSET (page aligned) and holds `max_consumers` 128-byte slots
        // before `records_offset` (checked by Geometry); ConsumerSlot is all atomics, valid when zeroed.
        unsafe {
            std::slice::from_raw_parts(
                self.control.as_ptr().add(TABLE_OFFSET).cast::<ConsumerSlot>(),
                self.geometry.max_consumers,
            )
        }
    }

    fn data_ptr(&self) -> *const u8 {
        match &self.data {
            DataMap::Writable(m) => m.as_ptr(),
            DataMap::ReadOnly(m) => m.as_ptr(),
        }
    }

    fn data_mut_ptr(&self) -> *mut u8 {
        match &self.data {
            DataMap::Writable(m) => m.as_mut_ptr(),
            DataMap::ReadOnly(_) => unreachable!("consumers never write records"),
        }
    }

    /// Copies `records` into the ring starting at ring index `index` (must not run past the end).
    pub fn write_records<T: Record>(&self, index: usize, records: &[T]) {
        assert!(index + records.len() <= self.geometry.capacity as usize);
        // SAFETY: in bounds (asserted; records region is capacity * size_of::<T>() bytes, T checked against
        // the header at creation), aligned (page-aligned base, T's size is a multiple of its align). Consumers
        // only read these slots once `published` covers them, or copy them racily and then discard them by
        // the claim check (seqlock, see protocol.rs); T: Pod makes any torn bit pattern a valid value.
        unsafe {
            let dst = self.data_mut_ptr().cast::<T>().add(index);
            std::ptr::copy_nonoverlapping(records.as_ptr(), dst, records.len());
        }
    }

    /// Borrows `len` records in place starting at ring index `index`.
    ///
    /// # Safety
    /// The caller must hold the gate on these slots (a gating consumer whose cursor is at or below them), so
    /// the producer cannot write them while the borrow lives; or treat the contents as possibly torn and
    /// check them with `Cursors::intact_from` before trusting them.
    pub unsafe fn records<T: Record>(&self, index: usize, len: usize) -> &[T] {
        assert!(index + len <= self.geometry.capacity as usize);
        // SAFETY: in bounds and aligned as in `write_records`; exclusion from writers is the caller's duty.
        unsafe { std::slice::from_raw_parts(self.data_ptr().cast::<T>().add(index), len) }
    }

    /// Copies records out one by one with volatile reads, for readers that may race the producer.
    pub fn copy_records<T: Record>(&self, index: usize, len: usize, out: &mut Vec<T>) {
        assert!(index + len <= self.geometry.capacity as usize);
        let base = self.data_ptr().cast::<T>();
        for i in index..index + len {
            // SAFETY: in bounds and aligned as above. The read may race a producer write of the same slot;
            // T: Pod so any bytes form a valid T, and the caller discards such records by the claim check.
            out.push(unsafe { std::ptr::read_volatile(base.add(i)) });
        }
    }

    /// Writes directory entry `index` (producer only, before publishing it via `directory_len`).
    pub fn write_entry<E: Record>(&self, index: usize, entry: &E) {
        assert!(index < self.geometry.directory_capacity);
        let offset = self.geometry.directory_offset - self.geometry.records_offset;
        // SAFETY: the directory follows the records inside the data mapping, 64-byte aligned, with room for
        // directory_capacity entries (Geometry); entries below `directory_len` are never rewritten, and this
        // one is not yet visible to readers.
        unsafe { self.data_mut_ptr().add(offset).cast::<E>().add(index).write(*entry) }
    }

    /// The published directory entries (immutable once `directory_len` covers them).
    pub fn entries<E: Record>(&self) -> &[E] {
        let len = (self.control().directory_len.load(Acquire) as usize)
            .min(self.geometry.directory_capacity);
        let offset = self.geometry.directory_offset - self.geometry.records_offset;
        // SAFETY: in bounds (len clamped to the capacity); entries below `directory_len` were written before
        // its Release store that this Acquire load observed, and are never written again.
        unsafe { std::slice::from_raw_parts(self.data_ptr().add(offset).cast::<E>(), len) }
    }
}

fn map_raw(file: &File, offset: usize, len: usize, path: &Path) -> Result<MmapRaw, RingError> {
    MmapOptions::new()
        .offset(offset as u64)
        .len(len)
        .map_raw(file)
        .map_err(RingError::io("map", path))
}

fn check_header<T: Record, E: Record>(
    h: &Header,
    path: &Path,
    actual: u64,
) -> Result<Geometry, RingError> {
    let p = || path.to_path_buf();
    match h.magic.load(Acquire) {
        MAGIC => {}
        0 => return Err(RingError::NotReady { path: p() }),
        _ => return Err(RingError::Foreign { path: p() }),
    }
    if h.layout_version != LAYOUT_VERSION {
        return Err(RingError::LayoutVersion {
            path: p(),
            found: h.layout_version,
            expected: LAYOUT_VERSION,
        });
    }
    let size_of = |n: usize| n as u32;
    if h.record_size != size_of(std::mem::size_of::<T>())
        || h.record_schema != T::SCHEMA_ID
        || h.record_align != std::mem::align_of::<T>() as u32
    {
        return Err(RingError::SchemaMismatch {
            path: p(),
            what: "records",
            found_size: h.record_size,
            found_schema: h.record_schema,
            expected_size: size_of(std::mem::size_of::<T>()),
            expected_schema: T::SCHEMA_ID,
        });
    }
    if h.entry_size != size_of(std::mem::size_of::<E>()) || h.entry_schema != E::SCHEMA_ID {
        return Err(RingError::SchemaMismatch {
            path: p(),
            what: "directory entries",
            found_size: h.entry_size,
            found_schema: h.entry_schema,
            expected_size: size_of(std::mem::size_of::<E>()),
            expected_schema: E::SCHEMA_ID,
        });
    }
    let geometry = Geometry::new(
        h.capacity,
        h.record_size as usize,
        h.entry_size as usize,
        h.max_consumers as usize,
        h.directory_capacity as usize,
    )
    .filter(|g| {
        h.capacity.is_power_of_two()
            && g.records_offset as u64 == h.records_offset
            && g.directory_offset as u64 == h.directory_offset
            && g.len as u64 == h.segment_len
    })
    .ok_or_else(|| RingError::Foreign { path: p() })?;
    if actual != geometry.len as u64 {
        return Err(RingError::WrongSize { path: p(), actual, expected: geometry.len as u64 });
    }
    Ok(geometry)
}
