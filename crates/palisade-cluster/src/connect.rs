//! Which cluster, as kubectl decides it: `--kubeconfig FILE`, else the files in `KUBECONFIG`
//! merged (missing ones skipped, as kubectl does), else `~/.kube/config`, else the in-cluster
//! service account; `--context` picks a context, else the current one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::ClusterError;

/// How to reach a cluster.
#[derive(Clone, Debug, Default)]
pub struct ClusterOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Limit on each request (connect, send, answer); `None` waits as long as the server takes.
    pub request_timeout: Option<Duration>,
}

/// The API server's version, from `/version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerVersion {
    /// As the server reports it (`v1.26.5`).
    pub git_version: String,
    pub major: u32,
    pub minor: u32,
}

impl ServerVersion {
    fn parse(git_version: &str, major: &str, minor: &str) -> Self {
        // Managed clusters report minors such as `26+`; the git version is the better source.
        let from_git = git_version
            .trim_start_matches('v')
            .split(['.', '-', '+'])
            .map(|part| part.parse::<u32>().ok())
            .collect::<Vec<_>>();
        let digits = |s: &str| s.trim_end_matches('+').parse::<u32>().ok();
        // Servers built without version stamps say `v0.0.0-master`.
        let (major, minor) = match from_git.first().copied().flatten().filter(|m| *m > 0) {
            Some(git_major) => (Some(git_major), from_git.get(1).copied().flatten()),
            None => (digits(major), digits(minor)),
        };
        ServerVersion {
            git_version: git_version.to_string(),
            major: major.unwrap_or(0),
            minor: minor.unwrap_or(0),
        }
    }
}

/// A connected cluster: the client, the runtime that drives it, and what identifies it in
/// reports.
pub struct Cluster {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) client: kube::Client,
    /// The kubeconfig context (`in-cluster` inside a pod).
    pub context: String,
    pub server: String,
    pub version: ServerVersion,
    pub(crate) timeout: Option<Duration>,
}

impl Cluster {
    /// Resolves the configuration, connects and asks the server for its version, so that a
    /// wrong server, certificate or token is one clear error before anything is listed.
    pub fn connect(options: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| ClusterError::Config(format!("cannot start the client runtime: {e}")))?;
        let (mut config, context) = runtime.block_on(resolve(options))?;
        if let Some(timeout) = options.request_timeout {
            config.connect_timeout = Some(timeout);
            config.read_timeout = Some(timeout);
            config.write_timeout = Some(timeout);
        }
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        let connect_error = |message: String| ClusterError::Connect {
            context: context.clone(),
            server: server.clone(),
            message,
        };
        let client = {
            // The client's connection pool is spawned onto the runtime it is built in.
            let _guard = runtime.enter();
            kube::Client::try_from(config).map_err(|e| connect_error(describe(&e).1))?
        };
        let info = runtime
            .block_on(with_timeout(
                options.request_timeout,
                client.apiserver_version(),
            ))
            .map_err(|e| connect_error(describe(&e).1))?;
        let version = ServerVersion::parse(&info.git_version, &info.major, &info.minor);
        Ok(Cluster {
            runtime,
            client,
            context,
            server,
            version,
            timeout: options.request_timeout,
        })
    }
}

/// A client for the cluster `options` choose, and its context's name, on the caller's runtime
/// (for long-running servers: the webhook's watches).
pub async fn client(options: &ClusterOptions) -> Result<(kube::Client, String), ClusterError> {
    let (mut config, context) = resolve(options).await?;
    if let Some(timeout) = options.request_timeout {
        config.connect_timeout = Some(timeout);
    }
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).map_err(|e| ClusterError::Connect {
        context: context.clone(),
        server,
        message: describe(&e).1,
    })?;
    Ok((client, context))
}

