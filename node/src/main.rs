//! The `tessera-node` binary: parses arguments like `redis-server` and runs
//! the server.

use std::process::ExitCode;

use tessera_node::config::Config;

#[global_allocator]
static GLOBAL: tessera_node::alloc::CountingAlloc = tessera_node::alloc::CountingAlloc;

const USAGE: &str = "\
Usage: tessera-node [/path/to/redis.conf] [options] [-]
       tessera-node - (read config from stdin)
       tessera-node -v or --version
       tessera-node -h or --help

A Redis-compatible server. Options are redis.conf directives given as
--directive value; they are applied after the config file.

Examples:
       tessera-node (run the server with default conf)
       tessera-node /etc/redis/6379.conf
       tessera-node --port 7777
       tessera-node /etc/myredis.conf --loglevel verbose
       tessera-node --port 7777 --replicaof 127.0.0.1 8888
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-v" | "--version") => {
            println!(
                "tessera-node v={} redis_version={} bits=64",
                tessera_node::VERSION,
                tessera_node::REDIS_VERSION
            );
            return ExitCode::SUCCESS;
        }
        Some("-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config = match Config::load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    tessera_node::logging::init(&config);
    match tessera_node::start(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("tessera-node: {e:#}");
            ExitCode::FAILURE
        }
    }
}
