//! Truth table for the NetworkPolicy engine: each semantic point with a connection that must be
//! allowed and one that must be denied.

use std::sync::Arc;

use palisade_analysis::netpol::{Cidr, Endpoint, Network, Protocol};
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

const WORKLOADS: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {team: shop}
---
apiVersion: v1
kind: Namespace
metadata:
  name: payments
  labels: {team: payments, env: prod}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata:
      labels: {app: web, tier: frontend}
    spec:
      containers:
        - name: web
          ports:
            - {name: http, containerPort: 8080}
            - {name: metrics, containerPort: 9090}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          ports:
            - {name: http, containerPort: 3000}
            - {name: dns, containerPort: 53, protocol: UDP}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: billing, namespace: payments}
spec:
  template:
    metadata:
      labels: {app: billing}
    spec:
      containers: [{name: billing}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: payments}
spec:
  template:
    metadata:
      labels: {app: ledger}
    spec:
      containers: [{name: ledger}]
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: ops
  labels: {app: debug}
spec:
  containers: [{name: shell}]
"#;

/// A CIDR when `id` parses as one, otherwise the workload `NS/KIND/NAME`.
fn endpoint<'n>(network: &'n Network, id: &str, cidr: Option<&'n Cidr>) -> Endpoint<'n> {
    match cidr {
        Some(cidr) => Endpoint::External(cidr),
        None => Endpoint::Workload(
            network
                .workload(id)
                .unwrap_or_else(|| panic!("no workload {id}")),
        ),
    }
}

/// (what, policies, from, to, protocol, port, expected)
type Case<'a> = (&'a str, &'a str, &'a str, &'a str, Protocol, u16, bool);

fn check(cases: &[Case<'_>]) {
    let mut wrong = Vec::new();
    for (what, policies, from, to, protocol, port, expected) in cases {
        let network = network(&format!("{WORKLOADS}\n---\n{policies}"));
        let (cidr_from, cidr_to) = (Cidr::parse(from), Cidr::parse(to));
        let from_ep = endpoint(&network, from, cidr_from.as_ref());
        let to_ep = endpoint(&network, to, cidr_to.as_ref());
        let reach = network.reach(from_ep, to_ep);
        if reach.ports.contains(*protocol, *port) != *expected {
            wrong.push(format!(
                "{what}: expected {} (ports {})",
                if *expected { "allowed" } else { "denied" },
                reach.ports
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

const DENY_INGRESS_SHOP: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
";

const TCP: Protocol = Protocol::Tcp;
const UDP: Protocol = Protocol::Udp;

#[test]
fn isolation_only_by_a_selecting_policy_of_that_type() {
    check(&[
        ("no policy: everything allowed", "", "ops/pod/debug", "shop/deployment/web", TCP, 8080, true),
        ("default deny ingress", DENY_INGRESS_SHOP, "ops/pod/debug", "shop/deployment/web", TCP, 8080, false),
        ("other namespaces are not isolated", DENY_INGRESS_SHOP, "shop/deployment/web", "payments/deployment/billing", TCP, 80, true),
        ("ingress-only policy does not isolate egress", DENY_INGRESS_SHOP, "shop/deployment/web", "ops/pod/debug", TCP, 22, true),
        (
            "a policy whose selector misses the pod does not isolate it",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: only-api, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: api}}\n",
            "ops/pod/debug", "shop/deployment/web", TCP, 8080, true,
        ),
    ]);
}

#[test]
fn policy_types_default_from_the_rules() {
    let egress_rules_only = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-dns, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  egress:
    - ports: [{port: 53, protocol: UDP}]
";
    let explicit_egress = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-only, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
";
    let empty_egress = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: empty-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{}]
  egress: []
";
    check(&[
        (
            "no policyTypes: Ingress is always included",
            egress_rules_only,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "no policyTypes + egress rules: Egress included",
            egress_rules_only,
            "shop/deployment/web",
            "ops/pod/debug",
            TCP,
            443,
            false,
        ),
        (
            "…and its egress rule applies",
            egress_rules_only,
            "shop/deployment/web",
            "ops/pod/debug",
            UDP,
            53,
            true,
        ),
        (
            "policyTypes [Egress] leaves ingress open",
            explicit_egress,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "policyTypes [Egress] with no rules denies egress",
            explicit_egress,
            "shop/deployment/web",
            "ops/pod/debug",
            TCP,
            443,
            false,
        ),
        (
            "egress: [] without policyTypes is not an Egress policy",
            empty_egress,
            "shop/deployment/web",
            "ops/pod/debug",
            TCP,
            443,
            true,
        ),
    ]);
}

#[test]
fn absent_and_empty_peers_and_selectors() {
    let allow_all_rule = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - {}
";
    let empty_from = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: empty-from, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: []
      ports: [{port: 8080}]
";
    let same_namespace = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: same-namespace, namespace: shop}
spec:
  podSelector: {}
  ingress:
    - from: [{podSelector: {}}]
";
    let no_rules = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-rules, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: []
";
    check(&[
        (
            "a rule without from allows every source",
            allow_all_rule,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "from: [] allows every source",
            empty_from,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…on its ports only",
            empty_from,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            9090,
            false,
        ),
        (
            "no rules allows nothing",
            no_rules,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "podSelector {} in a peer: every pod of the policy's namespace",
            same_namespace,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…but not other namespaces",
            same_namespace,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
    ]);
}

#[test]
fn namespace_and_pod_selectors_and_or() {
    let and_peer = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: billing-from-shop-web, namespace: payments}
spec:
  podSelector: {matchLabels: {app: billing}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: shop}}
          podSelector: {matchLabels: {app: web}}
";
    let or_peers = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: billing-from-shop-or-web, namespace: payments}
spec:
  podSelector: {matchLabels: {app: billing}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: shop}}
        - podSelector: {matchLabels: {app: ledger}}