async fn resolve(options: &ClusterOptions) -> Result<(kube::Config, String), ClusterError> {
    let kubeconfig = match &options.kubeconfig {
        Some(path) => Some(read(path)?),
        None => from_environment()?,
    };
    let Some(kubeconfig) = kubeconfig else {
        if let Some(context) = &options.context {
            return Err(ClusterError::Config(format!(
                "context `{context}` asked for, but there is no kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config)"
            )));
        }
        let config = kube::Config::incluster().map_err(|e| {
            ClusterError::Config(format!(
                "no kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config) and not running in a pod: {e}"
            ))
        })?;
        return Ok((config, "in-cluster".to_string()));
    };
    let context = match options
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
    {
        Some(context) => context,
        None => {
            return Err(ClusterError::Config(
                "the kubeconfig has no current-context; pick one with --context".into(),
            ))
        }
    };
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        let known: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(ClusterError::Config(format!(
            "context `{context}` is not in the kubeconfig (contexts: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    let config_options = KubeConfigOptions {
        context: Some(context.clone()),
        cluster: None,
        user: None,
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &config_options)
        .await
        .map_err(|e| ClusterError::Config(format!("context `{context}`: {}", chain(&e))))?;
    Ok((config, context))
}

fn read(path: &Path) -> Result<Kubeconfig, ClusterError> {
    Kubeconfig::read_from(path)
        .map_err(|e| ClusterError::Config(format!("{}: {}", path.display(), chain(&e))))
}

/// The files in `KUBECONFIG`, merged in order (the first to set a value wins), or
/// `~/.kube/config`; `None` when there is none.
fn from_environment() -> Result<Option<Kubeconfig>, ClusterError> {
    if let Some(value) = std::env::var_os("KUBECONFIG") {
        let paths: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty() && p.exists())
            .collect();
        if !paths.is_empty() {
            let mut merged = Kubeconfig::default();
            for path in &paths {
                merged = merged.merge(read(path)?).map_err(|e| {
                    ClusterError::Config(format!("{}: {}", path.display(), chain(&e)))
                })?;
            }
            return Ok(Some(merged));
        }
    }
    let default = std::env::home_dir().map(|home| home.join(".kube").join("config"));
    match default.filter(|p| p.exists()) {
        Some(path) => read(&path).map(Some),
        None => Ok(None),
    }
}

pub(crate) async fn with_timeout<T>(
    timeout: Option<Duration>,
    future: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, kube::Error> {
    match timeout {
        None => future.await,
        Some(limit) => match tokio::time::timeout(limit, future).await {
            Ok(result) => result,
            Err(_) => Err(kube::Error::Service(
                format!(
                    "no answer within the request timeout ({}s)",
                    limit.as_secs_f64()
                )
                .into(),
            )),
        },
    }
}

/// The HTTP status (when the server answered) and one line that says what went wrong.
pub(crate) fn describe(error: &kube::Error) -> (Option<u16>, String) {
    match error {
        kube::Error::Api(status) => {
            let code = status.code;
            let what = match code {
                401 => "unauthorized (401): the credentials were rejected (invalid or expired token or certificate)".to_string(),
                // The server's message repeats the resource: `pods is forbidden: User ...`.
                403 => format!(
                    "forbidden (403): {}",
                    status
                        .message
                        .split_once(" is forbidden: ")
                        .map_or(status.message.as_str(), |(_, why)| why)
                ),
                404 => format!("not found (404): {}", status.message),
                410 => format!("expired (410): {}", status.message),
                _ => format!("{} ({code}): {}", status.reason, status.message),
            };
            (Some(code), what)
        }
        kube::Error::SerdeError(e) => (
            None,
            format!("the API server's answer could not be read: {e}"),
        ),
        other => (
            None,
            format!("cannot reach the API server: {}", chain(other)),
        ),
    }
}

/// An error and its causes, `: `-separated, each said once.
fn chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_git_version_first() {
        let v = ServerVersion::parse("v1.26.5", "1", "26");
        assert_eq!((v.major, v.minor), (1, 26));
        let gke = ServerVersion::parse("v1.29.4-gke.1043002", "1", "29+");
        assert_eq!((gke.major, gke.minor), (1, 29));
        let odd = ServerVersion::parse("v0.0.0-master", "1", "27+");
        assert_eq!((odd.major, odd.minor), (1, 27));
    }
}
