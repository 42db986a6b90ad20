//! The deployment files under `tools/deploy/`: the systemd unit passes
//! `systemd-analyze verify` without a warning (skipped with a message where
//! the tool is missing) and holds the settings the runbook relies on; the
//! run script refuses a bad configuration and starts the engine after a
//! good one.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

use std::path::{Path, PathBuf};
use std::process::Command;

const ENGINE: &str = env!("CARGO_BIN_EXE_trading-engine");

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tools/deploy")
        .join(file)
}

fn unit_text() -> String {
    std::fs::read_to_string(deploy("trading-engine.service")).unwrap()
}

/// `[Service]` settings as (key, value) pairs, comments dropped.
fn settings(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn unit_holds_the_runbook_settings() {
    let s = settings(&unit_text());
    let get = |key: &str| -> Vec<&str> {
        s.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(
        get("ExecStart"),
        ["/usr/local/bin/trading-engine run --config /etc/trading-engine/config.toml"]
    );
    assert!(
        get("ExecStartPre")[0].contains("config check --config /etc/trading-engine/config.toml")
    );
    for (key, value) in [
        ("Restart", "on-failure"),
        ("LimitMEMLOCK", "infinity"),
        ("KillSignal", "SIGTERM"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("EnvironmentFile", "/etc/trading-engine/secrets.env"),
        (
            "ReadWritePaths",
            "/var/lib/trading-engine /var/log/trading-engine",
        ),
    ] {
        assert_eq!(get(key), [value], "{key}");
    }
    let cores: Vec<u32> = get("CPUAffinity")[0]
        .split_whitespace()
        .map(|c| c.parse().unwrap())
        .collect();
    assert_eq!(cores.len(), 2, "hot core + I/O core");
    let stop = get("TimeoutStopSec")[0].trim_end_matches('s');
    assert!(stop.parse::<u32>().unwrap() >= 30, "room to flatten");
}

#[test]
fn unit_passes_systemd_analyze_verify() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIP: systemd-analyze is not installed; unit not verified");
        return;
    }
    // verify checks that the commands exist: point them at the built binary.
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("trading-engine.service");
    std::fs::write(
        &unit,
        unit_text().replace("/usr/local/bin/trading-engine", ENGINE),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Unknown keys and bad values are only warnings: none allowed.
    let own: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("trading-engine.service"))
        .collect();
    assert!(own.is_empty(), "{own:?}");
}

fn run_script(config: &Path, cwd: &Path, bin: &Path) -> std::process::Output {
    Command::new("bash")
        .arg(deploy("run.sh"))
        .arg(config)
        .arg("--extra")
        .current_dir(cwd)
        .env("TRADING_ENGINE_BIN", bin)
        .env("TRADING_ENGINE_ENV", cwd.join("no.env"))
        .env_remove("BINGX_API_KEY")
        .env_remove("BINGX_API_SECRET")
        .output()
        .unwrap()
}

/// A stand-in engine: `config check` runs the real one, `run` only prints
/// its arguments (the real `run` would start trading).
fn stand_in(dir: &Path) -> PathBuf {
    let path = dir.join("engine-stand-in");
    std::fs::write(
        &path,
        format!(
            "#!/usr/bin/env bash
if [[ $1 == run ]]; then echo \"RUN $*\"; exit 0; fi
exec {ENGINE} \"$@\"\n"
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&path, perms).unwrap();
    path
}

#[test]
fn run_script_refuses_a_bad_or_missing_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let bin = stand_in(dir.path());
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[engine]\nmode = \"paper\"\nno_such_key = 1\n").unwrap();
    let out = run_script(&bad, dir.path(), &bin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("configuration check failed"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("RUN"));
    let out = run_script(&dir.path().join("missing.toml"), dir.path(), &bin);
    assert_eq!(out.status.code(), Some(2));
    let out = run_script(&bad, dir.path(), &dir.path().join("no-such-engine"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn run_script_execs_the_engine_after_a_passing_check() {
    let dir = tempfile::tempdir().unwrap();
    let bin = stand_in(dir.path());
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let out = run_script(&config, dir.path(), &bin);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("configuration check passed"), "{stderr}");
    assert!(
        stdout.contains(&format!("RUN run --config {} --extra", config.display())),
        "{stdout}"
    );
}
