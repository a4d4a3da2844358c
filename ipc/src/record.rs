//! What may travel through the ring.

/// A fixed-size record the ring can carry between processes.
///
/// `Pod` guarantees no pointers, no padding and that every bit pattern is valid, which is what makes reading
/// a record another process wrote (possibly while it is being overwritten, for lossy readers) sound in practice.
pub trait Record: bytemuck::Pod + Send + Sync + 'static {
    /// Identifies the layout; stored in the segment header and checked on attach. Change it whenever the
    /// type's fields change, so an old consumer refuses a new producer's segment instead of misreading it.
    const SCHEMA_ID: u64;
}

/// For rings without an instrument directory.
impl Record for () {
    const SCHEMA_ID: u64 = 0;
}
