//! Everything that can go wrong attaching to or creating a ring, each with what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RingError {
    #[error("ring segment {path} does not exist: start the producer first (`tickring ingest`), or check ring.name/ring.dir")]
    NotFound { path: PathBuf },
    #[error("{path} is not a tickring segment: remove it or choose another ring.name")]
    Foreign { path: PathBuf },
    #[error("{path} is still being created by its producer; retry in a moment")]
    NotReady { path: PathBuf },
    #[error("{path} has layout version {found}, this build reads version {expected}: run matching tickring builds")]
    LayoutVersion { path: PathBuf, found: u32, expected: u32 },
    #[error("{path} holds {what} of {found_size} bytes with schema {found_schema:#x}, this build expects {expected_size} bytes with schema {expected_schema:#x}: run matching tickring builds")]
    SchemaMismatch {
        path: PathBuf,
        what: &'static str,
        found_size: u32,
        found_schema: u64,
        expected_size: u32,
        expected_schema: u64,
    },
    #[error("{path} is {actual} bytes but its header needs {expected}: the segment is damaged; restart the producer to recreate it")]
    WrongSize { path: PathBuf, actual: u64, expected: u64 },
    #[error("ring '{name}' already has a running producer (pid {pid}): stop it first, only one producer may write a ring")]
    ProducerRunning { name: String, pid: u32 },
    #[error("the consumer table of ring '{name}' is full ({max} slots): raise ring.max_consumers and restart the producer, or detach unused consumers")]
    TableFull { name: String, max: u32 },
    #[error("consumer '{consumer}' is already attached to ring '{ring}' by live pid {pid}: use another consumer name or stop that process")]
    NameTaken { ring: String, consumer: String, pid: u32 },
    #[error(
        "invalid name {0:?}: use 1-48 characters of A-Z a-z 0-9 _ . - (not starting with '.')"
    )]
    InvalidName(String),
    #[error("the instrument directory is full ({0} entries): raise ring.directory_capacity")]
    DirectoryFull(u32),
    #[error("{path} is owned by uid {owner} with mode {mode:04o}; a ring segment must belong to this user (uid {uid}) with mode 0600: remove it (another user may have planted it) or check ring.dir")]
    NotPrivate { path: PathBuf, owner: u32, mode: u32, uid: u32 },
    #[error("the ring needs {needed} bytes in {} but only {free} are free: lower ring.capacity (now {capacity}) or give {} more room (e.g. docker --shm-size)", dir.display(), dir.display())]
    NoSpace { dir: PathBuf, needed: u64, free: u64, capacity: u64 },
    #[error("invalid ring setting: {0}")]
    Config(String),
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl RingError {
    pub(crate) fn io<'p>(
        op: &'static str,
        path: &'p std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self + 'p {
        move |source| Self::Io { op, path: path.to_path_buf(), source }
    }
}
