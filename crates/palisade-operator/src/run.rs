//! The operator's loop: watch, evaluate what changed (debounced), write the reports that
//! changed when leading; and `/healthz`, `/readyz`, `/metrics` beside it.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use palisade_cluster::ClusterOptions;
use palisade_engine::config::{self, LoadedConfig};
use palisade_engine::{build_pipeline, Overrides};
use serde_json::{json, Value as Json};

use crate::evaluate::{Evaluation, Evaluator, Group};
use crate::lease::Elector;
use crate::reports::{self, Report, ReportKey, MANAGED_BY};
use crate::watch::{self, Shared};

/// How the operator runs.
#[derive(Clone, Debug)]
pub struct OperatorOptions {
    pub cluster: ClusterOptions,
    pub config: Option<PathBuf>,
    pub flags: Overrides,
    /// `/healthz`, `/readyz` and `/metrics` (plain HTTP).
    pub listen: SocketAddr,
    /// This replica's name in the Lease (the pod name in a cluster).
    pub identity: String,
    /// Where the Lease lives.
    pub lease_namespace: String,
    /// How long to wait for more changes before evaluating.
    pub debounce: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("config: {0}")]
    Config(String),
    #[error(transparent)]
    Cluster(#[from] palisade_cluster::ClusterError),
    #[error("cluster: {0}")]
    Api(#[from] kube::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

#[derive(Default)]
struct Metrics {
    objects: AtomicU64,
    evaluations: AtomicU64,
    writes: AtomicU64,
    deletes: AtomicU64,
    api_errors: AtomicU64,
    leader: AtomicBool,
    ready: AtomicBool,
    /// The leader's reports say what the last evaluation found.
    synced: AtomicBool,
    last_evaluation_micros: AtomicU64,
    config_reloads: AtomicU64,
    /// Kinds listed again after their first list (shared with the watches' state).
    relists: Arc<AtomicU64>,
    findings: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    fn render(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = format!(
            "# HELP palisade_operator_objects Objects watched.\n# TYPE palisade_operator_objects gauge\npalisade_operator_objects {}\n\
             # HELP palisade_operator_evaluations_total Evaluations of the cluster.\n# TYPE palisade_operator_evaluations_total counter\npalisade_operator_evaluations_total {}\n\
             # HELP palisade_operator_evaluation_seconds Duration of the last evaluation.\n# TYPE palisade_operator_evaluation_seconds gauge\npalisade_operator_evaluation_seconds {}\n\
             # HELP palisade_operator_report_writes_total Reports written (only when their results changed).\n# TYPE palisade_operator_report_writes_total counter\npalisade_operator_report_writes_total {}\n\
             # HELP palisade_operator_report_deletes_total Reports deleted (no findings left).\n# TYPE palisade_operator_report_deletes_total counter\npalisade_operator_report_deletes_total {}\n\
             # HELP palisade_operator_api_errors_total Failed API requests and watch errors.\n# TYPE palisade_operator_api_errors_total counter\npalisade_operator_api_errors_total {}\n\
             # HELP palisade_operator_leader Whether this replica writes reports.\n# TYPE palisade_operator_leader gauge\npalisade_operator_leader {}\n\
             # HELP palisade_operator_synced Whether the reports say what the last evaluation found.\n# TYPE palisade_operator_synced gauge\npalisade_operator_synced {}\n\
             # HELP palisade_operator_config_reloads_total Times the config file changed and was loaded.\n# TYPE palisade_operator_config_reloads_total counter\npalisade_operator_config_reloads_total {}\n\
             # HELP palisade_operator_relists_total Kinds listed again because their watch could not resume (410 Gone, a restarted API server).\n# TYPE palisade_operator_relists_total counter\npalisade_operator_relists_total {}\n\
             # HELP palisade_operator_findings Unsuppressed findings by severity.\n# TYPE palisade_operator_findings gauge\n",
            get(&self.objects),
            get(&self.evaluations),
            get(&self.last_evaluation_micros) as f64 / 1e6,
            get(&self.writes),
            get(&self.deletes),
            get(&self.api_errors),
            u8::from(self.leader.load(Ordering::Relaxed)),
            u8::from(self.synced.load(Ordering::Relaxed)),
            get(&self.config_reloads),
            get(&self.relists),
        );
        if let Ok(findings) = self.findings.lock() {
            for (severity, n) in findings.iter() {
                out.push_str(&format!(
                    "palisade_operator_findings{{severity=\"{severity}\"}} {n}\n"
                ));
            }
        }
        out
    }
}

async fn metrics_page(State(m): State<Arc<Metrics>>) -> Response {
    m.render().into_response()
}

async fn readyz(State(m): State<Arc<Metrics>>) -> Response {
    if m.ready.load(Ordering::Relaxed) {
        "ok".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "first evaluation not done").into_response()
    }
}

/// How often the config file is checked for changes.
const CONFIG_CHECK_EVERY: Duration = Duration::from_secs(2);

fn modified(path: &std::path::Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// How often the lease is renewed (it lasts 15 s): by its own task, whatever the evaluations do.
pub const LEASE_RENEW_EVERY: Duration = Duration::from_secs(2);

/// Runs until SIGTERM or Ctrl-C.
pub async fn run(options: OperatorOptions) -> Result<(), OperatorError> {
    let mut loaded = match &options.config {
        Some(file) => config::load(file).map_err(|e| OperatorError::Config(e.to_string()))?,
        None => LoadedConfig::default(),
    };
    let (mut pipeline, _) = build_pipeline(&loaded, &options.flags)
        .map_err(|e| OperatorError::Config(e.to_string()))?;
    // The flags with the cluster's admission policies as last read: a config reload keeps them.
    let mut flags = options.flags.clone();
    let mut config_stamp = options.config.as_deref().and_then(modified);
    let mut config_check = tokio::time::interval(CONFIG_CHECK_EVERY);
    let mut admission = crate::admission::Admission::default();
    let (client, context) = palisade_cluster::client(&options.cluster).await?;
    let metrics = Arc::new(Metrics::default());

    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_page))
        .with_state(Arc::clone(&metrics));
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let (changed_tx, mut changed) = tokio::sync::mpsc::unbounded_channel();
    let errors = Arc::clone(&metrics);
    let context_for_errors = context.clone();
    let on_error: Arc<dyn Fn(String) + Send + Sync> = Arc::new(move |message| {
        errors.api_errors.fetch_add(1, Ordering::Relaxed);
        eprintln!("palisade operator: watching in `{context_for_errors}`: {message}");
    });
    let state: Shared = Arc::new(Mutex::new(watch::State {
        relists: Arc::clone(&metrics.relists),
        ..Default::default()
    }));
    let watched = watch::start(&client, Arc::clone(&state), changed_tx, on_error).await?;
    // Every kind listed once before the first evaluation: reports never show a half-read cluster.
    loop {
        let synced = state.lock().map(|s| s.synced.len()).unwrap_or(0);
        if synced >= watched.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "palisade operator: watching {} kinds in `{context}` as {}",
        watched.len(),
        options.identity
    );

    let elector = Elector::new(
        client.clone(),
        &options.lease_namespace,
        "palisade-operator",
        &options.identity,
    );
    // The lease is renewed on its own schedule, in its own task: an evaluation that takes
    // longer than the lease (15 s) must not let another replica take over while this one
    // still writes.
    let lease_metrics = Arc::clone(&metrics);
    let renewal = crate::lease::Renewal::start(
        elector,
        LEASE_RENEW_EVERY,
        Box::new(move |round| match round {
            Ok(leading) => lease_metrics.leader.store(leading, Ordering::Relaxed),
            Err(e) => {
                lease_metrics.leader.store(false, Ordering::Relaxed);
                lease_metrics.api_errors.fetch_add(1, Ordering::Relaxed);
                eprintln!("palisade operator: lease: {e}");
            }
        }),
    );
    let mut leading_rx = renewal.leading.clone();
    let mut writer = Writer {
        client: client.clone(),
        written: HashMap::new(),
        first_seen: HashMap::new(),
        seeded: false,
    };
    let mut evaluator = Evaluator::default();
    let mut stop = tokio::spawn(stop_signal());
    let mut pending = true;
    let mut write_backoff =
        crate::retry::WriteBackoff::new(Duration::from_secs(1), Duration::from_secs(8));
    let mut last_evaluation = Instant::now();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Ok(()) = leading_rx.changed() => {
                if *leading_rx.borrow_and_update() {
                    eprintln!("palisade operator: leading; writing reports");
                    writer.seeded = false;
                    pending = true;
                }
            }
            Some(()) = changed.recv() => {
                pending = true;
                // A change after a quiet spell is evaluated at once; one that follows an
                // evaluation closely waits for the rest of its burst.
                if last_evaluation.elapsed() < options.debounce * 2 {
                    tokio::time::sleep(options.debounce).await;
                }
                while changed.try_recv().is_ok() {}
            }
            _ = config_check.tick(), if options.config.is_some() => {
                // A ConfigMap mounted as a volume changes under the pod: the kubelet swaps
                // the files, and the next evaluation judges with the new config.
                let stamp = options.config.as_deref().and_then(modified);
                if stamp != config_stamp {
                    config_stamp = stamp;
                    if let Some(file) = &options.config {
                        match config::load(file)
                            .map_err(|e| e.to_string())
                            .and_then(|new| {
                                build_pipeline(&new, &flags)
                                    .map(|(rebuilt, _)| (new, rebuilt))
                                    .map_err(|e| e.to_string())
                            }) {
                            Ok((new, rebuilt)) => {
                                loaded = new;
                                pipeline = rebuilt;
                                metrics.config_reloads.fetch_add(1, Ordering::Relaxed);
                                eprintln!("palisade operator: config reloaded");
                                writer.seeded = false;
                                pending = true;
                            }
                            Err(e) => eprintln!("palisade operator: keeping the old config: {e}"),
                        }
                    }
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(200)), if pending => {}
        }
        if stop.is_finished() {
            break;
        }
        if !pending {
            continue;
        }
        pending = false;
        let started = Instant::now();
        let leading = metrics.leader.load(Ordering::Relaxed);
        // A new leader writes every report once (what it read of the written ones decides which
        // need it); after that, only the groups that changed.
        let mut complete = leading && !writer.seeded;
        // On this worker, handed off from the runtime: the lease task and the metrics server
        // run on the others meanwhile.
        let evaluation = tokio::task::block_in_place(|| match state.lock() {
            Ok(mut state) => {
                // The cluster's admission policies changed: every namespace is judged again
                // against them.
                let warn = |message: String| eprintln!("palisade operator: {message}");
                if let Some(policies) = admission.changed(&state, &warn) {
                    flags = Overrides {
                        admission: policies,
                        ..options.flags.clone()
                    };
                    match build_pipeline(&loaded, &flags) {
                        Ok((rebuilt, _)) => {
                            pipeline = rebuilt;
                            complete = true;
                        }
                        Err(e) => warn(format!("admission policies: {e}")),
                    }
                }
                Some(evaluator.evaluate(&pipeline, &mut state, complete))
            }
            Err(_) => None,
        });
        let Some(evaluation) = evaluation else {
            break;
        };
        metrics
            .objects
            .store(evaluation.objects as u64, Ordering::Relaxed);
        metrics.evaluations.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut counts) = metrics.findings.lock() {
            *counts = evaluation.counts.clone();
        }
        metrics.synced.store(false, Ordering::Relaxed);
        // Still leading after the evaluation (the lease task may have lost the lease meanwhile).
        if leading && *leading_rx.borrow() {
            let still_leading = || *leading_rx.borrow();
            match writer
                .write(&evaluation, &evaluator, &metrics, &still_leading)
                .await
            {
                Ok(whole) => {
                    write_backoff.succeeded();
                    metrics.synced.store(whole, Ordering::Relaxed);
                    if !whole {
                        eprintln!("palisade operator: lost the lease; stopped writing between report sets");
                        pending = true;
                    }
                }
                Err(e) => {
                    metrics.api_errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("palisade operator: writing reports: {e}");
                    // Read the written reports again and judge every group: what failed is
                    // written next time.
                    writer.seeded = false;
                    pending = true;
                    // Less and less often while it fails (the client has already retried
                    // throttling with the server's Retry-After).
                    tokio::time::sleep(write_backoff.failed()).await;
                }
            }
        }
        metrics
            .last_evaluation_micros
            .store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        last_evaluation = Instant::now();
        metrics.ready.store(true, Ordering::Relaxed);
    }
    eprintln!("palisade operator: stopping");
    renewal.stop().await;
    Ok(())
}

