//! Log output: `loglevel` and `logfile` as redis.conf sets them, through
//! `tracing`. Never logs values or passwords.

use crate::config::Config;

/// Installs the global subscriber. `RUST_LOG` overrides `loglevel`.
pub fn init(config: &Config) {
    let level = match config.loglevel.as_str() {
        "debug" => "debug",
        "verbose" => "debug",
        "notice" => "info",
        "warning" => "warn",
        _ => "off",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let file = (!config.logfile.is_empty())
        .then(|| std::fs::OpenOptions::new().create(true).append(true).open(&config.logfile));
    match file {
        Some(Ok(f)) => builder.with_ansi(false).with_writer(std::sync::Mutex::new(f)).init(),
        Some(Err(e)) => {
            builder.init();
            tracing::warn!("cannot open logfile {}: {e}; logging to stdout", config.logfile);
        }
        None => builder.init(),
    }
}
