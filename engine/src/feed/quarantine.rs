//! Messages that could not become trades: why (a typed reason), counters, and a JSON-lines file to keep them.

mod file;

pub use file::{QuarantineFile, DEFAULT_MAX_BYTES};
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;

macro_rules! reasons {
    ($($variant:ident = $name:literal: $doc:literal,)*) => {
        /// Why a message was quarantined. The snake_case names are stable: dashboards and files use them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RejectReason {
            $(#[doc = $doc] $variant,)*
        }

        impl RejectReason {
            pub const ALL: &'static [RejectReason] = &[$(RejectReason::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|r| r.as_str() == name)
            }
        }
    };
}

reasons! {
    MalformedJson = "malformed_json": "The frame or line is not valid JSON.",
    NotAnObject = "not_an_object": "A message that is not a JSON object (or a frame that is not an array).",
    MissingField = "missing_field": "A field the message needs (ID, Type, a symbol, a size) is absent.",
    WrongType = "wrong_type": "A field has the wrong JSON type.",
    UnknownType = "unknown_type": "A message `Type` the decoder does not know.",
    UnknownStream = "unknown_stream": "An Update or Refresh for a stream ID with no known item.",
    NonFinitePrice = "non_finite_price": "The trade price is NaN or infinite.",
    NonPositivePrice = "non_positive_price": "The trade price is zero or negative.",
    BadPrice = "bad_price": "The trade price is not a decimal, too precise or out of range.",
    NonPositiveSize = "non_positive_size": "The trade size is zero or negative.",
    BadSize = "bad_size": "The trade size is not a finite decimal in range.",
    MissingTime = "missing_time": "No trade time in the message nor known for the item.",
    BadTime = "bad_time": "The trade time is not in a known format.",
    TimeOutOfRange = "time_out_of_range": "The trade time is impossible or too far from the receive time.",
    MissingDate = "missing_date": "The date source needs a trading date the item does not have.",
    BadDate = "bad_date": "A date or timestamp is not valid.",
    UnknownExchange = "unknown_exchange": "Neither RDN_EXCHD2, the RIC nor the override table names a known exchange.",
    BadSymbol = "bad_symbol": "The symbol is empty or too long for the instrument directory.",
    DirectoryFull = "directory_full": "The ring's instrument directory has no room for a new instrument.",
    BadEncoding = "bad_encoding": "A replayed line is not valid UTF-8 (its raw text is kept with U+FFFD for bad bytes).",
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One quarantined message, whole, with why and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub reason: RejectReason,
    /// Human-readable specifics (the field, the parser's message).
    pub detail: String,
    /// The message (or line) exactly as received.
    pub raw: String,
    pub recv_ns: u64,
    /// 1-based line of the replayed file it came from, when replaying.
    pub line: Option<u64>,
}

/// Counts of what a decoder saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames (LSEG) or lines (replay) read.
    pub frames: u64,
    /// Messages inside frames.
    pub messages: u64,
    pub trades: u64,
    pub pings: u64,
    rejected: [u64; RejectReason::ALL.len()],
}

impl Counters {
    pub fn count_reject(&mut self, reason: RejectReason) {
        self.rejected[reason as usize] += 1;
    }

    /// Counts `n` rejects of one reason at once (a wrapper refusing what its source counted as trades).
    pub fn count_rejects(&mut self, reason: RejectReason, n: u64) {
        self.rejected[reason as usize] += n;
    }

    pub fn rejected(&self, reason: RejectReason) -> u64 {
        self.rejected[reason as usize]
    }

    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().sum()
    }

    /// Adds `other`'s counts to these (a source made of several decoders reports one total).
    pub fn merge(&mut self, other: &Counters) {
        self.frames += other.frames;
        self.messages += other.messages;
        self.trades += other.trades;
        self.pings += other.pings;
        for (a, b) in self.rejected.iter_mut().zip(other.rejected) {
            *a += b;
        }
    }

    /// Non-zero reject counts, in reason order.
    pub fn rejected_by_reason(&self) -> impl Iterator<Item = (RejectReason, u64)> + '_ {
        RejectReason::ALL.iter().map(|&r| (r, self.rejected(r))).filter(|(_, n)| *n > 0)
    }
}

