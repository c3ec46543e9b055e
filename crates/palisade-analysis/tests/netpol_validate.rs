//! Truth table for what the API server refuses in NetworkPolicies and the administrator tiers:
//! each row a policy and the field it is refused at (or accepted), after the API server's
//! `ValidateNetworkPolicySpec` and the AdminNetworkPolicy CRD schema. A refused policy is left
//! out of the engine, so it can neither widen nor narrow an answer.

use std::sync::Arc;

use palisade_analysis::netpol::{Endpoint, Network};
use palisade_load::{load_text, Loaded};

fn network(text: &str) -> Network {
    let mut network = Network::default();
    load_text(
        &Arc::from("netpol.yaml"),
        text,
        &mut |loaded| match loaded {
            Loaded::Object(object) => network.add(&object),
            Loaded::Skipped => {}
            Loaded::Error(e) | Loaded::Warning(e) => panic!("{e}"),
        },
    );
    network
}

fn policy(spec: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: shop}}\nspec:\n{spec}"
    )
}

fn admin(kind: &str, name: &str, spec: &str) -> String {
    format!(
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n{spec}"
    )
}

/// The refused field of the one policy in `text`, or `None` when it is accepted.
fn refused_at(text: &str) -> Option<String> {
    let network = network(text);
    match network.invalid.as_slice() {
        [] => {
            assert_eq!(
                network.policies.len() + network.admin.len(),
                1,
                "an accepted policy is analysed"
            );
            None
        }
        [invalid] => {
            assert!(network.policies.is_empty() && network.admin.is_empty());
            Some(invalid.source.path.as_str().to_string())
        }
        more => panic!("{more:?}"),
    }
}

#[test]
fn network_policy_ports() {
    let rows: &[(&str, Option<&str>)] = &[
        ("[{port: 80}]", None),
        ("[{port: 1}, {port: 65535}]", None),
        ("[{port: 65536}]", Some("/spec/ingress/0/ports/0/port")),
        ("[{port: 0}]", Some("/spec/ingress/0/ports/0/port")),
        ("[{port: -5}]", Some("/spec/ingress/0/ports/0/port")),
        ("[{port: 8.5}]", Some("/spec/ingress/0/ports/0/port")),
        ("[{port: http}]", None),
        ("[{port: web-8080}]", None),
        ("[{port: \"80\"}]", Some("/spec/ingress/0/ports/0/port")),
        ("[{port: Http}]", Some("/spec/ingress/0/ports/0/port")),
        (
            "[{port: a-very-long-port-name}]",
            Some("/spec/ingress/0/ports/0/port"),
        ),
        ("[{port: 30000, endPort: 32767}]", None),
        ("[{port: 80, endPort: 80}]", None),
        (
            "[{port: 32000, endPort: 30000}]",
            Some("/spec/ingress/0/ports/0/endPort"),
        ),
        (
            "[{port: 80, endPort: 70000}]",
            Some("/spec/ingress/0/ports/0/endPort"),
        ),
        (
            "[{port: http, endPort: 90}]",
            Some("/spec/ingress/0/ports/0/endPort"),
        ),
        ("[{endPort: 90}]", Some("/spec/ingress/0/ports/0/endPort")),
        ("[{protocol: TCP}, {protocol: UDP}, {protocol: SCTP}]", None),
        (
            "[{protocol: ICMP}]",
            Some("/spec/ingress/0/ports/0/protocol"),
        ),
        (
            "[{protocol: tcp}]",
            Some("/spec/ingress/0/ports/0/protocol"),
        ),
        ("80", Some("/spec/ingress/0/ports")),
    ];
    for (ports, expected) in rows {
        let text = policy(&format!(
            "  podSelector: {{}}\n  ingress:\n  - ports: {ports}\n"
        ));
        assert_eq!(refused_at(&text).as_deref(), *expected, "ports: {ports}");
    }
}

#[test]
fn network_policy_peers_types_and_selectors() {
    let rows: &[(&str, Option<&str>)] = &[
        ("  podSelector: {}\n  ingress:\n  - from: [{podSelector: {}}]\n", None),
        ("  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]\n", None),
        ("  podSelector: {}\n  ingress:\n  - from: [{}]\n", Some("/spec/ingress/0/from/0")),
        ("  podSelector: {}\n  ingress:\n  - from: [{podSelector: {}, ipBlock: {cidr: 10.0.0.0/8}}]\n", Some("/spec/ingress/0/from/0")),
        ("  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.300/8}}]\n", Some("/spec/egress/0/to/0/ipBlock/cidr")),
        ("  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.1}}]\n", Some("/spec/egress/0/to/0/ipBlock/cidr")),
        ("  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]\n", Some("/spec/egress/0/to/0/ipBlock/except/0")),
        ("  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}]\n", Some("/spec/egress/0/to/0/ipBlock/except/0")),
        ("  podSelector: {}\n  policyTypes: [Ingress, Egress]\n", None),
        ("  podSelector: {}\n  policyTypes: [Ingres]\n", Some("/spec/policyTypes/0")),
        ("  podSelector: {}\n  policyTypes: [Ingress, Egress, Ingress]\n", Some("/spec/policyTypes")),
        ("  podSelector: {matchExpressions: [{key: app, operator: Equals, values: [a]}]}\n", Some("/spec/podSelector/matchExpressions/0/operator")),
        ("  podSelector: {matchExpressions: [{key: app, operator: In}]}\n", Some("/spec/podSelector/matchExpressions/0/values")),
        ("  podSelector: {matchExpressions: [{key: app, operator: Exists, values: [a]}]}\n", Some("/spec/podSelector/matchExpressions/0/values")),
        ("  podSelector: {matchLabels: {app: [a]}}\n", Some("/spec/podSelector/matchLabels/app")),
        ("  podSelector: {}\n  ingress: {from: []}\n", Some("/spec/ingress")),
    ];
    for (spec, expected) in rows {
        assert_eq!(refused_at(&policy(spec)).as_deref(), *expected, "{spec}");
    }
}

