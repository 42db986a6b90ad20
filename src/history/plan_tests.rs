use super::*;

fn d(text: &str) -> Date {
    Date::parse(text).unwrap()
}

fn archive(source: Source, kind: Kind, period: Period) -> Archive {
    Archive {
        source,
        kind,
        symbol: "BTCUSDT".into(),
        period,
    }
}

const JAN: Period = Period::Month {
    year: 2024,
    month: 1,
};

#[test]
fn urls_of_every_source_kind_and_cadence_are_exact() {
    let day = Period::Day(d("2024-01-15"));
    let cases = [
        (
            Source::BinanceFutures,
            Kind::Klines,
            JAN,
            "/data/futures/um/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip",
        ),
        (
            Source::BinanceFutures,
            Kind::Klines,
            day,
            "/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-15.zip",
        ),
        (
            Source::BinanceFutures,
            Kind::AggTrades,
            JAN,
            "/data/futures/um/monthly/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01.zip",
        ),
        (
            Source::BinanceFutures,
            Kind::AggTrades,
            day,
            "/data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-15.zip",
        ),
        (
            Source::BinanceSpot,
            Kind::Klines,
            JAN,
            "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip",
        ),
        (
            Source::BinanceSpot,
            Kind::Klines,
            day,
            "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-15.zip",
        ),
        (
            Source::BinanceSpot,
            Kind::AggTrades,
            JAN,
            "/data/spot/monthly/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01.zip",
        ),
        (
            Source::BinanceSpot,
            Kind::AggTrades,
            day,
            "/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-15.zip",
        ),
    ];
    for (source, kind, period, expected) in cases {
        let a = archive(source, kind, period);
        assert_eq!(a.url_path(), expected, "{source} {kind} {period}");
        assert_eq!(a.checksum_path(), format!("{expected}.CHECKSUM"));
        assert!(expected.ends_with(&a.file_name()));
    }
    // The documented full URL (docs/exchange-protocols.md §8).
    let a = archive(Source::BinanceFutures, Kind::Klines, JAN);
    assert_eq!(
        format!("{BINANCE_DATA_BASE_URL}{}", a.url_path()),
        "https://data.binance.vision/data/futures/um/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip"
    );
}

fn show(periods: &[Period]) -> Vec<String> {
    periods.iter().map(ToString::to_string).collect()
}

#[test]
fn partial_months_at_both_ends_become_daily_archives() {
    let p = split_range(d("2024-01-30"), d("2024-04-02")).unwrap();
    assert_eq!(
        show(&p),
        [
            "2024-01-30",
            "2024-01-31",
            "2024-02",
            "2024-03",
            "2024-04-01",
            "2024-04-02"
        ]
    );
}

#[test]
fn whole_months_are_monthly_archives_including_leap_february() {
    let p = split_range(d("2024-02-01"), d("2024-02-29")).unwrap();
    assert_eq!(show(&p), ["2024-02"]);
    let p = split_range(d("2023-12-01"), d("2024-01-31")).unwrap();
    assert_eq!(show(&p), ["2023-12", "2024-01"]);
    // One day short of a whole month stays daily.
    let p = split_range(d("2023-02-01"), d("2023-02-27")).unwrap();
    assert_eq!(p.len(), 27);
    assert!(p.iter().all(|x| matches!(x, Period::Day(_))));
}

#[test]
fn single_day_and_reversed_ranges() {
    let p = split_range(d("2024-01-15"), d("2024-01-15")).unwrap();
    assert_eq!(show(&p), ["2024-01-15"]);
    let err = split_range(d("2024-01-16"), d("2024-01-15")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--from 2024-01-16 is after --to 2024-01-15"
    );
}

#[test]
fn a_month_expands_to_its_days() {
    let days = Period::Month {
        year: 2023,
        month: 2,
    }
    .days();
    assert_eq!(days.len(), 28);
    assert_eq!(days[27].to_string(), "2023-02-28");
}

mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prop_split_covers_every_day_once_in_order(start in 0i64..3000, len in 0i64..500) {
            let mut from = d("2019-01-01");
            for _ in 0..start { from = from.next(); }
            let mut to = from;
            for _ in 0..len { to = to.next(); }
            let periods = split_range(from, to).unwrap();
            let days: Vec<Date> = periods.iter().flat_map(|p| p.days()).collect();
            prop_assert_eq!(days.len() as i64, len + 1);
            prop_assert_eq!(days[0], from);
            prop_assert_eq!(*days.last().unwrap(), to);
            for w in days.windows(2) {
                prop_assert_eq!(w[0].next(), w[1]);
            }
            // Monthly archives only for whole months inside the range.
            for p in &periods {
                if let Period::Month { .. } = p {
                    let ds = p.days();
                    prop_assert!(ds[0] >= from && *ds.last().unwrap() <= to);
                }
            }
        }
    }
}
