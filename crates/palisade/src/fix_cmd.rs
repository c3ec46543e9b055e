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
    let outcomes: Vec<std::result::Result<Outcome, palisade_model::LoadError>> = files
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
            let fix = fix_text(&pipeline, &name, &text, options);
            Ok(Outcome {
                path: path.clone(),
                name,
                original: text,
                fix,
            })
        })
        .collect();
    let mut done = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(outcome) => {
                errors.extend(outcome.fix.errors.iter().cloned());
                done.push(outcome);
            }
            Err(e) => errors.push(e),
        }
    }
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
    let applied: usize = done.iter().map(|o| o.fix.applied.len()).sum();
    let left: usize = done.iter().map(|o| o.fix.left.len()).sum();
    match args.format {
        FixFormat::Json => {
            let mut report = json_report(&done, &errors, args.diff, written);
            report["charts_not_edited"] = json!(chart_dirs
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>());
            serde_json::to_writer_pretty(&mut stdout, &report)?;
            writeln!(stdout)?;
        }
        FixFormat::Text => {
            for error in &errors {
                eprintln!("palisade: error: {error}");
            }
            write_summary(&done, args, written, applied, left)?;
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

fn unified_diff(name: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
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
