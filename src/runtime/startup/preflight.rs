//! Pre-flight checks run before the engine trades (and by
//! `trading-engine check`): configuration, journal directory, exchange
//! reachability, clock skew, credentials, balance, symbol rules, leverage
//! and margin type.
//!
//! Consumes a validated-or-not [`Config`], a [`RestClient`] built for it
//! and [`PreflightOptions`]; produces a [`Checklist`], one [`CheckLine`]
//! per [`CheckItem`] in a fixed order, printable line by line (✓ / ✗ / –
//! and a detail). Never places or cancels an order; it changes leverage or
//! margin type only when [`PreflightOptions::fix_account`] is set. Never
//! prints credentials. Once a check that later ones depend on fails, the
//! dependent checks are reported as skipped (never as passed).

use core::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{Config, ConfigError, Credentials, MarginType as ConfigMarginType};
use crate::io::clock::IoClock;
use crate::io::dto_trade::{Balance, MarginType};
use crate::io::error::AccountError;
use crate::io::order::PositionSide;
use crate::io::rest::{RestClient, RestConfig, RestSetupError};
use crate::io::rest_account::PositionMode;
use crate::io::symbols::SymbolTable;
use crate::io::tls::TlsOptions;
use crate::types::InstrumentRules;

/// The margin asset whose balance is checked.
pub const MARGIN_ASSET: &str = "USDT";

/// One pre-flight check, in the order they run and print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckItem {
    /// The configuration parses and validates.
    Config,
    /// The journal directory exists (or was created), is writable and has
    /// the minimum free space.
    JournalDir,
    /// The REST endpoint answers.
    ExchangeReachable,
    /// |local clock − exchange clock| is within `exchange.max_clock_skew_ms`.
    ClockSkew,
    /// A signed request is accepted.
    Credentials,
    /// The margin balance is at least `risk.min_balance`.
    Balance,
    /// Every configured symbol is listed with usable rules.
    SymbolRules,
    /// Leverage equals `exchange.leverage` on every symbol.
    Leverage,
    /// Margin type equals `exchange.margin_type` on every symbol.
    MarginType,
}

impl CheckItem {
    /// Every check, in run and print order.
    pub const ALL: [Self; 9] = [
        Self::Config,
        Self::JournalDir,
        Self::ExchangeReachable,
        Self::ClockSkew,
        Self::Credentials,
        Self::Balance,
        Self::SymbolRules,
        Self::Leverage,
        Self::MarginType,
    ];

    /// Returns the checklist label (e.g. `clock skew`).
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Config => "config valid",
            Self::JournalDir => "journal directory",
            Self::ExchangeReachable => "exchange reachable",
            Self::ClockSkew => "clock skew",
            Self::Credentials => "credentials accepted",
            Self::Balance => "balance",
            Self::SymbolRules => "symbol rules",
            Self::Leverage => "leverage",
            Self::MarginType => "margin type",
        }
    }
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckStatus {
    /// The check passed (possibly after fixing the account setting).
    Passed,
    /// The check failed.
    Failed,
    /// Not run because a check it depends on failed.
    Skipped,
}

impl CheckStatus {
    /// Returns the mark printed before the label: ✓, ✗ or –.
    #[must_use]
    pub const fn mark(self) -> &'static str {
        match self {
            Self::Passed => "✓",
            Self::Failed => "✗",
            Self::Skipped => "–",
        }
    }
}

/// One printed line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    /// Which check.
    pub item: CheckItem,
    /// Its outcome.
    pub status: CheckStatus,
    /// What was found (or why it failed / was skipped).
    pub detail: String,
}

impl fmt::Display for CheckLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.mark(),
            self.item.label(),
            self.detail
        )
    }
}

/// The result of the pre-flight checks. `Display` prints one line per
/// check and a summary line.
#[derive(Debug, Clone, PartialEq)]
pub struct Checklist {
    lines: Vec<CheckLine>,
    rules: Option<Vec<InstrumentRules>>,
    balance: Option<f64>,
}

