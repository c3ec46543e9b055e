//! Where the objects that name no namespace are applied: one input may hold several projects
//! (the input roots given, each Kustomize directory, Helm chart or Git repository below them),
//! and manifests without a namespace from two projects are not one namespace.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::walk::{kustomization_in, Input};

/// Files that make their directory a project of its own.
const PROJECT_MARKERS: &[&str] = &["Chart.yaml", ".git"];

/// One input, and the project it was made from when it is not below the paths given (a
/// rendered chart or kustomization: its directory).
pub struct ProjectInput<'a> {
    pub input: &'a Input,
    pub project: Option<&'a Path>,
}

/// The namespace each input's namespace-less objects are applied to, when the input says:
/// `None` is `default`, as `kubectl apply` without `-n` takes it.
#[derive(Clone, Debug, Default)]
pub struct UnsetNamespaces {
    by_input: HashMap<Input, Arc<str>>,
}

impl UnsetNamespaces {
    /// Every input's namespace-less objects go to `namespace` (`--default-namespace`).
    pub fn all_in(namespace: &str, inputs: &[Input]) -> Self {
        let namespace: Arc<str> = Arc::from(namespace);
        UnsetNamespaces {
            by_input: inputs
                .iter()
                .map(|input| (input.clone(), Arc::clone(&namespace)))
                .collect(),
        }
    }

    /// Where `input`'s namespace-less objects go; `None`: `default`.
    pub fn of(&self, input: &Input) -> Option<&Arc<str>> {
        self.by_input.get(input)
    }
}

/// Finds the project of each input and where its namespace-less objects go. The project of a
/// file is the nearest directory above it, up to its input root, that holds a
/// `kustomization.yaml`, a `Chart.yaml` or a `.git`; else that root (a directory given, or the
/// directory of a file given). A kustomization's `namespace` is where its objects go. Other
/// projects are told apart only when the input holds more than one, so that scanning one
/// project reads as before.
pub fn unset_namespaces(roots: &[String], inputs: &[ProjectInput<'_>]) -> UnsetNamespaces {
    let roots: Vec<PathBuf> = roots
        .iter()
        .filter(|r| r.as_str() != "-")
        .map(|r| {
            let path = PathBuf::from(r);
            if path.is_dir() {
                path
            } else {
                path.parent().map(Path::to_path_buf).unwrap_or_default()
            }
        })
        .collect();
    let mut finder = ProjectFinder::default();
    let projects: Vec<(&Input, Project)> = inputs
        .iter()
        .map(|each| {
            let project = match (each.input, each.project) {
                (_, Some(dir)) => finder.project_at(dir),
                (Input::Stdin, None) => Project::Unnamed("standard input".to_string()),
                (Input::File(path), None) => finder.project_of(path, &roots),
            };
            (each.input, project)
        })
        .collect();
    let mut unnamed: Vec<&str> = projects
        .iter()
        .filter_map(|(_, p)| match p {
            Project::Unnamed(name) => Some(name.as_str()),
            Project::Namespaced(_) => None,
        })
        .collect();
    unnamed.sort_unstable();
    unnamed.dedup();
    let several = unnamed.len() > 1;
    let by_input = projects
        .iter()
        .filter_map(|(input, project)| {
            let namespace = match project {
                Project::Namespaced(namespace) => namespace.clone(),
                Project::Unnamed(name) if several => {
                    palisade_model::unset_namespace_of_project(name)
                }
                Project::Unnamed(_) => return None,
            };
            Some(((*input).clone(), Arc::from(namespace)))
        })
        .collect();
    UnsetNamespaces { by_input }
}

/// A project: one whose kustomization names its namespace, or one known by its directory.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Project {
    Namespaced(String),
    Unnamed(String),
}

/// What each directory says about projects, read once per directory.
#[derive(Default)]
struct ProjectFinder {
    seen: HashMap<PathBuf, Option<Project>>,
}

