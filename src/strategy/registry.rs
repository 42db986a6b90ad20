//! The strategy registry macro: from one `field: Type,` line per strategy
//! it declares the strategy's module, and generates [`StrategyName`]
//! (`strategies.order` entries), [`StrategiesConfig`] (the `[strategies]`
//! section with one typed table per strategy, unknown keys refused) and
//! the dispatch from a name to the plug-in's declarations.
//!
//! Consumes the registry line list in `mod.rs`; produces types and
//! functions at compile time. Nothing here runs on the hot path.
//!
//! [`StrategyName`]: super::StrategyName
//! [`StrategiesConfig`]: super::StrategiesConfig

/// Returns true when two strings are equal (usable in constants).
#[must_use]
pub(crate) const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Declares the registry; see the module docs.
macro_rules! strategy_registry {
    ($($(#[$doc:meta])* $field:ident: $ty:ident,)*) => {
        $(
            mod $field;
            pub use self::$field::*;
            const _: () = assert!(
                registry::const_str_eq(<$ty as Plugin>::NAME, stringify!($field)),
                "a strategy's Plugin::NAME must equal its registry field name"
            );
            impl ConfigOf<$ty> for StrategiesConfig {
                fn config_of(&self) -> &<$ty as Plugin>::Config {
                    &self.$field
                }
            }
        )*

        /// A registry strategy's name, as used in `strategies.order`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum StrategyName {
            $($(#[$doc])* $ty,)*
        }

        impl StrategyName {
            /// Every registry strategy, in registry (default priority) order.
            pub const ALL: [Self; [$(stringify!($field)),*].len()] = [$(Self::$ty),*];

            /// Returns the configuration name (`mtf_long`).
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$ty => <$ty as Plugin>::NAME,)*
                }
            }

            /// Returns whether `key` of this strategy's table may change on
            /// a reload.
            #[must_use]
            pub fn is_reloadable_key(self, key: &str) -> bool {
                match self {
                    $(Self::$ty => <<$ty as Plugin>::Config as StrategyConfig>::RELOADABLE
                        .contains(&key),)*
                }
            }

            /// Returns whether the strategy runs with the built-in defaults.
            #[must_use]
            pub fn enabled_by_default(self) -> bool {
                match self {
                    $(Self::$ty => <<$ty as Plugin>::Config as Default>::default().enabled(),)*
                }
            }
        }

        /// The `[strategies]` section: tie-break order and one table per
        /// registry strategy.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct StrategiesConfig {
            /// Priority for equal-confidence signals, first wins; every
            /// enabled strategy must be listed once. Default: every registry
            /// strategy in registry order.
            pub order: Vec<StrategyName>,
            $(
                #[doc = concat!("`[strategies.", stringify!($field), "]`.")]
                pub $field: <$ty as Plugin>::Config,
            )*
        }

        impl Default for StrategiesConfig {
            fn default() -> Self {
                Self {
                    order: StrategyName::ALL.to_vec(),
                    $($field: Default::default(),)*
                }
            }
        }

        impl StrategiesConfig {
            /// Returns the `enabled` flag of `name`'s table.
            #[must_use]
            pub fn is_enabled(&self, name: StrategyName) -> bool {
                match name {
                    $(StrategyName::$ty => self.$field.enabled(),)*
                }
            }

            /// Sets the `enabled` flag of `name`'s table.
            pub fn set_enabled(&mut self, name: StrategyName, on: bool) {
                match name {
                    $(StrategyName::$ty => self.$field.set_enabled(on),)*
                }
            }

            /// Returns the indicators `name` declares with these periods.
            /// Never allocates.
            #[must_use]
            pub fn declared(&self, name: StrategyName) -> Declared {
                let mut out = Declared::default();
                let mut d = Declare::collect(&mut out);
                match name {
                    $(StrategyName::$ty => {
                        let _ = <$ty as Plugin>::inputs(&self.$field, &mut d);
                    })*
                }
                out
            }

            /// Returns the minutes of history `name` needs before it signals.
            #[must_use]
            pub fn warmup_minutes(&self, name: StrategyName) -> u64 {
                match name {
                    $(StrategyName::$ty => <$ty as Plugin>::warmup_minutes(&self.$field),)*
                }
            }

            /// Records the range and relation problems of every table as
            /// `(full key, message)`.
            pub fn check_params(&self, out: &mut Vec<(String, String)>) {
                $(self.$field.validate(&mut ParamCheck::new(stringify!($field), out));)*
            }

            /// Builds `name` with its table's parameters.
            #[must_use]
            pub fn build_one(&self, name: StrategyName) -> Box<dyn Strategy> {
                match name {
                    $(StrategyName::$ty => Box::new(Plugged::<$ty>::new(&self.$field)),)*
                }
            }
        }
    };
}
