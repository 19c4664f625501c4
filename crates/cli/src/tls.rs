//! TLS on `--listen`: `iamgate serve --tls-cert FILE --tls-key FILE`.
//!
//! rustls with ring as its only crypto provider: no OpenSSL, no second
//! provider in the build, nothing that needs cmake. ALPN offers `h2` and
//! `http/1.1`; hyper's automatic server then speaks whichever the client
//! chose. Without `--tls-cert` the listener stays cleartext.
//!
//! **Which certificate.** A custom domain name of the world file may name
//! its own (`certificate: { cert, key }`); the client's SNI picks it — the
//! exact name first, then a `*.` name one label up — and everything else
//! gets the server's. Each site is one rustls `ServerConfig`, chosen after
//! the ClientHello is read (`LazyConfigAcceptor`), because mutual TLS is
//! also per name and rustls has one client verifier per config.
//!
//! **Mutual TLS** (`truststore: FILE`, a PEM bundle) as API Gateway does
//! it: the handshake asks for a client certificate naming the truststore's
//! subjects, and proves the client holds its key, but completes whatever
//! the client sent; the chain is then checked against the truststore
//! (issuer, validity, names). A client without a certificate the truststore
//! trusts gets AWS's `403 {"message":"Forbidden"}` on every request of the
//! connection (AWS's troubleshooting guide: the TLS connection fails and
//! API Gateway returns 403), and the reason goes to the log. A trusted
//! certificate's fields reach templates and Lambda events as
//! `$context.identity.clientCert`.
//!
//! **Reload.** Every few seconds the files are read again (the server's,
//! and those of the domain names in the current snapshot, so a reloaded
//! world file brings its certificates too); a site whose files changed is
//! rebuilt and swapped in for new handshakes, while open connections keep
//! the session they have. A file that does not load keeps the site as it
//! was and logs why — never the file's contents: a key file's text is a
//! secret. A truststore that never loaded fails closed: its name refuses
//! every client.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use iamgate_apimodel::stored::DomainNameRecord;
use iamgate_gateway::client_cert::ClientCert;
use iamgate_snapshot::Live;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{Acceptor, ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::server::TlsStream;

/// What the transport of a connection says about each of its requests.
#[derive(Debug, Default)]
pub struct Transport {
    /// Over TLS (`aws:SecureTransport`).
    pub secure: bool,
    pub mutual_tls: MutualTls,
}

/// Mutual TLS on one connection.
#[derive(Debug, Default)]
pub enum MutualTls {
    /// The name reached asks for no client certificate.
    #[default]
    NotRequired,
    /// The truststore trusts the client's certificate.
    Verified(ClientCert),
    /// It does not (or there is none): every request is refused.
    Refused,
}

/// The server's TLS: the sites built from the certificate files, swapped
/// whole when a file changes.
pub struct Tls {
    provider: Arc<CryptoProvider>,
    default_files: (PathBuf, PathBuf),
    /// Where the world file's relative names start.
    base: PathBuf,
    sites: ArcSwap<Sites>,
}

/// Every certificate the server serves, and what it was built from.
struct Sites {
    default: Loaded,
    /// By lower-cased domain name (`*.example.com` for wildcards).
    by_name: HashMap<String, Loaded>,
}

/// One site: its files' contents when it was built, and the result.
#[derive(Clone)]
struct Loaded {
    inputs: Inputs,
    site: Arc<Site>,
    /// Why the files last read did not load, once logged: a file that
    /// stays bad is reported once.
    error: Option<String>,
}

/// The bytes a site is built from; a site is rebuilt when they change.
#[derive(Clone, Default, PartialEq, Eq)]
struct Inputs {
    cert: Option<(PathBuf, Vec<u8>)>,
    key: Option<(PathBuf, Vec<u8>)>,
    truststore: Option<(PathBuf, Vec<u8>)>,
}

struct Site {
    config: Arc<ServerConfig>,
    /// The truststore's verifier, for mutual TLS; `Err` when it could not
    /// be loaded (every client refused).
    truststore: Option<Result<Arc<dyn ClientCertVerifier>, ()>>,
}

impl Tls {
    /// Loads the server's certificate and the domain names' from
    /// `snapshot`; a server certificate that does not load stops the
    /// start, a domain name's is logged and left out.
    pub fn load(cert: &Path, key: &Path, base: &Path, snapshot: &Live) -> Result<Arc<Tls>, String> {
        let provider = Arc::new(ring_provider());
        let default_files = (cert.to_owned(), key.to_owned());
        let inputs = Inputs::read(Some(&default_files), None)?;
        let site = build_site(&provider, &inputs)?;
        let default = Loaded {
            inputs,
            site: Arc::new(site),
            error: None,
        };
        let tls = Tls {
            provider,
            default_files,
            base: base.to_owned(),
            sites: ArcSwap::from_pointee(Sites {
                default,
                by_name: HashMap::new(),
            }),
        };
        tls.reload(&domains(snapshot));
        Ok(Arc::new(tls))
    }

    /// Reads every file again and rebuilds the sites whose files changed.
    fn reload(&self, domains: &[Arc<DomainNameRecord>]) {
        let current = self.sites.load_full();
        let read = Inputs::read(Some(&self.default_files), None);
        let default = self
            .refresh("--tls-cert", Some(&current.default), read, false)
            .unwrap_or_else(|| current.default.clone());
        let mut by_name = HashMap::new();
        for domain in domains {
            if domain.certificate.is_none() && domain.truststore.is_none() {
                continue;
            }
            let files = domain
                .certificate
                .as_ref()
                .map(|files| (self.base.join(&files.cert), self.base.join(&files.key)));
            let truststore = domain.truststore.as_ref().map(|file| self.base.join(file));
            // A name without a certificate of its own uses the server's.
            let read = Inputs::read(files.as_ref(), truststore.as_deref()).map(|mut inputs| {
                if inputs.cert.is_none() {
                    inputs.cert.clone_from(&default.inputs.cert);
                    inputs.key.clone_from(&default.inputs.key);
                }
                inputs
            });
            let previous = current.by_name.get(&domain.name);
            if let Some(loaded) = self.refresh(&domain.name, previous, read, truststore.is_some()) {
                by_name.insert(domain.name.clone(), loaded);
            }
        }
        self.sites.store(Arc::new(Sites { default, by_name }));
    }

    /// `site` from the files just `read`: the previous one if they did not
    /// change or do not load (a failure is logged once, not at every
    /// reading); with no previous one, nothing, or, when `fail_closed`
    /// (a truststore), a site that refuses every client.
    fn refresh(
        &self,
        site: &str,
        previous: Option<&Loaded>,
        read: Result<Inputs, String>,
        fail_closed: bool,
    ) -> Option<Loaded> {
        let built = read.and_then(|inputs| {
            if previous.is_some_and(|previous| previous.inputs == inputs) {
                return Ok(None);
            }
            let built = build_site(&self.provider, &inputs)?;
            Ok(Some(Loaded {
                inputs,
                site: Arc::new(built),
                error: None,
            }))
        });
        match (built, previous) {
            (Ok(None), Some(previous)) => Some(Loaded {
                error: None,
                ..previous.clone()
            }),
            (Ok(loaded), previous) => {
                if previous.is_some() {
                    tracing::info!(site, "TLS certificate reloaded");
                }
                loaded
            }
            (Err(error), Some(previous)) => {
                if previous.error.as_ref() != Some(&error) {
                    tracing::error!(site, %error, "TLS certificate not reloaded; serving the previous one");
                }
                Some(Loaded {
                    error: Some(error),
                    ..previous.clone()
                })
            }
            (Err(error), None) => {
                tracing::error!(site, %error, "TLS certificate not loaded");
                // Never serve a mutual-TLS name without its truststore.
                fail_closed.then(|| Loaded {
                    inputs: Inputs::default(),
                    site: Arc::new(Site {
                        config: self.sites.load().default.site.config.clone(),
                        truststore: Some(Err(())),
                    }),
                    error: Some(error),
                })
            }
        }
    }

    /// Reloads every `every`, for as long as the server runs.
    pub async fn watch(self: Arc<Self>, snapshot: Arc<Live>, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let tls = self.clone();
            let domains = domains(&snapshot);
            if tokio::task::spawn_blocking(move || tls.reload(&domains))
                .await
                .is_err()
            {
                tracing::error!("TLS reload failed; serving the previous certificates");
            }
        }
    }

    /// The handshake of one connection, within `timeout`: the site its
    /// SNI names, then mutual TLS if the site asks for it. `None` when the
    /// client does not complete a handshake.
    pub async fn accept(
        &self,
        stream: TcpStream,
        timeout: Duration,
    ) -> Option<(TlsStream<TcpStream>, Transport)> {
        let peer = stream.peer_addr().ok();
        let handshake = async {
            let start = LazyConfigAcceptor::new(Acceptor::default(), stream).await?;
            let site = self.site_for(start.client_hello().server_name());
            let stream = start.into_stream(site.config.clone()).await?;
            Ok::<_, std::io::Error>((stream, site))
        };
        let (stream, site) = match tokio::time::timeout(timeout, handshake).await {
            Ok(Ok(done)) => done,
            Ok(Err(error)) => {
                tracing::debug!(?peer, %error, "TLS handshake failed");
                return None;
            }
            Err(_) => {
                tracing::debug!(?peer, "TLS handshake timed out");
                return None;
            }
        };
        let mutual_tls = match &site.truststore {
            None => MutualTls::NotRequired,
            Some(truststore) => {
                let (_, connection) = stream.get_ref();
                check_client(truststore.as_ref().ok(), connection.peer_certificates())
            }
        };
        Some((
            stream,
            Transport {
                secure: true,
                mutual_tls,
            },
        ))
    }

    fn site_for(&self, server_name: Option<&str>) -> Arc<Site> {
        let sites = self.sites.load();
        let found = server_name.and_then(|name| {
            let name = name.to_ascii_lowercase();
            let wildcard = name
                .split_once('.')
                .map(|(_, parent)| format!("*.{parent}"));
            sites
                .by_name
                .get(&name)
                .or_else(|| wildcard.and_then(|wildcard| sites.by_name.get(&wildcard)))
        });
        found.unwrap_or(&sites.default).site.clone()
    }
}

