//! `trading_engine::history` with `--source bingx` against the bingx-sim
//! loopback exchange: yesterday's 1m klines become one 12-column CSV that
//! the engine's datafile reader reads back, bar for bar as the REST client
//! sees them.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "integration tests")]

use bingx_sim::{now_ms, SimConfig, Simulator, Speed};
use trading_engine::datafile::{DataFile, Record};
use trading_engine::history::date::DAY_MS;
use trading_engine::history::{self, Date, DownloadRequest, Kind, Outcome, Source};
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::io::rest_market::KlineInterval;
use trading_engine::types::SymbolId;

/// The last day that has fully ended (UTC).
fn yesterday() -> Date {
    let mut day = Date::parse("2024-01-01").unwrap();
    while day.next().start_ms() + DAY_MS <= now_ms() {
        day = day.next();
    }
    day
}

#[test]
fn bingx_klines_from_the_simulator_are_written_and_read_back() {
    let sim = Simulator::start(SimConfig {
        speed: Speed::Manual,
        // Two days and a bit of history: yesterday is complete.
        warmup_minutes: 2 * 1440 + 60,
        ..SimConfig::default()
    })
    .unwrap();
    let day = yesterday();
    let tmp = tempfile::tempdir().unwrap();
    let request = DownloadRequest {
        source: Source::Bingx,
        kind: Kind::Klines,
        symbol: "BTC-USDT".into(),
        from: day,
        to: day,
        dir: tmp.path().to_path_buf(),
        base_url: Some(sim.rest_base()),
        ca_file: None,
        progress: false,
    };
    let summary = history::download(&request).unwrap();
    assert_eq!(summary.files.len(), 1);
    assert!(
        matches!(summary.files[0].outcome, Outcome::Downloaded { .. }),
        "{summary:?}"
    );
    let path = &summary.files[0].path;
    assert!(path.ends_with(format!("BTC-USDT-1m-{day}.csv")));

    let mut client = RestClient::try_new(RestConfig::new(&sim.rest_base(), "", "")).unwrap();
    let start = day.start_ms();
    let expected = client
        .klines_range("BTC-USDT", KlineInterval::M1, start, start + DAY_MS - 1)
        .unwrap();
    assert!(!expected.is_empty());
    let mut file = DataFile::open(path, SymbolId(0)).unwrap();
    let mut n = 0;
    while let Some(rec) = file.next_record().unwrap() {
        let Record::Candle(c) = rec else {
            panic!("not a candle: {rec:?}");
        };
        let k = &expected[n];
        assert_eq!(c.open_time.as_ms(), k.open_time_ms);
        assert_eq!(
            (c.open, c.high, c.low, c.close, c.volume),
            (k.open, k.high, k.low, k.close, k.volume),
            "bar {n}"
        );
        assert!(c.open_time.as_ms() >= start && c.open_time.as_ms() < start + DAY_MS);
        n += 1;
    }
    assert_eq!(n, expected.len());

    // Resume: the file is kept.
    let summary = history::download(&request).unwrap();
    assert_eq!(summary.already_present(), 1);
    sim.shutdown();
}
