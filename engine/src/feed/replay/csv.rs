//! CSV trades with a header row; which column is which is given by [`CsvColumns`].

use super::row::{self, Row};
use super::{Lines, Next, ReplayItem};
use crate::feed::intern::Interner;
use crate::feed::{Counters, Rejection};
use crate::mapping::value::RawField;
use serde::Deserialize;
use std::borrow::Cow;
use std::io::{self, BufRead};

/// Header names of the columns holding each trade field.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvColumns {
    pub symbol: String,
    /// RFC 3339 text or integer ns since the epoch.
    pub ts: String,
    /// Decimal text, parsed exactly.
    pub price: String,
    pub size: String,
    #[serde(default)]
    pub exchange: Option<String>,
    #[serde(default)]
    pub trade_id: Option<String>,
}

impl Default for CsvColumns {
    fn default() -> Self {
        Self {
            symbol: "symbol".into(),
            ts: "ts".into(),
            price: "price".into(),
            size: "size".into(),
            exchange: Some("exchange".into()),
            trade_id: Some("trade_id".into()),
        }
    }
}

/// Why a CSV file cannot be read at all (row problems are rejects, not errors).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("reading CSV: {0}")]
    Io(#[from] io::Error),
    #[error("CSV has no header row")]
    NoHeader,
    #[error("CSV header (line {0}) is not valid UTF-8")]
    HeaderNotUtf8(u64),
    #[error("CSV header has no column {0:?}")]
    MissingColumn(String),
}

#[derive(Debug)]
struct Indices {
    symbol: usize,
    ts: usize,
    price: usize,
    size: usize,
    exchange: Option<usize>,
    trade_id: Option<usize>,
}

/// Streams trades from CSV rows. Fields may be double-quoted (`""` is a quote); blank lines are skipped.
#[derive(Debug)]
pub struct CsvReader<R> {
    lines: Lines<R>,
    at: Indices,
    interner: Interner,
    counters: Counters,
}

impl<R: BufRead> CsvReader<R> {
    /// Reads the header row and finds the columns.
    ///
    /// # Errors
    /// The header is missing or lacks a configured column (an optional column that is absent is ignored).
    /// Where the file stands after the items handed out (journal bytes).
    pub fn position(&self) -> Vec<u8> {
        self.lines.position()
    }

    /// Continues after a position an earlier read of the same file reported (the header is read first).
    ///
    /// # Errors
    /// Another file, or a position this reader is already past.
    pub fn resume(&mut self, position: &[u8]) -> Result<(), crate::feed::ResumeError> {
        self.lines.skip_to(position)
    }

    pub fn new(reader: R, columns: &CsvColumns) -> Result<Self, CsvError> {
        let mut lines = Lines::new(reader);
        match lines.next_line()? {
            Next::Line => {}
            Next::End => return Err(CsvError::NoHeader),
            Next::NotUtf8(r) => return Err(CsvError::HeaderNotUtf8(r.line.unwrap_or(lines.no))),
        }
        let header: Vec<String> =
            split_row(&lines.text).into_iter().map(|c| c.trim().to_string()).collect();
        let find = |name: &str| header.iter().position(|h| h == name);
        let need = |name: &str| find(name).ok_or_else(|| CsvError::MissingColumn(name.to_string()));
        let at = Indices {
            symbol: need(&columns.symbol)?,
            ts: need(&columns.ts)?,
            price: need(&columns.price)?,
            size: need(&columns.size)?,
            exchange: columns.exchange.as_deref().and_then(find),
            trade_id: columns.trade_id.as_deref().and_then(find),
        };
        Ok(Self { lines, at, interner: Interner::default(), counters: Counters::default() })
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    fn decode(&mut self) -> ReplayItem {
        let cells = split_row(&self.lines.text);
        let cell = |i: usize| cells.get(i).map(|c| RawField::Text(Cow::Borrowed(c.trim())));
        let row = Row {
            symbol: cell(self.at.symbol),
            ts: cells.get(self.at.ts).map(|c| ts_cell(c.trim())),
            price: cell(self.at.price),
            size: cell(self.at.size),
            exchange: self.at.exchange.and_then(cell),
            trade_id: self.at.trade_id.and_then(cell),
        };
        match row::to_trade(row, &mut self.interner) {
            Ok(t) => {
                self.counters.trades += 1;
                ReplayItem::Trade(t)
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

/// A timestamp cell: all digits is ns since the epoch, anything else RFC 3339 text.
fn ts_cell(c: &str) -> RawField<'_> {
    if !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) {
        RawField::Number(c)
    } else {
        RawField::Text(Cow::Borrowed(c))
    }
}

/// Splits one CSV row; quoted cells may hold commas and doubled quotes (not line breaks).
fn split_row(line: &str) -> Vec<Cow<'_, str>> {
    let mut cells = Vec::new();
    let mut rest = line;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                if c == '"' {
                    if quoted[i + 1..].starts_with('"') {
                        value.push('"');
                        chars.next();
                    } else {
                        end = i + 1;
                        break;
                    }
                } else {
                    value.push(c);
                }
            }
            cells.push(Cow::Owned(value));
            rest = &quoted[end..];
            match rest.find(',') {
                Some(i) => rest = &rest[i + 1..],
                None => return cells,
            }
        } else {
            match rest.find(',') {
                Some(i) => {
                    cells.push(Cow::Borrowed(&rest[..i]));
                    rest = &rest[i + 1..];
                }
                None => {
                    cells.push(Cow::Borrowed(rest));
                    return cells;
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for CsvReader<R> {
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
    use crate::feed::RejectReason;

    #[test]
    fn splits_quoted_cells() {
        assert_eq!(split_row(r#"a,"b,c","d""e",,f"#), ["a", "b,c", "d\"e", "", "f"]);
        assert_eq!(split_row(""), [""]);
    }

    #[test]
    fn finds_columns_by_header_name() {
        let cols = CsvColumns {
            symbol: "ric".into(),
            ts: "time".into(),
            price: "px".into(),
            size: "qty".into(),
            exchange: None,
            trade_id: Some("id".into()),
        };
        let text = "time,qty,px,ric,id\n2026-07-15T13:30:00Z,100,189.84,AAPL.O,X1\n1,0,1,B,\n";
        let items: Vec<_> =
            CsvReader::new(text.as_bytes(), &cols).unwrap().collect::<io::Result<_>>().unwrap();
        let ReplayItem::Trade(t) = &items[0] else { panic!("{items:?}") };
        assert_eq!(
            (&*t.symbol, t.price.to_string(), t.size.to_string()),
            ("AAPL.O", "189.84".into(), "100".into())
        );
        assert_eq!(t.trade_id, crate::mapping::value::fnv1a(b"X1"));
        let ReplayItem::Reject(r) = &items[1] else { panic!("{items:?}") };
        assert_eq!((r.reason, r.line), (RejectReason::NonPositiveSize, Some(3)));
        assert!(
            matches!(CsvReader::new("a,b\n".as_bytes(), &cols), Err(CsvError::MissingColumn(c)) if c == "ric")
        );
        assert!(matches!(CsvReader::new("".as_bytes(), &cols), Err(CsvError::NoHeader)));
    }
}
