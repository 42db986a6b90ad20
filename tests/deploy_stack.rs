//! The monitoring stack under `tools/deploy/`: the Grafana dashboard is a structurally valid
//! import; a real Prometheus started with the shipped scrape config (pointed at a running
//! `trading-engine run --mode paper` against the loopback simulator) scrapes the engine, and
//! every dashboard query parses as PromQL (asked of that Prometheus) and names only series
//! the engine exports; the compose file and Dockerfile reference files that exist.
//! Without the `prometheus` binary the scrape test is skipped (it fails under CI=true).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

#[path = "../tools/tests/util/servers.rs"]
mod servers;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bingx_sim::{SimConfig, Simulator, Speed};
use servers::{free_port, http_get, signal, wait_bounded, Prometheus};

const ENGINE: &str = env!("CARGO_BIN_EXE_trading-engine");

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tools/deploy")
        .join(file)
}

fn dashboard() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(deploy("grafana/trading-engine.json")).unwrap())
        .unwrap()
}

/// Every panel query of the dashboard.
fn queries(d: &serde_json::Value) -> Vec<String> {
    d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().iter())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect()
}

/// The `te_` metric names a query mentions.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts = expr[i..].starts_with("te_")
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
        if starts {
            let end = expr[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(expr.len(), |n| i + n);
            names.insert(expr[i..end].to_owned());
            i = end;
        } else {
            i += 1;
        }
    }
    names
}

#[test]
fn the_dashboard_is_a_valid_grafana_import_with_a_prometheus_query_per_panel() {
    let d = dashboard();
    assert!(
        d["schemaVersion"].as_i64().unwrap() >= 30,
        "a current schema"
    );
    assert!(!d["title"].as_str().unwrap().is_empty());
    assert!(!d["uid"].as_str().unwrap().is_empty());
    let var = &d["templating"]["list"][0];
    assert_eq!(
        (var["name"].as_str(), var["type"].as_str()),
        (Some("datasource"), Some("datasource"))
    );
    let panels = d["panels"].as_array().unwrap();
    assert!(
        panels.len() >= 12,
        "equity, drawdown, PnL, positions, risk, feed, latency, orders"
    );
    // The list: every one of these series has a panel.
    let named: BTreeSet<String> = queries(&d).iter().flat_map(|q| metric_names(q)).collect();
    for series in [
        "te_equity_usdt",
        "te_drawdown_ratio",
        "te_pnl_today_usdt",
        "te_open_positions",
        "te_halted",
        "te_feed_reconnects_total",
        "te_stage_latency_seconds",
        "te_order_round_trip_seconds_bucket",
        "te_journal_unsynced_bytes",
    ] {
        assert!(named.contains(series), "no panel shows {series}");
    }
    let mut ids = BTreeSet::new();
    let mut boxes: Vec<(i64, i64, i64, i64)> = Vec::new();
    for p in panels {
        let title = p["title"].as_str().unwrap();
        assert!(
            ids.insert(p["id"].as_i64().unwrap()),
            "duplicate id in {title}"
        );
        assert!(
            ["timeseries", "stat", "gauge", "table"].contains(&p["type"].as_str().unwrap()),
            "{title}"
        );
        assert!(!p["description"].as_str().unwrap().is_empty(), "{title}");
        assert_eq!(p["datasource"]["type"], "prometheus", "{title}");
        let g = &p["gridPos"];
        let (x, y, w, h) = (
            g["x"].as_i64().unwrap(),
            g["y"].as_i64().unwrap(),
            g["w"].as_i64().unwrap(),
            g["h"].as_i64().unwrap(),
        );
        assert!(
            x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 24,
            "{title}: {g}"
        );
        for (bx, by, bw, bh) in &boxes {
            let apart = x >= bx + bw || bx >= &(x + w) || y >= by + bh || by >= &(y + h);
            assert!(apart, "{title} overlaps another panel");
        }
        boxes.push((x, y, w, h));
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}");
        let mut refs = BTreeSet::new();
        for t in targets {
            assert!(refs.insert(t["refId"].as_str().unwrap()), "{title}");
            assert_eq!(t["datasource"]["type"], "prometheus", "{title}");
            assert!(
                !metric_names(t["expr"].as_str().unwrap()).is_empty(),
                "{title}"
            );
        }
    }
}

#[test]
fn the_compose_file_and_dockerfile_reference_files_that_exist() {
    let compose = std::fs::read_to_string(deploy("docker-compose.yml")).unwrap();
    let mut checked = 0;
    for line in compose.lines().map(str::trim) {
        let path = line
            .trim_start_matches("- ")
            .split(':')
            .next()
            .unwrap_or_default();
        if path.starts_with("./") {
            assert!(
                deploy(path).exists(),
                "docker-compose.yml names missing {path}"
            );
            checked += 1;
        }
        if let Some(file) = line.strip_prefix("dockerfile: ") {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            assert!(root.join(file).is_file(), "missing {file}");
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked}");
    let dockerfile = std::fs::read_to_string(deploy("Dockerfile")).unwrap();
    for line in dockerfile.lines().filter(|l| l.starts_with("COPY tools/")) {
        let src = line.split_whitespace().nth(1).unwrap();
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(src).is_file(),
            "Dockerfile copies missing {src}"
        );
    }
}

