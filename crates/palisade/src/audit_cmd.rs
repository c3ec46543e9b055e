//! `palisade audit detect | roles | unused`.

use std::io::Write;

use anyhow::{bail, Context, Result};
use palisade_audit::observed::{roles_yaml, unused, Observed};
use palisade_model::LoadError;
use serde_json::json;

use crate::cli::{AnswerFormat, AuditCommand, AuditRolesArgs, AuditUnusedArgs};
use crate::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

pub fn run(command: &AuditCommand) -> Result<u8> {
    match command {
        AuditCommand::Detect(args) => crate::scan_cmd::run_audit_detect(args),
        AuditCommand::Roles(args) => roles(args),
        AuditCommand::Unused(args) => unused_rules(args),
    }
}

/// The subject's allowed requests in the logs; read errors go to stderr.
fn observe(subject: &str, paths: &[String]) -> (Observed, Vec<LoadError>) {
    let mut observed = Observed::new(subject);
    let (read, errors) =
        palisade_audit::read_events(paths, &mut |event, _| observed.observe(&event));
    for skipped in &read.skipped {
        eprintln!("palisade: warning: {skipped}");
    }
    for error in &errors {
        eprintln!("palisade: error: {error}");
    }
    (observed, errors)
}

fn roles(args: &AuditRolesArgs) -> Result<u8> {
    let (observed, errors) = observe(&args.subject, &args.paths);
    if observed.requests.is_empty() && observed.denied.is_empty() {
        bail!(
            "no request by {} in the audit logs, allowed or denied: check the name (service accounts are system:serviceaccount:NAMESPACE:NAME)",
            args.subject
        );
    }
    let with_denied = args.denied || observed.allowed_nothing_of_its_own();
    let text = roles_yaml(&observed, args.names, with_denied);
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(if errors.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_ERROR
    })
}

fn unused_rules(args: &AuditUnusedArgs) -> Result<u8> {
    let (inventory, rbac_errors) =
        crate::cluster_cmd::inventory(&args.source, &args.rbac, !args.no_bootstrap)?;
    let (observed, log_errors) = observe(&args.subject, &args.paths);
    let policy = &inventory.rbac.policy;
    let found = unused(policy, &observed);
    let mut out = String::new();
    match args.format {
        AnswerFormat::Text => {
            if found.is_empty() {
                out.push_str(&format!(
                    "{} used every rule it is granted ({} allowed requests {}).\n",
                    args.subject,
                    observed.events,
                    observed.window()
                ));
            } else {
                out.push_str(&format!(
                    "{} never used these granted rules ({} allowed requests {}):\n",
                    args.subject,
                    observed.events,
                    observed.window()
                ));
            }
            for item in &found {
                let rule = item.rule;
                let place = rule
                    .source
                    .location
                    .as_ref()
                    .map(|l| format!("{}:{}:{}", l.file, l.line, l.column))
                    .unwrap_or_else(|| "Kubernetes' default policy".to_string());
                let what = if rule.non_resource_urls.is_empty() {
                    format!(
                        "{} on {} ({})",
                        rule.verbs.join(","),
                        rule.resources.join(","),
                        rule.api_groups
                            .iter()
                            .map(|g| if g.is_empty() { "core" } else { g.as_str() })
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                } else {
                    format!(
                        "{} on {}",
                        rule.verbs.join(","),
                        rule.non_resource_urls.join(",")
                    )
                };
                out.push_str(&format!(
                    "  {} → {} {}: rule {} grants {what} ({place})\n",
                    item.binding.display(),
                    item.role.kind(),
                    item.role.name,
                    rule.path.as_str()
                ));
            }
        }
        AnswerFormat::Json => {
            let rules: Vec<_> = found
                .iter()
                .map(|item| {
                    json!({
                        "binding": item.binding.source.object,
                        "role": {"kind": item.role.kind(), "name": item.role.name},
                        "rule": {
                            "object": item.rule.source.object,
                            "path": item.rule.path,
                            "location": item.rule.source.location,
                            "verbs": item.rule.verbs,
                            "apiGroups": item.rule.api_groups,
                            "resources": item.rule.resources,
                            "resourceNames": item.rule.resource_names,
                            "nonResourceURLs": item.rule.non_resource_urls,
                        },
                    })
                })
                .collect();
            let body = json!({
                "subject": args.subject,
                "requests": observed.events,
                "from": observed.first,
                "to": observed.last,
                "unused": rules,
            });
            out.push_str(&serde_json::to_string_pretty(&body)?);
            out.push('\n');
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(if !rbac_errors.is_empty() || !log_errors.is_empty() {
        EXIT_ERROR
    } else if found.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}
