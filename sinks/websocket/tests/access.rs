//! Who may open a websocket by default: browser pages of the server's own origin and of localhost, not any
//! page the operator happens to open; `"*"` spelled out allows all. Tokens in the URL are percent-decoded.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use tickring_sink_websocket::WebsocketConfig;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Error as WsErr;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn request(server: &tickring_sink_websocket::Server, origin: &str, host: Option<&str>) -> HttpReq {
    let mut req = ws_url(server).into_client_request().unwrap();
    req.headers_mut().insert("Origin", origin.parse().unwrap());
    if let Some(h) = host {
        req.headers_mut().insert("Host", h.parse().unwrap());
    }
    req
}

type HttpReq = tokio_tungstenite::tungstenite::handshake::client::Request;

async fn status(req: HttpReq) -> u16 {
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => 101,
        Err(WsErr::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("expected an HTTP answer, got {e}"),
    }
}

#[test]
fn default_origins_are_same_origin_and_localhost() {
    let ring = Ring::new(1024);
    let server = start(config(), &ring, None);
    rt().block_on(async {
        assert_eq!(status(request(&server, "http://evil.example", None)).await, 403);
        assert_eq!(status(request(&server, "http://localhost:5173", None)).await, 101);
        let own = format!("http://{}", server.local_addr());
        assert_eq!(status(request(&server, &own, None)).await, 101);
        let host = Some("charts.example:8090");
        assert_eq!(status(request(&server, "http://charts.example:8090", host)).await, 101);
        assert_eq!(status(request(&server, "http://other.example:8090", host)).await, 403);
        assert_eq!(server.stats().refused_origin, 2);
    });
}

#[test]
fn star_allows_every_origin() {
    let ring = Ring::new(1024);
    let server =
        start(WebsocketConfig { allowed_origins: vec!["*".into()], ..config() }, &ring, None);
    rt().block_on(async {
        assert_eq!(status(request(&server, "http://evil.example", None)).await, 101);
    });
}

#[test]
fn url_token_is_percent_decoded() {
    let ring = Ring::new(1024);
    let server = start(config(), &ring, Some("a+b/c="));
    rt().block_on(async {
        // What the chart page sends: encodeURIComponent("a+b/c=").
        let url = format!("{}?token=a%2Bb%2Fc%3D", ws_url(&server));
        tokio_tungstenite::connect_async(url).await.expect("encoded token accepted");
        let raw = format!("{}?token=a+b/c=", ws_url(&server));
        tokio_tungstenite::connect_async(raw).await.expect("raw token still accepted");
        let wrong = format!("{}?token=a%2Bb%2Fc", ws_url(&server));
        assert!(tokio_tungstenite::connect_async(wrong).await.is_err());
    });
}
