//! Benchmark results in the shared JSON shape, and the printed table.

use crate::stats::StatsSnapshot;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::time::Duration;

/// One measured configuration.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    pub name: String,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub p9999_ns: u64,
    pub max_ns: u64,
    /// Messages delivered to clients per second.
    pub throughput_per_s: f64,
    #[serde(skip)]
    pub received: u64,
    #[serde(skip)]
    pub ticks_in: u64,
    #[serde(skip)]
    pub ticks_in_per_s: f64,
}

impl BenchResult {
    pub fn from_histogram(
        name: &str,
        h: &Histogram<u64>,
        received: u64,
        ticks_in: u64,
        over: Duration,
    ) -> Self {
        let secs = over.as_secs_f64().max(1e-9);
        Self {
            name: name.to_string(),
            p50_ns: h.value_at_quantile(0.5),
            p90_ns: h.value_at_quantile(0.9),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            p9999_ns: h.value_at_quantile(0.9999),
            max_ns: h.max(),
            throughput_per_s: received as f64 / secs,
            received,
            ticks_in,
            ticks_in_per_s: ticks_in as f64 / secs,
        }
    }

    pub fn line(&self) -> String {
        let ms = |ns: u64| ns as f64 / 1e6;
        format!(
            "{:<40} in {:>8.0}/s  out {:>9.0} msg/s  p50 {:>7.3} ms  p90 {:>7.3}  p99 {:>7.3}  p99.9 {:>7.3}  max {:>8.3}",
            self.name,
            self.ticks_in_per_s,
            self.throughput_per_s,
            ms(self.p50_ns),
            ms(self.p90_ns),
            ms(self.p99_ns),
            ms(self.p999_ns),
            ms(self.max_ns)
        )
    }
}

/// The whole run: `{"scenario":..,"results":[..]}` in JSON; the summary fields are printed, not serialized.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub scenario: String,
    pub results: Vec<BenchResult>,
    #[serde(skip)]
    pub highest_rate_held: Option<u64>,
    /// (p99 without, p99 with one frozen client), ns.
    #[serde(skip)]
    pub frozen_effect: Option<(u64, u64)>,
    #[serde(skip)]
    pub server_stats: Option<StatsSnapshot>,
}

impl BenchReport {
    pub fn new(scenario: &str) -> Self {
        Self {
            scenario: scenario.into(),
            results: Vec::new(),
            highest_rate_held: None,
            frozen_effect: None,
            server_stats: None,
        }
    }

    pub fn summary(&self, target: Duration) -> String {
        let mut s = String::new();
        match self.highest_rate_held {
            Some(r) => s.push_str(&format!(
                "highest input rate tried with p99 < {target:?}: {r} ticks/s\n"
            )),
            None => s.push_str(&format!("no input rate tried held p99 < {target:?}\n")),
        }
        if let Some((a, b)) = self.frozen_effect {
            let change = if a > 0 { (b as f64 - a as f64) / a as f64 * 100.0 } else { 0.0 };
            s.push_str(&format!(
                "one frozen client: p99 {:.3} ms -> {:.3} ms ({change:+.1}%)\n",
                a as f64 / 1e6,
                b as f64 / 1e6
            ));
        }
        if let Some(st) = &self.server_stats {
            s.push_str(&format!(
                "server: {} messages in {} frames, {} dropped for slow clients, {} closed as slow, ring overruns {}\n",
                st.messages_out, st.frames_out, st.trades_dropped, st.closed_slow, st.ring_overruns
            ));
        }
        s
    }
}
