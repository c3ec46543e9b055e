//! Policies of any shape (AdminNetworkPolicy, BaselineAdminNetworkPolicy, Cilium's,
//! NetworkPolicy: fields in the wrong type, missing, or nonsense) never panic the engine, and
//! the matrix judged once per group still agrees with every pair judged alone.

use palisade_analysis::netpol::Network;
use palisade_load::json::to_object;
use proptest::prelude::*;
use serde_json::{json, Value};

mod support;

/// Pods in three namespaces, with labels and named ports that the policies' words can name.
fn workloads() -> Vec<Value> {
    let mut objects = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "shop"}}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops", "labels": {"team": "ops"}}}),
    ];
    // Named ports differ between pods alike in every label: they must still be told apart.
    for (namespace, name, app, host, http) in [
        ("shop", "web", "web", false, 8080),
        ("shop", "api", "api", false, 3000),
        ("shop", "api-canary", "api", false, 8080),
        ("ops", "debug", "web", false, 8080),
        ("payments", "billing", "api", false, 8080),
        ("payments", "agent", "agent", true, 8080),
    ] {
        objects.push(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
            "spec": {"hostNetwork": host, "containers": [{"name": "c", "ports": [
                {"name": "http", "containerPort": http},
                {"name": "dns", "containerPort": 53, "protocol": "UDP"}
            ]}]}
        }));
    }
    objects
}

fn shape() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-2i64..70000).prop_map(|n| json!(n)),
        prop_oneof![
            Just("Allow"),
            Just("Deny"),
            Just("Pass"),
            Just("TCP"),
            Just("UDP"),
            Just("ANY"),
            Just("In"),
            Just("NotIn"),
            Just("Exists"),
            Just("web"),
            Just("api"),
            Just("app"),
            Just("team"),
            Just("shop"),
            Just("http"),
            Just("80"),
            Just("0"),
            Just("world"),
            Just("cluster"),
            Just("all"),
            Just("10.0.0.0/8"),
            Just("0.0.0.0/0"),
            Just("::/0"),
            Just("io.kubernetes.pod.namespace"),
            Just("k8s:app"),
            Just("kubernetes.io/metadata.name"),
            Just("io.cilium.k8s.namespace.labels.team"),
            Just("Ingress"),
            Just("Egress")
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("subject"),
                    Just("namespaces"),
                    Just("pods"),
                    Just("namespaceSelector"),
                    Just("podSelector"),
                    Just("matchLabels"),
                    Just("matchExpressions"),
                    Just("key"),
                    Just("operator"),
                    Just("values"),
                    Just("ingress"),
                    Just("egress"),
                    Just("from"),
                    Just("to"),
                    Just("action"),
                    Just("name"),
                    Just("ports"),
                    Just("portNumber"),
                    Just("portRange"),
                    Just("namedPort"),
                    Just("port"),
                    Just("start"),
                    Just("end"),
                    Just("endPort"),
                    Just("protocol"),
                    Just("networks"),
                    Just("nodes"),
                    Just("endpointSelector"),
                    Just("nodeSelector"),
                    Just("fromEndpoints"),
                    Just("toEndpoints"),
                    Just("fromEntities"),
                    Just("toEntities"),
                    Just("fromCIDR"),
                    Just("toCIDRSet"),
                    Just("cidr"),
                    Just("except"),
                    Just("toPorts"),
                    Just("rules"),
                    Just("ingressDeny"),
                    Just("egressDeny"),
                    Just("enableDefaultDeny"),
                    Just("priority"),
                    Just("policyTypes"),
                    Just("ipBlock"),
                    Just("app"),
                    Just("team")
                ]
                .prop_map(str::to_string),
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn policy() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just(("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy")),
            Just((
                "policy.networking.k8s.io/v1alpha1",
                "BaselineAdminNetworkPolicy"
            )),
            Just(("cilium.io/v2", "CiliumNetworkPolicy")),
            Just(("cilium.io/v2", "CiliumClusterwideNetworkPolicy")),
            Just(("networking.k8s.io/v1", "NetworkPolicy")),
        ],
        shape(),
        any::<bool>(),
    )
        .prop_map(|((api_version, kind), spec, specs)| {
            let mut object = json!({
                "apiVersion": api_version, "kind": kind,
                "metadata": {"name": "p", "namespace": "shop"},
            });
            let key = if specs { "specs" } else { "spec" };
            let spec = if specs { json!([spec]) } else { spec };
            object[key] = spec;
            object
        })
}

fn pick(values: Vec<Value>) -> impl Strategy<Value = Value> + Clone {
    proptest::sample::select(values)
}

fn pod_selector() -> impl Strategy<Value = Value> + Clone {
    pick(vec![
        json!({}),
        json!({"matchLabels": {"app": "web"}}),
        json!({"matchLabels": {"app": "api"}}),
        json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}),
    ])
}

fn namespace_selector() -> impl Strategy<Value = Value> + Clone {
    pick(vec![
        json!({}),
        json!({"matchLabels": {"team": "shop"}}),
        json!({"matchLabels": {"kubernetes.io/metadata.name": "ops"}}),
        json!({"matchLabels": {"kubernetes.io/metadata.name": "payments"}}),
    ])
}

fn ports(named: &'static str) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(
            json!([{"portNumber": {"protocol": "TCP", "port": 8080}}])
        )),
        Just(Some(json!([{"namedPort": named}]))),
        Just(Some(
            json!([{"portRange": {"protocol": "UDP", "start": 50, "end": 60}}])
        )),
    ]
}

