//! Evaluations of the watched state, namespace by namespace: a change re-judges the namespaces
//! it can affect, not the cluster.
//!
//! Each namespace (and the cluster-scoped objects, as one more group) is scanned as a part of
//! the cluster, and its findings are kept (one copy: they are what the reports are built
//! from). A namespace is scanned again only when one of its objects changed or the
//! whole-cluster rules' findings about it did. Those rules (RBAC escalation paths,
//! NetworkPolicy coverage, LimitRange defaulting, service-account automount) read what each
//! namespace's objects hold for them, kept per namespace, and run again only when that
//! changed: a new image or a changed label on a pod no policy selects costs no whole-cluster
//! run. The config file's exceptions are judged over all parts together.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use palisade_engine::{
    config_exception_findings, whole_input_findings, whole_input_part, InventoryBuilder, Pipeline,
    StreamScan,
};
use palisade_model::{Finding, Object, Severity};

use crate::watch::{Entry, Key, State};

/// A namespace, or `None` for the cluster-scoped objects.
pub type Group = Option<String>;

/// What an evaluation judged.
pub struct Evaluation {
    /// The groups judged again, whether their findings changed or not (a group that no
    /// longer exists is judged to have none); [`Evaluator::findings`] has their findings.
    pub groups: BTreeSet<Group>,
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
    /// The group's findings, suppressions and severities applied.
    findings: Vec<Finding>,
    /// A digest of the whole-cluster rules' findings about the group.
    whole_input: u64,
    /// Which of the config file's exceptions suppressed a finding in the group.
    used: Vec<bool>,
    /// Where the findings about the config file's exceptions start (the cluster-scoped group
    /// carries them; they change when any group's use of an exception does).
    config_from: usize,
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
            finding.rule.code,
            &*finding.object,
            finding.path.as_str(),
            &finding.message,
            finding.severity,
        )
            .hash(&mut hasher);
        for related in finding.related() {
            related.message.hash(&mut hasher);
        }
        sum.wrapping_add(hasher.finish())
    })
}

/// One group's scan: its objects checked, the whole-cluster findings about it added,
/// suppressions and severities applied. Returns the findings and the config exceptions used.
fn judge(pipeline: &Pipeline, objects: &[Object], whole: &[Finding]) -> (Vec<Finding>, Vec<bool>) {
    let mut scan = StreamScan::part(pipeline);
    for object in objects {
        scan.add(object);
    }
    scan.add_findings(whole.to_vec());
    let (report, used) = scan.finish_part();
    (report.findings, used)
}

