//! The client speaks TLS to https hosts and verifies their certificates: a server with a
//! self-signed certificate on loopback is refused for its unknown issuer, not for a missing TLS
//! implementation and not accepted.

use std::sync::Arc;

use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};

#[tokio::test]
async fn https_hosts_are_reached_over_verified_tls() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        // The handshake must fail: the client does not trust this certificate.
        acceptor
            .accept(stream)
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    });

    let client =
        nexudus_client::authenticated(&format!("https://localhost:{port}"), "token").unwrap();
    let request: nexudus_types::CoworkerTimePassCreate =
        serde_json::from_value(serde_json::json!({
            "CoworkerId": 1, "BusinessId": 1, "TimePassId": 1, "CreateMultiple": 1
        }))
        .unwrap();
    let error = client
        .create_coworker_time_pass(&request)
        .await
        .unwrap_err();
    let mut chain = format!("{error}");
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        chain.push_str(&format!(" / {inner}"));
        source = inner.source();
    }
    assert!(chain.contains("certificate"), "{chain}");
    assert!(
        server.await.unwrap().is_err(),
        "the TLS server saw the handshake refused"
    );
}
