//! `palisade-cluster-bench`: loads a realistic cluster into a test API server (10,000 pods and
//! workloads in 100 namespaces, 2,000 RBAC objects, 500 NetworkPolicies, plus Services,
//! ServiceAccounts and ConfigMaps), then measures
//!
//! 1. the API server's own pace: every list Palisade makes, fetched as raw text with the same
//!    page size and concurrency, nothing parsed;
//! 2. `palisade scan --cluster --format json -o /dev/null`: wall time, objects per second and
//!    peak RSS (VmHWM of the process).
//!
//! ```sh
//! cargo build --release -p palisade -p palisade-testkit
//! target/release/palisade-cluster-bench [--namespaces 100] [--runs 3]
//! ```
//!
//! `--operator` measures `palisade operator` on the loaded cluster instead; `--evaluate`
//! measures the operator's evaluations alone, in this process and without an API server, on
//! the same objects: the first one, one with nothing changed, and one after each of 20 changes.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use futures_lite::run_concurrently;
use palisade_testkit::fleet::namespace_objects;
use palisade_testkit::TestCluster;

mod futures_lite {
    /// Runs `jobs` with at most `limit` in flight.
    pub async fn run_concurrently<F>(jobs: Vec<F>, limit: usize) -> Vec<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(limit));
        let mut handles = Vec::new();
        for job in jobs {
            let permit = std::sync::Arc::clone(&semaphore);
            handles.push(tokio::spawn(async move {
                let _permit = permit.acquire_owned().await;
                job.await
            }));
        }
        let mut out = Vec::new();
        for handle in handles {
            if let Ok(value) = handle.await {
                out.push(value);
            }
        }
        out
    }
}

struct Args {
    namespaces: usize,
    runs: usize,
    /// Measure `palisade operator` instead of `scan --cluster`.
    operator: bool,
    /// Measure the operator's evaluations in this process, without an API server.
    evaluate: bool,
    /// Measure this cluster instead of starting one (loaded unless `--no-load`).
    kubeconfig: Option<PathBuf>,
    load: bool,
}

fn args() -> Args {
    let mut args = Args {
        namespaces: 100,
        runs: 3,
        operator: false,
        evaluate: false,
        kubeconfig: None,
        load: true,
    };
    let mut it = std::env::args().skip(1);
    let usage = || -> ! {
        eprintln!(
            "usage: palisade-cluster-bench [--namespaces N] [--runs N] [--operator | --evaluate] [--kubeconfig FILE [--no-load]]"
        );
        std::process::exit(2)
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--no-load" => args.load = false,
            "--operator" => args.operator = true,
            "--evaluate" => args.evaluate = true,
            "--kubeconfig" => args.kubeconfig = Some(it.next().unwrap_or_else(|| usage()).into()),
            "--namespaces" | "--runs" => {
                let n = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage());
                if flag == "--runs" {
                    args.runs = n;
                } else {
                    args.namespaces = n;
                }
            }
            _ => usage(),
        }
    }
    args
}

