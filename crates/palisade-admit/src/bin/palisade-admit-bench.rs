//! `palisade-admit-bench`: the webhook under load. Starts the server on loopback (HTTPS, a CA
//! of its own, every rule on), sends AdmissionReviews of a typical Deployment at a fixed rate
//! (open loop: each request leaves at its scheduled time, whatever the previous ones did), and
//! reports throughput and latency: in the handler (server side) and as the client saw it.
//!
//! ```sh
//! cargo build --release -p palisade-admit
//! target/release/palisade-admit-bench [--rate 1000] [--seconds 10] [--connections 8]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_admit::server::{router, AppState};
use palisade_admit::{Judge, Mode};
use palisade_engine::config::LoadedConfig;
use palisade_engine::{build_pipeline, Overrides};
use palisade_model::Severity;

struct Args {
    rate: u64,
    seconds: u64,
    connections: usize,
}

fn args() -> Args {
    let mut args = Args {
        rate: 1000,
        seconds: 10,
        connections: 8,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value: Option<u64> = it.next().and_then(|v| v.parse().ok());
        match (flag.as_str(), value) {
            ("--rate", Some(v)) if v > 0 => args.rate = v,
            ("--seconds", Some(v)) if (1..=300).contains(&v) => args.seconds = v,
            ("--connections", Some(v)) if (1..=256).contains(&v) => args.connections = v as usize,
            _ => {
                eprintln!("usage: palisade-admit-bench [--rate N] [--seconds 1..300] [--connections 1..256]");
                std::process::exit(2);
            }
        }
    }
    args
}

/// A Deployment as teams write them: mostly hardened, a few findings (a digest, a sidecar
/// without limits), so every rule runs and some report.
fn review(i: u64) -> String {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": format!("bench-{i}"),
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": "shop", "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer"},
            "object": {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": format!("web-{i}"), "namespace": "shop",
                             "labels": {"app": "web", "team": "storefront"},
                             "annotations": {"owner": "storefront@example.com"}},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {
                            "serviceAccountName": "web",
                            "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "fsGroup": 10001,
                                                "seccompProfile": {"type": "RuntimeDefault"}},
                            "containers": [{
                                "name": "web", "image": "registry.example.com/shop/web:2.4.1",
                                "ports": [{"containerPort": 8080, "name": "http"}],
                                "env": [{"name": "LOG_LEVEL", "value": "info"},
                                        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
                                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                                "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                                "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                                    "capabilities": {"drop": ["ALL"]}}
                            }, {
                                "name": "proxy", "image": "registry.example.com/mesh/proxy:1.20.1",
                                "args": ["proxy", "sidecar"],
                                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
                            }]
                        }
                    }
                }
            }
        }
    })
    .to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let args = args();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (ca, cert, key) =
        palisade_admit::certs::generate(&["127.0.0.1".to_string()]).expect("certificates");
    let (pipeline, _) =
        build_pipeline(&LoadedConfig::default(), &Overrides::default()).expect("pipeline");
    let rules = pipeline.engine.rules().count();
    let state = AppState::sampled(Judge::new(pipeline, Severity::High, Mode::Enforce));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem(cert.into_bytes(), key.into_bytes())
            .await
            .expect("TLS config");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let address = listener.local_addr().expect("address");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let server = axum_server::from_tcp_rustls(listener, tls).expect("server");
        tokio::spawn(server.serve(router(Arc::clone(&state)).into_make_service()));

        let mut config = kube::Config::new(format!("https://{address}").parse().expect("url"));
        config.root_cert = Some(vec![der(&ca)]);
        config.auth_info = Default::default();
        let client = kube::Client::try_from(config).expect("client");
        // Warm up: connections and the first allocations.
        for i in 0..(args.connections as u64 * 4) {
            let _ = post(&client, review(i)).await;
        }
        let _ = state.samples();

        let total = args.rate * args.seconds;
        let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
        let semaphore = Arc::new(tokio::sync::Semaphore::new(args.connections));
        let started = Instant::now();
        let mut handles = Vec::with_capacity(total as usize);
        for i in 0..total {
            let due = started + interval * i as u32;
            tokio::time::sleep_until(due.into()).await;
            let client = client.clone();
            let permit = Arc::clone(&semaphore);
            let body = review(1000 + i);
            handles.push(tokio::spawn(async move {
                let _permit = permit.acquire_owned().await;
                let sent = Instant::now();
                let ok = post(&client, body).await;
                (ok, sent.elapsed(), due.elapsed())
            }));
        }
        let mut client_side = Vec::with_capacity(handles.len());
        let mut scheduled = Vec::with_capacity(handles.len());
        let mut failed = 0;
        for handle in handles {
            match handle.await {
                Ok((true, took, since_due)) => {
                    client_side.push(took);
                    scheduled.push(since_due);
                }
                _ => failed += 1,
            }
        }
        let wall = started.elapsed();
        let mut server_side = state.samples();
        let warm = (args.connections * 4).min(server_side.len());
        server_side.drain(..warm);
        server_side.sort();
        client_side.sort();
        scheduled.sort();
        println!(
            "{total} reviews of a Deployment at {} req/s for {} s over {} connections, {rules} rules: \
             {:.0} req/s achieved, {failed} failed",
            args.rate,
            args.seconds,
            args.connections,
            client_side.len() as f64 / wall.as_secs_f64()
        );
        println!(
            "server (in the handler): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            ms(percentile(&server_side, 0.50)),
            ms(percentile(&server_side, 0.99)),
            ms(server_side.last().copied().unwrap_or_default())
        );
        println!(
            "client (HTTPS round trip): p50 {:.3} ms, p99 {:.3} ms; from the scheduled time: p99 {:.3} ms",
            ms(percentile(&client_side, 0.50)),
            ms(percentile(&client_side, 0.99)),
            ms(percentile(&scheduled, 0.99))
        );
    });
}

async fn post(client: &kube::Client, body: String) -> bool {
    let Ok(request) = http::Request::post("/validate")
        .header("Content-Type", "application/json")
        .body(kube::client::Body::from(body.into_bytes()))
    else {
        return false;
    };
    match client.send(request).await {
        Ok(response) => {
            let ok = response.status().is_success();
            let _ = response.into_body().collect_bytes().await;
            ok
        }
        Err(_) => false,
    }
}

/// The DER bytes of a one-certificate PEM.
fn der(text: &str) -> Vec<u8> {
    pem::parse(text)
        .map(|block| block.into_contents())
        .unwrap_or_default()
}
