//! Account endpoints of the REST client (§4.11–4.14): positions, balance,
//! leverage, margin type, position mode, the cancel-all-after dead-man
//! switch, and the user-data-stream listen key.
//!
//! Consumes symbol names and settings; produces the DTOs of `io::dto_trade`.
//! All signed except the listen-key calls, which carry only the API-key
//! header (§4.14). Never logs credentials or the listen key.

use crate::io::clock::IoClock;
use crate::io::dto::parse_bare;
use crate::io::dto_trade::{
    Balance, BalanceData, CancelAllAfter, Leverage, LeverageSet, ListenKey, MarginType,
    MarginTypeData, Position, PositionModeData,
};
use crate::io::endpoint::Endpoint;
use crate::io::error::{AccountError, HttpStatusClass, ListenKeyError, RestError};
use crate::io::order::PositionSide;
use crate::io::rest::RestClient;

/// Hedge (dual-side) or one-way position mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionMode {
    /// Separate LONG and SHORT positions (`dualSidePosition=true`).
    Hedge,
    /// One net position per symbol, `positionSide=BOTH`.
    OneWay,
}

/// A cancel-all-after (dead-man switch) request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadManSwitch {
    /// Cancel every order unless renewed within this many seconds (10..=120).
    Activate {
        /// Timeout in seconds.
        timeout_secs: u32,
    },
    /// Stop the timer.
    Close,
}

impl<C: IoClock> RestClient<C> {
    /// Returns the open positions, of `symbol` or of all symbols (§4.11).
    ///
    /// # Errors
    /// [`AccountError::Request`] after retries.
    pub fn positions(&mut self, symbol: Option<&str>) -> Result<Vec<Position>, AccountError> {
        self.query.clear();
        if let Some(s) = symbol {
            self.query.push_str("symbol", s)?;
        }
        Ok(self.call(Endpoint::Positions)?)
    }

    /// Returns the balance of every margin asset (§4.12; v3, legacy v2 shape accepted).
    ///
    /// # Errors
    /// [`AccountError::Request`] after retries.
    pub fn balance(&mut self) -> Result<Vec<Balance>, AccountError> {
        self.query.clear();
        let data: BalanceData = self.call(Endpoint::Balance)?;
        Ok(data.into_vec())
    }

    /// Returns the leverage of `symbol` (§4.13a).
    ///
    /// # Errors
    /// [`AccountError::Request`] after retries.
    pub fn leverage(&mut self, symbol: &str) -> Result<Leverage, AccountError> {
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        Ok(self.call(Endpoint::GetLeverage)?)
    }

    /// Sets the leverage of one side (`Long`/`Short` in hedge mode, `Both` in
    /// one-way mode) of `symbol` (§4.13b).
    ///
    /// # Errors
    /// [`AccountError::InvalidArgument`] for leverage 0;
    /// [`AccountError::Request`] (e.g. above the maximum) after retries.
    pub fn set_leverage(
        &mut self,
        symbol: &str,
        side: PositionSide,
        leverage: u32,
    ) -> Result<LeverageSet, AccountError> {
        if leverage == 0 {
            return Err(AccountError::InvalidArgument("leverage must be at least 1"));
        }
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        self.query.push_str("side", side.as_str())?;
        self.query.push_u64("leverage", u64::from(leverage))?;
        Ok(self.call(Endpoint::SetLeverage)?)
    }

    /// Returns the margin type of `symbol` (§4.13c).
    ///
    /// # Errors
    /// [`AccountError::Request`] after retries, or a decode error for an
    /// undocumented margin type.
    pub fn margin_type(&mut self, symbol: &str) -> Result<MarginType, AccountError> {
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        let data: MarginTypeData = self.call(Endpoint::GetMarginType)?;
        MarginType::parse(&data.margin_type).ok_or_else(|| {
            AccountError::Request(RestError::Decode {
                endpoint: Endpoint::GetMarginType.spec().path,
                detail: format!("unknown margin type {:?}", data.margin_type),
            })
        })
    }

