//! State checkpoints: the whole state of a rebuild pass (the core and the
//! order bookkeeping crash recovery needs) written into the journal, so a
//! rebuild starts from the newest checkpoint instead of the first record,
//! and retention may remove the segments before it.
//!
//! Consumes a rebuild pass at a record boundary; produces the state bytes
//! (`encode`), the `checkpoint` records that carry them
//! ([`write_checkpoint`], split into parts that fit a segment), and reads
//! them back ([`find`], `restore`). A checkpoint restored and fed the
//! records after it gives the state a pass from the first record gives,
//! byte for byte (the tests compare the encodings).
//!
//! The state covers every record before `state_seq`: the sequence number
//! of its first part when the state is taken where the writer continues
//! (start-up, shutdown), an earlier one when a running engine journals a
//! state its checkpointer took while records kept arriving. The parts
//! follow one another, and a checkpoint is used only when every part is
//! present and the CRC-32 of the whole matches. A pass that starts from it
//! feeds every record from `state_seq` on.
//! Checkpoint records are system records: a pass counts them and goes on.
//!
//! Must never: write anything but checkpoint records, or trust a part
//! without its checksum. Cold path (start-up and shutdown).

use core::fmt;
use std::collections::VecDeque;
use std::path::Path;

use super::pass::Pass;
use super::{InFlight, Mismatch, OrderRoute, PendingCancel, ReplayCounts, SessionChange};
use crate::checkpoint::{Restore, StateError, StateReader, StateWriter};
use crate::config::{Config, ConfigError};
use crate::core::{Action, Core, CoreError, CoreReloadError, Event};
use crate::io::order::ClientOrderId;
use crate::journal_schema::{self as schema, tags, JournalRecord, SessionStart};
use crate::orders::OrderId;
use crate::strategy::StrategyFactory;
use crate::types::{SymbolId, TimestampNs};

/// First bytes of a state: name and layout version of the encoding.
const MAGIC: &[u8; 8] = b"TECKPT01";

/// Bytes a checkpoint part's fields other than its data take (with room).
const PART_OVERHEAD: usize = 64;

/// Why a checkpoint's state could not be restored.
#[derive(Debug)]
pub enum CheckpointError {
    /// The bytes are not a state of this engine version.
    Magic,
    /// The state bytes are truncated, invalid or do not fit the config.
    State(StateError),
    /// A record inside the state does not decode.
    Record(schema::DecodeError),
    /// A configuration inside the state is not valid.
    Config(ConfigError),
    /// The instrument rules inside the state do not decode.
    Rules,
    /// The core could not be built from the stored first configuration.
    Core(CoreError),
    /// The core refused the stored running configuration.
    Reload(CoreReloadError),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Magic => write!(f, "not a checkpoint of this engine version"),
            Self::State(e) => write!(f, "{e}"),
            Self::Record(e) => write!(f, "a record inside the state does not decode: {e}"),
            Self::Config(e) => write!(f, "a configuration inside the state is invalid: {e}"),
            Self::Rules => write!(f, "the instrument rules inside the state do not decode"),
            Self::Core(e) => write!(f, "cannot build the core: {e}"),
            Self::Reload(e) => write!(f, "the core refused the running configuration: {e}"),
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::State(e) => Some(e),
            Self::Record(e) => Some(e),
            Self::Config(e) => Some(e),
            Self::Core(e) => Some(e),
            Self::Reload(e) => Some(e),
            Self::Magic | Self::Rules => None,
        }
    }
}

impl From<StateError> for CheckpointError {
    fn from(e: StateError) -> Self {
        Self::State(e)
    }
}

/// Appends a journal record's tag and payload.
fn put_record(w: &mut StateWriter, record: &JournalRecord<'_>) {
    let mut buf = vec![0u8; record.encoded_len()];
    record.encode(&mut buf);
    w.put(&record.tag());
    w.blob(&buf);
}

/// Reads a record written by [`put_record`].
fn take_record<'a>(r: &mut StateReader<'a>) -> Result<JournalRecord<'a>, CheckpointError> {
    let tag: u16 = r.take()?;
    let payload = r.blob("record")?;
    JournalRecord::decode(tag, payload).map_err(CheckpointError::Record)
}

fn take_action(r: &mut StateReader<'_>) -> Result<Action, CheckpointError> {
    match take_record(r)? {
        JournalRecord::Output(a) => Ok(a),
        other => Err(CheckpointError::Record(schema::DecodeError::UnknownTag(
            other.tag(),
        ))),
    }
}

