//! `tickring bench journal` end to end with tiny counts: every journal row runs in interleaved rounds, the
//! JetStream peer too where a nats-server is installed, and the JSON lands where asked. No timing
//! assertions: only that each row measured what it says.

use std::path::Path;
use std::process::Command;

fn nats_server_installed() -> bool {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        .iter()
        .any(|p| Path::new(p).exists())
}

#[test]
fn bench_journal_measures_every_row_in_rounds() {
    let dir =
        std::env::temp_dir().join(format!("tickring-bench-journal-cli-{}", std::process::id()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickring"));
    cmd.args([
        "bench",
        "journal",
        "--rounds",
        "2",
        "--records",
        "50000",
        "--replay-records",
        "50000",
    ])
    .args(["--jetstream-records", "5000", "--no-clickhouse", "--dir"])
    .arg(&dir)
    .arg("--out-dir")
    .arg(&dir)
    .env("RUST_LOG", "warn");
    let jetstream = nats_server_installed();
    if !jetstream {
        eprintln!("nats-server is not installed: the run leaves out jetstream-publish");
        cmd.arg("--no-jetstream");
    }
    let out = cmd.output().expect("runs the binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");

    let json = std::fs::read_to_string(dir.join("journal.json")).expect("journal.json");
    let report: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(report["scenario"], "journal");
    let results = report["results"].as_array().expect("results");
    let mut want = vec![
        "journal-append",
        "journal-append-in-publisher",
        "journal-append-from-ring",
        "journal-replay",
        "journal-replay-reader",
    ];
    if jetstream {
        want.push("jetstream-publish");
    }
    let names: Vec<&str> = results.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, want, "{stdout}");
    for r in results {
        let rounds = r["rounds"]["per_s"].as_array().expect("per-round throughputs");
        assert_eq!(rounds.len(), 2, "{r}");
        assert!(r["throughput_per_s"].as_f64().is_some_and(|x| x > 0.0), "{r}");
        assert!(r["samples"].as_u64().is_some_and(|n| n > 0), "{r}");
        assert!(r["cpu_ns_per_tick"].as_f64().is_some(), "CPU per tick: {r}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("out dir")
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name())
        .collect();
    assert!(leftovers.is_empty(), "the run's journals are removed: {leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
