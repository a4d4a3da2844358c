//! Results: one [`BenchResult`] row per peer, a [`Report`] per scenario, its table and its JSON.

use crate::histogram::LatencyHistogram;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// What one peer measured: the latency distribution of the paced phase and the flat-out throughput.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Row name, e.g. `disruptor-inproc`.
    pub name: String,
    /// One-way hop latencies of the paced phase (warm-up excluded), nanoseconds.
    pub latency: LatencyHistogram,
    /// The flat-out phase.
    pub throughput: Throughput,
}

/// A flat-out run: `messages` delivered in `elapsed_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throughput {
    /// Messages the consumer received (and checked for order).
    pub messages: u64,
    /// From the first message's publish stamp to the consumer's read after the last message.
    pub elapsed_ns: u64,
}

impl Throughput {
    /// Messages per second; 0 when nothing was timed.
    pub fn per_second(&self) -> f64 {
        if self.elapsed_ns == 0 {
            0.0
        } else {
            self.messages as f64 * 1e9 / self.elapsed_ns as f64
        }
    }
}

/// One row of a report. The first eight fields are the stable JSON contract, in this order; fields after
/// them are extras readers may ignore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    pub name: String,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub p9999_ns: u64,
    pub max_ns: u64,
    pub throughput_per_s: f64,
    /// Latency samples behind the percentiles.
    pub samples: u64,
    /// Mean latency, nanoseconds.
    pub mean_ns: f64,
    /// Messages in the throughput phase.
    pub throughput_messages: u64,
    /// This row's p99 over the baseline row's p99 (`None` without a baseline).
    pub p99_vs_baseline: Option<f64>,
    /// Scenarios measured in interleaved rounds: each round's throughput and their spread
    /// (`throughput_per_s` is then the median of the rounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<Rounds>,
    /// This row's throughput over the baseline row's, where the scenario compares throughputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_vs_baseline: Option<f64>,
    /// Scenarios in interleaved rounds: this row's p99 over the baseline's p99 of the same round, per round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ratio_rounds: Option<RoundRatios>,
    /// CPU of the processes behind the row (this one and the children it waited for), per message it
    /// moved, median of the rounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ns_per_tick: Option<f64>,
}

/// A ratio to the baseline taken in each round (both measured back to back), and how it spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRatios {
    pub per_round: Vec<f64>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Share of the rounds in which the ratio was at most 1 (this row as good as the baseline or better).
    pub share_at_most_one: f64,
}

impl RoundRatios {
    /// The statistics of `per_round` (`None` when empty).
    pub fn of(per_round: Vec<f64>) -> Option<Self> {
        let stats = Rounds::of(per_round.clone())?;
        let at_most_one = per_round.iter().filter(|r| **r <= 1.0).count();
        Some(Self {
            share_at_most_one: at_most_one as f64 / per_round.len() as f64,
            per_round,
            median: stats.median_per_s,
            min: stats.min_per_s,
            max: stats.max_per_s,
        })
    }
}

/// One row measured in rounds: percentiles from every round's histogram together, throughput the median
/// of the rounds' (with their spread in `rounds`). `None` without rounds.
pub fn merge_rounds(rounds: &[Measurement]) -> Option<(BenchResult, Measurement)> {
    let first = rounds.first()?;
    let mut latency = LatencyHistogram::new();
    let mut total = Throughput { messages: 0, elapsed_ns: 0 };
    for m in rounds {
        let _ = latency.add(&m.latency);
        total.messages += m.throughput.messages;
        total.elapsed_ns += m.throughput.elapsed_ns;
    }
    let merged = Measurement { name: first.name.clone(), latency, throughput: total };
    let mut r = BenchResult::from_measurement(&merged);
    r.rounds = Rounds::of(rounds.iter().map(|m| m.throughput.per_second()).collect());
    r.throughput_per_s = r.rounds.as_ref().map_or(0.0, |s| s.median_per_s);
    r.throughput_messages = first.throughput.messages;
    Some((r, merged))
}

