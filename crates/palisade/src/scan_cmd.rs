//! `palisade scan`: flags and config resolved into one pipeline, the scan, the report.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use palisade_analysis::pss::Version;
use palisade_engine::config::{self, LoadedConfig};
use palisade_engine::{node, Extras, Keep, Outcome, Overrides, Pipeline, ScanRequest, Verdict};
use palisade_model::Severity;
use palisade_report::{
    summary_line, write_html, write_json, write_junit, write_markdown, write_sarif, write_text,
    Report, SarifOptions, TextOptions,
};

use crate::cli::{
    AuditDetectArgs, ColorChoice, GroupBy, NodeArgs, OutputFormat, ScanArgs, SortOrder,
};
use crate::{cluster_cmd, split_list, EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

/// Progress bars only for scans with at least this many files.
const PROGRESS_MIN_FILES: usize = 200;

fn load_config(args: &ScanArgs, paths: &[String]) -> Result<LoadedConfig> {
    if args.no_config {
        return Ok(LoadedConfig::default());
    }
    let file = match &args.config {
        Some(file) => Some(file.clone()),
        None => {
            let first = paths.first().map_or(".", String::as_str);
            let start = if first == "-" { "." } else { first };
            config::discover(Path::new(start))
        }
    };
    match file {
        Some(file) => Ok(config::load(&file)?),
        None => Ok(LoadedConfig::default()),
    }
}

/// Flags over config over defaults.
fn pipeline(
    args: &ScanArgs,
    loaded: &LoadedConfig,
    kubernetes_version: Option<Version>,
) -> Result<(Pipeline, Severity)> {
    pipeline_with(args, loaded, kubernetes_version, None)
}

/// [`pipeline`], judging every object against `admission` policies too.
fn pipeline_with(
    args: &ScanArgs,
    loaded: &LoadedConfig,
    kubernetes_version: Option<Version>,
    admission: Option<std::sync::Arc<palisade_analysis::admission::Policies>>,
) -> Result<(Pipeline, Severity)> {
    let flags = Overrides {
        admission,
        pss_level: args.pss_level,
        pss_version: args.pss_version,
        kubernetes_version,
        select: split_list(&args.select),
        ignore: split_list(&args.ignore),
        strict: args.strict,
        fail_on: args.fail_on,
        no_bootstrap: args.no_bootstrap,
        releases: match &args.k8s_data {
            Some(path) => Some(std::sync::Arc::new(read_release_data(path)?)),
            None => None,
        },
        as_of: args.as_of,
        image_reports: std::sync::Arc::new(crate::paths_cmd::read_vulnerability_reports(
            &args.vulnerabilities,
        )?),
    };
    let (mut pipeline, fail_on) = palisade_engine::build_pipeline(loaded, &flags)?;
    pipeline.code_frames = matches!(
        args.format,
        OutputFormat::Text | OutputFormat::Sarif | OutputFormat::Html
    );
    Ok((pipeline, fail_on))
}

/// `--k8s-data FILE`: Kubernetes releases and vulnerabilities newer than the bundled ones.
fn read_release_data(path: &Path) -> Result<palisade_analysis::releases::ReleaseData> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --k8s-data {}", path.display()))?;
    palisade_analysis::releases::ReleaseData::parse(&text)
        .with_context(|| format!("--k8s-data {}", path.display()))
}

/// The fingerprints of a JSON report written by an earlier scan.
fn read_baseline(path: &Path) -> Result<HashSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the baseline {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "the baseline {} is not a Palisade JSON report",
            path.display()
        )
    })?;
    let Some(findings) = value.get("findings").and_then(|f| f.as_array()) else {
        bail!(
            "the baseline {} has no `findings` list; write one with --write-baseline",
            path.display()
        );
    };
    Ok(findings
        .iter()
        .filter_map(|f| f.get("fingerprint").and_then(|p| p.as_str()))
        .map(str::to_string)
        .collect())
}

