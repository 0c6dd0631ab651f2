//! TLS settings from the configuration, as rustls configurations: PEM
//! files under Flink-like keys (`security.ssl.rest.*` for the REST API and
//! dashboard, `security.ssl.internal.*` for RPC and data connections
//! between wflink processes). Both are off by default, as in Flink.
//!
//! Internal TLS is mutual: each end presents its certificate and checks
//! that the other's is signed by the cluster's certificate authority
//! (`security.ssl.internal.ca-file`, else the certificate itself, for one
//! self-signed certificate shared by the cluster). Host names are not
//! checked on internal connections, since processes reach each other by
//! whatever address they advertise: the authority should be one made for
//! the cluster, as Flink's documentation advises for its internal keystore.
//! REST is ordinary server TLS, checked by host name like any https site.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

use crate::config::{ConfigError, Configuration};

/// Turns TLS on for the REST API, the dashboard and the CLI.
pub const REST_ENABLED_KEY: &str = "security.ssl.rest.enabled";
/// Turns mutual TLS on for RPC and data connections.
pub const INTERNAL_ENABLED_KEY: &str = "security.ssl.internal.enabled";

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A key TLS needs is not set.
    #[error("{key} must name a PEM file when {enabled} is true")]
    Missing {
        /// The key that is empty.
        key: String,
        /// The key that turned TLS on.
        enabled: &'static str,
    },
    /// A PEM file cannot be read or holds nothing of the kind wanted.
    #[error("cannot read {what} from '{path}' ({key}): {reason}")]
    Pem {
        /// What was looked for: "certificates", "a private key".
        what: &'static str,
        /// The file.
        path: String,
        /// The key that named it.
        key: String,
        /// Why.
        reason: String,
    },
    /// rustls refused the certificates or key.
    #[error("the TLS settings under {prefix}.* are not usable: {reason}")]
    Refused {
        /// `security.ssl.rest` or `security.ssl.internal`.
        prefix: &'static str,
        /// rustls's reason, e.g. a key that does not match the certificate.
        reason: String,
    },
    /// An `enabled` key is not a boolean.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The PEM files of one side (REST or internal).
struct PemFiles {
    prefix: &'static str,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// The certificates trusted as roots.
    roots: Vec<CertificateDer<'static>>,
}

impl PemFiles {
    /// The files under `prefix`, or none if `prefix.enabled` is false.
    fn load(config: &Configuration, prefix: &'static str, enabled: &'static str) -> Result<Option<Self>, TlsError> {
        if !config.boolean(enabled)? {
            return Ok(None);
        }
        let cert_key = format!("{prefix}.cert-file");
        let key_key = format!("{prefix}.key-file");
        let ca_key = format!("{prefix}.ca-file");
        let required = |key: &String| {
            let path = config.text(key);
            if path.is_empty() { Err(TlsError::Missing { key: key.clone(), enabled }) } else { Ok(path) }
        };
        let cert_path = required(&cert_key)?;
        let key_path = required(&key_key)?;
        let chain = certificates(Path::new(&cert_path), &cert_key)?;
        let key =
            PrivateKeyDer::from_pem_file(&key_path).map_err(|e| pem_error("a private key", &key_path, &key_key, e))?;
        let ca_path = config.text(&ca_key);
        let roots = if ca_path.is_empty() { chain.clone() } else { certificates(Path::new(&ca_path), &ca_key)? };
        Ok(Some(PemFiles { prefix, chain, key, roots }))
    }

    fn root_store(&self) -> Result<RootCertStore, TlsError> {
        let mut store = RootCertStore::empty();
        for root in &self.roots {
            store.add(root.clone()).map_err(|e| self.refused(e))?;
        }
        Ok(store)
    }

    fn refused(&self, e: impl std::fmt::Display) -> TlsError {
        TlsError::Refused { prefix: self.prefix, reason: e.to_string() }
    }
}

/// Every certificate in the PEM file at `path`; at least one.
fn certificates(path: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let shown = path.display().to_string();
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| pem_error("certificates", &shown, key, e))?;
    if chain.is_empty() {
        return Err(pem_error("certificates", &shown, key, "the file holds no CERTIFICATE block"));
    }
    Ok(chain)
}

fn pem_error(what: &'static str, path: &str, key: &str, reason: impl std::fmt::Display) -> TlsError {
    TlsError::Pem { what, path: path.to_string(), key: key.to_string(), reason: reason.to_string() }
}

/// The one crypto provider wflink builds with. rustls deprecates ring's
/// for lacking post-quantum key exchange; aws-lc-rs, which has it, needs
/// cmake and minutes of C to build, so ring stays until that is worth it.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The REST server's TLS configuration, if `security.ssl.rest.enabled`.
/// It offers HTTP/1.1, the only protocol the REST server speaks.
pub fn rest_server(config: &Configuration) -> Result<Option<Arc<ServerConfig>>, TlsError> {
    let Some(files) = PemFiles::load(config, "security.ssl.rest", REST_ENABLED_KEY)? else { return Ok(None) };
    let mut server = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| files.refused(e))?
        .with_no_client_auth()
        .with_single_cert(files.chain.clone(), files.key.clone_key())
        .map_err(|e| files.refused(e))?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(server)))
}

/// The certificates the CLI trusts for an https REST endpoint:
/// `security.ssl.rest.ca-file` if set, else none (the system's web roots).
pub fn rest_client_roots(config: &Configuration) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let key = "security.ssl.rest.ca-file";
    let path = config.text(key);
    if path.is_empty() { Ok(Vec::new()) } else { certificates(Path::new(&path), key) }
}

/// Both ends of internal TLS: every process accepts and makes connections.
#[derive(Clone)]
pub struct InternalTls {
    /// For connections this process accepts; a client certificate is required.
    pub server: Arc<ServerConfig>,
    /// For connections this process makes; it presents its own certificate.
    pub client: Arc<ClientConfig>,
}

impl std::fmt::Debug for InternalTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InternalTls")
    }
}

/// Internal TLS, if `security.ssl.internal.enabled`.
pub fn internal(config: &Configuration) -> Result<Option<InternalTls>, TlsError> {
    let Some(files) = PemFiles::load(config, "security.ssl.internal", INTERNAL_ENABLED_KEY)? else {
        return Ok(None);
    };
    let roots = Arc::new(files.root_store()?);
    let client_verifier =
        WebPkiClientVerifier::builder_with_provider(roots.clone(), provider()).build().map_err(|e| files.refused(e))?;
    let server = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| files.refused(e))?
        .with_client_cert_verifier(client_verifier)
        .with_single_cert(files.chain.clone(), files.key.clone_key())
        .map_err(|e| files.refused(e))?;
    let chain_only = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider())
        .build()
        .map_err(|e| files.refused(e))?;
    let client = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| files.refused(e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(SignedByClusterAuthority(chain_only)))
        .with_client_auth_cert(files.chain.clone(), files.key.clone_key())
        .map_err(|e| files.refused(e))?;
    Ok(Some(InternalTls { server: Arc::new(server), client: Arc::new(client) }))
}

/// The name a client gives for a server on internal connections; not
/// checked (see the module's comment), but rustls needs one.
pub fn internal_server_name() -> ServerName<'static> {
    ServerName::try_from("wflink-internal").expect("a valid DNS name")
}

/// Checks a server's certificate chain against the cluster's authority,
/// and everything else webpki checks (validity dates, key usage,
/// signatures), except that it was issued for the name dialled.
#[derive(Debug)]
struct SignedByClusterAuthority(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for SignedByClusterAuthority {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            // webpki checks the name last, once the chain is known to be good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
