//! The HTTPS server: `POST /validate`, `GET /healthz`, `/readyz`, `/metrics`. It reloads its
//! certificate, key and config when their files change (new connections get the new
//! certificate; requests in flight finish with the judge they started with), and drains
//! in-flight requests on SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use palisade_engine::config::{self, AdmissionMode};
use palisade_engine::{build_pipeline, Overrides};

use crate::backlog::Backlog;
use crate::cluster_view::RbacView;
use crate::guard::{ConnectionLimits, Guard};
use crate::metrics::Metrics;
use crate::review::{Judge, Mode, MODE_LABEL};

/// Bodies above this are refused with 413 (the API server sends at most 3 MiB objects).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// How `palisade admit` runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// `.palisade.yaml`: rules, severities, exceptions, `fail-on`, `admission.mode`.
    pub config: Option<PathBuf>,
    pub flags: Overrides,
    /// The mode flag, over the config's.
    pub mode: Option<Mode>,
    /// Where namespaces' `palisade.dev/mode` labels and the RBAC objects that escalation
    /// checks compare against are read from; `None`: every namespace has the default mode, and
    /// objects are judged alone.
    pub cluster: Option<palisade_cluster::ClusterOptions>,
    /// How often the certificate, key and config files are checked for changes.
    pub reload_every: Duration,
    /// How long one review may be judged ([`DEFAULT_DEADLINE`]).
    pub deadline: Duration,
    /// Connections: how many at once, and how long each may idle or take to send a request.
    pub limits: ConnectionLimits,
    /// Accept only clients with a certificate signed by this CA (PEM): the API server's, set
    /// with its `--admission-control-config-file` (kubeConfigFile with a client certificate).
    pub client_ca: Option<PathBuf>,
    /// Once ready, set `failurePolicy: Fail` on this ValidatingWebhookConfiguration's Palisade
    /// webhook ([`crate::arm`]); the install manifests register it at `Ignore`.
    pub arm: Option<String>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("config: {0}")]
    Config(String),
    #[error("TLS certificate or key: {0}")]
    Tls(String),
    #[error(transparent)]
    Cluster(#[from] palisade_cluster::ClusterError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The TLS settings: the serving certificate and key, and, with `client_ca`, clients must
/// present a certificate that CA signed (the API server's).
pub fn server_config(options: &ServeOptions) -> Result<rustls::ServerConfig, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let tls = |what: &Path, e: &dyn std::fmt::Display| {
        ServeError::Tls(format!("{}: {e}", what.display()))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&options.tls_cert)
        .map_err(|e| tls(&options.tls_cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls(&options.tls_cert, &e))?;
    let key =
        PrivateKeyDer::from_pem_file(&options.tls_key).map_err(|e| tls(&options.tls_key, &e))?;
    let builder = rustls::ServerConfig::builder();
    let builder = match &options.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca).map_err(|e| tls(ca, &e))? {
                roots
                    .add(cert.map_err(|e| tls(ca, &e))?)
                    .map_err(|e| tls(ca, &e))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
                .build()
                .map_err(|e| tls(ca, &e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| tls(&options.tls_cert, &e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The judge a config file and flags describe.
pub fn load_judge(
    config_file: Option<&Path>,
    flags: &Overrides,
    mode: Option<Mode>,
) -> Result<Judge, ServeError> {
    let loaded = match config_file {
        Some(file) => config::load(file).map_err(|e| ServeError::Config(e.to_string()))?,
        None => config::LoadedConfig::default(),
    };
    // Admission blocks work: unless told otherwise it denies for high and critical findings
    // only (a scan's default, any finding, would block on a missing digest).
    let mut flags = flags.clone();
    if flags.fail_on.is_none() && loaded.config.fail_on.is_none() {
        flags.fail_on = Some(palisade_model::Severity::High);
    }
    let (pipeline, fail_on) =
        build_pipeline(&loaded, &flags).map_err(|e| ServeError::Config(e.to_string()))?;
    let of = |mode: AdmissionMode| match mode {
        AdmissionMode::Warn => Mode::Warn,
        AdmissionMode::Audit => Mode::Audit,
        AdmissionMode::Enforce => Mode::Enforce,
    };
    let default_mode = mode.unwrap_or(loaded.config.admission.mode.map_or(Mode::Enforce, of));
    let mut judge = Judge::new(pipeline, fail_on, default_mode);
    judge.namespace_modes = loaded
        .config
        .admission
        .namespaces
        .iter()
        .map(|(name, mode)| (name.clone(), of(*mode)))
        .collect();
    judge
        .object_suppressions
        .clone_from(&loaded.config.admission.object_suppressions);
    Ok(judge)
}

/// Judging one review may take this long by default: below the webhook's `timeoutSeconds`
/// (5, in the manifests), so the API server hears Palisade's answer, not its own timeout.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(4);

/// What the handlers share.
pub struct AppState {
    judge: RwLock<Arc<Judge>>,
    metrics: Metrics,
    cluster: Option<Arc<RbacView>>,
    ready: AtomicBool,
    /// Every review's time in the handler, when asked for (the load benchmark).
    samples: Option<std::sync::Mutex<Vec<Duration>>>,
    /// How long one review may be judged before it is answered without a verdict.
    deadline: Duration,
    /// Reviews judged at once, on the blocking pool: a flood of costly objects waits here
    /// rather than taking every thread.
    judging: Arc<tokio::sync::Semaphore>,
    /// The reviews taken for judging: one that would wait past its deadline is refused at once.
    backlog: Arc<Backlog>,
    /// How long a request body may take to arrive.
    body_timeout: Duration,
}

/// Reviews judged at once: two per core.
fn judging_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

impl AppState {
    /// State for a judge without a cluster: every namespace has the default mode.
    pub fn new(judge: Judge) -> Arc<AppState> {
        Self::with_deadline(judge, DEFAULT_DEADLINE)
    }

    /// [`AppState::new`] with another deadline per review.
    pub fn with_deadline(judge: Judge, deadline: Duration) -> Arc<AppState> {
        Arc::new(AppState::alone(judge, deadline))
    }

    /// [`AppState::new`] that keeps every review's time in the handler, for [`AppState::samples`].
    pub fn sampled(judge: Judge) -> Arc<AppState> {
        Arc::new(AppState {
            samples: Some(std::sync::Mutex::new(Vec::new())),
            ..AppState::alone(judge, DEFAULT_DEADLINE)
        })
    }

    /// State without a cluster, ready at once.
    fn alone(judge: Judge, deadline: Duration) -> AppState {
        let slots = judging_slots();
        AppState {
            judge: RwLock::new(Arc::new(judge)),
            metrics: Metrics::default(),
            cluster: None,
            ready: AtomicBool::new(true),
            samples: None,
            deadline,
            judging: Arc::new(tokio::sync::Semaphore::new(slots)),
            backlog: Backlog::new(slots),
            body_timeout: ConnectionLimits::default().body,
        }
    }

    /// The times kept so far (empty unless built with [`AppState::sampled`]).
    pub fn samples(&self) -> Vec<Duration> {
        self.samples
            .as_ref()
            .and_then(|s| s.lock().ok().map(|s| s.clone()))
            .unwrap_or_default()
    }

    fn judge(&self) -> Option<Arc<Judge>> {
        self.judge.read().ok().map(|j| Arc::clone(&j))
    }

    fn mode_of(&self, namespace: &str) -> Option<Mode> {
        let label = self
            .cluster
            .as_ref()?
            .namespace_label(namespace, MODE_LABEL)?;
        Mode::parse(&label)
    }
}

/// The routes, for the server and for tests that call them without TLS.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.ready.load(Ordering::Relaxed) {
        "ok".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "namespaces not yet read").into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut text = state.metrics.render();
    text.push_str(&format!(
        "# HELP palisade_admission_reviews_in_flight Reviews taken and not yet judged (judged now or waiting for a slot).\n\
         # TYPE palisade_admission_reviews_in_flight gauge\n\
         palisade_admission_reviews_in_flight {}\n",
        state.backlog.taken()
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn validate(State(state): State<Arc<AppState>>, body: Body) -> Response {
    let started = Instant::now();
    let bytes = match tokio::time::timeout(state.body_timeout, read_body(body)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(BodyError::TooLarge)) => {
            state.metrics.bad_request(413);
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("palisade: the body is larger than {MAX_BODY_BYTES} bytes"),
            )
                .into_response();
        }
        Ok(Err(BodyError::Broken)) => {
            state.metrics.bad_request(400);
            return (
                StatusCode::BAD_REQUEST,
                "palisade: the body could not be read",
            )
                .into_response();
        }
        Err(_) => {
            state.metrics.bad_request(408);
            return (
                StatusCode::REQUEST_TIMEOUT,
                "palisade: the body did not arrive in time",
            )
                .into_response();
        }
    };
    let Some(judge) = state.judge() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "palisade: no judge").into_response();
    };
    // Judged on the blocking pool, a few at a time, within the deadline: the async workers
    // stay free for health checks and other reviews whatever one object costs.
    let uid = review_uid(&bytes);
    let ticket = match state
        .backlog
        .take(state.deadline.saturating_sub(started.elapsed()))
    {
        Ok(ticket) => ticket,
        Err(busy) => {
            state
                .metrics
                .review("shed", "other", &[], started.elapsed());
            return unjudged(&state, uid, |uid| {
                crate::review::too_busy(uid, busy.ahead, state.deadline)
            });
        }
    };
    let deadline = tokio::time::Instant::now() + state.deadline;
    let judged = async {
        let permit = Arc::clone(&state.judging).acquire_owned().await.ok()?;
        let task_state = Arc::clone(&state);
        let task = tokio::task::spawn_blocking(move || {
            // Held until judging ends, even when the answer has gone out at the deadline: the
            // backlog counts the work the slots still do.
            let _held = (permit, ticket);
            let judging = Instant::now();
            let cluster = task_state
                .cluster
                .as_deref()
                .map(|view| view as &dyn crate::review::ClusterView);
            let verdict = judge.review_in(&bytes, &|ns| task_state.mode_of(ns), cluster);
            task_state.backlog.judged(judging.elapsed());
            verdict
        });
        task.await.ok()
    };
    match tokio::time::timeout_at(deadline, judged).await {
        Ok(Some(Ok(verdict))) => {
            let took = started.elapsed();
            state
                .metrics
                .review(verdict.outcome, &verdict.kind, &verdict.denied_by, took);
            if let Some(samples) = &state.samples {
                if let Ok(mut samples) = samples.lock() {
                    samples.push(took);
                }
            }
            axum::Json(verdict.review).into_response()
        }
        Ok(Some(Err(bad))) => {
            state.metrics.bad_request(400);
            (StatusCode::BAD_REQUEST, format!("palisade: {bad}")).into_response()
        }
        Ok(None) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "palisade: judging failed",
        )
            .into_response(),
        Err(_) => {
            state
                .metrics
                .review("timeout", "other", &[], started.elapsed());
            unjudged(&state, uid, |uid| {
                crate::review::out_of_time(uid, state.deadline)
            })
        }
    }
}

/// The answer to a review that was not judged: `answer` for its uid, or 400 when the body is
/// no AdmissionReview (there is no uid to answer).
fn unjudged(
    state: &AppState,
    uid: Option<String>,
    answer: impl FnOnce(&str) -> serde_json::Value,
) -> Response {
    match uid {
        Some(uid) => axum::Json(answer(&uid)).into_response(),
        None => {
            state.metrics.bad_request(400);
            (StatusCode::BAD_REQUEST, "palisade: not an AdmissionReview").into_response()
        }
    }
}

enum BodyError {
    TooLarge,
    Broken,
}

/// Bytes past the limit that are still read (and dropped) before answering 413: a client
/// that is told before it has finished sending sees its HTTP/2 stream reset instead of the
/// answer.
const MAX_DRAIN_BYTES: usize = 4 * MAX_BODY_BYTES;

/// The request body, up to [`MAX_BODY_BYTES`].
async fn read_body(body: Body) -> Result<Vec<u8>, BodyError> {
    use futures::StreamExt as _;
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Broken)?;
        seen = seen.saturating_add(chunk.len());
        if seen > MAX_DRAIN_BYTES {
            return Err(BodyError::TooLarge);
        }
        if seen <= MAX_BODY_BYTES {
            bytes.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(BodyError::TooLarge);
    }
    Ok(bytes)
}

