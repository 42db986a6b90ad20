//! `GRID.toml`: the parameter space of a sweep, validated as strictly as
//! `config check`, and the parameter sets drawn from it.
//!
//! Consumes the grid text and the base [`Config`]; produces a [`Grid`]: the
//! `[sweep]` settings, the swept keys in file order with their values, and
//! the parameter sets (by index into the full grid, never materialised as a
//! whole: set `i` is decoded from `i` in mixed radix, so memory does not
//! grow with the size of the space). Each set is applied to the base config
//! through the config's own parsing and validation, so a bad value or a
//! broken relation is rejected naming its key.
//!
//! Never depends on hash-map iteration order: keys keep the order of the
//! file, and a set's id is an FNV-1a hash of its canonical text (keys
//! sorted, values in their shortest round-trip form).

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Value;

use super::objective::Objective;
use crate::config::{Config, ConfigError};

/// Config sections a backtest reads: the only ones a grid may sweep.
pub const SWEEPABLE_SECTIONS: [&str; 5] =
    ["strategies", "management", "sizing", "risk", "simulator"];

/// Largest number of values one key may take.
pub const MAX_VALUES_PER_KEY: usize = 100_000;

/// Largest number of parameter sets of a sweep.
pub const MAX_SETS: u64 = 10_000_000;

/// How the parameter sets are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every combination of the values.
    Grid,
    /// `samples` distinct combinations drawn with `seed`.
    Random,
}

/// One swept value, typed like the config key it sets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue {
    /// An integer key (periods, minutes, counts).
    Int(i64),
    /// A decimal key (multiples, percentages).
    Float(f64),
    /// A switch (`enabled`, `flatten_on_halt`).
    Bool(bool),
}

impl ParamValue {
    fn to_toml(self) -> Value {
        match self {
            Self::Int(v) => Value::Integer(v),
            Self::Float(v) => Value::Float(v),
            Self::Bool(v) => Value::Boolean(v),
        }
    }
}

impl fmt::Display for ParamValue {
    /// Canonical text: integers in decimal, decimals in their shortest
    /// round-trip form (always with a `.` or exponent), booleans as words.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{v:?}"),
            Self::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// One swept key and its values, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Full dotted config key path, e.g. `strategies.mtf_long.stop_atr_mult`.
    pub key: String,
    /// The values, distinct, at least one.
    pub values: Vec<ParamValue>,
}

/// Why a grid was rejected.
#[derive(Debug)]
pub enum GridError {
    /// The text is not TOML or a table has the wrong shape.
    Syntax(String),
    /// A key of `[sweep]` or `[params]` is wrong; `key` names it.
    Key {
        /// The offending key, e.g. `sweep.objective` or
        /// `params.risk.cooldown_minutes`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A parameter set makes an invalid config (value out of range, broken
    /// relation); the config error names the key.
    Set {
        /// The set, `key=value` joined by `, `.
        assignment: String,
        /// The config's verdict.
        source: ConfigError,
    },
}

impl fmt::Display for GridError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(m) => write!(f, "grid is not valid: {m}"),
            Self::Key { key, message } => write!(f, "grid key {key}: {message}"),
            Self::Set { assignment, source } => {
                write!(
                    f,
                    "grid parameter set {{{assignment}}} is rejected: {source}"
                )
            }
        }
    }
}

