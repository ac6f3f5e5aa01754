//! `tessera-manager`: runs [`tessera_manager::cli::serve::main`].

use std::process::ExitCode;

fn main() -> ExitCode {
    tessera_manager::cli::serve::main(std::env::args_os())
}
