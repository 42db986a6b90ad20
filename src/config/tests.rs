//! Tests of loading, validation and the shipped config.toml.

use super::*;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The smallest valid file: the two required tables.
const MINIMAL: &str = "[exchange]\n[market]\nsymbols = [\"BTC-USDT\"]\n";

fn shipped_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")
}

fn issues_of(text: &str) -> Vec<String> {
    match Config::from_toml_str_with_cores(text, Some(&[0, 1])) {
        Ok(_) => Vec::new(),
        Err(e) => e.issues().iter().map(ToString::to_string).collect(),
    }
}

fn assert_issue(text: &str, expected_prefix: &str) {
    let issues = issues_of(text);
    assert!(
        issues.iter().any(|i| i.starts_with(expected_prefix)),
        "no issue starting with {expected_prefix:?} in {issues:#?}"
    );
}

#[test]
fn builtin_defaults_validate() {
    Config::default().validate_with_cores(Some(&[0])).unwrap();
}

#[test]
fn minimal_file_equals_builtin_defaults() {
    let config = Config::from_toml_str_with_cores(MINIMAL, Some(&[0])).unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn shipped_config_parses_validates_and_equals_defaults() {
    let config = Config::load(shipped_path()).unwrap();
    assert_eq!(config, Config::default());
}

/// Returns a default configuration with every optional key set, so that
/// serializing it lists every key.
fn fully_populated() -> Config {
    let mut c = Config::default();
    c.engine.io_core = Some(1);
    c.exchange.rest_base_url = Some(BINGX_LIVE_REST_URL.to_owned());
    c.exchange.ws_url = Some(BINGX_LIVE_WS_URL.to_owned());
    c.exchange.ca_file = Some(PathBuf::from("ca.pem"));
    c.logging.file = Some(PathBuf::from("logs/engine.log"));
    c.latency.hgrm_dir = Some(PathBuf::from("latency"));
    c
}

/// Returns `table.key` for every key line of a TOML text, commented out
/// (`# key = ...`) or not.
fn documented_keys(text: &str) -> BTreeSet<String> {
    let mut table = String::new();
    let mut keys = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            table = header.trim_end_matches(']').trim().to_owned();
            continue;
        }
        let body = line.trim_start_matches('#').trim();
        if let Some((key, _)) = body.split_once('=') {
            let key = key.trim();
            if !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                keys.insert(format!("{table}.{key}"));
            }
        }
    }
    keys
}

