//! The one interface every feed offers the ingest side: batches of [`FeedItem`]s, then end of stream.
//!
//! Replay readers, the simulator and the live LSEG client all implement [`TradeSource`], so the publisher
//! runs any of them with the same loop:
//!
//! ```no_run
//! # use tickring_engine::feed::source::{FeedItem, Poll, TradeSource};
//! # fn run(source: &mut dyn TradeSource) -> Result<(), tickring_engine::feed::source::SourceError> {
//! loop {
//!     match source.next_batch(64, &mut |item| match item {
//!         FeedItem::Trade(_trade) => { /* classify and publish */ }
//!         FeedItem::Rejected(_rejection) => { /* quarantine */ }
//!         FeedItem::Link(_event) => { /* log */ }
//!     })? {
//!         Poll::Ready(_) => {}
//!         Poll::Idle => std::thread::yield_now(),
//!         Poll::End => break,
//!     }
//! }
//! # Ok(()) }
//! ```

use super::replay::{CanonicalReader, CsvReader, LsegDumpReader, ReplayItem};
use super::{Counters, Rejection, Trade};
use std::io::{self, BufRead};

/// One thing a feed hands to the ingest side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedItem {
    Trade(Trade),
    /// A message that could not become a trade; already counted by the source. Keep it in quarantine.
    Rejected(Rejection),
    /// The live connection changed state (nothing for files and the simulator).
    Link(LinkEvent),
}

/// Connection changes of a live feed, so consumers can tell a quiet market from a dead link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// Logged in and items requested; `connection` counts connections since start (1 = first).
    Up { connection: u64 },
    /// The connection ended; the client reconnects on its own.
    Down { reason: String },
}

/// What one [`TradeSource::next_batch`] call achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// This many items were handed to the sink (at least one).
    Ready(usize),
    /// Nothing is available right now (a live feed between messages, a paced simulator between ticks).
    /// Sources never block: the caller waits as its own wait policy says.
    Idle,
    /// The source is exhausted (end of file, end of the simulated range, client stopped).
    End,
}

/// A source that cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("reading the feed: {0}")]
    Io(#[from] io::Error),
    /// The live client's thread ended abnormally.
    #[error("feed client failed: {0}")]
    Client(String),
}

/// A feed, seen from the ingest side.
///
/// The sink is `&mut dyn FnMut` so that the ingest side can hold any source as `Box<dyn TradeSource>`;
/// one indirect call per item costs far less than decoding it. Implementations allocate nothing per call
/// beyond the items themselves.
pub trait TradeSource: Send {
    /// Hands at most `max` items (at least 1 is assumed) to `sink`, in feed order.
    ///
    /// # Errors
    /// The source failed for good (an unreadable file, a dead client thread); bad *messages* are never
    /// errors, they arrive as [`FeedItem::Rejected`].
    fn next_batch(
        &mut self,
        max: usize,
        sink: &mut dyn FnMut(FeedItem),
    ) -> Result<Poll, SourceError>;

    /// What the source decoded and refused so far.
    fn counters(&self) -> Counters;

    /// A short name for logs (`lseg`, `simulator`, `replay`).
    fn name(&self) -> &'static str;

    /// Where the source stands after the items handed out so far, as bytes [`TradeSource::resume`]
    /// accepts; `None` for sources that cannot resume (a live feed: its outage is a gap instead).
    fn position(&self) -> Option<Vec<u8>> {
        None
    }

    /// Continues from a position an earlier run of the same source reported.
    ///
    /// # Errors
    /// The position is not one this source wrote, or its input changed.
    fn resume(&mut self, position: &[u8]) -> Result<(), ResumeError> {
        let _ = position;
        Err(ResumeError::Unsupported(self.name()))
    }
}

