//! Live clusters: `scan --cluster`, the inventories of `rbac`/`netpol --cluster`, and
//! `palisade snapshot`. The cluster crate lists; everything after is the same pipeline as for
//! files.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};
use palisade_analysis::InventoryBuilder;
use palisade_cluster::{
    read_only_role, reader_role, to_object, Cluster, ClusterError, ClusterOptions, Message,
    ReadOptions, SnapshotFormat, SnapshotWriter,
};
use palisade_engine::StreamScan;
use palisade_model::LoadError;
use palisade_report::{ClusterInfo, Report};

use crate::cli::{ClusterSource, ConnectionArgs, SnapshotArgs, SnapshotFormatArg};
use crate::{split_list, EXIT_CLEAN, EXIT_ERROR};

/// Connects as kubectl would; an unreachable server or rejected credentials end the command.
pub fn connect(args: &ConnectionArgs) -> Result<Cluster> {
    let options = ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        request_timeout: Some(args.request_timeout).filter(|t| !t.is_zero()),
    };
    Ok(Cluster::connect(&options)?)
}

pub fn info(cluster: &Cluster) -> ClusterInfo {
    ClusterInfo {
        context: cluster.context.clone(),
        server: cluster.server.clone(),
        version: cluster.version.git_version.clone(),
    }
}

/// A failed list as a report error: the context as the "file", the kind and cause as message.
fn load_error(error: &ClusterError) -> LoadError {
    let (file, message) = match error {
        ClusterError::Kind {
            context,
            resource,
            message,
            ..
        } => (
            format!("cluster {context}"),
            format!("{resource}: {message}"),
        ),
        other => ("cluster".to_string(), other.to_string()),
    };
    LoadError {
        file,
        document: None,
        line: None,
        column: None,
        message,
    }
}

/// Counts on stderr while a read goes on, on a terminal only.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    objects: u64,
}

