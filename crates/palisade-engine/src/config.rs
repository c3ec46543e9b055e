//! `.palisade.yaml`: rule selection, severity overrides, exceptions and scan defaults.
//!
//! Found from the first scanned path upward (the nearest directory that has one, like ruff),
//! or given with `--config`. The file is read with Palisade's own YAML loader, so an unknown
//! key or a wrong type is reported at its line and column. The JSON Schema printed by
//! `palisade config schema` is derived from the same types.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_model::{FieldPath, Location, Severity};
use palisade_rules::suppress::{Date, Exception};
use palisade_rules::{OptionKind, OptionValue, OptionValues};
use schemars::JsonSchema;
use serde::Deserialize;

/// The names the config file may have, in the order they are looked for.
pub const CONFIG_NAMES: [&str; 2] = [".palisade.yaml", ".palisade.yml"];

/// Palisade configuration (`.palisade.yaml`). Command-line flags override it.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "Palisade configuration")]
pub struct Config {
    /// Only run these rules: codes, code prefixes, names, name prefixes, categories or
    /// framework tags (`pss`, `PSS:baseline`, `rbac`, `CIS-5.2`). Default: every rule.
    /// `--select` replaces this list.
    #[serde(default)]
    pub select: Vec<String>,
    /// Do not run these rules (same forms as `select`). `--ignore` adds to this list.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Exit with 1 when a finding of this severity or worse is reported. Default: info.
    pub fail_on: Option<SeverityName>,
    /// The Kubernetes version the manifests are for (`v1.30`): semantics that changed between
    /// versions follow it (exec through `get` before v1.31, the default Pod Security version).
    /// `--kubernetes-version` overrides it; with `--cluster`, the server's version is used.
    pub kubernetes_version: Option<String>,
    /// Pod Security Standards level and version.
    #[serde(default)]
    pub pss: PssConfig,
    /// RBAC analysis settings.
    #[serde(default)]
    pub rbac: RbacConfig,
    /// Severity overrides: rule code, name, prefix, category or tag to severity. The most
    /// specific entry wins: a code or name beats a prefix, category or tag.
    #[serde(default)]
    #[schemars(example = severity_example())]
    pub severity: BTreeMap<String, SeverityName>,
    /// Rule options: rule code or name to its options (`palisade explain RULE` lists what a
    /// rule takes).
    #[serde(default)]
    #[schemars(example = rules_example())]
    pub rules: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// Findings to accept, by rule and resource; each needs a reason. For third-party charts
    /// that cannot carry annotations or comments.
    #[serde(default)]
    pub exceptions: Vec<ExceptionConfig>,
    /// Honour only these exceptions: ignore `palisade.dev/ignore` annotations and
    /// `# palisade:ignore` comments in the manifests (same as `--strict`). At admission this
    /// keeps a workload from exempting itself.
    #[serde(default)]
    pub strict: bool,
    /// The admission webhook (`palisade admit`).
    #[serde(default)]
    pub admission: AdmissionConfig,
    /// Your own rules, in CEL: run with the built-in ones everywhere (scan, admit, the
    /// operator), selected, suppressed and reported like them.
    #[serde(default)]
    pub custom_rules: Vec<CustomRuleConfig>,
    /// A directory of rule files (`*.yaml`: one rule, or a list of rules, each), relative to
    /// this file: the platform team's policy repository. `palisade policy test DIR` runs the
    /// fixtures beside them.
    pub custom_rules_dir: Option<String>,
}

