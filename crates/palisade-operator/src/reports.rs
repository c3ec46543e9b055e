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
/// Results per report object (about 600 bytes each): small enough that the API server parses a
/// server-side apply of one part in milliseconds, and far under its object size limit.
pub const MAX_RESULTS: usize = 200;

/// Where a report lives: its namespace (`None` for the ClusterPolicyReport) and name.
pub type ReportKey = (Option<String>, String);

/// One report: its findings, and the digest of what it says (timestamps left out), which
/// decides whether it must be written. The body is rendered only when it is written, so an
/// evaluation of a big cluster holds findings, not a second copy of them as JSON.
#[derive(Debug)]
pub struct Report<'a> {
    findings: Vec<&'a Finding>,
    seen: Vec<i64>,
    namespace: Option<String>,
    name: String,
    owner: Option<String>,
    pub digest: u64,
}

/// The identity of one result across evaluations: rule, object, field path.
pub fn result_identity(finding: &Finding) -> u64 {
    identity(
        finding.rule.code,
        &finding.object.kind,
        finding.object.namespace.as_deref().unwrap_or(""),
        &finding.object.name,
        finding.path.as_str(),
    )
}

/// A result's identity as a 64-bit digest: an operator keeps one per result of the cluster,
/// and the text would be ten times the size.
fn identity(rule: &str, kind: &str, namespace: &str, name: &str, path: &str) -> u64 {
    let mut digest = Digest::new();
    for part in [rule, kind, namespace, name, path] {
        digest.feed(part);
        digest.feed("|");
    }
    digest.0
}

/// What a result says, as one line: the same from a finding and from a written result.
#[allow(clippy::too_many_arguments)]
fn canonical(
    policy: &str,
    rule: &str,
    outcome: &str,
    severity: &str,
    category: &str,
    message: &str,
    resource: (&str, &str, &str, &str),
    properties: (&str, &str, &str, &str),
) -> String {
    format!(
        "{policy}\u{1f}{rule}\u{1f}{outcome}\u{1f}{severity}\u{1f}{category}\u{1f}{message}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\n",
        resource.0, resource.1, resource.2, resource.3, properties.0, properties.1, properties.2, properties.3
    )
}

struct Digest(u64);

impl Digest {
    fn new() -> Self {
        Digest(0xcbf2_9ce4_8422_2325)
    }

    fn feed(&mut self, text: &str) {
        for byte in text.bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn outcome(finding: &Finding) -> &'static str {
    if finding.suppressed().is_some() {
        "skip"
    } else {
        "fail"
    }
}

fn suppressed_text(finding: &Finding) -> String {
    finding
        .suppressed()
        .as_ref()
        .map_or(String::new(), |s| format!("{}: {}", s.kind, s.reason))
}

/// The rules of the findings listed with this one (same root cause), comma-separated.
fn also_text(finding: &Finding) -> String {
    let codes: Vec<&str> = finding.also().iter().map(|a| a.rule).collect();
    codes.join(",")
}

fn canonical_finding(finding: &Finding) -> String {
    canonical(
        finding.rule.code,
        finding.rule.name,
        outcome(finding),
        finding.severity.as_str(),
        finding.rule.category,
        &finding.message,
        (
            &finding.object.api_version,
            &finding.object.kind,
            finding.object.namespace.as_deref().unwrap_or(""),
            &finding.object.name,
        ),
        (
            finding.path.as_str(),
            &finding.rule.controls.join(","),
            &suppressed_text(finding),
            &also_text(finding),
        ),
    )
}

impl Report<'_> {
    pub fn key(&self) -> ReportKey {
        (self.namespace.clone(), self.name.clone())
    }

