//! `tickring ingest`: a feed (simulator, replay file or LSEG) -> classification -> the ring, published from
//! one pinned thread.

use super::feeds::{open_source, SourceArgs};
use super::stop_flag::on_interrupt;
use crate::tuning::Tuning;
use anyhow::{anyhow, Context, Result};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tickring_engine::feed::Quarantine;
use tickring_engine::feed::{ResumeError, TradeSource};
use tickring_engine::ingest::{
    pinned::pin_current_thread, run, Classifier, Ended, IngestCounters, Publisher, TickJournal,
};
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
    /// Start the source from its beginning even if the journal says where an earlier run stopped.
    #[arg(long)]
    from_start: bool,
}

pub fn run_ingest(tuning: &Tuning, args: IngestArgs) -> Result<()> {
    let stop = on_interrupt()?;
    let (mut source, pacer, calendars) = open_source(tuning, &args.source)?;
    let classifier = Classifier::new(&calendars, tuning.ingest.exchange_overrides()?);
    if let Some(dir) = tuning.ingest.quarantine.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let quarantine =
        Quarantine::create_capped(&tuning.ingest.quarantine, tuning.ingest.quarantine_max_bytes)
            .with_context(|| {
                format!("opening the quarantine file {}", tuning.ingest.quarantine.display())
            })?;
    let producer = Producer::<Tick, InstrumentEntry>::create(&tuning.ring)
        .with_context(|| format!("creating ring '{}'", tuning.ring.name))?;
    let skip = if args.from_start {
        0
    } else {
        match resume_source(tuning, source.as_mut())? {
            Some(skip) => skip,
            // The refused attempt may have read into the source: open it afresh.
            None => {
                source = open_source(tuning, &args.source)?.0;
                0
            }
        }
    };
    let down_since = (source.position().is_none()).then(|| previous_epoch_end(tuning)).flatten();
    let journal = TickJournal::open(&tuning.journal, &tuning.ring.name, producer.epoch())
        .with_context(|| format!("opening the journal in {}", tuning.journal.dir.display()))?;
    tracing::info!(ring = %tuning.ring.name, epoch = producer.epoch(), feed = source.name(), journal = %journal.path().display(), "publishing");
    let core = tuning.ingest.publisher_core;
    let batch = tuning.ingest.publish_batch;
    let shared = Arc::new(Mutex::new(IngestCounters::default()));
    if !tuning.ingest.metrics.is_empty() {
        serve_metrics(&tuning.ingest.metrics, tuning.ring.clone(), Arc::clone(&shared))?;
    }
    let thread_counters = Arc::clone(&shared);
    let thread_stop = Arc::clone(&stop);
    let publisher = std::thread::Builder::new().name("publisher".into()).spawn(move || {
        if let Some(core) = core {
            if let Err(e) = pin_current_thread(core) {
                tracing::warn!(error = %e, "publisher not pinned");
            }
        }
        let mut publisher =
            Publisher::new(producer, classifier, quarantine, batch).with_journal(journal);
        publisher.skip_ticks(skip);
        if let Some(from) = down_since {
            publisher.down_since(from);
        }
        publisher.share_counters(thread_counters);
        let ended = run(source.as_mut(), &mut publisher, &thread_stop, pacer, batch);
        publisher.close_journal();
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

/// Moves `source` to where the journal says an earlier run stopped; returns how many ticks it will
/// produce again that the journal already holds (published after that position was journaled), or
/// `None` when the position is another source's (the source must then be opened again from its start).
fn resume_source(tuning: &Tuning, source: &mut dyn TradeSource) -> Result<Option<u64>> {
    let last = match tickring_journal::info::last_source_position::<Tick>(
        &tuning.journal,
        &tuning.ring.name,
    ) {
        Ok(Some(last)) => last,
        Ok(None) => return Ok(Some(0)),
        Err(e) => {
            tracing::warn!(error = %e, "no journaled source position readable; starting the source from its beginning");
            return Ok(Some(0));
        }
    };
    match source.resume(&last.position) {
        Ok(()) => {
            let skip = last.journal_head.saturating_sub(last.seq);
            tracing::info!(
                epoch = last.epoch, at_seq = last.seq, already_journaled = skip,
                "continuing the source where the journal says the last run stopped (--from-start to replay it all)"
            );
            Ok(Some(skip))
        }
        Err(ResumeError::Unsupported(_)) => Ok(Some(0)),
        Err(ResumeError::Mismatch(why)) => {
            tracing::info!(%why, "the journaled source position is another source's; starting from its beginning");
            Ok(None)
        }
        Err(e) => Err(e).context("moving the source to its journaled position"),
    }
}

/// When the newest journaled epoch last wrote: a live feed was not listening from then until it is up.
fn previous_epoch_end(tuning: &Tuning) -> Option<u64> {
    let ring_dir = tuning.journal.ring_dir(&tuning.ring.name);
    let last = tickring_journal::layout::list_epochs(&ring_dir).ok()?.pop()?;
    let newest = std::fs::read_dir(&last.path)
        .ok()?
        .flatten()
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max()?;
    let ns = newest.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    u64::try_from(ns).ok()
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

fn serve_metrics(
    addr: &str,
    ring: tickring_ipc::RingConfig,
    counters: Arc<Mutex<IngestCounters>>,
) -> Result<()> {
    use crate::metrics::{family, render_ring};
    use std::fmt::Write as _;
    crate::metrics::serve(addr, move || {
        let c = counters.lock().map(|c| c.clone()).unwrap_or_default();
        let mut out = String::new();
        for (name, help, value) in [
            ("tickring_ingest_received_total", "Feed items handed to the publisher.", c.received),
            ("tickring_ingest_published_total", "Ticks published into the ring.", c.published),
            (
                "tickring_ingest_out_of_order_total",
                "Trades older than one already seen for the instrument.",
                c.out_of_order,
            ),
            (
                "tickring_ingest_outside_calendar_total",
                "Trades outside the years the calendar covers.",
                c.outside_calendar,
            ),
            ("tickring_ingest_instruments", "Instruments in the ring's directory.", c.instruments),
            (
                "tickring_ingest_link_downs_total",
                "Times the live feed connection dropped.",
                c.link_downs,
            ),
            (
                "tickring_ingest_quarantine_write_errors_total",
                "Quarantine lines that could not be written.",
                c.quarantine_write_errors,
            ),
        ] {
            family(
                &mut out,
                name,
                if name.ends_with("_total") { "counter" } else { "gauge" },
                help,
            );
            let _ = writeln!(out, "{name} {value}");
        }
        family(
            &mut out,
            "tickring_ingest_rejected_total",
            "counter",
            "Messages quarantined, by reason.",
        );
        for (reason, n) in &c.rejected {
            let _ = writeln!(out, "tickring_ingest_rejected_total{{reason=\"{reason}\"}} {n}");
        }
        if let Ok(status) = RingStatus::read::<Tick, InstrumentEntry>(&ring) {
            render_ring(&mut out, &status);
        }
        out
    })
}