fn take_event(r: &mut StateReader<'_>) -> Result<Event, CheckpointError> {
    match take_record(r)? {
        JournalRecord::Input(e) => Ok(e),
        other => Err(CheckpointError::Record(schema::DecodeError::UnknownTag(
            other.tag(),
        ))),
    }
}

fn put_opt_action(w: &mut StateWriter, a: Option<Action>) {
    w.put(&a.is_some());
    if let Some(a) = a {
        put_record(w, &JournalRecord::Output(a));
    }
}

fn take_opt_action(r: &mut StateReader<'_>) -> Result<Option<Action>, CheckpointError> {
    Ok(if r.take::<bool>()? {
        Some(take_action(r)?)
    } else {
        None
    })
}

fn put_client(w: &mut StateWriter, id: Option<&ClientOrderId>) {
    w.put(&id.is_some());
    if let Some(id) = id {
        w.blob(id.as_str().as_bytes());
    }
}

fn take_client(r: &mut StateReader<'_>) -> Result<Option<ClientOrderId>, CheckpointError> {
    if !r.take::<bool>()? {
        return Ok(None);
    }
    let text = r.text("client order id")?;
    ClientOrderId::try_new(text)
        .map(Some)
        .ok_or_else(|| CheckpointError::State(r.invalid("client order id", text.len() as u64)))
}

/// Returns the state of `pass` as bytes, or `None` when it holds no core
/// yet (a journal without a session needs no checkpoint).
pub(super) fn encode(pass: &Pass) -> Result<Option<Vec<u8>>, CheckpointError> {
    let (Some(core), Some(config)) = (pass.core.as_ref(), pass.config.as_ref()) else {
        return Ok(None);
    };
    let mut w = StateWriter::new();
    w.bytes(MAGIC);
    w.blob(pass.build_toml.as_bytes());
    let running = config.to_toml_string().map_err(CheckpointError::Config)?;
    w.blob(running.as_bytes());
    w.blob(pass.symbols.as_bytes());
    let mut rules = vec![0u8; pass.rules.len() * 64];
    let n = SessionStart::encode_rules(&pass.rules, &mut rules).ok_or(CheckpointError::Rules)?;
    w.blob(&rules[..n]);
    w.put(&pass.first_session_ts);
    core.save(&mut w);
    w.len(pass.produced.len());
    for a in &pass.produced {
        put_record(&mut w, &JournalRecord::Output(*a));
    }
    w.put(&pass.last_input.map(|(seq, _)| seq));
    if let Some((_, e)) = pass.last_input {
        put_record(&mut w, &JournalRecord::Input(e));
    }
    w.len(pass.orders.len());
    for (id, route) in &pass.orders {
        put_record(
            &mut w,
            &JournalRecord::OrderSent {
                order: *id,
                client_id: route.client_id,
                symbol: route.symbol,
                side: route.side,
                ts: TimestampNs(0),
            },
        );
        w.put(&route.exchange_id);
    }
    w.len(pass.in_flight.len());
    for f in pass.in_flight.values() {
        put_record(&mut w, &JournalRecord::Output(Action::Place(f.intent)));
        put_client(&mut w, f.client_id.as_ref());
        w.put(&f.input_seq);
    }
    w.len(pass.pending_cancels.len());
    for c in pass.pending_cancels.values() {
        w.put(&(c.order, c.symbol, c.input_seq));
    }
    put_counts(&mut w, &pass.counts);
    w.put(&pass.first_mismatch.is_some());
    if let Some(m) = &pass.first_mismatch {
        w.put(&(m.seq, m.input_seq));
        w.put(&m.input.is_some());
        if let Some(e) = m.input {
            put_record(&mut w, &JournalRecord::Input(e));
        }
        put_opt_action(&mut w, m.expected);
        put_opt_action(&mut w, m.actual);
    }
    w.len(pass.session_changes.len());
    for c in &pass.session_changes {
        w.put(&(c.seq, c.rules_changed));
        w.len(c.config_changes.len());
        for text in &c.config_changes {
            w.blob(text.as_bytes());
        }
        w.put(&c.refused.is_some());
        if let Some(why) = &c.refused {
            w.blob(why.as_bytes());
        }
    }
    w.put(&pass.last_market_ts);
    w.len(pass.intents.len());
    for intent in pass.intents.values() {
        put_record(&mut w, &JournalRecord::Output(Action::Place(*intent)));
    }
    w.put(&pass.last_operator.is_some());
    if let Some((command, source)) = pass.last_operator {
        put_record(
            &mut w,
            &JournalRecord::Operator {
                command,
                source,
                ts: TimestampNs(0),
            },
        );
    }
    w.len(pass.unjournaled.len());
    for a in &pass.unjournaled {
        put_record(&mut w, &JournalRecord::Output(*a));
    }
    w.len(pass.recovery_stops.len());
    for s in &pass.recovery_stops {
        w.put(&(s.symbol, s.exchange_id, s.ts));
    }
    w.len(pass.booked.len());
    for (order, b) in &pass.booked {
        w.put(&(*order, b.qty));
        w.put(&(b.notional, b.fee));
    }
    // Last, so that a state written before it existed still reads.
    w.len(pass.recovery_sends.len());
    for s in &pass.recovery_sends {
        w.put(&(s.symbol, s.session));
        w.put(&(s.replaces.unwrap_or(OrderId(0)), s.ts));
    }
    Ok(Some(w.into_bytes()))
}