fn load(client: &kube::Client, namespaces: usize) -> usize {
    let client = client.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let post = |client: kube::Client, path: String, body: serde_json::Value| async move {
        let request = http::Request::post(path)
            .header("Content-Type", "application/json")
            .body(body.to_string().into_bytes())
            .expect("request");
        client.request_text(request).await.map(|_| ())
    };
    runtime.block_on(async {
        let namespace_jobs: Vec<_> = (0..namespaces)
            .map(|i| {
                post(client.clone(), "/api/v1/namespaces".into(),
                    serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("team-{i:03}"),
                        "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}))
            })
            .collect();
        run_concurrently(namespace_jobs, 16).await;
        // Service accounts before the pods that name them.
        let (accounts, rest): (Vec<_>, Vec<_>) = (0..namespaces)
            .flat_map(namespace_objects)
            .partition(|(path, _)| path.ends_with("/serviceaccounts"));
        let mut total = namespaces;
        for phase in [accounts, rest] {
            let jobs: Vec<_> = phase
                .into_iter()
                .map(|(path, body)| post(client.clone(), path, body))
                .collect();
            total += jobs.len();
            let failed = run_concurrently(jobs, 32).await.into_iter().filter(Result::is_err).count();
            if failed > 0 {
                eprintln!("{failed} creates failed");
            }
        }
        total
    })
}

/// Every list `scan --cluster` makes, fetched as text: the API server's pace.
fn raw_lists(client: &kube::Client) -> (Duration, usize) {
    let client = client.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let paths = [
        "/api/v1/namespaces",
        "/api/v1/pods",
        "/api/v1/replicationcontrollers",
        "/api/v1/podtemplates",
        "/api/v1/services",
        "/api/v1/serviceaccounts",
        "/api/v1/limitranges",
        "/api/v1/configmaps",
        "/api/v1/secrets",
        "/apis/apps/v1/deployments",
        "/apis/apps/v1/statefulsets",
        "/apis/apps/v1/daemonsets",
        "/apis/apps/v1/replicasets",
        "/apis/batch/v1/jobs",
        "/apis/batch/v1/cronjobs",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        "/apis/rbac.authorization.k8s.io/v1/roles",
        "/apis/rbac.authorization.k8s.io/v1/rolebindings",
        "/apis/networking.k8s.io/v1/networkpolicies",
        "/apis/networking.k8s.io/v1/ingresses",
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
        "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
        "/apis/node.k8s.io/v1/runtimeclasses",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    ];
    let started = Instant::now();
    let bytes = runtime.block_on(async {
        let jobs: Vec<_> = paths
            .iter()
            .map(|path| {
                let client = client.clone();
                let path = path.to_string();
                async move {
                    let mut bytes = 0;
                    let mut token: Option<String> = None;
                    loop {
                        let mut url = format!("{path}?limit=500");
                        if let Some(t) = &token {
                            url.push_str(&format!("&continue={t}"));
                        }
                        let Ok(request) = http::Request::get(url).body(Vec::new()) else {
                            break;
                        };
                        let Ok(text) = client.request_text(request).await else {
                            break;
                        };
                        bytes += text.len();
                        // The token is the only thing read from the page.
                        token = text
                            .split("\"continue\":\"")
                            .nth(1)
                            .and_then(|rest| rest.split('"').next())
                            .map(str::to_string)
                            .filter(|t| !t.is_empty());
                        if token.is_none() {
                            break;
                        }
                    }
                    bytes
                }
            })
            .collect();
        run_concurrently(jobs, 4).await.into_iter().sum::<usize>()
    });
    (started.elapsed(), bytes)
}

/// Runs `command`, polling its peak RSS (VmHWM), and returns (wall time, peak RSS in KiB).
fn measured(mut command: Command) -> (Duration, u64, String) {
    let started = Instant::now();
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("palisade starts");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            if let Some(kib) = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        use std::io::Read;
        let _ = err.read_to_string(&mut stderr);
    }
    (elapsed, peak, stderr)
}

