//! Shared-memory ring (placeholder while the ring lands).
