//! `palisade`: the command line.

mod admit_cmd;
mod allocator;
mod audit_cmd;
mod cli;
mod cluster_cmd;
mod fix_cmd;
mod netpol_cmd;
mod operator_cmd;
mod paths_cmd;
mod policy_cmd;
mod rbac_cmd;
mod render;
mod rules_cmd;
mod scan_cmd;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, ConfigCommand};

/// Exit codes: the contract in the README.
pub(crate) const EXIT_CLEAN: u8 = 0;
pub(crate) const EXIT_FINDINGS: u8 = 1;
pub(crate) const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    allocator::return_large_allocations_when_freed();
    allocator::one_heap_per_core();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Scan(args) => scan_cmd::run(&args, cli.kubernetes_version),
        Command::Fix(args) => fix_cmd::run(&args, cli.kubernetes_version),
        Command::Node(args) => scan_cmd::run_node(&args),
        Command::Config(ConfigCommand::Schema) => std::io::stdout()
            .lock()
            .write_all(palisade_engine::config::schema().as_bytes())
            .map(|()| EXIT_CLEAN)
            .map_err(anyhow::Error::from),
        Command::Rules(args) => rules_cmd::list(&args).map(|()| EXIT_CLEAN),
        Command::Policy(command) => policy_cmd::run(&command, cli.kubernetes_version),
        Command::Explain(args) => rules_cmd::explain(&args),
        Command::Rbac(command) => rbac_cmd::run(&command),
        Command::Netpol(command) => netpol_cmd::run(&command),
        Command::Snapshot(args) => cluster_cmd::snapshot(&args),
        Command::Admit(args) => admit_cmd::run_admit(&args, cli.kubernetes_version),
        Command::Operator(args) => operator_cmd::run_operator(&args, cli.kubernetes_version),
        Command::Audit(command) => audit_cmd::run(&command),
        Command::Version(args) => print_version(&args.format),
        Command::Paths(args) => paths_cmd::run(&args),
        Command::Completions(args) => {
            let mut command = <cli::Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "palisade", &mut script);
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(&script).and_then(|()| stdout.flush()) {
                // `palisade completions bash | head` closed the pipe: nothing left to say.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(EXIT_CLEAN),
                other => other.map(|()| EXIT_CLEAN).map_err(Into::into),
            }
        }
        Command::Man(args) => write_man_pages(&args.dir).map(|()| EXIT_CLEAN),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(EXIT_CLEAN),
        Err(err) => {
            eprintln!("palisade: error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Comma-separated and repeated values, flattened.
pub(crate) fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// `palisade.1`, and `palisade-<sub>.1` for every subcommand (and theirs), into `dir`.
fn write_man_pages(dir: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let command = <cli::Cli as clap::CommandFactory>::command();
    let mut pending = vec![("palisade".to_string(), command)];
    let mut written = 0;
    while let Some((name, command)) = pending.pop() {
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            let sub_name = format!("{name}-{}", sub.get_name());
            pending.push((sub_name, sub.clone()));
        }
        let path = dir.join(format!("{name}.1"));
        let mut out = Vec::new();
        clap_mangen::Man::new(command.clone().display_name(name.clone()))
            .title(name.to_uppercase())
            .render(&mut out)?;
        std::fs::write(&path, out).with_context(|| format!("writing {}", path.display()))?;
        written += 1;
    }
    eprintln!(
        "palisade: wrote {written} manual pages to {}",
        dir.display()
    );
    Ok(())
}

/// Writes a command's answer to `output` (a file) or to standard output; a closed pipe
/// (`| head`) ends the answer quietly.
pub(crate) fn emit(output: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("writing the answer to {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            quiet_pipe(
                stdout
                    .write_all(text.as_bytes())
                    .and_then(|()| stdout.flush()),
            )
        }
    }
}

/// [`emit`] of a JSON answer, pretty-printed, with a final newline.
pub(crate) fn emit_json(
    output: Option<&std::path::Path>,
    body: &serde_json::Value,
) -> anyhow::Result<()> {
    emit(
        output,
        &format!("{}\n", serde_json::to_string_pretty(body)?),
    )
}

/// Where a streamed answer goes: the file of `-o`, or standard output.
pub(crate) fn answer_writer(
    output: Option<&std::path::Path>,
) -> anyhow::Result<Box<dyn std::io::Write>> {
    use anyhow::Context;
    Ok(match output {
        Some(path) => Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::fs::File::create(path)
                .with_context(|| format!("writing the answer to {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        )),
    })
}

/// A closed pipe (`| head`) ends an answer quietly.
pub(crate) fn quiet_pipe(result: std::io::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Into::into),
    }
}

/// The API server's CIDRs for a component's NetworkPolicy: as given (each checked), else the
/// documented default.
/// `palisade version`: what a bug report or an install script needs to know of this binary.
fn print_version(format: &str) -> anyhow::Result<u8> {
    let version = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": option_env!("PALISADE_COMMIT").unwrap_or("unknown"),
        "buildDate": option_env!("PALISADE_BUILD_DATE").unwrap_or("unknown"),
        "target": env!("PALISADE_TARGET"),
        "rules": palisade_rules::registry::RULES.len(),
    });
    let text = if format == "json" {
        format!("{version:#}\n")
    } else {
        format!(
            "palisade {} (commit {}, built {}) for {}; {} rules\n",
            version["version"].as_str().unwrap_or_default(),
            version["commit"].as_str().unwrap_or_default(),
            version["buildDate"].as_str().unwrap_or_default(),
            version["target"].as_str().unwrap_or_default(),
            version["rules"]
        )
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(EXIT_CLEAN)
}

/// The config an install ships in its ConfigMap: the file given, checked as the component
/// will load it (a config the pods would refuse is refused here), else the default.
pub(crate) fn component_config(given: Option<&std::path::Path>) -> anyhow::Result<String> {
    let Some(path) = given else {
        return Ok(palisade_cluster::DEFAULT_COMPONENT_CONFIG.to_string());
    };
    palisade_engine::config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}

pub(crate) fn api_server_cidrs(given: &[String]) -> anyhow::Result<Vec<String>> {
    if given.is_empty() {
        return Ok(palisade_cluster::DEFAULT_API_SERVER_CIDRS
            .iter()
            .map(|c| c.to_string())
            .collect());
    }
    for cidr in given {
        let valid = cidr.contains('/') && palisade_analysis::netpol::Cidr::parse(cidr).is_some();
        if !valid {
            anyhow::bail!("--api-server-cidr {cidr}: not a CIDR (`10.0.0.0/8`, `192.0.2.10/32`)");
        }
    }
    Ok(given.to_vec())
}
