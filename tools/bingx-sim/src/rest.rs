//! REST routing: documented BingX paths, envelopes, authentication (API key, signature,
//! timestamp window) and the REST fault injections.
//!
//! Consumes a parsed [`Request`]; produces a [`Reply`] (status, headers, JSON body). Logs the
//! method, path and parameter names with values, never the API key, signature or listen key.

use super::exchange::{ApiError, Params};
use super::faults::RestFault;
use super::http::{parse_pairs, Request};
use super::sign::SignedBody;
use super::{lock, now_ms, Shared};
use serde_json::{json, Value};

/// Default `recvWindow` in ms.
const DEFAULT_RECV_WINDOW_MS: i64 = 5_000;

/// An HTTP reply.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, v: &Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: v.to_string().into_bytes(),
        }
    }

    fn ok(data: Value) -> Self {
        Self::json(200, &json!({"code": 0, "msg": "", "data": data}))
    }

    fn err(e: &ApiError) -> Self {
        Self::json(
            e.http,
            &json!({"code": e.code, "msg": e.msg, "timestamp": now_ms()}),
        )
    }
}

enum Body {
    Empty,
    Form(String),
    Json(serde_json::Map<String, Value>),
}

fn parse_body(req: &Request) -> Result<Body, ApiError> {
    if req.body.is_empty() {
        return Ok(Body::Empty);
    }
    let text =
        String::from_utf8(req.body.clone()).map_err(|_| ApiError::param("body is not UTF-8"))?;
    let is_json = req
        .header("content-type")
        .is_some_and(|c| c.contains("json"))
        || text.trim_start().starts_with('{');
    if is_json {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => Ok(Body::Json(m)),
            _ => Err(ApiError::param("JSON body must be an object")),
        }
    } else {
        Ok(Body::Form(text))
    }
}

fn params_of(req: &Request, body: &Body) -> Params {
    let mut p = Params::new();
    parse_pairs(&req.query, &mut p);
    match body {
        Body::Empty => {}
        Body::Form(f) => parse_pairs(f, &mut p),
        Body::Json(m) => {
            for (k, v) in m {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                p.entry(k.clone()).or_insert(text);
            }
        }
    }
    p
}

