//! The record listing: one line per record as text (`render_text`), JSON lines
//! (`render_json`) or CSV.
//!
//! Consumes journal records and a [`Filter`]; produces lines on a writer. CSV with exactly one
//! `--type` has that type's field names as columns; otherwise the columns are
//! `seq,ts_ns,time,type,fields` with `fields` as `name=value;...`. A record whose payload
//! cannot be decoded becomes an `unknown`/error line with its sequence number (in single-type
//! CSV, where it would break the columns, that line goes to the error writer instead); the
//! listing never stops there.

use std::io::Write;
use std::path::Path;

use trading_engine::journal_schema::{
    format_ts, push_value_text, render_json, render_text, type_name, Field, JournalRecord,
};
use trading_engine::types::TimestampNs;

use super::{scan, DumpError, Filter, Follow, Outcome, Step};

/// Output format of the listing (and of `--stats` / `--latency`, which know text and JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
    /// Comma-separated values with a header line.
    Csv,
}

/// Appends `s` as one CSV field, quoted when it holds a comma, quote or line break.
pub fn push_csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        for c in s.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Returns the record's fields as `name=value;name=value`.
#[must_use]
pub fn fields_text(rec: &JournalRecord<'_>) -> String {
    let mut fields: Vec<Field<'_>> = Vec::with_capacity(24);
    rec.fields(&mut fields);
    let mut s = String::with_capacity(128);
    for (i, fl) in fields.iter().enumerate() {
        if i > 0 {
            s.push(';');
        }
        s.push_str(fl.name);
        s.push('=');
        push_value_text(&mut s, &fl.value);
    }
    s
}

/// Returns the field names of `rec`, in order.
fn field_names(rec: &JournalRecord<'_>) -> Vec<&'static str> {
    let mut fields: Vec<Field<'_>> = Vec::with_capacity(24);
    rec.fields(&mut fields);
    fields.iter().map(|f| f.name).collect()
}

/// Writes the listing of the journal in `dir` to `out`; decode problems of single-type CSV and
/// a corrupt tail go to `err`.
///
/// # Errors
/// [`DumpError`] when the journal cannot be read or the output cannot be written.
pub fn list(
    dir: &Path,
    filter: &Filter,
    format: Format,
    follow: Option<Follow<'_>>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Outcome, DumpError> {
    let single = match (format, filter.tags.as_slice()) {
        (Format::Csv, [tag]) => Some(*tag),
        _ => None,
    };
    if format == Format::Csv && single.is_none() {
        writeln!(out, "seq,ts_ns,time,type,fields")?;
    }
    let mut header_written = false;
    let mut line = String::with_capacity(512);
    let outcome = scan(dir, follow, err, |step, err| {
        let r = match step {
            Step::Record(r) => r,
            Step::Idle => {
                out.flush()?;
                return Ok(());
            }
        };
        if !filter.matches(r.type_tag, r.ts_ns) {
            return Ok(());
        }
        line.clear();
        match (JournalRecord::decode(r.type_tag, r.payload), format) {
            (Ok(rec), Format::Text) => {
                render_text(&mut line, r.seq, r.type_tag, r.ts_ns, &rec);
            }
            (Ok(rec), Format::Json) => {
                render_json(&mut line, r.seq, r.type_tag, r.ts_ns, &rec);
            }
            (Ok(rec), Format::Csv) if single.is_some() => {
                if !header_written {
                    writeln!(out, "{}", field_names(&rec).join(","))?;
                    header_written = true;
                }
                let mut fields: Vec<Field<'_>> = Vec::with_capacity(24);
                rec.fields(&mut fields);
                let mut value = String::with_capacity(32);
                for (i, fl) in fields.iter().enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    value.clear();
                    push_value_text(&mut value, &fl.value);
                    push_csv_field(&mut line, &value);
                }
            }
            (Ok(rec), Format::Csv) => {
                push_csv_prefix(&mut line, r.seq, r.type_tag, r.ts_ns);
                push_csv_field(&mut line, &fields_text(&rec));
            }
            (Err(e), Format::Text) => {
                line = format!(
                    "{:>8} {} {:<14} tag={} error={e}",
                    r.seq,
                    format_ts(TimestampNs(r.ts_ns)),
                    "unknown",
                    r.type_tag
                );
            }
            (Err(e), Format::Json) => {
                line = serde_json::json!({
                    "seq": r.seq,
                    "ts_ns": r.ts_ns,
                    "time": format_ts(TimestampNs(r.ts_ns)),
                    "type": "unknown",
                    "tag": r.type_tag,
                    "error": e.to_string(),
                })
                .to_string();
            }
            (Err(e), Format::Csv) if single.is_some() => {
                writeln!(
                    err,
                    "journal-dump: record {} (tag {}) cannot be decoded: {e}",
                    r.seq, r.type_tag
                )?;
                return Ok(());
            }
            (Err(e), Format::Csv) => {
                line.push_str(&format!("{},{},", r.seq, r.ts_ns));
                line.push_str(&format_ts(TimestampNs(r.ts_ns)));
                line.push_str(",unknown,");
                push_csv_field(&mut line, &format!("tag={};error={e}", r.type_tag));
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
        Ok(())
    })?;
    out.flush()?;
    Ok(outcome)
}

fn push_csv_prefix(line: &mut String, seq: u64, tag: u16, ts_ns: i64) {
    line.push_str(&format!("{seq},{ts_ns},"));
    line.push_str(&format_ts(TimestampNs(ts_ns)));
    line.push(',');
    line.push_str(type_name(tag).unwrap_or("unknown"));
    line.push(',');
}