fn put_counts(w: &mut StateWriter, c: &ReplayCounts) {
    w.put(&[
        c.records,
        c.inputs,
        c.outputs,
        c.sessions,
        c.market_trades,
        c.closed_trades,
        c.system,
        c.unknown,
        c.unjournaled,
    ]);
}

fn take_counts(r: &mut StateReader<'_>) -> Result<ReplayCounts, StateError> {
    let [records, inputs, outputs, sessions, market_trades, closed_trades, system, unknown, unjournaled]: [u64; 9] =
        r.take()?;
    Ok(ReplayCounts {
        records,
        inputs,
        outputs,
        sessions,
        market_trades,
        closed_trades,
        system,
        unknown,
        unjournaled,
    })
}

/// Rebuilds a pass from state bytes written by [`encode`]: the core is
/// built from the stored first configuration (with `strategies` when
/// given, as the rebuild builds it), reloaded to the stored running one,
/// and its state overwritten with the stored state.
pub(super) fn restore(
    bytes: &[u8],
    strategies: Option<StrategyFactory>,
) -> Result<Pass, CheckpointError> {
    let mut r = StateReader::new(bytes);
    if r.bytes(MAGIC.len(), "magic")? != MAGIC {
        return Err(CheckpointError::Magic);
    }
    let mut pass = Pass::new(strategies);
    pass.build_toml = r.text("first configuration")?.to_owned();
    let build = Config::from_toml_str(&pass.build_toml).map_err(CheckpointError::Config)?;
    let running = Config::from_toml_str_with_cores(r.text("running configuration")?, None)
        .map_err(CheckpointError::Config)?;
    pass.symbols = r.text("symbols")?.to_owned();
    let rules_raw = r.blob("rules")?;
    pass.rules = SessionStart {
        mode: schema::Mode::Paper,
        ts: TimestampNs(0),
        version: "",
        symbols: "",
        rules_raw,
        config_toml: "",
    }
    .rules()
    .ok_or(CheckpointError::Rules)?;
    pass.first_session_ts = r.take()?;
    let mut core = match strategies {
        Some(build_with) => {
            Core::try_with_strategies(&build, &pass.rules, build_with(&build.strategies))
        }
        None => Core::try_new(&build, &pass.rules),
    }
    .map_err(CheckpointError::Core)?;
    if running != build {
        core.reload(&running).map_err(CheckpointError::Reload)?;
    }
    core.restore(&mut r)?;
    pass.core = Some(core);
    pass.config = Some(running);
    let n = r.len("produced actions")?;
    pass.produced = VecDeque::with_capacity(n.max(crate::core::ACTION_CAPACITY));
    for _ in 0..n {
        pass.produced.push_back(take_action(&mut r)?);
    }
    if let Some(seq) = r.take::<Option<u64>>()? {
        pass.last_input = Some((seq, take_event(&mut r)?));
    }
    for _ in 0..r.len("orders")? {
        let JournalRecord::OrderSent {
            order,
            client_id,
            symbol,
            side,
            ..
        } = take_record(&mut r)?
        else {
            return Err(CheckpointError::Record(schema::DecodeError::UnknownTag(0)));
        };
        let exchange_id = r.take()?;
        pass.orders.insert(
            order,
            OrderRoute {
                client_id,
                symbol,
                side,
                exchange_id,
            },
        );
    }
    for _ in 0..r.len("orders in flight")? {
        let Action::Place(intent) = take_action(&mut r)? else {
            return Err(CheckpointError::Record(schema::DecodeError::UnknownTag(0)));
        };
        let client_id = take_client(&mut r)?;
        let input_seq = r.take()?;
        pass.in_flight.insert(
            intent.id,
            InFlight {
                intent,
                client_id,
                input_seq,
            },
        );
    }
    for _ in 0..r.len("pending cancels")? {
        let (order, symbol, input_seq): (OrderId, SymbolId, u64) = r.take()?;
        pass.pending_cancels.insert(
            order,
            PendingCancel {
                order,
                symbol,
                input_seq,
            },
        );
    }
    pass.counts = take_counts(&mut r)?;
    if r.take::<bool>()? {
        let (seq, input_seq) = r.take()?;
        let input = if r.take::<bool>()? {
            Some(take_event(&mut r)?)
        } else {
            None
        };
        pass.first_mismatch = Some(Mismatch {
            seq,
            input_seq,
            input,
            expected: take_opt_action(&mut r)?,
            actual: take_opt_action(&mut r)?,
        });
    }
    for _ in 0..r.len("session changes")? {
        let (seq, rules_changed) = r.take()?;
        let mut config_changes = Vec::new();
        for _ in 0..r.len("config changes")? {
            config_changes.push(r.text("config change")?.to_owned());
        }
        let refused = if r.take::<bool>()? {
            Some(r.text("refusal")?.to_owned())
        } else {
            None
        };
        pass.session_changes.push(SessionChange {
            seq,
            rules_changed,
            config_changes,
            refused,
        });
    }
    pass.last_market_ts = r.take()?;
    for _ in 0..r.len("intents")? {
        let Action::Place(intent) = take_action(&mut r)? else {
            return Err(CheckpointError::Record(schema::DecodeError::UnknownTag(0)));
        };
        pass.intents.insert(intent.id, intent);
    }
    if r.take::<bool>()? {
        if let JournalRecord::Operator {
            command, source, ..
        } = take_record(&mut r)?
        {
            pass.last_operator = Some((command, source));
        }
    }
    for _ in 0..r.len("unjournaled actions")? {
        pass.unjournaled.push(take_action(&mut r)?);
    }
    for _ in 0..r.len("recovery stops")? {
        let (symbol, exchange_id, ts) = r.take()?;
        pass.recovery_stops.push(super::RecoveryStop {
            symbol,
            exchange_id,
            ts,
        });
    }
    for _ in 0..r.len("booked fills")? {
        let (order, qty) = r.take()?;
        let (notional, fee) = r.take()?;
        pass.booked
            .insert(order, crate::orders::Booked { qty, notional, fee });
    }
    // Absent from states written before recovery sends were journaled.
    if r.remaining() > 0 {
        for _ in 0..r.len("recovery sends")? {
            let (symbol, session) = r.take()?;
            let (order, ts): (OrderId, TimestampNs) = r.take()?;
            pass.recovery_sends.push(super::RecoverySend {
                symbol,
                session,
                replaces: (order.0 != 0).then_some(order),
                ts,
            });
        }
    }
    r.finish()?;
    Ok(pass)
}