impl Checklist {
    /// Returns a checklist whose configuration check failed with `err`;
    /// every other check is skipped.
    #[must_use]
    pub fn config_rejected(err: &ConfigError) -> Self {
        let mut list = Self::empty();
        list.push(CheckItem::Config, CheckStatus::Failed, err.to_string());
        list.skip_rest("the configuration is invalid");
        list
    }

    fn empty() -> Self {
        Self {
            lines: Vec::with_capacity(CheckItem::ALL.len()),
            rules: None,
            balance: None,
        }
    }

    fn push(&mut self, item: CheckItem, status: CheckStatus, detail: impl Into<String>) {
        self.lines.push(CheckLine {
            item,
            status,
            detail: detail.into(),
        });
    }

    fn pass(&mut self, item: CheckItem, detail: impl Into<String>) {
        self.push(item, CheckStatus::Passed, detail);
    }

    fn fail(&mut self, item: CheckItem, detail: impl Into<String>) {
        self.push(item, CheckStatus::Failed, detail);
    }

    /// Marks every check not yet reported as skipped because of `why`.
    fn skip_rest(&mut self, why: &str) {
        for item in CheckItem::ALL {
            if self.line(item).is_none() {
                self.push(item, CheckStatus::Skipped, format!("skipped: {why}"));
            }
        }
        self.lines
            .sort_by_key(|l| CheckItem::ALL.iter().position(|i| *i == l.item));
    }

    /// Returns true when every check ran and none failed (a check skipped
    /// because it does not apply, such as the account checks in paper
    /// mode, does not fail the list; one skipped after a failure comes
    /// with that failure).
    #[must_use]
    pub fn passed(&self) -> bool {
        self.lines.len() == CheckItem::ALL.len()
            && self.lines.iter().all(|l| l.status != CheckStatus::Failed)
    }

    /// Returns the lines in print order.
    #[must_use]
    pub fn lines(&self) -> &[CheckLine] {
        &self.lines
    }

    /// Returns the line of `item`, if it was reported.
    #[must_use]
    pub fn line(&self, item: CheckItem) -> Option<&CheckLine> {
        self.lines.iter().find(|l| l.item == item)
    }

    /// Returns the lines that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CheckLine> {
        self.lines
            .iter()
            .filter(|l| l.status == CheckStatus::Failed)
    }

    /// Returns the instrument rules fetched from the exchange, one per
    /// `market.symbols` entry (`SymbolId(i)` is `rules[i]`), when the
    /// symbol-rules check passed: what [`Core::try_new`](crate::core::Core::try_new) needs.
    #[must_use]
    pub fn rules(&self) -> Option<&[InstrumentRules]> {
        self.rules.as_deref()
    }

    /// Returns the margin-asset wallet balance found, if the balance was read.
    #[must_use]
    pub fn balance(&self) -> Option<f64> {
        self.balance
    }
}

impl fmt::Display for Checklist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        let failed = self.failures().count();
        let skipped = self
            .lines
            .iter()
            .filter(|l| l.status == CheckStatus::Skipped)
            .count();
        if self.passed() && skipped == 0 {
            write!(f, "All {} checks passed", self.lines.len())
        } else if self.passed() {
            write!(
                f,
                "{} checks passed, {skipped} not applicable",
                self.lines.len() - skipped
            )
        } else {
            write!(
                f,
                "{failed} of {} checks failed",
                CheckItem::ALL.len().max(self.lines.len())
            )
        }
    }
}

/// Settings of the checks that the configuration does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreflightOptions {
    /// Least free space in the journal directory's file system, bytes.
    pub min_journal_free_bytes: u64,
    /// Set leverage and margin type when they differ from the
    /// configuration instead of failing.
    pub fix_account: bool,
}

impl PreflightOptions {
    /// Returns the options for `cfg`: room for four journal segments, and
    /// `fix_account` as given.
    #[must_use]
    pub fn for_config(cfg: &Config, fix_account: bool) -> Self {
        Self {
            min_journal_free_bytes: cfg.journal.segment_size_bytes.saturating_mul(4),
            fix_account,
        }
    }
}

