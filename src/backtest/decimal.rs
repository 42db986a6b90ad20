//! How the backtest's outputs print fixed-point prices and quantities
//! (`trades.csv`, the portfolio's fill lines, the chart's data).
//!
//! Consumes f64 values converted from fixed-point; produces text. Cold path.

/// Returns `v` with at most 8 decimals and no trailing zeros (fixed-point
/// values printed without their binary noise).
#[must_use]
pub fn decimal8(v: f64) -> String {
    let s = format!("{v:.8}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::decimal8;

    #[test]
    fn decimal8_drops_binary_noise_and_trailing_zeros() {
        assert_eq!(decimal8(0.205_000_000_074_505_8), "0.205");
        assert_eq!(decimal8(97_106.909_719_999_88), "97106.90972");
        assert_eq!(decimal8(5.0), "5");
        assert_eq!(decimal8(-0.000_000_001), "0");
    }
}
