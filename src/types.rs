//! Core domain types shared by every stage: fixed-point [`Price`] and [`Qty`],
//! [`Side`], the Copy [`SymbolId`], integer-nanosecond [`TimestampNs`],
//! [`Trade`], [`Candle`] and the per-instrument rounding rules in
//! [`InstrumentRules`].
//!
//! Consumes nothing; produces plain `Copy` values. Nothing here allocates,
//! and no float ever reaches an order: prices and quantities are
//! [`fixed::types::I32F32`] (32 integer bits, 32 fractional bits: range
//! ±2.1e9, resolution 2.3e-10), rounded to the instrument's tick and step
//! sizes with the rounding direction explicit where it matters.

use core::fmt;
use core::ops::{Add, Sub};
use fixed::types::I32F32;

/// The fixed-point representation behind [`Price`] and [`Qty`].
pub type Fx = I32F32;

/// Nanoseconds per millisecond.
pub const NS_PER_MS: i64 = 1_000_000;
/// Nanoseconds per second.
pub const NS_PER_SEC: i64 = 1_000_000_000;
/// Nanoseconds per minute.
pub const NS_PER_MIN: i64 = 60 * NS_PER_SEC;

/// Powers of ten that are exact in `f64` (10^0 ..= 10^22).
/// 2^-32: the value of one unit of the last place of an `I32F32`.
const FX_ULP: f64 = 1.0 / 4_294_967_296.0;

const POW10_F64: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Which way a value is rounded to a grid (tick or step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Towards negative infinity.
    Down,
    /// Towards positive infinity.
    Up,
    /// To the nearest grid point, ties away from zero.
    Nearest,
}

/// A decimal grid size such as a tick size `0.1` or a step size `0.0001`,
/// stored exactly as `mantissa * 10^-decimals`.
///
/// Invariant: `mantissa > 0` and `decimals <= 18`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecimalStep {
    mantissa: i64,
    decimals: u8,
}

impl DecimalStep {
    /// Returns the grid `mantissa * 10^-decimals`, or `None` when `mantissa <= 0`
    /// or `decimals > 18`.
    #[must_use]
    pub const fn try_new(mantissa: i64, decimals: u8) -> Option<Self> {
        if mantissa <= 0 || decimals > 18 {
            None
        } else {
            Some(Self { mantissa, decimals })
        }
    }

    /// Returns the grid `10^-decimals` (e.g. 1 decimal: `0.1`), the form in which
    /// BingX publishes `pricePrecision` and `quantityPrecision`.
    ///
    /// # Panics
    /// Panics when `decimals > 18`, which is a programming error.
    #[must_use]
    pub const fn from_precision(decimals: u8) -> Self {
        assert!(decimals <= 18, "Invariant: precision at most 18 decimals");
        Self {
            mantissa: 1,
            decimals,
        }
    }

    /// Parses a decimal grid size such as `"0.001"` or `"5"`; `None` if the text
    /// is not a positive decimal with at most 18 fractional digits.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let (int_part, frac_part) = match text.split_once('.') {
            Some((i, f)) => (i, f.trim_end_matches('0')),
            None => (text, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if frac_part.len() > 18
            || !int_part
                .bytes()
                .chain(frac_part.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut mantissa: i64 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            mantissa = mantissa.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
        }
        Self::try_new(mantissa, u8::try_from(frac_part.len()).ok()?)
    }

    /// Returns the grid's mantissa (the grid is `mantissa * 10^-decimals`).
    #[must_use]
    pub const fn mantissa(self) -> i64 {
        self.mantissa
    }

    /// Returns the number of decimals needed to print a value on this grid.
    #[must_use]
    pub const fn decimals(self) -> u8 {
        self.decimals
    }

    /// Returns the grid size as a fixed-point number (nearest representable).
    #[must_use]
    pub fn to_fixed(self) -> Fx {
        Fx::saturating_from_num(self.mantissa as f64 / POW10_F64[self.decimals as usize])
    }

