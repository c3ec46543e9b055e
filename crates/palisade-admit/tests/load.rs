//! The webhook under more load than it can serve and stopped under load, on loopback over TLS
//! and HTTP/2 as the API server calls it. The load generator is open loop: each review leaves
//! at its scheduled time whatever the earlier ones did, as the API server's callers do.

use std::time::{Duration, Instant};

use bytes::Bytes;

mod common;

use common::{h2_client, post_review_h2, privileged_pod_review, start_with, Endpoint, Setup};

/// Containers per reviewed Pod: judging one takes milliseconds, so a few hundred reviews a
/// second are more than two cores judge.
const CONTAINERS: usize = 150;

/// How one review went, as the client saw it.
#[derive(Debug)]
enum Answer {
    /// Judged: the rules' verdict.
    Judged,
    /// Refused at once, unjudged, because the server was too busy.
    Busy,
    /// Answered at the deadline, unjudged.
    OutOfTime,
    /// No AdmissionReview came back: the status and body, or the transport's error.
    Broken(String),
}

fn read(uid: &str, answer: Result<(u16, String), h2::Error>) -> Answer {
    match answer {
        Ok((200, body)) if body.contains(&format!("\"uid\":\"{uid}\"")) => {
            if body.contains("too busy to judge") {
                Answer::Busy
            } else if body.contains("took longer than") {
                Answer::OutOfTime
            } else {
                Answer::Judged
            }
        }
        Ok((status, body)) => Answer::Broken(format!("{status}: {body:.200}")),
        Err(e) => Answer::Broken(e.to_string()),
    }
}

/// Reviews judged per second with `workers` reviews always in flight over `connections`
/// HTTP/2 connections, for `over`: the server's capacity.
async fn capacity(server: &Endpoint, connections: usize, workers: usize, over: Duration) -> f64 {
    let mut clients = Vec::new();
    for _ in 0..connections {
        clients.push(h2_client(server).await);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let client = clients[worker % connections].clone();
        tasks.push(tokio::spawn(async move {
            let mut judged = 0u32;
            let mut n = 0;
            while started.elapsed() < over {
                let uid = format!("warm-{worker}-{n}");
                n += 1;
                let review = Bytes::from(privileged_pod_review(&uid, CONTAINERS));
                if let Answer::Judged = read(&uid, post_review_h2(&client, review).await) {
                    judged += 1;
                }
            }
            judged
        }));
    }
    let mut judged = 0u32;
    for task in tasks {
        judged += task.await.expect("worker");
    }
    f64::from(judged) / started.elapsed().as_secs_f64()
}