";
    let by_name = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-ops, namespace: payments}
spec:
  podSelector: {}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops}}}]
";
    let by_unknown_label = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-tooling, namespace: payments}
spec:
  podSelector: {}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {purpose: tooling}}}]
";
    check(&[
        (
            "AND: right namespace and right pod",
            and_peer,
            "shop/deployment/web",
            "payments/deployment/billing",
            TCP,
            80,
            true,
        ),
        (
            "AND: right namespace, wrong pod",
            and_peer,
            "shop/deployment/api",
            "payments/deployment/billing",
            TCP,
            80,
            false,
        ),
        (
            "OR: any pod of the namespace",
            or_peers,
            "shop/deployment/api",
            "payments/deployment/billing",
            TCP,
            80,
            true,
        ),
        (
            "OR: the pod selector alone, same namespace",
            or_peers,
            "payments/deployment/ledger",
            "payments/deployment/billing",
            TCP,
            80,
            true,
        ),
        (
            "OR: neither",
            or_peers,
            "ops/pod/debug",
            "payments/deployment/billing",
            TCP,
            80,
            false,
        ),
        (
            "automatic kubernetes.io/metadata.name of an absent namespace",
            by_name,
            "ops/pod/debug",
            "payments/deployment/ledger",
            TCP,
            80,
            true,
        ),
        (
            "other labels of an absent namespace are unknown",
            by_unknown_label,
            "ops/pod/debug",
            "payments/deployment/ledger",
            TCP,
            80,
            false,
        ),
    ]);
    let network = network(WORKLOADS);
    assert!(
        !network.namespace_labels("ops").1,
        "ops is not in the input"
    );
    assert!(network.namespace_labels("payments").1);
}

#[test]
fn ip_blocks_with_exceptions() {
    let ingress_from_office = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: office, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.2.0/24]}}]
";
    let egress_internet = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: internet, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]