/// Why a source cannot continue from a journaled position.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error("the {0} source cannot resume from a position")]
    Unsupported(&'static str),
    #[error("the journaled source position does not fit this source: {0}")]
    Mismatch(String),
    #[error("seeking the source: {0}")]
    Io(#[from] io::Error),
}

/// Drains up to `max` items of a replay reader into `sink`.
fn replay_batch(
    items: &mut impl Iterator<Item = io::Result<ReplayItem>>,
    max: usize,
    sink: &mut dyn FnMut(FeedItem),
) -> Result<Poll, SourceError> {
    let mut n = 0;
    while n < max.max(1) {
        match items.next() {
            Some(Ok(ReplayItem::Trade(t))) => sink(FeedItem::Trade(t)),
            Some(Ok(ReplayItem::Reject(r))) => sink(FeedItem::Rejected(r)),
            Some(Err(e)) => return Err(e.into()),
            None if n == 0 => return Ok(Poll::End),
            None => break,
        }
        n += 1;
    }
    Ok(Poll::Ready(n))
}

impl<R: BufRead + Send> TradeSource for LsegDumpReader<R> {
    fn next_batch(
        &mut self,
        max: usize,
        sink: &mut dyn FnMut(FeedItem),
    ) -> Result<Poll, SourceError> {
        replay_batch(self, max, sink)
    }

    /// The decoder's counters plus the dump lines that never reached it.
    fn counters(&self) -> Counters {
        let mut c = self.session().counters().clone();
        c.merge(self.line_counters());
        c
    }

    fn name(&self) -> &'static str {
        "replay"
    }

    fn position(&self) -> Option<Vec<u8>> {
        LsegDumpReader::position(self)
    }

    fn resume(&mut self, position: &[u8]) -> Result<(), ResumeError> {
        LsegDumpReader::resume(self, position)
    }
}

/// The replay readers that keep their own counters share one implementation.
macro_rules! replay_source {
    ($($reader:ident),*) => {$(
        impl<R: BufRead + Send> TradeSource for $reader<R> {
            fn next_batch(
                &mut self,
                max: usize,
                sink: &mut dyn FnMut(FeedItem),
            ) -> Result<Poll, SourceError> {
                replay_batch(self, max, sink)
            }

            fn counters(&self) -> Counters {
                $reader::counters(self).clone()
            }

            fn name(&self) -> &'static str {
                "replay"
            }

            fn position(&self) -> Option<Vec<u8>> {
                Some($reader::position(self))
            }

            fn resume(&mut self, position: &[u8]) -> Result<(), ResumeError> {
                $reader::resume(self, position)
            }
        }
    )*};
}

