//! Which inputs to read: files, directories (recursively, honouring `.gitignore`) and stdin.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_model::LoadError;

/// Files larger than this are reported instead of read.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// One thing to read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The name reports use: the path as found, `-` for stdin.
    pub fn display_name(&self) -> Arc<str> {
        match self {
            Input::Stdin => Arc::from("-"),
            Input::File(path) => Arc::from(path.to_string_lossy().as_ref()),
        }
    }
}

fn error(file: impl Into<String>, message: impl Into<String>) -> LoadError {
    LoadError {
        file: file.into(),
        document: None,
        line: None,
        column: None,
        message: message.into(),
    }
}

/// Expands command-line arguments into inputs, in a stable order. Files named explicitly are
/// read whatever their extension; directories contribute `*.yaml`, `*.yml` and `*.json`.
pub fn discover(args: &[String]) -> (Vec<Input>, Vec<LoadError>) {
    let (inputs, errors, _) = discover_with_notes(args);
    (inputs, errors)
}

/// [`discover`], and the notes about what was read other than as deployed (a Kustomize
/// overlay's resources, scanned without its patches): warnings, not errors.
pub fn discover_with_notes(args: &[String]) -> (Vec<Input>, Vec<LoadError>, Vec<LoadError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = Path::new(arg);
        match std::fs::metadata(path) {
            Err(e) => errors.push(error(arg.as_str(), e.to_string())),
            Ok(meta) if meta.is_dir() => walk_dir(path, &mut inputs, &mut errors, &mut notes),
            Ok(_) => inputs.push(Input::File(path.to_path_buf())),
        }
    }
    (inputs, errors, notes)
}

fn walk_dir(
    dir: &Path,
    inputs: &mut Vec<Input>,
    errors: &mut Vec<LoadError>,
    notes: &mut Vec<LoadError>,
) {
    let mut found = Vec::new();
    let walker = ignore::WalkBuilder::new(dir)
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    for entry in walker {
        match entry {
            Err(e) => errors.push(error(dir.to_string_lossy(), e.to_string())),
            Ok(entry) => {
                let is_file = entry.file_type().is_some_and(|t| t.is_file());
                let wanted = entry
                    .path()
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
                if is_file && wanted {
                    found.push(Input::File(entry.into_path()));
                }
            }
        }
    }
    let (found, unrendered, overlays) = without_unrendered(found);
    errors.extend(unrendered);
    notes.extend(overlays);
    inputs.extend(found);
}

/// The names Kustomize reads its configuration from.
const KUSTOMIZATIONS: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Leaves out what is not a manifest until rendered: a Helm chart's files (one error per chart,
/// with the command that renders it) and the patch files of Kustomize directories (partial
/// objects that Kustomize merges into the resources, which are scanned as they are).
fn without_unrendered(found: Vec<Input>) -> (Vec<Input>, Vec<LoadError>, Vec<LoadError>) {
    let path_of = |input: &Input| match input {
        Input::File(path) => Some(path.clone()),
        Input::Stdin => None,
    };
    let mut charts: Vec<PathBuf> = found
        .iter()
        .filter_map(path_of)
        .filter(|p| p.file_name().is_some_and(|n| n == "Chart.yaml"))
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    charts.sort();
    let mut patches: Vec<PathBuf> = Vec::new();
    let mut overlays = Vec::new();
    for input in &found {
        let Some(path) = path_of(input) else { continue };
        let is_kustomization = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| KUSTOMIZATIONS.contains(&n));
        if let (true, Some(dir)) = (is_kustomization, path.parent()) {
            let named = kustomize_patches(&path);
            if !named.is_empty() {
                let dir = dir.to_string_lossy();
                overlays.push(error(
                    dir.as_ref(),
                    format!(
                        "a Kustomize overlay: its {} patch file{} change{} what it deploys, and {} not scanned (the resources are, as written); run `kubectl kustomize {dir} | palisade scan -`, or `palisade scan --render {dir}`",
                        named.len(),
                        if named.len() == 1 { "" } else { "s" },
                        if named.len() == 1 { "s" } else { "" },
                        if named.len() == 1 { "is" } else { "are" },
                    ),
                ));
            }
            patches.extend(named.into_iter().map(|p| dir.join(p)));
        }
    }
    let notes = charts
        .iter()
        .map(|chart| {
            let dir = chart.to_string_lossy();
            error(
                dir.as_ref(),
                format!(
                    "a Helm chart: its templates are not manifests until rendered, so it was not scanned; run `helm template RELEASE {dir} | palisade scan -`, or `palisade scan --render {dir}`"
                ),
            )
        })
        .collect();
    let kept = found
        .into_iter()
        .filter(|input| {
            path_of(input).is_none_or(|path| {
                !charts.iter().any(|chart| path.starts_with(chart))
                    && !patches.iter().any(|patch| same_file(patch, &path))
            })
        })
        .collect();
    (kept, notes, overlays)
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || std::fs::canonicalize(a)
            .ok()
            .is_some_and(|a| Some(a) == std::fs::canonicalize(b).ok())
}