impl ProjectFinder {
    /// The project of the file `path`, found below the root that holds it.
    fn project_of(&mut self, path: &Path, roots: &[PathBuf]) -> Project {
        let root = roots
            .iter()
            .filter(|root| path.starts_with(root))
            .max_by_key(|root| root.components().count())
            .cloned()
            .or_else(|| path.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let mut dir = path.parent();
        while let Some(current) = dir {
            if let Some(project) = self.marked(current) {
                return project;
            }
            if current == root || !current.starts_with(&root) {
                break;
            }
            dir = current.parent();
        }
        Project::Unnamed(display(&root))
    }

    /// The project whose directory is `dir`.
    fn project_at(&mut self, dir: &Path) -> Project {
        self.marked(dir)
            .unwrap_or_else(|| Project::Unnamed(display(dir)))
    }

    /// The project `dir` starts, if it starts one.
    fn marked(&mut self, dir: &Path) -> Option<Project> {
        if let Some(known) = self.seen.get(dir) {
            return known.clone();
        }
        let project = if let Some(kustomization) = kustomization_in(dir) {
            Some(match kustomization_namespace(&kustomization) {
                Some(namespace) => Project::Namespaced(namespace),
                None => Project::Unnamed(display(dir)),
            })
        } else if PROJECT_MARKERS.iter().any(|m| dir.join(m).exists()) {
            Some(Project::Unnamed(display(dir)))
        } else {
            None
        };
        self.seen.insert(dir.to_path_buf(), project.clone());
        project
    }
}

/// The top-level `namespace` of a kustomization: where it puts every object it renders.
fn kustomization_namespace(kustomization: &Path) -> Option<String> {
    let root = crate::walk::read_kustomization(kustomization)?;
    root.str_of("namespace")
        .map(str::trim)
        .filter(|ns| !ns.is_empty())
        .map(str::to_string)
}

fn display(dir: &Path) -> String {
    let shown = dir.to_string_lossy();
    if shown.is_empty() {
        ".".to_string()
    } else {
        shown.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn placed(roots: &[&Path], files: &[PathBuf]) -> Vec<Option<String>> {
        let inputs: Vec<Input> = files.iter().cloned().map(Input::File).collect();
        let project_inputs: Vec<ProjectInput<'_>> = inputs
            .iter()
            .map(|input| ProjectInput {
                input,
                project: None,
            })
            .collect();
        let roots: Vec<String> = roots
            .iter()
            .map(|r| r.to_string_lossy().into_owned())
            .collect();
        let found = unset_namespaces(&roots, &project_inputs);
        inputs
            .iter()
            .map(|i| found.of(i).map(|ns| ns.to_string()))
            .collect()
    }

    #[test]
    fn one_project_reads_as_default() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = [
            dir.path().join("deploy.yaml"),
            dir.path().join("a/svc.yaml"),
        ];
        files.iter().for_each(|f| write(f, "kind: Service\n"));
        assert_eq!(placed(&[dir.path()], &files), vec![None, None]);
    }

    #[test]
    fn two_roots_are_two_projects() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (shop, blog) = (dir.path().join("shop"), dir.path().join("blog"));
        let files = [shop.join("deploy.yaml"), blog.join("deploy.yaml")];
        files.iter().for_each(|f| write(f, "kind: Service\n"));
        let found = placed(&[&shop, &blog], &files);
        assert_eq!(
            found,
            vec![
                Some(palisade_model::unset_namespace_of_project(
                    &shop.to_string_lossy()
                )),
                Some(palisade_model::unset_namespace_of_project(
                    &blog.to_string_lossy()
                )),
            ]
        );
    }

    #[test]
    fn kustomizations_charts_and_repositories_start_projects_below_one_root() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        write(
            &root.join("app/kustomization.yaml"),
            "resources: [deploy.yaml]\n",
        );
        write(
            &root.join("named/kustomization.yml"),
            "namespace: payments\nresources: [deploy.yaml]\n",
        );
        std::fs::create_dir_all(root.join("vendored/.git")).expect("mkdir");
        let files = [
            root.join("app/deploy.yaml"),
            root.join("app/deep/er/svc.yaml"),
            root.join("named/deploy.yaml"),
            root.join("vendored/x/deploy.yaml"),
            root.join("loose.yaml"),
        ];
        files.iter().for_each(|f| write(f, "kind: Service\n"));
        let of = |p: &str| Some(palisade_model::unset_namespace_of_project(p));
        let app = root.join("app").to_string_lossy().into_owned();
        let vendored = root.join("vendored").to_string_lossy().into_owned();
        let top = root.to_string_lossy().into_owned();
        assert_eq!(
            placed(&[root], &files),
            vec![
                of(&app),
                of(&app),
                Some("payments".to_string()),
                of(&vendored),
                of(&top),
            ]
        );
    }

    #[test]
    fn a_kustomization_namespace_applies_even_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(
            &dir.path().join("kustomization.yaml"),
            "namespace: team-a\nresources: [deploy.yaml]\n",
        );
        let files = [dir.path().join("deploy.yaml")];
        write(&files[0], "kind: Service\n");
        assert_eq!(
            placed(&[dir.path()], &files),
            vec![Some("team-a".to_string())]
        );
    }

    #[test]
    fn a_default_namespace_places_every_input() {
        let inputs = vec![Input::File("a/x.yaml".into()), Input::Stdin];
        let all = UnsetNamespaces::all_in("team", &inputs);
        assert!(inputs
            .iter()
            .all(|i| all.of(i).map(|ns| ns.as_ref()) == Some("team")));
    }
}
