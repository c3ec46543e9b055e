//! The webhook's server under the faults a hostile or broken client brings, on loopback over
//! TLS: half-sent headers, silent connections, more connections than it takes, bodies over the
//! limit on HTTP/1.1 and HTTP/2, clients without the API server's certificate, and an object
//! that costs far more to judge than the deadline allows while health checks go on.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

use common::{client_config, get, post_review, privileged_pod_review, start, tls, LIMITS};

/// Whether the peer closes the stream (EOF or error) within `within`.
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(within, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_silent_clients_are_cut_off() {
    let server = start(None);
    // Half a request's headers, then nothing.
    let mut half = tls(&server, &[b"http/1.1"]).await.expect("tls");
    half.write_all(b"POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("write");
    assert!(closed_within(&mut half, Duration::from_secs(5)).await);
    // A TLS connection that never sends a request, and a TCP one that never starts TLS.
    let mut idle = tls(&server, &[b"http/1.1"]).await.expect("tls");
    assert!(closed_within(&mut idle, Duration::from_secs(5)).await);
    let mut raw = TcpStream::connect(server.addr).await.expect("tcp");
    assert!(closed_within(&mut raw, Duration::from_secs(5)).await);
    // Headers sent, the body promised and never sent: 408.
    let mut stalled = tls(&server, &[b"http/1.1"]).await.expect("tls");
    stalled
        .write_all(b"POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .expect("write");
    let mut answer = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), stalled.read(&mut answer))
        .await
        .expect("an answer")
        .expect("read");
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 408"));
    // And the server still answers.
    let health = get(&server, "/healthz").await.expect("healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_past_the_cap_are_closed_and_slots_come_back() {
    let server = start(None);
    let mut open = Vec::new();
    for _ in 0..LIMITS.max_connections {
        open.push(tls(&server, &[b"http/1.1"]).await.expect("within the cap"));
    }
    // The next one is closed before its handshake completes.
    assert!(tls(&server, &[b"http/1.1"]).await.is_err(), "past the cap");
    drop(open);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let health = get(&server, "/healthz").await.expect("a slot again");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let metrics = get(&server, "/metrics").await.expect("metrics");
    assert!(
        metrics.contains("palisade_admission_bad_requests_total{status=\"503\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_get_413_on_http1_and_http2() {
    let server = start(None);
    let body = vec![b' '; palisade_admit::server::MAX_BODY_BYTES + 1];
    // HTTP/1.1
    let mut stream = tls(&server, &[b"http/1.1"]).await.expect("tls");
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&body).await.expect("body");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.80}");
    // HTTP/2
    let client = common::h2_client(&server).await;
    let (status, _) = common::post_review_h2(&client, bytes::Bytes::from(body))
        .await
        .expect("an answer, not a reset stream");
    assert_eq!(status, 413);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_costly_object_is_answered_at_the_deadline_while_health_checks_go_on() {
    let server = start(None);
    // 5,000 containers (550 KB): minutes of judging before folding was linear.
    let review = privileged_pod_review("big", 5000);
    let started = Instant::now();
    let judging = {
        let endpoint = server.endpoint.clone();
        tokio::spawn(async move {
            let answer = post_review(&endpoint, &review).await;
            (answer, started.elapsed())
        })
    };
    // Health checks answer while the review is judged.
    for _ in 0..5 {
        let health = get(&server, "/healthz").await.expect("healthz");
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    }
    let (answer, took) = judging.await.expect("the review");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.200}");
    assert!(answer.contains("\"uid\":\"big\""), "{answer:.400}");
    assert!(answer.contains("\"allowed\":false"), "{answer:.400}");
    // Answered by the deadline (500 ms) or by a verdict before it; never after the API
    // server would have given up (5 s).
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_client_ca_only_its_clients_are_served() {
    // The API server's stand-in: a client certificate from a CA of its own.
    let identity = tempfile::tempdir().expect("tempdir");
    let client_ca = client_certificate(identity.path());
    let server = start(Some(&client_ca));
    // No client certificate: no answer.
    let refused = get(&server, "/healthz").await;
    assert!(
        refused
            .as_deref()
            .is_none_or(|a| !a.starts_with("HTTP/1.1 200")),
        "{refused:?}"
    );
    // A certificate of another CA: none either.
    let stranger = tempfile::tempdir().expect("tempdir");
    client_certificate(stranger.path());
    assert!(healthz_as(&server, stranger.path()).await.is_none());
    // The client CA's: served.
    let answer = healthz_as(&server, identity.path()).await.expect("served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

async fn healthz_as(server: &common::Endpoint, identity: &Path) -> Option<String> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(
        &server.ca,
        &[b"http/1.1"],
        Some(identity),
    )));
    let tcp = TcpStream::connect(server.addr).await.ok()?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").ok()?;
    let mut stream = connector.connect(name, tcp).await.ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.ok()?;
    (!answer.is_empty()).then_some(answer)
}

/// Writes `client.crt` and `client.key` (a client certificate for `kube-apiserver`) to `out`,
/// signed by a new CA, whose certificate (PEM) it returns.
fn client_certificate(out: &Path) -> String {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "front-proxy CA");
    ca_params.distinguished_name = name;
    let ca_key = KeyPair::generate().expect("key");
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "kube-apiserver");
    params.distinguished_name = name;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate().expect("key");
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params.signed_by(&key, &issuer).expect("client certificate");
    std::fs::write(out.join("client.crt"), cert.pem()).expect("write");
    std::fs::write(out.join("client.key"), key.serialize_pem()).expect("write");
    ca.pem()
}
