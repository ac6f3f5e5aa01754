//! The `tessera-proxy` binary: runs [`tessera_proxy::cli::main`].

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tessera_proxy::cli::main(std::env::args_os())
}
