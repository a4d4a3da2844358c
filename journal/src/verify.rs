//! `tickring journal verify`: every block of every segment checked, continuity between segments, the
//! logs beside them; damage named by file and byte offset.

use crate::config::JournalConfig;
use crate::error::JournalError;
use crate::frames::{FrameReader, LogKind, DIRECTORY, SOURCE};
use crate::layout::{self, DIRECTORY_FILE, SOURCE_FILE};
use crate::scan::{scan, Expect, SegmentFile};
use std::path::PathBuf;
use tickring_ipc::Record;

/// One thing wrong, where it is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Damage {
    pub path: PathBuf,
    pub offset: u64,
    pub what: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub epochs: usize,
    pub segments: usize,
    pub records: u64,
    pub damage: Vec<Damage>,
    /// Sequences missing between segments of an epoch: (epoch, from, to). Retention makes none (it deletes
    /// from the front); a full disk under `on_full = "continue"` does.
    pub holes: Vec<(u64, u64, u64)>,
    /// A torn last block of a writer that is still running (or was killed): not damage.
    pub torn_tails: Vec<PathBuf>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.damage.is_empty()
    }
}

/// Checks the whole journal of `ring`.
///
/// # Errors
/// The folder belongs to another ring or layout, or cannot be read at all.
pub fn verify<R: Record, E: Record>(
    cfg: &JournalConfig,
    ring: &str,
) -> Result<VerifyReport, JournalError> {
    let ring_dir = cfg.ring_dir(ring);
    layout::check_ring_dir(&ring_dir, ring, false)?;
    let mut report = VerifyReport::default();
    for dir in layout::list_epochs(&ring_dir)? {
        report.epochs += 1;
        let expect = Expect {
            ring,
            epoch: dir.epoch,
            schema_id: R::SCHEMA_ID,
            record_size: std::mem::size_of::<R>(),
        };
        let segments = dir.segments()?;
        let mut expected_next: Option<u64> = None;
        for (i, (first, path)) in segments.iter().enumerate() {
            report.segments += 1;
            let seg = match SegmentFile::open(path, &expect) {
                Ok(s) => s,
                Err(e) => {
                    report.damage.push(Damage {
                        path: path.clone(),
                        offset: 0,
                        what: e.to_string(),
                    });
                    expected_next = None;
                    continue;
                }
            };
            if seg.header.first_seq != *first {
                report.damage.push(Damage {
                    path: path.clone(),
                    offset: 40,
                    what: format!(
                        "header says first sequence {}, the name {first}",
                        seg.header.first_seq
                    ),
                });
            }
            if let Some(next) = expected_next.filter(|n| n != first) {
                report.holes.push((dir.epoch, next, *first));
            }
            let found = scan(&seg)?;
            report.records += found.records;
            let last = i + 1 == segments.len();
            if let Some((offset, what)) = found.damage {
                if found.valid_after_damage > 0 || !last {
                    report.damage.push(Damage {
                        path: path.clone(),
                        offset,
                        what: format!(
                            "{what}; {} valid blocks after it are unreachable",
                            found.valid_after_damage
                        ),
                    });
                } else {
                    report.torn_tails.push(path.clone());
                }
            }
            expected_next = Some(first + found.records);
        }
        let kinds = [
            (
                DIRECTORY_FILE,
                LogKind {
                    kind: DIRECTORY,
                    epoch: dir.epoch,
                    schema: E::SCHEMA_ID,
                    item_size: std::mem::size_of::<E>() as u32,
                },
            ),
            (SOURCE_FILE, LogKind { kind: SOURCE, epoch: dir.epoch, schema: 0, item_size: 0 }),
        ];
        for (name, kind) in kinds {
            let path = dir.path.join(name);
            if let Err(e) = FrameReader::new(path.clone(), kind).read_new() {
                let offset = match &e {
                    JournalError::Damaged { offset, .. } => *offset,
                    _ => 0,
                };
                report.damage.push(Damage { path, offset, what: e.to_string() });
            }
        }
    }
    Ok(report)
}
