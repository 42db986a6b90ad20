//! The BingX contracts list saved to a file, for backtests that need every
//! symbol's tick, step and minimum notional without a network connection
//! (`backtest --contracts FILE`).
//!
//! Consumes a [`RestClient`]; produces `DIR/bingx-contracts.json` in the
//! shape of the exchange's reply (`{"code":0,"msg":"","data":[…]}`) with
//! the fields the engine reads. Written to a temporary name, then renamed:
//! never leaves a partial file under the final name.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::history::error::HistoryError;
use crate::history::{FileReport, Outcome};
use crate::io::clock::IoClock;
use crate::io::dto::Contract;
use crate::io::rest::RestClient;

/// File name the contracts are saved under.
pub const CONTRACTS_FILE: &str = "bingx-contracts.json";

/// Returns the JSON text of `contracts` in the exchange's reply shape.
#[must_use]
pub fn contracts_json(contracts: &[Contract]) -> String {
    let mut out = String::from("{\"code\":0,\"msg\":\"\",\"data\":[\n");
    let mut buf = [0u8; 40];
    for (i, c) in contracts.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        let min_qty = c
            .trade_min_quantity
            .write_decimal(8, &mut buf)
            .unwrap_or("0")
            .to_owned();
        let min_usdt = c
            .trade_min_usdt
            .write_decimal(8, &mut buf)
            .unwrap_or("0")
            .to_owned();
        let _ = write!(
            out,
            "{{\"contractId\":{},\"symbol\":{},\"quantityPrecision\":{},\"pricePrecision\":{},\"tradeMinQuantity\":\"{}\",\"tradeMinUSDT\":\"{}\",\"makerFeeRate\":{},\"takerFeeRate\":{}}}",
            serde_json::to_string(&c.contract_id).unwrap_or_else(|_| "\"\"".into()),
            serde_json::to_string(&c.symbol).unwrap_or_else(|_| "\"\"".into()),
            c.quantity_precision,
            c.price_precision,
            trim(&min_qty),
            trim(&min_usdt),
            c.maker_fee_rate,
            c.taker_fee_rate
        );
    }
    out.push_str("\n]}\n");
    out
}

fn trim(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// Fetches every contract and writes `dir/bingx-contracts.json`.
///
/// # Errors
/// [`HistoryError::BingxContracts`] when the request fails;
/// [`HistoryError::Io`] naming the file when it cannot be written.
pub fn fetch_contracts<C: IoClock>(
    client: &mut RestClient<C>,
    dir: &Path,
) -> Result<(FileReport, usize), HistoryError> {
    let contracts = client
        .contracts(None)
        .map_err(HistoryError::BingxContracts)?;
    let text = contracts_json(&contracts);
    let path = dir.join(CONTRACTS_FILE);
    let partial: PathBuf = dir.join(format!("{CONTRACTS_FILE}.partial"));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HistoryError::Io { path, source }
    };
    std::fs::write(&partial, &text).map_err(io(&partial))?;
    std::fs::rename(&partial, &path).map_err(io(&path))?;
    Ok((
        FileReport {
            path,
            outcome: Outcome::Downloaded {
                bytes: text.len() as u64,
            },
        },
        contracts.len(),
    ))
}
