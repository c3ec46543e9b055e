//! `palisade`: the command line.

mod cli;
mod netpol_cmd;
mod rbac_cmd;
mod rules_cmd;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use cli::{Cli, ColorChoice, Command, OutputFormat, ScanArgs};
use palisade::{dedup_inputs, scan};
use palisade_load::discover;
use palisade_report::{render_text, write_json, TextOptions};
use palisade_rules::{Engine, Selection, Settings};

/// Exit codes: the contract in the README.
const EXIT_CLEAN: u8 = 0;
const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Scan(args) => run_scan(&args),
        Command::Rules(args) => rules_cmd::list(&args).map(|()| EXIT_CLEAN),
        Command::Explain(args) => rules_cmd::explain(&args),
        Command::Rbac(command) => rbac_cmd::run(&command),
        Command::Netpol(command) => netpol_cmd::run(&command),
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
fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

fn run_scan(args: &ScanArgs) -> Result<u8> {
    let settings = Settings {
        pss_level: args.pss_level,
        pss_version: args.pss_version,
        selection: Selection {
            select: split_list(&args.select),
            ignore: split_list(&args.ignore),
        },
        rbac_bootstrap: !args.no_bootstrap,
    };
    let engine = Engine::new(&settings)?;
    let paths = if args.paths.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    let (inputs, discovery_errors) = discover(&paths);
    let inputs = dedup_inputs(inputs);
    let report = scan(&inputs, &engine, discovery_errors);

    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("writing the report to {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match args.format {
        OutputFormat::Json => write_json(&report, env!("CARGO_PKG_VERSION"), &mut out)?,
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
            out.write_all(render_text(&report, TextOptions { color }).as_bytes())?;
        }
    }
    out.flush()?;

    let failing = report
        .findings
        .iter()
        .any(|f| f.suppressed.is_none() && f.severity >= args.fail_on);
    Ok(if !report.errors.is_empty() {
        EXIT_ERROR
    } else if failing {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}