fn main() {
    let args = args();
    if args.evaluate {
        evaluate_bench(args.namespaces);
        return;
    }
    let palisade: PathBuf = std::env::current_exe()
        .expect("own path")
        .with_file_name("palisade");
    if !palisade.is_file() {
        eprintln!("build palisade first: cargo build --release -p palisade -p palisade-testkit");
        std::process::exit(2);
    }
    let (own, client, kubeconfig) = match &args.kubeconfig {
        Some(path) => {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            let client = runtime.block_on(async {
                let config = kube::Config::from_custom_kubeconfig(
                    kube::config::Kubeconfig::read_from(path).expect("kubeconfig"),
                    &kube::config::KubeConfigOptions::default(),
                )
                .await
                .expect("kubeconfig");
                kube::Client::try_from(config).expect("client")
            });
            // The client's connections live on this runtime: keep it.
            std::mem::forget(runtime);
            (None, client, path.clone())
        }
        None => {
            let Some(cluster) = TestCluster::own("palisade-cluster-bench") else {
                std::process::exit(2);
            };
            let (client, kubeconfig) = (cluster.client(), cluster.kubeconfig.clone());
            (Some(cluster), client, kubeconfig)
        }
    };
    if args.load {
        let started = Instant::now();
        let created = load(&client, args.namespaces);
        println!(
            "loaded {created} objects in {} namespaces in {:.1}s",
            args.namespaces,
            started.elapsed().as_secs_f64()
        );
    }
    if args.operator {
        operator_bench(&palisade, &client, &kubeconfig, args.namespaces.min(100));
        drop(own);
        return;
    }
    for run in 1..=args.runs {
        let (raw, bytes) = raw_lists(&client);
        let mut command = Command::new(&palisade);
        command
            .args([
                "scan",
                "--cluster",
                "--format",
                "json",
                "-o",
                "/dev/null",
                "--kubeconfig",
            ])
            .arg(&kubeconfig);
        let (wall, peak_kib, stderr) = measured(command);
        // Reading alone: the same lists, parsed and turned into objects, one cheap rule.
        let mut command = Command::new(&palisade);
        command
            .args([
                "scan",
                "--cluster",
                "--select",
                "PAL-PSS-002",
                "--format",
                "json",
                "-o",
                "/dev/null",
                "--kubeconfig",
            ])
            .arg(&kubeconfig);
        let (read_wall, read_peak_kib, _) = measured(command);
        let report_objects = {
            let mut command = Command::new(&palisade);
            command
                .args(["scan", "--cluster", "--format", "json", "--kubeconfig"])
                .arg(&kubeconfig);
            let output = command.output().expect("palisade runs");
            let report: serde_json::Value =
                serde_json::from_slice(&output.stdout).unwrap_or_default();
            let findings = report["findings"].as_array().map_or(0, Vec::len);
            (report["summary"]["objects"].as_u64().unwrap_or(0), findings)
        };
        if !stderr.trim().is_empty() {
            eprintln!("{stderr}");
        }
        let (objects, findings) = report_objects;
        println!(
            "run {run}: API server lists (raw, {:.1} MB): {:.2}s | reading (one rule): {:.2}s, \
             {:.1} MB, {:.2}x raw | palisade scan --cluster: {:.2}s, {objects} objects ({:.0}/s), \
             {findings} findings, peak RSS {:.1} MB, {:.2}x raw",
            bytes as f64 / 1e6,
            raw.as_secs_f64(),
            read_wall.as_secs_f64(),
            read_peak_kib as f64 / 1024.0,
            read_wall.as_secs_f64() / raw.as_secs_f64(),
            wall.as_secs_f64(),
            objects as f64 / wall.as_secs_f64(),
            peak_kib as f64 / 1024.0,
            wall.as_secs_f64() / raw.as_secs_f64(),
        );
    }
    drop(own);
}

use palisade_testkit::metric;

fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

