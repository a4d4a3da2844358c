//! Replay of recorded files.
