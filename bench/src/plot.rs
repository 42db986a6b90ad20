//! Latency-by-percentile SVG plot of `.hgrm` files, drawn the way
//! HdrHistogram's plotter draws them: the x axis is `1/(1-percentile)` on a
//! log scale (ticks at 0%, 90%, 99%, 99.9%, ...), the y axis the latency.
//!
//! Consumes the percentile-distribution text written by
//! `trading_engine::metrics::hgrm::write_hgrm` (or Java's
//! `outputPercentileDistribution`); produces an SVG document with one
//! labelled line per input. Cold path only (a command-line tool).

use std::fmt::{self, Write as _};

/// One parsed `.hgrm` file: `(percentile as a fraction, value)` rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Rows in file order (percentile ascending), value in the file's unit.
    pub points: Vec<(f64, f64)>,
}

/// Why an `.hgrm` text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HgrmParseError {
    /// A data row does not hold the expected numbers.
    BadRow {
        /// Line number, 1-based.
        line: usize,
        /// The text of the line.
        text: String,
    },
    /// The file has no data row (an empty histogram or not an `.hgrm` file).
    NoRows,
}

impl fmt::Display for HgrmParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRow { line, text } => {
                write!(f, "line {line} is not a percentile row: {text:?}")
            }
            Self::NoRows => f.write_str("no percentile rows (empty histogram?)"),
        }
    }
}

impl std::error::Error for HgrmParseError {}

/// Parses the rows of an `.hgrm` text: skips the header line, blank lines
/// and `#[...]` footer lines; every other line must start with a value and
/// a percentile.
///
/// # Errors
/// [`HgrmParseError::BadRow`] for a malformed row,
/// [`HgrmParseError::NoRows`] when there is none.
pub fn parse_hgrm(text: &str, label: &str) -> Result<Series, HgrmParseError> {
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("Value") {
            continue;
        }
        let mut cols = trimmed.split_whitespace();
        let value = cols.next().and_then(|v| v.parse::<f64>().ok());
        let pct = cols.next().and_then(|v| v.parse::<f64>().ok());
        match (value, pct) {
            (Some(v), Some(p)) if v.is_finite() && (0.0..=1.0).contains(&p) => {
                points.push((p, v));
            }
            _ => {
                return Err(HgrmParseError::BadRow {
                    line: i + 1,
                    text: line.to_owned(),
                })
            }
        }
    }
    if points.is_empty() {
        return Err(HgrmParseError::NoRows);
    }
    Ok(Series {
        label: label.to_owned(),
        points,
    })
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 540.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 220.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// Returns `log10(1/(1-p))`, capped for p = 1 at `cap`.
fn x_of(p: f64, cap: f64) -> f64 {
    if p >= 1.0 {
        cap
    } else {
        (1.0 / (1.0 - p)).log10().min(cap)
    }
}

/// Returns a "nice" axis maximum at or above `v` (1, 2, 5 × 10^k).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * mag >= v {
            return m * mag;
        }
    }
    10.0 * mag
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// How the latency axis is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum YScale {
    /// Linear from 0 (HdrHistogram's plotter).
    #[default]
    Linear,
    /// Logarithmic over whole decades, for inputs of very different
    /// magnitudes (tick-to-order beside wire-to-wire).
    Log,
}

/// Returns the decades `[lo, hi]` (powers of ten) that cover every
/// positive value of `series`.
fn decade_range(series: &[Series]) -> (i32, i32) {
    let values = series.iter().flat_map(|s| s.points.iter()).map(|(_, v)| *v);
    let min = values
        .clone()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let max = values.fold(0.0_f64, f64::max);
    if !min.is_finite() || max <= 0.0 {
        return (0, 1);
    }
    let lo = min.log10().floor() as i32;
    let hi = (max.log10().ceil() as i32).max(lo + 1);
    (lo, hi)
}

/// Renders `series` as an SVG latency-by-percentile plot titled `title`,
/// the y axis labelled `unit` (e.g. `µs`), linear from 0. The x axis runs
/// from 0% to the decade of the largest finite `1/(1-p)` plus one (the
/// 100% row is drawn at the right edge).
#[must_use]
pub fn render_svg(series: &[Series], title: &str, unit: &str) -> String {
    render_svg_scaled(series, title, unit, YScale::Linear)
}

