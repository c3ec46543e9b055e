use std::collections::{HashMap, VecDeque};

use palisade_audit::{AuditEvent, Decision};

use super::when;
use crate::meta::{rule, AuditDetector, AuditHit};
use crate::Check;

rule! {
    /// ## What it does
    /// Reports a burst of failed requests from one source address: at least 10 answered 401
    /// (not authenticated) or 403 (forbidden) within 60 seconds. One finding per burst, at the
    /// event that completed it.
    ///
    /// ## Why is this bad?
    /// Tools that enumerate permissions with a stolen token, or guess tokens, fail a lot and
    /// fast (MITRE T1613, T1110). A workload with a broken role does too: either way someone
    /// should look.
    ///
    /// ## Example
    /// ```json
    /// {"sourceIPs":["10.0.3.7"],"responseStatus":{"code":403}, ...}   (ten of them in a minute)
    /// ```
    ///
    /// ## Remediation
    /// Find the workload or user behind the address; revoke the token if it is not one of
    /// yours.
    ///
    /// ## References
    /// - Falco Kubernetes audit rules ("K8s Secret Get Unsuccessfully Tried"):
    ///   <https://github.com/falcosecurity/plugins/tree/main/plugins/k8saudit/rules>
    pub static RULE = {
        code: "PAL-AL-012",
        name: "audit-auth-failure-burst",
        severity: Medium,
        category: "audit-log",
        controls: ["MITRE:T1613", "MITRE:T1110", "NSA:logging"],
        check: Check::AuditStream(start),
    };
}

const THRESHOLD: usize = 10;
const WINDOW_SECONDS: i64 = 60;

/// Per source, the times of its recent failures; a source that just reported stays quiet until
/// its window empties.
#[derive(Default)]
struct Bursts {
    recent: HashMap<String, (VecDeque<i64>, bool)>,
}

fn start() -> Box<dyn AuditDetector> {
    Box::new(Bursts::default())
}

impl AuditDetector for Bursts {
    fn observe(&mut self, event: &AuditEvent) -> Vec<AuditHit> {
        if event.decision() == Decision::Allowed {
            return Vec::new();
        }
        let Some(now) = event.received_at() else {
            return Vec::new();
        };
        let (times, reported) = self.recent.entry(event.source().to_string()).or_default();
        while times.front().is_some_and(|&t| now - t >= WINDOW_SECONDS) {
            times.pop_front();
        }
        if times.is_empty() {
            *reported = false;
        }
        times.push_back(now);
        if times.len() < THRESHOLD || *reported {
            return Vec::new();
        }
        *reported = true;
        vec![AuditHit::new(format!(
            "{} failed requests (401/403) from {} within {WINDOW_SECONDS} s, the last by {} (`{}`){}",
            times.len(),
            event.source(),
            event.acting_user().username,
            event.action(),
            when(event)
        ))]
    }
}
