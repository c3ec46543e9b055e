use palisade_analysis::image::ImageRef;
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::{Check, OptionValues};

rule! {
    /// ## What it does
    /// Flags containers (init and ephemeral ones included) whose image is not pinned by
    /// digest (`@sha256:...`), and digests that are malformed (`@sha256:abc`, cut short when
    /// copied): those pin nothing, and the runtime refuses them.
    ///
    /// ## Why is this bad?
    /// Tags are mutable: whoever can push to the repository can change what a version tag
    /// points at, and nodes that pull later run the new content. A digest names exactly one
    /// image, which is also what signatures and SBOMs are attached to.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: web
    ///   image: registry.example.com/shop/web:2.3.1   # fails: tag only
    /// ```
    ///
    /// ## Remediation
    /// Append the digest the registry reports (`crane digest`, `docker buildx imagetools
    /// inspect`): `registry.example.com/shop/web:2.3.1@sha256:...`; let a bot (Renovate,
    /// Dependabot) keep digests current.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide, "Use of trusted images"
    /// - CIS Kubernetes Benchmark 5.5.1: configure image provenance
    pub static RULE = {
        code: "PAL-IMG-003",
        name: "image-not-pinned-by-digest",
        severity: Low,
        category: "images",
        controls: ["NSA:supply-chain", "CIS-5.5.1", "MITRE:T1525"],
        fix: crate::fix::needs_decision,
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, _: &OptionValues) -> Vec<Violation> {
    let mut violations = Vec::new();
    for container in pod.containers() {
        let Some(image) = container.node.str_of("image") else {
            continue;
        };
        let reference = ImageRef::parse(image);
        if reference.as_ref().is_some_and(ImageRef::has_valid_digest) {
            continue;
        }
        let message = match reference.and_then(|r| r.digest) {
            Some(digest) => {
                let expected = match digest.split_once(':').map(|(a, _)| a) {
                    Some(algorithm @ ("sha256" | "blake3")) => {
                        format!("{algorithm}: and 64 hex digits")
                    }
                    Some("sha384") => "sha384: and 96 hex digits".to_string(),
                    Some("sha512") => "sha512: and 128 hex digits".to_string(),
                    _ => "an algorithm runtimes know: sha256, sha384, sha512 or blake3".to_string(),
                };
                format!(
                    "{} image `{image}` has a malformed digest `{digest}` (expected {expected}): it pins nothing and the runtime refuses it",
                    container.describe()
                )
            }
            None => format!(
                "{} image `{image}` is not pinned by digest",
                container.describe()
            ),
        };
        violations.push(Violation {
            severity: None,
            path: container.path.key("image"),
            message,
        });
    }
    violations
}
