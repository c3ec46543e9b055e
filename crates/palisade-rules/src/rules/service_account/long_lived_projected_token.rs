use palisade_analysis::pss::Violation;
use palisade_model::{Node, PodView};

use crate::meta::rule;
use crate::{Check, OptionKind, OptionValues, RuleOption};

/// A day: long enough for any workload that refreshes its token as the kubelet does.
const DEFAULT_MAX_SECONDS: u64 = 86_400;

rule! {
    /// ## What it does
    /// Flags projected `serviceAccountToken` volume sources whose `expirationSeconds` is
    /// longer than the `max-expiration-seconds` option (default 86400, one day). Unset, the
    /// token lives an hour and the kubelet refreshes it.
    ///
    /// ## Why is this bad?
    /// A stolen projected token is valid until it expires. The kubelet refreshes tokens at
    /// 80% of their lifetime anyway, so long lifetimes buy nothing but a longer window for
    /// whoever copies one.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: vault-token
    ///   projected:
    ///     sources:
    ///     - serviceAccountToken:
    ///         audience: vault
    ///         expirationSeconds: 31536000   # fails: a year
    /// ```
    ///
    /// ## Remediation
    /// Use the default (3600) or the shortest lifetime the consumer tolerates; make the
    /// application re-read the token file.
    ///
    /// ## References
    /// - Kubernetes docs, service account token volume projection:
    ///   <https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#serviceaccount-token-volume-projection>
    pub static RULE = {
        code: "PAL-SA-005",
        name: "long-lived-projected-token",
        severity: Medium,
        category: "service-accounts",
        controls: ["NSA:authentication", "MITRE:T1528"],
        options: [RuleOption {
            name: "max-expiration-seconds",
            kind: OptionKind::Integer,
            doc: "longest acceptable expirationSeconds (default 86400)",
        }],
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, options: &OptionValues) -> Vec<Violation> {
    let max = options.integer("max-expiration-seconds", DEFAULT_MAX_SECONDS);
    let volumes_path = pod.spec_path.key("volumes");
    let mut violations = Vec::new();
    let volumes = pod
        .spec
        .get("volumes")
        .map(Node::as_seq)
        .unwrap_or_default();
    for (v, volume) in volumes.iter().enumerate() {
        let sources = volume
            .at(&["projected", "sources"])
            .map(Node::as_seq)
            .unwrap_or_default();
        for (s, source) in sources.iter().enumerate() {
            let Some(seconds) = source
                .at(&["serviceAccountToken", "expirationSeconds"])
                .and_then(Node::as_i64)
            else {
                continue;
            };
            if u64::try_from(seconds).is_ok_and(|s| s <= max) || seconds < 0 {
                continue;
            }
            violations.push(Violation {
                severity: None,
                path: volumes_path.index(v).keys(&["projected", "sources"]).index(s).keys(&[
                    "serviceAccountToken",
                    "expirationSeconds",
                ]),
                message: format!(
                    "volume `{}` projects a service account token valid for {seconds} s (more than {max} s)",
                    volume.str_of("name").unwrap_or("")
                ),
            });
        }
    }
    violations
}
