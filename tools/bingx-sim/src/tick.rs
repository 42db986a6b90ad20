//! The simulated market's units: a trade ([`Tick`]) with its price in ticks and quantity in
//! steps, and the decimals those are counted in ([`Precision`]).
//!
//! Consumes nothing; produces plain Copy values shared by the data reader, the market sources
//! and the exchange. Never allocates.

/// One trade of the simulated market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// Trade time, ms since the epoch (already shifted to the simulation clock).
    pub time_ms: i64,
    /// Price in ticks of `10^-price_decimals`; always ≥ 1.
    pub price: i64,
    /// Quantity in steps of `10^-qty_decimals`; always ≥ 1.
    pub qty: i64,
    /// The buyer was the maker (the aggressor sold).
    pub buyer_maker: bool,
}

/// Decimal places of prices and quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precision {
    /// Price decimals (tick = `10^-price`).
    pub price: u32,
    /// Quantity decimals (step = `10^-qty`).
    pub qty: u32,
}