/// A custom rule: what it matches and the CEL validations every matched object must pass,
/// with the inputs a ValidatingAdmissionPolicy sees (`object`, `request`, `variables`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CustomRuleConfig {
    /// A code of your own (`ACME-001`): capitals and digits in dash-separated parts; `PAL-`
    /// codes are Palisade's.
    #[schemars(regex(pattern = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"))]
    pub code: String,
    /// A kebab-case name (`deployment-team-label`), unique among all rules.
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub name: String,
    pub severity: SeverityName,
    /// Default: `custom`.
    pub category: Option<String>,
    /// What the rule checks and why (shown by `palisade explain`).
    pub description: String,
    /// Framework tags, as `--select` takes them (`ACME:ownership`).
    #[serde(default)]
    pub controls: Vec<String>,
    /// Which objects it judges; every given field must match. Default: every object.
    #[serde(default, rename = "match")]
    pub matching: CustomMatchConfig,
    /// Named expressions, read by the validations as `variables.NAME`.
    #[serde(default)]
    pub variables: Vec<CustomVariableConfig>,
    /// Each must evaluate to true; a false one is a finding with its message.
    #[schemars(length(min = 1))]
    pub validations: Vec<CustomValidationConfig>,
    /// How to repair a finding, in words.
    pub fix: Option<String>,
}

/// The objects a custom rule judges.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CustomMatchConfig {
    /// Kinds (`Deployment`); `*` or none for all.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// API groups (`apps`, `""` for the core group).
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// Namespaces; none for every namespace and cluster-scoped objects.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// A label selector (`matchLabels`, `matchExpressions`) on the object's labels.
    pub label_selector: Option<serde_json::Value>,
}

/// A named CEL expression.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CustomVariableConfig {
    pub name: String,
    pub expression: String,
}

/// A CEL expression every matched object must make true.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CustomValidationConfig {
    pub expression: String,
    /// The finding's message.
    pub message: Option<String>,
    /// A CEL expression giving the message (over `message` when it gives a non-empty string).
    pub message_expression: Option<String>,
    /// Where in the object the finding points (`/metadata/labels`); default: the object.
    pub path: Option<String>,
}

/// Admission webhook settings.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AdmissionConfig {
    /// What to do with findings at or above `fail-on` in namespaces without a
    /// `palisade.dev/mode` label: `enforce` (deny), `warn` (admit with warnings) or `audit`
    /// (admit with an audit annotation). Default: enforce.
    pub mode: Option<AdmissionMode>,
    /// The mode of each listed namespace, over its `palisade.dev/mode` label: the cluster
    /// admin's decision, which a tenant who can label a namespace cannot change. A label may
    /// raise a namespace's mode; lowering it by label is denied.
    #[serde(default)]
    pub namespaces: BTreeMap<String, AdmissionMode>,
    /// Namespaces whose objects may exempt themselves at admission with `palisade.dev/ignore`
    /// annotations (and `# palisade:ignore` comments). None by default: at admission only this
    /// file's exceptions apply, since whoever writes an object could otherwise waive its checks.
    #[serde(default)]
    pub object_suppressions: Vec<String>,
}

/// An admission mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AdmissionMode {
    Enforce,
    Warn,
    Audit,
}

fn severity_example() -> BTreeMap<String, SeverityName> {
    BTreeMap::from([
        ("PAL-NET-003".to_string(), SeverityName::Low),
        ("suppression-unused".to_string(), SeverityName::Info),
    ])
}

fn rules_example() -> BTreeMap<String, BTreeMap<String, serde_json::Value>> {
    BTreeMap::from([(
        "image-registry-not-allowed".to_string(),
        BTreeMap::from([(
            "allowed-registries".to_string(),
            serde_json::json!(["registry.example.com", "quay.io/cilium"]),
        )]),
    )])
}

/// A severity, lowest to highest: info, low, medium, high, critical.
#[derive(Clone, Copy, Debug, Deserialize, serde::Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityName> for Severity {
    fn from(name: SeverityName) -> Self {
        match name {
            SeverityName::Info => Severity::Info,
            SeverityName::Low => Severity::Low,
            SeverityName::Medium => Severity::Medium,
            SeverityName::High => Severity::High,
            SeverityName::Critical => Severity::Critical,
        }
    }
}

/// Pod Security Standards settings.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PssConfig {
    /// `baseline`, or `restricted` (which includes baseline). Default: restricted.
    pub level: Option<PssLevelName>,
    /// Kubernetes version whose standards apply: `v1.0` to `v1.37`, or `latest` (default).
    #[schemars(regex(pattern = r"^(latest|v1\.[0-9]+)$"))]
    pub version: Option<String>,
}