async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        let _ = interrupt.await;
        return;
    };
    tokio::select! {
        _ = interrupt => {}
        _ = term.recv() => {}
    }
}

/// What the leader wrote, so that only changed reports are written again.
struct Writer {
    client: kube::Client,
    /// Digest of each report as last written (or found at start).
    written: HashMap<ReportKey, u64>,
    /// When each result of a group was first reported.
    first_seen: HashMap<Group, HashMap<u64, i64>>,
    /// Whether `written` reflects the cluster (read once after becoming leader).
    seeded: bool,
}

fn path(key: &ReportKey, collection: bool) -> String {
    match &key.0 {
        Some(ns) => {
            let base = format!("/apis/wgpolicyk8s.io/v1alpha2/namespaces/{ns}/policyreports");
            if collection {
                base
            } else {
                format!("{base}/{}", key.1)
            }
        }
        None => {
            let base = "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports".to_string();
            if collection {
                base
            } else {
                format!("{base}/{}", key.1)
            }
        }
    }
}

impl Writer {
    async fn request(
        &self,
        method: http::Method,
        uri: &str,
        content_type: &str,
        body: Option<&Json>,
    ) -> Result<Json, kube::Error> {
        let request = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("Content-Type", content_type)
            .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
            .map_err(kube::Error::HttpError)?;
        self.client.request::<Json>(request).await
    }

