//! `palisade paths`: attack paths from the internet, as text or JSON.

use std::fmt::Write as _;

use anyhow::Result;
use palisade_analysis::attack::{self, AttackPath, Goal};
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
    let goal = match args.to {
        AttackTarget::ClusterAdmin => Goal::ClusterAdmin,
        AttackTarget::Node => Goal::Node,
    };
    let mut found = attack::from_internet(
        &inventory.rbac,
        &inventory.network,
        &inventory.exposures,
        goal,
    );
    if let Some(limit) = args.max_hops {
        found.retain(|path| path.hops.len() <= limit);
    }
    let text = match args.format {
        PathsOutput::Text => text(&found, goal),
        PathsOutput::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&as_json(&found, goal))?
        ),
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

fn text(paths: &[AttackPath], goal: Goal) -> String {
    let mut out = String::new();
    if paths.is_empty() {
        let _ = writeln!(
            out,
            "No path from the internet to {} in the input.",
            goal_name(goal)
        );
        return out;
    }
    for path in paths {
        let _ = writeln!(
            out,
            "the internet → {} in {} hops, through {}:",
            goal_name(goal),
            path.hops.len(),
            path.hops.get(1).map_or("", |h| h.reached.as_str())
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

fn as_json(paths: &[AttackPath], goal: Goal) -> Value {
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
            json!({"from": "internet", "to": goal_name(goal), "hops": hops})
        })
        .collect();
    json!({"paths": paths})
}
