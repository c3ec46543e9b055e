//! `palisade admit`: the webhook, its certificates and its install manifests.

use palisade_analysis::pss::Version;
use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result};
use palisade_admit::manifests::{render, Install};
use palisade_admit::server::{run, ServeOptions};
use palisade_admit::Mode;
use palisade_cluster::ClusterOptions;
use palisade_engine::Overrides;

use crate::cli::{AdmitArgs, AdmitCommand, ModeArg};
use crate::{split_list, EXIT_CLEAN};

pub fn run_admit(args: &AdmitArgs, kubernetes_version: Option<Version>) -> Result<u8> {
    match &args.command {
        Some(AdmitCommand::Certs { hosts, output }) => {
            palisade_admit::certs::write(output, hosts)?;
            eprintln!(
                "palisade admit: wrote {} to {}",
                palisade_admit::certs::FILES.join(", "),
                output.display()
            );
            Ok(EXIT_CLEAN)
        }
        Some(AdmitCommand::Manifests {
            namespace,
            image,
            ca_bundle,
            api_server_cidr,
            with_custom_resources,
            config,
            connection,
        }) => {
            let api_server = crate::api_server_cidrs(api_server_cidr)?;
            let mut custom = Vec::new();
            if *with_custom_resources {
                let cluster = crate::cluster_cmd::connect(connection)?;
                let (found, errors) = cluster.custom_pod_resources();
                if let Some(error) = errors.first() {
                    anyhow::bail!("{error}");
                }
                custom = found.into_iter().map(|r| (r.group, r.plural)).collect();
            }
            // The kinds the config's custom rules judge reach the webhook too.
            let rules = crate::rules_cmd::all_rules(None)?;
            for pair in palisade_engine::export::custom_rule_resources(&rules) {
                if !custom.contains(&pair) {
                    custom.push(pair);
                }
            }
            let pem = match ca_bundle {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?,
                ),
                None => None,
            };
            let config = crate::component_config(config.as_deref())?;
            let text = render(&Install {
                namespace,
                image,
                ca_bundle: pem.as_deref(),
                api_server: &api_server,
                custom_resources: &custom,
                config: &config,
            });
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(EXIT_CLEAN)
        }
        None => serve(args, kubernetes_version),
    }
}

fn serve(args: &AdmitArgs, kubernetes_version: Option<Version>) -> Result<u8> {
    let serve = &args.serve;
    let (Some(tls_cert), Some(tls_key)) = (&serve.tls_cert, &serve.tls_key) else {
        anyhow::bail!(
            "palisade admit needs --tls-cert and --tls-key (palisade admit certs writes them)"
        );
    };
    let cluster = (!serve.no_cluster).then(|| ClusterOptions {
        kubeconfig: serve.connection.kubeconfig.clone(),
        context: serve.connection.context.clone(),
        request_timeout: Some(serve.connection.request_timeout).filter(|t| !t.is_zero()),
    });
    let options = ServeOptions {
        listen: serve.listen,
        tls_cert: tls_cert.clone(),
        tls_key: tls_key.clone(),
        config: serve.config.clone(),
        flags: Overrides {
            pss_level: serve.pss_level,
            pss_version: serve.pss_version,
            kubernetes_version,
            select: split_list(&serve.select),
            ignore: split_list(&serve.ignore),
            strict: serve.strict,
            fail_on: serve.fail_on,
            no_bootstrap: false,
            // The API server itself enforces its admission policies at admission.
            admission: None,
            ..Overrides::default()
        },
        mode: serve.mode.map(|m| match m {
            ModeArg::Enforce => Mode::Enforce,
            ModeArg::Warn => Mode::Warn,
            ModeArg::Audit => Mode::Audit,
        }),
        cluster,
        reload_every: Duration::from_secs(1),
        deadline: Duration::from_secs(serve.deadline.max(1)),
        limits: palisade_admit::guard::ConnectionLimits {
            max_connections: serve.max_connections.max(1),
            idle: Duration::from_secs(serve.idle_timeout.max(1)),
            ..palisade_admit::guard::ConnectionLimits::default()
        },
        client_ca: serve.client_ca.clone(),
        arm: serve.arm_webhook.clone(),
    };
    run(options)?;
    Ok(EXIT_CLEAN)
}
