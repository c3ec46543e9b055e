//! `palisade operator`: the operator and its manifests.

use palisade_analysis::pss::Version;
use std::io::Write;

use anyhow::Result;
use palisade_cluster::ClusterOptions;
use palisade_engine::Overrides;
use palisade_operator::{manifests, run, OperatorOptions};

use crate::cli::{OperatorArgs, OperatorCommand};
use crate::EXIT_CLEAN;

pub fn run_operator(args: &OperatorArgs, kubernetes_version: Option<Version>) -> Result<u8> {
    let text = match &args.command {
        Some(OperatorCommand::Manifests {
            namespace,
            image,
            api_server_cidr,
            config,
        }) => manifests::render(
            namespace,
            image,
            &crate::api_server_cidrs(api_server_cidr)?,
            &crate::component_config(config.as_deref())?,
        ),
        Some(OperatorCommand::Crds) => manifests::crds(),
        None => return serve(args, kubernetes_version),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(EXIT_CLEAN)
}

fn serve(args: &OperatorArgs, kubernetes_version: Option<Version>) -> Result<u8> {
    let identity = args
        .identity
        .clone()
        .or_else(|| std::env::var("POD_NAME").ok())
        .unwrap_or_else(|| {
            let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
            format!("{}-{}", host.trim(), std::process::id())
        });
    let options = OperatorOptions {
        cluster: ClusterOptions {
            kubeconfig: args.connection.kubeconfig.clone(),
            context: args.connection.context.clone(),
            request_timeout: Some(args.connection.request_timeout).filter(|t| !t.is_zero()),
        },
        config: args.config.clone(),
        flags: Overrides {
            kubernetes_version,
            ..Overrides::default()
        },
        listen: args.listen,
        identity,
        lease_namespace: args.lease_namespace.clone(),
        debounce: args.debounce,
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(options))?;
    Ok(EXIT_CLEAN)
}
