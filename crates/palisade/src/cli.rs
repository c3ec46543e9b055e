//! Command-line arguments. Each subcommand's help teaches with examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use palisade_analysis::pss::{Level, Version};
use palisade_model::Severity;

#[derive(Parser, Debug)]
#[command(
    name = "palisade",
    version,
    about = "Kubernetes security posture checks for manifests, with exact Pod Security Standards",
    long_about = "Palisade checks Kubernetes manifests for security problems with the semantics \
                  Kubernetes itself applies, and points at the file, line and column of each one.",
    after_help = "Examples:\n  \
        palisade scan deploy/                 scan a directory of manifests\n  \
        helm template app ./chart | palisade scan -\n  \
        palisade scan --format json -o report.json k8s/\n  \
        palisade rules                        list every rule\n  \
        palisade explain pss-privileged       show one rule's documentation\n\
        \n\
        Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or input errors."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// The Kubernetes version the input is for (v1.30): rules whose meaning changed between
    /// versions follow it (before v1.31 `get` on pods/exec opens a shell), and it is the
    /// default --pss-version. Default: `kubernetes-version` in the config, the server's
    /// version with --cluster, else the latest this build knows. Findings that depend on it
    /// name the version they assumed.
    #[arg(long, global = true, value_name = "vMAJOR.MINOR")]
    pub kubernetes_version: Option<Version>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan manifests (files, directories, `-` for stdin) and report findings.
    Scan(ScanArgs),
    /// Repair findings in the files: safe fixes by default (--unsafe for the rest), every
    /// comment and untouched byte kept; what needs a person's decision is listed.
    Fix(FixArgs),
    /// List the rules.
    Rules(RulesArgs),
    /// Print a rule's documentation.
    Explain(ExplainArgs),
    /// Ask RBAC questions about manifests or a `kubectl get -A -o yaml` dump: can-i, who-can,
    /// show, paths.
    #[command(subcommand)]
    Rbac(RbacCommand),
    /// NetworkPolicy analysis: who can reach whom on which port, and generated policies.
    #[command(subcommand)]
    Netpol(NetpolCommand),
    /// The configuration file (`.palisade.yaml`).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Policy as code: test your custom CEL rules against their fixtures; export the rule
    /// catalog as ValidatingAdmissionPolicies the API server enforces without a webhook.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Check a node's control-plane and kubelet configuration files (CIS sections 1-4):
    /// static pods, kubelet config and flags, encryption config, audit policy, file modes.
    Node(NodeArgs),
    /// Write what `--cluster` reads from a live cluster as one `v1` List, Secrets without data;
    /// every command answers on that file as it does with `--cluster`.
    Snapshot(SnapshotArgs),
    /// Run the validating admission webhook (the same rules as scan, where the cluster accepts
    /// objects), or write its certificates and install manifests.
    Admit(AdmitArgs),
    /// Watch a cluster and keep its findings current as PolicyReports (wgpolicyk8s.io), or
    /// print the CRDs and manifests it needs.
    Operator(OperatorArgs),
    /// Read API server audit logs: detect attacks, write least-privilege roles from what a
    /// subject did, list what it was granted and never used.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print a shell completion script: `palisade completions bash > /etc/bash_completion.d/palisade`.
    #[command(after_help = "Examples:\n  \
        palisade completions bash > \\\n      \
        ~/.local/share/bash-completion/completions/palisade\n  \
        palisade completions zsh > \"${fpath[1]}/_palisade\"\n  \
        palisade completions fish > ~/.config/fish/completions/palisade.fish\n  \
        palisade completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),
    /// Write the manual pages (palisade.1 and one per subcommand) into a directory.
    #[command(after_help = "Example:\n  \
        palisade man --dir /usr/local/share/man/man1 && man palisade-scan")]
    Man(ManArgs),
    /// Print the version, the commit and date it was built from, the target and the number
    /// of rules (`--format json` for scripts).
    Version(VersionArgs),
    /// Attack paths: from the internet, through exposed Services, the pods they reach, the
    /// tokens those pods hold and what the tokens can do, to cluster-admin or a node.
    Paths(AttackPathsArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AttackTarget {
    ClusterAdmin,
    Node,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PathsOutput {
    Text,
    Json,
    Dot,
    Mermaid,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
        palisade paths k8s/                       # the internet to cluster-admin\n  \
        palisade paths --to node k8s/\n  \
        palisade paths --cluster --format json -o paths.json\n  \
        palisade paths --from workload:shop/deployment/web k8s/   # after a compromise of web\n  \
        palisade paths --from sa:ci/runner --format mermaid k8s/\n\
        \n\
        Hops, each proved from the input and located: the internet reaches a Service (type LoadBalancer or NodePort, externalIPs, an Ingress rule); the Service sends to the workloads its selector picks, where the NetworkPolicy tiers let the traffic in (from every internet address; from any pod behind an Ingress); a workload's pods hold its ServiceAccount's token unless automountServiceAccountToken is false, and take their node when they break the baseline Pod Security level; from there, the escalation paths of `palisade rbac paths`.\n\
        \n\
        Exit codes: 0 no path; 1 a path exists; 2 usage or input errors.")]
pub struct AttackPathsArgs {
    #[command(flatten)]
    pub input: PolicyInput,
    /// Where the paths start: internet, vulnerable (every workload whose image has a critical
    /// vulnerability with a fix, or a known exploited one, by --vulnerabilities),
    /// workload:NS/KIND/NAME (code running in its pods, as after a compromise; `pod:` works
    /// too), sa:NS/NAME, user:NAME or group:NAME.
    #[arg(long, value_name = "START", default_value = "internet", value_parser = parse_start)]
    pub from: palisade_analysis::attack::Start,
    /// Where the paths lead.
    #[arg(long, value_enum, default_value_t = AttackTarget::ClusterAdmin)]
    pub to: AttackTarget,
    /// text (each hop, explained, with its place), json ({paths: [{from, to, hops: [{edge,
    /// reached, object, location, explanation}]}]}), dot (Graphviz) or mermaid.
    #[arg(long, value_enum, default_value_t = PathsOutput::Text)]
    pub format: PathsOutput,
    /// Leave out paths longer than this many hops.
    #[arg(long, value_name = "N")]
    pub max_hops: Option<usize>,
    /// Vulnerability reports of the images (Trivy `--format json`, Grype `-o json`), matched
    /// to the workloads by digest, else by reference: a critical vulnerability with a fix, or
    /// a known exploited one, is named where the internet gets in, and makes the workload a
    /// start for `--from vulnerable`. Repeatable; nothing is downloaded.
    #[arg(long, value_name = "FILE")]
    pub vulnerabilities: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VersionArgs {
    /// text, or json: {"version", "commit", "buildDate", "target", "rules"}.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
        # repair what can be repaired safely, in place\n  \
        palisade fix k8s/\n  \
        # see what would change, write nothing\n  \
        palisade fix --diff k8s/\n  \
        # the Pod Security fixes too that can change what a workload does\n  \
        palisade fix --unsafe --select pss --pss-level restricted k8s/\n  \
        # fixed copies, originals untouched\n  \
        palisade fix --output-dir fixed/ k8s/\n\
        \n\
        Safe fixes cannot change what a well-behaved workload does (allowPrivilegeEscalation: false, drop ALL capabilities from a container that adds none, the RuntimeDefault seccomp profile, imagePullPolicy: Always). Unsafe ones can (runAsNonRoot, readOnlyRootFilesystem, automountServiceAccountToken: false, privileged: false) and need --unsafe. What needs a decision (host namespaces, hostPath volumes, a privileged node daemon, a digest nobody knows) is never guessed: it is listed with the rule's advice. Every edit is checked by parsing and judging the document again; one that does not hold is undone and reported.\n\
        \n\
        Exit codes: 0 no finding left; 1 findings left (needing a decision, --unsafe, or a person); 2 usage, configuration or input errors.")]
pub struct FixArgs {
    /// Files or directories [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// Only fix these rules (codes, names, categories or framework tags, as for scan).
    #[arg(long, value_name = "RULES")]
    pub select: Vec<String>,

    /// Do not fix these rules.
    #[arg(long, value_name = "RULES")]
    pub ignore: Vec<String>,

    /// Pod Security Standards level whose checks run: baseline or restricted [default: the
    /// config's, else restricted].
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub pss_level: Option<Level>,

    /// Apply unsafe fixes too (they can change what a workload does).
    #[arg(long = "unsafe")]
    pub unsafe_fixes: bool,

    /// Print unified diffs and write nothing.
    #[arg(long, conflicts_with_all = ["output_dir", "interactive"])]
    pub diff: bool,

    /// Write fixed copies here, mirroring the input tree; the originals are left alone.
    #[arg(long, value_name = "DIR", conflicts_with = "interactive")]
    pub output_dir: Option<PathBuf>,

    /// Show each file's diff and ask before writing it (needs a terminal).
    #[arg(long)]
    pub interactive: bool,

    /// text (a summary) or json (every edit and every finding left).
    #[arg(long, value_enum, default_value_t = FixFormat::Text)]
    pub format: FixFormat,

    /// Config file [default: the nearest .palisade.yaml at or above the first PATH].
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Use no config file.
    #[arg(long)]
    pub no_config: bool,

    /// Read the objects from a live cluster and write fixed manifests of those with findings to
    /// --output-dir (server fields removed), for review and `kubectl apply`; the cluster is
    /// never written to.
    #[arg(long, requires = "output_dir")]
    pub cluster: bool,

    /// With --cluster: only these namespaces (repeatable or comma-separated).
    #[arg(
        long = "namespace",
        short = 'n',
        value_name = "NS",
        requires = "cluster"
    )]
    pub namespaces: Vec<String>,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FixFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Where to write the pages (created if missing).
    #[arg(long, value_name = "DIR", default_value = "man")]
    pub dir: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Report what looks like an attack in audit logs (the audit-log rules, PAL-AL-*).
    Detect(Box<AuditDetectArgs>),
    /// Print Roles, ClusterRoles and bindings that allow exactly what a subject was seen doing.
    Roles(AuditRolesArgs),
    /// List the rules a subject is granted but never used in the log's time window.
    Unused(AuditUnusedArgs),
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
        # every file under the directory, .gz too\n  \
        palisade audit detect /var/log/kubernetes/audit/\n  \
        palisade audit detect --format sarif -o audit.sarif audit.log \\\n      \
        audit-2026-11-29.log.gz\n  \
        kubectl get --raw /apis/audit.k8s.io/... | palisade audit detect -\n\
        \n\
        Input: audit.k8s.io/v1 Event JSON lines as --audit-log-path writes them (rotated and gzipped files\n  \
        included), or an EventList document. A line that is not an event is an error with file and line;\n  \
        the rest is still read. Findings point at the event (file:line, the document is the event's\n  \
        number in its file) and never quote it: logged bodies may hold secrets.\n\
        \n\
        Reports, config (.palisade.yaml), exceptions, severities, baselines and exit codes are those of\n  \
        scan. Only the audit-log rules run unless --select says otherwise. Some rules read request bodies\n  \
        (RBAC escalation, privileged pods): log those resources at the Request level or above.")]
#[command(mut_arg("cluster", |arg| arg.hide(true)))]
#[command(mut_arg("context", |arg| arg.hide(true)))]
#[command(mut_arg("kubeconfig", |arg| arg.hide(true)))]
#[command(mut_arg("request_timeout", |arg| arg.hide(true)))]
#[command(mut_arg("pss_level", |arg| arg.hide(true)))]
#[command(mut_arg("pss_version", |arg| arg.hide(true)))]
#[command(mut_arg("no_bootstrap", |arg| arg.hide(true)))]
#[command(mut_arg("group_by", |arg| arg.hide(true)))]
#[command(mut_arg("paths", |arg| arg.help("Audit logs: files, directories (every file under them), .gz, or - for stdin")))]
pub struct AuditDetectArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
        palisade audit roles --for system:serviceaccount:shop:web audit.log > \\\n      \
        web-rbac.yaml\n  \
        palisade audit roles --for alice@example.com --names \\\n      \
        /var/log/kubernetes/audit/\n\
        \n\
        Only allowed requests count, made as the subject or impersonating it. Verbs are merged per\n  \
        resource; namespaced requests give a Role and RoleBinding per namespace; cluster-scoped,\n  \
        cluster-wide and non-resource requests a ClusterRole and ClusterRoleBinding. With --names, get,\n  \
        update, patch and delete are restricted to the objects named (list, watch and create cannot be).\n  \
        A log covers a time window: review the roles before replacing broader ones.")]
pub struct AuditRolesArgs {
    /// The subject, as the API server names it: a user name, or
    /// system:serviceaccount:NAMESPACE:NAME.
    #[arg(long = "for", value_name = "SUBJECT")]
    pub subject: String,
    /// Restrict get, update, patch and delete to the object names seen (resourceNames).
    #[arg(long)]
    pub names: bool,
    /// Also allow the requests the authorizer denied (what audit2rbac does: run the workload
    /// with no rights, then grant what it asked for). Implied when the subject was allowed
    /// nothing beyond what every authenticated user may do.
    #[arg(long)]
    pub denied: bool,
    /// Write the YAML to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Audit logs: files, directories, .gz, or - for stdin.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<String>,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
        palisade audit unused --for system:serviceaccount:ci:deployer --rbac k8s/ \\\n      \
        audit.log\n  \
        palisade audit unused --for alice@example.com --cluster \\\n      \
        /var/log/kubernetes/audit/ --format json\n\
        \n\
        The grants come from the RBAC engine (as `rbac show` lists them): every rule of every binding\n  \
        that names the subject or one of its groups. A rule is used when it allows one of the subject's\n  \
        allowed requests in the binding's scope. Exit 0 when every rule was used, 1 when some were not,\n  \
        2 on errors.")]
pub struct AuditUnusedArgs {
    /// The subject, as the API server names it.
    #[arg(long = "for", value_name = "SUBJECT")]
    pub subject: String,
    /// Where the RBAC objects are: manifests, directories, dumps (repeat for several).
    #[arg(long, value_name = "PATH", required_unless_present = "cluster")]
    pub rbac: Vec<String>,
    #[command(flatten)]
    pub source: ClusterSource,
    /// Do not assume Kubernetes' default RBAC roles and bindings exist.
    #[arg(long)]
    pub no_bootstrap: bool,
    /// Answer as text (yes/no and why) or JSON.
    #[arg(long, value_enum, default_value_t = AnswerFormat::Text)]
    pub format: AnswerFormat,
    /// Audit logs: files, directories, .gz, or - for stdin.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<String>,
}

#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  \
        # CRDs, RBAC, Deployment (2 replicas)\n  \
        palisade operator manifests | kubectl apply -f -\n  \
        palisade operator --kubeconfig ~/.kube/config        run outside the cluster\n  \
        kubectl get policyreports -A                          what it wrote\n\
        \n\
        One PolicyReport named palisade per namespace (split into palisade-2, ... of at most 200 results) and one ClusterPolicyReport for cluster-scoped objects; each result names the rule (policy), severity, category, message, the object, and the field path and controls (properties). Reports are written with server-side apply (field manager palisade) only when their results change. Replicas elect a leader with a Lease; only the leader writes."
)]
pub struct OperatorArgs {
    #[command(subcommand)]
    pub command: Option<OperatorCommand>,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// The config file (rules, severities, exceptions).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// /healthz, /readyz and /metrics.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,

    /// The namespace of the leader-election Lease.
    #[arg(long, value_name = "NS", default_value = "default")]
    pub lease_namespace: String,

    /// This replica's name in the Lease [default: $POD_NAME, else host and process id].
    #[arg(long, value_name = "NAME")]
    pub identity: Option<String>,

    /// Wait this long for more changes before evaluating, when the last evaluation was recent
    /// (a change after a quiet spell is evaluated at once; changes that arrive during an
    /// evaluation are taken together by the next one).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "100ms")]
    pub debounce: std::time::Duration,
}

#[derive(Subcommand, Debug)]
pub enum OperatorCommand {
    /// Print the PolicyReport CRDs, RBAC, ConfigMap, Deployment and metrics Service.
    Manifests {
        /// The namespace to install into.
        #[arg(long, default_value = "palisade-system")]
        namespace: String,
        /// The Palisade image the Deployment runs (pin it by digest in production).
        #[arg(long, default_value = palisade_cluster::DEFAULT_IMAGE)]
        image: String,
        /// The API server's addresses as pods reach them (repeatable): the only egress
        /// besides DNS. Default: the private ranges; narrow it to your control plane's
        /// (`kubectl get endpoints kubernetes`).
        #[arg(long, value_name = "CIDR")]
        api_server_cidr: Vec<String>,
        /// The config (`.palisade.yaml`) to ship in the ConfigMap the operator loads (and reloads
        /// when the ConfigMap changes) [default: `fail-on: high`, every rule on].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Print only the PolicyReport and ClusterPolicyReport CRDs.
    Crds,
}

#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  \
        palisade admit certs --host palisade-admit.palisade-system.svc -o certs/\n  \
        palisade admit manifests --ca-bundle certs/ca.crt | kubectl apply -f -\n  \
        palisade admit --tls-cert certs/tls.crt --tls-key certs/tls.key --config \\\n      \
        .palisade.yaml\n\
        \n\
        Verdicts: CREATE and UPDATE are judged by every object and Pod Security rule (DELETE and CONNECT are allowed). A namespace picks its mode with the label palisade.dev/mode: enforce (deny with the findings at or above fail-on), warn (admit; kubectl prints the findings) or audit (admit; the findings go to the audit log as validate.palisade.dev/findings). Suppression annotations and config exceptions apply as in scan; with --strict (or strict: true) annotations are ignored, so a workload cannot exempt itself.\n\
        \n\
        Endpoints: POST /validate, GET /healthz, /readyz (namespaces read), /metrics (Prometheus). The certificate, key and config are reloaded when their files change."
)]
pub struct AdmitArgs {
    #[command(subcommand)]
    pub command: Option<AdmitCommand>,

    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum AdmitCommand {
    /// Write a CA (ca.crt) and a serving certificate signed by it (tls.crt, tls.key).
    Certs {
        /// DNS names and IP addresses the certificate is for (repeat).
        #[arg(long = "host", value_name = "NAME|IP", required = true)]
        hosts: Vec<String>,
        /// The directory to write to.
        #[arg(long, short = 'o', value_name = "DIR")]
        output: PathBuf,
    },
    /// Print what a cluster needs: Namespace, ServiceAccount, RBAC, ConfigMap, Deployment,
    /// Service, PodDisruptionBudget and the ValidatingWebhookConfiguration (registered at
    /// failurePolicy Ignore; the first ready webhook pod sets Fail).
    Manifests {
        /// The namespace to install into.
        #[arg(long, default_value = "palisade-system")]
        namespace: String,
        /// The Palisade image the Deployment runs (pin it by digest in production).
        #[arg(long, default_value = palisade_cluster::DEFAULT_IMAGE)]
        image: String,
        /// The CA that signed the serving certificate (PEM), for the webhook's caBundle.
        #[arg(long, value_name = "FILE")]
        ca_bundle: Option<PathBuf>,
        /// The API server's addresses as pods see them (repeatable): the only sources the
        /// webhook accepts connections from and the only destinations besides DNS. Default:
        /// the private ranges; narrow it to your control plane's (`kubectl get endpoints
        /// kubernetes`).
        #[arg(long, value_name = "CIDR")]
        api_server_cidr: Vec<String>,
        /// Connect (as the current user) and send the webhook this cluster's custom resources
        /// that carry a pod template (Argo Rollouts, ...), which it judges like Deployments.
        #[arg(long)]
        with_custom_resources: bool,
        /// The config (`.palisade.yaml`) to ship in the ConfigMap the webhook loads (and reloads
        /// when the ConfigMap changes) [default: `fail-on: high`, every rule on].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Enforce,
    Warn,
    Audit,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The serving certificate (PEM).
    #[arg(long, value_name = "FILE", required = true)]
    pub tls_cert: Option<PathBuf>,

    /// The serving certificate's key (PEM).
    #[arg(long, value_name = "FILE", required = true)]
    pub tls_key: Option<PathBuf>,

    /// Where to serve HTTPS (the API server calls /validate here).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: std::net::SocketAddr,

    /// The config file (rules, severities, exceptions, fail-on, admission.mode).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The mode of namespaces without a palisade.dev/mode label [default: the config's, else
    /// enforce].
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,

    /// Findings at or above this severity decide the verdict [default: the config's fail-on,
    /// else high].
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Pod Security Standards level: baseline, or restricted (which includes baseline) [default:
    /// the config's, else restricted].
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub pss_level: Option<Level>,

    /// Kubernetes version whose Pod Security Standards apply: v1.0 to v1.37, or latest [default:
    /// the config's, else latest].
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub pss_version: Option<Version>,

    /// Only run these rules (codes, names, categories or framework tags, as for scan).
    #[arg(long, value_name = "RULES")]
    pub select: Vec<String>,

    /// Do not run these rules (same forms as --select).
    #[arg(long, value_name = "RULES")]
    pub ignore: Vec<String>,

    /// Ignore suppression annotations everywhere. At admission they are ignored already,
    /// except in the namespaces the config's `admission.object-suppressions` lists.
    #[arg(long)]
    pub strict: bool,

    /// How long one review may be judged; past it the review is denied without a verdict (as
    /// the webhook's failurePolicy: Fail would) and counted. Keep it below the webhook's
    /// timeoutSeconds (5 in `palisade admit manifests`).
    #[arg(long, value_name = "SECONDS", default_value_t = 4)]
    pub deadline: u64,

    /// Connections open at once; more are closed on arrival (and counted as 503s).
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub max_connections: usize,

    /// Close a connection that moves no byte for this long (a TLS handshake or keep-alive
    /// that never comes). Request headers and bodies must each arrive within 10 s.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub idle_timeout: u64,

    /// Accept only clients with a certificate this CA signed (PEM): the API server's, which
    /// presents one when its admission config gives it a kubeconfig for the webhook.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,

    /// Do not read namespaces' palisade.dev/mode labels (every namespace gets the default
    /// mode); otherwise the cluster comes from the kubeconfig, or the pod's service account.
    #[arg(long)]
    pub no_cluster: bool,

    /// Once ready, set failurePolicy: Fail on this ValidatingWebhookConfiguration's Palisade
    /// webhook. `admit manifests` registers it at Ignore and passes `--arm-webhook palisade`,
    /// so installing never refuses the cluster's writes while no webhook pod can answer; once
    /// armed it stays at Fail. Needs get and patch on that configuration.
    #[arg(long, value_name = "NAME")]
    pub arm_webhook: Option<String>,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
        # check this node (files below /)\n  \
        sudo palisade node\n  \
        # a copy of a node's files (tar of /etc/kubernetes, /var/lib/kubelet, ...)\n  \
        palisade node --root ./node-snapshot\n  \
        palisade node --select cis --format sarif -o node.sarif\n\
        \n\
        Looks at: /etc/kubernetes/manifests/*.yaml, /etc/kubernetes/{admin,super-admin,scheduler,controller-manager,kubelet}.conf,\n  \
        /etc/kubernetes/pki, the kubelet's systemd unit and drop-ins (kubelet.service.d/*.conf), /var/lib/kubelet/kubeadm-flags.env,\n  \
        /etc/default/kubelet, the kubelet config file (--config, else /var/lib/kubelet/config.yaml), the files the API server\n  \
        names with --encryption-provider-config and --audit-policy-file, and the etcd data directory.\n  \
        Absent files are listed as not present (on stderr), never as failures: managed control planes have none.\n\
        \n\
        Kubelet settings are judged as the kubelet applies them: flags over the config file, then the config file's defaults\n  \
        (or the flags' defaults when the kubelet runs without a config file).\n\
        \n\
        By default the control-plane, kubelet, encryption, audit and node rules run; --select widens or narrows that. Exit codes as for scan.")]
#[command(mut_arg("paths", |arg| arg.hide(true)))]
#[command(mut_arg("cluster", |arg| arg.hide(true)))]
#[command(mut_arg("context", |arg| arg.hide(true)))]
#[command(mut_arg("kubeconfig", |arg| arg.hide(true)))]
#[command(mut_arg("request_timeout", |arg| arg.hide(true)))]
#[command(mut_arg("namespaces", |arg| arg.hide(true)))]
#[command(mut_arg("pss_level", |arg| arg.hide(true)))]
#[command(mut_arg("pss_version", |arg| arg.hide(true)))]
#[command(mut_arg("no_bootstrap", |arg| arg.hide(true)))]
#[command(mut_arg("strict", |arg| arg.hide(true)))]
pub struct NodeArgs {
    /// The directory that holds the node's file tree.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    #[command(flatten)]
    pub scan: ScanArgs,
}

/// How to reach a cluster, resolved as kubectl resolves it.
#[derive(Args, Debug, Clone, Default)]
pub struct ConnectionArgs {
    /// The kubeconfig context to use [default: the current context].
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// The kubeconfig file [default: the files in KUBECONFIG, merged, else ~/.kube/config, else
    /// the pod's service account].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// Give up on a request after this long: 30s, 2m, 500ms, or plain seconds; 0 waits as long
    /// as the server takes.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    pub request_timeout: std::time::Duration,

    /// Objects per page of each list (`limit`/`continue`), as kubectl's --chunk-size.
    #[arg(long, value_name = "N", default_value_t = 250, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_size: u32,
}

/// Read from a live cluster instead of files.
#[derive(Args, Debug, Clone, Default)]
pub struct ClusterSource {
    /// Read the objects from the cluster of the current kubeconfig context (or --context)
    /// instead of files.
    #[arg(long)]
    pub cluster: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SnapshotFormatArg {
    Yaml,
    Json,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
        # what --cluster reads, as one v1 List\n  \
        palisade snapshot -o cluster.yaml\n  \
        # later, elsewhere: the same findings as --cluster\n  \
        palisade scan cluster.yaml\n  \
        palisade snapshot --context prod -n shop --format json -o shop.json\n  \
        # the read-only ClusterRole Palisade needs\n  \
        palisade snapshot --print-role | kubectl apply -f -\n  \
        # ... and this cluster's pod-carrying CRDs\n  \
        palisade snapshot --print-role --with-custom-resources\n\
        \n\
        Secrets are read as metadata only: their values never leave the API server. managedFields and the kubectl last-applied annotation are dropped. Pods, ReplicaSets and Jobs made by a workload that is also read are left out: findings belong to the object you wrote. A file scan of a snapshot assumes the latest Kubernetes unless told; give the cluster's version with --kubernetes-version (the snapshot's header says it) for the same answers as --cluster.")]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Read namespaced kinds in these namespaces only (repeat or comma-separate); cluster-scoped
    /// kinds are always read.
    #[arg(long = "namespace", short = 'n', value_name = "NS")]
    pub namespaces: Vec<String>,

    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// yaml (what `kubectl get -o yaml` prints) or json.
    #[arg(long, value_enum, default_value_t = SnapshotFormatArg::Yaml)]
    pub format: SnapshotFormatArg,

    /// Print the read-only ClusterRole that scan --cluster and snapshot need, and exit.
    #[arg(long)]
    pub print_role: bool,

    /// With --print-role: connect (as the current user) and add the custom resources of this
    /// cluster that carry a pod template (Argo Rollouts, ...).
    #[arg(long, requires = "print_role")]
    pub with_custom_resources: bool,

    /// With --print-role: leave Secrets out (the scan then reports that it could not list
    /// them, and judges everything else).
    #[arg(long, requires = "print_role")]
    pub no_secrets: bool,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the JSON Schema of `.palisade.yaml` (for editor completion and validation).
    #[command(after_help = "Example:\n  \
        palisade config schema > .palisade.schema.json\n\
        \n\
        Then start .palisade.yaml with:\n  \
        # yaml-language-server: $schema=.palisade.schema.json")]
    Schema,
}

#[derive(Subcommand, Debug)]
pub enum NetpolCommand {
    /// Whether FROM can open a connection to TO: prints allowed (exit 0) or denied (exit 1)
    /// and the policies and rules that decide each direction.
    #[command(
        after_help = "FROM and TO are NS/KIND/NAME of a workload or pod (kind case-insensitive), or outside addresses: an address, a CIDR or a range FIRST-LAST.\n\
        \n\
        Examples:\n  \
        palisade netpol reach shop/deployment/web shop/deployment/api --port 3000 \\\n      \
        k8s/\n  \
        palisade netpol reach ops/pod/debug payments/deployment/billing k8s/\n  \
        palisade netpol reach shop/deployment/api 169.254.169.254/32 --port 80 \\\n      \
        --format json k8s/\n  \
        palisade netpol reach 203.0.113.7/32 shop/deployment/web --port 8080 k8s/"
    )]
    Reach(ReachArgs),
    /// The workload × workload reachability matrix with ports.
    #[command(
        after_help = "Workloads are grouped as sources and destinations that every policy \
        treats alike, and each pair of groups is judged once; --by class prints those groups, \
        --by workload expands them (refused past --max-pairs allowed pairs).\n\
        \n\
        Examples:\n  \
        palisade netpol matrix k8s/\n  \
        palisade netpol matrix -n shop --format csv k8s/\n  \
        palisade netpol matrix --format dot k8s/ | dot -Tsvg > reach.svg\n  \
        # a whole cluster\n  \
        palisade netpol matrix --by class --format json --cluster -o m.json"
    )]
    Matrix(MatrixArgs),
    /// What changed in connectivity between two versions: workload pairs and outside ranges
    /// whose allowed ports differ, with the rules behind each; exit 1 when anything opened.
    #[command(
        after_help = "OLD and NEW are directories or files of manifests, or git revisions of the \
        repository in the current directory (REV for all of it, REV:DIR for one directory). \
        With --cluster and no NEW, OLD is compared with the live cluster.\n\
        \n\
        Exit codes: 0 nothing opened (closing is fine), 1 something opened, 2 an error.\n\
        \n\
        Examples:\n  \
        palisade netpol diff k8s-before/ k8s/\n  \
        palisade netpol diff origin/main:k8s HEAD:k8s --format markdown > comment.md\n  \
        palisade netpol diff k8s/ --cluster    # what applying k8s/ would change, reversed"
    )]
    Diff(DiffArgs),
    /// Write a policy: default-deny, quarantine (incident response) or deny-metadata.
    #[command(subcommand)]
    Generate(GenerateCommand),
}

#[derive(Args, Debug)]
pub struct NetInput {
    /// Manifests, directories, `kubectl get -A -o yaml` dumps or `-` (one of them, or
    /// --cluster, is required).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    #[command(flatten)]
    pub source: ClusterSource,

    /// Write the answer to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    /// A table for a pull-request comment.
    Markdown,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The version before: a directory or file, or a git revision (REV or REV:DIR).
    pub old: String,
    /// The version after, as OLD; leave it out with --cluster to compare with the cluster.
    pub new: Option<String>,
    #[command(flatten)]
    pub source: ClusterSource,
    /// text, json or markdown.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Write the answer to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ReachArgs {
    /// NS/KIND/NAME, or outside addresses: 203.0.113.7, a CIDR (10.0.0.0/8) or a range
    /// (10.0.0.1-10.0.0.9), allowed on the ports allowed for all of it.
    pub from: String,
    /// NS/KIND/NAME, NS/service/NAME, or outside addresses as for FROM.
    pub to: String,
    #[command(flatten)]
    pub input: NetInput,
    /// The destination port, with an optional protocol: 8080, 53/UDP, or a container port's
    /// name on the destination (http). Without it, any port.
    #[arg(long, value_name = "PORT[/PROTO]")]
    pub port: Option<String>,
    /// Answer as text (allowed/denied and why) or JSON.
    #[arg(long, value_enum, default_value_t = AnswerFormat::Text)]
    pub format: AnswerFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SortOrder {
    /// The most severe findings first (then by place).
    Severity,
    /// By file, line and column (findings without a file: by object and path).
    Location,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    /// CIS Kubernetes Benchmark sections (1.2 API Server, 4.2 Kubelet, ...).
    Cis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MatrixFormat {
    Text,
    Csv,
    Json,
    Dot,
}

#[derive(Args, Debug)]
pub struct MatrixArgs {
    #[command(flatten)]
    pub input: NetInput,
    /// Only workloads of this namespace (both ends).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// text (a table), csv, json, or dot (Graphviz).
    #[arg(long, value_enum, default_value_t = MatrixFormat::Text)]
    pub format: MatrixFormat,
    /// workload (one row per pair of workloads) or class (one row per pair of groups that
    /// every policy treats alike: the only readable answer for a whole cluster).
    #[arg(long, value_enum, default_value_t = MatrixBy::Workload)]
    pub by: MatrixBy,
    /// Refuse a workload matrix with more allowed pairs than this (use --by class, or -n).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_pairs: u64,
    /// Only pairs with this workload at either end (repeat for several). A pod, ReplicaSet or
    /// Job that a workload of the input controls is named by that workload.
    #[arg(long, value_name = "NS/KIND/NAME")]
    pub focus_workload: Vec<String>,
    /// Only pairs allowed on this destination port (8080, 53/UDP), and only that port shown.
    #[arg(long, value_name = "PORT[/PROTO]")]
    pub focus_port: Option<String>,
    /// Also list each workload's connections to itself (its pods to one another), which are
    /// left out by default: they rarely answer a question and double a matrix's noise.
    #[arg(long)]
    pub self_pairs: bool,
    /// Leave out the outside address ranges each workload can reach and be reached from
    /// (listed after the pairs of the workload matrix, cut where policies draw lines).
    #[arg(long)]
    pub no_outside: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MatrixBy {
    /// One row per pair of workloads.
    Workload,
    /// One row per pair of groups (sources and destinations that policies treat alike).
    Class,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DefaultDenyStyle {
    /// A NetworkPolicy in the namespace.
    Networkpolicy,
    /// The cluster's BaselineAdminNetworkPolicy.
    Baseline,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum QuarantineStyle {
    /// An AdminNetworkPolicy at priority 0.
    Admin,
    /// A CiliumNetworkPolicy with ingressDeny and egressDeny.
    Cilium,
    /// A deny-all NetworkPolicy (additive: others still allow).
    Networkpolicy,
}

#[derive(Subcommand, Debug)]
pub enum GenerateCommand {
    /// Deny all ingress and egress in a namespace, keeping DNS to kube-dns open.
    #[command(after_help = "Examples:\n  \
        palisade netpol generate default-deny -n shop\n  \
        # a cluster default that the namespace's own NetworkPolicies open\n  \
        palisade netpol generate default-deny -n shop --style baseline")]
    DefaultDeny {
        /// The namespace the policy is for.
        #[arg(long, short = 'n')]
        namespace: String,
        /// networkpolicy (a NetworkPolicy in the namespace) or baseline (the cluster's
        /// BaselineAdminNetworkPolicy: applies where no NetworkPolicy isolates a pod, so the
        /// namespace opens what it needs with its own NetworkPolicies).
        #[arg(long, value_enum, default_value_t = DefaultDenyStyle::Networkpolicy)]
        style: DefaultDenyStyle,
    },
    /// Isolate one workload completely (incident response).
    #[command(after_help = "Examples:\n  \
        palisade netpol generate quarantine shop/deployment/web k8s/ | kubectl \\\n      \
        apply -f -\n  \
        # on a Cilium cluster without AdminNetworkPolicy\n  \
        palisade netpol generate quarantine shop/deployment/web --style cilium k8s/")]
    Quarantine {
        /// NS/KIND/NAME of the workload.
        workload: String,
        /// admin (an AdminNetworkPolicy at the highest priority: no NetworkPolicy can open
        /// it), cilium (a CiliumNetworkPolicy deny, which wins over every allow) or
        /// networkpolicy (a deny-all NetworkPolicy, which other NetworkPolicies still open).
        #[arg(long, value_enum, default_value_t = QuarantineStyle::Admin)]
        style: QuarantineStyle,
        #[command(flatten)]
        input: NetInput,
    },
    /// Allow egress anywhere except the cloud metadata endpoint 169.254.169.254.
    DenyMetadata {
        /// The namespace the policy is for.
        #[arg(long, short = 'n')]
        namespace: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people: code frames, colours on a TTY.
    Text,
    /// The versioned JSON contract (also what --baseline reads).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// Markdown, for pull-request comments.
    Markdown,
    /// One self-contained HTML page with charts and a filterable table.
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  \
        # every *.yaml, *.yml, *.json below k8s/ (honours .gitignore)\n  \
        palisade scan k8s/\n  \
        kustomize build overlays/prod | palisade scan -\n  \
        # exactly what Pod Security Admission enforces at baseline on Kubernetes 1.29\n  \
        palisade scan --select pss --pss-level baseline --pss-version v1.29 k8s/\n  \
        palisade scan --ignore PAL-PSS-015,pss-run-as-user k8s/\n  \
        palisade scan --fail-on high --format json --output report.json k8s/\n  \
        # upload to GitHub code scanning\n  \
        palisade scan --format sarif -o palisade.sarif .\n  \
        palisade scan --write-baseline .palisade-baseline.json k8s/\n  \
        # only findings that are new\n  \
        palisade scan --baseline .palisade-baseline.json k8s/\n  \
        # the cluster of the current kubeconfig context\n  \
        palisade scan --cluster\n  \
        palisade scan --cluster --context prod -n shop -n payments --format sarif \\\n      \
        -o prod.sarif\n\
        \n\
        Live clusters: every rule, suppression and format works as for files. Findings name the cluster and object and keep the field path, without a line. Secrets are read as metadata only. The server's version is the default --pss-version. `palisade snapshot --print-role` prints the read-only ClusterRole a scan needs; kinds it may not list are errors (exit 2), the rest is still reported.\n\
        \n\
        Configuration: the nearest .palisade.yaml at or above the first PATH (or --config FILE); flags override it. `palisade config schema` prints its JSON Schema.\n\
        \n\
        Suppressions (each needs a reason; --strict honours only config exceptions):\n  \
        metadata.annotations:  palisade.dev/ignore: \"PAL-PSS-002,pss-run-as-user\"\n                         \
        palisade.dev/ignore-reason: \"why\"   palisade.dev/ignore-expires: \"2027-01-31\"\n                         \
        palisade.dev/ignore.<container>: ...  (one container only)\n  \
        a comment on the line: privileged: true  # palisade:ignore PAL-PSS-002 expires=2027-01-31 why\n  \
        config exceptions:     exceptions: [{rules: [...], kind, namespace, name: \"glob*\", labels, reason, expires}]\n\
        \n\
        Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 usage, configuration or input errors (findings for the inputs that loaded are still reported).")]
pub struct ScanArgs {
    /// Files, directories or `-` for stdin [default: standard input when it is a pipe or a
    /// redirected file (`cat pod.yaml | palisade scan`), else .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Only run these rules: codes, code prefixes, names, name prefixes (`rbac`, `netpol`),
    /// categories or framework tags (`pss`, `PSS:baseline`, `cis`), comma-separated or repeated.
    #[arg(long, value_name = "RULES")]
    pub select: Vec<String>,

    /// Do not run these rules (same forms as --select).
    #[arg(long, value_name = "RULES")]
    pub ignore: Vec<String>,

    /// Exit with 1 when an unsuppressed finding of this severity or worse is reported
    /// [default: info, or fail-on in the config].
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Pod Security Standards level to check: baseline, or restricted (which includes
    /// baseline) [default: restricted].
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub pss_level: Option<Level>,

    /// Kubernetes version whose Pod Security Standards apply: v1.0 to v1.37, or latest
    /// [default: latest].
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub pss_version: Option<Version>,

    /// Read the configuration from FILE instead of the nearest .palisade.yaml.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Use no configuration file.
    #[arg(long)]
    pub no_config: bool,

    /// Honour only the config file's exceptions, not annotations or comments in manifests.
    #[arg(long)]
    pub strict: bool,

    /// Report only findings that are not in FILE (a JSON report from an earlier scan, e.g.
    /// written by --write-baseline). Findings match by fingerprint, which survives line shifts.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Also write every current finding to FILE as a JSON report, for a later --baseline;
    /// the run exits 0 (it accepts them), or 2 when the input did not load.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Never show a progress bar (it only appears on a terminal, for scans of many files).
    #[arg(long)]
    pub no_progress: bool,

    /// When to use colours in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Group text output under CIS Kubernetes Benchmark section headings.
    #[arg(long, value_enum, value_name = "FRAMEWORK")]
    pub group_by: Option<GroupBy>,

    /// Order of the findings [default: severity for text, markdown and html; location for
    /// json, sarif and junit].
    #[arg(long, value_enum, value_name = "ORDER")]
    pub sort: Option<SortOrder>,

    /// Render a Helm chart (`helm template`) or Kustomize directory (`kubectl kustomize`) and
    /// scan the result; findings point at the chart's templates. Repeatable; needs helm or
    /// kubectl on PATH.
    #[arg(long, value_name = "DIR")]
    pub render: Vec<PathBuf>,

    /// ValidatingAdmissionPolicies (with their bindings and parameters) to judge every object
    /// against, besides those in the input: the platform team's policy repository (repeat).
    #[arg(long, value_name = "PATH")]
    pub policies: Vec<String>,

    /// Exit 0 when the input holds no Kubernetes object at all (by default that is an error,
    /// exit 2: an empty file, an empty stdin or a directory without manifests in CI usually
    /// means the wrong path).
    #[arg(long)]
    pub allow_empty: bool,

    /// Do not assume Kubernetes' default RBAC roles and bindings (admin, edit, view,
    /// cluster-admin, system:*) exist.
    #[arg(long)]
    pub no_bootstrap: bool,

    /// Vulnerability reports of the images (Trivy `--format json`, Grype `-o json`, CycloneDX
    /// with vulnerabilities; trivy-operator's VulnerabilityReports in the input count too):
    /// findings on a workload the internet gets into that runs an image with a critical fixable
    /// or known exploited vulnerability are raised a level, and attack paths say how the
    /// attacker gets in. Repeatable; nothing is downloaded.
    #[arg(long, value_name = "FILE")]
    pub vulnerabilities: Vec<PathBuf>,

    /// Kubernetes releases (end-of-life dates) and their vulnerabilities (OSV records), in the
    /// shape of the bundled crates/palisade-analysis/data/kubernetes-releases.json: newer data
    /// than this build's (PAL-VER-001, PAL-VER-002).
    #[arg(long, value_name = "FILE")]
    pub k8s_data: Option<PathBuf>,

    /// Judge end-of-life dates on DATE (YYYY-MM-DD) instead of today: "are we still supported
    /// next quarter?"
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<palisade_model::Date>,

    #[command(flatten)]
    pub source: ClusterSource,

    /// Report on objects in these namespaces only (repeat or comma-separate); with --cluster,
    /// namespaced kinds are only listed there (cluster-scoped ones always are: the analyses need
    /// them).
    #[arg(long = "namespace", short = 'n', value_name = "NS")]
    pub namespaces: Vec<String>,

    /// The namespace objects that name none are applied to (`kubectl apply -n NS`). Without
    /// it they go to `default`, each project its own: every PATH given, and each directory
    /// below one holding a kustomization.yaml (its `namespace` when it sets one), Chart.yaml
    /// or .git, so that two projects' manifests are never judged as one namespace.
    #[arg(long, value_name = "NS", conflicts_with = "cluster", value_parser = parse_namespace)]
    pub default_namespace: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum RbacCommand {
    /// Whether a subject may do something, as `kubectl auth can-i` answers: yes (exit 0) or no
    /// (exit 1).
    #[command(after_help = "Examples:\n  \
        palisade rbac can-i list secrets -n shop --as \\\n      \
        system:serviceaccount:shop:web k8s/\n  \
        palisade rbac can-i create deployments.apps --as alice --as-group dev -n \\\n      \
        shop k8s/\n  \
        palisade rbac can-i create pods --subresource exec --as bob -n ops dump.yaml\n  \
        palisade rbac can-i get /metrics --as \\\n      \
        system:serviceaccount:monitoring:prometheus k8s/\n  \
        palisade rbac can-i get secrets/db-password --as alice -n shop --format \\\n      \
        json k8s/\n\
        \n\
        Without -n the question is cluster-wide: only ClusterRoleBindings count.")]
    CanI(CanIArgs),
    /// Every subject allowed to do something, with the binding and role that allow it.
    #[command(after_help = "Examples:\n  \
        palisade rbac who-can get secrets -n shop k8s/\n  \
        palisade rbac who-can create pods --subresource exec -n prod --format json \\\n      \
        dump.yaml")]
    WhoCan(WhoCanArgs),
    /// A subject's effective rules, per namespace.
    #[command(after_help = "Examples:\n  \
        palisade rbac show system:serviceaccount:ci:deployer k8s/\n  \
        palisade rbac show alice --as-group dev k8s/")]
    Show(ShowArgs),
    /// The shortest escalation path from every non-system subject to cluster-admin.
    #[command(after_help = "Examples:\n  \
        palisade rbac paths k8s/\n  \
        palisade rbac paths --to node --format dot k8s/ | dot -Tsvg > paths.svg\n  \
        palisade rbac paths --format mermaid dump.yaml")]
    Paths(PathsArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AnswerFormat {
    Text,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct PolicyInput {
    /// Manifests, directories, `kubectl get -A -o yaml` dumps or `-` (one of them, or
    /// --cluster, is required).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    #[command(flatten)]
    pub source: ClusterSource,

    /// Write the answer to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Do not assume Kubernetes' default RBAC roles and bindings exist (with --cluster they
    /// never are: the cluster's own roles are read).
    #[arg(long)]
    pub no_bootstrap: bool,
}

#[derive(Args, Debug)]
pub struct CanIArgs {
    /// The verb: get, list, watch, create, update, patch, delete, impersonate, bind, ...
    pub verb: String,
    /// TYPE[/NAME] as kubectl takes it (pods, deployments.apps, secrets/db), or a /path.
    #[arg(value_name = "TYPE[/NAME]")]
    pub target: String,
    #[command(flatten)]
    pub input: PolicyInput,
    /// The subresource (exec, log, scale, status, token, ...).
    #[arg(long)]
    pub subresource: Option<String>,
    /// The user: a name, or system:serviceaccount:NAMESPACE:NAME.
    #[arg(long = "as", value_name = "SUBJECT", required = true)]
    pub as_user: String,
    /// Groups the user belongs to (repeatable); implicit groups are added as Kubernetes does.
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_groups: Vec<String>,
    /// The namespace; without it the question is cluster-wide.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Answer as text (yes/no) or JSON (the SubjectAccessReview-style answer and the grants).
    #[arg(long, value_enum, default_value_t = AnswerFormat::Text)]
    pub format: AnswerFormat,
}

#[derive(Args, Debug)]
pub struct WhoCanArgs {
    /// The verb: get, list, watch, create, update, patch, delete, impersonate, bind, ...
    pub verb: String,
    /// TYPE[/NAME] as kubectl takes it (pods, deployments.apps, secrets/db), or a /path.
    #[arg(value_name = "TYPE[/NAME]")]
    pub target: String,
    #[command(flatten)]
    pub input: PolicyInput,
    /// The subresource (exec, log, scale, status, token, ...).
    #[arg(long)]
    pub subresource: Option<String>,
    /// The namespace; without it only cluster-wide grants count.
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Answer as text (the subjects and the bindings that allow them) or JSON.
    #[arg(long, value_enum, default_value_t = AnswerFormat::Text)]
    pub format: AnswerFormat,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// A user name, or system:serviceaccount:NAMESPACE:NAME.
    pub subject: String,
    #[command(flatten)]
    pub input: PolicyInput,
    /// Groups the subject is a member of (repeatable), as kubectl's --as-group.
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_groups: Vec<String>,
    /// Answer as text (rules per namespace) or JSON.
    #[arg(long, value_enum, default_value_t = AnswerFormat::Text)]
    pub format: AnswerFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PathTarget {
    ClusterAdmin,
    Node,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PathsFormat {
    Text,
    Json,
    Dot,
    Mermaid,
}

#[derive(Args, Debug)]
pub struct PathsArgs {
    #[command(flatten)]
    pub input: PolicyInput,
    /// Where the paths lead.
    #[arg(long, value_enum, default_value_t = PathTarget::ClusterAdmin)]
    pub to: PathTarget,
    /// text (the steps), json, dot (Graphviz) or mermaid.
    #[arg(long, value_enum, default_value_t = PathsFormat::Text)]
    pub format: PathsFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// One line per rule: code, severity, name, category (`text` also works, as for the other
    /// commands).
    #[value(alias = "text")]
    Table,
    /// The rules and their metadata, for tools.
    Json,
    /// The reference page (docs/rules.md).
    Markdown,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
        palisade rules\n  \
        palisade rules --select PSS:restricted\n  \
        palisade rules --format markdown > docs/rules.md")]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,

    /// Config file whose custom rules are listed too (default: the nearest .palisade.yaml
    /// at or above the current directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Only list these rules (same forms as `scan --select`).
    #[arg(long, value_name = "RULES")]
    pub select: Vec<String>,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
        palisade explain PAL-PSS-002\n  \
        palisade explain pss-privileged")]
pub struct ExplainArgs {
    /// A rule code or name.
    #[arg(value_name = "CODE|NAME")]
    pub rule: String,

    /// Config file whose custom rules can be explained too (default: the nearest
    /// .palisade.yaml at or above the current directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Run every custom rule of DIR against its fixtures: for a rule file NAME.yaml, the
    /// YAML files under NAME/ beside it, whose lines marked `# expect: CODE` must be exactly
    /// the lines the rule reports. Exit 0 when all pass, 1 when one fails, 2 on a bad rule.
    #[command(after_help = "Example layout:\n  \
        policies/team-label.yaml          # a rule (or a list of rules)\n  \
        policies/team-label/fail.yaml     # `kind: Deployment  # expect: ACME-001`\n  \
        policies/team-label/pass.yaml     # no mark: no finding\n\n\
        Example:\n  \
        palisade policy test policies/")]
    Test(PolicyTestArgs),
    /// Write the rule catalog as ValidatingAdmissionPolicies and bindings: every selected
    /// built-in rule with a CEL form and every custom rule, in the API version the target
    /// Kubernetes version serves (v1alpha1 for 1.26-1.27 and v1beta1 for 1.28-1.29, both
    /// behind a feature gate; v1 from 1.30, the default). Rules CEL cannot express are named
    /// on stderr with the reason.
    #[command(after_help = "Examples:\n  \
        palisade policy export --select pss > policies.yaml\n  \
        palisade policy export --kubernetes-version v1.28 --action Warn\n  \
        kubectl apply -f policies.yaml")]
    Export(PolicyExportArgs),
}

#[derive(Args, Debug)]
pub struct PolicyExportArgs {
    /// Only these rules (same forms as `scan --select`); default: every rule.
    #[arg(long, value_name = "RULES")]
    pub select: Vec<String>,

    /// What the bindings do with a failed validation.
    #[arg(long, value_enum, default_value_t = ExportActionArg::Deny)]
    pub action: ExportActionArg,

    /// Config file whose custom rules are exported too (default: the nearest .palisade.yaml
    /// at or above the current directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Write here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportActionArg {
    #[value(name = "Deny")]
    Deny,
    #[value(name = "Warn")]
    Warn,
    #[value(name = "Audit")]
    Audit,
}

#[derive(Args, Debug)]
pub struct PolicyTestArgs {
    /// The directory of rule files (what the config's `custom-rules-dir` names).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse()
}

fn parse_version(s: &str) -> Result<Version, String> {
    s.parse()
}

/// A namespace name as the API server accepts it: an RFC 1123 label (lowercase letters,
/// digits and `-`, starting and ending with a letter or digit, at most 63 characters).
fn parse_namespace(s: &str) -> Result<String, String> {
    let valid = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if valid {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not a namespace name (lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters)"
        ))
    }
}

fn parse_date(s: &str) -> Result<palisade_model::Date, String> {
    palisade_model::Date::parse(s).ok_or_else(|| format!("`{s}` is not a YYYY-MM-DD date"))
}

/// `30s`, `2m`, `1h`, `500ms` or plain seconds, as kubectl's --request-timeout takes them.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("invalid duration `{s}` (expected 30s, 2m, 1h, 500ms or seconds)");
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(bad()),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_kubectl() {
        assert_eq!(
            parse_duration("30s"),
            Ok(std::time::Duration::from_secs(30))
        );
        assert_eq!(
            parse_duration("2m"),
            Ok(std::time::Duration::from_secs(120))
        );
        assert_eq!(
            parse_duration("500ms"),
            Ok(std::time::Duration::from_millis(500))
        );
        assert_eq!(parse_duration("5"), Ok(std::time::Duration::from_secs(5)));
        assert_eq!(parse_duration("0"), Ok(std::time::Duration::ZERO));
        assert!(parse_duration("soon").is_err() && parse_duration("3d").is_err());
    }
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    /// Every flag and argument of every subcommand says what it is for.
    #[test]
    fn every_argument_has_help() {
        let mut missing = Vec::new();
        let mut pending = vec![(String::from("palisade"), super::Cli::command())];
        while let Some((name, command)) = pending.pop() {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" || arg.is_hide_set() {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{name} {id}"));
                }
            }
            for sub in command.get_subcommands() {
                pending.push((format!("{name} {}", sub.get_name()), sub.clone()));
            }
        }
        assert!(missing.is_empty(), "without help: {missing:?}");
    }
}

/// `--from` of `palisade paths`.
fn parse_start(value: &str) -> Result<palisade_analysis::attack::Start, String> {
    use palisade_analysis::attack::Start;
    use palisade_analysis::rbac::{Subject, SubjectKind};
    if value == "internet" {
        return Ok(Start::Internet);
    }
    if value == "vulnerable" {
        return Ok(Start::Vulnerable);
    }
    let usage = "internet, vulnerable, workload:NS/KIND/NAME, sa:NS/NAME, user:NAME or group:NAME";
    let Some((kind, rest)) = value.split_once(':') else {
        return Err(format!("`{value}`: expected {usage}"));
    };
    let subject = |kind: SubjectKind, name: &str, namespace: Option<&str>| {
        Start::Subject(Subject {
            kind,
            name: name.to_string(),
            namespace: namespace.map(str::to_string),
        })
    };
    match kind {
        "workload" | "pod" => match rest.split('/').collect::<Vec<_>>()[..] {
            [namespace, kind, name] if !namespace.is_empty() && !name.is_empty() => {
                // As kubectl takes them: `deployment` is `Deployment`.
                const KINDS: &[&str] = &[
                    "Pod",
                    "Deployment",
                    "StatefulSet",
                    "DaemonSet",
                    "ReplicaSet",
                    "ReplicationController",
                    "Job",
                    "CronJob",
                ];
                let kind = KINDS
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(kind))
                    .map_or(kind.to_string(), |k| k.to_string());
                Ok(Start::Workload {
                    namespace: namespace.to_string(),
                    kind,
                    name: name.to_string(),
                })
            }
            [namespace, name] if !namespace.is_empty() && !name.is_empty() => Ok(Start::Workload {
                namespace: namespace.to_string(),
                kind: "Pod".to_string(),
                name: name.to_string(),
            }),
            _ => Err(format!(
                "`{value}`: expected workload:NS/KIND/NAME (shop/deployment/web)"
            )),
        },
        "sa" | "serviceaccount" => match rest.split_once('/') {
            Some((namespace, name)) if !namespace.is_empty() && !name.is_empty() => {
                Ok(subject(SubjectKind::ServiceAccount, name, Some(namespace)))
            }
            _ => Err(format!("`{value}`: expected sa:NS/NAME")),
        },
        "user" if !rest.is_empty() => Ok(subject(SubjectKind::User, rest, None)),
        "group" if !rest.is_empty() => Ok(subject(SubjectKind::Group, rest, None)),
        _ => Err(format!("`{value}`: expected {usage}")),
    }
}
