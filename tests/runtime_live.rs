//! The live runtime end to end against the BingX simulator on 127.0.0.1:
//! a scripted price path (an aggTrades file replayed at 60x) and a
//! scripted strategy make every scenario deterministic. Each run stops by
//! itself (duration or stop flag) and is bounded in time.

#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

#[path = "util/prom_text.rs"]
mod prom_text;
mod util;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use trading_engine::config::Mode;
use trading_engine::core::{Action, Command, Event, Record};
use trading_engine::orders::ExitReason;
use trading_engine::types::NS_PER_MIN;

/// Nanoseconds in a UTC day.
const NS_PER_DAY: i64 = 86_400_000_000_000;
use util::live::{
    options, read_journal, replay_complete, run_in_background, scripted, sim_position, sim_rest,
    start_sim, start_sim_at,
};

#[test]
fn live_mode_trades_entry_exchange_stop_partial_trailing_exit_and_ends_flat_like_the_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    let handle = run_in_background(options(&sim, dir.path(), Mode::Live, 14));
    let mut rest = sim_rest(&sim);
    let (mut saw_position, mut saw_stop_with_position) = (false, false);
    let start = Instant::now();
    while !handle.is_finished() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "run did not stop"
        );
        let pos = sim_position(&mut rest);
        if pos > 0.0 {
            saw_position = true;
            let orders = rest.open_orders(None).unwrap();
            if orders.iter().any(|o| o.order_type == "STOP_MARKET") {
                saw_stop_with_position = true;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let report = handle.join().unwrap();
    assert!(saw_position, "the entry never reached the exchange");
    assert!(
        saw_stop_with_position,
        "no exchange-side stop while in position"
    );
    assert_eq!(
        report.service.trades.len(),
        1,
        "{:?}",
        report.service.trades
    );
    let j = read_journal(report.journal_dir.as_ref().unwrap());
    let reasons = j.exit_reasons();
    assert!(reasons.contains(&ExitReason::Partial), "{reasons:?}");
    assert!(reasons.contains(&ExitReason::TrailingStop), "{reasons:?}");
    let stops_moved = j
        .outputs
        .iter()
        .filter(|a| matches!(a, Action::Record(Record::StopMoved { .. })))
        .count();
    assert!(stops_moved >= 2, "break-even and trailing replacements");
    assert_eq!(report.hot.open_positions, 0);
    assert!(sim_position(&mut rest).abs() < 1e-9, "exchange not flat");
    assert!(rest.open_orders(None).unwrap().is_empty(), "orders left");
    assert!(j.orders_sent >= 3, "entry, stop, partial orders");
    assert_eq!(j.shutdown, Some(true));
    assert!(j.last_is_shutdown, "the shutdown record ends the journal");
    assert!(
        report
            .latency
            .get(trading_engine::metrics::latency::Stage::TickToOrder)
            .count
            >= 1
    );
}

#[test]
fn dry_run_journals_the_decision_but_sends_nothing_to_the_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    let report = run_in_background(options(&sim, dir.path(), Mode::DryRun, 6))
        .join()
        .unwrap();
    let j = read_journal(report.journal_dir.as_ref().unwrap());
    let places = j
        .outputs
        .iter()
        .filter(|a| matches!(a, Action::Place(_)))
        .count();
    assert!(places >= 1, "the entry decision is journaled");
    assert_eq!(j.orders_sent, 0);
    let mut rest = sim_rest(&sim);
    assert!(sim_position(&mut rest).abs() < 1e-9);
    assert!(rest.open_orders(None).unwrap().is_empty());
    assert!(report.service.trades.is_empty());
}

#[test]
fn paper_mode_fills_in_process_and_never_touches_the_exchange_account() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    let report = run_in_background(options(&sim, dir.path(), Mode::Paper, 14))
        .join()
        .unwrap();
    assert_eq!(
        report.service.trades.len(),
        1,
        "{:?}",
        report.service.trades
    );
    let j = read_journal(report.journal_dir.as_ref().unwrap());
    assert_eq!(j.orders_sent, 0);
    assert!(j.exit_reasons().contains(&ExitReason::Partial));
    let mut rest = sim_rest(&sim);
    assert!(sim_position(&mut rest).abs() < 1e-9);
    assert!(replay_complete(report.journal_dir.as_ref().unwrap()) > 10);
}

