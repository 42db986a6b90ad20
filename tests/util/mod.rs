//! Shared helpers of the integration tests: a scripted loopback HTTP(S)
//! server that records every request, verifies BingX signatures
//! independently of the client (its own HMAC, §3.4), and answers with
//! scripted replies; plus fixture loading.
//!
//! Everything binds 127.0.0.1 on an ephemeral port, and every server thread
//! stops when its `TestServer` is dropped or after a hard 60 s cap.

#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helper: a failure here is a test failure"
)]

pub mod binance_ws;
pub mod live;
pub mod server;

use std::path::PathBuf;

/// API key the tests configure.
pub const KEY: &str = "test-api-key-0001";
/// Secret the tests configure (vector V3 of §3.5).
pub const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/// Returns the body of `bingx-samples/<name>`, or `None` (skip) when the
/// shared data is absent outside CI.
pub fn fixture(name: &str) -> Option<String> {
    let path: PathBuf = bingx_sim::testdata::shared_file(&format!("bingx-samples/{name}"))?;
    Some(std::fs::read_to_string(path).expect("fixture readable"))
}
