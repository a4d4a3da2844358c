//! The tables the writer owns: created on start when missing, checked column by column when present.
//!
//! Written in the SQL both ClickHouse 18.16 (Debian's package) and current servers accept: no DateTime64
//! (nanoseconds are `UInt64`, with a `DateTime('UTC')` beside them for people), no TTL or CODEC, no
//! LowCardinality. Every table is a `ReplacingMergeTree` whose sorting key identifies a row, so writing
//! the same row twice (a retry whose first attempt did reach the server, a restart after kill -9) leaves
//! one row after merges, and exactly one in any `FINAL` query.

use crate::error::SinkError;
use std::collections::BTreeMap;
use tickring_engine::candles::Interval;

/// `Session` codes as stored (`tickring_engine::Session`).
const SESSION_ENUM: &str =
    "Enum8('closed' = 0, 'pre' = 1, 'regular' = 2, 'break' = 3, 'post' = 4, 'unknown' = 5)";
/// The session enum before `unknown` existed: tables holding it are migrated in place.
const SESSION_ENUM_V1: &str =
    "Enum8('closed' = 0, 'pre' = 1, 'regular' = 2, 'break' = 3, 'post' = 4)";
/// Candle columns added after the first schema, with the column they follow: added in place when missing.
const ADDED_CANDLE_COLUMNS: &[(&str, &str, &str)] = &[("unverified", "UInt8", "closed")];
/// `DailyScope` as stored.
const SCOPE_ENUM: &str = "Enum8('all' = 0, 'regular' = 1)";

