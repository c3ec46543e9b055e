//! Benchmark: scans a directory (or a corpus it generates) with every rule, and prints files,
//! objects, MB/s, wall time and peak RSS. Findings are counted, not kept, so the figures show
//! what loading and checking cost and whether memory stays flat as input grows.
//!
//! ```text
//! cargo run --release --features bench --bin palisade-bench -- ../shared/corpus/real
//! cargo run --release --features bench --bin palisade-bench -- --generate 1024 --dir target/bench-1g
//! cargo run --release --features bench --bin palisade-bench -- --rbac 10000 5000
//! cargo run --release --features bench --bin palisade-bench -- --netpol 10000 100 2000
//! cargo run --release --features bench --bin palisade-bench -- --copies 10 ../shared/corpus/real
//! cargo run --release --features bench --bin palisade-bench -- --snapshot-from ../shared/corpus/real 100000
//! ```
//!
//! `--rbac BINDINGS ROLES` generates an RBAC inventory (100 namespaces, service accounts,
//! workloads, legacy token Secrets), loads it, and times can-i and who-can queries and the
//! full escalation-path analysis. `--netpol PODS NAMESPACES POLICIES` generates pods (ten
//! replicas per app, each with a unique pod label) and policies, then times single reach
//! queries and the full matrix.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{bail, Context, Result};

#[path = "../allocator.rs"]
mod allocator;
use palisade_engine::{dedup_inputs, scan_input, Pipeline};
use palisade_load::discover;
use palisade_rules::{Engine, Settings};
use rayon::prelude::*;

const USAGE: &str = "usage: palisade-bench DIR | palisade-bench --generate MEGABYTES [--dir DIR] | palisade-bench --rbac BINDINGS ROLES | palisade-bench --netpol PODS NAMESPACES POLICIES | palisade-bench --audit EVENTS | palisade-bench --snapshot OBJECTS [FILE] | palisade-bench --snapshot-from DIR OBJECTS [FILE] | palisade-bench --parse FILE | palisade-bench --copies N DIR | palisade-bench --vap POLICIES OBJECTS";

fn main() -> Result<()> {
    // The allocator as `palisade` has it, so that the two compare.
    allocator::return_large_allocations_when_freed();
    allocator::one_heap_per_core();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = match args.first().map(String::as_str) {
        Some("--rbac") => {
            let bindings: usize = args.get(1).and_then(|s| s.parse().ok()).context(USAGE)?;
            let roles: usize = args.get(2).and_then(|s| s.parse().ok()).context(USAGE)?;
            return rbac_bench(bindings, roles);
        }
        Some("--snapshot") => {
            let objects: usize = args.get(1).and_then(|s| s.parse().ok()).context(USAGE)?;
            let path = args
                .get(2)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(format!("target/bench-snapshot-{objects}.yaml")));
            return snapshot(objects, &path);
        }
        Some("--snapshot-from") => {
            let source = PathBuf::from(args.get(1).context(USAGE)?);
            let objects: usize = args.get(2).and_then(|s| s.parse().ok()).context(USAGE)?;
            let path = args
                .get(3)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(format!("target/bench-real-{objects}.yaml")));
            return snapshot_from(&source, objects, &path);
        }
        Some("--copies") => {
            let copies: usize = args.get(1).and_then(|s| s.parse().ok()).context(USAGE)?;
            let source = PathBuf::from(args.get(2).context(USAGE)?);
            return copies_of(copies, &source);
        }
        Some("--parse") => {
            let path = PathBuf::from(args.get(1).context(USAGE)?);
            return parse_only(&path);
        }
        Some("--vap") => {
            let policies: usize = args.get(1).and_then(|s| s.parse().ok()).context(USAGE)?;
            let objects: usize = args.get(2).and_then(|s| s.parse().ok()).context(USAGE)?;
            return vap_bench(policies, objects);
        }
        Some("--audit") => {
            let events: usize = args.get(1).and_then(|s| s.parse().ok()).context(USAGE)?;
            return audit_bench(events);
        }
        Some("--netpol") => {
            let number = |i: usize| {
                args.get(i)
                    .and_then(|s| s.parse::<usize>().ok())
                    .context(USAGE)
            };
            return netpol_bench(number(1)?, number(2)?, number(3)?);
        }
        Some("--generate") => {
            let megabytes: u64 = args.get(1).and_then(|s| s.parse().ok()).context(USAGE)?;
            let dir = match args.get(2).map(String::as_str) {
                Some("--dir") => PathBuf::from(args.get(3).context(USAGE)?),
                None => PathBuf::from(format!("target/bench-corpus-{megabytes}m")),
                Some(_) => bail!(USAGE),
            };
            generate(&dir, megabytes)?;
            dir
        }
        Some(dir) if !dir.starts_with('-') => PathBuf::from(dir),
        _ => bail!(USAGE),
    };
    run(&target)
}

fn run(dir: &Path) -> Result<()> {
    let pipeline = Pipeline::new(Engine::new(&Settings::default())?);
    let started = Instant::now();
    let (inputs, errors) = discover(&[dir.to_string_lossy().into_owned()]);
    if !errors.is_empty() {
        bail!("{}", errors[0]);
    }
    let inputs = dedup_inputs(inputs);
    let objects = AtomicUsize::new(0);
    let findings = AtomicUsize::new(0);
    let load_errors = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    inputs.par_iter().for_each(|input| {
        let result = scan_input(input, &pipeline);
        objects.fetch_add(result.objects, Ordering::Relaxed);
        findings.fetch_add(result.findings.len(), Ordering::Relaxed);
        load_errors.fetch_add(result.errors.len(), Ordering::Relaxed);
        bytes.fetch_add(result.bytes, Ordering::Relaxed);
    });
    let wall = started.elapsed().as_secs_f64();
    let megabytes = bytes.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0);
    println!("input:      {}", dir.display());
    println!("files:      {}", inputs.len());
    println!("objects:    {}", objects.load(Ordering::Relaxed));
    println!("findings:   {}", findings.load(Ordering::Relaxed));
    println!("errors:     {}", load_errors.load(Ordering::Relaxed));
    println!("size:       {megabytes:.1} MB");
    println!("wall:       {wall:.3} s");
    println!("throughput: {:.1} MB/s", megabytes / wall.max(1e-9));
    println!("threads:    {}", rayon::current_num_threads());
    match peak_rss_kib() {
        Some(kib) => println!("peak RSS:   {:.1} MB", kib as f64 / 1024.0),
        None => println!("peak RSS:   unavailable (no /proc/self/status)"),
    }
    Ok(())
}

/// The process's high-water resident set size, from Linux's /proc.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A small deterministic generator, so corpora are the same on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A number in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let index = usize::try_from(self.next()).unwrap_or(0) % items.len();
        items[index]
    }
}

