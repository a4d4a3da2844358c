//! The ClickHouse side of the writer: schema, inserts, and the reads a restart needs. Every call is bounded
//! by `request_timeout_ms`; none retries (the writer decides that).

use crate::config::ClickhouseConfig;
use crate::error::SinkError;
use crate::rows::{
    bucket_value, DailyCandleRow, IntradayCandleRow, LatestRow, StoredTick, TickRow,
};
use crate::schema::{self, TableSpec};
use clickhouse::error::{Error, Result};
use clickhouse::query::RowCursor;
use clickhouse::Client;
use std::future::Future;
use std::time::Duration;
use tickring_engine::candles::{Candle, Interval};
use tickring_engine::Tick;
use tickring_sink_core::Names;

/// Clones share the connection pool, whose connections belong to the async runtime that opened them: use
/// one `Store::new` per runtime.
#[derive(Clone)]
pub struct Store {
    /// Without a database: `CREATE DATABASE` must work before the database exists.
    server: Client,
    client: Client,
    database: String,
    timeout: Duration,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("database", &self.database).finish_non_exhaustive()
    }
}

impl Store {
    pub fn new(cfg: &ClickhouseConfig, password: &str) -> Self {
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(60)));
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(2))
                .build(connector);
        let server = Client::with_http_client(http)
            .with_url(&cfg.url)
            .with_user(&cfg.user)
            .with_password(password)
            // 18.16 knows neither the setting nor the format that validation sends.
            .with_validation(false);
        let client = server.clone().with_database(&cfg.database);
        Self { server, client, database: cfg.database.clone(), timeout: cfg.request_timeout() }
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    async fn bounded<T>(&self, f: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.timeout, f).await.unwrap_or(Err(Error::TimedOut))
    }

    pub async fn ping(&self) -> Result<()> {
        self.bounded(self.server.query("SELECT 1").fetch_one::<u8>()).await.map(drop)
    }

    /// Creates the database and missing tables; migrates older tables of ours ([`schema::migrations`]) and
    /// checks existing ones.
    ///
    /// # Errors
    /// `Ok(Err(..))` for an incompatible table (not worth retrying); `Err` for a failed request.
    pub async fn ensure_schema(&self, tables: &[TableSpec]) -> Result<Result<(), SinkError>> {
        let db = &self.database;
        self.bounded(self.server.query(&format!("CREATE DATABASE IF NOT EXISTS `{db}`")).execute())
            .await?;
        for spec in tables {
            let existing = self.table_engine(&spec.name).await?;
            match existing {
                None => {
                    self.bounded(self.server.query(&spec.create_sql(db)).execute()).await?;
                    tracing::info!(table = %format!("{db}.{}", spec.name), "created table");
                }
                Some(engine) => {
                    if let Err(e) = schema::check_engine(db, spec, &engine) {
                        return Ok(Err(e));
                    }
                    let mut columns = self.table_columns(&spec.name).await?;
                    let alters = schema::migrations(db, spec, &columns);
                    for alter in &alters {
                        self.bounded(self.server.query(alter).execute()).await?;
                        tracing::info!(table = %format!("{db}.{}", spec.name), %alter, "migrated table");
                    }
                    if !alters.is_empty() {
                        columns = self.table_columns(&spec.name).await?;
                    }
                    if let Err(e) = schema::check_columns(db, spec, &columns) {
                        return Ok(Err(e));
                    }
                }
            }
        }
        Ok(Ok(()))
    }

    async fn table_engine(&self, table: &str) -> Result<Option<String>> {
        let q = self
            .server
            .query("SELECT engine FROM system.tables WHERE database = ? AND name = ?")
            .bind(&self.database)
            .bind(table);
        self.bounded(q.fetch_optional::<String>()).await
    }

    /// `(name, type)` of a table's columns in table order.
    pub async fn table_columns(&self, table: &str) -> Result<Vec<(String, String)>> {
        let q = self
            .server
            .query("SELECT name, type FROM system.columns WHERE database = ? AND table = ?")
            .bind(&self.database)
            .bind(table);
        self.bounded(q.fetch_all::<(String, String)>()).await
    }

    /// Ticks of `epoch` with their ring sequences, `instrument_id` already the writer id, in one insert.
    pub async fn insert_ticks(
        &self,
        epoch: u64,
        ticks: &[(u64, Tick)],
        names: &Names,
    ) -> Result<u64> {
        let mut insert = self
            .client
            .insert::<TickRow<'_>>("ticks")
            .await?
            .with_timeouts(Some(self.timeout), Some(self.timeout));
        for (seq, tick) in ticks {
            let (symbol, mic) = names.name(tick.instrument_id);
            insert.write(&TickRow::new(epoch, *seq, tick, symbol, mic)).await?;
        }
        self.bounded(insert.end()).await?;
        Ok(ticks.len() as u64)
    }

    /// Candles of one interval's table, each with its write revision.
    pub async fn insert_candles(
        &self,
        interval: Interval,
        candles: impl Iterator<Item = &(Candle, u64)>,
        names: &Names,
    ) -> Result<u64> {
        let table = schema::candles(interval).name;
        let mut rows = 0u64;
        if interval == Interval::D1 {
            let mut insert = self
                .client
                .insert::<DailyCandleRow<'_>>(&table)
                .await?
                .with_timeouts(Some(self.timeout), Some(self.timeout));
            for (candle, rev) in candles {
                let (symbol, mic) = names.name(candle.instrument_id);
                let Err(day) = bucket_value(candle.bucket) else { continue };
                insert.write(&DailyCandleRow::new(day, candle, *rev, symbol, mic)).await?;
                rows += 1;
            }
            self.bounded(insert.end()).await?;
        } else {
            let mut insert = self
                .client
                .insert::<IntradayCandleRow<'_>>(&table)
                .await?
                .with_timeouts(Some(self.timeout), Some(self.timeout));
            for (candle, rev) in candles {
                let (symbol, mic) = names.name(candle.instrument_id);
                let Ok(start) = bucket_value(candle.bucket) else { continue };
                insert.write(&IntradayCandleRow::new(start, candle, *rev, symbol, mic)).await?;
                rows += 1;
            }
            self.bounded(insert.end()).await?;
        }
        Ok(rows)
    }

    /// The newest trade per instrument: `(writer id, epoch, seq, tick)`.
    pub async fn insert_latest(
        &self,
        latest: &[(u32, u64, u64, Tick)],
        names: &Names,
    ) -> Result<u64> {
        let mut insert = self
            .client
            .insert::<LatestRow<'_>>("latest_price")
            .await?
            .with_timeouts(Some(self.timeout), Some(self.timeout));
        for (id, epoch, seq, tick) in latest {
            let (symbol, mic) = names.name(*id);
            insert.write(&LatestRow::new(*epoch, *seq, tick, symbol, mic)).await?;
        }
        self.bounded(insert.end()).await?;
        Ok(latest.len() as u64)
    }

    /// One past the highest sequence of `epoch` stored (0 when none): what a restart need not write again.
    pub async fn stored_end(&self, epoch: u64) -> Result<u64> {
        let q =
            self.client.query("SELECT count(), max(seq) FROM ticks WHERE epoch = ?").bind(epoch);
        let (count, max) = self.bounded(q.fetch_one::<(u64, u64)>()).await?;
        Ok(if count == 0 { 0 } else { max + 1 })
    }

    /// Newest stored event time, `None` for an empty table.
    /// Records that the store holds every tick of `epoch` below `end_seq` (for `consumer`).
    pub async fn insert_progress(&self, consumer: &str, epoch: u64, end_seq: u64) -> Result<()> {
        let now = tickring_ipc::clock::realtime_ns();
        let q = self
            .client
            .query("INSERT INTO writer_progress (consumer, epoch, end_seq, written_ns) VALUES (?, ?, ?, ?)")
            .bind(consumer)
            .bind(epoch)
            .bind(end_seq)
            .bind(now);
        self.bounded(q.execute()).await
    }

    /// The (epoch, next sequence) the store holds everything before, for `consumer`: its newest progress
    /// row, or for a store written before progress rows existed, the newest epoch's highest stored sequence.
    pub async fn resume_point(&self, consumer: &str) -> Result<Option<(u64, u64)>> {
        let q = self
            .client
            .query("SELECT epoch, max(end_seq) FROM writer_progress WHERE consumer = ? GROUP BY epoch ORDER BY epoch DESC LIMIT 1")
            .bind(consumer);
        if let Some(found) = self.bounded(q.fetch_optional::<(u64, u64)>()).await? {
            return Ok(Some(found));
        }
        let q = self.client.query(
            "SELECT epoch, max(seq) + 1 FROM ticks GROUP BY epoch ORDER BY max(publish_ns) DESC LIMIT 1",
        );
        self.bounded(q.fetch_optional::<(u64, u64)>()).await
    }

    /// Deletes tick rows beyond the resume point: of `epoch` from `end_seq` on, and of later epochs (an
    /// insert a crash interrupted before its progress row). Returns how many there were.
    pub async fn remove_unacknowledged(&self, epoch: u64, end_seq: u64) -> Result<u64> {
        let filter = "(epoch = ? AND seq >= ?) OR epoch > ?";
        let q = self
            .client
            .query(&format!("SELECT count() FROM ticks WHERE {filter}"))
            .bind(epoch)
            .bind(end_seq)
            .bind(epoch);
        let rows = self.bounded(q.fetch_one::<u64>()).await?;
        if rows > 0 {
            let q = self
                .client
                .query(&format!("ALTER TABLE ticks DELETE WHERE {filter}"))
                .bind(epoch)
                .bind(end_seq)
                .bind(epoch);
            self.bounded(q.execute()).await?;
        }
        Ok(rows)
    }

    /// Rows and distinct sequences stored for `epoch` in `first..end`.
    pub async fn count_range(&self, epoch: u64, first: u64, end: u64) -> Result<(u64, u64)> {
        let q = self
            .client
            .query("SELECT count(), uniqExact(seq) FROM ticks WHERE epoch = ? AND seq >= ? AND seq < ?")
            .bind(epoch)
            .bind(first)
            .bind(end);
        self.bounded(q.fetch_one::<(u64, u64)>()).await
    }

    /// Deletes the rows of `epoch` in `first..end` (rows inserted later are not affected: a mutation
    /// applies to the parts that exist when it is issued).
    pub async fn delete_range(&self, epoch: u64, first: u64, end: u64) -> Result<()> {
        let q = self
            .client
            .query("ALTER TABLE ticks DELETE WHERE epoch = ? AND seq >= ? AND seq < ?")
            .bind(epoch)
            .bind(first)
            .bind(end);
        self.bounded(q.execute()).await
    }

    pub async fn newest_tick_ns(&self) -> Result<Option<u64>> {
        let q = self.client.query("SELECT count(), max(ts_ns) FROM ticks");
        let (count, max) = self.bounded(q.fetch_one::<(u64, u64)>()).await?;
        Ok((count > 0).then_some(max))
    }

    /// Epochs with ticks at or after `from_ns`, in the order their producers ran.
    pub async fn epochs_since(&self, from_ns: u64) -> Result<Vec<u64>> {
        let q = self
            .client
            .query("SELECT epoch, min(publish_ns) AS first_publish FROM ticks WHERE ts_ns >= ? GROUP BY epoch ORDER BY first_publish")
            .bind(from_ns);
        let rows = self.bounded(q.fetch_all::<(u64, u64)>()).await?;
        Ok(rows.into_iter().map(|(epoch, _)| epoch).collect())
    }

    /// Stored ticks of `epoch` at or after `from_ns`, in ring order (duplicates adjacent).
    /// Stored ticks of `epoch` from `from_ns` on with a sequence below `below`, in sequence order.
    pub fn ticks_of_epoch(
        &self,
        epoch: u64,
        from_ns: u64,
        below: u64,
    ) -> Result<RowCursor<StoredTick>> {
        self.client
            .query(&format!(
                "SELECT {} FROM ticks WHERE epoch = ? AND ts_ns >= ? AND seq < ? ORDER BY seq",
                StoredTick::COLUMNS
            ))
            .bind(epoch)
            .bind(from_ns)
            .bind(below)
            .fetch::<StoredTick>()
    }

    /// A client without a database selected (DDL on the database itself).
    pub fn server_client(&self) -> &Client {
        &self.server
    }

    /// A query for tests, tools and the benchmark (with the database selected).
    pub fn client(&self) -> &Client {
        &self.client
    }
}
