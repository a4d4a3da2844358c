//! The protocol seen by a real websocket client: hello, subscribe/ack/snapshot/events, unsubscribe, list,
//! wildcards, app-level ping, errors with codes for hostile input, server pings.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use futures_util::SinkExt;
use serde_json::json;
use std::time::Duration;
use tickring_engine::Exchange;
use tokio_tungstenite::tungstenite::Message;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn subscribe_receive_events_then_unsubscribe() {
    let mut ring = Ring::new(4096);
    let aapl = ring.add("AAPL.N", Exchange::Xnys);
    let server = start(config(), &ring, None);
    rt().block_on(async {
        let mut ws = connect(&server).await;
        let hello = ws.expect(5 * SEC, is_type("hello")).await;
        assert_eq!(hello["limits"]["max_subscriptions"], 200);
        ws.send(json!({"op":"subscribe","channels":["trade.AAPL.N","price.AAPL.N"],"id":1})).await;
        let ack = ws.expect(5 * SEC, is_type("ack")).await;
        assert_eq!(ack["id"], 1);
        assert_eq!(ack["subscriptions"], json!(["trade.AAPL.N", "price.AAPL.N"]));
        let now = now_ns();
        ring.publish(&[tick(aapl, now, "189.25", "100")]);
        let trade = ws.expect(5 * SEC, is_type("trade")).await;
        assert_eq!(trade["symbol"], "AAPL.N");
        assert_eq!(trade["channel"], "trade.AAPL.N");
        assert_eq!(trade["exchange"], "XNYS");
        assert_eq!(trade["session"], "regular");
        assert!(trade["trading_day"].as_str().unwrap().len() == 10, "{trade}");
        assert_eq!(trade["price"], "189.25");
        assert_eq!(trade["size"], "100");
        assert_eq!(trade["ts_event"], now);
        let price = ws.expect(5 * SEC, is_type("price")).await;
        assert_eq!(price["price"], "189.25");

        ws.send(json!({"op":"unsubscribe","channels":["trade.AAPL.N"],"id":"u"})).await;
        let ack = ws.expect(5 * SEC, is_type("ack")).await;
        assert_eq!((ack["id"].as_str(), ack["op"].as_str()), (Some("u"), Some("unsubscribe")));
        assert_eq!(ack["subscriptions"], json!(["price.AAPL.N"]));
        ring.publish(&[tick(aapl, now + 1, "190", "5")]);
        let price = ws.expect(5 * SEC, is_type("price")).await;
        assert_eq!(price["price"], "190");
        // Nothing of the trade channel follows.
        let later = ws.drain_for(Duration::from_millis(300)).await;
        assert!(later.iter().all(|m| m["type"] != "trade"), "{later:?}");
        ws.send(json!({"op":"list","id":3})).await;
        let list = ws.expect(5 * SEC, is_type("ack")).await;
        assert_eq!((list["op"].as_str(), list["id"].as_i64()), (Some("list"), Some(3)));
        assert_eq!(list["subscriptions"], json!(["price.AAPL.N"]));
        ws.send(json!({"op":"ping","id":4})).await;
        assert_eq!(ws.expect(5 * SEC, is_type("pong")).await["id"], 4);
    });
}

#[test]
fn snapshot_holds_recent_trades_price_and_candles() {
    let mut ring = Ring::new(4096);
    let id = ring.add("VOD.L", Exchange::Xlon);
    let server = start(config(), &ring, None);
    // Two minutes of trades: the first 1m candle closes when the second minute's first trade arrives.
    let m0 = (now_ns() / 60_000_000_000 - 3) * 60_000_000_000;
    let ticks = [
        tick(id, m0 + 1_000_000_000, "10", "1"),
        tick(id, m0 + 2_000_000_000, "12", "2"),
        tick(id, m0 + 3_000_000_000, "9", "3"),
        tick(id, m0 + 61_000_000_000, "11", "4"),
        tick(id, m0 + 62_000_000_000, "11.5", "1"),
    ];
    ring.publish(&ticks);
    rt().block_on(async {
        // Let the reader take them in and the candle clock run once.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut ws = connect(&server).await;
        ws.send(json!({"op":"subscribe","channels":["price.VOD.L","trade.VOD.L","candle.1m.VOD.L"],"id":9})).await;
        let mut snaps = Vec::new();
        while snaps.len() < 3 {
            snaps.push(ws.expect(5 * SEC, is_type("snapshot")).await);
        }
        let by = |ch: &str| snaps.iter().find(|s| s["channel"] == ch).unwrap().clone();
        let price = by("price.VOD.L");
        assert_eq!(price["data"].as_array().unwrap().len(), 1);
        assert_eq!(price["data"][0]["price"], "11.5");
        let trades = by("trade.VOD.L")["data"].as_array().unwrap().clone();
        assert_eq!(trades.iter().map(|t| t["price"].as_str().unwrap()).collect::<Vec<_>>(), ["10", "12", "9", "11", "11.5"]);
        let candles = by("candle.1m.VOD.L")["data"].as_array().unwrap().clone();
        assert_eq!(candles.len(), 2, "{candles:?}");
        let (first, live) = (&candles[0], &candles[1]);
        assert_eq!(first["closed"], true);
        assert_eq!((first["open"].as_str(), first["high"].as_str(), first["low"].as_str(), first["close"].as_str()), (Some("10"), Some("12"), Some("9"), Some("9")));
        assert_eq!(first["volume"], "6");
        assert_eq!(first["trades"], 3);
        assert_eq!(first["interval"], "1m");
        assert_eq!(first["exchange"], "XLON");
        assert_eq!(live["closed"], false);
        assert_eq!((live["open"].as_str(), live["close"].as_str()), (Some("11"), Some("11.5")));
        assert_eq!(live["start_ns"], m0 + 60_000_000_000);
    });
}

