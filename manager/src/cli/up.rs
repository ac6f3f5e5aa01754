//! `tessera up`: a complete local cluster from one command — the manager, 3
//! agents and a proxy, each a child process (`tessera tessera-manager …`,
//! …) in its own process group, with their state and logs under one data
//! dir — and a default database on first start. Ctrl-C (or SIGTERM) stops
//! them all, shards included; running it again resumes the same cluster.
//!
//! `<data-dir>/cluster.json` (mode 0600) keeps what a restart and the admin
//! commands need: the manager's URL, the admin login and the cluster token.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use reqwest::Method;
use serde_json::json;
use tessera_node::agent::PortRange;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::client::{CliError, Client};

/// How many agents (nodes) the local cluster has.
const AGENTS: u16 = 3;
/// The name of the database created on first start.
const DEFAULT_DB: &str = "default";
/// The admin user `tessera up` creates.
const ADMIN: &str = "admin";
/// How long each start-up step may take on a loaded machine.
const STEP_TIMEOUT: Duration = Duration::from_secs(180);
/// How long a component may take to stop before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// `tessera up` flags.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Address the console, the REST API and the database endpoints listen
    /// on. Agents and shards listen on it too, or on the loopback address
    /// when it is 0.0.0.0 or :: (clients reach shards through the endpoints).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port of the web console, the REST API and /metrics.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Endpoint port of the default database, created on first start.
    #[arg(long, default_value_t = 12000)]
    pub db_port: u16,
    /// First of the 3 consecutive ports of the agents' APIs.
    #[arg(long, default_value_t = 9101)]
    pub agent_port: u16,
    /// Ports for shards, split evenly between the 3 agents.
    #[arg(long, default_value = "30000-30299")]
    pub shard_ports: PortRange,
}

/// What `tessera up` keeps in `<data-dir>/cluster.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Stored {
    /// The manager's URL.
    pub url: String,
    /// The admin user and password.
    pub user: String,
    pub password: String,
    /// The secret agents and the proxy present to the manager.
    pub cluster_token: String,
    /// Whether the default database was created (it is created only once).
    #[serde(default)]
    pub default_database_created: bool,
}