/// Writes realistic manifests (Deployments, StatefulSets, CronJobs, DaemonSets, Services,
/// ConfigMaps, a values file) until the directory holds `megabytes` of YAML; reuses a corpus
/// generated before with the same size.
fn generate(dir: &Path, megabytes: u64) -> Result<()> {
    let marker = dir.join(".complete");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(&megabytes.to_string()) {
        eprintln!("reusing the corpus in {}", dir.display());
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let target = megabytes * 1024 * 1024;
    let mut written = 0u64;
    let mut rng = Lcg(0x5eed);
    let mut file_index = 0;
    while written < target {
        let sub = dir.join(format!("team-{:03}", file_index / 100));
        std::fs::create_dir_all(&sub)?;
        let path = sub.join(format!("app-{file_index:05}.yaml"));
        let mut out = BufWriter::new(std::fs::File::create(&path)?);
        let mut file_bytes = 0u64;
        let mut doc = 0;
        while file_bytes < 256 * 1024 {
            let text = manifest(&mut rng, file_index, doc);
            out.write_all(text.as_bytes())?;
            file_bytes += text.len() as u64;
            doc += 1;
        }
        out.flush()?;
        written += file_bytes;
        file_index += 1;
    }
    std::fs::write(&marker, megabytes.to_string())?;
    eprintln!(
        "generated {file_index} files ({} MB) in {}",
        written / (1024 * 1024),
        dir.display()
    );
    Ok(())
}

fn manifest(rng: &mut Lcg, file: usize, doc: usize) -> String {
    let name = format!("svc-{file}-{doc}");
    let namespace = rng.pick(&["shop", "payments", "search", "default", "ops"]);
    let image = rng.pick(&[
        "registry.example.com/shop/web:1.4.2",
        "nginx:latest",
        "ghcr.io/acme/api@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945",
        "busybox",
    ]);
    let pod_security = rng.pick(&[
        "      securityContext:\n        runAsNonRoot: true\n        seccompProfile:\n          type: RuntimeDefault\n",
        "      securityContext:\n        runAsUser: 0\n",
        "",
        "      hostNetwork: true\n      hostPID: true\n",
    ]);
    let container_security = rng.pick(&[
        "          securityContext:\n            allowPrivilegeEscalation: false\n            capabilities:\n              drop: [\"ALL\"]\n            readOnlyRootFilesystem: true\n",
        "          securityContext:\n            privileged: true\n",
        "          securityContext:\n            capabilities:\n              add: [\"NET_ADMIN\", \"SYS_TIME\"]\n",
        "",
    ]);
    let kind = rng.pick(&[
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "CronJob",
        "Service",
        "ConfigMap",
        "values",
    ]);
    let pod = format!(
        "    metadata:\n      labels:\n        app: {name}\n    spec:\n{pod_security}      serviceAccountName: {name}\n      \
         initContainers:\n        - name: migrate\n          image: {image}\n          command: [\"/bin/migrate\", \"--wait\"]\n      \
         containers:\n        - name: app\n          image: {image}\n          ports:\n            - containerPort: 8080\n              name: http\n          \
         env:\n            - name: LOG_LEVEL\n              value: info\n          resources:\n            requests: {{cpu: 100m, memory: 128Mi}}\n            \
         limits: {{memory: 256Mi}}\n          livenessProbe:\n            httpGet: {{path: /healthz, port: http}}\n{container_security}      \
         volumes:\n        - name: cache\n          emptyDir: {{}}\n"
    );
    let indented = |text: &str, by: usize| -> String {
        text.lines()
            .map(|l| format!("{}{l}\n", " ".repeat(by)))
            .collect()
    };
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" => format!(
            "---\napiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels:\n    app.kubernetes.io/name: {name}\n\
             spec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n{pod}"
        ),
        "CronJob" => format!(
            "---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  schedule: \"*/15 * * * *\"\n  \
             jobTemplate:\n    spec:\n      template:\n{}",
            indented(&pod, 4)
        ),
        "Service" => format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  type: ClusterIP\n  \
             selector:\n    app: {name}\n  ports:\n    - port: 80\n      targetPort: http\n"
        ),
        "ConfigMap" => format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\ndata:\n  \
             app.properties: |\n    feature.flags=search,checkout\n    cache.ttl=300\n"
        ),
        _ => format!("---\n# values for {name}\nreplicaCount: 2\nimage:\n  repository: {image}\n  pullPolicy: IfNotPresent\n"),
    }
}

