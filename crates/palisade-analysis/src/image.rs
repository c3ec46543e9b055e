//! Container image references, read the way the container runtime reads them (the
//! distribution reference grammar): `[domain/]path[:tag][@digest]`, where the first component
//! is a domain only if it contains `.` or `:` or is `localhost`; otherwise the image comes from
//! Docker Hub (`docker.io`), and a single-component path is under `library/`.

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host (and port): `registry.example.com:5000`, `docker.io`.
    pub domain: String,
    /// Repository path: `team/app`, `library/nginx`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Tags that name a branch or a release channel, not a release: the registry moves them with
/// every push (`latest-alpine` and other `latest-*` tags too).
pub const BRANCH_TAGS: &[&str] = &[
    "latest", "master", "main", "stable", "edge", "nightly", "dev",
];

/// Why the tag of an image without a valid digest moves, or `None` when it names a release.
/// `extra` are the tags a team treats the same way (the `mutable-tags` option).
pub fn moving_tag(tag: Option<&str>, extra: &[String]) -> Option<String> {
    match tag {
        None => Some("has no tag, which means `latest`".to_string()),
        Some("latest") => Some("uses the tag `latest`".to_string()),
        Some(tag) if BRANCH_TAGS.contains(&tag) || tag.starts_with("latest-") => Some(format!(
            "uses the moving tag `{tag}` (a branch or channel: the registry moves it with each push)"
        )),
        Some(tag) if extra.iter().any(|t| t == tag) => {
            Some(format!("uses the moving tag `{tag}`"))
        }
        Some(_) => None,
    }
}

impl ImageRef {
    /// Whether the digest is one a runtime resolves: an algorithm registered for OCI digests
    /// with its exact length of lowercase hex (`sha256` and `blake3` 64 digits, `sha384` 96,
    /// `sha512` 128). Anything else pins nothing: containerd and CRI-O refuse the reference
    /// (`@sha256:abc`, a 63-digit `blake3`, an algorithm of one's own).
    pub fn has_valid_digest(&self) -> bool {
        let Some((algorithm, encoded)) = self.digest.as_deref().and_then(|d| d.split_once(':'))
        else {
            return false;
        };
        let digits = match algorithm {
            "sha256" | "blake3" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return false,
        };
        encoded.len() == digits
            && encoded
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    }

    /// Parses a reference; `None` for an empty or malformed one (spaces, empty components,
    /// upper case in the path).
    pub fn parse(text: &str) -> Option<ImageRef> {
        let text = text.trim();
        if text.is_empty() || text.contains(char::is_whitespace) {
            return None;
        }
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) if !digest.is_empty() => (name, Some(digest.to_string())),
            Some(_) => return None,
            None => (text, None),
        };
        // A tag follows the last `:` after the last `/` (a `:` before it is a port).
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&name[..at], Some(name[at + 1..].to_string()))
            }
            None => (name, None),
        };
        if tag.as_deref() == Some("") {
            return None;
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_string(), rest.to_string())
            }
            _ if name.contains('/') => ("docker.io".to_string(), name.to_string()),
            _ => ("docker.io".to_string(), format!("library/{name}")),
        };
        let domain = if domain == "index.docker.io" {
            "docker.io".to_string()
        } else {
            domain
        };
        let valid_path = !path.is_empty()
            && path.split('/').all(|c| !c.is_empty())
            && !path.chars().any(|c| c.is_ascii_uppercase());
        valid_path.then_some(ImageRef {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// `domain/path`, the name registries and allow-lists compare.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// Whether the image comes from `prefix`: a registry (`quay.io`), or a registry and a path
    /// prefix (`registry.example.com/team`), matched on component boundaries. A prefix without
    /// a domain (`library`, `bitnami/redis`) means Docker Hub, as in an image name.
    pub fn is_under(&self, prefix: &str) -> bool {
        let prefix = prefix.trim().trim_end_matches('/');
        let first = prefix.split('/').next().unwrap_or("");
        let prefix = if first.contains(['.', ':']) || first == "localhost" {
            prefix.replacen("index.docker.io", "docker.io", 1)
        } else {
            format!("docker.io/{prefix}")
        };
        let repository = self.repository();
        repository == prefix
            || repository
                .strip_prefix(&prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Option<(String, String, Option<String>, Option<String>)> {
        ImageRef::parse(text).map(|r| (r.domain, r.path, r.tag, r.digest))
    }

    #[test]
    fn reads_references_like_the_runtime() {
        let s = |v: &str| v.to_string();
        assert_eq!(
            parts("nginx"),
            Some((s("docker.io"), s("library/nginx"), None, None))
        );
        assert_eq!(
            parts("bitnami/redis:7.2"),
            Some((s("docker.io"), s("bitnami/redis"), Some(s("7.2")), None))
        );
        assert_eq!(
            parts("registry.example.com:5000/shop/web:1.4@sha256:abc"),
            Some((
                s("registry.example.com:5000"),
                s("shop/web"),
                Some(s("1.4")),
                Some(s("sha256:abc"))
            ))
        );
        assert_eq!(
            parts("localhost/dev/app"),
            Some((s("localhost"), s("dev/app"), None, None))
        );
        assert_eq!(
            parts("index.docker.io/library/busybox:1.36").map(|p| p.0),
            Some(s("docker.io"))
        );
        assert_eq!(parts(""), None);
        assert_eq!(parts("nginx:"), None);
        assert_eq!(parts("Registry/App"), None);
        assert_eq!(parts("a//b"), None);
    }

    #[test]
    fn allow_list_prefixes_match_on_component_boundaries() {
        let image = ImageRef::parse("registry.example.com/team-a/api:2").expect("valid");
        assert!(image.is_under("registry.example.com"));
        assert!(image.is_under("registry.example.com/team-a/"));
        assert!(!image.is_under("registry.example.com/team"));
        assert!(!image.is_under("registry.example"));
        let hub = ImageRef::parse("busybox:1.36").expect("valid");
        assert!(hub.is_under("docker.io/library"));
        assert!(hub.is_under("library"));
        assert!(hub.is_under("index.docker.io"));
        assert!(!hub.is_under("quay.io"));
    }
}
