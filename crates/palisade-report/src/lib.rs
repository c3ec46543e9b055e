//! Reports: one module per output format over a [`Report`].

mod json;
mod text;

use palisade_model::{Finding, LoadError, Severity};
use serde::Serialize;

pub use json::{render_json, write_json};
pub use text::{render_text, TextOptions};

/// Everything a scan produced.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    pub summary: Summary,
}

/// Counts over the whole scan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub objects: usize,
    /// Documents that are not Kubernetes objects (values files, workflows), skipped.
    pub skipped: usize,
    pub errors: usize,
    pub findings: SeverityCounts,
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
        for finding in findings.iter().filter(|f| f.suppressed.is_none()) {
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
    use palisade_model::{FieldPath, Finding, LoadError, Location, ObjectRef, Severity};

    use crate::{Report, SeverityCounts, Summary};

    /// One realistic report used by every format's snapshot.
    pub fn report() -> Report {
        let web = std::sync::Arc::new(ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
        });
        let findings = vec![
            Finding {
                rule: "PAL-PSS-002",
                name: "pss-privileged",
                severity: Severity::Critical,
                category: "pod-security",
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
                controls: &["PSS:baseline:privileged", "CIS-5.2.2"],
                related: Vec::new(),
                suppressed: None,
                snippet: Some("            privileged: true".into()),
            },
            Finding {
                rule: "PAL-PSS-015",
                name: "pss-run-as-non-root",
                severity: Severity::Medium,
                category: "pod-security",
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
                controls: &["PSS:restricted:runAsNonRoot"],
                related: Vec::new(),
                suppressed: None,
                snippet: Some("      - name: migrate".into()),
            },
        ];
        let errors = vec![LoadError {
            file: "deploy/broken.yaml".into(),
            document: Some(1),
            line: Some(7),
            column: Some(3),
            message: "duplicate key `image`".into(),
        }];
        let summary = Summary {
            files: 2,
            objects: 3,
            skipped: 1,
            errors: errors.len(),
            findings: SeverityCounts::count(&findings),
        };
        Report {
            findings,
            errors,
            summary,
        }
    }
}