/// A Pod Security Standards level.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PssLevelName {
    Baseline,
    Restricted,
}

/// RBAC analysis settings.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RbacConfig {
    /// Assume Kubernetes' default roles and bindings exist (cluster-admin, edit, view,
    /// system:*). Default: true.
    pub bootstrap: Option<bool>,
}

/// An exception: the rules it suppresses and the resources it covers. Every given selector
/// must match; an exception without selectors covers every object.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExceptionConfig {
    /// Rules to suppress (codes, names, prefixes, categories or tags).
    #[schemars(length(min = 1))]
    pub rules: Vec<String>,
    /// Object kind, case-insensitive (`DaemonSet`).
    pub kind: Option<String>,
    /// Namespace glob (`kube-*`).
    pub namespace: Option<String>,
    /// Object name glob (`cilium-*`).
    pub name: Option<String>,
    /// Labels the object must carry (all of them, exact values).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Why the findings are acceptable; required.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// Last day the exception applies (`YYYY-MM-DD`); afterwards it stops suppressing and is
    /// reported.
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub expires: Option<String>,
}

/// A config file that could not be used: where and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}{place}: {message}")]
pub struct ConfigError {
    pub file: String,
    /// `:line:column`, when known.
    pub place: String,
    pub message: String,
}

/// A loaded config and where it came from.
#[derive(Debug, Default)]
pub struct LoadedConfig {
    pub config: Config,
    /// `None` when no config file was found.
    pub file: Option<PathBuf>,
    /// Where each exception is written, in order.
    pub exception_locations: Vec<Option<Location>>,
    /// The `rules` section, checked against what each rule declares.
    pub options: HashMap<&'static str, OptionValues>,
    /// The custom rules of `custom-rules` and `custom-rules-dir`, compiled.
    pub custom_rules: Vec<&'static palisade_rules::Rule>,
}

impl LoadedConfig {
    /// The exceptions, ready for the suppression pass.
    pub fn exceptions(&self) -> Vec<Exception> {
        self.config
            .exceptions
            .iter()
            .enumerate()
            .map(|(i, e)| Exception {
                rules: e.rules.clone(),
                kind: e.kind.clone(),
                namespace: e.namespace.clone(),
                name: e.name.clone(),
                labels: e.labels.clone(),
                reason: e.reason.clone(),
                expires: e.expires.clone(),
                location: self.exception_locations.get(i).cloned().flatten(),
                path: FieldPath::root().key("exceptions").index(i),
            })
            .collect()
    }
}

/// The nearest config file at or above `start` (a file or directory).
pub fn discover(start: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(start).ok()?;
    let mut dir = if absolute.is_dir() {
        Some(absolute.as_path())
    } else {
        absolute.parent()
    };
    while let Some(d) = dir {
        for name in CONFIG_NAMES {
            let candidate = d.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        dir = d.parent();
    }
    None
}

/// Reads and validates the config at `path`.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let display = path.display().to_string();
    let fail = |place: String, message: String| ConfigError {
        file: display.clone(),
        place,
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(String::new(), e.to_string()))?;
    let text =
        palisade_load::decode(&display, &bytes).map_err(|e| fail(String::new(), e.message))?;
    parse(&display, text)
}

