//! The live chart page in headless Chromium (Debian's package) against a running pusher fed by a producer:
//! the page loads the charting library, subscribes and draws candles. The screenshot is kept under
//! target/artifacts/. Needs `scripts/setup-web.sh` to have run; fails (does not skip) when it has not.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tickring_engine::Exchange;
use tickring_sink_websocket::web::CHART_LIBRARY;

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("Chromium is not installed: run scripts/setup-web.sh (installs Debian's chromium) before this test");
}

fn artifacts() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium with a fresh profile; returns stdout. Killed after `limit`.
fn run_chromium(bin: &Path, extra: &[String], url: &str, limit: Duration) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1280,720",
            "--virtual-time-budget=8000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn attr(dom: &str, id: &str, name: &str) -> Option<String> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let tag_end = at + dom[at..].find('>')?;
    let start = dom[..tag_end].rfind('<')?;
    let tag = &dom[start..tag_end];
    let key = format!("{name}=\"");
    let v = tag.find(&key)? + key.len();
    Some(tag[v..v + tag[v..].find('"')?].to_string())
}

#[test]
fn chart_page_subscribes_and_draws_live_candles_in_headless_chromium() {
    let bin = chromium();
    let lib = web_dir().join(CHART_LIBRARY);
    assert!(lib.is_file(), "{} missing: run scripts/setup-web.sh", lib.display());

    let mut ring = Ring::new(65_536);
    let id = ring.add("CHT.N", Exchange::Xnys);
    let server = start(config(), &ring, None);
    // Twenty minutes of history (one trade every 10 s), then live trades until the test ends.
    let now = now_ns();
    let history: Vec<_> = (0..120u64)
        .map(|i| {
            let p = 100.0 + ((i as f64) / 7.0).sin() * 3.0 + (i as f64) * 0.02;
            tick(id, now - 1_200_000_000_000 + i * 10_000_000_000, &format!("{p:.2}"), "10")
        })
        .collect();
    ring.publish(&history);
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let p = 102.0 + ((i as f64) / 5.0).sin();
                ring.publish(&[tick(id, now_ns(), &format!("{p:.2}"), "3")]);
                i += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            ring
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let url = format!("http://{}/?symbol=CHT.N&interval=1m", server.local_addr());

    // Headless Chromium's virtual time can run out before the websocket handshake completes on a loaded
    // machine; a page that is still connecting is loaded again (at most three times) before judging it.
    let mut dom = String::new();
    for attempt in 1..=3 {
        dom = run_chromium(&bin, &["--dump-dom".into()], &url, Duration::from_secs(90));
        if attr(&dom, "status", "data-state").as_deref() == Some("live") {
            break;
        }
        println!("attempt {attempt}: page not live yet ({:?})", attr(&dom, "status", "data-state"));
    }
    let state = attr(&dom, "status", "data-state");
    let candles: usize =
        attr(&dom, "status", "data-candles").and_then(|v| v.parse().ok()).unwrap_or(0);
    let subscribed = attr(&dom, "status", "data-subscribed").unwrap_or_default();
    let session = attr(&dom, "session", "data-session").unwrap_or_default();
    println!(
        "page: state {state:?}, {candles} candles, subscribed {subscribed:?}, session {session:?}"
    );
    assert_eq!(
        state.as_deref(),
        Some("live"),
        "page status; DOM:\n{}",
        &dom[..dom.len().min(3000)]
    );
    assert!(
        subscribed.contains("candle.1m.CHT.N") && subscribed.contains("trade.CHT.N"),
        "{subscribed}"
    );
    assert!(candles >= 15, "drew {candles} candles (20 minutes of history)");
    assert_eq!(session, "regular");
    assert!(dom.contains("<canvas"), "the chart drew into a canvas");

    let shot = artifacts().join("chart-page.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &bin,
        &[format!("--screenshot={}", shot.display())],
        &url,
        Duration::from_secs(90),
    );
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    println!("screenshot: {} ({size} bytes)", shot.display());
    assert!(size > 10_000, "screenshot written");

    stop.store(true, Ordering::Relaxed);
    let _ring = publisher.join().unwrap();
    let stats = server.stats();
    assert!(stats.connections_total >= 2 && stats.http_requests >= 6, "{stats:?}");
}
