//! Against a real ClickHouse server started by scripts/clickhouse.sh (nothing is mocked; a server that
//! cannot start fails the tests with the script's reason).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::time::{Duration, Instant};
use tickring_engine::candles::Series;
use tickring_sink_clickhouse::fixture::{fixture_ticks, FixtureSpec};
use tickring_sink_clickhouse::{verify, Exit, SinkError, Store, Writer};

fn check_everything(store: &Store, ticks: &[tickring_engine::Tick], versions: bool) {
    let client = store.client();
    let counts = block_on(verify::tick_counts(client)).unwrap();
    let n = ticks.len() as u64;
    assert_eq!((counts.final_rows, counts.distinct), (n, n), "{counts:?}");
    block_on(verify::check_volumes(client, ticks)).unwrap();
    block_on(verify::check_latest(client, ticks)).unwrap();
    for series in Series::DEFAULT {
        let candles = block_on(verify::check_candles(client, ticks, series, versions)).unwrap();
        assert!(candles > 0 || series == Series::D1_REGULAR, "no {series} candles");
    }
}

#[test]
fn ticks_candles_and_latest_prices_arrive_exactly() {
    init_logs();
    server("start", 18123);
    let ring = TestRing::new("ch-e2e");
    let cfg = writer_config("tickring_test_e2e", 18123);
    let ticks = fixture_ticks(FixtureSpec::new(60_000));
    let mut producer = ring.producer();
    let mut writer = Writer::new(&ring.cfg, &Default::default(), cfg.clone(), "").unwrap();
    drop_database(&cfg);
    let store = Store::new(&cfg, "");
    let handle = std::thread::spawn(move || (writer.run(), writer.stats().clone()));
    publish(&mut producer, &ticks, 2_000, Duration::from_millis(20));
    drop(producer);
    let (exit, stats) = handle.join().unwrap();
    assert_eq!(exit.unwrap(), Exit::ProducerClosed);
    assert_eq!(stats.ticks_written, ticks.len() as u64, "{stats}");
    assert!(stats.flushes >= 10, "small batches flush often: {stats}");
    assert_eq!(stats.failures_total(), 0, "{stats}");
    // Counts are exact even without FINAL: nothing was written twice.
    assert_eq!(block_on(verify::tick_counts(store.client())).unwrap().raw, ticks.len() as u64);
    check_everything(&store, &ticks, true);
    // Late ticks were re-emitted with higher versions, and those versions are what is stored.
    assert!(stats.candle_late_reemits > 0, "{stats}");
}

#[test]
fn an_incompatible_table_is_refused_naming_it_and_its_columns() {
    init_logs();
    server("start", 18123);
    let ring = TestRing::new("ch-incompat");
    let cfg = writer_config("tickring_test_incompat", 18123);
    let mut writer = Writer::new(&ring.cfg, &Default::default(), cfg.clone(), "").unwrap();
    drop_database(&cfg);
    let store = Store::new(&cfg, "");
    let client = store.server_client().clone();
    block_on(async {
        client.query("CREATE DATABASE tickring_test_incompat").execute().await.unwrap();
        client
            .query("CREATE TABLE tickring_test_incompat.latest_price (symbol String, price Float64) ENGINE = ReplacingMergeTree() ORDER BY symbol")
            .execute()
            .await
            .unwrap();
    });
    let err = writer.run().expect_err("incompatible schema");
    let text = err.to_string();
    assert!(matches!(err, SinkError::IncompatibleTable { .. }), "{text}");
    assert!(text.contains("tickring_test_incompat.latest_price"), "{text}");
    assert!(text.contains("column price is Float64, expected Decimal(18, 8)"), "{text}");
    assert!(text.contains("missing column ts_ns UInt64"), "{text}");
    // Creating the schema twice is a no-op.
    drop_database(&cfg);
    let tables =
        tickring_sink_clickhouse::schema::all_tables(&tickring_engine::candles::Interval::ALL);
    for _ in 0..2 {
        block_on(store.ensure_schema(&tables)).unwrap().unwrap();
    }
}