/// Returns the REST client configuration for `cfg`: the effective base URL,
/// `recv_window_ms`, the request timeout, the extra CA file (resolved
/// against `engine.working_dir`) and the credentials, if any.
#[must_use]
pub fn rest_config(cfg: &Config, credentials: Option<&Credentials>) -> RestConfig {
    let (key, secret) =
        credentials.map_or(("", ""), |c| (c.api_key.expose(), c.api_secret.expose()));
    let mut rest = RestConfig::new(cfg.exchange.effective_rest_base_url(), key, secret);
    rest.recv_window_ms = u32::try_from(cfg.exchange.recv_window_ms).unwrap_or(u32::MAX);
    rest.http.request_timeout = Duration::from_millis(cfg.exchange.request_timeout_ms);
    if let Some(ca) = &cfg.exchange.ca_file {
        rest.http.tls = TlsOptions {
            use_webpki_roots: true,
            extra_ca_file: Some(cfg.engine.resolve_path(ca)),
        };
    }
    rest
}

/// Runs every check for a loaded configuration: builds the REST client
/// from `cfg` and `credentials` and calls [`preflight`]. A missing
/// credential fails the credentials check in live mode (public checks
/// still run); in paper and dry-run mode the account checks (credentials,
/// balance, leverage, margin type) are skipped instead.
#[must_use]
pub fn run_checks(
    cfg: &Config,
    credentials: Result<Credentials, String>,
    opts: &PreflightOptions,
) -> Checklist {
    let creds = credentials.as_ref().ok();
    match RestClient::try_new(rest_config(cfg, creds)) {
        Ok(mut rest) => {
            let mut list = preflight(cfg, &mut rest, opts);
            if credentials.is_err() && cfg.engine.mode != crate::config::Mode::Live {
                // Paper and dry-run only read public data: the account
                // checks do not apply, and nothing fails for want of keys.
                for item in [
                    CheckItem::Credentials,
                    CheckItem::Balance,
                    CheckItem::Leverage,
                    CheckItem::MarginType,
                ] {
                    replace(
                        &mut list,
                        item,
                        CheckStatus::Skipped,
                        format!(
                            "skipped: no credentials, needed only in live mode (mode {})",
                            cfg.engine.mode.as_str()
                        ),
                    );
                }
            } else if let Err(why) = credentials {
                replace(&mut list, CheckItem::Credentials, CheckStatus::Failed, why);
                if list.line(CheckItem::Balance).map(|l| l.status) == Some(CheckStatus::Failed) {
                    replace(
                        &mut list,
                        CheckItem::Balance,
                        CheckStatus::Skipped,
                        "skipped: no credentials".to_owned(),
                    );
                }
            }
            list
        }
        Err(e) => {
            let mut list = Checklist::empty();
            check_config(cfg, &mut list);
            check_journal(cfg, opts, &mut list);
            list.fail(CheckItem::ExchangeReachable, setup_detail(&e));
            list.skip_rest("no REST client");
            list
        }
    }
}

fn setup_detail(e: &RestSetupError) -> String {
    format!("cannot build the REST client: {e}")
}

fn replace(list: &mut Checklist, item: CheckItem, status: CheckStatus, detail: String) {
    if let Some(line) = list.lines.iter_mut().find(|l| l.item == item) {
        line.status = status;
        line.detail = detail;
    }
}

/// Runs every check against `rest`, which must be built for `cfg`
/// (see [`rest_config`]). On success the client's symbol table holds
/// `market.symbols` (ids = positions) and its clock offset is measured.
#[must_use]
pub fn preflight<C: IoClock>(
    cfg: &Config,
    rest: &mut RestClient<C>,
    opts: &PreflightOptions,
) -> Checklist {
    let mut list = Checklist::empty();
    check_config(cfg, &mut list);
    check_journal(cfg, opts, &mut list);
    if let Err(e) = rest.connect() {
        list.fail(
            CheckItem::ExchangeReachable,
            format!("{}: {e}", cfg.exchange.effective_rest_base_url()),
        );
        list.skip_rest("the exchange is unreachable");
        return list;
    }
    match rest.sync_time() {
        Ok(skew) => {
            list.pass(
                CheckItem::ExchangeReachable,
                format!(
                    "{} answered in {} ms",
                    cfg.exchange.effective_rest_base_url(),
                    skew.round_trip_ms
                ),
            );
            let abs = skew.offset_ms.unsigned_abs();
            let detail = format!(
                "{:+} ms (bound {} ms)",
                skew.offset_ms, cfg.exchange.max_clock_skew_ms
            );
            if abs <= cfg.exchange.max_clock_skew_ms {
                list.pass(CheckItem::ClockSkew, detail);
            } else {
                list.fail(CheckItem::ClockSkew, detail);
            }
        }
        Err(e) => {
            list.fail(
                CheckItem::ExchangeReachable,
                format!("{}: {e}", cfg.exchange.effective_rest_base_url()),
            );
            list.skip_rest("the exchange is unreachable");
            return list;
        }
    }
    let account_ok = check_account(cfg, rest, &mut list);
    let symbols_ok = check_symbols(cfg, rest, &mut list);
    if account_ok && symbols_ok {
        check_leverage_and_margin(cfg, rest, opts, &mut list);
    }
    let why = if symbols_ok {
        "credentials refused"
    } else {
        "symbol rules unavailable"
    };
    list.skip_rest(why);
    list
}

