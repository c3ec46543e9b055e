//! `palisade netpol reach | matrix | generate`.

use std::collections::HashMap;
use std::fmt::Write as _;

use anyhow::{anyhow, bail, Result};
use palisade_analysis::netpol::generate;
use palisade_analysis::netpol::ingress::Routed;
use palisade_analysis::netpol::{
    Action, Cidr, Decision, Direction, Endpoint, Groups, Network, OutsideRange, PortRange, PortSet,
    Protocol, Reach, ServicePort, TargetPort, Tier, Verdict,
};
use palisade_model::LoadError;
use serde_json::{json, Value};

use crate::cli::{
    AnswerFormat, ClusterSource, DefaultDenyStyle, DiffArgs, DiffFormat, GenerateCommand,
    MatrixArgs, MatrixBy, MatrixFormat, NetInput, NetpolCommand, QuarantineStyle, ReachArgs,
};

const EXIT_ALLOWED: u8 = 0;
const EXIT_DENIED: u8 = 1;
/// `netpol diff`: some connection opened.
const EXIT_OPENED: u8 = 1;
const EXIT_ERROR: u8 = 2;

pub fn run(command: &NetpolCommand) -> Result<u8> {
    match command {
        NetpolCommand::Reach(args) => reach(args),
        NetpolCommand::Matrix(args) => matrix(args),
        NetpolCommand::Diff(args) => diff(args),
        NetpolCommand::Generate(command) => generate(command),
    }
}

fn load(input: &NetInput) -> Result<(Network, Vec<LoadError>)> {
    if input.paths.is_empty() && !input.source.cluster {
        anyhow::bail!("no input: give manifests, a directory, a dump, - for stdin, or --cluster");
    }
    let (mut inventory, mut errors) =
        crate::cluster_cmd::inventory(&input.source, &input.paths, false)?;
    let network = std::mem::take(&mut inventory.network);
    // The rest (roles, bindings, resources) is freed beside the matrix rather than before it:
    // on a large input, taking it apart held up the next step, which uses one core.
    rayon::spawn(move || drop(inventory));
    // A policy the API server would refuse is an error of the input (exit 2), and the answer
    // says it was judged without it.
    for invalid in &network.invalid {
        let location = invalid.source.location.as_ref();
        let error = LoadError {
            file: location.map_or_else(
                || invalid.source.object.display_name(),
                |l| l.file.to_string(),
            ),
            document: location.map(|l| l.document),
            line: location.map(|l| l.line),
            column: location.map(|l| l.column),
            message: format!("{}: {}", invalid.policy, invalid.message),
        };
        eprintln!("palisade: error: {error}");
        eprintln!(
            "palisade: warning: {} left out: {}",
            invalid.policy,
            invalid.consequence()
        );
        errors.push(error);
    }
    Ok((network, errors))
}

/// Outside addresses (a CIDR, an address, or a range `a.b.c.d-e.f.g.h`: the CIDR blocks it
/// is made of, and how the user wrote it), or a workload `NS/KIND/NAME` of the input.
enum Spec {
    Cidr(Vec<Cidr>, String),
    Workload(usize),
}

fn resolve(network: &Network, spec: &str) -> Result<Spec> {
    if let Some(range) = OutsideRange::parse(spec) {
        return Ok(Spec::Cidr(range.blocks(), range.label()));
    }
    if spec.contains('-') && !spec.contains('/') {
        bail!("`{spec}` is no address range: give FIRST-LAST, both of one family, FIRST not after LAST");
    }
    if spec.split('/').count() != 3 {
        bail!("`{spec}` is neither NS/KIND/NAME nor an address, CIDR or range");
    }
    let found = network.workload(spec).ok_or_else(|| {
        anyhow!("no workload `{spec}` in the input (use NS/KIND/NAME such as shop/deployment/web)")
    })?;
    let index = network
        .workloads
        .iter()
        .position(|w| std::ptr::eq(w, found))
        .ok_or_else(|| anyhow!("workload index"))?;
    Ok(Spec::Workload(index))
}

/// Each end `spec` stands for: the workload, or every block of a range.
fn endpoints<'n>(network: &'n Network, spec: &'n Spec) -> Vec<Endpoint<'n>> {
    match spec {
        Spec::Cidr(blocks, _) => blocks.iter().map(Endpoint::External).collect(),
        Spec::Workload(i) => vec![Endpoint::Workload(&network.workloads[*i])],
    }
}

