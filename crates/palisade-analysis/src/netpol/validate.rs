//! What the API server refuses in a NetworkPolicy, an AdminNetworkPolicy, a
//! BaselineAdminNetworkPolicy or a ClusterNetworkPolicy, checked before the engine reads one.
//!
//! The engine reads leniently (a port it cannot read means every port, an unknown protocol
//! TCP), which is right for a policy the cluster holds and wrong for one it would refuse: read
//! loosely, a refused policy widens or narrows access that in truth the cluster never had. So
//! such a policy is left out of the analysis, as the cluster leaves it out, and said to be.
//!
//! NetworkPolicy: the API server's `ValidateNetworkPolicySpec` (ports 1-65535, `endPort` only
//! with a numeric `port` and not below it, protocols `TCP`/`UDP`/`SCTP` as written, each peer
//! exactly one of `ipBlock` or selectors, CIDRs with `except` strictly inside, `policyTypes` of
//! `Ingress`/`Egress`, valid label selectors), plus the field types its decoder insists on.
//! The administrator tiers: their CRDs' schemas (priority 0-1000, actions, one subject, one
//! port form, ranges with `end` not below `start`, a BaselineAdminNetworkPolicy named
//! `default`).

use palisade_model::{FieldPath, Node, Object, Value};

use crate::selector;

/// One reason the API server would refuse a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: FieldPath,
    pub message: String,
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn add(&mut self, path: &FieldPath, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.clone(),
            message: message.into(),
        });
    }

    /// The node at `key` as a list (absent or null: empty); anything else is a problem.
    fn seq<'n>(&mut self, node: &'n Node, key: &str, path: &FieldPath) -> &'n [Node] {
        match node.get(key) {
            None => &[],
            Some(n) if n.is_null() => &[],
            Some(n) => match &n.value {
                Value::Seq(items) => items,
                _ => {
                    self.add(
                        &path.key(key),
                        format!("must be a list, found a {}", n.type_name()),
                    );
                    &[]
                }
            },
        }
    }

    /// A mapping where one is required.
    fn map<'n>(&mut self, node: &'n Node, path: &FieldPath) -> Option<&'n Node> {
        if node.is_map() {
            Some(node)
        } else {
            self.add(
                path,
                format!("must be a mapping, found a {}", node.type_name()),
            );
            None
        }
    }

    fn selector(&mut self, node: Option<&Node>, path: &FieldPath) {
        if let Some(node) = node.filter(|n| !n.is_null()) {
            for (at, message) in selector::LabelSelector::problems(node, path) {
                self.add(&at, message);
            }
        }
    }

    fn port_number(&mut self, node: Option<&Node>, path: &FieldPath) -> Option<i64> {
        let node = node?;
        match node.as_i64() {
            Some(n) if (1..=65535).contains(&n) => Some(n),
            Some(n) => {
                self.add(
                    path,
                    format!("{n} is not a port: must be between 1 and 65535"),
                );
                None
            }
            None => {
                self.add(
                    path,
                    format!("must be a port number, found a {}", node.type_name()),
                );
                None
            }
        }
    }

    fn protocol(&mut self, node: &Node, path: &FieldPath) {
        match node.get("protocol") {
            None => {}
            Some(p) => match p.as_str() {
                Some("TCP" | "UDP" | "SCTP") => {}
                _ => self.add(
                    &path.key("protocol"),
                    format!(
                        "`{}` is not a supported protocol: TCP, UDP or SCTP, as written",
                        shown(p)
                    ),
                ),
            },
        }
    }

    fn cidr(&mut self, node: Option<&Node>, path: &FieldPath) -> Option<super::Cidr> {
        let Some(node) = node else {
            self.add(path, "required");
            return None;
        };
        let parsed = node
            .as_str()
            .filter(|s| s.contains('/'))
            .and_then(super::Cidr::parse);
        if parsed.is_none() {
            self.add(
                path,
                format!("`{}` is not a CIDR (`10.0.0.0/8`)", shown(node)),
            );
        }
        parsed
    }
}

