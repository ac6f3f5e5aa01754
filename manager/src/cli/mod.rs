//! The `tessera` command: `tessera up` (a local cluster), the admin commands
//! over the REST API, and — as a multi-call binary — every component
//! (`tessera tessera-manager|tessera-agent|tessera-node|tessera-proxy ARGS`
//! runs that component exactly as its own binary would), so one executable
//! is a whole cluster.
//!
//! # Layout
//! * [`up`] — `tessera up` and its stored login.
//! * [`client`] — the REST client and the failures that pick exit codes.
//! * [`commands`] — `status`, `db`, `failover`, `node`, `events`; [`table`] — their output.
//! * [`serve`] — the entry point of `tessera-manager`.

pub mod client;
pub mod commands;
pub mod serve;
pub mod table;
pub mod up;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;

use client::{CliError, Client};
use commands::{DbCommand, NodeCommand, Output};

/// The default manager URL when neither a flag, the environment nor a
/// `tessera up` data dir gives one.
const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// Tessera: start a local cluster, or administer one over its REST API.
#[derive(Debug, clap::Parser)]
#[command(
    name = "tessera",
    version,
    after_help = "\
Login: --url/--user/--password, else TESSERA_URL/TESSERA_USER/TESSERA_PASSWORD, else the
login `tessera up` stored in --data-dir (default ./tessera-data), else http://127.0.0.1:8080.

Exit codes: 0 ok, 1 failed (server error or other), 2 usage error, 3 authentication or
permission refused, 4 not found, 5 request rejected (invalid or conflicting), 6 manager unreachable.

Components: `tessera tessera-manager|tessera-agent|tessera-node|tessera-proxy ARGS` runs that
component as its own binary would (see e.g. `tessera tessera-agent --help`)."
)]
struct Cli {
    /// The manager's URL.
    #[arg(long, global = true, env = "TESSERA_URL")]
    url: Option<String>,
    /// User name.
    #[arg(long, global = true, env = "TESSERA_USER")]
    user: Option<String>,
    /// Password.
    #[arg(long, global = true, env = "TESSERA_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Data dir of `tessera up` (its cluster, and the login the admin commands default to).
    #[arg(long, global = true, default_value = "tessera-data")]
    data_dir: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Start a local cluster (manager, 3 agents, proxy) and a default database; Ctrl-C stops it.
    Up(up::UpArgs),
    /// The cluster's nodes, databases and shards, with their health.
    Status,
    /// Manage databases.
    #[command(subcommand)]
    Db(DbCommand),
    /// Fail over a database: its replicas become masters.
    Failover {
        /// The database's uid or name.
        db: String,
        /// Only these master shards (uids) [default: all of the database's].
        #[arg(long = "shard")]
        shards: Vec<i64>,
    },
    /// Manage nodes.
    #[command(subcommand)]
    Node(NodeCommand),
    /// The event log, most recent first.
    Events {
        /// How many events.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

/// The component a multi-call invocation names: `tessera tessera-node …`.
fn component(args: &[OsString]) -> Option<ExitCode> {
    let name = args.get(1)?.to_str()?;
    // The component sees itself as the program: its own name, then its arguments.
    let own = args[1..].to_vec();
    Some(match name {
        "tessera-manager" => serve::main(own),
        "tessera-agent" => tessera_node::cli::agent(own),
        "tessera-proxy" => tessera_proxy::cli::main(own),
        "tessera-node" => tessera_node::cli::node(own[1..].iter().map(|a| a.to_string_lossy().into_owned()).collect()),
        _ => return None,
    })
}

/// Runs `tessera ARGS…` (`args` starts with the program name).
pub fn main(args: Vec<OsString>) -> ExitCode {
    if let Some(code) = component(&args) {
        return code;
    }
    let cli = Cli::parse_from(args);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tessera: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let out = Output { json: cli.json };
    if let Command::Up(args) = &cli.command {
        return up::run(&cli.data_dir, args).await;
    }
    let stored = up::stored_login(&cli.data_dir).filter(|s| cli.url.as_ref().is_none_or(|u| *u == s.url));
    let url = cli
        .url
        .clone()
        .or_else(|| stored.as_ref().map(|s| s.url.clone()))
        .unwrap_or_else(|| DEFAULT_URL.to_owned());
    let stored = stored.filter(|s| cli.user.as_ref().is_none_or(|u| *u == s.user));
    let user = cli
        .user
        .clone()
        .or_else(|| stored.as_ref().map(|s| s.user.clone()))
        .unwrap_or_else(|| "admin".to_owned());
    let password = cli.password.clone().or_else(|| stored.map(|s| s.password));
    let client = Client::new(&url, &user, password)?;
    match cli.command {
        Command::Up(_) => Ok(()),
        Command::Status => commands::status(&client, out).await,
        Command::Db(cmd) => commands::db(&client, out, cmd).await,
        Command::Failover { db, shards } => commands::failover(&client, out, &db, &shards).await,
        Command::Node(cmd) => commands::node(&client, out, cmd).await,
        Command::Events { limit } => commands::events(&client, out, limit).await,
    }
}
