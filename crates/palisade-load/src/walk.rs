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
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = Path::new(arg);
        match std::fs::metadata(path) {
            Err(e) => errors.push(error(arg.as_str(), e.to_string())),
            Ok(meta) if meta.is_dir() => walk_dir(path, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input::File(path.to_path_buf())),
        }
    }
    (inputs, errors)
}

fn walk_dir(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<LoadError>) {
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
    inputs.extend(found);
}

/// Reads one input fully, refusing files over [`MAX_FILE_BYTES`].
pub fn read_input(input: &Input) -> Result<Vec<u8>, LoadError> {
    let name = input.display_name();
    let mut bytes = Vec::new();
    let limit = MAX_FILE_BYTES + 1;
    let read = match input {
        Input::Stdin => std::io::stdin().lock().take(limit).read_to_end(&mut bytes),
        Input::File(path) => {
            std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
        }
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
    fn missing_paths_are_errors_and_stdin_is_an_input() {
        let (inputs, errors) = discover(&["-".into(), "/no/such/dir".into()]);
        assert_eq!(inputs, vec![Input::Stdin]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].file, "/no/such/dir");
    }
}
