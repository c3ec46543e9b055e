//! The audit-log reader on what real logs hold: rotated gzip files, directories, EventLists,
//! long-running requests logged twice, and lines that are not events, which are reported with
//! file and line while the rest is still read.

use std::io::Write;

use palisade_audit::observed::{roles_yaml, Observed};
use palisade_audit::{read_events, AuditEvent};

fn event(line: u32, verb: &str, resource: &str, namespace: &str, name: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-{line}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/{namespace}/{resource}/{name}","verb":"{verb}","user":{{"username":"system:serviceaccount:shop:web","groups":["system:serviceaccounts","system:serviceaccounts:shop","system:authenticated"]}},"sourceIPs":["10.244.1.7"],"objectRef":{{"resource":"{resource}","namespace":"{namespace}","name":"{name}","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"2026-11-30T08:00:{:02}.000000Z","annotations":{{"authorization.k8s.io/decision":"allow"}}}}"#,
        line % 60
    )
}

fn read(paths: &[String]) -> (Vec<(String, u32, String)>, Vec<String>) {
    let mut seen = Vec::new();
    let (_, errors) = read_events(paths, &mut |event: AuditEvent, at| {
        seen.push((at.file.to_string(), at.line, event.verb.clone()));
    });
    (seen, errors.iter().map(ToString::to_string).collect())
}

#[test]
fn bad_lines_are_errors_with_file_and_line_and_the_rest_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.log");
    let mut text = format!(
        "{}\n{{\"kind\":\"Event\",\"verb\":\n\n",
        event(1, "get", "configmaps", "shop", "web")
    )
    .into_bytes();
    text.extend_from_slice(b"\xff\xfe\n");
    text.extend_from_slice(format!("{}\n", event(5, "list", "pods", "shop", "")).as_bytes());
    std::fs::write(&path, text).expect("write");
    let name = path.to_string_lossy().into_owned();
    let (seen, errors) = read(std::slice::from_ref(&name));
    assert_eq!(
        seen,
        vec![
            (name.clone(), 1, "get".into()),
            (name.clone(), 5, "list".into())
        ]
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with(&format!("{name}:2")), "{errors:?}");
    assert!(errors[1].starts_with(&format!("{name}:4")) && errors[1].contains("UTF-8"));
}

#[test]
fn gzip_directories_and_stdin_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rotated = dir.path().join("audit-2026-11-29T23-59-59.000.log.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    writeln!(gz, "{}", event(1, "watch", "pods", "shop", "")).expect("gzip");
    std::fs::write(&rotated, gz.finish().expect("gzip")).expect("write");
    std::fs::write(
        dir.path().join("audit.log"),
        format!("{}\n", event(1, "create", "events", "shop", "")),
    )
    .expect("write");
    let (seen, errors) = read(&[dir.path().to_string_lossy().into_owned()]);
    assert!(errors.is_empty(), "{errors:?}");
    let verbs: Vec<&str> = seen.iter().map(|(_, _, v)| v.as_str()).collect();
    // Sorted by name: the rotated file first.
    assert_eq!(verbs, ["watch", "create"]);
    let (_, errors) = read(&[dir
        .path()
        .join("missing.log")
        .to_string_lossy()
        .into_owned()]);
    assert!(errors[0].contains("no such file"), "{errors:?}");
}

#[test]
fn long_running_requests_count_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started =
        event(1, "watch", "pods", "shop", "").replace("ResponseComplete", "ResponseStarted");
    let received =
        event(2, "get", "pods", "shop", "web").replace("ResponseComplete", "RequestReceived");
    let text = format!(
        "{started}\n{received}\n{}\n",
        event(1, "watch", "pods", "shop", "")
    );
    let path = dir.path().join("audit.log");
    std::fs::write(&path, text).expect("write");
    let (seen, _) = read(&[path.to_string_lossy().into_owned()]);
    assert_eq!(seen.len(), 1, "{seen:?}");
}

#[test]
fn event_lists_are_read_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.json");
    let list = format!(
        "{{\n  \"kind\": \"EventList\",\n  \"apiVersion\": \"audit.k8s.io/v1\",\n  \"items\": [\n{},\n{}\n  ]\n}}\n",
        event(1, "get", "configmaps", "shop", "web"),
        event(2, "delete", "pods", "shop", "web-0")
    );
    std::fs::write(&path, list).expect("write");
    let (seen, errors) = read(&[path.to_string_lossy().into_owned()]);
    assert!(errors.is_empty(), "{errors:?}");
    let verbs: Vec<&str> = seen.iter().map(|(_, _, v)| v.as_str()).collect();
    assert_eq!(verbs, ["get", "delete"]);
}