fn peak_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// `palisade operator` on the loaded cluster: time to the first complete set of reports, peak
/// RSS, latency from a change to its report, writes per change.
fn operator_bench(
    palisade: &std::path::Path,
    client: &kube::Client,
    kubeconfig: &std::path::Path,
    changes: usize,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let crds = Command::new(palisade)
        .args(["operator", "crds"])
        .output()
        .expect("palisade runs");
    runtime
        .block_on(palisade_testkit::apply_with(
            client,
            &String::from_utf8_lossy(&crds.stdout),
        ))
        .expect("CRDs");
    std::thread::sleep(Duration::from_secs(2));
    let port = palisade_testkit::free_port();
    let started = Instant::now();
    let mut child = Command::new(palisade)
        .args([
            "operator",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--identity",
            "bench",
            "--kubeconfig",
        ])
        .arg(kubeconfig)
        // As the operator's Deployment runs it.
        .envs(palisade_operator::manifests::ENVIRONMENT.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("operator starts");
    let mut peak = 0;
    loop {
        peak = peak.max(peak_kib(child.id()));
        if metric(port, "palisade_operator_leader") == Some(1.0)
            && metric(port, "palisade_operator_synced") == Some(1.0)
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(300) {
            eprintln!("no reports after 300 s");
            let _ = child.kill();
            let _ = child.wait();
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let first = started.elapsed();
    let objects = metric(port, "palisade_operator_objects").unwrap_or(0.0);
    let evaluation = metric(port, "palisade_operator_evaluation_seconds").unwrap_or(0.0);
    let writes_start = metric(port, "palisade_operator_report_writes_total").unwrap_or(0.0);
    let evaluations_start = metric(port, "palisade_operator_evaluations_total").unwrap_or(0.0);
    let mut latencies = Vec::new();
    for i in 0..changes {
        let namespace = format!("team-{i:03}");
        let path = format!(
            "/apis/apps/v1/namespaces/{namespace}/deployments/deploy-{}",
            i % 30
        );
        let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "securityContext": {"privileged": true, "allowPrivilegeEscalation": true}}
        ]}}}});
        let request = http::Request::patch(path)
            .header("Content-Type", "application/strategic-merge-patch+json")
            .body(patch.to_string().into_bytes())
            .expect("request");
        // Every part of the namespace's report (a busy namespace's is split), watched from
        // before the change: the result is seen the moment it is written, not at the next poll.
        let report = format!("/apis/wgpolicyk8s.io/v1alpha2/namespaces/{namespace}/policyreports");
        let deployment = format!("deploy-{}", i % 30);
        let shows_result = |report: &serde_json::Value| {
            report["results"].as_array().into_iter().flatten().any(|x| {
                x["policy"] == "PAL-PSS-002" && x["resources"][0]["name"] == deployment.as_str()
            })
        };
        let latency = runtime.block_on(async {
            use futures::TryStreamExt;
            let list = http::Request::get(report.as_str()).body(Vec::new()).ok()?;
            let list: serde_json::Value = client.request(list).await.ok()?;
            let version = list["metadata"]["resourceVersion"].as_str()?.to_string();
            let watch = http::Request::get(format!(
                "{report}?watch=true&resourceVersion={version}&timeoutSeconds=30"
            ))
            .body(Vec::new())
            .ok()?;
            let events = client
                .request_events::<serde_json::Value>(watch)
                .await
                .ok()?;
            let changed = Instant::now();
            client.request_text(request).await.ok()?;
            let mut events = std::pin::pin!(events);
            while let Ok(Some(event)) = events.try_next().await {
                if let kube::core::WatchEvent::Added(object)
                | kube::core::WatchEvent::Modified(object) = event
                {
                    if shows_result(&object) {
                        return Some(changed.elapsed());
                    }
                }
            }
            None
        });
        peak = peak.max(peak_kib(child.id()));
        match latency {
            Some(latency) => latencies.push(latency),
            None => eprintln!("change {i}: no result within 30 s"),
        }
    }
    let writes =
        metric(port, "palisade_operator_report_writes_total").unwrap_or(0.0) - writes_start;
    let evaluations =
        metric(port, "palisade_operator_evaluations_total").unwrap_or(0.0) - evaluations_start;
    peak = peak.max(peak_kib(child.id()));
    let _ = child.kill();
    let _ = child.wait();
    latencies.sort();
    let pick = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "operator: {objects} objects; first complete reports after {:.1} s (one evaluation {:.2} s); peak RSS {:.1} MB; \
         {} changes: change-to-report p50 {:.0} ms, p99 {:.0} ms; {:.2} report writes and {:.2} evaluations per change",
        first.as_secs_f64(),
        evaluation,
        peak as f64 / 1024.0,
        latencies.len(),
        pick(0.5),
        pick(0.99),
        writes / latencies.len().max(1) as f64,
        evaluations / latencies.len().max(1) as f64
    );
}

