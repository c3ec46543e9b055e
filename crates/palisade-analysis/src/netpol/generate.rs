//! Policies `palisade netpol generate` writes: a namespace's default deny (as a NetworkPolicy or
//! the cluster's BaselineAdminNetworkPolicy), a deny of the cloud metadata endpoint, and the
//! quarantine of one workload. Built as data and serialised by the loader's YAML writer, so a
//! name or label of any spelling is quoted where it must be and reads back as itself.

use serde_json::{json, Value as Json};

use super::{AdminTier, NetWorkload, Network};

/// The label every generated policy carries, so they can be found and removed together.
const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "palisade");

/// A generated policy: the object, a comment that says what it does, and what the person
/// applying it should know (other policies that weaken it, what it leaves out).
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    pub object: Json,
    /// One line per `#` comment written above the object.
    pub comment: Vec<String>,
    pub notes: Vec<String>,
}

impl Generated {
    fn new(object: Json, comment: &[&str]) -> Self {
        Generated {
            object,
            comment: comment.iter().map(|line| line.to_string()).collect(),
            notes: Vec::new(),
        }
    }

    /// The policy as one YAML document, its comment first.
    pub fn yaml(&self) -> String {
        let mut out = String::new();
        for line in &self.comment {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&palisade_load::emit::yaml_document(&self.object));
        out
    }
}

/// How a quarantine holds a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuarantineStyle {
    /// A deny-all NetworkPolicy: additive, so other policies that allow still allow.
    NetworkPolicy,
    /// An AdminNetworkPolicy at priority 0, before every other policy.
    Admin,
    /// A CiliumNetworkPolicy whose denies win over every allow.
    Cilium,
}

/// Why a workload cannot be quarantined by a policy.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuarantineError {
    #[error("{0} runs on the node's network (hostNetwork: true): no network policy isolates its pods; cordon the node or scale the workload down")]
    HostNetwork(String),
    #[error("{0} has no pod labels, so no policy can select it alone")]
    NoLabels(String),
}

fn metadata(name: &str, namespace: Option<&str>) -> Json {
    let mut metadata = json!({
        "name": name,
        "labels": { MANAGED_BY.0: MANAGED_BY.1 },
    });
    if let Some(namespace) = namespace {
        metadata["namespace"] = json!(namespace);
    }
    metadata
}

/// The namespace selector of exactly `namespace` (by the label the API server sets).
fn namespace_named(namespace: &str) -> Json {
    json!({ "matchLabels": { "kubernetes.io/metadata.name": namespace } })
}

fn kube_dns() -> Json {
    json!({ "matchLabels": { "k8s-app": "kube-dns" } })
}

fn match_labels(labels: &[(String, String)]) -> Json {
    let labels: serde_json::Map<String, Json> = labels
        .iter()
        .map(|(key, value)| (key.clone(), json!(value)))
        .collect();
    json!({ "matchLabels": labels })
}

/// Deny every connection to and from `namespace`'s pods but DNS to kube-dns.
pub fn default_deny(namespace: &str) -> Generated {
    Generated::new(
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata("default-deny", Some(namespace)),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "egress": [{
                    "to": [{
                        "namespaceSelector": namespace_named("kube-system"),
                        "podSelector": kube_dns(),
                    }],
                    "ports": [
                        { "protocol": "UDP", "port": 53 },
                        { "protocol": "TCP", "port": 53 },
                    ],
                }],
            },
        }),
        &[
            &format!(
                "Deny by default in {namespace}: no connection in or out of its pods but DNS,"
            ),
            "to kube-dns only. The namespace's own policies open what its workloads need.",
        ],
    )
}

/// Deny `namespace`'s pods the cloud metadata endpoint (169.254.169.254), which hands out
/// the node's cloud credentials; every other address stays reachable.
pub fn deny_metadata(namespace: &str) -> Generated {
    Generated::new(
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata("deny-cloud-metadata", Some(namespace)),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [
                        { "ipBlock": { "cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"] } },
                        { "namespaceSelector": {} },
                    ],
                }],
            },
        }),
        &[&format!(
            "No pod of {namespace} reaches the cloud metadata endpoint; pods of every namespace stay reachable."
        )],
    )
}

