use crate::meta::rule;
use crate::{Check, OptionKind, RuleOption};

rule! {
    /// ## What it does
    /// Judges every object, as the API server would judge its creation, against the
    /// ValidatingAdmissionPolicies and bindings in the input (and in `palisade scan --policies
    /// PATH`): `matchConstraints` and the binding's `matchResources` (resource rules, excluded
    /// rules, namespace and object selectors), parameters (`paramKind`, `paramRef`),
    /// `matchConditions`, `variables`, `validations` with their `message` or
    /// `messageExpression`, `failurePolicy` and the binding's `validationActions`. A policy
    /// that matches Pods is also applied to every workload's pod template: the API server
    /// only says so when the controller's pods fail to appear.
    ///
    /// The severity follows the action: Deny high, Warn medium, Audit low; the options
    /// `deny-severity`, `warn-severity` and `audit-severity` change them.
    ///
    /// ## Why is this bad?
    /// The cluster will refuse the object (or warn, or record it): a deploy that fails at
    /// the API server, learnt in CI instead.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ValidatingAdmissionPolicy
    /// spec:
    ///   matchConstraints:
    ///     resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}]
    ///   validations:
    ///     - expression: "object.spec.replicas <= 5"
    ///       message: at most 5 replicas
    /// ---
    /// kind: Deployment
    /// spec:
    ///   replicas: 10   # fails: at most 5 replicas
    /// ```
    ///
    /// ## Remediation
    /// Change the object so the policy's validation holds, or take it to the policy's owner.
    /// What Palisade cannot judge offline (`authorizer`, which asks the live cluster) is an
    /// evaluation error, and the policy's `failurePolicy` applies; with `--kubernetes-version`,
    /// an expression using CEL that version does not have yet is an error at the expression.
    ///
    /// ## References
    /// - Validating Admission Policy:
    ///   <https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/>
    pub static RULE = {
        code: "PAL-VAP-001",
        name: "admission-policy-denies",
        severity: High,
        category: "admission",
        controls: ["NSA:admission-control"],
        options: [
            RuleOption {
                name: "deny-severity",
                kind: OptionKind::Severity,
                doc: "severity of a Deny binding's verdict (default high)",
            },
            RuleOption {
                name: "warn-severity",
                kind: OptionKind::Severity,
                doc: "severity of a Warn binding's verdict (default medium)",
            },
            RuleOption {
                name: "audit-severity",
                kind: OptionKind::Severity,
                doc: "severity of an Audit binding's verdict (default low)",
            },
        ],
        check: Check::Admission,
    };
}
