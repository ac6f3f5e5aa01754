//! List commands: pushes, pops, ranges, moves and the blocking pops.

use super::Command;

/// The list group's commands.
pub const COMMANDS: &[Command] = &[];