#[test]
fn stop_file_flattens_the_position_and_halts_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    let mut o = options(&sim, dir.path(), Mode::Live, 30);
    let stop = Arc::new(AtomicBool::new(false));
    o.stop = Some(Arc::clone(&stop));
    o.config.risk.close_on_shutdown = false;
    let handle = run_in_background(o);
    let mut rest = sim_rest(&sim);
    let start = Instant::now();
    while sim_position(&mut rest) <= 0.0 {
        assert!(start.elapsed() < Duration::from_secs(30), "no entry");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(dir.path().join("STOP"), b"").unwrap();
    while sim_position(&mut rest).abs() > 1e-9 {
        assert!(start.elapsed() < Duration::from_secs(40), "not flattened");
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Release);
    let report = handle.join().unwrap();
    assert!(report.service.stop_file_seen);
    assert!(report.hot.halted, "HALTED after the STOP file");
    assert_eq!(report.hot.open_positions, 0);
    let j = read_journal(report.journal_dir.as_ref().unwrap());
    assert!(j.exit_reasons().contains(&ExitReason::Emergency));
    assert!(j.inputs.iter().any(|e| matches!(
        e,
        Event::Control {
            command: Command::EmergencyStop,
            ..
        }
    )));
}

#[test]
fn a_stop_request_drains_and_completes_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    let mut o = options(&sim, dir.path(), Mode::Live, 60);
    let stop = Arc::new(AtomicBool::new(false));
    o.stop = Some(Arc::clone(&stop));
    let handle = run_in_background(o);
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Release);
    let start = Instant::now();
    while !handle.is_finished() {
        assert!(start.elapsed() < Duration::from_secs(20), "did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = handle.join().unwrap();
    assert!(report.hot.drained);
    let dir = report.journal_dir.unwrap();
    let summary = journal::verify(&dir).unwrap();
    assert!(summary.records > 0, "{summary:?}");
    let j = read_journal(&dir);
    assert!(j.last_is_shutdown && j.shutdown == Some(true));
    assert!(j.inputs.iter().any(|e| matches!(e, Event::Trade(_))));
}

#[test]
fn a_dropped_market_stream_reconnects_and_backfills_without_missing_or_duplicate_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let faults = bingx_sim::FaultConfig {
        drop_ws_every_ms: Some(4_000),
        ..Default::default()
    };
    let sim = start_sim(dir.path(), faults);
    let mut o = options(&sim, dir.path(), Mode::DryRun, 12);
    // Reconnecting takes two market minutes or more, so whole minutes go missing.
    o.ws = Some(trading_engine::io::ws::WsConfig {
        backoff_base: Duration::from_millis(2_500),
        backoff_max: Duration::from_millis(3_000),
        ..Default::default()
    });
    let report = run_in_background(o).join().unwrap();
    assert!(report.hot.ws.connects >= 2, "{:?}", report.hot.ws);
    let j = read_journal(report.journal_dir.as_ref().unwrap());
    assert!(j.backfilled >= 1, "no backfill");
    // Every minute from the first warm-up one to the last is covered by
    // trades or by one candle, never by two candles; a minute covered by
    // both is the first one seen after a reconnect, whose REST candle
    // replaces the one built from the trades seen.
    let mut trade_minutes = std::collections::BTreeSet::new();
    let mut candle_minutes = Vec::new();
    for e in &j.inputs {
        match e {
            Event::Trade(t) => {
                trade_minutes.insert(t.exchange_ts.0.div_euclid(NS_PER_MIN));
            }
            Event::Candle(c) => candle_minutes.push(c.open_time.0.div_euclid(NS_PER_MIN)),
            _ => {}
        }
    }
    let first = *trade_minutes.first().unwrap();
    let last = *trade_minutes.last().unwrap();
    let mut candles = std::collections::BTreeMap::new();
    for m in &candle_minutes {
        *candles.entry(*m).or_insert(0) += 1;
    }
    let warm_first = *candle_minutes.first().unwrap();
    for m in warm_first..=last {
        let c = candles.get(&m).copied().unwrap_or(0);
        assert!(c <= 1, "minute {m} has {c} candles (live from {first})");
        assert!(
            c == 1 || trade_minutes.contains(&m),
            "minute {m} missing (live from {first})"
        );
    }
    let replaced = trade_minutes
        .iter()
        .filter(|m| candles.contains_key(m))
        .count();
    assert!(
        replaced >= 1,
        "the first minute seen after the start or a reconnect is replaced"
    );
}

