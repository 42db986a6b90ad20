//! The BingX USDT-M REST endpoints the engine uses (protocol §4), each with
//! its method, path, signing, idempotency and rate-limit group (§2.4).
//!
//! Consumes nothing; produces static [`EndpointSpec`]s. Paths are copied
//! exactly from the protocol table; nothing here performs I/O.

use crate::io::http::Method;

/// IP rate-limit group of an endpoint (§2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpGroup {
    /// Market data: 500 requests / 10 s and 1000 / min per IP for the group.
    Market,
    /// Account/trade group 2: 2000 / 10 s in total, 300 / 10 s per endpoint.
    Group2,
    /// Account/trade group 3: 2000 / 10 s in total, 300 / 10 s per endpoint.
    Group3,
    /// No documented IP limit (listen-key endpoints).
    None,
}

/// One REST endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// 4.1 `GET /openApi/swap/v2/server/time`.
    ServerTime,
    /// 4.2 `GET /openApi/swap/v2/quote/contracts`.
    Contracts,
    /// 4.3 `GET /openApi/swap/v1/ticker/price`.
    TickerPrice,
    /// 4.3b `GET /openApi/swap/v2/quote/ticker`.
    Ticker24h,
    /// 4.3c `GET /openApi/swap/v2/quote/bookTicker`.
    BookTicker,
    /// 4.4 `GET /openApi/swap/v2/quote/depth`.
    Depth,
    /// 4.5 `GET /openApi/swap/v3/quote/klines`.
    Klines,
    /// 4.5b `GET /openApi/swap/v2/quote/trades`.
    RecentTrades,
    /// 4.5c `GET /openApi/swap/v2/quote/premiumIndex`.
    PremiumIndex,
    /// 4.6 `POST /openApi/swap/v2/trade/order`.
    PlaceOrder,
    /// 4.7 `DELETE /openApi/swap/v2/trade/order`.
    CancelOrder,
    /// 4.8 `DELETE /openApi/swap/v2/trade/allOpenOrders`.
    CancelAll,
    /// 4.9 `GET /openApi/swap/v2/trade/order`.
    QueryOrder,
    /// 4.10 `GET /openApi/swap/v2/trade/openOrders`.
    OpenOrders,
    /// 4.11 `GET /openApi/swap/v2/user/positions`.
    Positions,
    /// 4.12 `GET /openApi/swap/v3/user/balance`.
    Balance,
    /// 4.13a `GET /openApi/swap/v2/trade/leverage`.
    GetLeverage,
    /// 4.13b `POST /openApi/swap/v2/trade/leverage`.
    SetLeverage,
    /// 4.13c `GET /openApi/swap/v2/trade/marginType`.
    GetMarginType,
    /// 4.13c `POST /openApi/swap/v2/trade/marginType`.
    SetMarginType,
    /// 4.13d `GET /openApi/swap/v1/positionSide/dual`.
    GetPositionMode,
    /// 4.13d `POST /openApi/swap/v1/positionSide/dual`.
    SetPositionMode,
    /// 4.13e `POST /openApi/swap/v2/trade/cancelAllAfter`.
    CancelAllAfter,
    /// 4.14 `POST /openApi/user/auth/userDataStream`.
    ListenKeyCreate,
    /// 4.14 `PUT /openApi/user/auth/userDataStream`.
    ListenKeyExtend,
    /// 4.14 `DELETE /openApi/user/auth/userDataStream`.
    ListenKeyDelete,
}

/// Number of [`Endpoint`] variants.
pub const ENDPOINT_COUNT: usize = 26;

/// Static facts about an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointSpec {
    /// HTTP method.
    pub method: Method,
    /// Path, exactly as documented.
    pub path: &'static str,
    /// Carries `timestamp`, `recvWindow` and `signature`.
    pub signed: bool,
    /// Sends the `X-BX-APIKEY` header.
    pub api_key: bool,
    /// Safe to repeat after an unknown outcome.
    pub idempotent: bool,
    /// IP rate-limit group.
    pub group: IpGroup,
    /// Per-UID limit in requests per second, when documented.
    pub uid_per_sec: Option<u32>,
}

impl Endpoint {
    /// Every endpoint, in declaration order (index = `self as usize`).
    pub const ALL: [Self; ENDPOINT_COUNT] = [
        Self::ServerTime,
        Self::Contracts,
        Self::TickerPrice,
        Self::Ticker24h,
        Self::BookTicker,
        Self::Depth,
        Self::Klines,
        Self::RecentTrades,
        Self::PremiumIndex,
        Self::PlaceOrder,
        Self::CancelOrder,
        Self::CancelAll,
        Self::QueryOrder,
        Self::OpenOrders,
        Self::Positions,
        Self::Balance,
        Self::GetLeverage,
        Self::SetLeverage,
        Self::GetMarginType,
        Self::SetMarginType,
        Self::GetPositionMode,
        Self::SetPositionMode,
        Self::CancelAllAfter,
        Self::ListenKeyCreate,
        Self::ListenKeyExtend,
        Self::ListenKeyDelete,
    ];

