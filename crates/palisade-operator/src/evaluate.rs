//! Evaluations of the watched state, namespace by namespace: a change re-judges the namespaces
//! it can affect, not the cluster.
//!
//! Each namespace (and the cluster-scoped objects, as one more group) is scanned as a part of
//! the cluster: object rules run only for objects whose `resourceVersion` changed (their
//! findings are kept), suppressions and severities apply within the part. The whole-cluster
//! rules (RBAC escalation paths, NetworkPolicy coverage, LimitRange defaulting, service-account
//! automount) run over the whole state at every evaluation, because any change can open a
//! path; a namespace is scanned again only when one of its objects changed or their findings
//! about it did. The config file's exceptions are judged over all parts together.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use palisade_engine::{
    config_exception_findings, whole_input_findings, whole_input_part, InventoryBuilder, Pipeline,
    StreamScan,
};
use palisade_model::{Finding, Severity};

use crate::watch::State;

/// A namespace, or `None` for the cluster-scoped objects.
pub type Group = Option<String>;

/// What an evaluation found.
pub struct Evaluation {
    /// The findings of every group judged again, whether they changed or not; an empty list
    /// for a group that no longer has any.
    pub groups: BTreeMap<Group, Vec<Finding>>,
    /// Whether every group was judged (the first evaluation, or when asked).
    pub complete: bool,
    /// The namespaces' UIDs, owners of their reports.
    pub owners: HashMap<String, String>,
    /// How many objects were judged.
    pub objects: usize,
    /// Unsuppressed findings by severity, over the whole cluster.
    pub counts: BTreeMap<&'static str, u64>,
}

#[derive(Default)]
struct Judged {
    /// A digest of the whole-cluster rules' findings about the group.
    whole_input: u64,
    /// Which of the config file's exceptions suppressed a finding in the group.
    used: Vec<bool>,
    /// Unsuppressed findings by severity.
    counts: [u64; Severity::ALL.len()],
}

/// Evaluations that remember what the last one judged.
#[derive(Default)]
pub struct Evaluator {
    judged: HashMap<Group, Judged>,
    /// What the whole-cluster rules read of each group's objects, read again when they change.
    parts: HashMap<Group, InventoryBuilder>,
    /// The whole-cluster rules' findings by group, kept until what they read changes.
    whole: HashMap<Group, Vec<Finding>>,
    /// The config file's exceptions used anywhere, at the last evaluation.
    used: Vec<bool>,
}

fn group_of(namespace: &str) -> Group {
    (!namespace.is_empty()).then(|| namespace.to_string())
}

fn digest(findings: &[Finding]) -> u64 {
    // Order-free: the whole-cluster rules see objects in the state's (hash) order.
    findings.iter().fold(0u64, |sum, finding| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (
            finding.rule,
            &*finding.object,
            finding.path.as_str(),
            &finding.message,
            finding.severity,
        )
            .hash(&mut hasher);
        for related in &finding.related {
            related.message.hash(&mut hasher);
        }
        sum.wrapping_add(hasher.finish())
    })
}