#[test]
fn every_key_of_the_config_struct_is_documented_in_config_toml() {
    let text = std::fs::read_to_string(shipped_path()).unwrap();
    let documented = documented_keys(&text);
    let all_keys: Vec<String> = reload::flatten(&fully_populated())
        .unwrap()
        .into_keys()
        .collect();
    assert!(all_keys.len() > 90, "only {} keys found", all_keys.len());
    let missing: Vec<&String> = all_keys
        .iter()
        .filter(|k| !documented.contains(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "keys not documented in config.toml: {missing:?}"
    );
    // The commented-out optional keys are valid too when uncommented.
    let uncommented: String = text
        .lines()
        .map(|l| {
            if documented_keys(l.trim_start_matches('#')).is_empty() {
                l.to_owned()
            } else {
                l.trim_start_matches("# ").to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let parsed = Config::from_toml_str_with_cores(&uncommented, None).unwrap_err();
    // Only the CA file check can fail: the example file does not exist.
    let keys: Vec<&str> = parsed.issues().iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, vec!["exchange.ca_file"], "{parsed}");
}

#[test]
fn every_key_of_every_comment_has_a_meaning_and_default() {
    // Each key line is directly preceded by a comment mentioning its default.
    let text = std::fs::read_to_string(shipped_path()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with('[')
            || t.is_empty()
            || documented_keys(t).is_empty()
            || t.starts_with("# Check")
        {
            continue;
        }
        let mut j = i;
        let mut comment = String::new();
        while j > 0
            && lines[j - 1].trim_start().starts_with('#')
            && documented_keys(lines[j - 1]).is_empty()
        {
            j -= 1;
            comment.insert_str(0, lines[j]);
        }
        assert!(
            comment.contains("Default") || comment.contains("default"),
            "line {}: {t} has no default in its comment",
            i + 1
        );
    }
}

#[test]
fn empty_file_reports_both_required_tables() {
    let issues = issues_of("");
    assert_eq!(issues.len(), 2, "{issues:?}");
    assert!(issues[0].starts_with("exchange: required table [exchange] is missing"));
    assert!(issues[1].starts_with("market: required table [market] is missing"));
}

#[test]
fn market_without_symbols_key_is_an_error() {
    assert_issue(
        "[exchange]\n[market]\nfeed = \"bingx\"\n",
        "market.symbols: required key is missing",
    );
    assert_issue(
        "[exchange]\n[market]\nsymbols = []\n",
        "market.symbols: must list at least one symbol",
    );
}

#[test]
fn typo_key_names_the_full_path_and_suggests_the_right_key() {
    let text = format!("{MINIMAL}[risk]\nmax_drawdwn_pct = 5.0\n");
    assert_eq!(issues_of(&text), vec!["risk.max_drawdwn_pct: unknown key \"max_drawdwn_pct\" (did you mean \"max_drawdown_pct\"?)"]);
}

#[test]
fn typo_in_nested_strategy_table_is_named() {
    let text = format!("{MINIMAL}[strategies.mtf_long]\nbody_atr_mul = 2.0\n");
    assert_issue(&text, "strategies.mtf_long.body_atr_mul: unknown key");
}

#[test]
fn unknown_table_is_named_once() {
    let text = format!("{MINIMAL}[riks]\nmax_drawdown_pct = 5.0\nother = 1\n");
    let issues = issues_of(&text);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(
        issues[0].starts_with("riks: unknown key \"riks\" (did you mean \"risk\"?)"),
        "{issues:?}"
    );
}

#[test]
fn wrong_types_name_the_key() {
    assert_issue(
        &format!("{MINIMAL}[risk]\nmax_drawdown_pct = \"ten\"\n"),
        "risk.max_drawdown_pct: invalid type: string \"ten\", expected a number",
    );
    assert_eq!(
        issues_of(&format!("{MINIMAL}[risk]\ncooldown_minutes = -1\n")),
        vec!["risk.cooldown_minutes: invalid value: integer `-1`, expected a non-negative integer"]
    );
    assert_issue(
        &format!("{MINIMAL}[engine]\nmode = \"yolo\"\n"),
        "engine.mode: unknown variant `yolo`",
    );
    assert_issue(&format!("risk = 5\n{MINIMAL}"), "risk: invalid type");
    assert_issue(
        &format!("{MINIMAL}[metrics]\nlisten = \"localhost\"\n"),
        "metrics.listen: invalid socket address syntax",
    );
    assert_issue(
        &format!("{MINIMAL}[strategies]\norder = [\"mtf_lng\"]\n"),
        "strategies.order: unknown variant `mtf_lng`",
    );
}

#[test]
fn negative_percentage_names_key_range_and_value() {
    let text = format!("{MINIMAL}[risk]\nmax_drawdown_pct = -5\n");
    assert_eq!(
        issues_of(&text),
        vec!["risk.max_drawdown_pct: must be in (0, 100], got -5"]
    );
}

#[test]
fn every_error_is_collected_not_just_the_first() {
    let text = "\
[engine]
mode = \"yolo\"
hot_core = 7
[exchange]
leverage = 0
api_secret = \"s3cr3t-value\"
[market]
symbols = [\"BTC-USDT\", \"BTC-USDT\"]
[risk]
max_drawdown_pct = -5
max_drawdwn_pct = 1
typo_two = 1
[management]
partial1_fraction = 0.7
partial2_fraction = 0.4
trail_start_r = 6.0
[strategies.mtf_long]
stop_atr_mult = 12.0
ema_fast_period = 60
";
    let issues = issues_of(text);
    let keys: Vec<&str> = issues
        .iter()
        .map(|i| i.split(':').next().unwrap_or(""))
        .collect();
    for expected in [
        "engine.mode",
        "engine.hot_core",
        "exchange.leverage",
        "exchange.api_secret",
        "market.symbols[1]",
        "risk.max_drawdown_pct",
        "risk.max_drawdwn_pct",
        "risk.typo_two",
        "management.partial2_fraction",
        "management.trail_start_r",
        "strategies.mtf_long.stop_atr_mult",
        "strategies.mtf_long.ema_fast_period",
    ] {
        assert!(
            keys.contains(&expected),
            "{expected} missing from {issues:#?}"
        );
    }
    assert_eq!(issues.len(), 12, "{issues:#?}");
}

#[test]
fn secrets_in_the_file_are_rejected_without_echoing_them() {
    let text = format!("{MINIMAL}api_key = \"AKIA-top-level\"\n[exchange.extra]\nbingx_api_secret = \"very-secret\"\n");
    let err = Config::from_toml_str_with_cores(&text, None).unwrap_err();
    let shown = err.to_string();
    assert!(
        !shown.contains("AKIA-top-level") && !shown.contains("very-secret"),
        "{shown}"
    );
    assert!(
        shown.contains("api_key: secrets must not be stored in config.toml; set BINGX_API_KEY"),
        "{shown}"
    );
    assert!(
        shown.contains("exchange.extra.bingx_api_secret: secrets must not be stored"),
        "{shown}"
    );
}

#[test]
fn relations_between_keys_are_checked() {
    assert_issue(
        &format!("{MINIMAL}[strategies.trend_distance_short]\nstop_atr_mult = 15.0\n"),
        "strategies.trend_distance_short.stop_atr_mult: must be below strategies.trend_distance_short.target_atr_mult (15), got 15",
    );
    assert_issue(
        &format!("{MINIMAL}[management]\ntrail2_start_r = 3.0\n"),
        "management.trail_start_r: must be below management.trail2_start_r (3), got 3",
    );
    assert_issue(
        &format!("{MINIMAL}[management]\npartial1_fraction = 0.7\npartial2_fraction = 0.31\n"),
        "management.partial2_fraction: management.partial1_fraction + management.partial2_fraction must be at most 1",
    );
    assert_issue(
        &format!("{MINIMAL}[management]\ntrail2_distance_r = 2.0\n"),
        "management.trail2_distance_r: must be at most management.trail_distance_r (1.5)",
    );
    assert_issue(
        &format!("{MINIMAL}[strategies.trend_distance_short]\nsma_fast_period = 200\n"),
        "strategies.trend_distance_short.sma_fast_period: must be below strategies.trend_distance_short.sma_slow_period (200), got 200",
    );
    assert_issue(
        &format!("{MINIMAL}[sizing]\nbase_risk_pct = 4.0\n"),
        "sizing.base_risk_pct: with the largest streak multiplier",
    );
    assert_issue(
        &format!("{MINIMAL}[risk]\nmax_positions = 2\n"),
        "risk.max_positions: must be at most the number of market.symbols (1)",
    );
    assert_issue(
        "[exchange]\nmax_clock_skew_ms = 5000\n[market]\nsymbols = [\"BTC-USDT\"]\n",
        "exchange.max_clock_skew_ms: must be below exchange.recv_window_ms (5000), got 5000",
    );
    assert_issue(
        &format!("{MINIMAL}[strategies]\norder = [\"mtf_long\"]\n"),
        "strategies.order: enabled strategy \"trend_distance_short\" must be listed",
    );
    assert!(issues_of(&format!("{MINIMAL}[strategies]\norder = [\"mtf_long\"]\n[strategies.trend_distance_short]\nenabled = false\n")).is_empty());
    assert_issue(&format!("{MINIMAL}[strategies]\norder = [\"mtf_long\", \"trend_distance_short\", \"mtf_long\"]\n"), "strategies.order[2]: duplicate");
}

#[test]
fn ranges_reject_zero_periods_nan_and_out_of_range_values() {
    assert_issue(
        &format!("{MINIMAL}[strategies.mtf_long]\natr_period = 0\n"),
        "strategies.mtf_long.atr_period: must be greater than 0, got 0",
    );
    assert_issue(
        &format!("{MINIMAL}[strategies.mtf_long]\nclose_position = 1.5\n"),
        "strategies.mtf_long.close_position: must be in (0, 1], got 1.5",
    );
    assert_issue(
        &format!("{MINIMAL}[risk]\nmax_position_pct = nan\n"),
        "risk.max_position_pct: must be in (0, 100], got NaN",
    );
    assert_issue(
        &format!("{MINIMAL}[simulator]\ninitial_equity = 0.0\n"),
        "simulator.initial_equity: must be in (0, 1000000000], got 0",
    );
    assert_issue(
        &format!("{MINIMAL}[journal]\nsegment_size_bytes = 5000\n"),
        "journal.segment_size_bytes: must be a multiple of 4096",
    );
    assert_issue(
        &format!("{MINIMAL}[logging]\nrotate_keep = 0\n"),
        "logging.rotate_keep: must be in [1, 100], got 0",
    );
    assert_issue(
        &format!("{MINIMAL}[logging]\nfile = \"logs/\"\n"),
        "logging.file: must name a file",
    );
    assert_issue(
        &format!("{MINIMAL}[risk]\nstop_file = \"\"\n"),
        "risk.stop_file: must not be empty",
    );
    assert_issue(
        "[exchange]\ncancel_all_after_secs = 5\n[market]\nsymbols = [\"BTC-USDT\"]\n",
        "exchange.cancel_all_after_secs: must be 0 (off) or in [10, 120], got 5",
    );
    assert_issue(
        &format!("{MINIMAL}[latency]\nhistogram_sigfig = 6\n"),
        "latency.histogram_sigfig: must be in [0, 5], got 6",
    );
    assert_issue(
        &format!("{MINIMAL}[metrics]\nenabled = true\nlisten = \"127.0.0.1:0\"\n"),
        "metrics.listen: port must be greater than 0",
    );
    assert_issue(
        &format!("{MINIMAL}[sizing]\nstreak_multipliers = []\n"),
        "sizing.streak_multipliers: must have at least one entry",
    );
    assert_issue(
        "[exchange]\n[market]\nsymbols = [\"btcusdt\"]\n",
        "market.symbols[0]: must look like BASE-QUOTE",
    );
}

#[test]
fn issue_20_every_non_strategy_value_has_an_upper_bound_naming_its_key() {
    for (table, key, value, message) in [
        (
            "journal",
            "segment_size_bytes",
            "1099511627776",
            "must be a multiple of 4096 in [4096, 1073741824]",
        ),
        (
            "journal",
            "msync_interval_ms",
            "3600000",
            "must be in [1, 60000]",
        ),
        (
            "journal",
            "snapshot_interval_secs",
            "4000000000",
            "must be in [1, 86400]",
        ),
        (
            "logging",
            "rotate_size_bytes",
            "1099511627776",
            "must be in [4096, 1073741824]",
        ),
        ("logging", "rotate_keep", "100000", "must be in [1, 100]"),
        (
            "logging",
            "channel_capacity",
            "4000000000",
            "must be in [1, 1048576]",
        ),
        (
            "latency",
            "report_interval_secs",
            "4000000000",
            "must be in [0, 86400]",
        ),
        (
            "latency",
            "histogram_max_ns",
            "4000000000000",
            "must be in [2, 3600000000000]",
        ),
        ("latency", "histogram_sigfig", "5", "one histogram needs"),
        (
            "dashboard",
            "interval_secs",
            "4000000000",
            "must be in [0, 604800]",
        ),
        (
            "risk",
            "cooldown_minutes",
            "4000000000",
            "must be in [0, 10080]",
        ),
        (
            "risk",
            "loss_streak_lock_minutes",
            "4000000000",
            "must be in [0, 10080]",
        ),
        (
            "risk",
            "max_consecutive_losses",
            "4000000000",
            "must be in [1, 1000]",
        ),
        (
            "risk",
            "stale_data_secs",
            "4000000000",
            "must be in [1, 3600]",
        ),
        (
            "simulator",
            "initial_equity",
            "1e300",
            "must be in (0, 1000000000]",
        ),
        (
            "management",
            "trail_distance_r",
            "1e300",
            "must be in (0, 1000]",
        ),
        (
            "sizing",
            "streak_multipliers",
            "[1.0, 1e300]",
            "must be in (0, 100]",
        ),
    ] {
        let text = format!("{MINIMAL}[{table}]\n{key} = {value}\n");
        let err = Config::from_toml_str_with_cores(&text, None).unwrap_err();
        let shown: Vec<String> = err.issues().iter().map(ToString::to_string).collect();
        assert!(
            shown
                .iter()
                .any(|m| m.starts_with(&format!("{table}.{key}")) && m.contains(message)),
            "{table}.{key} = {value}: {shown:?}"
        );
    }
    let many = format!(
        "{MINIMAL}[sizing]\nstreak_multipliers = [{}]\n",
        vec!["1.0"; 17].join(", ")
    );
    assert_issue(&many, "sizing.streak_multipliers: at most 16 entries");
    // 4 digits up to ~2 minutes fits, the default 10 s too.
    assert!(Config::from_toml_str_with_cores(
        &format!("{MINIMAL}[latency]\nhistogram_sigfig = 4\nhistogram_max_ns = 60000000000\n"),
        None
    )
    .is_ok());
}

#[test]
fn hot_core_must_exist_and_differ_from_io_core() {
    let text = format!("{MINIMAL}[engine]\nhot_core = 3\nio_core = 3\n");
    let err = Config::from_toml_str_with_cores(&text, Some(&[0, 1])).unwrap_err();
    let shown: Vec<String> = err.issues().iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "engine.hot_core: core 3 does not exist, available cores are [0, 1]",
            "engine.io_core: core 3 does not exist, available cores are [0, 1]",
            "engine.io_core: must differ from engine.hot_core (3): the hot thread owns its core",
        ]
    );
    // When the platform cannot list cores, ids are not checked.
    let ok = format!("{MINIMAL}[engine]\nhot_core = 3\nio_core = 4\n");
    assert_eq!(
        Config::from_toml_str_with_cores(&ok, None)
            .unwrap()
            .engine
            .hot_core,
        3
    );
}

#[test]
fn hot_core_is_checked_against_this_machine() {
    let cores = available_core_ids();
    let text = format!("{MINIMAL}[engine]\nhot_core = 100000\n");
    let result = Config::from_toml_str(&text);
    if cores.is_some() {
        assert!(result
            .unwrap_err()
            .to_string()
            .contains("engine.hot_core: core 100000 does not exist"));
    } else {
        assert!(result.is_ok());
    }
}

#[test]
fn vst_environment_selects_demo_endpoints_unless_overridden() {
    let vst = Config::from_toml_str_with_cores(
        "[exchange]\nenvironment = \"vst\"\n[market]\nsymbols = [\"BTC-USDT\"]\n",
        None,
    )
    .unwrap();
    assert_eq!(
        vst.exchange.effective_rest_base_url(),
        "https://open-api-vst.bingx.com"
    );
    assert_eq!(
        vst.exchange.effective_ws_url(),
        "wss://vst-open-api-ws.bingx.com/swap-market"
    );
    let live = Config::default();
    assert_eq!(
        live.exchange.effective_rest_base_url(),
        "https://open-api.bingx.com"
    );
    assert_eq!(
        live.exchange.effective_ws_url(),
        "wss://open-api-swap.bingx.com/swap-market"
    );
    let sim = Config::from_toml_str_with_cores(
        "[exchange]\nenvironment = \"vst\"\nrest_base_url = \"http://127.0.0.1:18443\"\nws_url = \"ws://127.0.0.1:18444/swap-market\"\n[market]\nsymbols = [\"BTC-USDT\"]\n",
        None,
    )
    .unwrap();
    assert_eq!(
        sim.exchange.effective_rest_base_url(),
        "http://127.0.0.1:18443"
    );
    assert_eq!(
        sim.exchange.effective_ws_url(),
        "ws://127.0.0.1:18444/swap-market"
    );
    assert_issue(
        "[exchange]\nrest_base_url = \"http://open-api.bingx.com\"\n[market]\nsymbols = [\"BTC-USDT\"]\n",
        "exchange.rest_base_url: plain http:// is only allowed for a loopback host",
    );
}

#[test]
fn ca_file_is_resolved_against_the_working_dir_and_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), "pem").unwrap();
    let text = format!(
        "[engine]\nworking_dir = {:?}\n[exchange]\nca_file = \"ca.pem\"\n[market]\nsymbols = [\"BTC-USDT\"]\n",
        dir.path().display().to_string()
    );
    let config = Config::from_toml_str_with_cores(&text, None).unwrap();
    assert_eq!(
        config.engine.resolve_path(Path::new("ca.pem")),
        dir.path().join("ca.pem")
    );
    assert_issue(
        &text.replace("ca.pem\"", "missing.pem\""),
        "exchange.ca_file: file ",
    );
}

