//! HTTPS: the manager serves the API over rustls and shuts down gracefully.

use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn serves_https_and_shuts_down() {
    let api = Api::new().await;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let cert_pem = cert.cert.pem();
    let material =
        tessera_manager::tls::material(cert_pem.clone(), cert.signing_key.serialize_pem()).expect("TLS material");
    assert!(tessera_manager::tls::material(cert_pem.clone(), "not a key".to_owned()).is_err());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(tessera_manager::run(
        api.state.clone(),
        listener,
        Some(material),
        async {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("pem")])
        .build()
        .expect("client");
    let response = client
        .get(format!("https://localhost:{port}/v1/cluster"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .expect("HTTPS request");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["name"], "tessera");
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/v1/cluster"))
        .send()
        .await;
    assert!(
        plain.is_err() || plain.is_ok_and(|r| !r.status().is_success()),
        "plain HTTP is not served"
    );
    stop.send(()).expect("server running");
    server.await.expect("join").expect("clean shutdown");
}