impl std::error::Error for GridError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Set { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn key_err(key: impl Into<String>, message: impl Into<String>) -> GridError {
    GridError::Key {
        key: key.into(),
        message: message.into(),
    }
}

/// A TOML node with its table keys in document order (the `toml` crate's
/// own table sorts them).
#[derive(Debug, Clone)]
enum Node {
    Leaf(Value),
    Array(Vec<Node>),
    Table(Vec<(String, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a TOML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Leaf(Value::Boolean(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Leaf(Value::Integer(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
                i64::try_from(v)
                    .map(|v| Node::Leaf(Value::Integer(v)))
                    .map_err(|_| E::custom(format!("integer {v} is out of range")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Leaf(Value::Float(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Leaf(Value::String(v.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Node>()? {
                    out.push(v);
                }
                Ok(Node::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Node>()? {
                    out.push((k, v));
                }
                Ok(Node::Table(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A validated grid.
#[derive(Debug, Clone)]
pub struct Grid {
    /// How sets are chosen.
    pub mode: Mode,
    /// Sets drawn in random mode (`None` in grid mode).
    pub samples: Option<u64>,
    /// Seed of the random draw.
    pub seed: u64,
    /// What ranks the sets.
    pub objective: Objective,
    /// Sets with fewer closed trades rank last.
    pub min_trades: u64,
    /// Swept keys in the order of the file.
    pub params: Vec<Param>,
    /// The base config as TOML (every key), the sets are applied to.
    base: Value,
    /// Grid indices of the chosen sets, ascending.
    indices: Vec<u64>,
}

impl Grid {
    /// Parses and validates `text` against `base`: every key path must be a
    /// numeric or boolean key of a section a backtest reads, every value of
    /// the key's type, and every chosen set must pass the config's
    /// validation.
    ///
    /// # Errors
    /// [`GridError`] naming the first bad key or set.
    pub fn parse(text: &str, base: &Config) -> Result<Self, GridError> {
        let root: Node = toml::from_str(text).map_err(|e| GridError::Syntax(e.to_string()))?;
        let Node::Table(top) = root else {
            return Err(GridError::Syntax("expected a table".into()));
        };
        let mut sweep = None;
        let mut params_node = None;
        for (k, v) in top {
            match k.as_str() {
                "sweep" => sweep = Some(v),
                "params" => params_node = Some(v),
                other => {
                    return Err(key_err(
                        other,
                        "unknown table (expected [sweep] and [params])",
                    ))
                }
            }
        }
        let base_value = Value::try_from(base).map_err(|e| GridError::Syntax(e.to_string()))?;
        let mut grid = Self {
            mode: Mode::Grid,
            samples: None,
            seed: 0,
            objective: Objective::Sharpe,
            min_trades: 0,
            params: Vec::new(),
            base: base_value,
            indices: Vec::new(),
        };
        grid.read_sweep(sweep)?;
        let Some(Node::Table(params)) = params_node else {
            return Err(key_err(
                "params",
                "missing table: it lists the keys to sweep",
            ));
        };
        let mut flat = Vec::new();
        flatten("", params, &mut flat)?;
        // The toml crate's tables are sorted: put the keys back in file order.
        let mut positions = std::collections::BTreeMap::new();
        if let Ok(doc) = toml::de::DeTable::parse(text) {
            key_positions("", doc.get_ref(), &mut positions);
        }
        flat.sort_by_key(|(key, _)| {
            positions
                .get(&format!("params.{key}"))
                .copied()
                .unwrap_or(usize::MAX)
        });
        if flat.is_empty() {
            return Err(key_err("params", "no key to sweep"));
        }
        let mut seen = BTreeSet::new();
        for (key, node) in flat {
            if !seen.insert(key.clone()) {
                return Err(key_err(format!("params.{key}"), "given twice"));
            }
            let param = grid.read_param(&key, node)?;
            grid.params.push(param);
        }
        grid.choose()?;
        let mut ids = BTreeSet::new();
        for k in 0..grid.indices.len() {
            let set = grid.set(k);
            if !ids.insert(set_id(&grid.params, &set)) {
                return Err(GridError::Syntax(format!(
                    "two parameter sets hash to the same id ({}): rename nothing, report this grid",
                    assignment_text(&grid.params, &set)
                )));
            }
            grid.apply(&set)?;
        }
        Ok(grid)
    }

    fn read_sweep(&mut self, node: Option<Node>) -> Result<(), GridError> {
        let Some(node) = node else {
            return Ok(());
        };
        let Node::Table(entries) = node else {
            return Err(key_err("sweep", "must be a table"));
        };
        let mut samples = None;
        for (k, v) in entries {
            let key = format!("sweep.{k}");
            let leaf = match v {
                Node::Leaf(l) => l,
                _ => return Err(key_err(key, "must be a single value")),
            };
            match k.as_str() {
                "mode" => {
                    self.mode = match leaf.as_str() {
                        Some("grid") => Mode::Grid,
                        Some("random") => Mode::Random,
                        _ => return Err(key_err(key, "must be \"grid\" or \"random\"")),
                    }
                }
                "samples" => samples = Some(positive(&key, &leaf)?),
                "seed" => {
                    self.seed = leaf
                        .as_integer()
                        .and_then(|v| u64::try_from(v).ok())
                        .ok_or_else(|| key_err(&key, "must be a non-negative integer"))?;
                }
                "objective" => {
                    let name = leaf
                        .as_str()
                        .ok_or_else(|| key_err(&key, "must be a string"))?;
                    self.objective = Objective::from_name(name).ok_or_else(|| {
                        key_err(
                            &key,
                            format!("unknown objective \"{name}\" ({})", Objective::list()),
                        )
                    })?;
                }
                "min_trades" => {
                    self.min_trades = leaf
                        .as_integer()
                        .and_then(|v| u64::try_from(v).ok())
                        .ok_or_else(|| key_err(&key, "must be a non-negative integer"))?;
                }
                _ => {
                    return Err(key_err(
                        key,
                        "unknown key (mode, samples, seed, objective, min_trades)",
                    ))
                }
            }
        }
        match (self.mode, samples) {
            (Mode::Random, None) => Err(key_err(
                "sweep.samples",
                "required in random mode (how many sets to draw)",
            )),
            (Mode::Grid, Some(_)) => Err(key_err(
                "sweep.samples",
                "only meaningful with mode = \"random\"",
            )),
            _ => {
                self.samples = samples;
                Ok(())
            }
        }
    }

    fn read_param(&self, key: &str, node: Node) -> Result<Param, GridError> {
        let shown = format!("params.{key}");
        let mut parts = key.split('.');
        let section = parts.next().unwrap_or_default();
        if !SWEEPABLE_SECTIONS.contains(&section) {
            return Err(key_err(
                shown,
                format!(
                    "not a key a backtest reads (sweepable sections: {})",
                    SWEEPABLE_SECTIONS.join(", ")
                ),
            ));
        }
        let current = lookup(&self.base, key)
            .ok_or_else(|| key_err(&shown, format!("unknown config key path \"{key}\"")))?;
        let kind = match current {
            Value::Integer(_) => Kind::Int,
            Value::Float(_) => Kind::Float,
            Value::Boolean(_) => Kind::Bool,
            _ => {
                return Err(key_err(
                    shown,
                    "not a numeric or boolean key (only those can be swept)",
                ))
            }
        };
        let values = match node {
            Node::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let Node::Leaf(v) = item else {
                        return Err(key_err(&shown, "list items must be single values"));
                    };
                    out.push(typed(&shown, kind, &v)?);
                }
                out
            }
            Node::Table(range) => expand_range(&shown, kind, range)?,
            Node::Leaf(v) => vec![typed(&shown, kind, &v)?],
        };
        if values.is_empty() {
            return Err(key_err(shown, "no values"));
        }
        if values.len() > MAX_VALUES_PER_KEY {
            return Err(key_err(
                shown,
                format!("{} values, at most {MAX_VALUES_PER_KEY}", values.len()),
            ));
        }
        let mut canon = BTreeSet::new();
        for v in &values {
            if !canon.insert(v.to_string()) {
                return Err(key_err(&shown, format!("value {v} given twice")));
            }
        }
        Ok(Param {
            key: key.to_owned(),
            values,
        })
    }

    /// Picks the set indices: all of them, or a seeded draw of distinct ones.
    fn choose(&mut self) -> Result<(), GridError> {
        let mut total: u64 = 1;
        for p in &self.params {
            total = total.saturating_mul(p.values.len() as u64);
        }
        match (self.mode, self.samples) {
            (Mode::Random, Some(n)) if n < total => {
                if n > MAX_SETS {
                    return Err(key_err("sweep.samples", format!("at most {MAX_SETS}")));
                }
                self.indices = draw_distinct(total, n, self.seed);
            }
            _ => {
                if total > MAX_SETS {
                    return Err(key_err(
                        "params",
                        format!(
                            "{total} combinations, at most {MAX_SETS}: use mode = \"random\" with samples"
                        ),
                    ));
                }
                self.indices = (0..total).collect();
            }
        }
        Ok(())
    }

    /// Returns how many parameter sets the grid has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Returns true when the grid has no set (never, once parsed).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Returns set `k` (0-based, in grid-index order): one value per param.
    ///
    /// # Panics
    /// When `k >= self.len()` (an internal invariant of the callers).
    #[must_use]
    pub fn set(&self, k: usize) -> Vec<ParamValue> {
        let mut index = self.indices[k];
        let mut out = vec![ParamValue::Bool(false); self.params.len()];
        for (slot, p) in out.iter_mut().zip(&self.params).rev() {
            let n = p.values.len() as u64;
            *slot = p.values[usize::try_from(index % n).unwrap_or(0)];
            index /= n;
        }
        out
    }

    /// Returns the base config with `set` applied, validated.
    ///
    /// # Errors
    /// [`GridError::Set`] with the config error naming the key.
    pub fn apply(&self, set: &[ParamValue]) -> Result<Config, GridError> {
        let mut doc = self.base.clone();
        for (p, v) in self.params.iter().zip(set) {
            if let Some(slot) = lookup_mut(&mut doc, &p.key) {
                *slot = v.to_toml();
            }
        }
        let rejected = |source| GridError::Set {
            assignment: assignment_text(&self.params, set),
            source,
        };
        match doc.clone().try_into::<Config>() {
            Ok(cfg) => {
                cfg.validate_with_cores(None).map_err(rejected)?;
                Ok(cfg)
            }
            Err(_) => {
                // The full loader names the key the serde error belongs to.
                let text = toml::to_string(&doc).map_err(|e| GridError::Syntax(e.to_string()))?;
                Config::from_toml_str_with_cores(&text, None).map_err(rejected)
            }
        }
    }

    /// Returns the canonical text of the grid (settings and params), for
    /// checking that shards and resumed runs share one grid.
    #[must_use]
    pub fn canonical(&self) -> String {
        let mut s = format!(
            "mode={:?};samples={:?};seed={};objective={};min_trades={}",
            self.mode,
            self.samples,
            self.seed,
            self.objective.as_str(),
            self.min_trades
        );
        for p in &self.params {
            s.push_str(&format!(";{}=", p.key));
            let vals: Vec<String> = p.values.iter().map(ToString::to_string).collect();
            s.push_str(&vals.join(","));
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Bool,
}

fn positive(key: &str, v: &Value) -> Result<u64, GridError> {
    v.as_integer()
        .and_then(|v| u64::try_from(v).ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| key_err(key, "must be a positive integer"))
}

/// Flattens nested `[params.section]` tables into dotted key paths; a table
/// whose keys are only `from`, `to` and `step` is a range, not a section.
fn flatten(
    prefix: &str,
    entries: Vec<(String, Node)>,
    out: &mut Vec<(String, Node)>,
) -> Result<(), GridError> {
    for (k, v) in entries {
        let path = if prefix.is_empty() {
            k
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Node::Table(inner) if !is_range(&inner) => flatten(&path, inner, out)?,
            other => out.push((path, other)),
        }
    }
    Ok(())
}

/// Records where each dotted key path is defined in the text.
fn key_positions(
    prefix: &str,
    table: &toml::de::DeTable<'_>,
    out: &mut std::collections::BTreeMap<String, usize>,
) {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        out.insert(path.clone(), k.span().start);
        if let toml::de::DeValue::Table(inner) = v.get_ref() {
            key_positions(&path, inner, out);
        }
    }
}

fn is_range(entries: &[(String, Node)]) -> bool {
    !entries.is_empty()
        && entries.iter().all(|(k, v)| {
            matches!(k.as_str(), "from" | "to" | "step") && matches!(v, Node::Leaf(_))
        })
}

fn typed(key: &str, kind: Kind, v: &Value) -> Result<ParamValue, GridError> {
    match (kind, v) {
        (Kind::Int, Value::Integer(i)) => Ok(ParamValue::Int(*i)),
        (Kind::Int, Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            Ok(ParamValue::Int(*f as i64))
        }
        (Kind::Float, Value::Float(f)) if f.is_finite() => Ok(ParamValue::Float(*f)),
        (Kind::Float, Value::Integer(i)) => Ok(ParamValue::Float(*i as f64)),
        (Kind::Bool, Value::Boolean(b)) => Ok(ParamValue::Bool(*b)),
        (Kind::Int, _) => Err(key_err(key, format!("expected an integer, got {v}"))),
        (Kind::Float, _) => Err(key_err(key, format!("expected a finite number, got {v}"))),
        (Kind::Bool, _) => Err(key_err(key, format!("expected true or false, got {v}"))),
    }
}

fn expand_range(
    key: &str,
    kind: Kind,
    entries: Vec<(String, Node)>,
) -> Result<Vec<ParamValue>, GridError> {
    if kind == Kind::Bool {
        return Err(key_err(key, "a boolean key takes a list, not a range"));
    }
    let get = |name: &str| -> Result<Value, GridError> {
        entries
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| match v {
                Node::Leaf(l) => Some(l.clone()),
                _ => None,
            })
            .ok_or_else(|| {
                key_err(
                    format!("{key}.{name}"),
                    "missing (a range is { from, to, step })",
                )
            })
    };
    let (from, to, step) = (get("from")?, get("to")?, get("step")?);
    let num = |name: &str, v: &Value| -> Result<f64, GridError> {
        match v {
            Value::Integer(i) => Ok(*i as f64),
            Value::Float(f) if f.is_finite() => Ok(*f),
            _ => Err(key_err(
                format!("{key}.{name}"),
                format!("expected a number, got {v}"),
            )),
        }
    };
    let (f, t, s) = (num("from", &from)?, num("to", &to)?, num("step", &step)?);
    if s <= 0.0 {
        return Err(key_err(
            format!("{key}.step"),
            format!("must be > 0, got {s}"),
        ));
    }
    if t < f {
        return Err(key_err(
            format!("{key}.to"),
            format!("must be >= from ({f}), got {t}"),
        ));
    }
    let count = ((t - f) / s + 1e-9).floor() + 1.0;
    if count > MAX_VALUES_PER_KEY as f64 {
        return Err(key_err(
            key,
            format!("{count} values, at most {MAX_VALUES_PER_KEY}"),
        ));
    }
    let count = count as u64;
    let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for k in 0..count {
        let v = f + k as f64 * s;
        match kind {
            Kind::Int => {
                if [f, s].iter().any(|x| x.fract() != 0.0) {
                    return Err(key_err(key, "an integer key needs integer from and step"));
                }
                out.push(ParamValue::Int(v.round() as i64));
            }
            // Ten decimals: 0.1 + 2 × 0.1 is 0.3, not 0.30000000000000004.
            _ => out.push(ParamValue::Float(format!("{v:.10}").parse().unwrap_or(v))),
        }
    }
    Ok(out)
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(v, |node, part| node.as_table()?.get(part))
}

fn lookup_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    path.split('.')
        .try_fold(v, |node, part| node.as_table_mut()?.get_mut(part))
}

/// Draws `n` distinct indices of `0..total` with a seeded generator
/// (Floyd's algorithm), ascending. Memory: 8 bytes per drawn index.
fn draw_distinct(total: u64, n: u64, seed: u64) -> Vec<u64> {
    let mut rng = SplitMix64(seed);
    let mut chosen = BTreeSet::new();
    for j in (total - n)..total {
        let t = rng.below(j + 1);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    chosen.into_iter().collect()
}

/// SplitMix64: small, seedable and the same on every platform.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0), by rejection of the biased tail.
    fn below(&mut self, bound: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let x = self.next();
            if x < zone {
                return x % bound;
            }
        }
    }
}

/// Returns `key=value` pairs of `set` joined by `, ` in grid order.
#[must_use]
pub fn assignment_text(params: &[Param], set: &[ParamValue]) -> String {
    params
        .iter()
        .zip(set)
        .map(|(p, v)| format!("{}={v}", p.key))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Returns the id of a parameter set: FNV-1a 64 of `key=value\n` lines with
/// the keys sorted, as 16 lower-case hex digits. Independent of the order
/// of the keys in the grid file and of the machine.
#[must_use]
pub fn set_id(params: &[Param], set: &[ParamValue]) -> String {
    let mut lines: Vec<String> = params
        .iter()
        .zip(set)
        .map(|(p, v)| format!("{}={v}\n", p.key))
        .collect();
    lines.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in lines.concat().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
#[path = "grid_tests.rs"]
mod tests;
