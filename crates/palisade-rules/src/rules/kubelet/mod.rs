//! The kubelet, judged by its effective settings: the config file, overridden by flags, with
//! the defaults that apply to each (see `palisade_analysis::kubelet`). CIS section 4.2.

pub mod anonymous_auth;
pub mod authorization;
pub mod client_ca;
pub mod hardening;
pub mod read_only_port;
pub mod tls;

use palisade_analysis::kubelet::{Origin, Setting};
use palisade_analysis::Inventory;

use crate::rules::control_plane::{failure, Want};
use crate::Emitter;

/// One CIS check on one kubelet setting.
pub(crate) struct KubeletRequirement {
    pub cis: &'static str,
    pub setting: &'static Setting,
    pub want: Want,
    pub why: &'static str,
}

/// Runs `requirements` on every kubelet of the input.
pub(crate) fn check_kubelets(
    inventory: &Inventory,
    out: &mut Emitter,
    requirements: &[KubeletRequirement],
) {
    for kubelet in &inventory.kubelets {
        for requirement in requirements {
            let resolved = kubelet.resolve(requirement.setting);
            let Some(problem) = failure(&requirement.want, resolved.value.as_deref()) else {
                continue;
            };
            let setting = requirement.setting;
            let name = match (resolved.origin, setting.field) {
                // A kubelet without a config file is configured by flags alone.
                (Origin::Flag, _) | (_, None) => format!("--{}", setting.flag),
                (Origin::Default, _) if !kubelet.has_file() => format!("--{}", setting.flag),
                (_, Some(field)) => field.join("."),
            };
            let origin = match resolved.origin {
                Origin::Flag => " (flag)",
                Origin::File => "",
                Origin::Default if kubelet.has_file() => " (config file default)",
                Origin::Default => " (flag default, no config file)",
            };
            out.report(
                &resolved.source,
                format!(
                    "CIS {}: {} {name} {problem}{origin}: {}",
                    requirement.cis,
                    kubelet.describe(),
                    requirement.why
                ),
                Vec::new(),
            );
        }
    }
}
