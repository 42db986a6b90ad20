//! Order path latency: from an [`OrderRequest`] (the intent the hot thread
//! enqueues) to the signed HTTP request bytes written to the socket, over a
//! kept-alive loopback connection. Also reports the full loopback round
//! trip (write → server reply → ack parsed) for context.
//!
//! Usage: `cargo run --release -p bench --bin order_path -- [--orders N]`
//! Prints p50/p90/p99/p99.9/max in microseconds for both measurements.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Instant;

use clap::Parser;
use hdrhistogram::Histogram;
use trading_engine::io::order::{
    ClientOrderId, OrderKind, OrderRequest, PositionSide, TimeInForce,
};
use trading_engine::io::rest::{RestClient, RestConfig};
use trading_engine::io::symbols::SymbolTable;
use trading_engine::io::wire::{price_from_text, qty_from_text};
use trading_engine::types::{DecimalStep, InstrumentRules, Price, Qty, Side, SymbolId};

#[derive(Parser, Debug)]
#[command(about = "Order intent → signed request on the socket, loopback latency")]
struct Args {
    /// Orders to time (after 1,000 warm-up orders).
    #[arg(long, default_value_t = 20_000)]
    orders: u64,
    /// Let the loopback server sleep in a blocking read instead of
    /// busy-polling. Then every client write also pays the kernel waking
    /// the server thread (~10 µs on this VM), which a real exchange link
    /// does not cost the sender.
    #[arg(long)]
    blocking_server: bool,
}

const REPLY_BODY: &str = r#"{"code":0,"msg":"","data":{"order":{"symbol":"BTC-USDT","orderId":1735950529123455000,"side":"BUY","positionSide":"LONG","type":"LIMIT","clientOrderId":"","workingType":"MARK_PRICE"}}}"#;

/// Accepts one connection and answers every request head with the canned ack.
fn serve(listener: TcpListener, spin: bool) -> std::io::Result<()> {
    let (mut sock, _) = listener.accept()?;
    sock.set_nodelay(true)?;
    sock.set_nonblocking(spin)?;
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{REPLY_BODY}",
        REPLY_BODY.len()
    );
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    loop {
        let n = match sock.read(&mut buf[filled..]) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::hint::spin_loop();
                continue;
            }
            Err(e) => return Err(e),
        };
        filled += n;
        while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            write_all_spin(&mut sock, reply.as_bytes())?;
            buf.copy_within(end + 4..filled, 0);
            filled -= end + 4;
        }
    }
}

/// `write_all` that also works on a non-blocking socket.
fn write_all_spin(sock: &mut std::net::TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        match sock.write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::hint::spin_loop(),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn print(name: &str, h: &Histogram<u64>) {
    let us = |v: u64| v as f64 / 1000.0;
    println!(
        "{name:<34} n={:>6}  p50={:>7.2}µs  p90={:>7.2}µs  p99={:>7.2}µs  p99.9={:>7.2}µs  max={:>8.2}µs",
        h.len(),
        us(h.value_at_quantile(0.50)),
        us(h.value_at_quantile(0.90)),
        us(h.value_at_quantile(0.99)),
        us(h.value_at_quantile(0.999)),
        us(h.max()),
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    let spin = !args.blocking_server;
    let server = std::thread::spawn(move || serve(listener, spin));

    let cfg = RestConfig::new(
        &url,
        "bench-api-key",
        "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
    );
    let mut client = RestClient::try_new(cfg)?;
    let mut table = SymbolTable::new();
    table.push(
        "BTC-USDT",
        InstrumentRules {
            tick: DecimalStep::from_precision(1),
            step: DecimalStep::from_precision(4),
            min_qty: Qty::from_decimal(1, 4).ok_or("qty")?,
            min_notional: Price::from_decimal(2, 0).ok_or("price")?,
        },
    )?;
    client.set_symbols(table);
    client.connect()?;

    let base = OrderRequest {
        symbol: SymbolId(0),
        side: Side::Buy,
        position_side: PositionSide::Long,
        kind: OrderKind::Limit,
        qty: qty_from_text("0.0010").ok_or("qty")?,
        price: price_from_text("65000.5").ok_or("price")?,
        stop_price: Price::ZERO,
        reduce_only: false,
        time_in_force: Some(TimeInForce::Gtc),
        client_order_id: ClientOrderId::EMPTY,
    };
    let mut write_hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)?;
    let mut rtt_hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)?;
    let warmup = 1_000;
    for i in 0..warmup + args.orders {
        let req = OrderRequest {
            client_order_id: ClientOrderId::from_sequence("bench-", i).ok_or("id")?,
            price: Price(base.price.0 + trading_engine::types::Fx::from_num(i % 100)),
            ..base
        };
        let t0 = Instant::now();
        client.begin_place_order(&req)?;
        let t1 = Instant::now();
        let ack = client.finish_place_order(&req)?;
        let t2 = Instant::now();
        std::hint::black_box(ack);
        if i >= warmup {
            write_hist.record(u64::try_from((t1 - t0).as_nanos())?)?;
            rtt_hist.record(u64::try_from((t2 - t0).as_nanos())?)?;
        }
    }
    println!(
        "order_path: {} orders over a kept-alive loopback HTTP/1.1 connection",
        args.orders
    );
    print("intent -> signed bytes on socket", &write_hist);
    print("round trip incl. ack parse", &rtt_hist);
    println!("connections opened: {}", client.http_stats().connects);
    drop(client);
    server.join().map_err(|_| "server thread panicked")??;
    Ok(())
}
