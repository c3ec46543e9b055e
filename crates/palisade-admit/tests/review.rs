//! Verdicts on AdmissionReviews as the API server sends them: modes, suppressions, strict mode,
//! operations, unknown kinds, bad bodies; and random or truncated bodies never panic.

use palisade_admit::review::BadReview;
use palisade_admit::{Judge, Mode};
use palisade_engine::config::LoadedConfig;
use palisade_engine::{build_pipeline, Overrides};
use palisade_model::Severity;
use proptest::prelude::*;
use serde_json::{json, Value};

fn judge_with(flags: Overrides, config: &str) -> Judge {
    let dir = std::env::temp_dir().join(format!("palisade-admit-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(format!(
        "{:x}.yaml",
        config.len() * 31 + usize::from(flags.strict)
    ));
    let loaded = if config.is_empty() {
        LoadedConfig::default()
    } else {
        std::fs::write(&file, config).expect("config");
        palisade_engine::config::load(&file).expect("valid config")
    };
    let (pipeline, _) = build_pipeline(&loaded, &flags).expect("pipeline");
    Judge::new(pipeline, Severity::High, Mode::Enforce)
}

fn judge() -> Judge {
    judge_with(Overrides::default(), "")
}

fn review(operation: &str, namespace: &str, object: Value) -> Vec<u8> {
    let kind = object["kind"].as_str().unwrap_or("").to_string();
    let api_version = object["apiVersion"].as_str().unwrap_or("v1").to_string();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": object,
            "dryRun": false
        }
    })
    .to_string()
    .into_bytes()
}

fn privileged_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "debug", "labels": {"app": "debug"}},
        "spec": {"containers": [{
            "name": "shell", "image": "registry.example.com/tools/shell:1.36",
            "securityContext": {"privileged": true}
        }]}
    })
}

fn hardened_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "serviceAccountName": "web",
                    "automountServiceAccountToken": false,
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "web", "image": "registry.example.com/shop/web:2.4.1",
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}
                    }]
                }
            }
        }
    })
}

fn no_labels(_: &str) -> Option<Mode> {
    None
}

#[test]
fn enforce_denies_with_each_finding_and_echoes_the_uid() {
    let verdict = judge()
        .review(&review("CREATE", "shop", privileged_pod()), &no_labels)
        .expect("a review");
    assert!(!verdict.allowed);
    assert_eq!(verdict.outcome, "denied");
    assert!(verdict.denied_by.contains(&"PAL-PSS-002"));
    insta::assert_snapshot!(serde_json::to_string_pretty(&verdict.review).expect("json"));
}

#[test]
fn warn_admits_and_returns_short_warnings() {
    let verdict = judge()
        .review(&review("CREATE", "dev", privileged_pod()), &|ns| {
            (ns == "dev").then_some(Mode::Warn)
        })
        .expect("a review");
    assert!(verdict.allowed);
    let warnings = verdict.review["response"]["warnings"]
        .as_array()
        .expect("warnings");
    assert!(warnings
        .iter()
        .any(|w| w.as_str().is_some_and(|w| w.contains("PAL-PSS-002"))));
    assert!(warnings
        .iter()
        .all(|w| w.as_str().is_some_and(|w| w.chars().count() <= 256)));
    assert!(verdict.review["response"].get("status").is_none());
}

#[test]
fn audit_admits_and_records_the_findings() {
    let verdict = judge()
        .review(&review("UPDATE", "legacy", privileged_pod()), &|_| {
            Some(Mode::Audit)
        })
        .expect("a review");
    assert!(verdict.allowed);
    assert_eq!(verdict.outcome, "audited");
    let recorded = verdict.review["response"]["auditAnnotations"]["findings"]
        .as_str()
        .expect("annotation");
    let list: Value = serde_json::from_str(recorded).expect("JSON in the annotation");
    assert!(list
        .as_array()
        .expect("list")
        .iter()
        .any(|f| f["rule"] == "PAL-PSS-002"
            && f["path"] == "/spec/containers/0/securityContext/privileged"));
}

/// The judge `palisade admit` builds from a config file (admission settings included).
fn judge_from(config: &str) -> Judge {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(".palisade.yaml");
    std::fs::write(&file, config).expect("config");
    palisade_admit::server::load_judge(Some(&file), &Overrides::default(), None).expect("judge")
}

