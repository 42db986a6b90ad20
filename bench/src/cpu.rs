//! CPU time of the process or the calling thread, for harnesses that quote
//! a rate per CPU-second (wall-clock rates mean little on a loaded VM).
//!
//! Consumes Linux `/proc` files; produces seconds, or `None` off Linux.
//! Never used inside a timed section.

/// Returns the process's user + system CPU time in seconds
/// (`/proc/self/stat`, 10 ms ticks), or `None` when unavailable.
#[must_use]
pub fn process_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime and
    // stime are fields 14 and 15 of the whole line, 12 and 13 after ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on Linux.
    Some((utime + stime) / 100.0)
}

/// Returns the calling thread's on-CPU time in seconds
/// (`/proc/thread-self/schedstat`, nanoseconds), or `None` when unavailable.
#[must_use]
pub fn thread_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work_on_linux() {
        let (Some(p0), Some(t0)) = (process_seconds(), thread_seconds()) else {
            return; // not Linux
        };
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(60) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        assert!(thread_seconds().unwrap() > t0);
        assert!(process_seconds().unwrap() >= p0);
    }
}