    /// Returns the endpoint's index in [`Endpoint::ALL`].
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Returns the endpoint's static facts.
    #[must_use]
    pub const fn spec(self) -> EndpointSpec {
        use IpGroup::{Group2, Group3, Market};
        use Method::{Delete, Get, Post, Put};
        const fn public(path: &'static str) -> EndpointSpec {
            EndpointSpec {
                method: Get,
                path,
                signed: false,
                api_key: false,
                idempotent: true,
                group: Market,
                uid_per_sec: None,
            }
        }
        const fn private(
            method: Method,
            path: &'static str,
            idempotent: bool,
            group: IpGroup,
            uid_per_sec: u32,
        ) -> EndpointSpec {
            EndpointSpec {
                method,
                path,
                signed: true,
                api_key: true,
                idempotent,
                group,
                uid_per_sec: Some(uid_per_sec),
            }
        }
        const fn listen_key(method: Method, idempotent: bool) -> EndpointSpec {
            EndpointSpec {
                method,
                path: "/openApi/user/auth/userDataStream",
                signed: false,
                api_key: true,
                idempotent,
                group: IpGroup::None,
                uid_per_sec: None,
            }
        }
        match self {
            Self::ServerTime => public("/openApi/swap/v2/server/time"),
            Self::Contracts => public("/openApi/swap/v2/quote/contracts"),
            Self::TickerPrice => public("/openApi/swap/v1/ticker/price"),
            Self::Ticker24h => public("/openApi/swap/v2/quote/ticker"),
            Self::BookTicker => public("/openApi/swap/v2/quote/bookTicker"),
            Self::Depth => public("/openApi/swap/v2/quote/depth"),
            Self::Klines => public("/openApi/swap/v3/quote/klines"),
            Self::RecentTrades => public("/openApi/swap/v2/quote/trades"),
            Self::PremiumIndex => public("/openApi/swap/v2/quote/premiumIndex"),
            Self::PlaceOrder => private(Post, "/openApi/swap/v2/trade/order", false, Group3, 5),
            // Cancels are safe to repeat: a second one answers "not found"/"filled".
            Self::CancelOrder => private(Delete, "/openApi/swap/v2/trade/order", true, Group3, 5),
            Self::CancelAll => private(
                Delete,
                "/openApi/swap/v2/trade/allOpenOrders",
                true,
                Group2,
                5,
            ),
            Self::QueryOrder => private(Get, "/openApi/swap/v2/trade/order", true, Group2, 5),
            Self::OpenOrders => private(Get, "/openApi/swap/v2/trade/openOrders", true, Group3, 5),
            Self::Positions => private(Get, "/openApi/swap/v2/user/positions", true, Group3, 5),
            Self::Balance => private(Get, "/openApi/swap/v3/user/balance", true, Group3, 5),
            Self::GetLeverage => private(Get, "/openApi/swap/v2/trade/leverage", true, Group2, 5),
            Self::SetLeverage => private(Post, "/openApi/swap/v2/trade/leverage", true, Group2, 5),
            Self::GetMarginType => {
                private(Get, "/openApi/swap/v2/trade/marginType", true, Group2, 2)
            }
            Self::SetMarginType => {
                private(Post, "/openApi/swap/v2/trade/marginType", true, Group2, 2)
            }
            Self::GetPositionMode => {
                private(Get, "/openApi/swap/v1/positionSide/dual", true, Group2, 2)
            }
            Self::SetPositionMode => {
                private(Post, "/openApi/swap/v1/positionSide/dual", true, Group2, 2)
            }
            // "1 time/1s" in the page text, stricter than the 2/s header.
            Self::CancelAllAfter => private(
                Post,
                "/openApi/swap/v2/trade/cancelAllAfter",
                true,
                Group2,
                1,
            ),
            Self::ListenKeyCreate => listen_key(Post, false),
            Self::ListenKeyExtend => listen_key(Put, true),
            Self::ListenKeyDelete => listen_key(Delete, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_index_order() {
        for (i, ep) in Endpoint::ALL.iter().enumerate() {
            assert_eq!(ep.index(), i);
        }
    }

    #[test]
    fn only_place_order_and_listen_key_create_are_not_idempotent() {
        let non: Vec<_> = Endpoint::ALL
            .iter()
            .filter(|e| !e.spec().idempotent)
            .collect();
        assert_eq!(non, [&Endpoint::PlaceOrder, &Endpoint::ListenKeyCreate]);
    }

    #[test]
    fn paths_follow_the_protocol_table() {
        assert_eq!(
            Endpoint::Klines.spec().path,
            "/openApi/swap/v3/quote/klines"
        );
        assert_eq!(
            Endpoint::Balance.spec().path,
            "/openApi/swap/v3/user/balance"
        );
        assert_eq!(
            Endpoint::TickerPrice.spec().path,
            "/openApi/swap/v1/ticker/price"
        );
        assert_eq!(
            Endpoint::ListenKeyExtend.spec().path,
            "/openApi/user/auth/userDataStream"
        );
        assert!(!Endpoint::Depth.spec().signed);
        assert!(Endpoint::CancelAll.spec().signed);
    }
}
