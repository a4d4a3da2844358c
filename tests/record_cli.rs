//! `tickring record` against the local LSEG protocol server: the dump it writes replays to the trades sent.
#![allow(clippy::unwrap_used)] // test code

use serde_json::{json, Value};
use std::io::BufReader;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tickring_engine::feed::lseg::test_server::{Script, Step, TestServer};
use tickring_engine::feed::replay::{LsegDumpReader, ReplayItem};
use tickring_engine::{mapping, Price};

#[test]
fn records_until_sigterm_then_the_dump_replays_to_the_same_trades() {
    let tod = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64 % 86_400_000;
    let prices = ["189.84", "189.85", "189.8"];
    let steps: Vec<Step> = prices
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Step::trade(
                "AAPL.O",
                json!({"TRDPRC_1": p, "TRDVOL_1": 100, "SALTIM_MS": tod + i as u64}),
            )
        })
        .chain([Step::update("AAPL.O", "Quote", json!({"BID": 189.7}))])
        .collect();
    let server =
        TestServer::start(Script { connections: vec![steps], ..Script::default() }).unwrap();
    let dir = std::env::temp_dir().join(format!("tickring-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tuning = dir.join("tuning.toml");
    let dump = dir.join("feed.dump.jsonl");
    let _ = std::fs::remove_file(&dump);
    std::fs::write(
        &tuning,
        format!("[ingest.lseg]\nurl = {:?}\nrics = [\"AAPL.O\"]\n", server.url()),
    )
    .unwrap();

    let child = Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args(["--tuning", tuning.to_str().unwrap(), "record", "--out", dump.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (log, requested) = server.wait_for(Duration::from_secs(10), |l| !l.requests.is_empty());
    assert!(requested, "{log:?}");
    std::thread::sleep(Duration::from_millis(500));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["trades"], 3, "{summary}");

    let file = std::fs::File::open(&dump).unwrap();
    let replayed: Vec<_> = LsegDumpReader::new(BufReader::new(file), Arc::new(mapping::builtin()))
        .map(|i| match i.unwrap() {
            ReplayItem::Trade(t) => t.price,
            ReplayItem::Reject(r) => panic!("{r:?}"),
        })
        .collect();
    let expected: Vec<Price> = prices.iter().map(|p| Price::parse(p).unwrap()).collect();
    assert_eq!(replayed, expected);
    assert_eq!(summary["frames"], std::fs::read_to_string(&dump).unwrap().lines().count());
    std::fs::remove_dir_all(&dir).unwrap();
}
