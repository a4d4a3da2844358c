//! `tuning.toml` loading. `Tuning::parse` lives in the binary crate, so this mirrors it over the library
//! crates: each section's config type deserialized (`deny_unknown_fields`) and validated in the same order,
//! including `[ingest]` against `[ring]`; `[up]` (binary-only) is taken as any table. No panic, and every
//! timer of a validated config can be armed (fits u64 nanoseconds and `Instant::now() +`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use std::time::{Duration, Instant};
use tickring_engine::ingest::IngestConfig;
use tickring_ipc::RingConfig;
use tickring_journal::JournalConfig;
use tickring_sink_clickhouse::ClickhouseConfig;
use tickring_sink_websocket::WebsocketConfig;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(dead_code)]
struct Tuning {
    ring: RingConfig,
    journal: JournalConfig,
    ingest: IngestConfig,
    clickhouse: ClickhouseConfig,
    websocket: WebsocketConfig,
    up: toml::Table,
}

fn armable(what: &str, d: Duration) {
    assert!(d.as_nanos() <= u128::from(u64::MAX), "{what} = {d:?} overflows u64 ns");
    assert!(Instant::now().checked_add(d).is_some(), "{what} = {d:?} cannot be armed");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The whole file, as `Tuning::parse` reads it.
    if let Ok(t) = toml::from_str::<Tuning>(text) {
        let valid = t.ring.validate().is_ok()
            && t.journal.validate().is_ok()
            && t.ingest.validate(&t.ring).is_ok()
            && t.clickhouse.validate().is_ok()
            && t.websocket.validate().is_ok();
        if valid {
            armable("ring.heartbeat_interval", t.ring.heartbeat_interval());
            armable("ring.heartbeat_timeout", t.ring.heartbeat_timeout());
            let _ = (t.ring.segment_path(), t.ring.lock_path(), t.journal.ring_dir(&t.ring.name));
            if let Some(age) = t.journal.retention_age() {
                armable("journal.retention_age", age);
            }
            for i in 0..t.ingest.lseg.connections.min(4) {
                let _ = t.ingest.lseg.connection(i);
            }
            armable("clickhouse.flush_interval", t.clickhouse.flush_interval());
            armable("clickhouse.request_timeout", t.clickhouse.request_timeout());
            let _ = t.clickhouse.candle_config();
            let ws = &t.websocket;
            for (what, d) in [
                ("websocket.ping_interval", ws.ping_interval()),
                ("websocket.ping_timeout", ws.ping_timeout()),
                ("websocket.handshake_timeout", ws.handshake_timeout()),
                ("websocket.http_write_timeout", ws.http_write_timeout()),
                ("websocket.slow_client_disconnect", ws.slow_client_disconnect()),
                ("websocket.candle_update", ws.candle_update()),
                ("websocket.feed_wait", ws.feed_wait()),
            ] {
                armable(what, d);
            }
            let _ = ws.candle_config();
        }
    }
    // Each section on its own: a fragment without the table header still reaches every key.
    if let Ok(c) = toml::from_str::<RingConfig>(text) {
        let _ = c.validate();
    }
    if let Ok(c) = toml::from_str::<JournalConfig>(text) {
        let _ = c.validate();
    }
    if let Ok(c) = toml::from_str::<IngestConfig>(text) {
        let _ = c.validate(&RingConfig::default());
    }
    if let Ok(c) = toml::from_str::<ClickhouseConfig>(text) {
        let _ = c.validate();
    }
    if let Ok(c) = toml::from_str::<WebsocketConfig>(text) {
        let _ = c.validate();
    }
});
