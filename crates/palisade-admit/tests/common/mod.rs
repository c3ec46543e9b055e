//! The webhook's server on loopback over TLS, and clients for it (HTTP/1.1 by hand, HTTP/2
//! with h2), shared by the fault and load tests.

#![allow(dead_code)] // each test binary uses its own part

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_admit::guard::ConnectionLimits;
use palisade_admit::server::{serve_until, ServeError, ServeOptions};
use palisade_engine::Overrides;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

pub const LIMITS: ConnectionLimits = ConnectionLimits {
    max_connections: 8,
    // Longer than the body's timeout, as by default: a stalled body gets its 408 first.
    idle: Duration::from_secs(2),
    headers: Duration::from_secs(1),
    body: Duration::from_secs(1),
};

/// Where a server listens and the CA that signed its certificate (PEM).
#[derive(Clone)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub ca: String,
}

pub struct Server {
    pub endpoint: Endpoint,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    running: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl std::ops::Deref for Server {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Server {
    /// Tells the server to stop, as SIGTERM does, and waits for it: what `serve` returned and
    /// how long it took.
    pub fn stop(&mut self) -> (Result<(), ServeError>, Duration) {
        let started = Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = self
            .running
            .take()
            .expect("running")
            .join()
            .expect("the server thread ends without a panic");
        (result, started.elapsed())
    }
}

/// How a test server is set up.
pub struct Setup<'a> {
    /// With a client CA (PEM), only clients that CA signed are served.
    pub client_ca: Option<&'a str>,
    /// How long one review may be judged.
    pub deadline: Duration,
    pub limits: ConnectionLimits,
}

impl Default for Setup<'_> {
    fn default() -> Self {
        Setup {
            client_ca: None,
            deadline: Duration::from_millis(500),
            limits: LIMITS,
        }
    }
}

/// A server for 127.0.0.1; with `client_ca` (PEM), it serves only clients that CA signed.
pub fn start(client_ca: Option<&str>) -> Server {
    start_with(Setup {
        client_ca,
        ..Setup::default()
    })
}

pub fn start_with(setup: Setup<'_>) -> Server {
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
        deadline: setup.deadline,
        limits: setup.limits,
        client_ca: setup.client_ca.map(|pem| {
            let path = dir.path().join("client-ca.crt");
            std::fs::write(&path, pem).expect("client CA");
            path
        }),
        arm: None,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(serve_until(options, async move {
            let _ = stopped.await;
        }))
    });
    let started = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server starts"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Server {
        endpoint: Endpoint { addr, ca },
        dir,
        stop: Some(stop),
        running: Some(running),
    }
}

pub fn client_config(ca: &str, alpn: &[&[u8]], identity: Option<&Path>) -> rustls::ClientConfig {
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

pub async fn tls(server: &Endpoint, alpn: &[&[u8]]) -> std::io::Result<TlsStream<TcpStream>> {
    let connector =
        tokio_rustls::TlsConnector::from(Arc::new(client_config(&server.ca, alpn, None)));
    let tcp = TcpStream::connect(server.addr).await?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    connector.connect(name, tcp).await
}

/// `GET path` over HTTP/1.1: the whole answer, head and body.
pub async fn get(server: &Endpoint, path: &str) -> Option<String> {
    let mut stream = tls(server, &[b"http/1.1"]).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.ok()?;
    Some(answer)
}

/// `POST /validate` over HTTP/1.1: the whole answer, head and body.
pub async fn post_review(server: &Endpoint, review: &str) -> String {
    let mut stream = tls(server, &[b"http/1.1"]).await.expect("tls");
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        review.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(review.as_bytes()).await.expect("body");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    answer
}

/// An HTTP/2 connection, as the API server opens to webhooks.
pub async fn h2_client(server: &Endpoint) -> h2::client::SendRequest<bytes::Bytes> {
    let stream = tls(server, &[b"h2"]).await.expect("tls");
    let (client, connection) = h2::client::handshake(stream).await.expect("h2");
    tokio::spawn(connection);
    client
}

/// `POST /validate` on an HTTP/2 connection: the status and body, or why none came.
pub async fn post_review_h2(
    client: &h2::client::SendRequest<bytes::Bytes>,
    review: bytes::Bytes,
) -> Result<(u16, String), h2::Error> {
    let mut client = client.clone().ready().await?;
    let request = http::Request::post("https://127.0.0.1/validate")
        .header("content-type", "application/json")
        .body(())
        .expect("request");
    let (response, mut send) = client.send_request(request, false)?;
    send.reserve_capacity(review.len());
    let mut rest = review;
    while !rest.is_empty() {
        let capacity = std::future::poll_fn(|cx| send.poll_capacity(cx))
            .await
            .ok_or_else(|| h2::Error::from(h2::Reason::CANCEL))??;
        let chunk = rest.split_to(capacity.min(rest.len()));
        send.send_data(chunk, rest.is_empty())?;
    }
    let response = response.await?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut text = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        text.extend_from_slice(&chunk);
    }
    Ok((status, String::from_utf8_lossy(&text).into_owned()))
}

/// An AdmissionReview creating a Pod of `containers` privileged containers in `shop`: the more
/// containers, the longer judging takes.
pub fn privileged_pod_review(uid: &str, containers: usize) -> String {
    let containers: Vec<String> = (0..containers)
        .map(|i| format!(r#"{{"name":"c{i}","image":"registry.example.com/c:1","securityContext":{{"privileged":true}}}}"#))
        .collect();
    format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"{uid}","kind":{{"group":"","version":"v1","kind":"Pod"}},"namespace":"shop","operation":"CREATE","object":{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{uid}"}},"spec":{{"containers":[{}]}}}}}}}}"#,
        containers.join(",")
    )
}
