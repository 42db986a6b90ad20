//! `journal-dump`: prints, filters, summarises, exports or verifies an engine journal.
//! Read-only; safe on a journal a live engine is still writing. See `journal-dump --help`.
#![forbid(unsafe_code)]

use std::io::{self, BufWriter};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Parser as _;
use tools::dump::cli::{run, Args};

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // Usage errors exit 1: status 2 means corruption found.
            let _ = e.print();
            return ExitCode::from(u8::from(e.use_stderr()));
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    // Only a follow waits for a signal to end; every other command keeps the default action
    // (Ctrl-C ends it at once).
    if args.follow {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
                eprintln!("journal-dump: cannot install the signal handler: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut err = io::stderr();
    let code = run(&args, &stop, &mut out, &mut err);
    drop(out);
    ExitCode::from(code)
}
