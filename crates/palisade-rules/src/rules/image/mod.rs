//! Rules about container images.

pub mod mutable_tag;
pub mod not_pinned_by_digest;
pub mod pull_policy;
pub mod registry_allowed;

/// What a finding on a container's `image` or `imagePullPolicy` is about: the container. A
/// moving tag pulled only when absent is one root cause, reported once (PAL-IMG-002 restates
/// the stale pull policy and the missing digest).
pub(crate) fn container_image(
    _: &palisade_model::Object,
    path: &palisade_model::FieldPath,
) -> Option<palisade_model::FieldPath> {
    let (container, field) = path.as_str().rsplit_once('/')?;
    matches!(field, "image" | "imagePullPolicy")
        .then(|| palisade_model::FieldPath::parse(container))
}
