//! Everything whole-input analyses read, collected in one pass over the objects and kept
//! compact (no object trees, no Secret data).

use std::sync::Arc;

use palisade_model::{Date, Object};

use crate::attack::Exposures;
use crate::kubelet::{Kubelet, KubeletsBuilder};
use crate::mesh::Mesh;
use crate::netpol::Network;
use crate::rbac::{self, Source};
use crate::releases::{ReleaseData, Versions};
use crate::resources::{Resources, ResourcesBuilder};
use crate::vulns::ImageReport;

#[derive(Clone, Default, PartialEq)]
pub struct InventoryBuilder {
    rbac: rbac::InventoryBuilder,
    network: Network,
    resources: ResourcesBuilder,
    kubelets: KubeletsBuilder,
    mesh: Mesh,
    exposures: Exposures,
    versions: Versions,
    image_reports: Vec<ImageReport>,
}

/// Built-in kinds no whole-input analysis reads (RBAC, NetworkPolicy, resources, kubelets):
/// a reader that only builds the inventory may skip them unparsed.
const IGNORED_KINDS: &[&str] = &[
    "ConfigMap",
    "Endpoints",
    "EndpointSlice",
    "Event",
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
        self.mesh.add(object);
        self.exposures.add(object);
        self.versions.add(object);
        if let Some(report) = crate::vulns::from_vulnerability_report(object) {
            self.image_reports.push(report);
        }
    }

    /// A live API server's version (`/version`); `at` names the cluster.
    pub fn add_server_version(&mut self, git_version: &str, at: Source) {
        self.versions.add_server(git_version, at);
    }

    pub fn merge(&mut self, other: InventoryBuilder) {
        self.rbac.merge(other.rbac);
        self.network.merge(other.network);
        self.resources.merge(other.resources);
        self.kubelets.merge(other.kubelets);
        self.mesh.merge(other.mesh);
        self.exposures.exposures.extend(other.exposures.exposures);
        self.versions.merge(other.versions);
        self.image_reports.extend(other.image_reports);
    }

    /// `rbac_bootstrap`: assume Kubernetes' default RBAC policy.
    pub fn build(self, rbac_bootstrap: bool) -> Inventory {
        Inventory {
            rbac: self.rbac.build(rbac_bootstrap),
            network: self.network,
            resources: self.resources.build(),
            kubelets: self.kubelets.build(),
            mesh: self.mesh,
            exposures: self.exposures,
            versions: self.versions,
            image_reports: self.image_reports,
            releases: ReleaseData::bundled(),
            today: Date::today(),
        }
    }
}

/// The whole input, for rules that look across objects.
pub struct Inventory {
    pub rbac: rbac::Inventory,
    pub network: Network,
    pub resources: Resources,
    pub kubelets: Vec<Kubelet>,
    /// Istio's peer authentication, and the Services the API server calls.
    pub mesh: Mesh,
    /// The Services the internet reaches (attack paths start there).
    pub exposures: Exposures,
    /// Vulnerability reports of images: trivy-operator's in the input, and the files given.
    pub image_reports: Vec<ImageReport>,
    /// Which Kubernetes versions the input says run.
    pub versions: Versions,
    /// Kubernetes releases and their vulnerabilities (bundled, or `--k8s-data`).
    pub releases: Arc<ReleaseData>,
    /// The day end-of-life dates are judged on (today, or `--as-of`).
    pub today: Date,
}