#[test]
fn wildcards_reach_every_symbol_once_and_live_candles_flow() {
    let mut ring = Ring::new(4096);
    let a = ring.add("AAA", Exchange::Xnas);
    let b = ring.add("BBB", Exchange::Xnas);
    let server = start(config(), &ring, None);
    rt().block_on(async {
        let mut ws = connect(&server).await;
        ws.send(json!({"op":"subscribe","channels":["trade.*","trade.AAA","candle.1s.*"]})).await;
        ws.expect(5 * SEC, is_type("ack")).await;
        let now = now_ns();
        ring.publish(&[tick(a, now, "1", "1"), tick(b, now, "2", "1")]);
        let mut trades = Vec::new();
        let mut candle_symbols = std::collections::BTreeSet::new();
        let deadline = std::time::Instant::now() + 5 * SEC;
        while (trades.len() < 2 || candle_symbols.len() < 2) && std::time::Instant::now() < deadline
        {
            {
                for m in ws.drain_for(Duration::from_millis(100)).await {
                    match m["type"].as_str() {
                        Some("trade") => trades.push(m["symbol"].as_str().unwrap().to_string()),
                        Some("candle") => {
                            assert_eq!(m["interval"], "1s");
                            candle_symbols.insert(m["symbol"].as_str().unwrap().to_string());
                        }
                        _ => {}
                    }
                }
            }
        }
        trades.sort();
        assert_eq!(
            trades,
            ["AAA", "BBB"],
            "each trade once, although AAA is also subscribed exactly"
        );
        assert_eq!(candle_symbols.len(), 2, "live 1s candles of both symbols");
        // No duplicate arrives later.
        let later = ws.drain_for(Duration::from_millis(300)).await;
        assert!(later.iter().all(|m| m["type"] != "trade"), "{later:?}");
    });
}