/// Parses config text; `file` names it in errors and locations.
pub fn parse(file: &str, text: &str) -> Result<LoadedConfig, ConfigError> {
    let fail = |pos: Option<palisade_model::Pos>, message: String| ConfigError {
        file: file.to_string(),
        place: pos.map_or(String::new(), |p| format!(":{}:{}", p.line, p.column)),
        message,
    };
    let mut documents = palisade_load::yaml::parse_documents(text, 0).into_iter();
    let root = match documents.next() {
        None => return Ok(LoadedConfig::default()),
        Some(Err(e)) => return Err(fail(Some(e.pos), e.message)),
        Some(Ok(root)) => root,
    };
    if documents.next().is_some() {
        return Err(fail(None, "a config file holds one YAML document".into()));
    }
    if root.is_null() {
        return Ok(LoadedConfig::default());
    }
    let json = palisade_load::json::to_json(&root);
    let config: Config = serde_path_to_error::deserialize(&json).map_err(|e| {
        let path = pointer_of(e.path());
        let (pos, _) = path.locate(&root);
        let at = if path.as_str().is_empty() {
            String::new()
        } else {
            format!(" (at `{}`)", e.path())
        };
        fail(Some(pos), format!("{}{at}", e.inner()))
    })?;
    let file_name: Arc<str> = Arc::from(file);
    let locate = |path: &FieldPath| {
        let (pos, _) = path.locate(&root);
        Location {
            file: Arc::clone(&file_name),
            document: 1,
            line: pos.line,
            column: pos.column,
        }
    };
    let fail_at = |path: &FieldPath, message: String| fail(Some(path.locate(&root).0), message);
    let mut custom_rules = Vec::new();
    for (i, rule) in config.custom_rules.iter().enumerate() {
        let path = FieldPath::root().key("custom-rules").index(i);
        let node = root
            .get("custom-rules")
            .and_then(|rules| rules.as_seq().get(i))
            .unwrap_or(&root);
        custom_rules.push(
            custom_rule(rule, node, &path, &custom_rules)
                .map_err(|(at, message)| fail_at(&at, message))?,
        );
    }
    if let Some(dir) = &config.custom_rules_dir {
        let base = Path::new(file).parent().unwrap_or(Path::new(""));
        let dir = base.join(dir);
        for path in rule_files(&dir)
            .map_err(|message| fail_at(&FieldPath::root().key("custom-rules-dir"), message))?
        {
            custom_rules.extend(load_rule_file(&path, &custom_rules)?);
        }
    }
    for (key, _) in config.severity.iter() {
        if !palisade_rules::registry::RULES
            .iter()
            .chain(&custom_rules)
            .any(|r| palisade_rules::matches(&r.meta, key))
        {
            return Err(fail_at(
                &FieldPath::root().keys(&["severity", key]),
                format!("severity override `{key}` matches no rule"),
            ));
        }
    }
    if let Some(version) = &config.pss.version {
        if version.parse::<palisade_analysis::pss::Version>().is_err() {
            return Err(fail_at(
                &FieldPath::root().keys(&["pss", "version"]),
                format!("unknown Kubernetes version `{version}` (v1.0 to v1.37, or latest)"),
            ));
        }
    }
    for (i, exception) in config.exceptions.iter().enumerate() {
        if let Some(expires) = &exception.expires {
            if Date::parse(expires).is_none() {
                return Err(fail_at(
                    &FieldPath::root().key("exceptions").index(i).key("expires"),
                    format!("`{expires}` is not a YYYY-MM-DD date"),
                ));
            }
        }
    }
    let mut options: HashMap<&'static str, OptionValues> = HashMap::new();
    for (key, values) in &config.rules {
        let key_path = FieldPath::root().keys(&["rules", key]);
        let Some(rule) = palisade_rules::registry::built_in(key) else {
            return Err(fail_at(
                &key_path,
                format!("`{key}` is not a rule code or name"),
            ));
        };
        for (name, value) in values {
            let Some(option) = rule.meta.options.iter().find(|o| o.name == name) else {
                let takes: Vec<&str> = rule.meta.options.iter().map(|o| o.name).collect();
                let takes = if takes.is_empty() {
                    "it takes no options".to_string()
                } else {
                    format!("it takes: {}", takes.join(", "))
                };
                return Err(fail_at(
                    &key_path.key(name),
                    format!(
                        "rule {} has no option `{name}`; {takes}",
                        rule.meta.info.code
                    ),
                ));
            };
            let parsed = match option.kind {
                OptionKind::StringList => value.as_array().and_then(|items| {
                    items
                        .iter()
                        .map(|i| i.as_str().map(str::to_string))
                        .collect::<Option<Vec<String>>>()
                        .map(OptionValue::StringList)
                }),
                OptionKind::Integer => value.as_u64().map(OptionValue::Integer),
                OptionKind::Severity => value
                    .as_str()
                    .and_then(|text| text.parse::<Severity>().ok())
                    .map(OptionValue::Severity),
            };
            let Some(parsed) = parsed else {
                return Err(fail_at(
                    &key_path.key(name),
                    format!(
                        "option `{name}` of {} must be a {}",
                        rule.meta.info.code,
                        option.kind.describe()
                    ),
                ));
            };
            options
                .entry(rule.meta.info.code)
                .or_default()
                .0
                .insert(option.name, parsed);
        }
    }
    let exception_locations = (0..config.exceptions.len())
        .map(|i| Some(locate(&FieldPath::root().key("exceptions").index(i))))
        .collect();
    Ok(LoadedConfig {
        config,
        file: Some(PathBuf::from(file)),
        exception_locations,
        options,
        custom_rules,
    })
}

