//! Prometheus text exposition over plain HTTP: each process serves `GET /metrics` on the port its section
//! of `tuning.toml` names. Rendering reads shared memory and counters; no metrics library, no allocation
//! on any hot path.

use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tickring_ipc::RingStatus;

/// Scrapes answered at once; more are dropped at accept (a scraper retries on its next interval).
const MAX_CLIENTS: usize = 8;
/// Longest request line read; scrapers send a few hundred bytes of head.
const MAX_HEAD: usize = 8 * 1024;
/// A client must send its request line and take the answer within this, in all.
const DEADLINE: Duration = Duration::from_secs(2);

/// Serves `render()` at `/metrics` on `addr`: an accept thread and one short-lived thread per scrape,
/// each bounded in time and bytes, so one slow client cannot hold the endpoint up.
pub fn serve(addr: &str, render: impl Fn() -> String + Send + Sync + 'static) -> Result<()> {
    let listener = TcpListener::bind(addr).with_context(|| {
        format!("metrics port {addr} is taken: change the metrics address in tuning.toml")
    })?;
    tracing::info!(%addr, "metrics at /metrics");
    let render = Arc::new(render);
    let busy = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new().name("metrics".into()).spawn(move || {
        for stream in listener.incoming().flatten() {
            if busy.fetch_add(1, Relaxed) >= MAX_CLIENTS {
                busy.fetch_sub(1, Relaxed);
                continue;
            }
            let (render, held) = (Arc::clone(&render), Arc::clone(&busy));
            let spawned =
                std::thread::Builder::new().name("metrics-client".into()).spawn(move || {
                    answer(stream, &*render);
                    held.fetch_sub(1, Relaxed);
                });
            if spawned.is_err() {
                busy.fetch_sub(1, Relaxed);
            }
        }
    })?;
    Ok(())
}

/// Reads the request line (bounded) and writes the answer, all before `DEADLINE`.
fn answer(mut stream: TcpStream, render: &dyn Fn() -> String) {
    let deadline = Instant::now() + DEADLINE;
    let Some(line) = read_request_line(&mut stream, deadline) else { return };
    let (status, body) = if line.starts_with(b"GET /metrics") {
        ("200 OK", render())
    } else {
        ("404 Not Found", "try /metrics\n".to_string())
    };
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    let _ = stream.set_write_timeout(Some(left));
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn read_request_line(stream: &mut TcpStream, deadline: Instant) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    while !head.contains(&b'\n') {
        let left = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?;
        stream.set_read_timeout(Some(left)).ok()?;
        let n = stream.read(&mut chunk).ok().filter(|&n| n > 0)?;
        head.extend_from_slice(&chunk[..n]);
        if head.len() > MAX_HEAD {
            return None;
        }
    }
    Some(head)
}

/// One metric family with its help line.
pub fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The ring as every process sees it: producer, and per consumer cursor, lag, liveness and losses.
pub fn render_ring(out: &mut String, status: &RingStatus) {
    let ring = &status.name;
    family(
        out,
        "tickring_ring_published_total",
        "counter",
        "Records published in this ring epoch.",
    );
    let _ = writeln!(out, "tickring_ring_published_total{{ring=\"{ring}\"}} {}", status.published);
    family(
        out,
        "tickring_ring_producer_stalls_total",
        "counter",
        "Times the producer waited for a gating consumer.",
    );
    let _ = writeln!(
        out,
        "tickring_ring_producer_stalls_total{{ring=\"{ring}\"}} {}",
        status.producer_stalls
    );
    family(
        out,
        "tickring_ring_producer_gated_ns_total",
        "counter",
        "Time the producer waited for gating consumers, in nanoseconds.",
    );
    let _ = writeln!(
        out,
        "tickring_ring_producer_gated_ns_total{{ring=\"{ring}\"}} {}",
        status.producer_gated_ns
    );
    family(
        out,
        "tickring_ring_evictions_total",
        "counter",
        "Gating consumers that stopped gating (dead or silent).",
    );
    let _ = writeln!(out, "tickring_ring_evictions_total{{ring=\"{ring}\"}} {}", status.evictions);
    family(
        out,
        "tickring_consumer_lag_records",
        "gauge",
        "Records published but not yet committed by a consumer.",
    );
    family(
        out,
        "tickring_consumer_missed_total",
        "counter",
        "Records a consumer skipped (lapped or evicted).",
    );
    family(out, "tickring_consumer_alive", "gauge", "1 when the consumer's process exists.");
    for c in &status.consumers {
        let labels = format!(
            "ring=\"{ring}\",consumer=\"{}\",policy=\"{}\",state=\"{}\"",
            c.name,
            if c.gating { "gating" } else { "non_gating" },
            c.state
        );
        let _ = writeln!(out, "tickring_consumer_lag_records{{{labels}}} {}", c.lag);
        let _ = writeln!(out, "tickring_consumer_missed_total{{{labels}}} {}", c.missed);
        let _ = writeln!(out, "tickring_consumer_alive{{{labels}}} {}", u8::from(c.alive));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_rendered_text_at_metrics_only() {
        let addr = "127.0.0.1:0";
        let listener = TcpListener::bind(addr).expect("probe");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let addr = format!("127.0.0.1:{port}");
        serve(&addr, || "tickring_up 1\n".to_string()).expect("serve");
        let get = |path: &str| {
            let mut s = std::net::TcpStream::connect(&addr).expect("connect");
            write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
            let mut body = String::new();
            std::io::Read::read_to_string(&mut s, &mut body).expect("read");
            body
        };
        let ok = get("/metrics");
        assert!(ok.starts_with("HTTP/1.1 200") && ok.ends_with("tickring_up 1\n"), "{ok}");
        assert!(get("/other").starts_with("HTTP/1.1 404"));
    }

    fn serve_on_free_port() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("probe");
        let addr = listener.local_addr().expect("addr").to_string();
        drop(listener);
        serve(&addr, || "tickring_up 1\n".to_string()).expect("serve");
        addr
    }

    #[test]
    fn a_slow_or_endless_client_does_not_block_the_others() {
        let addr = serve_on_free_port();
        // One client drips its request a byte at a time, another sends an endless line.
        let mut drip = std::net::TcpStream::connect(&addr).expect("connect");
        let mut endless = std::net::TcpStream::connect(&addr).expect("connect");
        let dripper = std::thread::spawn(move || {
            for b in b"GET /metr".iter().cycle().take(30) {
                if drip.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let flood = std::thread::spawn(move || {
            let junk = [b'x'; 4096];
            let mut sent = 0usize;
            while sent < 64 << 20 && endless.write_all(&junk).is_ok() {
                sent += junk.len();
            }
            sent
        });
        std::thread::sleep(Duration::from_millis(200));
        let t0 = Instant::now();
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        write!(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
        let mut body = String::new();
        std::io::Read::read_to_string(&mut s, &mut body).expect("answered");
        assert!(body.ends_with("tickring_up 1\n"), "{body}");
        // A one-at-a-time endpoint would answer only after the dripper's 2 s deadline.
        assert!(t0.elapsed() < Duration::from_millis(1_500), "waited {:?}", t0.elapsed());
        let sent = flood.join().expect("flood");
        assert!(sent < 64 << 20, "an endless request line was read without bound");
        dripper.join().expect("drip");
    }
}
