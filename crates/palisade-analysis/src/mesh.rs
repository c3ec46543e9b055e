//! Istio's PeerAuthentication policies, and the ports the API server calls into (admission and
//! conversion webhooks): a sidecar port that must accept the API server's plain TLS is no
//! hole in the mesh, whatever its mode.

use std::sync::Arc;

use palisade_model::{FieldPath, Node, Object, ObjectRef};

use crate::netpol::{Network, TargetPort};
use crate::rbac::Source;
use crate::selector::LabelSelector;

/// One PeerAuthentication, as far as its mTLS modes go.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerAuthentication {
    pub object: Arc<ObjectRef>,
    pub namespace: String,
    /// `spec.selector.matchLabels`; `None` for a policy of the whole namespace (or mesh).
    pub selector: Option<LabelSelector>,
    /// `spec.mtls.mode` and where it is written.
    pub mode: Option<(String, Source)>,
    /// Where findings about the policy as a whole point (`spec`).
    pub spec: Source,
    /// `spec.portLevelMtls`: (port, mode, where the mode is written).
    pub ports: Vec<(String, String, Source)>,
}

/// A Service the API server calls: a webhook's or a CRD conversion's `clientConfig.service`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookTarget {
    /// `ValidatingWebhookConfiguration policy` (the configuration that calls it).
    pub caller: String,
    pub namespace: String,
    pub service: String,
    /// The Service port called (443 when left out, as the API server defaults it).
    pub port: u16,
}

/// What the input holds of the mesh's peer authentication, and who the API server calls.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mesh {
    pub peer_authentications: Vec<PeerAuthentication>,
    pub webhook_targets: Vec<WebhookTarget>,
}

impl Mesh {
    /// Takes the object if it is a PeerAuthentication, a webhook configuration or a CRD with a
    /// conversion webhook.
    pub fn add(&mut self, object: &Object) {
        match (object.group(), object.kind()) {
            ("security.istio.io", "PeerAuthentication") => {
                self.peer_authentications.push(peer_authentication(object));
            }
            (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
            ) => {
                let caller = object.reference.display_name();
                for hook in object
                    .root
                    .get("webhooks")
                    .map(Node::as_seq)
                    .unwrap_or_default()
                {
                    self.add_target(&caller, hook.at(&["clientConfig", "service"]));
                }
            }
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                let service =
                    object
                        .root
                        .at(&["spec", "conversion", "webhook", "clientConfig", "service"]);
                self.add_target(&object.reference.display_name(), service);
            }
            _ => {}
        }
    }

    fn add_target(&mut self, caller: &str, service: Option<&Node>) {
        let Some(service) = service else { return };
        let (Some(namespace), Some(name)) = (service.str_of("namespace"), service.str_of("name"))
        else {
            return;
        };
        let port = service
            .get("port")
            .and_then(Node::as_i64)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(443);
        self.webhook_targets.push(WebhookTarget {
            caller: caller.to_string(),
            namespace: namespace.to_string(),
            service: name.to_string(),
            port,
        });
    }

    pub fn merge(&mut self, other: Mesh) {
        self.peer_authentications.extend(other.peer_authentications);
        self.webhook_targets.extend(other.webhook_targets);
    }

    /// Who calls container port `port` of the pods `policy` selects from the API server, if
    /// anyone: a webhook Service of the policy's namespace whose selector picks pods the
    /// policy selects and whose called port leads to `port` (by number, or by a named
    /// container port of those pods).
    pub fn api_server_caller(
        &self,
        network: &Network,
        policy: &PeerAuthentication,
        port: u16,
    ) -> Option<&WebhookTarget> {
        let selector = policy.selector.as_ref()?;
        self.webhook_targets
            .iter()
            .filter(|target| target.namespace == policy.namespace)
            .find(|target| {
                let Some(service) = network.service(&target.namespace, &target.service) else {
                    return false;
                };
                let Some(service_port) = service.ports.iter().find(|p| p.port == target.port)
                else {
                    return false;
                };
                let Some(service_selector) = &service.selector else {
                    return false;
                };
                network
                    .workloads_in(&policy.namespace)
                    .filter(|w| selector.matches(&w.labels) && service_selector.matches(&w.labels))
                    .any(|workload| match &service_port.target {
                        TargetPort::Number(number) => *number == port,
                        TargetPort::Name(name) => workload
                            .ports
                            .iter()
                            .any(|named| &named.name == name && named.port == port),
                    })
            })
    }
}

fn peer_authentication(object: &Object) -> PeerAuthentication {
    let root = FieldPath::root();
    let selector = object
        .root
        .at(&["spec", "selector"])
        .filter(|s| !s.is_null())
        .map(LabelSelector::from_node);
    let mode = object
        .root
        .at(&["spec", "mtls", "mode"])
        .and_then(Node::as_str)
        .map(|mode| {
            let path = root.keys(&["spec", "mtls", "mode"]);
            (mode.to_string(), Source::of(object, &path, false))
        });
    let ports = object
        .root
        .at(&["spec", "portLevelMtls"])
        .map(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            let mode = entry.value.str_of("mode")?;
            let path = root.keys(&["spec", "portLevelMtls", &entry.key, "mode"]);
            Some((
                entry.key.clone(),
                mode.to_string(),
                Source::of(object, &path, false),
            ))
        })
        .collect();
    PeerAuthentication {
        object: Arc::clone(&object.reference),
        namespace: crate::rbac::namespace_of(object),
        selector,
        mode,
        spec: Source::of(object, &root.key("spec"), false),
        ports,
    }
}
