//! `palisade fix`: repairs findings in the files (in place, as diffs, or as copies in another
//! directory) and says what is left and why.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use palisade_analysis::pss::Version;
use palisade_engine::config::{self, LoadedConfig};
use palisade_engine::fix::{fix_text, FileFix, FixOptions, Reason};
use palisade_engine::Overrides;
use palisade_load::Input;
use rayon::prelude::*;
use serde_json::json;

use crate::cli::{FixArgs, FixFormat};
use crate::split_list;

const EXIT_CLEAN: u8 = 0;
const EXIT_LEFT: u8 = 1;
const EXIT_ERROR: u8 = 2;

/// One input file and what fixing it gave.
struct Outcome {
    path: PathBuf,
    name: String,
    original: String,
    fix: FileFix,
}

fn load_config(args: &FixArgs, paths: &[String]) -> Result<LoadedConfig> {
    if args.no_config {
        return Ok(LoadedConfig::default());
    }
    let file = match &args.config {
        Some(file) => Some(file.clone()),
        None => config::discover(Path::new(paths.first().map_or(".", String::as_str))),
    };
    match file {
        Some(file) => Ok(config::load(&file)?),
        None => Ok(LoadedConfig::default()),
    }
}

pub fn run(args: &FixArgs, kubernetes_version: Option<Version>) -> Result<u8> {
    let paths = if args.paths.is_empty() {
        vec![".".to_string()]
    } else {
        args.paths.clone()
    };
    if paths.iter().any(|p| p == "-") {
        anyhow::bail!(
            "palisade fix edits files: give files or directories (scan reads standard input)"
        );
    }
    if args.interactive && !std::io::stdin().is_terminal() {
        anyhow::bail!("--interactive asks on a terminal; use --diff to review non-interactively");
    }
    let loaded = load_config(args, &paths)?;
    let flags = Overrides {
        pss_level: args.pss_level,
        kubernetes_version,
        select: split_list(&args.select),
        ignore: split_list(&args.ignore),
        // The bundled default roles are no file's to fix, and judging them on every edit
        // would be most of the work.
        no_bootstrap: true,
        ..Overrides::default()
    };
    let (mut pipeline, _) = palisade_engine::build_pipeline(&loaded, &flags)?;
    pipeline.code_frames = false;
    let options = FixOptions {
        unsafe_fixes: args.unsafe_fixes,
    };
    if args.cluster {
        if !args.paths.is_empty() {
            anyhow::bail!("--cluster reads the cluster; it takes no paths");
        }
        let cluster = crate::cluster_cmd::connect(&args.connection)?;
        let read = palisade_cluster::ReadOptions {
            namespaces: split_list(&args.namespaces),
            page_size: args.connection.chunk_size,
            ..palisade_cluster::ReadOptions::default()
        };
        let mut objects = Vec::new();
        let errors = crate::cluster_cmd::read_objects(&cluster, &read, true, &mut |page| {
            objects.extend(page)
        });
        let out = args.output_dir.as_deref().unwrap_or(Path::new("."));
        let done = fix_objects(
            &pipeline,
            objects,
            options,
            &format!("cluster {}", cluster.context),
        );
        return finish(args, done, errors, Some(out));
    }
    let (inputs, mut errors) = palisade_load::discover(&paths);
    let (charts, files): (Vec<PathBuf>, Vec<PathBuf>) = inputs
        .into_iter()
        .filter_map(|input| match input {
            Input::File(path) => Some(path),
            Input::Stdin => None,
        })
        .partition(|path| chart_of(path).is_some());
    // A chart's templates are not manifests: what they render is fixed in the templates or
    // the values, by the chart's owner.
    let mut chart_dirs: Vec<PathBuf> = charts.iter().filter_map(|p| chart_of(p)).collect();
    // The walk names the charts it did not enter: for fix, a note, not an error.
    errors.retain(|e| {
        let chart = e.message.starts_with("a Helm chart");
        if chart {
            chart_dirs.push(PathBuf::from(&e.file));
        }
        !chart
    });
    chart_dirs.sort();
    chart_dirs.dedup();
    type FileOutcome = std::result::Result<Outcome, Vec<Outcome>>;
    let outcomes: Vec<std::result::Result<FileOutcome, palisade_model::LoadError>> = files
        .par_iter()
        .map(|path| {
            let name = path.to_string_lossy().into_owned();
            let bytes = std::fs::read(path).map_err(|e| palisade_model::LoadError {
                file: name.clone(),
                document: None,
                line: None,
                column: None,
                message: e.to_string(),
            })?;
            let text = palisade_load::decode(&name, &bytes)?.to_string();
            // A snapshot (`palisade snapshot`, `kubectl get -o yaml`): with --output-dir, the
            // objects with findings become manifests of their own.
            if args.output_dir.is_some() {
                if let Some(objects) = snapshot_objects(&name, &text) {
                    return Ok(Err(fix_objects(&pipeline, objects, options, &name)));
                }
            }
            let fix = fix_text(&pipeline, &name, &text, options);
            Ok(Ok(Outcome {
                path: path.clone(),
                name,
                original: text,
                fix,
            }))
        })
        .collect();
    let mut done = Vec::new();
    let mut objects = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(Ok(outcome)) => {
                errors.extend(outcome.fix.errors.iter().cloned());
                done.push(outcome);
            }
            Ok(Err(from_snapshot)) => objects.extend(from_snapshot),
            Err(e) => errors.push(e),
        }
    }
    if !objects.is_empty() {
        if let Some(out) = &args.output_dir {
            write_manifests(&objects, out)?;
        }
        done.extend(objects.into_iter().map(|mut o| {
            // Written as manifests of their own: the snapshot itself is not changed.
            o.original = o.fix.fixed.clone();
            o
        }));
    }
    finish_files(args, done, errors, chart_dirs)
}

