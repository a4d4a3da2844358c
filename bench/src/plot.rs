//! Percentile-distribution plots as SVG: latency (log scale) against percentile on HdrHistogram's
//! "1/(1-p)" log axis (50%, 90%, 99%, 99.9%, 99.99%, ...), one line per histogram, drawn with `plotters`'
//! SVG backend only (text is written as SVG `<text>`, so no font files are read).

use crate::histogram::{LatencyHistogram, HGRM_TICKS_PER_HALF_DISTANCE};
use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;
use std::path::Path;

/// Right end of the x axis: 99.999%.
const X_MAX_NINES: f64 = 5.0;

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// `-log10(1 - p)` for a fraction `p` in 0..1: 0 at 0%, 1 at 90%, 2 at 99%, ...
pub fn nines(fraction: f64) -> f64 {
    -(1.0 - fraction).max(1e-12).log10()
}

/// The percentile label of an x position (the inverse of [`nines`]), e.g. `99.9%`.
pub fn percentile_label(x: f64) -> String {
    let p = (1.0 - 10f64.powf(-x)) * 100.0;
    let s = format!("{p:.5}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// A latency in nanoseconds as a short human label (`850ns`, `12us`, `3.5ms`, `1.2s`).
pub fn duration_label(ns: f64) -> String {
    let trim = |v: f64, unit: &str| {
        let s = if v >= 10.0 { format!("{v:.0}") } else { format!("{v:.1}") };
        format!("{}{unit}", s.trim_end_matches(".0"))
    };
    if ns < 1e3 {
        trim(ns, "ns")
    } else if ns < 1e6 {
        trim(ns / 1e3, "us")
    } else if ns < 1e9 {
        trim(ns / 1e6, "ms")
    } else {
        trim(ns / 1e9, "s")
    }
}

/// The (x = nines, y = latency ns) points of one histogram's percentile distribution; empty when the
/// histogram is.
pub fn distribution_points(h: &LatencyHistogram) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    if h.is_empty() {
        return points;
    }
    for v in h.inner().iter_quantiles(HGRM_TICKS_PER_HALF_DISTANCE) {
        let q = v.quantile_iterated_to();
        let x = if q >= 1.0 { X_MAX_NINES } else { nines(q).min(X_MAX_NINES) };
        points.push((x, v.value_iterated_to().max(1) as f64));
    }
    points
}

/// Writes `series` (name, histogram) as one SVG chart to `path`.
///
/// # Errors
/// Nothing to plot (every histogram empty), or the file cannot be written.
pub fn write_percentile_svg(
    path: &Path,
    title: &str,
    series: &[(&str, &LatencyHistogram)],
) -> Result<()> {
    let lines: Vec<(&str, Vec<(f64, f64)>)> =
        series.iter().map(|(name, h)| (*name, distribution_points(h))).collect();
    let (mut lo, mut hi) = (f64::MAX, 0f64);
    for (_, pts) in &lines {
        for &(_, y) in pts {
            lo = lo.min(y);
            hi = hi.max(y);
        }
    }
    if hi <= 0.0 {
        return Err(anyhow!("nothing to plot for {title}: every histogram is empty"));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    // Whole decades around the data, so the log axis has readable ticks.
    let y_lo = 10f64.powf(lo.log10().floor()).max(1.0);
    let y_hi = 10f64.powf(hi.log10().ceil()).max(y_lo * 10.0);
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, (1024, 640)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(0f64..X_MAX_NINES, (y_lo..y_hi).log_scale())?;
        chart
            .configure_mesh()
            .x_labels(X_MAX_NINES as usize + 1)
            .x_desc("percentile")
            .y_desc("latency")
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| duration_label(*y))
            .draw()?;
        // The median has no tick of its own on a nines axis: mark it.
        let median = nines(0.5);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(median, y_lo), (median, y_hi)],
            BLACK.mix(0.3),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            percentile_label(median),
            (median, y_lo),
            ("sans-serif", 14).into_font().color(&BLACK),
        )))?;
        for (i, (name, pts)) in lines.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow!("drawing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(scale: u64) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for v in 1..=10_000u64 {
            h.record(v * scale);
        }
        h
    }

    #[test]
    fn axis_labels() {
        assert_eq!(percentile_label(0.0), "0%");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(nines(0.5)), "50%");
        assert_eq!(percentile_label(3.0), "99.9%");
        assert_eq!(percentile_label(4.0), "99.99%");
        assert_eq!(duration_label(850.0), "850ns");
        assert_eq!(duration_label(1_500.0), "1.5us");
        assert_eq!(duration_label(10_000_000.0), "10ms");
        assert_eq!(duration_label(2e9), "2s");
    }

    #[test]
    fn points_rise_with_the_percentile() {
        let pts = distribution_points(&hist(100));
        assert!(pts.len() > 20);
        assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        assert!(distribution_points(&LatencyHistogram::new()).is_empty());
    }

    #[test]
    fn svg_is_written_with_every_series_named() {
        let dir = std::env::temp_dir().join(format!("tickring-plot-{}", std::process::id()));
        let path = dir.join("e2e.svg");
        let (a, b) = (hist(100), hist(10_000));
        write_percentile_svg(&path, "e2e latency", &[("ring-hop", &a), ("end-to-end", &b)])
            .expect("plot");
        let svg = std::fs::read_to_string(&path).expect("svg written");
        assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{}", &svg[..40]);
        assert!(svg.contains("</svg>"));
        for text in ["ring-hop", "end-to-end", "e2e latency", "99.9%", "percentile"] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(svg.contains("<polyline") || svg.contains("<path"), "no line drawn");
        let _ = std::fs::remove_dir_all(&dir);
        let empty = LatencyHistogram::new();
        assert!(write_percentile_svg(&path, "x", &[("none", &empty)]).is_err());
    }
}