/// The rounds behind one row of a scenario that runs its peers in turn (A B A B ..).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rounds {
    /// Throughput of each round, in the order they ran.
    pub per_s: Vec<f64>,
    pub median_per_s: f64,
    pub min_per_s: f64,
    pub max_per_s: f64,
    /// `(max - min) / median`: how far apart the rounds were.
    pub spread: f64,
}

impl Rounds {
    /// The statistics of `per_s` (`None` when empty).
    pub fn of(per_s: Vec<f64>) -> Option<Self> {
        let mut sorted = per_s.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return None;
        }
        let median =
            if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        let (min, max) = (sorted[0], sorted[n - 1]);
        let spread = if median > 0.0 { (max - min) / median } else { 0.0 };
        Some(Self { per_s, median_per_s: median, min_per_s: min, max_per_s: max, spread })
    }
}

impl BenchResult {
    /// A row that measured throughput only (`messages` at `per_s`), no latency.
    pub fn throughput_only(name: &str, per_s: f64, messages: u64) -> Self {
        let m = Measurement {
            name: name.into(),
            latency: LatencyHistogram::new(),
            throughput: Throughput { messages, elapsed_ns: 0 },
        };
        Self { throughput_per_s: per_s, ..Self::from_measurement(&m) }
    }

    /// Percentiles and throughput of `m`; `p99_vs_baseline` is filled in by [`Report::new`].
    pub fn from_measurement(m: &Measurement) -> Self {
        let h = &m.latency;
        Self {
            name: m.name.clone(),
            p50_ns: h.percentile(50.0),
            p90_ns: h.percentile(90.0),
            p99_ns: h.percentile(99.0),
            p999_ns: h.percentile(99.9),
            p9999_ns: h.percentile(99.99),
            max_ns: h.max(),
            throughput_per_s: m.throughput.per_second(),
            samples: h.len(),
            mean_ns: h.mean(),
            throughput_messages: m.throughput.messages,
            p99_vs_baseline: None,
            rounds: None,
            throughput_vs_baseline: None,
            p99_ratio_rounds: None,
            cpu_ns_per_tick: None,
        }
    }
}

/// `numerator / denominator` as a ratio; `None` when the denominator is 0.
pub fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator != 0).then(|| numerator as f64 / denominator as f64)
}

/// All rows of one scenario. Serialises as `{"scenario":..,"results":[..]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub scenario: String,
    pub results: Vec<BenchResult>,
    /// Scenarios that run processes: each one's CPU per tick over the measured window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpu: Vec<crate::cpu::ProcessCpu>,
}

impl Report {
    /// A report whose rows carry their p99 ratio to the row named `baseline` (when that row exists).
    pub fn new(scenario: impl Into<String>, mut results: Vec<BenchResult>, baseline: &str) -> Self {
        let base_p99 = results.iter().find(|r| r.name == baseline).map(|r| r.p99_ns);
        for r in &mut results {
            r.p99_vs_baseline = base_p99.and_then(|b| ratio(r.p99_ns, b));
        }
        Self { scenario: scenario.into(), results, cpu: Vec::new() }
    }

    /// Fills in every row's throughput over the throughput of the row named `baseline` (when it exists
    /// and measured something).
    pub fn with_throughput_ratios(mut self, baseline: &str) -> Self {
        let base = self.results.iter().find(|r| r.name == baseline).map(|r| r.throughput_per_s);
        for r in &mut self.results {
            r.throughput_vs_baseline = base.filter(|b| *b > 0.0).map(|b| r.throughput_per_s / b);
        }
        self
    }

