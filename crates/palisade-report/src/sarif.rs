//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One `rule` per rule that ran (help from its docs, severity and controls as properties),
//! results with a physical location (relative URI under `%SRCROOT%`, line, column, snippet), a
//! logical location naming the object, related locations for the other objects involved,
//! `partialFingerprints` that survive line shifts, and suppressions.

use serde_json::{json, Map, Value};

use crate::{Report, RuleInfo};
use palisade_model::{Finding, Location, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
use crate::INFORMATION_URI;

/// How file names become URIs.
#[derive(Clone, Debug, Default)]
pub struct SarifOptions {
    /// The directory relative file names are relative to, as a `file://` URI ending in `/`
    /// (the working directory); `None` leaves `%SRCROOT%` to the consumer.
    pub source_root: Option<String>,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub ranks security alerts by this number (CVSS-like, 0.0-10.0).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A file name as a relative URI reference: forward slashes, `./` dropped, and every byte
/// outside RFC 3986's unreserved set and `/` percent-encoded.
pub fn relative_uri(file: &str) -> String {
    let file = file.replace('\\', "/");
    let mut file = file.as_str();
    while let Some(rest) = file.strip_prefix("./") {
        file = rest;
    }
    let mut out = String::with_capacity(file.len());
    for byte in file.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn physical_location(location: &Location, snippet: Option<&str>) -> Option<Value> {
    if &*location.file == "-" {
        return None;
    }
    let absolute = location.file.starts_with('/');
    let mut artifact = Map::new();
    if absolute {
        artifact.insert(
            "uri".into(),
            Value::String(format!("file://{}", relative_uri(&location.file))),
        );
    } else {
        artifact.insert("uri".into(), Value::String(relative_uri(&location.file)));
        artifact.insert("uriBaseId".into(), Value::String("%SRCROOT%".into()));
    }
    let mut region = json!({
        "startLine": location.line,
        "startColumn": location.column,
    });
    if let Some(text) = snippet {
        region["snippet"] = json!({ "text": text });
    }
    Some(json!({ "artifactLocation": artifact, "region": region }))
}

/// `Deployment shop/web spec.template...` style name: the object, then the field pointer.
fn qualified(object: &str, path: &str) -> String {
    if path.is_empty() {
        object.to_string()
    } else {
        format!("{object} {path}")
    }
}

fn rule_descriptor(rule: &RuleInfo) -> Value {
    let mut tags = vec![
        Value::String("security".into()),
        Value::String(rule.category.into()),
    ];
    tags.extend(rule.controls.iter().map(|c| Value::String((*c).into())));
    json!({
        "id": rule.code,
        "name": rule.name,
        "shortDescription": { "text": rule.summary },
        "fullDescription": { "text": rule.summary },
        "help": { "text": rule.docs, "markdown": rule.docs },
        "helpUri": crate::rule_help_uri(rule.code),
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "tags": tags,
            "precision": "high",
            "security-severity": security_severity(rule.severity),
            "severity": rule.severity.as_str(),
            "category": rule.category,
            "controls": rule.controls,
        }
    })
}

/// The category of rules whose findings are chains (their related places are the hops).
const ATTACK_PATHS: &str = "attack-paths";

/// One result; `cluster` names the context of a live scan, whose findings have no file.
fn result(finding: &Finding, rule_index: Option<usize>, cluster: Option<&str>) -> Value {
    let object = finding.object.display_name();
    let live = cluster.filter(|_| finding.location.is_none());
    let mut location = Map::new();
    if let Some(physical) = finding
        .location
        .as_ref()
        .and_then(|l| physical_location(l, finding.snippet.as_deref()))
    {
        location.insert("physicalLocation".into(), physical);
    }
    location.insert(
        "logicalLocations".into(),
        json!([{
            "fullyQualifiedName": match live {
                Some(context) => format!("{context}/{}", qualified(&object, finding.path.as_str())),
                None => qualified(&object, finding.path.as_str()),
            },
            "name": finding.object.name,
            "kind": "resource",
        }]),
    );
    let related: Vec<Value> = finding
        .related()
        .iter()
        .enumerate()
        .map(|(i, related)| {
            let mut entry = json!({
                "id": i + 1,
                "message": { "text": related.message },
                "logicalLocations": [{
                    "fullyQualifiedName":
                        qualified(&related.object.display_name(), related.path.as_str()),
                    "kind": "resource",
                }],
            });
            if let Some(physical) = related
                .location
                .as_ref()
                .and_then(|l| physical_location(l, None))
            {
                entry["physicalLocation"] = physical;
            }
            entry
        })
        .collect();
    let mut result = json!({
        "ruleId": finding.rule.code,
        "level": level(finding.severity),
        "message": { "text": format!("{} ({object})", finding.message) },
        "locations": [Value::Object(location)],
        "partialFingerprints": { "palisade/v1": finding.fingerprint },
        "properties": {
            "severity": finding.severity.as_str(),
            "object": *finding.object,
            "path": finding.path.as_str(),
            "controls": finding.rule.controls,
        },
    });
    if let Some(index) = rule_index {
        result["ruleIndex"] = json!(index);
    }
    if let Some(context) = live {
        result["properties"]["cluster"] = json!(context);
    }
    // A chain (an attack path) is also a code flow: the start, then each hop in order, which
    // code scanning shows step by step.
    if finding.rule.category == ATTACK_PATHS && !related.is_empty() {
        let mut steps = vec![json!({"location": result["locations"][0].clone(),
            "kinds": ["entry"]})];
        steps.extend(related.iter().map(|hop| {
            let mut at = hop.clone();
            if let Some(map) = at.as_object_mut() {
                map.remove("id");
            }
            json!({"location": at})
        }));
        result["codeFlows"] = json!([{
            "message": {"text": finding.message},
            "threadFlows": [{"locations": steps}],
        }]);
    }
    if !related.is_empty() {
        result["relatedLocations"] = Value::Array(related);
    }
    if !finding.also().is_empty() {
        result["properties"]["also"] = json!(finding.also());
    }
    if let Some(admission) = finding.admission() {
        result["properties"]["admission"] = json!(admission);
    }
    if let Some(suppression) = finding.suppressed() {
        let kind = if suppression.kind == "config" {
            "external"
        } else {
            "inSource"
        };
        let mut entry = json!({
            "kind": kind,
            "status": "accepted",
            "justification": suppression.reason,
            "properties": { "palisadeKind": suppression.kind },
        });
        if let Some(expires) = &suppression.expires {
            entry["properties"]["expires"] = json!(expires);
        }
        if let Some(physical) = suppression
            .location
            .as_ref()
            .and_then(|l| physical_location(l, None))
        {
            entry["location"] = json!({ "physicalLocation": physical });
        }
        result["suppressions"] = json!([entry]);
    }
    result
}

/// Stands in for the results while the rest of the log is serialized.
const RESULTS_SLOT: &str = "__palisade_results__";

/// The report as a SARIF 2.1.0 log. Results are written one at a time, so a log of a million
/// findings never exists in memory as a tree.
pub fn write_sarif(
    report: &Report,
    tool_version: &'static str,
    options: &SarifOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let rules: Vec<Value> = report.rules.iter().map(rule_descriptor).collect();
    let rule_index: std::collections::HashMap<&str, usize> = report
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.code, i))
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| ("error", e))
        .chain(report.warnings.iter().map(|w| ("warning", w)))
        .map(|(level, error)| {
            let location = Location {
                file: error.file.as_str().into(),
                document: error.document.unwrap_or(0),
                line: error.line.unwrap_or(1),
                column: error.column.unwrap_or(1),
            };
            let mut entry = json!({
                "level": level,
                "message": { "text": error.to_string() },
            });
            // A cluster's errors name a context and a kind, not a file.
            let in_file = report.cluster.is_none() || error.line.is_some();
            if let Some(physical) = physical_location(&location, None).filter(|_| in_file) {
                entry["locations"] = json!([{ "physicalLocation": physical }]);
            }
            entry
        })
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "Palisade",
                "version": tool_version,
                "semanticVersion": tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "results": RESULTS_SLOT,
        "columnKind": "unicodeCodePoints",
        "invocations": [{
            "executionSuccessful": report.errors.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
    });
    if let Some(cluster) = &report.cluster {
        run["properties"] = json!({ "cluster": cluster });
    }
    if let Some(root) = &options.source_root {
        run["originalUriBaseIds"] = json!({ "%SRCROOT%": { "uri": root } });
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    });
    let frame = serde_json::to_string_pretty(&log).map_err(std::io::Error::other)?;
    let slot = format!("\"{RESULTS_SLOT}\"");
    let (head, tail) = frame.split_once(&slot).unwrap_or((&frame, ""));
    out.write_all(head.as_bytes())?;
    out.write_all(b"[")?;
    for (i, finding) in report.findings.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        let context = report.cluster.as_ref().map(|c| c.context.as_str());
        let value = result(finding, rule_index.get(finding.rule.code).copied(), context);
        serde_json::to_writer_pretty(&mut *out, &value)?;
    }
    out.write_all(b"\n]")?;
    out.write_all(tail.as_bytes())?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample;

    fn render(report: &Report) -> String {
        let mut out = Vec::new();
        let options = SarifOptions {
            source_root: Some("file:///work/repo/".into()),
        };
        write_sarif(report, "0.1.0", &options, &mut out).expect("in memory");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn sarif_report_matches_snapshot() {
        insta::assert_snapshot!(render(&sample::report()));
    }

    #[test]
    fn uris_are_relative_and_escaped() {
        assert_eq!(relative_uri("./deploy/my app.yaml"), "deploy/my%20app.yaml");
        assert_eq!(relative_uri("k8s\\prod\\ü.yaml"), "k8s/prod/%C3%BC.yaml");
    }

    #[test]
    fn every_result_points_at_a_declared_rule() {
        let log: Value = serde_json::from_str(&render(&sample::report())).expect("json");
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        for result in run["results"].as_array().expect("results") {
            let index = result["ruleIndex"].as_u64().expect("index") as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            assert!(result["partialFingerprints"]["palisade/v1"].is_string());
        }
    }
}