    /// Returns the grid size as `f64`.
    #[must_use]
    pub fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(i32::from(self.decimals))
    }

    /// Returns the number of whole grid steps in `value`, rounded as asked.
    ///
    /// Computed in exact integer arithmetic on the fixed-point bits, so the
    /// result does not depend on the binary approximation of the grid size.
    #[must_use]
    pub fn steps(self, value: Fx, rounding: Rounding) -> i64 {
        // value = bits / 2^32; steps = value / (m / 10^d) = bits * 10^d / (m * 2^32).
        // A grid point itself is only representable to within half a bit (see
        // `from_steps`), so a value within half a bit of a grid point counts as
        // on it: directed rounding is done on (bits ± 1/2), in doubled units.
        let pow = 10i128.pow(u32::from(self.decimals));
        let bits2 = 2 * i128::from(value.to_bits());
        let den = i128::from(self.mantissa) << 33;
        let num = match rounding {
            Rounding::Down => (bits2 + 1) * pow,
            Rounding::Up => (bits2 - 1) * pow,
            Rounding::Nearest => bits2 * pow,
        };
        let q = num.div_euclid(den);
        let r = num.rem_euclid(den);
        let q = match rounding {
            Rounding::Down => q,
            Rounding::Up => {
                if r == 0 {
                    q
                } else {
                    q + 1
                }
            }
            Rounding::Nearest => {
                // Ties away from zero.
                let twice = 2 * r;
                if twice > den || (twice == den && q >= 0) {
                    q + 1
                } else {
                    q
                }
            }
        };
        i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN })
    }

    /// Returns `steps` grid steps as a fixed-point number (nearest representable,
    /// saturating at the range of [`Fx`]).
    #[must_use]
    pub fn from_steps(self, steps: i64) -> Fx {
        // bits = steps * m * 2^32 / 10^d, rounded to nearest.
        let num = (i128::from(steps) * i128::from(self.mantissa)) << 32;
        let den = 10i128.pow(u32::from(self.decimals));
        let q = num.div_euclid(den);
        let r = num.rem_euclid(den);
        let q = if 2 * r >= den { q + 1 } else { q };
        Fx::from_bits(i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN }))
    }

    /// Rounds `value` to this grid in the given direction.
    #[must_use]
    pub fn round(self, value: Fx, rounding: Rounding) -> Fx {
        self.from_steps(self.steps(value, rounding))
    }
}

