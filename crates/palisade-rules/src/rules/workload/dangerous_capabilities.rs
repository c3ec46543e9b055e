use palisade_analysis::pss::Violation;
use palisade_model::{Node, PodView};

use crate::meta::rule;
use crate::{Check, OptionValues};

/// Capabilities that hand a container control of the node or of its network, and why.
const DANGEROUS: &[(&str, &str)] = &[
    ("ALL", "every capability"),
    (
        "SYS_ADMIN",
        "mounts, namespaces and most of root's power, the usual escape route",
    ),
    ("SYS_MODULE", "loads kernel modules"),
    ("SYS_PTRACE", "traces and injects into other processes"),
    ("SYS_RAWIO", "raw I/O on devices and memory"),
    ("SYS_BOOT", "reboots the node"),
    ("SYS_TIME", "sets the node's clock"),
    (
        "DAC_READ_SEARCH",
        "reads any file by handle (the shocker escape)",
    ),
    ("DAC_OVERRIDE", "ignores file permissions"),
    (
        "NET_ADMIN",
        "reconfigures interfaces, routes and firewall rules",
    ),
    (
        "NET_RAW",
        "crafts raw packets to spoof, ARP-poison and DNS-poison",
    ),
    ("BPF", "loads eBPF programs into the kernel"),
    ("PERFMON", "reads kernel and process memory through perf"),
    ("MAC_ADMIN", "changes the AppArmor or SELinux policy"),
    (
        "MAC_OVERRIDE",
        "bypasses the mandatory access control policy",
    ),
    ("SYSLOG", "reads kernel addresses from the kernel log"),
    ("SETFCAP", "grants file capabilities to binaries"),
];

rule! {
    /// ## What it does
    /// Flags containers (init and ephemeral ones included) that add a capability known to
    /// lead to node compromise or network attacks: `ALL`, `SYS_ADMIN`, `SYS_MODULE`,
    /// `SYS_PTRACE`, `SYS_RAWIO`, `SYS_BOOT`, `SYS_TIME`, `DAC_READ_SEARCH`, `DAC_OVERRIDE`,
    /// `NET_ADMIN`, `NET_RAW`, `BPF`, `PERFMON`, `MAC_ADMIN`, `MAC_OVERRIDE`, `SYSLOG`,
    /// `SETFCAP`. Names are compared as container runtimes read them: case-insensitive, with
    /// or without the `CAP_` prefix. One finding per container, naming every dangerous
    /// capability it adds (at the `add` entry when there is one, else at the list).
    ///
    /// The Pod Security Standards rules `pss-capabilities-baseline` and
    /// `pss-capabilities-restricted` flag every capability outside their allowed sets; this
    /// rule singles out the ones that matter most, at a higher severity, whatever level a
    /// namespace enforces.
    ///
    /// ## Why is this bad?
    /// `SYS_ADMIN` alone is enough to escape most containers; `SYS_MODULE` and `BPF` run code
    /// in the kernel; `NET_ADMIN` and `NET_RAW` let a pod intercept or spoof its neighbours'
    /// traffic.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     add: ["NET_ADMIN"]   # fails
    /// ```
    ///
    /// ## Remediation
    /// Drop `ALL` and add back only what the process needs; move node-level work (network
    /// set-up, tracing) into a dedicated, reviewed DaemonSet in a privileged namespace.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.2.8 (NET_RAW) and 5.2.9 (added capabilities)
    /// - capabilities(7): <https://man7.org/linux/man-pages/man7/capabilities.7.html>
    pub static RULE = {
        code: "PAL-WL-002",
        name: "dangerous-capabilities",
        severity: High,
        category: "workload",
        controls: ["CIS-5.2.8", "CIS-5.2.9", "NSA:pod-security", "MITRE:T1611"],
        subsumes: ["PAL-PSS-003", "PAL-PSS-018"],
        fix: crate::fix::needs_decision,
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    let mut violations = Vec::new();
    for container in pod.containers() {
        let added = container
            .security_context()
            .and_then(|sc| sc.at(&["capabilities", "add"]))
            .map(Node::as_seq)
            .unwrap_or_default();
        let add_path = container
            .security_context_path()
            .keys(&["capabilities", "add"]);
        let dangerous: Vec<(usize, &str, &str)> = added
            .iter()
            .enumerate()
            .filter_map(|(i, capability)| {
                let name = capability.as_str()?;
                let upper = name.to_ascii_uppercase();
                let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
                let (_, why) = DANGEROUS.iter().find(|(cap, _)| *cap == bare)?;
                Some((i, name, *why))
            })
            .collect();
        // One finding per container: its `add` list is one decision, however many of its
        // entries are dangerous (pointing at the entry when only one is).
        let listed = dangerous
            .iter()
            .map(|(_, name, why)| format!("{name}: {why}"))
            .collect::<Vec<_>>()
            .join("; ");
        let path = match dangerous.as_slice() {
            [] => continue,
            [(i, _, _)] => add_path.index(*i),
            _ => add_path,
        };
        violations.push(Violation {
            severity: None,
            path,
            message: format!("{} adds {listed}", container.describe()),
        });
    }
    violations
}