/// The cluster's BaselineAdminNetworkPolicy (there is one, named `default`): deny by default
/// in `namespace`, DNS to kube-dns open; the namespace's own NetworkPolicies open the rest.
pub fn baseline_default_deny(namespace: &str) -> Generated {
    Generated::new(
        json!({
            "apiVersion": "policy.networking.k8s.io/v1alpha1",
            "kind": "BaselineAdminNetworkPolicy",
            "metadata": metadata("default", None),
            "spec": {
                "subject": { "namespaces": namespace_named(namespace) },
                "ingress": [{
                    "name": "default-deny-ingress",
                    "action": "Deny",
                    "from": [{ "namespaces": {} }],
                }],
                "egress": [
                    {
                        "name": "allow-dns",
                        "action": "Allow",
                        "to": [{ "pods": {
                            "namespaceSelector": namespace_named("kube-system"),
                            "podSelector": kube_dns(),
                        } }],
                        "ports": [
                            { "portNumber": { "protocol": "UDP", "port": 53 } },
                            { "portNumber": { "protocol": "TCP", "port": 53 } },
                        ],
                    },
                    {
                        "name": "default-deny-egress",
                        "action": "Deny",
                        "to": [{ "namespaces": {} }, { "networks": ["0.0.0.0/0", "::/0"] }],
                    },
                ],
            },
        }),
        &[
            &format!(
                "Deny by default in {namespace}, below every NetworkPolicy: the namespace's own"
            ),
            "policies open what its workloads need; DNS to kube-dns stays open.",
        ],
    )
}

/// A policy that cuts `target` (a workload of `network`) off in `style`, with notes on what
/// still weakens it.
pub fn quarantine(
    network: &Network,
    target: &NetWorkload,
    style: QuarantineStyle,
) -> Result<Generated, QuarantineError> {
    if target.host_network.is_some() {
        return Err(QuarantineError::HostNetwork(target.id()));
    }
    if target.labels.is_empty() {
        return Err(QuarantineError::NoLabels(target.id()));
    }
    let (namespace, name) = (target.namespace.as_str(), target.object.name.as_str());
    let pods = match_labels(&target.labels);
    Ok(match style {
        QuarantineStyle::NetworkPolicy => {
            let mut generated = Generated::new(
                json!({
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "NetworkPolicy",
                    "metadata": metadata(&format!("quarantine-{name}"), Some(namespace)),
                    "spec": { "podSelector": pods, "policyTypes": ["Ingress", "Egress"] },
                }),
                &[&format!(
                    "No connection in or out of {}'s pods, unless another NetworkPolicy allows it (they add up).",
                    target.id()
                )],
            );
            generated.notes = additive_allows(network, target);
            generated
        }
        QuarantineStyle::Admin => {
            let mut generated = Generated::new(
                json!({
                    "apiVersion": "policy.networking.k8s.io/v1alpha1",
                    "kind": "AdminNetworkPolicy",
                    "metadata": metadata(&format!("quarantine-{namespace}-{name}"), None),
                    "spec": {
                        "priority": 0,
                        "subject": { "pods": {
                            "namespaceSelector": namespace_named(namespace),
                            "podSelector": pods,
                        } },
                        "ingress": [{
                            "name": "quarantine-ingress",
                            "action": "Deny",
                            "from": [{ "namespaces": {} }],
                        }],
                        "egress": [{
                            "name": "quarantine-egress",
                            "action": "Deny",
                            "to": [{ "namespaces": {} }, { "networks": ["0.0.0.0/0", "::/0"] }],
                        }],
                    },
                }),
                &[&format!(
                    "No connection in or out of {}'s pods: priority 0 goes before every other AdminNetworkPolicy, and every NetworkPolicy.",
                    target.id()
                )],
            );
            generated.notes = priority_rivals(network);
            generated.notes.push(format!(
                "note: AdminNetworkPolicy ingress rules name pods and namespaces only: connections from outside the cluster to {} are left to NetworkPolicies",
                target.id()
            ));
            generated
        }
        QuarantineStyle::Cilium => Generated::new(
            json!({
                "apiVersion": "cilium.io/v2",
                "kind": "CiliumNetworkPolicy",
                "metadata": metadata(&format!("quarantine-{name}"), Some(namespace)),
                "spec": {
                    "endpointSelector": pods,
                    "ingressDeny": [{ "fromEntities": ["all"] }],
                    "egressDeny": [{ "toEntities": ["all"] }],
                },
            }),
            &[&format!(
                "No connection in or out of {}'s pods: Cilium's denies win over every allow, Cilium's and NetworkPolicies' alike.",
                target.id()
            )],
        ),
    })
}

