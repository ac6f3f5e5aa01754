//! Set commands, including the multi-key algebra (SINTER, SUNION, SDIFF and their STORE forms).

use super::Command;

/// The set group's commands.
pub const COMMANDS: &[Command] = &[];
