//! Log output: `loglevel` and `logfile` as redis.conf sets them, through
//! `tracing`. `loglevel` can change at run time (CONFIG SET loglevel).
//! Never logs values or passwords.

use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry, reload};

use crate::config::{Config, LogLevel};

/// Swaps the level filter at run time; unset when `RUST_LOG` rules.
static RELOAD: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// The `tracing` filter for a Redis log level.
fn filter(level: LogLevel) -> EnvFilter {
    EnvFilter::new(match level {
        LogLevel::Debug | LogLevel::Verbose => "debug",
        LogLevel::Notice => "info",
        LogLevel::Warning => "warn",
    })
}

/// Installs the global subscriber. `RUST_LOG` overrides `loglevel` (and
/// then CONFIG SET loglevel has no effect on the output).
pub fn init(config: &Config) {
    let from_env = EnvFilter::try_from_default_env().ok();
    let fixed = from_env.is_some();
    let (level, handle) = reload::Layer::new(from_env.unwrap_or_else(|| filter(config.loglevel)));
    if !fixed {
        let _ = RELOAD.set(handle);
    }
    let fmt = tracing_subscriber::fmt::layer().with_target(false);
    let file = (!config.logfile.is_empty()).then(|| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)
    });
    let registry = tracing_subscriber::registry().with(level);
    match file {
        Some(Ok(f)) => registry
            .with(fmt.with_ansi(false).with_writer(std::sync::Mutex::new(f)))
            .init(),
        Some(Err(e)) => {
            registry.with(fmt).init();
            tracing::warn!("cannot open logfile {}: {e}; logging to stdout", config.logfile);
        }
        None => registry.with(fmt).init(),
    }
}

/// Applies a new `loglevel` (CONFIG SET).
pub fn set_level(level: LogLevel) {
    if let Some(handle) = RELOAD.get() {
        let _ = handle.reload(filter(level));
    }
}