fn admin_policy(baseline: bool) -> impl Strategy<Value = Value> {
    let peer = prop_oneof![
        namespace_selector().prop_map(|n| json!({"namespaces": n})),
        (namespace_selector(), pod_selector())
            .prop_map(|(n, p)| json!({"pods": {"namespaceSelector": n, "podSelector": p}})),
        Just(json!({"networks": ["0.0.0.0/0"]})),
        Just(json!({"nodes": {}})),
    ]
    .boxed();
    let actions = if baseline {
        vec!["Allow", "Deny"]
    } else {
        vec!["Allow", "Deny", "Pass"]
    };
    let rule = (
        proptest::sample::select(actions),
        proptest::collection::vec(peer, 1..3),
        ports("dns"),
    )
        .prop_map(|(action, peers, ports)| {
            let mut rule = json!({"action": action, "from": peers.clone(), "to": peers});
            if let Some(ports) = ports {
                rule["ports"] = ports;
            }
            rule
        })
        .boxed();
    let subject = prop_oneof![
        namespace_selector().prop_map(|n| json!({"namespaces": n})),
        (namespace_selector(), pod_selector())
            .prop_map(|(n, p)| json!({"pods": {"namespaceSelector": n, "podSelector": p}})),
    ];
    (
        1i64..4,
        subject,
        proptest::collection::vec(rule.clone(), 0..3),
        proptest::collection::vec(rule, 0..3),
        0u32..1000,
    )
        .prop_map(move |(priority, subject, ingress, egress, name)| {
            let (kind, name) = if baseline {
                ("BaselineAdminNetworkPolicy", "default".to_string())
            } else {
                ("AdminNetworkPolicy", format!("anp-{name}"))
            };
            json!({
                "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": kind,
                "metadata": {"name": name},
                "spec": {"priority": priority, "subject": subject, "ingress": ingress, "egress": egress},
            })
        })
}

fn cilium_policy() -> impl Strategy<Value = Value> {
    let endpoint = pick(vec![
        json!({}),
        json!({"matchLabels": {"app": "api"}}),
        json!({"matchLabels": {"k8s:io.kubernetes.pod.namespace": "ops"}}),
        json!({"matchLabels": {"io.cilium.k8s.namespace.labels.team": "shop"}}),
    ]);
    let section = prop_oneof![
        endpoint.clone().prop_map(|e| json!({"fromEndpoints": [e.clone()], "toEndpoints": [e]})),
        pick(vec![json!("cluster"), json!("world"), json!("all")])
            .prop_map(|e| json!({"fromEntities": [e.clone()], "toEntities": [e]})),
        Just(json!({"toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]})),
        Just(json!({"toPorts": [{"ports": [{"port": "dns", "protocol": "UDP"}]}], "fromEntities": ["all"], "toEntities": ["all"]})),
        Just(json!({})),
    ]
    .boxed();
    (
        endpoint,
        proptest::collection::vec(section.clone(), 0..2),
        proptest::collection::vec(section.clone(), 0..2),
        proptest::collection::vec(section.clone(), 0..2),
        proptest::collection::vec(section, 0..2),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(selector, ingress, ingress_deny, egress, egress_deny, clusterwide, open)| {
            let mut spec = json!({"endpointSelector": selector});
            for (key, sections) in [("ingress", ingress), ("ingressDeny", ingress_deny), ("egress", egress), ("egressDeny", egress_deny)] {
                if !sections.is_empty() {
                    spec[key] = json!(sections);
                }
            }
            if open {
                spec["enableDefaultDeny"] = json!({"ingress": false});
            }
            let kind = if clusterwide { "CiliumClusterwideNetworkPolicy" } else { "CiliumNetworkPolicy" };
            json!({"apiVersion": "cilium.io/v2", "kind": kind, "metadata": {"name": "c", "namespace": "shop"}, "spec": spec})
        })
}

fn network_policy() -> impl Strategy<Value = Value> {
    let peer = prop_oneof![
        pod_selector().prop_map(|p| json!({"podSelector": p})),
        namespace_selector().prop_map(|n| json!({"namespaceSelector": n})),
        (namespace_selector(), pod_selector())
            .prop_map(|(n, p)| json!({"namespaceSelector": n, "podSelector": p})),
    ];
    let rule = (proptest::collection::vec(peer, 0..2), any::<bool>())
        .prop_map(|(peers, http)| {
            let mut rule = json!({"from": peers.clone(), "to": peers});
            if http {
                rule["ports"] = json!([{"port": "http"}]);
            }
            rule
        })
        .boxed();
    (
        pick(vec![json!("shop"), json!("ops"), json!("payments")]),
        pod_selector(),
        proptest::collection::vec(rule.clone(), 0..2),
        proptest::collection::vec(rule, 0..2),
    )
        .prop_map(|(namespace, selector, ingress, egress)| {
            json!({
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "n", "namespace": namespace},
                "spec": {"podSelector": selector, "ingress": ingress, "egress": egress},
            })
        })
}

fn well_formed_policy() -> impl Strategy<Value = Value> {
    prop_oneof![
        admin_policy(false),
        admin_policy(true),
        cilium_policy(),
        network_policy(),
    ]
}

/// Every pair judged alone against the matrix judged once per group pair.
fn groups_agree(network: &Network) -> Result<(), TestCaseError> {
    let wrong = support::pairs_the_groups_get_wrong(network);
    prop_assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(())
}

fn network_of(policies: &[Value]) -> Network {
    let mut network = Network::default();
    for value in workloads().iter().chain(policies) {
        network.add(&to_object(value));
    }
    network
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn policies_of_any_shape_judge_every_pair_as_the_groups_do(
        policies in proptest::collection::vec(policy(), 1..4)
    ) {
        groups_agree(&network_of(&policies))?;
    }

    #[test]
    fn well_formed_policies_judge_every_pair_as_the_groups_do(
        policies in proptest::collection::vec(well_formed_policy(), 1..5)
    ) {
        groups_agree(&network_of(&policies))?;
    }
}
