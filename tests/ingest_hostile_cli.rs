//! `tickring ingest` against hostile replay files: a line that is not UTF-8, stamps far in the future, a
//! paced replay with a year-long gap. Each is quarantined or bounded, and ingest goes on or stops on request.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Dir(PathBuf, String);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(format!("/dev/shm/tickring-{}", self.1));
        let _ = std::fs::remove_file(format!("/dev/shm/tickring-{}.lock", self.1));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh folder with `replay.jsonl` holding `lines` and a tuning file for a private ring.
fn setup(tag: &str, lines: &[&[u8]]) -> (Dir, PathBuf, PathBuf) {
    let pid = std::process::id();
    let dir = std::env::temp_dir().join(format!("tickring-hostile-{tag}-{pid}"));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let ring = format!("hostile-{tag}-{pid}");
    let tuning = dir.join("tuning.toml");
    std::fs::write(
        &tuning,
        format!(
            "[ring]\nname = \"{ring}\"\ncapacity = 4096\n[ingest]\nquarantine = \"{}\"\npublisher_core = 0\nmetrics = \"\"\n",
            dir.join("quarantine.jsonl").display()
        ),
    )
    .expect("tuning");
    let file = dir.join("replay.jsonl");
    std::fs::write(&file, lines.join(&b"\n"[..])).expect("replay file");
    (Dir(dir, ring), tuning, file)
}

fn tickring(tuning: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickring"));
    cmd.args(["--tuning", tuning.to_str().expect("utf8"), "ingest", "--quiet"]);
    cmd
}

fn quarantined(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("quarantine.jsonl")).expect("quarantine file");
    text.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

#[test]
fn bad_utf8_and_far_future_stamps_are_quarantined_and_the_rest_published() {
    let (dir, tuning, file) = setup(
        "mixed",
        &[
            br#"{"symbol":"AAPL.O","ts":"2026-07-15T13:30:00Z","price":"189.84","size":100}"#,
            b"{\"symbol\":\"AAPL.O\",\"ts\":1,\"price\":\"\xff\",\"size\":1}",
            br#"{"symbol":"AAPL.O","ts":18446744073709551615,"price":"189.85","size":1}"#,
            br#"{"symbol":"AAPL.O","ts":"2262-04-11T00:00:00Z","price":"189.85","size":1}"#,
            br#"{"symbol":"AAPL.O","ts":"2026-07-15T13:30:01Z","price":"189.86","size":100}"#,
        ],
    );
    let out = tickring(&tuning).arg(&file).output().expect("run tickring ingest");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ingest failed: {stderr}");
    assert!(stderr.contains("WARN") || stderr.contains("INFO"), "the run logs: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "no colour codes in a redirected log: {stderr:?}");
    let summary: serde_json::Value =
        stderr.lines().rev().find_map(|l| serde_json::from_str(l).ok()).expect("summary line");
    assert_eq!(summary["ingest"]["published"], 2, "{summary}");
    let q = quarantined(&dir.0);
    let reasons: Vec<(&str, Option<u64>)> =
        q.iter().map(|v| (v["reason"].as_str().unwrap_or(""), v["line"].as_u64())).collect();
    assert_eq!(
        reasons,
        [("bad_encoding", Some(2)), ("time_out_of_range", None), ("time_out_of_range", None)],
        "{q:?}"
    );
    let mode =
        std::fs::metadata(dir.0.join("quarantine.jsonl")).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Runs a 1x replay of trades a year apart with `replay_max_gap_ms = gap_ms`, SIGINT after `sigint_after`.
fn paced(tag: &str, gap_ms: u64, sigint_after: Option<Duration>) -> (serde_json::Value, Duration) {
    let (dir, tuning, file) = setup(
        tag,
        &[
            br#"{"symbol":"AAPL.O","ts":"2024-07-15T13:30:00Z","price":"189.84","size":100}"#,
            br#"{"symbol":"AAPL.O","ts":"2025-07-15T13:30:00Z","price":"189.85","size":100}"#,
            br#"{"symbol":"AAPL.O","ts":"2026-07-15T13:30:00Z","price":"189.86","size":100}"#,
        ],
    );
    let text = std::fs::read_to_string(&tuning).expect("tuning");
    let text = text.replace("[ingest]\n", &format!("[ingest]\nreplay_max_gap_ms = {gap_ms}\n"));
    std::fs::write(&tuning, text).expect("tuning");
    let started = Instant::now();
    let child = tickring(&tuning)
        .args(["--speed", "1x"])
        .arg(&file)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ingest");
    if let Some(after) = sigint_after {
        std::thread::sleep(after);
        let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
        rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("SIGINT");
    }
    let out = child.wait_with_output().expect("ingest exits");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ingest failed: {stderr}");
    let summary = stderr.lines().rev().find_map(|l| serde_json::from_str(l).ok());
    drop(dir);
    (summary.expect("summary line"), took)
}

#[test]
fn a_paced_replay_cuts_year_long_gaps_to_the_cap() {
    let (summary, took) = paced("capped", 300, None);
    assert_eq!(summary["ingest"]["published"], 3, "{summary}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_paced_replay_stops_on_sigint_while_waiting() {
    let (summary, took) = paced("stopped", 60_000, Some(Duration::from_millis(1000)));
    assert_eq!(summary["ended"], "Stopped", "{summary}");
    assert!(took < Duration::from_secs(6), "took {took:?} to stop");
}
