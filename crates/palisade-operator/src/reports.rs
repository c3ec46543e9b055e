//! Findings as PolicyReports: one report per namespace (and one ClusterPolicyReport for
//! cluster-scoped objects), split into parts of at most [`MAX_RESULTS`] results so a busy
//! namespace stays far below the API server's object size limit.
//!
//! Per namespace, not per resource: dashboards (Policy Reporter) and `kubectl get polr -A`
//! read one object per namespace, a namespace of 5,000 pods makes 5 objects rather than 5,000,
//! and a change rewrites one report, not a fan of them.

use std::collections::{BTreeMap, HashMap};

use palisade_model::Finding;
use serde_json::{json, Value as Json};

pub const GROUP_VERSION: &str = "wgpolicyk8s.io/v1alpha2";
pub const SOURCE: &str = "palisade";
/// The label on every report Palisade writes.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "palisade");
/// Results per report object (about 600 bytes each: well under etcd's 1.5 MiB).
pub const MAX_RESULTS: usize = 1000;

/// Where a report lives: its namespace (`None` for the ClusterPolicyReport) and name.
pub type ReportKey = (Option<String>, String);

/// A report ready to write, and the digest of what it says (timestamps left out), which decides
/// whether it must be written.
#[derive(Debug, Clone)]
pub struct Report {
    pub body: Json,
    pub digest: u64,
}

/// The identity of one result across evaluations: rule, object, field path.
pub fn result_identity(finding: &Finding) -> String {
    format!(
        "{}|{}|{}|{}|{}",
        finding.rule,
        finding.object.kind,
        finding.object.namespace.as_deref().unwrap_or(""),
        finding.object.name,
        finding.path.as_str()
    )
}

fn result(finding: &Finding, seen: i64) -> Json {
    let mut properties = serde_json::Map::new();
    properties.insert(
        "path".into(),
        Json::String(finding.path.as_str().to_string()),
    );
    if !finding.controls.is_empty() {
        properties.insert("controls".into(), Json::String(finding.controls.join(",")));
    }
    let outcome = match &finding.suppressed {
        Some(suppression) => {
            properties.insert(
                "suppressed".into(),
                Json::String(format!("{}: {}", suppression.kind, suppression.reason)),
            );
            "skip"
        }
        None => "fail",
    };
    let mut resource = json!({
        "apiVersion": finding.object.api_version,
        "kind": finding.object.kind,
        "name": finding.object.name,
    });
    if let Some(namespace) = &finding.object.namespace {
        resource["namespace"] = Json::String(namespace.clone());
    }
    json!({
        "source": SOURCE,
        "policy": finding.rule,
        "rule": finding.name,
        "result": outcome,
        "severity": finding.severity.as_str(),
        "category": finding.category,
        "message": finding.message,
        "scored": true,
        "resources": [resource],
        "properties": properties,
        "timestamp": {"seconds": seen, "nanos": 0},
    })
}

fn digest(value: &Json) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The reports for `findings`. `first_seen` keeps when each result was first reported (so an
/// unchanged result keeps its timestamp and an unchanged report its digest); `owners` gives a
/// namespace's UID for the owner reference that lets garbage collection remove its reports.
pub fn build(
    findings: &[Finding],
    first_seen: &mut HashMap<String, i64>,
    now: i64,
    owners: &HashMap<String, String>,
) -> BTreeMap<ReportKey, Report> {
    let mut by_namespace: BTreeMap<Option<String>, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        by_namespace
            .entry(finding.object.namespace.clone())
            .or_default()
            .push(finding);
    }
    let mut live: HashMap<String, i64> = HashMap::new();
    let mut out = BTreeMap::new();
    for (namespace, list) in by_namespace {
        for (part, chunk) in list.chunks(MAX_RESULTS).enumerate() {
            let name = if part == 0 {
                SOURCE.to_string()
            } else {
                format!("{SOURCE}-{}", part + 1)
            };
            let mut results = Vec::with_capacity(chunk.len());
            let mut timeless = Vec::with_capacity(chunk.len());
            let (mut fail, mut skip) = (0, 0);
            for finding in chunk {
                let identity = result_identity(finding);
                let seen = *first_seen.get(&identity).unwrap_or(&now);
                live.insert(identity, seen);
                let mut value = result(finding, seen);
                if finding.suppressed.is_some() {
                    skip += 1;
                } else {
                    fail += 1;
                }
                results.push(value.clone());
                if let Some(map) = value.as_object_mut() {
                    map.remove("timestamp");
                }
                timeless.push(value);
            }
            let summary = json!({"pass": 0, "fail": fail, "warn": 0, "error": 0, "skip": skip});
            let mut metadata = json!({
                "name": name,
                "labels": {MANAGED_BY.0: MANAGED_BY.1},
            });
            let kind = match &namespace {
                Some(ns) => {
                    metadata["namespace"] = Json::String(ns.clone());
                    if let Some(uid) = owners.get(ns) {
                        metadata["ownerReferences"] = json!([{
                            "apiVersion": "v1", "kind": "Namespace", "name": ns, "uid": uid
                        }]);
                    }
                    "PolicyReport"
                }
                None => "ClusterPolicyReport",
            };
            let digest =
                digest(&json!({"summary": summary, "results": timeless, "metadata": metadata}));
            let body = json!({
                "apiVersion": GROUP_VERSION,
                "kind": kind,
                "metadata": metadata,
                "summary": summary,
                "results": results,
            });
            out.insert((namespace.clone(), name), Report { body, digest });
        }
    }
    *first_seen = live;
    out
}

