//! Journal integrity, issue 20 item 1: a flipped byte anywhere in a real
//! engine journal of many segments is either refused by the run's journal
//! open (corruption, named by segment and offset, nothing changed) or, only
//! in the final record of the newest segment, truncated exactly as a torn
//! tail; `journal repair` then keeps every record before the damage.
//! Also the CLI: `run` refuses, `replay` exits non-zero unless it checked
//! every record, `journal verify` and `journal repair` print what they did.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers panic on broken fixtures"
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use trading_engine::clock::ManualClock;
use trading_engine::config::{Config, Durability};
use trading_engine::core::Command as CoreCommand;
use trading_engine::datafile::{synthetic, DataSet};
use trading_engine::fill_model::{FillModel, MarketFill};
use trading_engine::journal_schema::{tags, JournalRecord, Mode};
use trading_engine::replay::record::SimSession;
use trading_engine::runtime::setup::open_writer;
use trading_engine::types::{DecimalStep, InstrumentRules, Price, Qty, SymbolId, TimestampNs};

/// Segment size of the fixture: small, so one synthetic day spans many.
const SEGMENT_BYTES: usize = 16 << 10;

type Rec = (u64, u16, i64, Vec<u8>);

fn cfg() -> Config {
    let mut cfg = Config::default();
    cfg.journal.segment_size_bytes = SEGMENT_BYTES as u64;
    cfg.journal.durability = Durability::None;
    cfg
}

/// Writes a paper journal over `days` synthetic days into `dir` through
/// the journaling driver (the records a run writes), in small segments.
fn paper_journal(dir: &Path, days: u64) {
    let cfg = cfg();
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("k.csv");
    let mut f = fs::File::create(&path).unwrap();
    synthetic::write_klines_csv(&mut f, 1, synthetic::DEFAULT_START_MS, days * 1440).unwrap();
    let step = DecimalStep::from_precision(3);
    let rules = InstrumentRules {
        tick: DecimalStep::from_precision(1),
        step,
        min_qty: Qty(step.to_fixed()),
        min_notional: Price::from_f64(5.0).unwrap(),
    };
    let sim = FillModel::new(&cfg.simulator, 1, MarketFill::LastClose);
    let mut set = DataSet::open(&[&path], SymbolId(0)).unwrap();
    let mut rows = Vec::new();
    while let Some(row) = set.next_record().unwrap() {
        rows.push(row);
    }
    let options = journal::WriterOptions {
        segment_bytes: SEGMENT_BYTES,
        durability: journal::Durability::None,
        prefault: false,
        precreate_next: false,
    };
    let first = rows[0].timestamp();
    let last = rows[rows.len() - 1].timestamp();
    let mut s = SimSession::open(dir, &cfg, &[rules], sim, Mode::Paper, first, options).unwrap();
    for row in &rows {
        s.on_row(row).unwrap();
    }
    s.command(CoreCommand::Shutdown, last).unwrap();
    s.flush_exchange().unwrap();
    s.finish().unwrap();
}

fn records(dir: &Path) -> Vec<Rec> {
    let mut reader = journal::Reader::open(dir).unwrap();
    let mut out = Vec::new();
    while let Some(r) = reader.next() {
        let r = r.unwrap();
        out.push((r.seq, r.type_tag, r.ts_ns, r.payload.to_vec()));
    }
    out
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

fn first_seq_of(path: &Path) -> u64 {
    path.file_name().unwrap().to_str().unwrap()[8..28]
        .parse()
        .unwrap()
}

/// One record (or end marker) of a segment: its byte range and sequence.
#[derive(Debug, Clone, Copy)]
struct Slot {
    start: usize,
    end: usize,
    seq: u64,
}

/// Walks the records of a segment file's bytes.
fn layout(bytes: &[u8]) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut at = journal::SEGMENT_HEADER_LEN;
    while at + 32 <= bytes.len() && bytes[at..at + 8] != [0; 8] {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let marker = bytes[at + 6] == 2;
        let seq = u64::from_le_bytes(bytes[at + 8..at + 16].try_into().unwrap());
        let end = at + journal::record_len(len);
        out.push(Slot {
            start: at,
            end,
            seq,
        });
        if marker {
            break;
        }
        at = end;
    }
    out
}

/// What a run's journal open did.
#[derive(Debug)]
enum Opened {
    /// Refused with this message.
    Refused(String),
    /// Opened; the journal continues at `next_seq`, `discarded` bytes of a
    /// torn tail zeroed.
    Continued { next_seq: u64, discarded: u64 },
}

