//! What a rule says about repairing one of its findings, as ruff attaches a fix to a
//! diagnostic: edits to fields at paths the finding already names, safe or unsafe, or the
//! advice that a person must decide. The edits are semantic (set this field, add to that
//! list); the engine's fixer turns them into the fewest text edits and checks the result.

use palisade_model::{FieldPath, Node, Object, PodView};

/// Whether a fix can change what a well-behaved workload does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Safety {
    /// It cannot: applied by `palisade fix`.
    Safe,
    /// It can (a process that needs root, a capability, a writable root file system): applied
    /// only with `--unsafe`.
    Unsafe,
}

impl Safety {
    pub fn as_str(self) -> &'static str {
        match self {
            Safety::Safe => "safe",
            Safety::Unsafe => "unsafe",
        }
    }
}

/// One change to the object as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Sets the field at `path` to `value` (YAML text of a scalar or a flow collection),
    /// creating the mappings on the way that are missing.
    Set { path: FieldPath, value: String },
    /// Adds `value` (YAML text of a scalar) to the list at `path`, creating it when missing.
    Append { path: FieldPath, value: String },
}

impl Edit {
    pub fn path(&self) -> &FieldPath {
        match self {
            Edit::Set { path, .. } | Edit::Append { path, .. } => path,
        }
    }
}

/// A repair: what it does, in a few words, and its edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub safety: Safety,
    pub title: String,
    pub edits: Vec<Edit>,
}

/// What can be done about a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remedy {
    Fix(Fix),
    /// No mechanical repair: a person decides (the reason and the rule's advice).
    Decision(String),
}

/// A rule's repair: from the object and the finding's path, the remedy, or `None` when the
/// finding is not one the rule knows how to repair at all.
pub type FixFn = fn(&Object, &FieldPath) -> Option<Remedy>;

pub(crate) fn set(safety: Safety, title: &str, path: FieldPath, value: &str) -> Option<Remedy> {
    Some(Remedy::Fix(Fix {
        safety,
        title: title.to_string(),
        edits: vec![Edit::Set {
            path,
            value: value.to_string(),
        }],
    }))
}

pub(crate) fn decision(why: &str) -> Option<Remedy> {
    Some(Remedy::Decision(why.to_string()))
}

/// The container (its securityContext path and node) that `path` points into, if any.
pub(crate) fn container_at<'o>(
    object: &'o Object,
    path: &FieldPath,
) -> Option<(FieldPath, &'o Node)> {
    let pod = PodView::of(object)?;
    let found = pod.containers().find_map(|c| {
        let base = c.path.as_str();
        let inside = path.as_str() == base
            || path
                .as_str()
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('/'));
        inside.then(|| (c.path.clone(), c.node))
    });
    found
}

/// Whether the finding's path is the pod's own `securityContext` (not a container's).
pub(crate) fn pod_security_context(object: &Object, path: &FieldPath) -> Option<FieldPath> {
    let pod = PodView::of(object)?;
    let context = pod.spec_path.key("securityContext");
    path.as_str()
        .starts_with(&format!("{}/", context.as_str()))
        .then_some(context)
}

/// The pod spec's path.
pub(crate) fn pod_spec_path(object: &Object) -> Option<FieldPath> {
    PodView::of(object).map(|p| p.spec_path)
}

/// For rules whose findings have no mechanical repair (a hostPath volume, a host namespace, a
/// digest nobody knows): always a decision; the rule's remediation says what to weigh.
pub(crate) fn needs_decision(_: &Object, _: &FieldPath) -> Option<Remedy> {
    decision("no mechanical repair: it changes what the workload can do")
}

/// `procMount: Default` (unsafe: a nested container runtime may need /proc unmasked), for both
/// Pod Security levels' procMount checks.
pub(crate) fn default_proc_mount(_: &Object, path: &FieldPath) -> Option<Remedy> {
    if !path.as_str().ends_with("/procMount") {
        return decision("set procMount to Default");
    }
    set(
        Safety::Unsafe,
        "set procMount: Default",
        path.clone(),
        "Default",
    )
}
