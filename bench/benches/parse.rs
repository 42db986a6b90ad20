//! Feed parsing benchmarks (criterion).
//!
//! * `inflate/<backend>/...`: gzip inflate of the BingX WebSocket samples
//!   (compacted, gzipped as the exchange sends them) with flate2 (zlib-rs),
//!   miniz_oxide and libdeflater, each with a reused decompressor and output
//!   buffer, CRC-32 and length checked. Decides the backend of
//!   `trading_engine::feed::inflate`.
//! * `parse/bingx_trade_frame/...`: one 23-trade BingX frame, inflate
//!   included, into engine `Trade`s: the engine decoder beside the same
//!   inflater followed by serde_json into a typed struct.
//! * `parse/binance_aggtrade/...`: one Binance aggTrade message: the engine
//!   decoder (`engine`: strict scanner fast path; `engine_general_simd_json`:
//!   the simd-json path it falls back to) beside serde_json into a typed
//!   struct, plus simd-json's tape alone and serde_json merely validating
//!   (`IgnoredAny`), to show where the time of a small message goes;
//!   `parse/binance_aggtrade_combined/engine` is the same trade inside the
//!   combined-stream envelope.
//!
//! Run: `cargo bench -p bench --bench parse`.
#![forbid(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark set-up on known-good data; a failure aborts the run"
)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flate2::write::GzEncoder;
use flate2::{Compression, Decompress, FlushDecompress, Status};
use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;
use serde::Deserialize;
use std::hint::black_box;
use std::io::Write;
use trading_engine::feed::inflate::parse_gzip_member;
use trading_engine::feed::{
    parse_price, parse_qty, BinanceDecoder, BingxDecoder, Inflater, MarketEvent, SymbolTable,
};
use trading_engine::types::{Side, SymbolId, TimestampNs, Trade};

const MAX: usize = 1 << 20;

fn gzip(payload: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(payload).unwrap();
    enc.finish().unwrap()
}

/// Every `ws_swap_*.json` sample, compacted (the exchange sends no
/// whitespace) and gzipped; `(name, frame)`.
fn bingx_frames() -> Option<Vec<(String, Vec<u8>)>> {
    let dir = bingx_sim::testdata::shared_file("bingx-samples")?;
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("ws_swap_") && n.contains("_push")
        })
        .collect();
    names.sort();
    for path in names {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let compact = serde_json::to_vec(&v).unwrap();
        out.push((
            path.file_stem().unwrap().to_string_lossy().into_owned(),
            gzip(&compact),
        ));
    }
    Some(out)
}

struct Flate2 {
    d: Decompress,
    out: Vec<u8>,
}

impl Flate2 {
    fn inflate(&mut self, frame: &[u8]) -> usize {
        self.d.reset(true);
        let st = self
            .d
            .decompress(frame, &mut self.out, FlushDecompress::Finish)
            .unwrap();
        assert_eq!(st, Status::StreamEnd);
        self.d.total_out() as usize
    }
}

struct Miniz {
    d: Box<DecompressorOxide>,
    out: Vec<u8>,
}