macro_rules! fixed_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub Fx);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(Fx::ZERO);

            /// Returns the value nearest to `v`, or `None` for a non-finite or
            /// out-of-range input.
            #[must_use]
            pub fn from_f64(v: f64) -> Option<Self> {
                if v.is_finite() {
                    Fx::checked_from_num(v).map(Self)
                } else {
                    None
                }
            }

            /// Returns `mantissa * 10^-decimals` (e.g. `(123456, 2)` = 1234.56),
            /// or `None` when out of range. This is how parsers build values
            /// from decimal text without going through a lossy path: for
            /// `|mantissa| < 2^53` and `decimals <= 22` the division is exact
            /// before the single rounding to fixed point.
            #[must_use]
            pub fn from_decimal(mantissa: i64, decimals: u32) -> Option<Self> {
                if mantissa.unsigned_abs() < (1u64 << 53) && (decimals as usize) < POW10_F64.len() {
                    Self::from_f64(mantissa as f64 / POW10_F64[decimals as usize])
                } else {
                    let num = i128::from(mantissa) << 32;
                    let den = 10i128.checked_pow(decimals)?;
                    i64::try_from(num / den).ok().map(|b| Self(Fx::from_bits(b)))
                }
            }

            /// Returns the value as `f64`, rounded to nearest (ties to even) like
            /// `to_num::<f64>()` (exact while the bits fit 53 bits), by one
            /// integer-to-float conversion and an exact scaling by 2^-32
            /// instead of the generic conversion (hot in every indicator update).
            #[inline]
            #[must_use]
            pub fn to_f64(self) -> f64 {
                self.0.to_bits() as f64 * FX_ULP
            }

            /// Returns the raw fixed-point bits (value × 2^32).
            #[must_use]
            pub const fn to_bits(self) -> i64 {
                self.0.to_bits()
            }

            /// Returns the value with the given raw bits.
            #[must_use]
            pub const fn from_bits(bits: i64) -> Self {
                Self(Fx::from_bits(bits))
            }

            /// Returns true when the value is zero.
            #[must_use]
            pub fn is_zero(self) -> bool {
                self.0 == Fx::ZERO
            }

            /// Returns true when the value is above zero.
            #[must_use]
            pub fn is_positive(self) -> bool {
                self.0 > Fx::ZERO
            }

            /// Returns the sum, saturating at the representable range.
            #[must_use]
            pub fn saturating_add(self, rhs: Self) -> Self {
                Self(self.0.saturating_add(rhs.0))
            }

            /// Returns the difference, saturating at the representable range.
            #[must_use]
            pub fn saturating_sub(self, rhs: Self) -> Self {
                Self(self.0.saturating_sub(rhs.0))
            }

            /// Writes the value with exactly `decimals` fractional digits
            /// (rounded to nearest, ties away from zero) into `buf`, and
            /// returns the written text. Never allocates.
            ///
            /// Returns `None` if `buf` is too small (32 bytes always suffice
            /// for up to 18 decimals).
            pub fn write_decimal(self, decimals: u8, buf: &mut [u8]) -> Option<&str> {
                write_fixed_decimal(self.0, decimals, buf)
            }
        }

        impl Add for $name {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }

        impl Sub for $name {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

fixed_newtype!(
    /// A price in quote currency, fixed-point.
    Price
);
fixed_newtype!(
    /// A quantity in base currency (contracts), fixed-point.
    Qty
);

/// Writes `value` with exactly `decimals` fractional digits into `buf`.
fn write_fixed_decimal(value: Fx, decimals: u8, buf: &mut [u8]) -> Option<&str> {
    if decimals > 18 {
        return None;
    }
    let step = DecimalStep::from_precision(decimals);
    let steps = step.steps(value, Rounding::Nearest);
    let negative = steps < 0;
    let mut mag = steps.unsigned_abs();
    let mut tmp = [0u8; 40];
    let mut len = 0usize;
    let mut digits = 0u8;
    // Emit digits least significant first, inserting the point after `decimals` digits.
    loop {
        if decimals > 0 && digits == decimals {
            tmp[len] = b'.';
            len += 1;
        }
        tmp[len] = b'0' + (mag % 10) as u8;
        len += 1;
        mag /= 10;
        digits += 1;
        if mag == 0 && digits > decimals {
            break;
        }
    }
    if negative {
        tmp[len] = b'-';
        len += 1;
    }
    if buf.len() < len {
        return None;
    }
    for (dst, src) in buf.iter_mut().zip(tmp[..len].iter().rev()) {
        *dst = *src;
    }
    core::str::from_utf8(&buf[..len]).ok()
}

/// How far below a quantity grid point, in fixed-point bits (2^-32 each,
/// 8 bits ≈ 1.9e-9), a quantity still counts as that grid point when
/// rounding down. Each sum or difference of grid quantities is off by at
/// most one bit; the smallest step (1e-8) is about 43 bits.
pub const QTY_NOISE_BITS: i64 = 8;

/// Rounding rules of one instrument: tick size for prices, step size and
/// minimums for quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstrumentRules {
    /// Price grid.
    pub tick: DecimalStep,
    /// Quantity grid.
    pub step: DecimalStep,
    /// Smallest accepted order quantity.
    pub min_qty: Qty,
    /// Smallest accepted order notional (price × quantity) in quote currency.
    pub min_notional: Price,
}

impl InstrumentRules {
    /// Returns the rules of a tick of `price_decimals` and a step (and
    /// smallest quantity) of `qty_decimals` decimal places with a minimum
    /// notional of `min_notional` quote; `None` when `min_notional` is out of
    /// the fixed-point range.
    #[must_use]
    pub fn from_decimals(price_decimals: u8, qty_decimals: u8, min_notional: f64) -> Option<Self> {
        let step = DecimalStep::from_precision(qty_decimals);
        Some(Self {
            tick: DecimalStep::from_precision(price_decimals),
            step,
            min_qty: Qty(step.to_fixed()),
            min_notional: Price::from_f64(min_notional)?,
        })
    }

    /// Returns `price` rounded to the nearest tick.
    #[must_use]
    pub fn round_price(&self, price: Price) -> Price {
        Price(self.tick.round(price.0, Rounding::Nearest))
    }

    /// Returns `price` rounded to a tick in an explicit direction (for example
    /// a long's stop rounds up, towards the entry, so the risk never grows).
    #[must_use]
    pub fn round_price_dir(&self, price: Price, rounding: Rounding) -> Price {
        Price(self.tick.round(price.0, rounding))
    }

    /// Returns `qty` rounded down to the quantity step: an order is never
    /// larger than asked. A quantity at most [`QTY_NOISE_BITS`] below a grid
    /// point is that grid point (binary fixed-point noise of grid
    /// arithmetic, such as an entry less its partial exits), not one step
    /// less: rounding it down would strand a step of the position.
    #[must_use]
    pub fn round_qty(&self, qty: Qty) -> Qty {
        let snapped = self.snap_qty(qty);
        if snapped >= qty && snapped.to_bits() - qty.to_bits() <= QTY_NOISE_BITS {
            snapped
        } else {
            Qty(self.step.round(qty.0, Rounding::Down))
        }
    }

