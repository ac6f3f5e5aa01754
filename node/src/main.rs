//! The `tessera-node` binary: runs [`tessera_node::cli::node`].

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: tessera_node::alloc::CountingAlloc = tessera_node::alloc::CountingAlloc;

fn main() -> ExitCode {
    tessera_node::cli::node(std::env::args().skip(1).collect())
}