#[test]
fn administrator_tiers() {
    let deny_all =
        "  subject: {namespaces: {}}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n";
    let rows: Vec<(String, Option<&str>)> = vec![
        (admin("AdminNetworkPolicy", "a", &format!("  priority: 0\n{deny_all}")), None),
        (admin("AdminNetworkPolicy", "a", &format!("  priority: 1000\n{deny_all}")), None),
        (admin("AdminNetworkPolicy", "a", &format!("  priority: -1\n{deny_all}")), Some("/spec/priority")),
        (admin("AdminNetworkPolicy", "a", &format!("  priority: 1001\n{deny_all}")), Some("/spec/priority")),
        (admin("AdminNetworkPolicy", "a", deny_all), Some("/spec/priority")),
        (
            "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: 1.2.3.4\n".to_string(),
            Some("/spec"),
        ),
        (admin("AdminNetworkPolicy", "a", "  priority: 5\n  subject: {namespaces: {}}\n  ingress:\n  - action: Drop\n    from: [{namespaces: {}}]\n"), Some("/spec/ingress/0/action")),
        (admin("AdminNetworkPolicy", "a", "  priority: 5\n  subject: {namespaces: {}, pods: {podSelector: {}}}\n"), Some("/spec/subject")),
        (admin("AdminNetworkPolicy", "a", "  priority: 5\n  subject: {namespaces: {}}\n  egress:\n  - action: Allow\n    to: [{networks: [10.0.0.0/33]}]\n"), Some("/spec/egress/0/to/0/networks/0")),
        (admin("AdminNetworkPolicy", "a", "  priority: 5\n  subject: {namespaces: {}}\n  ingress:\n  - action: Allow\n    from: [{namespaces: {}}]\n    ports: [{portRange: {start: 90, end: 80}}]\n"), Some("/spec/ingress/0/ports/0/portRange/end")),
        (admin("AdminNetworkPolicy", "a", "  priority: 5\n  subject: {namespaces: {}}\n  ingress:\n  - action: Allow\n    from: [{namespaces: {}}]\n    ports: [{portNumber: {port: 70000, protocol: TCP}}]\n"), Some("/spec/ingress/0/ports/0/portNumber/port")),
        (admin("BaselineAdminNetworkPolicy", "default", deny_all), None),
        (admin("BaselineAdminNetworkPolicy", "strict", deny_all), Some("/metadata/name")),
        (admin("BaselineAdminNetworkPolicy", "default", "  subject: {namespaces: {}}\n  ingress:\n  - action: Pass\n    from: [{namespaces: {}}]\n"), Some("/spec/ingress/0/action")),
    ];
    for (text, expected) in &rows {
        assert_eq!(refused_at(text).as_deref(), *expected, "{text}");
    }
}

#[test]
fn a_refused_policy_neither_widens_nor_narrows_reach() {
    let workloads = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: web}}\nspec:\n  containers: [{name: web, image: web:1, ports: [{containerPort: 22, name: ssh}]}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: shop}\nspec:\n  containers: [{name: c, image: c:1}]\n---\n";
    // Read loosely, 65536 was "every port"; refused, the policy is not there at all and the
    // pod is not isolated: the cluster's truth. A valid policy next to it still isolates.
    let refused =
        network(&format!(
        "{workloads}{}",
        policy("  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports: [{port: 65536}]\n")
    ));
    assert_eq!(refused.invalid.len(), 1);
    let valid = network(&format!(
        "{workloads}{}",
        policy("  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - ports: [{port: 8080}]\n")
    ));
    for (network, isolated) in [(&refused, false), (&valid, true)] {
        let web = network
            .workloads
            .iter()
            .find(|w| w.object.name == "web")
            .expect("web");
        let client = network
            .workloads
            .iter()
            .find(|w| w.object.name == "client")
            .expect("client");
        let reach = network.reach(Endpoint::Workload(client), Endpoint::Workload(web));
        assert_eq!(reach.ingress.isolated, isolated);
    }
}