/// Sends reviews at `rate` per second for `over`, open loop, spread over `connections`: each
/// review's answer and its time from its scheduled start.
async fn offer(
    server: &Endpoint,
    connections: usize,
    rate: f64,
    over: Duration,
) -> Vec<(Answer, Duration)> {
    let mut clients = Vec::new();
    for _ in 0..connections {
        clients.push(h2_client(server).await);
    }
    let count = (rate * over.as_secs_f64()).ceil() as u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..count {
        let at = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(at).await;
        let client = clients[i as usize % connections].clone();
        tasks.push(tokio::spawn(async move {
            let uid = format!("load-{i}");
            let review = Bytes::from(privileged_pod_review(&uid, CONTAINERS));
            let answer = post_review_h2(&client, review).await;
            (read(&uid, answer), at.elapsed())
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("request task"));
    }
    answers
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn offered_five_times_its_capacity_it_answers_every_review_in_time_and_recovers() {
    let deadline = Duration::from_secs(1);
    let server = start_with(Setup {
        deadline,
        ..Setup::default()
    });
    let measured = capacity(&server, 4, 8, Duration::from_secs(2)).await;
    assert!(measured > 1.0, "the server judges reviews: {measured:.1}/s");
    let rate = 5.0 * measured;
    let over = Duration::from_secs(10);
    let answers = offer(&server, 4, rate, over).await;
    let count = |want: fn(&Answer) -> bool| answers.iter().filter(|(a, _)| want(a)).count();
    let judged = count(|a| matches!(a, Answer::Judged));
    let busy = count(|a| matches!(a, Answer::Busy));
    let late = count(|a| matches!(a, Answer::OutOfTime));
    let broken: Vec<_> = answers
        .iter()
        .filter_map(|(a, _)| match a {
            Answer::Broken(why) => Some(why),
            _ => None,
        })
        .collect();
    let slowest = answers.iter().map(|(_, t)| *t).max().unwrap_or_default();
    let busy_median = median(
        answers
            .iter()
            .filter(|(a, _)| matches!(a, Answer::Busy))
            .map(|(_, t)| *t)
            .collect(),
    );
    eprintln!(
        "capacity {measured:.0}/s, offered {rate:.0}/s for {over:?}: {} reviews, {judged} judged, {busy} refused as busy (median {busy_median:?}), {late} out of time, {} broken, slowest {slowest:?}",
        answers.len(),
        broken.len()
    );
    // Every review gets an AdmissionReview back: no reset stream, no error status.
    assert!(broken.is_empty(), "{broken:?}");
    // Within the webhook's timeout (5 s in the manifests), whatever the load.
    assert!(slowest < Duration::from_secs(5), "{slowest:?}");
    // The surplus is refused at once rather than held to the deadline...
    assert!(busy > 0, "nothing refused at 5x capacity");
    assert!(busy_median < deadline / 4, "{busy_median:?}");
    // ...so the slots judge reviews that are answered in time instead of ones that are not.
    let goodput = judged as f64 / over.as_secs_f64();
    assert!(
        goodput > 0.3 * measured,
        "{goodput:.1}/s judged against a capacity of {measured:.1}/s"
    );
    assert!(late < judged, "{late} out of time, {judged} judged");
    // And once the flood ends, a review is judged again.
    let client = h2_client(&server).await;
    let started = Instant::now();
    let answer = read(
        "after",
        post_review_h2(&client, Bytes::from(privileged_pod_review("after", 150))).await,
    );
    assert!(matches!(answer, Answer::Judged), "{answer:?}");
    assert!(started.elapsed() < deadline, "{:?}", started.elapsed());
}

/// Reviews taken and not yet judged, from `/metrics`.
async fn in_flight(server: &Endpoint) -> Option<u64> {
    let metrics = common::get(server, "/metrics").await?;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("palisade_admission_reviews_in_flight "))
        .and_then(|n| n.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn told_to_stop_under_load_it_answers_every_review_in_flight_then_exits() {
    // A deadline long enough that the reviews queued behind the judging slots are judged,
    // not answered out of time, even on a busy machine.
    let mut server = start_with(Setup {
        deadline: Duration::from_secs(20),
        ..Setup::default()
    });
    let endpoint = server.endpoint.clone();
    let client = h2_client(&endpoint).await;
    // Costly enough (about a second each) that none is judged before all have arrived.
    const REVIEWS: u64 = 12;
    let mut reviews = Vec::new();
    for i in 0..REVIEWS {
        let client = client.clone();
        reviews.push(tokio::spawn(async move {
            let uid = format!("drain-{i}");
            let review = Bytes::from(privileged_pod_review(&uid, 3000));
            read(&uid, post_review_h2(&client, review).await)
        }));
    }
    let waiting = Instant::now();
    while in_flight(&endpoint).await != Some(REVIEWS) {
        assert!(
            waiting.elapsed() < Duration::from_secs(20),
            "the reviews reach the server: {:?} in flight",
            in_flight(&endpoint).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Stopped (as SIGTERM stops `palisade admit`) with every review in flight.
    let stopping = tokio::task::spawn_blocking(move || server.stop());
    let mut answers = Vec::new();
    for review in reviews {
        answers.push(review.await.expect("review task"));
    }
    let (result, took) = stopping.await.expect("stop");
    assert!(
        answers.iter().all(|a| matches!(a, Answer::Judged)),
        "{answers:?}"
    );
    assert!(result.is_ok(), "{result:?}");
    assert!(took < palisade_admit::server::DRAIN, "{took:?}");
    // Stopped: no new connection is taken.
    assert!(tokio::net::TcpStream::connect(endpoint.addr).await.is_err());
}
