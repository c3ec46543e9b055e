use palisade_analysis::Inventory;
use palisade_model::Severity;

use super::{described, others};
use crate::meta::rule;
use crate::{Check, Emitter};

/// How long before its end of life a release is worth a warning: about one release cycle's
/// upgrade planning.
const WARN_DAYS: i64 = 60;

rule! {
    /// ## What it does
    /// Flags a Kubernetes control plane or node component that runs a minor release past its
    /// end of life, and (at low severity) one that reaches it within 60 days. Versions are
    /// read from Nodes' `status.nodeInfo.kubeletVersion`, control-plane and kube-proxy images
    /// tagged with a version (`registry.k8s.io/kube-apiserver:v1.26.5`), kubeadm's
    /// `ClusterConfiguration.kubernetesVersion` and `--kubernetes-version`, and with
    /// `--cluster` the API server's `/version`. One finding per component and version, however
    /// many Nodes run it (the others are related places).
    ///
    /// End-of-life dates come from the Kubernetes project's releases data, bundled (read
    /// 2026-12-07: releases 1.18 to 1.36) or from `scan --k8s-data FILE`; `scan --as-of DATE`
    /// judges them on another day than today (planning an upgrade). A minor release newer
    /// than the data knows is not judged.
    ///
    /// ## Why is this bad?
    /// A minor release past its end of life gets no more patch releases: every vulnerability
    /// found in it since stays open. The project supports the three latest minor releases for
    /// about fourteen months each.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Pod
    /// metadata: {name: kube-apiserver-cp1, namespace: kube-system}
    /// spec:
    ///   containers:
    ///   - name: kube-apiserver
    ///     image: registry.k8s.io/kube-apiserver:v1.26.5   # fails: 1.26 ended 2024-02-28
    /// ```
    ///
    /// ## Remediation
    /// Upgrade one minor release at a time (the version skew policy allows no jumps), control
    /// plane first, then the kubelets, until a supported minor release runs everywhere.
    ///
    /// ## References
    /// - Kubernetes releases and their end-of-life dates: <https://kubernetes.io/releases/>
    /// - Version skew policy: <https://kubernetes.io/releases/version-skew-policy/>
    /// - CIS Kubernetes Benchmark: keep the cluster on a supported version
    pub static RULE = {
        code: "PAL-VER-001",
        name: "kubernetes-end-of-life",
        severity: High,
        category: "version",
        controls: ["NSA:upgrades", "MITRE:T1190"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let data = &inventory.releases;
    let today = inventory.today;
    let supported = data
        .oldest_supported(today)
        .map(|m| {
            format!(
                "; the oldest supported minor release on {today} is {}.{}",
                m.major, m.minor
            )
        })
        .unwrap_or_default();
    for group in inventory.versions.grouped() {
        let Some(first) = group.first() else { continue };
        let version = first.version;
        let what = described(first);
        if let Some(oldest) = data.older_than_known(version) {
            out.report_with(
                &first.at,
                None,
                format!(
                    "{what}: Kubernetes {}.{} is past its end of life (before {}, when {}.{} ended){supported}",
                    version.major, version.minor, oldest.end_of_life, oldest.major, oldest.minor
                ),
                others(&group),
            );
            continue;
        }
        let Some(minor) = data.minor(version) else {
            continue;
        };
        let left = today.days_until(minor.end_of_life);
        if left < 0 {
            out.report_with(
                &first.at,
                None,
                format!(
                    "{what}: Kubernetes {}.{} is past its end of life ({}): no security fixes since{supported}",
                    minor.major, minor.minor, minor.end_of_life
                ),
                others(&group),
            );
        } else if left <= WARN_DAYS {
            out.report_with(
                &first.at,
                Some(Severity::Low),
                format!(
                    "{what}: Kubernetes {}.{} reaches its end of life on {} (in {left} days); plan the upgrade",
                    minor.major, minor.minor, minor.end_of_life
                ),
                others(&group),
            );
        }
    }
}
