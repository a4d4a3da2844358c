//! LSEG dump files: one received frame per line, `{"recv_ns": u64, "frame": [..]}` (or `"recv"`: RFC 3339).

use super::timestamp::rfc3339_ns;
use super::{Lines, Next, ReplayItem};
use crate::feed::lseg::{FeedEvent, LsegSession};
use crate::feed::{Counters, RejectReason, Rejection};
use crate::mapping::Mapping;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::sync::Arc;

#[derive(Deserialize)]
struct DumpLine<'a> {
    recv_ns: Option<u64>,
    #[serde(borrow)]
    recv: Option<&'a str>,
    #[serde(borrow)]
    frame: Option<&'a RawValue>,
}

/// Replays a dump through an [`LsegSession`], exactly as if the frames arrived at their `recv_ns`.
#[derive(Debug)]
pub struct LsegDumpReader<R> {
    lines: Lines<R>,
    session: LsegSession,
    /// Line-level rejects (the dump line itself was unreadable); message rejects are the session's.
    line_counters: Counters,
    pending: VecDeque<ReplayItem>,
}

impl<R: BufRead> LsegDumpReader<R> {
    /// Where the file stands after the items handed out (journal bytes); `None` while items of the
    /// current line are still to come (a frame can hold several messages).
    pub fn position(&self) -> Option<Vec<u8>> {
        self.pending.is_empty().then(|| self.lines.position())
    }

    /// Continues after a position an earlier read of the same file reported. The lines before it are
    /// decoded again without being handed out: the decoder keeps per-item state (images, then updates)
    /// that the items after the position depend on.
    ///
    /// # Errors
    /// Another file, or a file shorter than the position.
    pub fn resume(&mut self, position: &[u8]) -> Result<(), crate::feed::ResumeError> {
        use crate::feed::ResumeError;
        let target = super::position::LinePosition::decode(position)?;
        while self.lines.at.offset < target.offset {
            match self.lines.next_line()? {
                Next::End => {
                    return Err(ResumeError::Mismatch(
                        "the file is shorter than the journaled position".into(),
                    ))
                }
                Next::NotUtf8(_) => {}
                Next::Line => self.decode_line(),
            }
            self.pending.clear();
        }
        if self.lines.at != target {
            return Err(ResumeError::Mismatch(format!(
                "line {} is not the line journaled there: the file changed",
                target.line
            )));
        }
        Ok(())
    }

    pub fn new(reader: R, mapping: Arc<Mapping>) -> Self {
        Self {
            lines: Lines::new(reader),
            session: LsegSession::new(mapping),
            line_counters: Counters::default(),
            pending: VecDeque::new(),
        }
    }

    /// The decoder, e.g. to read its counters or register expected streams before reading.
    pub fn session(&self) -> &LsegSession {
        &self.session
    }

    pub fn session_mut(&mut self) -> &mut LsegSession {
        &mut self.session
    }

    /// Rejects of dump lines that never reached the decoder (bad line JSON, no `frame`, no time).
    pub fn line_counters(&self) -> &Counters {
        &self.line_counters
    }

    fn decode_line(&mut self) {
        let line_no = self.lines.no;
        let parsed = serde_json::from_str::<DumpLine<'_>>(&self.lines.text);
        let (recv_ns, frame) = match parsed {
            Err(e) => return self.reject_line(RejectReason::MalformedJson, e.to_string()),
            Ok(DumpLine { frame: None, .. }) => {
                return self.reject_line(RejectReason::MissingField, "frame".into())
            }
            Ok(DumpLine { recv_ns: Some(ns), frame: Some(f), .. }) => (ns, f),
            Ok(DumpLine { recv: Some(t), frame: Some(f), .. }) => match rfc3339_ns(t) {
                Some(ns) => (ns, f),
                None => return self.reject_line(RejectReason::BadDate, format!("recv {t:?}")),
            },
            Ok(DumpLine { .. }) => {
                return self.reject_line(RejectReason::MissingField, "recv_ns".into())
            }
        };
        // A frame recorded as a JSON string holds the text exactly as received, even if it was broken.
        let text = match frame.get().starts_with('"') {
            true => match serde_json::from_str::<String>(frame.get()) {
                Ok(t) => std::borrow::Cow::Owned(t),
                Err(e) => return self.reject_line(RejectReason::WrongType, e.to_string()),
            },
            false => std::borrow::Cow::Borrowed(frame.get()),
        };
        let pending = &mut self.pending;
        self.session.on_frame(&text, recv_ns, &mut |event| match event {
            FeedEvent::Trade(t) => pending.push_back(ReplayItem::Trade(t)),
            FeedEvent::Rejected(r) => {
                pending.push_back(ReplayItem::Reject(Rejection { line: Some(line_no), ..r }))
            }
            FeedEvent::PongDue | FeedEvent::LoginAccepted { .. } | FeedEvent::Status(_) => {}
            FeedEvent::ServerError { id, text } => {
                tracing::warn!(?id, %text, line = line_no, "server error in dump")
            }
        });
    }

    fn reject_line(&mut self, reason: RejectReason, detail: String) {
        self.line_counters.count_reject(reason);
        self.pending.push_back(ReplayItem::Reject(Rejection {
            reason,
            detail,
            raw: self.lines.text.clone(),
            recv_ns: 0,
            line: Some(self.lines.no),
        }));
    }
}

impl<R: BufRead> Iterator for LsegDumpReader<R> {
    type Item = io::Result<ReplayItem>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
            match self.lines.next_line() {
                Err(e) => return Some(Err(e)),
                Ok(Next::End) => return None,
                Ok(Next::NotUtf8(r)) => {
                    self.line_counters.count_reject(r.reason);
                    return Some(Ok(ReplayItem::Reject(r)));
                }
                Ok(Next::Line) => self.decode_line(),
            }
        }
    }
}
