//! What the tests of `palisade paths` expect of the bundled attack-path example with the
//! storefront image's vulnerability report (from files, and from a live cluster).

use serde_json::Value;

/// The first path's second hop (the internet reaching the storefront's pods) names the
/// storefront image's critical, fixable minimist as the way in.
pub fn assert_the_way_in_is_named(report: &Value) {
    let reaches = report["paths"][0]["hops"][1]["explanation"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reaches.ends_with("; it runs registry.example.com/storefront/web:2.8.1, with CVE-2021-44906 in minimist 1.2.5 (critical, fixed in 1.2.6)"),
        "{reaches}"
    );
}