/// A value from the input, short and without control characters, for a message.
fn shown(node: &Node) -> String {
    let text = node
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| node.value.to_string());
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Why the API server would refuse `object`, if it is a policy of a tier this engine reads.
pub fn problems(object: &Object) -> Vec<Problem> {
    let mut checker = Checker {
        problems: Vec::new(),
    };
    match (object.group(), object.kind()) {
        ("networking.k8s.io", "NetworkPolicy") => network_policy(object, &mut checker),
        ("policy.networking.k8s.io", "AdminNetworkPolicy") => {
            admin_policy(object, Api::Admin, &mut checker)
        }
        ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy") => {
            admin_policy(object, Api::Baseline, &mut checker)
        }
        ("policy.networking.k8s.io", "ClusterNetworkPolicy") => {
            admin_policy(object, Api::Cluster, &mut checker)
        }
        _ => {}
    }
    checker.problems
}

fn network_policy(object: &Object, c: &mut Checker) {
    let spec_path = FieldPath::root().key("spec");
    let Some(spec) = object.root.get("spec").filter(|s| !s.is_null()) else {
        return;
    };
    let Some(spec) = c.map(spec, &spec_path) else {
        return;
    };
    c.selector(spec.get("podSelector"), &spec_path.key("podSelector"));
    for (direction, peers_key) in [("ingress", "from"), ("egress", "to")] {
        let rules = c.seq(spec, direction, &spec_path);
        for (i, rule) in rules.iter().enumerate() {
            let path = spec_path.key(direction).index(i);
            let Some(rule) = c.map(rule, &path) else {
                continue;
            };
            for (j, port) in c.seq(rule, "ports", &path).iter().enumerate() {
                let port_path = path.key("ports").index(j);
                if let Some(port) = c.map(port, &port_path) {
                    network_policy_port(port, &port_path, c);
                }
            }
            for (j, peer) in c.seq(rule, peers_key, &path).iter().enumerate() {
                let peer_path = path.key(peers_key).index(j);
                if let Some(peer) = c.map(peer, &peer_path) {
                    network_policy_peer(peer, &peer_path, c);
                }
            }
        }
    }
    let types = c.seq(spec, "policyTypes", &spec_path);
    if types.len() > 2 {
        c.add(
            &spec_path.key("policyTypes"),
            "may not specify more than two policyTypes",
        );
        return;
    }
    for (i, kind) in types.iter().enumerate() {
        if !matches!(kind.as_str(), Some("Ingress" | "Egress")) {
            c.add(
                &spec_path.key("policyTypes").index(i),
                format!("`{}` is not a policy type: Ingress or Egress", shown(kind)),
            );
        }
    }
}

fn network_policy_port(port: &Node, path: &FieldPath, c: &mut Checker) {
    c.protocol(port, path);
    let end = port.get("endPort").filter(|e| !e.is_null());
    match port.get("port").filter(|p| !p.is_null()) {
        Some(number) if number.as_i64().is_some() || !matches!(number.value, Value::Str(_)) => {
            let start = c.port_number(Some(number), &path.key("port"));
            let end_number = c.port_number(end, &path.key("endPort"));
            if let (Some(start), Some(end)) = (start, end_number) {
                if end < start {
                    c.add(
                        &path.key("endPort"),
                        format!(
                            "{end} is below `port` ({start}): must be greater than or equal to it"
                        ),
                    );
                }
            }
        }
        Some(name) => {
            let name = name.as_str().unwrap_or_default();
            if let Some(why) = port_name_problem(name) {
                c.add(&path.key("port"), why);
            }
            if end.is_some() {
                c.add(
                    &path.key("endPort"),
                    "may not be specified when `port` is a name",
                );
            }
        }
        None => {
            if end.is_some() {
                c.add(
                    &path.key("endPort"),
                    "may not be specified when `port` is not",
                );
            }
        }
    }
}

