//! `palisade rbac can-i | who-can | show | paths`.

use std::fmt::Write as _;

use anyhow::Result;
use palisade_analysis::rbac::paths::{EscalationPath, Graph, Identity};
use palisade_analysis::rbac::resources::{parse_target, Target};
use palisade_analysis::rbac::{Grant, Inventory, Request, Subject, UserInfo};
use palisade_model::LoadError;
use serde_json::{json, Value};

use crate::cli::{
    AnswerFormat, CanIArgs, PathTarget, PathsArgs, PathsFormat, PolicyInput, RbacCommand, ShowArgs,
    WhoCanArgs,
};

const EXIT_YES: u8 = 0;
const EXIT_NO: u8 = 1;
const EXIT_ERROR: u8 = 2;

pub fn run(command: &RbacCommand) -> Result<u8> {
    match command {
        RbacCommand::CanI(args) => can_i(args),
        RbacCommand::WhoCan(args) => who_can(args),
        RbacCommand::Show(args) => show(args),
        RbacCommand::Paths(args) => paths(args),
    }
}

/// Loads the policy; load errors go to stderr and turn the exit code into 2 at the end.
fn load(input: &PolicyInput) -> Result<(Inventory, Vec<LoadError>)> {
    require_input(input)?;
    let (inventory, errors) =
        crate::cluster_cmd::inventory(&input.source, &input.paths, !input.no_bootstrap)?;
    Ok((inventory.rbac, errors))
}

/// `rbac` and `netpol` answer about what they are given: a path, `-` or `--cluster`, never the
/// current directory by default (an answer about nothing looks like a real "no").
pub(crate) fn require_input(input: &PolicyInput) -> Result<()> {
    if input.paths.is_empty() && !input.source.cluster {
        anyhow::bail!("no input: give manifests, a directory, a dump, - for stdin, or --cluster");
    }
    Ok(())
}

/// The request a kubectl-style question asks, with kubectl's warnings on stderr: a type
/// Palisade does not know is asked about as written, and `-n` on a cluster-scoped resource
/// is ignored (a real request for it carries no namespace, so no RoleBinding grants it).
fn request(
    verb: &str,
    target: &str,
    subresource: Option<&str>,
    namespace: Option<&str>,
) -> Result<Request> {
    const KNOWN_VERBS: &[&str] = &[
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
        "use",
        "bind",
        "impersonate",
        "escalate",
        "approve",
        "sign",
        "proxy",
        "*",
    ];
    // A non-resource URL (`/healthz`, `/logs`) is asked with the request's HTTP verb.
    const HTTP_VERBS: &[&str] = &[
        "get", "post", "put", "patch", "delete", "head", "options", "*",
    ];
    let parsed = parse_target(target);
    let known = match parsed.target {
        Target::NonResource(_) => HTTP_VERBS,
        Target::Resource { .. } => KNOWN_VERBS,
    };
    if !known.contains(&verb) {
        let hint = palisade_rules::did_you_mean(verb, known.iter().copied())
            .map_or(String::new(), |s| format!(" (did you mean '{s}'?)"));
        eprintln!("Warning: verb '{verb}' is not a known verb{hint}");
    }
    if let Some(warning) = &parsed.warning {
        eprintln!("Warning: {warning}");
    }
    Ok(match parsed.target {
        Target::NonResource(path) => Request::NonResource {
            verb: verb.to_string(),
            path,
        },
        Target::Resource {
            group,
            resource,
            name,
        } => {
            let request = Request::Resource {
                verb: verb.to_string(),
                group: group.clone(),
                resource: resource.clone(),
                subresource: subresource.unwrap_or_default().to_string(),
                name,
                namespace: namespace.map(str::to_string),
            };
            if namespace.is_some() && request.is_cluster_scoped() {
                let in_group = if group.is_empty() {
                    String::new()
                } else {
                    format!(" in group '{group}'")
                };
                eprintln!("Warning: resource '{resource}' is not namespace scoped{in_group}");
            }
            request
        }
    })
}

fn grant_json(grant: &Grant<'_>) -> Value {
    json!({
        "binding": grant.binding.source.object,
        "role": {"kind": grant.role.kind(), "name": grant.role.name},
        "rule": {
            "object": grant.rule.source.object,
            "path": grant.rule.path,
            "location": grant.rule.source.location,
            "verbs": grant.rule.verbs,
            "apiGroups": grant.rule.api_groups,
            "resources": grant.rule.resources,
            "resourceNames": grant.rule.resource_names,
            "nonResourceURLs": grant.rule.non_resource_urls,
        },
        "bootstrap": grant.binding.source.bootstrap,
        "description": grant.describe(),
    })
}

fn finish(answer: u8, errors: &[LoadError]) -> u8 {
    if errors.is_empty() {
        answer
    } else {
        EXIT_ERROR
    }
}

