//! Slow and frozen clients: a client that never reads does not delay one that does (both measured), a
//! slow reader gets every trade or a gap notice counting it and the latest price, and a lapped pusher tells
//! its clients.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tickring_engine::Exchange;
use tickring_sink_websocket::WebsocketConfig;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

/// A client with a tiny receive buffer, so that not reading fills the path quickly.
async fn connect_small(server: &tickring_sink_websocket::Server) -> Conn {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.local_addr()).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(
        ws_url(server),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    Conn::from_ws(ws)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Publishes `n` ticks of `id` at `rate`/s from a thread while `reader` collects trade latencies (µs).
fn run_phase(
    ring: &mut Ring,
    id: u32,
    n: usize,
    rate: u64,
    reader: &mut Conn,
    rt: &tokio::runtime::Runtime,
) -> (Vec<u64>, u64) {
    let mut latencies = Vec::with_capacity(n);
    let mut gaps = 0;
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now();
    let mut sent = 0;
    let mut received = 0;
    while received < n {
        while sent < n && start.elapsed() >= interval * sent as u32 {
            ring.publish(&[tick(id, now_ns(), "100", "1")]);
            sent += 1;
        }
        let msgs = rt.block_on(reader.drain_for(Duration::from_millis(1)));
        for m in msgs {
            match m["type"].as_str() {
                Some("trade") => {
                    let lat = now_ns().saturating_sub(m["ts_publish"].as_u64().unwrap());
                    latencies.push(lat / 1_000);
                    received += 1;
                }
                Some("gap") => gaps += m["dropped"].as_u64().unwrap_or(0),
                _ => {}
            }
        }
        assert!(start.elapsed() < Duration::from_secs(30), "reader got {received} of {n}");
    }
    latencies.sort_unstable();
    (latencies, gaps)
}

#[test]
fn a_frozen_client_does_not_delay_a_reading_one() {
    let mut ring = Ring::new(65_536);
    let id = ring.add("FRZ", Exchange::Xnas);
    let cfg = WebsocketConfig {
        slow_client_disconnect_ms: 1_000,
        socket_send_buffer: 8_192,
        trade_queue: 256,
        ..config()
    };
    let server = start(cfg, &ring, None);
    let rt = rt();
    let mut reader = rt.block_on(connect(&server));
    rt.block_on(async {
        reader.send(json!({"op":"subscribe","channels":["trade.FRZ"]})).await;
        reader.expect(5 * SEC, is_type("snapshot")).await;
    });
    let (n, rate) = (3_000, 2_000);
    let (alone, gaps_alone) = run_phase(&mut ring, id, n, rate, &mut reader, &rt);

    let mut frozen = rt.block_on(connect_small(&server));
    rt.block_on(frozen.ws.send(Message::Text(
        json!({"op":"subscribe","channels":["trade.FRZ","price.*"]}).to_string().into(),
    )))
    .unwrap();
    let (with_frozen, gaps_frozen) = run_phase(&mut ring, id, n, rate, &mut reader, &rt);
    let stats = server.stats();
    println!(
        "reading client, {n} trades at {rate}/s: alone p50 {} us p99 {} us max {} us; beside a frozen client p50 {} us p99 {} us max {} us; frozen client closed as slow: {}, trades dropped for it: {}",
        percentile(&alone, 0.5),
        percentile(&alone, 0.99),
        percentile(&alone, 1.0),
        percentile(&with_frozen, 0.5),
        percentile(&with_frozen, 0.99),
        percentile(&with_frozen, 1.0),
        stats.closed_slow,
        stats.trades_dropped,
    );
    assert_eq!((gaps_alone, gaps_frozen), (0, 0), "the reading client lost nothing");
    // Generous sanity only: the machine is shared and noisy.
    assert!(percentile(&with_frozen, 0.99) < 1_000_000, "p99 under a second");
    assert!(stats.trades_dropped > 0, "the frozen client fell behind: {stats:?}");
    assert_eq!(stats.closed_slow, 1, "and was disconnected as slow: {stats:?}");
    drop(frozen);
}

#[test]
fn a_slow_reader_gets_every_trade_or_its_count_and_the_latest_price() {
    let mut ring = Ring::new(65_536);
    let id = ring.add("SLW", Exchange::Xnas);
    let cfg = WebsocketConfig {
        trade_queue: 16,
        socket_send_buffer: 4_096,
        slow_client_disconnect_ms: 60_000,
        ..config()
    };
    let server = start(cfg, &ring, None);
    let rt = rt();
    rt.block_on(async {
        let mut c = connect_small(&server).await;
        c.send(json!({"op":"subscribe","channels":["trade.SLW","price.SLW"]})).await;
        c.expect(5 * SEC, is_type("ack")).await;
        // Drain the snapshots so the queue is empty, then stop reading while trades pour in.
        let _ = c.drain_for(Duration::from_millis(200)).await;
        let n = 5_000u64;
        let base = now_ns();
        for i in 0..n {
            let price = format!("{}.{:02}", 100 + i / 100, i % 100);
            ring.publish(&[tick(id, base + i, &price, "1")]);
        }
        let last_price = format!("{}.{:02}", 100 + (n - 1) / 100, (n - 1) % 100).trim_end_matches('0').trim_end_matches('.').to_string();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let msgs = c.drain_for(Duration::from_millis(1500)).await;
        let trades = msgs.iter().filter(|m| m["type"] == "trade").count() as u64;
        let prices: Vec<&Value> = msgs.iter().filter(|m| m["type"] == "price").collect();
        let dropped: u64 = msgs.iter().filter(|m| m["type"] == "gap").map(|m| m["dropped"].as_u64().unwrap()).sum();
        println!("slow reader: {trades} trades received + {dropped} reported dropped of {n}; {} price updates (conflated)", prices.len());
        assert!(dropped > 0, "the bound was hit");
        assert_eq!(trades + dropped, n, "every trade is either delivered or counted in a gap notice");
        assert!((prices.len() as u64) < n, "prices were conflated");
        assert_eq!(prices.last().unwrap()["price"], last_price.as_str(), "the latest price wins");
        let seqs: Vec<u64> = msgs.iter().filter(|m| m["type"] == "trade").map(|m| m["seq"].as_u64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "trades stay in order");
    });
}

#[test]
fn a_lapped_pusher_counts_the_overrun_and_tells_its_clients() {
    let mut ring = Ring::new(16);
    let id = ring.add("LAP", Exchange::Xnas);
    let server = start(config(), &ring, None);
    let rt = rt();
    rt.block_on(async {
        let mut c = connect(&server).await;
        c.send(json!({"op":"subscribe","channels":["trade.*"]})).await;
        c.expect(5 * SEC, is_type("ack")).await;
        // 200k ticks into a 16-slot ring in one go: the reader (which formats JSON per tick) falls a ring
        // behind many times over.
        let base = now_ns();
        let ticks: Vec<_> = (0..200_000u64).map(|i| tick(id, base + i, "1", "1")).collect();
        ring.publish(&ticks);
        let gap = c.expect(10 * SEC, |m| m["type"] == "gap" && m["reason"] == "ring_overrun").await;
        assert!(gap["missed"].as_u64().unwrap() > 0, "{gap}");
        let s = server.stats();
        assert!(s.ring_overruns >= 1 && s.ring_missed > 0, "{s:?}");
        println!("lapped {} times, {} ticks missed of 200000", s.ring_overruns, s.ring_missed);
    });
}