/// The review's `request.uid`, read without building the object (to answer in time).
fn review_uid(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Request {
        uid: String,
    }
    #[derive(serde::Deserialize)]
    struct Review {
        request: Request,
    }
    serde_json::from_slice::<Review>(body)
        .ok()
        .map(|r| r.request.uid)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// [`serve`] on a runtime of its own, for callers without one.
pub fn run(options: ServeOptions) -> Result<(), ServeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(options))
}

/// Runs the webhook until SIGTERM or Ctrl-C, then drains in-flight requests.
pub async fn serve(options: ServeOptions) -> Result<(), ServeError> {
    serve_until(options, stop_signal()).await
}

/// How long in-flight requests may take to finish once told to stop: below the pod's default
/// `terminationGracePeriodSeconds` (30), so the kubelet does not kill what is being answered.
pub const DRAIN: Duration = Duration::from_secs(25);

/// [`serve`] until `stop` completes: then no new connection is accepted, each open one is
/// told to close (HTTP/2 GOAWAY) and the requests in flight are answered, for [`DRAIN`] at most.
pub async fn serve_until(
    options: ServeOptions,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    // One crypto provider for the whole process (a second one would panic at the first TLS use).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let judge = load_judge(options.config.as_deref(), &options.flags, options.mode)?;
    let tls =
        axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(server_config(&options)?));
    let mut cluster = None;
    let mut client = None;
    if let Some(options) = &options.cluster {
        let (connected, context) = palisade_cluster::client(options).await?;
        cluster = Some(Arc::new(RbacView::start(&connected, &context)));
        client = Some(connected);
    }
    let arm = match (&options.arm, client) {
        (Some(name), Some(client)) => Some((name.clone(), client)),
        (Some(_), None) => {
            return Err(ServeError::Config(
                "--arm-webhook sets the webhook's failurePolicy through the API server: it needs the cluster (drop --no-cluster)".into(),
            ))
        }
        (None, _) => None,
    };
    let state = Arc::new(AppState {
        ready: AtomicBool::new(cluster.is_none()),
        cluster,
        body_timeout: options.limits.body,
        ..AppState::alone(judge, options.deadline)
    });
    let handle = axum_server::Handle::new();
    if let Some(view) = state.cluster.clone() {
        let state = Arc::clone(&state);
        let listening = handle.clone();
        tokio::spawn(async move {
            view.wait_until_ready().await;
            state.ready.store(true, Ordering::Relaxed);
            // Armed only once this pod answers: ready, and its port open.
            if let Some((name, client)) = arm {
                if listening.listening().await.is_some() {
                    crate::arm::arm_when_present(client, name).await;
                }
            }
        });
    }
    tokio::spawn(reload_loop(
        options.clone(),
        tls.clone(),
        Arc::clone(&state),
    ));
    let shutdown = handle.clone();
    tokio::spawn(async move {
        stop.await;
        eprintln!("palisade admit: stopping; finishing requests in flight");
        shutdown.graceful_shutdown(Some(DRAIN));
    });
    eprintln!("palisade admit: listening on https://{}", options.listen);
    let counting = Arc::clone(&state);
    let guard = Guard::new(
        options.limits,
        Arc::new(move || counting.metrics.bad_request(503)),
    );
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
        .handshake_timeout(options.limits.headers)
        .acceptor(guard);
    let mut server = axum_server::bind(options.listen)
        .acceptor(acceptor)
        .handle(handle);
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(options.limits.headers);
    server
        .http_builder()
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .keep_alive_interval(Some(options.limits.idle))
        .keep_alive_timeout(options.limits.headers)
        .max_concurrent_streams(64);
    server.serve(router(state).into_make_service()).await?;
    Ok(())
}

