//! `palisade policy`: custom CEL rules tested against their fixtures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use palisade_rules::{Engine, Rule, Selection, Settings};

use crate::cli::{ExportActionArg, PolicyCommand, PolicyExportArgs, PolicyTestArgs};
use crate::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use palisade_analysis::pss::Version;

pub fn run(command: &PolicyCommand, kubernetes_version: Option<Version>) -> Result<u8> {
    match command {
        PolicyCommand::Test(args) => test(args),
        PolicyCommand::Export(args) => export(args, kubernetes_version),
    }
}

fn export(args: &PolicyExportArgs, kubernetes_version: Option<Version>) -> Result<u8> {
    use palisade_engine::export::ExportAction;
    let all = crate::rules_cmd::all_rules(args.config.as_deref())?;
    let selection = Selection {
        select: crate::split_list(&args.select),
        ignore: Vec::new(),
    };
    let rules = selection.resolve(&all)?;
    let action = match args.action {
        ExportActionArg::Deny => ExportAction::Deny,
        ExportActionArg::Warn => ExportAction::Warn,
        ExportActionArg::Audit => ExportAction::Audit,
    };
    let version = kubernetes_version.unwrap_or(Version::LATEST);
    let exported = palisade_engine::export::export(&rules, version, action)?;
    let mut text = String::from(
        "# ValidatingAdmissionPolicies written by `palisade policy export`: one policy and one\n# binding per rule.\n",
    );
    for note in &exported.notes {
        text.push_str(&format!("# {note}.\n"));
    }
    for document in &exported.documents {
        text.push_str("---\n");
        text.push_str(&palisade_load::emit::yaml_document(document));
    }
    crate::emit(args.output.as_deref(), &text)?;
    for note in &exported.notes {
        eprintln!("palisade policy export: note: {note}");
    }
    if !exported.skipped.is_empty() {
        eprintln!(
            "palisade policy export: {} of {} selected rules exported; not exported:",
            rules.len() - exported.skipped.len(),
            rules.len()
        );
        for (code, name, why) in &exported.skipped {
            eprintln!("  {code} {name}: {why}");
        }
    }
    Ok(EXIT_CLEAN)
}

/// (line, code) pairs, sorted: what a fixture file expects or what the rules reported.
type Marks = Vec<(u32, String)>;

/// The `# expect: CODE[, CODE]` marks of `text` for `codes`.
fn expected_marks(text: &str, codes: &[&str]) -> Marks {
    let mut marks: Marks = text
        .lines()
        .enumerate()
        .flat_map(|(i, line)| {
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            line.split_once("# expect:")
                .map(|(_, marks)| marks)
                .unwrap_or("")
                .split([',', ' '])
                .map(|mark| mark.split_once('@').map_or(mark, |(code, _)| code))
                .filter(|code| codes.contains(code))
                .map(move |code| (number, code.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    marks.sort();
    marks
}

/// The YAML files under `dir`, recursively, in name order.
fn fixture_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The lines and codes `engine` reports on the objects of `text`, and the load errors.
fn reported_marks(engine: &Engine, name: &str, text: &str, codes: &[&str]) -> (Marks, Vec<String>) {
    let file: Arc<str> = Arc::from(name);
    let mut marks = Vec::new();
    let mut errors = Vec::new();
    palisade_load::load_text(&file, text, &mut |loaded| match loaded {
        palisade_load::Loaded::Object(object) => {
            for finding in engine.check(&object, None) {
                if codes.contains(&finding.rule.code) {
                    let line = finding.location.map_or(0, |l| l.line);
                    marks.push((line, finding.rule.code.to_string()));
                }
            }
        }
        palisade_load::Loaded::Error(e) => errors.push(e.to_string()),
        _ => {}
    });
    marks.sort();
    (marks, errors)
}

fn test(args: &PolicyTestArgs) -> Result<u8> {
    let files = palisade_engine::config::rule_files(&args.dir).map_err(anyhow::Error::msg)?;
    if files.is_empty() {
        eprintln!(
            "palisade policy test: no rule files (*.yaml) in {}",
            args.dir.display()
        );
        return Ok(EXIT_ERROR);
    }
    let mut made: Vec<&'static Rule> = Vec::new();
    let mut failed = 0usize;
    let mut fixtures_run = 0usize;
    let mut rules_run = 0usize;
    let mut out = String::new();
    for file in &files {
        let rules = palisade_engine::config::load_rule_file(file, &made)?;
        made.extend(&rules);
        let codes: Vec<&str> = rules.iter().map(|r| r.meta.info.code).collect();
        rules_run += rules.len();
        let engine = Engine::new(&Settings {
            selection: Selection {
                select: codes.iter().map(|c| c.to_string()).collect(),
                ignore: Vec::new(),
            },
            custom_rules: rules.clone(),
            ..Settings::default()
        })?;
        let titles: Vec<String> = rules
            .iter()
            .map(|r| format!("{} {}", r.meta.info.code, r.meta.info.name))
            .collect();
        out.push_str(&format!("{}: {}\n", file.display(), titles.join(", ")));
        let dir = file.with_extension("");
        let fixtures = fixture_files(&dir);
        if fixtures.is_empty() {
            failed += 1;
            out.push_str(&format!(
                "  FAIL  no fixtures: add YAML files under {}/ (lines marked `# expect: {}`)\n",
                dir.display(),
                codes.first().copied().unwrap_or("CODE")
            ));
            continue;
        }
        for fixture in fixtures {
            fixtures_run += 1;
            let text = std::fs::read_to_string(&fixture)
                .with_context(|| format!("reading {}", fixture.display()))?;
            let name = fixture.display().to_string();
            let expected = expected_marks(&text, &codes);
            let (reported, errors) = reported_marks(&engine, &name, &text, &codes);
            let mut problems: Vec<String> = errors;
            let count = |marks: &Marks| {
                let mut counts: BTreeMap<(u32, String), usize> = BTreeMap::new();
                for mark in marks {
                    *counts.entry(mark.clone()).or_default() += 1;
                }
                counts
            };
            let (want, got) = (count(&expected), count(&reported));
            for ((line, code), n) in &want {
                let found = got.get(&(*line, code.clone())).copied().unwrap_or(0);
                if found < *n {
                    problems.push(format!("{name}:{line}: expected {code}, not reported"));
                }
            }
            for ((line, code), n) in &got {
                let wanted = want.get(&(*line, code.clone())).copied().unwrap_or(0);
                if *n > wanted {
                    problems.push(format!(
                        "{name}:{line}: {code} reported, not marked `# expect: {code}`"
                    ));
                }
            }
            if problems.is_empty() {
                out.push_str(&format!(
                    "  ok    {name} ({} finding{})\n",
                    reported.len(),
                    if reported.len() == 1 { "" } else { "s" }
                ));
            } else {
                failed += 1;
                for problem in problems {
                    out.push_str(&format!("  FAIL  {problem}\n"));
                }
            }
        }
    }
    out.push_str(&format!(
        "{rules_run} rule{}, {fixtures_run} fixture file{}: {}\n",
        if rules_run == 1 { "" } else { "s" },
        if fixtures_run == 1 { "" } else { "s" },
        if failed == 0 {
            "all pass".to_string()
        } else {
            format!("{failed} failed")
        }
    ));
    print!("{out}");
    Ok(if failed == 0 {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}