/// Objects fixed as manifests of their own (from a cluster or a snapshot): written to `out`.
fn finish(
    args: &FixArgs,
    done: Vec<Outcome>,
    errors: Vec<palisade_model::LoadError>,
    out: Option<&Path>,
) -> Result<u8> {
    if let Some(out) = out {
        write_manifests(&done, out)?;
    }
    let written = done.iter().filter(|o| !o.fix.applied.is_empty()).count();
    let done: Vec<Outcome> = done
        .into_iter()
        .map(|mut o| {
            o.original = o.fix.fixed.clone();
            o
        })
        .collect();
    report(args, &done, &errors, written, &[])
}

/// Writes the fixed manifest of every object that had a fix applied, below `out`.
fn write_manifests(objects: &[Outcome], out: &Path) -> Result<()> {
    for object in objects.iter().filter(|o| !o.fix.applied.is_empty()) {
        let target = out.join(&object.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&target, &object.fix.fixed)
            .with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
}

fn finish_files(
    args: &FixArgs,
    done: Vec<Outcome>,
    errors: Vec<palisade_model::LoadError>,
    chart_dirs: Vec<PathBuf>,
) -> Result<u8> {
    let mut stdout = std::io::stdout().lock();
    let mut written = 0usize;
    for outcome in &done {
        if !outcome.fix.changed(&outcome.original) {
            continue;
        }
        let diff = unified_diff(&outcome.name, &outcome.original, &outcome.fix.fixed);
        if args.diff {
            if args.format == FixFormat::Text {
                stdout.write_all(diff.as_bytes())?;
            }
            continue;
        }
        if args.interactive {
            eprint!("{diff}");
            eprint!("palisade fix: write {}? [y/N] ", outcome.name);
            let mut answer = String::new();
            std::io::stdin().lock().read_line(&mut answer)?;
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
                continue;
            }
        }
        let target = match &args.output_dir {
            Some(dir) => mirrored(dir, &outcome.path),
            None => outcome.path.clone(),
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&target, &outcome.fix.fixed)
            .with_context(|| format!("writing {}", target.display()))?;
        written += 1;
    }
    if args.format == FixFormat::Text {
        for chart in &chart_dirs {
            eprintln!(
                "palisade fix: {} is a Helm chart, not edited: change its templates or values (`palisade scan --render {}` points each finding at its template line)",
                chart.display(),
                chart.display()
            );
        }
    }
    drop(stdout);
    report(args, &done, &errors, written, &chart_dirs)
}

