//! The routes without TLS: status codes for bad bodies, health, and what /metrics counts.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use palisade_admit::server::{router, AppState, MAX_BODY_BYTES};
use palisade_admit::{Judge, Mode};
use palisade_engine::config::LoadedConfig;
use palisade_engine::{build_pipeline, Overrides};
use palisade_model::Severity;
use tower::ServiceExt;

fn app() -> axum::Router {
    let (pipeline, _) =
        build_pipeline(&LoadedConfig::default(), &Overrides::default()).expect("pipeline");
    router(AppState::new(Judge::new(
        pipeline,
        Severity::High,
        Mode::Enforce,
    )))
}

async fn call(app: &axum::Router, method: &str, path: &str, body: Vec<u8>) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("answer");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

const PRIVILEGED: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"shop","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"debug"},"spec":{"containers":[{"name":"shell","image":"registry.example.com/shell:1","securityContext":{"privileged":true}}]}}}}"#;

#[tokio::test]
async fn bad_bodies_get_400_or_413_and_are_counted() {
    let app = app();
    let (status, text) = call(&app, "POST", "/validate", b"{\"apiVersion\": 1".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.starts_with("palisade: the body is not JSON"), "{text}");
    let (status, text) = call(&app, "POST", "/validate", br#"{"kind":"Pod"}"#.to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        text.contains("not an admission.k8s.io/v1 AdmissionReview"),
        "{text}"
    );
    let (status, _) = call(&app, "POST", "/validate", vec![b' '; MAX_BODY_BYTES + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, answer) = call(&app, "POST", "/validate", PRIVILEGED.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(answer.contains("\"allowed\":false"), "{answer}");
    let (status, metrics) = call(&app, "GET", "/metrics", Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics.contains("palisade_admission_bad_requests_total{status=\"400\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admission_bad_requests_total{status=\"413\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admission_reviews_total{outcome=\"denied\",kind=\"Pod\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admission_denials_total{rule=\"PAL-PSS-002\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_admission_duration_seconds_count 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let app = app();
    assert_eq!(
        call(&app, "GET", "/healthz", Vec::new()).await,
        (StatusCode::OK, "ok".into())
    );
    assert_eq!(
        call(&app, "GET", "/readyz", Vec::new()).await,
        (StatusCode::OK, "ok".into())
    );
    let (status, _) = call(&app, "GET", "/validate", Vec::new()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn kinds_a_caller_makes_up_are_counted_as_other() {
    let app = app();
    for i in 0..20 {
        let kind = format!("Made{}{i}", "Up".repeat(2000));
        let body = PRIVILEGED.replace(r#""kind":"Pod"}"#, &format!(r#""kind":"{kind}"}}"#));
        let (status, _) = call(&app, "POST", "/validate", body.into_bytes()).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, metrics) = call(&app, "GET", "/metrics", Vec::new()).await;
    assert!(
        !metrics.contains("MadeUp"),
        "a caller's kind became a label"
    );
    assert!(
        metrics.contains("palisade_admission_reviews_total{outcome=\"denied\",kind=\"other\"} 20"),
        "{metrics}"
    );
    assert!(metrics.len() < 8192, "{} bytes of metrics", metrics.len());
}

#[tokio::test]
async fn a_review_past_its_deadline_is_denied_in_palisades_words_and_counted() {
    let (pipeline, _) =
        build_pipeline(&LoadedConfig::default(), &Overrides::default()).expect("pipeline");
    let app = router(AppState::with_deadline(
        Judge::new(pipeline, Severity::High, Mode::Enforce),
        std::time::Duration::ZERO,
    ));
    // A pod of many containers: judging it cannot finish in no time at all.
    let containers: Vec<String> = (0..500)
        .map(|i| format!(r#"{{"name":"c{i}","image":"registry.example.com/c:1"}}"#))
        .collect();
    let body = PRIVILEGED.replace(
        r#"[{"name":"shell","image":"registry.example.com/shell:1","securityContext":{"privileged":true}}]"#,
        &format!("[{}]", containers.join(",")),
    );
    let (status, answer) = call(&app, "POST", "/validate", body.into_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("a review");
    assert_eq!(answer["response"]["uid"], "u1");
    assert_eq!(answer["response"]["allowed"], false);
    assert!(answer["response"]["status"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("took longer than 0 s")));
    let (_, metrics) = call(&app, "GET", "/metrics", Vec::new()).await;
    assert!(
        metrics.contains("palisade_admission_reviews_total{outcome=\"timeout\",kind=\"other\"} 1"),
        "{metrics}"
    );
}
