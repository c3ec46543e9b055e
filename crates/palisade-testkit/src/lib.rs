//! A real Kubernetes control plane for tests: etcd, kube-apiserver and (when its binary is
//! there) kube-controller-manager, started on loopback ports, with static-token users, RBAC,
//! and an audit log. Never a mock.
//!
//! Binaries are found in `$KUBEBUILDER_ASSETS`, then `$PALISADE_K8S_BIN`, then
//! `~/.cache/palisade-k8s`; etcd there or on `PATH` (Debian's `etcd-server`). Without them,
//! [`TestCluster::shared`] prints why the test is skipped and returns `None`.
//!
//! The processes are watched by a shell that stops them (and deletes their folder) when the
//! test process ends, so a shared control plane never outlives its test binary.

mod apply;
pub mod fleet;
pub mod least_privilege;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use apply::Applied;
pub use yaml::objects as manifest_objects;

/// Applies `yaml` with `client` (as [`TestCluster::apply`] does), for benchmarks that talk to a
/// cluster they did not start.
pub async fn apply_with(client: &kube::Client, yaml: &str) -> Result<Applied, String> {
    apply::apply(client, yaml, false).await
}

/// Users the API server knows by static token.
pub const ADMIN: &str = "admin";
/// Authenticated, with no RBAC grants at all.
pub const NOBODY: &str = "nobody";

/// A running control plane.
pub struct TestCluster {
    dir: PathBuf,
    pub server: String,
    /// Contexts `admin` (system:masters, current) and `nobody`.
    pub kubeconfig: PathBuf,
    pub audit_log: PathBuf,
    /// Whether kube-controller-manager runs (role aggregation, service account tokens).
    pub controller_manager: bool,
    ca: String,
    runtime: tokio::runtime::Runtime,
    client: kube::Client,
}

static SHARED: OnceLock<Option<TestCluster>> = OnceLock::new();

/// Why no control plane runs.
enum Unavailable {
    /// Its binaries are not on this machine: the test skips, saying so.
    Missing(String),
    /// They are, and it did not come up: the test fails, since skipping would read as green.
    Failed(String),
}

/// A control plane whose binaries are here did not start: a failure, not a skip.
fn failed_to_start(test: &str, why: &str) -> ! {
    panic!(
        "{test}: kube-apiserver and etcd are on this machine but the control plane did not start: {why}"
    )
}

