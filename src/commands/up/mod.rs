//! `tickring up`: the whole product on one machine. Starts a local ClickHouse server (unless the tuning
//! names another), the ingest process, and both sinks as separate processes; restarts a crashed one with
//! backoff (sinks resume from their cursors); Ctrl-C stops everything in order without losing a tick that
//! was published: ingest first (the ring closes), then the ClickHouse writer drains and exits, then the
//! websocket pusher, then the server (only if `up` started it).
//!
//! Children run in process groups of their own, so a terminal's Ctrl-C reaches `up` alone, and get SIGTERM
//! if `up` dies. A child that exits with the permanent-error code is not restarted: `up` stops the others
//! in the same order and exits non-zero (the journal keeps what ingest published for the next run).

mod child;
mod clickhouse;
mod config;

pub use config::UpConfig;

use super::stop_flag::on_interrupt;
use crate::tuning::Tuning;
use anyhow::{bail, Context, Result};
use child::Supervised;
use rustix::process::Signal;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::RingStatus;

#[derive(Debug, clap::Args)]
pub struct UpArgs {}

pub fn run(tuning_path: &Path, _args: UpArgs) -> Result<()> {
    let tuning = Tuning::load(tuning_path)?;
    let cfg = tuning.up.clone();
    let stop = on_interrupt()?;
    check_port_free(&tuning.websocket.listen, "websocket.listen")?;
    let exe = std::env::current_exe().context("finding the tickring executable")?;
    let server = clickhouse::start(&cfg)?;
    let native_port = server.as_ref().map(|_| clickhouse::native_port());
    let result = supervise(&exe, tuning_path, &tuning, &cfg, &stop, native_port);
    if let Some(server) = server {
        server.stop();
    }
    result
}

fn supervise(
    exe: &Path,
    tuning_path: &Path,
    tuning: &Tuning,
    cfg: &UpConfig,
    stop: &AtomicBool,
    native_port: Option<u16>,
) -> Result<()> {
    let mut ingest = Supervised::new("ingest", &["ingest", "--quiet", "--hold"]);
    let mut writer = Supervised::new("sink-clickhouse", &["sink", "clickhouse"]);
    let mut pusher = Supervised::new("sink-websocket", &["sink", "websocket"]);
    ingest.start(exe, tuning_path)?;
    wait_for_ring(tuning, &mut ingest)?;
    writer.start(exe, tuning_path)?;
    pusher.start(exe, tuning_path)?;
    wait_for_sinks(tuning, stop);
    print_banner(tuning, native_port);
    let mut gave_up = None;
    while !stop.load(Ordering::Relaxed) && gave_up.is_none() {
        for p in [&mut ingest, &mut writer, &mut pusher] {
            p.check(cfg);
            if p.gave_up.is_some() {
                gave_up = Some(p.name);
            }
            if p.restart_at.is_some_and(|t| Instant::now() >= t) {
                p.start(exe, tuning_path)?;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("stopping: ingest first, then the sinks drain what was published");
    ingest.signal(Signal::INT);
    ingest.wait_or_stop(Duration::from_secs(30));
    writer.wait_or_stop(Duration::from_millis(cfg.drain_timeout_ms));
    pusher.signal(Signal::TERM);
    pusher.wait_or_stop(Duration::from_secs(10));
    if let Some(name) = gave_up {
        bail!("{name} stopped for good with a permanent error (see its line above): fix it, then run `tickring up` again");
    }
    Ok(())
}

fn wait_for_ring(tuning: &Tuning, ingest: &mut Supervised) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = ingest.child.as_ref().map(Child::id);
    while Instant::now() < deadline {
        // The ring is ready once its segment names our ingest process as producer (an old segment may
        // still be there from an earlier run).
        if let Ok(status) = RingStatus::read::<Tick, InstrumentEntry>(&tuning.ring) {
            if Some(status.producer_pid) == pid {
                return Ok(());
            }
        }
        if let Some(Ok(Some(status))) = ingest.child.as_mut().map(Child::try_wait) {
            bail!("ingest exited before creating the ring ({status}); see its error above");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("ingest did not create ring {} within 30 s", tuning.ring.segment_path().display())
}

/// Until both sinks are attached to the ring and the pusher answers on its port (at most 30 s): the
/// banner then names addresses that work.
fn wait_for_sinks(tuning: &Tuning, stop: &AtomicBool) {
    let names = [tuning.clickhouse.consumer.as_str(), tuning.websocket.consumer_name.as_str()];
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        let attached = RingStatus::read::<Tick, InstrumentEntry>(&tuning.ring).is_ok_and(|s| {
            names.iter().all(|n| s.consumers.iter().any(|c| c.name == *n && c.state == "active"))
        });
        if attached && std::net::TcpStream::connect(&tuning.websocket.listen).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn check_port_free(addr: &str, key: &str) -> Result<()> {
    std::net::TcpListener::bind(addr).map(drop).with_context(|| {
        format!("{addr} is already taken: stop what listens there or change {key} in tuning.toml")
    })
}

/// Printed once, when everything answers, with the addresses in use.
fn print_banner(tuning: &Tuning, native_port: Option<u16>) {
    let ws = &tuning.websocket.listen;
    let http = tuning.clickhouse.url.trim_end_matches('/');
    let query = "SELECT symbol, price, ts FROM tickring.latest_price FINAL ORDER BY symbol";
    let example = match native_port {
        Some(port) => format!("clickhouse-client --port {port} --query '{query}'"),
        None => format!("curl '{http}/' --data-binary '{query}'"),
    };
    let native = native_port.map_or(String::new(), |p| format!(", native port {p}"));
    eprintln!(
        "\ntickring is up\n  chart page      http://{ws}/\n  websocket       ws://{ws}/ws\n  ring status     tickring status\n  ClickHouse      {http}{native}\n  example query   {example}\n  Ctrl-C stops everything in order\n"
    );
}