/// A complete checkpoint found in a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The state covers every record before this sequence number.
    pub state_seq: u64,
    /// First sequence number of the segment holding record `state_seq`
    /// (where a pass starting from the checkpoint opens the journal).
    pub segment_first_seq: u64,
    /// The state bytes (checksum verified).
    pub state: Vec<u8>,
}

/// Which checkpoint [`find`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The newest complete one (a rebuild).
    Newest,
    /// The oldest complete one (a replay of a trimmed journal).
    Oldest,
}

/// A checkpoint being collected part by part.
struct Assembly {
    state_seq: u64,
    parts: u32,
    next_part: u32,
    state_bytes: u64,
    crc32: u32,
    data: Vec<u8>,
}

/// Finds a complete checkpoint in the journal in `dir` by reading records
/// (not replaying them) segment by segment, from the newest segment back
/// ([`Which::Newest`]) or from the oldest on ([`Which::Oldest`]). Parts
/// with a bad checksum, missing parts and damaged segments are skipped.
///
/// # Errors
/// [`journal::JournalIoError`] when the directory cannot be listed.
pub fn find(dir: &Path, which: Which) -> Result<Option<Found>, journal::JournalIoError> {
    let segments = journal::list_segments(dir)?;
    let order: Vec<usize> = match which {
        Which::Newest => (0..segments.len()).rev().collect(),
        Which::Oldest => (0..segments.len()).collect(),
    };
    for i in order {
        let first_seq = segments[i].0;
        let end_seq = segments.get(i + 1).map_or(u64::MAX, |(s, _)| *s);
        let found = scan_segment(dir, first_seq, end_seq);
        let mut usable = found.into_iter().filter_map(|mut f| {
            // The segment holding `state_seq`, when retention left it.
            let (holding, _) = segments.iter().rev().find(|(s, _)| *s <= f.state_seq)?;
            f.segment_first_seq = *holding;
            Some(f)
        });
        let pick = match which {
            Which::Newest => usable.next_back(),
            Which::Oldest => usable.next(),
        };
        if pick.is_some() {
            return Ok(pick);
        }
    }
    Ok(None)
}