fn can_i(args: &CanIArgs) -> Result<u8> {
    let output = args.input.output.as_deref();
    let request = request(
        &args.verb,
        &args.target,
        args.subresource.as_deref(),
        args.namespace.as_deref(),
    )?;
    let (inventory, errors) = load(&args.input)?;
    let user = UserInfo::new(&args.as_user, &args.as_groups);
    let grants = inventory.policy.grants(&user, &request);
    let allowed = !grants.is_empty();
    match args.format {
        AnswerFormat::Text => crate::emit(output, if allowed { "yes\n" } else { "no\n" })?,
        AnswerFormat::Json => {
            let reasons: Vec<Value> = grants.iter().map(grant_json).collect();
            let body = json!({"allowed": allowed, "user": {"name": user.name, "groups": user.groups}, "reasons": reasons});
            crate::emit_json(output, &body)?;
        }
    }
    Ok(finish(if allowed { EXIT_YES } else { EXIT_NO }, &errors))
}

fn subject_json(subject: &Subject) -> Value {
    json!({"kind": subject.kind.as_str(), "name": subject.name, "namespace": subject.namespace})
}

fn who_can(args: &WhoCanArgs) -> Result<u8> {
    let output = args.input.output.as_deref();
    let request = request(
        &args.verb,
        &args.target,
        args.subresource.as_deref(),
        args.namespace.as_deref(),
    )?;
    let (inventory, errors) = load(&args.input)?;
    let found = inventory.policy.who_can(&request);
    match args.format {
        AnswerFormat::Json => {
            let subjects: Vec<Value> = found
                .iter()
                .map(|(subject, grants)| {
                    let mut value = subject_json(subject);
                    value["via"] = Value::Array(grants.iter().map(grant_json).collect());
                    value
                })
                .collect();
            crate::emit_json(output, &json!({"subjects": subjects}))?;
        }
        AnswerFormat::Text => {
            let mut out = String::new();
            if found.is_empty() {
                out.push_str("No subject is allowed.\n");
            }
            for (subject, grants) in &found {
                let _ = writeln!(out, "{}", subject.display());
                let mut seen: Vec<String> = Vec::new();
                for grant in grants {
                    let line = grant.describe();
                    if !seen.contains(&line) {
                        let _ = writeln!(out, "  via {line}");
                        seen.push(line);
                    }
                }
            }
            crate::emit(output, &out)?;
        }
    }
    Ok(finish(EXIT_YES, &errors))
}

fn show(args: &ShowArgs) -> Result<u8> {
    let output = args.input.output.as_deref();
    let (inventory, errors) = load(&args.input)?;
    let user = UserInfo::new(&args.subject, &args.as_groups);
    let policy = &inventory.policy;
    let mut scopes: Vec<(String, Vec<Value>, Vec<String>)> = Vec::new();
    for binding in policy.bindings_for(&user) {
        let scope = match (&binding.namespace, binding.cluster) {
            (Some(ns), false) => format!("namespace {ns}"),
            _ => "cluster-wide".to_string(),
        };
        let Some(role) = policy.role_of(binding) else {
            continue;
        };
        let index = match scopes.iter().position(|(s, _, _)| *s == scope) {
            Some(i) => i,
            None => {
                scopes.push((scope, Vec::new(), Vec::new()));
                scopes.len() - 1
            }
        };
        for rule in policy.rules_of(role) {
            let grant = Grant {
                binding,
                role,
                rule,
            };
            let mut line = String::new();
            if rule.non_resource_urls.is_empty() {
                let groups: Vec<&str> = rule
                    .api_groups
                    .iter()
                    .map(|g| if g.is_empty() { "core" } else { g.as_str() })
                    .collect();
                let _ = write!(
                    line,
                    "{} {} ({})",
                    rule.verbs.join(","),
                    rule.resources.join(","),
                    groups.join(",")
                );
                if !rule.resource_names.is_empty() {
                    let _ = write!(line, " named {}", rule.resource_names.join(","));
                }
            } else {
                let _ = write!(
                    line,
                    "{} {}",
                    rule.verbs.join(","),
                    rule.non_resource_urls.join(",")
                );
            }
            let _ = write!(line, "  via {}", grant.describe());
            scopes[index].1.push(grant_json(&grant));
            scopes[index].2.push(line);
        }
    }
    scopes.sort_by(|a, b| (a.0 != "cluster-wide", &a.0).cmp(&(b.0 != "cluster-wide", &b.0)));
    match args.format {
        AnswerFormat::Json => {
            let body: Vec<Value> = scopes
                .iter()
                .map(|(scope, rules, _)| json!({"scope": scope, "rules": rules}))
                .collect();
            let doc = json!({"user": {"name": user.name, "groups": user.groups}, "scopes": body});
            crate::emit_json(output, &doc)?;
        }
        AnswerFormat::Text => {
            let mut out = format!("{} (groups: {})\n", user.name, user.groups.join(", "));
            if scopes.is_empty() {
                out.push_str("  no bindings apply\n");
            }
            for (scope, _, lines) in &scopes {
                let _ = writeln!(out, "{scope}:");
                for line in lines {
                    let _ = writeln!(out, "  {line}");
                }
            }
            crate::emit(output, &out)?;
        }
    }
    Ok(finish(EXIT_YES, &errors))
}

