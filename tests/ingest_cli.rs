//! `tickring ingest` end to end: a recorded file -> the real binary -> the journal -> a TickStream here, compared
//! with hand-checked golden ticks (exchange, session and trading day in exchange time); bad input goes to the
//! quarantine file, counted, and never stops the feed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tickring_engine::Tick;
use tickring_ipc::RingConfig;
use tickring_journal::JournalConfig;
use tickring_sink_core::{Event, Start, StreamConfig, TickStream};

struct Run {
    ring: RingConfig,
    journal: JournalConfig,
    dir: PathBuf,
    summary: serde_json::Value,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.ring.segment_path());
        let _ = std::fs::remove_file(self.ring.lock_path());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ingest(fixture: &str, tag: &str) -> Run {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("tickring-ingest-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let ring_name = format!("ingest-{tag}-{}", std::process::id());
    let tuning = dir.join("tuning.toml");
    let quarantine = dir.join("quarantine.jsonl");
    std::fs::write(
        &tuning,
        format!(
            "[ring]\nname = \"{ring_name}\"\ncapacity = 4096\nmax_batch = 1024\n[journal]\ndir = \"{}\"\n[ingest]\nquarantine = \"{}\"\npublisher_core = 0\nmetrics = \"\"\n",
            dir.join("journal").display(),
            quarantine.display()
        ),
    )
    .expect("tuning");
    let out = Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args(["--tuning", tuning.to_str().expect("utf8"), "ingest", "--quiet"])
        .arg(root.join(fixture))
        .output()
        .expect("run tickring ingest");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ingest failed: {stderr}");
    let summary =
        stderr.lines().rev().find_map(|l| serde_json::from_str(l).ok()).expect("summary line");
    let ring =
        RingConfig { name: ring_name, capacity: 4096, max_batch: 1024, ..RingConfig::default() };
    let journal = JournalConfig { dir: dir.join("journal"), ..JournalConfig::default() };
    Run { ring, journal, dir, summary }
}

/// Every tick ingest journaled (a cleanly stopped ring is gone; the journal keeps it), as golden-file
/// lines, read the way every sink reads.
fn read_ticks(run: &Run) -> Vec<String> {
    let cfg = StreamConfig {
        ring: run.ring.clone(),
        journal: run.journal.clone(),
        consumer: "check".into(),
        max_batch: 1024,
    };
    let mut stream = TickStream::new(cfg, Start::Oldest);
    let mut ticks: Vec<Tick> = Vec::new();
    let mut idle = 0;
    let names = loop {
        match stream.next(Duration::from_millis(20)).expect("next") {
            Event::Ticks { ticks: batch, .. } => {
                ticks.extend_from_slice(batch);
                idle = 0;
            }
            Event::Closed => break stream.instruments().clone(),
            Event::Idle if idle > 25 => break stream.instruments().clone(),
            Event::Idle => idle += 1,
            Event::NewEpoch { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    ticks
        .into_iter()
        .map(|t| {
            let day = (t.trading_day != Tick::NO_TRADING_DAY).then(|| {
                chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
                    + chrono::Days::new(u64::from(t.trading_day))
            });
            serde_json::json!({
                "symbol": names.name(t.instrument_id).0,
                "ts": chrono::DateTime::from_timestamp_nanos(t.ts_event_ns as i64).to_rfc3339(),
                "price": t.price.to_string(),
                "size": t.size.to_string(),
                "exchange": t.exchange().mic(),
                "session": t.session().as_str(),
                "trading_day": day.map(|d| d.to_string()),
                "flags": t.flags().names().collect::<Vec<_>>(),
            })
            .to_string()
        })
        .collect()
}

fn check_golden(name: &str, lines: &[String]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest").join(name);
    let actual = lines.join("\n") + "\n";
    if std::env::var_os("TICKRING_BLESS").is_some() {
        std::fs::write(&path, &actual).expect("bless");
    }
    let expected =
        std::fs::read_to_string(&path).expect("golden file (TICKRING_BLESS=1 writes it)");
    assert_eq!(actual, expected, "ticks differ from {}", path.display());
}

#[test]
fn us_regular_hours_dump_becomes_regular_session_ticks() {
    let run = ingest("engine/tests/fixtures/lseg/us_equities_regular.dump.jsonl", "regular");
    check_golden("us_equities_regular.ticks.jsonl", &read_ticks(&run));
    assert_eq!(run.summary["ingest"]["published"], 7);
}

#[test]
fn extended_hours_trades_are_tagged_pre_and_post_by_new_york_time() {
    let run = ingest("engine/tests/fixtures/lseg/us_extended_hours.dump.jsonl", "extended");
    check_golden("us_extended_hours.ticks.jsonl", &read_ticks(&run));
}

#[test]
fn futures_after_the_chicago_reopen_belong_to_the_next_trading_day() {
    let run = ingest("engine/tests/fixtures/lseg/futures_esz6_reopen.dump.jsonl", "futures");
    check_golden("futures_esz6_reopen.ticks.jsonl", &read_ticks(&run));
}

#[test]
fn malformed_input_is_quarantined_whole_and_counted_while_the_feed_goes_on() {
    let run = ingest("engine/tests/fixtures/lseg/malformed.dump.jsonl", "malformed");
    let rejected: u64 = run.summary["ingest"]["rejected"]
        .as_object()
        .expect("map")
        .values()
        .filter_map(|v| v.as_u64())
        .sum();
    assert!(rejected > 0, "{}", run.summary);
    let kept = std::fs::read_to_string(run.dir.join("quarantine.jsonl")).expect("quarantine file");
    assert_eq!(kept.lines().count() as u64, rejected, "one quarantine line per rejected message");
    for line in kept.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("quarantine lines are JSON");
        assert!(v["reason"].is_string() && v["raw"].is_string(), "{line}");
    }
    assert!(
        run.summary["ingest"]["published"].as_u64().expect("count") > 0,
        "good messages still published"
    );
}
