//! What the internet reaches through the cluster's front doors: Ingresses and Gateway API
//! HTTPRoutes send traffic, from their controller's pods, to the Services they name and on to
//! those Services' pods. Each such hop is a connection NetworkPolicies judge like any other:
//! from the controller (its namespace and labels, when the input holds its workload; else a
//! pod the input knows nothing of) to the backend pod on the port the Service maps to.

use super::model::{NetWorkload, PortRef, Protocol};
use super::{Endpoint, Network};
use crate::rbac::Source;
use palisade_model::{FieldPath, Node, Object};

/// One backend a route names: a Service of the route's namespace and its port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteBackend {
    pub service: String,
    /// The Service port, by number or name; `None`: the Service's only port.
    pub port: Option<PortRef>,
}

/// An Ingress or an HTTPRoute.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// `Ingress` or `HTTPRoute`.
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    /// The Ingress's class (`ingressClassName`, or the old annotation).
    pub class: Option<String>,
    /// The Gateways an HTTPRoute attaches to (namespace, name).
    pub gateways: Vec<(String, String)>,
    pub backends: Vec<RouteBackend>,
    pub source: Source,
}

impl Route {
    pub fn display(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// An IngressClass: its name and controller (`k8s.io/ingress-nginx`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngressClass {
    pub name: String,
    pub controller: String,
    pub default: bool,
}

fn port_ref(node: Option<&Node>) -> Option<PortRef> {
    let node = node?;
    if let Some(number) = node.get("number").and_then(Node::as_i64) {
        return u16::try_from(number).ok().map(PortRef::Number);
    }
    node.str_of("name").map(|n| PortRef::Name(n.to_string()))
}

pub(crate) fn route_of(object: &Object) -> Option<Route> {
    let namespace = crate::rbac::namespace_of(object);
    let spec = object.root.get("spec")?;
    let (kind, backends, class, gateways) = match (object.group(), object.kind()) {
        ("networking.k8s.io", "Ingress") => {
            let service = |backend: &Node| {
                let service = backend.get("service")?;
                Some(RouteBackend {
                    service: service.str_of("name")?.to_string(),
                    port: port_ref(service.get("port")),
                })
            };
            let mut backends: Vec<RouteBackend> = spec
                .get("defaultBackend")
                .and_then(service)
                .into_iter()
                .collect();
            for rule in spec.get("rules").map(Node::as_seq).unwrap_or_default() {
                let paths = rule
                    .get("http")
                    .and_then(|h| h.get("paths"))
                    .map(Node::as_seq)
                    .unwrap_or_default();
                backends.extend(
                    paths
                        .iter()
                        .filter_map(|p| p.get("backend").and_then(service)),
                );
            }
            let class = spec
                .str_of("ingressClassName")
                .or_else(|| {
                    object
                        .metadata()?
                        .get("annotations")?
                        .str_of("kubernetes.io/ingress.class")
                })
                .map(str::to_string);
            ("Ingress", backends, class, Vec::new())
        }
        ("gateway.networking.k8s.io", "HTTPRoute" | "GRPCRoute") => {
            let mut backends = Vec::new();
            for rule in spec.get("rules").map(Node::as_seq).unwrap_or_default() {
                for backend in rule
                    .get("backendRefs")
                    .map(Node::as_seq)
                    .unwrap_or_default()
                {
                    let is_service = backend.str_of("kind").is_none_or(|k| k == "Service")
                        && backend.str_of("group").is_none_or(str::is_empty);
                    // A backend in another namespace needs a ReferenceGrant; read as written.
                    if is_service && backend.str_of("namespace").is_none_or(|n| n == namespace) {
                        if let Some(name) = backend.str_of("name") {
                            backends.push(RouteBackend {
                                service: name.to_string(),
                                port: backend
                                    .get("port")
                                    .and_then(Node::as_i64)
                                    .and_then(|p| u16::try_from(p).ok())
                                    .map(PortRef::Number),
                            });
                        }
                    }
                }
            }
            let gateways = spec
                .get("parentRefs")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter(|p| p.str_of("kind").is_none_or(|k| k == "Gateway"))
                .filter_map(|p| {
                    Some((
                        p.str_of("namespace").unwrap_or(&namespace).to_string(),
                        p.str_of("name")?.to_string(),
                    ))
                })
                .collect();
            let kind = if object.kind() == "GRPCRoute" {
                "GRPCRoute"
            } else {
                "HTTPRoute"
            };
            (kind, backends, None, gateways)
        }
        _ => return None,
    };
    Some(Route {
        kind,
        namespace,
        name: object.reference.name.clone(),
        class,
        gateways,
        backends,
        source: Source::of(object, &FieldPath::root().key("spec"), false),
    })
}

pub(crate) fn ingress_class_of(object: &Object) -> Option<IngressClass> {
    if (object.group(), object.kind()) != ("networking.k8s.io", "IngressClass") {
        return None;
    }
    let default = object
        .metadata()
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.str_of("ingressclass.kubernetes.io/is-default-class"))
        == Some("true");
    Some(IngressClass {
        name: object.reference.name.clone(),
        controller: object.root.get("spec")?.str_of("controller")?.to_string(),
        default,
    })
}