    /// The report object to apply.
    pub fn body(&self) -> Json {
        let results: Vec<Json> = self
            .findings
            .iter()
            .zip(&self.seen)
            .map(|(finding, seen)| {
                let mut properties = serde_json::Map::new();
                properties.insert(
                    "path".into(),
                    Json::String(finding.path.as_str().to_string()),
                );
                if !finding.rule.controls.is_empty() {
                    properties.insert(
                        "controls".into(),
                        Json::String(finding.rule.controls.join(",")),
                    );
                }
                if finding.suppressed().is_some() {
                    properties.insert("suppressed".into(), Json::String(suppressed_text(finding)));
                }
                if !finding.also().is_empty() {
                    properties.insert("also".into(), Json::String(also_text(finding)));
                }
                if let Some(admission) = finding.admission() {
                    // PolicyReport properties are strings.
                    for (key, value) in [
                        ("admissionPolicy", admission.policy.as_str()),
                        ("admissionBinding", admission.binding.as_str()),
                        ("admissionAction", admission.action),
                        ("admissionTarget", admission.target),
                    ] {
                        properties.insert(key.into(), Json::String(value.to_string()));
                    }
                }
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
                    "policy": finding.rule.code,
                    "rule": finding.rule.name,
                    "result": outcome(finding),
                    "severity": finding.severity.as_str(),
                    "category": finding.rule.category,
                    "message": finding.message,
                    "scored": true,
                    "resources": [resource],
                    "properties": properties,
                    "timestamp": {"seconds": seen, "nanos": 0},
                })
            })
            .collect();
        let skip = self
            .findings
            .iter()
            .filter(|f| f.suppressed().is_some())
            .count();
        let summary = json!({"pass": 0, "fail": self.findings.len() - skip, "warn": 0, "error": 0, "skip": skip});
        let mut metadata = json!({
            "name": self.name,
            "labels": {MANAGED_BY.0: MANAGED_BY.1},
        });
        let kind = match &self.namespace {
            Some(ns) => {
                metadata["namespace"] = Json::String(ns.clone());
                if let Some(uid) = &self.owner {
                    metadata["ownerReferences"] = json!([{
                        "apiVersion": "v1", "kind": "Namespace", "name": ns, "uid": uid
                    }]);
                }
                "PolicyReport"
            }
            None => "ClusterPolicyReport",
        };
        json!({
            "apiVersion": GROUP_VERSION,
            "kind": kind,
            "metadata": metadata,
            "summary": summary,
            "results": results,
        })
    }
}

/// The reports for `findings`. `first_seen` keeps when each result was first reported (so an
/// unchanged result keeps its timestamp and an unchanged report its digest); `owners` gives a
/// namespace's UID for the owner reference that lets garbage collection remove its reports.
pub fn build<'a>(
    findings: &'a [Finding],
    first_seen: &mut HashMap<u64, i64>,
    now: i64,
    owners: &HashMap<String, String>,
) -> BTreeMap<ReportKey, Report<'a>> {
    let mut by_namespace: BTreeMap<Option<&str>, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        by_namespace
            .entry(finding.object.namespace.as_deref())
            .or_default()
            .push(finding);
    }
    let mut live: HashMap<u64, i64> = HashMap::new();
    let mut out = BTreeMap::new();
    for (namespace, list) in by_namespace {
        let owner = namespace.and_then(|ns| owners.get(ns).cloned());
        // An object's results always land in the same part (by a hash of its identity), so a
        // change rewrites the one part that holds the object, not every part after it. Parts
        // are sized for three quarters of MAX_RESULTS, so hashing's unevenness stays under it.
        let parts = list.len().div_ceil(MAX_RESULTS * 3 / 4).max(1);
        let mut chunks: Vec<Vec<&Finding>> = vec![Vec::new(); parts];
        for finding in list {
            let mut hash = Digest::new();
            hash.feed(&finding.object.kind);
            hash.feed("/");
            hash.feed(&finding.object.name);
            chunks[(hash.0 % parts as u64) as usize].push(finding);
        }
        for (part, chunk) in chunks.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
            let name = if part == 0 {
                SOURCE.to_string()
            } else {
                format!("{SOURCE}-{}", part + 1)
            };
            let mut digest = Digest::new();
            digest.feed(owner.as_deref().unwrap_or(""));
            let mut seen = Vec::with_capacity(chunk.len());
            for finding in chunk {
                let identity = result_identity(finding);
                let at = *first_seen.get(&identity).unwrap_or(&now);
                live.insert(identity, at);
                seen.push(at);
                digest.feed(&canonical_finding(finding));
            }
            let namespace = namespace.map(str::to_string);
            out.insert(
                (namespace.clone(), name.clone()),
                Report {
                    findings: chunk.clone(),
                    seen,
                    namespace,
                    name,
                    owner: owner.clone(),
                    digest: digest.0,
                },
            );
        }
    }
    *first_seen = live;
    out
}

/// The digest of a report as written (for reports found at start: an operator that restarts
/// rewrites nothing that did not change), and its results' timestamps into `first_seen`.
pub fn digest_of_written(body: &Json, first_seen: &mut HashMap<u64, i64>) -> u64 {
    let mut digest = Digest::new();
    let owner = body["metadata"]["ownerReferences"][0]["uid"]
        .as_str()
        .unwrap_or("");
    digest.feed(owner);
    for value in body["results"].as_array().into_iter().flatten() {
        let text = |v: &Json| v.as_str().unwrap_or("").to_string();
        let resource = &value["resources"][0];
        let (kind, namespace, name) = (
            text(&resource["kind"]),
            text(&resource["namespace"]),
            text(&resource["name"]),
        );
        let path = text(&value["properties"]["path"]);
        if let Some(seconds) = value["timestamp"]["seconds"].as_i64() {
            first_seen.insert(
                identity(&text(&value["policy"]), &kind, &namespace, &name, &path),
                seconds,
            );
        }
        digest.feed(&canonical(
            &text(&value["policy"]),
            &text(&value["rule"]),
            &text(&value["result"]),
            &text(&value["severity"]),
            &text(&value["category"]),
            &text(&value["message"]),
            (&text(&resource["apiVersion"]), &kind, &namespace, &name),
            (
                &path,
                &text(&value["properties"]["controls"]),
                &text(&value["properties"]["suppressed"]),
                &text(&value["properties"]["also"]),
            ),
        ));
    }
    digest.0
}

