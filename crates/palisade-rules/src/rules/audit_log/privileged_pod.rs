use palisade_analysis::pss::{self, Level, Version};
use std::collections::{HashMap, HashSet};

use palisade_audit::{is_control_plane, AuditEvent};
use palisade_model::PodView;

use super::when;
use crate::meta::{rule, AuditDetector, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports pods and pod controllers created (or replaced) with a privileged container,
    /// host namespaces (`hostNetwork`, `hostPID`, `hostIPC`) or `hostPath` volumes, judged with
    /// the same Pod Security checks as `palisade scan`, on the request body. The audit policy
    /// must log pod and workload writes at the `Request` level or above.
    ///
    /// What a controller makes (a DaemonSet's pods, a Deployment's ReplicaSet and its pods) is
    /// reported once per workload it was made for, naming it, and not at all when the log
    /// already holds the finding on that workload's own create. Only Kubernetes' own
    /// control-plane identities count as controllers; any other account, `kube-system`'s
    /// included, is judged as the person who used it.
    ///
    /// ## Why is this bad?
    /// Each of these is a way out of the container onto the node (MITRE T1611). In a namespace
    /// whose Pod Security level forbids them the request fails; an allowed one means the pod
    /// runs.
    ///
    /// ## Example
    /// ```json
    /// {"verb":"create","objectRef":{"resource":"pods"},"requestObject":{"spec":{"hostPID":true, ...}}}
    /// ```
    ///
    /// ## Remediation
    /// Confirm the workload needs the access; enforce `baseline` or `restricted` Pod Security
    /// on its namespace.
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("Create Privileged Pod", "Create Sensitive Mount Pod",
    ///   "Create HostNetwork Pod"): <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-007",
        name: "audit-privileged-pod",
        severity: High,
        category: "audit-log",
        controls: ["MITRE:T1611", "NSA:pod-security", "NSA:logging"],
        check: Check::AuditStream(start),
    };
}

const WATCHED: &[&str] = &["privileged", "hostNamespaces", "hostPathVolumes"];

/// An object of a namespace: (namespace, kind, name).
type Key = (String, String, String);

/// What the log showed so far: which workload each controller-made object was made for, and
/// the workloads already reported.
#[derive(Default)]
struct Privileged {
    made_for: HashMap<Key, Key>,
    reported: HashSet<Key>,
}

fn start() -> Box<dyn AuditDetector> {
    Box::new(Privileged::default())
}

/// The object's controlling owner, from `metadata.ownerReferences`.
fn controller_of(body: &serde_json::Value) -> Option<(String, String)> {
    body.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|owner| owner.get("controller") == Some(&serde_json::Value::Bool(true)))
        .and_then(|owner| {
            Some((
                owner.get("kind")?.as_str()?.to_string(),
                owner.get("name")?.as_str()?.to_string(),
            ))
        })
}

impl Privileged {
    /// The workload `key` was ultimately made for (itself when no controller made it).
    fn root_of(&self, mut key: Key) -> Key {
        // Bounded: owner chains are short, and a log could describe a cycle.
        for _ in 0..8 {
            match self.made_for.get(&key) {
                Some(owner) => key = owner.clone(),
                None => break,
            }
        }
        key
    }
}

impl AuditDetector for Privileged {
    fn observe(&mut self, event: &AuditEvent) -> Vec<AuditHit> {
        if !matches!(event.verb.as_str(), "create" | "update")
            || !event.subresource().is_empty()
            || !event.allowed()
        {
            return Vec::new();
        }
        let Some(body) = &event.request_object else {
            return Vec::new();
        };
        let object = palisade_load::json::to_object(body);
        let Some(pod) = PodView::of(&object) else {
            return Vec::new();
        };
        let target = event.object();
        let namespace = target.namespace.clone().unwrap_or_default();
        let this: Key = (namespace.clone(), target.kind.clone(), target.name.clone());
        let violations: Vec<_> = pss::evaluate(&pod, Level::Baseline, Version::LATEST)
            .into_iter()
            .filter(|(check, _)| WATCHED.contains(&check.id))
            .map(|(_, violation)| violation)
            .collect();
        if !is_control_plane(event.acting_user()) {
            if !violations.is_empty() {
                self.reported.insert(this);
            }
            return violations
                .into_iter()
                .map(|violation| AuditHit {
                    message: format!(
                        "{} ran `{}` on {}{}: {}",
                        event.who(),
                        event.action(),
                        super::target(event),
                        when(event),
                        violation.message
                    ),
                    path: violation.path,
                })
                .collect();
        }
        // Made by a controller: judged once, for the workload it was made for. A control-plane
        // object that no workload owns (a node's mirror pod) is the node's.
        let Some((owner_kind, owner_name)) = controller_of(body) else {
            return Vec::new();
        };
        let root = self.root_of((namespace.clone(), owner_kind, owner_name));
        // Only what can own pods is remembered (a Deployment's ReplicaSet, a CronJob's Job):
        // a log of millions of pods must not grow this map.
        if this.1 != "Pod" {
            self.made_for.insert(this, root.clone());
        }
        let Some(first) = violations.first() else {
            return Vec::new();
        };
        if !self.reported.insert(root.clone()) {
            return Vec::new();
        }
        let (root_namespace, root_kind, root_name) = &root;
        let problems: Vec<&str> = violations.iter().map(|v| v.message.as_str()).collect();
        vec![AuditHit {
            message: format!(
                "{root_kind} {root_namespace}/{root_name} runs pods that escape to the node, made by {} (`{}` on {}{}): {}",
                event.who(),
                event.action(),
                super::target(event),
                when(event),
                problems.join("; ")
            ),
            path: first.path.clone(),
        }]
    }
}
