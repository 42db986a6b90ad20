//! Rendering one log record as a text or JSON line, with an RFC 3339 UTC
//! timestamp.
//!
//! Consumes [`LogLine`]s; produces bytes ending in `\n`. Never reads the
//! clock: the timestamp is taken when the record is created.

use crate::config::LogFormat;
use fern::colors::{Color, ColoredLevelConfig};
use serde::Serialize;
use std::fmt::Write as _;

/// One log record as it travels to the logger thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Severity.
    pub level: log::Level,
    /// Wall-clock time of the `log!` call, ns since the Unix epoch.
    pub unix_ns: i64,
    /// The record's target (module path unless given).
    pub target: String,
    /// The formatted message.
    pub message: String,
}

/// The JSON object of one line.
#[derive(Serialize)]
struct JsonLine<'a> {
    ts: &'a str,
    level: &'a str,
    target: &'a str,
    message: &'a str,
}

/// The level colours used on a terminal.
pub(crate) fn level_colours() -> ColoredLevelConfig {
    ColoredLevelConfig::new()
        .error(Color::Red)
        .warn(Color::Yellow)
        .info(Color::Green)
        .debug(Color::Blue)
        .trace(Color::BrightBlack)
}

/// Appends `line` to `out` in `format`, colouring the level in text format
/// when `colours` is given, and a final `\n`.
pub(crate) fn render(
    line: &LogLine,
    format: LogFormat,
    colours: Option<&ColoredLevelConfig>,
    out: &mut String,
) {
    let ts = format_utc(line.unix_ns);
    match format {
        LogFormat::Text => {
            let _ = write!(out, "{ts} ");
            match colours {
                Some(c) => {
                    let _ = write!(out, "{:<5}", c.color(line.level));
                }
                None => {
                    let _ = write!(out, "{:<5}", line.level);
                }
            }
            let _ = write!(out, " {}: {}", line.target, line.message);
        }
        LogFormat::Json => {
            let json = JsonLine {
                ts: &ts,
                level: line.level.as_str(),
                target: &line.target,
                message: &line.message,
            };
            match serde_json::to_string(&json) {
                Ok(text) => out.push_str(&text),
                // Serializing strings cannot fail; keep the record anyway.
                Err(e) => {
                    let _ = write!(out, "{{\"ts\":\"{ts}\",\"level\":\"ERROR\",\"message\":\"Unserializable log record: {e}\"}}");
                }
            }
        }
    }
    out.push('\n');
}

/// Formats ns since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
pub(crate) fn format_utc(unix_ns: i64) -> String {
    let ms = unix_ns.div_euclid(1_000_000);
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month,
/// day) (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(message: &str) -> LogLine {
        LogLine {
            level: log::Level::Warn,
            unix_ns: 1_700_000_000_123_456_789,
            target: "trading_engine::risk".to_owned(),
            message: message.to_owned(),
        }
    }

    #[test]
    fn utc_timestamps_match_known_dates() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_utc(1_700_000_000_123_456_789),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            format_utc(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(format_utc(-1_000_000), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            format_utc(4_102_444_799_000_000_000),
            "2099-12-31T23:59:59.000Z"
        );
    }

    #[test]
    fn json_lines_parse_back_with_every_field() {
        let tricky = "Quote \" backslash \\ newline\n tab\t unicode é ✓ {braces}";
        let mut out = String::new();
        render(&sample(tricky), LogFormat::Json, None, &mut out);
        render(&sample("Second"), LogFormat::Json, None, &mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.len(),
            2,
            "a message with a newline must stay on one line"
        );
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["message"], tricky);
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["target"], "trading_engine::risk");
        assert_eq!(v["ts"], "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn text_lines_colour_the_level_only_when_asked() {
        let mut plain = String::new();
        render(&sample("Drawdown at 9%"), LogFormat::Text, None, &mut plain);
        assert_eq!(
            plain,
            "2023-11-14T22:13:20.123Z WARN  trading_engine::risk: Drawdown at 9%\n"
        );
        let mut coloured = String::new();
        render(
            &sample("Drawdown at 9%"),
            LogFormat::Text,
            Some(&level_colours()),
            &mut coloured,
        );
        assert!(coloured.contains("\u{1b}["), "{coloured:?}");
        assert!(coloured.ends_with("trading_engine::risk: Drawdown at 9%\n"));
    }
}
