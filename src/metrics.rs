//! Prometheus text exposition over plain HTTP: each process serves `GET /metrics` on the port its section
//! of `tuning.toml` names. Rendering reads shared memory and counters; no metrics library, no allocation
//! on any hot path.

use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use tickring_ipc::RingStatus;

/// Serves `render()` at `/metrics` on `addr` from a background thread.
pub fn serve(addr: &str, render: impl Fn() -> String + Send + 'static) -> Result<()> {
    let listener = TcpListener::bind(addr).with_context(|| {
        format!("metrics port {addr} is taken: change the metrics address in tuning.toml")
    })?;
    tracing::info!(%addr, "metrics at /metrics");
    std::thread::Builder::new().name("metrics".into()).spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
            let mut request = String::new();
            let mut reader = BufReader::new(&stream);
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let (status, body) = if request.starts_with("GET /metrics") {
                ("200 OK", render())
            } else {
                ("404 Not Found", "try /metrics\n".to_string())
            };
            let mut out = &stream;
            let _ = write!(
                out,
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    })?;
    Ok(())
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
}
