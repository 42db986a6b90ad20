//! `trading-engine ctl` run as a child process against a control server
//! started by the test (engine simulated by a thread): the reply on
//! stdout and exit 0 when accepted; a non-zero exit with the reason on
//! stderr when refused, declined, without a token or with no server.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions may panic"
)]

#[path = "util/control_harness.rs"]
mod harness;

use harness::{start, TOKEN};
use std::net::SocketAddr;
use std::process::{Command, Output};
use trading_engine::control::{ControlCommand, ServerLimits};

/// Runs `trading-engine ctl <args>` with `token` (or no token) in the
/// environment.
fn ctl(args: &[&str], token: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trading-engine"));
    cmd.arg("ctl").args(args).env_remove("TE_CONTROL_TOKEN");
    if let Some(t) = token {
        cmd.env("TE_CONTROL_TOKEN", t);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn accepted_commands_print_the_reply_and_exit_zero() {
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    let addr = h.addr().to_string();
    let out = ctl(&["halt", "--addr", &addr], Some(TOKEN));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Halted: no new positions will be opened\n"
    );
    let out = ctl(&["status", "--addr", &addr], Some(TOKEN));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(json["halted"], true);
    let commands: Vec<ControlCommand> = h.received.lock().unwrap().iter().map(|c| c.0).collect();
    assert_eq!(commands, [ControlCommand::Halt, ControlCommand::Status]);
}

#[test]
fn address_is_taken_from_the_config_file() {
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        format!(
            "[exchange]\n[market]\nsymbols = [\"BTC-USDT\"]\n[metrics]\nenabled = true\nlisten = \"{}\"\n",
            h.addr()
        ),
    )
    .unwrap();
    let out = ctl(&["reload", "--config", path.to_str().unwrap()], Some(TOKEN));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Configuration reloaded: 0 changes\n");
}

#[test]
fn wrong_token_exits_non_zero_with_the_401_reason() {
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    let out = ctl(
        &["flatten", "--addr", &h.addr().to_string()],
        Some("not-it"),
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("HTTP 401"), "{err}");
    assert!(err.contains("refused flatten"), "{err}");
    assert!(!err.contains("not-it"), "the token is never printed: {err}");
    assert!(out.stdout.is_empty());
    assert!(h.received.lock().unwrap().is_empty());
}

#[test]
fn declined_command_exits_non_zero_with_the_engine_reason() {
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    let out = ctl(&["resume", "--addr", &h.addr().to_string()], Some(TOKEN));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("HTTP 409"), "{err}");
    assert!(err.contains("Not halted: nothing to resume"), "{err}");
}

#[test]
fn missing_token_exits_non_zero_without_contacting_the_engine() {
    let h = start(Some(TOKEN), ServerLimits::default(), true);
    let out = ctl(&["status", "--addr", &h.addr().to_string()], None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("TE_CONTROL_TOKEN is not set"), "{err}");
    assert!(h.received.lock().unwrap().is_empty());
}

#[test]
fn unreachable_engine_exits_non_zero_naming_the_address() {
    let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = ctl(&["status", "--addr", &addr.to_string()], Some(TOKEN));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("cannot connect to the engine at {addr}")),
        "{err}"
    );
}

#[test]
fn unknown_command_is_a_usage_error() {
    let out = ctl(&["explode"], Some(TOKEN));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("unknown control command \"explode\""), "{err}");
}