fn check_config(cfg: &Config, list: &mut Checklist) {
    match cfg.validate().and_then(|()| cfg.check_paths()) {
        Ok(()) => list.pass(
            CheckItem::Config,
            format!(
                "mode {}, symbols {}",
                cfg.engine.mode.as_str(),
                cfg.market.symbols.join(", ")
            ),
        ),
        Err(e) => list.fail(CheckItem::Config, e.to_string()),
    }
}

fn check_journal(cfg: &Config, opts: &PreflightOptions, list: &mut Checklist) {
    let dir = cfg.engine.resolve_path(&cfg.journal.dir);
    match journal_dir_free_bytes(&dir) {
        Ok(free) if free >= opts.min_journal_free_bytes => list.pass(
            CheckItem::JournalDir,
            format!(
                "{} writable, {} MiB free (minimum {} MiB)",
                dir.display(),
                free >> 20,
                opts.min_journal_free_bytes >> 20
            ),
        ),
        Ok(free) => list.fail(
            CheckItem::JournalDir,
            format!(
                "{} has {} MiB free, below the minimum {} MiB",
                dir.display(),
                free >> 20,
                opts.min_journal_free_bytes >> 20
            ),
        ),
        Err(e) => list.fail(CheckItem::JournalDir, e.to_string()),
    }
}

/// Why the journal directory is unusable.
#[derive(Debug)]
pub enum JournalDirError {
    /// The directory could not be created.
    Create(PathBuf, std::io::Error),
    /// A probe file could not be written (or removed).
    NotWritable(PathBuf, std::io::Error),
    /// The file system's free space could not be read.
    FreeSpace(PathBuf, std::io::Error),
}

impl fmt::Display for JournalDirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create(p, e) => write!(f, "cannot create {}: {e}", p.display()),
            Self::NotWritable(p, e) => write!(f, "{} is not writable: {e}", p.display()),
            Self::FreeSpace(p, e) => {
                write!(f, "cannot read the free space of {}: {e}", p.display())
            }
        }
    }
}

impl std::error::Error for JournalDirError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Create(_, e) | Self::NotWritable(_, e) | Self::FreeSpace(_, e) => Some(e),
        }
    }
}

/// Creates `dir` if needed, proves it writable with a probe file (removed
/// again), and returns the bytes available to unprivileged users on its
/// file system.
///
/// # Errors
/// [`JournalDirError`] naming the directory and the OS error.
pub fn journal_dir_free_bytes(dir: &Path) -> Result<u64, JournalDirError> {
    std::fs::create_dir_all(dir).map_err(|e| JournalDirError::Create(dir.to_path_buf(), e))?;
    let probe = dir.join(format!(".preflight-probe-{}", std::process::id()));
    std::fs::write(&probe, b"probe")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| JournalDirError::NotWritable(dir.to_path_buf(), e))?;
    let st = rustix::fs::statvfs(dir)
        .map_err(|e| JournalDirError::FreeSpace(dir.to_path_buf(), e.into()))?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Credentials and balance; returns true when a signed call succeeded.