#[test]
fn hostile_input_gets_coded_errors_and_the_connection_survives() {
    let ring = Ring::new(1024);
    let server = start(config(), &ring, None);
    rt().block_on(async {
        let mut bystander = connect(&server).await;
        bystander.send(json!({"op":"subscribe","channels":["price.X"]})).await;
        bystander.expect(5 * SEC, is_type("ack")).await;

        let mut ws = connect(&server).await;
        let cases: Vec<(Message, &str)> = vec![
            (Message::Text("not json{".into()), "bad_json"),
            (Message::Text("[1,2]".into()), "bad_request"),
            (Message::Text(r#"{"op":"explode","id":5}"#.into()), "unknown_op"),
            (
                Message::Text(r#"{"op":"subscribe","channels":["candle.7m.X"],"id":6}"#.into()),
                "unknown_channel",
            ),
            (
                Message::Text(r#"{"op":"subscribe","channels":["quotes.X"]}"#.into()),
                "unknown_channel",
            ),
            (
                Message::Text(r#"{"op":"subscribe","channels":["trade.a b"]}"#.into()),
                "unknown_channel",
            ),
            (Message::Text(r#"{"op":"subscribe"}"#.into()), "bad_request"),
            (Message::Binary(vec![0u8, 159, 146, 150].into()), "binary_not_supported"),
        ];
        for (msg, code) in cases {
            ws.ws.send(msg).await.unwrap();
            let err = ws.expect(5 * SEC, is_type("error")).await;
            assert_eq!(err["code"], code, "{err}");
            assert!(err["message"].as_str().unwrap().len() > 5);
        }
        ws.send(json!({"op":"explode","id":5})).await;
        assert_eq!(ws.expect(5 * SEC, is_type("error")).await["id"], 5, "the id is echoed");
        ws.send(json!({"op":"list","id":7})).await;
        let list = ws.expect(5 * SEC, is_type("ack")).await;
        assert_eq!(list["subscriptions"], json!([]), "refused requests changed nothing");
        bystander.send(json!({"op":"ping","id":1})).await;
        bystander.expect(5 * SEC, is_type("pong")).await;
        let stats = server.stats();
        assert!(
            stats.errors_bad_json >= 1
                && stats.errors_unknown_channel >= 3
                && stats.errors_binary >= 1,
            "{stats:?}"
        );
    });
}

#[test]
fn server_pings_and_drops_clients_that_do_not_answer() {
    let ring = Ring::new(1024);
    let cfg = tickring_sink_websocket::WebsocketConfig {
        ping_interval_ms: 100,
        ping_timeout_ms: 400,
        ..config()
    };
    let server = start(cfg, &ring, None);
    rt().block_on(async {
        // A client that reads (and so answers pings) stays; it sees the pings.
        let mut alive = connect(&server).await;
        // One that never reads never answers.
        let _silent = connect(&server).await;
        let deadline = std::time::Instant::now() + 2 * SEC;
        let mut pings = 0;
        while std::time::Instant::now() < deadline {
            use futures_util::StreamExt;
            match tokio::time::timeout(Duration::from_millis(100), alive.ws.next()).await {
                Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
                Ok(Some(Ok(Message::Close(f)))) => panic!("answering client was closed: {f:?}"),
                _ => {}
            }
        }
        assert!(pings >= 5, "{pings} pings in 2 s at a 100 ms interval");
        let stats = server.stats();
        assert_eq!(stats.closed_ping_timeout, 1, "{stats:?}");
        assert_eq!(stats.connections_open, 1);
    });
}

#[test]
fn http_serves_the_page_and_stats_only() {
    let ring = Ring::new(1024);
    let server = start(config(), &ring, None);
    let get = |path: &str| {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(server.local_addr()).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let page = get("/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<canvas") || page.contains("id=\"chart\""), "the chart page");
    assert!(get("/app.js").starts_with("HTTP/1.1 200"));
    let stats = get("/stats");
    assert!(stats.starts_with("HTTP/1.1 200") && stats.contains("\"connections_open\""), "{stats}");
    assert!(get("/../Cargo.toml").starts_with("HTTP/1.1 404"));
    assert!(get("/src/lib.rs").starts_with("HTTP/1.1 404"));
    // Half-open: a connection that sends nothing is closed after the handshake timeout.
    let cfg = tickring_sink_websocket::WebsocketConfig { handshake_timeout_ms: 200, ..config() };
    let server = start(cfg, &ring, None);
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(server.local_addr()).unwrap();
    s.set_read_timeout(Some(5 * SEC)).unwrap();
    let t0 = std::time::Instant::now();
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0, "closed without a response");
    assert!(t0.elapsed() < 3 * SEC);
    assert_eq!(server.stats().bad_handshakes, 1);
}

#[test]
fn a_subscription_to_a_symbol_never_seen_is_held_and_named_in_the_ack() {
    let mut ring = Ring::new(4096);
    let aapl = ring.add("AAPL.N", Exchange::Xnys);
    let server = start(config(), &ring, None);
    rt().block_on(async {
        let mut ws = connect(&server).await;
        ws.expect(5 * SEC, is_type("hello")).await;
        ring.publish(&[tick(aapl, now_ns(), "189.25", "100")]);
        // Once the pusher has seen AAPL.N trade, only the misspelt symbol is unknown.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let ack = loop {
            ws.send(json!({"op":"subscribe","channels":["trade.AAPL.N","trade.NOPE","price.NOPE"],"id":1}))
                .await;
            let ack = ws.expect(5 * SEC, is_type("ack")).await;
            if ack["unknown_symbols"] == json!(["NOPE"]) || std::time::Instant::now() > deadline {
                break ack;
            }
            ws.send(json!({"op":"unsubscribe","channels":["trade.AAPL.N","trade.NOPE","price.NOPE"]}))
                .await;
            ws.expect(5 * SEC, is_type("ack")).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(ack["unknown_symbols"], json!(["NOPE"]), "{ack}");
        assert_eq!(ack["subscriptions"], json!(["trade.AAPL.N", "trade.NOPE", "price.NOPE"]));
        // A wildcard names no symbol: nothing unknown.
        ws.send(json!({"op":"subscribe","channels":["price.*"],"id":2})).await;
        let ack = ws.expect(5 * SEC, is_type("ack")).await;
        assert!(ack.get("unknown_symbols").is_none(), "{ack}");
    });
}