fn identity_json(identity: &Identity) -> Value {
    match identity {
        Identity::Subject(s) => subject_json(s),
        Identity::Node => json!({"kind": "Node"}),
        Identity::ClusterAdmin => json!({"kind": "ClusterAdmin"}),
        Identity::Capability(capability, namespace) => {
            json!({"kind": "Capability", "capability": format!("{capability:?}"), "namespace": namespace})
        }
    }
}

fn node_id(identity: &Identity) -> String {
    let raw = identity.display();
    let cleaned: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("n_{cleaned}")
}

fn render_paths(
    paths: &[EscalationPath],
    format: PathsFormat,
    target: &Identity,
) -> Result<String> {
    let mut out = String::new();
    match format {
        PathsFormat::Text => {
            if paths.is_empty() {
                let _ = writeln!(out, "No subject can reach {}.", target.display());
            }
            for path in paths {
                let _ = writeln!(
                    out,
                    "{} → {} in {} step{}:",
                    path.start.display(),
                    target.display(),
                    path.steps.len(),
                    if path.steps.len() == 1 { "" } else { "s" }
                );
                for (i, step) in path.steps.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "  {}. {} {} → {}",
                        i + 1,
                        step.from.display(),
                        step.reason,
                        step.to.display()
                    );
                }
            }
        }
        PathsFormat::Json => {
            let body: Vec<Value> = paths
                .iter()
                .map(|p| {
                    let steps: Vec<Value> = p
                        .steps
                        .iter()
                        .map(|s| json!({"from": identity_json(&s.from), "to": identity_json(&s.to), "reason": s.reason}))
                        .collect();
                    json!({"start": subject_json(&p.start), "steps": steps})
                })
                .collect();
            out = format!(
                "{}\n",
                serde_json::to_string_pretty(
                    &json!({"target": identity_json(target), "paths": body})
                )?
            );
        }
        PathsFormat::Dot | PathsFormat::Mermaid => {
            let mut edges: Vec<(&Identity, &Identity, &str)> = Vec::new();
            for step in paths.iter().flat_map(|p| &p.steps) {
                if !edges
                    .iter()
                    .any(|(f, t, _)| *f == &step.from && *t == &step.to)
                {
                    edges.push((&step.from, &step.to, &step.reason));
                }
            }
            let mut nodes: Vec<&Identity> = edges.iter().flat_map(|(f, t, _)| [*f, *t]).collect();
            nodes.sort();
            nodes.dedup();
            let escape = |s: &str| s.replace('"', "'");
            if format == PathsFormat::Dot {
                out.push_str("digraph escalation {\n  rankdir=LR;\n  node [shape=box];\n");
                for node in &nodes {
                    let _ = writeln!(
                        out,
                        "  {} [label=\"{}\"];",
                        node_id(node),
                        escape(&node.display())
                    );
                }
                for (from, to, reason) in &edges {
                    let _ = writeln!(
                        out,
                        "  {} -> {} [tooltip=\"{}\"];",
                        node_id(from),
                        node_id(to),
                        escape(reason)
                    );
                }
                out.push_str("}\n");
            } else {
                out.push_str("flowchart LR\n");
                for node in &nodes {
                    let _ = writeln!(out, "  {}[\"{}\"]", node_id(node), escape(&node.display()));
                }
                for (from, to, _) in &edges {
                    let _ = writeln!(out, "  {} --> {}", node_id(from), node_id(to));
                }
            }
        }
    }
    Ok(out)
}

fn paths(args: &PathsArgs) -> Result<u8> {
    let output = args.input.output.as_deref();
    let (inventory, errors) = load(&args.input)?;
    let target = match args.to {
        PathTarget::ClusterAdmin => Identity::ClusterAdmin,
        PathTarget::Node => Identity::Node,
    };
    let graph = Graph::build(&inventory);
    let found = graph.paths_to(&target, |s| !s.is_system());
    crate::emit(output, &render_paths(&found, args.format, &target)?)?;
    // Like can-i: 1 says "yes, there is a way there", which CI should see.
    Ok(finish(
        if found.is_empty() { EXIT_YES } else { EXIT_NO },
        &errors,
    ))
}