fn report(
    args: &FixArgs,
    done: &[Outcome],
    errors: &[palisade_model::LoadError],
    written: usize,
    chart_dirs: &[PathBuf],
) -> Result<u8> {
    let mut stdout = std::io::stdout().lock();
    let applied: usize = done.iter().map(|o| o.fix.applied.len()).sum();
    let left: usize = done.iter().map(|o| o.fix.left.len()).sum();
    match args.format {
        FixFormat::Json => {
            let mut report = json_report(done, errors, args.diff, written);
            report["charts_not_edited"] = json!(chart_dirs
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>());
            serde_json::to_writer_pretty(&mut stdout, &report)?;
            writeln!(stdout)?;
        }
        FixFormat::Text => {
            for error in errors {
                eprintln!("palisade: error: {error}");
            }
            write_summary(done, args, written, applied, left)?;
        }
    }
    Ok(if !errors.is_empty() {
        EXIT_ERROR
    } else if left > 0 {
        EXIT_LEFT
    } else {
        EXIT_CLEAN
    })
}

/// The objects of `text` when it is a snapshot of a cluster (a `List` whose items carry the
/// server's `metadata.uid`), as JSON manifests without the server's fields; `None` otherwise.
fn snapshot_objects(name: &str, text: &str) -> Option<Vec<serde_json::Value>> {
    let mut objects = Vec::new();
    let mut from_server = false;
    palisade_load::load_text(&std::sync::Arc::from(name), text, &mut |loaded| {
        if let palisade_load::Loaded::Object(object) = loaded {
            let listed = object.origin.as_ref().is_some_and(|o| o.item.is_some());
            let uid = object.metadata().and_then(|m| m.get("uid")).is_some();
            from_server |= listed && uid;
            objects.push(palisade_load::json::to_json(&object.root));
        }
    });
    from_server.then_some(objects)
}

/// Removes what the server writes into embedded objects: `creationTimestamp: null` in every
/// template's metadata, and the `status` of claim templates.
fn drop_template_timestamps(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.contains_key("metadata") && map.contains_key("spec") {
                map.remove("status");
            }
            if let Some(metadata) = map.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                if metadata
                    .get("creationTimestamp")
                    .is_some_and(|t| t.is_null())
                {
                    metadata.remove("creationTimestamp");
                }
            }
            for child in map.values_mut() {
                drop_template_timestamps(child);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_template_timestamps),
        _ => {}
    }
}

/// What the server adds to an object, which a manifest for `kubectl apply` must not carry.
fn as_manifest(mut object: serde_json::Value) -> serde_json::Value {
    drop_template_timestamps(&mut object);
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(metadata) = map.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            for field in [
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "managedFields",
                "selfLink",
                "ownerReferences",
            ] {
                metadata.remove(field);
            }
            if let Some(annotations) = metadata
                .get_mut("annotations")
                .and_then(|a| a.as_object_mut())
            {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
                annotations.remove("deployment.kubernetes.io/revision");
                if annotations.is_empty() {
                    metadata.remove("annotations");
                }
            }
        }
    }
    object
}

/// Fixes every object (but Secrets, which are never written) as a manifest of its own.
fn fix_objects(
    pipeline: &palisade_engine::Pipeline,
    objects: Vec<serde_json::Value>,
    options: FixOptions,
    source: &str,
) -> Vec<Outcome> {
    objects
        .into_par_iter()
        .filter(|o| o["kind"] != "Secret")
        .map(|object| {
            let object = as_manifest(object);
            let kind = object["kind"]
                .as_str()
                .unwrap_or("object")
                .to_ascii_lowercase();
            let name = object["metadata"]["name"].as_str().unwrap_or("unnamed");
            let namespace = object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("_cluster");
            let path = PathBuf::from(safe_segment(namespace)).join(format!(
                "{}-{}.yaml",
                safe_segment(&kind),
                safe_segment(name)
            ));
            let text = palisade_load::emit::yaml_document(&object);
            let shown = format!("{source}: {}", path.display());
            let fix = fix_text(pipeline, &shown, &text, options);
            Outcome {
                path,
                name: shown,
                original: text,
                fix,
            }
        })
        .collect()
}