#[derive(Serialize)]
struct QuarantineLine<'a> {
    reason: &'static str,
    detail: &'a str,
    recv_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    raw: &'a str,
}

/// Writes rejected messages as JSON lines: `{"reason","detail","recv_ns","line"?,"raw"}`.
#[derive(Debug)]
pub struct Quarantine<W: Write> {
    out: W,
    written: u64,
    /// One serialised line, handed to `out` in one write so a file never holds half a line.
    line: Vec<u8>,
}

impl Quarantine<QuarantineFile> {
    /// Appends to the file at `path` (mode 0600), rotating it at [`DEFAULT_MAX_BYTES`].
    ///
    /// # Errors
    /// The file cannot be opened for appending.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        Self::create_capped(path, DEFAULT_MAX_BYTES)
    }

    /// As [`Quarantine::create`], rotating to `PATH.1` once `PATH` would pass `max_bytes`.
    ///
    /// # Errors
    /// The file cannot be opened for appending.
    pub fn create_capped(path: impl AsRef<Path>, max_bytes: u64) -> io::Result<Self> {
        Ok(Self::new(QuarantineFile::open(path, max_bytes)?))
    }
}

impl<W: Write> Quarantine<W> {
    pub fn new(out: W) -> Self {
        Self { out, written: 0, line: Vec::new() }
    }

    /// Writes one rejection as one line.
    ///
    /// # Errors
    /// The underlying writer failed.
    pub fn write(&mut self, r: &Rejection) -> io::Result<()> {
        let line = QuarantineLine {
            reason: r.reason.as_str(),
            detail: &r.detail,
            recv_ns: r.recv_ns,
            line: r.line,
            raw: &r.raw,
        };
        self.line.clear();
        serde_json::to_writer(&mut self.line, &line)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.written += 1;
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// # Errors
    /// The underlying writer failed.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names_are_unique_and_round_trip() {
        for &r in RejectReason::ALL {
            assert_eq!(RejectReason::from_name(r.as_str()), Some(r));
            assert!(r.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        assert_eq!(RejectReason::NonFinitePrice.as_str(), "non_finite_price");
    }

    #[test]
    fn writes_one_json_line_per_rejection_to_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        let mut q = Quarantine::create(&path).unwrap();
        let raw = r#"{"ID":9,"Type":"Update"}"#;
        let r = Rejection {
            reason: RejectReason::UnknownStream,
            detail: "stream 9".into(),
            raw: raw.into(),
            recv_ns: 42,
            line: Some(3),
        };
        q.write(&r).unwrap();
        q.write(&Rejection { line: None, ..r }).unwrap();
        // Written as it goes: readable before any flush (it once waited for ingest to stop).
        assert_eq!(q.written(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> =
            text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["reason"], "unknown_stream");
        assert_eq!(lines[0]["raw"], raw);
        assert_eq!(lines[0]["line"], 3);
        assert_eq!(lines[1].get("line"), None);
        assert_eq!(lines[1]["recv_ns"], 42);
    }

    #[test]
    fn counters_count_by_reason() {
        let mut c = Counters::default();
        c.count_reject(RejectReason::BadTime);
        c.count_reject(RejectReason::BadTime);
        c.count_reject(RejectReason::MalformedJson);
        assert_eq!(c.rejected(RejectReason::BadTime), 2);
        assert_eq!(c.rejected_total(), 3);
        assert_eq!(
            c.rejected_by_reason().collect::<Vec<_>>(),
            [(RejectReason::MalformedJson, 1), (RejectReason::BadTime, 2)]
        );
    }
}
