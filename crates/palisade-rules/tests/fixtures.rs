//! One generic test over every rule's fixtures (`fixtures/<CODE>/{fail,pass}.*.yaml`): each rule
//! runs alone, and the lines it reports must be exactly the lines marked `# expect: <CODE>`
//! (`# expect: <CODE>, <CODE>` for two findings on one line).
//! A fixture may set the Pod Security level or version with `# pss-level:` / `# pss-version:`,
//! set the Kubernetes version with `# kubernetes-version:`, and turn the default RBAC policy off
//! with `# rbac-bootstrap: false`, and judge end-of-life dates on another day than today with
//! `# as-of: YYYY-MM-DD`. Whole-input rules see
//! every object of the fixture file. Suppressions (annotations, `# palisade:ignore` comments)
//! apply as in a scan: suppressed findings do not count as reported. `# select: RULES` runs more
//! rules next to the one under test (the suppression rules judge suppressions of other rules);
//! only the findings of the rule under test are compared. `# option: NAME=V1,V2` (or `NAME=NUMBER`)
//! configures an option of the rule under test. Audit-log rules take `.jsonl` audit logs instead,
//! whose expected events carry the annotation `"palisade.dev/expect": "<CODE>"`.
//!
//! Beyond the lines, each fail fixture has its findings written out beside it
//! (`fail.x.yaml.findings`: line:column, severity, field path and message, one per line), so a
//! finding at the right line but the wrong field, column or message fails;
//! `PALISADE_UPDATE_FIXTURES=1` writes them again (read the diff). Each fixture file is a test
//! of its own: `cargo test -p palisade-rules --test fixtures PAL-PSS-002` runs one rule's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_analysis::InventoryBuilder;
use palisade_load::{load_text, Loaded};
use palisade_rules::registry::RULES;
use palisade_rules::suppress::{FileSuppressions, SuppressionSettings, Suppressions};
use palisade_rules::{Engine, OptionKind, OptionValue, Selection, Settings, Source};

fn fixture_dir(code: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(code)
}

fn directive<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix("# ").and_then(|l| l.strip_prefix(key)))
        .map(str::trim)
}

/// (line, severity) of each finding.
type Marks = Vec<(u32, String)>;

/// What a fixture reported: the marks compared with `# expect:`, and the full listing
/// compared with the `.findings` file.
struct Reported {
    marks: Marks,
    listing: Vec<String>,
}

/// One finding as the `.findings` file lists it.
fn listed(finding: &palisade_model::Finding) -> String {
    let (line, column) = finding
        .location
        .as_ref()
        .map_or((0, 0), |l| (l.line, l.column));
    format!(
        "{line}:{column} {} {} {}",
        finding.severity.as_str(),
        finding.path.as_str(),
        finding.message.replace('\n', "\\n")
    )
}

/// Lines reported by an audit-log rule on a `.jsonl` audit log fixture, and the lines whose
/// event carries the annotation `"palisade.dev/expect": "<CODE>[, <CODE>]"`.
fn run_audit_fixture(code: &str, path: &Path) -> (Reported, Marks) {
    let settings = Settings {
        selection: Selection {
            select: vec![code.to_string()],
            ignore: Vec::new(),
        },
        ..Settings::default()
    };
    let engine = Engine::new(&settings).expect("rule exists");
    let severity = engine
        .rules()
        .next()
        .map_or("", |r| r.meta.severity.as_str());
    let mut session = engine.audit_session();
    let mut reported = Vec::new();
    let mut listing = Vec::new();
    let paths = [path.to_string_lossy().into_owned()];
    let (_, errors) = palisade_audit::read_events(&paths, &mut |event, at| {
        for finding in session.observe(&event, at) {
            let line = finding
                .location
                .as_ref()
                .expect("audit findings have a place")
                .line;
            reported.push((line, finding.severity.as_str().to_string()));
            listing.push(listed(&finding));
        }
    });
    assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let expected = text
        .lines()
        .enumerate()
        .flat_map(|(i, line)| {
            let codes = line
                .split_once("\"palisade.dev/expect\":")
                .and_then(|(_, rest)| rest.split('"').nth(1))
                .unwrap_or_default();
            let count = codes.split([',', ' ']).filter(|c| *c == code).count();
            let line = u32::try_from(i + 1).expect("small file");
            std::iter::repeat_n((line, severity.to_string()), count)
        })
        .collect();
    reported.sort_unstable();
    listing.sort_unstable();
    (
        Reported {
            marks: reported,
            listing,
        },
        expected,
    )
}

