use palisade_analysis::attack::{paths, AttackPath, Goal, Start};
use palisade_analysis::Inventory;
use palisade_model::Related;

use crate::meta::rule;
use crate::{Check, Emitter};

rule! {
    /// ## What it does
    /// Flags each exposed Service from which the internet reaches cluster-admin, or a node,
    /// hop by hop: the Service is exposed (`type: LoadBalancer` or `NodePort`, `externalIPs`,
    /// an Ingress rule), its selector picks pods the NetworkPolicy tiers let the traffic into,
    /// those pods hold their ServiceAccount's token (or break the baseline Pod Security level
    /// and so hold their node), and that account (or the node) escalates to cluster-admin.
    /// The finding sits on what exposes the Service; the message gives the chain, and each hop
    /// is a related place (`palisade paths` prints the same chains). One finding per exposed
    /// Service: cluster-admin when it leads there, else a node.
    ///
    /// ## Why is this bad?
    /// Each link alone is a modest finding (a public Service, a mounted token, a RoleBinding
    /// in another namespace); chained, one bug in a public web server is the whole cluster.
    /// This is the first question of an assessment, and the order attackers work in.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// metadata: {name: web, namespace: storefront}
    /// spec:
    ///   type: LoadBalancer   # fails: its pods hold a token that leads to cluster-admin
    ///   selector: {app: web}
    /// ```
    ///
    /// ## Remediation
    /// Cut the chain at the cheapest link: `automountServiceAccountToken: false` for pods that
    /// never call the API, a NetworkPolicy that admits only the load balancer's or ingress
    /// controller's traffic, no grants to a front end's account outside its namespace, and
    /// Pod Security baseline (or restricted) for exposed workloads.
    ///
    /// ## References
    /// - Kubernetes RBAC good practices: <https://kubernetes.io/docs/concepts/security/rbac-good-practices/>
    /// - MITRE ATT&CK for containers: exploit public-facing application (T1190)
    pub static RULE = {
        code: "PAL-PATH-001",
        name: "attack-path-from-internet",
        severity: Critical,
        category: "attack-paths",
        controls: ["MITRE:T1190", "MITRE:T1078", "MITRE:T1611", "NSA:network-separation"],
        check: Check::Inventory(check),
    };
}

fn check(inventory: &Inventory, out: &mut Emitter) {
    let mut reported: Vec<palisade_analysis::rbac::Source> = Vec::new();
    for goal in [Goal::ClusterAdmin, Goal::Node] {
        // With vulnerability reports, the first hop says how the attacker gets in.
        let paths = paths(
            &inventory.rbac,
            &inventory.network,
            &inventory.exposures,
            &inventory.image_reports,
            &Start::Internet,
            goal,
        );
        for path in &paths {
            let Some(at) = path.hops.first().and_then(|h| h.source.as_ref()) else {
                continue;
            };
            // Shortest first: the first path from an exposure is the one to tell, and one to
            // cluster-admin says more than one to a node.
            if reported.contains(at) {
                continue;
            }
            reported.push(at.clone());
            out.report(at, message(path, goal), related(path));
        }
    }
}

fn message(path: &AttackPath, goal: Goal) -> String {
    let goal = match goal {
        Goal::ClusterAdmin => "cluster-admin",
        Goal::Node => "a node",
    };
    let hops: Vec<String> = path
        .hops
        .iter()
        .enumerate()
        .map(|(i, hop)| format!("{}. → {}: {}", i + 1, hop.reached, hop.explanation))
        .collect();
    format!(
        "the internet reaches {goal} in {} hops: {}",
        path.hops.len(),
        hops.join("; ")
    )
}

fn related(path: &AttackPath) -> Vec<Related> {
    path.hops
        .iter()
        .skip(1)
        .filter_map(|hop| {
            let source = hop.source.as_ref()?;
            Some(Related {
                object: std::sync::Arc::clone(&source.object),
                path: source.path.clone(),
                location: source.location.clone(),
                message: format!("→ {}", hop.reached),
            })
        })
        .collect()
}