impl Stored {
    /// The file in `data_dir`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("cluster.json")
    }

    /// Reads the file of `data_dir`, if there is one.
    ///
    /// # Errors
    /// The file exists but cannot be read or parsed.
    pub fn load(data_dir: &Path) -> Result<Option<Stored>, CliError> {
        let path = Stored::path(data_dir);
        match std::fs::read(&path) {
            Ok(data) => serde_json::from_slice(&data)
                .map(Some)
                .map_err(|e| CliError::Failed(format!("{} is corrupt: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError::Failed(format!("cannot read {}: {e}", path.display()))),
        }
    }

    fn save(&self, data_dir: &Path) -> Result<(), CliError> {
        let path = Stored::path(data_dir);
        let tmp = path.with_extension("json.tmp");
        let failed = |e: std::io::Error| CliError::Failed(format!("cannot write {}: {e}", path.display()));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(failed)?;
        let data = serde_json::to_vec_pretty(self).map_err(|e| CliError::Failed(e.to_string()))?;
        file.write_all(&data).and_then(|()| file.sync_all()).map_err(failed)?;
        std::fs::rename(&tmp, &path).map_err(failed)
    }
}

/// A component running as a child process in its own process group.
struct Component {
    name: String,
    log: PathBuf,
    child: std::process::Child,
}

/// The running components; dropping it stops them (last started first).
#[derive(Default)]
struct Cluster {
    components: Vec<Component>,
}

impl Cluster {
    fn start(&mut self, name: &str, logs: &Path, cmd: &mut Command) -> Result<(), CliError> {
        let log = logs.join(format!("{name}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&log)
            .map_err(|e| CliError::Failed(format!("cannot open {}: {e}", log.display())))?;
        let err = file
            .try_clone()
            .map_err(|e| CliError::Failed(format!("cannot open {}: {e}", log.display())))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            // Its own group: the terminal's Ctrl-C reaches only `tessera up`, which stops it in order.
            .process_group(0)
            .spawn()
            .map_err(|e| CliError::Failed(format!("cannot start the {name}: {e}")))?;
        self.components.push(Component {
            name: name.to_owned(),
            log,
            child,
        });
        Ok(())
    }

    /// The first component that exited, with why.
    fn exited(&mut self) -> Option<String> {
        self.components.iter_mut().find_map(|c| match c.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "the {} exited ({status}); last lines of {}:\n{}",
                c.name,
                c.log.display(),
                tail(&c.log, 15)
            )),
            _ => None,
        })
    }

    /// Stops every component, last started first: SIGTERM to its group, then SIGKILL.
    fn stop(&mut self) {
        while let Some(mut c) = self.components.pop() {
            let pgid = i32::try_from(c.child.id()).ok().map(Pid::from_raw);
            if matches!(c.child.try_wait(), Ok(None)) {
                print_flush(&format!("  stopping the {} …", c.name));
                if let Some(pgid) = pgid {
                    let _ = killpg(pgid, Signal::SIGTERM);
                }
                let deadline = Instant::now() + STOP_TIMEOUT;
                while matches!(c.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(50));
                }
                if matches!(c.child.try_wait(), Ok(None)) {
                    println!(" killed (it did not stop within {STOP_TIMEOUT:?})");
                    let _ = c.child.kill();
                } else {
                    println!(" stopped");
                }
            }
            if let Some(pgid) = pgid {
                // Anything the component left in its group.
                let _ = killpg(pgid, Signal::SIGKILL);
            }
            let _ = c.child.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last `n` lines of a log file.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn print_flush(s: &str) {
    print!("{s}");
    let _ = std::io::stdout().flush();
}

impl UpArgs {
    /// The address the components are reached at: `--bind`, or loopback
    /// when it is every interface.
    fn host(&self) -> IpAddr {
        match self.bind {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        }
    }
}

/// Fails when `port` on `ip` is taken, saying which flag chooses another.
fn check_port(ip: IpAddr, port: u16, flag: &str) -> Result<(), CliError> {
    TcpListener::bind((ip, port)).map(drop).map_err(|e| {
        CliError::Failed(format!(
            "port {port} is not free ({e}): is another `tessera up` running? choose another with {flag}"
        ))
    })
}

/// Polls `check` until it gives a value, failing early when a component exits.
async fn wait_for<T, F, Fut>(cluster: &mut Cluster, what: &str, mut check: F) -> Result<T, CliError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if let Some(why) = cluster.exited() {
            return Err(CliError::Failed(why));
        }
        if Instant::now() > deadline {
            return Err(CliError::Failed(format!(
                "timed out after {STEP_TIMEOUT:?} waiting for {what}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sends PING to `addr` and returns the first reply line.
async fn ping(addr: SocketAddr) -> Option<String> {
    let io = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(b"PING\r\n").await.ok()?;
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).await.ok()?;
        let line = String::from_utf8_lossy(&buf[..n]);
        line.lines().next().map(str::to_owned)
    };
    tokio::time::timeout(Duration::from_secs(5), io).await.ok().flatten()
}

/// Runs `tessera up` until Ctrl-C or SIGTERM (also while it starts).
///
/// # Errors
/// A component cannot start or exits; the data dir is unusable.
pub async fn run(data_dir: &Path, args: &UpArgs) -> Result<(), CliError> {
    let failed = |what: &str, e: &dyn std::fmt::Display| CliError::Failed(format!("{what}: {e}"));
    let exe = std::env::current_exe().map_err(|e| failed("cannot locate this executable", &e))?;
    std::fs::create_dir_all(data_dir.join("logs"))
        .map_err(|e| failed(&format!("cannot create {}", data_dir.display()), &e))?;
    let url = format!("http://{}", SocketAddr::new(args.host(), args.port));
    let (mut stored, first) = match Stored::load(data_dir)? {
        Some(s) => (s, false),
        None => (
            Stored {
                url: url.clone(),
                user: ADMIN.to_owned(),
                password: crate::auth::random_secret(12),
                cluster_token: crate::auth::random_secret(16),
                default_database_created: false,
            },
            true,
        ),
    };
    let range = args.shard_ports;
    if u32::from(range.hi) - u32::from(range.lo) + 1 < u32::from(AGENTS) {
        return Err(CliError::Usage(format!(
            "--shard-ports {}-{} has fewer than {AGENTS} ports",
            range.lo, range.hi
        )));
    }
    check_port(args.bind, args.port, "--port")?;
    for i in 0..AGENTS {
        check_port(args.host(), args.agent_port.saturating_add(i), "--agent-port")?;
    }
    if !stored.default_database_created {
        check_port(args.bind, args.db_port, "--db-port")?;
    }
    stored.url = url.clone();
    stored.save(data_dir)?;

    let logs = data_dir.join("logs");
    println!(
        "{} Tessera in {} (logs in {})",
        if first { "Starting" } else { "Resuming" },
        data_dir.display(),
        logs.display()
    );
    let mut cluster = Cluster::default();
    let client = Client::new(&url, &stored.user, Some(stored.password.clone()))?;
    // Watched from the start: Ctrl-C while starting stops what already runs.
    let mut shutdown = std::pin::pin!(tessera_node::shutdown_signal());
    let start = Start {
        exe: &exe,
        data_dir,
        logs: &logs,
        args,
        client: &client,
    };
    let endpoints = tokio::select! {
        started = start.run(&mut cluster, &mut stored) => started?,
        () = &mut shutdown => {
            println!();
            println!("Interrupted; stopping");
            tokio::task::block_in_place(|| cluster.stop());
            return Ok(());
        }
    };

    println!();
    println!("Tessera is running.");
    println!("  Console and REST API: {url}/");
    println!("  Metrics:              {url}/metrics");
    if first {
        println!("  Login:                {} / {}", stored.user, stored.password);
    } else {
        println!(
            "  Login:                {} (password in {})",
            stored.user,
            Stored::path(data_dir).display()
        );
    }
    let redis_host = match args.host() {
        IpAddr::V4(ip) if ip == Ipv4Addr::LOCALHOST => String::new(),
        ip => format!("-h {ip} "),
    };
    for (name, port) in &endpoints {
        println!("  Database {name:<12} redis-cli {redis_host}-p {port}");
    }
    println!(
        "  Admin CLI:            tessera --data-dir {} status",
        data_dir.display()
    );
    println!("Press Ctrl-C to stop; `tessera up` again resumes with the same data.");

    let exited = tokio::select! {
        () = &mut shutdown => None,
        why = async {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if let Some(why) = cluster.exited() {
                    return why;
                }
            }
        } => Some(why),
    };
    println!();
    println!("Stopping Tessera");
    // The waits are short polls of child processes.
    tokio::task::block_in_place(|| cluster.stop());
    println!("Stopped. Data is kept in {}.", data_dir.display());
    match exited {
        Some(why) => Err(CliError::Failed(why)),
        None => Ok(()),
    }
}

/// The start-up of the components, in order, with progress lines.
struct Start<'a> {
    exe: &'a Path,
    data_dir: &'a Path,
    logs: &'a Path,
    args: &'a UpArgs,
    client: &'a Client,
}

impl Start<'_> {
    /// Starts everything and returns the databases' names and endpoint ports
    /// once they all answer.
    async fn run(&self, cluster: &mut Cluster, stored: &mut Stored) -> Result<Vec<(String, u16)>, CliError> {
        let (args, client) = (self.args, self.client);
        let url = client.url().to_owned();
        print_flush(&format!("  manager   {url} …"));
        let mut cmd = Command::new(self.exe);
        cmd.arg("tessera-manager")
            .args(["--listen", &SocketAddr::new(args.bind, args.port).to_string()])
            .arg("--data-dir")
            .arg(self.data_dir.join("manager"))
            .args(["--admin-user", &stored.user])
            .env("TESSERA_CLUSTER_TOKEN", &stored.cluster_token)
            .env("TESSERA_ADMIN_PASSWORD", &stored.password);
        cluster.start("manager", self.logs, &mut cmd)?;
        wait_for(cluster, "the manager", || async {
            client.get("/v1/cluster").await.ok()
        })
        .await?;
        println!(" ready");

        let range = args.shard_ports;
        let per_agent = (u32::from(range.hi) - u32::from(range.lo) + 1) / u32::from(AGENTS);
        let last_agent = args.agent_port.saturating_add(AGENTS - 1);
        let host = args.host();
        print_flush(&format!(
            "  agents    {AGENTS} on {}-{last_agent} …",
            SocketAddr::new(host, args.agent_port)
        ));
        for i in 0..AGENTS {
            let lo = u32::from(range.lo) + u32::from(i) * per_agent;
            let mut cmd = Command::new(self.exe);
            cmd.arg("tessera-agent")
                .args(["--manager", &url, "--advertise", &host.to_string()])
                .args(["--listen", &SocketAddr::new(host, args.agent_port + i).to_string()])
                .args(["--shard-ports", &format!("{lo}-{}", lo + per_agent - 1)])
                .arg("--data-dir")
                .arg(self.data_dir.join(format!("agent{}", i + 1)))
                .arg("--node-bin")
                .arg(self.exe)
                .args(["--node-arg", "tessera-node", "--stop-shards-on-exit"])
                .env("TESSERA_CLUSTER_TOKEN", &stored.cluster_token);
            cluster.start(&format!("agent{}", i + 1), self.logs, &mut cmd)?;
        }
        wait_for(cluster, "the agents to register", || async {
            let nodes = client.get("/v1/nodes").await.ok()?;
            let active = nodes.as_array()?.iter().filter(|n| n["status"] == "active").count();
            (active >= usize::from(AGENTS)).then_some(())
        })
        .await?;
        println!(" ready");

        print_flush("  proxy     …");
        let mut cmd = Command::new(self.exe);
        cmd.arg("tessera-proxy")
            .args(["--manager", &url, "--bind", &args.bind.to_string()])
            .env("TESSERA_CLUSTER_TOKEN", &stored.cluster_token);
        cluster.start("proxy", self.logs, &mut cmd)?;
        println!(" started");

        if !stored.default_database_created {
            print_flush(&format!("  database  {DEFAULT_DB:?} on port {} …", args.db_port));
            let body = json!({"name": DEFAULT_DB, "memory_size": 100u64 << 20, "shards_count": 1,
                              "replication": true, "data_persistence": "aof", "port": args.db_port});
            client.call(Method::POST, "/v1/bdbs", Some(&body)).await?;
            stored.default_database_created = true;
            stored.save(self.data_dir)?;
            println!(" created");
        }
        let bdbs = wait_for(cluster, "the databases to become active", || async {
            let list = client.get("/v1/bdbs").await.ok()?;
            list.as_array()?.iter().all(|b| b["status"] == "active").then_some(list)
        })
        .await?;
        let endpoints: Vec<(String, u16)> = bdbs
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| Some((b["name"].as_str()?.to_owned(), u16::try_from(b["port"].as_u64()?).ok()?)))
            .collect();
        print_flush(&format!("  endpoints {} database(s) …", endpoints.len()));
        for (_, port) in &endpoints {
            let port = *port;
            wait_for(cluster, &format!("the endpoint on port {port}"), || async move {
                // PONG from every shard, or -NOAUTH from a database with a
                // password; not -LOADING or an unavailable shard.
                ping(SocketAddr::new(host, port))
                    .await
                    .filter(|l| l.starts_with('+') || l.starts_with("-NOAUTH"))
            })
            .await?;
        }
        println!(" answering");
        Ok(endpoints)
    }
}

/// The default login of the admin commands: the stored one, when `data_dir`
/// holds a `tessera up` cluster.
pub fn stored_login(data_dir: &Path) -> Option<Stored> {
    match Stored::load(data_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tessera: ignoring {}: {e}", Stored::path(data_dir).display());
            None
        }
    }
}
