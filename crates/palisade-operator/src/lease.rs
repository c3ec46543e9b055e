//! Leader election with a `coordination.k8s.io/v1` Lease, as client-go does it: the holder
//! renews the lease; the others take it over when they have seen it unchanged for its whole
//! duration (measured on their own clock, so clocks need not agree).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value as Json};

pub struct Elector {
    client: kube::Client,
    namespace: String,
    name: String,
    identity: String,
    duration: Duration,
    /// The last (holder, renewTime) seen, and when it was first seen.
    observed: Option<(String, String, Instant)>,
}

/// `2026-11-30T03:40:00.000000Z` for a time (the Lease's MicroTime).
pub fn micro_time(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let date = palisade_model::Date::from_days_since_epoch(days);
    format!(
        "{date}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        since.subsec_micros()
    )
}

impl Elector {
    pub fn new(client: kube::Client, namespace: &str, name: &str, identity: &str) -> Self {
        Elector {
            client,
            namespace: namespace.to_string(),
            name: name.to_string(),
            identity: identity.to_string(),
            duration: Duration::from_secs(15),
            observed: None,
        }
    }

    fn path(&self) -> String {
        format!(
            "/apis/coordination.k8s.io/v1/namespaces/{}/leases/{}",
            self.namespace, self.name
        )
    }

    async fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&Json>,
    ) -> Result<Json, kube::Error> {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("Content-Type", "application/json")
            .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
            .map_err(kube::Error::HttpError)?;
        self.client.request::<Json>(request).await
    }

    fn spec(&self, transitions: i64, acquired: &str) -> Json {
        let now = micro_time(SystemTime::now());
        json!({
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.duration.as_secs(),
            "acquireTime": acquired,
            "renewTime": now,
            "leaseTransitions": transitions,
        })
    }

    /// One round: whether this replica leads now.
    pub async fn round(&mut self) -> Result<bool, kube::Error> {
        let lease = match self.send(http::Method::GET, &self.path(), None).await {
            Ok(lease) => lease,
            Err(kube::Error::Api(status)) if status.code == 404 => {
                let now = micro_time(SystemTime::now());
                let body = json!({
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": self.spec(0, &now),
                });
                let path = format!(
                    "/apis/coordination.k8s.io/v1/namespaces/{}/leases",
                    self.namespace
                );
                return match self.send(http::Method::POST, &path, Some(&body)).await {
                    Ok(_) => Ok(true),
                    Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                    Err(e) => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let spec = &lease["spec"];
        let holder = spec["holderIdentity"].as_str().unwrap_or("").to_string();
        let renewed = spec["renewTime"].as_str().unwrap_or("").to_string();
        let transitions = spec["leaseTransitions"].as_i64().unwrap_or(0);
        let take = if holder == self.identity {
            Some((
                transitions,
                spec["acquireTime"].as_str().unwrap_or("").to_string(),
            ))
        } else {
            let expired = holder.is_empty()
                || match &self.observed {
                    Some((h, r, since)) if *h == holder && *r == renewed => {
                        since.elapsed() > self.duration
                    }
                    _ => {
                        self.observed = Some((holder.clone(), renewed.clone(), Instant::now()));
                        false
                    }
                };
            expired.then(|| (transitions + 1, micro_time(SystemTime::now())))
        };
        let Some((transitions, acquired)) = take else {
            return Ok(false);
        };
        let mut updated = lease.clone();
        updated["spec"] = self.spec(transitions, &acquired);
        // The resourceVersion in `updated` makes this a compare-and-swap: of two replicas
        // taking over at once, one gets 409.
        match self
            .send(http::Method::PUT, &self.path(), Some(&updated))
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the lease up (on shutdown), so another replica takes over at once.
    pub async fn release(&self) {
        if let Ok(mut lease) = self.send(http::Method::GET, &self.path(), None).await {
            if lease["spec"]["holderIdentity"].as_str() == Some(self.identity.as_str()) {
                lease["spec"]["holderIdentity"] = Json::String(String::new());
                let _ = self
                    .send(http::Method::PUT, &self.path(), Some(&lease))
                    .await;
            }
        }
    }
}

/// Hears each renewal round's outcome: whether this replica leads, or why the round failed.
pub type OnRound = Box<dyn Fn(Result<bool, &kube::Error>) + Send>;

/// The lease kept on its own schedule: a task that runs a round every `every` whatever else the
/// process is doing (an evaluation longer than the lease must not let another replica take
/// over while this one still writes), and gives the lease up when told to stop.
pub struct Renewal {
    /// Whether this replica leads, as of the last round.
    pub leading: tokio::sync::watch::Receiver<bool>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Renewal {
    /// Starts renewing; `on_round` hears each round's outcome (a round that failed counts as
    /// not leading).
    pub fn start(mut elector: Elector, every: Duration, on_round: OnRound) -> Renewal {
        let (leading_tx, leading) = tokio::sync::watch::channel(false);
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = &mut stopped => break,
                }
                let round = elector.round().await;
                on_round(round.as_ref().map(|l| *l));
                let now = round.unwrap_or(false);
                leading_tx.send_if_modified(|was| std::mem::replace(was, now) != now);
            }
            elector.release().await;
        });
        Renewal {
            leading,
            stop: Some(stop),
            task,
        }
    }

    /// Stops renewing and gives the lease up.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_times_are_rfc3339_in_utc() {
        assert_eq!(micro_time(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let at = UNIX_EPOCH + Duration::from_micros(1_796_009_412_123_456);
        assert_eq!(micro_time(at), "2026-11-30T03:30:12.123456Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(micro_time(leap), "2000-02-29T00:00:00.000000Z");
    }
}