impl Evaluator {
    /// Judges the groups that changed since the last evaluation (every group when `complete`,
    /// and at the first evaluation).
    pub fn evaluate(
        &mut self,
        pipeline: &Pipeline,
        state: &mut State,
        complete: bool,
    ) -> Evaluation {
        let complete = complete || self.judged.is_empty();
        let mut dirty: HashSet<Group> = state.dirty.drain().map(|ns| group_of(&ns)).collect();
        let first = self.parts.is_empty();
        let mut changed_parts: HashMap<Group, Vec<(&crate::watch::Key, &palisade_model::Object)>> =
            HashMap::new();
        for entry in state.objects.values_mut() {
            if entry.findings.is_none() {
                entry.findings = Some(pipeline.engine.check(&entry.object, None));
            }
        }
        for (key, entry) in &state.objects {
            let group = group_of(&key.1);
            if first || dirty.contains(&group) {
                changed_parts
                    .entry(group)
                    .or_default()
                    .push((key, &entry.object));
            }
        }
        // Whether anything the whole-cluster rules read changed: most changes (an image, a
        // container's securityContext in a pod no binding makes risky) do not.
        let mut read_changed = first;
        for group in &dirty {
            if !changed_parts.contains_key(group) {
                read_changed |= self.parts.remove(group).is_some();
            }
        }
        // In a fixed order, so that what the whole-cluster rules say does not depend on the
        // order objects arrived in.
        for (group, mut objects) in changed_parts {
            objects.sort_by(|a, b| a.0.cmp(b.0));
            let part = whole_input_part(pipeline, objects.into_iter().map(|(_, o)| o));
            if self.parts.get(&group) != Some(&part) {
                read_changed = true;
                self.parts.insert(group, part);
            }
        }
        if read_changed {
            let mut groups_in_order: Vec<&Group> = self.parts.keys().collect();
            groups_in_order.sort();
            let mut merged = InventoryBuilder::default();
            for group in groups_in_order {
                if let Some(part) = self.parts.get(group) {
                    merged.merge(part.clone());
                }
            }
            self.whole.clear();
            for finding in whole_input_findings(pipeline, merged) {
                self.whole
                    .entry(finding.object.namespace.clone())
                    .or_default()
                    .push(finding);
            }
        }
        let whole = &self.whole;
        let mut present: HashSet<Group> =
            state.objects.keys().map(|key| group_of(&key.1)).collect();
        present.extend(whole.keys().cloned());
        // The cluster-scoped group always exists: the config file's findings land there.
        present.insert(None);
        for group in &present {
            let now = whole.get(group).map_or(0, |f| digest(f));
            let before = self.judged.get(group).map(|j| j.whole_input);
            if complete || before != Some(now) {
                dirty.insert(group.clone());
            }
        }
        let gone: Vec<Group> = self
            .judged
            .keys()
            .filter(|group| !present.contains(*group))
            .cloned()
            .collect();
        let mut groups = BTreeMap::new();
        for group in gone {
            self.judged.remove(&group);
            groups.insert(group, Vec::new());
        }
        dirty.retain(|group| present.contains(group));

        let mut members: HashMap<&Group, Vec<&crate::watch::Entry>> = HashMap::new();
        let keyed: Vec<(Group, &crate::watch::Entry)> = state
            .objects
            .iter()
            .map(|(key, entry)| (group_of(&key.1), entry))
            .filter(|(group, _)| dirty.contains(group))
            .collect();
        for (group, entry) in &keyed {
            members.entry(group).or_default().push(entry);
        }
        // Namespaces first: the cluster-scoped group carries the config file's findings,
        // judged over every group.
        let mut order: Vec<&Group> = dirty.iter().filter(|g| g.is_some()).collect();
        order.sort();
        if dirty.contains(&None) {
            order.push(&None);
        }
        let mut cluster_findings = None;
        for group in order {
            let mut scan = StreamScan::part(pipeline);
            for entry in members.get(group).into_iter().flatten() {
                let findings = entry.findings.clone().unwrap_or_default();
                scan.add_checked(&entry.object, findings);
            }
            let whole_findings = whole.get(group).cloned().unwrap_or_default();
            let judged = Judged {
                whole_input: digest(&whole_findings),
                ..Judged::default()
            };
            scan.add_findings(whole_findings);
            let (report, used) = scan.finish_part();
            let mut judged = judged;
            judged.used = used;
            judged.counts = counts(&report.findings);
            self.judged.insert(group.clone(), judged);
            if group.is_none() {
                cluster_findings = Some(report.findings);
            } else {
                groups.insert(group.clone(), report.findings);
            }
        }
        let mut used = vec![false; self.used.len()];
        for judged in self.judged.values() {
            if used.len() < judged.used.len() {
                used.resize(judged.used.len(), false);
            }
            for (all, this) in used.iter_mut().zip(&judged.used) {
                *all |= *this;
            }
        }
        if used != self.used && cluster_findings.is_none() {
            // Another group's use of an exception changed what is said about the config file:
            // the cluster-scoped group is judged again.
            let mut scan = StreamScan::part(pipeline);
            for entry in state
                .objects
                .iter()
                .filter(|(k, _)| k.1.is_empty())
                .map(|(_, e)| e)
            {
                scan.add_checked(&entry.object, entry.findings.clone().unwrap_or_default());
            }
            scan.add_findings(whole.get(&None).cloned().unwrap_or_default());
            let (report, _) = scan.finish_part();
            cluster_findings = Some(report.findings);
        }
        if let Some(mut findings) = cluster_findings {
            findings.extend(config_exception_findings(pipeline, &used));
            if let Some(judged) = self.judged.get_mut(&None) {
                judged.counts = counts(&findings);
            }
            groups.insert(None, findings);
        }
        self.used = used;

        let mut totals = BTreeMap::new();
        for (i, severity) in Severity::ALL.iter().enumerate() {
            let n = self.judged.values().map(|j| j.counts[i]).sum();
            totals.insert(severity.as_str(), n);
        }
        Evaluation {
            groups,
            complete,
            owners: state.namespace_uids.clone(),
            objects: state.objects.len(),
            counts: totals,
        }
    }
}

