//! The webhook's server under the faults a hostile or broken client brings, on loopback over
//! TLS: half-sent headers, silent connections, more connections than it takes, bodies over the
//! limit on HTTP/1.1 and HTTP/2, clients without the API server's certificate, and an object
//! that costs far more to judge than the deadline allows while health checks go on.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_admit::guard::ConnectionLimits;
use palisade_admit::server::{serve, ServeOptions};
use palisade_engine::Overrides;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const LIMITS: ConnectionLimits = ConnectionLimits {
    max_connections: 8,
    // Longer than the body's timeout, as by default: a stalled body gets its 408 first.
    idle: Duration::from_secs(2),
    headers: Duration::from_secs(1),
    body: Duration::from_secs(1),
};

struct Server {
    addr: SocketAddr,
    ca: String,
    dir: tempfile::TempDir,
}

/// A server for 127.0.0.1; with `client_ca` (PEM), it serves only clients that CA signed.
fn start(client_ca: Option<&str>) -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    palisade_admit::certs::write(dir.path(), &["127.0.0.1".to_string()]).expect("certs");
    let ca = std::fs::read_to_string(dir.path().join("ca.crt")).expect("ca");
    let addr: SocketAddr = format!("127.0.0.1:{}", palisade_testkit::free_port())
        .parse()
        .expect("address");
    let options = ServeOptions {
        listen: addr,
        tls_cert: dir.path().join("tls.crt"),
        tls_key: dir.path().join("tls.key"),
        config: None,
        flags: Overrides::default(),
        mode: None,
        cluster: None,
        reload_every: Duration::from_secs(60),
        deadline: Duration::from_millis(500),
        limits: LIMITS,
        client_ca: client_ca.map(|pem| {
            let path = dir.path().join("client-ca.crt");
            std::fs::write(&path, pem).expect("client CA");
            path
        }),
        arm: None,
    };
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let _ = runtime.block_on(serve(options));
    });
    let started = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server starts"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server { addr, ca, dir }
}

fn client_config(ca: &str, alpn: &[&[u8]], identity: Option<&Path>) -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(cert.expect("pem")).expect("root");
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some(dir) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_file_iter(dir.join("client.crt"))
                    .expect("client cert")
                    .collect::<Result<_, _>>()
                    .expect("pem");
            let key = PrivateKeyDer::from_pem_file(dir.join("client.key")).expect("client key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client auth")
        }
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

async fn tls(server: &Server, alpn: &[&[u8]]) -> std::io::Result<TlsStream<TcpStream>> {
    let connector =
        tokio_rustls::TlsConnector::from(Arc::new(client_config(&server.ca, alpn, None)));
    let tcp = TcpStream::connect(server.addr).await?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    connector.connect(name, tcp).await
}

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

async fn get(server: &Server, path: &str) -> Option<String> {
    let mut stream = tls(server, &[b"http/1.1"]).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.ok()?;
    Some(answer)
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
    let stream = tls(&server, &[b"h2"]).await.expect("tls");
    let (client, connection) = h2::client::handshake(stream).await.expect("h2");
    tokio::spawn(connection);
    let mut client = client.ready().await.expect("ready");
    let request = http::Request::post("https://127.0.0.1/validate")
        .header("content-type", "application/json")
        .body(())
        .expect("request");
    let (response, mut send) = client.send_request(request, false).expect("send");
    send.reserve_capacity(body.len());
    let mut rest: &[u8] = &body;
    while !rest.is_empty() {
        let capacity = std::future::poll_fn(|cx| send.poll_capacity(cx))
            .await
            .expect("capacity")
            .expect("capacity");
        let (chunk, tail) = rest.split_at(capacity.min(rest.len()));
        send.send_data(bytes::Bytes::copy_from_slice(chunk), tail.is_empty())
            .expect("data");
        rest = tail;
    }
    let response = response.await.expect("an answer, not a reset stream");
    assert_eq!(response.status(), 413);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_costly_object_is_answered_at_the_deadline_while_health_checks_go_on() {
    let server = start(None);
    // 5,000 containers (550 KB): minutes of judging before folding was linear.
    let containers: Vec<String> = (0..5000)
        .map(|i| format!(r#"{{"name":"c{i}","image":"registry.example.com/c:1","securityContext":{{"privileged":true}}}}"#))
        .collect();
    let review = format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"big","kind":{{"group":"","version":"v1","kind":"Pod"}},"namespace":"shop","operation":"CREATE","object":{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"big"}},"spec":{{"containers":[{}]}}}}}}}}"#,
        containers.join(",")
    );
    let started = Instant::now();
    let judging = {
        let server_addr = server.addr;
        let ca = server.ca.clone();
        tokio::spawn(async move {
            let server = Server {
                addr: server_addr,
                ca,
                dir: tempfile::tempdir().expect("tempdir"),
            };
            let mut stream = tls(&server, &[b"http/1.1"]).await.expect("tls");
            let head = format!(
                "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                review.len()
            );
            stream.write_all(head.as_bytes()).await.expect("head");
            stream.write_all(review.as_bytes()).await.expect("body");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer).await;
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
    drop(server.dir);
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

async fn healthz_as(server: &Server, identity: &Path) -> Option<String> {
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