/// The rule files of a `custom-rules-dir`, in name order.
pub fn rule_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The custom rules of one rule file: a rule, or a list of rules.
pub fn load_rule_file(
    path: &Path,
    before: &[&'static palisade_rules::Rule],
) -> Result<Vec<&'static palisade_rules::Rule>, ConfigError> {
    let display = path.display().to_string();
    let fail = |pos: Option<palisade_model::Pos>, message: String| ConfigError {
        file: display.clone(),
        place: pos.map_or(String::new(), |p| format!(":{}:{}", p.line, p.column)),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(None, e.to_string()))?;
    let text = palisade_load::decode(&display, &bytes).map_err(|e| fail(None, e.message))?;
    let mut documents = palisade_load::yaml::parse_documents(text, 0).into_iter();
    let root = match documents.next() {
        None => return Ok(Vec::new()),
        Some(Err(e)) => return Err(fail(Some(e.pos), e.message)),
        Some(Ok(root)) => root,
    };
    let json = palisade_load::json::to_json(&root);
    let (rules, paths): (Vec<CustomRuleConfig>, Vec<FieldPath>) = if !root.is_seq() {
        let rule: CustomRuleConfig = serde_path_to_error::deserialize(&json).map_err(|e| {
            fail(
                Some(pointer_of(e.path()).locate(&root).0),
                e.inner().to_string(),
            )
        })?;
        (vec![rule], vec![FieldPath::root()])
    } else {
        let rules: Vec<CustomRuleConfig> =
            serde_path_to_error::deserialize(&json).map_err(|e| {
                fail(
                    Some(pointer_of(e.path()).locate(&root).0),
                    e.inner().to_string(),
                )
            })?;
        let paths = (0..rules.len())
            .map(|i| FieldPath::root().index(i))
            .collect();
        (rules, paths)
    };
    let mut made: Vec<&'static palisade_rules::Rule> = Vec::new();
    for (i, (rule, at)) in rules.iter().zip(paths).enumerate() {
        let known: Vec<_> = before.iter().chain(&made).copied().collect();
        let node = if root.is_seq() {
            root.as_seq().get(i).unwrap_or(&root)
        } else {
            &root
        };
        made.push(
            custom_rule(rule, node, &at, &known)
                .map_err(|(at, message)| fail(Some(at.locate(&root).0), message))?,
        );
    }
    Ok(made)
}

