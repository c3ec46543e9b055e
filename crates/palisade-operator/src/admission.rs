//! The cluster's own ValidatingAdmissionPolicies, read from the watched state and judged with
//! every other rule: rebuilt when a policy, a binding, a Namespace or a parameter object
//! changes, which re-judges every namespace (a policy can reach any of them).

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use palisade_analysis::admission::Policies;

use crate::watch::State;

const POLICY_KINDS: [&str; 2] = [
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

/// What the policies were last built from.
#[derive(Default)]
pub struct Admission {
    digest: Option<u64>,
    /// Policies left out because their parameters are of a kind the operator does not watch,
    /// already said.
    said: BTreeSet<String>,
}

/// The kinds the state holds objects of.
fn kinds_held(state: &State) -> BTreeSet<&str> {
    state.objects.keys().map(|k| k.0.as_str()).collect()
}

impl Admission {
    /// The policies in `state` when they changed since the last call (`Some(None)`: there are
    /// none any more), `None` when nothing they read changed.
    pub fn changed(
        &mut self,
        state: &State,
        warn: &dyn Fn(String),
    ) -> Option<Option<Arc<Policies>>> {
        let mut policy_keys: Vec<_> = state
            .objects
            .iter()
            .filter(|(key, _)| POLICY_KINDS.contains(&key.0.as_str()))
            .collect();
        policy_keys.sort_by(|a, b| a.0.cmp(b.0));
        let mut policies = Policies::default();
        let held = kinds_held(state);
        for (key, entry) in &policy_keys {
            let object = entry.object();
            // A policy whose parameters the operator cannot see would fail closed on every
            // object it matches: it is left out, and said once.
            if let Some(param_kind) = object
                .root
                .get("spec")
                .and_then(|s| s.get("paramKind"))
                .and_then(|p| p.str_of("kind"))
            {
                if !held.contains(param_kind) {
                    if self.said.insert(key.2.clone()) {
                        warn(format!(
                            "ValidatingAdmissionPolicy {}: its parameters are {param_kind} objects, which the operator does not watch; not judged",
                            key.2
                        ));
                    }
                    continue;
                }
            }
            policies.add_policy_or_binding(&object);
        }
        let context_kinds = if policies.is_empty() {
            Vec::new()
        } else {
            policies.context_kinds()
        };
        let mut context: Vec<_> = state
            .objects
            .iter()
            .filter(|(key, _)| context_kinds.contains(&key.0))
            .collect();
        context.sort_by(|a, b| a.0.cmp(b.0));
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for (key, entry) in policy_keys.iter().chain(&context) {
            (key, &entry.version).hash(&mut hasher);
        }
        let digest = hasher.finish();
        if self.digest == Some(digest) {
            return None;
        }
        self.digest = Some(digest);
        if policies.is_empty() {
            return Some(None);
        }
        for (_, entry) in context {
            policies.add_context(&entry.object());
        }
        for (_, message) in std::mem::take(&mut policies.problems) {
            warn(message);
        }
        for (_, message) in policies.dangling_bindings() {
            warn(message);
        }
        Some(Some(Arc::new(policies)))
    }
}
