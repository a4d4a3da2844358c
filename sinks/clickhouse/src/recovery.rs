//! Candle state after a restart, rebuilt from the ticks already stored.
//!
//! The aggregator's open (and recently closed, still amendable) buckets live in memory; after kill -9 they
//! are gone, while the ring only replays what was not yet acknowledged. So on start the writer feeds the
//! aggregator the stored ticks of the last `recovery_window_s` (before the newest stored tick) in ring order,
//! epoch after epoch, discarding what it emits: every candle those ticks closed was written before them
//! (a flush writes candles before ticks). Only ticks before the resume point count: rows beyond it
//! belong to a flush that was never acknowledged and are read again from the journal.

use crate::store::Store;
use clickhouse::error::Result;
use tickring_engine::candles::CandleAggregator;
use tickring_sink_core::Instruments;

/// Feeds `agg` the stored ticks of the recovery window; returns how many it fed.
pub async fn recover(
    store: &Store,
    window_ns: u64,
    resume: (u64, u64),
    instruments: &mut Instruments,
    agg: &mut CandleAggregator,
) -> Result<u64> {
    let Some(newest) = store.newest_tick_ns().await? else { return Ok(0) };
    let from_ns = newest.saturating_sub(window_ns);
    let mut fed = 0u64;
    let (resume_epoch, resume_seq) = resume;
    for epoch in store.epochs_since(from_ns).await? {
        if epoch > resume_epoch {
            continue;
        }
        let below = if epoch == resume_epoch { resume_seq } else { u64::MAX };
        let mut cursor = store.ticks_of_epoch(epoch, from_ns, below)?;
        let mut last_seq = None;
        while let Some(row) = cursor.next().await? {
            // Rows written twice (a retried insert that had landed) are adjacent: take one.
            if last_seq == Some(row.seq) {
                continue;
            }
            last_seq = Some(row.seq);
            let exchange = tickring_engine::Exchange::from_mic(&row.exchange)
                .unwrap_or(tickring_engine::Exchange::Unknown);
            let id = instruments.intern(&row.symbol, exchange);
            agg.on_tick(row.seq, &row.to_tick(id), &mut |_| {});
            fed += 1;
        }
    }
    Ok(fed)
}