/// The run's journal open: the writer (recovery) then the rebuild, as
/// `run` does them.
fn run_open(dir: &Path) -> Opened {
    let writer = match open_writer(&cfg(), dir) {
        Ok(w) => w,
        Err(e) => return Opened::Refused(e.to_string()),
    };
    let next_seq = writer.next_seq();
    let discarded = writer.recovery().discarded_bytes;
    drop(writer);
    match trading_engine::replay::rebuild(dir) {
        Ok(r) => {
            assert_eq!(
                r.next_seq, next_seq,
                "rebuild ends where the writer continues"
            );
            Opened::Continued {
                next_seq,
                discarded,
            }
        }
        Err(e) => Opened::Refused(format!(
            "crash recovery refused to start: cannot rebuild the state from the journal: {e}"
        )),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for p in segment_files(from) {
        fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

/// Where a flip at `pos` of segment `index` lands, and what must follow.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    /// Refused naming this byte offset; every record before `seq` is kept
    /// by the repair.
    Refuse { offset: u64, seq: u64 },
    /// The final record of the newest segment: truncated (that record lost).
    Torn { start: usize, end: usize },
    /// Bytes no reader looks at (after an end marker or the newest
    /// segment's last record): nothing lost; a non-zero byte after the
    /// newest segment's last record is zeroed as trailing garbage.
    Ignored { trailing_garbage: bool },
}

fn expect(files: &[PathBuf], slots: &[Vec<Slot>], index: usize, pos: usize) -> Expect {
    let newest = index == files.len() - 1;
    if pos < journal::SEGMENT_HEADER_LEN {
        return Expect::Refuse {
            offset: 0,
            seq: first_seq_of(&files[index]),
        };
    }
    let segment = &slots[index];
    match segment.iter().position(|s| (s.start..s.end).contains(&pos)) {
        Some(i) if newest && i == segment.len() - 1 => Expect::Torn {
            start: segment[i].start,
            end: segment[i].end,
        },
        Some(i) => Expect::Refuse {
            offset: segment[i].start as u64,
            seq: segment[i].seq,
        },
        None => Expect::Ignored {
            trailing_garbage: newest,
        },
    }
}

/// Byte positions to flip in one segment: the header, one byte of every
/// record (walking through header, payload and padding positions), the
/// end marker, the last record densely, and the zeroes after the records.
fn positions(slots: &[Slot], len: usize) -> Vec<usize> {
    let mut out = vec![0, 9, 17, 25, 40, 61];
    for (i, s) in slots.iter().enumerate() {
        out.push(s.start + (i * 13) % (s.end - s.start));
    }
    if let Some(last) = slots.last() {
        out.extend((last.start..last.end).step_by(5));
        out.extend([last.end, last.end + 8, len - 1]);
    }
    out.retain(|&p| p < len);
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn a_flipped_byte_anywhere_is_refused_or_truncated_exactly_and_repair_keeps_every_record_before_it()
{
    let base = tempfile::tempdir().unwrap();
    paper_journal(base.path(), 1);
    let original = records(base.path());
    let files = segment_files(base.path());
    assert!(files.len() >= 8, "only {} segments", files.len());
    let bytes: Vec<Vec<u8>> = files.iter().map(|f| fs::read(f).unwrap()).collect();
    let slots: Vec<Vec<Slot>> = bytes.iter().map(|b| layout(b)).collect();
    assert!(
        !slots.last().unwrap().is_empty(),
        "the newest segment holds records"
    );
    // The oldest, a middle, the third-last, second-last and newest segment.
    let n = files.len();
    let mut chosen = vec![0, n / 2, n - 3, n - 2, n - 1];
    chosen.dedup();
    let clock = ManualClock::new(TimestampNs(1_800_000_000_000_000_000));
    let (mut refused, mut torn, mut ignored) = (0, 0, 0);
    for &index in &chosen {
        for pos in positions(&slots[index], bytes[index].len()) {
            let work = tempfile::tempdir().unwrap();
            copy_dir(base.path(), work.path());
            let target = work.path().join(files[index].file_name().unwrap());
            let mut damaged = bytes[index].clone();
            damaged[pos] ^= 0x5A;
            fs::write(&target, &damaged).unwrap();
            let want = expect(&files, &slots, index, pos);
            let got = run_open(work.path());
            let at = format!("segment {index} of {n}, byte {pos}: {want:?} / {got:?}");
            match want {
                Expect::Refuse { offset, seq } => {
                    refused += 1;
                    let Opened::Refused(msg) = got else {
                        panic!("not refused: {at}")
                    };
                    let name = files[index].file_name().unwrap().to_str().unwrap();
                    assert!(
                        msg.contains(name) && msg.contains(&format!("at byte {offset}")),
                        "{at}: {msg}"
                    );
                    assert!(
                        msg.contains("trading-engine journal repair --journal")
                            && msg.contains("trading-engine journal verify --journal"),
                        "{at}: {msg}"
                    );
                    // Refusing changed nothing.
                    assert_eq!(fs::read(&target).unwrap(), damaged, "{at}");
                    let mut out = Vec::new();
                    let report =
                        trading_engine::cli::journal::repair(work.path(), &clock, &mut out)
                            .unwrap()
                            .unwrap_or_else(|| panic!("nothing repaired: {at}"));
                    assert_eq!(report.next_seq, seq, "{at}");
                    assert_eq!(fs::read(&report.damaged_copy).unwrap(), damaged, "{at}");
                    let after = records(work.path());
                    let kept = usize::try_from(seq).unwrap();
                    assert_eq!(after.len(), kept + 1, "{at}");
                    assert!(
                        after[..kept] == original[..kept],
                        "{at}: a kept record differs"
                    );
                    assert_eq!(after[kept].1, tags::JOURNAL_REPAIRED, "{at}");
                    match run_open(work.path()) {
                        Opened::Continued { next_seq, .. } => {
                            assert_eq!(next_seq, seq + 1, "{at}");
                        }
                        Opened::Refused(m) => panic!("refused after repair: {at}: {m}"),
                    }
                }
                Expect::Torn { start, end } => {
                    torn += 1;
                    let Opened::Continued {
                        next_seq,
                        discarded,
                    } = got
                    else {
                        panic!("refused a torn tail: {at}")
                    };
                    let last = original.len() as u64 - 1;
                    assert_eq!(next_seq, last, "{at}: only the final record is dropped");
                    assert!(discarded > 0 && discarded <= (end - start) as u64, "{at}");
                    let after = fs::read(&target).unwrap();
                    assert!(after[start..].iter().all(|&b| b == 0), "{at}");
                    assert_eq!(after[..start], bytes[index][..start], "{at}");
                    assert!(
                        records(work.path()) == original[..original.len() - 1],
                        "{at}"
                    );
                }
                Expect::Ignored { trailing_garbage } => {
                    ignored += 1;
                    let Opened::Continued {
                        next_seq,
                        discarded,
                    } = got
                    else {
                        panic!("refused bytes no record holds: {at}")
                    };
                    assert_eq!(next_seq, original.len() as u64, "{at}");
                    assert_eq!(discarded > 0, trailing_garbage, "{at}");
                    assert!(records(work.path()) == original, "{at}");
                }
            }
        }
    }
    eprintln!(
        "sweep: {} segments, {refused} refused and repaired, {torn} torn tails truncated, {ignored} ignored",
        n
    );
    assert!(refused > 100 && torn > 10 && ignored > 3);
}

#[test]
fn run_refuses_a_flipped_byte_in_the_newest_segment_and_repair_then_replay_succeed() {
    let dir = tempfile::tempdir().unwrap();
    paper_journal(dir.path(), 1);
    let original = records(dir.path());
    let newest = segment_files(dir.path()).pop().unwrap();
    let mut bytes = fs::read(&newest).unwrap();
    let slots = layout(&bytes);
    assert!(
        slots.len() >= 3,
        "{} records in the newest segment",
        slots.len()
    );
    let victim = slots[1];
    bytes[victim.start + 40] ^= 0x01;
    fs::write(&newest, &bytes).unwrap();
    let bin = env!("CARGO_BIN_EXE_trading-engine");

    // replay: non-zero, naming where it stopped and how many it checked.
    let out = Command::new(bin)
        .args(["replay", "--quiet", "--journal"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "replay exited 0: {stderr}");
    assert!(
        stderr.contains(&format!("only {} records checked", victim.seq))
            && stderr.contains(&format!("at byte {}", victim.start)),
        "{stderr}"
    );

    // The run's journal open refuses and changes nothing.
    match run_open(dir.path()) {
        Opened::Refused(msg) => assert!(msg.contains("journal corrupt"), "{msg}"),
        other => panic!("opened: {other:?}"),
    }
    assert_eq!(fs::read(&newest).unwrap(), bytes);

    // journal verify: non-zero, names segment and offset.
    let out = Command::new(bin)
        .args(["journal", "verify", "--journal"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("CORRUPT") && stdout.contains(&format!("byte offset {}", victim.start)),
        "{stdout}"
    );

    // journal repair: prints what it did and journals it.
    let out = Command::new(bin)
        .args(["journal", "repair", "--journal"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("kept: {} records", victim.seq))
            && stdout.contains(".seg.damaged")
            && stdout.contains(&format!("sequence {}", victim.seq)),
        "{stdout}"
    );
    let after = records(dir.path());
    let kept = usize::try_from(victim.seq).unwrap();
    assert!(after[..kept] == original[..kept]);
    let JournalRecord::JournalRepaired {
        offset,
        next_seq,
        records_set_aside,
        ..
    } = JournalRecord::decode(after[kept].1, &after[kept].3).unwrap()
    else {
        panic!("not a repair record")
    };
    assert_eq!((offset, next_seq), (victim.start as u64, victim.seq));
    assert_eq!(records_set_aside, original.len() as u64 - victim.seq - 1);

    // A second repair finds nothing; verify and replay now pass.
    for args in [
        &["journal", "repair", "--journal"][..],
        &["journal", "verify", "--journal"],
        &["replay", "--quiet", "--journal"],
    ] {
        let out = Command::new(bin)
            .args(args)
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn journal_repair_of_a_missing_journal_fails_naming_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let out = Command::new(env!("CARGO_BIN_EXE_trading-engine"))
        .args(["journal", "repair", "--journal"])
        .arg(&missing)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no journal segments in") && stderr.contains("nope"),
        "{stderr}"
    );
}