    /// Returns `qty` on the nearest quantity step: the grid quantity that a
    /// quantity computed from grid quantities (a sum or difference of fills,
    /// an entry less its partial exits) stands for. Grid points are not
    /// exactly representable in binary fixed point, so such arithmetic can
    /// land a bit or two below the grid point, where [`round_qty`](Self::round_qty)
    /// would lose a whole step; this is what positions and order quantities
    /// use once sizing has rounded down.
    #[must_use]
    pub fn snap_qty(&self, qty: Qty) -> Qty {
        Qty(self.step.round(qty.0, Rounding::Nearest))
    }

    /// Returns true when an order of `qty` at `price` meets the minimum
    /// quantity and the minimum notional.
    #[must_use]
    pub fn accepts(&self, qty: Qty, price: Price) -> bool {
        qty >= self.min_qty && qty.to_f64() * price.to_f64() >= self.min_notional.to_f64()
    }
}

/// Order or aggressor side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Buy (long entry, short exit).
    Buy,
    /// Sell (short entry, long exit).
    Sell,
}

impl Side {
    /// Returns the other side.
    #[must_use]
    pub const fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }

    /// Returns `+1` for buy and `-1` for sell.
    #[must_use]
    pub const fn sign(self) -> i8 {
        match self {
            Self::Buy => 1,
            Self::Sell => -1,
        }
    }

    /// Returns the exchange spelling, `BUY` or `SELL`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }
}

/// A small Copy id for a symbol: an index into the engine's symbol table,
/// which maps it to the exchange's name at start-up. No `String` on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SymbolId(pub u16);

/// A point in time as integer nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TimestampNs(pub i64);

impl TimestampNs {
    /// Returns the timestamp of `ms` milliseconds since the epoch.
    #[must_use]
    pub const fn from_ms(ms: i64) -> Self {
        Self(ms.saturating_mul(NS_PER_MS))
    }

    /// Returns the timestamp of `us` microseconds since the epoch.
    #[must_use]
    pub const fn from_us(us: i64) -> Self {
        Self(us.saturating_mul(1_000))
    }

    /// Returns whole milliseconds since the epoch (floor).
    #[must_use]
    pub const fn as_ms(self) -> i64 {
        self.0.div_euclid(NS_PER_MS)
    }

    /// Returns the start of the `bucket_ns`-long bucket holding this instant.
    #[must_use]
    pub const fn floor_to(self, bucket_ns: i64) -> Self {
        Self(self.0 - self.0.rem_euclid(bucket_ns))
    }

    /// Returns this instant plus `ns` nanoseconds (saturating).
    #[must_use]
    pub const fn add_ns(self, ns: i64) -> Self {
        Self(self.0.saturating_add(ns))
    }
}

/// One public trade print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    /// Instrument.
    pub symbol: SymbolId,
    /// Exchange trade id (64-bit, never parsed through `f64`).
    pub trade_id: u64,
    /// Trade price.
    pub price: Price,
    /// Trade quantity in base units.
    pub qty: Qty,
    /// Exchange timestamp of the trade.
    pub exchange_ts: TimestampNs,
    /// Aggressor side (the taker): `Sell` when the buyer was the maker.
    pub aggressor: Side,
}

/// An OHLCV candle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    /// Instrument.
    pub symbol: SymbolId,
    /// Start of the candle's bucket.
    pub open_time: TimestampNs,
    /// First trade price.
    pub open: Price,
    /// Highest trade price.
    pub high: Price,
    /// Lowest trade price.
    pub low: Price,
    /// Last trade price.
    pub close: Price,
    /// Traded base volume.
    pub volume: Qty,
    /// Number of trades folded in.
    pub trade_count: u32,
}

