//! tickring benchmarks (placeholder while the harness lands).
#![forbid(unsafe_code)]
