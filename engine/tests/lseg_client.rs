//! The live LSEG client against the local protocol server: trades, quotes, pongs, status, reconnects.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tickring_engine::feed::lseg::test_server::{Script, Step, TestServer};
use tickring_engine::feed::lseg::{LsegClient, LsegConfig};
use tickring_engine::feed::{FeedItem, LinkEvent, RejectReason, Trade};
use tickring_engine::{mapping, Price, Quantity, TickFlags};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Now, in whole ms since the epoch, and the same as ms since UTC midnight (what SALTIM_MS carries).
fn now_ms() -> (u64, u64) {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    (ms, ms % 86_400_000)
}

fn config(url: String, rics: &[&str]) -> LsegConfig {
    LsegConfig {
        url,
        rics: rics.iter().map(|r| r.to_string()).collect(),
        backoff_min_ms: 200,
        backoff_max_ms: 400,
        ..LsegConfig::default()
    }
}

/// Items until `done` says so or `limit` passes.
fn collect(
    client: &LsegClient,
    limit: Duration,
    done: impl Fn(&[FeedItem]) -> bool,
) -> Vec<FeedItem> {
    let until = Instant::now() + limit;
    let mut items = Vec::new();
    while !done(&items) && Instant::now() < until {
        if let Some(item) = client.recv_timeout(Duration::from_millis(10)) {
            items.push(item);
        }
    }
    items
}

fn trades(items: &[FeedItem]) -> Vec<&Trade> {
    items.iter().filter_map(|i| if let FeedItem::Trade(t) = i { Some(t) } else { None }).collect()
}

fn ups(items: &[FeedItem]) -> usize {
    items.iter().filter(|i| matches!(i, FeedItem::Link(LinkEvent::Up { .. }))).count()
}

fn expect_trade(t: &Trade, symbol: &str, price: &str, size: &str, ts_ms: u64, flags: u8) {
    assert_eq!(&*t.symbol, symbol);
    assert_eq!(t.price, Price::parse(price).unwrap(), "{t:?}");
    assert_eq!(t.size, Quantity::parse(size).unwrap(), "{t:?}");
    assert_eq!(t.ts_event_ns, ts_ms * 1_000_000, "{t:?}");
    assert_eq!(t.flags, flags, "{t:?}");
}