/// Builds the hot loop like `run` does (paper mode, journal, service thread
/// for the backfill), steps it on this thread past the warm-up, then counts
/// this thread's heap allocations over the rest of the path: entry, stop,
/// partial, trailing stop and exit included.
#[test]
fn the_hot_loop_allocates_nothing_after_warm_up() {
    use trading_engine::clock::{Clock, SystemClock};
    use trading_engine::core::Core;
    use trading_engine::feed::{BingxDecoder, SymbolTable};
    use trading_engine::fill_model::{FillModel, MarketFill};
    use trading_engine::io::ws::{BingxMarket, WsClient, WsConfig};
    use trading_engine::metrics::handoff::latency_channel;
    use trading_engine::runtime::setup::warmup_candles;
    use trading_engine::runtime::timed::Timed;
    use trading_engine::runtime::{
        Engine, EngineParts, HotLoop, LoopTimers, Service, ServiceOptions, ServiceParts, Venue,
    };
    use trading_engine::types::SymbolId;

    let probe = allocation_counter::measure(|| {
        std::hint::black_box(Vec::<u8>::with_capacity(64));
    });
    assert_eq!(probe.count_total, 1, "the counting allocator is active");

    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim_at(dir.path(), Default::default(), 240.0);
    let o = options(&sim, dir.path(), Mode::Paper, 60);
    let cfg = o.config.clone();
    let clock = SystemClock::new();
    let mut rest = sim_rest(&sim);
    let rules = rest.symbols().get(SymbolId(0)).unwrap().rules;
    let warm = warmup_candles(&mut rest, "BTC-USDT", SymbolId(0), 1_440).unwrap();
    let core = Core::try_with_strategies(&cfg, &[rules], scripted(&cfg.strategies)).unwrap();
    let (recorder, collector) = latency_channel(
        cfg.latency.histogram_max_ns,
        cfg.latency.histogram_sigfig,
        4,
    )
    .unwrap();
    let (to_hot_tx, to_hot_rx) = ringbuf::spsc::channel(1024);
    let (from_hot_tx, from_hot_rx) = ringbuf::spsc::channel(8192);
    let (service_reloads, hot_reloads) = trading_engine::runtime::reload_channel();
    let journal = journal::Writer::open(
        dir.path().join("journal"),
        journal::WriterOptions {
            durability: journal::Durability::None,
            ..journal::WriterOptions::default()
        },
    )
    .unwrap();
    let mut engine = Engine::new(EngineParts {
        core,
        venue: Venue::Paper(Box::new(FillModel::new(
            &cfg.simulator,
            1,
            MarketFill::NextTrade,
        ))),
        journal: Some(journal),
        latency: recorder,
        out: from_hot_tx,
        inbox: to_hot_rx,
        reloads: hot_reloads,
        clock,
        prefix: "te-".into(),
        time_scale: 240.0,
        start_ts: clock.now_ns(),
        symbols: 1,
    });
    engine.warm_up(&warm);
    let mut symbols = SymbolTable::new();
    symbols.insert("BTC-USDT", SymbolId(0)).unwrap();
    let mut proto = BingxMarket::new(BingxDecoder::new(symbols));
    proto.subscribe("BTC-USDT@trade");
    let market =
        WsClient::new(&sim.ws_url(), WsConfig::default(), Timed::new(proto, clock)).unwrap();
    let mut hot = HotLoop::new(market, engine, LoopTimers::default());

    // The service thread serves the start-up backfill, as in a real run.
    let done = Arc::new(AtomicBool::new(false));
    let service = Service::new(
        ServiceOptions {
            signals: false,
            stop_file: None,
            halt_file: None,
            config_path: None,
            status_every: None,
            latency_every: None,
            duration: None,
            flatten_on_stop: true,
            dead_man_secs: None,
            dashboard_every: None,
            mode: Mode::Paper,
        },
        ServiceParts {
            from_hot: from_hot_rx,
            to_hot: to_hot_tx,
            reloads: service_reloads,
            latency: collector,
            control: None,
            rest: Some(sim_rest(&sim)),
            symbols: vec!["BTC-USDT".into()],
            config: cfg.clone(),
            stop: None,
            metrics: None,
        },
    )
    .unwrap();
    let done2 = Arc::clone(&done);
    let service = std::thread::spawn(move || {
        service
            .run(&mut || done2.load(Ordering::Acquire), &mut Vec::new())
            .0
    });

    let start = Instant::now();
    while hot.engine().counters().frames < 20 {
        assert!(start.elapsed() < Duration::from_secs(30), "no market data");
        assert!(hot.step().is_none());
    }
    let before = hot.engine().counters();
    let info = allocation_counter::measure(|| {
        while hot.engine().counters().closed_trades == 0
            && start.elapsed() < Duration::from_secs(40)
        {
            let _ = hot.step();
        }
    });
    let after = hot.engine().counters();
    done.store(true, Ordering::Release);
    let report = service.join().unwrap();
    assert_eq!(
        after.closed_trades, 1,
        "the scripted trade completed: {after:?}"
    );
    assert!(
        after.frames - before.frames >= 100,
        "{before:?} -> {after:?}"
    );
    assert!(after.orders > before.orders);
    assert!(
        report.backfills.0 <= 2,
        "at most the start-up gap and the first live minute were backfilled"
    );
    assert_eq!(
        info.count_total,
        0,
        "{} allocations ({} bytes) over {} frames",
        info.count_total,
        info.bytes_total,
        after.frames - before.frames
    );
}

