//! ClickHouse for the e2e run: a local server started with `scripts/clickhouse.sh` on ports of its own
//! (stopped when dropped), a minimal HTTP query client, and the poller that times tick -> visible.

use super::feed::Chunk;
use crate::histogram::LatencyHistogram;
use anyhow::{anyhow, bail, Context, Result};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tickring_ipc::clock::realtime_ns;

/// A server this run started; stopped (and its folder removed) on drop.
#[derive(Debug)]
pub struct LocalServer {
    script: PathBuf,
    env: Vec<(&'static str, String)>,
    home: PathBuf,
    pub http_port: u16,
}

impl LocalServer {
    /// `script start` with CLICKHOUSE_HTTP_PORT / CLICKHOUSE_TCP_PORT / CLICKHOUSE_HOME.
    ///
    /// # Errors
    /// The script failed (its message is included).
    pub fn start(script: &Path, http_port: u16, tcp_port: u16, home: &Path) -> Result<Self> {
        let server = Self {
            script: script.to_owned(),
            env: vec![
                ("CLICKHOUSE_HTTP_PORT", http_port.to_string()),
                ("CLICKHOUSE_TCP_PORT", tcp_port.to_string()),
                ("CLICKHOUSE_HOME", home.display().to_string()),
            ],
            home: home.to_owned(),
            http_port,
        };
        server.script("start")?;
        Ok(server)
    }

    fn script(&self, verb: &str) -> Result<()> {
        let out = Command::new("bash")
            .arg(&self.script)
            .arg(verb)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .with_context(|| format!("running {} {verb}", self.script.display()))?;
        if !out.status.success() {
            bail!(
                "{} {verb} failed ({}): {}",
                self.script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Err(e) = self.script("stop") {
            tracing::error!(error = %e, "stopping the e2e ClickHouse server");
        } else {
            let _ = std::fs::remove_dir_all(&self.home);
        }
    }
}

/// Two ports nobody listens on now (the kernel's choice).
///
/// # Errors
/// No socket could be bound on 127.0.0.1.
pub fn free_ports() -> Result<(u16, u16)> {
    let a = std::net::TcpListener::bind("127.0.0.1:0")?;
    let b = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

/// Queries over ClickHouse's HTTP interface (one connection per query, no password).
#[derive(Debug, Clone)]
pub struct Http {
    /// `host:port`.
    addr: String,
}

impl Http {
    /// From `http://host:port[/]`.
    ///
    /// # Errors
    /// Not an `http://host:port` URL.
    pub fn new(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("ClickHouse URL {url:?}: expected http://HOST:PORT"))?;
        let addr = rest.trim_end_matches('/');
        if addr.is_empty() || addr.contains('/') || !addr.contains(':') {
            bail!("ClickHouse URL {url:?}: expected http://HOST:PORT");
        }
        Ok(Self { addr: addr.to_owned() })
    }

    /// Runs `sql`; returns the body (tab-separated rows).
    ///
    /// # Errors
    /// Connection failed, or the server answered with an error.
    pub fn query(&self, sql: &str) -> Result<String> {
        let mut stream = TcpStream::connect(&self.addr)
            .with_context(|| format!("connecting to ClickHouse at {}", self.addr))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let request = format!(
            "POST / HTTP/1.0\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{sql}",
            self.addr,
            sql.len()
        );
        stream.write_all(request.as_bytes())?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply)?;
        let reply = String::from_utf8_lossy(&reply);
        let (head, body) = reply
            .split_once("\r\n\r\n")
            .ok_or_else(|| anyhow!("ClickHouse sent a reply without headers"))?;
        let status = head.lines().next().unwrap_or_default();
        if !status.contains(" 200 ") {
            bail!("ClickHouse: {status}: {}", body.trim());
        }
        Ok(body.to_owned())
    }

    /// The first row's columns of `sql`, parsed as integers.
    ///
    /// # Errors
    /// As [`Http::query`], or a column that is not an integer.
    pub fn numbers(&self, sql: &str) -> Result<Vec<u64>> {
        let body = self.query(sql)?;
        body.lines()
            .next()
            .unwrap_or_default()
            .split('\t')
            .map(|c| c.trim().parse::<u64>().map_err(|e| anyhow!("{sql}: {c:?}: {e}")))
            .collect()
    }
}

/// Shared between the producer and the poller.
#[derive(Debug, Default)]
pub struct Published {
    /// Every publish, in order.
    pub chunks: Mutex<Vec<Chunk>>,
    /// Sequences published in all, once the producer is done (0 before).
    pub total: AtomicU64,
    pub done: AtomicBool,
}

/// What the poller measured.
#[derive(Debug, Default)]
pub struct Visible {
    pub latency: LatencyHistogram,
    /// Highest sequence + 1 seen stored.
    pub visible: u64,
    /// When the last new rows were seen.
    pub last_ns: u64,
    pub failed_polls: u64,
}

/// Polls `max(seq)` of this epoch every 10 ms; each newly visible tick (sequence >= `skip`) gets the poll's
/// answer time minus its publish time (an upper bound, ~10 ms resolution plus the query). Ends once every
/// published tick is visible, or `linger` after the producer finished.
pub fn spawn_poller(
    http: Http,
    database: String,
    epoch: u64,
    skip: u64,
    published: Arc<Published>,
    linger: Duration,
) -> std::thread::JoinHandle<Visible> {
    std::thread::spawn(move || {
        let mut out = Visible::default();
        let sql = format!("SELECT count(), max(seq) FROM `{database}`.ticks WHERE epoch = {epoch}");
        let mut chunk = 0usize;
        let mut done_at: Option<Instant> = None;
        loop {
            if done_at.is_none() && published.done.load(Relaxed) {
                done_at = Some(Instant::now());
            }
            let total = published.total.load(Relaxed);
            if done_at.is_some() && out.visible >= total {
                break;
            }
            if done_at.is_some_and(|d| d.elapsed() > linger) {
                break;
            }
            match http.numbers(&sql) {
                Ok(v) if v.len() == 2 => {
                    let now = realtime_ns();
                    let visible = if v[0] == 0 { 0 } else { v[1] + 1 };
                    if visible > out.visible {
                        let chunks =
                            published.chunks.lock().unwrap_or_else(PoisonError::into_inner);
                        while chunk < chunks.len() {
                            let (first, at) = chunks[chunk];
                            let end = chunks.get(chunk + 1).map_or(u64::MAX, |c| c.0);
                            let (lo, hi) = (first.max(out.visible).max(skip), end.min(visible));
                            if hi > lo {
                                out.latency.record_n(now.saturating_sub(at).max(1), hi - lo);
                            }
                            if end <= visible {
                                chunk += 1;
                            } else {
                                break;
                            }
                        }
                        out.visible = visible;
                        out.last_ns = now;
                    }
                }
                _ => out.failed_polls += 1,
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(Http::new("http://127.0.0.1:18123").is_ok());
        assert!(Http::new("http://127.0.0.1:18123/").is_ok());
        assert!(Http::new("https://x:1").is_err());
        assert!(Http::new("http://nohost").is_err());
    }
}