#[test]
fn roles_merge_verbs_per_resource_and_split_by_scope() {
    let mut observed = Observed::new("system:serviceaccount:shop:web");
    let lines = [
        event(1, "get", "configmaps", "shop", "web-config"),
        event(2, "get", "configmaps", "shop", "web-flags"),
        event(3, "list", "pods", "shop", ""),
        event(4, "watch", "pods", "shop", ""),
        event(5, "get", "nodes", "", "worker-1"),
    ];
    for line in &lines {
        observed.observe(&AuditEvent::parse(line).expect("event"));
    }
    let mut forbidden = AuditEvent::parse(&event(6, "delete", "pods", "shop", "x")).expect("event");
    forbidden
        .annotations
        .insert("authorization.k8s.io/decision".into(), "forbid".into());
    observed.observe(&forbidden);
    let plain = roles_yaml(&observed, false, false);
    assert!(plain.contains("kind: Role\nmetadata:\n  name: palisade-observed-system-serviceaccount-shop-web\n  namespace: \"shop\""), "{plain}");
    assert!(
        plain.contains("resources: [\"pods\"]\n    verbs: [\"list\", \"watch\"]"),
        "{plain}"
    );
    assert!(plain.contains("kind: ClusterRole\n"), "{plain}");
    assert!(
        plain.contains("resources: [\"nodes\"]\n    verbs: [\"get\"]"),
        "{plain}"
    );
    assert!(
        !plain.contains("delete"),
        "forbidden requests are not granted: {plain}"
    );
    assert!(plain.contains("  - kind: ServiceAccount\n    name: \"web\"\n    namespace: \"shop\""));
    let named = roles_yaml(&observed, true, false);
    assert!(
        named.contains("resources: [\"configmaps\"]\n    verbs: [\"get\"]\n    resourceNames: [\"web-config\", \"web-flags\"]"),
        "{named}"
    );
    assert!(!named.contains("resourceNames: [\"\"]"));
}

#[test]
fn only_audit_events_are_judged_and_everything_else_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.log");
    let core_event = r#"{"apiVersion":"v1","kind":"Event","metadata":{"name":"web.17a","namespace":"shop"},"reason":"Pulled","verb":"get"}"#;
    let events_api =
        r#"{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"x"},"verb":"get"}"#;
    let numeric = r#"{"apiVersion":42,"kind":"Event","verb":"get"}"#;
    let text = format!(
        "{}\n{{}}\n{core_event}\n{events_api}\n{numeric}\n{}\n",
        event(1, "get", "configmaps", "shop", "web"),
        event(6, "delete", "pods", "shop", "web"),
    );
    std::fs::write(&path, text).expect("write");
    let name = path.to_string_lossy().into_owned();
    let (seen, errors) = read(std::slice::from_ref(&name));
    assert_eq!(
        seen,
        vec![
            (name.clone(), 1, "get".into()),
            (name.clone(), 6, "delete".into())
        ]
    );
    assert_eq!(errors.len(), 4, "{errors:?}");
    for (error, line) in errors.iter().zip(2..) {
        assert!(error.starts_with(&format!("{name}:{line}")), "{errors:?}");
    }
    assert!(errors[0].contains("no apiVersion and kind"), "{errors:?}");
    assert!(
        errors[1].contains("a v1 Event is not an audit event"),
        "{errors:?}"
    );
    assert!(errors[2].contains("events.k8s.io/v1 Event"), "{errors:?}");
    assert!(errors[3].contains("not an audit event ("), "{errors:?}");
}

#[test]
fn event_lists_of_other_kinds_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.json");
    let list = format!(
        "{{\n  \"kind\": \"EventList\",\n  \"apiVersion\": \"v1\",\n  \"items\": [\n{}\n  ]\n}}\n",
        event(1, "get", "pods", "shop", "a")
    );
    std::fs::write(&path, list).expect("write");
    let name = path.to_string_lossy().into_owned();
    let (seen, errors) = read(std::slice::from_ref(&name));
    assert!(seen.is_empty(), "{seen:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("not an audit EventList"), "{errors:?}");
    // A pretty-printed single event is no list, and no empty one: it is that one event.
    std::fs::write(
        &path,
        "{\n  \"kind\": \"Event\",\n  \"apiVersion\": \"audit.k8s.io/v1\"\n}\n",
    )
    .expect("write");
    let (seen, errors) = read(std::slice::from_ref(&name));
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn blank_lines_are_skipped_and_lines_still_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.log");
    // More blank lines than one read buffer holds, some of them `\r\n`.
    let mut text = "\n".repeat(300_000);
    text.push_str(&event(1, "get", "pods", "shop", "a"));
    text.push_str("\r\n\r\n\n");
    text.push_str(&event(2, "list", "pods", "shop", ""));
    text.push('\n');
    std::fs::write(&path, text).expect("write");
    let name = path.to_string_lossy().into_owned();
    let (seen, errors) = read(std::slice::from_ref(&name));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        seen,
        vec![
            (name.clone(), 300_001, "get".into()),
            (name.clone(), 300_004, "list".into())
        ]
    );
}