/// Writes the compose stack's engine config, pointed at `sim` and serving metrics on
/// `metrics`, with its state under `dir`.
fn engine_config(dir: &Path, rest: &str, ws: &str, metrics: &str) -> PathBuf {
    let text = std::fs::read_to_string(deploy("docker/config.toml"))
        .unwrap()
        .replace("http://127.0.0.1:18777", rest)
        .replace("ws://127.0.0.1:18777/swap-market", ws)
        .replace("/var/lib/trading-engine", &dir.display().to_string())
        .replace("0.0.0.0:9184", metrics);
    let file = dir.join("config.toml");
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn prometheus_scrapes_a_running_engine_and_every_dashboard_query_names_an_exported_series() {
    if servers::find_binary("prometheus", &[]).is_none() {
        let _: Option<()> = servers::skip("prometheus not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(SimConfig {
        speed: Speed::Times(60.0),
        ..SimConfig::default()
    })
    .unwrap();
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let config = engine_config(dir.path(), &sim.rest_base(), &sim.ws_url(), &metrics_addr);
    let log = std::fs::File::create(dir.path().join("engine.log")).unwrap();
    let mut engine = Command::new(ENGINE)
        .args(["run", "--mode", "paper", "--duration", "120", "--config"])
        .arg(&config)
        .current_dir(dir.path())
        .env("BINGX_API_KEY", "sim-key")
        .env("BINGX_API_SECRET", "sim-secret")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let engine_log = || std::fs::read_to_string(dir.path().join("engine.log")).unwrap_or_default();
    // The engine's own exposition: the names every query must come from.
    let start = Instant::now();
    let exposition = loop {
        if let Some((200, body)) = http_get(&metrics_addr, "/metrics") {
            break body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "no /metrics from the engine: {}",
            engine_log()
        );
        assert!(
            engine.try_wait().unwrap().is_none(),
            "engine exited: {}",
            engine_log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let exported: BTreeSet<String> = exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap().to_owned())
        .collect();
    assert!(exported.contains("te_equity_usdt"), "{exposition}");
    // Paper orders never leave the process, but the round-trip histogram
    // exists from the start (zero counts) so its panels resolve.
    for name in [
        "te_order_round_trip_seconds_bucket",
        "te_order_round_trip_seconds_sum",
        "te_order_round_trip_seconds_count",
        "te_journal_unsynced_bytes",
    ] {
        assert!(exported.contains(name), "{name} missing: {exposition}");
    }
    // Prometheus with the shipped configuration, its target pointed at this engine.
    let shipped = std::fs::read_to_string(deploy("prometheus/prometheus.yml")).unwrap();
    assert!(shipped.contains("\"engine:9184\""));
    let prom_config = shipped
        .replace("\"engine:9184\"", &format!("\"{metrics_addr}\""))
        .replace("scrape_interval: 5s", "scrape_interval: 1s")
        .replace("scrape_timeout: 4s", "scrape_timeout: 1s");
    let Some(prom) = Prometheus::start(&prom_config) else {
        return;
    };
    let start = Instant::now();
    loop {
        let (code, v) = prom.query("te_equity_usdt{job=\"trading-engine\"}");
        let has = code == 200
            && v["data"]["result"]
                .as_array()
                .is_some_and(|r| !r.is_empty());
        if has {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "Prometheus never scraped the engine: {v} {}",
            prom.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, up) = prom.query("up{job=\"trading-engine\"}");
    assert_eq!(up["data"]["result"][0]["value"][1], "1", "{up}");
    // A malformed query is refused, so "accepted" below means "parsed".
    let (code, bad) = prom.query("te_equity_usdt{");
    assert_eq!(
        (code, bad["errorType"].as_str()),
        (400, Some("bad_data")),
        "{bad}"
    );
    // Prometheus stored the new families with their labels.
    let (_, rt) = prom.query("te_order_round_trip_seconds_count{kind=\"entry\"}");
    assert_eq!(
        rt["data"]["result"].as_array().map(Vec::len),
        Some(1),
        "{rt}"
    );
    let (_, lag) = prom.query("te_journal_unsynced_bytes{job=\"trading-engine\"}");
    assert_eq!(
        lag["data"]["result"].as_array().map(Vec::len),
        Some(1),
        "{lag}"
    );
    let d = dashboard();
    for expr in queries(&d) {
        let (code, v) = prom.query(&expr);
        assert_eq!(
            (code, v["status"].as_str()),
            (200, Some("success")),
            "{expr}: {v}"
        );
        for name in metric_names(&expr) {
            assert!(
                exported.contains(&name),
                "{expr} names {name}, which the engine does not export"
            );
        }
    }
    signal(engine.id(), "TERM");
    let status = wait_bounded(&mut engine, Duration::from_secs(60));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}: {}",
        engine_log()
    );
}