/// rustls's ring provider, the build's one crypto provider. rustls marks
/// it deprecated because ring has no post-quantum key exchange; the only
/// provider that has one, aws-lc-rs, needs cmake and a second C build, which
/// this project does not take (classical X25519 and P-256 key exchange).
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// What `iamgate invoke` and the other signing tools trust when they call
/// an `https://` server: the PEM bundle `ca_bundle` (as the AWS CLI's
/// `AWS_CA_BUNDLE`), else the system's CAs.
pub(crate) fn client_config(ca_bundle: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca_bundle {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
            for certificate in certificates(path, &pem)? {
                roots
                    .add(certificate)
                    .map_err(|error| format!("{}: {error}", path.display()))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(ring_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The domain names of the snapshot.
fn domains(snapshot: &Live) -> Vec<Arc<DomainNameRecord>> {
    snapshot.current().apis.domains.values().cloned().collect()
}

impl Inputs {
    fn read(files: Option<&(PathBuf, PathBuf)>, truststore: Option<&Path>) -> Result<Self, String> {
        let read = |path: &Path| {
            std::fs::read(path)
                .map(|bytes| (path.to_owned(), bytes))
                .map_err(|error| format!("cannot read {}: {error}", path.display()))
        };
        let (cert, key) = match files {
            Some((cert, key)) => (Some(read(cert)?), Some(read(key)?)),
            None => (None, None),
        };
        Ok(Self {
            cert,
            key,
            truststore: truststore.map(read).transpose()?,
        })
    }
}

/// A site from its files' bytes; every failure names the file, never its
/// contents.
fn build_site(provider: &Arc<CryptoProvider>, inputs: &Inputs) -> Result<Site, String> {
    let (Some((cert_path, cert)), Some((key_path, key))) = (&inputs.cert, &inputs.key) else {
        return Err("no certificate".to_owned());
    };
    let chain = certificates(cert_path, cert)?;
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|_| {
        format!(
            "{}: no PEM private key (PKCS#8, PKCS#1 or SEC1) in the file",
            key_path.display()
        )
    })?;
    let certified = CertifiedKey::from_der(chain, key, provider).map_err(|error| {
        format!(
            "{} and {}: {error}",
            cert_path.display(),
            key_path.display()
        )
    })?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?;
    let verifier = match &inputs.truststore {
        Some((path, bundle)) => Some(trust_verifier(provider, path, bundle)?),
        None => None,
    };
    let builder = match &verifier {
        Some(verifier) => builder.with_client_cert_verifier(Arc::new(AskForCertificate {
            truststore: verifier.clone(),
        })),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(Fixed(Arc::new(certified))));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Site {
        config: Arc::new(config),
        truststore: verifier.map(Ok),
    })
}

fn certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|error| format!("{}: not PEM certificates: {error}", path.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "{}: no PEM certificate in the file",
            path.display()
        ));
    }
    Ok(chain)
}