fn namespace(name: &str, mode: Option<&str>) -> Value {
    let mut labels = json!({"pod-security.kubernetes.io/enforce": "restricted"});
    if let Some(mode) = mode {
        labels["palisade.dev/mode"] = json!(mode);
    }
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn update(object: Value, old: Value) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&review("UPDATE", "", object)).expect("json");
    body["request"]["oldObject"] = old;
    body.to_string().into_bytes()
}

#[test]
fn a_namespace_cannot_lower_its_own_mode_but_the_config_can() {
    // A tenant who may create or label namespaces puts one in warn or audit: denied.
    for lower in ["warn", "audit"] {
        let verdict = judge()
            .review(
                &review("CREATE", "", namespace("sandbox", Some(lower))),
                &no_labels,
            )
            .expect("a review");
        assert!(!verdict.allowed, "{lower}: {}", verdict.review);
        let message = verdict.review["response"]["status"]["message"]
            .as_str()
            .expect("message");
        assert!(message.contains("from enforce to"), "{message}");
        assert!(message.contains("admission.namespaces"), "{message}");
    }
    // Relabelling an audited namespace up to enforce is a tenant's to do; so is keeping it.
    let raised = judge()
        .review(
            &update(
                namespace("legacy", Some("enforce")),
                namespace("legacy", Some("audit")),
            ),
            &no_labels,
        )
        .expect("a review");
    assert!(raised.allowed, "{}", raised.review);
    let lowered = judge()
        .review(
            &update(
                namespace("legacy", Some("audit")),
                namespace("legacy", Some("warn")),
            ),
            &no_labels,
        )
        .expect("a review");
    assert!(lowered.allowed, "warn mode warns rather than denies");
    assert_eq!(lowered.outcome, "warned");
    // The cluster admin's config decides, whatever the label says.
    let judge = judge_from("admission:\n  namespaces:\n    sandbox: audit\n    shop: enforce\n");
    let configured = judge
        .review(
            &review("CREATE", "", namespace("sandbox", Some("audit"))),
            &no_labels,
        )
        .expect("a review");
    assert!(configured.allowed, "{}", configured.review);
    let pod_in_sandbox = judge
        .review(&review("CREATE", "sandbox", privileged_pod()), &no_labels)
        .expect("a review");
    assert_eq!(pod_in_sandbox.outcome, "audited");
    let labelled_down = judge
        .review(&review("CREATE", "shop", privileged_pod()), &|_| {
            Some(Mode::Audit)
        })
        .expect("a review");
    assert!(
        !labelled_down.allowed,
        "the config's enforce wins over a label"
    );
}

#[test]
fn clean_objects_deletes_and_connects_are_allowed() {
    let judge = judge();
    let clean = judge
        .review(&review("CREATE", "shop", hardened_deployment()), &no_labels)
        .expect("review");
    assert!(clean.allowed, "{}", clean.review);
    assert_eq!(clean.outcome, "allowed");
    for operation in ["DELETE", "CONNECT"] {
        let verdict = judge
            .review(&review(operation, "shop", privileged_pod()), &no_labels)
            .expect("review");
        assert!(
            verdict.allowed && verdict.outcome == "skipped",
            "{operation}"
        );
    }
}

#[test]
fn dry_runs_are_judged_the_same() {
    let mut body: Value =
        serde_json::from_slice(&review("CREATE", "shop", privileged_pod())).expect("json");
    body["request"]["dryRun"] = json!(true);
    let dry = judge()
        .review(body.to_string().as_bytes(), &no_labels)
        .expect("review");
    let wet = judge()
        .review(&review("CREATE", "shop", privileged_pod()), &no_labels)
        .expect("review");
    assert_eq!(dry.review, wet.review);
}

#[test]
fn objects_cannot_exempt_themselves_unless_the_config_allows_it_in_their_namespace() {
    let mut pod = privileged_pod();
    pod["metadata"]["annotations"] = json!({
        "palisade.dev/ignore": "PAL-PSS-002,PAL-PSS-014,PAL-PSS-015,PAL-PSS-017,PAL-PSS-018,PAL-WL-001",
        "palisade.dev/ignore-reason": "node debugging tool, approved in SEC-412"
    });
    let body = review("CREATE", "ops", pod);
    let default = judge().review(&body, &no_labels).expect("review");
    assert!(
        !default.allowed,
        "at admission a workload must not exempt itself: {}",
        default.review
    );
    let allowed_in_ops = judge_from("admission:\n  object-suppressions: [ops]\n")
        .review(&body, &no_labels)
        .expect("review");
    assert!(allowed_in_ops.allowed, "{}", allowed_in_ops.review);
    let elsewhere = judge_from("admission:\n  object-suppressions: [ci]\n")
        .review(&body, &no_labels)
        .expect("review");
    assert!(!elsewhere.allowed, "only the listed namespaces");

    let config = "exceptions:\n  - rules: [PAL-PSS-002]\n    namespace: ops\n    name: debug\n    reason: approved in SEC-412\n";
    let excepted = judge_with(Overrides::default(), config)
        .review(&review("CREATE", "ops", privileged_pod()), &no_labels)
        .expect("review");
    assert!(
        !excepted.denied_by.contains(&"PAL-PSS-002"),
        "{}",
        excepted.review
    );
}

