//! TEMPORARY STUB written by the lead so the crate compiles; the config helper replaces this whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxmemoryPolicy { NoEviction, AllkeysLfu }
impl MaxmemoryPolicy { pub fn is_lfu(self) -> bool { matches!(self, MaxmemoryPolicy::AllkeysLfu) } }
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16, pub bind: Vec<String>, pub databases: usize, pub maxmemory_policy: MaxmemoryPolicy,
    pub lfu_log_factor: u32, pub lfu_decay_time: u32, pub requirepass: Option<String>, pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64, pub active_expire_effort: u32, pub activerehashing: bool, pub timeout: u64,
    pub protected_mode: bool, pub maxclients: u32, pub hz: u64, pub loglevel: String, pub logfile: String,
}
impl Config {
    pub fn load(args: &[String]) -> Result<Config, String> {
        let mut c = Config { port: 6379, bind: vec!["127.0.0.1".into()], databases: 16, maxmemory_policy: MaxmemoryPolicy::NoEviction,
            lfu_log_factor: 10, lfu_decay_time: 1, requirepass: None, proto_max_bulk_len: 512 << 20, client_query_buffer_limit: 1 << 30,
            active_expire_effort: 1, activerehashing: true, timeout: 0, protected_mode: true, maxclients: 10000, hz: 10, loglevel: "notice".into(), logfile: String::new() };
        let mut i = 0;
        while i + 1 < args.len() { if args[i] == "--port" { c.port = args[i+1].parse().map_err(|_| "bad port")?; } if args[i] == "--bind" { c.bind = vec![args[i+1].clone()]; } i += 1; }
        Ok(c)
    }
}