/// Checks and compiles one custom rule written at `path` of `root`; `before` are the custom
/// rules already made from the same config.
fn custom_rule(
    rule: &CustomRuleConfig,
    node: &palisade_model::Node,
    path: &FieldPath,
    before: &[&'static palisade_rules::Rule],
) -> Result<&'static palisade_rules::Rule, (FieldPath, String)> {
    let code_ok = rule.code.split('-').count() >= 2
        && rule.code.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        && rule.code.starts_with(|c: char| c.is_ascii_uppercase());
    if !code_ok {
        return Err((
            path.key("code"),
            format!(
                "`{}` is not a rule code: capitals and digits in dash-separated parts (ACME-001)",
                rule.code
            ),
        ));
    }
    if rule.code.starts_with("PAL-") {
        return Err((
            path.key("code"),
            format!(
                "`{}`: PAL- codes are Palisade's own; use a prefix of yours",
                rule.code
            ),
        ));
    }
    let name_ok = !rule.name.is_empty()
        && rule.name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !name_ok {
        return Err((
            path.key("name"),
            format!(
                "`{}` is not a rule name: kebab-case (deployment-team-label)",
                rule.name
            ),
        ));
    }
    // Built-in rules and those made before in this file (not those of other configs this
    // process loaded: a webhook reloading its config must not collide with itself).
    let known = || palisade_rules::registry::RULES.iter().chain(before);
    let taken = palisade_rules::registry::named(known(), &rule.code)
        .or_else(|| palisade_rules::registry::named(known(), &rule.name));
    if let Some(taken) = taken {
        return Err((
            path.clone(),
            format!(
                "custom rule {} {}: the code or name is taken by {} {}",
                rule.code, rule.name, taken.meta.info.code, taken.meta.info.name
            ),
        ));
    }
    let check =
        palisade_analysis::custom::CustomCheck::compile(node, path).map_err(|problems| {
            problems
                .into_iter()
                .next()
                .unwrap_or_else(|| (path.clone(), "the rule does not compile".into()))
        })?;
    let spec = palisade_rules::registry::CustomRuleSpec {
        code: rule.code.clone(),
        name: rule.name.clone(),
        severity: Severity::from(rule.severity),
        category: rule.category.clone().unwrap_or_else(|| "custom".into()),
        description: rule.description.clone(),
        controls: rule.controls.clone(),
        fix: rule.fix.clone(),
        expressions: rule
            .validations
            .iter()
            .map(|v| v.expression.clone())
            .collect(),
    };
    Ok(palisade_rules::registry::custom_rule(spec, check))
}

fn pointer_of(path: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment;
    path.iter()
        .fold(FieldPath::root(), |pointer, segment| match segment {
            Segment::Seq { index } => pointer.index(*index),
            Segment::Map { key } | Segment::Enum { variant: key } => pointer.key(key),
            Segment::Unknown => pointer,
        })
}

/// The JSON Schema of the config file.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Config);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
select: [pss, rbac, netpol, suppression]
ignore: [PAL-NET-003]
fail-on: high
pss:
  level: baseline
  version: v1.30
rbac:
  bootstrap: false
severity:
  PAL-RBAC-002: critical
exceptions:
  - rules: [pss-privileged, PAL-PSS-001]
    kind: DaemonSet
    namespace: kube-system
    name: cilium-*
    labels: {app.kubernetes.io/part-of: cilium}
    reason: the CNI agent programs the host network
    expires: 2027-06-30