/// What brings one group's report set (its namespace's parts) from what was written to what is
/// wanted: the parts whose digest changed, and the parts no longer wanted. The writer carries
/// out one group's plan whole before it looks at its lease again, so a leader that loses it
/// leaves every set as one evaluation wrote it: never new parts beside a stale one, which would
/// show a result twice or not at all.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GroupPlan {
    pub apply: Vec<ReportKey>,
    pub delete: Vec<ReportKey>,
}

impl GroupPlan {
    /// `wanted`: the group's parts and their digests; `written`: every report written, with
    /// its digest (other groups' are left alone).
    pub fn of(
        group: &Option<String>,
        wanted: &BTreeMap<ReportKey, u64>,
        written: &HashMap<ReportKey, u64>,
    ) -> GroupPlan {
        let apply = wanted
            .iter()
            .filter(|(key, digest)| written.get(*key) != Some(*digest))
            .map(|(key, _)| key.clone())
            .collect();
        let mut delete: Vec<ReportKey> = written
            .keys()
            .filter(|key| &key.0 == group && !wanted.contains_key(*key))
            .cloned()
            .collect();
        delete.sort();
        GroupPlan { apply, delete }
    }

    pub fn is_empty(&self) -> bool {
        self.apply.is_empty() && self.delete.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_model::{FieldPath, ObjectRef, RuleRef, Severity};
    use std::sync::Arc;

    static PRIVILEGED: RuleRef = RuleRef {
        code: "PAL-PSS-002",
        name: "pss-privileged",
        category: "pod-security",
        controls: &["PSS:baseline:privileged", "CIS-5.2.2"],
    };
    static CLUSTER_ADMIN: RuleRef = RuleRef {
        code: "PAL-RBAC-001",
        name: "rbac-cluster-admin",
        category: "rbac",
        controls: &["CIS-5.1.1"],
    };

    fn finding(namespace: Option<&str>, name: &str, rule: &'static RuleRef) -> Finding {
        Finding {
            rule,
            severity: Severity::Critical,
            message: format!("container `app` of {name} runs privileged").into(),
            object: Arc::new(ObjectRef {
                api_version: "apps/v1".into(),
                kind: "DaemonSet".into(),
                namespace: namespace.map(str::to_string),
                name: name.into(),
            }),
            path: FieldPath::root().key("spec"),
            location: None,
            fingerprint: None,
            snippet: None,
            sensitive: false,
            extra: None,
        }
    }

    #[test]
    fn one_report_per_namespace_and_a_cluster_report_with_stable_digests() {
        let findings = vec![
            finding(Some("shop"), "agent", &PRIVILEGED),
            finding(Some("ops"), "debug", &PRIVILEGED),
            finding(None, "cluster-thing", &CLUSTER_ADMIN),
        ];
        let mut seen = HashMap::new();
        let owners = HashMap::from([("shop".to_string(), "uid-shop".to_string())]);
        let first = build(&findings, &mut seen, 1000, &owners);
        assert_eq!(first.len(), 3);
        let shop = &first[&(Some("shop".into()), "palisade".into())];
        let body = shop.body();
        assert_eq!(body["kind"], "PolicyReport");
        assert_eq!(body["summary"]["fail"], 1);
        assert_eq!(body["results"][0]["policy"], "PAL-PSS-002");
        assert_eq!(body["results"][0]["resources"][0]["name"], "agent");
        assert_eq!(body["results"][0]["properties"]["path"], "/spec");
        assert_eq!(body["metadata"]["ownerReferences"][0]["uid"], "uid-shop");
        assert_eq!(
            first[&(None, "palisade".into())].body()["kind"],
            "ClusterPolicyReport"
        );
        // Later, unchanged: same digest and timestamps, though the clock moved.
        let second = build(&findings, &mut seen, 2000, &owners);
        let again = &second[&(Some("shop".into()), "palisade".into())];
        assert_eq!(shop.digest, again.digest);
        assert_eq!(again.body()["results"][0]["timestamp"]["seconds"], 1000);
        // What a restarted operator reads back gives the same digest and timestamps.
        let mut reread = HashMap::new();
        assert_eq!(digest_of_written(&body, &mut reread), shop.digest);
        assert_eq!(reread.values().copied().collect::<Vec<_>>(), vec![1000]);
        // A changed message changes the digest.
        let mut changed = findings.clone();
        changed[0].message = format!("{}!", changed[0].message).into();
        let third = build(&changed, &mut seen, 3000, &owners);
        assert_ne!(
            third[&(Some("shop".into()), "palisade".into())].digest,
            shop.digest
        );
    }

    #[test]
    fn busy_namespaces_are_split() {
        let findings: Vec<Finding> = (0..2 * MAX_RESULTS + 100)
            .map(|i| finding(Some("big"), &format!("w{i}"), &PRIVILEGED))
            .collect();
        let reports = build(&findings, &mut HashMap::new(), 1, &HashMap::new());
        assert!(reports.len() >= 3, "{}", reports.len());
        assert!(reports.keys().any(|(_, n)| n == "palisade"));
        assert!(reports.values().all(|r| r.body()["results"]
            .as_array()
            .is_some_and(|a| a.len() <= MAX_RESULTS)));
        // One object changes: only the part that holds it changes.
        let mut changed = findings.clone();
        changed[7].message = format!("{}!", changed[7].message).into();
        let after = build(&changed, &mut HashMap::new(), 1, &HashMap::new());
        let differing = reports
            .iter()
            .filter(|(key, report)| after.get(*key).map(|r| r.digest) != Some(report.digest))
            .count();
        assert_eq!(differing, 1);
    }

    /// A store of written reports, one digest per part.
    type Store = HashMap<ReportKey, u64>;

    fn set(ns: &str, parts: &[(&str, u64)]) -> BTreeMap<ReportKey, u64> {
        parts
            .iter()
            .map(|(name, digest)| ((Some(ns.to_string()), name.to_string()), *digest))
            .collect()
    }

    fn group_in(store: &Store, ns: &str) -> BTreeMap<ReportKey, u64> {
        store
            .iter()
            .filter(|(key, _)| key.0.as_deref() == Some(ns))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    #[test]
    fn a_plan_applies_changed_parts_and_deletes_stale_ones_of_its_group_only() {
        let mut written: Store = set(
            "web",
            &[("palisade", 1), ("palisade-2", 2), ("palisade-3", 3)],
        )
        .into_iter()
        .collect();
        written.extend(set("shop", &[("palisade", 9)]));
        let wanted = set("web", &[("palisade", 1), ("palisade-2", 5)]);
        let plan = GroupPlan::of(&Some("web".into()), &wanted, &written);
        assert_eq!(plan.apply, vec![(Some("web".into()), "palisade-2".into())]);
        assert_eq!(plan.delete, vec![(Some("web".into()), "palisade-3".into())]);
        let unchanged = GroupPlan::of(
            &Some("shop".into()),
            &set("shop", &[("palisade", 9)]),
            &written,
        );
        assert!(unchanged.is_empty());
    }

    #[test]
    fn a_leader_stopping_between_groups_leaves_each_set_old_or_new_never_mixed() {
        // Three namespaces whose sets change shape: more parts, fewer, other digests.
        let old: Vec<(&str, BTreeMap<ReportKey, u64>)> = vec![
            ("a", set("a", &[("palisade", 1)])),
            (
                "b",
                set(
                    "b",
                    &[("palisade", 2), ("palisade-2", 3), ("palisade-3", 4)],
                ),
            ),
            ("c", set("c", &[("palisade", 5), ("palisade-2", 6)])),
        ];
        let new: Vec<(&str, BTreeMap<ReportKey, u64>)> = vec![
            ("a", set("a", &[("palisade", 7), ("palisade-2", 8)])),
            ("b", set("b", &[("palisade", 9)])),
            ("c", set("c", &[("palisade", 5), ("palisade-2", 10)])),
        ];
        for stop_after in 0..=new.len() {
            let mut store: Store = old.iter().flat_map(|(_, s)| s.clone()).collect();
            for (ns, wanted) in new.iter().take(stop_after) {
                let plan = GroupPlan::of(&Some(ns.to_string()), wanted, &store);
                for key in plan.apply {
                    store.insert(key.clone(), wanted[&key]);
                }
                for key in plan.delete {
                    store.remove(&key);
                }
            }
            for ((ns, before), (_, after)) in old.iter().zip(&new) {
                let now = group_in(&store, ns);
                assert!(
                    now == *before || now == *after,
                    "stopped after {stop_after} groups: {ns} is {now:?}"
                );
            }
        }
    }
}
