//! `palisade admit certs`: a CA and a serving certificate signed by it, for the webhook's
//! Service (DNS names) or a test on loopback (IP addresses).

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

/// The PEM files written.
pub const FILES: [&str; 3] = ["ca.crt", "tls.crt", "tls.key"];

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("`{0}` is neither a DNS name nor an IP address")]
    Host(String),
    #[error("writing {0}: {1}")]
    Write(String, std::io::Error),
}

/// Writes `ca.crt`, `tls.crt` and `tls.key` to `dir`: the serving certificate names every
/// host (DNS names and IP addresses) and is valid for one year.
pub fn write(dir: &Path, hosts: &[String]) -> Result<(), CertError> {
    let (ca, cert, key) = generate(hosts)?;
    std::fs::create_dir_all(dir).map_err(|e| CertError::Write(dir.display().to_string(), e))?;
    for (name, text) in FILES.iter().zip([ca, cert, key]) {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| CertError::Write(path.display().to_string(), e))?;
    }
    Ok(())
}

/// A DNS name as a certificate may carry it: dot-separated labels of letters, digits and
/// hyphens (the first may be `*`), none empty or longer than 63.
fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').enumerate().all(|(i, label)| {
            (i == 0 && label == "*")
                || (!label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        })
}

/// (CA certificate, serving certificate, serving key), PEM.
pub fn generate(hosts: &[String]) -> Result<(String, String, String), CertError> {
    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    // rcgen gives every certificate the same default name: distinct names keep the leaf from
    // looking self-signed to clients.
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "palisade admission webhook CA");
    ca_params.distinguished_name = ca_name;
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;

    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CommonName,
        hosts.first().map_or("palisade", String::as_str),
    );
    params.distinguished_name = name;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    for host in hosts {
        let san = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) if !is_dns_name(host) => return Err(CertError::Host(host.clone())),
            Err(_) => SanType::DnsName(
                host.clone()
                    .try_into()
                    .map_err(|_| CertError::Host(host.clone()))?,
            ),
        };
        params.subject_alt_names.push(san);
    }
    let now = std::time::SystemTime::now();
    params.not_before = now.into();
    params.not_after = (now + std::time::Duration::from_secs(365 * 24 * 3600)).into();
    let key = KeyPair::generate()?;
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params.signed_by(&key, &issuer)?;
    Ok((ca.pem(), cert.pem(), key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_dns_names_or_ip_addresses() {
        let hosts = [
            "palisade-admit.palisade-system.svc",
            "127.0.0.1",
            "::1",
            "*.example.com",
        ];
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let (ca, cert, key) = generate(&hosts).expect("certificates");
        assert!(
            ca.starts_with("-----BEGIN CERTIFICATE") && cert.starts_with("-----BEGIN CERTIFICATE")
        );
        assert!(key.contains("PRIVATE KEY"));
        for bad in ["not a host!", "", "a..b", "-x.example.com", "exa_mple.com"] {
            assert!(
                matches!(generate(&[bad.to_string()]), Err(CertError::Host(_))),
                "{bad:?} accepted"
            );
        }
    }
}
