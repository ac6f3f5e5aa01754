//! `tessera`: runs [`tessera_manager::cli::main`] — `tessera up`, the admin
//! commands, and every component of a cluster as a subcommand.

use std::process::ExitCode;

// The node's allocator: `tessera tessera-node` counts its memory as tessera-node does.
#[global_allocator]
static GLOBAL: tessera_node::alloc::CountingAlloc = tessera_node::alloc::CountingAlloc;

fn main() -> ExitCode {
    tessera_manager::cli::main(std::env::args_os().collect())
}