/// Generates an RBAC inventory as YAML, loads it like any input, then times the queries.
fn rbac_bench(bindings: usize, roles: usize) -> Result<()> {
    use palisade_analysis::rbac::paths::{Graph, Identity};
    use palisade_analysis::rbac::{InventoryBuilder, Request, UserInfo};
    use std::sync::Arc;

    const NAMESPACES: usize = 100;
    let mut rng = Lcg(0xbadc0de);
    let mut text = String::new();
    let verbs = [
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    let resources = [
        ("\"\"", "pods"),
        ("\"\"", "configmaps"),
        ("\"\"", "secrets"),
        ("\"\"", "services"),
        ("apps", "deployments"),
        ("batch", "jobs"),
        ("\"\"", "pods/log"),
        ("\"\"", "pods/exec"),
        ("networking.k8s.io", "ingresses"),
        ("\"\"", "events"),
    ];
    let cluster_roles = roles / 5;
    for i in 0..roles {
        let (kind, meta) = if i < cluster_roles {
            ("ClusterRole", format!("name: cr-{i}"))
        } else {
            (
                "Role",
                format!("name: role-{i}\n  namespace: ns-{}", i % NAMESPACES),
            )
        };
        text.push_str(&format!("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  {meta}\nrules:\n"));
        for _ in 0..(2 + rng.next() % 4) {
            let (group, resource) =
                resources[usize::try_from(rng.next()).unwrap_or(0) % resources.len()];
            let verb_a = rng.pick(&verbs);
            let verb_b = rng.pick(&verbs);
            text.push_str(&format!("  - apiGroups: [{group}]\n    resources: [\"{resource}\"]\n    verbs: [\"{verb_a}\", \"{verb_b}\"]\n"));
        }
    }
    for i in 0..bindings {
        let ns = i % NAMESPACES;
        let subject = match rng.next() % 4 {
            0 => format!("{{kind: User, name: user-{}}}", rng.next() % 2000),
            1 => format!("{{kind: Group, name: group-{}}}", rng.next() % 200),
            _ => format!(
                "{{kind: ServiceAccount, name: sa-{}, namespace: ns-{ns}}}",
                rng.next() % 50
            ),
        };
        if i % 5 == 0 {
            let role = if i % 997 == 0 {
                "cluster-admin".to_string()
            } else {
                format!("cr-{}", rng.next() as usize % cluster_roles.max(1))
            };
            text.push_str(&format!(
                "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: crb-{i}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\nsubjects: [{subject}]\n"
            ));
        } else {
            let (kind, role) = if i % 3 == 0 {
                (
                    "ClusterRole",
                    format!("cr-{}", rng.next() as usize % cluster_roles.max(1)),
                )
            } else {
                (
                    "Role",
                    format!(
                        "role-{}",
                        cluster_roles
                            + ns
                            + NAMESPACES
                                * (rng.next() as usize
                                    % ((roles - cluster_roles) / NAMESPACES).max(1))
                    ),
                )
            };
            text.push_str(&format!(
                "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: rb-{i}, namespace: ns-{ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {kind}, name: {role}}}\nsubjects: [{subject}]\n"
            ));
        }
    }
    for ns in 0..NAMESPACES {
        for sa in 0..50 {
            text.push_str(&format!("---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa-{sa}, namespace: ns-{ns}}}\n"));
        }
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Secret\ntype: kubernetes.io/service-account-token\nmetadata: {{name: sa-0-token, namespace: ns-{ns}, annotations: {{kubernetes.io/service-account.name: sa-0}}}}\n"
        ));
        text.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app, namespace: ns-{ns}}}\nspec:\n  template:\n    spec:\n      serviceAccountName: sa-{}\n      containers: [{{name: app, image: app:1}}]\n",
            ns % 50
        ));
    }

    let started = Instant::now();
    let mut builder = InventoryBuilder::default();
    palisade_load::load_text(&Arc::from("rbac-bench.yaml"), &text, &mut |loaded| {
        if let palisade_load::Loaded::Object(object) = loaded {
            builder.add(&object);
        }
    });
    let inventory = builder.build(true);
    let load = started.elapsed();

    let queries = 2000;
    let mut allowed = 0;
    let started = Instant::now();
    for q in 0..queries {
        let user = match q % 3 {
            0 => UserInfo::new(
                &format!("user-{}", q % 2000),
                &[format!("group-{}", q % 200)],
            ),
            _ => UserInfo::new(
                &format!("system:serviceaccount:ns-{}:sa-{}", q % NAMESPACES, q % 50),
                &[],
            ),
        };
        let (group, resource) = resources[q % resources.len()];
        let request = Request::Resource {
            verb: verbs[q % verbs.len()].to_string(),
            group: group.trim_matches('"').to_string(),
            resource: resource.split('/').next().unwrap_or(resource).to_string(),
            subresource: resource
                .split_once('/')
                .map(|(_, s)| s.to_string())
                .unwrap_or_default(),
            name: String::new(),
            namespace: Some(format!("ns-{}", q % NAMESPACES)),
        };
        if inventory.policy.can(&user, &request) {
            allowed += 1;
        }
    }
    let can_i = started.elapsed();

    let who_queries = 100;
    let mut subjects = 0;
    let started = Instant::now();
    for q in 0..who_queries {
        let request = Request::Resource {
            verb: "get".into(),
            group: String::new(),
            resource: "secrets".into(),
            subresource: String::new(),
            name: String::new(),
            namespace: Some(format!("ns-{}", q % NAMESPACES)),
        };
        subjects += inventory.policy.who_can(&request).len();
    }
    let who_can = started.elapsed();

    let started = Instant::now();
    let graph = Graph::build(&inventory);
    let paths = graph.paths_to(&Identity::ClusterAdmin, |s| !s.is_system());
    let path_time = started.elapsed();

    println!("bindings:       {} (+ bootstrap)", bindings);
    println!("roles:          {} (+ bootstrap)", roles);
    println!(
        "namespaces:     {NAMESPACES}, service accounts: {}",
        NAMESPACES * 50
    );
    println!(
        "load:           {:.3} s ({:.1} MB of YAML)",
        load.as_secs_f64(),
        text.len() as f64 / 1e6
    );
    println!(
        "can-i:          {:.3} ms per query ({queries} queries, {allowed} allowed)",
        can_i.as_secs_f64() * 1e3 / queries as f64
    );
    println!(
        "who-can:        {:.3} ms per query ({who_queries} queries, {subjects} subjects found)",
        who_can.as_secs_f64() * 1e3 / who_queries as f64
    );
    println!(
        "paths:          {:.3} s for the full analysis ({} edges, {} subjects reach cluster-admin)",
        path_time.as_secs_f64(),
        graph.edges.values().map(Vec::len).sum::<usize>(),
        paths.len()
    );
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS:       {:.1} MB", kib as f64 / 1024.0);
    }
    Ok(())
}

/// Generates pods, namespaces and policies as YAML, loads them, and times reach and the matrix.
fn netpol_bench(pods: usize, namespaces: usize, policies: usize) -> Result<()> {
    use palisade_analysis::netpol::{Endpoint, Network};
    use std::sync::Arc;

    let mut rng = Lcg(0x5ca1ab1e);
    let apps_per_namespace = (pods / namespaces / 10).max(1);
    let mut text = String::new();
    for ns in 0..namespaces {
        let team = ns % 10;
        text.push_str(&format!("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{ns}\n  labels: {{team: team-{team}, env: prod}}\n"));
    }
    for i in 0..pods {
        let ns = i % namespaces;
        let app = (i / namespaces) % apps_per_namespace;
        let tier = ["web", "api", "db"][app % 3];
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: app-{app}-{i}\n  namespace: ns-{ns}\n  labels: {{app: app-{app}, tier: {tier}, pod-template-hash: h{}, statefulset.kubernetes.io/pod-name: p{i}}}\n\
             spec:\n  containers:\n    - name: main\n      image: registry.example.com/app:{app}\n      ports:\n        - {{name: http, containerPort: 8080}}\n        - {{name: metrics, containerPort: 9090}}\n",
            rng.next() % 1000
        ));
    }
    for p in 0..policies {
        let ns = p % namespaces;
        let body = match (p / namespaces) % 5 {
            0 => "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  egress:\n    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n      ports: [{port: 53, protocol: UDP}]\n".to_string(),
            1 => "  podSelector: {matchLabels: {tier: web}}\n  ingress:\n    - ports: [{port: http}]\n".to_string(),
            2 => format!(
                "  podSelector: {{matchLabels: {{tier: api}}}}\n  ingress:\n    - from: [{{podSelector: {{matchLabels: {{tier: web}}}}}}]\n      ports: [{{port: http}}]\n    - from: [{{namespaceSelector: {{matchLabels: {{team: team-{}}}}}, podSelector: {{matchLabels: {{tier: api}}}}}}]\n",
                rng.next() % 10
            ),
            3 => "  podSelector: {matchLabels: {tier: db}}\n  ingress:\n    - from: [{podSelector: {matchLabels: {tier: api}}}]\n      ports: [{port: 5432}]\n  egress:\n    - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]\n".to_string(),
            _ => format!(
                "  podSelector: {{matchLabels: {{app: app-{}}}}}\n  policyTypes: [Egress]\n  egress:\n    - to: [{{namespaceSelector: {{matchExpressions: [{{key: team, operator: In, values: [team-1, team-2]}}]}}}}]\n      ports: [{{port: 8080, endPort: 8090}}]\n",
                rng.next() as usize % apps_per_namespace
            ),
        };
        if p % 10 == 9 {
            // Every tenth policy as Cilium writes it: default deny for the app, web allowed.
            text.push_str(&format!("---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: cilium-{p}\n  namespace: ns-{ns}\nspec:\n  endpointSelector: {{matchLabels: {{app: app-{}}}}}\n  ingress:\n    - fromEndpoints: [{{matchLabels: {{tier: web}}}}]\n      toPorts: [{{ports: [{{port: http, protocol: TCP}}]}}]\n  egressDeny:\n    - toEntities: [world]\n", rng.next() as usize % apps_per_namespace));
        } else {
            text.push_str(&format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: policy-{p}\n  namespace: ns-{ns}\nspec:\n{body}"));
        }
    }
    // The administrator's tiers: monitoring may scrape, team-9 is fenced off, the rest passes
    // to NetworkPolicies, and the baseline denies what no NetworkPolicy isolates.
    text.push_str("---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: allow-monitoring}\nspec:\n  priority: 5\n  subject: {namespaces: {}}\n  ingress:\n    - {name: scrape, action: Allow, from: [{namespaces: {matchLabels: {team: team-0}}}], ports: [{portNumber: {port: 9090}}]}\n");
    text.push_str("---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: fence-team-9}\nspec:\n  priority: 10\n  subject: {namespaces: {matchLabels: {team: team-9}}}\n  ingress:\n    - {name: same-team, action: Pass, from: [{namespaces: {matchLabels: {team: team-9}}}]}\n    - {name: others, action: Deny, from: [{namespaces: {}}]}\n");
    text.push_str("---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {matchLabels: {env: prod}}}\n  ingress:\n    - {name: deny, action: Deny, from: [{namespaces: {}}]}\n");

    let started = Instant::now();
    let mut network = Network::default();
    palisade_load::load_text(&Arc::from("netpol-bench.yaml"), &text, &mut |loaded| {
        if let palisade_load::Loaded::Object(object) = loaded {
            network.add(&object);
        }
    });
    let load = started.elapsed();

    let queries = 1000;
    let started = Instant::now();
    let mut allowed = 0;
    for q in 0..queries {
        let from = &network.workloads[(q * 7919) % network.workloads.len()];
        let to = &network.workloads[(q * 104_729 + 13) % network.workloads.len()];
        let reach = network.reach(Endpoint::Workload(from), Endpoint::Workload(to));
        if !reach.ports.is_empty() {
            allowed += 1;
        }
    }
    let reach_time = started.elapsed();

    let started = Instant::now();
    let members: Vec<usize> = (0..network.workloads.len()).collect();
    let groups = network.matrix_groups(&members);
    let mut group_pairs = 0usize;
    let mut workload_pairs = 0usize;
    let selections = network.group_selections(&groups);
    network.for_each_group_pair(&groups, &selections, |a, b, _| {
        group_pairs += 1;
        workload_pairs += groups.sources[a].len() * groups.destinations[b].len();
    });
    let matrix_time = started.elapsed();

    println!("pods:           {}", network.workloads.len());
    println!("namespaces:     {namespaces}");
    println!(
        "policies:       {} NetworkPolicies, {} Cilium rules, {} administrator policies",
        network.policies.len(),
        network.cilium.len(),
        network.admin.len()
    );
    println!(
        "load:           {:.3} s ({:.1} MB of YAML)",
        load.as_secs_f64(),
        text.len() as f64 / 1e6
    );
    println!("reach:          {:.3} ms per query ({queries} queries, {allowed} allowed, with explanations)", reach_time.as_secs_f64() * 1e3 / queries as f64);
    println!(
        "matrix:         {:.3} s for all {} pod pairs ({} source and {} destination groups, {group_pairs} allowed group pairs, {workload_pairs} allowed pod pairs)",
        matrix_time.as_secs_f64(),
        network.workloads.len() * network.workloads.len(),
        groups.sources.len(),
        groups.destinations.len(),
    );
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS:       {:.1} MB", kib as f64 / 1024.0);
    }
    Ok(())
}

