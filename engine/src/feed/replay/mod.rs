//! Replay of recorded files: LSEG frame dumps, canonical tick JSON lines, CSV. Each reader streams from
//! any `BufRead` and yields trades and rejects (with their line numbers) in file order.

pub mod canonical;
pub mod csv;
pub mod dump_writer;
pub mod lseg_dump;
mod position;
mod row;
mod timestamp;

pub use canonical::CanonicalReader;
pub use csv::{CsvColumns, CsvError, CsvReader};
pub use dump_writer::DumpWriter;
pub use lseg_dump::LsegDumpReader;

use crate::feed::source::ResumeError;
use crate::feed::{Quarantine, RejectReason, Rejection, Trade};
use position::{line_hash, LinePosition};
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

/// What [`Lines::next_line`] found.
#[derive(Debug)]
enum Next {
    /// A non-blank line, now in [`Lines::text`].
    Line,
    /// A line that is not UTF-8: its reject, to quarantine before going on with the next line.
    NotUtf8(Rejection),
    End,
}

/// The lines of a replay file with their 1-based numbers, without line endings; blank lines skipped.
#[derive(Debug)]
struct Lines<R> {
    reader: R,
    bytes: Vec<u8>,
    /// The current line, valid after [`Next::Line`].
    text: String,
    /// 1-based number of the current line (0 before the first).
    no: u64,
    /// Where the file stands after the current line.
    at: LinePosition,
}

impl<R: io::BufRead> Lines<R> {
    fn new(reader: R) -> Self {
        Self { reader, bytes: Vec::new(), text: String::new(), no: 0, at: LinePosition::default() }
    }

    /// The position after the current line, as journal bytes.
    fn position(&self) -> Vec<u8> {
        self.at.encode()
    }

    /// Skips (without decoding) to a position an earlier read of this file reported, checking that the
    /// line before it is the same line.
    ///
    /// # Errors
    /// Not a replay position, a file shorter than it, or a different last line (another file).
    fn skip_to(&mut self, position: &[u8]) -> Result<(), ResumeError> {
        let target = LinePosition::decode(position)?;
        let last_start = target.offset.saturating_sub(u64::from(target.last_len));
        if last_start < self.at.offset {
            return Err(ResumeError::Mismatch(
                "the journaled position is behind this reader".into(),
            ));
        }
        let mut left = last_start - self.at.offset;
        while left > 0 {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Err(ResumeError::Mismatch(
                    "the file is shorter than the journaled position".into(),
                ));
            }
            let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            self.reader.consume(n);
            left -= n as u64;
        }
        self.bytes.clear();
        let n = self.reader.read_until(b'\n', &mut self.bytes)?;
        if n != target.last_len as usize || line_hash(&self.bytes) != target.last_hash {
            return Err(ResumeError::Mismatch(format!(
                "line {} is not the line journaled there: the file changed",
                target.line
            )));
        }
        self.no = target.line;
        self.at = target;
        self.bytes.clear();
        Ok(())
    }

    /// Reads the next non-blank line; a line that is not UTF-8 is a reject, not the end of the file.
    ///
    /// # Errors
    /// Reading the file failed.
    fn next_line(&mut self) -> io::Result<Next> {
        loop {
            self.bytes.clear();
            let n = self.reader.read_until(b'\n', &mut self.bytes)?;
            if n == 0 {
                return Ok(Next::End);
            }
            self.no += 1;
            self.at = LinePosition {
                offset: self.at.offset + n as u64,
                line: self.no,
                last_len: u32::try_from(n).unwrap_or(u32::MAX),
                last_hash: line_hash(&self.bytes),
            };
            while self.bytes.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                self.bytes.pop();
            }
            self.text.clear();
            match std::str::from_utf8(&self.bytes) {
                Ok(t) if t.trim().is_empty() => continue,
                Ok(t) => {
                    self.text.push_str(t);
                    return Ok(Next::Line);
                }
                Err(e) => {
                    return Ok(Next::NotUtf8(Rejection {
                        reason: RejectReason::BadEncoding,
                        detail: format!(
                            "invalid UTF-8 after byte {} (raw shown lossily)",
                            e.valid_up_to()
                        ),
                        raw: String::from_utf8_lossy(&self.bytes).into_owned(),
                        recv_ns: 0,
                        line: Some(self.no),
                    }))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blanks_and_turn_bad_utf8_into_a_reject() {
        let mut lines = Lines::new(&b"a\r\n\n  \nb\xff\xfec\nd"[..]);
        assert!(matches!(lines.next_line().unwrap(), Next::Line));
        assert_eq!((lines.text.as_str(), lines.no), ("a", 1));
        let Next::NotUtf8(r) = lines.next_line().unwrap() else { panic!("not a reject") };
        assert_eq!(
            (r.reason, r.line, r.raw.as_str()),
            (RejectReason::BadEncoding, Some(4), "b\u{fffd}\u{fffd}c")
        );
        assert!(matches!(lines.next_line().unwrap(), Next::Line));
        assert_eq!((lines.text.as_str(), lines.no), ("d", 5));
        assert!(matches!(lines.next_line().unwrap(), Next::End));
    }
}