#[test]
fn client_receives_exactly_the_scripted_trades_and_pongs() {
    let (epoch_ms, tod) = now_ms();
    let script = Script {
        connections: vec![vec![
            Step::trade("AAPL.O", json!({"TRDPRC_1": 189.84, "TRDVOL_1": 100, "SALTIM_MS": tod})),
            Step::update(
                "AAPL.O",
                "Quote",
                json!({"BID": 189.83, "ASK": 189.85, "TRDPRC_1": 189.84}),
            ),
            Step::trade(
                "MSFT.O",
                json!({"TRDPRC_1": "420.5", "TRDVOL_1": 50, "SALTIM_MS": tod + 1}),
            ),
            Step::update(
                "AAPL.O",
                "ClosingRun",
                json!({"TRDPRC_1": null, "TRDVOL_1": null, "SALTIM_MS": null}),
            ),
            Step::update(
                "AAPL.O",
                "Correction",
                json!({"INSPRC": 189.85, "INSVOL": 100, "SALTIM_MS": tod + 2}),
            ),
            Step::Raw("[{\"ID\":3,".into()),
            Step::Ping,
            Step::Status { ric: "MSFT.O".into(), stream: "Closed".into(), data: "Suspect".into() },
            // After the close, MSFT trades are on an unknown stream: refused, not traded.
            Step::trade("MSFT.O", json!({"TRDPRC_1": 421, "TRDVOL_1": 1, "SALTIM_MS": tod + 3})),
        ]],
        images: vec![(
            "AAPL.O".into(),
            json!({"TRDPRC_1": 189.0, "TRDVOL_1": 10, "RDN_EXCHD2": "NSM", "SALTIM_MS": tod}),
        )],
        ..Script::default()
    };
    let server = TestServer::start(script).unwrap();
    let mut cfg = config(server.url(), &["AAPL.O", "MSFT.O"]);
    cfg.view = vec!["TRDPRC_1".into(), "TRDVOL_1".into(), "SALTIM_MS".into()];
    let client = LsegClient::start(cfg, Arc::new(mapping::builtin())).unwrap();

    let items = collect(&client, Duration::from_secs(10), |items| {
        items.iter().filter(|i| matches!(i, FeedItem::Rejected(_))).count() >= 2
    });
    let (log, ponged) = server.wait_for(Duration::from_secs(5), |l| l.pongs >= 1);
    assert!(ponged, "{log:?}");
    // Nothing else comes.
    assert!(client.recv_timeout(Duration::from_millis(200)).is_none());

    let got = trades(&items);
    assert_eq!(got.len(), 3, "{items:#?}");
    expect_trade(got[0], "AAPL.O", "189.84", "100", epoch_ms, TickFlags::REGULAR);
    assert_eq!(got[0].exchange_code.as_deref(), Some("NSM"));
    expect_trade(got[1], "MSFT.O", "420.5", "50", epoch_ms + 1, TickFlags::REGULAR);
    expect_trade(got[2], "AAPL.O", "189.85", "100", epoch_ms + 2, TickFlags::CORRECTION);
    let rejects: Vec<_> = items
        .iter()
        .filter_map(|i| if let FeedItem::Rejected(r) = i { Some(r.reason) } else { None })
        .collect();
    assert_eq!(rejects, [RejectReason::MalformedJson, RejectReason::UnknownStream]);
    assert!(matches!(items[0], FeedItem::Link(LinkEvent::Up { connection: 1 })), "{items:?}");

    assert_eq!(log.logins, ["user"]);
    assert_eq!(log.requests, [vec!["AAPL.O".to_string(), "MSFT.O".to_string()]]);
    assert_eq!(log.views[0], ["TRDPRC_1", "TRDVOL_1", "SALTIM_MS"]);
    let stats = client.stop();
    assert_eq!((stats.trades, stats.pongs_sent, stats.logins), (3, 1, 1), "{stats:?}");
    assert_eq!(
        (stats.closed_streams, stats.suspect_streams, stats.rejects),
        (1, 1, 2),
        "{stats:?}"
    );
}

#[test]
fn reconnects_with_backoff_after_a_drop_then_logs_in_and_requests_again() {
    let (epoch_ms, tod) = now_ms();
    let script = Script {
        connections: vec![
            vec![
                Step::trade(
                    "ESZ6",
                    json!({"TRDPRC_1": "6012.25", "TRDVOL_1": 3, "SALTIM_MS": tod}),
                ),
                Step::Drop,
            ],
            vec![Step::trade(
                "ESZ6",
                json!({"TRDPRC_1": "6012.5", "TRDVOL_1": 1, "SALTIM_MS": tod + 5}),
            )],
        ],
        ..Script::default()
    };
    let server = TestServer::start(script).unwrap();
    let client =
        LsegClient::start(config(server.url(), &["ESZ6"]), Arc::new(mapping::builtin())).unwrap();
    let mut down_at = None;
    let mut up_again_at = None;
    let mut items = Vec::new();
    let until = Instant::now() + Duration::from_secs(10);
    while trades(&items).len() < 2 && Instant::now() < until {
        if let Some(item) = client.recv_timeout(Duration::from_millis(10)) {
            match &item {
                FeedItem::Link(LinkEvent::Down { .. }) => down_at = Some(Instant::now()),
                FeedItem::Link(LinkEvent::Up { connection: 2 }) => {
                    up_again_at = Some(Instant::now())
                }
                _ => {}
            }
            items.push(item);
        }
    }
    let got = trades(&items);
    assert_eq!(got.len(), 2, "{items:#?}");
    expect_trade(got[0], "ESZ6", "6012.25", "3", epoch_ms, TickFlags::REGULAR);
    expect_trade(got[1], "ESZ6", "6012.5", "1", epoch_ms + 5, TickFlags::REGULAR);
    // The first delay is drawn from [min/2, min] = [100, 200] ms.
    let waited = up_again_at.unwrap() - down_at.unwrap();
    assert!(waited >= Duration::from_millis(100), "reconnected after {waited:?}");
    let log = server.log();
    assert_eq!((log.connections, log.logins.len(), log.requests.len()), (2, 2, 2), "{log:?}");
    let stats = client.stop();
    assert_eq!((stats.logins, stats.disconnects), (2, 1), "{stats:?}");
}