/// Writes `events` audit events as an API server with a `RequestResponse` policy for workloads
/// would (controllers' lists and watches, kubelets' reads, users' writes with bodies, a few
/// exec and Secret reads), then runs the audit-log rules over them.
fn audit_bench(events: usize) -> Result<()> {
    let path = PathBuf::from(format!("target/bench-audit-{events}.log"));
    let mut rng = Lcg(7);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for i in 0..events {
        let ns = format!("team-{}", rng.below(50));
        let (user, groups) = match rng.below(10) {
            0..=3 => (
                format!(
                    "system:serviceaccount:kube-system:{}-controller",
                    ["replicaset", "deployment", "endpointslice", "job"][rng.below(4) as usize]
                ),
                r#"["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"]"#,
            ),
            4..=6 => (
                format!("system:node:worker-{}", rng.below(40)),
                r#"["system:nodes","system:authenticated"]"#,
            ),
            7..=8 => (
                format!("system:serviceaccount:{ns}:app"),
                r#"["system:serviceaccounts","system:authenticated"]"#,
            ),
            _ => (
                format!("dev{}@example.com", rng.below(30)),
                r#"["developers","system:authenticated"]"#,
            ),
        };
        let (verb, resource, sub, name, body) = match rng.below(20) {
            0..=5 => ("list", "pods", "", String::new(), String::new()),
            6..=8 => ("watch", "endpointslices", "", String::new(), String::new()),
            9..=11 => (
                "get",
                "configmaps",
                "",
                format!("cfg-{}", rng.below(100)),
                String::new(),
            ),
            12..=13 => (
                "update",
                "pods",
                "status",
                format!("app-{}", rng.below(1000)),
                String::new(),
            ),
            14 => (
                "get",
                "secrets",
                "",
                format!("db-{}", rng.below(100)),
                String::new(),
            ),
            15 => (
                "create",
                "pods",
                "exec",
                format!("app-{}", rng.below(1000)),
                String::new(),
            ),
            16..=17 => {
                let host = if rng.below(20) == 0 {
                    r#""hostPID":true,"#
                } else {
                    ""
                };
                let body = format!(
                    r#","requestObject":{{"kind":"Pod","apiVersion":"v1","metadata":{{"name":"app-{i}","namespace":"{ns}","labels":{{"app":"app"}}}},"spec":{{{host}"serviceAccountName":"app","containers":[{{"name":"app","image":"registry.example.com/app:1.{}","resources":{{"requests":{{"cpu":"100m","memory":"128Mi"}}}},"securityContext":{{"runAsNonRoot":true,"allowPrivilegeEscalation":false}}}}]}}}}"#,
                    rng.below(9)
                );
                ("create", "pods", "", format!("app-{i}"), body)
            }
            _ => (
                "patch",
                "deployments",
                "",
                format!("web-{}", rng.below(100)),
                String::new(),
            ),
        };
        let group = if resource == "deployments" {
            "apps"
        } else if resource == "endpointslices" {
            "discovery.k8s.io"
        } else {
            ""
        };
        let code = if rng.below(50) == 0 { 403 } else { 200 };
        let decision = if code == 403 { "forbid" } else { "allow" };
        writeln!(
            out,
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"{i:08x}-6c1f-4e2a-9b7d-3f5e8a2c{i:04x}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/{ns}/{resource}/{name}","verb":"{verb}","user":{{"username":"{user}","groups":{groups}}},"sourceIPs":["10.0.{}.{}"],"userAgent":"kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/7c2e3b1","objectRef":{{"resource":"{resource}","namespace":"{ns}","name":"{name}","apiGroup":"{group}","apiVersion":"v1","subresource":"{sub}"}},"responseStatus":{{"metadata":{{}},"code":{code}}}{body},"requestReceivedTimestamp":"2026-11-30T{:02}:{:02}:{:02}.{:06}Z","stageTimestamp":"2026-11-30T10:00:00.000000Z","annotations":{{"authorization.k8s.io/decision":"{decision}","authorization.k8s.io/reason":"RBAC: allowed"}}}}"#,
            rng.below(4),
            rng.below(250),
            (i / 3_600_000) % 24,
            (i / 60_000) % 60,
            (i / 1000) % 60,
            i % 1000,
        )?;
    }
    out.flush()?;
    drop(out);
    let bytes = std::fs::metadata(&path)?.len();
    let settings = Settings {
        selection: palisade_rules::Selection {
            select: vec!["audit-log".into()],
            ignore: Vec::new(),
        },
        ..Settings::default()
    };
    let pipeline = Pipeline::new(Engine::new(&settings)?);
    let started = Instant::now();
    let report =
        palisade_engine::scan_audit_logs(&[path.to_string_lossy().into_owned()], &pipeline);
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "audit log:      {} ({:.1} MB, {} events)",
        path.display(),
        bytes as f64 / 1e6,
        report.summary.objects
    );
    println!(
        "detect:         {seconds:.2} s, {:.0} events/s, {:.1} MB/s",
        report.summary.objects as f64 / seconds,
        bytes as f64 / 1e6 / seconds
    );
    println!(
        "findings:       {} ({} errors)",
        report.findings.len(),
        report.errors.len()
    );
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS:       {:.1} MB", kib as f64 / 1024.0);
    }
    Ok(())
}

