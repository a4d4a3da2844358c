use tickring_ipc::RingError;
use tickring_journal::JournalError;

/// A stream that cannot go on: a ring or journal of another build or ring, I/O errors.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Ring(#[from] RingError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}