fn counts(findings: &[Finding]) -> [u64; Severity::ALL.len()] {
    let mut out = [0; Severity::ALL.len()];
    for finding in findings.iter().filter(|f| f.suppressed.is_none()) {
        if let Some(i) = Severity::ALL.iter().position(|s| *s == finding.severity) {
            out[i] += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use palisade_engine::config::{self, LoadedConfig};
    use palisade_engine::{build_pipeline, Overrides};
    use serde_json::{json, Value as Json};

    use super::*;
    use crate::watch::Entry;

    fn pipeline(config: &str) -> Pipeline {
        let loaded = if config.is_empty() {
            LoadedConfig::default()
        } else {
            config::parse(".palisade.yaml", config).expect("config parses")
        };
        build_pipeline(&loaded, &Overrides::default())
            .expect("pipeline")
            .0
    }

    fn put(state: &mut State, value: Json) {
        let text = |p: &str| {
            value
                .pointer(p)
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string()
        };
        let key = (
            text("/kind"),
            text("/metadata/namespace"),
            text("/metadata/name"),
        );
        state.dirty.insert(key.1.clone());
        let version = state.objects.len().to_string() + &text("/metadata/name");
        state.objects.insert(
            key,
            Entry {
                version,
                object: Arc::new(palisade_load::json::to_object(&value)),
                findings: None,
            },
        );
    }

    fn remove(state: &mut State, kind: &str, namespace: &str, name: &str) {
        state.dirty.insert(namespace.to_string());
        state
            .objects
            .remove(&(kind.to_string(), namespace.to_string(), name.to_string()));
    }

    fn deployment(namespace: &str, name: &str, account: &str, privileged: bool) -> Json {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"serviceAccountName": account, "containers": [{
                    "name": "app", "image": "registry.example.com/shop/app:1.4.2",
                    "securityContext": {"privileged": privileged}}]}}}})
    }

    fn namespace(name: &str) -> Json {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    }

    fn cluster() -> State {
        let mut state = State::default();
        for ns in ["shop", "payments"] {
            put(&mut state, namespace(ns));
            put(
                &mut state,
                json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "web", "namespace": ns}}),
            );
            put(&mut state, deployment(ns, "web", "web", false));
        }
        state
    }

    /// What a fresh evaluator says about every group: the reference an incremental one must
    /// agree with.
    fn from_scratch(pipeline: &Pipeline, state: &State) -> BTreeMap<Group, Vec<Finding>> {
        let mut copy = State::default();
        for (key, entry) in &state.objects {
            copy.objects.insert(
                key.clone(),
                Entry {
                    version: entry.version.clone(),
                    object: Arc::clone(&entry.object),
                    findings: None,
                },
            );
        }
        Evaluator::default()
            .evaluate(pipeline, &mut copy, true)
            .groups
    }

    fn rules(findings: &[Finding]) -> Vec<(&'static str, String)> {
        let mut out: Vec<_> = findings
            .iter()
            .map(|f| (f.rule, f.object.display_name()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_change_judges_its_namespace_again_and_agrees_with_a_fresh_evaluation() {
        let pipeline = pipeline("");
        let mut state = cluster();
        let mut evaluator = Evaluator::default();
        let first = evaluator.evaluate(&pipeline, &mut state, false);
        assert!(first.complete);
        assert_eq!(first.groups.len(), 3, "shop, payments and cluster-scoped");

        put(&mut state, deployment("shop", "web", "web", true));
        let next = evaluator.evaluate(&pipeline, &mut state, false);
        assert!(!next.complete);
        let judged: Vec<&Group> = next.groups.keys().collect();
        assert_eq!(judged, vec![&Some("shop".to_string())]);
        let shop = &next.groups[&Some("shop".to_string())];
        assert!(shop
            .iter()
            .any(|f| f.rule == "PAL-PSS-002" && f.object.name == "web"));
        let reference = from_scratch(&pipeline, &state);
        assert_eq!(rules(shop), rules(&reference[&Some("shop".to_string())]));

        let quiet = evaluator.evaluate(&pipeline, &mut state, false);
        assert!(quiet.groups.is_empty(), "nothing changed, nothing judged");
    }

    #[test]
    fn a_binding_in_one_namespace_judges_the_namespaces_whose_findings_it_changes() {
        let pipeline = pipeline("");
        let mut state = cluster();
        let mut evaluator = Evaluator::default();
        evaluator.evaluate(&pipeline, &mut state, false);
        // A ClusterRoleBinding (cluster-scoped) makes payments' service account cluster-admin:
        // the workload that runs as it becomes risky, a finding in payments.
        put(
            &mut state,
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "payments-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "payments"}]}),
        );
        let next = evaluator.evaluate(&pipeline, &mut state, false);
        let reference = from_scratch(&pipeline, &state);
        let payments = Some("payments".to_string());
        assert!(next.groups.contains_key(&payments), "payments judged again");
        assert!(
            next.groups.contains_key(&None),
            "the binding's own group judged again"
        );
        assert!(
            !next.groups.contains_key(&Some("shop".to_string())),
            "shop untouched"
        );
        assert_ne!(
            rules(&next.groups[&payments]),
            rules(&from_scratch(&pipeline, &cluster())[&payments]),
            "the binding changed what is said about payments"
        );
        for (group, findings) in &next.groups {
            assert_eq!(rules(findings), rules(&reference[group]), "{group:?}");
        }
    }

    #[test]
    fn a_deleted_namespace_leaves_an_empty_group() {
        let pipeline = pipeline("");
        let mut state = cluster();
        let mut evaluator = Evaluator::default();
        evaluator.evaluate(&pipeline, &mut state, false);
        remove(&mut state, "Deployment", "shop", "web");
        remove(&mut state, "ServiceAccount", "shop", "web");
        remove(&mut state, "Namespace", "", "shop");
        let next = evaluator.evaluate(&pipeline, &mut state, false);
        assert_eq!(
            next.groups.get(&Some("shop".to_string())),
            Some(&Vec::new())
        );
    }

    #[test]
    fn config_exceptions_are_judged_over_every_namespace() {
        let pipeline = pipeline(
            "exceptions:\n  - rules: [pss-privileged]\n    kind: Deployment\n    namespace: shop\n    reason: the node agent needs the host\n",
        );
        let mut state = cluster();
        put(&mut state, deployment("shop", "web", "web", true));
        let mut evaluator = Evaluator::default();
        let first = evaluator.evaluate(&pipeline, &mut state, false);
        let unused = |groups: &BTreeMap<Group, Vec<Finding>>| {
            groups
                .get(&None)
                .is_some_and(|f| f.iter().any(|f| f.name == "suppression-unused"))
        };
        assert!(
            !unused(&first.groups),
            "the exception covers shop's privileged Deployment"
        );
        assert!(
            first
                .groups
                .values()
                .flatten()
                .all(|f| f.name != "suppression-unused"),
            "payments does not use the exception, and is not where that is judged"
        );
        let shop = &first.groups[&Some("shop".to_string())];
        assert!(shop
            .iter()
            .any(|f| f.rule == "PAL-PSS-002" && f.suppressed.is_some()));

        // Fixed: the exception suppresses nothing any more, which is said in the cluster group
        // although only shop changed.
        put(&mut state, deployment("shop", "web", "web", false));
        let next = evaluator.evaluate(&pipeline, &mut state, false);
        assert!(
            unused(&next.groups),
            "{:?}",
            next.groups.get(&None).map(|f| rules(f))
        );
    }
}