fn loggable(p: &Params) -> String {
    p.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "signature" | "listenKey"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_api_key(shared: &Shared, req: &Request) -> Result<(), ApiError> {
    match req.header("x-bx-apikey") {
        Some(k) if k == shared.cfg.api_key => Ok(()),
        _ => Err(ApiError::new(100_413, "Incorrect apiKey")),
    }
}

fn authenticate(shared: &Shared, req: &Request, body: &Body, p: &Params) -> Result<(), ApiError> {
    check_api_key(shared, req)?;
    let signed = match body {
        Body::Empty => SignedBody::Empty,
        Body::Form(f) => SignedBody::Form(f),
        Body::Json(m) => SignedBody::Json(m),
    };
    shared
        .verifier
        .verify(&req.query, signed)
        .map_err(|e| ApiError::new(e.code(), e.to_string()))?;
    let ts: i64 = p
        .get("timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| ApiError::new(100_421, "Null timestamp or timestamp mismatch"))?;
    let window = match p.get("recvWindow").filter(|w| !w.is_empty()) {
        Some(w) => w
            .parse::<i64>()
            .map_err(|_| ApiError::param("recvWindow must be an integer"))?,
        None => DEFAULT_RECV_WINDOW_MS,
    };
    let now = now_ms();
    if (now - ts).abs() > window {
        return Err(ApiError::new(
            100_421,
            format!(
                "timestamp mismatch: server time {now}, request time {ts}, recvWindow {window}"
            ),
        ));
    }
    Ok(())
}

/// Handles one REST request (with fault injection).
#[must_use]
pub fn handle(shared: &Shared, req: &Request) -> Reply {
    match shared.faults.next_request() {
        RestFault::TooMany => {
            log::info!("REST {} {} -> injected 429", req.method, req.path);
            let mut r = Reply::json(
                429,
                &json!({"code": 100_410, "msg": "rate limit exceeded, retry after 1000 ms", "timestamp": now_ms()}),
            );
            r.headers.push(("Retry-After", "1".to_owned()));
            r.headers
                .push(("X-RateLimit-Requests-Remain", "0".to_owned()));
            r.headers.push((
                "X-RateLimit-Requests-Expire",
                (now_ms() + 1_000).to_string(),
            ));
            return r;
        }
        RestFault::Internal => {
            log::info!("REST {} {} -> injected 500", req.method, req.path);
            return Reply::json(
                500,
                &json!({"code": 100_500, "msg": "Internal system error"}),
            );
        }
        RestFault::GatewayTimeout => {
            let r = serve(shared, req);
            log::info!(
                "REST {} {} -> executed, injected 504 (was {})",
                req.method,
                req.path,
                r.status
            );
            return Reply::json(
                504,
                &json!({"code": 101_500, "msg": "gateway timeout, outcome unknown"}),
            );
        }
        RestFault::None => {}
    }
    serve(shared, req)
}

fn serve(shared: &Shared, req: &Request) -> Reply {
    let body = match parse_body(req) {
        Ok(b) => b,
        Err(e) => return Reply::err(&e),
    };
    let p = params_of(req, &body);
    log::info!("REST {} {} {}", req.method, req.path, loggable(&p));
    let reply = route(shared, req, &body, &p);
    if reply.status != 200 || !reply.body.starts_with(br#"{"code":0"#) {
        log::info!(
            "REST {} {} -> {} {}",
            req.method,
            req.path,
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    reply
}

fn route(shared: &Shared, req: &Request, body: &Body, p: &Params) -> Reply {
    let now = now_ms();
    let path = req.path.as_str();
    let method = req.method.as_str();
    let public = |f: &dyn Fn(&super::exchange::Exchange) -> Result<Value, ApiError>| {
        let ex = lock(&shared.exchange);
        match f(&ex) {
            Ok(v) => Reply::ok(v),
            Err(e) => Reply::err(&e),
        }
    };
    match (method, path) {
        ("GET", "/openApi/swap/v2/server/time") => Reply::ok(json!({"serverTime": now})),
        ("GET", "/openApi/swap/v2/quote/contracts") => public(&|ex| {
            ex.check_symbol(p, false)?;
            Ok(ex.contracts())
        }),
        ("GET", "/openApi/swap/v1/ticker/price" | "/openApi/swap/v2/quote/price") => {
            public(&|ex| {
                ex.check_symbol(p, false)?;
                let d = ex.market().price_data();
                Ok(if p.contains_key("symbol") {
                    d
                } else {
                    json!([d])
                })
            })
        }
        ("GET", "/openApi/swap/v2/quote/ticker") => public(&|ex| {
            ex.check_symbol(p, false)?;
            let d = ex.market().ticker_data(now);
            Ok(if p.contains_key("symbol") {
                d
            } else {
                json!([d])
            })
        }),
        ("GET", "/openApi/swap/v2/quote/bookTicker") => public(&|ex| {
            ex.check_symbol(p, true)?;
            Ok(ex.market().book_ticker_data())
        }),
        ("GET", "/openApi/swap/v2/quote/depth") => public(&|ex| {
            ex.check_symbol(p, true)?;
            let limit = match p.get("limit").map(String::as_str) {
                None | Some("") => 20,
                Some(l) => match l.parse::<usize>() {
                    Ok(n @ (5 | 10 | 20 | 50 | 100 | 500 | 1000)) => n,
                    _ => {
                        return Err(ApiError::param(
                            "limit must be one of 5, 10, 20, 50, 100, 500, 1000",
                        ))
                    }
                },
            };
            Ok(ex.market().depth_data(limit, now))
        }),
        ("GET", "/openApi/swap/v3/quote/klines" | "/openApi/swap/v2/quote/klines") => {
            public(&|ex| {
                ex.check_symbol(p, true)?;
                let interval = p
                    .get("interval")
                    .ok_or_else(|| ApiError::param("interval is required"))?;
                let num = |k: &str| -> Result<Option<i64>, ApiError> {
                    p.get(k)
                        .filter(|v| !v.is_empty())
                        .map(|v| {
                            v.parse::<i64>()
                                .map_err(|_| ApiError::param(format!("{k} must be an integer")))
                        })
                        .transpose()
                };
                let limit = num("limit")?.unwrap_or(500).clamp(1, 1_440) as usize;
                ex.market()
                    .klines_data(interval, num("startTime")?, num("endTime")?, limit)
                    .ok_or_else(|| ApiError::param(format!("interval {interval} is not supported")))
            })
        }
        ("GET", "/openApi/swap/v2/quote/trades") => public(&|ex| {
            ex.check_symbol(p, true)?;
            let limit = p
                .get("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(500)
                .clamp(1, 1_000);
            Ok(ex.market().trades_data(limit))
        }),
        ("GET", "/openApi/swap/v2/quote/premiumIndex") => public(&|ex| {
            ex.check_symbol(p, false)?;
            Ok(ex.premium_index(now))
        }),
        ("GET", "/openApi/swap/v2/quote/fundingRate") => public(&|ex| {
            ex.check_symbol(p, false)?;
            let ms = |k: &str| p.get(k).and_then(|v| v.parse::<i64>().ok());
            let limit = p
                .get("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(100)
                .clamp(1, 1_000);
            Ok(ex.funding_rate_data(ms("startTime"), ms("endTime"), limit))
        }),
        (_, "/openApi/user/auth/userDataStream") => listen_key(shared, req, p, now),
        _ => private(shared, req, body, p, now),
    }
}

fn listen_key(shared: &Shared, req: &Request, p: &Params, now: i64) -> Reply {
    match req.method.as_str() {
        "POST" => {
            if let Err(e) = check_api_key(shared, req) {
                return Reply::err(&e);
            }
            let key = lock(&shared.exchange).create_listen_key(now);
            Reply::json(200, &json!({"listenKey": key}))
        }
        "PUT" | "DELETE" => {
            let Some(key) = p.get("listenKey").filter(|k| !k.is_empty()) else {
                return Reply {
                    status: 204,
                    headers: Vec::new(),
                    body: Vec::new(),
                };
            };
            let mut ex = lock(&shared.exchange);
            let found = if req.method == "PUT" {
                ex.extend_listen_key(key, now)
            } else {
                ex.delete_listen_key(key)
            };
            if found {
                log::info!(
                    "Listen key {}",
                    if req.method == "PUT" {
                        "extended"
                    } else {
                        "deleted"
                    }
                );
                Reply {
                    status: 200,
                    headers: Vec::new(),
                    body: Vec::new(),
                }
            } else {
                Reply::json(
                    404,
                    &json!({"code": 404, "msg": "listenKey does not exist"}),
                )
            }
        }
        _ => not_found(),
    }
}

fn not_found() -> Reply {
    Reply::json(404, &json!({"code": 100_400, "msg": "api path not found"}))
}

fn private(shared: &Shared, req: &Request, body: &Body, p: &Params, now: i64) -> Reply {
    const KNOWN: [&str; 10] = [
        "/openApi/swap/v2/trade/order",
        "/openApi/swap/v2/trade/allOpenOrders",
        "/openApi/swap/v2/trade/openOrders",
        "/openApi/swap/v2/user/positions",
        "/openApi/swap/v3/user/balance",
        "/openApi/swap/v2/user/balance",
        "/openApi/swap/v2/trade/leverage",
        "/openApi/swap/v2/trade/marginType",
        "/openApi/swap/v1/positionSide/dual",
        "/openApi/swap/v2/trade/cancelAllAfter",
    ];
    if !KNOWN.contains(&req.path.as_str()) {
        return not_found();
    }
    if let Err(e) = authenticate(shared, req, body, p) {
        log::info!("REST {} {} rejected: {}", req.method, req.path, e);
        return Reply::err(&e);
    }
    let mut ex = lock(&shared.exchange);
    let result: Result<Option<Value>, ApiError> = match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/openApi/swap/v2/trade/order") => ex.place_order(p, now).map(Some),
        ("DELETE", "/openApi/swap/v2/trade/order") => ex.cancel_order(p, now).map(Some),
        ("GET", "/openApi/swap/v2/trade/order") => ex.query_order(p).map(Some),
        ("DELETE", "/openApi/swap/v2/trade/allOpenOrders") => ex.cancel_all(p, now).map(Some),
        ("GET", "/openApi/swap/v2/trade/openOrders") => ex.open_orders(p).map(Some),
        ("GET", "/openApi/swap/v2/user/positions") => ex.positions(p, now).map(Some),
        ("GET", "/openApi/swap/v3/user/balance") => Ok(Some(ex.balance(false))),
        ("GET", "/openApi/swap/v2/user/balance") => Ok(Some(ex.balance(true))),
        ("GET", "/openApi/swap/v2/trade/leverage") => ex.leverage(p).map(Some),
        ("POST", "/openApi/swap/v2/trade/leverage") => ex.set_leverage(p, now).map(Some),
        ("GET", "/openApi/swap/v2/trade/marginType") => ex.margin_type(p).map(Some),
        ("POST", "/openApi/swap/v2/trade/marginType") => ex.set_margin_type(p, now).map(|()| None),
        ("GET", "/openApi/swap/v1/positionSide/dual") => Ok(Some(ex.position_mode())),
        ("POST", "/openApi/swap/v1/positionSide/dual") => ex.set_position_mode(p).map(Some),
        ("POST", "/openApi/swap/v2/trade/cancelAllAfter") => ex.cancel_all_after(p, now).map(Some),
        _ => return not_found(),
    };
    ex.observe_stops(now);
    ex.observe_guard(now);
    match result {
        Ok(Some(data)) => Reply::ok(data),
        Ok(None) => Reply::json(200, &json!({"code": 0, "msg": ""})),
        Err(e) => Reply::err(&e),
    }
}
