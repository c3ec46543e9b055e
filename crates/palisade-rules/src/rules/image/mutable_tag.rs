use palisade_analysis::image::{moving_tag, ImageRef};
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::meta::rule;
use crate::{Check, OptionKind, OptionValues, RuleOption};

rule! {
    /// ## What it does
    /// Flags containers (init and ephemeral ones included) whose image has no tag, the tag
    /// `latest`, or a tag that names a branch or channel (`master`, `main`, `stable`, `edge`,
    /// `nightly`, `dev`, `latest-*`), and no digest. The `mutable-tags` option adds the tags
    /// your team treats the same way (`PAL-IMG-004` reads it too). An image pinned by digest
    /// passes whatever its tag, since the digest decides what runs.
    ///
    /// ## Why is this bad?
    /// `latest` (which is what a missing tag means) points at whatever was pushed last: two
    /// nodes can run different code for the same pod, a rollback does not roll back, and a
    /// compromised push goes live on the next restart.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: web
    ///   image: nginx   # fails: same as nginx:latest
    /// ```
    ///
    /// ## Remediation
    /// Reference an immutable version tag (`nginx:1.27.2`), better a digest
    /// (`nginx:1.27.2@sha256:...`).
    ///
    /// ## References
    /// - Kubernetes docs, Images: <https://kubernetes.io/docs/concepts/containers/images/>
    /// - NSA/CISA Kubernetes Hardening Guide, "Use of trusted images"
    pub static RULE = {
        code: "PAL-IMG-002",
        name: "image-tag-mutable",
        severity: Medium,
        category: "images",
        controls: ["NSA:supply-chain", "MITRE:T1525"],
        options: [RuleOption {
            name: "mutable-tags",
            kind: OptionKind::StringList,
            doc: "tags treated like `latest`, besides `latest` itself",
        }],
        subsumes: ["PAL-IMG-003", "PAL-IMG-004"],
        about: super::container_image,
        fix: crate::fix::needs_decision,
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, options: &OptionValues) -> Vec<Violation> {
    let extra = options.strings("mutable-tags");
    let mut violations = Vec::new();
    for container in pod.containers() {
        let Some(image) = container.node.str_of("image") else {
            continue;
        };
        let Some(reference) = ImageRef::parse(image) else {
            continue;
        };
        if reference.has_valid_digest() {
            continue;
        }
        let Some(problem) = moving_tag(reference.tag.as_deref(), extra) else {
            continue;
        };
        violations.push(Violation {
            severity: None,
            path: container.path.key("image"),
            message: format!("{} image `{image}` {problem}", container.describe()),
        });
    }
    violations
}
