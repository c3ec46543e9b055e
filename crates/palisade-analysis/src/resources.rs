//! Container CPU and memory requests and limits as the API server settles them: a request
//! defaults to the container's limit, pod-level `spec.resources` bound the whole pod, and a
//! namespace's `LimitRange` fills in what containers leave out at admission.
//!
//! Collected in one pass (the gaps of each container, the defaults of each namespace) and
//! decided once everything is read, since a LimitRange may come after the workloads.

use std::collections::HashMap;

use palisade_model::{ContainerKind, Node, Object, PodView};

use crate::rbac::namespace_of;
use crate::rbac::Source;

/// A compute resource every container should account for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Cpu,
    Memory,
}

impl Resource {
    pub fn key(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
        }
    }
}

/// A request or a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bound {
    Request,
    Limit,
}

impl Resource {
    /// The bit of `(self, bound)` in a [`Gap`]'s set of what is missing.
    fn bit(self, bound: Bound) -> u8 {
        let resource = match self {
            Resource::Cpu => 0,
            Resource::Memory => 1,
        };
        let bound = match bound {
            Bound::Request => 0,
            Bound::Limit => 2,
        };
        1 << (resource + bound)
    }
}

/// A container that leaves some resources' requests or limits unset: one per container
/// (a large input has tens of thousands), whatever it misses.
#[derive(Clone, Debug, PartialEq)]
pub struct Gap {
    /// What is missing: a bit per resource and bound ([`Resource::bit`]).
    missing: u8,
    pub namespace: String,
    /// "container `web`", for messages.
    pub container: String,
    /// The container's `resources` field, or the container when it has none.
    pub source: Source,
}

impl Gap {
    /// Whether the container also ends up without `bound` for `resource`.
    pub fn lacks(&self, resource: Resource, bound: Bound) -> bool {
        self.missing & resource.bit(bound) != 0
    }
}

/// What a namespace's LimitRanges give containers that set nothing: a bit per resource and
/// bound ([`Resource::bit`]).
#[derive(Clone, Debug, Default, PartialEq)]
struct Defaults {
    covered: u8,
}

#[derive(Clone, Default, PartialEq)]
pub struct ResourcesBuilder {
    gaps: Vec<Gap>,
    defaults: HashMap<String, Defaults>,
}

fn has(list: Option<&Node>, resource: Resource) -> bool {
    list.and_then(|l| l.get(resource.key()))
        .is_some_and(|q| !q.is_null())
}

impl ResourcesBuilder {
    pub fn add(&mut self, object: &Object) {
        if object.group().is_empty() && object.kind() == "LimitRange" {
            self.add_limit_range(object);
            return;
        }
        let Some(pod) = PodView::of(object) else {
            return;
        };
        let pod_resources = pod.spec.get("resources");
        let pod_limits = pod_resources.and_then(|r| r.get("limits"));
        let pod_requests = pod_resources.and_then(|r| r.get("requests"));
        let namespace = namespace_of(object);
        // Ephemeral containers may not set resources: Kubernetes rejects them.
        for container in pod
            .containers()
            .filter(|c| c.kind != ContainerKind::Ephemeral)
        {
            let resources = container.node.get("resources");
            let limits = resources.and_then(|r| r.get("limits"));
            let requests = resources.and_then(|r| r.get("requests"));
            let path = if resources.is_some() {
                container.path.key("resources")
            } else {
                container.path.clone()
            };
            let mut missing = 0;
            for resource in [Resource::Cpu, Resource::Memory] {
                let limited = has(limits, resource) || has(pod_limits, resource);
                // An unset request takes the limit's value (API defaulting).
                let requested = has(requests, resource)
                    || has(limits, resource)
                    || has(pod_requests, resource)
                    || has(pod_limits, resource);
                for (bound, present) in [(Bound::Request, requested), (Bound::Limit, limited)] {
                    if !present {
                        missing |= resource.bit(bound);
                    }
                }
            }
            if missing != 0 {
                self.gaps.push(Gap {
                    missing,
                    namespace: namespace.clone(),
                    container: container.describe(),
                    source: Source::of(object, &path, false),
                });
            }
        }
    }

    /// LimitRange defaulting (`SetDefaults_LimitRangeItem`): a missing default limit is the
    /// `max`; a missing default request is the default limit, else the `min`.
    fn add_limit_range(&mut self, object: &Object) {
        let defaults = self.defaults.entry(namespace_of(object)).or_default();
        let limits = object
            .root
            .get("spec")
            .and_then(|s| s.get("limits"))
            .map(Node::as_seq)
            .unwrap_or_default();
        for item in limits
            .iter()
            .filter(|i| i.str_of("type") == Some("Container"))
        {
            for resource in [Resource::Cpu, Resource::Memory] {
                let default_limit =
                    has(item.get("default"), resource) || has(item.get("max"), resource);
                let default_request = default_limit
                    || has(item.get("defaultRequest"), resource)
                    || has(item.get("min"), resource);
                if default_limit {
                    defaults.covered |= resource.bit(Bound::Limit);
                }
                if default_request {
                    defaults.covered |= resource.bit(Bound::Request);
                }
            }
        }
    }

    pub fn merge(&mut self, other: ResourcesBuilder) {
        self.gaps.extend(other.gaps);
        for (namespace, defaults) in other.defaults {
            self.defaults.entry(namespace).or_default().covered |= defaults.covered;
        }
    }

    pub fn build(self) -> Resources {
        let ResourcesBuilder { gaps, defaults } = self;
        let gaps = gaps
            .into_iter()
            .filter_map(|mut gap| {
                if let Some(defaults) = defaults.get(&gap.namespace) {
                    gap.missing &= !defaults.covered;
                }
                (gap.missing != 0).then_some(gap)
            })
            .collect();
        Resources { gaps }
    }
}

/// Requests and limits no container, pod or LimitRange of the input provides.
pub struct Resources {
    gaps: Vec<Gap>,
}

impl Resources {
    pub fn gaps(&self, resource: Resource, bound: Bound) -> impl Iterator<Item = &Gap> + '_ {
        self.gaps
            .iter()
            .filter(move |g| g.missing & resource.bit(bound) != 0)
    }
}
