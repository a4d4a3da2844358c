//! `tickring sink clickhouse`: the writer process (see `sinks/clickhouse`).

use crate::tuning::Tuning;
use anyhow::{Context, Result};
use clap::Args;
use std::sync::{Arc, Mutex};
use tickring_sink_clickhouse::{Exit, SinkError, Writer, WriterStats};

/// Exit code of a writer stopped by a permanent ClickHouse error (credentials, schema): sysexits'
/// EX_CONFIG. Restarting cannot help, so `tickring up` does not.
pub const EXIT_PERMANENT: i32 = 78;

#[derive(Debug, Args)]
pub struct ClickhouseArgs {
    /// Overrides clickhouse.url.
    #[arg(long)]
    pub url: Option<String>,
    /// Overrides clickhouse.database.
    #[arg(long)]
    pub database: Option<String>,
    /// Overrides clickhouse.consumer (the writer's name in the ring).
    #[arg(long)]
    pub consumer: Option<String>,
    /// Password (wins over clickhouse.password).
    #[arg(long, env = "TICKRING_CLICKHOUSE_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

pub fn run(tuning: &Tuning, args: ClickhouseArgs) -> Result<()> {
    let mut cfg = tuning.clickhouse.clone();
    if let Some(url) = args.url {
        cfg.url = url;
    }
    if let Some(database) = args.database {
        cfg.database = database;
    }
    if let Some(consumer) = args.consumer {
        cfg.consumer = consumer;
    }
    let password = args.password.unwrap_or_else(|| cfg.password.clone());
    let mut writer = match Writer::new(&tuning.ring, &tuning.journal, cfg, &password) {
        Err(e) if is_permanent(&e) => exit_permanent(&e),
        other => other.context("starting the ClickHouse writer")?,
    };
    writer.stop_on_signals().context("installing signal handlers")?;
    if !tuning.clickhouse.metrics.is_empty() {
        let shared = Arc::new(Mutex::new(WriterStats::default()));
        writer.share_stats(Arc::clone(&shared));
        if let Err(e) = serve_metrics(&tuning.clickhouse.metrics, tuning.ring.clone(), shared) {
            tracing::warn!(error = format!("{e:#}"), "writer metrics not served");
        }
    }
    let result = writer.run();
    drop(writer);
    match result {
        Err(e) if is_permanent(&e) => exit_permanent(&e),
        other => match other.context("ClickHouse writer")? {
            Exit::ProducerClosed | Exit::Stopped => Ok(()),
        },
    }
}

/// Errors a retry cannot fix: ClickHouse refused for good, or a table's schema is not ours.
fn is_permanent(e: &SinkError) -> bool {
    matches!(e, SinkError::Permanent { .. } | SinkError::IncompatibleTable { .. })
}

/// One clear line, then the distinct exit code.
fn exit_permanent(e: &SinkError) -> ! {
    eprintln!("tickring sink clickhouse: {e}");
    std::process::exit(EXIT_PERMANENT)
}

fn serve_metrics(
    addr: &str,
    ring: tickring_ipc::RingConfig,
    stats: Arc<Mutex<WriterStats>>,
) -> Result<()> {
    use crate::metrics::{family, render_ring};
    use std::fmt::Write as _;
    use tickring_sink_clickhouse::FailureKind;
    crate::metrics::serve(addr, move || {
        let s = stats.lock().map(|s| s.clone()).unwrap_or_default();
        let mut out = String::new();
        for (name, help, value) in [
            ("ticks_read_total", "Ticks read from the stream (ring or journal).", s.ticks_read),
            ("ticks_written_total", "Tick rows acknowledged by ClickHouse.", s.ticks_written),
            ("candles_written_total", "Candle rows acknowledged.", s.candles_written),
            ("latest_written_total", "Latest-price rows acknowledged.", s.latest_written),
            ("flushes_total", "Flushes acknowledged (each moves the resume point).", s.flushes),
            ("retries_total", "Requests retried after a failure.", s.retries),
            (
                "ring_missed_total",
                "Ticks lost before this writer stored them (journal retention or damage).",
                s.ring_missed,
            ),
            (
                "candle_late_reemits_total",
                "Candles re-emitted for late ticks.",
                s.candle_late_reemits,
            ),
            ("candle_too_late_total", "Ticks too late for any retained candle.", s.candle_too_late),
        ] {
            let name = format!("tickring_clickhouse_{name}");
            family(&mut out, &name, "counter", help);
            let _ = writeln!(out, "{name} {value}");
        }
        family(
            &mut out,
            "tickring_clickhouse_failures_total",
            "counter",
            "Failed ClickHouse requests by kind.",
        );
        for kind in FailureKind::ALL {
            let _ = writeln!(
                out,
                "tickring_clickhouse_failures_total{{kind=\"{kind}\"}} {}",
                s.failures[kind.index()]
            );
        }
        if let Ok(status) = tickring_ipc::RingStatus::read::<
            tickring_engine::Tick,
            tickring_engine::InstrumentEntry,
        >(&ring)
        {
            render_ring(&mut out, &status);
        }
        out
    })
}