#[test]
fn a_clickhouse_outage_is_retried_and_the_ring_absorbs_it() {
    // A server of its own: stopping the shared one would break the other tests.
    const PORT: u16 = 18124;
    init_logs();
    server("start", PORT);
    let ring = TestRing::new("ch-outage");
    let cfg = writer_config("tickring_test_outage", PORT);
    let ticks = fixture_ticks(FixtureSpec::new(60_000));
    let mut producer = ring.producer();
    let mut writer = Writer::new(&ring.cfg, &Default::default(), cfg.clone(), "").unwrap();
    drop_database(&cfg);
    let store = Store::new(&cfg, "");
    let handle = std::thread::spawn(move || (writer.run(), writer.stats().clone()));
    let (before, rest) = ticks.split_at(20_000);
    publish(&mut producer, before, 2_000, Duration::from_millis(20));
    server("stop", PORT);
    let down = Instant::now();
    // Ticks keep coming while ClickHouse is down; the gating writer holds them in the ring.
    let (during, after) = rest.split_at(20_000);
    publish(&mut producer, during, 2_000, Duration::from_millis(500));
    std::thread::sleep(Duration::from_secs(10).saturating_sub(down.elapsed()));
    init_logs();
    server("start", PORT);
    publish(&mut producer, after, 2_000, Duration::from_millis(20));
    drop(producer);
    let (exit, stats) = handle.join().unwrap();
    assert_eq!(exit.unwrap(), Exit::ProducerClosed);
    assert!(stats.failures_total() >= 3 && stats.retries >= 3, "retried with backoff: {stats}");
    assert_eq!(stats.ticks_written, ticks.len() as u64, "{stats}");
    check_everything(&store, &ticks, true);
}

#[test]
fn tables_of_the_first_schema_are_migrated_in_place_keeping_their_rows() {
    init_logs();
    server("start", 18123);
    let cfg = writer_config("tickring_test_migrate", 18123);
    drop_database(&cfg);
    let store = Store::new(&cfg, "");
    let client = store.server_client().clone();
    let tables =
        tickring_sink_clickhouse::schema::all_tables(&tickring_engine::candles::Interval::ALL);
    let db = "tickring_test_migrate";
    block_on(async {
        store.ensure_schema(&tables).await.unwrap().unwrap();
        // Back to the first schema: five sessions, no `unverified` candle column; one row in each.
        let v1 = "Enum8('closed' = 0, 'pre' = 1, 'regular' = 2, 'break' = 3, 'post' = 4)";
        for sql in [
            format!("ALTER TABLE {db}.ticks MODIFY COLUMN session {v1}"),
            format!("ALTER TABLE {db}.candles_1d DROP COLUMN unverified"),
            format!("INSERT INTO {db}.ticks (epoch, seq, symbol, session) VALUES (1, 7, 'AAPL.O', 'post')"),
            format!("INSERT INTO {db}.candles_1d (symbol, trades) VALUES ('AAPL.O', 3)"),
        ] {
            client.query(&sql).execute().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        store.ensure_schema(&tables).await.unwrap().unwrap();
        let ty = client
            .query(&format!("SELECT type FROM system.columns WHERE database = '{db}' AND table = 'ticks' AND name = 'session'"))
            .fetch_one::<String>()
            .await
            .unwrap();
        assert!(ty.contains("'unknown' = 5"), "{ty}");
        let kept = client
            .query(&format!("SELECT toString(session), seq FROM {db}.ticks"))
            .fetch_all::<(String, u64)>()
            .await
            .unwrap();
        assert_eq!(kept, [("post".to_string(), 7)]);
        let candles = client
            .query(&format!("SELECT trades, unverified FROM {db}.candles_1d"))
            .fetch_all::<(u64, u8)>()
            .await
            .unwrap();
        assert_eq!(candles, [(3, 0)], "the old row, not unverified");
    });
    drop_database(&cfg);
}