/// Writes a cluster snapshot as `kubectl get -A -o yaml` prints it: one `List` of `objects`
/// objects (800 namespaces' worth of pods, workloads, Services, Endpoints, ConfigMaps, Secrets,
/// service accounts, RBAC and NetworkPolicies, with `managedFields` and `status`).
fn snapshot(objects: usize, path: &Path) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "apiVersion: v1\nitems:")?;
    let mut rng = Lcg(11);
    let namespaces = (objects / 125).max(1);
    let mut written = 0usize;
    let managed = |manager: &str, fields: &str| {
        format!("    managedFields:\n    - apiVersion: v1\n      fieldsType: FieldsV1\n      fieldsV1:\n{fields}      manager: {manager}\n      operation: Update\n      time: \"2026-11-30T08:00:00Z\"\n")
    };
    let pod_fields = "        f:metadata:\n          f:generateName: {}\n          f:labels:\n            .: {}\n            f:app: {}\n            f:pod-template-hash: {}\n          f:ownerReferences:\n            .: {}\n        f:spec:\n          f:containers:\n            k:{\"name\":\"app\"}:\n              .: {}\n              f:image: {}\n              f:imagePullPolicy: {}\n              f:name: {}\n              f:ports: {}\n              f:resources: {}\n              f:securityContext: {}\n              f:terminationMessagePath: {}\n              f:terminationMessagePolicy: {}\n          f:dnsPolicy: {}\n          f:enableServiceLinks: {}\n          f:restartPolicy: {}\n          f:schedulerName: {}\n          f:securityContext: {}\n          f:terminationGracePeriodSeconds: {}\n";
    // The kubelet's status entry, as real pods carry it next to the controller's.
    let mut kubelet = String::from("    - apiVersion: v1\n      fieldsType: FieldsV1\n      fieldsV1:\n        f:status:\n          f:conditions:\n");
    for condition in [
        "ContainersReady",
        "Initialized",
        "PodReadyToStartContainers",
        "PodScheduled",
        "Ready",
    ] {
        kubelet.push_str(&format!("            k:{{\"type\":\"{condition}\"}}:\n              .: {{}}\n              f:lastProbeTime: {{}}\n              f:lastTransitionTime: {{}}\n              f:status: {{}}\n              f:type: {{}}\n"));
    }
    kubelet.push_str("          f:containerStatuses: {}\n          f:hostIP: {}\n          f:hostIPs: {}\n          f:phase: {}\n          f:podIP: {}\n          f:podIPs:\n            .: {}\n            k:{\"ip\":\"10.244.0.1\"}:\n              .: {}\n              f:ip: {}\n          f:startTime: {}\n      manager: kubelet\n      operation: Update\n      subresource: status\n      time: \"2026-11-29T10:00:09Z\"\n");
    // A ConfigMap's payload: most real ones carry a config file or a dashboard.
    let mut payload = String::from("    nginx.conf: |\n");
    for n in 0..450 {
        payload.push_str(&format!("      location /api/v{}/service-{n} {{ proxy_pass http://backend-{n}.svc.cluster.local:8080; proxy_read_timeout 30s; }}\n", n % 3));
    }
    let mut kinds = Vec::new();
    for i in 0..objects {
        let ns = format!("team-{:03}", i % namespaces);
        let slot = (i / namespaces) % 125;
        let uid = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            rng.next(),
            i % 65536,
            rng.below(4096),
            rng.below(4096),
            i
        );
        let app = format!("app-{}", slot % 12);
        let text = match slot {
            0 => format!("- apiVersion: v1\n  kind: Namespace\n  metadata:\n    creationTimestamp: \"2026-01-10T08:00:00Z\"\n    labels:\n      kubernetes.io/metadata.name: {ns}\n{}    name: {ns}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n  spec:\n    finalizers:\n    - kubernetes\n  status:\n    phase: Active\n", managed("kubectl-create", "        f:metadata:\n          f:labels:\n            .: {}\n            f:kubernetes.io/metadata.name: {}\n")),
            1..=25 => {
                let host = if rng.below(200) == 0 { "    hostNetwork: true\n" } else { "" };
                let run_as = if rng.below(3) == 0 { "      securityContext:\n        allowPrivilegeEscalation: false\n        capabilities:\n          drop:\n          - ALL\n        readOnlyRootFilesystem: true\n        runAsNonRoot: true\n" } else { "      securityContext: {}\n" };
                format!("- apiVersion: v1\n  kind: Pod\n  metadata:\n    creationTimestamp: \"2026-11-29T10:00:00Z\"\n    generateName: {app}-5d8f7c9b4-\n    labels:\n      app: {app}\n      pod-template-hash: 5d8f7c9b4\n{}    name: {app}-5d8f7c9b4-{:05x}\n    namespace: {ns}\n    ownerReferences:\n    - apiVersion: apps/v1\n      blockOwnerDeletion: true\n      controller: true\n      kind: ReplicaSet\n      name: {app}-5d8f7c9b4\n      uid: {uid}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n  spec:\n    containers:\n    - env:\n      - name: LOG_LEVEL\n        value: info\n      - name: DATABASE_URL\n        valueFrom:\n          secretKeyRef:\n            key: url\n            name: {app}-db\n      image: registry.example.com/{ns}/{app}:1.{}.{}\n      imagePullPolicy: IfNotPresent\n      livenessProbe:\n        failureThreshold: 3\n        httpGet:\n          path: /healthz\n          port: 8080\n          scheme: HTTP\n        periodSeconds: 10\n        successThreshold: 1\n        timeoutSeconds: 1\n      name: app\n      ports:\n      - containerPort: 8080\n        name: http\n        protocol: TCP\n      resources:\n        limits:\n          memory: 256Mi\n        requests:\n          cpu: 100m\n          memory: 128Mi\n{run_as}      terminationMessagePath: /dev/termination-log\n      terminationMessagePolicy: File\n      volumeMounts:\n      - mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n        name: kube-api-access-{:05x}\n        readOnly: true\n    dnsPolicy: ClusterFirst\n    enableServiceLinks: true\n{host}    nodeName: worker-{}\n    preemptionPolicy: PreemptLowerPriority\n    priority: 0\n    restartPolicy: Always\n    schedulerName: default-scheduler\n    securityContext: {{}}\n    serviceAccount: {app}\n    serviceAccountName: {app}\n    terminationGracePeriodSeconds: 30\n    tolerations:\n    - effect: NoExecute\n      key: node.kubernetes.io/not-ready\n      operator: Exists\n      tolerationSeconds: 300\n    volumes:\n    - name: kube-api-access-{:05x}\n      projected:\n        defaultMode: 420\n        sources:\n        - serviceAccountToken:\n            expirationSeconds: 3607\n            path: token\n        - configMap:\n            items:\n            - key: ca.crt\n              path: ca.crt\n            name: kube-root-ca.crt\n  status:\n    conditions:\n    - lastProbeTime: null\n      lastTransitionTime: \"2026-11-29T10:00:02Z\"\n      status: \"True\"\n      type: Initialized\n    - lastProbeTime: null\n      lastTransitionTime: \"2026-11-29T10:00:09Z\"\n      status: \"True\"\n      type: Ready\n    containerStatuses:\n    - containerID: containerd://{:016x}{:016x}\n      image: registry.example.com/{ns}/{app}:1.4.2\n      imageID: registry.example.com/{ns}/{app}@sha256:{:016x}{:016x}{:016x}{:016x}\n      lastState: {{}}\n      name: app\n      ready: true\n      restartCount: 0\n      started: true\n      state:\n        running:\n          startedAt: \"2026-11-29T10:00:05Z\"\n    hostIP: 10.0.{}.{}\n    phase: Running\n    podIP: 10.244.{}.{}\n    podIPs:\n    - ip: 10.244.{}.{}\n    qosClass: Burstable\n    startTime: \"2026-11-29T10:00:02Z\"\n",
                    managed("kube-controller-manager", pod_fields) + &kubelet, i, rng.below(9), rng.below(20), i, rng.below(200), i, rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.below(4), rng.below(250), rng.below(250), rng.below(250), rng.below(250), rng.below(250))
            }
            26..=30 => format!("- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    annotations:\n      deployment.kubernetes.io/revision: \"3\"\n    creationTimestamp: \"2026-11-01T10:00:00Z\"\n    generation: 3\n    labels:\n      app: {app}\n{}    name: {app}-{slot}\n    namespace: {ns}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n  spec:\n    progressDeadlineSeconds: 600\n    replicas: 2\n    revisionHistoryLimit: 10\n    selector:\n      matchLabels:\n        app: {app}\n    strategy:\n      rollingUpdate:\n        maxSurge: 25%\n        maxUnavailable: 25%\n      type: RollingUpdate\n    template:\n      metadata:\n        creationTimestamp: null\n        labels:\n          app: {app}\n      spec:\n        containers:\n        - image: registry.example.com/{ns}/{app}:1.4.2\n          imagePullPolicy: IfNotPresent\n          name: app\n          ports:\n          - containerPort: 8080\n            protocol: TCP\n          resources:\n            requests:\n              cpu: 100m\n          terminationMessagePath: /dev/termination-log\n          terminationMessagePolicy: File\n        dnsPolicy: ClusterFirst\n        restartPolicy: Always\n        schedulerName: default-scheduler\n        securityContext: {{}}\n        serviceAccountName: {app}\n        terminationGracePeriodSeconds: 30\n  status:\n    availableReplicas: 2\n    conditions:\n    - lastTransitionTime: \"2026-11-01T10:00:30Z\"\n      lastUpdateTime: \"2026-11-01T10:00:30Z\"\n      message: Deployment has minimum availability.\n      reason: MinimumReplicasAvailable\n      status: \"True\"\n      type: Available\n    observedGeneration: 3\n    readyReplicas: 2\n    replicas: 2\n    updatedReplicas: 2\n", managed("kubectl-client-side-apply", "        f:spec:\n          f:replicas: {}\n          f:template:\n            f:spec:\n              f:containers: {}\n")),
            31..=40 => format!("- apiVersion: v1\n  kind: Service\n  metadata:\n    creationTimestamp: \"2026-11-01T10:00:00Z\"\n    labels:\n      app: {app}\n{}    name: {app}-svc-{slot}\n    namespace: {ns}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n  spec:\n    clusterIP: 10.96.{}.{}\n    clusterIPs:\n    - 10.96.{}.{}\n    internalTrafficPolicy: Cluster\n    ipFamilies:\n    - IPv4\n    ipFamilyPolicy: SingleStack\n    ports:\n    - name: http\n      port: 80\n      protocol: TCP\n      targetPort: http\n    selector:\n      app: {app}\n    sessionAffinity: None\n    type: {}\n  status:\n    loadBalancer: {{}}\n", managed("kubectl-client-side-apply", "        f:spec:\n          f:ports: {}\n"), rng.below(250), rng.below(250), rng.below(250), rng.below(250), if rng.below(40) == 0 { "NodePort" } else { "ClusterIP" }),
            41..=60 => format!("- apiVersion: v1\n  data:\n    config.yaml: |\n      server:\n        port: 8080\n        timeout: 30s\n      features:\n        beta: false\n{payload}  kind: ConfigMap\n  metadata:\n    creationTimestamp: \"2026-11-01T10:00:00Z\"\n{}    name: {app}-config-{slot}\n    namespace: {ns}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n", managed("kubectl-client-side-apply", "        f:data:\n          .: {}\n          f:config.yaml: {}\n")),
            61..=75 => format!("- apiVersion: v1\n  data:\n    url: cG9zdGdyZXM6Ly9hcHA6c2VjcmV0QGRiOjU0MzIvYXBw\n  kind: Secret\n  metadata:\n    creationTimestamp: \"2026-11-01T10:00:00Z\"\n{}    name: {app}-db-{slot}\n    namespace: {ns}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n  type: Opaque\n", managed("kubectl-create", "        f:data:\n          .: {}\n          f:url: {}\n")),
            76..=81 => format!("- apiVersion: v1\n  kind: ServiceAccount\n  metadata:\n    creationTimestamp: \"2026-11-01T10:00:00Z\"\n    name: app-{}\n    namespace: {ns}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n", slot - 76),
            82..=85 => format!("- apiVersion: rbac.authorization.k8s.io/v1\n  kind: Role\n  metadata:\n    creationTimestamp: \"2026-11-01T10:00:00Z\"\n    name: {app}-role-{slot}\n    namespace: {ns}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n  rules:\n  - apiGroups:\n    - \"\"\n    resources:\n    - configmaps\n    - {}\n    verbs:\n    - get\n    - list\n    - watch\n", if rng.below(10) == 0 { "secrets" } else { "endpoints" }),
            86..=89 => format!("- apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleBinding\n  metadata:\n    creationTimestamp: \"2026-11-01T10:00:00Z\"\n    name: {app}-binding-{slot}\n    namespace: {ns}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n  roleRef:\n    apiGroup: rbac.authorization.k8s.io\n    kind: {}\n    name: {}\n  subjects:\n  - kind: ServiceAccount\n    name: app-{}\n    namespace: {ns}\n", if slot == 89 { "ClusterRole" } else { "Role" }, if slot == 89 { "edit".to_string() } else { format!("app-{}-role-{}", (slot - 4) % 12, slot - 4) }, slot % 6),
            90..=92 => format!("- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata:\n    creationTimestamp: \"2026-11-01T10:00:00Z\"\n    generation: 1\n    name: {app}-allow-{slot}\n    namespace: {ns}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n  spec:\n    ingress:\n    - from:\n      - podSelector:\n          matchLabels:\n            app: app-{}\n      ports:\n      - port: 8080\n        protocol: TCP\n    podSelector:\n      matchLabels:\n        app: {app}\n    policyTypes:\n    - Ingress\n", rng.below(12)),
            _ => format!("- apiVersion: v1\n  kind: Endpoints\n  metadata:\n    creationTimestamp: \"2026-11-01T10:00:00Z\"\n    name: {app}-svc-{slot}\n    namespace: {ns}\n    resourceVersion: \"{i}\"\n    uid: {uid}\n  subsets:\n  - addresses:\n    - ip: 10.244.{}.{}\n      nodeName: worker-{}\n      targetRef:\n        kind: Pod\n        name: {app}-5d8f7c9b4-{:05x}\n        namespace: {ns}\n    ports:\n    - name: http\n      port: 8080\n      protocol: TCP\n", rng.below(250), rng.below(250), rng.below(200), i),
        };
        kinds.push(slot);
        out.write_all(text.as_bytes())?;
        written += 1;
    }
    writeln!(out, "kind: List\nmetadata:\n  resourceVersion: \"\"")?;
    out.flush()?;
    let bytes = std::fs::metadata(path)?.len();
    println!(
        "wrote {} ({written} objects in {namespaces} namespaces, {:.1} MB)",
        path.display(),
        bytes as f64 / 1e6
    );
    println!("measure with:\n  /usr/bin/time -f '%e s, %M KB peak' target/release/palisade-bench --parse {0}\n  /usr/bin/time -f '%e s, %M KB peak' target/release/palisade scan --no-config --format json -o /dev/null {0}\n  /usr/bin/time -f '%e s, %M KB peak' target/release/palisade rbac paths --format json {0} > /dev/null\n  /usr/bin/time -f '%e s, %M KB peak' target/release/palisade rbac who-can get secrets -n team-001 {0} > /dev/null\n  /usr/bin/time -f '%e s, %M KB peak' target/release/palisade scan --no-config --select netpol --format json -o /dev/null {0}\n  /usr/bin/time -f '%e s, %M KB peak' target/release/palisade netpol matrix --by class --format json -o /dev/null {0}", path.display());
    Ok(())
}