/// The digest a written report would have been built with (for reports found at start: an
/// operator that restarts rewrites nothing that did not change), and its results' timestamps.
pub fn digest_of_written(body: &Json, first_seen: &mut HashMap<String, i64>) -> u64 {
    let results = body["results"].as_array().cloned().unwrap_or_default();
    let mut timeless = Vec::with_capacity(results.len());
    for mut value in results {
        let identity = format!(
            "{}|{}|{}|{}|{}",
            value["policy"].as_str().unwrap_or(""),
            value["resources"][0]["kind"].as_str().unwrap_or(""),
            value["resources"][0]["namespace"].as_str().unwrap_or(""),
            value["resources"][0]["name"].as_str().unwrap_or(""),
            value["properties"]["path"].as_str().unwrap_or("")
        );
        if let Some(seconds) = value["timestamp"]["seconds"].as_i64() {
            first_seen.insert(identity, seconds);
        }
        if let Some(map) = value.as_object_mut() {
            map.remove("timestamp");
        }
        timeless.push(value);
    }
    let mut metadata = json!({
        "name": body["metadata"]["name"],
        "labels": {MANAGED_BY.0: MANAGED_BY.1},
    });
    if let Some(ns) = body["metadata"]["namespace"].as_str() {
        metadata["namespace"] = Json::String(ns.to_string());
    }
    if let Some(owners) = body["metadata"].get("ownerReferences") {
        let kept: Vec<Json> = owners
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| json!({"apiVersion": o["apiVersion"], "kind": o["kind"], "name": o["name"], "uid": o["uid"]}))
            .collect();
        metadata["ownerReferences"] = Json::Array(kept);
    }
    digest(&json!({"summary": body["summary"], "results": timeless, "metadata": metadata}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{FieldPath, ObjectRef, Severity};
    use std::sync::Arc;

    fn finding(namespace: Option<&str>, name: &str, rule: &'static str) -> Finding {
        Finding {
            rule,
            name: "pss-privileged",
            severity: Severity::Critical,
            category: "pod-security",
            message: format!("container `app` of {name} runs privileged"),
            object: Arc::new(ObjectRef {
                api_version: "apps/v1".into(),
                kind: "DaemonSet".into(),
                namespace: namespace.map(str::to_string),
                name: name.into(),
            }),
            path: FieldPath::root().key("spec"),
            location: None,
            controls: &["PSS:baseline:privileged", "CIS-5.2.2"],
            related: Vec::new(),
            suppressed: None,
            fingerprint: String::new(),
            snippet: None,
            sensitive: false,
        }
    }

    #[test]
    fn one_report_per_namespace_and_a_cluster_report_with_stable_digests() {
        let findings = vec![
            finding(Some("shop"), "agent", "PAL-PSS-002"),
            finding(Some("ops"), "debug", "PAL-PSS-002"),
            finding(None, "cluster-thing", "PAL-RBAC-001"),
        ];
        let mut seen = HashMap::new();
        let owners = HashMap::from([("shop".to_string(), "uid-shop".to_string())]);
        let first = build(&findings, &mut seen, 1000, &owners);
        assert_eq!(first.len(), 3);
        let shop = &first[&(Some("shop".into()), "palisade".into())];
        assert_eq!(shop.body["kind"], "PolicyReport");
        assert_eq!(shop.body["summary"]["fail"], 1);
        assert_eq!(shop.body["results"][0]["policy"], "PAL-PSS-002");
        assert_eq!(shop.body["results"][0]["resources"][0]["name"], "agent");
        assert_eq!(shop.body["results"][0]["properties"]["path"], "/spec");
        assert_eq!(
            shop.body["metadata"]["ownerReferences"][0]["uid"],
            "uid-shop"
        );
        assert_eq!(
            first[&(None, "palisade".into())].body["kind"],
            "ClusterPolicyReport"
        );
        // Later, unchanged: same digest and timestamps, though the clock moved.
        let second = build(&findings, &mut seen, 2000, &owners);
        assert_eq!(
            shop.digest,
            second[&(Some("shop".into()), "palisade".into())].digest
        );
        assert_eq!(
            second[&(Some("shop".into()), "palisade".into())].body["results"][0]["timestamp"]
                ["seconds"],
            1000
        );
        // What a restarted operator reads back gives the same digest.
        let mut reread = HashMap::new();
        assert_eq!(digest_of_written(&shop.body, &mut reread), shop.digest);
    }

    #[test]
    fn busy_namespaces_are_split() {
        let findings: Vec<Finding> = (0..2500)
            .map(|i| finding(Some("big"), &format!("w{i}"), "PAL-PSS-002"))
            .collect();
        let reports = build(&findings, &mut HashMap::new(), 1, &HashMap::new());
        let names: Vec<&str> = reports.keys().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["palisade", "palisade-2", "palisade-3"]);
        assert!(reports.values().all(|r| r.body["results"]
            .as_array()
            .is_some_and(|a| a.len() <= MAX_RESULTS)));
    }
}