#[cfg(test)]
mod schema {
    use super::*;
    use crate::sample;

    const SCHEMA_ID: &str =
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

    /// Validates `log` against the official SARIF 2.1.0 schema (a copy in tests/data).
    pub fn validate(log: &Value) -> Result<(), String> {
        let schema: Value =
            serde_json::from_str(include_str!("../tests/data/sarif-schema-2.1.0.json"))
                .map_err(|e| e.to_string())?;
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource(SCHEMA_ID, schema)
            .map_err(|e| e.to_string())?;
        let index = compiler
            .compile(SCHEMA_ID, &mut schemas)
            .map_err(|e| e.to_string())?;
        schemas.validate(log, index).map_err(|e| format!("{e:#}"))
    }

    #[test]
    fn sarif_output_is_valid_against_the_official_schema() {
        let mut out = Vec::new();
        let options = SarifOptions {
            source_root: Some("file:///work/repo/".into()),
        };
        write_sarif(&sample::report(), "0.1.0", &options, &mut out).expect("in memory");
        let log: Value = serde_json::from_slice(&out).expect("json");
        validate(&log).expect("valid SARIF");
    }

    #[test]
    fn live_results_have_logical_locations_in_their_cluster_and_stay_valid() {
        let mut out = Vec::new();
        write_sarif(
            &sample::live_report(),
            "0.1.0",
            &SarifOptions::default(),
            &mut out,
        )
        .expect("in memory");
        let text = String::from_utf8(out).expect("utf-8");
        let log: Value = serde_json::from_str(&text).expect("json");
        validate(&log).expect("valid SARIF");
        let run = &log["runs"][0];
        assert_eq!(run["properties"]["cluster"]["context"], "prod");
        for result in run["results"].as_array().expect("results") {
            let location = &result["locations"][0];
            assert!(location.get("physicalLocation").is_none());
            let name = location["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .expect("name");
            assert!(name.starts_with("prod/"), "{name}");
            assert_eq!(result["properties"]["cluster"], "prod");
        }
        let notification = &run["invocations"][0]["toolExecutionNotifications"][0];
        assert!(notification.get("locations").is_none());
        insta::assert_snapshot!(text);
    }

    #[test]
    fn an_attack_path_is_a_code_flow_through_its_hops() {
        let mut report = sample::report();
        let mut path = report.findings[0].clone();
        path.rule = &palisade_model::RuleRef {
            code: "PAL-PATH-001",
            name: "attack-path-from-internet",
            category: "attack-paths",
            controls: &["MITRE:T1190"],
        };
        path.extra_mut().related = vec![
            palisade_model::Related {
                object: path.object.clone(),
                path: palisade_model::FieldPath::parse("/spec/template/spec"),
                location: path.location.clone(),
                message: "→ Deployment shop/web".into(),
            },
            palisade_model::Related {
                object: path.object.clone(),
                path: palisade_model::FieldPath::parse("/subjects/0"),
                location: None,
                message: "→ cluster-admin".into(),
            },
        ]
        .into_boxed_slice();
        report.findings = vec![path, report.findings[1].clone()];
        let mut out = Vec::new();
        write_sarif(&report, "0.1.0", &SarifOptions::default(), &mut out).expect("in memory");
        let log: Value = serde_json::from_slice(&out).expect("json");
        validate(&log).expect("valid SARIF");
        let results = &log["runs"][0]["results"];
        let steps = results[0]["codeFlows"][0]["threadFlows"][0]["locations"]
            .as_array()
            .expect("a thread flow");
        assert_eq!(steps.len(), 3, "the start and two hops");
        assert_eq!(steps[0]["kinds"], json!(["entry"]));
        assert_eq!(steps[2]["location"]["message"]["text"], "→ cluster-admin");
        assert!(
            results[1].get("codeFlows").is_none(),
            "other findings have none"
        );
    }

    #[test]
    fn the_validator_rejects_what_the_schema_forbids() {
        let mut out = Vec::new();
        write_sarif(
            &sample::report(),
            "0.1.0",
            &SarifOptions::default(),
            &mut out,
        )
        .expect("in memory");
        let mut log: Value = serde_json::from_slice(&out).expect("json");
        log["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(validate(&log).is_err());
    }
}