#[test]
fn a_silent_server_is_given_up_after_ping_timeout_plus_slack() {
    let (_, tod) = now_ms();
    let script = Script {
        ping_timeout_s: 1,
        connections: vec![
            vec![
                Step::trade("IBM.N", json!({"TRDPRC_1": 250, "TRDVOL_1": 5, "SALTIM_MS": tod})),
                Step::Stall,
            ],
            vec![Step::trade("IBM.N", json!({"TRDPRC_1": 251, "TRDVOL_1": 5, "SALTIM_MS": tod}))],
        ],
        ..Script::default()
    };
    let server = TestServer::start(script).unwrap();
    let mut cfg = config(server.url(), &["IBM.N"]);
    cfg.ping_timeout_slack_ms = 300;
    let client = LsegClient::start(cfg, Arc::new(mapping::builtin())).unwrap();
    let started = Instant::now();
    let items = collect(&client, Duration::from_secs(10), |i| trades(i).len() >= 2);
    let elapsed = started.elapsed();
    assert_eq!(trades(&items).len(), 2, "{items:#?}");
    assert_eq!(ups(&items), 2);
    assert!(elapsed >= Duration::from_millis(1300), "gave up after {elapsed:?}");
    let stats = client.stop();
    assert_eq!(stats.silence_timeouts, 1, "{stats:?}");
    assert_eq!(server.log().connections, 2);
}

