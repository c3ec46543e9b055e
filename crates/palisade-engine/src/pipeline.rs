//! What a scan runs and how it judges: rules, suppressions and severities resolved once from
//! the config file and the command line (flags over config over defaults).

use std::collections::HashMap;
use std::sync::Arc;

use palisade_analysis::pss::{Level, Version};
use palisade_model::{Finding, ObjectRef, Severity};
use palisade_rules::suppress::{Date, SuppressionSettings};
use palisade_rules::{Engine, Selection, Settings};

use crate::config;

/// What a scan runs and how it judges the results: the rules, the suppressions and the
/// severity overrides, resolved once from flags and config.
pub struct Pipeline {
    pub engine: Engine,
    pub suppression: SuppressionSettings,
    /// Rule code to the severity the config gives it.
    pub severity: HashMap<&'static str, Severity>,
    /// Keep each finding's source line for code frames. Reports that show none (JSON, JUnit,
    /// Markdown) turn this off and hold a line less per finding.
    pub code_frames: bool,
}

impl Pipeline {
    /// A pipeline with the engine's rules and no suppressions or overrides beyond annotations
    /// and comments in the manifests.
    pub fn new(engine: Engine) -> Self {
        Pipeline {
            engine,
            suppression: SuppressionSettings::default(),
            severity: HashMap::new(),
            code_frames: true,
        }
    }

    /// Gives each finding the severity the config sets for its rule, if it sets one.
    pub fn apply_severities(&self, findings: &mut [Finding]) {
        if self.severity.is_empty() {
            return;
        }
        for finding in findings {
            if let Some(&severity) = self.severity.get(finding.rule.code) {
                finding.severity = severity;
            }
        }
    }

    /// The selected rules as a report lists them, at the severities this pipeline gives them.
    pub fn rule_infos(&self) -> Vec<palisade_report::RuleInfo> {
        self.engine
            .rules()
            .map(|rule| {
                let meta = &rule.meta;
                palisade_report::RuleInfo {
                    code: meta.info.code,
                    name: meta.info.name,
                    severity: self
                        .severity
                        .get(meta.info.code)
                        .copied()
                        .unwrap_or(meta.severity),
                    category: meta.info.category,
                    controls: meta.info.controls,
                    summary: meta.summary(),
                    docs: meta.docs(),
                }
            })
            .collect()
    }
}

/// What command-line flags set over the config file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub pss_level: Option<Level>,
    pub pss_version: Option<Version>,
    pub kubernetes_version: Option<Version>,
    /// Replaces the config's `select` when not empty.
    pub select: Vec<String>,
    /// Added to the config's `ignore`.
    pub ignore: Vec<String>,
    pub strict: bool,
    pub fail_on: Option<Severity>,
    pub no_bootstrap: bool,
    /// Admission policies every object is judged against ([`load_admission_policies`]).
    pub admission: Option<Arc<palisade_analysis::admission::Policies>>,
    /// Kubernetes release data read from `--k8s-data` (else the bundled data).
    pub releases: Option<Arc<palisade_analysis::releases::ReleaseData>>,
    /// `--as-of`: the day end-of-life dates are judged on.
    pub as_of: Option<Date>,
    /// `--vulnerabilities`: the images' vulnerability reports (besides trivy-operator's in
    /// the input).
    pub image_reports: Arc<Vec<palisade_analysis::vulns::ImageReport>>,
}

/// Why a pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Selection(#[from] palisade_rules::SelectionError),
    #[error("pss.version in the config: {0}")]
    PssVersion(String),
    #[error("kubernetes-version in the config: {0}")]
    KubernetesVersion(String),
}

/// The pipeline and fail threshold that a config and flags describe: flags over config over
/// defaults (restricted, the latest Pod Security version, every rule, fail on any finding).
pub fn build_pipeline(
    loaded: &config::LoadedConfig,
    flags: &Overrides,
) -> Result<(Pipeline, Severity), PipelineError> {
    let config = &loaded.config;
    let pss_level = flags.pss_level.unwrap_or(match config.pss.level {
        Some(config::PssLevelName::Baseline) => Level::Baseline,
        _ => Level::Restricted,
    });
    let kubernetes_version = match (flags.kubernetes_version, &config.kubernetes_version) {
        (Some(version), _) => Some(version),
        (None, Some(text)) => Some(
            text.parse::<Version>()
                .map_err(PipelineError::KubernetesVersion)?,
        ),
        (None, None) => None,
    };
    // The Pod Security version follows the Kubernetes version unless it is set itself.
    let pss_version = match (flags.pss_version, &config.pss.version) {
        (Some(version), _) => version,
        (None, Some(text)) => text.parse::<Version>().map_err(PipelineError::PssVersion)?,
        (None, None) => kubernetes_version.unwrap_or(Version::LATEST),
    };
    let select = if flags.select.is_empty() {
        config.select.clone()
    } else {
        flags.select.clone()
    };
    let mut ignore = config.ignore.clone();
    ignore.extend(flags.ignore.iter().cloned());
    let settings = Settings {
        pss_level,
        pss_version,
        selection: Selection { select, ignore },
        rbac_bootstrap: !flags.no_bootstrap && config.rbac.bootstrap.unwrap_or(true),
        kubernetes_version: kubernetes_version.unwrap_or(Version::LATEST),
        options: loaded.options.clone(),
        admission: flags.admission.clone(),
        custom_rules: loaded.custom_rules.clone(),
        releases: flags.releases.clone(),
        as_of: flags.as_of,
        image_reports: flags.image_reports.clone(),
    };
    let engine = Engine::new(&settings)?;
    let overrides: Vec<(String, Severity)> = config
        .severity
        .iter()
        .map(|(token, severity)| (token.clone(), Severity::from(*severity)))
        .collect();
    let config_name = loaded
        .file
        .as_ref()
        .map_or(".palisade.yaml".to_string(), |f| f.display().to_string());
    let suppression = SuppressionSettings {
        strict: flags.strict || config.strict,
        exceptions: loaded.exceptions(),
        config_object: Arc::new(ObjectRef {
            api_version: "palisade.dev/v1".into(),
            kind: "PalisadeConfig".into(),
            namespace: None,
            name: config_name,
        }),
        today: Date::today(),
    };
    let fail_on = flags
        .fail_on
        .or(config.fail_on.map(Severity::from))
        .unwrap_or(Severity::Info);
    let pipeline = Pipeline {
        engine,
        suppression,
        severity: resolve_severity_overrides(&overrides, &loaded.custom_rules),
        code_frames: true,
    };
    Ok((pipeline, fail_on))
}

/// Resolves severity overrides (`token -> severity`) to rule codes; a code or name beats a
/// prefix, category or tag.
pub fn resolve_severity_overrides(
    overrides: &[(String, Severity)],
    custom_rules: &[&'static palisade_rules::Rule],
) -> HashMap<&'static str, Severity> {
    let mut resolved = HashMap::new();
    for rule in palisade_rules::registry::RULES.iter().chain(custom_rules) {
        let meta = &rule.meta;
        let exact = overrides.iter().find(|(token, _)| {
            token.eq_ignore_ascii_case(meta.info.code) || token.eq_ignore_ascii_case(meta.info.name)
        });
        let broad = || {
            overrides
                .iter()
                .find(|(token, _)| palisade_rules::matches(meta, token))
        };
        if let Some((_, severity)) = exact.or_else(broad) {
            resolved.insert(meta.info.code, *severity);
        }
    }
    resolved
}