/// A progress bar on standard error for scans of many files, when it is a terminal and not CI.
struct Bar {
    wanted: bool,
    bar: std::sync::OnceLock<indicatif::ProgressBar>,
}

impl Bar {
    fn new(args: &ScanArgs) -> Self {
        Bar {
            wanted: !args.no_progress
                && std::io::stderr().is_terminal()
                && std::env::var_os("CI").is_none(),
            bar: std::sync::OnceLock::new(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

impl palisade_engine::Progress for Bar {
    fn start(&self, files: usize) {
        if !self.wanted || files < PROGRESS_MIN_FILES {
            return;
        }
        let bar = indicatif::ProgressBar::new(u64::try_from(files).unwrap_or(u64::MAX));
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} scanning {pos}/{len} files [{bar:30}] {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        // Drawn at once, so even a scan that ends quickly showed where it was.
        bar.tick();
        let _ = self.bar.set(bar);
    }

    fn advance(&self) {
        if let Some(bar) = self.bar.get() {
            bar.inc(1);
        }
    }
}

/// The working directory as a `file://` URI ending in `/`, for SARIF's `%SRCROOT%`.
fn source_root() -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let text = cwd.to_str()?;
    let uri = palisade_report::relative_uri(text);
    Some(format!("file://{}/", uri.trim_end_matches('/')))
}

fn write_report(report: &Report, args: &ScanArgs, out: &mut dyn Write) -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    match args.format {
        OutputFormat::Json => write_json(report, version, out)?,
        OutputFormat::Sarif => {
            let options = SarifOptions {
                source_root: source_root(),
            };
            write_sarif(report, version, &options, out)?;
        }
        OutputFormat::Junit => write_junit(report, out)?,
        OutputFormat::Markdown => write_markdown(report, out)?,
        OutputFormat::Html => write_html(report, version, out)?,
        OutputFormat::Text => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    args.output.is_none()
                        && std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none()
                }
            };
            write_text(
                report,
                TextOptions {
                    color,
                    group_by_cis: args.group_by == Some(GroupBy::Cis),
                },
                out,
            )?;
        }
    }
    Ok(())
}

fn create(path: &Path, what: &str) -> Result<Box<dyn Write>> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("writing the {what} to {}", path.display()))?;
    Ok(Box::new(std::io::BufWriter::new(file)))
}

pub fn run(args: &ScanArgs, kubernetes_version: Option<Version>) -> Result<u8> {
    if args.source.cluster {
        return run_cluster(args, kubernetes_version);
    }
    if args.source.connection.context.is_some() || args.source.connection.kubeconfig.is_some() {
        bail!("--context and --kubeconfig choose a cluster: add --cluster to scan it");
    }
    let implicit_stdin = args.paths.is_empty() && args.render.is_empty() && stdin_is_piped();
    let paths = if implicit_stdin {
        vec!["-".to_string()]
    } else if args.paths.is_empty() && args.render.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    let loaded = load_config(args, &paths)?;
    // Admission policies are read first, wherever they stand, so every object meets them.
    let mut policy_paths = paths.clone();
    policy_paths.extend(args.policies.iter().cloned());
    // Policies are compiled as the target Kubernetes version would (flag, then config).
    let target = kubernetes_version.or_else(|| {
        loaded
            .config
            .kubernetes_version
            .as_ref()
            .and_then(|v| v.parse::<Version>().ok())
    });
    let (policies, policy_errors) = palisade_engine::load_admission_policies(&policy_paths, target);
    let admission = (!policies.is_empty()).then(|| std::sync::Arc::new(policies));
    let (pipeline, fail_on) = pipeline_with(args, &loaded, kubernetes_version, admission)?;
    let rendered: Vec<crate::render::Rendered> = args
        .render
        .iter()
        .map(|dir| crate::render::render(dir))
        .collect::<Result<_>>()?;
    let bar = Bar::new(args);
    let outcome = palisade_engine::run(
        &pipeline,
        ScanRequest {
            paths,
            more_inputs: rendered
                .iter()
                .map(|r| palisade_engine::MoreInput {
                    input: palisade_load::Input::File(r.path().to_path_buf()),
                    project: Some(r.dir().to_path_buf()),
                })
                .collect(),
            default_namespace: args.default_namespace.clone(),
            extras: Extras::default(),
            errors: policy_errors,
            rendered_from: &|note| rendered.iter().any(|r| r.covers(Path::new(&note.file))),
            relocate: &|report| {
                for rendered in &rendered {
                    rendered.map_back(report);
                }
            },
            keep: keep(args)?,
            progress: &bar,
        },
    );
    bar.finish();
    // A pipe that brought nothing (a CI step whose stdin is an empty pipe) must not pass as
    // a clean scan of nothing.
    let report = &outcome.report;
    if implicit_stdin && report.summary.objects == 0 && report.summary.errors == 0 {
        bail!("no path given and standard input brought no Kubernetes object: give the files or directories to scan (`palisade scan .` for the current directory)");
    }
    finish(outcome, fail_on, args, None)
}

