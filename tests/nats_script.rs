//! `scripts/nats.sh` with real nats-server processes: a three-node JetStream cluster starts and answers,
//! and `stop` stops the nodes it started and nothing else.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script(home: &Path, base: u16, cluster: u16, action: &str) -> Output {
    Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/nats.sh"))
        .arg(action)
        .env("NATS_HOME", home)
        .env("NATS_CLUSTER", cluster.to_string())
        .env("NATS_PORT", base.to_string())
        .env("NATS_HTTP_PORT", (base + 10).to_string())
        .env("NATS_CLUSTER_PORT", (base + 20).to_string())
        .output()
        .expect("run scripts/nats.sh")
}

fn answers(http_port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", http_port)) else { return false };
    let _ = write!(s, "GET /healthz HTTP/1.0\r\n\r\n");
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body.contains("\"ok\"")
}

#[test]
fn a_three_node_cluster_starts_answers_and_stop_leaves_other_servers_alone() {
    let base = 21_000 + (std::process::id() % 400) as u16 * 30;
    let dir = std::env::temp_dir().join(format!("tickring-nats-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (ours, theirs) = (dir.join("ours"), dir.join("theirs"));

    let out = script(&ours, base, 3, "start");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status = script(&ours, base, 3, "status");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success() && text.lines().count() == 3, "{text}");
    assert!((0..3).all(|i| answers(base + 10 + i)));
    // JetStream is clustered: every node reports the same meta leader.
    let jsz = Command::new("curl")
        .arg("-sf")
        .arg(format!("http://127.0.0.1:{}/jsz", base + 11))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(jsz.contains("\"cluster_size\": 3"), "{jsz}");

    // Another server, not started from our folder, on other ports.
    let other = script(&theirs, base + 5, 1, "start");
    assert!(other.status.success(), "{}", String::from_utf8_lossy(&other.stderr));
    assert!(script(&ours, base, 3, "stop").status.success());
    assert!((0..3).all(|i| !answers(base + 10 + i)), "our nodes stopped");
    assert!(answers(base + 15), "a server this folder did not start keeps running");
    assert!(!script(&ours, base, 3, "status").status.success());
    assert!(script(&theirs, base + 5, 1, "stop").status.success());
    assert!(!answers(base + 15));
    let _ = std::fs::remove_dir_all(&dir);
}