#[test]
fn text_from_the_object_reaches_no_message_unescaped() {
    let mut pod = privileged_pod();
    pod["metadata"]["name"] = json!("debug\n\u{1b}[31mfine\u{1b}[0m");
    let body = review("CREATE", "ops", pod);
    let verdict = judge().review(&body, &no_labels).expect("review");
    let message = verdict.review["response"]["status"]["message"]
        .as_str()
        .expect("a denial");
    assert!(!message.contains('\u{1b}'), "{message:?}");
    assert!(message.contains("debug\\n\\u{1b}[31mfine"), "{message:?}");
    assert_eq!(
        message.lines().next().map(|l| l.contains("fine")),
        Some(true)
    );
}

#[test]
fn kinds_without_rules_are_admitted_with_a_warning_in_warn_mode() {
    let certificate = json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "web-tls", "namespace": "shop"},
        "spec": {"secretName": "web-tls", "dnsNames": ["shop.example.com"]}
    });
    // Pod Security rules judge pod specs only; a Certificate carries none.
    let judge = judge_with(
        Overrides {
            select: vec!["pss".into()],
            ..Overrides::default()
        },
        "",
    );
    let enforce = judge
        .review(&review("CREATE", "shop", certificate.clone()), &no_labels)
        .expect("review");
    assert!(enforce.allowed && enforce.review["response"].get("warnings").is_none());
    let warn = judge
        .review(&review("CREATE", "shop", certificate), &|_| {
            Some(Mode::Warn)
        })
        .expect("review");
    assert!(warn.allowed);
    assert!(warn.review["response"]["warnings"][0]
        .as_str()
        .is_some_and(|w| w.contains("cert-manager.io/v1 Certificate")));
}

#[test]
fn every_kind_a_selected_rule_judges_is_judged() {
    let claim = json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "uploads", "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
    });
    // PAL-EXP-006 judges every kind for its namespace: a claim in `default` is reported.
    let (pipeline, _) =
        build_pipeline(&LoadedConfig::default(), &Overrides::default()).expect("pipeline");
    let judge = Judge::new(pipeline, Severity::Low, Mode::Enforce);
    let verdict = judge
        .review(&review("CREATE", "default", claim.clone()), &no_labels)
        .expect("review");
    assert!(!verdict.allowed, "{}", verdict.review);
    assert_eq!(verdict.denied_by, vec!["PAL-EXP-006"]);
    // The same claim in its team's namespace has nothing against it.
    let mut in_shop = claim;
    in_shop["metadata"]["namespace"] = json!("shop");
    let verdict = judge
        .review(&review("CREATE", "shop", in_shop), &no_labels)
        .expect("review");
    assert_eq!(verdict.outcome, "allowed", "{}", verdict.review);
    // Each object rule says which kinds it judges, and the engine runs it on those only.
    let service = palisade_rules::registry::find("PAL-EXP-002").expect("rule");
    assert!(service.judges_kind("Service") && !service.judges_kind("ConfigMap"));
}

#[test]
fn a_long_list_of_findings_stays_within_the_message_limit() {
    let containers: Vec<Value> = (0..200)
        .map(|i| json!({"name": format!("c{i}"), "image": "registry.example.com/app:1.0", "securityContext": {"privileged": true}}))
        .collect();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "many"}, "spec": {"containers": containers}});
    let verdict = judge()
        .review(&review("CREATE", "shop", pod), &no_labels)
        .expect("review");
    let message = verdict.review["response"]["status"]["message"]
        .as_str()
        .expect("message");
    assert!(message.len() <= 4096, "{}", message.len());
    assert!(message.contains("more (palisade scan shows all)"));
    assert!(
        message.contains("PAL-PSS-002"),
        "critical findings come first"
    );
}

