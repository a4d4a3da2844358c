//! Latency histogram (nanoseconds, 3 significant digits) and its `.hgrm` text form.
//!
//! The `.hgrm` writer reproduces HdrHistogram's classic "percentile distribution" output (the one its
//! plotter and most latency tooling read): a `Value Percentile TotalCount 1/(1-Percentile)` table stepping
//! 5 ticks per half distance to 100%, then `#[Mean ...]`, `#[Max ...]` and `#[Buckets ...]` footer lines.

use hdrhistogram::Histogram;
use std::io::{self, Write};

/// Significant decimal digits kept by every latency histogram here.
pub const SIGNIFICANT_DIGITS: u8 = 3;
/// Largest value a histogram tracks: 60 s. Larger values are clamped to it (and show up as the max).
pub const HIGHEST_TRACKABLE_NS: u64 = 60_000_000_000;
/// Percentile steps per half distance in the `.hgrm` output, as HdrHistogram's own tools default to.
pub const HGRM_TICKS_PER_HALF_DISTANCE: u32 = 5;

/// One-way latencies in nanoseconds.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    inner: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram covering 1 ns ..= 60 s at 3 significant digits.
    pub fn new() -> Self {
        let inner = Histogram::new_with_bounds(1, HIGHEST_TRACKABLE_NS, SIGNIFICANT_DIGITS)
            .expect("constant histogram bounds are valid");
        Self { inner }
    }

    /// Records one latency; values past [`HIGHEST_TRACKABLE_NS`] are clamped.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.inner.saturating_record(ns);
    }

    /// Records `count` occurrences of one latency; values past [`HIGHEST_TRACKABLE_NS`] are clamped.
    pub fn record_n(&mut self, ns: u64, count: u64) {
        self.inner.saturating_record_n(ns, count);
    }

    /// `(value, count)` of every recorded bucket, lowest first: a compact form that
    /// [`LatencyHistogram::from_pairs`] reads back into the same histogram.
    pub fn to_pairs(&self) -> Vec<(u64, u64)> {
        self.inner.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect()
    }

    /// The histogram of [`LatencyHistogram::to_pairs`].
    pub fn from_pairs(pairs: &[(u64, u64)]) -> Self {
        let mut h = Self::new();
        for &(v, n) in pairs {
            h.record_n(v, n);
        }
        h
    }

    /// Number of recorded values.
    pub fn len(&self) -> u64 {
        self.inner.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Value at `percentile` (0.0 ..= 100.0), at histogram resolution (highest equivalent value).
    pub fn percentile(&self, percentile: f64) -> u64 {
        self.inner.value_at_percentile(percentile)
    }

    /// Largest recorded value, at histogram resolution.
    pub fn max(&self) -> u64 {
        self.inner.max()
    }

    /// Mean of recorded values.
    pub fn mean(&self) -> f64 {
        self.inner.mean()
    }

    /// Adds every value of `other`.
    ///
    /// # Errors
    /// When `other` holds values this histogram cannot track (cannot happen between two histograms made by
    /// [`LatencyHistogram::new`]).
    pub fn add(&mut self, other: &LatencyHistogram) -> Result<(), hdrhistogram::AdditionError> {
        self.inner.add(&other.inner)
    }

    /// The underlying hdrhistogram, for serialisers and custom read-outs.
    pub fn inner(&self) -> &Histogram<u64> {
        &self.inner
    }

    /// Writes the classic percentile-distribution text. Values are divided by `value_scale` (1.0 keeps
    /// nanoseconds, 1000.0 gives microseconds).
    ///
    /// # Errors
    /// Any error from `out`.
    pub fn write_hgrm<W: Write>(&self, mut out: W, value_scale: f64) -> io::Result<()> {
        let h = &self.inner;
        let digits = usize::from(h.sigfig());
        writeln!(
            out,
            "{:>12} {:>14} {:>10} {:>14}",
            "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
        )?;
        writeln!(out)?;
        let mut total: u64 = 0;
        if !h.is_empty() {
            for v in h.iter_quantiles(HGRM_TICKS_PER_HALF_DISTANCE) {
                total += v.count_since_last_iteration();
                let value = v.value_iterated_to() as f64 / value_scale;
                let q = v.quantile_iterated_to();
                if q < 1.0 {
                    writeln!(
                        out,
                        "{value:>12.digits$} {q:>2.12} {total:>10} {inv:>14.2}",
                        inv = 1.0 / (1.0 - q)
                    )?;
                } else {
                    writeln!(out, "{value:>12.digits$} {q:>2.12} {total:>10}")?;
                }
            }
        }
        let (mean, stdev) = if h.is_empty() {
            (0.0, 0.0)
        } else {
            (h.mean() / value_scale, h.stdev() / value_scale)
        };
        let max = h.max() as f64 / value_scale;
        writeln!(out, "#[Mean    = {mean:>12.digits$}, StdDeviation   = {stdev:>12.digits$}]")?;
        writeln!(out, "#[Max     = {max:>12.digits$}, Total count    = {:>12}]", h.len())?;
        writeln!(
            out,
            "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
            h.buckets(),
            sub_bucket_count(h.sigfig())
        )
    }

    /// [`LatencyHistogram::write_hgrm`] into a string.
    pub fn to_hgrm_string(&self, value_scale: f64) -> String {
        let mut buf = Vec::new();
        self.write_hgrm(&mut buf, value_scale).expect("writing into a Vec cannot fail");
        String::from_utf8(buf).expect("the hgrm writer emits ASCII only")
    }
}

