//! Reloads during replay and recovery: the configuration a live reload
//! applied (the reload-config journal record) and a later session's config,
//! both taken by the running core exactly where the live engine took them.
//!
//! Consumes the running core and config and a new config; produces the
//! core and config after the reload, or the reason nothing changed. Never
//! applies part of a config: either every difference is reloadable and the
//! core takes it, or nothing changes.

use crate::config::{Config, ReloadChange};
use crate::core::Core;

/// Applies a later session's config `new` to a core that ran `running` (a
/// restart with an edited config file behaves like a reload): when every
/// difference is reloadable and the core takes it, the core and `running`
/// take `new` and the changes are returned (empty for an identical config).
/// The engine that writes the session record and every replay of it call
/// this at the same point, so they stay in step.
///
/// # Errors
/// Why `new` was not taken (a key that needs a restart, an invalid config,
/// or the core's refusal); the core and `running` are then unchanged.
pub fn apply_session_config(
    core: &mut Core,
    running: &mut Config,
    new: &Config,
) -> Result<Vec<ReloadChange>, String> {
    let changes = running.reloadable_changes(new).map_err(|e| e.to_string())?;
    if changes.is_empty() {
        return Ok(changes);
    }
    core.reload(new)
        .map_err(|e| format!("the engine cannot take it: {e}"))?;
    *running = new.clone();
    Ok(changes)
}
