//! The API server's audit `Policy` (`audit.k8s.io/v1`), evaluated first-match as the API
//! server does (see `palisade_analysis::audit_policy`).

pub mod logs_secret_values;
pub mod policy_gaps;

use palisade_model::{FieldPath, Node, Object};

pub(crate) fn rules_of(object: &Object) -> Option<&[Node]> {
    let is_policy = object.group() == "audit.k8s.io" && object.kind() == "Policy";
    is_policy.then(|| {
        object
            .root
            .get("rules")
            .map(Node::as_seq)
            .unwrap_or_default()
    })
}

pub(crate) fn rule_path(index: usize) -> FieldPath {
    FieldPath::root().key("rules").index(index)
}