/// Sub-buckets per bucket for `sigfig` digits, as HdrHistogram computes it for a lowest value of 1:
/// the power of two at or above `2 * 10^sigfig`.
fn sub_bucket_count(sigfig: u8) -> u64 {
    (2 * 10u64.pow(u32::from(sigfig))).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_to_ten_thousand() -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for v in 1..=10_000 {
            h.record(v);
        }
        h
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let h = one_to_ten_thousand();
        assert_eq!(h.len(), 10_000);
        // 3 significant digits: values are exact below 2048 and within 0.1% above.
        let close = |got: u64, want: u64| got.abs_diff(want) * 1000 <= want;
        assert!(close(h.percentile(50.0), 5_000), "{}", h.percentile(50.0));
        assert!(close(h.percentile(90.0), 9_000), "{}", h.percentile(90.0));
        assert!(close(h.percentile(99.0), 9_900), "{}", h.percentile(99.0));
        assert!(close(h.percentile(99.9), 9_990), "{}", h.percentile(99.9));
        assert!(close(h.max(), 10_000), "{}", h.max());
        assert_eq!(h.percentile(10.0), 1_000);
    }

    #[test]
    fn pairs_round_trip() {
        let h = one_to_ten_thousand();
        let back = LatencyHistogram::from_pairs(&h.to_pairs());
        assert_eq!(back.len(), h.len());
        for p in [50.0, 99.0, 99.99, 100.0] {
            assert_eq!(back.percentile(p), h.percentile(p));
        }
    }

    #[test]
    fn clamps_values_past_the_top() {
        let mut h = LatencyHistogram::new();
        h.record(u64::MAX);
        assert_eq!(h.len(), 1);
        assert!(h.max() >= HIGHEST_TRACKABLE_NS);
    }

    #[test]
    fn hgrm_has_the_classic_shape() {
        let text = one_to_ten_thousand().to_hgrm_string(1.0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "       Value     Percentile TotalCount 1/(1-Percentile)");
        assert_eq!(lines[1], "");
        let table: Vec<&str> =
            lines[2..].iter().copied().take_while(|l| !l.starts_with('#')).collect();
        assert!(table.len() > 20, "{} rows", table.len());
        let mut last_pct = -1.0;
        let mut last_total = 0;
        for row in &table {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert!(cols.len() == 4 || cols.len() == 3, "{row}");
            assert!(
                cols[0].contains('.') && cols[0].split('.').nth(1).map(str::len) == Some(3),
                "{row}"
            );
            let pct: f64 = cols[1].parse().expect("percentile column");
            assert_eq!(cols[1].split('.').nth(1).map(str::len), Some(12), "{row}");
            let total: u64 = cols[2].parse().expect("count column");
            assert!(pct >= last_pct && total >= last_total, "{row}");
            last_pct = pct;
            last_total = total;
        }
        let last: Vec<&str> = table[table.len() - 1].split_whitespace().collect();
        assert_eq!(last.len(), 3, "the 100% row has no 1/(1-p) column");
        assert_eq!(last[1], "1.000000000000");
        assert_eq!(last[2], "10000");
        let footer = &lines[2 + table.len()..];
        assert_eq!(footer.len(), 3);
        assert!(footer[0].starts_with("#[Mean    = ") && footer[0].contains(", StdDeviation   = "));
        assert!(
            footer[1].starts_with("#[Max     = ")
                && footer[1].ends_with("Total count    =        10000]")
        );
        assert!(
            footer[2].starts_with("#[Buckets = ")
                && footer[2].ends_with("SubBuckets     =         2048]")
        );
    }

    #[test]
    fn hgrm_scales_values() {
        let mut h = LatencyHistogram::new();
        h.record(1_500);
        let text = h.to_hgrm_string(1000.0);
        assert!(text.contains("       1.500 0.000000000000          1           1.00"), "{text}");
    }

    #[test]
    fn empty_hgrm_still_has_header_and_footer() {
        let text = LatencyHistogram::new().to_hgrm_string(1.0);
        assert!(text.starts_with("       Value"));
        assert!(text.contains("Total count    =            0]"));
    }
}
