//! What can go wrong with the journal, each with what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("invalid setting {key}: {message}")]
    Config { key: &'static str, message: String },
    #[error(
        "{path} is not a tickring journal file (bad magic): move it out of the journal folder"
    )]
    Foreign { path: PathBuf },
    #[error("{path} has journal layout version {found}, this build reads version {expected}: run a matching tickring build or move the journal folder aside (journal.dir)")]
    LayoutVersion { path: PathBuf, found: u32, expected: u32 },
    #[error("{path} belongs to ring '{found}', not '{expected}': point journal.dir elsewhere or rename the folder")]
    OtherRing { path: PathBuf, found: String, expected: String },
    #[error("{path} holds records of {found_size} bytes with schema {found_schema:#x}, this build writes {expected_size} bytes with schema {expected_schema:#x}: run a matching tickring build or move the journal folder aside")]
    Schema {
        path: PathBuf,
        found_size: u32,
        found_schema: u64,
        expected_size: u32,
        expected_schema: u64,
    },
    #[error("{path}: damaged at byte {offset}: {what}")]
    Damaged { path: PathBuf, offset: u64, what: String },
    #[error("append of sequence {got} to epoch {epoch}, but the journal's head is {head}: records must be appended in order without holes")]
    OutOfOrder { epoch: u64, head: u64, got: u64 },
    #[error("no space for a journal segment in {path} ({source}): free disk space or lower journal.retention_bytes")]
    Full {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl JournalError {
    pub(crate) fn io<'p>(
        op: &'static str,
        path: &'p std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self + 'p {
        move |source| {
            if is_no_space(&source) {
                Self::Full { path: path.to_path_buf(), source }
            } else {
                Self::Io { op, path: path.to_path_buf(), source }
            }
        }
    }

    /// Worth retrying later (space may be freed) rather than a fault of the files or the build.
    pub fn is_retriable(&self) -> bool {
        matches!(self, Self::Full { .. } | Self::Io { .. })
    }
}

pub(crate) fn is_no_space(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
}
