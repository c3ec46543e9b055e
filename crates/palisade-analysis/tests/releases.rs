//! Kubernetes version currency: versions as Kubernetes and vendors write them, OSV ranges as
//! OSV evaluates them, and the bundled data.

use palisade_analysis::releases::{Component, KubeVersion, ReleaseData};
use palisade_model::Date;

fn v(text: &str) -> KubeVersion {
    KubeVersion::parse(text).unwrap_or_else(|| panic!("{text} parses"))
}

#[test]
fn versions_as_servers_and_vendors_report_them() {
    assert_eq!(v("v1.26.5").to_string(), "1.26.5");
    assert_eq!(v("1.29.4-gke.1043002").to_string(), "1.29.4");
    assert_eq!(v("v1.30.2+k3s1").to_string(), "1.30.2");
    assert_eq!(v("v1.31.0-eks-a737599").to_string(), "1.31.0");
    assert_eq!(v("1.28").to_string(), "1.28.0");
    for nothing in [
        "v0.0.0-master+$Format:%H$",
        "stable-1",
        "latest",
        "",
        "v1",
        "1.x.3",
        "1.26.5.1",
    ] {
        assert_eq!(KubeVersion::parse(nothing), None, "{nothing}");
    }
}

/// A dataset of one minor line and one vulnerability with OSV events written out of order,
/// as the Kubernetes feed writes some of them (the newer line's events first).
const DATA: &str = r#"{
  "updated": "2024-11-18",
  "vulnerabilitiesSource": "test",
  "releases": [
    {"minor": "1.27", "endOfLife": "2024-07-16", "finalPatch": "1.27.16"},
    {"minor": "1.26", "endOfLife": "2024-02-28", "finalPatch": "1.26.15"},
    {"minor": "1.28", "endOfLife": "2024-10-22"}
  ],
  "vulnerabilities": [
    {"id": "CVE-TEST-1", "summary": "kubelet",
     "affected": [{"package": {"ecosystem": "kubernetes", "name": "k8s.io/kubelet"},
       "ranges": [{"type": "SEMVER", "events": [
         {"introduced": "1.27.0"}, {"fixed": "1.27.3"},
         {"introduced": "0"}, {"fixed": "1.26.6"}]}]}]},
    {"id": "CVE-TEST-2", "summary": "apiserver, never fixed on 1.26",
     "affected": [{"package": {"ecosystem": "kubernetes", "name": "k8s.io/apiserver"},
       "ranges": [{"type": "SEMVER", "events": [
         {"introduced": "0"}, {"fixed": "1.27.13"}]}]}]}
  ]
}"#;

#[test]
fn osv_ranges_truth_table() {
    let data = ReleaseData::parse(DATA).expect("parses");
    let fixed = |component, version: &str| {
        data.missing_fixes(component, v(version))
            .iter()
            .map(|(a, fix)| {
                format!(
                    "{} {}",
                    a.id,
                    fix.map(|f| f.to_string()).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
    };
    // Affected below the fix on each line; the fix itself and later are not.
    assert_eq!(fixed(Component::Kubelet, "1.26.5"), ["CVE-TEST-1 1.26.6"]);
    assert!(fixed(Component::Kubelet, "1.26.6").is_empty());
    assert_eq!(fixed(Component::Kubelet, "1.27.0"), ["CVE-TEST-1 1.27.3"]);
    assert!(fixed(Component::Kubelet, "1.27.3").is_empty());
    // Between the lines' ranges (1.26.6 up to 1.27.0) nothing is affected.
    assert!(fixed(Component::Kubelet, "1.26.15").is_empty());
    // Components by package: the kubelet's vulnerability is not the API server's.
    assert_eq!(
        fixed(Component::ApiServer, "1.26.15"),
        ["CVE-TEST-2 1.27.13"]
    );
    assert!(fixed(Component::Scheduler, "1.26.5").is_empty());
    assert_eq!(
        fixed(Component::ControlPlane, "1.27.12"),
        ["CVE-TEST-2 1.27.13"]
    );
}

#[test]
fn support_windows() {
    let data = ReleaseData::parse(DATA).expect("parses");
    let day = |d: &str| Date::parse(d).expect("date");
    assert_eq!(
        data.minor(v("1.27.4")).map(|m| m.end_of_life.to_string()),
        Some("2024-07-16".to_string())
    );
    assert!(
        data.minor(v("1.30.0")).is_none(),
        "newer than the data: unknown"
    );
    assert!(data.older_than_known(v("1.25.3")).is_some());
    assert!(data.older_than_known(v("1.26.0")).is_none());
    let oldest = |d| data.oldest_supported(day(d)).map(|m| m.minor);
    assert_eq!(
        oldest("2024-02-28"),
        Some(26),
        "supported through its last day"
    );
    assert_eq!(oldest("2024-02-29"), Some(27));
    assert_eq!(oldest("2025-01-01"), None);
}

#[test]
fn a_broken_dataset_says_where() {
    for (text, says) in [
        ("[]", "no `releases` list"),
        (
            r#"{"releases": [{"minor": "one", "endOfLife": "2024-01-01"}]}"#,
            "releases[0].minor",
        ),
        (
            r#"{"releases": [{"minor": "1.26", "endOfLife": "soon"}]}"#,
            "releases[0].endOfLife",
        ),
        (
            r#"{"releases": [], "vulnerabilities": [{"summary": "no id"}]}"#,
            "vulnerabilities[0]",
        ),
        ("{", "EOF"),
    ] {
        let error = ReleaseData::parse(text).expect_err(text).to_string();
        assert!(error.contains(says), "{text}: {error}");
    }
}

#[test]
fn the_bundled_data_is_whole() {
    let data = ReleaseData::bundled();
    assert!(data.minors.len() >= 19, "{}", data.minors.len());
    assert!(data.advisories.len() >= 38, "{}", data.advisories.len());
    assert_eq!(data.updated, "2024-11-18");
    // Known facts of the feed and the releases pages, as spot checks.
    let eol = |text: &str| data.minor(v(text)).map(|m| m.end_of_life.to_string());
    assert_eq!(eol("1.26.5").as_deref(), Some("2024-02-28"));
    assert_eq!(eol("1.30.0").as_deref(), Some("2025-07-15"));
    let ids = |component, text: &str| {
        data.missing_fixes(component, v(text))
            .iter()
            .map(|(a, _)| a.id.clone())
            .collect::<Vec<_>>()
    };
    assert!(ids(Component::Kubelet, "1.26.5").contains(&"CVE-2023-5528".to_string()));
    assert!(ids(Component::ApiServer, "1.26.5").contains(&"CVE-2023-2728".to_string()));
    assert!(ids(Component::ApiServer, "1.26.6")
        .iter()
        .all(|id| id != "CVE-2023-2728"));
}