fn check_account<C: IoClock>(cfg: &Config, rest: &mut RestClient<C>, list: &mut Checklist) -> bool {
    match rest.balance() {
        Ok(balances) => {
            list.pass(CheckItem::Credentials, "signed request accepted");
            check_balance(cfg, &balances, list);
            true
        }
        Err(e) => {
            list.fail(
                CheckItem::Credentials,
                format!("signed request refused: {e}"),
            );
            false
        }
    }
}

fn check_balance(cfg: &Config, balances: &[Balance], list: &mut Checklist) {
    let Some(b) = balances.iter().find(|b| b.asset == MARGIN_ASSET) else {
        list.fail(
            CheckItem::Balance,
            format!("no {MARGIN_ASSET} balance on the account"),
        );
        return;
    };
    let wallet = b.balance.to_f64();
    list.balance = Some(wallet);
    let detail = format!(
        "{wallet:.2} {MARGIN_ASSET} (available {:.2}, minimum {:.2})",
        b.available_margin.to_f64(),
        cfg.risk.min_balance
    );
    if wallet >= cfg.risk.min_balance {
        list.pass(CheckItem::Balance, detail);
    } else {
        list.fail(CheckItem::Balance, detail);
    }
}

/// Fetches contracts and installs the symbol table; returns true on success.
fn check_symbols<C: IoClock>(cfg: &Config, rest: &mut RestClient<C>, list: &mut Checklist) -> bool {
    let contracts = match rest.contracts(None) {
        Ok(c) => c,
        Err(e) => {
            list.fail(
                CheckItem::SymbolRules,
                format!("contracts request failed: {e}"),
            );
            return false;
        }
    };
    let names: Vec<&str> = cfg.market.symbols.iter().map(String::as_str).collect();
    let table = match SymbolTable::from_contracts(&contracts, &names) {
        Ok(t) => t,
        Err(e) => {
            list.fail(CheckItem::SymbolRules, e.to_string());
            return false;
        }
    };
    let mut parts = Vec::with_capacity(names.len());
    let mut rules = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let Some(info) = u16::try_from(i)
            .ok()
            .and_then(|i| table.get(crate::types::SymbolId(i)))
        else {
            list.fail(
                CheckItem::SymbolRules,
                format!("{name} missing from the table"),
            );
            return false;
        };
        rules.push(info.rules);
        parts.push(format!(
            "{name} tick {} step {} min qty {}",
            info.rules.tick.to_f64(),
            info.rules.step.to_f64(),
            info.rules.min_qty
        ));
    }
    list.pass(CheckItem::SymbolRules, parts.join("; "));
    list.rules = Some(rules);
    rest.set_symbols(table);
    true
}

fn wanted_margin(cfg: &Config) -> MarginType {
    match cfg.exchange.margin_type {
        ConfigMarginType::Isolated => MarginType::Isolated,
        ConfigMarginType::Crossed => MarginType::Crossed,
    }
}

fn check_leverage_and_margin<C: IoClock>(
    cfg: &Config,
    rest: &mut RestClient<C>,
    opts: &PreflightOptions,
    list: &mut Checklist,
) {
    let mode = match rest.position_mode() {
        Ok(m) => m,
        Err(e) => {
            let why = format!("position mode unreadable: {e}");
            list.fail(CheckItem::Leverage, why.clone());
            list.fail(CheckItem::MarginType, why);
            return;
        }
    };
    match leverage_outcome(cfg, rest, mode, opts.fix_account) {
        Ok(detail) => list.pass(CheckItem::Leverage, detail),
        Err(detail) => list.fail(CheckItem::Leverage, detail),
    }
    match margin_outcome(cfg, rest, opts.fix_account) {
        Ok(detail) => list.pass(CheckItem::MarginType, detail),
        Err(detail) => list.fail(CheckItem::MarginType, detail),
    }
}

fn account_err(symbol: &str, what: &str, e: &AccountError) -> String {
    format!("{symbol}: {what} failed: {e}")
}

