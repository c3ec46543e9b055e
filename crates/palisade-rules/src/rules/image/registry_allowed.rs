use palisade_analysis::image::ImageRef;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::{Check, OptionKind, OptionValues, RuleOption};

rule! {
    /// ## What it does
    /// Flags containers (init and ephemeral ones included) whose image does not come from one
    /// of the registries in the `allowed-registries` option. Off until the option is set.
    ///
    /// Entries are a registry (`registry.example.com`, `quay.io`) or a registry and a path
    /// prefix (`registry.example.com/platform`), matched on path components (a port is part of
    /// the registry: `registry.example.com:5000` is another one); names without a
    /// registry are Docker Hub, as in an image name (`library` allows the official images).
    /// Images are read as the container runtime reads them: `nginx` is
    /// `docker.io/library/nginx`, a first component with `.` or `:` is a registry.
    ///
    /// ## Why is this bad?
    /// Images from registries you do not control can change under the same tag, carry
    /// malware, or disappear; an allow-list keeps what runs traceable to a vetted supply chain.
    ///
    /// ## Example
    /// ```yaml
    /// # .palisade.yaml
    /// rules:
    ///   image-registry-not-allowed:
    ///     allowed-registries: [registry.example.com, quay.io/cilium]
    /// ```
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: nginx:1.27     # fails: docker.io/library/nginx is not allowed
    /// ```
    ///
    /// ## Remediation
    /// Mirror the image into an allowed registry and reference it there, or add the registry
    /// to the allow-list once it is vetted.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide, "Use of trusted images"
    /// - Distribution reference grammar: <https://github.com/distribution/reference>
    pub static RULE = {
        code: "PAL-IMG-001",
        name: "image-registry-not-allowed",
        severity: High,
        category: "images",
        controls: ["NSA:supply-chain", "MITRE:T1610"],
        options: [RuleOption {
            name: "allowed-registries",
            kind: OptionKind::StringList,
            doc: "registries (and optional path prefixes) images may come from; empty: rule off",
        }],
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, options: &OptionValues) -> Vec<Violation> {
    let allowed = options.strings("allowed-registries");
    if allowed.is_empty() {
        return Vec::new();
    }
    let mut violations = Vec::new();
    for container in pod.containers() {
        let path = container.path.key("image");
        let Some(image) = container.node.str_of("image") else {
            continue;
        };
        let message = match ImageRef::parse(image) {
            Some(reference) if allowed.iter().any(|a| reference.is_under(a)) => continue,
            Some(reference) => format!(
                "{} pulls `{image}` from `{}`, which is not in allowed-registries",
                container.describe(),
                reference.domain
            ),
            None => format!(
                "{} has image `{image}`, which is not a valid image reference",
                container.describe()
            ),
        };
        violations.push(Violation {
            path,
            message,
            severity: None,
        });
    }
    violations
}