/// The IANA service-name form a named port takes: 1-15 characters of lowercase letters, digits
/// and single inner hyphens, with at least one letter.
fn port_name_problem(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    (!valid).then(|| {
        let shown: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
        format!(
            "`{shown}` is neither a port number nor a port name (1-15 lowercase letters, digits and hyphens)"
        )
    })
}

fn network_policy_peer(peer: &Node, path: &FieldPath, c: &mut Checker) {
    let present = |key: &str| peer.get(key).filter(|n| !n.is_null());
    let selectors = ["podSelector", "namespaceSelector"]
        .iter()
        .filter(|k| present(k).is_some())
        .count();
    c.selector(present("podSelector"), &path.key("podSelector"));
    c.selector(present("namespaceSelector"), &path.key("namespaceSelector"));
    let block = present("ipBlock");
    if let Some(block) = block {
        let block_path = path.key("ipBlock");
        if let Some(block) = c.map(block, &block_path) {
            let cidr = c.cidr(block.get("cidr"), &block_path.key("cidr"));
            for (i, except) in c.seq(block, "except", &block_path).iter().enumerate() {
                let except_path = block_path.key("except").index(i);
                let Some(except) = c.cidr(Some(except), &except_path) else {
                    continue;
                };
                if let Some(cidr) = &cidr {
                    if !(cidr.contains(&except) && except.prefix > cidr.prefix) {
                        c.add(
                            &except_path,
                            format!("{except} must be a strict subset of `cidr` ({cidr})"),
                        );
                    }
                }
            }
        }
    }
    match (selectors, block.is_some()) {
        (0, false) => c.add(
            path,
            "must specify a peer: podSelector, namespaceSelector or ipBlock",
        ),
        (1.., true) => c.add(path, "may not specify both ipBlock and another peer"),
        _ => {}
    }
}

/// Which administrator policy API a policy is written in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    /// AdminNetworkPolicy (v1alpha1).
    Admin,
    /// BaselineAdminNetworkPolicy (v1alpha1).
    Baseline,
    /// ClusterNetworkPolicy (v1alpha2): a `tier`, `Accept` for `Allow`, `protocols` for
    /// `ports`, at most 25 rules.
    Cluster,
}

