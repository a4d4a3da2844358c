//! Every limit enforced, and the others notice nothing: connections, subscriptions, frame size, message
//! rate (a subscribe flood), bearer token on and off, allowed origins.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use futures_util::SinkExt;
use serde_json::json;
use tickring_sink_websocket::WebsocketConfig;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsErr, Message};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A bystander that must keep working while another client breaks a limit.
async fn still_fine(c: &mut Conn) {
    c.send(json!({"op":"ping","id":"still"})).await;
    assert_eq!(c.expect(5 * SEC, is_type("pong")).await["id"], "still");
}

#[test]
fn max_connections() {
    let ring = Ring::new(1024);
    let server = start(WebsocketConfig { max_connections: 2, ..config() }, &ring, None);
    rt().block_on(async {
        let mut a = connect(&server).await;
        let _b = connect(&server).await;
        let mut c = connect(&server).await;
        let (close, msgs) = c.expect_close(5 * SEC).await;
        assert_eq!(close.as_ref().map(|c| c.0), Some(1013), "{close:?}");
        assert!(msgs.iter().any(|m| m["code"] == "too_many_connections"), "{msgs:?}");
        still_fine(&mut a).await;
        assert_eq!(server.stats().refused_connections, 1);
    });
}

#[test]
fn max_subscriptions() {
    let ring = Ring::new(1024);
    let server = start(WebsocketConfig { max_subscriptions: 3, ..config() }, &ring, None);
    rt().block_on(async {
        let mut c = connect(&server).await;
        c.send(
            json!({"op":"subscribe","channels":["trade.A","trade.B","trade.C","trade.D"],"id":1}),
        )
        .await;
        let e = c.expect(5 * SEC, is_type("error")).await;
        assert_eq!(
            (e["code"].as_str(), e["id"].as_i64()),
            (Some("too_many_subscriptions"), Some(1))
        );
        c.send(json!({"op":"subscribe","channels":["trade.A","trade.B","trade.*"],"id":2})).await;
        assert_eq!(
            c.expect(5 * SEC, is_type("ack")).await["subscriptions"].as_array().unwrap().len(),
            3
        );
        // Subscribing again to a held channel is not a new one.
        c.send(json!({"op":"subscribe","channels":["trade.A"],"id":3})).await;
        assert_eq!(c.expect(5 * SEC, is_type("ack")).await["id"], 3);
        c.send(json!({"op":"subscribe","channels":["price.A"],"id":4})).await;
        assert_eq!(c.expect(5 * SEC, is_type("error")).await["code"], "too_many_subscriptions");
        still_fine(&mut c).await;
    });
}

#[test]
fn huge_frame_closes_with_1009_and_others_continue() {
    let ring = Ring::new(1024);
    let server = start(WebsocketConfig { max_frame_bytes: 1024, ..config() }, &ring, None);
    rt().block_on(async {
        let mut bystander = connect(&server).await;
        let mut c = connect(&server).await;
        let big = format!("{{\"op\":\"subscribe\",\"channels\":[\"{}\"]}}", "x".repeat(64 * 1024));
        // The server may close before the whole frame is written; either way the close reason must come.
        let _ = c.ws.send(Message::Text(big.into())).await;
        let (close, msgs) = c.expect_close(5 * SEC).await;
        assert_eq!(close.as_ref().map(|c| c.0), Some(1009), "{close:?} {msgs:?}");
        assert!(msgs.iter().any(|m| m["code"] == "frame_too_large"), "{msgs:?}");
        still_fine(&mut bystander).await;
        assert_eq!(server.stats().closed_frame_too_large, 1);
    });
}

#[test]
fn subscribe_flood_is_rate_limited_then_closed() {
    let ring = Ring::new(1024);
    let server = start(WebsocketConfig { max_messages_per_sec: 5, ..config() }, &ring, None);
    rt().block_on(async {
        let mut bystander = connect(&server).await;
        let mut c = connect(&server).await;
        for i in 0..40 {
            let msg =
                json!({"op":"subscribe","channels":[format!("trade.S{i}")],"id":i}).to_string();
            if c.ws.send(Message::Text(msg.into())).await.is_err() {
                break;
            }
        }
        let (close, msgs) = c.expect_close(5 * SEC).await;
        assert_eq!(
            close.as_ref().map(|c| (c.0, c.1.as_str())),
            Some((1008, "message rate limit exceeded"))
        );
        let acks = msgs.iter().filter(|m| m["type"] == "ack").count();
        assert_eq!(acks, 5, "the burst is served, the rest refused");
        assert!(msgs.iter().any(|m| m["code"] == "rate_limited"), "{msgs:?}");
        still_fine(&mut bystander).await;
        let s = server.stats();
        assert!(s.errors_rate_limited >= 5 && s.closed_rate_limit == 1, "{s:?}");
    });
}

fn handshake_status(err: WsErr) -> u16 {
    match err {
        WsErr::Http(resp) => resp.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[test]
fn bearer_token_on_and_off() {
    let ring = Ring::new(1024);
    let open = start(config(), &ring, None);
    let locked = start(config(), &ring, Some("s3cret"));
    rt().block_on(async {
        // Off: no token needed.
        let mut c = connect(&open).await;
        still_fine(&mut c).await;
        // On: none or a wrong one is refused with 401.
        let url = ws_url(&locked);
        let err = tokio_tungstenite::connect_async(url.as_str()).await.expect_err("no token");
        assert_eq!(handshake_status(err), 401);
        let err = tokio_tungstenite::connect_async(format!("{url}?token=wrong"))
            .await
            .expect_err("wrong");
        assert_eq!(handshake_status(err), 401);
        // Header or query parameter both work.
        let mut req = url.as_str().into_client_request().unwrap();
        req.headers_mut().insert("Authorization", "Bearer s3cret".parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("header token");
        drop(ws);
        let (ws, _) = tokio_tungstenite::connect_async(format!("{url}?token=s3cret"))
            .await
            .expect("query token");
        drop(ws);
        assert_eq!(locked.stats().refused_auth, 2);
    });
}

#[test]
fn allowed_origins() {
    let ring = Ring::new(1024);
    let cfg = WebsocketConfig { allowed_origins: vec!["http://good.example".into()], ..config() };
    let server = start(cfg, &ring, None);
    rt().block_on(async {
        let with_origin = |o: &str| {
            let mut req = ws_url(&server).into_client_request().unwrap();
            req.headers_mut().insert("Origin", o.parse().unwrap());
            req
        };
        let err = tokio_tungstenite::connect_async(with_origin("http://evil.example"))
            .await
            .expect_err("evil");
        assert_eq!(handshake_status(err), 403);
        tokio_tungstenite::connect_async(with_origin("http://good.example"))
            .await
            .expect("good origin");
        tokio_tungstenite::connect_async(ws_url(&server)).await.expect("no origin: not a browser");
        assert_eq!(server.stats().refused_origin, 1);
    });
}