    /// Compact JSON, fields in contract order.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report always serialises")
    }

    /// Pretty JSON, for files people read.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// The table: name, p50, p90, p99, p99.9, p99.99, max (ns), throughput (M msg/s) and p99 over the
    /// baseline's p99.
    pub fn table(&self, baseline: &str) -> String {
        let width = self.results.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>9} {:>9}",
            "name", "p50", "p90", "p99", "p99.9", "p99.99", "max", "M msg/s", "p99/base"
        );
        for r in &self.results {
            let ratio = match r.p99_vs_baseline {
                Some(x) => format!("{x:.2}x"),
                None => "-".to_owned(),
            };
            let _ = writeln!(
                s,
                "{:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>9.2} {:>9}",
                r.name,
                r.p50_ns,
                r.p90_ns,
                r.p99_ns,
                r.p999_ns,
                r.p9999_ns,
                r.max_ns,
                r.throughput_per_s / 1e6,
                ratio
            );
        }
        let _ = writeln!(s, "latencies in ns; p99/base = p99 over the p99 of `{baseline}`");
        let cpu: Vec<String> = self
            .results
            .iter()
            .filter_map(|r| Some(format!("{} {:.0}", r.name, r.cpu_ns_per_tick?)))
            .collect();
        if !cpu.is_empty() {
            let _ = writeln!(
                s,
                "CPU ns per message (this process and the children it waited for, median of rounds): {}",
                cpu.join(", ")
            );
        }
        for r in &self.results {
            let Some(q) = r.p99_ratio_rounds.as_ref().filter(|_| r.name != baseline) else {
                continue;
            };
            let rounds = q.per_round.len();
            let at_most = (q.share_at_most_one * rounds as f64).round() as usize;
            let _ = writeln!(
                s,
                "{} p99 / {baseline} p99 per round: median {:.2}x (min {:.2}x, max {:.2}x); <= 1 in {at_most} of {rounds} rounds",
                r.name, q.median, q.min, q.max
            );
        }
        s
    }
}

/// Every scenario of one `tickring bench all` run: `{"scenarios":[<each report>]}`. Each entry is a
/// scenario's own report as it serialises (`{"scenario":..,"results":[..]}`), extras included.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Combined {
    pub scenarios: Vec<serde_json::Value>,
}

/// The contract fields of one row, read back from any scenario's JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ContractRow {
    name: String,
    p50_ns: u64,
    p90_ns: u64,
    p99_ns: u64,
    p999_ns: u64,
    p9999_ns: u64,
    max_ns: u64,
    throughput_per_s: f64,
}

impl Combined {
    /// Adds one scenario's report.
    ///
    /// # Errors
    /// The report does not serialise to `{"scenario":..,"results":[..]}` with the contract fields.
    pub fn push<R: Serialize>(&mut self, report: &R) -> anyhow::Result<()> {
        let value = serde_json::to_value(report)?;
        Self::check(&value)?;
        self.scenarios.push(value);
        Ok(())
    }