    /// Reads the reports Palisade wrote before (by another replica or an earlier run).
    async fn seed(&mut self) -> Result<(), kube::Error> {
        self.written.clear();
        let selector = format!("labelSelector={}%3D{}", MANAGED_BY.0, MANAGED_BY.1);
        for collection in [
            "/apis/wgpolicyk8s.io/v1alpha2/policyreports",
            "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports",
        ] {
            // Page by page, keeping digests only: the reports of a big cluster are large.
            let mut token = String::new();
            loop {
                let mut uri = format!("{collection}?{selector}&limit=20");
                if !token.is_empty() {
                    uri.push_str(&format!("&continue={token}"));
                }
                let list = self
                    .request(http::Method::GET, &uri, "application/json", None)
                    .await?;
                for item in list["items"].as_array().into_iter().flatten() {
                    let key = (
                        item["metadata"]["namespace"].as_str().map(str::to_string),
                        item["metadata"]["name"].as_str().unwrap_or("").to_string(),
                    );
                    let first_seen = self.first_seen.entry(key.0.clone()).or_default();
                    let digest = reports::digest_of_written(item, first_seen);
                    self.written.insert(key, digest);
                }
                token = list["metadata"]["continue"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                if token.is_empty() {
                    break;
                }
            }
        }
        self.seeded = true;
        Ok(())
    }

    /// Writes what the evaluation found, a group (namespace) at a time, each group's report
    /// set whole ([`reports::GroupPlan`]). Before each group it asks `still_leading`: a
    /// replica that lost its lease stops between sets, never inside one, and reads the
    /// written reports again when it leads again. `Ok(false)`: stopped for that.
    async fn write(
        &mut self,
        evaluation: &Evaluation,
        evaluator: &Evaluator,
        metrics: &Metrics,
        still_leading: &dyn Fn() -> bool,
    ) -> Result<bool, kube::Error> {
        if !self.seeded {
            self.seed().await?;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        for group in &evaluation.groups {
            if !still_leading() {
                self.seeded = false;
                return Ok(false);
            }
            let findings = evaluator.findings(group);
            let first_seen = self.first_seen.entry(group.clone()).or_default();
            let wanted: BTreeMap<ReportKey, Report> =
                reports::build(findings, first_seen, now, &evaluation.owners);
            let digests = wanted
                .iter()
                .map(|(key, report)| (key.clone(), report.digest))
                .collect();
            let plan = reports::GroupPlan::of(group, &digests, &self.written);
            for key in &plan.apply {
                let Some(report) = wanted.get(key) else {
                    continue;
                };
                let uri = format!("{}?fieldManager=palisade&force=true", path(key, false));
                match self
                    .request(
                        http::Method::PATCH,
                        &uri,
                        "application/apply-patch+yaml",
                        Some(&report.body()),
                    )
                    .await
                {
                    Ok(_) => {}
                    // The namespace is being deleted: its reports go with it.
                    Err(kube::Error::Api(status))
                        if status.code == 404
                            || status.code == 403 && status.message.contains("terminat") =>
                    {
                        continue
                    }
                    Err(e) => return Err(e),
                }
                metrics.writes.fetch_add(1, Ordering::Relaxed);
                self.written.insert(key.clone(), report.digest);
            }
            self.delete_reports(&plan.delete, metrics).await?;
            if findings.is_empty() {
                self.first_seen.remove(group);
            }
        }
        // After a complete evaluation, the reports of groups it did not judge (a namespace
        // deleted while no one was leading), a group at a time.
        if evaluation.complete {
            let mut stale: BTreeMap<Group, Vec<ReportKey>> = BTreeMap::new();
            for key in self.written.keys() {
                if !evaluation.groups.contains(&key.0) {
                    stale.entry(key.0.clone()).or_default().push(key.clone());
                }
            }
            for keys in stale.values() {
                if !still_leading() {
                    self.seeded = false;
                    return Ok(false);
                }
                self.delete_reports(keys, metrics).await?;
            }
        }
        Ok(true)
    }

    async fn delete_reports(
        &mut self,
        keys: &[ReportKey],
        metrics: &Metrics,
    ) -> Result<(), kube::Error> {
        for key in keys {
            match self
                .request(
                    http::Method::DELETE,
                    &path(key, false),
                    "application/json",
                    Some(&json!({})),
                )
                .await
            {
                Ok(_) => {
                    metrics.deletes.fetch_add(1, Ordering::Relaxed);
                }
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(e) => return Err(e),
            }
            self.written.remove(key);
        }
        Ok(())
    }
}
