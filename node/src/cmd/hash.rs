//! Hash commands.

use super::Command;

/// The hash group's commands.
pub const COMMANDS: &[Command] = &[];
