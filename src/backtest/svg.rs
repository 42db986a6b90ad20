//! A hand-written SVG chart of the equity curve: date axis, equity axis,
//! the equity line, and a drawdown panel below.
//!
//! Consumes (minute ms, equity) points; produces SVG text. Cold path.

use std::fmt::Write as _;

use super::dates::format_date;

const W: f64 = 1000.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const EQ_H: f64 = 300.0;
const GAP: f64 = 40.0;
const DD_H: f64 = 120.0;
const H: f64 = TOP + EQ_H + GAP + DD_H + 40.0;

/// Returns the SVG document for `points` (at most ~2000 are drawn; longer
/// curves are sampled evenly, always keeping the last point).
#[must_use]
pub fn equity_svg(points: &[(i64, f64)]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="18" font-size="14">Equity (quote) and drawdown (%)</text>
"#
    );
    if points.is_empty() {
        s.push_str("<text x=\"100\" y=\"100\">No data</text>\n</svg>\n");
        return s;
    }
    let step = (points.len() / 2000).max(1);
    let mut pts: Vec<(i64, f64)> = points.iter().step_by(step).copied().collect();
    if let Some(last) = points.last() {
        if pts.last() != Some(last) {
            pts.push(*last);
        }
    }
    let t0 = pts[0].0 as f64;
    let t1 = (pts[pts.len() - 1].0 as f64).max(t0 + 1.0);
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for (_, e) in &pts {
        lo = lo.min(*e);
        hi = hi.max(*e);
    }
    if hi - lo < 1e-9 {
        lo -= 1.0;
        hi += 1.0;
    }
    let mut peak = f64::MIN;
    let dds: Vec<f64> = pts
        .iter()
        .map(|(_, e)| {
            peak = peak.max(*e);
            if peak > 0.0 {
                (peak - e) / peak * 100.0
            } else {
                0.0
            }
        })
        .collect();
    let dd_max = dds.iter().copied().fold(0.0, f64::max).max(0.01);
    let plot_w = W - LEFT - RIGHT;
    let x = |t: f64| LEFT + (t - t0) / (t1 - t0) * plot_w;
    let y = |e: f64| TOP + (hi - e) / (hi - lo) * EQ_H;
    let dd_top = TOP + EQ_H + GAP;
    let yd = |d: f64| dd_top + d / dd_max * DD_H;
    // Axes and grid.
    for k in 0..=4 {
        let v = lo + (hi - lo) * f64::from(k) / 4.0;
        let yy = y(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.0}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0
        );
        let d = dd_max * f64::from(k) / 4.0;
        let yy = yd(d);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            if k == 0 {
                "0%".to_string()
            } else {
                format!("-{d:.2}%")
            }
        );
    }
    for k in 0..=6 {
        let t = t0 + (t1 - t0) * f64::from(k) / 6.0;
        let xx = x(t);
        let _ = writeln!(
            s,
            r##"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{:.1}" stroke="#eee"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            dd_top + DD_H,
            dd_top + DD_H + 18.0,
            format_date(t as i64)
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{EQ_H}" fill="none" stroke="#444"/><rect x="{LEFT}" y="{dd_top}" width="{plot_w}" height="{DD_H}" fill="none" stroke="#444"/>"##
    );
    // Equity line.
    s.push_str(r##"<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points=""##);
    for (t, e) in &pts {
        let _ = write!(s, "{:.1},{:.1} ", x(*t as f64), y(*e));
    }
    s.push_str("\"/>\n");
    // Drawdown area.
    let _ = write!(
        s,
        r##"<polygon fill="#d62728" fill-opacity="0.35" stroke="#d62728" points="{:.1},{dd_top:.1} "##,
        x(t0)
    );
    for ((t, _), d) in pts.iter().zip(&dds) {
        let _ = write!(s, "{:.1},{:.1} ", x(*t as f64), yd(*d));
    }
    let _ = writeln!(s, r#"{:.1},{dd_top:.1}"/>"#, x(t1));
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_has_axes_dates_line_and_drawdown() {
        let pts: Vec<(i64, f64)> = (0..5000)
            .map(|k| (1_746_316_800_000 + k * 60_000, 10_000.0 + (k % 700) as f64))
            .collect();
        let svg = equity_svg(&pts);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("2025-05-04"));
        assert!(svg.contains("<polyline"));
        assert!(svg.contains("<polygon"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(equity_svg(&[]).contains("No data"));
    }
}