impl Miniz {
    fn inflate(&mut self, frame: &[u8]) -> usize {
        let m = parse_gzip_member(frame).unwrap();
        self.d.init();
        let (st, _, n) = decompress(
            &mut self.d,
            &frame[m.deflate_start..m.trailer_start],
            &mut self.out,
            0,
            inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        assert_eq!(st, TINFLStatus::Done);
        assert_eq!(n as u32, m.isize);
        assert_eq!(crc32fast::hash(&self.out[..n]), m.crc32);
        n
    }
}

struct Libdeflate {
    d: libdeflater::Decompressor,
    out: Vec<u8>,
}

impl Libdeflate {
    fn inflate(&mut self, frame: &[u8]) -> usize {
        let m = parse_gzip_member(frame).unwrap();
        let n = m.isize as usize;
        self.d.gzip_decompress(frame, &mut self.out[..n]).unwrap()
    }
}

fn bench_inflate(c: &mut Criterion) {
    let Some(frames) = bingx_frames() else { return };
    let mut f2 = Flate2 {
        d: Decompress::new_gzip(15),
        out: vec![0; MAX],
    };
    let mut mz = Miniz {
        d: Box::default(),
        out: vec![0; MAX],
    };
    let mut ld = Libdeflate {
        d: libdeflater::Decompressor::new(),
        out: vec![0; MAX],
    };
    let mut engine = Inflater::new(MAX);
    // Check before timing: every backend yields the same payload.
    for (name, f) in &frames {
        let n = f2.inflate(f);
        assert_eq!(mz.inflate(f), n, "{name}");
        assert_eq!(ld.inflate(f), n, "{name}");
        assert_eq!(engine.inflate(f).unwrap().len(), n, "{name}");
    }
    let total_in: usize = frames.iter().map(|(_, f)| f.len()).sum();
    let trade = &frames
        .iter()
        .find(|(n, _)| n == "ws_swap_trade_push")
        .unwrap()
        .1;
    let mut g = c.benchmark_group("inflate");
    g.throughput(Throughput::Elements(1));
    g.bench_function("flate2_zlib_rs/trade_frame", |b| {
        b.iter(|| f2.inflate(black_box(trade)))
    });
    g.bench_function("miniz_oxide/trade_frame", |b| {
        b.iter(|| mz.inflate(black_box(trade)))
    });
    g.bench_function("libdeflater/trade_frame", |b| {
        b.iter(|| ld.inflate(black_box(trade)))
    });
    g.bench_function("engine/trade_frame", |b| {
        b.iter(|| engine.inflate(black_box(trade)).map(|p| p.len()))
    });
    g.throughput(Throughput::Elements(frames.len() as u64));
    eprintln!(
        "inflate/all_samples: {} frames, {total_in} gzip bytes",
        frames.len()
    );
    g.bench_function("flate2_zlib_rs/all_samples", |b| {
        b.iter(|| {
            frames
                .iter()
                .map(|(_, f)| f2.inflate(black_box(f)))
                .sum::<usize>()
        })
    });
    g.bench_function("miniz_oxide/all_samples", |b| {
        b.iter(|| {
            frames
                .iter()
                .map(|(_, f)| mz.inflate(black_box(f)))
                .sum::<usize>()
        })
    });
    g.bench_function("libdeflater/all_samples", |b| {
        b.iter(|| {
            frames
                .iter()
                .map(|(_, f)| ld.inflate(black_box(f)))
                .sum::<usize>()
        })
    });
    g.finish();
}

fn symbols() -> SymbolTable {
    let mut t = SymbolTable::new();
    t.insert("BTC-USDT", SymbolId(0)).unwrap();
    t.insert("ETH-USDT", SymbolId(1)).unwrap();
    t.insert("BTCUSDT", SymbolId(0)).unwrap();
    t.insert("ETHUSDT", SymbolId(1)).unwrap();
    t
}

#[derive(Deserialize)]
struct SerdeBingxTrade<'a> {
    #[serde(borrow)]
    p: &'a str,
    q: &'a str,
    #[serde(rename = "T")]
    t: i64,
    m: bool,
    s: &'a str,
}

#[derive(Deserialize)]
struct SerdeBingxTrades<'a> {
    #[serde(rename = "dataType")]
    #[allow(dead_code, reason = "parsed for parity with the engine decoder")]
    data_type: &'a str,
    #[serde(borrow)]
    data: Vec<SerdeBingxTrade<'a>>,
}

#[derive(Deserialize)]
struct SerdeAggTrade<'a> {
    #[serde(rename = "e")]
    #[allow(dead_code, reason = "parsed for parity with the engine decoder")]
    event: &'a str,
    s: &'a str,
    a: u64,
    p: &'a str,
    q: &'a str,
    #[serde(rename = "T")]
    t: i64,
    m: bool,
}

fn to_trade(tab: &SymbolTable, id: u64, s: &str, p: &str, q: &str, t: i64, m: bool) -> Trade {
    Trade {
        symbol: tab.lookup(s.as_bytes()).unwrap(),
        trade_id: id,
        price: parse_price(p.as_bytes()).unwrap(),
        qty: parse_qty(q.as_bytes()).unwrap(),
        exchange_ts: TimestampNs::from_ms(t),
        aggressor: if m { Side::Sell } else { Side::Buy },
    }
}