crate::checkpoint::state_struct!(Candle {
    symbol,
    open_time,
    open,
    high,
    low,
    close,
    volume,
    trade_count
});
crate::checkpoint::state_enum!(Side { Buy, Sell });
crate::checkpoint::value_newtype!(SymbolId(u16), TimestampNs(i64));
crate::checkpoint::value_bits!(Price, Qty);

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(tick: &str, step: &str) -> InstrumentRules {
        InstrumentRules {
            tick: DecimalStep::parse(tick).unwrap(),
            step: DecimalStep::parse(step).unwrap(),
            min_qty: Qty::from_f64(0.0001).unwrap(),
            min_notional: Price::from_f64(5.0).unwrap(),
        }
    }

    fn text(p: Price, d: u8) -> String {
        let mut buf = [0u8; 40];
        p.write_decimal(d, &mut buf).unwrap().to_string()
    }

    #[test]
    fn price_rounds_to_nearest_tick() {
        let r = rules("0.1", "0.0001");
        let p = r.round_price(Price::from_f64(104_523.46).unwrap());
        assert_eq!(text(p, 1), "104523.5");
        let p = r.round_price(Price::from_f64(104_523.44).unwrap());
        assert_eq!(text(p, 1), "104523.4");
    }

    #[test]
    fn qty_rounds_down_to_step() {
        let r = rules("0.1", "0.001");
        let q = r.round_qty(Qty::from_f64(0.012_999).unwrap());
        assert_eq!(q, Qty(DecimalStep::parse("0.001").unwrap().from_steps(12)));
    }

    #[test]
    fn qty_computed_a_bit_below_the_grid_snaps_to_it_where_round_down_loses_a_step() {
        // Demo regression: entry 0.2317 less partials 0.0695 and 0.0926 is one
        // bit below 0.0696; rounded down that is 0.0695, leaving 0.0001 open.
        let r = rules("0.1", "0.0001");
        let grid = |m: i64| Qty::from_decimal(m, 4).unwrap();
        let rest = grid(2317) - grid(695) - grid(926);
        assert_eq!(rest.to_bits() + 1, grid(696).to_bits());
        assert_eq!(
            Qty(r.step.round(rest.0, Rounding::Down)),
            grid(695),
            "strictly rounded down it loses a step"
        );
        assert_eq!(r.round_qty(rest), grid(696));
        assert_eq!(r.snap_qty(rest), grid(696));
        let dust = rest - grid(695);
        assert_eq!(r.snap_qty(dust), grid(1));
        assert_eq!(r.snap_qty(grid(1) - grid(1)), Qty::ZERO);
    }

    #[test]
    fn qty_rounds_down_beyond_the_noise_tolerance_and_never_up() {
        let r = rules("0.1", "0.0001");
        let grid = Qty::from_decimal(696, 4).unwrap();
        let below = |bits: i64| Qty::from_bits(grid.to_bits() - bits);
        assert_eq!(r.round_qty(below(QTY_NOISE_BITS)), grid);
        assert_eq!(
            r.round_qty(below(QTY_NOISE_BITS + 1)),
            Qty::from_decimal(695, 4).unwrap()
        );
        assert_eq!(r.round_qty(Qty::from_bits(grid.to_bits() + 1000)), grid);
        assert_eq!(r.round_qty(grid), grid);
    }

    #[test]
    fn directional_rounding_of_stop() {
        let r = rules("0.5", "1");
        let p = Price::from_f64(100.2).unwrap();
        assert_eq!(r.round_price_dir(p, Rounding::Up).to_f64(), 100.5);
        assert_eq!(r.round_price_dir(p, Rounding::Down).to_f64(), 100.0);
    }

    #[test]
    fn decimal_step_parse_rejects_garbage() {
        assert!(DecimalStep::parse("0").is_none());
        assert!(DecimalStep::parse("-0.1").is_none());
        assert!(DecimalStep::parse("abc").is_none());
        assert!(DecimalStep::parse("").is_none());
        assert_eq!(DecimalStep::parse("0.0010"), DecimalStep::try_new(1, 3));
        assert_eq!(DecimalStep::parse("5"), DecimalStep::try_new(5, 0));
    }

    #[test]
    fn write_decimal_formats_negative_and_zero() {
        assert_eq!(text(Price::from_f64(-1.25).unwrap(), 2), "-1.25");
        assert_eq!(text(Price::ZERO, 3), "0.000");
        assert_eq!(text(Price::from_f64(0.05).unwrap(), 1), "0.1");
        assert_eq!(text(Price::from_f64(42.0).unwrap(), 0), "42");
    }

    #[test]
    fn from_decimal_matches_text() {
        let p = Price::from_decimal(10452346, 2).unwrap();
        assert_eq!(text(p, 2), "104523.46");
        assert!(Price::from_decimal(i64::MAX, 0).is_none());
    }

    #[test]
    fn to_f64_rounds_wide_bits_like_the_generic_conversion() {
        // Ties to even beyond 53 significant bits, the extremes and zero.
        for b in [
            i64::MIN,
            i64::MAX,
            i64::MIN + 1,
            0,
            -1,
            1,
            (1 << 53) + 1,
            (1 << 53) + 3,
            (1 << 54) + 2,
            (1 << 54) + 6,
            -(1 << 53) - 1,
            -(1 << 53) - 3,
        ] {
            let want = Fx::from_bits(b).to_num::<f64>();
            assert_eq!(
                Price::from_bits(b).to_f64().to_bits(),
                want.to_bits(),
                "bits {b}"
            );
        }
    }

    #[test]
    fn timestamp_bucketing() {
        let t = TimestampNs::from_ms(1_723_161_599_999);
        assert_eq!(t.floor_to(NS_PER_MIN).as_ms(), 1_723_161_540_000);
        assert_eq!(TimestampNs(-1).floor_to(NS_PER_MIN).0, -NS_PER_MIN);
    }

    mod property_tests {
        use super::*;
        use proptest::prelude::*;

        fn step_strategy() -> impl Strategy<Value = DecimalStep> {
            prop_oneof![
                (0u8..=8).prop_map(DecimalStep::from_precision),
                (1i64..=1000, 0u8..=8).prop_map(|(m, d)| DecimalStep::try_new(m, d).unwrap()),
                Just(DecimalStep::try_new(5, 1).unwrap()),
                Just(DecimalStep::try_new(1, 0).unwrap()),
            ]
        }

        fn value_strategy() -> impl Strategy<Value = Fx> {
            prop_oneof![
                (-1_000_000.0f64..1_000_000.0).prop_map(Fx::from_num),
                (0.0f64..1.0).prop_map(Fx::from_num),
                Just(Fx::ZERO),
                (-1_000_000i64..1_000_000).prop_map(Fx::from_num),
            ]
        }

        proptest! {
            #[test]
            fn prop_to_f64_matches_the_generic_fixed_conversion(bits in any::<i64>(), small in -(1i64 << 53)..(1i64 << 53)) {
                for b in [bits, small, bits >> 11, bits | 0x3FF, bits & !0x7FF | 0x400] {
                    let want = Fx::from_bits(b).to_num::<f64>();
                    prop_assert_eq!(Price::from_bits(b).to_f64().to_bits(), want.to_bits());
                    prop_assert_eq!(Qty::from_bits(b).to_f64().to_bits(), want.to_bits());
                }
            }

            #[test]
            fn prop_round_down_never_exceeds_and_is_within_one_step(step in step_strategy(), v in value_strategy()) {
                let r = step.round(v, Rounding::Down);
                prop_assert!(r <= v);
                prop_assert!(v - r < step.to_fixed() + Fx::from_bits(2));
            }

            #[test]
            fn prop_round_up_never_below(step in step_strategy(), v in value_strategy()) {
                let r = step.round(v, Rounding::Up);
                prop_assert!(r >= v - Fx::from_bits(1));
                prop_assert!(r - v < step.to_fixed() + Fx::from_bits(2));
            }

            #[test]
            fn prop_nearest_within_half_step(step in step_strategy(), v in value_strategy()) {
                let r = step.round(v, Rounding::Nearest);
                let half = step.to_fixed() / 2;
                prop_assert!((r - v).abs() <= half + Fx::from_bits(2));
            }

            #[test]
            fn prop_rounding_is_idempotent(step in step_strategy(), v in value_strategy()) {
                for mode in [Rounding::Down, Rounding::Up, Rounding::Nearest] {
                    let once = step.round(v, mode);
                    prop_assert_eq!(step.steps(once, Rounding::Nearest), step.steps(v, mode));
                    prop_assert_eq!(step.round(once, mode), once);
                }
            }

            #[test]
            fn prop_decimal_text_round_trips(steps in -10_000_000i64..10_000_000, d in 0u8..=6) {
                let grid = DecimalStep::from_precision(d);
                let p = Price(grid.from_steps(steps));
                let mut buf = [0u8; 40];
                let s = p.write_decimal(d, &mut buf).unwrap();
                let expected = if d == 0 {
                    steps.to_string()
                } else {
                    let sign = if steps < 0 { "-" } else { "" };
                    let mag = steps.unsigned_abs();
                    let pow = 10u64.pow(u32::from(d));
                    format!("{sign}{}.{:0width$}", mag / pow, mag % pow, width = d as usize)
                };
                prop_assert_eq!(s, expected.as_str());
            }
        }
    }
}