/// A name as one path segment: no separators, no `..`.
fn safe_segment(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        "_".to_string()
    } else {
        cleaned
    }
}

/// The Helm chart (a directory with a `Chart.yaml`) that `path` belongs to, if any.
fn chart_of(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|dir| dir.join("Chart.yaml").is_file())
        .map(Path::to_path_buf)
}

/// `path` below `dir`, as the input tree lays it out (relative paths kept, absolute ones
/// rooted there).
fn mirrored(dir: &Path, path: &Path) -> PathBuf {
    let relative: PathBuf = path
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect();
    dir.join(relative)
}

/// A unified diff of the fix, with every line that may hold a secret shown without its
/// value: the lines of a Secret, and values that look like credentials (by their format, by
/// their key, or under an environment variable's credential name). Context lines are the
/// input's own text, and a diff must not print what a report never would.
fn unified_diff(name: &str, before: &str, after: &str) -> String {
    use similar::ChangeTag;
    let hidden_before = sensitive_lines(before);
    let hidden_after = sensitive_lines(after);
    let diff = similar::TextDiff::from_lines(before, after);
    let mut out = format!("--- a/{name}\n+++ b/{name}\n");
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let (sign, hidden) = match change.tag() {
                ChangeTag::Delete => ('-', change.old_index().map(|i| hidden_before[i])),
                ChangeTag::Insert => ('+', change.new_index().map(|i| hidden_after[i])),
                ChangeTag::Equal => (' ', change.old_index().map(|i| hidden_before[i])),
            };
            let line = change.value().trim_end_matches(['\n', '\r']);
            out.push(sign);
            if hidden.unwrap_or(true) {
                out.push_str(&without_value(line));
            } else {
                out.push_str(&palisade_model::printable(line));
            }
            out.push('\n');
        }
    }
    out
}

/// `key: <hidden>` for a `key: value` line, else the line's indentation and `<hidden>`.
fn without_value(line: &str) -> String {
    match line.split_once(':') {
        Some((key, _)) if !key.trim().is_empty() && !key.contains(['"', '\'']) => {
            format!("{}: <hidden>", palisade_model::printable(key))
        }
        _ => format!("{}<hidden>", &line[..line.len() - line.trim_start().len()]),
    }
}

/// For each line of `text`, whether its value must not be printed.
fn sensitive_lines(text: &str) -> Vec<bool> {
    use palisade_analysis::credentials::{is_credential_name, suspect};
    let lines: Vec<&str> = text.lines().collect();
    let mut hidden = vec![false; lines.len() + 1];
    // Every line of a Secret's document.
    let mut first = 0usize;
    for (_, chunk) in palisade_load::split_documents(text) {
        let count = chunk.lines().count();
        let secret = chunk.lines().any(|l| {
            let l = l.trim();
            l == "kind: Secret"
                || l.starts_with("kind: Secret ")
                || l.contains("\"kind\": \"Secret\"")
        });
        if secret {
            for flag in hidden.iter_mut().skip(first).take(count) {
                *flag = true;
            }
        }
        first += count;
    }
    let mut credential_name = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim().trim_start_matches("- ").trim();
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        let (key, value) = (
            key.trim().trim_matches('"'),
            value.trim().trim_matches(['"', '\'']),
        );
        if suspect(key, value).is_some() || (key == "value" && credential_name) {
            hidden[i] = true;
        }
        // An environment variable's value follows its name.
        if key == "name" {
            credential_name = is_credential_name(value);
        } else if key != "value" {
            credential_name = false;
        }
    }
    hidden
}

