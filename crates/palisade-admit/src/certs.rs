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

/// How long the serving certificate is valid.
pub const SERVING_LIFETIME: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);
/// How long the CA is valid: the serving certificate's lifetime and a year to rotate it in.
pub const CA_LIFETIME: std::time::Duration = std::time::Duration::from_secs(2 * 365 * 24 * 3600);

/// Writes `ca.crt`, `tls.crt` and `tls.key` to `dir`: the serving certificate names every
/// host (DNS names and IP addresses) and is valid for one year. The key is readable by its
/// owner only (0600), from the moment it exists.
pub fn write(dir: &Path, hosts: &[String]) -> Result<(), CertError> {
    let (ca, cert, key) = generate(hosts)?;
    std::fs::create_dir_all(dir).map_err(|e| CertError::Write(dir.display().to_string(), e))?;
    for (name, text) in FILES.iter().zip([ca, cert, key]) {
        let path = dir.join(name);
        let private = name.ends_with(".key");
        write_file(&path, text.as_bytes(), private)
            .map_err(|e| CertError::Write(path.display().to_string(), e))?;
    }
    Ok(())
}

/// Writes `bytes` to `path`; `private` files are created 0600 (and made so if they existed).
pub fn write_file(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        let mut file = file;
        return file.write_all(bytes);
    }
    options.open(path)?.write_all(bytes)
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
    let now = std::time::SystemTime::now();
    let mut ca_params = CertificateParams::default();
    // It signs the webhook's serving certificate and nothing else: no intermediate below it.
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = now.into();
    ca_params.not_after = (now + CA_LIFETIME).into();
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
    params.not_before = now.into();
    params.not_after = (now + SERVING_LIFETIME).into();
    let key = KeyPair::generate()?;
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params.signed_by(&key, &issuer)?;
    Ok((ca.pem(), cert.pem(), key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `openssl x509 -text` of a PEM certificate.
    fn openssl_text(pem: &str) -> Option<String> {
        let dir = tempfile::tempdir().ok()?;
        let path = dir.path().join("c.pem");
        std::fs::write(&path, pem).ok()?;
        let out = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&path)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    #[test]
    fn the_ca_signs_one_level_for_two_years_and_the_key_is_private() {
        let (ca, cert, _) = generate(&["127.0.0.1".to_string()]).expect("certificates");
        let ca = openssl_text(&ca)
            .expect("openssl reads the CA (scripts/install-test-deps installs it)");
        assert!(ca.contains("CA:TRUE, pathlen:0"), "{ca}");
        assert!(ca.contains("Certificate Sign, CRL Sign"), "{ca}");
        let year = |text: &str, field: &str| -> i32 {
            let line = text.lines().find(|l| l.contains(field)).expect(field);
            let year = line.split_whitespace().rev().nth(1).expect("year");
            year.parse().expect("a year")
        };
        assert_eq!(year(&ca, "Not After") - year(&ca, "Not Before"), 2);
        let cert = openssl_text(&cert).expect("openssl reads the certificate");
        assert_eq!(year(&cert, "Not After") - year(&cert, "Not Before"), 1);
        assert!(
            cert.contains("CA:FALSE") || !cert.contains("CA:TRUE"),
            "{cert}"
        );

        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), &["127.0.0.1".to_string()]).expect("writes");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |name: &str| {
                std::fs::metadata(dir.path().join(name))
                    .expect("file")
                    .permissions()
                    .mode()
                    & 0o777
            };
            assert_eq!(mode("tls.key"), 0o600);
            // Written again over a key someone made readable: private again.
            std::fs::set_permissions(
                dir.path().join("tls.key"),
                std::fs::Permissions::from_mode(0o644),
            )
            .expect("chmod");
            write(dir.path(), &["127.0.0.1".to_string()]).expect("writes");
            assert_eq!(mode("tls.key"), 0o600);
        }
    }

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