impl TestCluster {
    /// The control plane shared by the tests of this test binary, started on first use; `None`
    /// (after saying why on stderr) when the binaries are missing. `test` names the caller.
    pub fn shared(test: &str) -> Option<&'static TestCluster> {
        let cluster = SHARED
            .get_or_init(|| match TestCluster::start(&[]) {
                Ok(cluster) => Some(cluster),
                Err(Unavailable::Missing(why)) => {
                    eprintln!("palisade-testkit: no test cluster: {why}");
                    None
                }
                Err(Unavailable::Failed(why)) => failed_to_start(test, &why),
            })
            .as_ref();
        if cluster.is_none() {
            eprintln!(
                "SKIPPED {test}: needs a real kube-apiserver and etcd. Set KUBEBUILDER_ASSETS \
                 (setup-envtest) or PALISADE_K8S_BIN to a directory holding kube-apiserver, or \
                 put it in ~/.cache/palisade-k8s; etcd comes from there or Debian's etcd-server \
                 (scripts/install-test-deps). See README, \"Cluster tests\"."
            );
        }
        cluster
    }

    /// A control plane of the caller's own, for tests whose objects would collide with
    /// others' (the bundled examples share namespace names); stopped when dropped.
    pub fn own(test: &str) -> Option<TestCluster> {
        Self::own_with(test, &[])
    }

    /// [`TestCluster::own`] with extra kube-apiserver flags (feature gates, runtime config).
    pub fn own_with(test: &str, apiserver_args: &[&str]) -> Option<TestCluster> {
        Self::own_from(test, None, apiserver_args)
    }

    /// A control plane of Kubernetes `minor` (1.`minor`), found in `$PALISADE_K8S_1_<minor>_BIN`
    /// or `~/.cache/palisade-k8s-1.<minor>`: for APIs the default server lacks. Skips loudly
    /// without it.
    pub fn own_version(test: &str, minor: u32, apiserver_args: &[&str]) -> Option<TestCluster> {
        let dir = std::env::var_os(format!("PALISADE_K8S_1_{minor}_BIN"))
            .map(PathBuf::from)
            .or_else(|| {
                std::env::home_dir().map(|h| h.join(format!(".cache/palisade-k8s-1.{minor}")))
            })
            .filter(|d| d.join("kube-apiserver").is_file());
        let Some(dir) = dir else {
            eprintln!(
                "SKIPPED {test}: needs kube-apiserver 1.{minor} in $PALISADE_K8S_1_{minor}_BIN or ~/.cache/palisade-k8s-1.{minor} (README, \"Cluster tests\")"
            );
            return None;
        };
        Self::own_from(test, Some(dir), apiserver_args)
    }

    fn own_from(test: &str, bin: Option<PathBuf>, apiserver_args: &[&str]) -> Option<TestCluster> {
        match TestCluster::start_with(bin, apiserver_args) {
            Ok(cluster) => Some(cluster),
            Err(Unavailable::Failed(why)) => failed_to_start(test, &why),
            Err(Unavailable::Missing(why)) => {
                eprintln!(
                    "SKIPPED {test}: needs a real kube-apiserver and etcd ({why}). Set \
                     KUBEBUILDER_ASSETS or PALISADE_K8S_BIN, or build into ~/.cache/palisade-k8s; \
                     see README, \"Cluster tests\"."
                );
                None
            }
        }
    }

    fn start(apiserver_args: &[&str]) -> Result<TestCluster, Unavailable> {
        Self::start_with(None, apiserver_args)
    }

    /// Starts a control plane: [`Unavailable::Missing`] when its binaries are not on this
    /// machine, [`Unavailable::Failed`] when they are and it did not come up.
    fn start_with(
        bin: Option<PathBuf>,
        apiserver_args: &[&str],
    ) -> Result<TestCluster, Unavailable> {
        let bin = match bin {
            Some(bin) => bin,
            None => binaries().map_err(Unavailable::Missing)?,
        };
        let etcd = etcd_for(&bin).ok_or_else(|| {
            Unavailable::Missing(
                "no etcd (apt-get install etcd-server, or put it beside kube-apiserver)".into(),
            )
        })?;
        // Free ports are found by binding and letting go: on a busy machine another test (or
        // another test binary) may take one before etcd or kube-apiserver binds it. Such a
        // start is abandoned and made again on other ports.
        Self::launch_on(&bin, &etcd, apiserver_args, free_ports).map_err(Unavailable::Failed)
    }

    /// [`Self::launch`] on the ports `ports` gives, again on the next ones while a port was
    /// taken before its component bound it (at most five times).
    fn launch_on(
        bin: &Path,
        etcd: &Path,
        apiserver_args: &[&str],
        mut ports: impl FnMut() -> Result<[u16; 3], String>,
    ) -> Result<TestCluster, String> {
        let mut attempts = 0;
        loop {
            match Self::launch(bin, etcd, apiserver_args, ports()?) {
                Err(why) if why.contains(PORT_TAKEN) && attempts < 4 => attempts += 1,
                started => return started,
            }
        }
    }

    fn launch(
        bin: &std::path::Path,
        etcd: &std::path::Path,
        apiserver_args: &[&str],
        [etcd_port, peer_port, api_port]: [u16; 3],
    ) -> Result<TestCluster, String> {
        let dir = tempfile::Builder::new()
            .prefix("palisade-k8s.")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?
            .keep();
        let path = |name: &str| dir.join(name);
        run(Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(path("sa.key"))
            .arg("2048"))?;
        run(Command::new("openssl")
            .args(["rsa", "-pubout", "-in"])
            .arg(path("sa.key"))
            .arg("-out")
            .arg(path("sa.pub")))?;
        // A client CA, and a certificate it signed for user `carol` in group `system:masters`.
        run(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=palisade-test-client-ca",
                "-keyout",
            ])
            .arg(path("client-ca.key"))
            .arg("-out")
            .arg(path("client-ca.crt")))?;
        run(Command::new("openssl")
            .args([
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/O=system:masters/CN=carol",
                "-keyout",
            ])
            .arg(path("carol.key"))
            .arg("-out")
            .arg(path("carol.csr")))?;
        // Extensions make it an X.509 v3 certificate, which rustls requires.
        write(
            &path("client.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
        )?;
        run(Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-extfile"])
            .arg(path("client.ext"))
            .arg("-in")
            .arg(path("carol.csr"))
            .arg("-CA")
            .arg(path("client-ca.crt"))
            .arg("-CAkey")
            .arg(path("client-ca.key"))
            .arg("-CAcreateserial")
            .arg("-out")
            .arg(path("carol.crt")))?;
        let admin_token = random_hex()?;
        let nobody_token = random_hex()?;
        write(
            &path("tokens.csv"),
            &format!("{admin_token},{ADMIN},1,system:masters\n{nobody_token},{NOBODY},2\n"),
        )?;
        write(
            &path("audit-policy.yaml"),
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n\
             - level: Metadata\n  resources: [{group: \"\", resources: [secrets, configmaps, serviceaccounts/token]}]\n\
             - level: RequestResponse\n",
        )?;
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        watched(
            &dir,
            "etcd",
            Command::new(etcd)
                .arg("--data-dir")
                .arg(path("etcd"))
                .args(["--listen-client-urls", &etcd_url])
                .args(["--advertise-client-urls", &etcd_url])
                .args([
                    "--listen-peer-urls",
                    &format!("http://127.0.0.1:{peer_port}"),
                ]),
        )?;
        // etcd serving, or why not: kube-apiserver would otherwise wait on it for its own
        // timeout.
        let etcd_deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = std::fs::read_to_string(path("etcd.log")).unwrap_or_default();
            if log.contains("ready to serve client requests") {
                break;
            }
            if path("etcd.exited").exists() || Instant::now() > etcd_deadline {
                let _ = write(&path("stop"), "");
                let taken = if log.contains(PORT_TAKEN) {
                    PORT_TAKEN
                } else {
                    ""
                };
                let tail: Vec<&str> = log.lines().rev().take(3).collect();
                return Err(format!(
                    "etcd did not start ({taken}): {}",
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let flag = |name: &str, value: &Path| format!("--{name}={}", value.display());
        watched(
            &dir,
            "apiserver",
            Command::new(bin.join("kube-apiserver"))
                .arg(format!("--etcd-servers={etcd_url}"))
                .args(["--bind-address=127.0.0.1", "--advertise-address=127.0.0.1"])
                .arg(format!("--secure-port={api_port}"))
                .arg(flag("cert-dir", &path("serving")))
                .arg("--service-account-issuer=https://kubernetes.default.svc")
                .arg(flag("service-account-key-file", &path("sa.pub")))
                .arg(flag("service-account-signing-key-file", &path("sa.key")))
                .arg(flag("token-auth-file", &path("tokens.csv")))
                .arg(flag("client-ca-file", &path("client-ca.crt")))
                .args(["--authorization-mode=Node,RBAC", "--allow-privileged=true"])
                .arg("--service-cluster-ip-range=10.96.0.0/16")
                .arg(flag("audit-log-path", &path("audit.log")))
                .arg(flag("audit-policy-file", &path("audit-policy.yaml")))
                .args(apiserver_args),
        )?;
        let server = format!("https://127.0.0.1:{api_port}");
        let cert = path("serving/apiserver.crt");
        let deadline = Instant::now() + Duration::from_secs(90);
        while !cert.is_file() {
            // A kube-apiserver that exits is not waited for.
            if path("apiserver.exited").exists() {
                let _ = write(&path("stop"), "");
                let log = std::fs::read_to_string(path("apiserver.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                return Err(format!(
                    "kube-apiserver exited: {}",
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "kube-apiserver made no certificate; see {}",
                    path("apiserver.log").display()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let ca = std::fs::read_to_string(&cert).map_err(|e| format!("{}: {e}", cert.display()))?;
        let kubeconfig = path("kubeconfig");
        write(
            &kubeconfig,
            &kubeconfig_text(
                &server,
                &ca,
                &[(ADMIN, &admin_token), (NOBODY, &nobody_token)],
                ADMIN,
            ),
        )?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let client = runtime.block_on(async {
            let config = kube::Config::from_custom_kubeconfig(
                kube::config::Kubeconfig::read_from(&kubeconfig).map_err(|e| e.to_string())?,
                &kube::config::KubeConfigOptions::default(),
            )
            .await
            .map_err(|e| e.to_string())?;
            kube::Client::try_from(config).map_err(|e| e.to_string())
        })?;
        let ready = runtime.block_on(async {
            while Instant::now() < deadline {
                let request = http::Request::get("/readyz").body(Vec::new());
                if let Ok(request) = request {
                    if client.request_text(request).await.is_ok_and(|t| t == "ok") {
                        return true;
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            false
        });
        if !ready {
            return Err(format!(
                "kube-apiserver not ready; see {}",
                path("apiserver.log").display()
            ));
        }
        let controller_manager = bin.join("kube-controller-manager").is_file();
        if controller_manager {
            watched(
                &dir,
                "kcm",
                Command::new(bin.join("kube-controller-manager"))
                    .arg(flag("kubeconfig", &kubeconfig))
                    .arg("--controllers=clusterrole-aggregation,serviceaccount,serviceaccount-token,namespace,garbagecollector,root-ca-cert-publisher")
                    .arg(flag("service-account-private-key-file", &path("sa.key")))
                    .arg(flag("root-ca-file", &cert))
                    .args(["--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=0"]),
            )?;
        }
        Ok(TestCluster {
            audit_log: path("audit.log"),
            dir,
            server,
            kubeconfig,
            controller_manager,
            ca,
            runtime,
            client,
        })
    }

    /// An admin client (system:masters), for tests that talk to the API directly.
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// The folder that holds the control plane's files and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Kills a component of the control plane (`"apiserver"` or `"etcd"`) as a crash would
    /// (SIGKILL) and keeps it down until [`TestCluster::bring_up`]; returns once it is gone.
    pub fn take_down(&self, component: &str) {
        std::fs::write(self.dir.join(format!("{component}.down")), b"")
            .unwrap_or_else(|e| panic!("taking {component} down: {e}"));
        eventually(&format!("{component} to stop"), 30, || {
            !self.dir.join(format!("{component}.pid")).exists()
        });
    }

    /// Starts a component [`TestCluster::take_down`] stopped, and returns once the API server
    /// answers `/readyz` (which checks etcd too).
    pub fn bring_up(&self, component: &str) {
        std::fs::remove_file(self.dir.join(format!("{component}.down")))
            .unwrap_or_else(|e| panic!("bringing {component} up: {e}"));
        eventually(&format!("{component} to be back"), 90, || self.ready());
    }

    /// Whether the API server answers `/readyz` with `ok`.
    pub fn ready(&self) -> bool {
        self.runtime.block_on(async {
            let Ok(request) = http::Request::get("/readyz").body(Vec::new()) else {
                return false;
            };
            matches!(
                tokio::time::timeout(Duration::from_secs(2), self.client.request_text(request)).await,
                Ok(Ok(text)) if text == "ok"
            )
        })
    }

    /// Creates or updates every object in `yaml` (server-side apply, field manager
    /// `palisade-test`), Namespaces and CustomResourceDefinitions first. Panics on failure:
    /// a test cannot go on without its objects.
    pub fn apply(&self, yaml: &str) -> Applied {
        self.runtime
            .block_on(apply::apply(&self.client, yaml, self.controller_manager))
            .unwrap_or_else(|e| panic!("applying test objects: {e}"))
    }

    /// Every `*.yaml` of `dir` (a bundled example), in name order, applied as one stream so
    /// that Namespaces are created before what lives in them.
    pub fn apply_dir(&self, dir: &Path) -> Applied {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        let all: Vec<String> = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
            .collect();
        self.apply(&all.join("\n---\n"))
    }

    /// [`TestCluster::apply`] that returns the API server's refusal instead of panicking.
    pub fn try_apply(&self, yaml: &str) -> Result<Applied, String> {
        self.runtime
            .block_on(apply::apply(&self.client, yaml, self.controller_manager))
    }

    /// POSTs `body` (JSON) to `path` as the admin, `?dryRun=All` when `dry_run`: the status,
    /// the `Warning` headers' texts and the answer's body.
    pub fn post(&self, path: &str, body: &serde_json::Value, dry_run: bool) -> Posted {
        let uri = if dry_run {
            format!("{path}?dryRun=All")
        } else {
            path.to_string()
        };
        let request = http::Request::post(uri)
            .header("Content-Type", "application/json")
            .body(body.to_string().into_bytes())
            .unwrap_or_else(|e| panic!("request: {e}"));
        self.runtime.block_on(async {
            let response = self
                .client
                .send(request.map(kube::client::Body::from))
                .await
                .unwrap_or_else(|e| panic!("POST {path}: {e}"));
            let status = response.status().as_u16();
            let warnings = response
                .headers()
                .get_all("warning")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_string)
                .collect();
            let body = response
                .into_body()
                .collect_bytes()
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            Posted {
                status,
                warnings,
                body,
            }
        })
    }

    /// GETs `path` as the admin: the object, or `None` when it does not exist.
    pub fn get(&self, path: &str) -> Option<serde_json::Value> {
        let request = http::Request::get(path)
            .body(Vec::new())
            .unwrap_or_else(|e| panic!("request: {e}"));
        match self
            .runtime
            .block_on(self.client.request::<serde_json::Value>(request))
        {
            Ok(value) => Some(value),
            Err(kube::Error::Api(status)) if status.code == 404 => None,
            Err(e) => panic!("GET {path}: {e}"),
        }
    }

    /// GETs `path` as the admin as text (`/metrics`, `/readyz?verbose`).
    pub fn raw_get(&self, path: &str) -> Result<String, String> {
        let request = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| e.to_string())?;
        self.runtime
            .block_on(self.client.request_text(request))
            .map_err(|e| format!("GET {path}: {e}"))
    }

    /// DELETEs `path` as the admin (absent is fine).
    pub fn delete(&self, path: &str) {
        let request = http::Request::delete(path)
            .body(Vec::new())
            .unwrap_or_else(|e| panic!("request: {e}"));
        match self.runtime.block_on(self.client.request_text(request)) {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => panic!("DELETE {path}: {e}"),
        }
    }

    /// The static token of the `admin` user (group `system:masters`).
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.dir.join("tokens.csv"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .next()
                    .and_then(|l| l.split(',').next())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| panic!("no admin token in {}", self.dir.display()))
    }

    /// A kubeconfig whose only context, `name`, authenticates with `token`.
    pub fn kubeconfig_with_token(&self, name: &str, token: &str) -> PathBuf {
        let path = self.dir.join(format!("kubeconfig-{name}"));
        let text = kubeconfig_text(&self.server, &self.ca, &[(name, token)], name);
        write(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    /// A kubeconfig whose only context, `carol`, authenticates with a client certificate
    /// (user `carol`, group `system:masters`) signed by the CA the API server trusts.
    pub fn kubeconfig_with_client_certificate(&self) -> PathBuf {
        let read = |name: &str| {
            std::fs::read(self.dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster: {{server: \"{}\", certificate-authority-data: \"{}\"}}\n\
             users:\n- name: carol\n  user: {{client-certificate-data: \"{}\", client-key-data: \"{}\"}}\n\
             contexts:\n- name: carol\n  context: {{cluster: test, user: carol}}\ncurrent-context: carol\n",
            self.server,
            base64(self.ca.as_bytes()),
            base64(&read("carol.crt")),
            base64(&read("carol.key")),
        );
        let path = self.dir.join("kubeconfig-carol");
        write(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    /// Sends one request authenticated with `token` (a service account's, say), as a client
    /// of that identity would: the HTTP status the API server answered.
    pub fn request_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> u16 {
        let kubeconfig = self.kubeconfig_with_token("caller", token);
        self.runtime.block_on(async {
            let config = kube::Config::from_custom_kubeconfig(
                kube::config::Kubeconfig::read_from(&kubeconfig)
                    .unwrap_or_else(|e| panic!("kubeconfig: {e}")),
                &kube::config::KubeConfigOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("kubeconfig: {e}"));
            let client = kube::Client::try_from(config).unwrap_or_else(|e| panic!("client: {e}"));
            let content_type = if method == "PATCH" {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            let request = http::Request::builder()
                .method(method)
                .uri(path)
                .header("Content-Type", content_type)
                .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
                .unwrap_or_else(|e| panic!("request: {e}"));
            match client.request_text(request).await {
                Ok(_) => 200,
                Err(kube::Error::Api(status)) => status.code,
                Err(e) => panic!("{method} {path}: {e}"),
            }
        })
    }

    /// Sends GET `path` with `token` from `concurrency` callers at once, again and again, for
    /// `lasting`, without retrying what the server refuses: how many requests were served and
    /// how many refused with 429. A noisy neighbour, for tests of API Priority and Fairness.
    pub fn flood_as(
        &self,
        token: &str,
        path: &str,
        concurrency: usize,
        lasting: Duration,
    ) -> (u64, u64) {
        let kubeconfig = self.kubeconfig_with_token("flood", token);
        self.runtime.block_on(async {
            let mut config = kube::Config::from_custom_kubeconfig(
                kube::config::Kubeconfig::read_from(&kubeconfig)
                    .unwrap_or_else(|e| panic!("kubeconfig: {e}")),
                &kube::config::KubeConfigOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("kubeconfig: {e}"));
            config.default_retry = false;
            let client = kube::Client::try_from(config).unwrap_or_else(|e| panic!("client: {e}"));
            let until = Instant::now() + lasting;
            let callers = (0..concurrency).map(|_| {
                let client = client.clone();
                async move {
                    let (mut served, mut refused) = (0u64, 0u64);
                    while Instant::now() < until {
                        let Ok(request) = http::Request::get(path).body(Vec::new()) else {
                            break;
                        };
                        match client.request_text(request).await {
                            Ok(_) => served += 1,
                            Err(kube::Error::Api(status)) if status.code == 429 => refused += 1,
                            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                    }
                    (served, refused)
                }
            });
            futures::future::join_all(callers)
                .await
                .into_iter()
                .fold((0, 0), |(s, r), (served, refused)| {
                    (s + served, r + refused)
                })
        })
    }

    /// The requests the audit log holds of `user`: how many in all, and how many the server
    /// refused with `status`.
    pub fn audited_requests(&self, user: &str, status: u16) -> (u64, u64) {
        let log = std::fs::read_to_string(&self.audit_log).unwrap_or_default();
        let mut all = 0;
        let mut refused = 0;
        for event in log
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|event| {
                event["stage"] == "ResponseComplete" && event["user"]["username"] == user
            })
        {
            all += 1;
            if event["responseStatus"]["code"] == status {
                refused += 1;
            }
        }
        (all, refused)
    }

    /// A token for ServiceAccount `namespace/name` (which must exist), from the TokenRequest API.
    pub fn token(&self, namespace: &str, name: &str) -> String {
        let url = format!("/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token");
        let body = serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600}
        });
        let request = http::Request::post(url)
            .header("Content-Type", "application/json")
            .body(body.to_string().into_bytes())
            .unwrap_or_else(|e| panic!("token request: {e}"));
        let answer: serde_json::Value = self
            .runtime
            .block_on(self.client.request(request))
            .unwrap_or_else(|e| panic!("token for {namespace}/{name}: {e}"));
        answer
            .pointer("/status/token")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_else(|| panic!("no token in {answer}"))
            .to_string()
    }
}

/// A free TCP port on loopback (free when asked; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// Polls `check` until it holds, failing the test after `seconds`.
pub fn eventually(what: &str, seconds: u64, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if check() {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: not within {seconds} s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One value from the plain-HTTP `/metrics` of a server on loopback.
pub fn metric(port: u16, name: &str) -> Option<f64> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Sends SIGTERM and waits for the process to exit, which it must do with status 0.
pub fn stop_gracefully(child: &mut std::process::Child, what: &str) {
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(status.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    eventually(&format!("{what} to stop"), 30, || match child.try_wait() {
        Ok(Some(exit)) => {
            assert!(exit.success(), "{what} exited with {exit}");
            true
        }
        _ => false,
    });
}

/// What [`TestCluster::post`] got back.
#[derive(Debug)]
pub struct Posted {
    pub status: u16,
    /// `Warning` headers as sent (`299 - "text"`).
    pub warnings: Vec<String>,
    pub body: String,
}

/// GETs `url` over HTTPS, trusting only `ca_pem`: the status and body, or why it failed (an
/// untrusted certificate, nothing listening).
pub fn https_get(url: &str, ca_pem: &str) -> Result<(u16, String), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        let base: http::Uri = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or("https"),
            uri.authority().map_or("", |a| a.as_str())
        )
        .parse()
        .map_err(|e| format!("{url}: {e}"))?;
        let mut config = kube::Config::new(base);
        config.root_cert = Some(pem_certificates(ca_pem));
        config.auth_info = Default::default();
        config.connect_timeout = Some(Duration::from_secs(5));
        config.read_timeout = Some(Duration::from_secs(5));
        let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
        let request = http::Request::get(uri.path())
            .body(kube::client::Body::empty())
            .map_err(|e| e.to_string())?;
        let response = client.send(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect_bytes()
            .await
            .map_err(|e| e.to_string())?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    })
}

/// The DER certificates of a PEM bundle.
fn pem_certificates(text: &str) -> Vec<Vec<u8>> {
    pem::parse_many(text)
        .unwrap_or_default()
        .into_iter()
        .filter(|block| block.tag() == "CERTIFICATE")
        .map(|block| block.into_contents())
        .collect()
}

impl Drop for TestCluster {
    /// Tells the watchers to stop the processes and remove the folder (the shared cluster is
    /// never dropped: its watchers act when the test process ends).
    fn drop(&mut self) {
        let _ = std::fs::write(self.dir.join("stop"), "");
    }
}

fn binaries() -> Result<PathBuf, String> {
    let home = std::env::home_dir().map(|h| h.join(".cache/palisade-k8s"));
    let candidates = [
        std::env::var_os("KUBEBUILDER_ASSETS").map(PathBuf::from),
        std::env::var_os("PALISADE_K8S_BIN").map(PathBuf::from),
        home,
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.join("kube-apiserver").is_file())
        .ok_or_else(|| {
            "no kube-apiserver in $KUBEBUILDER_ASSETS, $PALISADE_K8S_BIN or ~/.cache/palisade-k8s"
                .into()
        })
}

/// The etcd to run with the binaries in `bin`: beside them, Debian's, or on `PATH`.
fn etcd_for(bin: &Path) -> Option<PathBuf> {
    [bin.join("etcd"), PathBuf::from("/usr/bin/etcd")]
        .into_iter()
        .chain(which("etcd"))
        .find(|p| p.is_file())
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// What etcd and kube-apiserver say when a port they were given was taken meanwhile.
const PORT_TAKEN: &str = "address already in use";

fn free_ports() -> Result<[u16; 3], String> {
    let listeners: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("no free port: {e}"))?;
    let port = |i: usize| listeners[i].local_addr().map(|a| a.port()).unwrap_or(0);
    Ok([port(0), port(1), port(2)])
}

fn random_hex() -> Result<String, String> {
    use std::io::Read;
    let mut buffer = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buffer))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Starts `command` under a shell that stops it, and removes `dir`, once this process is gone.
fn watched(dir: &Path, name: &str, command: &Command) -> Result<(), String> {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let line: Vec<String> = std::iter::once(quote(command.get_program()))
        .chain(command.get_args().map(quote))
        .collect();
    let log = dir.join(format!("{name}.log"));
    // The component runs until the test process ends or `stop` appears. While `NAME.down`
    // exists it is killed (SIGKILL, as a crash) and not restarted; once the file is gone it
    // starts again ([`TestCluster::take_down`], [`TestCluster::bring_up`]). One that exits by
    // itself is left down and says so in `NAME.exited`.
    let script = format!(
        "while kill -0 {parent} 2>/dev/null && [ ! -e {stop} ]; do\n\
           if [ -e {down} ]; then sleep 0.1; continue; fi\n\
           {} >>{} 2>&1 & child=$!\n\
           echo $child >{pid}\n\
           while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null && [ ! -e {stop} ] && [ ! -e {down} ]; do sleep 0.1; done\n\
           if [ -e {down} ]; then kill -9 $child 2>/dev/null; else kill $child 2>/dev/null; fi\n\
           wait $child 2>/dev/null; rm -f {pid}\n\
           [ -e {down} ] || break\n\
         done\n\
         touch {exited}\n\
         if ! kill -0 {parent} 2>/dev/null || [ -e {stop} ]; then rm -rf {dir}; fi",
        line.join(" "),
        quote(log.as_os_str()),
        parent = std::process::id(),
        dir = quote(dir.as_os_str()),
        stop = quote(dir.join("stop").as_os_str()),
        down = quote(dir.join(format!("{name}.down")).as_os_str()),
        pid = quote(dir.join(format!("{name}.pid")).as_os_str()),
        exited = quote(dir.join(format!("{name}.exited")).as_os_str()),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("starting {name}: {e}"))
}

fn kubeconfig_text(server: &str, ca: &str, users: &[(&str, &str)], current: &str) -> String {
    let ca: String = base64(ca.as_bytes());
    let mut text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster: {{server: \"{server}\", certificate-authority-data: \"{ca}\"}}\nusers:\n"
    );
    for (name, token) in users {
        text.push_str(&format!("- name: {name}\n  user: {{token: \"{token}\"}}\n"));
    }
    text.push_str("contexts:\n");
    for (name, _) in users {
        text.push_str(&format!(
            "- name: {name}\n  context: {{cluster: test, user: {name}}}\n"
        ));
    }
    text.push_str(&format!("current-context: {current}\n"));
    text
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port taken between being found free and being bound (another test's server took it)
    /// does not fail the start: it is made again on other ports, without waiting on the
    /// component that could not bind.
    #[test]
    fn a_port_taken_before_etcd_binds_it_starts_the_control_plane_on_others() {
        let Some((bin, etcd)) = binaries()
            .ok()
            .and_then(|bin| Some((bin.clone(), etcd_for(&bin)?)))
        else {
            eprintln!("SKIPPED: needs kube-apiserver and etcd (README, \"Cluster tests\")");
            return;
        };
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let taken_port = taken.local_addr().expect("its address").port();
        let mut given = 0;
        let started = Instant::now();
        let cluster = TestCluster::launch_on(&bin, &etcd, &[], || {
            given += 1;
            let [_, peer, api] = free_ports()?;
            Ok(if given == 1 {
                [taken_port, peer, api]
            } else {
                [free_ports()?[0], peer, api]
            })
        })
        .expect("started on other ports");
        assert_eq!(given, 2, "a second set of ports");
        assert!(cluster.server.starts_with("https://127.0.0.1:"));
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{:?}",
            started.elapsed()
        );
        drop(taken);
    }
}
