//! One flush, written in the background while the writer reads on: candle tables and latest prices
//! concurrently, then (once all of them are acknowledged) the ticks, then the progress row that says how
//! far the store holds the epoch. Stored ticks imply their candles are stored, which recovery relies on;
//! the progress row implies its ticks are, which the resume point relies on.

use crate::pending::FlushJob;
use crate::store::Store;
use clickhouse::error::{Error, Result};
use std::sync::Arc;
use std::time::Instant;
use tickring_engine::candles::Interval;

/// The flush ClickHouse is writing while the writer reads on.
#[derive(Debug)]
pub struct InFlight {
    pub job: Arc<FlushJob>,
    pub started: Instant,
    pub handle: tokio::task::JoinHandle<(Done, Result<()>)>,
}

/// Which parts of a flush ClickHouse acknowledged (a retry redoes only the rest) and their row counts.
#[derive(Debug, Default)]
pub struct Done {
    candle_tables: Vec<Interval>,
    latest_done: bool,
    ticks_attempted: bool,
    ticks_done: bool,
    progress_done: bool,
    pub candles: u64,
    pub latest: u64,
    pub ticks: u64,
}

enum Part {
    Candles(Interval),
    Latest,
}

/// What a flush needs besides its job.
#[derive(Clone, Debug)]
pub struct Target {
    pub store: Store,
    pub intervals: Arc<[Interval]>,
    pub consumer: Arc<str>,
}

pub async fn write_job(target: Target, job: Arc<FlushJob>, mut done: Done) -> (Done, Result<()>) {
    let Target { store, intervals, consumer } = target;
    let mut set = tokio::task::JoinSet::new();
    for &interval in intervals.iter() {
        if done.candle_tables.contains(&interval) {
            continue;
        }
        if job.candles_of(interval).next().is_none() {
            done.candle_tables.push(interval);
            continue;
        }
        let (store, job) = (store.clone(), Arc::clone(&job));
        set.spawn(async move {
            let written =
                store.insert_candles(interval, job.candles_of(interval), &job.names).await;
            (Part::Candles(interval), written)
        });
    }
    if !done.latest_done {
        if job.latest.is_empty() {
            done.latest_done = true;
        } else {
            let (store, job) = (store.clone(), Arc::clone(&job));
            set.spawn(
                async move { (Part::Latest, store.insert_latest(&job.latest, &job.names).await) },
            );
        }
    }
    let mut failed = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((Part::Candles(interval), Ok(n))) => {
                done.candle_tables.push(interval);
                done.candles += n;
            }
            Ok((Part::Latest, Ok(n))) => {
                done.latest_done = true;
                done.latest += n;
            }
            Ok((_, Err(e))) => {
                failed.get_or_insert(e);
            }
            Err(e) => {
                failed.get_or_insert(Error::Custom(format!("insert task failed: {e}")));
            }
        }
    }
    if let Some(e) = failed {
        return (done, Err(e));
    }
    if let Err(e) = write_ticks(&store, &job, &mut done).await {
        return (done, Err(e));
    }
    if let (Some(end), false) = (job.end_seq, done.progress_done) {
        if let Err(e) = store.insert_progress(&consumer, job.epoch, end).await {
            return (done, Err(e));
        }
        done.progress_done = true;
    }
    (done, Ok(()))
}

/// Exactly once: an earlier attempt whose answer was lost may have landed whole (then it is done) or in
/// part (the server splits an insert by partition, and the parts are not atomic): then its rows are
/// deleted before the batch is inserted again.
async fn write_ticks(store: &Store, job: &FlushJob, done: &mut Done) -> Result<()> {
    let Some((first, end)) = job.tick_range().filter(|_| !done.ticks_done) else {
        done.ticks_done = true;
        return Ok(());
    };
    let n = job.ticks.len() as u64;
    if done.ticks_attempted {
        let (rows, distinct) = store.count_range(job.epoch, first, end).await?;
        if rows == n && distinct == n {
            done.ticks += n;
            done.ticks_done = true;
            return Ok(());
        }
        if rows > 0 {
            tracing::warn!(
                epoch = job.epoch,
                first,
                end,
                rows,
                expected = n,
                "an interrupted insert landed in part; deleting it before writing the batch again"
            );
            store.delete_range(job.epoch, first, end).await?;
        }
    }
    done.ticks_attempted = true;
    done.ticks += store.insert_ticks(job.epoch, &job.ticks, &job.names).await?;
    done.ticks_done = true;
    Ok(())
}