/// Writes `copies` copies of the directory `source` under `target/bench-copies-N` and prints
/// the commands that compare a scan of them with a scan of one: time should grow with the
/// copies, memory should not.
/// Whether objects of `kind` live outside namespaces (the built-in cluster-scoped kinds, and
/// custom kinds named `Cluster*` or of the administrator network policy tiers).
fn cluster_scoped(group: &str, kind: &str) -> bool {
    kind == "Namespace"
        || kind.starts_with("Cluster")
        || matches!(kind, "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy")
        || palisade_analysis::rbac::resources::is_cluster_scoped(
            group,
            &palisade_analysis::admission::plural(kind),
        )
}

/// Writes a cluster dump made of real objects, as `kubectl get -A -o yaml` lays one out: every
/// object under `source` (CustomResourceDefinitions left out: a cluster serves each once)
/// copied until there are `objects`. Copy `k` lives in namespaces of its own (`<ns>-c<k>`,
/// `default-c<k>` for a namespaced object that names none); cluster-scoped objects are renamed
/// (`<name>-c<k>`), and what refers to them across a copy (binding subjects, a
/// ClusterRoleBinding's role, Namespaces) is renamed with them. Synthetic snapshots are mostly
/// ConfigMap text, which parses cheaply; this one costs what real objects cost.
fn snapshot_from(source: &Path, objects: usize, path: &Path) -> Result<()> {
    use serde_json::Value as Json;
    // What a scan of `source` would skip (Helm charts, unreadable files) is skipped here too.
    let (inputs, _skipped) = discover(&[source.to_string_lossy().into_owned()]);
    let mut originals: Vec<Json> = Vec::new();
    for input in dedup_inputs(inputs) {
        let palisade_load::Input::File(file) = &input else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let name = input.display_name();
        palisade_load::load_text(&name, &text, &mut |loaded| {
            if let palisade_load::Loaded::Object(object) = loaded {
                if object.kind() != "CustomResourceDefinition" && !object.reference.name.is_empty()
                {
                    originals.push(palisade_load::json::to_json(&object.root));
                }
            }
        });
    }
    if originals.is_empty() {
        bail!("no Kubernetes objects under {}", source.display());
    }
    let cluster_roles: std::collections::HashSet<String> = originals
        .iter()
        .filter(|o| o["kind"] == "ClusterRole")
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let file = std::fs::File::create(path).with_context(|| path.display().to_string())?;
    let header = [format!(
        "{objects} objects: renamed copies of the {} objects under {}",
        originals.len(),
        source.display()
    )];
    let mut out = palisade_cluster::SnapshotWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        palisade_cluster::SnapshotFormat::Yaml,
        &header,
    )?;
    let renamed = |name: &str, copy: usize| format!("{name}-c{copy}");
    for i in 0..objects {
        let copy = i / originals.len();
        let mut object = originals[i % originals.len()].clone();
        let api_version = object["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let group = api_version
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_string();
        let kind = object["kind"].as_str().unwrap_or_default().to_string();
        let metadata = object
            .as_object_mut()
            .and_then(|o| o.get_mut("metadata"))
            .and_then(Json::as_object_mut);
        let Some(metadata) = metadata else { continue };
        let name = metadata
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or_default();
        if cluster_scoped(&group, &kind) {
            // A Namespace takes the name its copy's objects use.
            let name = renamed(name, copy);
            metadata.insert("name".into(), Json::from(name));
            metadata.remove("namespace");
        } else {
            let namespace = metadata
                .get("namespace")
                .and_then(Json::as_str)
                .unwrap_or("default");
            let namespace = renamed(namespace, copy);
            metadata.insert("namespace".into(), Json::from(namespace));
        }
        metadata.insert(
            "uid".into(),
            Json::from(format!("00000000-0000-4000-8000-{i:012}")),
        );
        metadata.insert("resourceVersion".into(), Json::from(i.to_string()));
        if let Some(subjects) = object.get_mut("subjects").and_then(Json::as_array_mut) {
            for subject in subjects {
                if let Some(ns) = subject.get("namespace").and_then(Json::as_str) {
                    let ns = renamed(ns, copy);
                    subject["namespace"] = Json::from(ns);
                }
            }
        }
        if kind == "ClusterRoleBinding" || kind == "RoleBinding" {
            let role = &mut object["roleRef"];
            if role["kind"] == "ClusterRole" {
                if let Some(name) = role["name"].as_str().filter(|n| cluster_roles.contains(*n)) {
                    role["name"] = Json::from(renamed(name, copy));
                }
            }
        }
        out.item(&object)?;
    }
    out.finish()?;
    let size = std::fs::metadata(path)?.len() as f64 / (1024.0 * 1024.0);
    println!(
        "wrote {} ({objects} objects, {size:.0} MB, copies of {} objects)\nmeasure with:\n  /usr/bin/time -f '%e s, %U s CPU, %M KB peak' target/release/palisade-bench --parse {}\n  /usr/bin/time -f '%e s, %U s CPU, %M KB peak' target/release/palisade scan --no-config --format json -o /dev/null {}",
        path.display(),
        originals.len(),
        path.display(),
        path.display()
    );
    Ok(())
}

