//! `tickring bench e2e` through the real binary with tiny counts: a local ClickHouse server of its own, the
//! sink processes, a few websocket clients; checks the report's shape and files, never the timings (the
//! machine is shared and noisy).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

const ROWS: [&str; 5] =
    ["feed->ring", "ring-hop", "tick->clickhouse-visible", "tick->websocket-client", "end-to-end"];

#[test]
fn bench_e2e_with_tiny_counts_writes_its_report_histograms_and_plot() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("tickring-e2e-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(env!("CARGO_BIN_EXE_tickring"))
        .current_dir(&root)
        .args(["--tuning", "tuning.toml", "bench", "e2e", "--rate", "2000", "--ticks", "1000"])
        .args(["--warmup-ticks", "200", "--clients", "4", "--symbols", "20", "--per-client", "5"])
        .arg("--out-dir")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "bench e2e failed: {}\n{stdout}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    for row in ROWS {
        assert!(stdout.contains(row), "table lacks {row}:\n{stdout}");
    }

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("e2e.json")).unwrap()).unwrap();
    assert_eq!(json["scenario"], "e2e");
    let results = json["results"].as_array().unwrap();
    let names: Vec<&str> = results.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ROWS);
    for r in results {
        for key in ["p50_ns", "p90_ns", "p99_ns", "p999_ns", "p9999_ns", "max_ns"] {
            assert!(r[key].as_u64().is_some(), "{key} in {r}");
        }
        assert!(r["throughput_per_s"].as_f64().is_some_and(|t| t > 0.0), "{r}");
        assert!(r["samples"].as_u64().is_some_and(|n| n > 0), "no samples in {r}");
    }
    // Every measured tick reached the probe and became visible in ClickHouse (the run itself fails when
    // ClickHouse does not hold every published tick).
    for r in &results[..3] {
        assert_eq!(r["samples"], 1000, "{r}");
    }
    // CPU per tick of every process the run started, and of the bench itself.
    let cpu = json["cpu"].as_array().expect("cpu per process");
    let processes: Vec<&str> = cpu.iter().filter_map(|p| p["process"].as_str()).collect();
    for p in ["probe", "clickhouse writer", "websocket pusher", "bench (feed + clients + poller)"] {
        assert!(processes.contains(&p), "{p} missing from {processes:?}");
    }
    assert!(cpu.iter().all(|p| p["cpu_ns_per_tick"].as_f64().is_some()), "{cpu:?}");
    assert!(stdout.contains("cpu ns / tick"), "{stdout}");

    for part in [
        "feed-to-ring",
        "ring-hop",
        "tick-to-clickhouse-visible",
        "tick-to-websocket-client",
        "end-to-end",
    ] {
        let hgrm = std::fs::read_to_string(out.join(format!("e2e.{part}.hgrm"))).unwrap();
        assert!(hgrm.starts_with("       Value     Percentile"), "{part}");
    }
    let svg = std::fs::read_to_string(out.join("e2e.svg")).unwrap();
    assert!(svg.contains("</svg>"));
    for name in ["feed-&gt;ring", "ring-hop", "end-to-end", "99.9%"] {
        assert!(svg.contains(name), "plot lacks {name}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn find_max_probes_rates_and_reports_a_consistent_bracket() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("tickring-e2e-max-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(env!("CARGO_BIN_EXE_tickring"))
        .current_dir(&root)
        .args(["--tuning", "tuning.toml", "bench", "e2e", "--find-max", "--find-max-steps", "1"])
        .args(["--rate", "2000", "--ticks", "600", "--warmup-ticks", "100", "--clients", "2"])
        .args(["--symbols", "10", "--per-client", "2", "--out-dir"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("e2e-find-max.json")).unwrap())
            .unwrap();
    let probes = json["probes"].as_array().unwrap();
    assert!(probes.len() >= 2, "a bracket takes two probes at least: {json}");
    let verdict = |rate: &serde_json::Value| {
        probes.iter().find(|p| p["rate"] == *rate).map(|p| p["targets_met"].as_bool().unwrap())
    };
    // Whatever this machine manages: the reported rate was met, the one above it missed.
    if !json["max_rate"].is_null() {
        assert_eq!(verdict(&json["max_rate"]), Some(true), "{json}");
    }
    if !json["missed_at"].is_null() {
        assert_eq!(verdict(&json["missed_at"]), Some(false), "{json}");
    }
    assert!(stdout.contains("find-max: probing 2000 ticks/s"), "{stdout}");
    let _ = std::fs::remove_dir_all(&out);
}
