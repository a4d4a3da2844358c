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

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
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
