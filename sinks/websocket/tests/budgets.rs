//! Work and memory one client can cost the server: snapshot events per client per second (subscribe /
//! unsubscribe loops on `price.*`), and a process-wide memory budget for client queues that sheds the
//! largest non-readers first.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use tickring_engine::Exchange;
use tickring_sink_websocket::WebsocketConfig;
use tokio::net::TcpSocket;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A client with a tiny receive buffer, so that not reading leaves the messages in the server's queue.
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

#[test]
fn subscribe_unsubscribe_loops_get_a_bounded_snapshot_rate() {
    let mut ring = Ring::new(4096);
    let ids: Vec<u32> = (0..600).map(|i| ring.add(&format!("S{i}"), Exchange::Xnys)).collect();
    let cfg = WebsocketConfig { snapshot_events_per_sec: 300, ..config() };
    let server = start(cfg, &ring, None);
    let now = now_ns();
    let ticks: Vec<_> = ids.iter().map(|&id| tick(id, now, "10", "1")).collect();
    ring.publish(&ticks);
    rt().block_on(async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut c = connect(&server).await;
        let sub = json!({"op":"subscribe","channels":["price.*"],"id":1});
        c.send(sub.clone()).await;
        let snap = c.expect(5 * SEC, is_type("snapshot")).await;
        assert_eq!(snap["data"].as_array().unwrap().len(), 600, "one big snapshot is let in");
        c.send(json!({"op":"unsubscribe","channels":["price.*"],"id":2})).await;
        c.expect(5 * SEC, |m| m["type"] == "ack" && m["id"] == 2).await;
        c.send(sub.clone()).await;
        let e = c.expect(5 * SEC, |m| m["id"] == 1).await;
        assert_eq!(e["code"], "snapshot_rate_limited", "{e}");
        c.send(json!({"op":"list","id":3})).await;
        let list = c.expect(5 * SEC, |m| m["id"] == 3).await;
        assert_eq!(list["subscriptions"], json!([]), "nothing changed");
        // 600 events at 300/s: paid off after about a second.
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        c.send(sub).await;
        let snap = c.expect(5 * SEC, is_type("snapshot")).await;
        assert_eq!(snap["data"].as_array().unwrap().len(), 600);
        assert_eq!(server.stats().errors_snapshot_limit, 1);
    });
}

async fn subscribe(c: &mut Conn, ch: &str) {
    c.send(json!({"op":"subscribe","channels":[ch],"id":ch})).await;
    c.expect(5 * SEC, |m| m["type"] == "ack").await;
}

#[test]
fn over_the_queue_memory_budget_the_largest_non_reader_goes_first() {
    let mut ring = Ring::new(1 << 16);
    let ids: Vec<u32> = (0..10).map(|i| ring.add(&format!("M{i}"), Exchange::Xnys)).collect();
    let cfg = WebsocketConfig {
        queue_memory_budget_bytes: 4 << 20,
        trade_queue: 1 << 20,
        socket_send_buffer: 4_096,
        slow_client_disconnect_ms: 60_000,
        ..config()
    };
    let server = start(cfg, &ring, None);
    rt().block_on(async {
        let mut hog = connect_small(&server).await;
        subscribe(&mut hog, "trade.*").await;
        let mut small = connect_small(&server).await;
        subscribe(&mut small, "trade.M0").await;
        let mut reader = connect(&server).await;
        subscribe(&mut reader, "trade.M0").await;
        // About 8 MB of trades for the hog, a tenth of that for the small non-reader.
        let t0 = now_ns();
        let mut seen = 0;
        for round in 0..40u64 {
            let batch: Vec<_> = (0..500u64)
                .map(|i| tick(ids[(i % 10) as usize], t0 + round * 500 + i, "10", "1"))
                .collect();
            ring.publish(&batch);
            seen += reader.drain_for(Duration::from_millis(10)).await.len();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let s = server.stats();
        assert_eq!(s.closed_memory_budget, 1, "exactly the hog is shed: {s:?}");
        // The reader got its trades throughout and still does.
        seen += reader.drain_for(Duration::from_millis(500)).await.len();
        assert!(seen >= 2_000, "reader saw {seen} of 2000 trades");
        // The small non-reader is still connected: reading now, it gets its backlog and a pong.
        small.send(json!({"op":"ping","id":"p"})).await;
        small.expect(20 * SEC, |m| m["type"] == "pong").await;
        let (close, _) = hog.expect_close(20 * SEC).await;
        if let Some((code, reason)) = close {
            assert_eq!(code, 1008, "{reason}");
        }
    });
}