fn copies_of(copies: usize, source: &Path) -> Result<()> {
    fn copy_tree(from: &Path, to: &Path) -> Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from).with_context(|| from.display().to_string())? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                copy_tree(&entry.path(), &target)?;
            } else {
                std::fs::copy(entry.path(), &target)?;
            }
        }
        Ok(())
    }
    let dir = PathBuf::from(format!("target/bench-copies-{copies}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    for i in 0..copies {
        copy_tree(source, &dir.join(format!("copy-{i}")))?;
    }
    println!(
        "wrote {copies} copies of {} in {}\nmeasure with:\n  /usr/bin/time -f '%e s, %U s CPU, %M KB peak' target/release/palisade scan --no-config --format json -o /dev/null {}\n  /usr/bin/time -f '%e s, %U s CPU, %M KB peak' target/release/palisade scan --no-config --format json -o /dev/null {}",
        source.display(),
        dir.display(),
        source.display(),
        dir.display()
    );
    Ok(())
}

/// Parses `path` piece by piece in parallel, as scan reads a large file, without checking
/// anything: the floor for a scan of the same bytes.
fn parse_only(path: &Path) -> Result<()> {
    use rayon::prelude::*;
    use std::sync::Arc;
    // As scan reads a large file: pieces in batches across the cores, each piece without the
    // fields the server writes (managedFields, status), parsed to trees.
    let started = Instant::now();
    let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    let reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let objects: usize = palisade_load::Splitter::new(Arc::clone(&name), reader)
        .batches()
        .par_bridge()
        .map(|batch| {
            let mut count = 0;
            for piece in batch.into_iter().flatten() {
                let piece = piece.without_server_fields();
                palisade_load::load_piece(&name, &piece, &mut |loaded| {
                    if matches!(loaded, palisade_load::Loaded::Object(_)) {
                        count += 1;
                    }
                });
            }
            count
        })
        .sum();
    let seconds = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(path)?.len() as f64;
    println!(
        "parse:          {seconds:.2} s, {objects} objects, {:.1} MB/s",
        bytes / 1e6 / seconds
    );
    Ok(())
}