/// Controllers known by what their images are called: (words in the IngressClass's
/// `spec.controller`, words in the image).
const CONTROLLERS: &[(&str, &str)] = &[
    ("ingress-nginx", "ingress-nginx/controller"),
    ("nginx.org", "nginx-ingress"),
    ("traefik", "traefik"),
    ("haproxy", "haproxy-ingress"),
    ("haproxy", "haproxytech/kubernetes-ingress"),
    ("konghq", "kong"),
    ("contour", "contour"),
    ("istio", "proxyv2"),
    ("aws", "aws-load-balancer-controller"),
];

/// One hop from a route's controller to a backend pod.
#[derive(Clone, Debug)]
pub struct Routed<'n> {
    pub route: &'n Route,
    /// The controller's workload, when the input holds it.
    pub controller: Option<usize>,
    /// The backend workload and the port its Service sends to.
    pub backend: usize,
    pub port: (Protocol, u16),
    /// Whether NetworkPolicies let the controller's traffic through on that port.
    pub allowed: bool,
}

impl Network {
    /// The workloads that run an Ingress controller for `class` (any class when `None`).
    fn ingress_controllers(&self, class: Option<&str>) -> Vec<usize> {
        let controller = class.and_then(|name| {
            self.ingress_classes
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.controller.as_str())
        });
        let image_fits = |image: &str| {
            CONTROLLERS.iter().any(|(owner, words)| {
                image.contains(words) && controller.is_none_or(|c| c.contains(owner))
            })
        };
        self.workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| w.images.iter().any(|i| image_fits(i)))
            .map(|(i, _)| i)
            .collect()
    }

    /// The pods that serve Gateway `namespace/name`: those labelled with its name, as Istio,
    /// Envoy Gateway and NGINX Gateway Fabric label the pods they run for a Gateway.
    fn gateway_pods(&self, namespace: &str, name: &str) -> Vec<usize> {
        const LABELS: &[&str] = &[
            "gateway.networking.k8s.io/gateway-name",
            "istio.io/gateway-name",
            "gateway.envoyproxy.io/owning-gateway-name",
        ];
        self.workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                w.labels
                    .iter()
                    .any(|(k, v)| LABELS.contains(&k.as_str()) && v == name)
                    && (w.namespace == namespace
                        || w.labels.iter().any(|(k, v)| {
                            k == "gateway.envoyproxy.io/owning-gateway-namespace" && v == namespace
                        }))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Every hop from a route's controller to a backend pod of the input, judged.
    pub fn routed(&self) -> Vec<Routed<'_>> {
        let stranger = NetWorkload::stranger();
        let mut hops = Vec::new();
        for route in &self.routes {
            let controllers: Vec<usize> = match route.kind {
                "Ingress" => {
                    let class = route.class.clone().or_else(|| {
                        self.ingress_classes
                            .iter()
                            .find(|c| c.default)
                            .map(|c| c.name.clone())
                    });
                    self.ingress_controllers(class.as_deref())
                }
                _ => route
                    .gateways
                    .iter()
                    .flat_map(|(ns, name)| self.gateway_pods(ns, name))
                    .collect(),
            };
            // No controller in the input: a pod the input knows nothing of sends the traffic.
            let sources: Vec<Option<usize>> = if controllers.is_empty() {
                vec![None]
            } else {
                controllers.into_iter().map(Some).collect()
            };
            for backend in &route.backends {
                let Some(service) = self.service(&route.namespace, &backend.service) else {
                    continue;
                };
                let service_port = match &backend.port {
                    Some(PortRef::Number(n)) => service.port(&n.to_string(), None),
                    Some(PortRef::Name(name)) => service.port(name, None),
                    None if service.ports.len() == 1 => service.ports.first(),
                    None => None,
                };
                let Some(service_port) = service_port else {
                    continue;
                };
                for pod in self.backends(service) {
                    let Some(port) = service_port.target_on(&self.workloads[pod]) else {
                        continue;
                    };
                    for source in &sources {
                        let from = source.map_or(&stranger, |i| &self.workloads[i]);
                        let reach = self.reach(
                            Endpoint::Workload(from),
                            Endpoint::Workload(&self.workloads[pod]),
                        );
                        hops.push(Routed {
                            route,
                            controller: *source,
                            backend: pod,
                            port,
                            allowed: reach.ports.contains(port.0, port.1),
                        });
                    }
                }
            }
        }
        hops
    }
}
