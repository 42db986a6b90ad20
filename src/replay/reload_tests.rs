//! Reloads in journals written by [`SimSession`]: a live reload and a
//! restart with an edited config are applied by replay and rebuild at the
//! same point, with zero mismatches; a journal without the reload's config
//! record no longer replays; a non-reloadable restart keeps the running
//! config.

use super::record::SimSession;
use super::tests::{
    assert_same_state, end_ts, options, records, rows, rules, session, sim, write_records,
};
use super::*;
use crate::core::Command;
use crate::datafile::Record as Row;
use crate::journal_schema::{tags, Mode};

/// Strategy thresholds no synthetic candle meets.
fn strict(cfg: &Config) -> Config {
    let mut c = cfg.clone();
    c.strategies.mtf_long.body_atr_mult = 50.0;
    c.strategies.trend_distance_short.body_atr_mult = 50.0;
    c.risk.max_drawdown_pct = 9.0;
    c
}

/// One session with a reload after `at` rows; returns the live core.
fn reloaded_session(dir: &std::path::Path, cfg: &Config, rows: &[Row], at: usize) -> Core {
    let mut s = SimSession::open(
        dir,
        cfg,
        &[rules()],
        sim(cfg),
        Mode::Paper,
        rows[0].timestamp(),
        options(256 << 10),
    )
    .unwrap();
    for r in &rows[..at] {
        s.on_row(r).unwrap();
    }
    let ts = rows[at].timestamp();
    s.reload(
        &strict(cfg),
        "strategies.mtf_long.body_atr_mult: 2.5 -> 50.0",
        ts,
    )
    .unwrap();
    for r in &rows[at..] {
        s.on_row(r).unwrap();
    }
    s.command(Command::Shutdown, end_ts(rows)).unwrap();
    s.flush_exchange().unwrap();
    s.finish().unwrap().0
}

#[test]
fn a_journal_with_a_reload_replays_with_zero_mismatches_and_rebuilds_the_reloaded_core() {
    let cfg = Config::default();
    let rows = rows(2);
    let at = rows.len() / 4;
    let dir = tempfile::tempdir().unwrap();
    let live = reloaded_session(dir.path(), &cfg, &rows, at);
    let plain = tempfile::tempdir().unwrap();
    let (unreloaded, _) = session(plain.path(), &cfg, sim(&cfg), &rows, true);
    assert!(
        live.stats().signals < unreloaded.stats().signals,
        "the reload silenced the strategies: {} vs {}",
        live.stats().signals,
        unreloaded.stats().signals
    );

    let report = replay(dir.path(), &mut |_| {}).unwrap();
    assert_eq!(report.first_mismatch, None);
    let rebuilt = rebuild(dir.path()).unwrap();
    assert_eq!(rebuilt.first_mismatch, None);
    assert_eq!(rebuilt.config.as_ref(), Some(&strict(&cfg)));
    let core = rebuilt.core.unwrap();
    assert_same_state(&core, &live);
    assert!((core.risk().config().max_drawdown_pct - 9.0).abs() < 1e-12);

    // Without the reload's config record the replay diverges.
    let all = records(dir.path());
    assert_eq!(all.iter().filter(|r| r.1 == tags::RELOAD_CONFIG).count(), 1);
    let kept: Vec<_> = all
        .into_iter()
        .filter(|r| r.1 != tags::RELOAD_CONFIG)
        .collect();
    let cut = tempfile::tempdir().unwrap();
    write_records(cut.path(), &kept);
    let report = replay(cut.path(), &mut |_| {}).unwrap();
    assert!(report.first_mismatch.is_some(), "the reload record matters");
}

#[test]
fn a_reload_the_core_refuses_journals_nothing() {
    let cfg = Config::default();
    let rows = rows(1);
    let dir = tempfile::tempdir().unwrap();
    let mut s = SimSession::open(
        dir.path(),
        &cfg,
        &[rules()],
        sim(&cfg),
        Mode::Paper,
        rows[0].timestamp(),
        options(256 << 10),
    )
    .unwrap();
    let mut bad = cfg.clone();
    bad.strategies.mtf_long.atr_period = 7;
    bad.strategies.trend_distance_short.atr_period = 7;
    let err = s.reload(&bad, "", rows[0].timestamp()).unwrap_err();
    assert!(matches!(err, record::RecordError::Reload(_)), "{err}");
    s.finish().unwrap();
    assert!(records(dir.path())
        .iter()
        .all(|r| r.1 != tags::RELOAD && r.1 != tags::RELOAD_CONFIG));
}

#[test]
fn a_restart_with_reloadable_changes_applies_them_at_the_session_like_the_engine() {
    let cfg = Config::default();
    let rows = rows(2);
    let half = rows.len() / 4;
    let dir = tempfile::tempdir().unwrap();
    let (_, exchange) = session(dir.path(), &cfg, sim(&cfg), &rows[..half], false);
    let edited = strict(&cfg);
    let (live, _) = session(dir.path(), &edited, exchange, &rows[half..], true);
    let unedited = tempfile::tempdir().unwrap();
    let (plain, _) = session(unedited.path(), &cfg, sim(&cfg), &rows, true);
    assert!(live.stats().signals < plain.stats().signals);

    let report = replay(dir.path(), &mut |_| {}).unwrap();
    assert_eq!(report.first_mismatch, None);
    let rebuilt = rebuild(dir.path()).unwrap();
    assert_eq!(rebuilt.config.as_ref(), Some(&edited));
    assert_same_state(rebuilt.core.as_ref().unwrap(), &live);
    let change = &rebuilt.session_changes[0];
    assert_eq!(change.refused, None);
    assert!(
        change
            .config_changes
            .iter()
            .any(|c| c.starts_with("strategies.mtf_long.body_atr_mult")),
        "{change:?}"
    );
}

#[test]
fn a_restart_with_a_restart_only_change_keeps_the_running_config() {
    let cfg = Config::default();
    let rows = rows(1);
    let dir = tempfile::tempdir().unwrap();
    let (_, exchange) = session(dir.path(), &cfg, sim(&cfg), &rows[..600], false);
    let mut other = strict(&cfg);
    other.strategies.mtf_long.rsi_period = 21;
    let (_, _) = session(dir.path(), &other, exchange, &rows[600..], false);
    let rebuilt = rebuild(dir.path()).unwrap();
    assert_eq!(
        rebuilt.config.as_ref(),
        Some(&cfg),
        "nothing of it is taken"
    );
    let change = &rebuilt.session_changes[0];
    assert!(
        change.refused.as_deref().unwrap().contains("rsi_period"),
        "{change:?}"
    );
    assert_eq!(
        rebuilt.core.unwrap().risk().config().max_drawdown_pct,
        cfg.risk.max_drawdown_pct
    );
    let report = replay(dir.path(), &mut |_| {}).unwrap();
    assert_eq!(report.first_mismatch, None);
}