fn reason_text(reason: &Reason) -> (&'static str, String) {
    match reason {
        Reason::Decision(advice) => ("needs a decision", advice.clone()),
        Reason::Unsafe(title) => ("unsafe", format!("{title} (--unsafe applies it)")),
        Reason::NoFix => ("no fix", "the rule has no mechanical fix".to_string()),
        Reason::CannotEdit => (
            "cannot edit",
            "the text cannot take the edit as written (a block scalar, an anchor)".to_string(),
        ),
        Reason::DidNotHold(why) => ("did not hold", format!("undone: {why}")),
    }
}

fn write_summary(
    done: &[Outcome],
    args: &FixArgs,
    written: usize,
    applied: usize,
    left: usize,
) -> Result<()> {
    let mut err = std::io::stderr().lock();
    for outcome in done {
        for l in &outcome.fix.left {
            let place = l
                .finding
                .location
                .as_ref()
                .map_or(outcome.name.clone(), |loc| {
                    format!("{}:{}:{}", loc.file, loc.line, loc.column)
                });
            let (kind, why) = reason_text(&l.reason);
            writeln!(
                err,
                "{place}: {} {} [{kind}] {}\n  = {why}",
                l.finding.rule.code,
                l.finding.rule.name,
                palisade_model::printable(&l.finding.message)
            )?;
        }
    }
    let changed = done.iter().filter(|o| o.fix.changed(&o.original)).count();
    let verb = if args.diff {
        "would change"
    } else if args.output_dir.is_some() {
        "wrote fixed copies of"
    } else {
        "changed"
    };
    let files = if args.diff { changed } else { written };
    writeln!(
        err,
        "palisade fix: {applied} finding(s) fixed; {verb} {files} file(s); {left} finding(s) left"
    )?;
    let unsafe_left = done
        .iter()
        .flat_map(|o| &o.fix.left)
        .filter(|l| matches!(l.reason, Reason::Unsafe(_)))
        .count();
    if unsafe_left > 0 {
        writeln!(err, "palisade fix: {unsafe_left} more with --unsafe")?;
    }
    Ok(())
}

fn json_report(
    done: &[Outcome],
    errors: &[palisade_model::LoadError],
    diff: bool,
    written: usize,
) -> serde_json::Value {
    let edits: Vec<serde_json::Value> = done
        .iter()
        .flat_map(|o| {
            o.fix.applied.iter().map(move |a| {
                json!({
                    "file": o.name,
                    "rule": a.rule.code,
                    "name": a.rule.name,
                    "object": a.object.as_ref(),
                    "path": a.path.as_str(),
                    "fix": a.title,
                    "safety": a.safety.as_str(),
                    "lines": {"start": a.lines.0, "end": a.lines.1},
                })
            })
        })
        .collect();
    let left: Vec<serde_json::Value> = done
        .iter()
        .flat_map(|o| {
            o.fix.left.iter().map(move |l| {
                let (kind, why) = reason_text(&l.reason);
                json!({
                    "file": o.name,
                    "rule": l.finding.rule.code,
                    "name": l.finding.rule.name,
                    "object": l.finding.object.as_ref(),
                    "path": l.finding.path.as_str(),
                    "line": l.finding.location.as_ref().map(|loc| loc.line),
                    "message": l.finding.message.as_ref(),
                    "reason": kind,
                    "detail": why,
                })
            })
        })
        .collect();
    let changed: Vec<&str> = done
        .iter()
        .filter(|o| o.fix.changed(&o.original))
        .map(|o| o.name.as_str())
        .collect();
    json!({
        "schema_version": 1,
        "tool": {"name": "palisade", "version": env!("CARGO_PKG_VERSION")},
        "edits": edits,
        "left": left,
        "files_changed": changed,
        "written": !diff && written > 0,
        "errors": errors,
        "summary": {"fixed": edits.len(), "left": left.len(), "files": changed.len()},
    })
}
