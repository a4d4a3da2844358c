//! Runs the built `tickring session` binary the way a user would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn tickring(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning tickring: {e}"));
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("writing stdin: {e}"));
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap_or_else(|e| panic!("waiting for tickring: {e}"))
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn one_query_prints_one_json_line() {
    let out = tickring(&["session", "XNYS", "2024-03-11T13:30:00Z"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stdout_lines(&out),
        [
            r#"{"exchange":"XNYS","timezone":"America/New_York","local_time":"2024-03-11T09:30:00-04:00","session":"regular","trading_day":"2024-03-11"}"#
        ]
    );
}

#[test]
fn rics_offsets_and_subseconds() {
    let out = tickring(&["session", "005930.KS", "2024-01-02T09:35:00.123+09:00"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stdout_lines(&out),
        [
            r#"{"exchange":"XKRX","timezone":"Asia/Seoul","local_time":"2024-01-02T09:35:00.123+09:00","session":"pre","trading_day":"2024-01-02"}"#
        ]
    );
}

#[test]
fn closed_has_null_trading_day() {
    let out = tickring(&["session", "ESZ6", "2024-03-11T21:30:00Z"], None);
    assert!(out.status.success());
    assert_eq!(
        stdout_lines(&out),
        [
            r#"{"exchange":"XCME","timezone":"America/Chicago","local_time":"2024-03-11T16:30:00-05:00","session":"closed","trading_day":null}"#
        ]
    );
}

#[test]
fn bad_single_query_fails() {
    let out = tickring(&["session", "AAPL", "2024-03-11T13:30:00Z"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("AAPL"));
    let out = tickring(&["session", "XNYS", "yesterday"], None);
    assert!(!out.status.success());
}

#[test]
fn stdin_answers_every_line_in_order_and_fails_at_the_end() {
    let input = "XLON 2025-03-31T07:00:00Z\nAAPL 2024-03-11T13:30:00Z\nXNYS not-a-time\n\nXTKS 2024-11-05T02:45:00Z\n";
    let out = tickring(&["session", "--stdin"], Some(input));
    assert!(!out.status.success(), "a bad line must make the exit status non-zero");
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(
        lines[0],
        r#"{"exchange":"XLON","timezone":"Europe/London","local_time":"2025-03-31T08:00:00+01:00","session":"regular","trading_day":"2025-03-31"}"#
    );
    assert!(
        lines[1].starts_with(r#"{"input":"AAPL 2024-03-11T13:30:00Z","error":""#),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with(r#"{"input":"XNYS not-a-time","error":""#), "{}", lines[2]);
    assert!(lines[3].starts_with(r#"{"input":"","error":""#), "{}", lines[3]);
    assert_eq!(
        lines[4],
        r#"{"exchange":"XTKS","timezone":"Asia/Tokyo","local_time":"2024-11-05T11:45:00+09:00","session":"break","trading_day":"2024-11-05"}"#
    );
}

#[test]
fn stdin_all_good_succeeds() {
    let out = tickring(
        &["session", "--stdin"],
        Some("XHKG 2024-12-24T04:30:00Z\nXASX 2024-10-06T23:00:00Z\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = stdout_lines(&out);
    assert!(lines[0].ends_with(r#""session":"closed","trading_day":null}"#), "{}", lines[0]);
    assert!(lines[1].contains(r#""local_time":"2024-10-07T10:00:00+11:00","session":"regular","trading_day":"2024-10-07""#), "{}", lines[1]);
}

#[test]
fn user_calendar_directory_is_used_and_errors_are_located() {
    let dir = std::env::temp_dir().join(format!("tickring-cli-cal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let text = "[calendar]\nname = \"mini\"\nexchanges = [\"XLON\"]\ntimezone = \"Europe/London\"\n\
        first_day = 2024-01-01\nlast_day = 2024-12-31\ncompiled = 2024-01-01\nsources = [\"test\"]\n\n\
        [[template]]\neffective_from = 2024-01-01\nweekdays = [\"mon\"]\n\
        windows = [{ session = \"regular\", start = \"10:00\", end = \"11:00\" }]\n";
    std::fs::write(dir.join("mini.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    let d = dir.to_string_lossy().into_owned();
    let out = tickring(&["session", "--calendars", &d, "XLON", "2024-03-11T10:30:00Z"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout_lines(&out)[0].contains(r#""session":"regular""#));
    let out = tickring(&["session", "--calendars", &d, "XLON", "2024-03-12T10:30:00Z"], None);
    assert!(
        stdout_lines(&out)[0].contains(r#""session":"closed""#),
        "Tuesday is not in the mini calendar"
    );
    let out = tickring(&["session", "--calendars", &d, "XNYS", "2024-03-12T10:30:00Z"], None);
    assert!(!out.status.success(), "XNYS has no calendar in the mini directory");

    std::fs::write(dir.join("mini.toml"), text.replace("\"10:00\"", "\"10h\""))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = tickring(&["session", "--calendars", &d, "XLON", "2024-03-11T10:30:00Z"], None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mini.toml:13:") && stderr.contains("bad time"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn outside_coverage_is_unknown_with_the_local_date() {
    let out = tickring(&["session", "XNYS", "1990-06-01T02:00:00Z"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stdout_lines(&out),
        [
            r#"{"exchange":"XNYS","timezone":"America/New_York","local_time":"1990-05-31T22:00:00-04:00","session":"unknown","trading_day":"1990-05-31"}"#
        ]
    );
}
