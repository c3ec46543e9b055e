use palisade_analysis::image::{moving_tag, ImageRef};
use palisade_analysis::pss::Violation;
use palisade_model::PodView;

use crate::fix::{self, Remedy};
use crate::meta::rule;
use crate::{Check, OptionValues};
use palisade_model::{FieldPath, Object};

rule! {
    /// ## What it does
    /// Flags containers (init and ephemeral ones included) whose `imagePullPolicy` keeps them
    /// on an image the node happens to have:
    /// - `Never`: the node's local image is used unverified, whoever put it there;
    /// - `IfNotPresent` on an image whose tag moves (none, `latest`, a branch or channel such
    ///   as `main`, and the tags of `PAL-IMG-002`'s `mutable-tags` option) and no digest: nodes
    ///   keep whatever they pulled first under that tag.
    ///
    /// The default policy is not flagged: Kubernetes sets `Always` for `latest` and untagged
    /// images and `IfNotPresent` otherwise, which is safe once images are versioned.
    ///
    /// ## Why is this bad?
    /// Cached images skip the registry's authorization: in a shared cluster a pod can run a
    /// private image another tenant pulled. And a moving tag served from cache means nodes
    /// run different code.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: web
    ///   image: registry.example.com/shop/web:latest
    ///   imagePullPolicy: IfNotPresent   # fails
    /// ```
    ///
    /// ## Remediation
    /// Remove `imagePullPolicy` or set `Always`, and use versioned (better, digest-pinned)
    /// images. Multi-tenant clusters should also enable the `AlwaysPullImages` admission
    /// plugin.
    ///
    /// ## Fix
    /// Safe: `palisade fix` sets `imagePullPolicy: Always`; the node checks the registry and
    /// pulls only layers that changed.
    ///
    /// ## References
    /// - Kubernetes docs, Image pull policy:
    ///   <https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy>
    /// - CIS Kubernetes Benchmark 1.2.11: AlwaysPullImages admission plugin
    pub static RULE = {
        code: "PAL-IMG-004",
        name: "image-pull-policy-stale",
        severity: Low,
        category: "images",
        controls: ["NSA:supply-chain", "CIS-1.2.11"],
        about: super::container_image,
        fix: repair,
        check: Check::Pod(check),
    };
}

fn check(pod: &PodView<'_>, options: &OptionValues) -> Vec<Violation> {
    let extra = options.strings("mutable-tags");
    let mut violations = Vec::new();
    for container in pod.containers() {
        let Some(policy) = container.node.str_of("imagePullPolicy") else {
            continue;
        };
        let image = container.node.str_of("image").unwrap_or("");
        let moving = ImageRef::parse(image).and_then(|r| {
            (!r.has_valid_digest())
                .then(|| moving_tag(r.tag.as_deref(), extra))
                .flatten()
        });
        let message = match policy {
            "Never" => format!(
                "{} never pulls `{image}`: it runs whatever image the node has under that name",
                container.describe()
            ),
            "IfNotPresent" if moving.is_some() => format!(
                "{} pulls `{image}` only if absent, and the image {}: nodes keep the first they pulled",
                container.describe(),
                moving.as_deref().unwrap_or_default()
            ),
            _ => continue,
        };
        violations.push(Violation {
            severity: None,
            path: container.path.key("imagePullPolicy"),
            message,
        });
    }
    violations
}

/// `imagePullPolicy: Always` (safe: the node checks the registry and pulls only what changed).
fn repair(_: &Object, path: &FieldPath) -> Option<Remedy> {
    fix::set(
        fix::Safety::Safe,
        "set imagePullPolicy: Always",
        path.clone(),
        "Always",
    )
}