#[test]
fn syntax_errors_are_reported_with_their_position() {
    let err = Config::from_toml_str("[exchange\n").unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err:?}");
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[test]
fn loading_a_missing_file_names_it() {
    let err = Config::load(Path::new("/no/such/dir/config.toml")).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(
        err.to_string().contains("/no/such/dir/config.toml"),
        "{err}"
    );
}

#[test]
fn rendered_toml_parses_back_to_the_same_config() {
    let original = fully_populated();
    let text = original.to_toml_string().unwrap();
    let mut back: Config = toml::from_str(&text).unwrap();
    assert_eq!(back, original);
    back.exchange.ca_file = None;
    let reparsed =
        Config::from_toml_str_with_cores(&back.to_toml_string().unwrap(), Some(&[0, 1])).unwrap();
    assert_eq!(reparsed, back);
}

mod property_tests {
    use super::*;
    use proptest::prelude::*;
    use toml::Value;

    fn any_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::Integer),
            prop_oneof![Just(-5i64), Just(0), Just(1), Just(100), Just(101)]
                .prop_map(Value::Integer),
            any::<f64>().prop_map(Value::Float),
            any::<bool>().prop_map(Value::Boolean),
            "[a-z_\\-]{0,12}".prop_map(Value::String),
            Just(Value::Array(vec![])),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// Setting any one key of the defaults to any value either validates
        /// or yields issues that all name a key of the configuration, the
        /// mutated key among them unless the value was acceptable there.
        #[test]
        fn prop_one_bad_value_is_reported_under_a_real_key(index in any::<prop::sample::Index>(), value in any_value()) {
            let flat = reload::flatten(&Config::default()).unwrap();
            let keys: Vec<&String> = flat.keys().collect();
            let key = index.get(&keys).as_str();
            let mut doc = Value::try_from(Config::default()).unwrap();
            let (section, rest) = key.split_once('.').unwrap();
            let mut table = doc.get_mut(section).unwrap();
            let parts: Vec<&str> = rest.split('.').collect();
            for p in &parts[..parts.len() - 1] {
                table = table.get_mut(*p).unwrap();
            }
            table.as_table_mut().unwrap().insert(parts[parts.len() - 1].to_owned(), value);
            let text = toml::to_string(&doc).unwrap();
            if let Err(e) = Config::from_toml_str_with_cores(&text, Some(&[0])) {
                let sections: Vec<String> = Value::try_from(Config::default()).unwrap().as_table().unwrap().keys().cloned().collect();
                prop_assert!(!e.issues().is_empty(), "{e}");
                for issue in e.issues() {
                    let head = issue.key.split(['.', '[']).next().unwrap_or("");
                    prop_assert!(sections.iter().any(|s| s == head), "issue without a real key: {issue}");
                }
                let mutated_named = e.issues().iter().any(|i| i.key.starts_with(key));
                let relation_only = e.issues().iter().all(|i| !i.message.starts_with("invalid") && !i.message.starts_with("unknown"));
                prop_assert!(mutated_named || relation_only, "{key}: {e}");
            }
        }
    }
}
