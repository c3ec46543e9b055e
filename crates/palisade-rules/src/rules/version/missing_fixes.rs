use palisade_analysis::releases::KubeVersion;
use palisade_analysis::Inventory;

use super::{described, others};
use crate::meta::rule;
use crate::{Check, Emitter};

/// How many vulnerabilities a message names before it counts the rest.
const NAMED: usize = 5;

rule! {
    /// ## What it does
    /// Flags a Kubernetes server component (kube-apiserver, kube-controller-manager,
    /// kube-scheduler, kubelet, kube-proxy) that runs a patch release with a known
    /// vulnerability a later release fixes, naming the vulnerabilities and the release to
    /// upgrade to. Versions are read where `PAL-VER-001` reads them; one finding per component
    /// and version.
    ///
    /// Vulnerabilities come from the official Kubernetes CVE feed in OSV form
    /// (kubernetes-sigs/cve-feed-osv), bundled as of 2024-11-18, or from `scan --k8s-data
    /// FILE` (the bundled file's shape: append newer OSV records to `vulnerabilities`). A
    /// vulnerability announced after the data's date is not known here.
    ///
    /// ## Why is this bad?
    /// A fixed, published vulnerability is the cheapest kind to exploit: the fix shows where
    /// the flaw is. Patch releases within a minor release change nothing else an upgrade
    /// would fear.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Node
    /// metadata: {name: worker-1}
    /// status:
    ///   nodeInfo:
    ///     kubeletVersion: v1.26.5   # fails: CVE-2023-5528 is fixed in 1.26.11
    /// ```
    ///
    /// ## Remediation
    /// Upgrade to the named patch release of the same minor release (or later); where no
    /// release of that minor fixes a vulnerability, the minor release is past its end of
    /// life: upgrade the minor release.
    ///
    /// ## References
    /// - Official Kubernetes CVE feed: <https://kubernetes.io/docs/reference/issues-security/official-cve-feed/>
    /// - Kubernetes security announcements: <https://kubernetes.io/docs/reference/issues-security/security/>
    pub static RULE = {
        code: "PAL-VER-002",
        name: "kubernetes-missing-security-fixes",
        severity: High,
        category: "version",
        controls: ["NSA:upgrades", "MITRE:T1190", "MITRE:T1068"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    for group in inventory.versions.grouped() {
        let Some(first) = group.first() else { continue };
        let version = first.version;
        let missing = inventory.releases.missing_fixes(first.component, version);
        if missing.is_empty() {
            continue;
        }
        let same_line = |v: &KubeVersion| (v.major, v.minor) == (version.major, version.minor);
        // The release that fixes everything fixable on this minor line: the highest fix there.
        let upgrade = missing
            .iter()
            .filter_map(|(_, fixed)| fixed.filter(same_line))
            .max();
        let unfixed_here: Vec<&str> = missing
            .iter()
            .filter(|(_, fixed)| !fixed.as_ref().is_some_and(same_line))
            .map(|(a, _)| a.id.as_str())
            .collect();
        let mut named: Vec<String> = missing
            .iter()
            .take(NAMED)
            .map(|(a, fixed)| match fixed {
                Some(v) => format!("{} (fixed in {v})", a.id),
                None => format!("{} (no fix released)", a.id),
            })
            .collect();
        if missing.len() > NAMED {
            named.push(format!("and {} more", missing.len() - NAMED));
        }
        let mut advice = Vec::new();
        if let Some(upgrade) = upgrade {
            advice.push(format!("upgrade to {upgrade} or later"));
        }
        if !unfixed_here.is_empty() {
            advice.push(format!(
                "no {}.{} release fixes {}: upgrade the minor release",
                version.major,
                version.minor,
                unfixed_here.join(", ")
            ));
        }
        let count = if missing.len() == 1 {
            "1 known vulnerability".to_string()
        } else {
            format!("{} known vulnerabilities", missing.len())
        };
        out.report_with(
            &first.at,
            None,
            format!(
                "{}: {count} fixed in later releases: {}; {}",
                described(first),
                named.join(", "),
                advice.join("; ")
            ),
            others(&group),
        );
    }
}