replay_source!(CanonicalReader, CsvReader);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::RejectReason;

    fn drain(source: &mut dyn TradeSource, max: usize) -> (Vec<FeedItem>, Vec<Poll>) {
        let mut items = Vec::new();
        let mut polls = Vec::new();
        loop {
            let p = source.next_batch(max, &mut |i| items.push(i)).unwrap();
            polls.push(p);
            if p == Poll::End {
                return (items, polls);
            }
        }
    }

    #[test]
    fn replay_readers_yield_batches_then_end() {
        let text = concat!(
            r#"{"symbol":"A","ts":1,"price":"1.5","size":1}"#,
            "\n",
            r#"{"symbol":"B","ts":2,"price":"NaN","size":1}"#,
            "\n",
            r#"{"symbol":"C","ts":3,"price":"2","size":2}"#,
            "\n"
        );
        let mut reader = CanonicalReader::new(text.as_bytes());
        let (items, polls) = drain(&mut reader, 2);
        assert_eq!(polls, [Poll::Ready(2), Poll::Ready(1), Poll::End]);
        assert!(matches!(&items[0], FeedItem::Trade(t) if &*t.symbol == "A"));
        assert!(
            matches!(&items[1], FeedItem::Rejected(r) if r.reason == RejectReason::NonFinitePrice)
        );
        assert!(matches!(&items[2], FeedItem::Trade(t) if &*t.symbol == "C"));
        let c = TradeSource::counters(&reader);
        assert_eq!((c.trades, c.rejected_total()), (2, 1));
    }

    #[test]
    fn dump_counters_include_line_rejects() {
        let text = "not json\n{\"recv_ns\":1,\"frame\":[{\"Type\":\"Ping\"}]}\n";
        let mut reader = LsegDumpReader::new(text.as_bytes(), crate::mapping::builtin().into());
        let (items, _) = drain(&mut reader, 8);
        assert_eq!(items.len(), 1);
        let c = TradeSource::counters(&reader);
        assert_eq!((c.rejected(RejectReason::MalformedJson), c.pings, c.frames), (1, 1, 1));
    }

    /// One line that is not UTF-8 once ended the whole replay with an I/O error.
    #[test]
    fn a_line_that_is_not_utf8_is_quarantined_and_replay_goes_on() {
        let jsonl: &[u8] = b"{\"symbol\":\"A\",\"ts\":1,\"price\":1,\"size\":1}\n\xff\xfe\n{\"symbol\":\"B\",\"ts\":2,\"price\":1,\"size\":1}\n";
        let csv: &[u8] = b"symbol,ts,price,size\nA,1,1,1\nB\xc3,2,1,1\nC,3,1,1\n";
        let dump: &[u8] = b"{\"recv_ns\":1,\"frame\":[{\"Type\":\"Ping\"}]}\n\x80\n{\"recv_ns\":2,\"frame\":[{\"Type\":\"Ping\"}]}\n";
        let mut sources: Vec<Box<dyn TradeSource>> = vec![
            Box::new(CanonicalReader::new(jsonl)),
            Box::new(CsvReader::new(csv, &Default::default()).unwrap()),
            Box::new(LsegDumpReader::new(dump, crate::mapping::builtin().into())),
        ];
        let bad_line = [2, 3, 2];
        for (source, line) in sources.iter_mut().zip(bad_line) {
            let (items, _) = drain(source.as_mut(), 8);
            let rejects: Vec<_> = items
                .iter()
                .filter_map(|i| if let FeedItem::Rejected(r) = i { Some(r) } else { None })
                .collect();
            assert_eq!(rejects.len(), 1, "{items:?}");
            assert_eq!(
                (rejects[0].reason, rejects[0].line),
                (RejectReason::BadEncoding, Some(line))
            );
            assert_eq!(source.counters().rejected(RejectReason::BadEncoding), 1);
        }
        let (items, _) = drain(&mut CanonicalReader::new(jsonl), 8);
        assert!(matches!(&items[2], FeedItem::Trade(t) if &*t.symbol == "B"), "{items:?}");
    }

    /// Reads `take` items, journals the position, and checks a fresh reader resumed there yields exactly
    /// the rest of an uninterrupted read.
    fn resumes_exactly(make: &dyn Fn() -> Box<dyn TradeSource>, take: usize) {
        let (all, _) = drain(make().as_mut(), 1);
        let mut first = make();
        let mut head = Vec::new();
        // A dump frame may hold several messages: no position until its last one is handed out.
        while head.len() < take || first.position().is_none() {
            if first.next_batch(1, &mut |i| head.push(i)).unwrap() == Poll::End {
                break;
            }
        }
        assert!(head.len() >= take.min(all.len()));
        let position = first.position().expect("replay files have a position");
        let mut resumed = make();
        resumed.resume(&position).expect("same file");
        let (rest, _) = drain(resumed.as_mut(), 2);
        head.extend(rest);
        assert_eq!(head, all);
    }

    #[test]
    fn replay_readers_resume_after_the_journaled_line() {
        let jsonl: &'static str = concat!(
            r#"{"symbol":"A","ts":1,"price":"1.5","size":1}"#,
            "\n\nnot json\n",
            r#"{"symbol":"B","ts":2,"price":"2","size":1}"#,
            "\n",
            r#"{"symbol":"C","ts":3,"price":"3","size":2}"#,
            "\n"
        );
        resumes_exactly(&|| Box::new(CanonicalReader::new(jsonl.as_bytes())), 2);
    }

    #[test]
    fn csv_resumes_after_the_journaled_line() {
        let csv: &'static str = "symbol,ts,price,size\nA,1,1.5,1\nB,2,2,1\nC,3,3,2\n";
        resumes_exactly(
            &|| Box::new(CsvReader::new(csv.as_bytes(), &Default::default()).unwrap()),
            1,
        );
    }

    #[test]
    fn lseg_dumps_resume_after_the_journaled_frame() {
        let dump: &'static str =
            include_str!("../../tests/fixtures/lseg/us_equities_regular.dump.jsonl");
        for take in [1, 3, 5] {
            resumes_exactly(
                &|| {
                    Box::new(LsegDumpReader::new(dump.as_bytes(), crate::mapping::builtin().into()))
                },
                take,
            );
        }
    }

    #[test]
    fn a_position_in_another_file_is_refused() {
        let a = "{\"symbol\":\"A\",\"ts\":1,\"price\":\"1\",\"size\":1}\n";
        let b = "{\"symbol\":\"B\",\"ts\":1,\"price\":\"1\",\"size\":1}\n";
        let mut reader = CanonicalReader::new(a.as_bytes());
        reader.next_batch(1, &mut |_| {}).unwrap();
        let position = TradeSource::position(&reader).unwrap();
        let mut other = CanonicalReader::new(b.as_bytes());
        assert!(matches!(
            TradeSource::resume(&mut other, &position),
            Err(ResumeError::Mismatch(_))
        ));
        let mut short = CanonicalReader::new(&b""[..]);
        assert!(matches!(
            TradeSource::resume(&mut short, &position),
            Err(ResumeError::Mismatch(_))
        ));
    }
}
