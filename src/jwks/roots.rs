//! The certificate authorities a fetch trusts: `SSL_CERT_FILE` when it is set (a private CA,
//! or the tests' own), else the first system bundle found of [`SYSTEM_BUNDLES`]. Read once, at
//! cold start, and only when a `JWT_JWKS_URL` is `https://`.

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::Path;

/// The override: a PEM file of CA certificates (OpenSSL's name for it).
pub const VARIABLE: &str = "SSL_CERT_FILE";

/// System bundles tried in order when [`VARIABLE`] is not set: Amazon Linux 2023 (Lambda's
/// `provided.al2023` image) and the Red Hat family, then Debian/Ubuntu/Alpine, then openSUSE.
pub const SYSTEM_BUNDLES: [&str; 3] =
    ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/ca-bundle.pem"];

/// The trust anchors, and the file they came from; an error says which file and why (a
/// missing or empty bundle is a configuration error: no `https://` fetch could succeed).
pub fn load(env: &impl Fn(&str) -> Option<String>) -> Result<(RootCertStore, String), String> {
    if let Some(file) = env(VARIABLE).filter(|f| !f.trim().is_empty()) {
        return from_file(Path::new(file.trim())).map(|r| (r, file.trim().to_owned()));
    }
    for path in SYSTEM_BUNDLES {
        if Path::new(path).exists() {
            return from_file(Path::new(path)).map(|r| (r, path.to_owned()));
        }
    }
    Err(format!("no CA bundle found (tried {}); set {VARIABLE}", SYSTEM_BUNDLES.join(", ")))
}

fn from_file(path: &Path) -> Result<RootCertStore, String> {
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut store = RootCertStore::empty();
    for cert in iter {
        let cert = cert.map_err(|e| format!("{} is not a PEM bundle: {e}", path.display()))?;
        // A certificate webpki cannot use as an anchor is skipped, as every TLS client does.
        let _ = store.add(cert);
    }
    if store.is_empty() {
        return Err(format!("{} holds no usable CA certificate", path.display()));
    }
    Ok(store)
}
