//! TLS endpoints.

use crate::support::*;
use resp::Frame;

struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().expect("utf8").to_owned()
    }
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all
/// signed by the CA, written as PEM files.
fn certs() -> Certs {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "tessera test CA");
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = rcgen::KeyPair::generate().expect("key");
    let server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("params")
        .signed_by(&server_key, &issuer)
        .expect("server cert");
    let client_key = rcgen::KeyPair::generate().expect("key");
    let mut client_params = rcgen::CertificateParams::new(vec!["client".to_owned()]).expect("params");
    client_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "client");
    let client = client_params.signed_by(&client_key, &issuer).expect("client cert");
    for (name, pem) in [
        ("ca.pem", ca.pem()),
        ("server.pem", server.pem()),
        ("server.key", server_key.serialize_pem()),
        ("client.pem", client.pem()),
        ("client.key", client_key.serialize_pem()),
    ] {
        std::fs::write(dir.path().join(name), pem).expect("write pem");
    }
    Certs { dir }
}

fn cli(port: u16, extra: &[&str], command: &[&str]) -> Option<std::process::Output> {
    let port = port.to_string();
    let mut args = vec!["-h", "127.0.0.1", "-p", &port];
    args.extend_from_slice(extra);
    args.extend_from_slice(command);
    std::process::Command::new("redis-cli").args(&args).output().ok()
}

/// Starts three shards and a TLS proxy; with `client_ca` clients need a
/// certificate.
fn tls_cluster(certs: &Certs, client_ca: bool) -> (Vec<Process>, Process) {
    let shards: Vec<Process> = (0..3).map(|_| node()).collect();
    let ports: Vec<u16> = shards.iter().map(|s| s.port).collect();
    let port = free_port();
    let ca_line = if client_ca {
        format!("client_ca_file = \"{}\"\n", certs.path("ca.pem"))
    } else {
        String::new()
    };
    let config = format!(
        "bind = \"127.0.0.1\"\n[[databases]]\nname = \"secure\"\nport = {port}\ntls_mode = \"enabled\"\n{}\n[databases.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n{ca_line}",
        shards_toml(&ports),
        certs.path("server.pem"),
        certs.path("server.key"),
    );
    // Readiness: a plain PING gets no answer on a TLS port, so poll with redis-cli.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("proxy.toml");
    std::fs::write(&path, &config).expect("config");
    let mut p = std::process::Command::new(env!("CARGO_BIN_EXE_tessera-proxy"));
    p.args(["--config", path.to_str().expect("utf8")]);
    let child = p.stderr(std::process::Stdio::null()).spawn().expect("proxy");
    let proxy = ProcessGuard(child);
    let mut tls_args = vec!["--tls", "--cacert"];
    let ca = certs.path("ca.pem");
    tls_args.push(&ca);
    let (cert, key) = (certs.path("client.pem"), certs.path("client.key"));
    if client_ca {
        tls_args.extend_from_slice(&["--cert", &cert, "--key", &key]);
    }
    eventually("the TLS endpoint", || {
        cli(port, &tls_args, &["PING"]).is_some_and(|o| String::from_utf8_lossy(&o.stdout) == "PONG\n")
    });
    std::mem::forget(dir);
    (shards, proxy.into_process(port))
}

struct ProcessGuard(std::process::Child);

impl ProcessGuard {
    fn into_process(self, port: u16) -> Process {
        Process::from_child(self.0, port)
    }
}

#[test]
fn redis_cli_over_tls_and_plaintext_refused() {
    if cli(1, &[], &["--version"]).is_none() {
        eprintln!("skipping: redis-cli not installed");
        return;
    }
    let certs = certs();
    let (_shards, proxy) = tls_cluster(&certs, false);
    let ca = certs.path("ca.pem");
    let tls = ["--tls", "--cacert", ca.as_str()];
    let out = cli(proxy.port, &tls, &["SET", "k", "over-tls"]).expect("redis-cli");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\n");
    let out = cli(proxy.port, &tls, &["GET", "k"]).expect("redis-cli");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "over-tls\n");
    // Plaintext on the TLS port gets no Redis reply: the connection closes.
    let mut plain = proxy.conn();
    let _ = plain.send_raw(b"*1\r\n$4\r\nPING\r\n");
    assert!(!matches!(plain.try_recv(), Ok(Frame::Simple(_))));
}

#[test]
fn client_certificates_are_required_when_a_ca_is_set() {
    if cli(1, &[], &["--version"]).is_none() {
        eprintln!("skipping: redis-cli not installed");
        return;
    }
    let certs = certs();
    let (_shards, proxy) = tls_cluster(&certs, true);
    let ca = certs.path("ca.pem");
    let out = cli(proxy.port, &["--tls", "--cacert", &ca], &["PING"]).expect("redis-cli");
    assert_ne!(
        String::from_utf8_lossy(&out.stdout),
        "PONG\n",
        "a client without a certificate got in"
    );
    let (cert, key) = (certs.path("client.pem"), certs.path("client.key"));
    let out = cli(
        proxy.port,
        &["--tls", "--cacert", &ca, "--cert", &cert, "--key", &key],
        &["PING"],
    )
    .expect("redis-cli");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "PONG\n");
}

#[test]
fn certificate_files_changed_on_disk_are_used_for_new_connections() {
    if cli(1, &[], &["--version"]).is_none() {
        eprintln!("skipping: redis-cli not installed");
        return;
    }
    let (current, renewed) = (certs(), certs());
    let (_shards, proxy) = tls_cluster(&current, false);
    let ping = |ca: &str| {
        cli(proxy.port, &["--tls", "--cacert", ca], &["PING"])
            .is_some_and(|o| String::from_utf8_lossy(&o.stdout) == "PONG\n")
    };
    let (old_ca, new_ca) = (current.path("ca.pem"), renewed.path("ca.pem"));
    assert!(ping(&old_ca));
    assert!(!ping(&new_ca), "the renewed CA trusts the old certificate");
    // Replace the certificate and key in place, as a renewal does.
    for name in ["server.key", "server.pem"] {
        std::fs::copy(renewed.path(name), current.path(name)).expect("copy");
    }
    eventually("the renewed certificate", || ping(&new_ca));
    assert!(!ping(&old_ca), "the old certificate is still served");
}