";
    check(&[
        (
            "inside the block",
            ingress_from_office,
            "10.0.1.5/32",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "inside an exception",
            ingress_from_office,
            "10.0.2.7/32",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "outside the block",
            ingress_from_office,
            "192.168.1.1/32",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "a range partly excepted is not wholly allowed",
            ingress_from_office,
            "10.0.0.0/16",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "ipBlock never matches pods",
            ingress_from_office,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "egress to the internet",
            egress_internet,
            "shop/deployment/web",
            "93.184.216.34/32",
            TCP,
            443,
            true,
        ),
        (
            "egress to the metadata endpoint excepted",
            egress_internet,
            "shop/deployment/web",
            "169.254.169.254/32",
            TCP,
            80,
            false,
        ),
    ]);
}

#[test]
fn ports_by_number_name_protocol_and_range() {
    let named = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: http-only, namespace: shop}
spec:
  podSelector: {}
  ingress:
    - ports: [{port: http}]
";
    let dns = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: tcp-53, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
    - ports: [{port: 53}]
";
    let range = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: node-ports, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{port: 32000, endPort: 32768, protocol: TCP}]
";
    check(&[
        (
            "named port resolves on the destination (web: http=8080)",
            named,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "named port resolves per pod (api: http=3000)",
            named,
            "ops/pod/debug",
            "shop/deployment/api",
            TCP,
            3000,
            true,
        ),
        (
            "other ports of the pod",
            named,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            9090,
            false,
        ),
        (
            "protocol defaults to TCP",
            dns,
            "ops/pod/debug",
            "shop/deployment/api",
            TCP,
            53,
            true,
        ),
        (
            "…so UDP is not allowed",
            dns,
            "ops/pod/debug",
            "shop/deployment/api",
            UDP,
            53,
            false,
        ),
        (
            "inside endPort range",
            range,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            32100,
            true,
        ),
        (
            "outside endPort range",
            range,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            33000,
            false,
        ),
    ]);
}

#[test]
fn policies_are_additive_and_both_directions_count() {
    let two = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-ops, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops}}}]}]
";
    let egress_denied = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: payments-no-egress, namespace: payments}
spec:
  podSelector: {}
  policyTypes: [Egress]
";
    check(&[
        (
            "first policy allows",
            two,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "second policy allows",
            two,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "neither allows",
            two,
            "payments/deployment/billing",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "source egress denied though destination is open",
            egress_denied,
            "payments/deployment/billing",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "destination open, source not isolated",
            egress_denied,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
    ]);
}

#[test]
fn verdicts_name_the_deciding_policies_and_rules() {
    let network = network(&format!(
        "{WORKLOADS}\n---\n{DENY_INGRESS_SHOP}---\napiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: web-from-api, namespace: shop}}
spec:
  podSelector: {{matchLabels: {{app: web}}}}
  ingress: [{{from: [{{podSelector: {{matchLabels: {{app: api}}}}}}], ports: [{{port: http}}]}}]
"
    ));
    let api = network
        .workload("shop/Deployment/api")
        .expect("kind is case-insensitive");
    let web = network.workload("shop/deployment/web").expect("web");
    let reach = network.reach(Endpoint::Workload(api), Endpoint::Workload(web));
    assert!(!reach.egress.isolated);
    assert!(reach.ingress.isolated);
    assert_eq!(
        reach.ingress.selecting,
        vec![
            "NetworkPolicy shop/default-deny",
            "NetworkPolicy shop/web-from-api"
        ]
    );
    assert_eq!(reach.ingress.allowing.len(), 1);
    assert_eq!(
        reach.ingress.allowing[0].policy,
        "NetworkPolicy shop/web-from-api"
    );
    assert_eq!(reach.ingress.allowing[0].rule.as_str(), "/spec/ingress/0");
    assert_eq!(reach.ports.to_string(), "8080/TCP");
}
