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
    after_help = "Examples:\n  palisade scan deploy/                 scan a directory of manifests\n  \
                  helm template app ./chart | palisade scan -\n  \
                  palisade scan --format json -o report.json k8s/\n  \
                  palisade rules                        list every rule\n  \
                  palisade explain pss-privileged       show one rule's documentation\n\n\
                  Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage or input errors."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan manifests (files, directories, `-` for stdin) and report findings.
    Scan(ScanArgs),
    /// List the rules.
    Rules(RulesArgs),
    /// Print a rule's documentation.
    Explain(ExplainArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    palisade scan k8s/                          every *.yaml, *.yml, *.json below k8s/ (honours .gitignore)\n  \
    kustomize build overlays/prod | palisade scan -\n  \
    palisade scan --select pss --pss-level baseline --pss-version v1.29 k8s/\n                                              \
    exactly what Pod Security Admission enforces at baseline on Kubernetes 1.29\n  \
    palisade scan --ignore PAL-PSS-015,pss-run-as-user k8s/\n  \
    palisade scan --fail-on high --format json --output report.json k8s/\n\n\
    Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it;\n\
    2 usage, configuration or input errors (findings for the inputs that loaded are still reported).")]
pub struct ScanArgs {
    /// Files, directories or `-` for stdin [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Only run these rules: codes, code prefixes, names, categories or framework tags
    /// (`pss`, `PSS:baseline`, `cis`), comma-separated or repeated.
    #[arg(long, value_name = "RULES")]
    pub select: Vec<String>,

    /// Do not run these rules (same forms as --select).
    #[arg(long, value_name = "RULES")]
    pub ignore: Vec<String>,

    /// Exit with 1 when a finding of this severity or worse is reported.
    #[arg(long, value_name = "LEVEL", default_value = "info", value_parser = parse_severity)]
    pub fail_on: Severity,

    /// Pod Security Standards level to check: baseline, or restricted (which includes baseline).
    #[arg(long, value_name = "LEVEL", default_value = "restricted", value_parser = parse_level)]
    pub pss_level: Level,

    /// Kubernetes version whose Pod Security Standards apply: v1.0 to v1.37, or latest.
    #[arg(long, value_name = "VERSION", default_value = "latest", value_parser = parse_version)]
    pub pss_version: Version,

    /// When to use colours in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  palisade rules\n  palisade rules --select PSS:restricted\n  \
    palisade rules --format markdown > docs/rules.md"
)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,

    /// Only list these rules (same forms as `scan --select`).
    #[arg(long, value_name = "RULES")]
    pub select: Vec<String>,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  palisade explain PAL-PSS-002\n  palisade explain pss-privileged"
)]
pub struct ExplainArgs {
    /// A rule code or name.
    #[arg(value_name = "CODE|NAME")]
    pub rule: String,
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
