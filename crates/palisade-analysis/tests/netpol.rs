//! Truth table for the NetworkPolicy engine: each semantic point with a connection that must be
//! allowed and one that must be denied.

use std::sync::Arc;

use palisade_analysis::netpol::{Action, Cidr, Endpoint, Network, Protocol, Tier};
use palisade_load::{load_text, Loaded};

mod support;

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
    let allowing: Vec<_> = reach.ingress.allowing().collect();
    assert_eq!(allowing.len(), 1);
    assert_eq!(allowing[0].policy, "NetworkPolicy shop/web-from-api");
    assert_eq!(allowing[0].rule.as_str(), "/spec/ingress/0");
    assert_eq!(reach.ports.to_string(), "8080/TCP");
}

// ---- AdminNetworkPolicy and BaselineAdminNetworkPolicy ----

/// An AdminNetworkPolicy `name` at `priority` over `subject`, with `rules` under `spec`.
fn anp(name: &str, priority: u32, subject: &str, rules: &str) -> String {
    format!(
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n  priority: {priority}\n  subject: {subject}\n{rules}"
    )
}

fn banp(subject: &str, rules: &str) -> String {
    format!(
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {{name: default}}\nspec:\n  subject: {subject}\n{rules}"
    )
}

const SHOP: &str = "{namespaces: {matchLabels: {team: shop}}}";
const FROM_ALL: &str = "[{namespaces: {}}]";
const FROM_OPS: &str = "[{namespaces: {matchLabels: {kubernetes.io/metadata.name: ops}}}]";
const ALLOW_ALL_SHOP: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: shop}
spec:
  podSelector: {}
  ingress: [{}]
";

fn ingress_rule(action: &str, from: &str) -> String {
    format!("    - {{action: {action}, from: {from}}}\n")
}

fn join(parts: &[&str]) -> String {
    parts.join("\n---\n")
}

#[test]
fn admin_tiers_decide_before_and_after_network_policies() {
    let deny_all_to_shop = anp(
        "deny-shop",
        10,
        SHOP,
        &format!("  ingress:\n{}", ingress_rule("Deny", FROM_ALL)),
    );
    let allow_ops_to_shop = anp(
        "allow-ops",
        10,
        SHOP,
        &format!("  ingress:\n{}", ingress_rule("Allow", FROM_OPS)),
    );
    let baseline_deny = banp(
        SHOP,
        &format!("  ingress:\n{}", ingress_rule("Deny", FROM_ALL)),
    );
    let pass_ops = anp(
        "pass-ops",
        5,
        SHOP,
        &format!("  ingress:\n{}", ingress_rule("Pass", FROM_OPS)),
    );
    let deny_over_np = join(&[ALLOW_ALL_SHOP, &deny_all_to_shop]);
    let allow_over_np = join(&[DENY_INGRESS_SHOP, &allow_ops_to_shop]);
    let baseline_and_np = join(&[&baseline_deny, ALLOW_ALL_SHOP]);
    let pass = join(&[&pass_ops, &deny_all_to_shop]);
    let pass_to_baseline = join(&[&pass_ops, &deny_all_to_shop, &baseline_deny]);
    let (debug, web, billing) = (
        "ops/pod/debug",
        "shop/deployment/web",
        "payments/deployment/billing",
    );
    check(&[
        (
            "ANP Deny wins over a NetworkPolicy allow",
            &deny_over_np,
            debug,
            web,
            TCP,
            8080,
            false,
        ),
        (
            "…only for its subject",
            &deny_over_np,
            debug,
            billing,
            TCP,
            8080,
            true,
        ),
        (
            "ANP Allow wins over a NetworkPolicy default deny",
            &allow_over_np,
            debug,
            web,
            TCP,
            8080,
            true,
        ),
        (
            "…only for its peers: the NetworkPolicy decides the rest",
            &allow_over_np,
            billing,
            web,
            TCP,
            8080,
            false,
        ),
        (
            "BANP Deny applies where no NetworkPolicy isolates",
            &baseline_deny,
            debug,
            web,
            TCP,
            8080,
            false,
        ),
        (
            "…and not where one does",
            &baseline_and_np,
            debug,
            web,
            TCP,
            8080,
            true,
        ),
        (
            "Pass skips the other ANPs, to the NetworkPolicy tier",
            &pass,
            debug,
            web,
            TCP,
            8080,
            true,
        ),
        (
            "Pass goes on to the baseline when no NetworkPolicy isolates",
            &pass_to_baseline,
            debug,
            web,
            TCP,
            8080,
            false,
        ),
        (
            "…while other peers meet the lower ANP",
            &pass,
            billing,
            web,
            TCP,
            8080,
            false,
        ),
    ]);
}