/// What the report keeps, from `--namespace`, `--baseline` and `--write-baseline`.
fn keep(args: &ScanArgs) -> Result<Keep> {
    Ok(Keep {
        namespaces: split_list(&args.namespaces),
        baseline: args.baseline.as_deref().map(read_baseline).transpose()?,
        unbaselined: args.write_baseline.is_some(),
    })
}

/// Whether standard input is a pipe or a redirected file, as ripgrep decides whether to read
/// it when no path is given: `cat pod.yaml | palisade scan` and `palisade scan < pod.yaml`
/// read it; a terminal or /dev/null does not, and the current directory is scanned.
fn stdin_is_piped() -> bool {
    if std::io::stdin().is_terminal() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata("/dev/stdin").is_ok_and(|m| {
            let kind = m.file_type();
            kind.is_fifo() || kind.is_file() || kind.is_socket()
        })
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// `scan --cluster`: the config is looked up from the working directory, and the server's
/// version is the default Pod Security version.
fn run_cluster(args: &ScanArgs, kubernetes_version: Option<Version>) -> Result<u8> {
    if !args.paths.is_empty() {
        bail!("scan --cluster reads the cluster; it takes no paths (scan a snapshot file without --cluster)");
    }
    let loaded = load_config(args, &[".".to_string()])?;
    let cluster = cluster_cmd::connect(&args.source.connection)?;
    let mut args = args.clone();
    if args.pss_version.is_none() && loaded.config.pss.version.is_none() {
        let server = Version::new(cluster.version.major, cluster.version.minor);
        // A server older than Pod Security itself is judged by the oldest rules; a newer one
        // by the newest this build knows.
        args.pss_version = (cluster.version.major == 1).then_some(server.min(Version::LATEST));
    }
    // The cluster's own RBAC objects are read: the bundled bootstrap policy would only repeat
    // them, or invent ones the cluster does not have.
    args.no_bootstrap = true;
    let server = (cluster.version.major == 1)
        .then(|| Version::new(1, cluster.version.minor).min(Version::LATEST));
    let kubernetes_version = kubernetes_version.or(server);
    // The cluster's own admission policies (and those of --policies), read first.
    let (policies, policy_errors) =
        cluster_admission_policies(&cluster, &args.policies, kubernetes_version);
    let admission = (!policies.is_empty()).then(|| std::sync::Arc::new(policies));
    let (pipeline, fail_on) = pipeline_with(&args, &loaded, kubernetes_version, admission)?;
    let mut report = cluster_cmd::scan(
        &cluster,
        &pipeline,
        &args.namespaces,
        &args.source.connection,
        !args.no_progress,
    );
    report.errors.extend(policy_errors);
    report.summary.errors = report.errors.len();
    let outcome = palisade_engine::finish(&pipeline, report, &keep(&args)?);
    finish(outcome, fail_on, &args, None)
}

/// The cluster's ValidatingAdmissionPolicies and bindings, the files of `--policies`, and the
/// Namespaces and parameter objects they can see.
fn cluster_admission_policies(
    cluster: &palisade_cluster::Cluster,
    extra: &[String],
    kubernetes_version: Option<Version>,
) -> (
    palisade_analysis::admission::Policies,
    Vec<palisade_model::LoadError>,
) {
    let (mut policies, mut errors) =
        palisade_engine::load_admission_policies(extra, kubernetes_version);
    let cluster_error = |e: palisade_cluster::ClusterError| palisade_model::LoadError {
        file: format!("cluster {}", cluster.context),
        document: None,
        line: None,
        column: None,
        message: e.to_string(),
    };
    match cluster.admission_policies() {
        Ok(found) => {
            for value in &found {
                policies.add_policy_or_binding(&palisade_cluster::to_object(value));
            }
        }
        // Credentials that may not list policies: said, and the rest is judged (the role
        // `palisade snapshot --print-role` prints includes them).
        Err(e) if e.to_string().contains("403") => eprintln!(
            "palisade: warning: the cluster's ValidatingAdmissionPolicies are not judged: {e}"
        ),
        Err(e) => errors.push(cluster_error(e)),
    }
    if policies.is_empty() {
        return (policies, errors);
    }
    let mut collections = vec!["/api/v1/namespaces".to_string()];
    for (api_version, kind) in policies.param_kinds() {
        let plural = palisade_analysis::admission::plural(&kind);
        collections.push(if api_version.contains('/') {
            format!("/apis/{api_version}/{plural}")
        } else {
            format!("/api/{api_version}/{plural}")
        });
    }
    for collection in collections {
        match cluster.list_all(&collection) {
            Ok(items) => {
                let (api_version, kind) = kind_of_collection(&collection, &policies);
                for mut item in items {
                    if let Some(map) = item.as_object_mut() {
                        map.insert("apiVersion".into(), api_version.clone().into());
                        map.insert("kind".into(), kind.clone().into());
                    }
                    policies.add_context(&palisade_cluster::to_object(&item));
                }
            }
            Err(e) => errors.push(cluster_error(e)),
        }
    }
    (policies, errors)
}

/// The (apiVersion, kind) a collection URL of [`cluster_admission_policies`] lists.
fn kind_of_collection(
    collection: &str,
    policies: &palisade_analysis::admission::Policies,
) -> (String, String) {
    if collection == "/api/v1/namespaces" {
        return ("v1".into(), "Namespace".into());
    }
    policies
        .param_kinds()
        .into_iter()
        .find(|(api, kind)| {
            collection.ends_with(&format!(
                "{api}/{}",
                palisade_analysis::admission::plural(kind)
            ))
        })
        .unwrap_or_default()
}

/// Writes the report (and baseline) as `args` ask, and picks the exit code; `empty_message`
/// says what is wrong when nothing was found to check.
fn finish(
    outcome: Outcome,
    fail_on: Severity,
    args: &ScanArgs,
    empty_message: Option<&str>,
) -> Result<u8> {
    let Outcome {
        mut report,
        unbaselined,
    } = outcome;
    if let (Some(path), Some(whole)) = (&args.write_baseline, &unbaselined) {
        let mut out = create(path, "baseline")?;
        write_json(whole, env!("CARGO_PKG_VERSION"), &mut out)?;
        out.flush()?;
    }

    // People read reports top down: the most severe first. Machines get the documented
    // order, by place.
    let by_severity = match args.sort {
        Some(order) => order == SortOrder::Severity,
        None => matches!(
            args.format,
            OutputFormat::Text | OutputFormat::Markdown | OutputFormat::Html
        ),
    };
    if by_severity {
        report
            .findings
            .sort_by_key(|f| std::cmp::Reverse(f.severity));
    }

    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => create(path, "report")?,
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    write_report(&report, args, &mut out)?;
    out.flush()?;
    if let Some(path) = &args.output {
        // The report went to a file: the terminal still hears how it went.
        eprintln!(
            "palisade: {}; report written to {}",
            summary_line(&report),
            path.display()
        );
    }

    let verdict = palisade_engine::verdict(
        &report,
        fail_on,
        args.write_baseline.is_some(),
        args.allow_empty,
    );
    // The process ends with this command: freeing a large report one finding at a time (a
    // quarter of a million allocations and more) only delays the exit, so the memory is left
    // to the operating system.
    std::mem::forget(report);
    Ok(match verdict {
        Verdict::Clean => EXIT_CLEAN,
        Verdict::Findings => EXIT_FINDINGS,
        Verdict::Errors => EXIT_ERROR,
        Verdict::Empty => {
            eprintln!(
                "palisade: error: {}",
                empty_message
                    .unwrap_or("no Kubernetes object in the input (--allow-empty accepts that)")
            );
            EXIT_ERROR
        }
    })
}

/// `palisade audit detect`: the audit-log rules over audit logs, reported as a scan is.
pub fn run_audit_detect(args: &AuditDetectArgs) -> Result<u8> {
    let scan = &args.scan;
    if scan.paths.is_empty() {
        bail!("palisade audit detect needs audit logs: files, directories, or - for stdin");
    }
    let loaded = load_config(scan, &[".".to_string()])?;
    let mut scan_args = scan.clone();
    if scan_args.select.is_empty() {
        scan_args.select = vec!["audit-log".to_string()];
    }
    let (pipeline, fail_on) = pipeline(&scan_args, &loaded, None)?;
    if !pipeline.engine.checks_audit_events() {
        bail!("--select leaves no audit-log rule (PAL-AL-*) to run");
    }
    let report = palisade_engine::scan_audit_logs(&scan.paths, &pipeline);
    let outcome = palisade_engine::finish(&pipeline, report, &keep(&scan_args)?);
    finish(
        outcome,
        fail_on,
        &scan_args,
        Some("no audit event in the input (--allow-empty accepts that)"),
    )
}

/// The rule families `palisade node` runs unless told otherwise.
const NODE_RULES: &[&str] = &["control-plane", "kubelet", "encryption", "audit", "node"];

pub fn run_node(args: &NodeArgs) -> Result<u8> {
    if !args.scan.paths.is_empty() || args.scan.source.cluster {
        bail!("palisade node reads the files below --root DIR; it takes no paths and no --cluster");
    }
    if !args.root.is_dir() {
        bail!("--root {}: not a directory", args.root.display());
    }
    let loaded = load_config(&args.scan, &[".".to_string()])?;
    let mut scan_args = args.scan.clone();
    if scan_args.select.is_empty() && loaded.config.select.is_empty() {
        scan_args.select = NODE_RULES.iter().map(|r| r.to_string()).collect();
    }
    let (pipeline, fail_on) = pipeline(&scan_args, &loaded, None)?;
    let found = node::discover(&args.root);
    let mut outcome = palisade_engine::run(
        &pipeline,
        ScanRequest {
            paths: Vec::new(),
            more_inputs: found.inputs.into_iter().map(Into::into).collect(),
            default_namespace: None,
            extras: Extras {
                objects: found.objects,
                files: found.files,
                ..Extras::default()
            },
            errors: Vec::new(),
            rendered_from: &|_| false,
            relocate: &|_| {},
            keep: keep(&scan_args)?,
            progress: &palisade_engine::Quiet,
        },
    );
    outcome.report.absent = found.absent;
    outcome.report.summary.warnings += found.warnings.len();
    outcome.report.warnings.extend(found.warnings);
    let not_a_node = format!(
        "{} holds no control-plane or kubelet file Palisade knows: not a Kubernetes node (or the wrong --root)",
        args.root.display()
    );
    let report = &outcome.report;
    let empty = report.summary.objects == 0 && report.findings.is_empty();
    finish(
        outcome,
        fail_on,
        &scan_args,
        empty.then_some(not_a_node.as_str()),
    )
}
