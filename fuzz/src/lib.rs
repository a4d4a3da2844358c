//! Helpers shared by the fuzz targets.
#![forbid(unsafe_code)]

use std::sync::{Arc, OnceLock};
use tickring_engine::feed::replay::ReplayItem;
use tickring_engine::mapping::{self, Mapping};

/// The built-in LSEG field mapping, compiled once per process.
pub fn mapping() -> Arc<Mapping> {
    static MAPPING: OnceLock<Arc<Mapping>> = OnceLock::new();
    MAPPING.get_or_init(|| Arc::new(mapping::builtin())).clone()
}

/// Reads every item of a replay reader, with the position reported after each (where it has one).
///
/// Panics on an I/O error: the input is in memory, so there can be none.
pub fn drain<I>(
    reader: &mut I,
    position: impl Fn(&I) -> Option<Vec<u8>>,
) -> Vec<(ReplayItem, Option<Vec<u8>>)>
where
    I: Iterator<Item = std::io::Result<ReplayItem>>,
{
    let mut out = Vec::new();
    while let Some(item) = reader.next() {
        let item = item.expect("reading from memory cannot fail");
        let at = position(reader);
        out.push((item, at));
    }
    out
}

/// Picks the position to resume from: the one after item `len / 3` (or the nearest later one that has a
/// position), so both the skipped and the resumed part are exercised.
pub fn resume_point(items: &[(ReplayItem, Option<Vec<u8>>)]) -> Option<(usize, &[u8])> {
    let start = items.len() / 3;
    items.iter().enumerate().skip(start).find_map(|(i, (_, p))| p.as_deref().map(|p| (i, p)))
}

/// Asserts that a reader resumed at `items[at]`'s position hands out exactly the items after it.
pub fn assert_resumes_exactly<I>(items: &[(ReplayItem, Option<Vec<u8>>)], at: usize, resumed: I)
where
    I: Iterator<Item = std::io::Result<ReplayItem>>,
{
    let rest: Vec<ReplayItem> =
        resumed.map(|i| i.expect("reading from memory cannot fail")).collect();
    let expected: Vec<&ReplayItem> = items[at + 1..].iter().map(|(i, _)| i).collect();
    assert_eq!(rest.iter().collect::<Vec<_>>(), expected, "resumed after item {at}");
}

pub mod journal_input;
