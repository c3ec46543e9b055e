//! Control-plane components (kube-apiserver, kube-controller-manager, kube-scheduler, etcd),
//! judged by the flags of the pods that run them: the CIS Kubernetes Benchmark's section 1
//! and 2 checks. Each rule groups the checks of one concern as data; every finding names its
//! CIS id.

pub mod apiserver_admission;
pub mod apiserver_audit_log;
pub mod apiserver_authentication;
pub mod apiserver_authorization;
pub mod apiserver_encryption;
pub mod apiserver_insecure_serving;
pub mod apiserver_oidc;
pub mod apiserver_service_accounts;
pub mod apiserver_tls;
pub mod bind_address;
pub mod controller_manager;
pub mod etcd_tls;
pub mod profiling;

use palisade_analysis::flags::{self, component_flags, Component, Flags};
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

/// What a check wants of a flag.
pub(crate) enum Want {
    /// The effective value (given or default) equals this.
    Equals(&'static str),
    /// The effective value is anything but this.
    NotEquals(&'static str),
    /// The flag is given, non-empty.
    Set,
    /// The flag is not given.
    Unset,
    /// Not given, or `0`.
    ZeroOrUnset,
    /// The list value contains this item.
    Has(&'static str),
    /// The list value does not contain this item.
    Lacks(&'static str),
    /// A number at least this.
    AtLeast(i64),
    /// Every listed cipher suite is a strong one (unset: the Go defaults, which are).
    StrongCiphers,
    /// `--feature-gates` does not turn this gate off.
    GateNotFalse(&'static str),
    /// Listens on loopback only.
    Loopback,
    /// A number above 0.
    Positive,
    /// A duration other than zero (`0`, `0s`, `0m0s`).
    NotZeroDuration,
}

/// One CIS check on one flag of one component.
pub(crate) struct Requirement {
    pub cis: &'static str,
    pub component: Component,
    pub flag: &'static str,
    /// The component's own default when the flag is not given.
    pub default: Option<&'static str>,
    pub want: Want,
    /// What goes wrong, for the message.
    pub why: &'static str,
}

/// Cipher suites the CIS Benchmark accepts, plus the TLS 1.3 suites (not configurable in Go).
const STRONG_CIPHERS: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// Why `value` (None: unset with no default) fails `want`, if it does.
pub(crate) fn failure(want: &Want, value: Option<&str>) -> Option<String> {
    let shown = value.unwrap_or("unset");
    match want {
        Want::Equals(expected) if value != Some(*expected) => {
            Some(format!("is {shown}, should be {expected}"))
        }
        Want::NotEquals(forbidden) if value == Some(*forbidden) => Some(format!("is {forbidden}")),
        Want::Set if value.is_none_or(str::is_empty) => Some("is not set".to_string()),
        Want::Unset if value.is_some() => Some("is set".to_string()),
        Want::ZeroOrUnset if value.is_some_and(|v| v != "0") => Some(format!("is {shown}")),
        Want::Has(item) if !value.is_some_and(|v| flags::list(v).contains(item)) => {
            Some(format!("({shown}) does not include {item}"))
        }
        Want::Lacks(item) if value.is_some_and(|v| flags::list(v).contains(item)) => {
            Some(format!("includes {item}"))
        }
        Want::AtLeast(minimum) => match value.and_then(|v| v.parse::<i64>().ok()) {
            Some(n) if n >= *minimum => None,
            _ => Some(format!("is {shown}, should be at least {minimum}")),
        },
        Want::StrongCiphers => {
            let weak: Vec<&str> = value
                .map(flags::list)
                .unwrap_or_default()
                .into_iter()
                .filter(|c| !STRONG_CIPHERS.contains(c))
                .collect();
            (!weak.is_empty()).then(|| format!("allows weak cipher suites {}", weak.join(", ")))
        }
        Want::GateNotFalse(gate) => {
            let off = value.and_then(|v| flags::map_entry(v, gate)) == Some("false");
            off.then(|| format!("turns {gate} off"))
        }
        Want::Loopback => {
            let loopback = value.is_some_and(|v| {
                v == "127.0.0.1" || v == "::1" || v == "localhost" || v.starts_with("127.")
            });
            (!loopback).then(|| format!("is {shown}: the port listens on every interface"))
        }
        Want::Positive => match value.and_then(|v| v.parse::<i64>().ok()) {
            Some(n) if n > 0 => None,
            _ => Some(format!("is {shown}, should be above 0")),
        },
        Want::NotZeroDuration => {
            let zero = value.is_some_and(|v| {
                !v.is_empty() && v.chars().all(|c| matches!(c, '0' | 'h' | 'm' | 's'))
            });
            zero.then(|| "is 0: no timeout".to_string())
        }
        _ => None,
    }
}

/// Runs `requirements` on the flags of the component they name, when `pod` runs it.
pub(crate) fn check_pod(pod: &PodView<'_>, requirements: &[Requirement]) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut parsed: Vec<(Component, Option<Flags>)> = Vec::new();
    for requirement in requirements {
        let index = match parsed.iter().position(|(c, _)| *c == requirement.component) {
            Some(i) => i,
            None => {
                parsed.push((
                    requirement.component,
                    component_flags(pod, requirement.component),
                ));
                parsed.len() - 1
            }
        };
        let Some(flags) = &parsed[index].1 else {
            continue;
        };
        let given = flags.get(requirement.flag);
        let value = given.map(|f| f.value.as_str()).or(requirement.default);
        if let Some(problem) = failure(&requirement.want, value) {
            let defaulted = if given.is_none() && requirement.default.is_some() {
                " (default)"
            } else {
                ""
            };
            violations.push(Violation {
                severity: None,
                path: given.map_or_else(|| flags.command_path.clone(), |f| f.path.clone()),
                message: format!(
                    "CIS {}: {} --{} {problem}{defaulted}: {}",
                    requirement.cis,
                    requirement.component.binary(),
                    requirement.flag,
                    requirement.why
                ),
            });
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_truth_table() {
        assert!(failure(&Want::Equals("false"), Some("false")).is_none());
        assert!(failure(&Want::Equals("false"), Some("true")).is_some());
        assert!(failure(&Want::Equals("false"), None).is_some());
        assert!(failure(&Want::Set, Some("")).is_some());
        assert!(failure(&Want::Unset, Some("/etc/tokens.csv")).is_some());
        assert!(failure(&Want::Has("Node"), Some("Node,RBAC")).is_none());
        assert!(failure(&Want::Has("Node"), Some("NodeRestriction")).is_some());
        assert!(failure(&Want::Lacks("AlwaysAllow"), Some("RBAC,AlwaysAllow")).is_some());
        assert!(failure(&Want::Lacks("AlwaysAllow"), None).is_none());
        assert!(failure(&Want::AtLeast(30), Some("30")).is_none());
        assert!(failure(&Want::AtLeast(30), Some("7")).is_some());
        assert!(failure(&Want::AtLeast(30), None).is_some());
        assert!(failure(&Want::StrongCiphers, None).is_none());
        assert!(failure(
            &Want::StrongCiphers,
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_3DES_EDE_CBC_SHA")
        )
        .is_some());
        assert!(failure(
            &Want::GateNotFalse("RotateKubeletServerCertificate"),
            Some("A=true,RotateKubeletServerCertificate=false")
        )
        .is_some());
        assert!(failure(&Want::GateNotFalse("RotateKubeletServerCertificate"), None).is_none());
        assert!(failure(&Want::Loopback, Some("127.0.0.1")).is_none());
        assert!(failure(&Want::Loopback, Some("0.0.0.0")).is_some());
        assert!(failure(&Want::NotEquals("0"), Some("0")).is_some());
        assert!(failure(&Want::ZeroOrUnset, None).is_none());
        assert!(failure(&Want::ZeroOrUnset, Some("0")).is_none());
        assert!(failure(&Want::ZeroOrUnset, Some("8080")).is_some());
        assert!(failure(&Want::Positive, Some("4096")).is_none());
        assert!(failure(&Want::Positive, Some("-1")).is_some());
        assert!(failure(&Want::Positive, None).is_some());
        for zero in ["0", "0s", "0m0s", "0h0m0s"] {
            assert!(
                failure(&Want::NotZeroDuration, Some(zero)).is_some(),
                "{zero}"
            );
        }
        for set in ["5m", "4h0m0s", "30s"] {
            assert!(
                failure(&Want::NotZeroDuration, Some(set)).is_none(),
                "{set}"
            );
        }
        assert!(failure(&Want::NotZeroDuration, None).is_none());
    }
}
