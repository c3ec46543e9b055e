//! Everything whole-input analyses read, collected in one pass over the objects and kept
//! compact (no object trees, no Secret data).

use palisade_model::Object;

use crate::attack::Exposures;
use crate::kubelet::{Kubelet, KubeletsBuilder};
use crate::netpol::Network;
use crate::rbac;
use crate::resources::{Resources, ResourcesBuilder};

#[derive(Clone, Default, PartialEq)]
pub struct InventoryBuilder {
    rbac: rbac::InventoryBuilder,
    network: Network,
    resources: ResourcesBuilder,
    kubelets: KubeletsBuilder,
    exposures: Exposures,
}

/// Built-in kinds no whole-input analysis reads (RBAC, NetworkPolicy, resources, kubelets):
/// a reader that only builds the inventory may skip them unparsed.
const IGNORED_KINDS: &[&str] = &[
    "ConfigMap",
    "Endpoints",
    "EndpointSlice",
    "Event",
    "IngressClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "StorageClass",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Lease",
    "ControllerRevision",
    "ResourceQuota",
    "PriorityClass",
    "CustomResourceDefinition",
    "APIService",
    "CertificateSigningRequest",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "RuntimeClass",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "Node",
];

impl InventoryBuilder {
    /// Whether objects of `kind` never contribute to the inventory.
    pub fn ignores_kind(kind: &str) -> bool {
        IGNORED_KINDS.contains(&kind)
    }

    pub fn add(&mut self, object: &Object) {
        self.rbac.add(object);
        self.network.add(object);
        self.resources.add(object);
        self.kubelets.add(object);
        self.exposures.add(object);
    }

    pub fn merge(&mut self, other: InventoryBuilder) {
        self.rbac.merge(other.rbac);
        self.network.merge(other.network);
        self.resources.merge(other.resources);
        self.kubelets.merge(other.kubelets);
        self.exposures.exposures.extend(other.exposures.exposures);
    }

    /// `rbac_bootstrap`: assume Kubernetes' default RBAC policy.
    pub fn build(self, rbac_bootstrap: bool) -> Inventory {
        Inventory {
            rbac: self.rbac.build(rbac_bootstrap),
            network: self.network,
            resources: self.resources.build(),
            kubelets: self.kubelets.build(),
            exposures: self.exposures,
        }
    }
}

/// The whole input, for rules that look across objects.
pub struct Inventory {
    pub rbac: rbac::Inventory,
    pub network: Network,
    pub resources: Resources,
    pub kubelets: Vec<Kubelet>,
    /// The Services the internet reaches (attack paths start there).
    pub exposures: Exposures,
}