impl Progress {
    fn new(show: bool, context: &str) -> Self {
        let show = show && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = show.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            let style = indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} reading cluster {context}: {{pos}}/{{len}} lists, {{msg}} [{{elapsed}}]"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Progress { bar, objects: 0 }
    }

    fn on(&mut self, message: &Message) {
        let Some(bar) = &self.bar else { return };
        match message {
            Message::Planned(lists) => bar.set_length(*lists as u64),
            Message::Items(items) => {
                self.objects += items.len() as u64;
                bar.set_message(format!("{} objects", self.objects));
            }
            Message::Listed { .. } | Message::Error(_) => bar.inc(1),
        }
    }

    fn done(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Reads the cluster and hands each page of objects to `each`; returns the lists that failed.
pub(crate) fn read_objects(
    cluster: &Cluster,
    options: &ReadOptions,
    progress: bool,
    each: &mut dyn FnMut(Vec<serde_json::Value>),
) -> Vec<LoadError> {
    let mut errors: Vec<LoadError> = Vec::new();
    let mut bar = Progress::new(progress, &cluster.context);
    cluster.read(options, &mut |message| {
        bar.on(&message);
        match message {
            Message::Items(items) => each(items),
            Message::Error(error) => errors.push(load_error(&error)),
            Message::Planned(_) | Message::Listed { .. } => {}
        }
    });
    bar.done();
    // Lists finish in the server's order; reports list their failures in a fixed one.
    errors.sort_by(|a, b| a.message.cmp(&b.message));
    errors
}

/// `scan --cluster`: every object through the scan pipeline as it arrives.
pub fn scan(
    cluster: &Cluster,
    pipeline: &palisade_engine::Pipeline,
    namespaces: &[String],
    connection: &ConnectionArgs,
    progress: bool,
) -> Report {
    let options = ReadOptions {
        namespaces: split_list(namespaces),
        page_size: connection.chunk_size,
        ..ReadOptions::default()
    };
    let mut scan = StreamScan::new(pipeline);
    scan.add_server_version(&cluster.version.git_version, &cluster.context);
    // One thread checks while the client's two read: on a machine shared with the API server
    // (or its node), checking pages in parallel measured slower, not faster.
    let errors = read_objects(cluster, &options, progress, &mut |page| {
        for value in &page {
            scan.add(&to_object(value));
        }
    });
    for error in errors {
        scan.error(error);
    }
    let mut report = scan.finish();
    report.cluster = Some(info(cluster));
    report
}

/// The inventory `rbac` and `netpol` answer from: the cluster's with `--cluster`, else the files
/// under `paths` (`.` when none). Load errors are printed here and returned, so the command
/// can answer from what loaded and still exit 2.
pub fn inventory(
    source: &ClusterSource,
    paths: &[String],
    bootstrap: bool,
) -> Result<(palisade_analysis::Inventory, Vec<LoadError>)> {
    let (inventory, errors) = if source.cluster {
        if !paths.is_empty() {
            anyhow::bail!("--cluster reads the cluster; it takes no paths");
        }
        load_inventory(&source.connection)?
    } else {
        let paths = if paths.is_empty() {
            vec![".".to_string()]
        } else {
            paths.to_vec()
        };
        let read = palisade_engine::load_inventory(&paths, bootstrap);
        for warning in &read.warnings {
            eprintln!("palisade: warning: {warning}");
        }
        (read.inventory, read.errors)
    };
    for error in &errors {
        eprintln!("palisade: error: {error}");
    }
    Ok((inventory, errors))
}

/// The analyses' inventory of a live cluster: its own RBAC objects, never the bundled
/// bootstrap policy.
fn load_inventory(args: &ConnectionArgs) -> Result<(palisade_analysis::Inventory, Vec<LoadError>)> {
    let cluster = connect(args)?;
    let mut builder = InventoryBuilder::default();
    let options = ReadOptions {
        page_size: args.chunk_size,
        ..ReadOptions::default()
    };
    let errors = read_objects(&cluster, &options, true, &mut |page| {
        for value in &page {
            builder.add(&to_object(value));
        }
    });
    Ok((builder.build(false), errors))
}

/// `palisade snapshot`.
pub fn snapshot(args: &SnapshotArgs) -> Result<u8> {
    if args.print_role {
        let mut extra = Vec::new();
        if args.with_custom_resources {
            let cluster = connect(&args.connection)?;
            let (found, errors) = cluster.custom_pod_resources();
            if let Some(error) = errors.first() {
                anyhow::bail!("{error}");
            }
            extra = found.into_iter().map(|r| (r.group, r.plural)).collect();
        }
        let mut out = std::io::stdout().lock();
        let role = if args.no_secrets {
            reader_role("palisade-reader", &extra, &["secrets"], &["list"])
        } else {
            read_only_role("palisade-reader", &extra)
        };
        out.write_all(role.as_bytes())?;
        out.flush()?;
        return Ok(EXIT_CLEAN);
    }
    let cluster = connect(&args.connection)?;
    let out: Box<dyn Write> = match &args.output {
        // A snapshot holds ConfigMap values and pods' environment: its owner's only.
        Some(path) => Box::new(std::io::BufWriter::new(
            create_private(path)
                .with_context(|| format!("writing the snapshot to {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let format = match args.format {
        SnapshotFormatArg::Yaml => SnapshotFormat::Yaml,
        SnapshotFormatArg::Json => SnapshotFormat::Json,
    };
    let header = vec![
        format!(
            "palisade snapshot of cluster {} ({}), Kubernetes {}",
            cluster.context, cluster.server, cluster.version.git_version
        ),
        format!(
            "scan it as the cluster: palisade scan --kubernetes-version v{}.{} FILE",
            cluster.version.major, cluster.version.minor
        ),
    ];
    let mut writer = SnapshotWriter::new(out, format, &header)?;
    // One list at a time: the file lists kinds in a fixed order, whatever the server's pace.
    let options = ReadOptions {
        namespaces: split_list(&args.namespaces),
        concurrency: 1,
        page_size: args.connection.chunk_size,
    };
    let mut written: std::io::Result<()> = Ok(());
    let errors = read_objects(&cluster, &options, true, &mut |page| {
        for value in &page {
            if written.is_ok() {
                written = writer.item(value);
            }
        }
    });
    written?;
    writer.finish()?;
    for error in &errors {
        eprintln!("palisade: error: {error}");
    }
    Ok(if errors.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_ERROR
    })
}

/// Creates (or truncates) `path` readable by its owner only (0600), from the moment it exists.
fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}
