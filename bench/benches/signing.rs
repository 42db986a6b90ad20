//! HMAC-SHA256 signing of an order's parameter string (keyed once, cloned
//! per request), and building + signing the full sorted query of a LIMIT order.
#![forbid(unsafe_code)]

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use trading_engine::io::query::Query;
use trading_engine::io::signing::Signer;
use trading_engine::io::wire::{price_from_text, qty_from_text};

const SECRET: &[u8] = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const MESSAGE: &[u8] = b"clientOrderID=mm-000001&positionSide=LONG&price=65000.5&quantity=0.0010&recvWindow=5000&side=BUY&symbol=BTC-USDT&timeInForce=GTC&timestamp=1700000000123&type=LIMIT";

fn signing(c: &mut Criterion) {
    let Ok(signer) = Signer::try_new(SECRET) else {
        return;
    };
    // Check before timing: protocol vector V3.
    assert_eq!(
        signer.sign(MESSAGE).as_str(),
        "73a3478ff3fff3572af49101b03f21c14c2019e05ff74227a9f4d522967b7115"
    );
    c.bench_function("hmac_sign_limit_order", |b| {
        b.iter(|| black_box(signer.sign(black_box(MESSAGE))));
    });

    let (Some(price), Some(qty)) = (price_from_text("65000.5"), qty_from_text("0.001")) else {
        return;
    };
    let mut q = Query::new();
    c.bench_function("build_sort_sign_limit_order_query", |b| {
        b.iter(|| {
            q.clear();
            let _ = q.push_str("symbol", "BTC-USDT");
            let _ = q.push_str("side", "BUY");
            let _ = q.push_str("positionSide", "LONG");
            let _ = q.push_str("type", "LIMIT");
            let _ = q.push_qty("quantity", black_box(qty), 4);
            let _ = q.push_price("price", black_box(price), 1);
            let _ = q.push_str("timeInForce", "GTC");
            let _ = q.push_str("clientOrderID", "mm-000001");
            q.finish(Some(1_700_000_000_123), Some(5000), Some(&signer));
            black_box(q.as_bytes().len())
        });
    });
}

criterion_group!(benches, signing);
criterion_main!(benches);