/// One table: its columns in order and the rest of its `CREATE TABLE` statement.
#[derive(Clone, Debug)]
pub struct TableSpec {
    pub name: String,
    pub columns: Vec<(&'static str, String)>,
    pub engine: &'static str,
    pub tail: &'static str,
}

impl TableSpec {
    pub fn create_sql(&self, database: &str) -> String {
        let columns: Vec<String> =
            self.columns.iter().map(|(name, ty)| format!("`{name}` {ty}")).collect();
        format!(
            "CREATE TABLE IF NOT EXISTS `{database}`.`{}` ({}) ENGINE = {} {}",
            self.name,
            columns.join(", "),
            self.engine,
            self.tail
        )
    }
}

fn cols(list: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    list.iter().map(|&(n, t)| (n, t.to_string())).collect()
}

/// Every trade, one row per ring record.
///
/// `trading_day` is 1970-01-01 when the exchange was closed (no trading day); `ts` is `ts_ns` to the second.
pub fn ticks() -> TableSpec {
    TableSpec {
        name: "ticks".into(),
        columns: cols(&[
            ("ts_ns", "UInt64"),
            ("ts", "DateTime('UTC')"),
            ("recv_ns", "UInt64"),
            ("publish_ns", "UInt64"),
            ("epoch", "UInt64"),
            ("seq", "UInt64"),
            ("symbol", "String"),
            ("exchange", "String"),
            ("session", SESSION_ENUM),
            ("trading_day", "Date"),
            ("price", "Decimal(18, 8)"),
            ("size", "Decimal(18, 8)"),
            ("trade_id", "UInt64"),
            ("flags", "UInt8"),
        ]),
        engine: "ReplacingMergeTree()",
        // (epoch, seq) identifies a tick; symbol and ts_ns are functions of it, placed first for queries.
        tail: "PARTITION BY toYYYYMM(ts) ORDER BY (symbol, ts_ns, epoch, seq)",
    }
}

/// Candles of one interval: intraday tables are keyed by the UTC bucket start, `candles_1d` by trading day.
///
/// `rev` orders the writes of one candle (last write wins); `version` is the aggregator's count of closed
/// emissions (1 when it closed, +1 per late amendment); `closed = 0` rows are live previews.
pub fn candles(interval: Interval) -> TableSpec {
    let (name, bucket) = match interval {
        Interval::S1 => ("candles_1s", ("bucket", "DateTime('UTC')")),
        Interval::M1 => ("candles_1m", ("bucket", "DateTime('UTC')")),
        Interval::H1 => ("candles_1h", ("bucket", "DateTime('UTC')")),
        Interval::D1 => ("candles_1d", ("trading_day", "Date")),
    };
    let columns = cols(&[
        bucket,
        ("symbol", "String"),
        ("exchange", "String"),
        ("scope", SCOPE_ENUM),
        ("open", "Decimal(18, 8)"),
        ("high", "Decimal(18, 8)"),
        ("low", "Decimal(18, 8)"),
        ("close", "Decimal(18, 8)"),
        ("volume", "Decimal(18, 8)"),
        ("trades", "UInt64"),
        ("turnover", "Decimal(38, 16)"),
        ("vwap", "Decimal(18, 8)"),
        ("first_seq", "UInt64"),
        ("last_seq", "UInt64"),
        ("version", "UInt32"),
        ("closed", "UInt8"),
        // 1 when a trade outside its calendar's coverage went in: the trading day is the local date.
        ("unverified", "UInt8"),
        ("rev", "UInt64"),
    ]);
    let tail = match interval {
        Interval::D1 => {
            "PARTITION BY toYear(trading_day) ORDER BY (symbol, exchange, scope, trading_day)"
        }
        _ => "PARTITION BY toYYYYMM(bucket) ORDER BY (symbol, exchange, scope, bucket)",
    };
    TableSpec { name: name.into(), columns, engine: "ReplacingMergeTree(rev)", tail }
}

/// The last trade per instrument (by event time, then arrival): an upsert table.
pub fn latest_price() -> TableSpec {
    TableSpec {
        name: "latest_price".into(),
        columns: cols(&[
            ("symbol", "String"),
            ("exchange", "String"),
            ("ts_ns", "UInt64"),
            ("ts", "DateTime('UTC')"),
            ("price", "Decimal(18, 8)"),
            ("size", "Decimal(18, 8)"),
            ("session", SESSION_ENUM),
            ("trading_day", "Date"),
            ("epoch", "UInt64"),
            ("seq", "UInt64"),
            ("recv_ns", "UInt64"),
        ]),
        engine: "ReplacingMergeTree(ts_ns)",
        tail: "ORDER BY (symbol, exchange)",
    }
}

/// All tables the writer needs for `intervals`.
/// How far each writer has stored each epoch: one row per acknowledged flush, written after its ticks.
/// The resume point is the highest `end_seq` of the newest epoch; rows beyond it (an insert interrupted
/// by a crash) are deleted on start and written again.
pub fn progress() -> TableSpec {
    TableSpec {
        name: "writer_progress".into(),
        columns: cols(&[
            ("consumer", "String"),
            ("epoch", "UInt64"),
            ("end_seq", "UInt64"),
            ("written_ns", "UInt64"),
        ]),
        engine: "ReplacingMergeTree(end_seq)",
        tail: "ORDER BY (consumer, epoch)",
    }
}

pub fn all_tables(intervals: &[Interval]) -> Vec<TableSpec> {
    let mut tables = vec![ticks(), latest_price(), progress()];
    tables.extend(intervals.iter().map(|&i| candles(i)));
    tables
}

fn normalize_type(t: &str) -> String {
    t.chars().filter(|c| !c.is_whitespace()).collect::<String>().replace("\\'", "'")
}

/// The `ALTER TABLE` statements that bring an older table of ours up to `spec` without losing rows: the
/// session enum gains `unknown` (`MODIFY COLUMN` to a superset enum rewrites no data), and candle columns
/// added later are added with their zero default. Anything else is left for [`check_columns`] to refuse.
pub fn migrations(database: &str, spec: &TableSpec, found: &[(String, String)]) -> Vec<String> {
    let table = format!("`{database}`.`{}`", spec.name);
    let mut out = Vec::new();
    for (name, ty) in &spec.columns {
        match found.iter().find(|(n, _)| n == name) {
            Some((_, have))
                if *ty == SESSION_ENUM
                    && normalize_type(have) == normalize_type(SESSION_ENUM_V1) =>
            {
                out.push(format!("ALTER TABLE {table} MODIFY COLUMN `{name}` {ty}"));
            }
            Some(_) => {}
            None => {
                if let Some((_, added, after)) =
                    ADDED_CANDLE_COLUMNS.iter().find(|(n, _, _)| n == name)
                {
                    if found.iter().any(|(n, _)| n == after) {
                        out.push(format!(
                            "ALTER TABLE {table} ADD COLUMN `{name}` {added} DEFAULT 0 AFTER `{after}`"
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Compares what the server has with what the writer writes. `found` is `(name, type)` in table order.
///
/// # Errors
/// [`SinkError::IncompatibleTable`] listing missing columns, unexpected columns and type differences.
pub fn check_columns(
    database: &str,
    spec: &TableSpec,
    found: &[(String, String)],
) -> Result<(), SinkError> {
    let norm = normalize_type;
    let have: BTreeMap<&str, String> = found.iter().map(|(n, t)| (n.as_str(), norm(t))).collect();
    let mut diffs = Vec::new();
    for (name, ty) in &spec.columns {
        match have.get(name) {
            None => diffs.push(format!("missing column {name} {ty}")),
            Some(t) if *t != norm(ty) => diffs.push(format!("column {name} is {t}, expected {ty}")),
            Some(_) => {}
        }
    }
    for (name, ty) in found {
        if !spec.columns.iter().any(|(n, _)| n == name) {
            diffs.push(format!("unexpected column {name} {ty}"));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(SinkError::IncompatibleTable {
            table: format!("{database}.{}", spec.name),
            differences: diffs.join("; "),
        })
    }
}

/// Checks the engine family, so that a plain MergeTree (which would keep duplicates) is refused too.
///
/// # Errors
/// [`SinkError::IncompatibleTable`] naming the engine found.
pub fn check_engine(database: &str, spec: &TableSpec, engine: &str) -> Result<(), SinkError> {
    let want = spec.engine.split('(').next().unwrap_or(spec.engine);
    if engine == want {
        return Ok(());
    }
    Err(SinkError::IncompatibleTable {
        table: format!("{database}.{}", spec.name),
        differences: format!("engine is {engine}, expected {want}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_statements_name_every_column() {
        let sql = ticks().create_sql("tickring");
        assert!(
            sql.starts_with("CREATE TABLE IF NOT EXISTS `tickring`.`ticks` (`ts_ns` UInt64,"),
            "{sql}"
        );
        assert!(sql.ends_with("ORDER BY (symbol, ts_ns, epoch, seq)"), "{sql}");
        assert!(candles(Interval::D1).create_sql("db").contains("`trading_day` Date"));
    }

    #[test]
    fn column_check_ignores_spacing_and_names_differences() {
        let spec = latest_price();
        let mut found: Vec<(String, String)> = spec
            .columns
            .iter()
            .map(|(n, t)| (n.to_string(), t.replace(", ", ",").replace('\'', "\\'")))
            .collect();
        assert!(check_columns("db", &spec, &found).is_ok());
        found[4].1 = "Float64".into();
        found.pop();
        found.push(("extra".into(), "String".into()));
        let err = check_columns("db", &spec, &found).expect_err("differs").to_string();
        assert!(err.contains("db.latest_price"), "{err}");
        assert!(err.contains("column price is Float64, expected Decimal(18, 8)"), "{err}");
        assert!(err.contains("missing column recv_ns UInt64"), "{err}");
        assert!(err.contains("unexpected column extra String"), "{err}");
    }

    #[test]
    fn old_tables_are_migrated_in_place_and_then_pass_the_check() {
        let old = |spec: &TableSpec| -> Vec<(String, String)> {
            spec.columns
                .iter()
                .filter(|(n, _)| *n != "unverified")
                .map(|(n, t)| {
                    let t = if *n == "session" { SESSION_ENUM_V1.to_string() } else { t.clone() };
                    (n.to_string(), t)
                })
                .collect()
        };
        let ticks = ticks();
        assert!(check_columns("db", &ticks, &old(&ticks)).is_err());
        assert_eq!(
            migrations("db", &ticks, &old(&ticks)),
            [format!("ALTER TABLE `db`.`ticks` MODIFY COLUMN `session` {SESSION_ENUM}")]
        );
        let daily = candles(Interval::D1);
        assert_eq!(
            migrations("db", &daily, &old(&daily)),
            ["ALTER TABLE `db`.`candles_1d` ADD COLUMN `unverified` UInt8 DEFAULT 0 AFTER `closed`"]
        );
        for spec in all_tables(&[Interval::M1, Interval::D1]) {
            let current: Vec<(String, String)> =
                spec.columns.iter().map(|(n, t)| (n.to_string(), t.clone())).collect();
            assert!(migrations("db", &spec, &current).is_empty(), "{}", spec.name);
        }
        // A foreign session type is not ours to rewrite: left for the check to refuse.
        let mut foreign = old(&ticks);
        foreign.iter_mut().filter(|(n, _)| n == "session").for_each(|(_, t)| *t = "String".into());
        assert!(migrations("db", &ticks, &foreign).is_empty());
    }

    #[test]
    fn engine_check_wants_the_replacing_family() {
        assert!(check_engine("db", &ticks(), "ReplacingMergeTree").is_ok());
        let err = check_engine("db", &ticks(), "MergeTree").expect_err("differs").to_string();
        assert!(err.contains("engine is MergeTree"), "{err}");
    }
}
