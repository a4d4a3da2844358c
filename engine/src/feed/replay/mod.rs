//! Replay of recorded files: LSEG frame dumps, canonical tick JSON lines, CSV. Each reader streams from
//! any `BufRead` and yields trades and rejects (with their line numbers) in file order.

pub mod canonical;
pub mod csv;
pub mod dump_writer;
pub mod lseg_dump;
mod row;
mod timestamp;

pub use canonical::CanonicalReader;
pub use csv::{CsvColumns, CsvError, CsvReader};
pub use dump_writer::DumpWriter;
pub use lseg_dump::LsegDumpReader;

use crate::feed::{Quarantine, Rejection, Trade};
use std::io::{self, Write};

/// One thing a replay reader found in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayItem {
    Trade(Trade),
    /// A line (or a message inside it) that could not be mapped; `line` is set.
    Reject(Rejection),
}

/// Writes every reject of `items` to `quarantine` and yields the trades.
///
/// # Errors
/// Each item is an error when reading the file or writing the quarantine failed.
pub fn route_rejects<'q, I, W>(
    items: I,
    quarantine: &'q mut Quarantine<W>,
) -> impl Iterator<Item = io::Result<Trade>> + 'q
where
    I: Iterator<Item = io::Result<ReplayItem>> + 'q,
    W: Write,
{
    items.filter_map(move |item| match item {
        Ok(ReplayItem::Trade(t)) => Some(Ok(t)),
        Ok(ReplayItem::Reject(r)) => quarantine.write(&r).err().map(Err),
        Err(e) => Some(Err(e)),
    })
}

/// Reads the next line into `buf` without its line ending; `Ok(false)` at the end of input.
fn next_line(reader: &mut impl io::BufRead, buf: &mut String) -> io::Result<bool> {
    buf.clear();
    if reader.read_line(buf)? == 0 {
        return Ok(false);
    }
    let trimmed = buf.trim_end_matches(['\n', '\r']).len();
    buf.truncate(trimmed);
    Ok(true)
}