fn bench_parse(c: &mut Criterion) {
    let Some(frames) = bingx_frames() else { return };
    let trade_frame = frames
        .iter()
        .find(|(n, _)| n == "ws_swap_trade_push")
        .unwrap()
        .1
        .clone();
    let tab = symbols();
    let mut g = c.benchmark_group("parse");

    // (a) BingX trade frame including inflate. The decoder's per-symbol
    // timestamp guard would skip a replayed frame after the first pass, so
    // the engine run counts trades emitted or skipped alike (the work is the same).
    let mut dec = BingxDecoder::new(tab.clone());
    let mut inflater = Inflater::new(MAX);
    let mut out: Vec<Trade> = Vec::with_capacity(64);
    let mut n = 0usize;
    assert!(dec.decode(&trade_frame, &mut |_| n += 1).is_ok());
    assert_eq!(n, 23);
    g.throughput(Throughput::Elements(1));
    g.bench_function("bingx_trade_frame/engine_simd_json", |b| {
        b.iter(|| {
            let mut n = 0u32;
            let _ = dec.decode(black_box(&trade_frame), &mut |e| {
                if let MarketEvent::Trade(t) = e {
                    n += black_box(t).qty.to_bits() as u32 & 1;
                }
            });
            n
        })
    });
    g.bench_function("bingx_trade_frame/serde_json", |b| {
        b.iter(|| {
            let payload = inflater.inflate(black_box(&trade_frame)).unwrap();
            let msg: SerdeBingxTrades<'_> = serde_json::from_slice(payload).unwrap();
            out.clear();
            for t in msg.data.iter().rev() {
                out.push(to_trade(&tab, 0, t.s, t.p, t.q, t.t, t.m));
            }
            out.len()
        })
    });

    // (b) Binance aggTrade.
    let mut bn = BinanceDecoder::new(tab.clone());
    let ts = 1_723_161_256_322i64;
    let template = |ts: i64| {
        format!(
            r#"{{"e":"aggTrade","E":{ts},"s":"BTCUSDT","a":5933014,"p":"61800.30","q":"0.006","f":100,"l":105,"T":{ts},"m":true}}"#
        )
    };
    let msg = template(ts);
    let mut one = None;
    assert!(bn.decode(msg.as_bytes(), &mut |e| one = Some(e)).is_ok());
    assert!(matches!(one, Some(MarketEvent::Trade(t)) if t.trade_id == 5_933_014));
    // Replayed, the message is stale after the first pass: the decoder
    // still parses and validates all of it and only skips the sink call.
    // `decode`: the strict scanner fast path (what the engine runs).
    g.bench_function("binance_aggtrade/engine", |b| {
        b.iter(|| {
            let mut id = 0u64;
            let _ = bn.decode(black_box(msg.as_bytes()), &mut |e| {
                if let MarketEvent::Trade(t) = e {
                    id = t.trade_id;
                }
            });
            id
        })
    });
    // `decode_general`: the simd-json path alone (the engine before the
    // fast path, and its fallback for every other shape and every error).
    let mut general = BinanceDecoder::new(tab.clone());
    assert!(general.decode_general(msg.as_bytes(), &mut |_| {}).is_ok());
    g.bench_function("binance_aggtrade/engine_general_simd_json", |b| {
        b.iter(|| {
            let mut id = 0u64;
            let _ = general.decode_general(black_box(msg.as_bytes()), &mut |e| {
                if let MarketEvent::Trade(t) = e {
                    id = t.trade_id;
                }
            });
            id
        })
    });
    // The same trade inside the combined-stream envelope.
    let combined = format!(r#"{{"stream":"btcusdt@aggTrade","data":{msg}}}"#);
    let mut bn_combined = BinanceDecoder::new(tab.clone());
    let mut one = None;
    assert!(bn_combined
        .decode(combined.as_bytes(), &mut |e| one = Some(e))
        .is_ok());
    assert!(matches!(one, Some(MarketEvent::Trade(t)) if t.trade_id == 5_933_014));
    g.bench_function("binance_aggtrade_combined/engine", |b| {
        b.iter(|| {
            let mut id = 0u64;
            let _ = bn_combined.decode(black_box(combined.as_bytes()), &mut |e| {
                if let MarketEvent::Trade(t) = e {
                    id = t.trade_id;
                }
            });
            id
        })
    });
    g.bench_function("binance_aggtrade/serde_json", |b| {
        b.iter(|| {
            let m: SerdeAggTrade<'_> = serde_json::from_slice(black_box(msg.as_bytes())).unwrap();
            to_trade(&tab, m.a, m.s, m.p, m.q, m.t, m.m)
        })
    });
    // Where the engine's aggTrade time goes: simd-json stage 1+2 alone
    // (reused buffers and tape), beside serde_json merely validating.
    let mut buffers = simd_json::Buffers::new(1024);
    let mut tape = simd_json::tape::Tape::null().reset();
    let mut input = msg.as_bytes().to_vec();
    g.bench_function("binance_aggtrade/simd_json_tape_only", |b| {
        b.iter(|| {
            input.copy_from_slice(black_box(msg.as_bytes()));
            let mut t = std::mem::replace(&mut tape, simd_json::tape::Tape(Vec::new())).reset();
            simd_json::fill_tape(&mut input, &mut buffers, &mut t).unwrap();
            let n = t.0.len();
            tape = t.reset();
            n
        })
    });
    g.bench_function("binance_aggtrade/serde_json_ignored_any", |b| {
        b.iter(|| {
            serde_json::from_slice::<serde::de::IgnoredAny>(black_box(msg.as_bytes())).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_inflate, bench_parse);
criterion_main!(benches);
