//! Runs the built `tickring calendar` binary the way a user would.

use std::path::Path;
use std::process::{Command, Output};

fn tickring(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running tickring: {e}"))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn show_prints_the_years_sessions_holidays_and_special_days() {
    let out = tickring(&["calendar", "show", "XLON", "2022"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    for want in [
        "XLON 2022: calendar xlon",
        "from 2000-01-01 mon tue wed thu fri: regular 08:00-16:30",
        "2022-09-19 Mon  One-off bank holiday",
        "2022-12-27 Tue  Christmas Day (observed; falls on Sun 2022-12-25)",
        "2022-12-30 Fri  New Year's Eve, early close 12:30: regular 08:00-12:30",
        "trading days: 250",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let out = tickring(&["calendar", "show", "005930.KS", "2024"]);
    let text = stdout(&out);
    assert!(text.contains("2024-01-02 Tue  First trading day"), "{text}");
    assert!(text.contains("regular 10:00-15:30"), "{text}");
}

#[test]
fn show_outside_coverage_says_unknown() {
    let out = tickring(&["calendar", "show", "XNYS", "1990"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("1990 is outside the coverage: every session is unknown"));
}

#[test]
fn check_passes_the_shipped_files_and_locates_errors() {
    let out = tickring(&["calendar", "check"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("ok builtin:xlon.toml: XLON 2000-01-01 ..= 2035-12-31"));

    let dir = std::env::temp_dir().join(format!("tickring-calendar-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("engine/calendars/xlon.toml");
    let good = std::fs::read_to_string(shipped).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("good.toml"), &good).unwrap_or_else(|e| panic!("{e}"));
    let bad = good.replace("timezone = \"Europe/London\"", "timezone = \"Europe/Londres\"");
    std::fs::write(dir.join("bad-zone.toml"), bad).unwrap_or_else(|e| panic!("{e}"));
    let never = good.replace("exchanges = [\"XLON\"]", "exchanges = [\"XLON\"]\n")
        + "\n[[rule]]\nname = \"Gone\"\nmonth = 3\nday = 1\nuntil = 1990-01-01\n";
    std::fs::write(dir.join("never.toml"), never).unwrap_or_else(|e| panic!("{e}"));

    let out = tickring(&["calendar", "check", dir.to_str().unwrap_or_default()]);
    let text = stdout(&out);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("bad-zone.toml:10:12: unknown timezone \"Europe/Londres\""), "{text}");
    assert!(text.contains("rule \"Gone\" matches no day"), "{text}");
    assert!(text.contains("never.toml:"), "{text}");
    assert!(text.contains("ok "), "the good file is still reported: {text}");
}
