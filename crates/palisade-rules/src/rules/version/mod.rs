//! Kubernetes version currency: the control plane and the nodes run a supported minor
//! release at a patch level with the known security fixes.

pub mod end_of_life;
pub mod missing_fixes;

use palisade_analysis::releases::Sighting;
use palisade_model::Related;

/// What a version finding says of where the version was read: `kubelet v1.26.5 (from
/// status.nodeInfo.kubeletVersion)`.
pub(crate) fn described(first: &Sighting) -> String {
    format!(
        "{} {} (from {})",
        first.component.name(),
        first.text,
        first.how
    )
}

/// The other places that run the same component at the same version, as related places
/// (at most ten: a thousand nodes at one version are one finding, not a thousand places).
pub(crate) fn others(group: &[&Sighting]) -> Vec<Related> {
    group
        .iter()
        .skip(1)
        .take(10)
        .map(|s| Related {
            object: std::sync::Arc::clone(&s.at.object),
            path: s.at.path.clone(),
            location: s.at.location.clone(),
            message: format!("also {} {}", s.component.name(), s.text),
        })
        .collect()
}
