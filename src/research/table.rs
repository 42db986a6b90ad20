//! `results.csv` rows: `id,<swept keys in grid order>,<every combined STATS
//! field of report.json>`, and reading them back (resume, merge).
//!
//! Consumes a parameter set and its [`Stats`]; produces one CSV line whose
//! text depends only on them (numbers as `report.json` prints them, an
//! undefined ratio as an empty field), so the file is byte-identical
//! whatever the thread count or sharding. Never relies on map order: the
//! STATS columns follow the struct's serialization order.

use std::fmt::{self, Write as _};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::grid::{Param, ParamValue};
use super::objective::{Objective, Rank};
use crate::backtest::stats::Stats;

/// The fields of a serialized struct in declaration order.
#[derive(Debug)]
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Returns the STATS fields of `s` in `report.json` order.
fn stats_fields(s: &Stats) -> Vec<(String, Value)> {
    serde_json::to_string(s)
        .ok()
        .and_then(|t| serde_json::from_str::<Ordered>(&t).ok())
        .map_or_else(Vec::new, |o| o.0)
}

/// Returns the header line (no newline) for the swept `params`.
#[must_use]
pub fn header(params: &[Param]) -> String {
    let mut s = String::from("id");
    for p in params {
        s.push(',');
        s.push_str(&p.key);
    }
    for (name, _) in stats_fields(&Stats::default()) {
        s.push(',');
        s.push_str(&name);
    }
    s
}

fn push_field(out: &mut String, v: &Value) {
    match v {
        Value::Null => {}
        Value::String(t) => push_text(out, t),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        other => push_text(out, &other.to_string()),
    }
}

fn push_text(out: &mut String, t: &str) {
    if t.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&t.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(t);
    }
}

/// Returns the row (with its newline) of set `set` with id `id`.
#[must_use]
pub fn row(id: &str, set: &[ParamValue], stats: &Stats) -> String {
    let mut s = String::with_capacity(512);
    s.push_str(id);
    for v in set {
        let _ = write!(s, ",{v}");
    }
    for (_, v) in stats_fields(stats) {
        s.push(',');
        push_field(&mut s, &v);
    }
    s.push('\n');
    s
}

/// Splits one CSV line (no newline) into fields, honouring quotes.
#[must_use]
pub fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Reads the rank of rows of one header: where the id, trades and the
/// objective's inputs are.
#[derive(Debug, Clone)]
pub struct RowRanker {
    columns: Vec<String>,
    objective: Objective,
}

impl RowRanker {
    /// Returns a ranker for rows under `header`.
    #[must_use]
    pub fn new(header: &str, objective: Objective) -> Self {
        Self {
            columns: split(header),
            objective,
        }
    }

    /// Returns the rank of `line` (no newline), `None` when it has the
    /// wrong number of fields.
    #[must_use]
    pub fn rank(&self, line: &str) -> Option<Rank> {
        let fields = split(line);
        if fields.len() != self.columns.len() {
            return None;
        }
        let get = |name: &str| -> Option<f64> {
            let k = self.columns.iter().position(|c| c == name)?;
            fields.get(k)?.parse::<f64>().ok()
        };
        let score = match self.objective {
            Objective::ReturnOverDrawdown => match (get("return_pct"), get("max_drawdown_pct")) {
                (Some(r), Some(d)) if d > 0.0 => Some(r / d),
                _ => None,
            },
            o => get(o.as_str()),
        };
        Some(Rank {
            id: fields.first()?.clone(),
            trades: get("trades").map_or(0, |t| t as u64),
            score: score.filter(|v| v.is_finite()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists_id_params_then_every_stats_field_in_report_order() {
        let params = [Param {
            key: "risk.cooldown_minutes".into(),
            values: vec![ParamValue::Int(5)],
        }];
        let h = header(&params);
        assert!(
            h.starts_with("id,risk.cooldown_minutes,trades,wins,losses,"),
            "{h}"
        );
        assert!(h.contains(",sharpe,sortino,calmar,"), "{h}");
    }

    #[test]
    fn a_row_round_trips_through_the_ranker() {
        let params = [Param {
            key: "sizing.base_risk_pct".into(),
            values: vec![ParamValue::Float(0.5)],
        }];
        let stats = Stats {
            trades: 7,
            sharpe: Some(1.25),
            return_pct: 3.0,
            max_drawdown_pct: 1.5,
            ..Stats::default()
        };
        let line = row("00ff", &[ParamValue::Float(0.5)], &stats);
        assert!(line.starts_with("00ff,0.5,7,"), "{line}");
        let r = RowRanker::new(&header(&params), Objective::Sharpe)
            .rank(line.trim_end())
            .unwrap();
        assert_eq!((r.id.as_str(), r.trades, r.score), ("00ff", 7, Some(1.25)));
        let r = RowRanker::new(&header(&params), Objective::ReturnOverDrawdown)
            .rank(line.trim_end())
            .unwrap();
        assert_eq!(r.score, Some(2.0));
        let r = RowRanker::new(&header(&params), Objective::Sortino)
            .rank(line.trim_end())
            .unwrap();
        assert_eq!(r.score, None, "an undefined ratio is an empty field");
    }

    #[test]
    fn quoted_fields_split_back() {
        assert_eq!(split("a,\"b,\"\"c\",d"), ["a", "b,\"c", "d"]);
    }
}