/// `--vap POLICIES OBJECTS`: that many ValidatingAdmissionPolicies (each bound, of a few
/// shapes: images, labels, replicas, parameters) over that many Deployments, judged with every
/// rule; prints the time without and with the policies and the average per judgement.
fn vap_bench(policies: usize, objects: usize) -> Result<()> {
    let mut policy_text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: default}\ndata: {max: \"6\"}\n");
    for i in 0..policies {
        let (resource, group, expression) = match i % 4 {
            0 => ("deployments", "apps", format!("object.spec.template.spec.containers.all(c, c.image.startsWith('registry{}.example.com/'))", i % 3)),
            1 => ("deployments", "apps", format!("has(object.metadata.labels) && 'team{}' in object.metadata.labels", i % 5)),
            2 => ("deployments", "apps", "object.spec.replicas <= int(params.data.max)".to_string()),
            _ => ("pods", "", "object.spec.containers.exists(c, has(c.resources) && has(c.resources.limits))".to_string()),
        };
        let params = if i % 4 == 2 {
            "  paramKind: {apiVersion: v1, kind: ConfigMap}\n"
        } else {
            ""
        };
        let param_ref = if i % 4 == 2 {
            "  paramRef: {name: limits, namespace: default, parameterNotFoundAction: Deny}\n"
        } else {
            ""
        };
        policy_text.push_str(&format!(
            "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {{name: p{i}}}\nspec:\n{params}  matchConstraints:\n    resourceRules: [{{apiGroups: [\"{group}\"], apiVersions: [v1], operations: [CREATE], resources: [{resource}]}}]\n  validations:\n  - expression: \"{expression}\"\n    message: policy {i}\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: b{i}}}\nspec:\n  policyName: p{i}\n  validationActions: [Deny]\n{param_ref}"
        ));
    }
    let mut object_text = String::new();
    for i in 0..objects {
        object_text.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: ns-{}\n  labels: {{team{}: x}}\nspec:\n  replicas: {}\n  selector: {{matchLabels: {{app: a{i}}}}}\n  template:\n    metadata: {{labels: {{app: a{i}}}}}\n    spec:\n      containers:\n      - {{name: app, image: registry{}.example.com/app:{i}, resources: {{limits: {{memory: 1Gi}}}}}}\n      - {{name: sidecar, image: registry.example.com/proxy:2}}\n",
            i % 50,
            i % 5,
            i % 9,
            i % 3
        ));
    }
    // Kept, for `palisade scan --policies` over other inputs (a snapshot).
    let policy_file = PathBuf::from(format!("target/bench-vap-policies-{policies}.yaml"));
    std::fs::write(&policy_file, &policy_text)?;
    let (loaded_policies, errors) = palisade_engine::load_admission_policies(
        &[policy_file.to_string_lossy().into_owned()],
        None,
    );
    if let Some(error) = errors.first() {
        bail!("{error}");
    }
    let admission = std::sync::Arc::new(loaded_policies);
    let file: std::sync::Arc<str> = std::sync::Arc::from("objects.yaml");
    let mut parsed = Vec::new();
    palisade_load::load_text(&file, &object_text, &mut |loaded| {
        if let palisade_load::Loaded::Object(object) = loaded {
            parsed.push(*object);
        }
    });
    let plain = Engine::new(&Settings::default())?;
    let with_policies = Engine::new(&Settings {
        admission: Some(std::sync::Arc::clone(&admission)),
        ..Settings::default()
    })?;
    let time = |engine: &Engine| {
        let started = Instant::now();
        let findings: usize = parsed.par_iter().map(|o| engine.check(o, None).len()).sum();
        (started.elapsed(), findings)
    };
    let (without, base) = time(&plain);
    let (with, all) = time(&with_policies);
    let started = Instant::now();
    let verdicts: usize = parsed.iter().map(|o| admission.judge(o).len()).sum();
    let judging = started.elapsed();
    // Each object meets every binding twice: itself and the pods of its template.
    let judgements = parsed.len() * policies * 2;
    println!("policies written to {}", policy_file.display());
    println!(
        "{} policies, {} objects: every rule without policies {:.2} s ({base} findings), with them {:.2} s ({all}, {:.2}x); judging alone {:.2} s on one core, {verdicts} verdicts, {:.1} us per object and binding",
        policies,
        parsed.len(),
        without.as_secs_f64(),
        with.as_secs_f64(),
        with.as_secs_f64() / without.as_secs_f64().max(1e-9),
        judging.as_secs_f64(),
        judging.as_secs_f64() * 1e6 / judgements.max(1) as f64
    );
    Ok(())
}