";

    #[test]
    fn a_full_config_loads_with_exception_locations() {
        let loaded = parse(".palisade.yaml", SAMPLE).expect("valid");
        let config = &loaded.config;
        assert_eq!(config.fail_on, Some(SeverityName::High));
        assert_eq!(config.pss.level, Some(PssLevelName::Baseline));
        assert_eq!(config.rbac.bootstrap, Some(false));
        let exceptions = loaded.exceptions();
        assert_eq!(exceptions[0].name.as_deref(), Some("cilium-*"));
        assert_eq!(exceptions[0].expires.as_deref(), Some("2027-06-30"));
        assert_eq!(exceptions[0].location.as_ref().map(|l| l.line), Some(12));
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_line_and_column() {
        let err = parse(
            "c.yaml",
            "exceptions:\n  - rules: [x]\n    reason: r\n    nmae: web\n",
        )
        .expect_err("unknown key");
        assert_eq!(err.place, ":4:5");
        assert!(
            err.message.contains("unknown field `nmae`"),
            "{}",
            err.message
        );
        let err = parse("c.yaml", "pss:\n  level: strict\n").expect_err("bad level");
        assert_eq!(err.place, ":2:3");
        assert!(
            err.message.contains("unknown variant `strict`"),
            "{}",
            err.message
        );
        let err = parse("c.yaml", "strict: maybe\n").expect_err("bad bool");
        assert!(
            err.to_string()
                .starts_with("c.yaml:1:1: invalid type: string \"maybe\""),
            "{err}"
        );
        let err = parse("c.yaml", "exceptions:\n  - rules: [x]\n").expect_err("no reason");
        assert!(
            err.message.contains("missing field `reason`"),
            "{}",
            err.message
        );
        assert_eq!(err.place, ":2:5");
    }

    #[test]
    fn semantic_errors_point_at_the_value() {
        let err = parse("c.yaml", "severity:\n  pss-privilegd: low\n").expect_err("typo");
        assert_eq!(
            (err.place.as_str(), err.message.as_str()),
            (":2:3", "severity override `pss-privilegd` matches no rule")
        );
        let err = parse("c.yaml", "pss: {version: v2.0}\n").expect_err("version");
        assert!(err.message.contains("unknown Kubernetes version"));
        let err = parse(
            "c.yaml",
            "exceptions:\n- {rules: [x], reason: r, expires: 2027-02-30}\n",
        )
        .expect_err("date");
        assert!(err.message.contains("not a YYYY-MM-DD date"));
    }

    #[test]
    fn the_readme_example_is_a_valid_config() {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split_once("### Configuration (`.palisade.yaml`)")
            .map(|(_, rest)| rest)
            .expect("README has the section");
        let example = section
            .split_once("```yaml\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(yaml, _)| yaml)
            .expect("README has the example");
        let loaded = parse("README.md", example).expect("README example is valid");
        assert_eq!(loaded.config.exceptions.len(), 1);
        assert_eq!(loaded.config.fail_on, Some(SeverityName::High));
    }

    #[test]
    fn rule_options_are_checked_against_what_the_rule_declares() {
        let text = "rules:\n  image-registry-not-allowed:\n    allowed-registries: [registry.example.com]\n";
        let loaded = parse("c.yaml", text).expect("valid");
        assert_eq!(
            loaded.options["PAL-IMG-001"].strings("allowed-registries"),
            ["registry.example.com".to_string()]
        );
        let err =
            parse("c.yaml", "rules:\n  PAL-IMG-001:\n    allowed: [x]\n").expect_err("unknown");
        assert_eq!(err.place, ":3:5");
        assert!(
            err.message.contains("it takes: allowed-registries"),
            "{}",
            err.message
        );
        let err = parse(
            "c.yaml",
            "rules:\n  PAL-IMG-001:\n    allowed-registries: quay.io\n",
        )
        .expect_err("type");
        assert!(
            err.message.contains("must be a list of strings"),
            "{}",
            err.message
        );
        let err = parse("c.yaml", "rules:\n  pss-privileged: {x: 1}\n").expect_err("none");
        assert!(
            err.message.contains("it takes no options"),
            "{}",
            err.message
        );
        let err = parse("c.yaml", "rules:\n  no-such-rule: {}\n").expect_err("rule");
        assert_eq!(err.place, ":2:3");
    }

    #[test]
    fn empty_files_are_the_default_config() {
        let loaded = parse("c.yaml", "# nothing yet\n").expect("empty");
        assert!(loaded.config.select.is_empty() && loaded.config.exceptions.is_empty());
    }

    #[test]
    fn discovery_walks_up_from_the_scanned_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nested = dir.path().join("deploy/prod");
        std::fs::create_dir_all(&nested).expect("mkdir");
        std::fs::write(dir.path().join(".palisade.yaml"), "strict: true\n").expect("write");
        std::fs::write(nested.join("app.yaml"), "kind: Pod\n").expect("write");
        let found = discover(&nested.join("app.yaml")).expect("found");
        assert_eq!(
            found,
            std::path::absolute(dir.path().join(".palisade.yaml")).expect("abs")
        );
    }
}
