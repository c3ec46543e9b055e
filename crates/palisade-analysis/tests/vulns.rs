//! Vulnerability reports as Trivy and Grype write them, and which images they describe.

use palisade_analysis::vulns::{parse, report_for};

fn data(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vulns")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn trivy_reports_are_read_and_only_fixable_criticals_are_ways_in() {
    let report = parse(&data("trivy-storefront-web.json")).expect("a Trivy report");
    assert_eq!(report.image, "registry.example.com/storefront/web:2.8.1");
    assert_eq!(
        report.digests,
        ["sha256:4c1e0b9f2a3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"]
    );
    assert_eq!(report.vulnerabilities.len(), 3);
    let entries: Vec<String> = report
        .vulnerabilities
        .iter()
        .filter(|v| v.is_entry())
        .map(|v| v.describe())
        .collect();
    // High with a fix, and critical without one, are not; critical with a fix is.
    assert_eq!(
        entries,
        ["CVE-2021-44906 in minimist 1.2.5 (critical, fixed in 1.2.6)"]
    );
}

#[test]
fn grype_reports_are_read_with_their_known_exploited_flag() {
    let report = parse(&data("grype-payments-status.json")).expect("a Grype report");
    assert_eq!(report.image, "registry.example.com/payments/status:0.9.0");
    let xz = &report.vulnerabilities[0];
    assert!(xz.known_exploited && xz.is_entry());
    assert_eq!(
        xz.describe(),
        "CVE-2024-3094 in xz-utils 5.6.0-0.2 (critical, known exploited, fixed in 5.6.1+really5.4.5-1)"
    );
    let libc = &report.vulnerabilities[1];
    assert_eq!(libc.fixed, None);
    assert!(!libc.is_entry());
}

#[test]
fn a_report_matches_an_image_by_digest_else_by_reference() {
    let reports = vec![
        parse(&data("trivy-storefront-web.json")).expect("Trivy"),
        parse(&data("grype-payments-status.json")).expect("Grype"),
    ];
    let by_tag = report_for(&reports, "registry.example.com/storefront/web:2.8.1");
    assert_eq!(
        by_tag.map(|r| r.image.as_str()),
        Some("registry.example.com/storefront/web:2.8.1")
    );
    let by_digest = report_for(
        &reports,
        "registry.example.com/payments/status@sha256:9a2b7c1d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
    );
    assert_eq!(
        by_digest.map(|r| r.image.as_str()),
        Some("registry.example.com/payments/status:0.9.0")
    );
    // Another tag, or a digest no report names: no report.
    assert!(report_for(&reports, "registry.example.com/storefront/web:2.9.0").is_none());
    assert!(report_for(&reports, "registry.example.com/storefront/web@sha256:0000").is_none());
    // As the runtime reads names: Docker Hub's library, `latest` when no tag is given.
    let hub = vec![palisade_analysis::vulns::ImageReport {
        image: "nginx".to_string(),
        ..Default::default()
    }];
    assert!(report_for(&hub, "docker.io/library/nginx:latest").is_some());
    assert!(report_for(&hub, "index.docker.io/library/nginx").is_some());
    assert!(report_for(&hub, "nginx:1.27").is_none());
    assert!(report_for(&hub, "registry.example.com/nginx").is_none());
    assert!(parse("{\"bomFormat\": \"SPDX\"}").is_err());
    assert!(parse("not json").is_err());
}

#[test]
fn cyclonedx_boms_with_vulnerabilities_are_read_as_the_same_report() {
    let bom = parse(&data("cyclonedx-storefront-web.json")).expect("a CycloneDX BOM");
    let trivy = parse(&data("trivy-storefront-web.json")).expect("Trivy");
    assert_eq!(bom.image, trivy.image);
    assert_eq!(
        bom.digests, trivy.digests,
        "from the RepoDigest property and the purl"
    );
    let described: Vec<String> = bom.vulnerabilities.iter().map(|v| v.describe()).collect();
    assert_eq!(
        described,
        [
            "CVE-2021-44906 in minimist 1.2.5 (critical, fixed in 1.2.6)",
            "CVE-2023-45853 in zlib1g 1:1.2.13.dfsg-1 (critical)",
        ]
    );
    // The same way in as Trivy's JSON gives.
    let entries = |r: &palisade_analysis::vulns::ImageReport| -> Vec<String> {
        r.vulnerabilities
            .iter()
            .filter(|v| v.is_entry())
            .map(|v| v.id.clone())
            .collect()
    };
    assert_eq!(entries(&bom), entries(&trivy));
}

/// trivy-operator's VulnerabilityReports, as the operator keeps them in a cluster: the image
/// from the registry and artifact (Docker Hub's index host is docker.io), and only the
/// vulnerabilities that let an attacker in are kept.
#[test]
fn trivy_operator_reports_are_read_from_the_cluster_objects() {
    use palisade_analysis::vulns::from_vulnerability_report;
    let text = data("trivy-operator-storefront-web.yaml");
    let mut reports = Vec::new();
    let name: std::sync::Arc<str> = "reports.yaml".into();
    palisade_load::load_text(&name, &text, &mut |loaded| {
        if let palisade_load::Loaded::Object(object) = loaded {
            reports.extend(from_vulnerability_report(&object));
        }
    });
    assert_eq!(reports.len(), 2);
    let web = &reports[0];
    assert_eq!(web.image, "registry.example.com/storefront/web:2.8.1");
    assert_eq!(
        web.digests,
        ["sha256:4c1e0b9f2a3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"]
    );
    let kept: Vec<String> = web.vulnerabilities.iter().map(|v| v.describe()).collect();
    assert_eq!(
        kept,
        ["CVE-2021-44906 in minimist 1.2.5 (critical, fixed in 1.2.6)"]
    );
    // The same Trivy finding, from the CLI's JSON, describes the same image.
    let cli = parse(&data("trivy-storefront-web.json")).expect("a Trivy report");
    assert_eq!(cli.image, web.image);
    let redis = &reports[1];
    assert_eq!(redis.image, "docker.io/library/redis:7.0.11");
    assert!(redis.vulnerabilities.is_empty(), "a high is no way in");
    assert!(report_for(&reports, "redis:7.0.11").is_some());
    assert!(report_for(&reports, "redis:7.2").is_none());
}