#[test]
fn bodies_that_are_not_reviews_are_refused_with_a_reason() {
    let judge = judge();
    assert!(matches!(
        judge.review(b"{not json", &no_labels),
        Err(BadReview::NotJson(_))
    ));
    let v1beta1 = json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "1"}});
    assert!(matches!(
        judge.review(v1beta1.to_string().as_bytes(), &no_labels),
        Err(BadReview::NotAReview(_))
    ));
    let no_uid = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "CREATE"}});
    assert_eq!(
        judge
            .review(no_uid.to_string().as_bytes(), &no_labels)
            .err()
            .map(|e| e.to_string()),
        Some("not an admission.k8s.io/v1 AdmissionReview: request.uid is missing".to_string())
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = judge().review(&bytes, &no_labels);
    }

    #[test]
    fn truncated_and_mangled_reviews_never_panic(cut in 0usize..2000, flip in 0usize..2000, byte in any::<u8>()) {
        let mut body = review("CREATE", "shop", hardened_deployment());
        if flip < body.len() {
            body[flip] = byte;
        }
        body.truncate(cut.min(body.len()));
        let _ = judge().review(&body, &no_labels);
    }

    /// AdmissionReviews shaped right but filled wrong (a field missing, of another type, an
    /// unknown operation, a request that is not a mapping), judged against the contract the
    /// API server follows, not against the decoder: a request with a string uid and a known
    /// operation is answered with that uid (CREATE and UPDATE need an object to judge; other
    /// operations are let through unjudged); anything else is refused as a bad review.
    #[test]
    fn structured_but_wrong_reviews_are_answered_or_refused_by_the_contract(
        uid in field(Just(json!("705ab4f5-6393-11e8-b7cc-42010a800002"))),
        operation in field(prop_oneof![Just(json!("CREATE")), Just(json!("UPDATE")),
                                       Just(json!("DELETE")), Just(json!("CONNECT")),
                                       Just(json!("create"))]),
        object in field(Just(hardened_pod())),
        namespace in field(Just(json!("shop"))),
        kind in field(Just(json!({"group": "", "version": "v1", "kind": "Pod"}))),
        old_object in field(Just(hardened_pod())),
        dry_run in field(any::<bool>().prop_map(Value::Bool)),
        request_is_a_mapping in prop::bool::weighted(0.95),
    ) {
        let mut request = serde_json::Map::new();
        for (key, value) in [("uid", &uid), ("operation", &operation), ("object", &object),
                             ("namespace", &namespace), ("kind", &kind),
                             ("oldObject", &old_object), ("dryRun", &dry_run)] {
            if let Some(value) = value {
                request.insert(key.to_string(), value.clone());
            }
        }
        let request = if request_is_a_mapping { Value::Object(request) } else { json!([uid]) };
        let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
        let answer = judge().review(body.to_string().as_bytes(), &no_labels);

        let uid_text = request.get("uid").and_then(Value::as_str);
        let operation_text = request.get("operation").and_then(Value::as_str);
        let judged = matches!(operation_text, Some("CREATE" | "UPDATE"));
        let has_object = request.get("object").is_some_and(Value::is_object);
        let answerable = uid_text.is_some() && operation_text.is_some() && (!judged || has_object);
        match answer {
            Ok(verdict) => {
                prop_assert!(answerable, "answered {request}");
                prop_assert_eq!(verdict.review["response"]["uid"].as_str(), uid_text);
                if !judged {
                    prop_assert!(verdict.allowed);
                    prop_assert_eq!(verdict.outcome, "skipped");
                }
            }
            Err(error) => {
                prop_assert!(!answerable, "refused {request}: {error}");
                prop_assert!(matches!(error, BadReview::NotAReview(_)), "{error}");
            }
        }
    }

    #[test]
    fn objects_of_any_shape_get_a_verdict(value in json_value()) {
        let body = json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "x", "operation": "CREATE", "kind": {"kind": "Pod"}, "namespace": "a",
                        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": value}}
        });
        prop_assert!(judge().review(body.to_string().as_bytes(), &no_labels).is_ok());
    }
}

/// An AdmissionReview field: absent, as the API server sends it (`valid`), or any JSON at all.
fn field(valid: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        1 => Just(None),
        6 => valid.prop_map(Some),
        2 => json_value().prop_map(Some),
    ]
}