#[test]
fn a_pretty_printed_event_and_a_json_array_are_read_as_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let single = dir.path().join("event.json");
    let pretty: serde_json::Value =
        serde_json::from_str(&event(1, "get", "configmaps", "shop", "web")).expect("json");
    std::fs::write(
        &single,
        serde_json::to_string_pretty(&pretty).expect("pretty"),
    )
    .expect("write");
    let array = dir.path().join("events.json");
    std::fs::write(
        &array,
        format!(
            "[{},\n {}]\n",
            event(2, "list", "pods", "shop", ""),
            event(3, "delete", "pods", "shop", "web-0")
        ),
    )
    .expect("write");
    let paths = [
        single.to_string_lossy().into_owned(),
        array.to_string_lossy().into_owned(),
    ];
    let (seen, errors) = read(&paths);
    assert!(errors.is_empty(), "{errors:?}");
    let verbs: Vec<&str> = seen.iter().map(|(_, _, verb)| verb.as_str()).collect();
    assert_eq!(verbs, ["get", "list", "delete"]);
}

#[test]
fn files_of_a_log_directory_that_are_not_audit_logs_are_skipped_with_one_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("audit.log"),
        format!("{}\n", event(1, "get", "configmaps", "shop", "web")),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("kube-apiserver.log"),
        "I1130 08:00:01.000000       1 server.go:565] external host was not specified\nI1130 08:00:02.000000       1 server.go:165] Version: v1.30.2\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("README"), "Audit logs rotate daily.\n").expect("write");
    let mut verbs = Vec::new();
    let (summary, errors) = read_events(
        &[dir.path().to_string_lossy().into_owned()],
        &mut |event: AuditEvent, _| verbs.push(event.verb.clone()),
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(verbs, ["get"]);
    let skipped: Vec<String> = summary.skipped.iter().map(|w| w.file.clone()).collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped
        .iter()
        .all(|f| f.ends_with("README") || f.ends_with("kube-apiserver.log")));
    // Named on its own, a file that is no audit log is an error, as before.
    let (_, errors) = read(&[dir.path().join("README").to_string_lossy().into_owned()]);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

/// `event`, denied by the authorizer as the API server logs it.
fn denied(line: u32, verb: &str, resource: &str, namespace: &str, name: &str) -> String {
    event(line, verb, resource, namespace, name)
        .replace("/decision\":\"allow\"", "/decision\":\"forbid\"")
        .replace("\"code\":200", "\"code\":403")
}

#[test]
fn roles_allow_what_was_denied_and_leave_out_what_everyone_may_do() {
    let discovery = event(3, "get", "pods", "shop", "x")
        .replace("\"requestURI\":\"/api/v1/namespaces/shop/pods/x\"", "\"requestURI\":\"/apis/apps/v1\"")
        .replace(
            ",\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"shop\",\"name\":\"x\",\"apiVersion\":\"v1\"}",
            "",
        );
    let log = [
        event(1, "get", "configmaps", "shop", "web"),
        denied(2, "list", "secrets", "shop", ""),
        discovery,
        denied(4, "create", "rolebindings", "shop", "").replace(
            "\"apiVersion\":\"v1\"}",
            "\"apiGroup\":\"rbac.authorization.k8s.io\",\"apiVersion\":\"v1\"}",
        ),
    ]
    .join("\n");
    let mut observed = Observed::new("system:serviceaccount:shop:web");
    for line in log.lines() {
        observed.observe(&AuditEvent::parse(line).expect("an event"));
    }
    assert_eq!((observed.events, observed.denied_events), (2, 2));
    // Allowed something of its own: the denied requests are granted only when asked.
    assert!(!observed.allowed_nothing_of_its_own());
    let tight = roles_yaml(&observed, false, false);
    assert!(!tight.contains("secrets"), "{tight}");
    assert!(tight.contains("(--denied allows them too)"), "{tight}");
    let yaml = roles_yaml(&observed, false, true);
    assert!(
        yaml.contains("the 2 requests the authorizer denied"),
        "{yaml}"
    );
    assert!(
        yaml.contains("resources: [\"secrets\"]") && yaml.contains("\"list\""),
        "{yaml}"
    );
    assert!(yaml.contains("resources: [\"rolebindings\"]"), "{yaml}");
    assert!(yaml.contains("`bind` on that role"), "{yaml}");
    assert!(
        !yaml.contains("nonResourceURLs"),
        "discovery is everyone's: {yaml}"
    );
}
