//! Vulnerability reports of container images, as the scanners write them (Trivy's and Grype's
//! JSON, and CycloneDX with vulnerabilities), matched to the images the workloads run: what makes a workload an attacker's way in.
//! Nothing is downloaded; the reports are files the user gives.

use serde_json::Value;

use crate::image::ImageRef;

/// One vulnerability of one package in an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vulnerability {
    /// `CVE-2024-3094`, `GHSA-...`.
    pub id: String,
    pub package: String,
    pub installed: String,
    /// The first version that fixes it, when the scanner knows one.
    pub fixed: Option<String>,
    /// `critical`, `high`, `medium`, `low`, `unknown` (lower case, whatever the scanner wrote).
    pub severity: String,
    /// Listed as exploited in the wild (CISA KEV), when the scanner says so.
    pub known_exploited: bool,
}

impl Vulnerability {
    /// What makes an image a way in: critical with a fix available, or known to be exploited.
    pub fn is_entry(&self) -> bool {
        self.known_exploited || (self.severity == "critical" && self.fixed.is_some())
    }

    /// `CVE-2024-3094 in xz-utils 5.6.0 (critical, fixed in 5.6.1)`.
    pub fn describe(&self) -> String {
        let mut facts = vec![self.severity.clone()];
        if self.known_exploited {
            facts.push("known exploited".to_string());
        }
        if let Some(fixed) = &self.fixed {
            facts.push(format!("fixed in {fixed}"));
        }
        format!(
            "{} in {} {} ({})",
            self.id,
            self.package,
            self.installed,
            facts.join(", ")
        )
    }
}

/// The vulnerabilities a report found in one image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageReport {
    /// The image as the scanner was asked for it (`registry.example.com/shop/web:1.4.2`).
    pub image: String,
    /// The image's digests (`sha256:...`), from the report's repository digests.
    pub digests: Vec<String>,
    pub vulnerabilities: Vec<Vulnerability>,
}

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error(
        "not a vulnerability report Palisade reads (Trivy `--format json`, Grype `-o json`): {0}"
    )]
    Unknown(String),
}

/// Reads a Trivy or Grype JSON report.
pub fn parse(text: &str) -> Result<ImageReport, ReportError> {
    let report: Value =
        serde_json::from_str(text).map_err(|e| ReportError::NotJson(e.to_string()))?;
    if report.get("Results").is_some() || report.get("SchemaVersion").is_some() {
        Ok(trivy(&report))
    } else if report.get("matches").is_some() {
        Ok(grype(&report))
    } else if report.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        Ok(cyclonedx(&report))
    } else {
        Err(ReportError::Unknown(
            "neither Trivy's `Results`, Grype's `matches` nor a CycloneDX `bomFormat`".to_string(),
        ))
    }
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The digest part of `repo@sha256:...` entries.
fn digests(values: Option<&Value>) -> Vec<String> {
    values
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|d| d.rsplit_once('@').map(|(_, digest)| digest.to_string()))
        .collect()
}

/// Trivy (`trivy image --format json`): `ArtifactName`, `Metadata.RepoDigests`, and
/// `Results[].Vulnerabilities[]`.
fn trivy(report: &Value) -> ImageReport {
    let mut vulnerabilities = Vec::new();
    for result in report
        .get("Results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for v in result
            .get("Vulnerabilities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let fixed = text(v, "FixedVersion");
            vulnerabilities.push(Vulnerability {
                id: text(v, "VulnerabilityID"),
                package: text(v, "PkgName"),
                installed: text(v, "InstalledVersion"),
                fixed: (!fixed.is_empty()).then_some(fixed),
                severity: text(v, "Severity").to_ascii_lowercase(),
                known_exploited: false,
            });
        }
    }
    ImageReport {
        image: text(report, "ArtifactName"),
        digests: digests(report.pointer("/Metadata/RepoDigests")),
        vulnerabilities,
    }
}

/// Grype (`grype IMAGE -o json`): `source.target.userInput`, `source.target.repoDigests`,
/// and `matches[]` with `vulnerability` (id, severity, fix, knownExploited) and `artifact`.
fn grype(report: &Value) -> ImageReport {
    let mut vulnerabilities = Vec::new();
    for m in report
        .get("matches")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let v = m.get("vulnerability").unwrap_or(&Value::Null);
        let artifact = m.get("artifact").unwrap_or(&Value::Null);
        let fixed = v
            .pointer("/fix/versions")
            .and_then(Value::as_array)
            .and_then(|versions| versions.first())
            .and_then(Value::as_str)
            .filter(|_| v.pointer("/fix/state").and_then(Value::as_str) == Some("fixed"))
            .map(str::to_string);
        let known_exploited = v
            .get("knownExploited")
            .and_then(Value::as_array)
            .is_some_and(|k| !k.is_empty());
        vulnerabilities.push(Vulnerability {
            id: text(v, "id"),
            package: text(artifact, "name"),
            installed: text(artifact, "version"),
            fixed,
            severity: text(v, "severity").to_ascii_lowercase(),
            known_exploited,
        });
    }
    ImageReport {
        image: report
            .pointer("/source/target/userInput")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        digests: digests(report.pointer("/source/target/repoDigests")),
        vulnerabilities,
    }
}