impl Evaluator {
    /// The findings of `group` as last judged.
    pub fn findings(&self, group: &Group) -> &[Finding] {
        self.judged.get(group).map_or(&[], |j| &j.findings)
    }

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
        let members = members_by_group(state);
        self.refresh_whole_input(pipeline, &members, &dirty);
        let mut judged_now = self.settle_groups(&members, &mut dirty, complete);
        self.judge_groups(pipeline, &members, dirty, &mut judged_now);
        self.refresh_config_findings(pipeline, &mut judged_now);
        Evaluation {
            groups: judged_now,
            complete,
            owners: state.namespace_uids.clone(),
            objects: state.objects.len(),
            counts: self.counts(),
        }
    }

    /// Runs the whole-cluster rules again when anything they read changed (most changes, an
    /// image or a container's securityContext in a pod no binding makes risky, do not), and
    /// keeps their findings by group.
    fn refresh_whole_input(
        &mut self,
        pipeline: &Pipeline,
        members: &Members<'_>,
        dirty: &HashSet<Group>,
    ) {
        let first = self.parts.is_empty();
        let mut read_changed = first;
        for group in dirty {
            if !members.contains_key(group) {
                read_changed |= self.parts.remove(group).is_some();
            }
        }
        for (group, objects) in members {
            if first || dirty.contains(group) {
                let part = whole_input_part(pipeline, &trees(objects));
                if self.parts.get(group) != Some(&part) {
                    read_changed = true;
                    self.parts.insert(group.clone(), part);
                }
            }
        }
        if !read_changed {
            return;
        }
        let mut in_order: Vec<&Group> = self.parts.keys().collect();
        in_order.sort();
        let mut merged = InventoryBuilder::default();
        for group in in_order {
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

    /// Adds to `dirty` the groups whose whole-cluster findings changed (every group when
    /// `complete`), forgets the groups that are gone and keeps in `dirty` only those that
    /// exist. Returns the groups judged so far: the ones that are gone (judged to have no
    /// findings).
    fn settle_groups(
        &mut self,
        members: &Members<'_>,
        dirty: &mut HashSet<Group>,
        complete: bool,
    ) -> BTreeSet<Group> {
        let mut present: HashSet<Group> = members.keys().cloned().collect();
        present.extend(self.whole.keys().cloned());
        // The cluster-scoped group always exists: the config file's findings land there.
        present.insert(None);
        for group in &present {
            let now = self.whole.get(group).map_or(0, |f| digest(f));
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
        let mut judged_now = BTreeSet::new();
        for group in gone {
            self.judged.remove(&group);
            judged_now.insert(group);
        }
        dirty.retain(|group| present.contains(group));
        judged_now
    }

    /// Scans each group of `dirty` with the whole-cluster findings about it.
    fn judge_groups(
        &mut self,
        pipeline: &Pipeline,
        members: &Members<'_>,
        dirty: HashSet<Group>,
        judged_now: &mut BTreeSet<Group>,
    ) {
        for group in dirty {
            let objects = members.get(&group).map_or(&[][..], Vec::as_slice);
            let whole = self.whole.get(&group).map_or(&[][..], Vec::as_slice);
            let (findings, used) = judge(pipeline, &trees(objects), whole);
            let judged = Judged {
                config_from: findings.len(),
                findings,
                whole_input: digest(whole),
                used,
            };
            self.judged.insert(group.clone(), judged);
            judged_now.insert(group);
        }
    }

    /// Says again what the config file's exceptions are worth (unused, expired) when any
    /// group's use of them changed, or the cluster-scoped group that carries those findings
    /// was judged again.
    fn refresh_config_findings(&mut self, pipeline: &Pipeline, judged_now: &mut BTreeSet<Group>) {
        let mut used = vec![false; self.used.len()];
        for judged in self.judged.values() {
            if used.len() < judged.used.len() {
                used.resize(judged.used.len(), false);
            }
            for (all, this) in used.iter_mut().zip(&judged.used) {
                *all |= *this;
            }
        }
        if used != self.used || judged_now.contains(&None) {
            if let Some(judged) = self.judged.get_mut(&None) {
                judged.findings.truncate(judged.config_from);
                judged
                    .findings
                    .extend(config_exception_findings(pipeline, &used));
                judged_now.insert(None);
            }
        }
        self.used = used;
    }

    /// Unsuppressed findings by severity, over every group.
    fn counts(&self) -> BTreeMap<&'static str, u64> {
        let mut counts = BTreeMap::new();
        for severity in Severity::ALL {
            counts.insert(severity.as_str(), 0);
        }
        for finding in self.judged.values().flat_map(|j| &j.findings) {
            if finding.suppressed().is_none() {
                *counts.entry(finding.severity.as_str()).or_default() += 1;
            }
        }
        counts
    }
}

/// The state's objects by group.
type Members<'s> = HashMap<Group, Vec<(&'s Key, &'s Entry)>>;

/// The state's objects by group, each group in a fixed order, so that what the rules say does
/// not depend on the order objects arrived in.
fn members_by_group(state: &State) -> Members<'_> {
    let mut members: Members<'_> = HashMap::new();
    for (key, entry) in &state.objects {
        members
            .entry(group_of(&key.1))
            .or_default()
            .push((key, entry));
    }
    for objects in members.values_mut() {
        objects.sort_by(|a, b| a.0.cmp(b.0));
    }
    members
}

/// The objects' trees, made for the group at hand and dropped after: they are several times
/// the size of what the state keeps.
fn trees(entries: &[(&Key, &Entry)]) -> Vec<Object> {
    entries.iter().map(|(_, entry)| entry.object()).collect()
}

#[cfg(test)]
mod tests {

    use palisade_engine::config::{self, LoadedConfig};
    use palisade_engine::{build_pipeline, Overrides};
    use serde_json::{json, Value as Json};

    use super::*;

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

