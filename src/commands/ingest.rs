//! `tickring ingest`: a feed (simulator, replay file or LSEG) -> classification -> the ring, published from
//! one pinned thread.

use super::feeds::{open_source, SourceArgs};
use super::stop_flag::on_interrupt;
use crate::tuning::Tuning;
use anyhow::{anyhow, Context, Result};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tickring_engine::feed::Quarantine;
use tickring_engine::ingest::{pinned::pin_current_thread, run, Classifier, Ended, Publisher};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{Producer, RingStatus};

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Keep the ring open after a replay or simulated range ends (sinks keep their connections).
    #[arg(long)]
    hold: bool,
    /// No progress line on stderr.
    #[arg(long)]
    quiet: bool,
}

pub fn run_ingest(tuning: &Tuning, args: IngestArgs) -> Result<()> {
    let stop = on_interrupt()?;
    let (mut source, pacer, calendars) = open_source(tuning, &args.source)?;
    let classifier = Classifier::new(&calendars, tuning.ingest.exchange_overrides()?);
    if let Some(dir) = tuning.ingest.quarantine.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let quarantine = Quarantine::create(&tuning.ingest.quarantine).with_context(|| {
        format!("opening the quarantine file {}", tuning.ingest.quarantine.display())
    })?;
    let producer = Producer::<Tick, InstrumentEntry>::create(&tuning.ring)
        .with_context(|| format!("creating ring '{}'", tuning.ring.name))?;
    tracing::info!(ring = %tuning.ring.name, epoch = producer.epoch(), feed = source.name(), "publishing");
    let core = tuning.ingest.publisher_core;
    let batch = tuning.ingest.publish_batch;
    let thread_stop = std::sync::Arc::clone(&stop);
    let publisher = std::thread::Builder::new().name("publisher".into()).spawn(move || {
        if let Some(core) = core {
            if let Err(e) = pin_current_thread(core) {
                tracing::warn!(error = %e, "publisher not pinned");
            }
        }
        let mut publisher = Publisher::new(producer, classifier, quarantine, batch);
        let ended = run(source.as_mut(), &mut publisher, &thread_stop, pacer, batch);
        (ended, publisher, source.counters())
    })?;
    let progress = (!args.quiet).then(|| progress_bar(tuning));
    while !publisher.is_finished() {
        std::thread::sleep(Duration::from_millis(200));
        if let (Some(bar), Ok(s)) =
            (&progress, RingStatus::read::<Tick, InstrumentEntry>(&tuning.ring))
        {
            bar.set_position(s.published);
        }
    }
    let (ended, publisher, feed) =
        publisher.join().map_err(|_| anyhow!("the publisher thread panicked"))?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let ended = ended.context("the feed failed")?;
    let counters = publisher.counters();
    eprintln!(
        "{}",
        serde_json::json!({ "ended": format!("{ended:?}"), "ingest": counters, "feed_frames": feed.frames, "feed_trades": feed.trades })
    );
    if ended == Ended::SourceEnd && args.hold {
        tracing::info!("feed ended; holding the ring open until Ctrl-C");
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    drop(publisher); // closes the ring: sinks drain what was published, then see it closed
    Ok(())
}

fn progress_bar(tuning: &Tuning) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos} ticks published to ring '{msg}' ({per_sec})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(tuning.ring.name.clone());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
