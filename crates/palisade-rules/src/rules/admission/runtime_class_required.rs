use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::{Check, OptionKind, OptionValues, RuleOption};

rule! {
    /// ## What it does
    /// Flags pods that do not run under one of the RuntimeClasses in the
    /// `required-runtime-classes` option (a sandbox such as gVisor or Kata Containers).
    /// Off until the option is set.
    ///
    /// ## Why is this bad?
    /// Containers share the node's kernel: one kernel exploit escapes them all. Clusters
    /// that run untrusted or multi-tenant code put it in a sandboxed runtime, and a pod that
    /// forgets `runtimeClassName` silently runs on the shared kernel.
    ///
    /// ## Example
    /// ```yaml
    /// # .palisade.yaml
    /// rules:
    ///   runtime-class-required:
    ///     required-runtime-classes: [gvisor]
    /// ```
    /// ```yaml
    /// spec:
    ///   runtimeClassName: runc   # fails: not gvisor
    /// ```
    ///
    /// ## Remediation
    /// Set `runtimeClassName` to the sandboxed class (and let an admission policy default
    /// it for the namespaces that need it).
    ///
    /// ## References
    /// - Kubernetes docs, Runtime Class: <https://kubernetes.io/docs/concepts/containers/runtime-class/>
    /// - NSA/CISA Kubernetes Hardening Guide, "Hardening container environments"
    pub static RULE = {
        code: "PAL-ADM-004",
        name: "runtime-class-required",
        severity: Medium,
        category: "admission",
        controls: ["NSA:pod-security", "MITRE:T1611"],
        options: [RuleOption {
            name: "required-runtime-classes",
            kind: OptionKind::StringList,
            doc: "RuntimeClass names pods must use; empty: rule off",
        }],
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, options: &OptionValues) -> Vec<Violation> {
    let required = options.strings("required-runtime-classes");
    if required.is_empty() {
        return Vec::new();
    }
    let wanted = required.join(", ");
    match pod.spec.str_of("runtimeClassName") {
        Some(class) if required.iter().any(|r| r == class) => Vec::new(),
        Some(class) => vec![Violation {
            severity: None,
            path: pod.spec_path.key("runtimeClassName"),
            message: format!("the pod runs under RuntimeClass {class}, not one of: {wanted}"),
        }],
        None => vec![Violation {
            severity: None,
            path: pod.spec_path.clone(),
            message: format!("the pod sets no runtimeClassName; required: {wanted}"),
        }],
    }
}
