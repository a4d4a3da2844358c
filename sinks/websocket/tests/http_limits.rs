//! Plain HTTP and handshakes under abuse, with real TCP clients: an answer nobody reads is dropped after
//! the write timeout, HTTP answers in progress are capped, and a flood of incomplete request heads from one
//! address does not lock out a client that sends its request at once.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};
use tickring_sink_websocket::WebsocketConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A body far bigger than any socket buffer on the path.
const BIG: usize = 48 << 20;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A web dir whose app.js is `BIG` bytes.
fn big_web_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>hi</p>").unwrap();
    std::fs::write(dir.path().join("app.js"), vec![b'x'; BIG]).unwrap();
    dir
}

/// Requests `path` from a socket with a small receive buffer and does not read.
async fn request_and_stall(server: &tickring_sink_websocket::Server, path: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(server.local_addr()).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).await.unwrap();
    s
}

/// Everything the server sends until it closes (a reset counts as the end).
async fn read_all(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match tokio::time::timeout(10 * SEC, s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!("server neither sent nor closed for 10 s"),
        }
    }
}

async fn get(server: &tickring_sink_websocket::Server, path: &str) -> String {
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).await.unwrap();
    String::from_utf8_lossy(&read_all(&mut s).await).into_owned()
}

#[test]
fn an_unread_answer_is_dropped_after_the_write_timeout() {
    let ring = Ring::new(1024);
    let web = big_web_dir();
    let cfg =
        WebsocketConfig { web_dir: web.path().into(), http_write_timeout_ms: 300, ..config() };
    let server = start(cfg, &ring, None);
    rt().block_on(async {
        let mut s = request_and_stall(&server, "/app.js").await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let got = read_all(&mut s).await;
        assert!(got.len() < BIG, "the whole {BIG} bytes arrived: no write timeout");
        assert!(server.stats().http_write_timeouts >= 1);
    });
}

#[test]
fn http_answers_in_progress_are_capped() {
    let ring = Ring::new(1024);
    let web = big_web_dir();
    let cfg = WebsocketConfig { web_dir: web.path().into(), max_http_connections: 2, ..config() };
    let server = start(cfg, &ring, None);
    rt().block_on(async {
        let _a = request_and_stall(&server, "/app.js").await;
        let _b = request_and_stall(&server, "/app.js").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let third = get(&server, "/").await;
        assert!(third.starts_with("HTTP/1.1 503"), "{}", &third[..third.len().min(200)]);
        // Websocket clients do not count against it.
        let mut c = connect(&server).await;
        c.send(json!({"op":"ping","id":1})).await;
        c.expect(5 * SEC, is_type("pong")).await;
        assert_eq!(server.stats().refused_http, 1);
    });
}

#[test]
fn incomplete_heads_from_one_address_do_not_lock_others_out() {
    let ring = Ring::new(1024);
    // Defaults: 1,024 handshakes in total, 64 per address; the 5 s handshake timeout never comes into it.
    let server = start(config(), &ring, None);
    rt().block_on(async {
        let mut flood = Vec::new();
        for _ in 0..1_100 {
            let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
            s.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n").await.unwrap();
            flood.push(s);
        }
        let t0 = Instant::now();
        let mut c = tokio::time::timeout(2 * SEC, connect(&server)).await.expect("let in at once");
        c.send(json!({"op":"ping","id":1})).await;
        c.expect(2 * SEC, is_type("pong")).await;
        assert!(t0.elapsed() < 2 * SEC);
        // The last of the flood may still be in the accept queue: wait for the server to take them all.
        let deadline = Instant::now() + 10 * SEC;
        let mut evicted = server.stats().evicted_handshakes;
        while evicted < 1_100 - 64 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            evicted = server.stats().evicted_handshakes;
        }
        assert!(evicted >= 1_100 - 64, "one address held more than its 64: evicted {evicted}");
    });
}