    fn check(value: &serde_json::Value) -> anyhow::Result<(String, Vec<ContractRow>)> {
        let scenario = value
            .get("scenario")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("a report without a \"scenario\" name"))?
            .to_owned();
        let rows = value
            .get("results")
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("report {scenario} has no \"results\""))?;
        let rows: Vec<ContractRow> =
            serde_json::from_value(rows).map_err(|e| anyhow::anyhow!("report {scenario}: {e}"))?;
        Ok((scenario, rows))
    }

    /// Pretty JSON, for files people read.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("JSON values always serialise")
    }

    /// One table over every scenario: scenario, row, percentiles in microseconds, throughput per second.
    pub fn summary_table(&self) -> String {
        let mut rows = Vec::new();
        for v in &self.scenarios {
            if let Ok((scenario, results)) = Self::check(v) {
                for r in results {
                    rows.push((scenario.clone(), r));
                }
            }
        }
        let sw = rows.iter().map(|(s, _)| s.len()).max().unwrap_or(8).max(8);
        let nw = rows.iter().map(|(_, r)| r.name.len()).max().unwrap_or(4).max(4);
        let us = |ns: u64| ns as f64 / 1e3;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<sw$} {:<nw$} {:>10} {:>10} {:>10} {:>10} {:>10} {:>11} {:>14}",
            "scenario",
            "name",
            "p50 us",
            "p90 us",
            "p99 us",
            "p99.9 us",
            "p99.99 us",
            "max us",
            "per s"
        );
        for (scenario, r) in &rows {
            let _ = writeln!(
                s,
                "{:<sw$} {:<nw$} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>11.2} {:>14.0}",
                scenario,
                r.name,
                us(r.p50_ns),
                us(r.p90_ns),
                us(r.p99_ns),
                us(r.p999_ns),
                us(r.p9999_ns),
                us(r.max_ns),
                r.throughput_per_s
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, p99: u64) -> BenchResult {
        BenchResult {
            name: name.to_owned(),
            p50_ns: 10,
            p90_ns: 20,
            p99_ns: p99,
            p999_ns: 40,
            p9999_ns: 50,
            max_ns: 60,
            throughput_per_s: 1.5e6,
            samples: 100,
            mean_ns: 12.5,
            throughput_messages: 1000,
            p99_vs_baseline: None,
            rounds: None,
            throughput_vs_baseline: None,
            p99_ratio_rounds: None,
            cpu_ns_per_tick: None,
        }
    }

    #[test]
    fn json_has_the_contract_shape_and_order() {
        let report = Report::new("ring", vec![row("a", 30), row("b", 60)], "a");
        let json = report.to_json();
        assert!(
            json.starts_with(
                r#"{"scenario":"ring","results":[{"name":"a","p50_ns":10,"p90_ns":20,"p99_ns":30,"p999_ns":40,"p9999_ns":50,"max_ns":60,"throughput_per_s":1500000.0,"#
            ),
            "{json}"
        );
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let mut top: Vec<&str> =
            v.as_object().expect("object").keys().map(String::as_str).collect();
        top.sort_unstable();
        assert_eq!(top, ["results", "scenario"]);
        assert_eq!(v["results"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["results"][1]["name"], "b");
        assert_eq!(v["results"][1]["p99_vs_baseline"], 2.0);
        let back: Report = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back, report);
    }

    #[test]
    fn ratio_to_baseline() {
        assert_eq!(ratio(150, 100), Some(1.5));
        assert_eq!(ratio(1, 0), None);
        let report = Report::new("ring", vec![row("shm", 50), row("base", 100)], "base");
        assert_eq!(report.results[0].p99_vs_baseline, Some(0.5));
        assert_eq!(report.results[1].p99_vs_baseline, Some(1.0));
        let none = Report::new("ring", vec![row("shm", 50)], "missing");
        assert_eq!(none.results[0].p99_vs_baseline, None);
    }

    #[test]
    fn table_lists_every_row_with_its_ratio() {
        let report = Report::new("ring", vec![row("shm", 50), row("base", 100)], "base");
        let t = report.table("base");
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].starts_with("name")
                && lines[0].contains("p99.99")
                && lines[0].ends_with("p99/base")
        );
        assert!(lines[1].starts_with("shm ") && lines[1].ends_with("0.50x"), "{}", lines[1]);
        assert!(
            lines[2].starts_with("base")
                && lines[2].contains("1.50")
                && lines[2].ends_with("1.00x")
        );
    }

    #[test]
    fn from_measurement_reads_the_histogram() {
        let mut latency = LatencyHistogram::new();
        for v in [100, 200, 300, 400] {
            latency.record(v);
        }
        let m = Measurement {
            name: "x".into(),
            latency,
            throughput: Throughput { messages: 2_000, elapsed_ns: 1_000_000 },
        };
        let r = BenchResult::from_measurement(&m);
        assert_eq!((r.p50_ns, r.max_ns, r.samples), (200, 400, 4));
        assert_eq!(r.throughput_per_s, 2_000_000.0);
        assert_eq!(Throughput { messages: 5, elapsed_ns: 0 }.per_second(), 0.0);
    }

    #[test]
    fn a_throughput_only_row_has_no_latency() {
        let r = BenchResult::throughput_only("catch-up", 9.5e5, 400);
        assert_eq!(
            (r.p50_ns, r.p99_ns, r.max_ns, r.samples, r.throughput_messages),
            (0, 0, 0, 0, 400)
        );
        assert_eq!((r.throughput_per_s, r.mean_ns), (9.5e5, 0.0));
    }

    #[test]
    fn round_ratios_count_the_rounds_at_or_below_one() {
        let q = RoundRatios::of(vec![0.5, 1.0, 2.0, 0.9, 3.0]).expect("ratios");
        assert_eq!((q.median, q.min, q.max), (1.0, 0.5, 3.0));
        assert!((q.share_at_most_one - 0.6).abs() < 1e-9, "{q:?}");
        assert!(RoundRatios::of(Vec::new()).is_none());
    }

    #[test]
    fn rounds_give_median_and_spread_and_stay_out_of_json_when_absent() {
        let r = Rounds::of(vec![4.0, 1.0, 2.0, 3.0, 10.0]).expect("rounds");
        assert_eq!((r.median_per_s, r.min_per_s, r.max_per_s), (3.0, 1.0, 10.0));
        assert_eq!(r.spread, 3.0);
        assert_eq!(r.per_s, [4.0, 1.0, 2.0, 3.0, 10.0]);
        assert_eq!(Rounds::of(vec![1.0, 3.0]).map(|r| r.median_per_s), Some(2.0));
        assert!(Rounds::of(Vec::new()).is_none());
        let plain = Report::new("ring", vec![row("a", 30)], "a").to_json();
        assert!(!plain.contains("rounds") && !plain.contains("throughput_vs"), "{plain}");
        let mut fast = row("fast", 30);
        fast.throughput_per_s = 3e6;
        fast.rounds = Some(r);
        let report = Report::new("journal", vec![fast, row("peer", 60)], "peer")
            .with_throughput_ratios("peer");
        assert_eq!(report.results[0].throughput_vs_baseline, Some(2.0));
        let back: Report = serde_json::from_str(&report.to_json()).expect("round trip");
        assert_eq!(back, report);
    }

    #[test]
    fn combined_report_has_the_scenarios_shape() {
        let mut all = Combined::default();
        all.push(&Report::new("ring", vec![row("a", 30)], "a")).expect("ring");
        // Any serialisable report of the contract shape is accepted, extras and all.
        let other = serde_json::json!({"scenario":"clickhouse","extra":1,"results":[{"name":"max_rate",
            "p50_ns":1,"p90_ns":2,"p99_ns":3,"p999_ns":4,"p9999_ns":5,"max_ns":6,"throughput_per_s":7.5}]});
        all.push(&other).expect("clickhouse");
        assert!(all.push(&serde_json::json!({"results":[]})).is_err(), "no scenario name");
        assert!(all.push(&serde_json::json!({"scenario":"x","results":[{"name":"y"}]})).is_err());
        let v: serde_json::Value = serde_json::from_str(&all.to_json_pretty()).expect("JSON");
        let keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys, ["scenarios"]);
        let scenarios = v["scenarios"].as_array().expect("array");
        assert_eq!(scenarios.len(), 2);
        assert_eq!(scenarios[0]["scenario"], "ring");
        assert_eq!(scenarios[0]["results"][0]["p99_ns"], 30);
        assert_eq!(scenarios[1]["results"][0]["name"], "max_rate");
        let table = all.summary_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[1].starts_with("ring") && lines[1].contains(" a "));
        assert!(lines[2].starts_with("clickhouse") && lines[2].contains("max_rate"));
    }
}
