//! The `bingx-sim` binary starts, announces its address and serves requests.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn binary_prints_listening_on_and_answers_rest() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bingx-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--warmup-minutes",
            "1",
            "--api-secret",
            "top-secret-value",
            "--log-level",
            "debug",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let guard = Kill(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("no output within 20 s");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("got {line:?}"));
    assert!(addr.starts_with("127.0.0.1:"));
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(
        b"GET /openApi/swap/v2/server/time HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("serverTime"));
    drop(guard);
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    assert!(
        log.contains("REST GET /openApi/swap/v2/server/time"),
        "{log}"
    );
    assert!(
        !log.contains("top-secret-value"),
        "the secret leaked into the log"
    );
}

#[test]
fn help_documents_the_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_bingx-sim"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen",
        "--data",
        "--speed",
        "--api-key",
        "--api-secret",
        "--tls",
        "--cert-out",
        "--symbol",
        "--initial-balance",
        "--seed",
        "--drop-ws-every",
        "--delay-ms",
        "--burst-429",
        "--rate-5xx",
        "--reject-rate",
        "--malformed-rate",
        "--ping-interval-ms",
        "--pong-timeout-ms",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_bingx-sim"))
        .args(["--reject-rate", "2"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let no_cert = Command::new(env!("CARGO_BIN_EXE_bingx-sim"))
        .arg("--tls")
        .output()
        .unwrap();
    assert!(!no_cert.status.success(), "--tls requires --cert-out");
}

/// Starts the binary with `args` and `envs`; returns the process guard and its address.
fn start(args: &[&str], envs: &[(&str, &str)]) -> (Kill, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bingx-sim"))
        .args(["--listen", "127.0.0.1:0", "--warmup-minutes", "1"])
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = Kill(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("no output within 20 s"));
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    (guard, addr)
}

/// Returns the body of a balance request signed with `secret`.
fn signed_balance(addr: &str, secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let query = format!("timestamp={ts}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(query.as_bytes());
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /openApi/swap/v3/user/balance?{query}&signature={sig} HTTP/1.1\r\nX-BX-APIKEY: {}\r\nConnection: close\r\n\r\n",
        bingx_sim::DEFAULT_API_KEY
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp
}

#[test]
fn issue_20_the_secret_comes_from_the_environment_or_a_file() {
    let (guard, addr) = start(&[], &[("BINGX_SIM_API_SECRET", "env-secret-value")]);
    assert!(signed_balance(&addr, "env-secret-value").contains("\"code\":0"));
    assert!(!signed_balance(&addr, bingx_sim::DEFAULT_API_SECRET).contains("\"code\":0"));
    drop(guard);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "file-secret-value\n").unwrap();
    let (guard, addr) = start(
        &["--api-secret-file", file.to_str().unwrap()],
        &[("BINGX_SIM_API_SECRET", "env-secret-value")],
    );
    assert!(signed_balance(&addr, "file-secret-value").contains("\"code\":0"));
    assert!(!signed_balance(&addr, "env-secret-value").contains("\"code\":0"));
    drop(guard);

    let missing = Command::new(env!("CARGO_BIN_EXE_bingx-sim"))
        .args(["--api-secret-file", "/nonexistent/secret"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("--api-secret-file /nonexistent/secret"),
        "{err}"
    );
    // --help names the variable but never shows its value.
    let help = Command::new(env!("CARGO_BIN_EXE_bingx-sim"))
        .arg("--help")
        .env("BINGX_SIM_API_SECRET", "env-secret-value")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("BINGX_SIM_API_SECRET"), "{help}");
    assert!(!help.contains("env-secret-value"), "{help}");
}

#[test]
fn issue_20_a_speed_out_of_range_is_an_error_naming_the_flag() {
    for bad in ["1e-300", "0", "inf", "1e300"] {
        let out = Command::new(env!("CARGO_BIN_EXE_bingx-sim"))
            .args(["--speed", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--speed"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