fn admin_policy(object: &Object, api: Api, c: &mut Checker) {
    let baseline = api == Api::Baseline;
    let spec_path = FieldPath::root().key("spec");
    if baseline && object.reference.name != "default" {
        c.add(
            &FieldPath::root().keys(&["metadata", "name"]),
            "a BaselineAdminNetworkPolicy must be named `default`",
        );
    }
    let Some(spec) = object.root.get("spec") else {
        c.add(&spec_path, "required");
        return;
    };
    let Some(spec) = c.map(spec, &spec_path) else {
        return;
    };
    if api == Api::Cluster {
        match spec.str_of("tier") {
            Some("Admin" | "Baseline") => {}
            _ => c.add(
                &spec_path.key("tier"),
                format!(
                    "`{}` is not a tier: Admin, Baseline",
                    spec.get("tier").map(shown).unwrap_or_default()
                ),
            ),
        }
    }
    if !baseline {
        match spec.get("priority") {
            None => c.add(&spec_path.key("priority"), "required"),
            Some(p) => match p.as_i64() {
                Some(0..=1000) => {}
                Some(n) => c.add(
                    &spec_path.key("priority"),
                    format!("{n} is out of range: must be between 0 and 1000"),
                ),
                None => c.add(
                    &spec_path.key("priority"),
                    format!("must be an integer, found a {}", p.type_name()),
                ),
            },
        }
    }
    let subject_path = spec_path.key("subject");
    match spec.get("subject") {
        None => c.add(&subject_path, "required"),
        Some(subject) => {
            if let Some(subject) = c.map(subject, &subject_path) {
                let forms = ["namespaces", "pods"]
                    .iter()
                    .filter(|k| subject.get(k).is_some())
                    .count();
                if forms != 1 {
                    c.add(
                        &subject_path,
                        "must name exactly one of `namespaces` or `pods`",
                    );
                }
                c.selector(subject.get("namespaces"), &subject_path.key("namespaces"));
                if let Some(pods) = subject.get("pods") {
                    let pods_path = subject_path.key("pods");
                    if let Some(pods) = c.map(pods, &pods_path) {
                        c.selector(
                            pods.get("namespaceSelector"),
                            &pods_path.key("namespaceSelector"),
                        );
                        c.selector(pods.get("podSelector"), &pods_path.key("podSelector"));
                    }
                }
            }
        }
    }
    let actions: &[&str] = match api {
        Api::Baseline => &["Allow", "Deny"],
        Api::Admin => &["Allow", "Deny", "Pass"],
        Api::Cluster => &["Accept", "Deny", "Pass"],
    };
    let most = if api == Api::Cluster { 25 } else { 100 };
    for (direction, peers_key) in [("ingress", "from"), ("egress", "to")] {
        let rules = c.seq(spec, direction, &spec_path);
        if rules.len() > most {
            c.add(
                &spec_path.key(direction),
                format!("may hold at most {most} rules"),
            );
        }
        for (i, rule) in rules.iter().enumerate() {
            let path = spec_path.key(direction).index(i);
            let Some(rule) = c.map(rule, &path) else {
                continue;
            };
            match rule.str_of("action") {
                Some(action) if actions.contains(&action) => {}
                _ => c.add(
                    &path.key("action"),
                    format!(
                        "`{}` is not an action: {}",
                        rule.get("action").map(shown).unwrap_or_default(),
                        actions.join(", ")
                    ),
                ),
            }
            let peers = c.seq(rule, peers_key, &path);
            if peers.is_empty() {
                c.add(&path.key(peers_key), "must hold at least one peer");
            }
            for (j, peer) in peers.iter().enumerate() {
                let peer_path = path.key(peers_key).index(j);
                if let Some(peer) = c.map(peer, &peer_path) {
                    admin_peer(peer, &peer_path, c);
                }
            }
            let ports_key = if api == Api::Cluster {
                "protocols"
            } else {
                "ports"
            };
            for (j, port) in c.seq(rule, ports_key, &path).iter().enumerate() {
                let port_path = path.key(ports_key).index(j);
                if let Some(port) = c.map(port, &port_path) {
                    if api == Api::Cluster {
                        cluster_protocol(port, &port_path, c);
                    } else {
                        admin_port(port, &port_path, c);
                    }
                }
            }
        }
    }
}

/// One entry of a ClusterNetworkPolicy rule's `protocols`: exactly one of `tcp`, `udp`,
/// `sctp` (each with a `destinationPort`: a `number` or a `range` with `start` below `end`) or
/// `destinationNamedPort`.
fn cluster_protocol(entry: &Node, path: &FieldPath, c: &mut Checker) {
    let forms: Vec<&str> = ["tcp", "udp", "sctp", "destinationNamedPort"]
        .into_iter()
        .filter(|k| entry.get(k).is_some())
        .collect();
    if forms.len() != 1 {
        c.add(
            path,
            "must name exactly one of `tcp`, `udp`, `sctp` or `destinationNamedPort`",
        );
    }
    if let Some(name) = entry.get("destinationNamedPort") {
        match name.as_str() {
            Some(text) if !text.is_empty() => {}
            _ => c.add(
                &path.key("destinationNamedPort"),
                "must be a container port's name",
            ),
        }
    }
    for protocol in ["tcp", "udp", "sctp"] {
        let Some(node) = entry.get(protocol) else {
            continue;
        };
        let protocol_path = path.key(protocol);
        let Some(node) = c.map(node, &protocol_path) else {
            continue;
        };
        let Some(port) = node.get("destinationPort") else {
            c.add(&protocol_path.key("destinationPort"), "required");
            continue;
        };
        let port_path = protocol_path.key("destinationPort");
        let Some(port) = c.map(port, &port_path) else {
            continue;
        };
        let forms = ["number", "range"]
            .iter()
            .filter(|k| port.get(k).is_some())
            .count();
        if forms != 1 {
            c.add(&port_path, "must name exactly one of `number` or `range`");
        }
        if port.get("number").is_some() {
            c.port_number(port.get("number"), &port_path.key("number"));
        }
        if let Some(range) = port.get("range") {
            let range_path = port_path.key("range");
            if let Some(range) = c.map(range, &range_path) {
                let start = c.port_number(range.get("start"), &range_path.key("start"));
                let end = c.port_number(range.get("end"), &range_path.key("end"));
                for key in ["start", "end"] {
                    if range.get(key).is_none() {
                        c.add(&range_path.key(key), "required");
                    }
                }
                if let (Some(start), Some(end)) = (start, end) {
                    if start >= end {
                        c.add(
                            &range_path.key("end"),
                            format!("{end} is not above `start` ({start}): the range must be more than one port"),
                        );
                    }
                }
            }
        }
    }
}

