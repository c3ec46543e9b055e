//! Reports: one module per output format over a [`Report`].

mod html;
mod json;
mod junit;
mod markdown;
mod sarif;
mod text;

use palisade_model::{Finding, LoadError, Severity};
use serde::Serialize;

pub use html::write_html;
pub use json::{render_json, write_json};
pub use junit::write_junit;
pub use markdown::write_markdown;
pub use sarif::{relative_uri, write_sarif, SarifOptions};
pub use text::{render_text, summary_line, write_text, TextOptions};

/// Everything a scan produced.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The rules that ran, for formats that describe them (SARIF, JUnit, HTML).
    pub rules: Vec<RuleInfo>,
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    /// Inputs read, but not as written (a duplicate key, whose last value is used as kubectl
    /// uses it): said, never failing the scan.
    pub warnings: Vec<LoadError>,
    pub summary: Summary,
    /// Files `palisade node` expected and did not find (`/etc/kubernetes/admin.conf
    /// (administrator kubeconfig)`): not checked, not failures.
    pub absent: Vec<String>,
    /// The cluster the objects were read from (`scan --cluster`); `None` for files.
    pub cluster: Option<ClusterInfo>,
}

/// Which cluster a live scan read: findings on its objects have no file location, so reports
/// name the cluster instead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClusterInfo {
    /// The kubeconfig context (`in-cluster` inside a pod).
    pub context: String,
    pub server: String,
    /// The API server's version (`v1.26.5`).
    pub version: String,
}

impl Report {
    /// Counts the findings again (unsuppressed per severity, and suppressed) after findings
    /// were dropped.
    pub fn recount(&mut self) {
        self.summary.findings = SeverityCounts::count(&self.findings);
        self.summary.suppressed = self
            .findings
            .iter()
            .filter(|f| f.suppressed().is_some())
            .count();
    }
}

/// What a report says about a rule.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    /// After config overrides.
    pub severity: Severity,
    pub category: &'static str,
    pub controls: &'static [&'static str],
    /// One sentence.
    pub summary: String,
    /// Markdown.
    pub docs: String,
}

/// Counts over the whole scan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub objects: usize,
    /// Documents that are not Kubernetes objects (values files, workflows), skipped.
    pub skipped: usize,
    pub errors: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub warnings: usize,
    /// Unsuppressed findings per severity.
    pub findings: SeverityCounts,
    /// Findings a suppression covers (in the report, marked, not counted above).
    pub suppressed: usize,
    /// Findings left out because the baseline has them.
    #[serde(skip_serializing_if = "is_zero")]
    pub baseline: usize,
}

/// One line about a finding listed with another (same root cause): rule, severity, message
/// and where it points.
fn restated_line(restated: &palisade_model::Restated) -> String {
    let place = restated.location.as_ref().map_or(String::new(), |l| {
        format!(" ({}:{}:{})", l.file, l.line, l.column)
    });
    format!(
        "{} {} ({}): {}{place}",
        restated.rule, restated.name, restated.severity, restated.message
    )
}

/// Where Palisade's source and documentation live.
const INFORMATION_URI: &str = "https://github.com/palisade-sec/palisade";

