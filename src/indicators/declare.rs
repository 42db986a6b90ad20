//! Declaring the indicators a strategy reads, and the typed handles it
//! reads them with.
//!
//! Consumes a strategy's declarations (kind, timeframe, parameters and the
//! config key that set them); produces either a [`Declared`] list (fixed
//! capacity, no allocation: the core compares declarations on a reload
//! with it) or, against the engine's [`IndicatorLayout`], [`Ind`] handles
//! that index the preallocated instances. Cold path, except that the
//! collect and resolve passes never allocate.

use core::fmt;
use core::marker::PhantomData;

use super::kind::Timeframe;
use super::registry::{IndicatorSpec, Registered};

/// Most indicators one strategy may declare.
pub const MAX_INPUTS: usize = 16;

/// A typed handle to one declared indicator: its timeframe and its index
/// in that timeframe's set. Read it through
/// [`MarketView::get`](crate::strategy::MarketView::get).
pub struct Ind<K> {
    /// Timeframe of the instance.
    pub(crate) timeframe: Timeframe,
    /// Index in the timeframe's set; [`Ind::MISSING`] reads as `None`.
    pub(crate) slot: u16,
    /// The kind, for the typed read.
    kind: PhantomData<fn() -> K>,
}

impl<K> Ind<K> {
    /// Slot of a handle the running layout does not hold.
    pub(crate) const MISSING: u16 = u16::MAX;

    pub(crate) const fn new(timeframe: Timeframe, slot: u16) -> Self {
        Self {
            timeframe,
            slot,
            kind: PhantomData,
        }
    }

    /// Returns the timeframe.
    #[must_use]
    pub fn timeframe(&self) -> Timeframe {
        self.timeframe
    }
}

impl<K> Clone for Ind<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Ind<K> {}

impl<K> PartialEq for Ind<K> {
    fn eq(&self, other: &Self) -> bool {
        self.timeframe == other.timeframe && self.slot == other.slot
    }
}

impl<K> fmt::Debug for Ind<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ind({}#{})", self.timeframe, self.slot)
    }
}

/// One declaration: what, on which timeframe, set by which config key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input {
    /// Timeframe.
    pub timeframe: Timeframe,
    /// Kind and parameters.
    pub spec: IndicatorSpec,
    /// The strategy's config key that sets the (main) period, e.g.
    /// `atr_period`; names the key in errors.
    pub key: &'static str,
}

impl Input {
    /// Returns the minutes of history before its first output.
    #[must_use]
    pub fn warmup_minutes(&self) -> u64 {
        (self.spec.warmup_candles() as u64).saturating_mul(u64::from(self.timeframe.minutes()))
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} on {}", self.spec, self.timeframe)
    }
}

/// The declarations of one strategy, in order; fixed capacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Declared {
    items: [Option<Input>; MAX_INPUTS],
    len: usize,
    /// Declarations beyond [`MAX_INPUTS`] (refused when building).
    overflow: usize,
}

impl Default for Declared {
    fn default() -> Self {
        Self {
            items: [None; MAX_INPUTS],
            len: 0,
            overflow: 0,
        }
    }
}

impl Declared {
    /// Returns the declarations in order.
    pub fn iter(&self) -> impl Iterator<Item = &Input> {
        self.items[..self.len].iter().flatten()
    }

    /// Returns the number of declarations dropped for exceeding
    /// [`MAX_INPUTS`].
    #[must_use]
    pub fn overflow(&self) -> usize {
        self.overflow
    }

    /// Returns the longest warm-up of the declarations, minutes.
    #[must_use]
    pub fn warmup_minutes(&self) -> u64 {
        self.iter().map(Input::warmup_minutes).max().unwrap_or(0)
    }

    fn push(&mut self, input: Input) {
        if self.len < MAX_INPUTS {
            self.items[self.len] = Some(input);
            self.len += 1;
        } else {
            self.overflow += 1;
        }
    }
}

/// The indicator instances the engine preallocates, per timeframe, in
/// first-declared order: the union of the declarations it was given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndicatorLayout {
    m1: Vec<IndicatorSpec>,
    m5: Vec<IndicatorSpec>,
}

impl IndicatorLayout {
    /// Returns the instances of `timeframe`.
    #[must_use]
    pub fn specs(&self, timeframe: Timeframe) -> &[IndicatorSpec] {
        match timeframe {
            Timeframe::M1 => &self.m1,
            Timeframe::M5 => &self.m5,
        }
    }

    /// Returns the index of `spec` on `timeframe`, if held.
    #[must_use]
    pub fn position(&self, timeframe: Timeframe, spec: &IndicatorSpec) -> Option<usize> {
        self.specs(timeframe).iter().position(|s| s == spec)
    }

    /// Returns true when an instance of `spec`'s kind (any parameters) is
    /// held on `timeframe`.
    #[must_use]
    pub fn has_kind(&self, timeframe: Timeframe, spec: &IndicatorSpec) -> bool {
        self.specs(timeframe).iter().any(|s| s.same_kind(spec))
    }

    /// Adds `input` unless an equal instance is held.
    pub fn add(&mut self, input: &Input) {
        if self.position(input.timeframe, &input.spec).is_none() {
            match input.timeframe {
                Timeframe::M1 => self.m1.push(input.spec),
                Timeframe::M5 => self.m5.push(input.spec),
            }
        }
    }

    /// Returns the longest warm-up of the instances, minutes.
    #[must_use]
    pub fn warmup_minutes(&self) -> u64 {
        let longest = |tf: Timeframe| {
            self.specs(tf)
                .iter()
                .map(|s| (s.warmup_candles() as u64).saturating_mul(u64::from(tf.minutes())))
                .max()
                .unwrap_or(0)
        };
        longest(Timeframe::M1).max(longest(Timeframe::M5))
    }
}

/// What a strategy declares its indicators to: the core first collects
/// every strategy's declarations, builds the union, then resolves each
/// strategy's handles against it.
#[derive(Debug)]
pub struct Declare<'a> {
    mode: Mode<'a>,
}

#[derive(Debug)]
enum Mode<'a> {
    Collect(&'a mut Declared),
    Resolve(&'a IndicatorLayout),
}

impl<'a> Declare<'a> {
    /// Returns a declarer that records into `out` (handles it returns read
    /// as `None`).
    pub fn collect(out: &'a mut Declared) -> Self {
        Self {
            mode: Mode::Collect(out),
        }
    }

    /// Returns a declarer whose handles index `layout` (a declaration the
    /// layout lacks reads as `None`).
    #[must_use]
    pub fn resolve(layout: &'a IndicatorLayout) -> Self {
        Self {
            mode: Mode::Resolve(layout),
        }
    }

    /// Declares that the strategy reads indicator `K` with `params` on
    /// `timeframe`, the parameters coming from its config key `key`, and
    /// returns the handle to read it with.
    pub fn read<K: Registered>(
        &mut self,
        timeframe: Timeframe,
        params: K::Params,
        key: &'static str,
    ) -> Ind<K> {
        let spec = K::spec(params);
        match &mut self.mode {
            Mode::Collect(out) => {
                out.push(Input {
                    timeframe,
                    spec,
                    key,
                });
                Ind::new(timeframe, Ind::<K>::MISSING)
            }
            Mode::Resolve(layout) => {
                let slot = layout
                    .position(timeframe, &spec)
                    .and_then(|i| u16::try_from(i).ok())
                    .unwrap_or(Ind::<K>::MISSING);
                Ind::new(timeframe, slot)
            }
        }
    }
}
