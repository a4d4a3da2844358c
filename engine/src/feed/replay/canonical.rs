//! Canonical tick JSON lines: `{"symbol","ts","price","size","exchange"?,"trade_id"?}` per line.

use super::row::{self, Row};
use super::{Lines, Next, ReplayItem};
use crate::feed::intern::Interner;
use crate::feed::{Counters, RejectReason, Rejection};
use crate::mapping::value::RawField;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::{self, BufRead};

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    symbol: Option<&'a RawValue>,
    #[serde(borrow)]
    ts: Option<&'a RawValue>,
    #[serde(borrow)]
    price: Option<&'a RawValue>,
    #[serde(borrow)]
    size: Option<&'a RawValue>,
    #[serde(borrow)]
    exchange: Option<&'a RawValue>,
    #[serde(borrow)]
    trade_id: Option<&'a RawValue>,
}

fn field(v: Option<&RawValue>) -> Option<RawField<'_>> {
    v.map(|r| RawField::from_json(r.get()))
}

/// Streams canonical tick lines from `reader`; blank lines are skipped.
#[derive(Debug)]
pub struct CanonicalReader<R> {
    lines: Lines<R>,
    interner: Interner,
    counters: Counters,
}

impl<R: BufRead> CanonicalReader<R> {
    pub fn new(reader: R) -> Self {
        Self {
            lines: Lines::new(reader),
            interner: Interner::default(),
            counters: Counters::default(),
        }
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Where the file stands after the items handed out (journal bytes).
    pub fn position(&self) -> Vec<u8> {
        self.lines.position()
    }

    /// Continues after a position an earlier read of the same file reported.
    ///
    /// # Errors
    /// Another file, or a position this reader is already past.
    pub fn resume(&mut self, position: &[u8]) -> Result<(), crate::feed::ResumeError> {
        self.lines.skip_to(position)
    }

    fn decode(&mut self) -> ReplayItem {
        let result = match serde_json::from_str::<Line<'_>>(&self.lines.text) {
            Ok(l) => row::to_trade(
                Row {
                    symbol: field(l.symbol),
                    ts: field(l.ts),
                    price: field(l.price),
                    size: field(l.size),
                    exchange: field(l.exchange),
                    trade_id: field(l.trade_id),
                },
                &mut self.interner,
            ),
            Err(e) if e.is_data() => Err((RejectReason::NotAnObject, e.to_string())),
            Err(e) => Err((RejectReason::MalformedJson, e.to_string())),
        };
        match result {
            Ok(trade) => {
                self.counters.trades += 1;
                ReplayItem::Trade(trade)
            }
            Err((reason, detail)) => {
                self.counters.count_reject(reason);
                ReplayItem::Reject(Rejection {
                    reason,
                    detail,
                    raw: self.lines.text.clone(),
                    recv_ns: 0,
                    line: Some(self.lines.no),
                })
            }
        }
    }
}

impl<R: BufRead> Iterator for CanonicalReader<R> {
    type Item = io::Result<ReplayItem>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = match self.lines.next_line() {
            Err(e) => return Some(Err(e)),
            Ok(Next::End) => return None,
            Ok(Next::NotUtf8(r)) => {
                self.counters.count_reject(r.reason);
                ReplayItem::Reject(r)
            }
            Ok(Next::Line) => self.decode(),
        };
        self.counters.frames += 1;
        self.counters.messages += 1;
        Some(Ok(item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::Price;

    fn items(text: &str) -> Vec<ReplayItem> {
        CanonicalReader::new(text.as_bytes()).collect::<io::Result<_>>().unwrap()
    }

    #[test]
    fn reads_numbers_and_strings_exactly() {
        let got = items(concat!(
            r#"{"symbol":"AAPL.O","ts":"2026-07-15T13:30:00.000000001Z","price":"189.84","size":100,"exchange":"XNAS","trade_id":7}"#,
            "\n\n",
            r#"{"symbol":"IBM.N","ts":1784122200000000000,"price":0.1,"size":"1.5"}"#,
            "\n"
        ));
        let [ReplayItem::Trade(a), ReplayItem::Trade(b)] = got.as_slice() else {
            panic!("{got:?}")
        };
        assert_eq!(a.price, Price::parse("189.84").unwrap());
        assert_eq!(a.ts_event_ns, 1_784_122_200_000_000_001);
        assert_eq!(a.exchange_code.as_deref(), Some("XNAS"));
        assert_eq!(a.trade_id, 7);
        assert_eq!(b.price.raw(), 10_000_000);
        assert_eq!(b.size.raw(), 150_000_000);
        assert_eq!(b.exchange_code, None);
    }

    #[test]
    fn rejects_carry_their_line_number() {
        let got = items("{\"symbol\":\"A\",\"ts\":1,\"price\":\"NaN\",\"size\":1}\n\n[1]\n{oops\n");
        let reasons: Vec<_> = got
            .iter()
            .map(|i| match i {
                ReplayItem::Reject(r) => (r.reason, r.line),
                ReplayItem::Trade(t) => panic!("{t:?}"),
            })
            .collect();
        assert_eq!(
            reasons,
            [
                (RejectReason::NonFinitePrice, Some(1)),
                (RejectReason::NotAnObject, Some(3)),
                (RejectReason::MalformedJson, Some(4))
            ]
        );
    }
}