/// The kustomization file of `dir`, if it has one.
pub(crate) fn kustomization_in(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATIONS
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// A kustomization's first document, when it reads as YAML.
pub(crate) fn read_kustomization(kustomization: &Path) -> Option<palisade_model::Node> {
    let text = std::fs::read_to_string(kustomization).ok()?;
    crate::yaml::parse_documents(&text, 0)
        .into_iter()
        .next()?
        .ok()
}

/// The patch files a kustomization names (`patches[].path`, `patchesStrategicMerge[]`,
/// `patchesJson6902[].path`), relative to its directory.
fn kustomize_patches(kustomization: &Path) -> Vec<String> {
    let Some(root) = read_kustomization(kustomization) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for field in ["patches", "patchesStrategicMerge", "patchesJson6902"] {
        for item in root
            .get(field)
            .map(palisade_model::Node::as_seq)
            .unwrap_or_default()
        {
            let path = item.as_str().or_else(|| item.str_of("path"));
            // An inline patch is text, not a file name.
            if let Some(path) = path.filter(|p| !p.contains('\n')) {
                out.push(path.to_string());
            }
        }
    }
    out
}

/// Reads one input fully, refusing files over [`MAX_FILE_BYTES`].
pub fn read_input(input: &Input) -> Result<Vec<u8>, LoadError> {
    let name = input.display_name();
    let mut bytes = Vec::new();
    let limit = MAX_FILE_BYTES + 1;
    let read = match input {
        Input::Stdin => std::io::stdin().lock().take(limit).read_to_end(&mut bytes),
        Input::File(path) => std::fs::File::open(path).and_then(|f| {
            // Sized once: `take` hides the file's size from `read_to_end`, which would grow
            // the buffer by doubling (a 3.5 MB file in a 4 MB buffer, copied on the way).
            let size = f.metadata().map_or(0, |m| m.len().min(limit));
            bytes.reserve_exact(usize::try_from(size).unwrap_or(0) + 1);
            f.take(limit).read_to_end(&mut bytes)
        }),
    };
    match read {
        Err(e) => Err(error(name.as_ref(), e.to_string())),
        Ok(n) if n as u64 > MAX_FILE_BYTES => Err(error(
            name.as_ref(),
            format!(
                "larger than {} MiB, not read",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )),
        Ok(_) => Ok(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_for_manifests_and_honours_gitignore() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("app/sub")).expect("mkdir");
        for file in [
            "app/a.yaml",
            "app/sub/b.yml",
            "app/c.json",
            "app/readme.md",
            "app/gen.yaml",
        ] {
            std::fs::write(root.join(file), "x: 1\n").expect("write");
        }
        std::fs::write(root.join(".gitignore"), "gen.yaml\n").expect("write");
        let (inputs, errors) = discover(&[root.to_string_lossy().into_owned()]);
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = inputs
            .iter()
            .map(|i| match i {
                Input::File(p) => p
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned(),
                Input::Stdin => "-".into(),
            })
            .collect();
        assert_eq!(names, vec!["app/a.yaml", "app/c.json", "app/sub/b.yml"]);
    }

    #[test]
    fn charts_are_named_not_scanned_and_kustomize_patches_are_left_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let files = [
            ("shop/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n"),
            ("shop/values.yaml", "replicaCount: 2\n"),
            ("shop/templates/web.yaml", "metadata:\n  name: {{ .Release.Name }}\n"),
            (
                "overlay/kustomization.yaml",
                "resources: [web.yaml]\npatches:\n  - path: replicas.yaml\npatchesStrategicMerge:\n  - probes.yaml\n",
            ),
            ("overlay/web.yaml", "kind: Deployment\n"),
            ("overlay/replicas.yaml", "kind: Deployment\n"),
            ("overlay/probes.yaml", "kind: Deployment\n"),
            ("plain/pod.yaml", "kind: Pod\n"),
        ];
        for (file, text) in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let (inputs, errors) = discover(&[root.to_string_lossy().into_owned()]);
        let names: Vec<String> = inputs
            .iter()
            .map(|i| match i {
                Input::File(p) => p
                    .strip_prefix(root)
                    .expect("under")
                    .to_string_lossy()
                    .into_owned(),
                Input::Stdin => "-".into(),
            })
            .collect();
        assert_eq!(
            names,
            vec![
                "overlay/kustomization.yaml",
                "overlay/web.yaml",
                "plain/pod.yaml"
            ]
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].file.ends_with("shop"));
        assert!(
            errors[0].message.contains("helm template RELEASE"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn missing_paths_are_errors_and_stdin_is_an_input() {
        let (inputs, errors) = discover(&["-".into(), "/no/such/dir".into()]);
        assert_eq!(inputs, vec![Input::Stdin]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].file, "/no/such/dir");
    }
}