    /// Sets the margin type of `symbol` (§4.13c; the reply has no `data`).
    ///
    /// # Errors
    /// [`AccountError::Request`] after retries.
    pub fn set_margin_type(
        &mut self,
        symbol: &str,
        margin: MarginType,
    ) -> Result<(), AccountError> {
        self.query.clear();
        self.query.push_str("symbol", symbol)?;
        self.query.push_str("marginType", margin.as_str())?;
        self.call_with(Endpoint::SetMarginType, &|_| Ok(()))?;
        Ok(())
    }

    /// Returns the account's position mode (§4.13d).
    ///
    /// # Errors
    /// [`AccountError::Request`] after retries.
    pub fn position_mode(&mut self) -> Result<PositionMode, AccountError> {
        self.query.clear();
        let data: PositionModeData = self.call(Endpoint::GetPositionMode)?;
        Ok(if data.dual_side_position {
            PositionMode::Hedge
        } else {
            PositionMode::OneWay
        })
    }

    /// Sets the position mode (§4.13d; only allowed without positions or open orders).
    ///
    /// # Errors
    /// [`AccountError::Request`] after retries.
    pub fn set_position_mode(&mut self, mode: PositionMode) -> Result<(), AccountError> {
        self.query.clear();
        self.query
            .push_bool("dualSidePosition", mode == PositionMode::Hedge)?;
        self.call_with(Endpoint::SetPositionMode, &|_| Ok(()))?;
        Ok(())
    }

    /// Activates, renews or closes the cancel-all-after timer (§4.13e).
    ///
    /// # Errors
    /// [`AccountError::InvalidArgument`] for a timeout outside 10..=120 s;
    /// [`AccountError::Request`] after retries.
    pub fn cancel_all_after(
        &mut self,
        switch: DeadManSwitch,
    ) -> Result<CancelAllAfter, AccountError> {
        self.query.clear();
        match switch {
            DeadManSwitch::Activate { timeout_secs } => {
                if !(10..=120).contains(&timeout_secs) {
                    return Err(AccountError::InvalidArgument(
                        "cancel-all-after timeout must be 10..=120 s",
                    ));
                }
                self.query.push_str("type", "ACTIVATE")?;
                self.query.push_u64("timeOut", u64::from(timeout_secs))?;
            }
            DeadManSwitch::Close => {
                self.query.push_str("type", "CLOSE")?;
                self.query.push_u64("timeOut", 0)?;
            }
        }
        Ok(self.call(Endpoint::CancelAllAfter)?)
    }

    /// Creates a user-data-stream listen key (§4.14; bare reply, no envelope).
    ///
    /// # Errors
    /// [`ListenKeyError::Request`] after retries.
    pub fn create_listen_key(&mut self) -> Result<ListenKey, ListenKeyError> {
        self.query.clear();
        let path = Endpoint::ListenKeyCreate.spec().path;
        Ok(self.call_with(Endpoint::ListenKeyCreate, &|b| parse_bare(path, b))?)
    }

    /// Extends a listen key's validity to 60 minutes from now (§4.14; call every 30 min).
    ///
    /// # Errors
    /// [`ListenKeyError::NotFound`] for an unknown or expired key;
    /// [`ListenKeyError::Request`] after retries.
    pub fn extend_listen_key(&mut self, listen_key: &str) -> Result<(), ListenKeyError> {
        self.listen_key_call(Endpoint::ListenKeyExtend, listen_key)
    }

    /// Deletes a listen key (§4.14).
    ///
    /// # Errors
    /// As [`RestClient::extend_listen_key`].
    pub fn delete_listen_key(&mut self, listen_key: &str) -> Result<(), ListenKeyError> {
        self.listen_key_call(Endpoint::ListenKeyDelete, listen_key)
    }

    fn listen_key_call(&mut self, ep: Endpoint, listen_key: &str) -> Result<(), ListenKeyError> {
        self.query.clear();
        self.query.push_str("listenKey", listen_key)?;
        // The reply body is undocumented (§4.14): accept anything with a 2xx.
        match self.call_with(ep, &|_| Ok(())) {
            Ok(()) => Ok(()),
            Err(RestError::Http {
                class: HttpStatusClass::NotFound,
                ..
            }) => Err(ListenKeyError::NotFound),
            Err(e) => Err(ListenKeyError::Request(e)),
        }
    }
}