fn hardened_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                 "containers": [{"name": "web", "image": "registry.example.com/shop/web:1.4.2",
                                 "securityContext": {"allowPrivilegeEscalation": false,
                                                     "capabilities": {"drop": ["ALL"]}}}]}
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9/_.-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("containers".to_string()),
                    Just("securityContext".to_string()),
                    Just("privileged".to_string()),
                    Just("hostPath".to_string()),
                    Just("volumes".to_string()),
                    "[a-z]{1,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn secrets_are_judged_on_their_keys_and_their_values_never_kept() {
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "db", "namespace": "shop"},
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"token": "s3cr3t-value"}
    });
    for mode in [Mode::Audit, Mode::Warn, Mode::Enforce] {
        let verdict = Judge::new(
            build_pipeline(&LoadedConfig::default(), &Overrides::default())
                .expect("pipeline")
                .0,
            Severity::Info,
            mode,
        )
        .review(&review("CREATE", "shop", secret.clone()), &no_labels)
        .expect("review");
        let text = verdict.review.to_string();
        assert!(
            !text.contains("aHVudGVyMg") && !text.contains("s3cr3t"),
            "{text}"
        );
        assert!(text.contains("1 value(s) in data"), "{mode:?}: {text}");
    }
}

#[test]
fn the_audit_annotation_is_capped_and_says_how_many_it_left_out() {
    // Hundreds of privileged containers: far more findings than an annotation holds.
    let containers: Vec<Value> = (0..300)
        .map(|i| json!({"name": format!("c{i}"), "image": "registry.example.com/c:1", "securityContext": {"privileged": true}}))
        .collect();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "many", "namespace": "legacy"},
        "spec": {"containers": containers}});
    let verdict = judge()
        .review(&review("CREATE", "legacy", pod), &|_| Some(Mode::Audit))
        .expect("a review");
    let annotation = verdict.review["response"]["auditAnnotations"]["findings"]
        .as_str()
        .expect("an annotation");
    assert!(annotation.len() <= 8192, "{} bytes", annotation.len());
    let list: Value = serde_json::from_str(annotation).expect("JSON");
    let last = list.as_array().and_then(|l| l.last()).expect("entries");
    assert!(last["more"].as_u64().is_some_and(|n| n > 100), "{last}");
}

#[test]
fn custom_rules_deny_at_admission_like_built_in_ones() {
    let judge = judge_with(
        Overrides::default(),
        "custom-rules:\n- code: ACME-001\n  name: deployment-team-label\n  severity: high\n  description: Deployments name their team.\n  match: {kinds: [Deployment]}\n  validations:\n  - expression: \"has(object.metadata.labels) && 'team' in object.metadata.labels\"\n    message-expression: \"'Deployment ' + object.metadata.name + ' names no team'\"\n    path: /metadata\n",
    );
    let verdict = judge
        .review(&review("CREATE", "shop", hardened_deployment()), &no_labels)
        .expect("a review");
    assert!(!verdict.allowed);
    assert_eq!(verdict.denied_by, ["ACME-001"]);
    let message = verdict.review["response"]["status"]["message"]
        .as_str()
        .unwrap_or("");
    assert!(
        message.contains("ACME-001") && message.contains("Deployment web names no team"),
        "{message}"
    );
    let mut labelled = hardened_deployment();
    labelled["metadata"]["labels"] = json!({"team": "shop"});
    let verdict = judge
        .review(&review("CREATE", "shop", labelled), &no_labels)
        .expect("a review");
    assert!(verdict.allowed, "{}", verdict.review);
}

#[test]
fn kinds_only_a_custom_rule_judges_are_judged() {
    let judge = judge_with(
        Overrides::default(),
        "custom-rules:\n- code: ACME-030\n  name: claims-name-a-class\n  severity: high\n  description: Volume claims name their storage class.\n  match: {kinds: [PersistentVolumeClaim]}\n  validations:\n  - expression: \"has(object.spec.storageClassName)\"\n    message: name a storage class\n    path: /spec\n",
    );
    let claim = json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "shop"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    });
    let verdict = judge
        .review(&review("CREATE", "shop", claim.clone()), &no_labels)
        .expect("a review");
    assert!(!verdict.allowed, "{}", verdict.review);
    assert_eq!(verdict.denied_by, ["ACME-030"]);
    // Without the custom rule, Palisade has nothing to say of a claim: admitted unjudged.
    let verdict = judge_with(Overrides::default(), "")
        .review(&review("CREATE", "shop", claim), &no_labels)
        .expect("a review");
    assert!(verdict.allowed);
}
