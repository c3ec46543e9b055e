//! `palisade paths`: attack paths from the internet, as text or JSON.

use std::fmt::Write as _;

use anyhow::Result;
use palisade_analysis::attack::{self, AttackPath, Goal, Start};
use serde_json::{json, Value};

use crate::cli::{AttackPathsArgs, AttackTarget, PathsOutput};
use crate::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

pub fn run(args: &AttackPathsArgs) -> Result<u8> {
    crate::rbac_cmd::require_input(&args.input)?;
    let (inventory, errors) = crate::cluster_cmd::inventory(
        &args.input.source,
        &args.input.paths,
        !args.input.no_bootstrap,
    )?;
    if let Start::Workload {
        namespace,
        kind,
        name,
    } = &args.from
    {
        let known = inventory.rbac.workloads.iter().any(|w| {
            &w.namespace == namespace
                && w.object.kind.eq_ignore_ascii_case(kind)
                && &w.object.name == name
        });
        if !known {
            anyhow::bail!(
                "--from: no {kind} {namespace}/{name} in the input (a workload: Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, ...)"
            );
        }
    }
    let goal = match args.to {
        AttackTarget::ClusterAdmin => Goal::ClusterAdmin,
        AttackTarget::Node => Goal::Node,
    };
    let mut reports = read_vulnerability_reports(&args.vulnerabilities)?;
    // trivy-operator's VulnerabilityReports in the input (or the cluster) count too.
    reports.extend(inventory.image_reports.iter().cloned());
    if args.from == Start::Vulnerable && reports.is_empty() {
        anyhow::bail!("--from vulnerable needs the images' reports: --vulnerabilities FILE (Trivy, Grype or CycloneDX JSON), or trivy-operator's VulnerabilityReports in the input");
    }
    let mut found = attack::paths(
        &inventory.rbac,
        &inventory.network,
        &inventory.exposures,
        &reports,
        &args.from,
        goal,
    );
    if let Some(limit) = args.max_hops {
        found.retain(|path| path.hops.len() <= limit);
    }
    let from = &args.from;
    let text = match args.format {
        PathsOutput::Text => text(&found, from, goal),
        PathsOutput::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&as_json(&found, from, goal))?
        ),
        PathsOutput::Dot | PathsOutput::Mermaid => graph(&found, from, args.format),
    };
    crate::emit(args.input.output.as_deref(), &text)?;
    // As `rbac paths`: 1 when a path exists, which CI should see; 2 when input was lost.
    Ok(if !errors.is_empty() {
        EXIT_ERROR
    } else if found.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}

fn goal_name(goal: Goal) -> &'static str {
    match goal {
        Goal::ClusterAdmin => "cluster-admin",
        Goal::Node => "a node",
    }
}

fn place(hop: &attack::Hop) -> Option<String> {
    let source = hop.source.as_ref()?;
    Some(match &source.location {
        Some(l) => format!("{}:{}:{}", l.file, l.line, l.column),
        None => source.object.display_name(),
    })
}

fn text(paths: &[AttackPath], from: &Start, goal: Goal) -> String {
    let mut out = String::new();
    if paths.is_empty() {
        let _ = writeln!(
            out,
            "No path from {} to {} in the input.",
            from.display(),
            goal_name(goal)
        );
        return out;
    }
    for path in paths {
        let through = match from {
            Start::Internet => path.hops.get(1),
            _ => path.hops.first(),
        };
        let _ = writeln!(
            out,
            "{} → {} in {} hop{}, through {}:",
            from.display(),
            goal_name(goal),
            path.hops.len(),
            if path.hops.len() == 1 { "" } else { "s" },
            through.map_or("", |h| h.reached.as_str())
        );
        for (i, hop) in path.hops.iter().enumerate() {
            let at = place(hop).map_or(String::new(), |p| format!(" ({p})"));
            let _ = writeln!(
                out,
                "  {}. → {}: {}{at}",
                i + 1,
                hop.reached,
                hop.explanation
            );
        }
    }
    out
}

fn as_json(paths: &[AttackPath], from: &Start, goal: Goal) -> Value {
    let from = match from {
        Start::Internet => "internet".to_string(),
        other => other.display(),
    };
    let paths: Vec<Value> = paths
        .iter()
        .map(|path| {
            let hops: Vec<Value> = path
                .hops
                .iter()
                .map(|hop| {
                    let location = hop.source.as_ref().and_then(|s| s.location.as_ref()).map(
                        |l| json!({"file": l.file.as_ref(), "line": l.line, "column": l.column}),
                    );
                    json!({
                        "edge": hop.edge.as_str(),
                        "reached": hop.reached,
                        "object": hop.source.as_ref().map(|s| s.object.display_name()),
                        "location": location,
                        "explanation": hop.explanation,
                    })
                })
                .collect();
            json!({"from": from, "to": goal_name(goal), "hops": hops})
        })
        .collect();
    json!({"paths": paths})
}

/// The paths as one graph: every vertex a start, a hop's target or the goal, every edge a hop
/// (Graphviz's dot, or Mermaid's flowchart), each edge labelled with its kind.
fn graph(paths: &[AttackPath], from: &Start, format: PathsOutput) -> String {
    let start = from.display();
    let mut vertices: Vec<String> = vec![start.clone()];
    let mut edges: Vec<(usize, usize, &'static str)> = Vec::new();
    let vertex =
        |name: &str, vertices: &mut Vec<String>| match vertices.iter().position(|v| v == name) {
            Some(i) => i,
            None => {
                vertices.push(name.to_string());
                vertices.len() - 1
            }
        };
    for path in paths {
        let mut at = 0;
        for hop in &path.hops {
            let to = vertex(&hop.reached, &mut vertices);
            if !edges.iter().any(|&(f, t, _)| f == at && t == to) {
                edges.push((at, to, hop.edge.as_str()));
            }
            at = to;
        }
    }
    let label = |s: &str| s.replace('"', "'");
    let mut out = String::new();
    if format == PathsOutput::Dot {
        out.push_str("digraph attack_paths {\n  rankdir=LR;\n  node [shape=box];\n");
        for (i, name) in vertices.iter().enumerate() {
            let _ = writeln!(out, "  v{i} [label=\"{}\"];", label(name));
        }
        for (from, to, edge) in &edges {
            let _ = writeln!(out, "  v{from} -> v{to} [label=\"{edge}\"];");
        }
        out.push_str("}\n");
    } else {
        out.push_str("flowchart LR\n");
        for (i, name) in vertices.iter().enumerate() {
            let _ = writeln!(out, "  v{i}[\"{}\"]", label(name));
        }
        for (from, to, edge) in &edges {
            let _ = writeln!(out, "  v{from} -->|{edge}| v{to}");
        }
    }
    out
}

/// `--vulnerabilities FILE...`: the images' vulnerability reports (Trivy, Grype, CycloneDX).
pub(crate) fn read_vulnerability_reports(
    files: &[std::path::PathBuf],
) -> Result<Vec<palisade_analysis::vulns::ImageReport>> {
    let mut reports = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        reports.push(
            palisade_analysis::vulns::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
        );
    }
    Ok(reports)
}