/// Lines reported by rule `code` on the fixture, and the lines the fixture expects.
fn run_fixture(code: &str, path: &Path) -> (Reported, Marks) {
    if path.extension().is_some_and(|e| e == "jsonl") {
        return run_audit_fixture(code, path);
    }
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let mut select = vec![code.to_string()];
    if let Some(more) = directive(&text, "select:") {
        select.extend(more.split(',').map(|r| r.trim().to_string()));
    }
    let mut settings = Settings {
        selection: Selection {
            select,
            ignore: Vec::new(),
        },
        ..Settings::default()
    };
    if let Some(level) = directive(&text, "pss-level:") {
        settings.pss_level = level.parse().expect("valid pss-level");
    }
    if let Some(version) = directive(&text, "pss-version:") {
        settings.pss_version = version.parse().expect("valid pss-version");
    }
    if let Some(version) = directive(&text, "kubernetes-version:") {
        settings.kubernetes_version = version.parse().expect("valid kubernetes-version");
    }
    if let Some(day) = directive(&text, "as-of:") {
        settings.as_of = Some(palisade_model::Date::parse(day).expect("# as-of: YYYY-MM-DD"));
    }
    if directive(&text, "rbac-bootstrap:") == Some("false") {
        settings.rbac_bootstrap = false;
    }
    let rule = RULES
        .iter()
        .find(|r| r.meta.info.code == code)
        .expect("rule");
    for line in text.lines().filter_map(|l| l.strip_prefix("# option: ")) {
        let (name, values) = line.split_once('=').expect("# option: NAME=V1,V2");
        let option = rule
            .meta
            .options
            .iter()
            .find(|o| o.name == name.trim())
            .unwrap_or_else(|| panic!("{code} has no option {name}"));
        let value = match option.kind {
            OptionKind::StringList => {
                OptionValue::StringList(values.split(',').map(|v| v.trim().to_string()).collect())
            }
            OptionKind::Integer => {
                OptionValue::Integer(values.trim().parse().expect("# option: NAME=NUMBER"))
            }
            OptionKind::Severity => {
                OptionValue::Severity(values.trim().parse().expect("# option: NAME=SEVERITY"))
            }
        };
        settings
            .options
            .entry(rule.meta.info.code)
            .or_default()
            .0
            .insert(option.name, value);
    }
    let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    // The fixture's own admission policies, read before its objects are judged (as a scan
    // reads them first).
    if text.contains("ValidatingAdmissionPolicy") {
        let mut policies = palisade_analysis::admission::Policies::default();
        let mut objects = Vec::new();
        load_text(&name, &text, &mut |loaded| {
            if let Loaded::Object(object) = loaded {
                objects.push(*object);
            }
        });
        objects
            .iter()
            .for_each(|o| policies.add_policy_or_binding(o));
        objects.iter().for_each(|o| policies.add_context(o));
        assert!(policies.problems.is_empty(), "{:?}", policies.problems);
        settings.admission = Some(Arc::new(policies));
    }
    let engine = Engine::new(&settings).expect("rule exists");
    let source = Source::new(&text);
    let mut findings = Vec::new();
    let mut inventory = InventoryBuilder::default();
    let suppression = SuppressionSettings::default();
    let mut file_suppressions = FileSuppressions::new(&name, &text, &suppression);
    load_text(&name, &text, &mut |loaded| match loaded {
        Loaded::Object(object) => {
            findings.extend(engine.check(&object, Some(&source)));
            inventory.add(&object);
            file_suppressions.add_object(&object, &suppression);
        }
        other => panic!(
            "{}: fixture must load cleanly, got {other:?}",
            path.display()
        ),
    });
    findings.extend(engine.check_inventory(&engine.build_inventory(inventory)));
    let mut suppressions = Suppressions::new(&suppression);
    suppressions.merge(file_suppressions.finish());
    let active: Vec<_> = engine.rules().collect();
    let about_suppressions = suppressions.apply(&mut findings, &active);
    findings.extend(about_suppressions);
    let mut reported = Vec::new();
    let mut listing = Vec::new();
    for finding in findings
        .into_iter()
        .filter(|f| f.rule.code == code && f.suppressed().is_none())
    {
        let location = finding.location.as_ref().expect("fixtures come from files");
        reported.push((location.line, finding.severity.as_str().to_string()));
        listing.push(listed(&finding));
    }
    // A line expects one finding per mention of the code after `# expect:`, at the rule's
    // severity unless written `CODE@severity`.
    let expected = text
        .lines()
        .enumerate()
        .flat_map(|(i, line)| {
            let number = u32::try_from(i + 1).expect("small file");
            line_marks(number, line, code, rule.meta.severity.as_str())
        })
        .collect();
    reported.sort_unstable();
    listing.sort_by_key(|entry| {
        let (place, rest) = entry.split_once(' ').unwrap_or((entry, ""));
        let (line, column) = place.split_once(':').unwrap_or((place, "0"));
        (
            line.parse::<u32>().unwrap_or(0),
            column.parse::<u32>().unwrap_or(0),
            rest.to_string(),
        )
    });
    (
        Reported {
            marks: reported,
            listing,
        },
        expected,
    )
}

/// The findings line number `line` (`content`) expects of `code`: (line, severity) per mention.
fn line_marks(line: u32, content: &str, code: &str, default: &str) -> Marks {
    let Some((_, codes)) = content.split_once("# expect:") else {
        return Vec::new();
    };
    codes
        .split([',', ' '])
        .filter_map(|mark| {
            let (mark_code, severity) = mark.split_once('@').unwrap_or((mark, default));
            (mark_code == code).then(|| (line, severity.to_string()))
        })
        .collect()
}

