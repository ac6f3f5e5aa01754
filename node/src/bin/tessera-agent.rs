//! The `tessera-agent` binary: runs [`tessera_node::cli::agent`].

use std::process::ExitCode;

fn main() -> ExitCode {
    tessera_node::cli::agent(std::env::args_os())
}
