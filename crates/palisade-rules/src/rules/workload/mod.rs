//! Container and pod hardening beyond what the Pod Security Standards levels require.

pub mod dangerous_capabilities;
pub mod read_only_root_filesystem;
pub mod run_as_root_group;
pub mod sensitive_host_path;
pub mod share_process_namespace;
pub mod writable_host_path;

use palisade_model::{FieldPath, PodView};

/// The pod's `hostPath` volumes: name, host path, and the volume's path.
pub(crate) fn host_path_volumes<'a>(
    pod: &'a PodView<'_>,
) -> impl Iterator<Item = (&'a str, &'a str, FieldPath)> + 'a {
    pod.volumes().filter_map(|(path, volume)| {
        let host_path = volume.get("hostPath")?.str_of("path")?;
        Some((volume.str_of("name").unwrap_or(""), host_path, path))
    })
}