/// What `from` may open to `to` when an end is a range: the ports allowed for every block of
/// it, explained by a block that allows no more; and each block's own ports when they differ.
fn reach_between(
    network: &Network,
    from: &[Endpoint<'_>],
    to: &[Endpoint<'_>],
) -> (Reach, Vec<(String, PortSet)>) {
    let mut judged: Vec<(String, Reach)> = Vec::new();
    for f in from {
        for t in to {
            let block = match (f, t) {
                (Endpoint::External(c), _) | (_, Endpoint::External(c)) => c.to_string(),
                _ => String::new(),
            };
            judged.push((block, network.reach(*f, *t)));
        }
    }
    let ports = judged
        .iter()
        .fold(PortSet::All, |all, (_, r)| all.intersect(&r.ports));
    let differ = judged.iter().any(|(_, r)| r.ports != ports);
    let parts = if differ {
        judged
            .iter()
            .map(|(block, r)| (block.clone(), r.ports.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let position = judged
        .iter()
        .position(|(_, r)| r.ports == ports)
        .unwrap_or(0);
    let mut result = judged.swap_remove(position).1;
    result.ports = ports;
    (result, parts)
}

fn describe(network: &Network, spec: &Spec) -> String {
    match spec {
        Spec::Cidr(_, label) => label.clone(),
        Spec::Workload(i) => network.workloads[*i].id(),
    }
}

/// `--port`: a number (8080, 53/UDP), or a container port's name (http), which the
/// destination workload's containers resolve as Kubernetes resolves named ports.
fn parse_port(text: &str, network: &Network, to: &Spec) -> Result<(Protocol, u16)> {
    let (port, protocol) = text.split_once('/').unwrap_or((text, "TCP"));
    let protocol = Protocol::parse(protocol)
        .ok_or_else(|| anyhow!("unknown protocol `{protocol}` (TCP, UDP or SCTP)"))?;
    if let Ok(number) = port.parse::<u16>() {
        return Ok((protocol, number));
    }
    let Spec::Workload(i) = to else {
        bail!("`{text}` is not a port number, and a named port needs a workload as destination");
    };
    let workload = &network.workloads[*i];
    match workload.ports.iter().find(|p| p.name == port) {
        Some(named) => Ok((named.protocol, named.port)),
        None => {
            let names: Vec<&str> = workload.ports.iter().map(|p| p.name.as_str()).collect();
            bail!(
                "{} has no container port named `{port}` (named ports: {})",
                workload.id(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        }
    }
}

fn decision_json(decision: &Decision) -> Value {
    json!({
        "tier": decision.tier.as_str(),
        "action": decision.action.as_str(),
        "policy": decision.policy,
        "rule": decision.rule,
        "name": decision.rule_name,
        "ports": decision.ports.to_string(),
        "note": decision.note,
    })
}

fn verdict_json(verdict: &Verdict, applies: bool) -> Value {
    let allowing: Vec<Value> = verdict
        .allowing()
        .map(|a| json!({"policy": a.policy, "rule": a.rule, "ports": a.ports.to_string()}))
        .collect();
    json!({
        "applies": applies,
        "isolated": verdict.isolated,
        "policies": verdict.selecting,
        "allowing": allowing,
        "decisions": verdict.decisions.iter().map(decision_json).collect::<Vec<_>>(),
        "openByDefault": verdict.open_by_default.to_string(),
        "ports": verdict.ports.to_string(),
    })
}

fn verdict_text(
    out: &mut String,
    direction: &str,
    who: &str,
    verdict: &Verdict,
    port: Option<(Protocol, u16)>,
) {
    if !verdict.isolated && verdict.decisions.is_empty() {
        let _ = writeln!(out, "  {direction} of {who}: not isolated (no policy selects it for {direction}), all traffic allowed");
        return;
    }
    let relevant: Vec<&Decision> = verdict
        .decisions
        .iter()
        .filter(|d| port.is_none_or(|(proto, p)| d.ports.contains(proto, p)))
        .collect();
    // An AdminNetworkPolicy decided before the NetworkPolicies that isolate the pod had a say.
    let admin_first = !relevant.is_empty() && relevant.iter().all(|d| d.tier == Tier::Admin);
    if verdict.isolated && admin_first {
        let _ = writeln!(
            out,
            "  {direction} of {who}: decided by an AdminNetworkPolicy before the policies that isolate it ({})",
            verdict.selecting.join(", ")
        );
    } else if verdict.isolated {
        let _ = writeln!(
            out,
            "  {direction} of {who}: isolated by {}",
            verdict.selecting.join(", ")
        );
    } else {
        let _ = writeln!(
            out,
            "  {direction} of {who}: not isolated by a NetworkPolicy; administrator policies decide"
        );
    }
    let open = port.map_or(!verdict.open_by_default.is_empty(), |(proto, p)| {
        verdict.open_by_default.contains(proto, p)
    });
    if relevant.is_empty() && !open {
        let _ = writeln!(out, "    no rule allows this traffic");
    }
    for decision in relevant {
        let verb = match decision.action {
            Action::Allow => "allowed",
            Action::Deny => "denied",
            Action::Pass => "passed to the NetworkPolicy tier",
        };
        let name = decision
            .rule_name
            .as_ref()
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {verb} by {} {}{name} ({})",
            decision.policy, decision.rule, decision.ports
        );
        if let Some(note) = &decision.note {
            let _ = writeln!(out, "      note: {note}");
        }
    }
    if open && !verdict.decisions.is_empty() {
        let _ = writeln!(
            out,
            "    allowed: {} (no rule decides it, and nothing isolates the pod)",
            verdict.open_by_default
        );
    }
}

/// `reach`'s exit code: 2 when an input could not be read, else 0 for allowed, 1 for denied.
fn reach_exit(errors: &[LoadError], allowed: bool) -> u8 {
    if !errors.is_empty() {
        EXIT_ERROR
    } else if allowed {
        EXIT_ALLOWED
    } else {
        EXIT_DENIED
    }
}

/// `NS/service/NAME`, when `spec` names a Service.
fn service_spec(spec: &str) -> Option<(&str, &str)> {
    let mut parts = spec.splitn(3, '/');
    let (ns, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
    ["service", "services", "svc"]
        .iter()
        .any(|k| kind.eq_ignore_ascii_case(k))
        .then_some((ns, name))
}

/// `reach FROM NS/service/NAME`: the Service's selector picks the pods, its port maps to a
/// target port on each (a number, or a container port's name, per pod), and each backend is
/// judged on that port. Allowed when every backend is.
fn reach_service(
    args: &ReachArgs,
    network: &Network,
    from: &Spec,
    (namespace, name): (&str, &str),
    errors: &[LoadError],
) -> Result<u8> {
    let output = args.input.output.as_deref();
    let service = network
        .service(namespace, name)
        .ok_or_else(|| anyhow!("no Service {namespace}/{name} in the input"))?;
    if service.selector.is_none() {
        bail!("Service {namespace}/{name} has no selector: its endpoints are managed by hand, so the input does not say which pods it reaches");
    }
    let ports: Vec<&ServicePort> = match args.port.as_deref() {
        Some(text) => {
            let (wanted, protocol) =
                match text.split_once('/') {
                    Some((port, proto)) => (
                        port,
                        Some(Protocol::parse(proto).ok_or_else(|| {
                            anyhow!("unknown protocol `{proto}` (TCP, UDP or SCTP)")
                        })?),
                    ),
                    None => (text, None),
                };
            let port = service.port(wanted, protocol).ok_or_else(|| {
                let known: Vec<String> = service
                    .ports
                    .iter()
                    .map(|p| match &p.name {
                        Some(n) => format!("{} ({n})", p.port),
                        None => p.port.to_string(),
                    })
                    .collect();
                anyhow!(
                    "Service {namespace}/{name} has no port `{wanted}` (ports: {})",
                    known.join(", ")
                )
            })?;
            vec![port]
        }
        None => service.ports.iter().collect(),
    };
    let backends = network.backends(service);
    let from_name = describe(network, from);
    let mut judged = Vec::new();
    for &i in &backends {
        let workload = &network.workloads[i];
        let (result, _) = reach_between(
            network,
            &endpoints(network, from),
            &[Endpoint::Workload(workload)],
        );
        for port in &ports {
            let target = port.target_on(workload);
            let allowed = target.is_some_and(|(protocol, p)| result.ports.contains(protocol, p));
            judged.push((workload, *port, target, allowed, result.ingress.clone()));
        }
    }
    let allowed = !judged.is_empty() && judged.iter().all(|j| j.3);
    let mapping = |port: &ServicePort, target: Option<(Protocol, u16)>| {
        let wanted = match &port.target {
            TargetPort::Number(n) => n.to_string(),
            TargetPort::Name(n) => n.clone(),
        };
        match target {
            Some((protocol, p)) => format!(
                "port {}/{} → targetPort {wanted} = {p}/{}",
                port.port,
                port.protocol.as_str(),
                protocol.as_str()
            ),
            None => format!(
                "port {}/{} → targetPort {wanted}: no container port of that name (not an endpoint)",
                port.port,
                port.protocol.as_str()
            ),
        }
    };
    match args.format {
        AnswerFormat::Json => {
            let backends: Vec<Value> = judged
                .iter()
                .map(|(workload, port, target, allowed, ingress)| {
                    json!({
                        "workload": workload.id(),
                        "port": port.port,
                        "protocol": port.protocol.as_str(),
                        "targetPort": target.map(|(_, p)| p),
                        "mapping": mapping(port, *target),
                        "allowed": allowed,
                        "ingress": verdict_json(ingress, true),
                    })
                })
                .collect();
            let body = json!({
                "allowed": allowed,
                "from": from_name,
                "to": format!("{namespace}/service/{name}"),
                "backends": backends,
            });
            crate::emit_json(output, &body)?;
        }
        AnswerFormat::Text => {
            let mut out = String::from(if allowed { "allowed\n" } else { "denied\n" });
            if judged.is_empty() {
                let _ = writeln!(
                    out,
                    "  Service {namespace}/{name} selects no pod in the input"
                );
            }
            for (workload, port, target, ok, ingress) in &judged {
                let _ = writeln!(
                    out,
                    "  {from_name} → {namespace}/service/{name} {}: backend {} {}",
                    mapping(port, *target),
                    workload.id(),
                    if *ok { "allowed" } else { "denied" }
                );
                verdict_text(&mut out, "ingress", &workload.id(), ingress, *target);
            }
            crate::emit(output, &out)?;
        }
    }
    Ok(reach_exit(errors, allowed))
}

/// How a routed hop's source is named: the controller's workload, or a stand-in.
fn controller_name(network: &Network, hop: &Routed<'_>) -> String {
    hop.controller.map_or_else(
        || "the ingress controller (not in the input)".to_string(),
        |i| network.workloads[i].id(),
    )
}

/// `reach internet TO`: the routes (Ingresses, HTTPRoutes) that send to TO's pods, each hop
/// from its controller judged; allowed when some hop is, on `--port` when given.
fn reach_from_internet(args: &ReachArgs, network: &Network, errors: &[LoadError]) -> Result<u8> {
    let output = args.input.output.as_deref();
    let to = match resolve(network, &args.to)? {
        Spec::Workload(i) => network.shown_as()[i],
        Spec::Cidr(..) => {
            bail!("the internet reaches workloads through routes: give TO as NS/KIND/NAME")
        }
    };
    let shown_as = network.shown_as();
    let port = args
        .port
        .as_deref()
        .map(|text| parse_port(text, network, &Spec::Workload(to)))
        .transpose()?;
    let hops: Vec<Routed<'_>> = network
        .routed()
        .into_iter()
        .filter(|h| shown_as[h.backend] == to)
        .filter(|h| port.is_none_or(|p| p == h.port))
        .collect();
    let allowed = hops.iter().any(|h| h.allowed);
    let to_name = network.workloads[to].id();
    match args.format {
        AnswerFormat::Json => {
            let routes: Vec<Value> = hops
                .iter()
                .map(|h| {
                    json!({
                        "route": h.route.display(),
                        "from": controller_name(network, h),
                        "port": format!("{}/{}", h.port.1, h.port.0.as_str()),
                        "allowed": h.allowed,
                    })
                })
                .collect();
            let body =
                json!({"allowed": allowed, "from": "internet", "to": to_name, "routes": routes});
            crate::emit_json(output, &body)?;
        }
        AnswerFormat::Text => {
            let mut out = String::from(if allowed { "allowed\n" } else { "denied\n" });
            if hops.is_empty() {
                let _ = writeln!(
                    out,
                    "  no Ingress or HTTPRoute of the input sends to {to_name}{}",
                    port.map(|(proto, p)| format!(" on {p}/{}", proto.as_str()))
                        .unwrap_or_default()
                );
            }
            for hop in &hops {
                let _ = writeln!(
                    out,
                    "  {}: {} → {to_name}: {}/{} {}",
                    hop.route.display(),
                    controller_name(network, hop),
                    hop.port.1,
                    hop.port.0.as_str(),
                    if hop.allowed {
                        "allowed"
                    } else {
                        "denied by the network policies"
                    }
                );
            }
            crate::emit(output, &out)?;
        }
    }
    Ok(reach_exit(errors, allowed))
}

fn reach(args: &ReachArgs) -> Result<u8> {
    let output = args.input.output.as_deref();
    let (network, errors) = load(&args.input)?;
    if args.from == "internet" {
        return reach_from_internet(args, &network, &errors);
    }
    let from = resolve(&network, &args.from)?;
    if let Some(service) = service_spec(&args.to) {
        return reach_service(args, &network, &from, service, &errors);
    }
    let to = resolve(&network, &args.to)?;
    let port = args
        .port
        .as_deref()
        .map(|text| parse_port(text, &network, &to))
        .transpose()?;
    let (result, parts) = reach_between(
        &network,
        &endpoints(&network, &from),
        &endpoints(&network, &to),
    );
    let allowed = match port {
        Some((protocol, p)) => result.ports.contains(protocol, p),
        None => !result.ports.is_empty(),
    };
    let (from_name, to_name) = (describe(&network, &from), describe(&network, &to));
    match args.format {
        AnswerFormat::Json => {
            // Ends on the node's network: NetworkPolicies do not apply to them.
            let host_network: Vec<String> = [&from, &to]
                .iter()
                .filter_map(|spec| match spec {
                    Spec::Workload(i) if network.workloads[*i].host_network.is_some() => {
                        Some(network.workloads[*i].id())
                    }
                    _ => None,
                })
                .collect();
            let body = json!({
                "allowed": allowed,
                "from": from_name,
                "to": to_name,
                "port": port.map(|(proto, p)| format!("{p}/{}", proto.as_str())),
                "ports": result.ports.to_string(),
                "egress": verdict_json(&result.egress, matches!(from, Spec::Workload(_))),
                "ingress": verdict_json(&result.ingress, matches!(to, Spec::Workload(_))),
                "hostNetwork": host_network,
                "parts": parts
                    .iter()
                    .map(|(block, ports)| json!({"block": block, "ports": ports.to_string()}))
                    .collect::<Vec<_>>(),
            });
            crate::emit_json(output, &body)?;
        }
        AnswerFormat::Text => {
            let mut out = String::from(if allowed { "allowed\n" } else { "denied\n" });
            let _ = writeln!(out, "  {from_name} → {to_name}: {}", result.ports);
            if matches!(from, Spec::Workload(_)) {
                verdict_text(&mut out, "egress", &from_name, &result.egress, port);
            }
            if matches!(to, Spec::Workload(_)) {
                verdict_text(&mut out, "ingress", &to_name, &result.ingress, port);
            }
            if !parts.is_empty() {
                let _ = writeln!(
                    out,
                    "  note: the range is not judged alike throughout; the ports above are those allowed to all of it:"
                );
                for (block, ports) in &parts {
                    let _ = writeln!(out, "    {block}: {ports}");
                }
            }
            for spec in [&from, &to] {
                if let Spec::Workload(i) = spec {
                    if network.workloads[*i].host_network.is_some() {
                        let _ = writeln!(
                            out,
                            "  note: {} runs on the node's network (hostNetwork: true): NetworkPolicies do not apply to its pods, whatever this answer says",
                            network.workloads[*i].id()
                        );
                    }
                    let ns = &network.workloads[*i].namespace;
                    if !network.namespace_labels(ns).1 {
                        let _ = writeln!(
                            out,
                            "  note: namespace {ns} is not in the input; only its kubernetes.io/metadata.name label is known"
                        );
                    }
                }
            }
            crate::emit(output, &out)?;
        }
    }
    Ok(reach_exit(&errors, allowed))
}

/// What lets one end reach the other, per direction: the allowing rules ("Kind name /rule"), or that
/// nothing isolates that end.
fn deciding(reach: &Reach) -> Deciding {
    let side = |verdict: &Verdict| -> Vec<String> {
        let mut by: Vec<String> = verdict
            .allowing()
            .filter(|d| !d.ports.intersect(&reach.ports).is_empty())
            .map(|d| match &d.rule_name {
                Some(name) => format!("{} {} \"{name}\"", d.policy, d.rule),
                None => format!("{} {}", d.policy, d.rule),
            })
            .collect();
        if !verdict.open_by_default.intersect(&reach.ports).is_empty() {
            by.push("open: no policy isolates it".to_string());
        }
        by
    };
    Deciding {
        egress: side(&reach.egress),
        ingress: side(&reach.ingress),
    }
}

/// The rules that allow a pair's traffic, per direction (a matrix edge's `allowedBy`).
#[derive(Clone, Debug, serde::Serialize)]
struct Deciding {
    egress: Vec<String>,
    ingress: Vec<String>,
}

/// A group of the class matrix by name (`S3`, `D12`), written without a string of its own.
struct GroupName(char, usize);

impl serde::Serialize for GroupName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{}{}", self.0, self.1 + 1))
    }
}

/// An edge of the class matrix as JSON writes it (fields in the order of the first release,
/// which wrote a sorted map).
#[derive(serde::Serialize)]
struct ClassEdge {
    #[serde(rename = "allowedBy")]
    allowed_by: Deciding,
    from: GroupName,
    ports: String,
    to: GroupName,
}

/// An allowed pair of groups: source group, destination group, ports.
type GroupEdge = (usize, usize, PortSet);
/// Why the pair of groups at an index of the edges connects (explained on demand).
type Explain<'a> = &'a (dyn Fn(usize) -> Deciding + Sync);

/// Edges explained per batch, on every core, in order: each explanation judges its pair
/// again, and one thread doing it was most of a large matrix's time.
const EXPLAINED_BATCH: usize = 1024;

/// `each` of `0..count`, a batch at a time, every batch made on every core and handed on in
/// order.
fn in_batches<T: Send>(
    count: usize,
    each: impl Fn(usize) -> T + Sync,
) -> impl Iterator<Item = (std::ops::Range<usize>, Vec<T>)> {
    use rayon::prelude::*;
    (0..count).step_by(EXPLAINED_BATCH).map(move |start| {
        let range = start..(start + EXPLAINED_BATCH).min(count);
        let made = range.clone().into_par_iter().map(&each).collect();
        (range, made)
    })
}

/// An outside range shown for a workload: the direction, the range, the ports shown.
type OutsideRow = (Direction, String, PortSet);

/// Which rows of a workload matrix are shown: `--focus-workload`, `--focus-port`,
/// `--self-pairs`.
struct Focus {
    workloads: Vec<usize>,
    port: Option<PortSet>,
    self_pairs: bool,
    outside: bool,
}

impl Focus {
    fn of(args: &MatrixArgs, network: &Network, shown_as: &[usize]) -> Result<Focus> {
        if args.by == MatrixBy::Class
            && (!args.focus_workload.is_empty() || args.focus_port.is_some())
        {
            bail!("--focus-workload and --focus-port narrow a workload matrix: drop --by class");
        }
        let mut workloads = Vec::new();
        for spec in &args.focus_workload {
            match resolve(network, spec)? {
                Spec::Workload(i) => workloads.push(shown_as[i]),
                Spec::Cidr(..) => bail!("--focus-workload takes NS/KIND/NAME, not an address"),
            }
        }
        let port = match args.focus_port.as_deref() {
            None => None,
            Some(text) => {
                let (port, protocol) = text.split_once('/').unwrap_or((text, "TCP"));
                let protocol = Protocol::parse(protocol)
                    .ok_or_else(|| anyhow!("unknown protocol `{protocol}` (TCP, UDP or SCTP)"))?;
                let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or_else(|| {
                    anyhow!("--focus-port takes a port number (1-65535), not `{port}`")
                })?;
                Some(PortSet::ranges(vec![PortRange {
                    protocol,
                    start: port,
                    end: port,
                }]))
            }
        };
        Ok(Focus {
            workloads,
            port,
            self_pairs: args.self_pairs,
            outside: !args.no_outside,
        })
    }

    /// The outside ranges of `workload` to show, each with the ports shown: egress first.
    fn outside(&self, network: &Network, workload: usize) -> Vec<OutsideRow> {
        if !self.outside || !(self.workloads.is_empty() || self.workloads.contains(&workload)) {
            return Vec::new();
        }
        let mut rows = Vec::new();
        for direction in [Direction::Egress, Direction::Ingress] {
            for range in network.outside(&network.workloads[workload], direction) {
                let ports = match &self.port {
                    None => range.ports.clone(),
                    Some(port) => range.ports.intersect(port),
                };
                if !ports.is_empty() {
                    rows.push((direction, range.label(), ports));
                }
            }
        }
        rows
    }

    /// The ports of the pair `from` → `to` to show, or `None` for a pair left out.
    fn keep(&self, from: usize, to: usize, ports: &PortSet) -> Option<PortSet> {
        if from == to && !self.self_pairs {
            return None;
        }
        if !self.workloads.is_empty() && !self.workloads.iter().any(|w| *w == from || *w == to) {
            return None;
        }
        match &self.port {
            None => Some(ports.clone()),
            Some(port) => Some(ports.intersect(port)).filter(|p| !p.is_empty()),
        }
    }
}

fn matrix(args: &MatrixArgs) -> Result<u8> {
    let (network, errors) = load(&args.input)?;
    // Pods and ReplicaSets the input's workloads control are shown as those workloads.
    let shown_as = network.shown_as();
    let focus = Focus::of(args, &network, &shown_as)?;
    let members: Vec<usize> = (0..network.workloads.len())
        .filter(|&i| shown_as[i] == i)
        .filter(|&i| {
            args.namespace
                .as_ref()
                .is_none_or(|ns| &network.workloads[i].namespace == ns)
        })
        .collect();
    let groups = network.matrix_groups(&members);
    let selections = network.group_selections(&groups);
    let mut edges: Vec<(usize, usize, PortSet)> = Vec::new();
    network.for_each_group_pair(&groups, &selections, |a, b, ports| {
        edges.push((a, b, ports))
    });
    let pairs: u64 = edges
        .iter()
        .map(|(a, b, _)| (groups.sources[*a].len() * groups.destinations[*b].len()) as u64)
        .sum();
    // Why a pair of groups connects: judged again, with explanations, when it is written (a
    // whole cluster has hundreds of thousands of group pairs: their explanations are not kept).
    let why = |e: usize| -> Deciding {
        let (a, b, _) = &edges[e];
        deciding(&network.group_reach(&groups, &selections, *a, *b))
    };
    let mut out = crate::answer_writer(args.input.output.as_deref())?;
    match args.by {
        MatrixBy::Class => crate::quiet_pipe(write_class_matrix(
            &mut out,
            args.format,
            &network,
            &groups,
            (&edges, &why as Explain<'_>),
            (members.len(), pairs),
            !args.no_outside,
        ))?,
        MatrixBy::Workload => {
            let focused = !focus.workloads.is_empty() || focus.port.is_some();
            if pairs > args.max_pairs && !focused {
                bail!(
                    "the workload matrix has {pairs} allowed pairs ({} workloads; limit --max-pairs {}): use --by class ({} source and {} destination groups, {} allowed group pairs), -n NAMESPACE, or a higher --max-pairs",
                    members.len(),
                    args.max_pairs,
                    groups.sources.len(),
                    groups.destinations.len(),
                    edges.len()
                );
            }
            crate::quiet_pipe(write_workload_matrix(
                &mut out,
                args.format,
                &network,
                &groups,
                (&edges, &why as Explain<'_>),
                &members,
                &focus,
            ))?;
        }
    }
    Ok(if errors.is_empty() { 0 } else { EXIT_ERROR })
}

/// One row per allowed pair of workloads, sorted by source then destination, streamed.
fn write_workload_matrix(
    out: &mut dyn std::io::Write,
    format: MatrixFormat,
    network: &Network,
    groups: &Groups,
    (edges, why): (&[GroupEdge], Explain<'_>),
    members: &[usize],
    focus: &Focus,
) -> std::io::Result<()> {
    let id = |i: usize| network.workloads[i].id();
    let mut ids: Vec<(String, usize)> = members.iter().map(|&i| (id(i), i)).collect();
    ids.sort();
    let source_of = groups.source_of(network.workloads.len());
    let mut by_source: Vec<Vec<(usize, usize)>> = vec![Vec::new(); groups.sources.len()];
    for (e, (a, b, _)) in edges.iter().enumerate() {
        by_source[*a].push((*b, e));
    }
    let position: HashMap<usize, &str> = ids.iter().map(|(s, i)| (*i, s.as_str())).collect();
    let rows_of = |from: usize| {
        let mut rows: Vec<(&str, String, usize)> = Vec::new();
        for (b, e) in &by_source[source_of[from]] {
            for m in &groups.destinations[*b] {
                let Some(to) = position.get(m) else {
                    continue;
                };
                if let Some(ports) = focus.keep(from, *m, &edges[*e].2) {
                    rows.push((to, ports.to_string(), *e));
                }
            }
        }
        rows.sort_unstable();
        rows
    };
    // The text header's count, without making the rows' text twice.
    let count_of = |from: usize| -> usize {
        by_source[source_of[from]]
            .iter()
            .map(|(b, e)| {
                groups.destinations[*b]
                    .iter()
                    .filter(|m| {
                        position.contains_key(*m) && focus.keep(from, **m, &edges[*e].2).is_some()
                    })
                    .count()
            })
            .sum()
    };
    let outside: Vec<(&str, Vec<OutsideRow>)> = ids
        .iter()
        .map(|(id, i)| (id.as_str(), focus.outside(network, *i)))
        .filter(|(_, rows)| !rows.is_empty())
        .collect();
    let ranges: usize = outside.iter().map(|(_, rows)| rows.len()).sum();
    // Traffic routes send: from the controller to each backend, allowed hops only.
    let shown_as = network.shown_as();
    let mut routed: Vec<(String, String, String, String)> = network
        .routed()
        .into_iter()
        .filter(|h| h.allowed)
        .filter(|h| {
            let backend = shown_as[h.backend];
            let ends = [Some(backend), h.controller.map(|c| shown_as[c])];
            (focus.workloads.is_empty() || focus.workloads.iter().any(|w| ends.contains(&Some(*w))))
                && focus
                    .port
                    .as_ref()
                    .is_none_or(|p| p.contains(h.port.0, h.port.1))
        })
        .map(|h| {
            (
                h.controller.map_or_else(
                    || "the ingress controller (not in the input)".to_string(),
                    |c| network.workloads[shown_as[c]].id(),
                ),
                network.workloads[shown_as[h.backend]].id(),
                format!("{}/{}", h.port.1, h.port.0.as_str()),
                h.route.display(),
            )
        })
        .collect();
    routed.sort();
    routed.dedup();
    // Outside rows read like pairs: the workload's side first for egress, last for ingress.
    let outside_rows = || {
        outside.iter().flat_map(|(id, rows)| {
            rows.iter()
                .map(move |(direction, range, ports)| match direction {
                    Direction::Egress => (id.to_string(), range.clone(), ports.to_string()),
                    Direction::Ingress => (range.clone(), id.to_string(), ports.to_string()),
                })
        })
    };
    match format {
        MatrixFormat::Text => {
            let pairs: usize = ids.iter().map(|(_, from)| count_of(*from)).sum();
            writeln!(
                out,
                "{} workloads, {pairs} allowed pairs, {ranges} outside ranges, {} routed",
                ids.len(),
                routed.len()
            )?;
            for (from_id, from) in &ids {
                for (to, ports, _) in rows_of(*from) {
                    writeln!(out, "{from_id} → {to}: {ports}")?;
                }
            }
            for (from, to, ports) in outside_rows() {
                writeln!(out, "{from} → {to}: {ports}")?;
            }
            for (from, to, port, route) in &routed {
                writeln!(out, "{from} → {to}: {port} (via {route})")?;
            }
        }
        MatrixFormat::Csv => {
            writeln!(out, "from,to,ports")?;
            for (from_id, from) in &ids {
                for (to, ports, _) in rows_of(*from) {
                    writeln!(out, "{from_id},{to},\"{ports}\"")?;
                }
            }
            for (from, to, ports) in outside_rows() {
                writeln!(out, "{from},{to},\"{ports}\"")?;
            }
            for (from, to, port, _) in &routed {
                writeln!(out, "{from},{to},\"{port}\"")?;
            }
        }
        MatrixFormat::Json => {
            let workloads: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
            let mut edges = Vec::new();
            // Many workload pairs share a pair of groups: each explained once.
            let mut explained: HashMap<usize, Deciding> = HashMap::new();
            for (from_id, from) in &ids {
                for (to, ports, e) in rows_of(*from) {
                    let why = explained.entry(e).or_insert_with(|| why(e)).clone();
                    edges
                        .push(json!({"from": from_id, "to": to, "ports": ports, "allowedBy": why}));
                }
            }
            let outside: Vec<Value> = outside
                .iter()
                .flat_map(|(id, rows)| {
                    rows.iter().map(move |(direction, range, ports)| {
                        let direction = match direction {
                            Direction::Egress => "egress",
                            Direction::Ingress => "ingress",
                        };
                        json!({"workload": id, "direction": direction, "range": range, "ports": ports.to_string()})
                    })
                })
                .collect();
            let routed: Vec<Value> = routed
                .iter()
                .map(|(from, to, port, route)| json!({"from": from, "to": to, "port": port, "route": route}))
                .collect();
            let body = json!({"workloads": workloads, "edges": edges, "outside": outside, "routed": routed});
            writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
        }
        MatrixFormat::Dot => {
            writeln!(
                out,
                "digraph reachability {{\n  rankdir=LR;\n  node [shape=box];"
            )?;
            for (id, _) in &ids {
                writeln!(out, "  \"{id}\";")?;
            }
            let mut ranges: Vec<&str> = outside
                .iter()
                .flat_map(|(_, rows)| rows.iter().map(|(_, range, _)| range.as_str()))
                .collect();
            ranges.sort_unstable();
            ranges.dedup();
            for range in ranges {
                writeln!(out, "  \"{range}\" [shape=ellipse];")?;
            }
            for (from_id, from) in &ids {
                for (to, ports, _) in rows_of(*from) {
                    writeln!(out, "  \"{from_id}\" -> \"{to}\" [label=\"{ports}\"];")?;
                }
            }
            for (from, to, ports) in outside_rows() {
                writeln!(out, "  \"{from}\" -> \"{to}\" [label=\"{ports}\"];")?;
            }
            for (from, to, port, route) in &routed {
                writeln!(
                    out,
                    "  \"{from}\" -> \"{to}\" [label=\"{port} ({route})\", style=dashed];"
                )?;
            }
            writeln!(out, "}}")?;
        }
    }
    out.flush()
}

/// One row per allowed pair of groups; groups listed with their members.
fn write_class_matrix(
    out: &mut dyn std::io::Write,
    format: MatrixFormat,
    network: &Network,
    groups: &Groups,
    (edges, why): (&[GroupEdge], Explain<'_>),
    (workloads, pairs): (usize, u64),
    with_outside: bool,
) -> std::io::Result<()> {
    // Outside ranges per group, judged on its first member: a source group's members share
    // the policies that select them for egress, a destination group's those for ingress.
    let mut outside: Vec<(char, usize, Direction, String, PortSet)> = Vec::new();
    if with_outside {
        for (prefix, direction, list) in [
            ('S', Direction::Egress, &groups.sources),
            ('D', Direction::Ingress, &groups.destinations),
        ] {
            for (g, members) in list.iter().enumerate() {
                for range in network.outside(&network.workloads[members[0]], direction) {
                    outside.push((prefix, g, direction, range.label(), range.ports));
                }
            }
        }
    }
    let names = |members: &Vec<usize>| {
        let mut names: Vec<String> = members.iter().map(|&m| network.workloads[m].id()).collect();
        names.sort();
        names
    };
    // A group is shown by its first workload (by name) and its size, computed once.
    let examples = |list: &Vec<Vec<usize>>| -> Vec<String> {
        list.iter()
            .map(|members| {
                members
                    .iter()
                    .map(|&m| network.workloads[m].id())
                    .min()
                    .unwrap_or_default()
            })
            .collect()
    };
    let (source_examples, destination_examples) =
        (examples(&groups.sources), examples(&groups.destinations));
    let example = |prefix: char, g: usize| match prefix {
        'S' => source_examples[g].as_str(),
        _ => destination_examples[g].as_str(),
    };
    let label = |prefix: char, g: usize, members: &Vec<usize>| {
        let first = example(prefix, g);
        match members.len() {
            1 => format!("{prefix}{} ({first})", g + 1),
            n => format!("{prefix}{} ({first} and {} more)", g + 1, n - 1),
        }
    };
    let summary = format!(
        "{workloads} workloads in {} source and {} destination groups; {} allowed group pairs ({pairs} workload pairs); {} outside ranges",
        groups.sources.len(),
        groups.destinations.len(),
        edges.len(),
        outside.len()
    );
    match format {
        MatrixFormat::Text => {
            writeln!(out, "{summary}")?;
            for (range, explanations) in in_batches(edges.len(), why) {
                for ((a, b, ports), why) in edges[range].iter().zip(explanations) {
                    writeln!(
                        out,
                        "{} → {}: {ports}",
                        label('S', *a, &groups.sources[*a]),
                        label('D', *b, &groups.destinations[*b])
                    )?;
                    for (direction, by) in [("egress", &why.egress), ("ingress", &why.ingress)] {
                        writeln!(out, "    {direction}: {}", by.join("; "))?;
                    }
                }
            }
            for (prefix, g, direction, range, ports) in &outside {
                let list = if *prefix == 'S' {
                    &groups.sources
                } else {
                    &groups.destinations
                };
                let group = label(*prefix, *g, &list[*g]);
                match direction {
                    Direction::Egress => writeln!(out, "{group} → {range}: {ports}")?,
                    Direction::Ingress => writeln!(out, "{range} → {group}: {ports}")?,
                }
            }
            for (prefix, title, list) in [
                ('S', "source groups", &groups.sources),
                ('D', "destination groups", &groups.destinations),
            ] {
                writeln!(out, "\n{title}:")?;
                for (g, members) in list.iter().enumerate() {
                    writeln!(out, "  {prefix}{}: {}", g + 1, names(members).join(", "))?;
                }
            }
        }
        MatrixFormat::Csv => {
            writeln!(
                out,
                "from,from_workloads,from_example,to,to_workloads,to_example,ports"
            )?;
            for (a, b, ports) in edges {
                writeln!(
                    out,
                    "S{},{},{},D{},{},{},\"{ports}\"",
                    a + 1,
                    groups.sources[*a].len(),
                    example('S', *a),
                    b + 1,
                    groups.destinations[*b].len(),
                    example('D', *b)
                )?;
            }
            for (prefix, g, direction, range, ports) in &outside {
                let list = if *prefix == 'S' {
                    &groups.sources
                } else {
                    &groups.destinations
                };
                let group = format!(
                    "{prefix}{},{},{}",
                    g + 1,
                    list[*g].len(),
                    example(*prefix, *g)
                );
                match direction {
                    Direction::Egress => writeln!(out, "{group},{range},,,\"{ports}\"")?,
                    Direction::Ingress => writeln!(out, "{range},,,{group},\"{ports}\"")?,
                }
            }
        }
        MatrixFormat::Json => {
            // Streamed: the groups, the summary, then one edge at a time.
            let list = |prefix: char, list: &Vec<Vec<usize>>| -> Vec<Value> {
                list.iter()
                    .enumerate()
                    .map(|(g, m)| json!({"group": format!("{prefix}{}", g + 1), "workloads": names(m)}))
                    .collect()
            };
            write!(out, "{{\n\"sources\": ")?;
            serde_json::to_writer(&mut *out, &list('S', &groups.sources))?;
            write!(out, ",\n\"destinations\": ")?;
            serde_json::to_writer(&mut *out, &list('D', &groups.destinations))?;
            write!(out, ",\n\"summary\": ")?;
            serde_json::to_writer(
                &mut *out,
                &json!({"workloads": workloads, "workloadPairs": pairs}),
            )?;
            write!(out, ",\n\"outside\": ")?;
            let outside: Vec<Value> = outside
                .iter()
                .map(|(prefix, g, direction, range, ports)| {
                    json!({
                        "group": format!("{prefix}{}", g + 1),
                        "direction": if *direction == Direction::Egress { "egress" } else { "ingress" },
                        "range": range,
                        "ports": ports.to_string(),
                    })
                })
                .collect();
            serde_json::to_writer(&mut *out, &outside)?;
            write!(out, ",\n\"edges\": [")?;
            // Each edge is explained and written out as JSON on every core; this thread only
            // copies the text (serializing them here left the other cores idle).
            let rendered = in_batches(edges.len(), |e| {
                let (a, b, p) = &edges[e];
                serde_json::to_vec(&ClassEdge {
                    allowed_by: why(e),
                    from: GroupName('S', *a),
                    ports: p.to_string(),
                    to: GroupName('D', *b),
                })
            });
            for (range, texts) in rendered {
                for (e, text) in range.zip(texts) {
                    write!(out, "{}\n  ", if e == 0 { "" } else { "," })?;
                    out.write_all(&text?)?;
                }
            }
            writeln!(out, "\n]}}")?;
        }
        MatrixFormat::Dot => {
            writeln!(
                out,
                "digraph reachability {{\n  rankdir=LR;\n  node [shape=box];"
            )?;
            for (prefix, list) in [('S', &groups.sources), ('D', &groups.destinations)] {
                for (g, members) in list.iter().enumerate() {
                    writeln!(
                        out,
                        "  \"{prefix}{}\" [label=\"{}\"];",
                        g + 1,
                        label(prefix, g, members)
                    )?;
                }
            }
            for (prefix, g, direction, range, ports) in &outside {
                let group = format!("{prefix}{}", g + 1);
                let (from, to) = match direction {
                    Direction::Egress => (group.as_str(), range.as_str()),
                    Direction::Ingress => (range.as_str(), group.as_str()),
                };
                writeln!(out, "  \"{range}\" [shape=ellipse];")?;
                writeln!(out, "  \"{from}\" -> \"{to}\" [label=\"{ports}\"];")?;
            }
            for (a, b, ports) in edges {
                writeln!(
                    out,
                    "  \"S{}\" -> \"D{}\" [label=\"{ports}\"];",
                    a + 1,
                    b + 1
                )?;
            }
            writeln!(out, "}}")?;
        }
    }
    out.flush()
}

/// The quarantine of `workload` in `style`; `None` when the input did not load (its errors
/// were said).
fn quarantine(
    input: &NetInput,
    workload: &str,
    style: QuarantineStyle,
) -> Result<Option<generate::Generated>> {
    let (network, errors) = load(input)?;
    if !errors.is_empty() {
        return Ok(None);
    }
    let Spec::Workload(index) = resolve(&network, workload)? else {
        bail!("quarantine needs a workload NS/KIND/NAME, not a CIDR");
    };
    let style = match style {
        QuarantineStyle::Networkpolicy => generate::QuarantineStyle::NetworkPolicy,
        QuarantineStyle::Admin => generate::QuarantineStyle::Admin,
        QuarantineStyle::Cilium => generate::QuarantineStyle::Cilium,
    };
    Ok(Some(generate::quarantine(
        &network,
        &network.workloads[index],
        style,
    )?))
}

fn generate(command: &GenerateCommand) -> Result<u8> {
    let output = match command {
        GenerateCommand::Quarantine { input, .. } => input.output.as_deref(),
        _ => None,
    };
    let generated = match command {
        GenerateCommand::DefaultDeny { namespace, style } => match style {
            DefaultDenyStyle::Networkpolicy => generate::default_deny(namespace),
            DefaultDenyStyle::Baseline => generate::baseline_default_deny(namespace),
        },
        GenerateCommand::DenyMetadata { namespace } => generate::deny_metadata(namespace),
        GenerateCommand::Quarantine {
            workload,
            style,
            input,
        } => match quarantine(input, workload, *style)? {
            Some(generated) => generated,
            None => return Ok(EXIT_ERROR),
        },
    };
    for note in &generated.notes {
        eprintln!("palisade: {note}");
    }
    crate::emit(output, &generated.yaml())?;
    Ok(0)
}

/// One version for `netpol diff`: the paths to read, and the directory a git revision was
/// written to (removed when dropped).
fn version(spec: &str) -> Result<(Vec<String>, Option<tempfile::TempDir>)> {
    if std::path::Path::new(spec).exists() {
        return Ok((vec![spec.to_string()], None));
    }
    let (revision, dir) = spec.split_once(':').unwrap_or((spec, ""));
    let verified = std::process::Command::new("git")
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{revision}^{{commit}}"))
        .output();
    if !verified.is_ok_and(|o| o.status.success()) {
        bail!("`{spec}` is neither a file or directory nor a git revision of the repository here (REV or REV:DIR)");
    }
    let tree = tempfile::tempdir()?;
    // `git archive` writes the revision's files as they were, without touching the work tree.
    let mut archive = std::process::Command::new("git");
    archive.args(["archive", "--format=tar", revision]);
    if !dir.is_empty() {
        archive.args(["--", dir]);
    }
    let tar = archive.output()?;
    if !tar.status.success() {
        bail!(
            "git archive {spec}: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        );
    }
    let mut untar = std::process::Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(tree.path())
        .stdin(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut input) = untar.stdin.take() {
        std::io::Write::write_all(&mut input, &tar.stdout)?;
    }
    if !untar.wait()?.success() {
        bail!("unpacking {spec} failed");
    }
    let root = tree.path().join(dir);
    Ok((vec![root.to_string_lossy().into_owned()], Some(tree)))
}

fn diff(args: &DiffArgs) -> Result<u8> {
    let (old_paths, _old_tree) = version(&args.old)?;
    let old_input = NetInput {
        paths: old_paths,
        source: ClusterSource::default(),
        output: None,
    };
    let (new_paths, _new_tree) = match (&args.new, args.source.cluster) {
        (Some(new), false) => version(new)?,
        (None, true) => (Vec::new(), None),
        (Some(_), true) => bail!("give NEW or --cluster, not both"),
        (None, false) => bail!("give NEW (a directory, file or git revision), or --cluster"),
    };
    let new_input = NetInput {
        paths: new_paths,
        source: args.source.clone(),
        output: None,
    };
    let (old, mut errors) = load(&old_input)?;
    let (new, new_errors) = load(&new_input)?;
    errors.extend(new_errors);
    let changes = palisade_analysis::netpol::diff::changes(&old, &new);
    let opened = changes.iter().any(|c| !c.opened.is_empty());
    let out = render_diff(
        &changes,
        args.format,
        (&args.old, args.new.as_deref().unwrap_or("the cluster")),
    )?;
    crate::emit(args.output.as_deref(), &out)?;
    Ok(if !errors.is_empty() {
        EXIT_ERROR
    } else if opened {
        EXIT_OPENED
    } else {
        0
    })
}

fn render_diff(
    changes: &[palisade_analysis::netpol::diff::Change],
    format: DiffFormat,
    (old, new): (&str, &str),
) -> Result<String> {
    let opened = changes.iter().filter(|c| !c.opened.is_empty()).count();
    let closed = changes.iter().filter(|c| !c.closed.is_empty()).count();
    let summary = format!("{old} → {new}: {opened} connections opened, {closed} closed");
    let mut out = String::new();
    match format {
        DiffFormat::Json => {
            let body = json!({
                "old": old,
                "new": new,
                "opened": opened,
                "closed": closed,
                "changes": changes.iter().map(|c| json!({
                    "from": c.from.to_string(),
                    "to": c.to.to_string(),
                    "outside": matches!(c.from, palisade_analysis::netpol::diff::End::Outside(_))
                        || matches!(c.to, palisade_analysis::netpol::diff::End::Outside(_)),
                    "opened": (!c.opened.is_empty()).then(|| c.opened.to_string()),
                    "closed": (!c.closed.is_empty()).then(|| c.closed.to_string()),
                    "openedBy": c.opened_by,
                    "closedBy": c.closed_by,
                })).collect::<Vec<_>>(),
            });
            out = serde_json::to_string_pretty(&body)? + "\n";
        }
        DiffFormat::Text => {
            let _ = writeln!(out, "{summary}");
            for c in changes {
                if !c.opened.is_empty() {
                    let _ = writeln!(
                        out,
                        "+ {} → {}: {} (by {})",
                        c.from,
                        c.to,
                        c.opened,
                        c.opened_by.join("; ")
                    );
                }
                if !c.closed.is_empty() {
                    let _ = writeln!(
                        out,
                        "- {} → {}: {} (was by {})",
                        c.from,
                        c.to,
                        c.closed,
                        c.closed_by.join("; ")
                    );
                }
            }
        }
        DiffFormat::Markdown => {
            let _ = writeln!(out, "### Network connectivity\n\n{summary}\n");
            if !changes.is_empty() {
                let _ = writeln!(
                    out,
                    "| | From | To | Ports | Because of |\n|---|---|---|---|---|"
                );
                // Table cells: `|` would end the cell.
                let cell = |text: &str| text.replace('|', "\\|");
                for c in changes {
                    for (mark, ports, by) in [
                        ("➕ opened", &c.opened, &c.opened_by),
                        ("➖ closed", &c.closed, &c.closed_by),
                    ] {
                        if !ports.is_empty() {
                            let _ = writeln!(
                                out,
                                "| {mark} | `{}` | `{}` | {} | {} |",
                                cell(&c.from.to_string()),
                                cell(&c.to.to_string()),
                                cell(&ports.to_string()),
                                cell(&by.join("; "))
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Over several batches (the last one short), every index is made once, and batches come
    /// in order with the ranges they cover.
    #[test]
    fn batches_hand_on_every_item_in_order() {
        let count = 2 * EXPLAINED_BATCH + 17;
        let mut next = 0;
        let mut batches = 0;
        for (range, made) in in_batches(count, |i| i * 3) {
            assert_eq!(range.start, next);
            assert_eq!(made.len(), range.len());
            for (i, value) in range.clone().zip(&made) {
                assert_eq!(*value, i * 3);
            }
            next = range.end;
            batches += 1;
        }
        assert_eq!((next, batches), (count, 3));
        assert_eq!(in_batches(0, |i| i).count(), 0);
    }
}
