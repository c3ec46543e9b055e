//! `palisade`: the command line.

mod admit_cmd;
mod audit_cmd;
mod cli;
mod cluster_cmd;
mod netpol_cmd;
mod operator_cmd;
mod rbac_cmd;
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
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Scan(args) => scan_cmd::run(&args, cli.kubernetes_version),
        Command::Node(args) => scan_cmd::run_node(&args),
        Command::Config(ConfigCommand::Schema) => std::io::stdout()
            .lock()
            .write_all(palisade_engine::config::schema().as_bytes())
            .map(|()| EXIT_CLEAN)
            .map_err(anyhow::Error::from),
        Command::Rules(args) => rules_cmd::list(&args).map(|()| EXIT_CLEAN),
        Command::Explain(args) => rules_cmd::explain(&args),
        Command::Rbac(command) => rbac_cmd::run(&command),
        Command::Netpol(command) => netpol_cmd::run(&command),
        Command::Snapshot(args) => cluster_cmd::snapshot(&args),
        Command::Admit(args) => admit_cmd::run_admit(&args, cli.kubernetes_version),
        Command::Operator(args) => operator_cmd::run_operator(&args, cli.kubernetes_version),
        Command::Audit(command) => audit_cmd::run(&command),
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