fn admin_peer(peer: &Node, path: &FieldPath, c: &mut Checker) {
    let forms: Vec<&str> = ["namespaces", "pods", "nodes", "networks"]
        .into_iter()
        .filter(|k| peer.get(k).is_some())
        .collect();
    // A peer of a form this engine does not know (a newer API's) is no error: the engine
    // fails closed on it. No form at all, or two, the API server refuses.
    let unknown_form = forms.is_empty() && !peer.as_map().is_empty();
    if forms.len() > 1 || (forms.is_empty() && !unknown_form) {
        c.add(
            path,
            "must name exactly one of `namespaces`, `pods`, `nodes` or `networks`",
        );
    }
    c.selector(peer.get("namespaces"), &path.key("namespaces"));
    c.selector(peer.get("nodes"), &path.key("nodes"));
    if let Some(pods) = peer.get("pods") {
        let pods_path = path.key("pods");
        if let Some(pods) = c.map(pods, &pods_path) {
            c.selector(
                pods.get("namespaceSelector"),
                &pods_path.key("namespaceSelector"),
            );
            c.selector(pods.get("podSelector"), &pods_path.key("podSelector"));
        }
    }
    for (i, network) in c.seq(peer, "networks", path).iter().enumerate() {
        c.cidr(Some(network), &path.key("networks").index(i));
    }
}

fn admin_port(port: &Node, path: &FieldPath, c: &mut Checker) {
    let forms: Vec<&str> = ["portNumber", "namedPort", "portRange"]
        .into_iter()
        .filter(|k| port.get(k).is_some())
        .collect();
    if forms.len() != 1 {
        c.add(
            path,
            "must name exactly one of `portNumber`, `namedPort` or `portRange`",
        );
    }
    if let Some(number) = port.get("portNumber") {
        let number_path = path.key("portNumber");
        if let Some(number) = c.map(number, &number_path) {
            c.protocol(number, &number_path);
            if number.get("port").is_none() {
                c.add(&number_path.key("port"), "required");
            }
            c.port_number(number.get("port"), &number_path.key("port"));
        }
    }
    if let Some(name) = port.get("namedPort") {
        match name.as_str() {
            Some(text) if !text.is_empty() => {}
            _ => c.add(&path.key("namedPort"), "must be a container port's name"),
        }
    }
    if let Some(range) = port.get("portRange") {
        let range_path = path.key("portRange");
        if let Some(range) = c.map(range, &range_path) {
            c.protocol(range, &range_path);
            for key in ["start", "end"] {
                if range.get(key).is_none() {
                    c.add(&range_path.key(key), "required");
                }
            }
            let start = c.port_number(range.get("start"), &range_path.key("start"));
            let end = c.port_number(range.get("end"), &range_path.key("end"));
            if let (Some(start), Some(end)) = (start, end) {
                if end < start {
                    c.add(
                        &range_path.key("end"),
                        format!(
                            "{end} is below `start` ({start}): must be greater than or equal to it"
                        ),
                    );
                }
            }
        }
    }
}