/// Returns the passing detail, or the failing one.
fn leverage_outcome<C: IoClock>(
    cfg: &Config,
    rest: &mut RestClient<C>,
    mode: PositionMode,
    fix: bool,
) -> Result<String, String> {
    let want = cfg.exchange.leverage;
    let sides: &[PositionSide] = match mode {
        PositionMode::Hedge => &[PositionSide::Long, PositionSide::Short],
        PositionMode::OneWay => &[PositionSide::Both],
    };
    let mut parts = Vec::new();
    for symbol in &cfg.market.symbols {
        let lev = rest
            .leverage(symbol)
            .map_err(|e| account_err(symbol, "reading leverage", &e))?;
        let have = match mode {
            PositionMode::Hedge => [lev.long_leverage, lev.short_leverage],
            PositionMode::OneWay => [lev.long_leverage, lev.long_leverage],
        };
        if have.iter().all(|l| *l == want) {
            parts.push(format!("{symbol} {want}x"));
            continue;
        }
        let was = format!("{}x/{}x", have[0], have[1]);
        if !fix {
            return Err(format!(
                "{symbol} is {was} on the exchange, config says {want}x (rerun with --fix to set it)"
            ));
        }
        for side in sides {
            rest.set_leverage(symbol, *side, want)
                .map_err(|e| account_err(symbol, "setting leverage", &e))?;
        }
        parts.push(format!("{symbol} set to {want}x (was {was})"));
    }
    Ok(format!("{} ({mode:?} mode)", parts.join(", ")))
}

fn margin_outcome<C: IoClock>(
    cfg: &Config,
    rest: &mut RestClient<C>,
    fix: bool,
) -> Result<String, String> {
    let want = wanted_margin(cfg);
    let mut parts = Vec::new();
    for symbol in &cfg.market.symbols {
        let have = rest
            .margin_type(symbol)
            .map_err(|e| account_err(symbol, "reading margin type", &e))?;
        if have == want {
            parts.push(format!("{symbol} {}", want.as_str()));
            continue;
        }
        if !fix {
            return Err(format!(
                "{symbol} is {} on the exchange, config says {} (rerun with --fix to set it)",
                have.as_str(),
                want.as_str()
            ));
        }
        rest.set_margin_type(symbol, want)
            .map_err(|e| account_err(symbol, "setting margin type", &e))?;
        parts.push(format!(
            "{symbol} set to {} (was {})",
            want.as_str(),
            have.as_str()
        ));
    }
    Ok(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_config_fails_first_line_and_skips_the_rest() {
        let err = Config::from_toml_str("[engine]\nmode = \"sideways\"\n").unwrap_err();
        let list = Checklist::config_rejected(&err);
        assert!(!list.passed());
        assert_eq!(list.lines().len(), CheckItem::ALL.len());
        assert_eq!(list.lines()[0].status, CheckStatus::Failed);
        assert!(list.lines()[1..]
            .iter()
            .all(|l| l.status == CheckStatus::Skipped));
        let text = list.to_string();
        assert!(text.starts_with("✗ config valid: "), "{text}");
        assert!(text.ends_with("1 of 9 checks failed"), "{text}");
    }

    #[test]
    fn journal_dir_is_created_probed_and_measured() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let free = journal_dir_free_bytes(&dir).unwrap();
        assert!(free > 0);
        assert!(dir.is_dir());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "probe removed");
    }

    #[test]
    fn journal_dir_under_a_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        let err = journal_dir_free_bytes(&file.join("journal")).unwrap_err();
        assert!(matches!(err, JournalDirError::Create(..)), "{err}");
    }

    #[test]
    fn rest_config_takes_endpoint_timeouts_and_ca_from_config() {
        let mut cfg = Config::default();
        cfg.exchange.rest_base_url = Some("http://127.0.0.1:9".into());
        cfg.exchange.request_timeout_ms = 1234;
        cfg.exchange.recv_window_ms = 4000;
        cfg.exchange.ca_file = Some("sim.pem".into());
        cfg.engine.working_dir = "/srv/te".into();
        let rc = rest_config(&cfg, None);
        assert_eq!(rc.base_url, "http://127.0.0.1:9");
        assert_eq!(rc.http.request_timeout, Duration::from_millis(1234));
        assert_eq!(rc.recv_window_ms, 4000);
        assert_eq!(
            rc.http.tls.extra_ca_file.as_deref(),
            Some(Path::new("/srv/te/sim.pem"))
        );
        assert!(rc.api_key.is_empty());
    }
}