    /// Adds or changes an object, as a watch event would (every put is a new version).
    fn put(state: &mut State, mut value: Json) {
        value["metadata"]["resourceVersion"] = Json::String(state.objects.len().to_string());
        let kind = value["kind"].as_str().unwrap_or("").to_string();
        let (key, entry) = crate::watch::keyed(&kind, &value);
        state.dirty.insert(key.1.clone());
        state.objects.insert(key, entry);
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
            copy.objects.insert(key.clone(), entry.clone());
        }
        let mut evaluator = Evaluator::default();
        run(&mut evaluator, pipeline, &mut copy, true).1
    }

    /// Evaluates; returns whether it was complete and the findings of the groups judged.
    fn run(
        evaluator: &mut Evaluator,
        pipeline: &Pipeline,
        state: &mut State,
        complete: bool,
    ) -> (bool, BTreeMap<Group, Vec<Finding>>) {
        let evaluation = evaluator.evaluate(pipeline, state, complete);
        let groups = evaluation
            .groups
            .iter()
            .map(|group| (group.clone(), evaluator.findings(group).to_vec()))
            .collect();
        (evaluation.complete, groups)
    }

    fn rules(findings: &[Finding]) -> Vec<(&'static str, String)> {
        let mut out: Vec<_> = findings
            .iter()
            .map(|f| (f.rule.code, f.object.display_name()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_change_judges_its_namespace_again_and_agrees_with_a_fresh_evaluation() {
        let pipeline = pipeline("");
        let mut state = cluster();
        let mut evaluator = Evaluator::default();
        let first = run(&mut evaluator, &pipeline, &mut state, false);
        assert!(first.0);
        assert_eq!(first.1.len(), 3, "shop, payments and cluster-scoped");

        put(&mut state, deployment("shop", "web", "web", true));
        let next = run(&mut evaluator, &pipeline, &mut state, false);
        assert!(!next.0);
        let judged: Vec<&Group> = next.1.keys().collect();
        assert_eq!(judged, vec![&Some("shop".to_string())]);
        let shop = &next.1[&Some("shop".to_string())];
        assert!(shop
            .iter()
            .any(|f| f.rule.code == "PAL-PSS-002" && f.object.name == "web"));
        let reference = from_scratch(&pipeline, &state);
        assert_eq!(rules(shop), rules(&reference[&Some("shop".to_string())]));

        let quiet = run(&mut evaluator, &pipeline, &mut state, false);
        assert!(quiet.1.is_empty(), "nothing changed, nothing judged");
    }

    #[test]
    fn a_binding_in_one_namespace_judges_the_namespaces_whose_findings_it_changes() {
        let pipeline = pipeline("");
        let mut state = cluster();
        let mut evaluator = Evaluator::default();
        run(&mut evaluator, &pipeline, &mut state, false);
        // A ClusterRoleBinding (cluster-scoped) makes payments' service account cluster-admin:
        // the workload that runs as it becomes risky, a finding in payments.
        put(
            &mut state,
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "payments-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "payments"}]}),
        );
        let next = run(&mut evaluator, &pipeline, &mut state, false);
        let reference = from_scratch(&pipeline, &state);
        let payments = Some("payments".to_string());
        assert!(next.1.contains_key(&payments), "payments judged again");
        assert!(
            next.1.contains_key(&None),
            "the binding's own group judged again"
        );
        assert!(
            !next.1.contains_key(&Some("shop".to_string())),
            "shop untouched"
        );
        assert_ne!(
            rules(&next.1[&payments]),
            rules(&from_scratch(&pipeline, &cluster())[&payments]),
            "the binding changed what is said about payments"
        );
        for (group, findings) in &next.1 {
            assert_eq!(rules(findings), rules(&reference[group]), "{group:?}");
        }
    }

    #[test]
    fn a_deleted_namespace_leaves_an_empty_group() {
        let pipeline = pipeline("");
        let mut state = cluster();
        let mut evaluator = Evaluator::default();
        run(&mut evaluator, &pipeline, &mut state, false);
        remove(&mut state, "Deployment", "shop", "web");
        remove(&mut state, "ServiceAccount", "shop", "web");
        remove(&mut state, "Namespace", "", "shop");
        let next = run(&mut evaluator, &pipeline, &mut state, false);
        assert_eq!(next.1.get(&Some("shop".to_string())), Some(&Vec::new()));
    }

    #[test]
    fn config_exceptions_are_judged_over_every_namespace() {
        let pipeline = pipeline(
            "exceptions:\n  - rules: [pss-privileged]\n    kind: Deployment\n    namespace: shop\n    reason: the node agent needs the host\n",
        );
        let mut state = cluster();
        put(&mut state, deployment("shop", "web", "web", true));
        let mut evaluator = Evaluator::default();
        let first = run(&mut evaluator, &pipeline, &mut state, false);
        let unused = |groups: &BTreeMap<Group, Vec<Finding>>| {
            groups
                .get(&None)
                .is_some_and(|f| f.iter().any(|f| f.rule.name == "suppression-unused"))
        };
        assert!(
            !unused(&first.1),
            "the exception covers shop's privileged Deployment"
        );
        assert!(
            first
                .1
                .values()
                .flatten()
                .all(|f| f.rule.name != "suppression-unused"),
            "payments does not use the exception, and is not where that is judged"
        );
        let shop = &first.1[&Some("shop".to_string())];
        assert!(shop
            .iter()
            .any(|f| f.rule.code == "PAL-PSS-002" && f.suppressed().is_some()));

        // Fixed: the exception suppresses nothing any more, which is said in the cluster group
        // although only shop changed.
        put(&mut state, deployment("shop", "web", "web", false));
        let next = run(&mut evaluator, &pipeline, &mut state, false);
        assert!(unused(&next.1), "{:?}", next.1.get(&None).map(|f| rules(f)));
    }
}