/// Renders like [`render_svg`] with the latency axis scaled by `y_scale`.
#[must_use]
pub fn render_svg_scaled(series: &[Series], title: &str, unit: &str, y_scale: YScale) -> String {
    let finite_max = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|(p, _)| *p < 1.0)
        .map(|(p, _)| (1.0 / (1.0 - p)).log10())
        .fold(0.0_f64, f64::max);
    let decades = (finite_max.ceil().max(1.0) + 1.0).min(9.0);
    let y_max = nice_ceiling(
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .map(|(_, v)| *v)
            .fold(0.0_f64, f64::max),
    );
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let (lo, hi) = decade_range(series);
    let sx = |x: f64| LEFT + x / decades * plot_w;
    let sy = |v: f64| match y_scale {
        YScale::Linear => TOP + plot_h - v / y_max * plot_h,
        YScale::Log => {
            let d = (v.max(10f64.powi(lo)).log10() - f64::from(lo)) / f64::from(hi - lo);
            TOP + plot_h - d * plot_h
        }
    };
    let y_ticks: Vec<f64> = match y_scale {
        YScale::Linear => (0..=5u32).map(|k| y_max * f64::from(k) / 5.0).collect(),
        YScale::Log => (lo..=hi).map(|e| 10f64.powi(e)).collect(),
    };
    let mut svg = String::new();
    // Writing into a String cannot fail; the results are ignored below.
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/><text x="{}" y="28" text-anchor="middle" font-size="16">{}</text>"#,
        LEFT + plot_w / 2.0,
        escape(title)
    );
    // Grid and x ticks: 0%, 90%, 99%, ...
    for d in 0..=(decades as u32) {
        let x = sx(f64::from(d));
        let label = match d {
            0 => "0%".to_owned(),
            _ => {
                let nines = 100.0 - 100.0 / 10f64.powi(d as i32);
                let digits = d.saturating_sub(2) as usize;
                format!("{nines:.digits$}%")
            }
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 18.0
        );
    }
    for v in y_ticks {
        let y = sy(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">Percentile (log scale of 1/(1-p))</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 15.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="20" y="{:.1}" text-anchor="middle" transform="rotate(-90 20 {:.1})">Latency ({}{})</text>"#,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(unit),
        if y_scale == YScale::Log {
            ", log scale"
        } else {
            ""
        }
    );
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let mut pts = String::new();
        for &(p, v) in &s.points {
            let _ = write!(pts, "{:.1},{:.1} ", sx(x_of(p, decades)), sy(v));
        }
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            pts.trim_end()
        );
        let ly = TOP + 20.0 + 20.0 * i as f64;
        let lx = LEFT + plot_w + 15.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 20.0,
            lx + 26.0,
            ly + 4.0,
            escape(&s.label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;
    use trading_engine::metrics::hgrm::{write_hgrm, TICKS_PER_HALF_DISTANCE, UNIT_RATIO_US};

    fn hgrm_text(values: impl IntoIterator<Item = u64>) -> String {
        let mut h = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        let mut out = Vec::new();
        write_hgrm(&h, UNIT_RATIO_US, TICKS_PER_HALF_DISTANCE, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parses_every_row_of_a_written_hgrm_in_percentile_order() {
        let text = hgrm_text((1..=10_000).map(|v| v * 10));
        let s = parse_hgrm(&text, "tick_to_order").unwrap();
        assert!(s.points.len() > 20);
        assert!(s.points.windows(2).all(|w| w[0].0 <= w[1].0));
        let (p_last, v_last) = *s.points.last().unwrap();
        assert_eq!(p_last, 1.0);
        // 100,000 ns = 100 µs.
        assert!((v_last - 100.0).abs() < 0.2, "{v_last}");
    }

    #[test]
    fn empty_histogram_and_garbage_are_errors() {
        assert_eq!(parse_hgrm(&hgrm_text([]), "x"), Err(HgrmParseError::NoRows));
        assert!(matches!(
            parse_hgrm("Value Percentile\n12.0 banana 3\n", "x"),
            Err(HgrmParseError::BadRow { line: 2, .. })
        ));
        assert!(matches!(
            parse_hgrm("1.0 1.5 3\n", "x"),
            Err(HgrmParseError::BadRow { line: 1, .. })
        ));
    }

    #[test]
    fn svg_has_one_labelled_line_per_input_and_nines_ticks() {
        let a = parse_hgrm(&hgrm_text(1..=100_000), "tick <a>").unwrap();
        let b = parse_hgrm(&hgrm_text((1..=1000).map(|v| v * 50)), "wire").unwrap();
        let svg = render_svg(&[a, b], "Latency by percentile", "µs");
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("tick &lt;a&gt;"));
        assert!(svg.contains(">wire<"));
        for tick in [">0%<", ">90%<", ">99%<", ">99.9%<", ">99.99%<"] {
            assert!(svg.contains(tick), "missing {tick}");
        }
    }

    #[test]
    fn log_y_axis_has_one_tick_per_decade_covering_every_value() {
        let a = parse_hgrm(&hgrm_text([500, 2_000]), "fast").unwrap();
        let b = parse_hgrm(&hgrm_text([4_000_000]), "slow").unwrap();
        // 0.5 µs .. 4,000 µs: decades 0.1 .. 10,000.
        assert_eq!(decade_range(&[a.clone(), b.clone()]), (-1, 4));
        let svg = render_svg_scaled(&[a, b], "t", "µs", YScale::Log);
        for tick in [">0.1<", ">1<", ">10<", ">10000<"] {
            assert!(svg.contains(tick), "missing {tick}");
        }
        assert!(svg.contains("log scale)"));
        assert_eq!(svg.matches("<polyline").count(), 2);
    }

    #[test]
    fn x_axis_is_the_log_of_one_over_one_minus_p() {
        assert_eq!(x_of(0.0, 6.0), 0.0);
        assert!((x_of(0.99, 6.0) - 2.0).abs() < 1e-9);
        assert_eq!(x_of(1.0, 6.0), 6.0);
        assert_eq!(nice_ceiling(3.2), 5.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }
}