/// The server itself: a client that does not offer `tr_json2` is refused; one that never Pongs is dropped.
#[test]
fn test_server_checks_subprotocol_and_drops_clients_that_do_not_pong() {
    let script =
        Script { ping_timeout_s: 1, connections: vec![vec![Step::Ping]], ..Script::default() };
    let server = TestServer::start(script).unwrap();
    let url = server.url();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        assert!(tokio_tungstenite::connect_async(url.as_str()).await.is_err());
        let mut req = url.as_str().into_client_request().unwrap();
        req.headers_mut().insert("Sec-WebSocket-Protocol", "tr_json2".parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let login = tickring_engine::feed::lseg::requests::login(1, "u", "256", "h");
        ws.send(Message::text(login)).await.unwrap();
        ws.send(Message::text(r#"[{"ID":2,"Key":{"Name":"X.O"}}]"#)).await.unwrap();
        let started = Instant::now();
        let mut frames = Vec::new();
        while let Some(Ok(Message::Text(t))) = ws.next().await {
            frames.push(t.to_string());
        }
        assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
        assert!(frames[0].contains("\"PingTimeout\":1"), "{frames:?}");
        assert!(frames[1].contains("\"Refresh\"") && frames[1].contains("X.O"), "{frames:?}");
        assert_eq!(frames[2], r#"{"Type":"Ping"}"#);
    });
    let (log, ok) = server.wait_for(Duration::from_secs(2), |l| l.pong_timeouts == 1);
    assert!(ok, "{log:?}");
    assert_eq!((log.refused, log.connections, log.pongs), (1, 1, 0));
}

#[test]
fn a_recorded_dump_replays_to_exactly_the_trades_decoded_live() {
    use std::io::BufReader;
    use std::sync::Mutex;
    use tickring_engine::feed::replay::{DumpWriter, LsegDumpReader, ReplayItem};

    let (_, tod) = now_ms();
    let script = Script {
        connections: vec![vec![
            Step::trade("AAPL.O", json!({"TRDPRC_1": 189.84, "TRDVOL_1": 100, "SALTIM_MS": tod})),
            Step::update("AAPL.O", "Quote", json!({"BID": 189.83})),
            Step::Raw("not json".into()),
            Step::trade("7203.T", json!({"TRDPRC_1": 2801, "TRDVOL_1": 300, "SALTIM_MS": tod + 7})),
            Step::update(
                "7203.T",
                "Trade",
                json!({"IRGPRC": 2802, "IRGVOL": 100, "IRGCOND": "131"}),
            ),
            Step::Drop,
        ]],
        images: vec![("7203.T".into(), json!({"RDN_EXCHD2": "TYO", "SALTIM_MS": tod}))],
        ..Script::default()
    };
    let server = TestServer::start(script).unwrap();
    let dump = Arc::new(Mutex::new(DumpWriter::new(Vec::new())));
    let tap_dump = dump.clone();
    let tap = Box::new(move |frame: &str, recv_ns: u64| {
        tap_dump.lock().unwrap().write_frame(frame, recv_ns).unwrap();
    });
    let client = LsegClient::start_with_tap(
        config(server.url(), &["AAPL.O", "7203.T"]),
        Arc::new(mapping::builtin()),
        tap,
    )
    .unwrap();
    let items = collect(&client, Duration::from_secs(10), |i| {
        i.iter().any(|x| matches!(x, FeedItem::Link(LinkEvent::Down { .. })))
    });
    client.stop();
    let live: Vec<FeedItem> =
        items.into_iter().filter(|i| !matches!(i, FeedItem::Link(_))).collect();
    assert_eq!(trades(&live).len(), 3, "{live:#?}");

    let recorded = std::mem::replace(&mut *dump.lock().unwrap(), DumpWriter::new(Vec::new()));
    let text = recorded.into_inner();
    let replayed: Vec<FeedItem> =
        LsegDumpReader::new(BufReader::new(text.as_slice()), Arc::new(mapping::builtin()))
            .map(|item| match item.unwrap() {
                ReplayItem::Trade(t) => FeedItem::Trade(t),
                ReplayItem::Reject(r) => {
                    FeedItem::Rejected(tickring_engine::feed::Rejection { line: None, ..r })
                }
            })
            .collect();
    assert_eq!(replayed, live);
    let flags: Vec<u8> = trades(&live).iter().map(|t| t.flags).collect();
    assert_eq!(flags, [TickFlags::REGULAR, TickFlags::REGULAR, TickFlags::EXTENDED_HOURS]);
}

/// A PingTimeout near u64::MAX once overflowed the silence timer and panicked the client thread.
#[test]
fn a_huge_server_ping_timeout_is_clamped_not_a_panic() {
    let (_, tod) = now_ms();
    let script = Script {
        ping_timeout_s: u64::MAX,
        connections: vec![vec![Step::trade(
            "IBM.N",
            json!({"TRDPRC_1": 250, "TRDVOL_1": 5, "SALTIM_MS": tod}),
        )]],
        ..Script::default()
    };
    let server = TestServer::start(script).unwrap();
    let client =
        LsegClient::start(config(server.url(), &["IBM.N"]), Arc::new(mapping::builtin())).unwrap();
    let items = collect(&client, Duration::from_secs(10), |i| !trades(i).is_empty());
    assert_eq!(trades(&items).len(), 1, "{items:#?}");
    let stats = client.stop();
    assert_eq!((stats.logins, stats.silence_timeouts), (1, 0), "{stats:?}");
}
