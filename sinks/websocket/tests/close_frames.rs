//! Close handshakes seen by a real client: invalid UTF-8 gets a 1007 close frame, and a client's own close
//! is answered with a close frame (not a bare TCP close, which clients report as 1006).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn invalid_utf8_text_frame_is_closed_with_1007() {
    let ring = Ring::new(1024);
    let server = start(config(), &ring, None);
    rt().block_on(async {
        let mut c = connect(&server).await;
        c.expect(5 * SEC, is_type("hello")).await;
        let bad = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
        c.ws.send(Message::Frame(bad)).await.unwrap();
        let (close, _) = c.expect_close(5 * SEC).await;
        assert_eq!(close.map(|c| c.0), Some(1007));
    });
}

#[test]
fn client_close_is_answered_with_a_close_frame() {
    let ring = Ring::new(1024);
    let server = start(config(), &ring, None);
    rt().block_on(async {
        let mut c = connect(&server).await;
        c.expect(5 * SEC, is_type("hello")).await;
        let frame = CloseFrame { code: CloseCode::Normal, reason: "bye".into() };
        c.ws.send(Message::Close(Some(frame))).await.unwrap();
        let reply = tokio::time::timeout(5 * SEC, async {
            loop {
                match c.ws.next().await {
                    Some(Ok(Message::Close(f))) => return Some(f.map(|f| u16::from(f.code))),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return None,
                }
            }
        })
        .await
        .expect("an answer within 5 s");
        assert_eq!(reply, Some(Some(1000)), "the server must answer with a close frame");
    });
}
