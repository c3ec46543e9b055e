//! Pod Security Standards: one rule per upstream check.

pub mod allow_privilege_escalation;
pub mod app_armor_profile;
pub mod capabilities_baseline;
pub mod capabilities_restricted;
pub mod host_namespaces;
pub mod host_path_volumes;
pub mod host_ports;
pub mod host_probes_and_lifecycle;
pub mod privileged;
pub mod proc_mount;
pub mod proc_mount_restricted;
pub mod restricted_volumes;
pub mod run_as_non_root;
pub mod run_as_user;
pub mod se_linux_options;
pub mod seccomp_profile_baseline;
pub mod seccomp_profile_restricted;
pub mod sysctls;
pub mod windows_host_process;

/// What a finding on `runAsUser`, `runAsNonRoot` or `runAsGroup` is about: the security
/// context that holds it. Set to root there, they are one root cause, and the rules that judge
/// them fold into one finding (PAL-PSS-016 restates the other two).
pub(crate) fn run_as_identity(
    _: &palisade_model::Object,
    path: &palisade_model::FieldPath,
) -> Option<palisade_model::FieldPath> {
    let (parent, field) = path.as_str().rsplit_once('/')?;
    matches!(field, "runAsUser" | "runAsNonRoot" | "runAsGroup")
        .then(|| palisade_model::FieldPath::parse(parent))
}

/// What a `privileged` finding is about: the security context that holds it. A privileged
/// container can escalate and holds every capability, so its privilege-escalation and
/// capability findings (at fields of the same security context) restate it.
pub(crate) fn privileged_context(
    _: &palisade_model::Object,
    path: &palisade_model::FieldPath,
) -> Option<palisade_model::FieldPath> {
    let (parent, field) = path.as_str().rsplit_once('/')?;
    (field == "privileged").then(|| palisade_model::FieldPath::parse(parent))
}