/// Returns the complete checkpoints whose first part lies in the segment
/// starting at `first_seq` (reading on into the next segment while one is
/// incomplete), oldest first.
fn scan_segment(dir: &Path, first_seq: u64, end_seq: u64) -> Vec<Found> {
    let mut out = Vec::new();
    let Ok(mut reader) = journal::Reader::open_at(dir, first_seq) else {
        return out;
    };
    let mut open: Option<Assembly> = None;
    while let Some(Ok(rec)) = reader.next() {
        if rec.seq >= end_seq && open.is_none() {
            break;
        }
        if rec.type_tag != tags::CHECKPOINT {
            open = None;
            continue;
        }
        let Ok(JournalRecord::Checkpoint {
            state_seq,
            part,
            parts,
            state_bytes,
            crc32,
            data,
            ..
        }) = JournalRecord::decode(rec.type_tag, rec.payload)
        else {
            open = None;
            continue;
        };
        if part == 0 && state_seq <= rec.seq && rec.seq < end_seq {
            open = Some(Assembly {
                state_seq,
                parts,
                next_part: 0,
                state_bytes,
                crc32,
                data: Vec::with_capacity(usize::try_from(state_bytes).unwrap_or(0).min(1 << 30)),
            });
        }
        let Some(a) = open.as_mut() else { continue };
        let fits = a.state_seq == state_seq
            && a.next_part == part
            && a.parts == parts
            && a.state_bytes == state_bytes
            && a.crc32 == crc32;
        if !fits {
            open = None;
            continue;
        }
        a.data.extend_from_slice(data);
        a.next_part += 1;
        if a.next_part == a.parts {
            if let Some(a) = open.take() {
                if a.data.len() as u64 == a.state_bytes && crc32fast::hash(&a.data) == a.crc32 {
                    out.push(Found {
                        state_seq: a.state_seq,
                        segment_first_seq: first_seq,
                        state: a.data,
                    });
                }
            }
        }
    }
    out
}

/// Appends `state`, the engine state after every record before
/// `state_seq` (at most the writer's next sequence number), as checkpoint
/// parts each fitting a segment of `writer`, stamped `ts`; returns the
/// sequence number of the first part.
///
/// # Errors
/// The journal's [`journal::AppendError`].
pub fn write_checkpoint(
    writer: &mut journal::Writer,
    state: &[u8],
    state_seq: u64,
    ts: TimestampNs,
) -> Result<u64, journal::AppendError> {
    let chunk = writer
        .max_payload_len()
        .saturating_sub(PART_OVERHEAD)
        .max(1);
    let parts = u32::try_from(state.len().div_ceil(chunk).max(1)).unwrap_or(u32::MAX);
    let first_part_seq = writer.next_seq();
    let state_seq = state_seq.min(first_part_seq);
    let crc32 = crc32fast::hash(state);
    let mut chunks = state.chunks(chunk);
    for part in 0..parts {
        let data = chunks.next().unwrap_or(&[]);
        let rec = JournalRecord::Checkpoint {
            state_seq,
            part,
            parts,
            state_bytes: state.len() as u64,
            crc32,
            data,
            ts,
        };
        schema::write(writer, ts, &rec)?;
    }
    Ok(first_part_seq)
}
