//! Golden tests: recorded-style feed files in `fixtures/lseg/` decoded and compared line by line with
//! hand-checked `*.expected.jsonl`. `TICKRING_BLESS=1` rewrites the goldens (check them by hand after).
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use proptest::prelude::*;
use serde_json::{json, Value};
use std::io::{self, BufReader};
use std::path::PathBuf;
use std::sync::Arc;
use tickring_engine::feed::lseg::{requests, FeedEvent, LsegSession};
use tickring_engine::feed::replay::{
    route_rejects, CanonicalReader, CsvColumns, CsvReader, LsegDumpReader, ReplayItem,
};
use tickring_engine::feed::{Counters, Quarantine, RejectReason, Trade};
use tickring_engine::mapping::{self, Mapping};
use tickring_engine::{Price, Quantity, TickFlags};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lseg").join(name)
}

fn rfc3339(ns: u64) -> String {
    let t = chrono::DateTime::from_timestamp_nanos(i64::try_from(ns).unwrap());
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn render_trade(t: &Trade) -> Value {
    json!({
        "symbol": &*t.symbol,
        "exchange_code": t.exchange_code.as_deref(),
        "ts_event": rfc3339(t.ts_event_ns),
        "ts_event_ns": t.ts_event_ns,
        "ts_recv_ns": t.ts_recv_ns,
        "price": t.price.to_string(),
        "size": t.size.to_string(),
        "flags": t.flags().names().collect::<Vec<_>>(),
        "trade_id": t.trade_id,
        "class": t.class.as_str(),
    })
}

fn render_item(item: &ReplayItem) -> Value {
    match item {
        ReplayItem::Trade(t) => json!({ "trade": render_trade(t) }),
        ReplayItem::Reject(r) => json!({ "reject": r.reason.as_str(), "line": r.line }),
    }
}

fn render_counters(c: &Counters) -> Value {
    let rejected: serde_json::Map<String, Value> =
        c.rejected_by_reason().map(|(r, n)| (r.as_str().to_string(), json!(n))).collect();
    json!({ "frames": c.frames, "messages": c.messages, "trades": c.trades, "pings": c.pings, "rejected": rejected })
}

/// Compares rendered lines with the golden file, or rewrites it under `TICKRING_BLESS=1`.
fn check_golden(golden: &str, lines: &[Value]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let path = fixture(golden);
    if std::env::var_os("TICKRING_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (i, (got, want)) in text.lines().zip(expected.lines()).enumerate() {
        assert_eq!(got, want, "{golden} line {}", i + 1);
    }
    assert_eq!(text.lines().count(), expected.lines().count(), "{golden}: line count");
}

fn replay_dump(name: &str, mapping: Mapping) -> (Vec<ReplayItem>, Counters, Counters) {
    let file = std::fs::File::open(fixture(name)).unwrap();
    let mut reader = LsegDumpReader::new(BufReader::new(file), Arc::new(mapping));
    let items: Vec<ReplayItem> = reader.by_ref().collect::<io::Result<_>>().unwrap();
    (items, reader.session().counters().clone(), reader.line_counters().clone())
}

fn golden_dump(name: &str) -> Vec<ReplayItem> {
    let (items, session, lines) = replay_dump(&format!("{name}.dump.jsonl"), mapping::builtin());
    let mut out: Vec<Value> = items.iter().map(render_item).collect();
    out.push(
        json!({ "counters": render_counters(&session), "line_counters": render_counters(&lines) }),
    );
    check_golden(&format!("{name}.expected.jsonl"), &out);
    items
}

fn trades(items: &[ReplayItem]) -> Vec<&Trade> {
    items
        .iter()
        .filter_map(|i| match i {
            ReplayItem::Trade(t) => Some(t),
            ReplayItem::Reject(_) => None,
        })
        .collect()
}

#[test]
fn us_equities_regular_hours() {
    let items = golden_dump("us_equities_regular");
    assert!(items.iter().all(|i| matches!(i, ReplayItem::Trade(_))));
    // Three MSFT trades share one millisecond and keep arrival order.
    let msft: Vec<_> = trades(&items).into_iter().filter(|t| &*t.symbol == "MSFT.O").collect();
    assert_eq!(msft.len(), 3);
    assert!(msft.iter().all(|t| t.ts_event_ns == msft[0].ts_event_ns));
}

#[test]
fn us_extended_hours_and_the_utc_midnight_trap() {
    let items = golden_dump("us_extended_hours");
    let t = trades(&items);
    // 20:00:00.3 EDT on the 15th is the 16th in UTC, whatever TRADE_DATE says.
    let late = t.iter().find(|t| t.price == Price::parse("190.45").unwrap()).unwrap();
    assert_eq!(rfc3339(late.ts_event_ns), "2026-07-16T00:00:00.300000000Z");
    assert!(late.flags().contains(TickFlags::EXTENDED_HOURS));
}

#[test]
fn futures_across_the_chicago_reopen() {
    let items = golden_dump("futures_esz6_reopen");
    let t = trades(&items);
    let reopen = t.iter().find(|t| t.price == Price::from_units(6852)).unwrap();
    assert_eq!(rfc3339(reopen.ts_event_ns), "2026-11-10T23:00:00.000150000Z");
}

#[test]
fn malformed_messages_are_quarantined_and_the_rest_decoded() {
    let items = golden_dump("malformed");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quarantine.jsonl");
    let mut q = Quarantine::create(&path).unwrap();
    let routed: Vec<Trade> = route_rejects(items.clone().into_iter().map(Ok), &mut q)
        .collect::<io::Result<_>>()
        .unwrap();
    q.flush().unwrap();
    assert_eq!(routed.len(), trades(&items).len());
    let written: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(written.len(), items.len() - routed.len());
    // Each quarantined message is kept whole: the NaN one reads back as the message that was sent.
    let nan = written
        .iter()
        .find(|w| w["reason"] == "non_finite_price" && w["raw"].as_str().unwrap().contains("NaN"))
        .unwrap();
    let raw: Value = serde_json::from_str(nan["raw"].as_str().unwrap()).unwrap();
    assert_eq!(raw["Fields"]["TRDPRC_1"], "NaN");
    assert_eq!(nan["line"], 4);
    assert_eq!(nan["recv_ns"], 1_784_122_201_100_000_000u64);
}

/// The alternative date source, TRADE_DATE + time, shows both traps the default avoids.
#[test]
fn trade_date_source_is_a_day_off_in_both_traps() {
    let text =
        mapping::BUILTIN_LSEG.replacen("date = \"nearest_recv\"", "date = \"trade_date\"", 1);
    let by_trade_date = || mapping::parse(&text, "trade_date.toml").unwrap();

    let (items, ..) = replay_dump("futures_esz6_reopen.dump.jsonl", by_trade_date());
    let reopen =
        trades(&items).into_iter().find(|t| t.price == Price::from_units(6852)).unwrap().clone();
    assert_eq!(rfc3339(reopen.ts_event_ns), "2026-11-11T23:00:00.000150000Z", "a day ahead");

    let (items, ..) = replay_dump("us_extended_hours.dump.jsonl", by_trade_date());
    let late = trades(&items)
        .into_iter()
        .find(|t| t.price == Price::parse("190.45").unwrap())
        .unwrap()
        .clone();
    assert_eq!(rfc3339(late.ts_event_ns), "2026-07-15T00:00:00.300000000Z", "a day behind");
}

#[test]
fn canonical_json_lines() {
    let file = std::fs::File::open(fixture("canonical.jsonl")).unwrap();
    let mut reader = CanonicalReader::new(BufReader::new(file));
    let mut out: Vec<Value> = reader.by_ref().map(|i| render_item(&i.unwrap())).collect();
    out.push(json!({ "counters": render_counters(reader.counters()) }));
    check_golden("canonical.expected.jsonl", &out);
}

#[test]
fn csv_with_a_column_mapping() {
    let cols = CsvColumns {
        symbol: "ric".into(),
        ts: "time".into(),
        price: "px".into(),
        size: "qty".into(),
        exchange: Some("venue".into()),
        trade_id: Some("id".into()),
    };
    let file = std::fs::File::open(fixture("trades.csv")).unwrap();
    let mut reader = CsvReader::new(BufReader::new(file), &cols).unwrap();
    let mut out: Vec<Value> = reader.by_ref().map(|i| render_item(&i.unwrap())).collect();
    out.push(json!({ "counters": render_counters(reader.counters()) }));
    check_golden("trades.expected.jsonl", &out);
}

#[test]
fn session_reports_pings_logins_and_batch_streams() {
    let mut s = LsegSession::new(Arc::new(mapping::builtin()));
    s.expect_batch(2, &["AAPL.O", "ESZ6"]);
    assert_eq!(s.symbol(3).map(|s| &**s), Some("AAPL.O"));
    assert_eq!(s.symbol(4).map(|s| &**s), Some("ESZ6"));
    let mut events = Vec::new();
    let frame = r#"[{"ID":1,"Type":"Refresh","Domain":"Login","Elements":{"PingTimeout":30}},{"Type":"Ping"},
        {"ID":4,"Type":"Update","UpdateType":"Trade","Fields":{"TRDPRC_1":6850.5,"TRDVOL_1":2,"SALTIM_MS":75599000}},
        {"ID":9,"Type":"Error","Text":"bad request"}]"#;
    s.on_frame(frame, 1_794_344_400_000_000_000, &mut |e| events.push(e));
    assert!(events.contains(&FeedEvent::LoginAccepted { ping_timeout_s: Some(30) }));
    assert!(events.contains(&FeedEvent::PongDue));
    assert!(events.contains(&FeedEvent::ServerError { id: Some(9), text: "bad request".into() }));
    let trade = events
        .iter()
        .find_map(|e| if let FeedEvent::Trade(t) = e { Some(t) } else { None })
        .unwrap();
    assert_eq!(trade.class, mapping::TradeClass::Futures, "ESZ6 is a futures RIC");
    assert_eq!(trade.ts_event_ns, 1_794_344_399_000_000_000);
    assert_eq!(s.counters().pings, 1);
    assert_eq!(requests::pong(), r#"[{"Type":"Pong"}]"#);
}

fn decode_all(frames: &[(String, u64)]) -> (Vec<Trade>, Counters) {
    let mut s = LsegSession::new(Arc::new(mapping::builtin()));
    s.expect_item(3, "AAPL.O");
    let mut out = Vec::new();
    for (f, recv) in frames {
        s.on_frame(f, *recv, &mut |e| {
            if let FeedEvent::Trade(t) = e {
                out.push(t);
            }
        });
    }
    (out, s.counters().clone())
}

proptest! {
    #[test]
    fn valid_trade_updates_round_trip_exactly(
        whole in 1u64..1_000_000, frac in 0u32..100_000_000, digits in 0usize..=8,
        size in 1u64..10_000_000, ms in 0u64..86_400_000, as_string: bool,
    ) {
        let frac_text = format!("{frac:08}");
        let price_text = if digits == 0 { whole.to_string() } else { format!("{whole}.{}", &frac_text[..digits]) };
        let price_json = if as_string { format!("\"{price_text}\"") } else { price_text.clone() };
        let day = 20_649u64 * 86_400_000_000_000;
        let recv = day + ms * 1_000_000 + 5_000_000;
        let frame = format!(
            r#"[{{"ID":3,"Type":"Update","UpdateType":"Trade","Fields":{{"TRDPRC_1":{price_json},"TRDVOL_1":{size},"SALTIM_MS":{ms}}}}}]"#
        );
        let (trades, counters) = decode_all(&[(frame, recv)]);
        prop_assert_eq!(counters.rejected_total(), 0);
        prop_assert_eq!(trades.len(), 1);
        prop_assert_eq!(trades[0].price, Price::parse(&price_text).unwrap());
        prop_assert_eq!(trades[0].size, Quantity::from_units(size as i64));
        prop_assert_eq!(trades[0].ts_event_ns, day + ms * 1_000_000);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (_, c) = decode_all(&[(text, 1)]);
        prop_assert_eq!(c.frames, 1);
    }

    #[test]
    fn arbitrary_json_messages_never_panic(
        id in prop_oneof![Just(json!(3)), Just(json!(99)), Just(json!("3")), Just(Value::Null)],
        kind in prop_oneof![Just("Update"), Just("Refresh"), Just("Status"), Just("Ping"), Just("Error"), Just("X")],
        fields in proptest::collection::btree_map(
            prop_oneof![Just("TRDPRC_1"), Just("TRDVOL_1"), Just("SALTIM"), Just("SALTIM_MS"), Just("IRGPRC"), Just("IRGCOND"), Just("RDN_EXCHD2"), Just("TRADE_DATE")],
            prop_oneof![any::<i64>().prop_map(|v| json!(v)), any::<f64>().prop_map(|v| json!(v)), ".{0,12}".prop_map(|v| json!(v)), Just(Value::Null), Just(json!([1])), Just(json!(true))],
            0..6,
        ),
        update_type in prop_oneof![Just("Trade"), Just("Correction"), Just("ClosingRun"), Just("Quote")],
    ) {
        let msg = json!({ "ID": id, "Type": kind, "UpdateType": update_type, "Key": {"Name": "AAPL.O"}, "Fields": fields });
        let (trades, c) = decode_all(&[(json!([msg]).to_string(), 1_784_122_200_000_000_000)]);
        prop_assert_eq!(c.messages, 1);
        prop_assert!(trades.iter().all(|t| t.price.raw() > 0 && t.size.raw() > 0));
        prop_assert!(c.trades + c.rejected_total() <= 1);
    }
}

#[test]
fn reject_names_in_goldens_are_known() {
    for name in ["us_equities_regular", "us_extended_hours", "futures_esz6_reopen", "malformed"] {
        let text = std::fs::read_to_string(fixture(&format!("{name}.expected.jsonl"))).unwrap();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if let Some(r) = v.get("reject").and_then(Value::as_str) {
                assert!(RejectReason::from_name(r).is_some(), "{r}");
            }
        }
    }
}