#[test]
fn admin_priorities_and_rule_order() {
    let allow = |p| {
        anp(
            "allow-ops",
            p,
            SHOP,
            &format!("  ingress:\n{}", ingress_rule("Allow", FROM_OPS)),
        )
    };
    let deny = |p| {
        anp(
            "deny-all",
            p,
            SHOP,
            &format!("  ingress:\n{}", ingress_rule("Deny", FROM_ALL)),
        )
    };
    let ordered = anp(
        "ordered",
        10,
        SHOP,
        &format!(
            "  ingress:\n{}{}",
            ingress_rule("Deny", FROM_OPS),
            ingress_rule("Allow", FROM_ALL)
        ),
    );
    let lower_allows = join(&[&allow(10), &deny(20)]);
    let lower_denies = join(&[&allow(20), &deny(10)]);
    check(&[
        (
            "the lower priority number goes first (Allow)",
            &lower_allows,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "the lower priority number goes first (Deny)",
            &lower_denies,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "within a policy, the first matching rule decides (Deny)",
            &ordered,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "…and a later rule decides for others (Allow)",
            &ordered,
            "payments/deployment/billing",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
    ]);
}

#[test]
fn admin_subjects_peers_and_ports() {
    let rule = |extra: &str| {
        anp(
            "ports",
            10,
            SHOP,
            &format!("  ingress:\n    - {{action: Deny, from: {FROM_ALL}, ports: [{extra}]}}\n"),
        )
    };
    let by_number = rule("{portNumber: {protocol: TCP, port: 8080}}");
    let by_range = rule("{portRange: {protocol: TCP, start: 9000, end: 9100}}");
    let by_name = rule("{namedPort: http}");
    let by_udp_name = rule("{namedPort: dns}");
    let pods_subject = anp(
        "web-only",
        10,
        "{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}",
        &format!("  ingress:\n{}", ingress_rule("Deny", FROM_ALL)),
    );
    let pods_peer = anp(
        "deny-api",
        10,
        SHOP,
        "  ingress:\n    - {action: Deny, from: [{pods: {namespaceSelector: {matchLabels: {team: shop}}, podSelector: {matchLabels: {app: api}}}}]}\n",
    );
    check(&[
        (
            "portNumber denies its port",
            &by_number,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "…and not another",
            &by_number,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            9090,
            true,
        ),
        (
            "portRange denies inside the range",
            &by_range,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            9090,
            false,
        ),
        (
            "…and not outside",
            &by_range,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "namedPort resolves on the destination pod",
            &by_name,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "…and no other port",
            &by_name,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            9090,
            true,
        ),
        (
            "namedPort has no protocol: it matches a UDP port of that name",
            &by_udp_name,
            "ops/pod/debug",
            "shop/deployment/api",
            UDP,
            53,
            false,
        ),
        (
            "…and not the pod's other ports",
            &by_udp_name,
            "ops/pod/debug",
            "shop/deployment/api",
            TCP,
            3000,
            true,
        ),
        (
            "a pods subject holds its pods",
            &pods_subject,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "…and not the others of the namespace",
            &pods_subject,
            "ops/pod/debug",
            "shop/deployment/api",
            TCP,
            3000,
            true,
        ),
        (
            "a pods peer matches namespace AND pod",
            &pods_peer,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "…and not another pod of that namespace",
            &pods_peer,
            "shop/deployment/web",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
    ]);
}

#[test]
fn admin_egress_networks_nodes_and_failing_closed() {
    let egress = |action: &str, to: &str| {
        anp(
            "egress",
            10,
            SHOP,
            &format!("  egress:\n    - {{action: {action}, to: {to}}}\n"),
        )
    };
    let metadata = egress("Deny", "[{networks: [169.254.169.254/32]}]");
    let everything = egress("Deny", "[{networks: [0.0.0.0/0]}]");
    let nodes = egress("Deny", "[{nodes: {}}]");
    let unknown_deny = egress("Deny", "[{someFutureField: {}}]");
    let misspelt = egress("Allw", "[{namespaces: {}}]");
    let baseline_pass = banp(
        SHOP,
        "  egress:\n    - {action: Pass, to: [{namespaces: {}}]}\n",
    );
    let unknown_allow = join(&[
        &egress("Allow", "[{someFutureField: {}}]"),
        &banp(
            SHOP,
            "  egress:\n    - {action: Deny, to: [{namespaces: {}}]}\n",
        ),
    ]);
    let host_network = join(&[
        &anp("deny-all", 10, "{namespaces: {}}", &format!("  ingress:\n{}", ingress_rule("Deny", FROM_ALL))),
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: shop}\nspec:\n  template:\n    metadata:\n      labels: {app: agent}\n    spec:\n      hostNetwork: true\n      containers: [{name: agent}]\n",
    ]);
    check(&[
        (
            "networks deny their addresses",
            &metadata,
            "shop/deployment/web",
            "169.254.169.254/32",
            TCP,
            80,
            false,
        ),
        (
            "…and no other",
            &metadata,
            "shop/deployment/web",
            "8.8.8.8/32",
            TCP,
            443,
            true,
        ),
        (
            "…nor pods (their addresses are not in the input)",
            &metadata,
            "shop/deployment/web",
            "payments/deployment/billing",
            TCP,
            80,
            true,
        ),
        (
            "a network of every address holds the pods too",
            &everything,
            "shop/deployment/web",
            "payments/deployment/billing",
            TCP,
            80,
            false,
        ),
        (
            "a nodes peer matches no pod",
            &nodes,
            "shop/deployment/web",
            "payments/deployment/billing",
            TCP,
            80,
            true,
        ),
        (
            "an unknown peer fails closed: Deny matches everything",
            &unknown_deny,
            "shop/deployment/web",
            "payments/deployment/billing",
            TCP,
            80,
            false,
        ),
        (
            "…and Allow matches nothing (the baseline denies)",
            &unknown_allow,
            "shop/deployment/web",
            "payments/deployment/billing",
            TCP,
            80,
            false,
        ),
        (
            "a policy whose action the API server rejects is left out, as the cluster leaves it out",
            &misspelt,
            "shop/deployment/web",
            "payments/deployment/billing",
            TCP,
            80,
            true,
        ),
        (
            "…and Pass in the baseline too",
            &baseline_pass,
            "shop/deployment/web",
            "payments/deployment/billing",
            TCP,
            80,
            true,
        ),
        (
            "host-network pods are no subject",
            &host_network,
            "ops/pod/debug",
            "shop/daemonset/agent",
            TCP,
            80,
            true,
        ),
        (
            "…while the others are",
            &host_network,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
    ]);
}

#[test]
fn admin_decisions_name_tier_policy_and_rule() {
    let network = network(&format!(
        "{WORKLOADS}\n---\n{}",
        join(&[
            &anp(
                "guard",
                7,
                SHOP,
                "  ingress:\n    - {name: keep-ops-out, action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: ops}}}], ports: [{portNumber: {port: 8080}}]}\n",
            ),
            DENY_INGRESS_SHOP,
        ])
    ));
    let debug = network.workload("ops/pod/debug").expect("debug");
    let web = network.workload("shop/deployment/web").expect("web");
    let reach = network.reach(Endpoint::Workload(debug), Endpoint::Workload(web));
    let decisions = &reach.ingress.decisions;
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert_eq!(decisions[0].tier, Tier::Admin);
    assert_eq!(decisions[0].action, Action::Deny);
    assert_eq!(decisions[0].policy, "AdminNetworkPolicy guard (priority 7)");
    assert_eq!(decisions[0].rule.as_str(), "/spec/ingress/0");
    assert_eq!(decisions[0].rule_name.as_deref(), Some("keep-ops-out"));
    assert_eq!(decisions[0].ports.to_string(), "8080/TCP");
    assert!(
        reach.ingress.isolated,
        "the NetworkPolicy isolates the rest"
    );
    assert!(reach.ports.is_empty());
}

// ---- Cilium ----

fn cnp(namespace: &str, name: &str, spec: &str) -> String {
    format!("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{spec}")
}

fn ccnp(name: &str, spec: &str) -> String {
    format!("apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n{spec}")
}

const WEB: &str = "  endpointSelector: {matchLabels: {app: web}}\n";

#[test]
fn cilium_endpoints_namespaces_and_entities() {
    let from_api = cnp(
        "shop",
        "web",
        &format!("{WEB}  ingress:\n    - fromEndpoints: [{{matchLabels: {{app: api}}}}]\n"),
    );
    let from_own_namespace = cnp(
        "shop",
        "web",
        &format!("{WEB}  ingress:\n    - fromEndpoints: [{{}}]\n"),
    );
    let from_payments = cnp("shop", "web", &format!("{WEB}  ingress:\n    - fromEndpoints: [{{matchLabels: {{k8s:io.kubernetes.pod.namespace: payments}}}}]\n"));
    let by_namespace_label = cnp("shop", "web", &format!("{WEB}  ingress:\n    - fromEndpoints: [{{matchLabels: {{io.cilium.k8s.namespace.labels.team: payments}}}}]\n"));
    let from_cluster = cnp(
        "shop",
        "web",
        &format!("{WEB}  ingress:\n    - fromEntities: [cluster]\n"),
    );
    let from_world = cnp(
        "shop",
        "web",
        &format!("{WEB}  ingress:\n    - fromEntities: [world]\n"),
    );
    let all_of_shop = cnp(
        "shop",
        "all",
        "  endpointSelector: {}\n  ingress:\n    - {}\n",
    );
    let clusterwide = ccnp("from-shop", "  endpointSelector: {}\n  ingress:\n    - fromEndpoints: [{matchLabels: {io.kubernetes.pod.namespace: shop}}]\n");
    let node_rule = ccnp("host", "  nodeSelector: {}\n  ingress:\n    - {}\n");
    let specs = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: two, namespace: shop}\nspecs:\n  - endpointSelector: {matchLabels: {app: api}}\n    ingress: [{fromEntities: [cluster]}]\n  - endpointSelector: {matchLabels: {app: web}}\n    ingress: [{}]\n";
    check(&[
        (
            "selected: only what a rule allows",
            &from_api,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…the rest is denied (default deny)",
            &from_api,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "fromEndpoints {} in a namespaced policy: its namespace",
            &from_own_namespace,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…not other namespaces",
            &from_own_namespace,
            "payments/deployment/billing",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "a namespace label (k8s: prefix) reaches across",
            &from_payments,
            "payments/deployment/billing",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…that namespace only",
            &from_payments,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "namespace labels as io.cilium.k8s.namespace.labels.*",
            &by_namespace_label,
            "payments/deployment/billing",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…not matching",
            &by_namespace_label,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "entity cluster: every pod",
            &from_cluster,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…not the world",
            &from_cluster,
            "203.0.113.0/24",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "entity world: outside addresses",
            &from_world,
            "203.0.113.0/24",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…not pods",
            &from_world,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "an empty rule isolates and allows nothing",
            &all_of_shop,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "a namespaced policy selects in its namespace only",
            &all_of_shop,
            "ops/pod/debug",
            "payments/deployment/billing",
            TCP,
            80,
            true,
        ),
        (
            "a clusterwide policy selects everywhere",
            &clusterwide,
            "ops/pod/debug",
            "payments/deployment/billing",
            TCP,
            80,
            false,
        ),
        (
            "…and its peers match everywhere",
            &clusterwide,
            "shop/deployment/web",
            "payments/deployment/billing",
            TCP,
            80,
            true,
        ),
        (
            "a node rule selects no pod",
            &node_rule,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "every rule of specs applies (second)",
            specs,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "every rule of specs applies (first)",
            specs,
            "ops/pod/debug",
            "shop/deployment/api",
            TCP,
            3000,
            true,
        ),
    ]);
}

#[test]
fn cilium_cidrs_and_ports() {
    let cidr_set = cnp(
        "shop",
        "out",
        &format!(
            "{WEB}  egress:\n    - toCIDRSet: [{{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]\n"
        ),
    );
    let every_address = cnp(
        "shop",
        "out",
        &format!("{WEB}  egress:\n    - toCIDR: [0.0.0.0/0]\n"),
    );
    let dns_any = cnp("shop", "dns", &format!("{WEB}  egress:\n    - toEntities: [all]\n      toPorts: [{{ports: [{{port: \"53\"}}]}}]\n"));
    let dns_tcp = cnp("shop", "dns", &format!("{WEB}  egress:\n    - toEntities: [all]\n      toPorts: [{{ports: [{{port: \"53\", protocol: TCP}}]}}]\n"));
    let layer4_only = cnp("shop", "web", &format!("{WEB}  ingress:\n    - toPorts: [{{ports: [{{port: \"8080\", protocol: TCP}}], rules: {{http: [{{method: GET}}]}}}}]\n"));
    let named = cnp("shop", "web", &format!("{WEB}  ingress:\n    - fromEntities: [cluster]\n      toPorts: [{{ports: [{{port: http, protocol: TCP}}]}}]\n"));
    let range = cnp("shop", "web", &format!("{WEB}  ingress:\n    - fromEntities: [cluster]\n      toPorts: [{{ports: [{{port: \"9000\", endPort: 9100, protocol: TCP}}]}}]\n"));
    check(&[
        (
            "toCIDRSet allows inside the block",
            &cidr_set,
            "shop/deployment/web",
            "10.2.0.0/16",
            TCP,
            443,
            true,
        ),
        (
            "…not inside an exception",
            &cidr_set,
            "shop/deployment/web",
            "10.1.2.3/32",
            TCP,
            443,
            false,
        ),
        (
            "CIDR rules never match pods",
            &every_address,
            "shop/deployment/web",
            "payments/deployment/billing",
            TCP,
            80,
            false,
        ),
        (
            "…only addresses outside the cluster",
            &every_address,
            "shop/deployment/web",
            "8.8.8.8/32",
            TCP,
            443,
            true,
        ),
        (
            "no protocol: ANY (UDP)",
            &dns_any,
            "shop/deployment/web",
            "ops/pod/debug",
            UDP,
            53,
            true,
        ),
        (
            "no protocol: ANY (TCP)",
            &dns_any,
            "shop/deployment/web",
            "ops/pod/debug",
            TCP,
            53,
            true,
        ),
        (
            "…that port only",
            &dns_any,
            "shop/deployment/web",
            "ops/pod/debug",
            TCP,
            54,
            false,
        ),
        (
            "protocol TCP: not UDP",
            &dns_tcp,
            "shop/deployment/web",
            "ops/pod/debug",
            UDP,
            53,
            false,
        ),
        (
            "toPorts without peers: every peer, layer 7 counted as its port",
            &layer4_only,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…not other ports",
            &layer4_only,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            9090,
            false,
        ),
        (
            "a port name resolves on the destination",
            &named,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…and no other port",
            &named,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            9090,
            false,
        ),
        (
            "endPort: a range",
            &range,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            9090,
            true,
        ),
        (
            "…not outside it",
            &range,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
    ]);
}

#[test]
fn cilium_denies_win_and_allows_add_up_with_network_policies() {
    let deny_api = |default_deny: &str| {
        cnp("shop", "no-api", &format!("{WEB}{default_deny}  ingressDeny:\n    - fromEndpoints: [{{matchLabels: {{app: api}}}}]\n"))
    };
    let deny_only = deny_api("");
    let deny_without_default = deny_api("  enableDefaultDeny: {ingress: false}\n");
    let deny_over_np = join(&[
        ALLOW_ALL_SHOP,
        &deny_api("  enableDefaultDeny: {ingress: false}\n"),
    ]);
    let deny_over_allow = cnp(
        "shop",
        "web",
        &format!("{WEB}  ingress:\n    - fromEntities: [cluster]\n  ingressDeny:\n    - fromEndpoints: [{{matchLabels: {{app: api}}}}]\n      toPorts: [{{ports: [{{port: \"8080\"}}]}}]\n"),
    );
    let additive = join(&[
        DENY_INGRESS_SHOP,
        &cnp("shop", "ops", &format!("{WEB}  ingress:\n    - fromEndpoints: [{{matchLabels: {{io.kubernetes.pod.namespace: ops}}}}]\n")),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: from-api, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n    - from: [{podSelector: {matchLabels: {app: api}}}]\n",
    ]);
    check(&[
        (
            "a deny-only policy isolates too",
            &deny_only,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "enableDefaultDeny false: the deny alone applies",
            &deny_without_default,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…and denies",
            &deny_without_default,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "a Cilium deny wins over a NetworkPolicy allow",
            &deny_over_np,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "…for its peers only",
            &deny_over_np,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "a deny wins over an allow of the same policy, on its port",
            &deny_over_allow,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
        (
            "…not on other ports",
            &deny_over_allow,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            9090,
            true,
        ),
        (
            "Cilium and NetworkPolicy allows add up (Cilium's)",
            &additive,
            "ops/pod/debug",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "Cilium and NetworkPolicy allows add up (the NetworkPolicy's)",
            &additive,
            "shop/deployment/api",
            "shop/deployment/web",
            TCP,
            8080,
            true,
        ),
        (
            "…and the rest stays denied",
            &additive,
            "payments/deployment/billing",
            "shop/deployment/web",
            TCP,
            8080,
            false,
        ),
    ]);
}

// ---- The matrix over groups ----

#[test]
fn the_grouped_matrix_agrees_with_every_pair_judged_alone() {
    let policy_sets = [
        String::new(),
        join(&[DENY_INGRESS_SHOP, ALLOW_ALL_SHOP]),
        join(&[
            DENY_INGRESS_SHOP,
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress, Egress]\n  ingress:\n    - from: [{namespaceSelector: {matchLabels: {env: prod}}, podSelector: {matchLabels: {app: billing}}}]\n      ports: [{port: http}]\n  egress:\n    - to: [{podSelector: {matchLabels: {app: api}}}]\n      ports: [{port: dns, protocol: UDP}, {port: 3000}]\n",
            &anp("ops-out", 3, "{namespaces: {}}", &format!("  ingress:\n{}", ingress_rule("Deny", FROM_OPS))),
            &banp("{namespaces: {matchLabels: {team: payments}}}", "  ingress:\n    - {action: Deny, from: [{namespaces: {}}]}\n"),
        ]),
        join(&[
            &cnp("shop", "web", &format!("{WEB}  ingress:\n    - fromEndpoints: [{{matchLabels: {{io.kubernetes.pod.namespace: payments, app: ledger}}}}]\n      toPorts: [{{ports: [{{port: metrics}}]}}]\n  egressDeny:\n    - toEntities: [cluster]\n      toPorts: [{{ports: [{{port: \"53\"}}]}}]\n")),
            &ccnp("payments", "  endpointSelector: {matchLabels: {io.cilium.k8s.namespace.labels.team: payments}}\n  egress:\n    - toEndpoints: [{matchLabels: {tier: frontend}}]\n"),
            &anp("pass-shop", 1, SHOP, &format!("  ingress:\n{}", ingress_rule("Pass", FROM_ALL))),
        ]),
    ];
    for policies in policy_sets {
        let network = network(&format!("{WORKLOADS}\n---\n{policies}"));
        let wrong = support::pairs_the_groups_get_wrong(&network);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}

#[test]
fn cilium_layer7_and_unmodelled_peers_are_noted_on_the_allow() {
    let network = network(&format!(
        "{WORKLOADS}\n---\n{}",
        cnp(
            "shop",
            "web",
            &format!("{WEB}  ingress:\n    - fromEndpoints: [{{matchLabels: {{app: api}}}}]\n      toPorts: [{{ports: [{{port: \"8080\", protocol: TCP}}], rules: {{http: [{{method: GET, path: /healthz}}]}}}}]\n  egress:\n    - toFQDNs: [{{matchName: api.example.com}}]\n      toEntities: [world]\n"),
        )
    ));
    let api = network.workload("shop/deployment/api").expect("api");
    let web = network.workload("shop/deployment/web").expect("web");
    let inbound = network.reach(Endpoint::Workload(api), Endpoint::Workload(web));
    let allowing: Vec<_> = inbound.ingress.allowing().collect();
    assert_eq!(allowing.len(), 1);
    assert_eq!(allowing[0].ports.to_string(), "8080/TCP");
    assert!(
        allowing[0]
            .note
            .as_deref()
            .is_some_and(|n| n.starts_with("layer 7 rules")),
        "{:?}",
        allowing[0].note
    );
    let outside = Cidr::parse("203.0.113.9/32").expect("cidr");
    let outbound = network.reach(Endpoint::Workload(web), Endpoint::External(&outside));
    let allowing: Vec<_> = outbound.egress.allowing().collect();
    assert_eq!(allowing.len(), 1, "world allows it");
    assert_eq!(allowing[0].note.as_deref(), Some("not evaluated: toFQDNs"));
}

/// The outside ranges of `id` in `direction`, as `RANGE: PORTS` lines.
fn outside(
    network: &Network,
    id: &str,
    direction: palisade_analysis::netpol::Direction,
) -> Vec<String> {
    let workload = network.workload(id).expect("workload");
    network
        .outside(workload, direction)
        .iter()
        .map(|r| format!("{}: {}", r.label(), r.ports))
        .collect()
}

#[test]
fn outside_ranges_are_cut_where_policies_draw_lines_and_joined_where_they_agree() {
    use palisade_analysis::netpol::Direction;
    let network = network(&format!(
        "{WORKLOADS}---\n\
         apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web-egress, namespace: shop}}\n\
         spec:\n  podSelector: {{matchLabels: {{app: web}}}}\n  policyTypes: [Egress]\n  egress:\n  \
         - to: [{{ipBlock: {{cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}}}]\n    ports: [{{port: 443}}]\n  \
         - to: [{{ipBlock: {{cidr: 10.1.0.0/16}}}}]\n    ports: [{{port: 5432}}]\n  \
         - to: [{{ipBlock: {{cidr: 2001:db8::/32}}}}]\n    ports: [{{port: 443}}]\n"
    ));
    // Denied: 10.0.0.0/16 and 10.2.0.0-10.255.255.255 (inside the except, outside 10.1/16),
    // and IPv6 outside 2001:db8::/32. Allowed: the rest of IPv4 on 443, joined across the
    // except's two sides only where they touch (they do not), and 10.1/16 on 5432.
    assert_eq!(
        outside(&network, "shop/deployment/web", Direction::Egress),
        [
            "0.0.0.0-9.255.255.255: 443/TCP",
            "10.1.0.0/16: 5432/TCP",
            "11.0.0.0-255.255.255.255: 443/TCP",
            "2001:db8::/32: 443/TCP",
        ]
    );
    // Ingress is not isolated: every address of both families, on every port.
    assert_eq!(
        outside(&network, "shop/deployment/web", Direction::Ingress),
        ["0.0.0.0/0: all ports", "::/0: all ports"]
    );
    // A workload no policy selects: everything, both ways, whatever others draw.
    assert_eq!(
        outside(&network, "shop/deployment/api", Direction::Egress),
        ["0.0.0.0/0: all ports", "::/0: all ports"]
    );
}

#[test]
fn a_diff_names_what_opened_and_closed_and_the_rules_behind_each() {
    use palisade_analysis::netpol::diff::{changes, End};
    let api_ingress = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: api-ingress, namespace: shop}\n\
        spec:\n  podSelector: {matchLabels: {app: api}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 3000}]\n";
    let old = network(&format!("{WORKLOADS}---\n{api_ingress}"));
    let new = network(&format!(
        "{WORKLOADS}---\n{api_ingress}  \
         - from: [{{namespaceSelector: {{matchLabels: {{team: payments}}}}}}]\n    ports: [{{port: 3000}}]\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web-egress, namespace: shop}}\n\
         spec:\n  podSelector: {{matchLabels: {{app: web}}}}\n  policyTypes: [Egress]\n  egress:\n  \
         - to: [{{podSelector: {{matchLabels: {{app: api}}}}}}]\n    ports: [{{port: 3000}}]\n  \
         - to: [{{ipBlock: {{cidr: 203.0.113.0/24}}}}]\n    ports: [{{port: 443}}]\n"
    ));
    let all = changes(&old, &new);
    let find = |from: &str, to: &str| {
        all.iter()
            .find(|c| c.from.to_string() == from && c.to.to_string() == to)
            .unwrap_or_else(|| panic!("no change {from} → {to}: {all:#?}"))
    };
    // Opened: payments' pods to api on 3000, by the new rule.
    let billing = find("payments/deployment/billing", "shop/deployment/api");
    assert_eq!(billing.opened.to_string(), "3000/TCP");
    assert!(billing.closed.is_empty());
    assert_eq!(
        billing.opened_by,
        ["NetworkPolicy shop/api-ingress /spec/ingress/1"]
    );
    // Closed: web's egress is isolated now; before, nothing isolated it.
    let web = find("shop/deployment/web", "payments/deployment/billing");
    assert!(web.opened.is_empty());
    assert_eq!(web.closed.to_string(), "all ports");
    assert!(web
        .closed_by
        .contains(&"nothing isolates the egress of shop/deployment/web".to_string()));
    // Unchanged pairs are not listed: web to api stays allowed on 3000 alone (api's ingress
    // allowed no more before; web's new egress allows no less), api to billing stays open.
    for (from, to) in [
        ("shop/deployment/web", "shop/deployment/api"),
        ("shop/deployment/api", "payments/deployment/billing"),
    ] {
        assert!(
            !all.iter()
                .any(|c| c.from.to_string() == from && c.to.to_string() == to),
            "{from} → {to}: {all:#?}"
        );
    }
    // Outside: web keeps 443 to 203.0.113.0/24 and loses the rest, cut where the rule draws.
    let kept = find("shop/deployment/web", "203.0.113.0/24");
    assert!(!kept.closed.contains(Protocol::Tcp, 443) && kept.closed.contains(Protocol::Tcp, 80));
    assert_eq!(
        find("shop/deployment/web", "0.0.0.0-203.0.112.255")
            .closed
            .to_string(),
        "all ports"
    );
    assert!(matches!(kept.to, End::Outside(_)));
    // Nothing opened toward the outside, nothing changed for ingress from it.
    assert!(!all.iter().any(|c| matches!(c.from, End::Outside(_))
        || (matches!(c.to, End::Outside(_)) && !c.opened.is_empty())));
    // The same version twice: no change.
    assert!(changes(&new, &new).is_empty());
}

/// Two Nodes (a control-plane node and a worker, with their addresses) and host-network pods:
/// one pinned to the worker by nodeSelector, one to the control-plane node by nodeName, one
/// that may run anywhere.
const NODES: &str = "apiVersion: v1\nkind: Node\nmetadata: {name: cp-1, labels: {node-role.kubernetes.io/control-plane: \"\"}}\n\
status:\n  addresses: [{type: InternalIP, address: 10.0.0.10}, {type: Hostname, address: cp-1}]\n---\n\
apiVersion: v1\nkind: Node\nmetadata: {name: worker-1, labels: {role: worker}}\n\
status:\n  addresses: [{type: InternalIP, address: 10.0.0.20}]\n---\n\
apiVersion: v1\nkind: Pod\nmetadata: {name: exporter, namespace: monitoring, labels: {app: exporter}}\n\
spec: {hostNetwork: true, nodeSelector: {role: worker}, containers: [{name: exporter}]}\n---\n\
apiVersion: v1\nkind: Pod\nmetadata: {name: etcd-probe, namespace: monitoring}\n\
spec: {hostNetwork: true, nodeName: cp-1, containers: [{name: probe}]}\n---\n\
apiVersion: v1\nkind: Pod\nmetadata: {name: anywhere, namespace: monitoring}\n\
spec: {hostNetwork: true, containers: [{name: agent}]}";

/// An AdminNetworkPolicy over shop's pods with one egress rule to `nodes`.
fn to_nodes(action: &str, nodes: &str) -> String {
    anp(
        "shop-to-nodes",
        10,
        SHOP,
        &format!("  egress:\n    - {{action: {action}, to: [{{nodes: {nodes}}}]}}\n"),
    )
}

#[test]
fn nodes_peers_hold_node_addresses_and_the_host_network_pods_on_those_nodes() {
    let control_plane =
        "{matchExpressions: [{key: node-role.kubernetes.io/control-plane, operator: Exists}]}";
    let deny_cp = join(&[NODES, &to_nodes("Deny", control_plane)]);
    let allow_all_nodes = join(&[
        NODES,
        &to_nodes("Allow", "{}"),
        &banp(
            SHOP,
            "  egress:\n    - {action: Deny, to: [{networks: [0.0.0.0/0]}, {namespaces: {}}]}\n",
        ),
    ]);
    let deny_cp_no_nodes = to_nodes("Deny", control_plane)
        + "\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: anywhere, namespace: monitoring}\nspec: {hostNetwork: true, containers: [{name: agent}]}";
    let allow_cp_no_nodes = to_nodes("Allow", control_plane)
        + "\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: anywhere, namespace: monitoring}\nspec: {hostNetwork: true, containers: [{name: agent}]}\n---\n"
        + &banp(SHOP, "  egress:\n    - {action: Deny, to: [{networks: [0.0.0.0/0]}, {namespaces: {}}]}\n");
    let web = "shop/deployment/web";
    check(&[
        (
            "the control-plane node's address",
            &deny_cp,
            web,
            "10.0.0.10/32",
            Protocol::Tcp,
            6443,
            false,
        ),
        (
            "the worker's address",
            &deny_cp,
            web,
            "10.0.0.20/32",
            Protocol::Tcp,
            9100,
            true,
        ),
        (
            "an address no node has",
            &deny_cp,
            web,
            "10.0.0.30/32",
            Protocol::Tcp,
            80,
            true,
        ),
        (
            "a host-network pod pinned to the worker",
            &deny_cp,
            web,
            "monitoring/pod/exporter",
            Protocol::Tcp,
            9100,
            true,
        ),
        (
            "a host-network pod on the control-plane node",
            &deny_cp,
            web,
            "monitoring/pod/etcd-probe",
            Protocol::Tcp,
            2379,
            false,
        ),
        (
            "a host-network pod that may run on it",
            &deny_cp,
            web,
            "monitoring/pod/anywhere",
            Protocol::Tcp,
            80,
            false,
        ),
        (
            "a pod on the pod network is no node",
            &deny_cp,
            web,
            "shop/deployment/api",
            Protocol::Tcp,
            3000,
            true,
        ),
        (
            "every node: a host-network pod",
            &allow_all_nodes,
            web,
            "monitoring/pod/exporter",
            Protocol::Tcp,
            9100,
            true,
        ),
        (
            "every node: a node's address",
            &allow_all_nodes,
            web,
            "10.0.0.20/32",
            Protocol::Tcp,
            22,
            true,
        ),
        (
            "every node: not a pod of the pod network",
            &allow_all_nodes,
            web,
            "shop/deployment/api",
            Protocol::Tcp,
            3000,
            false,
        ),
        (
            "every node: not an address no node has",
            &allow_all_nodes,
            web,
            "10.0.0.30/32",
            Protocol::Tcp,
            80,
            false,
        ),
        (
            "no Node in the input: a deny fails closed",
            &deny_cp_no_nodes,
            web,
            "monitoring/pod/anywhere",
            Protocol::Tcp,
            80,
            false,
        ),
        (
            "no Node in the input: an allow does not hold",
            &allow_cp_no_nodes,
            web,
            "monitoring/pod/anywhere",
            Protocol::Tcp,
            80,
            false,
        ),
    ]);
}

// ---- ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) ----

/// A ClusterNetworkPolicy `name` of `tier` at `priority` over `subject`, with `rules`.
fn cluster_policy(name: &str, tier: &str, priority: u32, subject: &str, rules: &str) -> String {
    format!(
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {{name: {name}}}\nspec:\n  tier: {tier}\n  priority: {priority}\n  subject: {subject}\n{rules}"
    )
}

fn cnp_ingress(action: &str, from: &str, protocols: &str) -> String {
    if protocols.is_empty() {
        format!("  ingress:\n    - {{action: {action}, from: {from}}}\n")
    } else {
        format!("  ingress:\n    - {{action: {action}, from: {from}, protocols: {protocols}}}\n")
    }
}

#[test]
fn cluster_network_policies_decide_in_their_tier_by_priority() {
    let deny_all = cluster_policy(
        "deny-shop",
        "Admin",
        10,
        SHOP,
        &cnp_ingress("Deny", FROM_ALL, ""),
    );
    let accept_ops = cluster_policy(
        "accept-ops",
        "Admin",
        5,
        SHOP,
        &cnp_ingress("Accept", FROM_OPS, ""),
    );
    let pass_ops = cluster_policy(
        "pass-ops",
        "Admin",
        5,
        SHOP,
        &cnp_ingress("Pass", FROM_OPS, ""),
    );
    let baseline_deny = cluster_policy(
        "baseline-deny",
        "Baseline",
        20,
        SHOP,
        &cnp_ingress("Deny", FROM_ALL, ""),
    );
    let baseline_pass = cluster_policy(
        "baseline-pass-ops",
        "Baseline",
        10,
        SHOP,
        &cnp_ingress("Pass", FROM_OPS, ""),
    );
    let deny_8080 = cluster_policy(
        "deny-8080",
        "Admin",
        1,
        SHOP,
        &cnp_ingress(
            "Deny",
            FROM_ALL,
            "[{tcp: {destinationPort: {number: 8080}}}]",
        ),
    );
    let deny_range = cluster_policy(
        "deny-range",
        "Admin",
        1,
        SHOP,
        &cnp_ingress(
            "Deny",
            FROM_ALL,
            "[{tcp: {destinationPort: {range: {start: 9000, end: 9100}}}}]",
        ),
    );
    let deny_named = cluster_policy(
        "deny-metrics",
        "Admin",
        1,
        SHOP,
        &cnp_ingress("Deny", FROM_ALL, "[{destinationNamedPort: metrics}]"),
    );
    let (debug, web, billing) = (
        "ops/pod/debug",
        "shop/deployment/web",
        "payments/deployment/billing",
    );
    let admin_over_np = join(&[ALLOW_ALL_SHOP, &deny_all]);
    let accept_first = join(&[&accept_ops, &deny_all]);
    let pass_to_np = join(&[&pass_ops, &deny_all, DENY_INGRESS_SHOP]);
    let pass_to_default = join(&[&pass_ops, &deny_all]);
    let baseline_under_np = join(&[&baseline_deny, ALLOW_ALL_SHOP]);
    let baseline_pass_first = join(&[&baseline_pass, &baseline_deny]);
    check(&[
        (
            "admin Deny over a NetworkPolicy allow",
            &admin_over_np,
            debug,
            web,
            Protocol::Tcp,
            8080,
            false,
        ),
        (
            "a lower priority number first: Accept",
            &accept_first,
            debug,
            web,
            Protocol::Tcp,
            8080,
            true,
        ),
        (
            "a lower priority number first: the Deny after it",
            &accept_first,
            billing,
            web,
            Protocol::Tcp,
            8080,
            false,
        ),
        (
            "Pass to the NetworkPolicy tier, which isolates",
            &pass_to_np,
            debug,
            web,
            Protocol::Tcp,
            8080,
            false,
        ),
        (
            "Pass to the NetworkPolicy tier, which is empty: allowed",
            &pass_to_default,
            debug,
            web,
            Protocol::Tcp,
            8080,
            true,
        ),
        (
            "Pass skips the rest of its tier",
            &pass_to_default,
            billing,
            web,
            Protocol::Tcp,
            8080,
            false,
        ),
        (
            "baseline Deny: pods no NetworkPolicy isolates",
            &baseline_deny,
            debug,
            web,
            Protocol::Tcp,
            8080,
            false,
        ),
        (
            "baseline Deny: what a NetworkPolicy decides stands",
            &baseline_under_np,
            debug,
            web,
            Protocol::Tcp,
            8080,
            true,
        ),
        (
            "baseline Pass goes to the default",
            &baseline_pass_first,
            debug,
            web,
            Protocol::Tcp,
            8080,
            true,
        ),
        (
            "baseline Pass: others still denied",
            &baseline_pass_first,
            billing,
            web,
            Protocol::Tcp,
            8080,
            false,
        ),
        (
            "protocols: the port named",
            &deny_8080,
            debug,
            web,
            Protocol::Tcp,
            8080,
            false,
        ),
        (
            "protocols: another port",
            &deny_8080,
            debug,
            web,
            Protocol::Tcp,
            9090,
            true,
        ),
        (
            "protocols: TCP only",
            &deny_8080,
            debug,
            web,
            Protocol::Udp,
            8080,
            true,
        ),
        (
            "protocols: a range",
            &deny_range,
            debug,
            web,
            Protocol::Tcp,
            9090,
            false,
        ),
        (
            "protocols: outside the range",
            &deny_range,
            debug,
            web,
            Protocol::Tcp,
            8080,
            true,
        ),
        (
            "protocols: a named port",
            &deny_named,
            debug,
            web,
            Protocol::Tcp,
            9090,
            false,
        ),
        (
            "protocols: not the named port",
            &deny_named,
            debug,
            web,
            Protocol::Tcp,
            8080,
            true,
        ),
    ]);
}

#[test]
fn cluster_network_policies_the_api_server_refuses_are_left_out_and_said() {
    let refused = [
        ("a tier that is none", cluster_policy("x", "Middle", 1, SHOP, &cnp_ingress("Deny", FROM_ALL, ""))),
        ("AdminNetworkPolicy's Allow", cluster_policy("x", "Admin", 1, SHOP, &cnp_ingress("Allow", FROM_ALL, ""))),
        ("a priority past 1000", cluster_policy("x", "Admin", 1001, SHOP, &cnp_ingress("Deny", FROM_ALL, ""))),
        (
            "a range of one port",
            cluster_policy("x", "Admin", 1, SHOP, &cnp_ingress("Deny", FROM_ALL, "[{tcp: {destinationPort: {range: {start: 9000, end: 9000}}}}]")),
        ),
        (
            "two protocols in one entry",
            cluster_policy("x", "Admin", 1, SHOP, &cnp_ingress("Deny", FROM_ALL, "[{tcp: {destinationPort: {number: 80}}, udp: {destinationPort: {number: 53}}}]")),
        ),
    ];
    for (what, policy) in refused {
        let network = network(&format!("{WORKLOADS}\n---\n{policy}"));
        assert_eq!(network.invalid.len(), 1, "{what}: {:?}", network.invalid);
        assert!(network.admin.is_empty(), "{what}: read loosely");
        let web = network.workload("shop/deployment/web").expect("web");
        let debug = network.workload("ops/pod/debug").expect("debug");
        let reach = network.reach(Endpoint::Workload(debug), Endpoint::Workload(web));
        assert!(
            reach.ports.contains(Protocol::Tcp, 8080),
            "{what}: the refused deny was applied"
        );
    }
}
