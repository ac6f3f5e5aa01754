//! Sorted set commands: scores, ranks, ranges by score, rank and lex, and the set algebra.

use super::Command;

/// The zset group's commands.
pub const COMMANDS: &[Command] = &[];
