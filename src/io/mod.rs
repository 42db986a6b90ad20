//! The I/O thread's exchange access: the BingX USDT-M perpetual REST client.
//!
//! Consumes [`order::IoCommand`]s (fixed-size, `Copy`, from the hot thread's
//! SPSC queue) and configuration; produces [`order::OrderResult`]s, typed
//! DTOs and typed errors. Sockets, TLS and request signing live here and
//! nowhere else. Everything here runs on the I/O thread: it blocks on
//! sockets, sleeps for rate limits and backoff, and logs — none of which the
//! hot thread may do. It never prints credentials and never sends an order
//! twice (see [`rest_trade`]).
//!
//! Layers, bottom up: [`signing`] (keyed HMAC) and [`query`] (sorted, signed
//! parameter string); [`tls`] and [`http`] (one warm keep-alive HTTP/1.1
//! connection, `http_response` parsing); [`rate_limit`] and [`clock`];
//! [`rest`] (request pipeline and retries) with the endpoint groups
//! [`rest_market`], [`rest_trade`], [`rest_account`]; DTOs in [`dto`] and
//! [`dto_trade`] decoded through [`wire`]; errors in [`error`].

pub mod bridge;
pub mod clock;
pub mod download;
pub mod dto;
pub mod dto_trade;
pub mod endpoint;
pub mod error;
pub mod http;
mod http_response;
pub mod order;
pub mod query;
pub mod rate_limit;
pub mod rest;
pub mod rest_account;
pub mod rest_market;
pub mod rest_trade;
pub mod signing;
pub mod symbols;
pub mod sync;
pub mod tls;
pub mod wire;
pub mod ws;

#[cfg(test)]
mod fixture_tests;