async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Checks the certificate, key and config for changes; a file that fails to load leaves the
/// old one in force (and says why on stderr).
async fn reload_loop(
    options: ServeOptions,
    tls: axum_server::tls_rustls::RustlsConfig,
    state: Arc<AppState>,
) {
    let stamp = |options: &ServeOptions| {
        (
            modified(&options.tls_cert),
            modified(&options.tls_key),
            options.config.as_deref().and_then(modified),
        )
    };
    let mut last = stamp(&options);
    loop {
        tokio::time::sleep(options.reload_every).await;
        let now = stamp(&options);
        if (now.0, now.1) != (last.0, last.1) {
            match server_config(&options) {
                Ok(config) => {
                    tls.reload_from_config(Arc::new(config));
                    state.metrics.reload("certificate");
                    eprintln!("palisade admit: certificate reloaded");
                }
                Err(e) => eprintln!("palisade admit: keeping the old certificate: {e}"),
            }
        }
        if now.2 != last.2 {
            match load_judge(options.config.as_deref(), &options.flags, options.mode) {
                Ok(judge) => {
                    if let Ok(mut slot) = state.judge.write() {
                        *slot = Arc::new(judge);
                    }
                    state.metrics.reload("config");
                    eprintln!("palisade admit: config reloaded");
                }
                Err(e) => eprintln!("palisade admit: keeping the old config: {e}"),
            }
        }
        last = now;
    }
}
