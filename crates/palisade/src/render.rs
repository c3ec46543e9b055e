//! `scan --render DIR`: a Helm chart or Kustomize directory rendered by the tool that owns it
//! (`helm template`, `kubectl kustomize`), scanned with everything else, and its findings
//! pointed back at the chart's templates (named by the `# Source:` comments Helm writes).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use palisade_model::Location;
use palisade_report::Report;

/// One rendered directory: where its output was written for the scan, and how to map places.
pub struct Rendered {
    /// The rendered manifests (removed on drop).
    file: tempfile::NamedTempFile,
    dir: PathBuf,
    kind: Kind,
    text: String,
}

enum Kind {
    Helm,
    Kustomize,
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// Renders `dir` with the tool it is written for.
pub fn render(dir: &Path) -> Result<Rendered> {
    let shown = dir.display();
    let (kind, mut command) = if dir.join("Chart.yaml").is_file() {
        if !on_path("helm") {
            bail!("{shown} is a Helm chart, and helm is not on PATH: install it, or render elsewhere and pipe (`helm template RELEASE {shown} | palisade scan -`)");
        }
        let mut command = Command::new("helm");
        command.arg("template").arg("palisade").arg(dir);
        (Kind::Helm, command)
    } else if ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|name| dir.join(name).is_file())
    {
        if !on_path("kubectl") {
            bail!("{shown} is a Kustomize directory, and kubectl is not on PATH: install it, or render elsewhere and pipe (`kustomize build {shown} | palisade scan -`)");
        }
        let mut command = Command::new("kubectl");
        command.arg("kustomize").arg(dir);
        (Kind::Kustomize, command)
    } else {
        bail!("--render {shown}: neither a Helm chart (Chart.yaml) nor a Kustomize directory (kustomization.yaml)");
    };
    let output = command
        .output()
        .with_context(|| format!("rendering {shown}"))?;
    if !output.status.success() {
        bail!(
            "rendering {shown} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let text = String::from_utf8(output.stdout)
        .with_context(|| format!("the rendering of {shown} is not UTF-8"))?;
    let mut file = tempfile::Builder::new()
        .prefix("palisade-rendered-")
        .suffix(".yaml")
        .tempfile()?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    Ok(Rendered {
        file,
        dir: dir.to_path_buf(),
        kind,
        text,
    })
}

impl Rendered {
    /// Whether `dir` is the directory this rendered.
    pub fn covers(&self, dir: &Path) -> bool {
        dir == self.dir
            || std::fs::canonicalize(dir)
                .ok()
                .is_some_and(|d| Some(d) == std::fs::canonicalize(&self.dir).ok())
    }

    /// The chart or kustomization directory rendered: the project its objects belong to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The rendered manifests, to scan.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The template each rendered line came from (Helm's `# Source: CHART/templates/x.yaml`,
    /// the chart's own name first), by the rendered line where its section starts.
    fn sources(&self) -> Vec<(u32, PathBuf)> {
        let mut out = Vec::new();
        for (number, line) in (1u32..).zip(self.text.lines()) {
            if let Some(source) = line.strip_prefix("# Source: ") {
                let within_chart: PathBuf = Path::new(source.trim()).components().skip(1).collect();
                out.push((number, self.dir.join(within_chart)));
            }
        }
        out
    }

    /// Points the findings and errors about the rendered output at what the user has: Helm's
    /// templates (the line of the finding's field, found by its key), or the command that
    /// rendered a Kustomize directory (with the rendered lines, and their code frames).
    pub fn map_back(&self, report: &mut Report) {
        let rendered: Arc<str> = Arc::from(self.path().to_string_lossy().as_ref());
        let shown: Arc<str> = Arc::from(match self.kind {
            Kind::Helm => format!("helm template {}", self.dir.display()),
            Kind::Kustomize => format!("kubectl kustomize {}", self.dir.display()),
        });
        let sources = self.sources();
        let mut templates: Vec<(PathBuf, Option<String>)> = Vec::new();
        // Where a place in the rendered output points for the user, and that line's text.
        let sources_of_kustomize = match self.kind {
            Kind::Kustomize => KustomizeSources::read(&self.dir),
            Kind::Helm => KustomizeSources::default(),
        };
        let mut map = |location: &mut Location,
                       path: &palisade_model::FieldPath,
                       object: Option<&palisade_model::ObjectRef>| {
            if location.file != rendered {
                return None;
            }
            let source = sources
                .iter()
                .rev()
                .find(|(start, _)| *start <= location.line)
                .map(|(_, path)| path.clone());
            if let Kind::Kustomize = self.kind {
                // Placed by the object's own source file (a resource, or the patch that set
                // the field), when one can be found; else the rendering command.
                return match object.and_then(|o| sources_of_kustomize.place(o, path)) {
                    Some((placed, line)) => {
                        *location = placed;
                        Some(line)
                    }
                    None => {
                        location.file = Arc::clone(&shown);
                        None
                    }
                };
            }
            let Some(template) = source else {
                location.file = Arc::clone(&shown);
                return None;
            };
            let text = match templates.iter().find(|(p, _)| *p == template) {
                Some((_, text)) => text.clone(),
                None => {
                    let text = std::fs::read_to_string(&template).ok();
                    templates.push((template.clone(), text.clone()));
                    text
                }
            };
            let key = path
                .segments()
                .filter(|s| s.parse::<usize>().is_err())
                .last();
            let place = text
                .as_deref()
                .and_then(|text| key.as_deref().and_then(|key| key_place(text, key)));
            let (line, column) = place.unwrap_or((1, 1));
            *location = Location {
                file: Arc::from(template.to_string_lossy().as_ref()),
                document: location.document,
                line,
                column,
            };
            Some(
                text.as_deref()
                    .and_then(|t| t.lines().nth(line as usize - 1))
                    .map(str::to_string),
            )
        };
        for finding in &mut report.findings {
            if let Some(location) = finding.location.as_mut() {
                if let Some(snippet) = map(location, &finding.path, Some(&finding.object)) {
                    finding.snippet = snippet.map(String::into_boxed_str);
                }
            }
            let Some(extra) = finding.extra.as_deref_mut() else {
                continue;
            };
            for restated in extra.also.iter_mut() {
                if let Some(location) = restated.location.as_mut() {
                    map(location, &restated.path, None);
                }
            }
            for related in extra.related.iter_mut() {
                if let Some(location) = related.location.as_mut() {
                    map(location, &related.path, None);
                }
            }
        }
        for error in &mut report.errors {
            if *error.file == *rendered {
                error.file = shown.to_string();
            }
        }
    }
}

/// The objects a Kustomize directory is made of, read from its files: its resources (files,
/// and the directories it names, followed down) and its patch files. Remote resources are
/// not fetched; their findings stay on the rendering.
#[derive(Default)]
struct KustomizeSources {
    resources: Vec<SourceObject>,
    patches: Vec<SourceObject>,
}

struct SourceObject {
    kind: String,
    name: String,
    file: Arc<str>,
    document: u32,
    root: palisade_model::Node,
    text: Arc<str>,
}

/// Kustomizations nest (overlay, base, component); deeper than this is a cycle.
const MAX_KUSTOMIZE_DEPTH: usize = 16;

impl KustomizeSources {
    fn read(dir: &Path) -> KustomizeSources {
        let mut sources = KustomizeSources::default();
        sources.read_dir(dir, 0);
        sources
    }

    fn read_dir(&mut self, dir: &Path, depth: usize) {
        if depth > MAX_KUSTOMIZE_DEPTH {
            return;
        }
        let Some(file) = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.is_file())
        else {
            return;
        };
        let Ok(text) = std::fs::read_to_string(&file) else {
            return;
        };
        let Some(Ok(root)) = palisade_load::yaml::parse_documents(&text, 0)
            .into_iter()
            .next()
        else {
            return;
        };
        let names = |field: &str| -> Vec<String> {
            root.get(field)
                .map(palisade_model::Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(|item| item.as_str().or_else(|| item.str_of("path")))
                .filter(|name| !name.contains('\n') && !name.contains("://"))
                .map(str::to_string)
                .collect()
        };
        for entry in ["resources", "bases", "components"]
            .iter()
            .flat_map(|field| names(field))
        {
            let path = lexically_normal(&dir.join(&entry));
            if path.is_dir() {
                self.read_dir(&path, depth + 1);
            } else if path.is_file() {
                self.resources.extend(objects_of(&path));
            }
        }
        for entry in ["patches", "patchesStrategicMerge"]
            .iter()
            .flat_map(|field| names(field))
        {
            let path = lexically_normal(&dir.join(&entry));
            if path.is_file() {
                self.patches.extend(objects_of(&path));
            }
        }
    }

    /// Where `path` of the rendered `object` is written: in the patch that sets it, else in
    /// the resource it was made from (the field, or its nearest written parent). The
    /// rendered name may carry a prefix or suffix the kustomization adds.
    fn place(
        &self,
        object: &palisade_model::ObjectRef,
        path: &palisade_model::FieldPath,
    ) -> Option<(Location, Option<String>)> {
        let made_from = |candidates: &[SourceObject]| -> Option<usize> {
            candidates
                .iter()
                .enumerate()
                .filter(|(_, c)| c.kind == object.kind && object.name.contains(&c.name))
                .max_by_key(|(_, c)| c.name.len())
                .map(|(index, _)| index)
        };
        let resource = made_from(&self.resources).map(|i| &self.resources[i]);
        let source_name = resource.map_or(object.name.as_str(), |r| r.name.as_str());
        let patched = self.patches.iter().find_map(|patch| {
            if patch.kind != object.kind || patch.name != source_name {
                return None;
            }
            let (pos, exact) = path.locate(&patch.root);
            exact.then_some((patch, pos))
        });
        let (source, pos) = match (patched, resource) {
            (Some(found), _) => found,
            (None, Some(resource)) => (resource, path.locate(&resource.root).0),
            (None, None) => return None,
        };
        let line = source
            .text
            .lines()
            .nth(pos.line.saturating_sub(1) as usize)
            .map(str::to_string);
        Some((
            Location {
                file: Arc::clone(&source.file),
                document: source.document,
                line: pos.line,
                column: pos.column,
            },
            line,
        ))
    }
}

/// `overlay/../base/web.yaml` as `base/web.yaml`: the path a user recognises (symbolic links
/// are left alone, unlike canonicalizing).
fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The objects of one manifest file, with their positions.
fn objects_of(path: &Path) -> Vec<SourceObject> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let file: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    let text: Arc<str> = Arc::from(text);
    let mut out = Vec::new();
    palisade_load::load_text(&file, &text, &mut |loaded| {
        if let palisade_load::Loaded::Object(object) = loaded {
            out.push(SourceObject {
                kind: object.reference.kind.clone(),
                name: object.reference.name.clone(),
                file: Arc::clone(&file),
                document: object.origin.as_ref().map_or(1, |o| o.document),
                root: object.root,
                text: Arc::clone(&text),
            });
        }
    });
    out
}

/// The first line of `text` whose key is `key` (`key:` after indentation or a list dash), as
/// (line, column), 1-based.
fn key_place(text: &str, key: &str) -> Option<(u32, u32)> {
    let wanted = format!("{key}:");
    (1u32..).zip(text.lines()).find_map(|(number, line)| {
        let rest = line.trim_start_matches([' ', '-']);
        rest.starts_with(&wanted).then(|| {
            let column = u32::try_from(line.len() - rest.len() + 1).unwrap_or(1);
            (number, column)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::key_place;

    #[test]
    fn keys_are_found_after_indentation_and_dashes() {
        let text = "spec:\n  containers:\n    - name: web\n      securityContext:\n        privileged: {{ .Values.privileged }}\n";
        assert_eq!(key_place(text, "privileged"), Some((5, 9)));
        assert_eq!(key_place(text, "name"), Some((3, 7)));
        assert_eq!(key_place(text, "image"), None);
    }
}