/// The operator's evaluations in this process: the cluster's objects as the watches keep them,
/// evaluated first from nothing, then with nothing changed, then after each of 20 changes
/// (a Deployment made privileged), with the reports built from each.
fn evaluate_bench(namespaces: usize) {
    use palisade_operator::watch::State;
    let (pipeline, _) = palisade_engine::build_pipeline(
        &palisade_engine::config::LoadedConfig::default(),
        &palisade_engine::Overrides::default(),
    )
    .expect("default pipeline");
    // As the watches keep them: every object with its resourceVersion.
    let entry = |value: &serde_json::Value| {
        let kind = value["kind"].as_str().unwrap_or("");
        palisade_operator::watch::keyed(kind, value)
    };
    let mut state = State::default();
    let mut version = 0;
    for index in 0..namespaces {
        let name = format!("team-{index:03}");
        let namespace = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "uid": format!("uid-{index}")}});
        let mut objects = vec![namespace];
        objects.extend(namespace_objects(index).into_iter().map(|(_, body)| body));
        for mut value in objects {
            version += 1;
            value["metadata"]["resourceVersion"] = version.to_string().into();
            let (key, entry) = entry(&value);
            state
                .namespace_uids
                .insert(name.clone(), format!("uid-{index}"));
            state.objects.insert(key, entry);
        }
    }
    println!(
        "objects held: {:.1} MB RSS",
        rss_kib(std::process::id()) as f64 / 1024.0
    );
    let mut evaluator = palisade_operator::Evaluator::default();
    let mut measure = |state: &mut State| {
        let started = Instant::now();
        let evaluation = evaluator.evaluate(&pipeline, state, false);
        let evaluated = started.elapsed();
        let mut reports = 0;
        let mut findings = 0;
        for group in &evaluation.groups {
            let group = evaluator.findings(group);
            let mut first_seen = std::collections::HashMap::new();
            reports +=
                palisade_operator::reports::build(group, &mut first_seen, 0, &evaluation.owners)
                    .len();
            findings += group.len();
        }
        (evaluated, started.elapsed() - evaluated, findings, reports)
    };
    let (first, built, findings, reports) = measure(&mut state);
    println!(
        "evaluate: {} objects, {findings} findings, {reports} reports; first evaluation {:.0} ms (+{:.0} ms reports)",
        state.objects.len(),
        first.as_secs_f64() * 1000.0,
        built.as_secs_f64() * 1000.0
    );
    let (again, built, ..) = measure(&mut state);
    println!(
        "nothing changed: {:.0} ms (+{:.0} ms reports)",
        again.as_secs_f64() * 1000.0,
        built.as_secs_f64() * 1000.0
    );
    let mut times = Vec::new();
    for i in 0..20 {
        let deployment = format!("deploy-{}", i % 30);
        let Some(mut value) = namespace_objects(i % namespaces.max(1))
            .into_iter()
            .map(|(_, body)| body)
            .find(|body| {
                body["kind"] == "Deployment" && body["metadata"]["name"] == deployment.as_str()
            })
        else {
            continue;
        };
        value["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
            serde_json::json!({"privileged": true, "allowPrivilegeEscalation": true});
        version += 1;
        value["metadata"]["resourceVersion"] = version.to_string().into();
        let (key, entry) = entry(&value);
        state.dirty.insert(key.1.clone());
        state.objects.insert(key, entry);
        let (evaluated, built, ..) = measure(&mut state);
        times.push(evaluated + built);
    }
    times.sort();
    let pick = |p: f64| {
        times
            .get(((times.len().max(1) - 1) as f64 * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{} changes: evaluation and reports p50 {:.0} ms, p99 {:.0} ms; peak RSS {:.1} MB",
        times.len(),
        pick(0.5),
        pick(0.99),
        peak_kib(std::process::id()) as f64 / 1024.0
    );
}
