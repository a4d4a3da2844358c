//! `tickring journal tail`: ticks as JSON lines from any (epoch, seq) or time, through the same
//! [`TickStream`] every sink reads with (journal when behind, ring when near).

use super::since::{first_at_or_after, parse_position, parse_time};
use super::tick_json;
use crate::tuning::Tuning;
use anyhow::{Context, Result};
use std::io::{BufWriter, ErrorKind, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{RingError, RingStatus};
use tickring_journal::info;
use tickring_sink_core::{Event, Position, Start, StreamConfig, StreamError, TickStream};

/// How long one read waits for something new.
const WAIT: Duration = Duration::from_millis(100);
/// Without `--follow`, reading stops after this long with nothing new even if the end seen at start was
/// not reached (a damaged or torn tail makes it unreachable).
const GIVE_UP: Duration = Duration::from_secs(1);
/// Ring consumer names are `journal-tail-N`: see [`consumer_name`].
const NAME: &str = "journal-tail";

#[derive(Debug, clap::Args)]
pub struct TailArgs {
    /// Start at EPOCH:SEQ (as `journal ls` shows them); default: the oldest tick the journal holds.
    #[arg(long, value_parser = parse_position, conflicts_with = "since")]
    from: Option<Position>,
    /// Start at the first tick whose event time is at or after TIME (RFC 3339 or ns since 1970).
    #[arg(long, value_parser = parse_time)]
    since: Option<u64>,
    /// Keep printing new ticks as they are published (until Ctrl-C); otherwise stop at the journal's end.
    #[arg(long)]
    follow: bool,
    /// Stop after N ticks.
    #[arg(long)]
    limit: Option<u64>,
}

pub fn run(tuning: &Tuning, args: &TailArgs) -> Result<()> {
    let stop = super::super::stop_flag::on_interrupt()?;
    let end = journal_end(tuning)?;
    let start = match (args.from, args.since) {
        (Some(pos), _) => Start::At(pos),
        (None, Some(ns)) => {
            match first_at_or_after(&tuning.journal, &tuning.ring.name, ns)? {
                Some(pos) => Start::At(pos),
                // Nothing that late yet: only what comes next.
                None => end.map_or(Start::Latest, Start::At),
            }
        }
        (None, None) => Start::Oldest,
    };
    let end = if args.follow { None } else { Some(end) };
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut tail = Tail::new(tuning, start, args.limit, end);
    while !stop.load(Ordering::Relaxed) {
        match tail.step(&mut out) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) if is_broken_pipe(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    match out.flush() {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

/// Where the journal ends now (the newest epoch's head); `None` for an empty journal.
fn journal_end(tuning: &Tuning) -> Result<Option<Position>> {
    let info = info::inspect::<Tick, InstrumentEntry>(&tuning.journal, &tuning.ring.name)
        .with_context(|| {
            format!(
                "reading the journal of ring '{}' in {}",
                tuning.ring.name,
                tuning.journal.dir.display()
            )
        })?;
    Ok(info.epochs.last().map(|e| Position { epoch: e.epoch, seq: e.head }))
}

/// A name in the ring's consumer table that no live process holds, lowest first. A detached slot keeps
/// its name (and its place in the table) forever, so a name per pid would fill the table; reused names
/// cost one slot per tail running at the same time.
fn consumer_name(tuning: &Tuning, after: usize) -> String {
    let me = std::process::id();
    let held: Vec<String> = RingStatus::read::<Tick, InstrumentEntry>(&tuning.ring)
        .map(|s| {
            s.consumers
                .into_iter()
                .filter(|c| c.state == "active" && c.alive && c.pid != me)
                .map(|c| c.name)
                .collect()
        })
        .unwrap_or_default();
    (after..)
        .map(|n| format!("{NAME}-{n}"))
        .find(|name| !held.contains(name))
        .unwrap_or_else(|| format!("{NAME}-{me}"))
}

/// The reading loop's state.
struct Tail<'t> {
    tuning: &'t Tuning,
    stream: TickStream,
    start: Start,
    name_index: usize,
    limit: Option<u64>,
    /// Without `--follow`: where to stop (`Some(None)`: the journal was empty, stop when idle).
    end: Option<Option<Position>>,
    printed: u64,
    idle_since: Option<Instant>,
    batch: Vec<Tick>,
}

/// Directory index -> (symbol, MIC) of the epoch being read: ids are numbered afresh in every epoch.
impl<'t> Tail<'t> {
    fn new(
        tuning: &'t Tuning,
        start: Start,
        limit: Option<u64>,
        end: Option<Option<Position>>,
    ) -> Self {
        let name = consumer_name(tuning, 0);
        Self {
            tuning,
            stream: Self::stream(tuning, name, start),
            start,
            name_index: 0,
            limit,
            end,
            printed: 0,
            idle_since: None,
            batch: Vec::new(),
        }
    }

    fn stream(tuning: &Tuning, consumer: String, start: Start) -> TickStream {
        tracing::debug!(%consumer, "ring consumer name");
        let cfg = StreamConfig {
            ring: tuning.ring.clone(),
            journal: tuning.journal.clone(),
            consumer,
            max_batch: tuning.ring.max_batch,
        };
        TickStream::new(cfg, start)
    }

    /// Reads one event and prints what it holds; `false` once done.
    fn step(&mut self, out: &mut impl Write) -> Result<bool> {
        if self.limit.is_some_and(|n| self.printed >= n) {
            return Ok(false);
        }
        let epoch_seq = match self.stream.next(WAIT) {
            Ok(Event::Ticks { epoch, first_seq, ticks, .. }) => {
                self.batch.clear();
                self.batch.extend_from_slice(ticks);
                Some((epoch, first_seq))
            }
            Ok(Event::Gap(gap)) => {
                tracing::warn!(
                    epoch = gap.epoch,
                    from = gap.from,
                    to = gap.to,
                    count = gap.count(),
                    cause = gap.cause.as_str(),
                    "ticks that will never be read"
                );
                None
            }
            Ok(Event::FeedGap { epoch, gap }) => {
                tracing::warn!(epoch, ?gap, "the live feed was not listening");
                None
            }
            Ok(Event::NewEpoch { epoch, .. }) => {
                tracing::debug!(epoch, "reading epoch");
                None
            }
            Ok(Event::Idle) => return Ok(self.on_idle()),
            Ok(Event::Closed) => return Ok(self.end.is_none()),
            Err(StreamError::Ring(RingError::NameTaken { consumer, .. })) => {
                // Another tail took the same name between the look and the attach: take the next one.
                self.name_index += 1;
                let name = consumer_name(self.tuning, self.name_index);
                tracing::debug!(taken = %consumer, %name, "consumer name taken; retrying");
                let start = self.stream.position().map_or(self.start, Start::At);
                self.stream = Self::stream(self.tuning, name, start);
                return Ok(true);
            }
            Err(e) => return Err(e).context("reading the journal and the ring"),
        };
        self.idle_since = None;
        let Some((epoch, first_seq)) = epoch_seq else { return Ok(true) };
        self.print(out, epoch, first_seq)
    }

    fn print(&mut self, out: &mut impl Write, epoch: u64, first_seq: u64) -> Result<bool> {
        let stop_at = self.end.flatten();
        for (i, tick) in self.batch.iter().enumerate() {
            let seq = first_seq + i as u64;
            let past_end = stop_at.is_some_and(|e| (epoch, seq) >= (e.epoch, e.seq));
            if past_end || self.limit.is_some_and(|n| self.printed >= n) {
                out.flush()?;
                return Ok(false);
            }
            // The stream's ids are resolved per epoch already.
            let (symbol, mic) = self.stream.instruments().name(tick.instrument_id);
            writeln!(out, "{}", tick_json::line(epoch, seq, symbol, mic, tick))?;
            self.printed += 1;
        }
        out.flush()?;
        let at = self.stream.position();
        Ok(!matches!((stop_at, at), (Some(e), Some(p)) if (p.epoch, p.seq) >= (e.epoch, e.seq)))
    }

    /// Nothing new: with `--follow` wait on; otherwise stop once the end seen at start is reached.
    fn on_idle(&mut self) -> bool {
        let Some(end) = self.end else { return true };
        let since = *self.idle_since.get_or_insert_with(Instant::now);
        let reached = match (end, self.stream.position()) {
            (None, _) | (_, None) => true,
            (Some(e), Some(p)) => (p.epoch, p.seq) >= (e.epoch, e.seq),
        };
        if reached {
            return false;
        }
        if since.elapsed() >= GIVE_UP {
            tracing::warn!("nothing more to read before the journal's end seen at start; stopping");
            return false;
        }
        true
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == ErrorKind::BrokenPipe)
}
