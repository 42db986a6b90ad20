//! The live runtime's exchange-facing extras against the BingX simulator on
//! 127.0.0.1: the cancel-all-after dead-man switch the service thread keeps
//! armed, and the Binance market-data feed (`market.feed = "binance"`)
//! served by a local WebSocket server. Each run stops by itself and is
//! bounded in time.

mod util;

use std::time::{Duration, Instant};

use trading_engine::config::Mode;
use util::live::{options, path_rows, run_in_background, scripted, start_sim, write_rows, SPEED};

#[test]
fn live_mode_arms_the_dead_man_switch_refreshes_it_periodically_and_disarms_it_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(
        write_rows(dir.path(), &path_rows()),
        Default::default(),
        SPEED,
    );
    let mut o = options(&sim, dir.path(), Mode::Live, 9, scripted);
    // The shortest time-out BingX accepts: refreshed every 10 / 3 = 3 s.
    o.config.exchange.cancel_all_after_secs = 10;
    let handle = run_in_background(o);
    let mut deadlines = Vec::new();
    let start = Instant::now();
    while !handle.is_finished() {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "run did not stop"
        );
        let d = sim.dead_man();
        if let Some(at) = d.deadline_ms {
            if deadlines.last() != Some(&at) {
                deadlines.push(at);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let report = handle.join().unwrap();
    let seen = sim.dead_man();
    assert!(
        seen.activations >= 3,
        "armed at start and refreshed at least twice in 9 s: {seen:?}"
    );
    assert_eq!(seen.activations, report.service.dead_man_refreshes);
    assert_eq!(seen.last_timeout, 10);
    assert_eq!(seen.closes, 1, "disarmed once, at shutdown: {seen:?}");
    assert_eq!(seen.deadline_ms, None, "nothing left armed after the run");
    assert_eq!(seen.fired, 0, "the refreshes kept the timer from firing");
    assert!(deadlines.len() >= 2, "the deadline moved: {deadlines:?}");
    assert!(
        deadlines.windows(2).all(|w| w[1] > w[0]),
        "every refresh pushes the deadline later: {deadlines:?}"
    );
}

#[test]
fn a_dead_man_time_out_of_zero_never_touches_the_cancel_all_after_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(
        write_rows(dir.path(), &path_rows()),
        Default::default(),
        SPEED,
    );
    let mut o = options(&sim, dir.path(), Mode::Live, 4, scripted);
    o.config.exchange.cancel_all_after_secs = 0;
    let report = run_in_background(o).join().unwrap();
    assert!(report.hot.counters.trades > 0, "the run saw the market");
    assert_eq!(report.service.dead_man_refreshes, 0);
    assert_eq!(
        sim.dead_man(),
        trading_engine::bingx_sim::DeadManState::default()
    );
}