/// The verifier of a truststore: chains to one of its certificates,
/// current, names chained, as AWS checks them.
fn trust_verifier(
    provider: &Arc<CryptoProvider>,
    path: &Path,
    bundle: &[u8],
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(path, bundle)? {
        roots
            .add(certificate)
            .map_err(|error| format!("{}: {error}", path.display()))?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|error| format!("{}: {error}", path.display()))
}

/// The chain the client presented, checked against the truststore once
/// the handshake is over.
fn check_client(
    truststore: Option<&Arc<dyn ClientCertVerifier>>,
    presented: Option<&[CertificateDer<'static>]>,
) -> MutualTls {
    let refused = |reason: &str| {
        tracing::info!(reason, "mutual TLS: client certificate refused");
        MutualTls::Refused
    };
    let Some(truststore) = truststore else {
        return refused("the truststore could not be loaded");
    };
    let Some((end_entity, intermediates)) = presented.and_then(<[_]>::split_first) else {
        return refused("no client certificate");
    };
    match truststore.verify_client_cert(end_entity, intermediates, UnixTime::now()) {
        Ok(_) => match client_cert(end_entity) {
            Some(cert) => MutualTls::Verified(cert),
            None => refused("the certificate's fields could not be read"),
        },
        Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {
            refused("Could not find issuer for certificate")
        }
        Err(error) => refused(&error.to_string()),
    }
}

/// The fields API Gateway gives of a client certificate.
pub fn client_cert(der: &CertificateDer<'_>) -> Option<ClientCert> {
    use x509_cert::der::{Decode, EncodePem, pem::LineEnding};
    let certificate = x509_cert::Certificate::from_der(der.as_ref()).ok()?;
    let tbs = &certificate.tbs_certificate;
    let date = |time: x509_cert::time::Time| {
        let seconds = i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
        iamgate_wire::Timestamp::from_epoch_seconds(seconds).to_certificate_date()
    };
    // A positive serial whose first byte has its high bit set carries a
    // leading zero in DER, which OpenSSL's form leaves out.
    let serial = tbs.serial_number.as_bytes();
    let serial = match serial {
        [0, next, ..] if *next >= 0x80 => serial.get(1..).unwrap_or(serial),
        _ => serial,
    };
    Some(ClientCert {
        pem: certificate.to_pem(LineEnding::LF).ok()?,
        subject_dn: tbs.subject.to_string(),
        issuer_dn: tbs.issuer.to_string(),
        serial_number: serial
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        not_before: date(tbs.validity.not_before),
        not_after: date(tbs.validity.not_after),
    })
}

/// A site's one certificate.
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// The handshake side of mutual TLS: asks for a certificate issued by the
/// truststore's subjects and checks the client's proof that it holds the
/// certificate's key, but lets the handshake finish without one, so that
/// the refusal is AWS's 403 rather than a TLS alert
/// ([`check_client`] decides).
#[derive(Debug)]
struct AskForCertificate {
    truststore: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for AskForCertificate {
    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.truststore.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.truststore.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.truststore.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.truststore.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamgate_apimodel::model::EndpointType;
    use iamgate_apimodel::stored::CertificateFiles;
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName as Dn, DnType, IsCa, Issuer,
        KeyPair, SerialNumber,
    };

    struct Ca {
        issuer: Issuer<'static, KeyPair>,
        pem: String,
    }

    fn ca(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = Dn::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let pem = params.self_signed(&key).unwrap().pem();
        Ca {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// A certificate for `names` signed by `ca`: its DER, PEM and key PEM.
    fn issue(
        ca: &Ca,
        names: &[&str],
        edit: impl FnOnce(&mut CertificateParams),
    ) -> (Vec<u8>, String, String) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        edit(&mut params);
        let cert = params.signed_by(&key, &ca.issuer).unwrap();
        (cert.der().to_vec(), cert.pem(), key.serialize_pem())
    }

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(ring_provider())
    }

    #[test]
    fn client_certificate_fields_are_given_as_api_gateway_gives_them() {
        let authority = ca("Example CA");
        let midday = Duration::from_secs(12 * 3600 + 30 * 60 + 2);
        let (der, _, _) = issue(&authority, &[], |params| {
            params.distinguished_name = Dn::new();
            params
                .distinguished_name
                .push(DnType::OrganizationName, "Example");
            params.distinguished_name.push(DnType::CommonName, "client");
            // High bit set: DER adds a leading zero, OpenSSL's form does not.
            params.serial_number = Some(SerialNumber::from_slice(&[0x80, 0x01, 0xab]));
            params.not_before = rcgen::date_time_ymd(2019, 5, 28) + midday;
            params.not_after =
                rcgen::date_time_ymd(2021, 8, 5) + Duration::from_secs(9 * 3600 + 36 * 60 + 4);
        });
        let cert = client_cert(&CertificateDer::from(der.clone())).unwrap();
        assert_eq!(cert.subject_dn, "CN=client,O=Example");
        assert_eq!(cert.issuer_dn, "CN=Example CA");
        assert_eq!(cert.serial_number, "80:01:ab");
        assert_eq!(cert.not_before, "May 28 12:30:02 2019 GMT");
        assert_eq!(cert.not_after, "Aug  5 09:36:04 2021 GMT");
        assert!(
            cert.pem.starts_with("-----BEGIN CERTIFICATE-----\n"),
            "{}",
            cert.pem
        );
        let back = CertificateDer::from_pem_slice(cert.pem.as_bytes()).unwrap();
        assert_eq!(back.as_ref(), der.as_slice());
    }

    #[test]
    fn only_a_current_certificate_the_truststore_issued_is_verified() {
        let trusted = ca("Trusted CA");
        let stranger = ca("Stranger CA");
        let truststore =
            trust_verifier(&provider(), Path::new("ts.pem"), trusted.pem.as_bytes()).unwrap();
        let check =
            |der: Vec<u8>| check_client(Some(&truststore), Some(&[CertificateDer::from(der)]));
        let (good, _, _) = issue(&trusted, &[], |_| {});
        assert!(matches!(check(good), MutualTls::Verified(_)));
        let (foreign, _, _) = issue(&stranger, &[], |_| {});
        assert!(matches!(check(foreign), MutualTls::Refused));
        let (expired, _, _) = issue(&trusted, &[], |params| {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        });
        assert!(matches!(check(expired), MutualTls::Refused));
        assert!(matches!(
            check_client(Some(&truststore), None),
            MutualTls::Refused
        ));
        assert!(matches!(
            check_client(Some(&truststore), Some(&[])),
            MutualTls::Refused
        ));
    }

    fn tls_in(dir: &Path) -> Tls {
        let authority = ca("Server CA");
        let (_, cert, key) = issue(&authority, &["localhost"], |_| {});
        std::fs::write(dir.join("server.pem"), cert).unwrap();
        std::fs::write(dir.join("server.key"), key).unwrap();
        let (_, cert, key) = issue(&authority, &["*.example.com"], |_| {});
        std::fs::write(dir.join("wild.pem"), cert).unwrap();
        std::fs::write(dir.join("wild.key"), key).unwrap();
        let (_, cert, key) = issue(&authority, &["api.example.com"], |_| {});
        std::fs::write(dir.join("api.pem"), cert).unwrap();
        std::fs::write(dir.join("api.key"), key).unwrap();
        let provider = provider();
        let default_files = (dir.join("server.pem"), dir.join("server.key"));
        let inputs = Inputs::read(Some(&default_files), None).unwrap();
        let site = build_site(&provider, &inputs).unwrap();
        Tls {
            provider,
            default_files,
            base: dir.to_owned(),
            sites: ArcSwap::from_pointee(Sites {
                default: Loaded {
                    inputs,
                    site: Arc::new(site),
                    error: None,
                },
                by_name: HashMap::new(),
            }),
        }
    }

    fn domain(
        name: &str,
        certificate: Option<(&str, &str)>,
        truststore: Option<&str>,
    ) -> Arc<DomainNameRecord> {
        Arc::new(DomainNameRecord {
            name: name.to_owned(),
            account: "111122223333".to_owned(),
            region: "us-east-1".to_owned(),
            created_at: 0,
            endpoint_type: EndpointType::Regional,
            mappings: Default::default(),
            tags: Default::default(),
            certificate: certificate.map(|(cert, key)| CertificateFiles {
                cert: cert.to_owned(),
                key: key.to_owned(),
            }),
            truststore: truststore.map(str::to_owned),
        })
    }

    #[test]
    fn sni_picks_the_exact_name_then_the_wildcard_then_the_servers_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let tls = tls_in(dir.path());
        tls.reload(&[
            domain("api.example.com", Some(("api.pem", "api.key")), None),
            domain("*.example.com", Some(("wild.pem", "wild.key")), None),
        ]);
        let sites = tls.sites.load();
        let config_of = |name: &str| sites.by_name[name].site.config.clone();
        let picked = |sni: Option<&str>| tls.site_for(sni).config.clone();
        assert!(Arc::ptr_eq(
            &picked(Some("API.example.com")),
            &config_of("api.example.com")
        ));
        assert!(Arc::ptr_eq(
            &picked(Some("www.example.com")),
            &config_of("*.example.com")
        ));
        assert!(Arc::ptr_eq(
            &picked(Some("a.b.example.com")),
            &sites.default.site.config
        ));
        assert!(Arc::ptr_eq(&picked(None), &sites.default.site.config));
    }

    #[test]
    fn a_truststore_that_does_not_load_refuses_every_client() {
        let dir = tempfile::tempdir().unwrap();
        let tls = tls_in(dir.path());
        tls.reload(&[domain("mtls.example.com", None, Some("missing.pem"))]);
        let site = tls.site_for(Some("mtls.example.com"));
        let truststore = site.truststore.as_ref().expect("mutual TLS stays required");
        assert!(truststore.is_err());
        assert!(matches!(
            check_client(truststore.as_ref().ok(), None),
            MutualTls::Refused
        ));
    }

    #[test]
    fn a_bad_new_file_keeps_the_site_that_was_served() {
        let dir = tempfile::tempdir().unwrap();
        let tls = tls_in(dir.path());
        let domains = [domain(
            "api.example.com",
            Some(("api.pem", "api.key")),
            None,
        )];
        tls.reload(&domains);
        let before = tls.site_for(Some("api.example.com")).config.clone();
        std::fs::write(dir.path().join("api.key"), "not a key").unwrap();
        tls.reload(&domains);
        assert!(Arc::ptr_eq(
            &tls.site_for(Some("api.example.com")).config,
            &before
        ));
        let sites = tls.sites.load();
        let error = sites.by_name["api.example.com"].error.clone().unwrap();
        assert!(
            error.contains("api.key") && !error.contains("not a key"),
            "{error}"
        );
    }
}