/// Whether `name` is a fixture (not the listing of one).
fn is_fixture(name: &str) -> bool {
    [".yaml", ".yml", ".json", ".jsonl"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// One fixture file: the marked lines, and for a fail fixture its `.findings` listing.
fn check_fixture(code: &str, name: &str, path: &Path) -> Result<(), String> {
    let (reported, expected) = run_fixture(code, path);
    if name.starts_with("fail.") && expected.is_empty() {
        return Err(format!(
            "{code}/{name}: a fail fixture must mark an expected line"
        ));
    }
    if name.starts_with("pass.") && !expected.is_empty() {
        return Err(format!(
            "{code}/{name}: a pass fixture must not expect findings"
        ));
    }
    if reported.marks != expected {
        return Err(format!(
            "{code}/{name}: reported lines {:?}, expected {expected:?}",
            reported.marks
        ));
    }
    if name.starts_with("pass.") {
        return Ok(());
    }
    let listing_path = path.with_file_name(format!("{name}.findings"));
    // Messages that name their file (a kubelet's flags) name it wherever the checkout is.
    let full = path.to_string_lossy();
    let listing = reported.listing.join("\n").replace(full.as_ref(), name) + "\n";
    if std::env::var_os("PALISADE_UPDATE_FIXTURES").is_some() {
        std::fs::write(&listing_path, &listing).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let written = std::fs::read_to_string(&listing_path).map_err(|e| {
        format!(
            "{}: {e}; write it with PALISADE_UPDATE_FIXTURES=1 cargo test -p palisade-rules --test fixtures {code}",
            listing_path.display()
        )
    })?;
    if written != listing {
        return Err(format!(
            "{code}/{name}: the findings differ from {}:\n--- written\n{written}--- reported\n{listing}",
            listing_path.display()
        ));
    }
    Ok(())
}

/// A rule's fixture folder: at least one fail and one pass fixture, every file named for
/// what it is, and no listing left without its fixture.
fn fixture_files(code: &str) -> Result<Vec<(String, PathBuf)>, String> {
    let dir = fixture_dir(code);
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).map_err(|_| format!("{code} has no fixtures/{code}/"))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.insert(name, path);
    }
    for name in files.keys() {
        if !(name.starts_with("fail.") || name.starts_with("pass.")) {
            return Err(format!(
                "{code}/{name}: name must start with fail. or pass."
            ));
        }
        if let Some(fixture) = name.strip_suffix(".findings") {
            if !files.contains_key(fixture) || fixture.starts_with("pass.") {
                return Err(format!("{code}/{name}: a listing without its fail fixture"));
            }
        } else if !is_fixture(name) {
            return Err(format!(
                "{code}/{name}: not a fixture (.yaml, .json, .jsonl)"
            ));
        }
    }
    let fixtures: Vec<(String, PathBuf)> = files
        .into_iter()
        .filter(|(name, _)| is_fixture(name))
        .collect();
    let fails = fixtures
        .iter()
        .filter(|(n, _)| n.starts_with("fail."))
        .count();
    let passes = fixtures
        .iter()
        .filter(|(n, _)| n.starts_with("pass."))
        .count();
    if fails == 0 || passes == 0 {
        return Err(format!(
            "{code} needs at least one fail.* and one pass.* fixture"
        ));
    }
    Ok(fixtures)
}

fn every_fixture_folder_belongs_to_a_rule() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for entry in std::fs::read_dir(root).map_err(|e| e.to_string())? {
        let name = entry
            .map_err(|e| e.to_string())?
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !RULES.iter().any(|r| r.meta.info.code == name) {
            return Err(format!("fixtures/{name} matches no rule"));
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    use libtest_mimic::{Arguments, Failed, Trial};
    let arguments = Arguments::from_args();
    let mut trials = vec![Trial::test(
        "every_fixture_folder_belongs_to_a_rule",
        || every_fixture_folder_belongs_to_a_rule().map_err(Failed::from),
    )];
    // Node file rules judge modes and owners, which manifests cannot carry: the node trees
    // under crates/palisade/tests/data/node/ pin them (tests/node_cli.rs).
    for rule in RULES
        .iter()
        .filter(|r| !matches!(r.check, palisade_rules::Check::File(_)))
    {
        let code = rule.meta.info.code;
        match fixture_files(code) {
            Err(problem) => trials.push(Trial::test(format!("{code}/layout"), move || {
                Err(Failed::from(problem))
            })),
            Ok(files) => {
                for (name, path) in files {
                    trials.push(Trial::test(format!("{code}/{name}"), move || {
                        check_fixture(code, &name, &path).map_err(Failed::from)
                    }));
                }
            }
        }
    }
    libtest_mimic::run(&arguments, trials).exit_code()
}
