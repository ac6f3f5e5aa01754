//! The workspace's server binaries for tests that run real processes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `name` (`tessera-agent`, `tessera-node`, `tessera-proxy`) from this test
/// build's target dir. The first call per test process builds them with
/// cargo, in this build's profile: a no-op when they are fresh, and a stale
/// binary is never run.
pub fn binary(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_BIN_EXE_tessera-manager"))
            .parent()
            .expect("target dir")
            .to_path_buf();
        let profile = match dir.file_name().and_then(|p| p.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let status = Command::new(env!("CARGO"))
            .args(["build", "--profile", profile, "--workspace", "--bins"])
            .status()
            .expect("cargo build");
        assert!(status.success(), "cannot build the workspace's binaries");
        dir
    })
    .join(name)
}