/// Scrapes `/metrics` of a running engine; `None` before the first snapshot (503) and when
/// the connection fails (the server stops with the run, maybe during a scrape).
fn scrape(addr: std::net::SocketAddr) -> Option<prom_text::Exposition> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    let length: usize = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-length: ")?
            .parse()
            .ok()
    })?;
    (head.starts_with("HTTP/1.1 200 ") && body.len() == length).then(|| prom_text::parse(body))
}

#[test]
fn a_run_serves_live_metrics_logs_its_dashboard_and_journals_equity_and_daily_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Default::default());
    let mut o = options(&sim, dir.path(), Mode::Paper, 14);
    o.config.metrics.enabled = true;
    // A free port (the journaled config must stay valid: port 0 is refused by validation).
    o.config.metrics.listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    o.config.dashboard.interval_secs = 1;
    o.control_server = true;
    let bound = Arc::new(std::sync::OnceLock::new());
    o.control_bound = Some(Arc::clone(&bound));
    let handle = run_in_background(o);
    let start = Instant::now();
    let addr = loop {
        if let Some(a) = bound.get() {
            break *a;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server not bound"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut in_position, mut last, mut flowing) = (None, None, false);
    while !handle.is_finished() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "run did not stop"
        );
        if let Some(m) = scrape(addr) {
            flowing |= m.value("te_feed_messages_per_second", &[]).unwrap() > 0.0;
            let filled = m.value("te_orders_filled_total", &[]).unwrap() >= 1.0;
            if m.value("te_open_positions", &[]) == Some(1.0) && filled && in_position.is_none() {
                in_position = Some(m);
            } else {
                last = Some(m);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let report = handle.join().unwrap();
    assert_eq!(
        report.service.trades.len(),
        1,
        "{:?}",
        report.service.trades
    );
    let trade = report.service.trades[0];
    assert!(report.service.metrics_published > 0);
    assert!(flowing, "the feed rate was published");

    // While the position was open (entry filled): its order counted, equity marked to market.
    let m = in_position.expect("a scrape while in position");
    assert!(m.value("te_orders_sent_total", &[]).unwrap() >= 1.0);
    assert!(m.value("te_equity_usdt", &[]).unwrap() > 0.0);
    assert_eq!(m.value("te_halted", &[]), Some(0.0));
    // The last scrape: flat again, the trade's PnL realized, counters within the run's own.
    let m = last.expect("a scrape after the position closed");
    assert_eq!(m.value("te_open_positions", &[]), Some(0.0));
    let pnl = trade.pnl.to_f64();
    assert!((m.value("te_pnl_total_usdt", &[]).unwrap() - pnl).abs() < 1e-6);
    // Today's PnL is the trade's unless the run crossed a UTC midnight after it
    // (the simulator's clock follows the wall clock).
    let today = m.value("te_pnl_today_usdt", &[]).unwrap();
    let j = read_journal(report.journal_dir.as_ref().unwrap());
    let crossed_after_exit = j
        .daily
        .iter()
        .any(|d| d.day > trade.exit_ts.0.div_euclid(NS_PER_DAY));
    assert!(
        (today - pnl).abs() < 1e-6 || (crossed_after_exit && today.abs() < 1e-6),
        "today {today} trade {pnl}"
    );
    let c = report.hot.counters;
    assert!(m.value("te_orders_sent_total", &[]).unwrap() <= c.orders as f64);
    assert_eq!(
        m.named("te_risk_rejects_total").len(),
        trading_engine::risk::RejectReason::ALL.len(),
        "every reason, zeros included"
    );
    assert_eq!(m.value("te_feed_reconnects_total", &[]), Some(0.0));
    // The entry's tick-to-order sample reached the histograms served.
    let t2o = [("stage", "tick_to_order")];
    assert!(m.value("te_stage_latency_seconds_count", &t2o).unwrap() >= 1.0);
    let p99 = [("stage", "tick_to_order"), ("quantile", "0.99")];
    assert!(m.value("te_stage_latency_seconds", &p99).unwrap() > 0.0);

    // The dashboard: logged on its 1 s interval, and a final one of the end state.
    assert!(
        report.service.dashboards >= 5,
        "{}",
        report.service.dashboards
    );
    let dash = report.service.final_dashboard.as_deref().unwrap();
    let wins = u64::from(pnl > 0.0);
    assert!(dash.contains("(paper)"), "{dash}");
    assert!(dash.contains(&format!("| total {pnl:+.2} |")), "{dash}");
    assert!(dash.contains("\npositions none\n"), "{dash}");
    assert!(
        dash.contains(&format!(
            "trades 1 | win rate {:.1}% ({wins} won) | risk ",
            wins as f64 * 100.0
        )),
        "{dash}"
    );
    assert!(dash.contains("0 reconnects"), "{dash}");
    assert!(dash.contains("tick-to-order p50"), "{dash}");

    // Equity once per market minute (the path spans > 15 live minutes), and one
    // day's metrics per UTC day the run touched: one, or two when the run
    // crossed midnight (the simulator's clock follows the wall clock).
    assert_eq!(j.equity.len() as u64, c.equity_samples);
    let minutes: std::collections::BTreeSet<i64> = j
        .equity
        .iter()
        .map(|t| t.0.div_euclid(NS_PER_MIN))
        .collect();
    // How many minutes the wall-clock-bounded run covers depends on the
    // machine's load; every covered minute is sampled, none skipped.
    assert!(minutes.len() >= 10, "{} minutes sampled", minutes.len());
    let (first, last) = (
        *minutes.first().unwrap_or(&0),
        *minutes.last().unwrap_or(&0),
    );
    assert_eq!(
        minutes.len() as i64,
        last - first + 1,
        "a minute without an equity sample: {minutes:?}"
    );
    assert!(
        minutes.len() + 1 >= j.equity.len(),
        "at most one sample per minute plus the final one"
    );
    let days: Vec<i64> =
        (first * NS_PER_MIN / NS_PER_DAY..=last * NS_PER_MIN / NS_PER_DAY).collect();
    let daily_days: Vec<i64> = j.daily.iter().map(|d| d.day).collect();
    assert_eq!(daily_days, days, "{:?}", j.daily);
    assert_eq!(c.daily_records, days.len() as u64);
    let exit_day = trade.exit_ts.0.div_euclid(NS_PER_DAY);
    for d in &j.daily {
        if d.day == exit_day {
            assert_eq!((d.trades, d.wins), (1, u32::from(pnl > 0.0)));
            assert_eq!(d.pnl, trade.pnl);
        } else {
            assert_eq!((d.trades, d.pnl.0), (0, 0), "{d:?}");
        }
    }
    assert!(days.contains(&exit_day), "{days:?} {exit_day}");
    assert!(
        replay_complete(report.journal_dir.as_ref().unwrap()) > 10,
        "system records do not disturb replay"
    );
}