/// CycloneDX (`trivy image --format cyclonedx --scanners vuln`, `grype -o cyclonedx-json`):
/// the image is `metadata.component` (its name, and its digest from the `pkg:oci` purl or
/// Trivy's `RepoDigest` property), each `vulnerabilities[]` entry names the components it
/// `affects` by `bom-ref`. CycloneDX has no field for the fixing version: it is read from an
/// `affects[].versions[]` entry marked `unaffected`, else from a `recommendation` that says
/// "... version X" (as Trivy writes it).
fn cyclonedx(report: &Value) -> ImageReport {
    let image = report
        .pointer("/metadata/component")
        .unwrap_or(&Value::Null);
    let mut digests: Vec<String> = image
        .get("properties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| text(p, "name").ends_with("RepoDigest"))
        .filter_map(|p| {
            text(p, "value")
                .rsplit_once('@')
                .map(|(_, d)| d.to_string())
        })
        .collect();
    if let Some(digest) = text(image, "purl")
        .split_once('@')
        .map(|(_, rest)| rest.split('?').next().unwrap_or(rest).replace("%3A", ":"))
        .filter(|d| d.starts_with("sha256:") && !digests.contains(d))
    {
        digests.push(digest);
    }
    let components: std::collections::HashMap<String, (String, String)> = report
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| (text(c, "bom-ref"), (text(c, "name"), text(c, "version"))))
        .collect();
    let mut vulnerabilities = Vec::new();
    for v in report
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        // The worst rating any source gives.
        const ORDER: &[&str] = &[
            "unknown", "none", "info", "low", "medium", "high", "critical",
        ];
        let severity = v
            .get("ratings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| text(r, "severity").to_ascii_lowercase())
            .max_by_key(|s| ORDER.iter().position(|o| o == s).unwrap_or(0))
            .unwrap_or_else(|| "unknown".to_string());
        let recommended = text(v, "recommendation")
            .rsplit_once("version ")
            .map(|(_, version)| version.trim().trim_end_matches('.').to_string())
            .filter(|version| !version.is_empty());
        for affected in v
            .get("affects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (package, installed) = components
                .get(&text(affected, "ref"))
                .cloned()
                .unwrap_or_default();
            let versions = affected
                .get("versions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let unaffected = versions
                .iter()
                .find(|version| text(version, "status") == "unaffected")
                .map(|version| text(version, "version"));
            vulnerabilities.push(Vulnerability {
                id: text(v, "id"),
                package,
                installed,
                fixed: unaffected.or_else(|| recommended.clone()),
                severity: severity.clone(),
                known_exploited: false,
            });
        }
    }
    ImageReport {
        image: text(image, "name"),
        digests,
        vulnerabilities,
    }
}

/// A trivy-operator `VulnerabilityReport` (`aquasecurity.github.io`), as the operator keeps
/// one per container in the cluster: `report.registry.server`, `report.artifact` (repository,
/// tag, digest) and `report.vulnerabilities[]`. Only the vulnerabilities that make an image a
/// way in are kept ([`Vulnerability::is_entry`]): a cluster holds thousands of these reports
/// and the rest would only take memory.
pub fn from_vulnerability_report(object: &palisade_model::Object) -> Option<ImageReport> {
    use palisade_model::Node;
    if object.group() != "aquasecurity.github.io" || object.kind() != "VulnerabilityReport" {
        return None;
    }
    let report = object.root.get("report")?;
    let field = |keys: &[&str]| report.at(keys).and_then(Node::as_str).unwrap_or_default();
    let repository = field(&["artifact", "repository"]);
    if repository.is_empty() {
        return None;
    }
    // trivy-operator names Docker Hub by its index host.
    let server = match field(&["registry", "server"]) {
        "index.docker.io" => "docker.io",
        other => other,
    };
    let mut image = if server.is_empty() {
        repository.to_string()
    } else {
        format!("{server}/{repository}")
    };
    let tag = field(&["artifact", "tag"]);
    if !tag.is_empty() {
        image.push(':');
        image.push_str(tag);
    }
    let digest = field(&["artifact", "digest"]);
    let vulnerabilities = report
        .get("vulnerabilities")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .map(|v| {
            let text = |key: &str| v.str_of(key).unwrap_or_default().to_string();
            let fixed = text("fixedVersion");
            Vulnerability {
                id: text("vulnerabilityID"),
                package: text("resource"),
                installed: text("installedVersion"),
                fixed: (!fixed.is_empty()).then_some(fixed),
                severity: text("severity").to_ascii_lowercase(),
                known_exploited: false,
            }
        })
        .filter(Vulnerability::is_entry)
        .collect();
    Some(ImageReport {
        image,
        digests: (!digest.is_empty())
            .then(|| digest.to_string())
            .into_iter()
            .collect(),
        vulnerabilities,
    })
}

/// The report that describes `image` (a container's `image:`): by digest when the reference
/// pins one, else by repository and tag as the runtime resolves them ([`ImageRef`]: `nginx`
/// is `docker.io/library/nginx:latest`).
pub fn report_for<'r>(reports: &'r [ImageReport], image: &str) -> Option<&'r ImageReport> {
    let wanted = ImageRef::parse(image)?;
    if let Some(digest) = &wanted.digest {
        return reports
            .iter()
            .find(|r| r.digests.iter().any(|d| d == digest));
    }
    let key = |r: &ImageRef| {
        (
            r.repository(),
            r.tag.clone().unwrap_or_else(|| "latest".into()),
        )
    };
    let wanted = key(&wanted);
    reports
        .iter()
        .find(|r| ImageRef::parse(&r.image).is_some_and(|i| key(&i) == wanted))
}