/// A rule's entry in the rule reference (docs/rules.md).
fn rule_help_uri(code: &str) -> String {
    format!(
        "{INFORMATION_URI}/blob/main/docs/rules.md#{}",
        code.to_ascii_lowercase()
    )
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Unsuppressed findings per severity, always with all five keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl SeverityCounts {
    pub fn count(findings: &[Finding]) -> Self {
        let mut counts = SeverityCounts::default();
        for finding in findings.iter().filter(|f| f.suppressed().is_none()) {
            *counts.slot(finding.severity) += 1;
        }
        counts
    }

    fn slot(&mut self, severity: Severity) -> &mut usize {
        match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        }
    }

    pub fn get(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    pub fn total(&self) -> usize {
        Severity::ALL.iter().map(|&s| self.get(s)).sum()
    }
}

#[cfg(test)]
pub(crate) mod sample {
    use palisade_model::{
        FieldPath, Finding, Fingerprint, LoadError, Location, ObjectRef, Related, RuleRef,
        Severity, Suppression,
    };

    use crate::{ClusterInfo, Report, RuleInfo, SeverityCounts, Summary};

    fn rule(
        code: &'static str,
        name: &'static str,
        severity: Severity,
        category: &'static str,
        controls: &'static [&'static str],
        summary: &str,
    ) -> RuleInfo {
        RuleInfo {
            code,
            name,
            severity,
            category,
            controls,
            summary: summary.into(),
            docs: format!("## What it does\n{summary}\n\n## Remediation\nFix `{name}`."),
        }
    }

    /// One realistic report used by every format's snapshot.
    pub fn report() -> Report {
        let web = std::sync::Arc::new(ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
        });
        let rules = vec![
            rule(
                "PAL-IMG-002",
                "image-tag-mutable",
                Severity::Medium,
                "images",
                &["NSA:supply-chain"],
                "Flags images that use a mutable tag.",
            ),
            rule(
                "PAL-PSS-002",
                "pss-privileged",
                Severity::Critical,
                "pod-security",
                &["PSS:baseline:privileged", "CIS-5.2.2"],
                "Flags privileged containers.",
            ),
            rule(
                "PAL-PSS-015",
                "pss-run-as-non-root",
                Severity::Medium,
                "pod-security",
                &["PSS:restricted:runAsNonRoot"],
                "Flags containers that may run as root.",
            ),
            rule(
                "PAL-PSS-016",
                "pss-run-as-user",
                Severity::Medium,
                "pod-security",
                &["PSS:restricted:runAsUser"],
                "Flags containers set to run as UID 0.",
            ),
            rule(
                "PAL-RBAC-002",
                "rbac-read-secrets",
                Severity::High,
                "rbac",
                &["CIS-5.1.2", "MITRE:T1552.007"],
                "Flags subjects that can read Secrets.",
            ),
        ];
        let sa = std::sync::Arc::new(ObjectRef {
            api_version: "v1".into(),
            kind: "ServiceAccount".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
        });
        let findings = vec![
            Finding {
                rule: &RuleRef {
                    code: "PAL-PSS-002",
                    name: "pss-privileged",
                    category: "pod-security",
                    controls: &["PSS:baseline:privileged", "CIS-5.2.2"],
                },
                severity: Severity::Critical,
                message: "container `app` runs privileged".into(),
                object: web.clone(),
                path: FieldPath::parse(
                    "/spec/template/spec/containers/0/securityContext/privileged",
                ),
                location: Some(Location {
                    file: "deploy/web.yaml".into(),
                    document: 0,
                    line: 21,
                    column: 13,
                }),
                fingerprint: Some(Fingerprint {
                    hash: 0x1f6e2b0c8d4a9e31,
                    occurrence: std::num::NonZeroU32::MIN,
                }),
                snippet: Some("            privileged: true".into()),
                sensitive: false,
                extra: None,
            },
            Finding {
                rule: &RuleRef {
                    code: "PAL-IMG-002",
                    name: "image-tag-mutable",
                    category: "images",
                    controls: &["NSA:supply-chain"],
                },
                severity: Severity::Medium,
                message: "container `app` image `registry.example.com/shop/web:latest` uses the tag `latest`".into(),
                object: web.clone(),
                path: FieldPath::parse("/spec/template/spec/containers/0/image"),
                location: Some(Location {
                    file: "deploy/web.yaml".into(),
                    document: 0,
                    line: 18,
                    column: 16,
                }),
                fingerprint: Some(Fingerprint {
                    hash: 0x7d0e5c2b9a4f1836,
                    occurrence: std::num::NonZeroU32::MIN,
                }),
                snippet: Some("        image: registry.example.com/shop/web:latest".into()),
                sensitive: false,
                extra: Some(Box::new(palisade_model::Extra {
                    also: Box::new([palisade_model::Restated {
                        rule: "PAL-IMG-003",
                        object: web.clone(),
                        name: "image-not-pinned-by-digest",
                        severity: Severity::Low,
                        message: "container `app` image `registry.example.com/shop/web:latest` is not pinned by digest".into(),
                        path: FieldPath::parse("/spec/template/spec/containers/0/image"),
                        location: Some(Location {
                            file: "deploy/web.yaml".into(),
                            document: 0,
                            line: 18,
                            column: 16,
                        }),
                    }]),
                    ..Default::default()
                })),
            },
            Finding {
                rule: &RuleRef {
                    code: "PAL-PSS-015",
                    name: "pss-run-as-non-root",
                    category: "pod-security",
                    controls: &["PSS:restricted:runAsNonRoot"],
                },
                severity: Severity::Medium,
                message:
                    "init container `migrate` must set runAsNonRoot: true (on itself or on the pod)"
                        .into(),
                object: web,
                path: FieldPath::parse(
                    "/spec/template/spec/initContainers/0/securityContext/runAsNonRoot",
                ),
                location: Some(Location {
                    file: "deploy/web.yaml".into(),
                    document: 0,
                    line: 14,
                    column: 9,
                }),
                fingerprint: Some(Fingerprint {
                    hash: 0xc3b9a7d2e0f14865,
                    occurrence: std::num::NonZeroU32::MIN,
                }),
                snippet: Some("      - name: migrate".into()),
                sensitive: false,
                extra: None,
            },
            Finding {
                rule: &RuleRef {
                    code: "PAL-PSS-016",
                    name: "pss-run-as-user",
                    category: "pod-security",
                    controls: &["PSS:restricted:runAsUser"],
                },
                severity: Severity::Medium,
                message: "container `app` must not set runAsUser to 0".into(),
                object: std::sync::Arc::new(ObjectRef {
                    api_version: "apps/v1".into(),
                    kind: "DaemonSet".into(),
                    namespace: Some("kube-system".into()),
                    name: "node-agent".into(),
                }),
                path: FieldPath::parse("/spec/template/spec/containers/0/securityContext/runAsUser"),
                location: Some(Location {
                    file: "deploy/agent.yaml".into(),
                    document: 0,
                    line: 30,
                    column: 13,
                }),
                fingerprint: Some(Fingerprint {
                    hash: 0x5d1c0f3a9b2e4c77,
                    occurrence: std::num::NonZeroU32::MIN,
                }),
                snippet: Some("            runAsUser: 0  # palisade:ignore PAL-PSS-016 expires=2027-03-31 reads /var/log as root".into()),
                sensitive: false,
                extra: Some(Box::new(palisade_model::Extra {
                    suppressed: Some(Box::new(Suppression {
                        kind: "comment",
                        reason: "reads /var/log as root until the log pipeline moves".into(),
                        expires: Some("2027-03-31".into()),
                        location: Some(Location {
                            file: "deploy/agent.yaml".into(),
                            document: 0,
                            line: 30,
                            column: 27,
                        }),
                    })),
                    ..Default::default()
                })),
            },
            Finding {
                rule: &RuleRef {
                    code: "PAL-RBAC-002",
                    name: "rbac-read-secrets",
                    category: "rbac",
                    controls: &["CIS-5.1.2", "MITRE:T1552.007"],
                },
                severity: Severity::High,
                message: "ServiceAccount shop/web can get secrets in namespace shop".into(),
                object: sa.clone(),
                path: FieldPath::root(),
                location: Some(Location {
                    file: "deploy/rbac.yaml".into(),
                    document: 0,
                    line: 2,
                    column: 1,
                }),
                fingerprint: Some(Fingerprint {
                    hash: 0xa07e44c2d91f3b58,
                    occurrence: std::num::NonZeroU32::MIN,
                }),
                snippet: Some("apiVersion: v1".into()),
                sensitive: false,
                extra: Some(Box::new(palisade_model::Extra {
                    related: Box::new([Related {
                        object: std::sync::Arc::new(ObjectRef {
                            api_version: "rbac.authorization.k8s.io/v1".into(),
                            kind: "Role".into(),
                            namespace: Some("shop".into()),
                            name: "web-config".into(),
                        }),
                        path: FieldPath::parse("/rules/0"),
                        location: Some(Location {
                            file: "deploy/rbac.yaml".into(),
                            document: 1,
                            line: 12,
                            column: 3,
                        }),
                        message: "Role shop/web-config rule 0 grants get on secrets".into(),
                    }]),
                    ..Default::default()
                })),
            },
        ];
        let errors = vec![LoadError {
            file: "deploy/broken.yaml".into(),
            document: Some(1),
            line: Some(7),
            column: Some(3),
            message: "invalid indentation".into(),
        }];
        let warnings = vec![LoadError {
            file: "deploy/web.yaml".into(),
            document: Some(1),
            line: Some(19),
            column: Some(9),
            message:
                "duplicate key `image` (first at line 18): the last value is used, as kubectl does"
                    .into(),
        }];
        let summary = Summary {
            files: 4,
            objects: 4,
            skipped: 1,
            errors: errors.len(),
            warnings: warnings.len(),
            findings: SeverityCounts::count(&findings),
            suppressed: 1,
            ..Summary::default()
        };
        Report {
            rules,
            findings,
            errors,
            warnings,
            summary,
            absent: Vec::new(),
            cluster: None,
        }
    }

    /// The same findings read from a live cluster: no file locations, no code frames, and a
    /// list that the user may not read.
    pub fn live_report() -> Report {
        let mut report = report();
        for finding in &mut report.findings {
            finding.location = None;
            finding.snippet = None;
            let Some(extra) = finding.extra.as_deref_mut() else {
                continue;
            };
            for restated in extra.also.iter_mut() {
                restated.location = None;
            }
            if let Some(suppression) = extra.suppressed.as_mut() {
                suppression.location = None;
            }
        }
        report.errors = vec![LoadError {
            file: "cluster prod".into(),
            document: None,
            line: None,
            column: None,
            message: "secrets: forbidden (403): secrets is forbidden: User \"nobody\" cannot list resource \"secrets\" in API group \"\" at the cluster scope".into(),
        }];
        report.summary.files = 0;
        report.summary.errors = 1;
        report.cluster = Some(ClusterInfo {
            context: "prod".into(),
            server: "https://10.0.0.1:6443".into(),
            version: "v1.26.5".into(),
        });
        report
    }
}