/// The NetworkPolicies that still allow some of `target`'s traffic (NetworkPolicies add up, so
/// a deny-all one does not hold against them).
fn additive_allows(network: &Network, target: &NetWorkload) -> Vec<String> {
    let mut notes = Vec::new();
    for ingress in [true, false] {
        let allowing: Vec<String> = network
            .policies
            .iter()
            .filter(|p| p.namespace == target.namespace && p.pod_selector.matches(&target.labels))
            .filter(|p| {
                if ingress {
                    p.ingress_type && !p.ingress.is_empty()
                } else {
                    p.egress_type && !p.egress.is_empty()
                }
            })
            .map(|p| p.display())
            .collect();
        if !allowing.is_empty() {
            notes.push(format!(
                "warning: policies are additive; these still allow some {} traffic for {}: {} (--style admin or cilium writes a quarantine that holds)",
                if ingress { "ingress" } else { "egress" },
                target.id(),
                allowing.join(", ")
            ));
        }
    }
    notes
}

/// Other AdminNetworkPolicies at priority 0: which of two policies at one priority decides is
/// undefined.
fn priority_rivals(network: &Network) -> Vec<String> {
    let rivals: Vec<String> = network
        .admin
        .iter()
        .filter(|p| p.tier == AdminTier::Admin(0))
        .filter(|p| !p.name.starts_with("quarantine-"))
        .map(|p| p.display())
        .collect();
    if rivals.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "warning: {} also has priority 0: which of the two decides is undefined; move it to a higher number",
        rivals.join(", ")
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netpol::{Cidr, Endpoint, Protocol};
    use palisade_load::json::to_object;

    /// A Deployment in `namespace` whose pods carry `labels`.
    fn deployment(namespace: &str, name: &str, labels: Json) -> Json {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": "shop/app:1.0",
                        "ports": [{"containerPort": 8080, "name": "http"}]}]}
                }
            }
        })
    }

    /// The generated policy as read back from its YAML, the way a user's apply would read it.
    fn read_back(generated: &Generated) -> Json {
        let text = generated.yaml();
        let name: std::sync::Arc<str> = "generated.yaml".into();
        let mut read = Vec::new();
        palisade_load::load_text(&name, &text, &mut |loaded| {
            if let palisade_load::Loaded::Object(object) = loaded {
                read.push(palisade_load::json::to_json(&object.root));
            }
        });
        assert_eq!(read.len(), 1, "{text}");
        read.remove(0)
    }

    fn network(objects: &[Json]) -> Network {
        let mut network = Network::default();
        for object in objects {
            network.add(&to_object(object));
        }
        assert!(network.invalid.is_empty(), "{:?}", network.invalid);
        network
    }

    fn workload<'n>(network: &'n Network, name: &str) -> &'n NetWorkload {
        network
            .workloads
            .iter()
            .find(|w| w.object.name == name)
            .expect("workload")
    }

    fn opens(network: &Network, from: &str, to: &str) -> bool {
        let reach = network.reach(
            Endpoint::Workload(workload(network, from)),
            Endpoint::Workload(workload(network, to)),
        );
        reach.ports.contains(Protocol::Tcp, 8080)
    }

    #[test]
    fn every_policy_reads_back_as_the_object_it_was_built_as() {
        let shop = network(&[deployment("shop", "api", json!({"app": "api"}))]);
        let api = workload(&shop, "api");
        let mut all = vec![
            default_deny("payments"),
            deny_metadata("payments"),
            baseline_default_deny("payments"),
        ];
        for style in [
            QuarantineStyle::NetworkPolicy,
            QuarantineStyle::Admin,
            QuarantineStyle::Cilium,
        ] {
            all.push(quarantine(&shop, api, style).expect("quarantine"));
        }
        for generated in &all {
            assert_eq!(read_back(generated), generated.object);
            assert_eq!(
                generated.object["metadata"]["labels"][MANAGED_BY.0],
                MANAGED_BY.1
            );
            assert!(generated.yaml().starts_with("# "));
        }
    }

    #[test]
    fn names_and_labels_of_any_spelling_are_quoted_where_they_must_be() {
        // Label values YAML 1.1 reads as booleans or numbers, and a key with a colon.
        let labels = json!({"on": "true", "tier": "0755", "team.example.com/role": "a: b # c"});
        let shop = network(&[deployment("yes", "api", labels.clone())]);
        let generated = quarantine(
            &shop,
            workload(&shop, "api"),
            QuarantineStyle::NetworkPolicy,
        )
        .expect("quarantine");
        let back = read_back(&generated);
        assert_eq!(back["spec"]["podSelector"]["matchLabels"], labels);
        assert_eq!(back["metadata"]["namespace"], "yes");
    }

    #[test]
    fn the_default_deny_isolates_and_the_quarantine_cuts_off_the_workload() {
        let objects = [
            deployment("shop", "web", json!({"app": "web"})),
            deployment("shop", "api", json!({"app": "api"})),
        ];
        let open = network(&objects);
        assert!(opens(&open, "web", "api"));
        let deny = default_deny("shop").object;
        let denied = network(&[objects[0].clone(), objects[1].clone(), deny]);
        assert!(!opens(&denied, "web", "api"));
        assert!(!opens(&denied, "api", "web"));
        for style in [
            QuarantineStyle::NetworkPolicy,
            QuarantineStyle::Admin,
            QuarantineStyle::Cilium,
        ] {
            let held = quarantine(&open, workload(&open, "api"), style).expect("quarantine");
            let quarantined = network(&[objects[0].clone(), objects[1].clone(), held.object]);
            assert!(!opens(&quarantined, "web", "api"), "{style:?}");
            assert!(!opens(&quarantined, "api", "web"), "{style:?}");
        }
    }

    #[test]
    fn the_metadata_deny_blocks_that_address_only() {
        let objects = [
            deployment("shop", "web", json!({"app": "web"})),
            deny_metadata("shop").object,
        ];
        let shop = network(&objects);
        let web = workload(&shop, "web");
        let to = |cidr: &str| {
            let cidr = Cidr::parse(cidr).expect("cidr");
            !shop
                .reach(Endpoint::Workload(web), Endpoint::External(&cidr))
                .ports
                .is_empty()
        };
        assert!(!to("169.254.169.254/32"));
        assert!(to("203.0.113.7/32"));
    }

    #[test]
    fn a_workload_no_policy_can_select_alone_is_refused_with_the_reason() {
        let bare = network(&[deployment("shop", "bare", json!({}))]);
        assert!(matches!(
            quarantine(&bare, workload(&bare, "bare"), QuarantineStyle::Cilium),
            Err(QuarantineError::NoLabels(_))
        ));
        let mut host = deployment("shop", "agent", json!({"app": "agent"}));
        host["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
        let host = network(&[host]);
        assert!(matches!(
            quarantine(&host, workload(&host, "agent"), QuarantineStyle::Admin),
            Err(QuarantineError::HostNetwork(_))
        ));
    }

    #[test]
    fn a_policy_that_still_allows_the_workload_is_named() {
        let allow = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "api-from-web", "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "api"}},
                     "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}
        });
        let shop = network(&[deployment("shop", "api", json!({"app": "api"})), allow]);
        let generated = quarantine(
            &shop,
            workload(&shop, "api"),
            QuarantineStyle::NetworkPolicy,
        )
        .expect("quarantine");
        assert_eq!(generated.notes.len(), 1, "{:?}", generated.notes);
        assert!(
            generated.notes[0].contains("api-from-web") && generated.notes[0].contains("ingress")
        );
    }
}
