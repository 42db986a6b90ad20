//! The `trading-engine` command line.
#![forbid(unsafe_code)]

fn main() {
    println!("trading-engine {}", env!("CARGO_PKG_VERSION"));
}
