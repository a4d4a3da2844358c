//! `tickring record`: connect to the configured LSEG feed and write every received frame to a dump file
//! (`{"recv_ns":..,"frame":[..]}` per line) that `feed::replay::LsegDumpReader` replays exactly as live.
//!
//! Progress goes to stderr once a second; Ctrl-C or SIGTERM stops cleanly (the dump is flushed). At the end
//! one JSON summary line goes to stdout.

use crate::tuning::Tuning;
use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickring_engine::feed::lseg::LsegClient;
use tickring_engine::feed::replay::DumpWriter;
use tickring_engine::feed::FeedItem;
use tickring_engine::mapping;

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The dump file to write.
    #[arg(long, short)]
    out: PathBuf,
    /// Append to an existing dump instead of refusing to overwrite it.
    #[arg(long)]
    append: bool,
    /// Server URL instead of ingest.lseg.url.
    #[arg(long)]
    url: Option<String>,
    /// Comma-separated RICs instead of ingest.lseg.rics.
    #[arg(long, value_delimiter = ',')]
    rics: Vec<String>,
    /// Stop after this many seconds (default: until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "SECONDS")]
    duration: Option<u64>,
}

type SharedWriter = Arc<Mutex<Recorder>>;

struct Recorder {
    dump: DumpWriter<BufWriter<File>>,
    /// The first write error; recording stops on it.
    failed: Option<std::io::Error>,
}

pub fn run(tuning: &Tuning, args: RecordArgs) -> Result<()> {
    let mut config = tuning.ingest.lseg.clone();
    if let Some(url) = args.url {
        config.url = url;
    }
    if !args.rics.is_empty() {
        config.rics = args.rics;
    }
    let mapping = match &tuning.ingest.mapping {
        Some(path) => mapping::load(path).with_context(|| format!("loading {}", path.display()))?,
        None => mapping::builtin(),
    };
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .append(args.append)
        .create_new(!args.append)
        .open(&args.out)
        .with_context(|| format!("creating {} (use --append to extend it)", args.out.display()))?;
    let recorder = Arc::new(Mutex::new(Recorder {
        dump: DumpWriter::new(BufWriter::with_capacity(1 << 20, file)),
        failed: None,
    }));
    let tap_recorder = recorder.clone();
    let tap = Box::new(move |frame: &str, recv_ns: u64| {
        if let Ok(mut r) = tap_recorder.lock() {
            if r.failed.is_none() {
                if let Err(e) = r.dump.write_frame(frame, recv_ns) {
                    r.failed = Some(e);
                }
            }
        }
    });
    let stop = stop_on_signal()?;
    let client = LsegClient::start_with_tap(config, Arc::new(mapping), tap)
        .context("starting the LSEG client")?;
    let summary = record_until_stopped(&client, &recorder, &stop, args.duration);
    let stats = client.stop();
    let (frames, bytes) =
        finish(&recorder).with_context(|| format!("writing {}", args.out.display()))?;
    let summary = summary?;
    eprintln!();
    println!(
        "{}",
        serde_json::json!({
            "out": args.out.display().to_string(),
            "frames": frames,
            "bytes": bytes,
            "trades": summary.trades,
            "rejects": summary.rejects,
            "connections": stats.logins,
            "disconnects": stats.disconnects,
        })
    );
    Ok(())
}

#[derive(Default)]
struct Summary {
    trades: u64,
    rejects: u64,
}

fn record_until_stopped(
    client: &LsegClient,
    recorder: &SharedWriter,
    stop: &AtomicBool,
    duration: Option<u64>,
) -> Result<Summary> {
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut shown = Instant::now();
    while !stop.load(Ordering::Relaxed) && duration.is_none_or(|s| started.elapsed().as_secs() < s)
    {
        match client.recv_timeout(Duration::from_millis(100)) {
            Some(FeedItem::Trade(_)) => summary.trades += 1,
            Some(FeedItem::Rejected(_)) => summary.rejects += 1,
            Some(FeedItem::Link(event)) => tracing::info!(?event, "link"),
            None => {}
        }
        if shown.elapsed() >= Duration::from_secs(1) {
            shown = Instant::now();
            let (frames, bytes, failed) = match recorder.lock() {
                Ok(mut r) => (r.dump.frames(), r.dump.bytes(), r.failed.take()),
                Err(_) => bail!("recorder lock poisoned"),
            };
            if let Some(e) = failed {
                return Err(e).context("writing the dump");
            }
            eprint!(
                "\rframes {frames}  trades {}  rejects {}  bytes {bytes}   ",
                summary.trades, summary.rejects
            );
        }
    }
    Ok(summary)
}

fn finish(recorder: &SharedWriter) -> Result<(u64, u64)> {
    let Ok(mut r) = recorder.lock() else { bail!("recorder lock poisoned") };
    if let Some(e) = r.failed.take() {
        return Err(e.into());
    }
    r.dump.flush()?;
    Ok((r.dump.frames(), r.dump.bytes()))
}

/// A flag set by Ctrl-C or SIGTERM, watched by a small thread of its own.
fn stop_on_signal() -> Result<Arc<AtomicBool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    // Installed here, before recording starts, so an early signal is never the default kill.
    let (mut int, mut term) = runtime
        .block_on(async {
            Ok::<_, std::io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            ))
        })
        .context("installing the SIGINT/SIGTERM handlers")?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        runtime.block_on(async {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        });
        set.store(true, Ordering::Relaxed);
    })?;
    Ok(flag)
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Last resort when an error path skipped `finish`.
        let _ = self.dump.flush();
    }
}
