//! `tickring bench ring` end to end with tiny counts: every peer runs (iceoryx2 across two real
//! processes), the table prints, and the JSON and `.hgrm` files land where asked. No timing assertions.

use std::process::Command;

#[test]
fn bench_ring_writes_json_and_hgrm_for_every_peer() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        eprintln!("skipped: the ring bench needs two cores, this machine has {cores}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("tickring-bench-cli-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args([
            "bench",
            "ring",
            "--quick",
            "--rounds",
            "2",
            "--messages",
            "2000",
            "--warmup",
            "100",
        ])
        // A small capacity: a publisher that started before its subscriber connected would lose messages.
        .args(["--throughput-messages", "20000", "--capacity", "64", "--batch", "16", "--out-dir"])
        .arg(&dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs the binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");

    let json = std::fs::read_to_string(dir.join("ring.json")).expect("ring.json");
    let report: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(report["scenario"], "ring");
    let results = report["results"].as_array().expect("results");
    let names: Vec<&str> = results.iter().filter_map(|r| r["name"].as_str()).collect();
    for peer in ["disruptor-inproc", "crossbeam-inproc", "iceoryx2-ipc"] {
        assert!(names.contains(&peer), "{peer} missing from {names:?}");
        assert!(
            stdout.lines().any(|l| l.starts_with(peer)),
            "{peer} missing from the table:\n{stdout}"
        );
        let hgrm = std::fs::read_to_string(dir.join(format!("ring.{peer}.hgrm"))).expect("hgrm");
        assert!(hgrm.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)"));
    }
    for r in results {
        // Two interleaved rounds: the percentiles merge both, throughput is the median of the two.
        assert_eq!(r["samples"], 4000, "{r}");
        assert_eq!(r["throughput_messages"], 20000, "{r}");
        assert_eq!(r["rounds"]["per_s"].as_array().map(Vec::len), Some(2), "{r}");
        assert!(r["p50_ns"].as_u64().is_some_and(|v| v > 0), "{r}");
        assert!(r["cpu_ns_per_tick"].as_f64().is_some_and(|c| c > 0.0), "CPU per message: {r}");
        if r["name"] != "disruptor-inproc" {
            let per_round =
                r["p99_ratio_rounds"]["per_round"].as_array().expect("ratios per round");
            assert_eq!(per_round.len(), 2, "{r}");
        }
    }
    assert!(
        stdout.contains("tickring-shm p99 / disruptor-inproc p99 per round: median"),
        "{stdout}"
    );
    assert!(stdout.contains("CPU ns per message"), "{stdout}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn unknown_peer_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args(["bench", "ring", "--quick", "--peer", "no-such-peer"])
        .output()
        .expect("runs the binary");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no peer named `no-such-peer`"));
}
